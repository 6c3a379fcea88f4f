import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, api, ctl, getToken, rawId, openids } from '../testlib/helpers.mjs';

const M = 'cgi-bin/message/mass/';
const text = (content = 'x') => ({ text: { content }, msgtype: 'text' });
const tag2 = { filter: { is_to_all: false, tag_id: 2 } };
const toAll = { filter: { is_to_all: true } };

async function withSim(opts, fn) {
  const sim = await startSim(opts);
  try {
    const token = await getToken(sim);
    await fn(sim, (p, body) => api(sim, M + p, { token, body }));
  } finally {
    await sim.close();
  }
}

test('subscription account: 1 sendall a China day (45028), send by OpenID 48001, next day allowed', () =>
  withSim({ accountKind: 'subscription' }, async (sim, call) => {
    await ctl(sim, 'POST', 'clock', { at: '2025-03-10T23:59:00+08:00' });
    assert.equal((await call('sendall', { ...tag2, ...text() })).json.errcode, 0);
    assert.equal((await call('sendall', { ...toAll, ...text('b') })).json.errcode, 45028);
    assert.equal((await call('send', { touser: openids(2), ...text() })).json.errcode, 48001);
    // 23:59 -> 00:01 China time is a new day (it is still the same UTC day: 15:59 -> 16:01)
    await ctl(sim, 'POST', 'clock', { advanceMs: 120_000 });
    assert.equal((await call('sendall', { ...toAll, ...text('c') })).json.errcode, 0);
    // a web-console send that day uses the quota too
    await ctl(sim, 'POST', 'clock', { advanceMs: 86_400_000 });
    await ctl(sim, 'POST', 'quotas', { consoleSends: 1 });
    assert.equal((await call('sendall', { ...tag2, ...text('d') })).json.errcode, 45028);
    await ctl(sim, 'POST', 'quotas', { reset: true });
    assert.equal((await call('sendall', { ...tag2, ...text('e') })).json.errcode, 0);
  }));

test('service account: 100 API mass sends a day -> 45009', () =>
  withSim({ rateLimitPerMinute: 0, tokenLifetimeSec: 3 * 86400 }, async (sim, call) => {
    for (let i = 0; i < 100; i++) {
      const body = i % 2 ? { touser: openids(2), ...text('n' + i) } : { ...tag2, ...text('n' + i) };
      assert.equal((await call(i % 2 ? 'send' : 'sendall', body)).json.errcode, 0, `send ${i}`);
    }
    assert.equal((await call('sendall', { ...tag2, ...text('101') })).json.errcode, 45009);
    assert.equal((await call('send', { touser: openids(2), ...text('101') })).json.errcode, 45009);
    assert.equal((await ctl(sim, 'GET', 'quotas')).apiSendsToday, 100);
    await ctl(sim, 'POST', 'clock', { advanceMs: 86_400_000 });
    assert.equal((await call('sendall', { ...tag2, ...text('next day') })).json.errcode, 0);
  }));

test('service account: is_to_all 4 a China month with web-console sends -> 45028; tag sends still allowed', () =>
  withSim({}, async (sim, call) => {
    await ctl(sim, 'POST', 'clock', { at: '2025-04-30T10:00:00+08:00' });
    await ctl(sim, 'POST', 'quotas', { consoleSends: 1 });
    for (let i = 0; i < 3; i++) assert.equal((await call('sendall', { ...toAll, ...text('all' + i) })).json.errcode, 0);
    assert.equal((await call('sendall', { ...toAll, ...text('all4') })).json.errcode, 45028);
    assert.equal((await call('sendall', { ...tag2, ...text('tag') })).json.errcode, 0);
    await ctl(sim, 'POST', 'clock', { at: '2025-05-01T00:00:01+08:00' });
    assert.equal((await call('sendall', { ...toAll, ...text('may') })).json.errcode, 0);
  }));

test('60 mass-send calls a minute -> 45011, then allowed again after the (scaled) minute', () =>
  withSim({ timeScale: 1 }, async (sim, call) => {
    for (let i = 0; i < 60; i++) assert.equal((await call('speed/get', {})).json.speed, 0);
    const r = await call('sendall', { ...tag2, ...text() });
    assert.equal(r.json.errcode, 45011);
    // uploads and tokens are not mass-send calls
    assert.equal((await getToken(sim)).length > 0, true);
    assert.equal((await ctl(sim, 'GET', 'stats')).rateLimited45011, 1);
    await ctl(sim, 'POST', 'clock', { advanceMs: 60_000 }); // a minute later the window is empty
    assert.equal((await call('speed/get', {})).json.speed, 0);
  }));

test('rate window is scaled by timeScale', () =>
  withSim({ timeScale: 0.05, rateLimitPerMinute: 5 }, async (sim, call) => {
    for (let i = 0; i < 5; i++) assert.equal((await call('speed/get', {})).json.speed, 0);
    assert.equal((await call('speed/get', {})).json.errcode, 45011);
    await ctl(sim, 'POST', 'clock', { advanceMs: 3000 }); // 60 s * 0.05
    assert.equal((await call('speed/get', {})).json.speed, 0);
  }));

test('each follower receives at most 4 mass messages a month: FilterCount drops, next month resets', () =>
  withSim({ rateLimitPerMinute: 0 }, async (sim, call) => {
    await ctl(sim, 'POST', 'clock', { at: '2025-06-15T12:00:00+08:00' });
    const followers = (await ctl(sim, 'GET', 'followers')).followers;
    const two = followers.slice(0, 2);
    for (let i = 0; i < 4; i++) assert.equal((await call('send', { touser: two, ...text('m' + i) })).json.errcode, 0);
    const r = await call('sendall', { ...toAll, ...text('fifth') });
    await ctl(sim, 'POST', 'callbacks/flush');
    const job = (await ctl(sim, 'GET', 'jobs')).jobs.find((j) => j.msgId === rawId(r.text));
    assert.deepEqual(job.counts, { total: 20, filter: 18, sent: 18, error: 0 });
    const d = (await ctl(sim, 'GET', 'deliveries?openid=' + two[0])).deliveries[two[0]];
    assert.equal(d.length, 4);
    await ctl(sim, 'POST', 'clock', { at: '2025-07-01T00:00:00+08:00' });
    const r2 = await call('send', { touser: two, ...text('july') });
    const job2 = (await ctl(sim, 'GET', 'jobs')).jobs.find((j) => j.msgId === rawId(r2.text));
    assert.deepEqual(job2.counts, { total: 2, filter: 2, sent: 2, error: 0 });
  }));

test('errorFraction turns part of FilterCount into ErrorCount (not delivered)', () =>
  withSim({ errorFraction: 0.25 }, async (sim, call) => {
    const r = await call('sendall', { ...toAll, ...text() });
    const job = (await ctl(sim, 'GET', 'jobs')).jobs.find((j) => j.msgId === rawId(r.text));
    assert.deepEqual(job.counts, { total: 20, filter: 20, sent: 15, error: 5 });
    assert.equal((await ctl(sim, 'GET', 'stats')).deliveries, 15);
  }));

test('clientmsgid: retry within a minute 45066, later 45065 with the same exact msg_id; no second delivery', () =>
  withSim({}, async (sim, call) => {
    const body = { touser: openids(3), ...text(), clientmsgid: 'job-42-batch-0' };
    const first = await call('send', body);
    assert.equal(first.json.errcode, 0);
    const id = rawId(first.text);
    const again = await call('send', body);
    assert.equal(again.json.errcode, 45066);
    assert.equal(rawId(again.text), null);
    await ctl(sim, 'POST', 'clock', { advanceMs: 61_000 });
    const later = await call('send', body);
    assert.equal(later.json.errcode, 45065);
    assert.equal(later.json.errmsg, 'clientmsgid exist');
    assert.equal(rawId(later.text), id);
    // same id on sendall is the same job as well (per account, not per endpoint)
    await ctl(sim, 'POST', 'clock', { advanceMs: 61_000 });
    const other = await call('sendall', { ...tag2, ...text('other'), clientmsgid: 'job-42-batch-0' });
    assert.equal(other.json.errcode, 45065);
    assert.equal(rawId(other.text), id);
    const s = await ctl(sim, 'GET', 'stats');
    assert.equal(s.sends, 1);
    assert.equal(s.deliveries, 3);
    assert.equal(s.duplicateDeliveries, 0);
    assert.equal(s.clientmsgidExist45065, 2);
    assert.equal(s.clientmsgidTooFast45066, 1);
  }));

test('clientmsgid 45066 window: measured from the previous attempt, scaled', () =>
  withSim({ timeScale: 0.5 }, async (sim, call) => {
    const body = { ...tag2, ...text(), clientmsgid: 'c1' };
    assert.equal((await call('sendall', body)).json.errcode, 0);
    await ctl(sim, 'POST', 'clock', { advanceMs: 20_000 });
    assert.equal((await call('sendall', body)).json.errcode, 45066); // window is 30 s
    await ctl(sim, 'POST', 'clock', { advanceMs: 20_000 });
    assert.equal((await call('sendall', body)).json.errcode, 45066); // 40 s after the send, 20 s after the retry
    await ctl(sim, 'POST', 'clock', { advanceMs: 31_000 });
    assert.equal((await call('sendall', body)).json.errcode, 45065);
  }));

test('duplicateDeliveries: same body without clientmsgid twice counts each recipient once', () =>
  withSim({}, async (sim, call) => {
    const body = { touser: openids(5), ...text('dup') };
    assert.equal((await call('send', body)).json.errcode, 0);
    assert.equal((await ctl(sim, 'GET', 'stats')).duplicateDeliveries, 0);
    // a different audience with the same message is not a duplicate by definition ...
    assert.equal((await call('send', { touser: openids(5).slice(0, 4), ...text('dup') })).json.errcode, 0);
    let s = await ctl(sim, 'GET', 'stats');
    assert.equal(s.duplicateDeliveries, 0);
    assert.equal(s.sameContentRepeats, 4); // ... but shows up here
    // the identical body again is
    assert.equal((await call('send', { ...body, touser: [...body.touser].reverse() })).json.errcode, 0);
    s = await ctl(sim, 'GET', 'stats');
    assert.equal(s.duplicateDeliveries, 5);
    assert.equal(s.duplicates[0].msgIds.length, 2);
  }));

test('duplicateDeliveries: a forgotten clientmsgid (clientmsgidTtlMs) re-sent counts as duplicate', () =>
  withSim({ clientmsgidTtlMs: 1000 }, async (sim, call) => {
    const body = { touser: openids(2), ...text(), clientmsgid: 'ttl-1' };
    assert.equal((await call('send', body)).json.errcode, 0);
    await ctl(sim, 'POST', 'clock', { advanceMs: 2000 });
    assert.equal((await call('send', body)).json.errcode, 0);
    const s = await ctl(sim, 'GET', 'stats');
    assert.equal(s.duplicateDeliveries, 2);
    const d = await ctl(sim, 'GET', 'deliveries');
    assert.equal(d.duplicateDeliveries, 2);
    assert.equal(d.deliveries[openids(2)[0]][0].clientmsgid, 'ttl-1');
  }));

test('preview by towxname: 100 a day -> 45009', () =>
  withSim({ rateLimitPerMinute: 0 }, async (sim, call) => {
    for (let i = 0; i < 100; i++) assert.equal((await call('preview', { towxname: 'boss', ...text('p' + i) })).json.errcode, 0);
    assert.equal((await call('preview', { towxname: 'boss', ...text('p') })).json.errcode, 45009);
    // by OpenID is not limited
    assert.equal((await call('preview', { touser: openids(1)[0], ...text('p') })).json.errcode, 0);
    assert.equal((await ctl(sim, 'GET', 'quotas')).towxnamePreviewsToday, 100);
  }));
