// Body checks for each endpoint, written from ../../shared/spec.md and the seeds.
//
// Each check takes the parsed body (see json.mjs: big integers arrive as BigInt) and a context
// `ctx = { strict, mediaType(id), cardExists(id) }`, and either returns a normalized request or
// throws WxError with the errcode WeChat answers. Order matters where a body has several faults:
// the first rule that fails wins, as on the platform.
import { WxError } from './errors.mjs';

export const OPENID_RE = /^[A-Za-z0-9_-]{28}$/;
export const MSG_TYPES = ['mpnews', 'text', 'voice', 'image', 'mpvideo', 'wxcard'];
/** Which kind of media id each message kind takes (mpvideo ids come from media/uploadvideo). */
export const MEDIA_KIND_FOR = { mpnews: ['news'], voice: ['voice'], image: ['image'], mpvideo: ['mpvideo'] };
export const DELETABLE = ['mpnews', 'mpvideo'];
export const MAX_ARTICLES = 8;
export const MIN_TOUSER = 2;
export const MAX_TOUSER = 10000;
export const MAX_CLIENTMSGID_BYTES = 64;
export const ARTICLE_FIELDS = [
  'thumb_media_id', 'author', 'title', 'content_source_url', 'content', 'digest',
  'show_cover_pic', 'need_open_comment', 'only_fans_can_comment',
];

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function requireObject(body) {
  if (!isObj(body)) throw new WxError(47001, 'body must be a JSON object');
  return body;
}

function checkKeys(obj, allowed, path, ctx) {
  if (!ctx.strict) return;
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new WxError(47001, `unknown field ${path}${k}`);
  }
}

function optString(v, path) {
  if (v !== undefined && typeof v !== 'string') throw new WxError(47001, `${path} must be a string`);
  return v;
}

function flag01(v, path) {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v)) throw new WxError(47001, `${path} must be 0 or 1`);
  if (v !== 0 && v !== 1) throw new WxError(40035, `${path} must be 0 or 1`);
  return v;
}

/** A 64-bit id given as a JSON number (exact: see json.mjs) or a string of digits; returns BigInt. */
export function parseId(v, path) {
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  throw new WxError(47001, `${path} must be an unsigned integer`);
}

function mediaId(v, path, kinds, ctx) {
  if (v === undefined || v === '') throw new WxError(40007, `${path} missing`);
  if (typeof v !== 'string') throw new WxError(47001, `${path} must be a string`);
  const t = ctx.mediaType(v);
  if (t === undefined) throw new WxError(40007, `${path} unknown`);
  if (!kinds.includes(t)) throw new WxError(40007, `${path} is a ${t} media id, expected ${kinds.join('/')}`);
  return v;
}

/** media/uploadnews: {"articles":[...]} with 1..8 articles. */
export function checkUploadNews(body, ctx) {
  requireObject(body);
  checkKeys(body, ['articles'], '', ctx);
  const { articles } = body;
  if (articles === undefined) throw new WxError(44003, 'articles missing');
  if (!Array.isArray(articles)) throw new WxError(47001, 'articles must be an array');
  if (articles.length === 0) throw new WxError(44003, 'articles is empty');
  if (articles.length > MAX_ARTICLES) {
    throw new WxError(45008, `${articles.length} articles, at most ${MAX_ARTICLES}`);
  }
  articles.forEach((a, i) => {
    const p = `articles[${i}].`;
    if (!isObj(a)) throw new WxError(47001, `articles[${i}] must be an object`);
    checkKeys(a, ARTICLE_FIELDS, p, ctx);
    mediaId(a.thumb_media_id, p + 'thumb_media_id', ['thumb', 'image'], ctx);
    for (const f of ['title', 'content', 'author', 'content_source_url', 'digest']) optString(a[f], p + f);
    if (a.title === undefined || a.title.trim() === '') throw new WxError(40035, `${p}title missing`);
    if (a.content === undefined || a.content.trim() === '') throw new WxError(44004, `${p}content missing`);
    for (const f of ['show_cover_pic', 'need_open_comment', 'only_fans_can_comment']) flag01(a[f], p + f);
  });
  return { articles };
}

/** media/uploadvideo: {"media_id","title","description"}; media_id is an uploaded video. */
export function checkUploadVideo(body, ctx) {
  requireObject(body);
  checkKeys(body, ['media_id', 'title', 'description'], '', ctx);
  const id = mediaId(body.media_id, 'media_id', ['video'], ctx);
  optString(body.title, 'title');
  optString(body.description, 'description');
  return { mediaId: id, title: body.title ?? '', description: body.description ?? '' };
}

function checkMsgtype(body) {
  const t = body.msgtype;
  if (t === undefined) throw new WxError(40008, 'msgtype missing');
  if (typeof t !== 'string' || !MSG_TYPES.includes(t)) {
    throw new WxError(40008, `msgtype ${JSON.stringify(t)} is not one of ${MSG_TYPES.join('/')}`);
  }
  return t;
}

/** The `<msg>` object whose key equals msgtype. card_ext is accepted only in preview. */
export function checkMessage(body, msgtype, ctx, { preview = false } = {}) {
  const m = body[msgtype];
  if (m === undefined) throw new WxError(40035, `${msgtype} missing`);
  if (!isObj(m)) throw new WxError(47001, `${msgtype} must be an object`);
  const p = msgtype + '.';
  switch (msgtype) {
    case 'text':
      checkKeys(m, ['content'], p, ctx);
      optString(m.content, p + 'content');
      if (m.content === undefined || m.content === '') throw new WxError(44004, `${p}content missing`);
      break;
    case 'mpvideo':
      checkKeys(m, ['media_id', 'title', 'description'], p, ctx);
      mediaId(m.media_id, p + 'media_id', MEDIA_KIND_FOR.mpvideo, ctx);
      optString(m.title, p + 'title');
      optString(m.description, p + 'description');
      break;
    case 'wxcard': {
      checkKeys(m, preview ? ['card_id', 'card_ext'] : ['card_id'], p, ctx);
      if (m.card_id === undefined || m.card_id === '') throw new WxError(40073, `${p}card_id missing`);
      if (typeof m.card_id !== 'string') throw new WxError(47001, `${p}card_id must be a string`);
      if (!ctx.cardExists(m.card_id)) throw new WxError(40073, `${p}card_id unknown`);
      if (m.card_ext !== undefined) {
        if (typeof m.card_ext !== 'string') throw new WxError(47001, `${p}card_ext must be a JSON string`);
        let ok = false;
        try {
          ok = isObj(JSON.parse(m.card_ext));
        } catch {
          ok = false;
        }
        if (!ok) throw new WxError(40035, `${p}card_ext is not a JSON object string`);
      }
      break;
    }
    default: // mpnews, voice, image
      checkKeys(m, ['media_id'], p, ctx);
      mediaId(m.media_id, p + 'media_id', MEDIA_KIND_FOR[msgtype], ctx);
  }
  return m;
}

function common(body, msgtype, ctx) {
  const out = { msgtype, message: checkMessage(body, msgtype, ctx) };
  out.sendIgnoreReprint = flag01(body.send_ignore_reprint, 'send_ignore_reprint') ?? 0;
  const cm = body.clientmsgid;
  if (cm !== undefined) {
    if (typeof cm !== 'string') throw new WxError(47001, 'clientmsgid must be a string');
    const bytes = Buffer.byteLength(cm, 'utf8');
    if (bytes > MAX_CLIENTMSGID_BYTES) {
      throw new WxError(45067, `clientmsgid is ${bytes} bytes, at most ${MAX_CLIENTMSGID_BYTES}`);
    }
  }
  // An empty clientmsgid is treated as absent (no idempotency), see README.
  out.clientmsgid = cm === undefined || cm === '' ? null : cm;
  return out;
}

/** message/mass/sendall: tag or everyone. tag_id may be a number or a numeric string. */
export function checkSendAll(body, ctx) {
  requireObject(body);
  const msgtype = checkMsgtype(body);
  checkKeys(body, ['filter', 'msgtype', msgtype, 'send_ignore_reprint', 'clientmsgid'], '', ctx);
  const f = body.filter;
  if (f === undefined) throw new WxError(40035, 'filter missing');
  if (!isObj(f)) throw new WxError(47001, 'filter must be an object');
  checkKeys(f, ['is_to_all', 'tag_id'], 'filter.', ctx);
  if (f.is_to_all !== undefined && typeof f.is_to_all !== 'boolean') {
    throw new WxError(47001, 'filter.is_to_all must be true or false');
  }
  const isToAll = f.is_to_all === true;
  let tagId = null;
  if (f.tag_id !== undefined) {
    const t = f.tag_id;
    if ((typeof t === 'number' && Number.isInteger(t) && t >= 0) || (typeof t === 'bigint' && t >= 0n)) tagId = String(t);
    else if (typeof t === 'string' && /^\d{1,10}$/.test(t)) tagId = String(BigInt(t));
    else throw new WxError(47001, 'filter.tag_id must be an integer');
  }
  if (!isToAll && tagId === null) throw new WxError(40035, 'filter.tag_id missing (is_to_all is false)');
  return { isToAll, tagId, ...common(body, msgtype, ctx) };
}

/** message/mass/send: 2..10,000 OpenIDs. */
export function checkSend(body, ctx) {
  requireObject(body);
  const msgtype = checkMsgtype(body);
  checkKeys(body, ['touser', 'msgtype', msgtype, 'send_ignore_reprint', 'clientmsgid'], '', ctx);
  const tu = body.touser;
  if (tu === undefined) throw new WxError(40130, 'touser missing');
  if (!Array.isArray(tu)) throw new WxError(47001, 'touser must be an array of OpenIDs');
  if (tu.length < MIN_TOUSER) throw new WxError(40130, `touser has ${tu.length}, at least ${MIN_TOUSER}`);
  if (tu.length > MAX_TOUSER) throw new WxError(40035, `touser has ${tu.length}, at most ${MAX_TOUSER}`);
  tu.forEach((o, i) => {
    if (typeof o !== 'string') throw new WxError(47001, `touser[${i}] must be a string`);
    if (!OPENID_RE.test(o)) throw new WxError(40003, `touser[${i}] is not an OpenID`);
  });
  return { touser: tu, ...common(body, msgtype, ctx) };
}

/** message/mass/preview: touser (OpenID) or towxname; towxname wins when both are given. */
export function checkPreview(body, ctx) {
  requireObject(body);
  const msgtype = checkMsgtype(body);
  checkKeys(body, ['touser', 'towxname', 'msgtype', msgtype], '', ctx);
  optString(body.towxname, 'towxname');
  optString(body.touser, 'touser');
  let to;
  if (body.towxname !== undefined && body.towxname !== '') to = { wxname: body.towxname };
  else if (body.touser !== undefined && body.touser !== '') {
    if (!OPENID_RE.test(body.touser)) throw new WxError(40003, 'touser is not an OpenID');
    to = { openid: body.touser };
  } else throw new WxError(40035, 'touser or towxname missing');
  return { to, msgtype, message: checkMessage(body, msgtype, ctx, { preview: true }) };
}

/** message/mass/delete: msg_id (or url), optional article_idx (0 or absent = every article). */
export function checkDelete(body, ctx) {
  requireObject(body);
  checkKeys(body, ['msg_id', 'article_idx', 'url'], '', ctx);
  let articleIdx = 0;
  if (body.article_idx !== undefined) {
    if (!Number.isInteger(body.article_idx)) throw new WxError(47001, 'article_idx must be an integer');
    if (body.article_idx < 0) throw new WxError(40035, 'article_idx must be >= 0');
    articleIdx = body.article_idx;
  }
  const url = optString(body.url, 'url');
  if (body.msg_id === undefined && (url === undefined || url === '')) throw new WxError(40035, 'msg_id missing');
  const msgId = body.msg_id === undefined ? null : parseId(body.msg_id, 'msg_id');
  return { msgId, articleIdx, url: url || null };
}

/** message/mass/get: {"msg_id"} */
export function checkGet(body, ctx) {
  requireObject(body);
  checkKeys(body, ['msg_id'], '', ctx);
  if (body.msg_id === undefined) throw new WxError(40035, 'msg_id missing');
  return { msgId: parseId(body.msg_id, 'msg_id') };
}

/** message/mass/speed/set: {"speed":0..4} */
export function checkSpeedSet(body, ctx) {
  requireObject(body);
  checkKeys(body, ['speed'], '', ctx);
  if (body.speed === undefined) throw new WxError(45084, 'speed missing');
  if (!Number.isInteger(body.speed)) throw new WxError(47001, 'speed must be an integer');
  if (body.speed < 0 || body.speed > 4) throw new WxError(45083, `speed ${body.speed} not in 0..4`);
  return { speed: body.speed };
}

/** Speed levels, recipients per minute in units of 10,000 (万): level 0 is the fastest. */
export const REALSPEED = [80, 60, 45, 30, 10];
