import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSim, api, ctl, getToken, rawId, openids } from '../testlib/helpers.mjs';

let sim;
let token;
before(async () => {
  sim = await startSim({ rateLimitPerMinute: 0 });
});
after(() => sim.close());
beforeEach(async () => {
  await ctl(sim, 'POST', 'reset');
  token = await getToken(sim);
});

const SEND = 'cgi-bin/message/mass/send';
const body = (cm) => ({ touser: openids(3), text: { content: 'x' }, msgtype: 'text', ...(cm ? { clientmsgid: cm } : {}) });
const send = (b = body()) => api(sim, SEND, { token, body: b });
const fault = (f) => ctl(sim, 'POST', 'faults', f);

test('delay: the answer comes late but the call is carried out', async () => {
  await fault({ path: '/' + SEND, kind: 'delay', ms: 300 });
  const t0 = Date.now();
  const r = await send();
  assert.ok(Date.now() - t0 >= 280);
  assert.equal(r.json.errcode, 0);
  const calls = (await ctl(sim, 'GET', 'calls')).calls;
  assert.equal(calls.at(-1).fault, 'delay');
});

test('drop: connection closed without an answer, nothing recorded', async () => {
  await fault({ path: SEND, kind: 'drop' });
  await assert.rejects(send(), /fetch failed/);
  assert.equal((await ctl(sim, 'GET', 'stats')).sends, 0);
  assert.equal((await send()).json.errcode, 0); // count 1: the next call is normal
});

test('http_500 (any 5xx), count N then normal', async () => {
  await fault({ path: SEND, kind: 'http_500', count: 2 });
  await fault({ path: SEND, kind: 'http_500', status: 503 });
  assert.equal((await send()).status, 500);
  assert.equal((await send()).status, 500);
  assert.equal((await send()).status, 503);
  const ok = await send();
  assert.equal(ok.status, 200);
  assert.equal(ok.json.errcode, 0);
  assert.equal((await ctl(sim, 'GET', 'stats')).sends, 1);
});

test('errcode_-1 (system busy) and generic errcode', async () => {
  await fault({ path: SEND, kind: 'errcode_-1' });
  await fault({ path: SEND, kind: 'errcode', errcode: 40164 });
  assert.equal((await send()).json.errcode, -1);
  assert.equal((await send()).json.errcode, 40164);
  assert.equal((await send()).json.errcode, 0);
});

test('token_expired: 42001 by default, 40001 selectable, invalidate expires the real token', async () => {
  await fault({ path: SEND, kind: 'token_expired' });
  await fault({ path: SEND, kind: 'token_expired', errcode: 40001 });
  assert.equal((await send()).json.errcode, 42001);
  assert.equal((await send()).json.errcode, 40001);
  assert.equal((await send()).json.errcode, 0); // the token itself still works
  await fault({ path: SEND, kind: 'token_expired', invalidate: true });
  assert.equal((await send()).json.errcode, 42001);
  assert.equal((await send()).json.errcode, 42001);
  token = await getToken(sim); // stable_token hands out a fresh one after expiry
  assert.equal((await send()).json.errcode, 0);
});

test('quota_45009', async () => {
  await fault({ path: SEND, kind: 'quota_45009' });
  assert.equal((await send()).json.errcode, 45009);
  assert.equal((await ctl(sim, 'GET', 'stats')).sends, 0);
});

test('lose_reply: the send happens, the reply is lost; the clientmsgid retry gets 45066 then 45065 with the msg_id', async () => {
  await fault({ path: SEND, kind: 'lose_reply' });
  await assert.rejects(send(body('batch-7')), /fetch failed/);
  let s = await ctl(sim, 'GET', 'stats');
  assert.equal(s.sends, 1);
  assert.equal(s.deliveries, 3);
  const calls = (await ctl(sim, 'GET', 'calls?path=' + SEND)).calls;
  const lost = calls.at(-1);
  assert.equal(lost.outcome, 'lost_reply');
  const id = rawId(lost.reply);
  assert.ok(id);
  assert.equal((await send(body('batch-7'))).json.errcode, 45066);
  await ctl(sim, 'POST', 'clock', { advanceMs: 60_000 });
  const again = await send(body('batch-7'));
  assert.equal(again.json.errcode, 45065);
  assert.equal(rawId(again.text), id);
  s = await ctl(sim, 'GET', 'stats');
  assert.equal(s.deliveries, 3);
  assert.equal(s.duplicateDeliveries, 0);
});

test('lose_reply without clientmsgid: a naive retry delivers twice and is counted', async () => {
  await fault({ path: SEND, kind: 'lose_reply' });
  await assert.rejects(send(), /fetch failed/);
  assert.equal((await send()).json.errcode, 0);
  assert.equal((await ctl(sim, 'GET', 'stats')).duplicateDeliveries, 3);
});

test('path matching: "*" and prefix, skip, and faults on token endpoints', async () => {
  await fault({ path: 'cgi-bin/message/mass/*', kind: 'errcode_-1', skip: 1 });
  assert.equal((await api(sim, 'cgi-bin/message/mass/speed/get', { token, body: {} })).json.speed, 0);
  assert.equal((await api(sim, 'cgi-bin/message/mass/speed/get', { token, body: {} })).json.errcode, -1);
  await fault({ path: 'cgi-bin/stable_token', kind: 'http_500', status: 502 });
  const r = await api(sim, 'cgi-bin/stable_token', { body: { grant_type: 'client_credential', appid: 'x', secret: 'y' } });
  assert.equal(r.status, 502);
  await fault({ kind: 'errcode_-1' }); // default path "*"
  assert.equal((await send()).json.errcode, -1);
  const f = await ctl(sim, 'GET', 'faults');
  assert.ok(f.faults.every((x) => x.remaining === 0));
  await assert.rejects(fault({ kind: 'nope' }), /kind must be/);
  await assert.rejects(fault({ kind: 'http_500', status: 404 }), /5xx/);
  await fault({ kind: 'errcode_-1', count: 5 });
  await ctl(sim, 'DELETE', 'faults');
  assert.equal((await send()).json.errcode, 0);
});

test('job faults: job_status makes the accepted send fail; reprint stops mpnews unless send_ignore_reprint', async () => {
  await fault({ path: SEND, kind: 'job_status', status: 'err(20001)' });
  const r = await send();
  assert.equal(r.json.errcode, 0);
  await ctl(sim, 'POST', 'callbacks/flush');
  assert.equal((await api(sim, 'cgi-bin/message/mass/get', { token, body: { msg_id: rawId(r.text) } })).json.msg_status, 'SEND_FAIL');
  assert.equal((await ctl(sim, 'GET', 'stats')).deliveries, 0);

  const news = (await api(sim, 'cgi-bin/media/uploadnews', { token, body: { articles: [{ thumb_media_id: 'sim-thumb-media-id-0001', title: 't', content: 'c' }] } })).json.media_id;
  const mp = (ignore) => api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: false, tag_id: 2 }, mpnews: { media_id: news }, msgtype: 'mpnews', send_ignore_reprint: ignore } });
  await fault({ kind: 'reprint', count: 2 });
  const stopped = await mp(0);
  const ignored = await mp(1);
  const jobs = (await ctl(sim, 'GET', 'jobs')).jobs;
  const js = jobs.find((j) => j.msgId === rawId(stopped.text));
  const ji = jobs.find((j) => j.msgId === rawId(ignored.text));
  assert.equal(js.status, 'err(30003)');
  assert.equal(ji.status, 'send success');
  assert.equal(ji.counts.sent, 10);
});

test('never crashes: garbage bodies, huge body 413, bad URLs, wrong content types', async () => {
  const small = await startSim({ maxBodyBytes: 1024 });
  try {
    const t = await getToken(small);
    const r = await api(small, SEND, { token: t, body: 'x'.repeat(3000) });
    assert.equal(r.status, 413);
    assert.equal(r.json.errcode, -1);
    // far over the cap the connection is cut instead of draining the upload
    await assert.rejects(api(small, SEND, { token: t, body: 'x'.repeat(100_000) }), /fetch failed/);
    for (const b of ['{', '{"touser":[1,2]}', '\u0000\u0001', '{"a":' + '['.repeat(500), '{"__proto__":{"x":1}}', '"str"', '123456789012345678901234567890']) {
      const x = await api(small, SEND, { token: t, body: b });
      assert.equal(x.status, 200);
      assert.equal(typeof x.json.errcode, 'number');
      assert.notEqual(x.json.errcode, 0);
    }
    // a raw request with a malformed request line
    await new Promise((resolve) => {
      const sock = new URL(small.url);
      const req = http.request({ host: sock.hostname, port: sock.port, path: '/%%%', method: 'POST' }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', resolve);
      req.end('{}');
    });
    const st = await ctl(small, 'GET', 'stats');
    assert.equal(st.unexpectedErrors, 0);
    await assert.rejects(ctl(small, 'POST', 'faults', 'not json'), /400/);
    await assert.rejects(ctl(small, 'GET', 'nothing'), /404/);
  } finally {
    await small.close();
  }
});

test('an unexpected exception becomes errcode -1 and a log line, and the server keeps serving', async () => {
  const s = sim.state;
  const orig = s.hSpeedGet;
  s.hSpeedGet = () => {
    throw new TypeError('boom');
  };
  try {
    const r = await api(sim, 'cgi-bin/message/mass/speed/get', { token, body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.json.errcode, -1);
  } finally {
    s.hSpeedGet = orig;
  }
  assert.ok(sim.logs.some((l) => l.includes('boom')));
  assert.equal((await ctl(sim, 'GET', 'stats')).unexpectedErrors, 1);
  assert.equal((await api(sim, 'cgi-bin/message/mass/speed/get', { token, body: {} })).json.speed, 0);
});
