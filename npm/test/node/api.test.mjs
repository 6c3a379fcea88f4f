// Every exported function of the packed package, from a fresh consumer project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as wx from 'wxmass';

const OPENID_A = 'oR5Gjjl_eiZoUpGozMo7dbBJ362A';
const OPENID_B = 'oR5Gjjl_eiZoUpGozMo7dbBJ362B';
const BIG = '9007199254740993'; // 2^53 + 1: a JS number would turn it into ...992

const tagSend = {
  filter: { isToAll: false, tagId: '2' },
  msgType: 'mpnews',
  mpnews: { mediaId: 'media-123' },
  sendIgnoreReprint: 0,
  clientMsgId: 'job-1/batch-0',
};

test('endpoints lists every endpoint and each has build and validate helpers', () => {
  const names = wx.endpoints.map((e) => e.name);
  assert.deepEqual(names, ['uploadimg', 'uploadnews', 'uploadvideo', 'sendall', 'send', 'delete', 'preview', 'get', 'speed/get', 'speed/set', 'stable_token', 'media/upload', 'material/add_material', 'material/batchget_material', 'material/get_materialcount', 'tags/get', 'user/tag/get', 'user/get']);
  const helper = { uploadimg: 'UploadImg', uploadnews: 'UploadNews', uploadvideo: 'UploadVideo', sendall: 'SendAll', send: 'Send', delete: 'Delete', preview: 'Preview', get: 'GetStatus', 'speed/get': 'SpeedGet', 'speed/set': 'SpeedSet', stable_token: 'StableToken', 'media/upload': 'MediaUpload', 'material/add_material': 'AddMaterial', 'material/batchget_material': 'BatchGetMaterial', 'material/get_materialcount': 'MaterialCount', 'tags/get': 'TagsGet', 'user/tag/get': 'UserTagGet', 'user/get': 'UserGet' };
  // The mass-send calls count against the 60-a-minute limit; tokens, materials, tags and followers do not.
  const notMass = new Set(['stable_token', 'media/upload', 'material/add_material', 'material/batchget_material', 'material/get_materialcount', 'tags/get', 'user/tag/get', 'user/get']);
  for (const e of wx.endpoints) {
    assert.equal(typeof wx['build' + helper[e.name]], 'function', e.name);
    assert.equal(typeof wx['validate' + helper[e.name]], 'function', e.name);
    assert.match(e.path, /^\/cgi-bin\//);
    assert.equal(e.mass, !notMass.has(e.name), e.name);
  }
  assert.ok(Object.isFrozen(wx.endpoints));
});

test('buildSendAll maps camelCase to the wire body and emits tag_id as a number', () => {
  const req = wx.buildSendAll(tagSend);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, 'https://api.weixin.qq.com/cgi-bin/message/mass/sendall');
  assert.equal(req.host, 'api.weixin.qq.com');
  assert.equal(req.path, '/cgi-bin/message/mass/sendall');
  assert.match(req.contentType, /^application\/json/);
  assert.deepEqual(JSON.parse(req.body), {
    filter: { is_to_all: false, tag_id: 2 },
    mpnews: { media_id: 'media-123' },
    msgtype: 'mpnews',
    send_ignore_reprint: 0,
    clientmsgid: 'job-1/batch-0',
  });
  // the second build of the same endpoint takes the cached head: same shape
  assert.deepEqual(Object.keys(wx.buildSendAll(tagSend)), Object.keys(req));
});

test('every JSON endpoint builds from camelCase input', () => {
  const bodies = {
    uploadnews: { articles: [{ thumbMediaId: 't', title: 'T', content: '<p>x</p>', showCoverPic: 1 }] },
    uploadvideo: { mediaId: 'v', title: 'title', description: 'd' },
    sendall: { filter: { isToAll: true }, msgType: 'text', text: { content: 'hi' } },
    send: { toUser: [OPENID_A, OPENID_B], msgType: 'image', image: { mediaId: 'img' }, clientMsgId: 'c1' },
    delete: { msgId: BIG, articleIdx: 1 },
    preview: { toWxName: 'someone', msgType: 'wxcard', wxcard: { cardId: 'card', cardExt: '{"code":"1"}' } },
    get: { msgId: BIG },
    'speed/get': {},
    'speed/set': { speed: 3 },
    stable_token: { appId: 'wx1', secret: 's' },
  };
  const builders = { uploadnews: wx.buildUploadNews, uploadvideo: wx.buildUploadVideo, sendall: wx.buildSendAll, send: wx.buildSend, delete: wx.buildDelete, preview: wx.buildPreview, get: wx.buildGetStatus, 'speed/get': wx.buildSpeedGet, 'speed/set': wx.buildSpeedSet, stable_token: wx.buildStableToken };
  const validators = { uploadnews: wx.validateUploadNews, uploadvideo: wx.validateUploadVideo, sendall: wx.validateSendAll, send: wx.validateSend, delete: wx.validateDelete, preview: wx.validatePreview, get: wx.validateGetStatus, 'speed/get': wx.validateSpeedGet, 'speed/set': wx.validateSpeedSet, stable_token: wx.validateStableToken };
  for (const [name, body] of Object.entries(bodies)) {
    const a = wx.buildRequest(name, body);
    const b = builders[name](body);
    assert.equal(a.body, b.body, name);
    assert.deepEqual(wx.validateRequest(name, body), { ok: true, problems: [] }, name);
    assert.deepEqual(validators[name](body), { ok: true, problems: [] }, name);
  }
  // 64-bit ids in bodies stay exact, whether given as strings or bigints
  assert.equal(wx.buildGetStatus({ msgId: BIG }).body, `{"msg_id":${BIG}}`);
  assert.equal(wx.buildGetStatus({ msgId: 9007199254740993n }).body, `{"msg_id":${BIG}}`);
  assert.equal(JSON.parse(wx.buildPreview(bodies.preview).body).towxname, 'someone');
  assert.equal(wx.buildSpeedGet().body, '{}');
});

test('apiBase and accessToken shape the URL; a bad apiBase is a WxmassError', () => {
  const req = wx.buildSpeedSet({ speed: 1 }, { apiBase: 'http://127.0.0.1:8080/proxy/', accessToken: 'a+b/c' });
  assert.equal(req.url, 'http://127.0.0.1:8080/proxy/cgi-bin/message/mass/speed/set?access_token=a%2Bb%2Fc');
  assert.equal(req.host, '127.0.0.1:8080');
  assert.throws(() => wx.buildSpeedGet({}, { apiBase: 'ftp://x' }), (e) => e instanceof wx.WxmassError && e.code === 'api_base' && e.path === 'apiBase');
});

test('validation errors are WxmassError with code, path, rule and every problem', () => {
  const bad = { toUser: [OPENID_A, 'not-an-openid', OPENID_A], msgType: 'text', text: { content: '' }, clientMsgId: 'x'.repeat(65) };
  let err;
  try {
    wx.buildSend(bad);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof wx.WxmassError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'WxmassError');
  assert.equal(err.code, 'validation');
  assert.equal(err.path, 'toUser[1]'); // the caller's own key, as written
  assert.equal(err.rule, 'openid_format');
  assert.deepEqual(
    err.problems.map((p) => [p.path, p.rule]),
    [['toUser[1]', 'openid_format'], ['toUser[2]', 'duplicate'], ['text.content', 'required'], ['clientMsgId', 'clientmsgid']],
  );
  assert.match(err.message, /4 problems/);
  const v = wx.validateSend(bad);
  assert.equal(v.ok, false);
  assert.deepEqual(v.problems, err.problems);
  assert.equal(v.problems[0].value, 'not-an-openid');
  assert.match(v.problems[0].message, /^toUser\[1\] must be an OpenID/);
});

test('articles, unknown fields, wrong types and nine articles report their paths', () => {
  const nine = Array.from({ length: 9 }, () => ({ thumbMediaId: 't', title: 'T', content: 'c' }));
  nine[3] = { thumbMediaId: '', title: 'T', content: 'c', showCoverPic: 2, colour: 'red' };
  const { ok, problems } = wx.validateUploadNews({ articles: nine });
  assert.equal(ok, false);
  const got = problems.map((p) => `${p.path} ${p.rule}`);
  assert.ok(got.includes('articles count'), got.join());
  assert.ok(got.includes('articles[3].thumbMediaId required'), got.join()); // found by the rules, named as written
  assert.ok(got.includes('articles[3].showCoverPic flag'), got.join()); // the key as written
  assert.ok(got.includes('articles[3].colour unknown_field'), got.join());
  const t = wx.validateSpeedSet({ speed: 9 });
  assert.deepEqual(t.problems.map((p) => [p.path, p.rule]), [['speed', 'range']]);
  assert.equal(wx.validateRequest('sendall', 'not an object').ok, false);
});

test('texts of any size and script reach core whole: short ones reuse one buffer, long ones get their own', () => {
  const hi = '群发 😀 "quoted" \\ ok';
  const body = wx.buildSendAll({ filter: { isToAll: true }, msgType: 'text', text: { content: hi } }).body;
  assert.equal(JSON.parse(body).text.content, hi);
  // 10,001 OpenIDs: ~330,000 characters, past what the kept buffer holds.
  const many = Array.from({ length: 10_001 }, (_, i) => 'oR5Gjjl_eiZoUpGozMo' + String(i).padStart(9, '0'));
  const { problems } = wx.validateSend({ toUser: many, msgType: 'text', text: { content: 'x' } });
  assert.deepEqual(problems.map((p) => [p.path, p.rule]), [['toUser', 'count']]);
  const fine = wx.buildSend({ toUser: many.slice(0, 10_000), msgType: 'text', text: { content: hi } }).body;
  assert.equal(JSON.parse(fine).touser.length, 10_000);
  // and short texts again after the long ones
  assert.equal(wx.buildSendAll(tagSend).body, wx.buildSendAll(tagSend).body);
  const xml = '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[嗨]]></Content><MsgId>5</MsgId></xml>';
  assert.deepEqual(wx.parseEvent(new TextEncoder().encode(xml)).fields, [['Content', '嗨'], ['MsgId', '5']]);
});

test('unknown endpoint throws WxmassError code unknown_endpoint', () => {
  assert.throws(() => wx.buildRequest('nope', {}), (e) => e instanceof wx.WxmassError && e.code === 'unknown_endpoint');
  assert.throws(() => wx.parseReply('nope', '{}'), (e) => e instanceof wx.WxmassError && e.code === 'unknown_endpoint');
  assert.throws(() => wx.validateRequest('nope', {}), (e) => e instanceof wx.WxmassError && e.code === 'unknown_endpoint');
});

test('uploadimg: multipart bytes, sniffed type, size and format problems', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  const req = wx.buildUploadImg({ filename: 'a.png', media: png });
  assert.ok(req.body instanceof Uint8Array);
  assert.match(req.contentType, /^multipart\/form-data; boundary=/);
  const text = new TextDecoder().decode(req.body);
  assert.match(text, /name="media"; filename="a.png"\r\nContent-Type: image\/png/);
  assert.deepEqual(wx.buildRequest('uploadimg', { filename: 'a.png', media: png.buffer }).body, req.body);
  assert.equal(wx.validateUploadImg({ filename: 'a.png', media: png }).ok, true);
  const gif = wx.validateUploadImg({ filename: 'a"b.gif', media: new TextEncoder().encode('GIF89a') });
  assert.deepEqual(gif.problems.map((p) => [p.path, p.rule]), [['filename', 'characters'], ['media', 'image_format']]);
  const big = new Uint8Array(1024 * 1024);
  big.set([0xff, 0xd8, 0xff]);
  assert.deepEqual(wx.validateRequest('uploadimg', { filename: 'x.jpg', media: big }).problems.map((p) => p.rule), ['max_bytes']);
});

test('parseReply: typed values, camelCase, 64-bit ids as strings, from text or bytes', () => {
  const send = wx.parseReply('sendall', `{"errcode":0,"errmsg":"send job submission success","msg_id":${BIG},"msg_data_id":2247483651}`);
  assert.deepEqual(send, { msgId: BIG, msgDataId: '2247483651' });
  assert.equal(typeof send.msgId, 'string');
  const bytes = new TextEncoder().encode(`{"msg_id":18446744073709551615,"msg_status":"SEND_SUCCESS"}`);
  assert.deepEqual(wx.parseReply('get', bytes), { msgId: '18446744073709551615', msgStatus: 'SEND_SUCCESS' });
  assert.deepEqual(wx.parseReply('uploadnews', '{"type":"news","media_id":"m","created_at":1391857799}'), { type: 'news', mediaId: 'm', createdAt: 1391857799 });
  assert.deepEqual(wx.parseReply('speed/get', '{"speed":3,"realspeed":7}'), { speed: 3, realspeed: 7 });
  assert.deepEqual(wx.parseReply('stable_token', '{"access_token":"TOK","expires_in":7200}'), { accessToken: 'TOK', expiresIn: 7200 });
  assert.deepEqual(wx.parseReply('delete', '{"errcode":0,"errmsg":"ok"}'), { errmsg: 'ok' });
  assert.deepEqual(wx.parseReply('preview', `{"errcode":0,"errmsg":"preview success","msg_id":${BIG}}`), { msgId: BIG });
  assert.deepEqual(wx.parseReply('uploadimg', '{"url":"http://mmbiz.qpic.cn/x"}'), { url: 'http://mmbiz.qpic.cn/x' });
});

test('parseReply throws ApiError with zh/en text, class and the existing msg_id of 45065', () => {
  let err;
  try {
    wx.parseReply('send', `{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":${BIG}}`);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof wx.ApiError && err instanceof Error);
  assert.equal(err.name, 'ApiError');
  // `code` is a string, as on every error here (and in the worker's answers); the number is errcode.
  assert.equal(err.code, 'wechat_rejected');
  assert.equal(err.errcode, 45065);
  assert.equal(err.class, 'duplicate');
  assert.equal(err.msgId, BIG);
  assert.equal(err.errmsg, 'clientmsgid exist');
  assert.match(err.zh, /clientmsgid/);
  assert.match(err.en, /already exists/);
  const classes = { '-1': 'retry', 42001: 'refresh-token', 45009: 'quota', 45066: 'duplicate', 40003: 'fatal', 99999: 'fatal' };
  for (const [code, cls] of Object.entries(classes)) {
    const r = wx.readReply('sendall', `{"errcode":${code},"errmsg":"x"}`);
    assert.equal(r.error.code, cls === 'retry' ? 'wechat_busy' : 'wechat_rejected', code);
    assert.equal(r.ok, false);
    assert.equal(r.error.class, cls, code);
    assert.equal(r.error.msgId, null);
  }
  const unknown = wx.readReply('sendall', '{"errcode":99999,"errmsg":"x"}').error;
  assert.equal(unknown.zh, null);
});

test('malformed replies are WxmassError with the JSON path', () => {
  const r = wx.readReply('sendall', '{"errcode":0,"msg_id":"abc"}');
  assert.equal(r.ok, false);
  assert.ok(r.error instanceof wx.WxmassError);
  assert.equal(r.error.code, 'malformed_reply');
  assert.equal(r.error.path, 'msg_id');
  assert.equal(wx.readReply('get', '<html>').error.code, 'malformed_reply');
  assert.deepEqual(wx.readReply('speed/get', '{"speed":0,"realspeed":8}'), { ok: true, value: { speed: 0, realspeed: 8 } });
});

test('errorInfo and errorCodes come from the core table', () => {
  assert.deepEqual(wx.errorInfo(45009), { code: 45009, zh: '接口调用超过限制', en: 'API daily call quota reached', class: 'quota' });
  assert.equal(wx.errorInfo(-1).class, 'retry');
  assert.equal(wx.errorInfo(40001).class, 'refresh-token');
  assert.equal(wx.errorInfo(123456), null);
  assert.equal(wx.errorInfo(1.5), null);
  const all = wx.errorCodes();
  assert.ok(all.length >= 40);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].code < all[i].code);
  for (const c of [40001, 42001, 40014, 40164, 45028, 45065, 45066, 45067, 47001, 48001]) {
    assert.ok(all.some((k) => k.code === c), String(c));
  }
});

test('the package entry is ESM with types and no Node-only import on the module graph', async () => {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const pkg = require('wxmass/package.json');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].types, './dist/index.d.ts');
  const fs = await import('node:fs/promises');
  const dir = new URL('../node_modules/wxmass/dist/', import.meta.url);
  for (const f of ['index.js', 'client.js', 'audience.js', 'errors.js', 'wasm.js', 'wxmass_wasm.js']) {
    const src = await fs.readFile(new URL(f, dir), 'utf8');
    assert.doesNotMatch(src, /^\s*import[^;]*from\s*['"]node:/m, f);
  }
});

test('planSend: batches with fixed clientmsgids, requests, summary; ids and counts from core', () => {
  const ids = Array.from({ length: 25_001 }, (_, i) => 'oR5Gjjl_eiZoUpGozMo7' + String(i).padStart(8, '0'));
  const input = { jobId: 'job-42', message: { msgType: 'mpnews', mpnews: { mediaId: 'm' } }, audience: { openIds: [...ids, ids[0]] }, sendIgnoreReprint: 1 };
  const plan = wx.planSend(input);
  assert.ok(plan instanceof wx.SendPlan);
  assert.equal(plan.jobId, 'job-42');
  assert.equal(plan.account, 'service');
  assert.equal(plan.batchCount, 3);
  assert.equal(plan.recipientCount, 25_001);
  const batches = plan.batches();
  assert.deepEqual(batches.map((b) => [b.index, b.endpoint, b.recipients, b.isToAll]), [[0, 'send', 8334, false], [1, 'send', 8334, false], [2, 'send', 8333, false]]);
  assert.equal(new Set(batches.map((b) => b.clientMsgId)).size, 3);
  // deterministic: the same input plans the same clientmsgids
  assert.deepEqual(wx.planSend(input).batches().map((b) => b.clientMsgId), batches.map((b) => b.clientMsgId));
  const body = JSON.parse(plan.request(1, { accessToken: 'T' }).body);
  assert.equal(body.clientmsgid, batches[1].clientMsgId);
  assert.equal(body.send_ignore_reprint, 1);
  assert.equal(body.touser.length, 8334);
  assert.deepEqual(plan.batchRecipients(2).slice(-1), [ids[25_000]]);
  assert.match(plan.request(0, { accessToken: 'T' }).url, /mass\/send\?access_token=T$/);
  const s = plan.summary({ now: Date.UTC(2025, 0, 1) });
  assert.equal(s.jobId, 'job-42');
  assert.equal(s.recipients, 25_001);
  assert.equal(s.duplicatesDropped, 1);
  assert.equal(s.batches, 3);
  assert.deepEqual(s.quotaUsed, { sendallCalls: 0, sendCalls: 3, toAll: false });
  assert.ok(Array.isArray(s.notes) && s.notes.length > 0);
  assert.match(plan.summaryText(), /job-42/);
  const ledger = Array.from({ length: 100 }, () => ({ at: Date.UTC(2025, 0, 1, 1), kind: 'send', toAll: false, succeeded: true }));
  assert.notDeepEqual(plan.summary({ ledger, now: Date.UTC(2025, 0, 1, 2) }).earliestStart, { decision: 'now' });
  assert.deepEqual(wx.summarizePlan(input, { now: Date.UTC(2025, 0, 1) }), s);
});

test('planSend: OpenIDs reach core whole and at their positions, ASCII or not', () => {
  // The facade writes an ASCII list into wasm memory in chunks of 4,096 and encodes any other
  // list as a whole: either way core sees every entry as given, at its position.
  const msg = { msgType: 'text', text: { content: 'hi' } };
  const ids = Array.from({ length: 9_000 }, (_, i) => 'oR5Gjjl_eiZoUpGozMo7' + String(i).padStart(8, '0'));
  const clean = wx.planSend({ jobId: 'j', message: msg, audience: { openIds: ids } });
  const msgIds = (plan) => plan.batches().map((b) => b.clientMsgId);
  // a non-ASCII entry that fits its chunk, one at a chunk boundary, one in the last chunk,
  // an empty entry at a boundary, a lone surrogate (encoded as U+FFFD)
  for (const [bad, at, shown] of [['群发', 2_500, '群发'], ['', 4_096, ''], ['😀', 9_000, '😀'], ['x\uD800', 0, 'x\uFFFD']]) {
    const list = [...ids];
    list.splice(at, 0, bad);
    const plan = wx.planSend({ jobId: 'j', message: msg, audience: { openIds: list }, skipInvalid: true });
    assert.deepEqual(msgIds(plan), msgIds(clean), `${at}`);
    assert.deepEqual(plan.summary({ now: 0 }).invalidShown, [{ position: at, value: shown }]);
    assert.deepEqual(plan.batchRecipients(0).slice(-1), ids.slice(-1));
    let e;
    try {
      wx.planSend({ jobId: 'j', message: msg, audience: { openIds: list } });
    } catch (err) {
      e = err;
    }
    assert.deepEqual(e.problems.map((p) => p.path), [`audience.openIds[${at}]`]);
  }
  // an entry that is not a string: core reads the list as JSON and names it
  try {
    wx.planSend({ jobId: 'j', message: msg, audience: { openIds: [...ids.slice(0, 3), 42] } });
    assert.fail('did not throw');
  } catch (e) {
    assert.deepEqual([e.code, e.path, e.rule], ['validation', 'audience.openIds[3]', 'type']);
  }
});

test('planSend to a tag and to everyone; plan errors name the rule and path', () => {
  const msg = { msgType: 'text', text: { content: 'hi' } };
  const tag = wx.planSend({ jobId: 'j1', message: msg, audience: { tagId: '7' } });
  assert.deepEqual(tag.batches().map((b) => [b.endpoint, b.recipients]), [['sendall', null]]);
  assert.deepEqual(JSON.parse(tag.request(0).body).filter, { is_to_all: false, tag_id: 7 });
  const all = wx.planSend({ jobId: 'j2', message: msg, audience: 'everyone', account: 'subscription' });
  assert.equal(all.batches()[0].isToAll, true);
  const err = (f) => {
    try {
      f();
    } catch (e) {
      return e;
    }
    assert.fail('did not throw');
  };
  let e = err(() => wx.planSend({ jobId: 'has space', message: msg, audience: 'everyone' }));
  assert.ok(e instanceof wx.WxmassError);
  assert.deepEqual([e.code, e.path, e.rule], ['plan', 'jobId', 'job_id']);
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { openIds: ['a', 'oR5Gjjl_eiZoUpGozMo7dbBJ362A', 'oR5Gjjl_eiZoUpGozMo7dbBJ362B'] } }));
  assert.deepEqual([e.code, e.path, e.rule], ['plan', 'audience.openIds[0]', 'invalid_openids']);
  assert.deepEqual(e.problems.map((p) => [p.path, p.rule, p.value]), [['audience.openIds[0]', 'openid_format', 'a']]);
  assert.equal(wx.planSend({ jobId: 'j', message: msg, audience: { openIds: ['a', 'oR5Gjjl_eiZoUpGozMo7dbBJ362A', 'oR5Gjjl_eiZoUpGozMo7dbBJ362B'] }, skipInvalid: true }).recipientCount, 2);
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { openIds: ['oR5Gjjl_eiZoUpGozMo7dbBJ362A'] } }));
  assert.equal(e.rule, 'single_recipient');
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { openIds: ['oR5Gjjl_eiZoUpGozMo7dbBJ362A\noR5Gjjl_eiZoUpGozMo7dbBJ362B', 'oR5Gjjl_eiZoUpGozMo7dbBJ362C'] } }));
  assert.equal(e.code, 'validation', 'an entry holding a line break cannot split into two OpenIDs');
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { openIds: ids2() }, account: 'subscription' }));
  assert.equal(e.rule, 'openid_list_needs_service_account');
  e = err(() => wx.planSend({ jobId: 'j', message: { msgType: 'text', text: { content: '' }, clientMsgId: 'x' }, audience: 'everyone' }));
  assert.equal(e.code, 'validation');
  // The send options belong to the plan; the message's own rules are reported in the same pass.
  assert.deepEqual(e.problems.map((p) => [p.path, p.rule]), [['clientMsgId', 'not_allowed'], ['text.content', 'required']]);
  e = err(() => wx.planSend({ jobId: 'j', message: { msgType: 'text', text: { content: '' } }, audience: 'everyone' }));
  assert.deepEqual([e.code, e.path, e.rule], ['validation', 'text.content', 'required']);
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: 42 }));
  assert.deepEqual([e.code, e.path, e.rule], ['validation', 'audience', 'type']);
  // Core's audience rule: exactly one of everyone / tagId / openIds; nothing ambiguous widens a send.
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { everyone: true, openIds: ids2() } }));
  assert.deepEqual([e.code, e.path, e.rule], ['validation', 'audience', 'one_of']);
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { tagId: null } }));
  assert.deepEqual([e.code, e.path, e.rule], ['validation', 'audience', 'one_of']);
  e = err(() => wx.planSend({ jobId: 'j', message: msg, audience: { tagId: -1 } }));
  assert.deepEqual([e.code, e.path, e.rule], ['validation', 'audience.tagId', 'non_negative_integer']);
});

function ids2() {
  return ['oR5Gjjl_eiZoUpGozMo7dbBJ362A', 'oR5Gjjl_eiZoUpGozMo7dbBJ362B'];
}

// ---- what the package cannot represent is refused (issue 25) -----------------------------------

test('a msg_id given as a number that is not a safe integer is a TypeError naming the field; strings and bigints stay exact', () => {
  // eslint-disable-next-line no-loss-of-precision
  const rounded = 9007199254740993; // JS already holds …992
  for (const [fn, field] of [[wx.buildDelete, 'msgId'], [wx.buildGetStatus, 'msgId'], [wx.validateDelete, 'msgId']]) {
    assert.throws(() => fn({ msgId: rounded }), (e) => e instanceof TypeError && e.message.startsWith(`${field}: 9007199254740992 is not a safe integer`) && /string or a bigint/.test(e.message));
  }
  assert.throws(() => wx.buildRequest('delete', { msg_id: 2 ** 60 }), (e) => e instanceof TypeError && e.message.startsWith('msg_id: '));
  assert.throws(() => wx.buildDelete({ msgId: 1.5 }), TypeError);
  assert.match(wx.buildDelete({ msgId: BIG }).body, /"msg_id":9007199254740993\b/);
  assert.match(wx.buildDelete({ msgId: 9007199254740993n }).body, /"msg_id":9007199254740993\b/);
  assert.match(wx.buildDelete({ msgId: 1000 }).body, /"msg_id":1000\b/);
  assert.throws(
    () => wx.BatchProgress.fromJSON({ state: { state: 'submitted', msgId: rounded } }),
    (e) => e instanceof TypeError && e.message.startsWith('state.msgId: '),
  );
});

test('a ledger time that looks like seconds is refused at its path, not read as 1970', () => {
  const plan = wx.planSend({ jobId: 'ledger-s', message: { msgType: 'text', text: { content: 'x' } }, audience: { openIds: [OPENID_A, OPENID_B] } });
  try {
    const now = Date.UTC(2025, 0, 1, 2);
    const seconds = Array.from({ length: 100 }, () => ({ at: Math.floor(now / 1000) - 60, kind: 'send', toAll: false, succeeded: true }));
    assert.throws(() => plan.summary({ ledger: seconds, now }), (e) => e instanceof wx.WxmassError && e.code === 'validation' && e.path === 'ledger[0].at' && e.rule === 'time' && /Unix seconds/.test(e.message));
    const millis = seconds.map((r) => ({ ...r, at: r.at * 1000 }));
    assert.equal(plan.summary({ ledger: millis, now }).earliestStart.decision, 'not_before');
  } finally {
    plan.free();
  }
});

test('readSendAt: core\'s rule for a start time; more than a minute in the past is refused in China time', () => {
  const now = Date.UTC(2026, 5, 1);
  assert.equal(wx.readSendAt('2030-03-07T08:00:00+08:00', { now }), Date.UTC(2030, 2, 7));
  assert.equal(wx.readSendAt(1899072000000, { now }), 1899072000000);
  assert.equal(wx.readSendAt(now - 30_000, { now }), now - 30_000);
  assert.throws(() => wx.readSendAt('2020-03-07T08:00:00+08:00', { now }), (e) => e instanceof wx.WxmassError && e.path === 'sendAt' && e.rule === 'in_the_past' && e.problems[0].message.includes('2020-03-07 08:00:00 China time (UTC+8)') && e.problems[0].zh.includes('北京时间'));
  assert.throws(() => wx.readSendAt('tomorrow', { now, path: 'send-at' }), (e) => e.path === 'send-at' && e.rule === 'time');
});
