import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, api, ctl, getToken, uploadNews, rawId, openids, TWO_53 } from '../testlib/helpers.mjs';

let sim;
let token;
let newsId;
let videoId;
before(async () => {
  sim = await startSim({ rateLimitPerMinute: 0 });
  token = await getToken(sim);
  newsId = await uploadNews(sim, token, 2);
  videoId = (await api(sim, 'cgi-bin/media/uploadvideo', { token, body: { media_id: 'sim-video-media-id-0001', title: 'T', description: 'D' } })).json.media_id;
});
after(() => sim.close());

const M = 'cgi-bin/message/mass/';
const call = (p, body) => api(sim, M + p, { token, body });
const tag2 = { is_to_all: false, tag_id: 2 };
const messages = () => ({
  mpnews: { mpnews: { media_id: newsId } },
  text: { text: { content: 'CONTENT' } },
  voice: { voice: { media_id: 'sim-voice-media-id-0001' } },
  image: { image: { media_id: 'sim-image-media-id-0001' } },
  mpvideo: { mpvideo: { media_id: videoId, title: 'T', description: 'D' } },
  wxcard: { wxcard: { card_id: 'sim-card-id-0001' } },
});

test('sendall: every msgtype accepted; msg_id is an exact integer above 2^53; msg_data_id only for mpnews', async () => {
  const seen = new Set();
  for (const [msgtype, msg] of Object.entries(messages())) {
    const r = await call('sendall', { filter: tag2, ...msg, msgtype, send_ignore_reprint: 0 });
    assert.equal(r.json.errcode, 0, r.text);
    assert.equal(r.json.errmsg, 'send job submission success');
    const id = BigInt(rawId(r.text));
    assert.ok(id > TWO_53, `msg_id ${id} above 2^53`);
    assert.ok(!seen.has(id));
    seen.add(id);
    // a JS number cannot hold it: the text must not round-trip through JSON.parse
    assert.notEqual(String(r.json.msg_id), rawId(r.text));
    if (msgtype === 'mpnews') assert.ok(BigInt(rawId(r.text, 'msg_data_id')) > TWO_53);
    else assert.equal(rawId(r.text, 'msg_data_id'), null);
  }
});

test('sendall: tag_id as numeric string (seed wxcard example), is_to_all without tag_id', async () => {
  const a = await call('sendall', { filter: { is_to_all: false, tag_id: '2' }, wxcard: { card_id: 'sim-card-id-0001' }, msgtype: 'wxcard' });
  assert.equal(a.json.errcode, 0);
  const b = await call('sendall', { filter: { is_to_all: true }, text: { content: 'hi' }, msgtype: 'text' });
  assert.equal(b.json.errcode, 0);
  const jobs = (await ctl(sim, 'GET', 'jobs')).jobs;
  const jb = jobs.find((j) => j.msgId === rawId(b.text));
  assert.equal(jb.counts.total, 20); // all generated followers
  const ja = jobs.find((j) => j.msgId === rawId(a.text));
  assert.equal(ja.counts.total, 10); // tag 2 = first half
});

test('sendall errors', async () => {
  const t = { filter: tag2, text: { content: 'x' }, msgtype: 'text' };
  const e = async (body) => (await call('sendall', body)).json.errcode;
  assert.equal(await e({ ...t, msgtype: 'video' }), 40008); // seed 001 legacy
  assert.equal(await e({ ...t, msgtype: 'music' }), 40008);
  assert.equal(await e({ filter: tag2, text: { content: 'x' } }), 40008);
  assert.equal(await e({ ...t, filter: { group_id: '2' } }), 47001); // legacy group_id
  assert.equal(await e({ text: { content: 'x' }, msgtype: 'text' }), 40035);
  assert.equal(await e({ ...t, filter: { is_to_all: false } }), 40035);
  assert.equal(await e({ ...t, filter: { is_to_all: 'false', tag_id: 2 } }), 47001);
  assert.equal(await e({ ...t, filter: { is_to_all: false, tag_id: 'two' } }), 47001);
  assert.equal(await e({ ...t, filter: { is_to_all: false, tag_id: 999 } }), 45159);
  assert.equal(await e({ ...t, text: { content: '' } }), 44004);
  assert.equal(await e({ filter: tag2, msgtype: 'text' }), 40035);
  assert.equal(await e({ ...t, image: { media_id: 'sim-image-media-id-0001' } }), 47001); // two message objects
  assert.equal(await e({ filter: tag2, mpnews: { media_id: 'bogus' }, msgtype: 'mpnews' }), 40007);
  assert.equal(await e({ filter: tag2, mpnews: { media_id: 'sim-image-media-id-0001' }, msgtype: 'mpnews' }), 40007);
  assert.equal(await e({ filter: tag2, mpvideo: { media_id: 'sim-video-media-id-0001' }, msgtype: 'mpvideo' }), 40007); // needs uploadvideo
  assert.equal(await e({ filter: tag2, image: {}, msgtype: 'image' }), 40007);
  assert.equal(await e({ filter: tag2, wxcard: { card_id: 'nope' }, msgtype: 'wxcard' }), 40073);
  assert.equal(await e({ filter: tag2, wxcard: { card_id: 'sim-card-id-0001', card_ext: '{}' }, msgtype: 'wxcard' }), 47001);
  assert.equal(await e({ ...t, send_ignore_reprint: 2 }), 40035);
  assert.equal(await e({ ...t, clientmsgid: 'x'.repeat(65) }), 45067);
  assert.equal(await e({ ...t, clientmsgid: '群'.repeat(22) }), 45067); // 66 bytes in UTF-8
  assert.equal(await e({ ...t, clientmsgid: 7 }), 47001);
  assert.equal((await api(sim, M + 'sendall', { token, body: '' })).json.errcode, 44002);
  assert.equal((await api(sim, M + 'sendall', { token, body: '{"filter":' })).json.errcode, 47001);
  assert.equal((await api(sim, M + 'sendall', { token, body: 'null' })).json.errcode, 47001);
  assert.equal((await api(sim, M + 'sendall', { token, method: 'GET' })).json.errcode, 43002);
  assert.equal((await api(sim, M + 'sendall', { body: t })).json.errcode, 41001);
});

test('send: 2 OpenIDs accepted; 1 -> 40130, 10,001 -> 40035, bad OpenID 40003', async () => {
  const [a, b] = openids(2);
  const ok = await call('send', { touser: [a, b], text: { content: 'hello from boxer.' }, msgtype: 'text' });
  assert.equal(ok.json.errcode, 0);
  assert.ok(BigInt(rawId(ok.text)) > TWO_53);
  const e = async (touser) => (await call('send', { touser, text: { content: 'x' }, msgtype: 'text' })).json.errcode;
  assert.equal(await e([a]), 40130);
  assert.equal(await e([]), 40130);
  assert.equal(await e(openids(10001)), 40035);
  assert.equal(await e([a, 'OPENID1']), 40003);
  assert.equal(await e('oR5Gjjl_eiZoUpGozMo7dbBJ362A'), 47001);
  const max = await call('send', { touser: openids(10000), image: { media_id: 'sim-image-media-id-0001' }, msgtype: 'image' });
  assert.equal(max.json.errcode, 0);
  const d = await ctl(sim, 'GET', 'deliveries?openid=' + openids(10000)[9999]);
  assert.equal(Object.values(d.deliveries)[0].length, 1);
});

test('send: strict follower set rejects non-followers with 40003', async () => {
  await ctl(sim, 'POST', 'followers', { strict: true });
  try {
    const e = await call('send', { touser: openids(2, 'oStranger'), text: { content: 'x' }, msgtype: 'text' });
    assert.equal(e.json.errcode, 40003);
    const f = (await ctl(sim, 'GET', 'followers')).followers;
    const ok = await call('send', { touser: f.slice(0, 2), text: { content: 'x' }, msgtype: 'text' });
    assert.equal(ok.json.errcode, 0);
  } finally {
    await ctl(sim, 'POST', 'followers', { strict: false });
  }
});

test('preview: touser and towxname (towxname wins), card_ext allowed; errors', async () => {
  const [a] = openids(1, 'oPreview');
  const r = await call('preview', { touser: a, text: { content: 'x' }, msgtype: 'text' });
  assert.equal(r.json.errcode, 0);
  assert.equal(r.json.errmsg, 'preview success');
  assert.ok(BigInt(rawId(r.text)) > TWO_53);
  const w = await call('preview', { touser: a, towxname: 'some_wechat_id', mpnews: { media_id: newsId }, msgtype: 'mpnews' });
  assert.equal(w.json.errcode, 0);
  const d = (await ctl(sim, 'GET', 'deliveries')).deliveries;
  assert.equal(d['wxname:some_wechat_id'].length, 1);
  assert.equal(d[a].length, 1); // the second preview went to towxname, not touser
  const card = { card_id: 'sim-card-id-0001', card_ext: '{"code":"","openid":"","timestamp":"1402057159","signature":"017bb17407c8e0058a66d72dcc61632b70f511ad"}' };
  assert.equal((await call('preview', { touser: a, wxcard: card, msgtype: 'wxcard' })).json.errcode, 0);
  assert.equal((await call('preview', { touser: a, wxcard: { ...card, card_ext: 'not json' }, msgtype: 'wxcard' })).json.errcode, 40035);
  assert.equal((await call('preview', { text: { content: 'x' }, msgtype: 'text' })).json.errcode, 40035);
  assert.equal((await call('preview', { touser: 'OPENID', text: { content: 'x' }, msgtype: 'text' })).json.errcode, 40003);
  assert.equal((await call('preview', { touser: a, text: { content: 'x' }, msgtype: 'text', clientmsgid: 'x' })).json.errcode, 47001);
  // previews are not mass sends: they do not count as deliveries for duplicate detection
  assert.equal((await ctl(sim, 'GET', 'stats')).duplicateDeliveries, 0);
});

test('get: SENDING, then SEND_SUCCESS; exact msg_id given as number or string', async () => {
  await ctl(sim, 'POST', 'config', { callbackDelayMs: 3_600_000 });
  const r = await call('sendall', { filter: tag2, mpnews: { media_id: newsId }, msgtype: 'mpnews' });
  const id = rawId(r.text);
  const asNumber = await api(sim, M + 'get', { token, body: `{"msg_id": ${id}}` });
  assert.equal(asNumber.json.msg_status, 'SENDING');
  assert.equal(rawId(asNumber.text), id);
  await ctl(sim, 'POST', 'callbacks/flush');
  const asString = await call('get', { msg_id: id });
  assert.equal(asString.json.msg_status, 'SEND_SUCCESS');
  // an id that lost precision (what JSON.parse would produce) does not name the send
  const rounded = BigInt(Number(id));
  if (rounded !== BigInt(id)) assert.equal((await api(sim, M + 'get', { token, body: `{"msg_id":${rounded}}` })).json.errcode, 40035);
  assert.equal((await call('get', {})).json.errcode, 40035);
  assert.equal((await call('get', { msg_id: 'abc' })).json.errcode, 47001);
  assert.equal((await call('get', { msg_id: 1.5 })).json.errcode, 47001);
  await ctl(sim, 'POST', 'config', { callbackDelayMs: 1000 });
});

test('delete: mpnews whole and by article_idx; mpvideo; text refused; shared material breaks other sends', async () => {
  const s1 = await call('sendall', { filter: tag2, mpnews: { media_id: newsId }, msgtype: 'mpnews' });
  const s2 = await call('sendall', { filter: { is_to_all: false, tag_id: 100 }, mpnews: { media_id: newsId }, msgtype: 'mpnews' });
  // one material, one link: both sends share msg_data_id
  assert.equal(rawId(s1.text, 'msg_data_id'), rawId(s2.text, 'msg_data_id'));
  await ctl(sim, 'POST', 'callbacks/flush');
  assert.equal((await api(sim, M + 'delete', { token, body: `{"msg_id":${rawId(s1.text)},"article_idx":2}` })).json.errcode, 0);
  assert.equal((await call('get', { msg_id: rawId(s1.text) })).json.msg_status, 'SEND_SUCCESS');
  assert.equal((await call('delete', { msg_id: rawId(s1.text), article_idx: 3 })).json.errcode, 40035);
  const del = await api(sim, M + 'delete', { token, body: `{"msg_id":${rawId(s1.text)}}` });
  assert.deepEqual(del.json, { errcode: 0, errmsg: 'ok' });
  assert.equal((await call('get', { msg_id: rawId(s1.text) })).json.msg_status, 'DELETE');
  assert.equal((await call('get', { msg_id: rawId(s2.text) })).json.msg_status, 'DELETE');

  const v = await call('sendall', { filter: tag2, mpvideo: { media_id: videoId }, msgtype: 'mpvideo' });
  assert.equal((await call('delete', { msg_id: rawId(v.text), article_idx: 0 })).json.errcode, 0);
  const t = await call('sendall', { filter: tag2, text: { content: 'x' }, msgtype: 'text' });
  assert.equal((await call('delete', { msg_id: rawId(t.text) })).json.errcode, 40035);
  assert.equal((await call('delete', { msg_id: '12345' })).json.errcode, 40035);
  assert.equal((await call('delete', {})).json.errcode, 40035);
  assert.equal((await call('delete', { msg_id: rawId(t.text), article_idx: -1 })).json.errcode, 40035);
});

test('delete by article url (from the callback ArticleUrlResult)', async () => {
  const id = await uploadNews(sim, token, 1);
  const s = await call('sendall', { filter: tag2, mpnews: { media_id: id }, msgtype: 'mpnews' });
  const job = (await ctl(sim, 'GET', 'jobs')).jobs.find((j) => j.msgId === rawId(s.text));
  assert.equal(job.articleUrls.length, 1);
  assert.equal((await call('delete', { url: job.articleUrls[0] })).json.errcode, 0);
  assert.equal((await call('get', { msg_id: rawId(s.text) })).json.msg_status, 'DELETE');
  assert.equal((await call('delete', { url: 'http://mp.weixin.qq.com/s/nothing' })).json.errcode, 40035);
});

test('speed get/set', async () => {
  assert.deepEqual((await call('speed/get', {})).json, { speed: 0, realspeed: 80 });
  assert.deepEqual((await api(sim, M + 'speed/get', { token, body: '' })).json, { speed: 0, realspeed: 80 });
  assert.deepEqual((await call('speed/set', { speed: 4 })).json, { errcode: 0, errmsg: 'ok' });
  assert.deepEqual((await call('speed/get', {})).json, { speed: 4, realspeed: 10 });
  assert.equal((await call('speed/set', { speed: 5 })).json.errcode, 45083);
  assert.equal((await call('speed/set', { speed: -1 })).json.errcode, 45083);
  assert.equal((await call('speed/set', {})).json.errcode, 45084);
  assert.equal((await call('speed/set', { speed: '1' })).json.errcode, 47001);
  assert.equal((await call('speed/get', { x: 1 })).json.errcode, 47001);
  assert.equal((await api(sim, M + 'speed/get', { token, method: 'GET' })).json.errcode, 43002); // seed 001 used GET
});

test('unknown API path -> 404 with errcode', async () => {
  const r = await api(sim, 'cgi-bin/message/mass/nope', { token, body: {} });
  assert.equal(r.status, 404);
  assert.equal(r.json.errcode, 40066);
  assert.equal((await ctl(sim, 'GET', 'stats')).unexpectedErrors, 0);
});
