// What the platform pushes to the account's one callback URL: the MASSSENDJOBFINISH event XML
// (shape of seeds 000/002), users' messages (text, menu CLICK), and one signed (and, in compat/safe
// mode, encrypted) HTTP attempt. Every push, whatever it carries, goes through buildPush + postOnce.
import http from 'node:http';
import https from 'node:https';
import { randomInt } from 'node:crypto';
import { encrypt, msgSignature, signature } from './crypto.mjs';

export const cdata = (s) => `<![CDATA[${String(s).replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/** Text of the first <name> element of an XML string (CDATA or plain), or null. */
export function xmlField(xml, name) {
  const m = new RegExp(`<${name}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${name}>`).exec(xml);
  return m ? (m[1] ?? m[2]) : null;
}

/**
 * A user's message as WeChat pushes it (ordinary-message and menu-event XML):
 * text → ToUserName, FromUserName, CreateTime, MsgType text, Content, MsgId (64-bit, written
 * exactly as the decimal string it is given); event CLICK → ToUserName, FromUserName,
 * CreateTime, MsgType event, Event CLICK, EventKey.
 */
export function messageXml(msg, { toUserName, createTime }) {
  const lines = [
    '<xml>',
    `<ToUserName>${cdata(toUserName)}</ToUserName>`,
    `<FromUserName>${cdata(msg.fromUser)}</FromUserName>`,
    `<CreateTime>${createTime}</CreateTime>`,
  ];
  if (msg.msgType === 'text') {
    lines.push(`<MsgType>${cdata('text')}</MsgType>`, `<Content>${cdata(msg.content)}</Content>`, `<MsgId>${msg.msgId}</MsgId>`);
  } else if (msg.msgType === 'event') {
    lines.push(`<MsgType>${cdata('event')}</MsgType>`, `<Event>${cdata(msg.event)}</Event>`, `<EventKey>${cdata(msg.eventKey)}</EventKey>`);
  } else {
    throw new Error(`unknown msgType ${msg.msgType}`);
  }
  lines.push('</xml>');
  return lines.join('\n');
}

/**
 * The same XML with its Content (or, without one, its EventKey) replaced by "forged"; null when
 * it has neither. Used by the `tamper: "body"` push.
 */
export function forgedXml(xml) {
  for (const name of ['Content', 'EventKey']) {
    const re = new RegExp(`<${name}>[\\s\\S]*?</${name}>`);
    if (re.test(xml)) return xml.replace(re, `<${name}>${cdata('forged')}</${name}>`);
  }
  return null;
}

/**
 * Event XML for a finished job. `job.copyright` ({checkState, items}) and `job.articleUrls` are
 * present for mpnews sends only, as on the platform.
 */
export function eventXml(job, { toUserName, fromUserName, createTime }) {
  const lines = [
    '<xml>',
    `<ToUserName>${cdata(toUserName)}</ToUserName>`,
    `<FromUserName>${cdata(fromUserName)}</FromUserName>`,
    `<CreateTime>${createTime}</CreateTime>`,
    `<MsgType>${cdata('event')}</MsgType>`,
    `<Event>${cdata('MASSSENDJOBFINISH')}</Event>`,
    `<MsgID>${job.msgId}</MsgID>`,
    `<Status>${cdata(job.status)}</Status>`,
    `<TotalCount>${job.counts.total}</TotalCount>`,
    `<FilterCount>${job.counts.filter}</FilterCount>`,
    `<SentCount>${job.counts.sent}</SentCount>`,
    `<ErrorCount>${job.counts.error}</ErrorCount>`,
  ];
  if (job.msgtype === 'mpnews') {
    const c = job.copyright;
    lines.push('<CopyrightCheckResult>', `<Count>${c.items.length}</Count>`, '<ResultList>');
    for (const it of c.items) {
      lines.push(
        '<item>',
        `<ArticleIdx>${it.articleIdx}</ArticleIdx>`,
        `<UserDeclareState>${it.userDeclareState}</UserDeclareState>`,
        `<AuditState>${it.auditState}</AuditState>`,
        `<OriginalArticleUrl>${cdata(it.originalArticleUrl)}</OriginalArticleUrl>`,
        `<OriginalArticleType>${it.originalArticleType}</OriginalArticleType>`,
        `<CanReprint>${it.canReprint}</CanReprint>`,
        `<NeedReplaceContent>${it.needReplaceContent}</NeedReplaceContent>`,
        `<NeedShowReprintSource>${it.needShowReprintSource}</NeedShowReprintSource>`,
        '</item>',
      );
    }
    lines.push('</ResultList>', `<CheckState>${c.checkState}</CheckState>`, '</CopyrightCheckResult>');
    const urls = job.status === 'send success' ? job.articleUrls : [];
    lines.push('<ArticleUrlResult>', `<Count>${urls.length}</Count>`, '<ResultList>');
    urls.forEach((u, i) => {
      lines.push('<item>', `<ArticleIdx>${i + 1}</ArticleIdx>`, `<ArticleUrl>${cdata(u)}</ArticleUrl>`, '</item>');
    });
    lines.push('</ResultList>', '</ArticleUrlResult>');
  }
  lines.push('</xml>');
  return lines.join('\n');
}

/**
 * Build the signed request for one attempt: plain, compat (plain fields + <Encrypt>) or safe
 * (only ToUserName + <Encrypt>). Query: signature, timestamp, nonce, openid (when known), plus
 * encrypt_type=aes and msg_signature in compat/safe. Returns { url, body, query }.
 */
export function signedPush(xml, cfg, { toUserName, openid, timestamp, nonce = String(randomInt(100000000, 2000000000)) }) {
  const url = new URL(cfg.callbackUrl);
  const q = { signature: signature(cfg.callbackToken, timestamp, nonce), timestamp, nonce };
  if (openid) q.openid = openid;
  let body = xml;
  if (cfg.callbackMode === 'safe' || cfg.callbackMode === 'compat') {
    const enc = encrypt(xml, cfg.encodingAESKey, cfg.appId);
    q.encrypt_type = 'aes';
    q.msg_signature = msgSignature(cfg.callbackToken, timestamp, nonce, enc);
    body =
      cfg.callbackMode === 'safe'
        ? `<xml>\n<ToUserName>${cdata(toUserName)}</ToUserName>\n<Encrypt>${cdata(enc)}</Encrypt>\n</xml>`
        : xml.replace(/<\/xml>\s*$/, `<Encrypt>${cdata(enc)}</Encrypt>\n</xml>`);
  }
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  return { url: url.toString(), body, query: q };
}

/**
 * One push of `xml` to cfg.callbackUrl in cfg.callbackMode, optionally tampered with:
 * - `tamper: "body"`: the query is signed for `xml` (signature, and msg_signature over the
 *   Encrypt of `xml`), the body is built from forgedXml(xml) (same timestamp and nonce);
 * - `tamper: "drop_encryption"`: a compat/safe push downgraded to what a plain push looks like
 *   (plain XML, signature/timestamp/nonce/openid, no encrypt_type, no msg_signature).
 */
export function buildPush(xml, cfg, { toUserName, openid, timestamp, tamper = null }) {
  if (tamper === 'drop_encryption') return signedPush(xml, { ...cfg, callbackMode: 'plain' }, { toUserName, openid, timestamp });
  const push = signedPush(xml, cfg, { toUserName, openid, timestamp });
  if (tamper === 'body') {
    const forged = forgedXml(xml);
    if (forged === null) throw new Error('tamper "body" needs a Content or EventKey element to forge');
    return { ...push, body: signedPush(forged, cfg, { toUserName, openid, timestamp, nonce: push.query.nonce }).body };
  }
  if (tamper) throw new Error(`unknown tamper ${tamper}`);
  return push;
}

/**
 * POST once; resolves { ok, status, contentType, body, bytes, truncated, error, ms }. ok = HTTP
 * 200 within timeoutMs (WeChat only waits 5 s). `body` is the answer as UTF-8 text, `bytes` the
 * exact answer (both null without an answer; the first `maxAnswerBytes` kept, `truncated` says if
 * more came). `track(abort)` registers the request so the simulator can abort it on close.
 */
export function postOnce(url, body, timeoutMs, track, { maxAnswerBytes = 65536 } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const none = { ok: false, status: null, contentType: null, body: null, bytes: null, truncated: false };
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      untrack();
      resolve({ ...r, ms: Date.now() - started });
    };
    const req = mod.request(u, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(body), 'user-agent': 'Mozilla/4.0 (wechat-sim)' },
    });
    const timer = setTimeout(() => {
      finish({ ...none, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    const untrack = track(() => {
      finish({ ...none, error: 'simulator closed' });
      req.destroy();
    });
    req.on('error', (e) => finish({ ...none, error: e.message }));
    req.on('response', (res) => {
      const chunks = [];
      let size = 0;
      let kept = 0;
      res.on('data', (c) => {
        size += c.length;
        if (kept < maxAnswerBytes) {
          const part = c.subarray(0, maxAnswerBytes - kept);
          chunks.push(part);
          kept += part.length;
        }
      });
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const ok = res.statusCode === 200;
        finish({
          ok, status: res.statusCode, contentType: res.headers['content-type'] ?? null, body: bytes.toString('utf8'), bytes,
          truncated: size > kept, error: ok ? null : `HTTP ${res.statusCode}`,
        });
      });
      res.on('error', (e) => finish({ ...none, status: res.statusCode, contentType: res.headers['content-type'] ?? null, error: e.message }));
    });
    req.end(body);
  });
}
