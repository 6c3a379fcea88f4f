// scripts/scale (run by hand, not by scripts/test): a million followers by OpenID, end to end on
// this machine. Uploads 1,000,000 OpenIDs in parts with the npm helper, seals the audience,
// creates one job, fires the cron until the job finishes, and prints what it took. Bounded: at
// most MAX_RUNS cron runs, then it stops by itself.
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startStack, ADMIN_TOKEN } from './harness.mjs';
import { openidFor } from '../wechat-sim/src/server.mjs';
import { uploadAudience } from '../../npm/js/audience.js';

const N = Number(process.env.SCALE_OPENIDS ?? 1_000_000);
const PART = 100_000;
const MAX_RUNS = 60;

const sizeOf = (dir) => readdirSync(dir, { withFileTypes: true })
  .reduce((sum, e) => sum + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);

/** The highest resident memory (VmHWM, kB) of workerd processes under this stack. */
function workerdPeakRssKb() {
  let peak = 0;
  for (const pid of execFileSync('pgrep', ['-f', 'workerd']).toString().trim().split('\n')) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch { /* gone */ }
  }
  return peak;
}

const stack = await startStack({ strictFollowers: false });
try {
  console.log(`simulator ${stack.sim.url}, worker ${stack.workerUrl}; ${N.toLocaleString('en')} OpenIDs`);
  const all = Array.from({ length: N }, (_, i) => openidFor(`scale-${i}`));
  let t = Date.now();
  const seal = await uploadAudience({
    url: stack.workerUrl, adminToken: ADMIN_TOKEN, openIds: all, partSize: PART,
    onProgress: (p) => { if (p.phase === 'upload') process.stdout.write(`\rupload: ${p.sentOpenIds.toLocaleString('en')} OpenIDs`); },
  });
  const uploadMs = Date.now() - t;
  console.log(`\nupload and seal: ${(uploadMs / 1000).toFixed(1)} s; valid ${seal.valid}, duplicates ${seal.duplicates}, invalid ${seal.invalid}, batches ${seal.batches}`);
  console.log(`D1 on disk after sealing: ${(sizeOf(stack.persist) / 1e6).toFixed(1)} MB`);

  t = Date.now();
  const job = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: 'a million' } }, audience: { audienceId: seal.id } });
  if (job.status !== 201) throw new Error(job.text);
  console.log(`job ${job.json.id}: ${job.json.batches.length} batches (sizes ${[...new Set(job.json.batches.map((b) => b.recipients))].join(', ')}), created in ${Date.now() - t} ms, ${job.counters.d1Queries} D1 queries`);

  // A second job of the same million, created right after: the account's 100 mass sends of the
  // day go to the first, so core plans the second for the next China day and the cron holds it.
  const second = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: 'a million, again' } }, audience: { audienceId: seal.id } });
  if (second.status !== 201) throw new Error(second.text);
  const start2 = second.json.summary.earliestStart;
  console.log(`second job ${second.json.id}: earliest start ${start2.decision}${start2.at ? ` ${new Date(start2.at + 8 * 3600e3).toISOString().replace('T', ' ').slice(0, 16)} China time` : ''}; ${second.json.summary.notes.at(-1)}`);

  let runs = 0;
  let state = job.json;
  let maxQueries = 0;
  for (; runs < MAX_RUNS && state.state !== 'finished'; ) {
    await stack.cron();
    runs += 1;
    const report = await stack.lastCron();
    maxQueries = Math.max(maxQueries, report.d1Queries);
    if (report.error) throw new Error(`cron: ${report.error}`);
    await stack.simCtl('POST', 'callbacks/flush');
    state = (await stack.api('GET', `/api/jobs/${job.json.id}`)).json;
    process.stdout.write(`\rcron runs ${runs}: ${JSON.stringify(state.counts)}   `);
    await stack.advance(61_000);
  }
  const held = (await stack.api('GET', `/api/jobs/${second.json.id}`)).json;
  console.log(`\njob ${state.state} after ${runs} cron runs (at most ${maxQueries} D1 queries in a run); the second job meanwhile: ${JSON.stringify(held.counts)}, ${held.batches.filter((b) => b.attempts > 0).length} batches attempted`);
  if (held.batches.some((b) => b.attempts > 0)) process.exitCode = 1;
  // The next China day: the second job goes out.
  await stack.advance(start2.at - stack.nowSec() * 1000 + 1000);
  let runs2 = 0;
  let state2 = held;
  for (; runs2 < MAX_RUNS && state2.state !== 'finished'; ) {
    await stack.cron();
    runs2 += 1;
    const report = await stack.lastCron();
    maxQueries = Math.max(maxQueries, report.d1Queries);
    await stack.simCtl('POST', 'callbacks/flush');
    state2 = (await stack.api('GET', `/api/jobs/${second.json.id}`)).json;
    await stack.advance(61_000);
  }
  const stats = await stack.simCtl('GET', 'stats');
  console.log(`second job ${state2.state} after ${runs2} more cron runs on the next day`);
  console.log(`deliveries ${stats.deliveries.toLocaleString('en')}, duplicate deliveries ${stats.duplicateDeliveries}, sends ${stats.sends}, 45009 ${(await stack.simCtl('GET', 'calls')).calls.filter((c) => c.errcode === 45009).length}`);
  console.log(`D1 on disk at the end: ${(sizeOf(stack.persist) / 1e6).toFixed(1)} MB; workerd peak RSS ${(workerdPeakRssKb() / 1024).toFixed(0)} MB`);
  if (state.state !== 'finished' || state2.state !== 'finished' || stats.duplicateDeliveries !== 0) process.exitCode = 1;
} finally {
  await stack.stop();
}
