// Writes ACTUAL outputs of the installed package as TypeScript, so `tsc --noEmit` checks the
// shipped .d.ts against what the package really returns, not only against itself (issue 17).
// Every value becomes `export const xN = <JSON literal> satisfies wx.Type;`: a missing field,
// an extra field (excess-property check), a null where the d.ts says optional, or a literal
// outside a declared union fails the compile.
//
// Run from the consumer project after the tarball is installed:
//   node types/gen-real-output.mjs types/real-output.generated.ts
// Needs WXMASS_REPO (the repository, for core/tests/golden/events/). The output is written
// where it is told (the temporary consumer project), never into the repository.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as wx from 'wxmass';

const [out] = process.argv.slice(2);
const repo = process.env.WXMASS_REPO;
if (!out || !repo) {
  console.error('usage: WXMASS_REPO=<repo> node gen-real-output.mjs <out.ts>');
  process.exit(2);
}

const entries = [];
const emit = (label, type, value) => entries.push({ label, type, value });

/** An error as the plain object TypeScript sees: name, message and its own fields. */
const errorObject = (e) => ({ name: e.name, message: e.message, ...Object.fromEntries(Object.entries(e)) });
const thrown = (f) => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error(`did not throw: ${f}`);
};

// ---- every endpoint's reply (the replies of node/api.test.mjs, and WeChat's documented examples)
const BIG = '18446744073709551615';
const replies = {
  uploadimg: '{"url":"http://mmbiz.qpic.cn/mmbiz/gLO17UPS6FS2xsypf378iaNhWacZ1G1UplZYWEYfwvuU6Ont96b1roYs CNFwaRrSaKTPCUdBK9DgEHicsKwWCBRQ/0"}',
  uploadnews: '{"type":"news","media_id":"CsEf3ldqkAYJAU6EJeIkStVDSvffUJ54vqbThMgplD-VJXXof6ctX5fI6-aYyUcI","created_at":1391857799}',
  uploadvideo: '{"type":"video","media_id":"IhdaAQXuvJtGzwwc0abfXnzeezfO0NgPK6AQYShD8RQYMTtfzbLdBIQkQziv2XJc","created_at":1398848981}',
  sendall: `{"errcode":0,"errmsg":"send job submission success","msg_id":${BIG},"msg_data_id":2247483651}`,
  send: '{"errcode":0,"errmsg":"send job submission success","msg_id":34182,"msg_data_id":206227730}',
  delete: '{"errcode":0,"errmsg":"ok"}',
  preview: `{"errcode":0,"errmsg":"preview success","msg_id":${BIG}}`,
  get: `{"msg_id":${BIG},"msg_status":"SEND_SUCCESS"}`,
  'speed/get': '{"speed":3,"realspeed":15}',
  'speed/set': '{"errcode":0,"errmsg":"ok"}',
  stable_token: '{"access_token":"ACCESS_TOKEN","expires_in":7200}',
  'media/upload': '{"errcode":0,"errmsg":"ok","type":"image","media_id":"MEDIA_ID","created_at":1672500000}',
  'material/add_material': '{"media_id":"MEDIA_ID","url":"URL"}',
  'material/batchget_material': '{"total_count":2,"item_count":2,"item":[{"media_id":"M1","name":"a.jpg","update_time":1672500000,"url":"URL"},{"media_id":"M2","content":{"news_item":[{"title":"T","thumb_media_id":"TH","show_cover_pic":1,"author":"A","digest":"D","content":"C","url":"U","content_source_url":"S"}]},"update_time":1672500000}]}',
  'material/get_materialcount': '{"voice_count":1,"video_count":2,"image_count":3,"news_count":4}',
  'tags/get': '{"tags":[{"id":1,"name":"每天一罐可乐星人","count":0},{"id":2,"name":"星标组","count":0}]}',
  'user/tag/get': '{"count":2,"data":{"openid":["ocYxcuAEy30bX0NXmGn4ypqx3tI0","ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"]},"next_openid":"ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"}',
  'user/get': '{"total":23000,"count":0,"next_openid":""}',
};
const replyType = {
  uploadimg: 'UploadImgReply',
  uploadnews: 'MediaUploadReply',
  uploadvideo: 'MediaUploadReply',
  sendall: 'SendReply',
  send: 'SendReply',
  delete: 'AckReply',
  preview: 'PreviewReply',
  get: 'GetStatusReply',
  'speed/get': 'SpeedGetReply',
  'speed/set': 'AckReply',
  stable_token: 'TokenReply',
  'media/upload': 'MediaUploadReply',
  'material/add_material': 'AddMaterialReply',
  'material/batchget_material': 'BatchGetMaterialReply',
  'material/get_materialcount': 'MaterialCountReply',
  'tags/get': 'TagsReply',
  'user/tag/get': 'FollowerListReply',
  'user/get': 'FollowerListReply',
};
// a follower pager's page
emit('FollowerPager.feed', 'wx.FollowerPage', new wx.FollowerPager({ tagId: 2 }).feed(replies['user/tag/get']));
for (const { name } of wx.endpoints) {
  if (!(name in replies)) throw new Error(`no reply for endpoint ${name}`);
  emit(`parseReply('${name}')`, `wx.${replyType[name]}`, wx.parseReply(name, replies[name]));
  emit(`parseReply('${name}') is Replies['${name}']`, `wx.Replies['${name}']`, wx.parseReply(name, replies[name]));
}
// the preview reply without msg_id (an older account), and the other statuses of get
emit("parseReply('preview') without msg_id", 'wx.PreviewReply', wx.parseReply('preview', '{"errcode":0,"errmsg":"preview success"}'));
emit("parseReply('send') without msg_data_id", 'wx.SendReply', wx.parseReply('send', '{"errcode":0,"errmsg":"send job submission success","msg_id":1000000001}'));
emit("readReply('speed/get')", "ReturnType<typeof wx.readReply<'speed/get'>>", wx.readReply('speed/get', replies['speed/get']));
emit('endpoints', 'readonly wx.EndpointInfo[]', wx.endpoints);
emit('errorInfo(45009)', 'wx.ErrorInfo | null', wx.errorInfo(45009));
emit('errorInfo(99999)', 'wx.ErrorInfo | null', wx.errorInfo(99999));
emit('errorCodes()', 'wx.ErrorInfo[]', wx.errorCodes());

// ---- every golden event -------------------------------------------------------------------
const eventsDir = join(repo, 'core/tests/golden/events');
for (const file of readdirSync(eventsDir).filter((f) => f.endsWith('.xml')).sort()) {
  const event = wx.parseEvent(readFileSync(join(eventsDir, file), 'utf8'));
  emit(`parseEvent(${file})`, 'wx.CallbackMessage', event);
  emit(`parseEvent(${file}) as its kind`, event.kind === 'other' ? 'wx.OtherMessage' : 'wx.MassSendJobFinishEvent', event);
}

// ---- plans --------------------------------------------------------------------------------
const ids = ['oR5Gjjl_eiZoUpGozMo7dbBJ362A', 'oR5Gjjl_eiZoUpGozMo7dbBJ362B', 'oR5Gjjl_eiZoUpGozMo7dbBJ362C'];
const input = {
  jobId: 'job-17',
  message: { msgType: 'text', text: { content: 'hello' } },
  audience: { openIds: [ids[0], ids[1], ids[0], 'not-an-openid', ids[2]] },
  skipInvalid: true,
};
const now = Date.UTC(2025, 0, 1, 2);
const plan = wx.planSend(input);
emit('plan.batches()', 'wx.PlanBatch[]', plan.batches());
emit('plan.batchRecipients(0)', 'string[]', plan.batchRecipients(0));
emit('plan.request(0)', 'wx.HttpRequest', plan.request(0, { accessToken: 'TOKEN' }));
emit('plan fields', '{ jobId: string; account: wx.AccountKind; batchCount: number; recipientCount: number }', {
  jobId: plan.jobId,
  account: plan.account,
  batchCount: plan.batchCount,
  recipientCount: plan.recipientCount,
});
emit('plan.summary()', 'wx.PlanSummary', plan.summary({ now }));
emit('plan.summaryText()', 'string', plan.summaryText({ now }));
// held back: a service account's 100 sends of the day are used up
const full = Array.from({ length: 100 }, () => ({ at: Date.UTC(2025, 0, 1, 1), kind: 'send', toAll: false, succeeded: true }));
emit('plan.summary() with a full ledger', 'wx.PlanSummary', plan.summary({ ledger: full, now }));
const msg = { msgType: 'image', image: { mediaId: 'm' } };
const subLedger = [{ at: Date.UTC(2025, 0, 1, 1), kind: 'sendall', toAll: true, succeeded: true }];
for (const [label, plInput, options] of [
  ['tag', { jobId: 'j-tag', message: msg, audience: { tagId: '7' } }, { now }],
  ['everyone, subscription', { jobId: 'j-all', message: msg, audience: 'everyone', account: 'subscription' }, { now }],
  ['everyone, subscription, sent today', { jobId: 'j-all', message: msg, audience: 'everyone', account: 'subscription' }, { ledger: subLedger, now }],
  ['tag, subscription, sent today', { jobId: 'j-tag', message: msg, audience: { tagId: 7 }, account: 'subscription' }, { ledger: [{ ...subLedger[0], toAll: false }], now }],
  [
    'everyone, service, 4 this month',
    { jobId: 'j-all', message: msg, audience: { everyone: true } },
    { ledger: [1, 2, 3, 4].map((d) => ({ at: Date.UTC(2025, 0, d, 1), kind: 'sendall', toAll: true, succeeded: true })), now: Date.UTC(2025, 0, 5, 2) },
  ],
]) {
  emit(`summarizePlan(${label})`, 'wx.PlanSummary', wx.summarizePlan(plInput, options));
}
const decisions = new Set();
for (const e of entries) if (e.type === 'wx.PlanSummary') decisions.add(e.value.earliestStart.decision + ':' + (e.value.earliestStart.rule ?? ''));
console.error(`quota decisions seen: ${[...decisions].join(', ')}`);

// ---- a batch's progress and the pacer (what a sender stores and restores) --------------------
{
  const p = new wx.BatchProgress();
  emit('new BatchProgress().toJSON()', 'wx.BatchProgressSnapshot', p.toJSON());
  p.beginAttempt(now);
  emit('BatchProgress after beginAttempt', 'wx.BatchProgressSnapshot', p.toJSON());
  emit('BatchProgress.state (sending)', 'wx.BatchState', p.state);
  const retry = p.settleLost(now, 7);
  emit('settleLost', 'wx.BatchAction', retry);
  p.beginAttempt(retry.at);
  emit('settleHttp(45066)', 'wx.BatchAction', p.settleHttp(200, '{"errcode":45066,"errmsg":"too fast"}', retry.at, 7));
  const again = wx.BatchProgress.fromJSON(JSON.stringify(p.toJSON()));
  again.beginAttempt(again.notBefore);
  emit('settleHttp(45065)', 'wx.BatchAction', again.settleHttp(200, '{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":9007199254740993}', again.notBefore, 7));
  emit('BatchProgress submitted', 'wx.BatchProgressSnapshot', again.toJSON());
  emit('BatchProgress.state (submitted)', 'wx.BatchState', again.state);
  const refused = new wx.BatchProgress();
  refused.beginAttempt(now);
  emit('settleHttp(40003)', 'wx.BatchAction', refused.settleHttp(200, '{"errcode":40003,"errmsg":"invalid openid"}', now, 0));
  emit('BatchProgress failed', 'wx.BatchProgressSnapshot', refused.toJSON());
  const token = new wx.BatchProgress();
  token.beginAttempt(now);
  emit('settleHttp(40001)', 'wx.BatchAction', token.settleHttp(200, '{"errcode":40001,"errmsg":"invalid credential"}', now, 0));
  const quota = new wx.BatchProgress();
  quota.beginAttempt(now);
  emit('settleHttp(45009)', 'wx.BatchAction', quota.settleHttp(200, '{"errcode":45009,"errmsg":"reach max api daily quota limit"}', now, 0));
  const pacer = new wx.Pacer();
  pacer.record(now);
  emit('Pacer.toJSON()', 'wx.PacerSnapshot', pacer.toJSON());
  emit('Pacer restored', 'wx.PacerSnapshot', wx.Pacer.fromJSON(pacer.toJSON()).toJSON());
}

// ---- validation problems of a bad body ----------------------------------------------------
emit('validateSend(bad)', 'wx.ValidationResult', wx.validateSend({ toUser: ['bad', 'bad'], msgType: 'text', text: { content: '' }, clientMsgId: 'has space', sendIgnoreReprint: 2 }));
emit('validateSend(good)', 'wx.ValidationResult', wx.validateSend({ toUser: ids.slice(0, 2), msgType: 'text', text: { content: 'x' } }));
emit('validateSendAll(bad)', 'wx.ValidationResult', wx.validateSendAll({ filter: { isToAll: false }, msgType: 'mpnews', mpnews: {} }));
emit("validateRequest('send', bad)", 'wx.ValidationResult', wx.validateRequest('send', { toUser: [], msgType: 'voice', voice: { mediaId: '' } }));
emit('buildSendAll', 'wx.HttpRequest', wx.buildSendAll({ filter: { isToAll: true }, msgType: 'text', text: { content: 'x' } }, { accessToken: 't' }));

// ---- errors -------------------------------------------------------------------------------
const vErr = thrown(() => wx.buildSend({ toUser: ['bad'], msgType: 'text', text: { content: '' } }));
if (!(vErr instanceof wx.WxmassError)) throw vErr;
emit('WxmassError from buildSend', 'wx.WxmassError', errorObject(vErr));
const mErr = thrown(() => wx.parseReply('sendall', '{"errcode":0,"msg_id":"abc"}'));
if (!(mErr instanceof wx.WxmassError)) throw mErr;
emit('WxmassError from parseReply (malformed)', 'wx.WxmassError', errorObject(mErr));
const pErr = thrown(() => wx.planSend({ jobId: 'has space', message: msg, audience: 'everyone' }));
if (!(pErr instanceof wx.WxmassError)) throw pErr;
emit('WxmassError from planSend', 'wx.WxmassError', errorObject(pErr));
const eErr = thrown(() => wx.parseEvent('<xml><a>'));
if (!(eErr instanceof wx.WxmassError)) throw eErr;
emit('WxmassError from parseEvent', 'wx.WxmassError', errorObject(eErr));
for (const reply of [`{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":${BIG}}`, '{"errcode":45009,"errmsg":"reach max api daily quota limit"}', '{"errcode":99999,"errmsg":"x"}']) {
  const aErr = thrown(() => wx.parseReply('send', reply));
  if (!(aErr instanceof wx.ApiError)) throw aErr;
  emit(`ApiError ${aErr.code}`, 'wx.ApiError', errorObject(aErr));
}

// ---- callbacks (as node/callback.test.mjs makes them) --------------------------------------
const sha1 = (...parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');
const token = 'wxmasstoken';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APPID = 'wxb11529c136998cb6';
const EVENT = readFileSync(join(eventsDir, 'send_success_full.xml'), 'utf8');
const query = { signature: sha1(token, '1700000000', 'abc'), timestamp: '1700000000', nonce: 'abc' };
emit('openCallback(plain)', 'wx.OpenedCallback', wx.openCallback({ token, query, body: EVENT, now: 1700000000 * 1000 }));
const crypto = new wx.MessageCrypto({ token, encodingAesKey: KEY, appId: APPID });
const encrypt = crypto.encrypt(EVENT);
const aes = { ...query, encrypt_type: 'aes', msg_signature: sha1(token, '1700000000', 'abc', encrypt) };
const body = `<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
emit('openCallback(aes)', 'wx.OpenedCallback', wx.openCallback({ token, encodingAesKey: KEY, appId: APPID, query: aes, body }));
emit('openCallback(compat, aes)', 'wx.OpenedCallback', wx.openCallback({ token, encodingAesKey: KEY, appId: APPID, query: aes, body, mode: 'compat' }));
const cbErr = thrown(() => wx.openCallback({ token, encodingAesKey: KEY, appId: APPID, query, body: EVENT }));
if (!(cbErr instanceof wx.WxmassError)) throw cbErr;
emit('WxmassError from openCallback', 'wx.WxmassError', errorObject(cbErr));
emit('verifyUrl', 'string', wx.verifyUrl(token, { ...query, echostr: 'e' }));

// ---- write --------------------------------------------------------------------------------
const lines = [
  '// GENERATED by gen-real-output.mjs from the installed package: do not edit, do not commit.',
  "import type * as wx from 'wxmass';",
  '',
];
entries.forEach(({ label, type, value }, i) => {
  lines.push(`// ${label}`);
  lines.push(`export const x${i + 1} = ${JSON.stringify(value)} satisfies ${type};`);
});
writeFileSync(out, lines.join('\n') + '\n');
console.error(`wrote ${entries.length} real outputs to ${out}`);
