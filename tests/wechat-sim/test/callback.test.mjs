// The MASSSENDJOBFINISH push, checked by an independent receiver: signature, msg_signature and
// AES decryption are re-implemented here with node:crypto (nothing imported from src/crypto.mjs).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSim, api, ctl, getToken, rawId, openids, sleep, sha1, sig, field, decryptIndependently } from '../testlib/helpers.mjs';

const TOKEN = 'cbtoken123';
// A random-looking key whose last character carries non-zero trailing bits, like most real keys.
const AES_KEY = 'kWxPqZ7nR2vT9sL4mJ8dF6hB3cY5gN1aE0uI7oK2pQH';
const APPID = 'wx0123456789abcdef';

/** A callback endpoint; `answer(req, n)` decides per request: {status, body} or 'hang'. */
let receiver;
let received;
let answer;
before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url, 'http://x');
      const rec = { method: req.method, query: Object.fromEntries(u.searchParams), body: Buffer.concat(chunks).toString('utf8') };
      received.push(rec);
      const a = answer(rec, received.length);
      if (a === 'hang') return; // never answer: the simulator must time out
      res.writeHead(a.status ?? 200).end(a.body ?? 'success');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});
beforeEach(() => {
  received = [];
  answer = () => ({ status: 200, body: 'success' });
});

const cbUrl = () => `http://127.0.0.1:${receiver.address().port}/wechat/callback?account=1`;

async function withSim(opts, fn) {
  const sim = await startSim({ callbackUrl: cbUrl(), callbackToken: TOKEN, encodingAESKey: AES_KEY, appId: APPID, ...opts });
  try {
    const token = await getToken(sim);
    await fn(sim, token);
  } finally {
    await sim.close();
  }
}

async function waitFor(pred, ms = 3000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(5);
  }
}

function checkPlainSignature(q) {
  assert.match(q.timestamp, /^\d{10}$/);
  assert.match(q.nonce, /^\d+$/);
  assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce));
}

test('safe mode: signed, encrypted mpnews event with real counts, copyright and article URLs; pushed after the delay', () =>
  withSim({ callbackMode: 'safe' }, async (sim, token) => {
    const news = (await api(sim, 'cgi-bin/media/uploadnews', { token, body: { articles: [1, 2].map((i) => ({ thumb_media_id: 'sim-thumb-media-id-0001', title: 't' + i, content: 'c' })) } })).json.media_id;
    const r = await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: false, tag_id: 2 }, mpnews: { media_id: news }, msgtype: 'mpnews', send_ignore_reprint: 0 } });
    const msgId = rawId(r.text);
    await waitFor(() => received.length === 1); // callbackDelayMs 1000 * timeScale 0.01, no flush
    const { query: q, body, method } = received[0];
    assert.equal(method, 'POST');
    assert.equal(q.account, '1', 'keeps the configured query');
    checkPlainSignature(q);
    assert.equal(q.encrypt_type, 'aes');
    const enc = field(body, 'Encrypt');
    assert.ok(enc);
    assert.equal(field(body, 'MsgID'), null, 'safe mode carries no plain fields');
    assert.equal(field(body, 'ToUserName'), 'gh_5f1a0c0de001');
    assert.equal(q.msg_signature, sig(TOKEN, q.timestamp, q.nonce, enc));
    const { xml, appId } = decryptIndependently(enc, AES_KEY);
    assert.equal(appId, APPID);
    assert.equal(field(xml, 'MsgType'), 'event');
    assert.equal(field(xml, 'Event'), 'MASSSENDJOBFINISH');
    assert.equal(field(xml, 'MsgID'), msgId, 'exact 64-bit MsgID');
    assert.equal(field(xml, 'Status'), 'send success');
    assert.equal(field(xml, 'TotalCount'), '10');
    assert.equal(field(xml, 'FilterCount'), '10');
    assert.equal(field(xml, 'SentCount'), '10');
    assert.equal(field(xml, 'ErrorCount'), '0');
    assert.equal(field(xml, 'FromUserName'), q.openid);
    assert.match(field(xml, 'CreateTime'), /^\d{10}$/);
    const cr = /<CopyrightCheckResult>([\s\S]*)<\/CopyrightCheckResult>/.exec(xml)[1];
    assert.equal(field(cr, 'CheckState'), '1');
    assert.equal(field(cr, 'Count'), '0');
    const au = /<ArticleUrlResult>([\s\S]*)<\/ArticleUrlResult>/.exec(xml)[1];
    assert.equal(field(au, 'Count'), '2');
    assert.match(field(au, 'ArticleUrl'), /^http:\/\/mp\.weixin\.qq\.com\/s\?/);
    await waitFor(() => sim.state.stats().callbacksDelivered === 1);
    const cbs = (await ctl(sim, 'GET', 'callbacks')).callbacks;
    assert.equal(cbs[0].state, 'delivered');
    assert.equal(cbs[0].attempts.length, 1);
    assert.equal(cbs[0].msgId, msgId);
  }));

test('plain mode: XML body, URL signature only, no CopyrightCheckResult for text', () =>
  withSim({ callbackMode: 'plain' }, async (sim, token) => {
    const r = await api(sim, 'cgi-bin/message/mass/send', { token, body: { touser: openids(3), text: { content: 'x' }, msgtype: 'text' } });
    await ctl(sim, 'POST', 'callbacks/flush');
    assert.equal(received.length, 1);
    const { query: q, body } = received[0];
    checkPlainSignature(q);
    assert.equal(q.encrypt_type, undefined);
    assert.equal(q.msg_signature, undefined);
    assert.equal(field(body, 'MsgID'), rawId(r.text));
    assert.equal(field(body, 'TotalCount'), '3');
    assert.equal(field(body, 'SentCount'), '3');
    assert.equal(field(body, 'Encrypt'), null);
    assert.ok(!body.includes('CopyrightCheckResult'));
  }));

test('compat mode: plain fields and an Encrypt that decrypts to the same event', () =>
  withSim({ callbackMode: 'compat', errorFraction: 0.5 }, async (sim, token) => {
    const r = await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, image: { media_id: 'sim-image-media-id-0001' }, msgtype: 'image' } });
    await ctl(sim, 'POST', 'callbacks/flush');
    const { query: q, body } = received[0];
    checkPlainSignature(q);
    const enc = field(body, 'Encrypt');
    assert.equal(q.msg_signature, sig(TOKEN, q.timestamp, q.nonce, enc));
    const { xml } = decryptIndependently(enc, AES_KEY);
    assert.equal(field(body, 'MsgID'), rawId(r.text));
    for (const f of ['MsgID', 'Status', 'TotalCount', 'FilterCount', 'SentCount', 'ErrorCount']) assert.equal(field(xml, f), field(body, f));
    assert.equal(field(xml, 'TotalCount'), '20');
    assert.equal(field(xml, 'SentCount'), '10');
    assert.equal(field(xml, 'ErrorCount'), '10');
  }));

test('retries: 500 answers give 1 + 3 attempts, then failed; the same event each time', () =>
  withSim({ callbackMode: 'safe' }, async (sim, token) => {
    answer = () => ({ status: 500, body: 'oops' });
    await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, text: { content: 'r' }, msgtype: 'text' } });
    await waitFor(() => sim.state.stats().callbacksFailed === 1);
    assert.equal(received.length, 4);
    const xmls = received.map((r) => decryptIndependently(field(r.body, 'Encrypt'), AES_KEY).xml);
    assert.ok(xmls.every((x) => x === xmls[0]), 'retries repeat the same event');
    const cb = (await ctl(sim, 'GET', 'callbacks')).callbacks[0];
    assert.equal(cb.state, 'failed');
    assert.deepEqual(cb.attempts.map((a) => a.status), [500, 500, 500, 500]);
  }));

test('retries: no answer within the (scaled) 5 s counts as a failure; success on the 3rd attempt stops', () =>
  withSim({ callbackMode: 'plain', callbackTimeoutMs: 40_000 }, async (sim, token) => {
    answer = (_r, n) => (n < 3 ? 'hang' : { status: 200, body: '' });
    await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, text: { content: 't' }, msgtype: 'text' } });
    await waitFor(() => sim.state.stats().callbacksDelivered === 1);
    const cb = (await ctl(sim, 'GET', 'callbacks')).callbacks[0];
    assert.equal(cb.attempts.length, 3);
    assert.match(cb.attempts[0].error, /no answer within 400 ms/);
    assert.equal(cb.attempts[2].status, 200);
    await sleep(100);
    assert.equal(received.length, 3);
  }));

test('flush pushes at once; pending callbacks visible before; no callback without a URL', () =>
  withSim({ callbackMode: 'plain', callbackDelayMs: 3_600_000 }, async (sim, token) => {
    await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, text: { content: 'f' }, msgtype: 'text' } });
    assert.equal((await ctl(sim, 'GET', 'stats')).callbacksPending, 1);
    assert.equal(received.length, 0);
    const f = await ctl(sim, 'POST', 'callbacks/flush');
    assert.equal(f.callbacks[0].state, 'delivered');
    assert.equal(received.length, 1);
    await ctl(sim, 'POST', 'config', { callbackUrl: null });
    await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, text: { content: 'g' }, msgtype: 'text' } });
    assert.equal((await ctl(sim, 'GET', 'callbacks')).callbacks.length, 1);
  }));

test('failed job pushes its Status with zero counts', () =>
  withSim({ callbackMode: 'plain' }, async (sim, token) => {
    await ctl(sim, 'POST', 'faults', { kind: 'job_status', status: 'err(10001)' });
    await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, text: { content: 'ad' }, msgtype: 'text' } });
    await ctl(sim, 'POST', 'callbacks/flush');
    assert.equal(field(received[0].body, 'Status'), 'err(10001)');
    assert.equal(field(received[0].body, 'SentCount'), '0');
  }));

test('verify-url: GET with signature and echostr', () =>
  withSim({}, async (sim) => {
    answer = (rec) => {
      const q = rec.query;
      const ok = rec.method === 'GET' && q.signature === sig(TOKEN, q.timestamp, q.nonce);
      return { status: 200, body: ok ? q.echostr : 'bad' };
    };
    const v = await ctl(sim, 'POST', 'callbacks/verify-url');
    assert.equal(v.ok, true);
    answer = () => ({ status: 200, body: 'nope' });
    assert.equal((await ctl(sim, 'POST', 'callbacks/verify-url')).ok, false);
  }));

test('reprint judged, send_ignore_reprint 1: CopyrightCheckResult items like seed 002, CheckState 2', () =>
  withSim({ callbackMode: 'plain' }, async (sim, token) => {
    const news = (await api(sim, 'cgi-bin/media/uploadnews', { token, body: { articles: [1, 2].map((i) => ({ thumb_media_id: 'sim-thumb-media-id-0001', title: 't' + i, content: 'c' })) } })).json.media_id;
    await ctl(sim, 'POST', 'faults', { kind: 'reprint' });
    await api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, mpnews: { media_id: news }, msgtype: 'mpnews', send_ignore_reprint: 1 } });
    await ctl(sim, 'POST', 'callbacks/flush');
    const xml = received[0].body;
    const cr = /<CopyrightCheckResult>([\s\S]*)<\/CopyrightCheckResult>/.exec(xml)[1];
    assert.equal(field(cr, 'Count'), '2');
    assert.equal(field(cr, 'CheckState'), '2');
    const items = [...cr.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => m[1]);
    assert.equal(items.length, 2);
    for (const [i, it] of items.entries()) {
      assert.equal(field(it, 'ArticleIdx'), String(i + 1));
      for (const f of ['UserDeclareState', 'AuditState', 'OriginalArticleType', 'CanReprint', 'NeedReplaceContent', 'NeedShowReprintSource']) {
        assert.match(field(it, f), /^\d+$/, f);
      }
      assert.ok(field(it, 'OriginalArticleUrl'));
    }
    assert.equal(field(xml, 'Status'), 'send success');
  }));
