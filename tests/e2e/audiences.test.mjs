// End-to-end: audiences uploaded in parts and sealed, then one job to them — exactly
// ⌈N/10,000⌉ batches, each OpenID delivered once — and the quota shared across jobs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openids, ADMIN_TOKEN } from './harness.mjs';
import { uploadAudience } from '../../npm/js/audience.js';
import { openidFor } from '../wechat-sim/src/server.mjs';

let stack;
// Every OpenID a follower, so the simulator delivers (and counts) each one.
before(async () => { stack = await startStack({ strictFollowers: false }); });
after(async () => { await stack?.stop(); });

const text = (content) => ({ msgtype: 'text', text: { content } });
const FREE = 50;

async function part(audienceId, n, list, { asText = true } = {}) {
  return stack.api('POST', `/api/audiences/${audienceId}/openids?part=${n}`, asText ? list.join('\n') : list, { 'content-type': asText ? 'text/plain; charset=utf-8' : 'application/json' });
}

test('parts: invalid OpenIDs at their position in the whole audience, a retried part counts once, another body under its number is 422, order enforced; sealing drops duplicates across parts', async () => {
  const created = await stack.api('POST', '/api/audiences', {});
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const a = openids(5, 'parts-a');
  const b = [...openids(3, 'parts-b'), 'not-an-openid', a[0], a[1]]; // positions 5..10
  const p1 = await part(id, 1, a);
  assert.equal(p1.status, 201, p1.text);
  assert.deepEqual([p1.json.received, p1.json.valid, p1.json.invalid, p1.json.firstPosition], [5, 5, 0, 0]);
  const early = await part(id, 3, b);
  assert.equal(early.status, 409, early.text);
  assert.equal(early.json.error.code, 'part_out_of_order');
  assert.equal(early.json.error.expectedPart, 2);
  const p2 = await part(id, 2, b, { asText: false });
  assert.equal(p2.status, 201, p2.text);
  assert.equal(p2.json.firstPosition, 5);
  assert.equal(p2.json.invalid, 1);
  assert.deepEqual(p2.json.invalidShown.map((x) => x.position), [8]);
  // The same part again (a retry after a lost answer): the same answer, nothing counted twice.
  const again = await part(id, 2, b, { asText: false });
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, p2.json);
  const other = await part(id, 2, openids(6, 'parts-c'));
  assert.equal(other.status, 422, other.text);
  assert.equal(other.json.error.code, 'part_reused');
  const seal = await stack.api('POST', `/api/audiences/${id}/seal`);
  assert.equal(seal.status, 200, seal.text);
  assert.deepEqual([seal.json.received, seal.json.invalid, seal.json.valid, seal.json.duplicates, seal.json.batches], [11, 1, 8, 2, 1]);
  assert.ok(seal.counters.d1Queries <= FREE, JSON.stringify(seal.counters));
  const sealedAgain = await stack.api('POST', `/api/audiences/${id}/seal`);
  assert.equal(sealedAgain.status, 200);
  assert.equal(sealedAgain.json.valid, 8);
  assert.equal((await part(id, 3, openids(2, 'late'))).status, 409);
  const got = await stack.api('GET', `/api/audiences/${id}`);
  assert.equal(got.json.state, 'sealed');
  assert.equal(got.json.parts, 2);
  const del = await stack.api('DELETE', `/api/audiences/${id}`);
  assert.equal(del.status, 204);
  assert.equal((await stack.api('GET', `/api/audiences/${id}`)).status, 404);
  const bad = await stack.api('POST', `/api/audiences/${id}/openids`, 'x', { 'content-type': 'text/plain' });
  assert.equal(bad.status, 400);
});

test('120,000 OpenIDs uploaded in 4 parts by the npm helper → 12 batches of 10,000 → finished, every OpenID delivered once, each invocation within the Free plan', async () => {
  const all = Array.from({ length: 120_000 }, (_, i) => openidFor(`scale-${i}`));
  const progress = [];
  const counters = [];
  // The worker's answers carry its counters; record them through the helper's own fetch.
  const countingFetch = async (url, init) => {
    const r = await fetch(url, init);
    counters.push({ url: String(url), d1Queries: Number(r.headers.get('x-wxmass-d1-queries')) });
    return r;
  };
  const seal = await uploadAudience({
    url: stack.workerUrl, adminToken: ADMIN_TOKEN, openIds: all, partSize: 30_000,
    fetch: countingFetch, onProgress: (p) => progress.push(p),
  });
  assert.deepEqual([seal.valid, seal.duplicates, seal.batches], [120_000, 0, 12]);
  const id = seal.id;
  assert.deepEqual(progress.filter((p) => p.phase === 'upload').map((p) => p.sentOpenIds), [30_000, 60_000, 90_000, 120_000]);
  assert.equal(progress.at(-1).phase, 'done');
  assert.equal(counters.filter((c) => c.url.includes('/openids?part=')).length, 4);
  assert.ok(counters.every((c) => c.d1Queries <= FREE), JSON.stringify(counters));

  const job = await stack.api('POST', '/api/jobs', { message: text('to the audience'), audience: { audienceId: id } });
  assert.equal(job.status, 201, job.text);
  assert.equal(job.json.batches.length, 12);
  assert.ok(job.json.batches.every((b) => b.recipients === 10_000), JSON.stringify(job.json.batches.map((b) => b.recipients)));
  assert.equal(new Set(job.json.batches.map((b) => b.clientMsgId)).size, 12);
  assert.ok(job.counters.d1Queries <= FREE, JSON.stringify(job.counters));
  assert.equal((await stack.api('DELETE', `/api/audiences/${id}`)).status, 409, 'in use by a job that is sending');

  let state;
  for (let run = 0; run < 10; run++) {
    await stack.cron();
    const report = await stack.lastCron();
    assert.equal(report.error, null, JSON.stringify(report));
    assert.ok(report.d1Queries <= FREE && report.subrequests <= FREE, JSON.stringify(report));
    await stack.simCtl('POST', 'callbacks/flush');
    state = (await stack.api('GET', `/api/jobs/${job.json.id}`)).json;
    if (state.state === 'finished') break;
    await stack.advance(61_000);
  }
  assert.equal(state.state, 'finished', JSON.stringify(state.counts));
  assert.equal(state.results.sentCount, 120_000);
  const stats = await stack.simCtl('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0);
  const sends = (await stack.simCtl('GET', 'jobs')).jobs.filter((j) => job.json.batches.some((b) => b.clientMsgId === j.clientmsgid));
  assert.equal(sends.length, 12);
  const delivered = (await stack.simCtl('GET', 'deliveries')).deliveries ?? {};
  const mine = all.filter((o) => (delivered[o] ?? []).length > 0);
  assert.equal(mine.length, 120_000);
});

test('the quota is shared across jobs: after 95 sends queued today, a 12-batch job is planned as batches 1–5 today and 6–12 from the next China day, and the cron holds to it', async () => {
  await stack.advance(2 * 86_400_000); // a China day of its own
  const created = await stack.api('POST', '/api/audiences', {});
  const id = created.json.id;
  const all = Array.from({ length: 120_000 }, (_, i) => openidFor(`quota-${i}`));
  for (let n = 0; n < 4; n++) await part(id, n + 1, all.slice(n * 30_000, (n + 1) * 30_000));
  assert.equal((await stack.api('POST', `/api/audiences/${id}/seal`)).json.batches, 12);
  // 95 sends to a tag, created first: they take 95 of the account's 100 mass sends today.
  for (let i = 0; i < 95; i++) {
    const r = await stack.api('POST', '/api/jobs', { message: text(`tag send ${i}`), audience: { tagId: 2 } });
    assert.equal(r.status, 201, r.text);
  }
  const big = await stack.api('POST', '/api/jobs', { message: text('after the others'), audience: { audienceId: id } });
  assert.equal(big.status, 201, big.text);
  const s = big.json.summary;
  const nextDay = chinaDayStart(stack.nowSec() * 1000) + 86_400_000;
  assert.deepEqual(s.schedule.map((d) => [d.firstBatch, d.lastBatch]), [[1, 5], [6, 12]], JSON.stringify(s));
  assert.equal(s.schedule[1].dayStartsAt, nextDay);
  assert.equal(s.daysNeeded, 2);
  assert.ok(s.notes.some((n) => /batches 6.12/i.test(n) && /China time/.test(n)), JSON.stringify(s.notes));

  // The cron sends the 95 and batches 1–5, and holds 6–12 for the next China day.
  for (let run = 0; run < 12; run++) {
    await stack.cron();
    await stack.advance(61_000);
  }
  let job = (await stack.api('GET', `/api/jobs/${big.json.id}`)).json;
  const waiting = job.batches.filter((b) => b.state === 'pending');
  assert.equal(waiting.length, 7, JSON.stringify(job.counts));
  assert.ok(waiting.every((b) => b.nextAttemptAt >= nextDay), JSON.stringify(waiting.map((b) => b.nextAttemptAt)));
  const calls = (await stack.simCtl('GET', 'calls')).calls.filter((c) => c.errcode === 45009);
  assert.equal(calls.length, 0, 'never ran into WeChat\'s daily limit');
  await stack.advance(nextDay - stack.nowSec() * 1000 + 1000);
  for (let run = 0; run < 4 && job.state !== 'finished'; run++) {
    await stack.cron();
    await stack.simCtl('POST', 'callbacks/flush');
    job = (await stack.api('GET', `/api/jobs/${big.json.id}`)).json;
    await stack.advance(61_000);
  }
  assert.equal(job.state, 'finished', JSON.stringify(job.counts));
  assert.equal((await stack.simCtl('GET', 'stats')).duplicateDeliveries, 0);
});

/** Midnight China time (UTC+8) of the day holding `ms`. */
function chinaDayStart(ms) {
  const day = 86_400_000;
  const offset = 8 * 3_600_000;
  return Math.floor((ms + offset) / day) * day - offset;
}
