// The fetch client against the WeChat simulator (tests/wechat-sim, started in-process on port 0):
// token caching and single refresh, refresh-and-retry, pacing, and a planned send that survives an
// expired token and a lost reply without delivering anything twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, planSend, ApiError, WxmassError } from 'wxmass';

const repo = process.env.WXMASS_REPO;
assert.ok(repo, 'WXMASS_REPO must point at the repository (scripts/test-npm sets it)');
const { createSimulator } = await import(`${repo}/tests/wechat-sim/src/server.mjs`);

// WeChat's minute is 60 ms here: the simulator scales its windows by timeScale, and the client's
// clock runs 1/timeScale times faster than real time, so both agree on when a minute has passed.
const SCALE = 0.001;
let sim;
let cfg;

before(async () => {
  sim = await createSimulator({ timeScale: SCALE, log: () => {} });
  cfg = await control('GET', 'config');
});
after(() => sim?.close());

async function control(method, path, body) {
  const res = await fetch(`${sim.url}/__sim/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${method} /__sim/${path}`);
  return res.json();
}

function fastClock() {
  const base = Date.now();
  return {
    now: () => base + (Date.now() - base) / SCALE,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms) * SCALE)),
  };
}

const client = (extra = {}) =>
  createClient({ appId: cfg.appId, appSecret: cfg.appSecret, apiBase: sim.url, ...fastClock(), ...extra });

const openids = (n, seed) => Array.from({ length: n }, (_, i) => `o${seed}${String(i).padStart(27 - seed.length, '0')}`);

test('concurrent callers share one stable_token fetch, then the cached token', async () => {
  await control('POST', 'reset');
  const c = client();
  const replies = await Promise.all(Array.from({ length: 10 }, () => c.call('speed/get', {})));
  for (const r of replies) assert.equal(typeof r.speed, 'number');
  assert.equal(c.stats.tokenFetches, 1);
  const tokenCalls = (await control('GET', 'calls?path=/cgi-bin/stable_token')).calls;
  assert.equal(tokenCalls.length, 1);
  await c.call('speed/set', { speed: 2 });
  assert.equal(c.stats.tokenFetches, 1);
  assert.deepEqual(await c.call('speed/get', {}), { speed: 2, realspeed: 45 });
});

test('a token error refreshes the token once and retries the call', async () => {
  await control('POST', 'reset');
  const c = client();
  await c.token();
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/speed/get', kind: 'token_expired', invalidate: true });
  const r = await c.call('speed/get', {});
  assert.equal(typeof r.realspeed, 'number');
  assert.equal(c.stats.tokenFetches, 2);
  const calls = (await control('GET', 'calls?path=/cgi-bin/message/mass/speed/get')).calls;
  assert.deepEqual(calls.map((x) => x.errcode ?? 0), [42001, 0]);
  assert.notEqual(calls[0].query.access_token, calls[1].query.access_token);
});

test('API errors reach the caller as ApiError with core class; bad input never reaches the network', async () => {
  await control('POST', 'reset');
  const c = client();
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/get', kind: 'quota_45009' });
  await assert.rejects(c.call('get', { msgId: '1' }), (e) => e instanceof ApiError && e.code === 'wechat_rejected' && e.errcode === 45009 && e.class === 'quota');
  const before = (await control('GET', 'stats')).calls;
  await assert.rejects(c.call('send', { toUser: ['x'], msgType: 'text', text: { content: 'x' } }), (e) => e instanceof WxmassError && e.code === 'validation');
  assert.equal((await control('GET', 'stats')).calls, before);
});

test('a transient error (-1) is retried after core backoff; a fatal one is not', async () => {
  await control('POST', 'reset');
  const waits = [];
  const c = client({ sleep: async (ms) => void waits.push(ms) });
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/speed/get', kind: 'errcode_-1', count: 2 });
  assert.equal(typeof (await c.call('speed/get', {})).speed, 'number');
  assert.equal(waits.length, 2);
  assert.ok(waits[0] >= 1000 && waits[1] >= waits[0] / 2, waits.join());
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/speed/get', kind: 'errcode', errcode: 48001 });
  await assert.rejects(c.call('speed/get', {}), (e) => e instanceof ApiError && e.class === 'fatal');
  assert.equal(waits.length, 2);
});

test('tokenProvider replaces stable_token', async () => {
  await control('POST', 'reset');
  const issued = await (await fetch(`${sim.url}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: cfg.appId, secret: cfg.appSecret }),
  })).json();
  let asked = 0;
  const c = createClient({ apiBase: sim.url, tokenProvider: async () => (asked++, { accessToken: issued.access_token, expiresIn: 7200 }), ...fastClock() });
  await c.call('speed/get', {});
  await c.call('speed/get', {});
  assert.equal(asked, 1);
});

test('calls are paced by core: the 61st mass call in a minute waits for the window', async () => {
  await control('POST', 'reset');
  let virtual = Date.now();
  const waits = [];
  const c = client({
    now: () => virtual,
    sleep: async (ms) => {
      waits.push(ms);
      virtual += ms;
      // The simulator's minute must pass too, whatever the real time the calls took.
      await control('POST', 'clock', { advanceMs: ms * SCALE });
    },
  });
  for (let i = 0; i < 61; i++) await c.call('speed/get', {});
  assert.equal(waits.length, 1);
  assert.ok(waits[0] > 59_000 && waits[0] <= 60_000, String(waits[0]));
});

test('send to 25,001 OpenIDs: 3 calls, 3 clientmsgids, a token expiry refreshed once, a lost reply retried without a second delivery', async () => {
  await control('POST', 'reset');
  const sent = []; // every mass/send body as the client sent it (the simulator's log clips them)
  const c = client({
    fetch: (url, init) => {
      if (String(url).includes('/message/mass/send?')) sent.push(JSON.parse(init.body).clientmsgid);
      return fetch(url, init);
    },
  });
  const plan = planSend({
    jobId: 'npm-client-test',
    message: { msgType: 'text', text: { content: '群发测试' } },
    audience: { openIds: openids(25_001, 'npmclient') },
  });
  assert.equal(plan.batchCount, 3);
  const seen = [];
  const result = await c.send(plan, {
    onBatch: async (b) => {
      seen.push(b.index);
      // after batch 0: the token dies before batch 1; after batch 1: batch 2's reply is lost
      if (b.index === 0) await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'token_expired', invalidate: true });
      if (b.index === 1) await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'lose_reply' });
    },
  });
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.deepEqual(seen, [0, 1, 2]);
  assert.equal(c.stats.tokenFetches, 2, 'one initial token, one refresh');

  const calls = (await control('GET', 'calls?path=/cgi-bin/message/mass/send')).calls;
  const ids = sent;
  assert.equal(ids.length, calls.length);
  assert.deepEqual(calls.map((x) => x.outcome), ['replied', 'replied', 'replied', 'lost_reply', 'replied']);
  assert.deepEqual(calls.map((x) => x.errcode ?? 0), [0, 42001, 0, 0, 45065]);
  assert.equal(new Set(ids).size, 3, 'three distinct clientmsgids');
  assert.deepEqual(ids, [ids[0], ids[1], ids[1], ids[3], ids[3]], 'every retry reuses its batch clientmsgid');
  assert.deepEqual(result.batches.map((b) => b.clientMsgId), [ids[0], ids[1], ids[3]]);

  // batch 2's msg_id is the one the lost reply carried (45065 returned it), as a string
  const lost = calls[3];
  const lostMsgId = /"msg_id":(\d+)/.exec(lost.reply)?.[1]; // the reply text, never a JS number
  for (const b of result.batches) assert.equal(typeof b.msgId, 'string');
  assert.equal(new Set(result.batches.map((b) => b.msgId)).size, 3);
  assert.equal(result.batches[2].msgId, lostMsgId);
  assert.ok(BigInt(result.batches[2].msgId) > 2n ** 53n);

  const stats = await control('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0);
  assert.equal(stats.sends, 3);
  assert.equal(stats.clientmsgidExist45065, 1);
});
