// `wxmass send` killed mid-send and run again with the same state file, against the WeChat
// simulator: the first batch is submitted, the second's request is at WeChat (held there by a
// `delay` fault) when the test sends SIGKILL, so the state file says an attempt began and its
// answer never came. WeChat goes on and delivers that batch. The next run must not deliver it
// again: it waits for WeChat's one-minute clientmsgid window, sends the same clientmsgid, takes
// 45065's existing msg_id, and sends the third batch. A Ctrl-C during that wait stops cleanly
// (exit 130) and changes nothing. This test waits out WeChat's real minute (the CLI keeps real
// time), so it takes a little over a minute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { dir, lines, start, until, wxmass } from './cli-helpers.mjs';

const repo = process.env.WXMASS_REPO;
assert.ok(repo, 'WXMASS_REPO must point at the repository (scripts/test-npm sets it)');
const { createSimulator, openidFor } = await import(`${repo}/tests/wechat-sim/src/server.mjs`);

let sim;
let cfg;
// The simulator's windows at half of WeChat's (its clientmsgid window is then 30 s): its
// 45066 window starts when it handles the delayed request, a little after the CLI began it.
before(async () => {
  sim = await createSimulator({ timeScale: 0.5, log: () => {} });
  cfg = await control('GET', 'config');
});
after(() => sim?.close());

async function control(method, path, body) {
  const res = await fetch(`${sim.url}/__sim/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(res.status, 200, `${method} /__sim/${path}`);
  return res.json();
}

const readState = (path) => JSON.parse(readFileSync(path, 'utf8'));

test('SIGKILL while batch 2 is at WeChat, then the same command again: every batch delivered once, batch 2 by 45065\'s existing msg_id', async () => {
  const ids = Array.from({ length: 25_001 }, (_, i) => openidFor(`cli-resume-${i}`));
  const d = dir({ 'ids.txt': `${ids.join('\n')}\n`, 'msg.json': JSON.stringify({ msgType: 'text', text: { content: 'resumed, never repeated' } }) });
  const plan = join(d, 'plan.json');
  const statePath = join(d, 'state.json');
  const planned = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--job', 'cli-resume', '--out', plan]);
  assert.equal(planned.code, 0, planned.stderr);
  const batches = JSON.parse(readFileSync(plan, 'utf8')).batches;
  assert.equal(batches.length, 3);
  const [c0, c1, c2] = batches.map((b) => b.clientMsgId);
  const env = { APP_ID: cfg.appId, APP_SECRET: cfg.appSecret, WECHAT_API_BASE: sim.url };
  const args = ['send', '--plan', plan, '--state', statePath, '--json'];

  // 1. The second mass/send is held at "WeChat" for 2 s; SIGKILL once it has arrived there.
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'delay', ms: 2000, count: 1, skip: 1 });
  const first = start(args, { env });
  await until(async () => (await control('GET', 'faults')).faults[0].hits === 1, 'batch 2 at WeChat');
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.equal(killed.signal, 'SIGKILL');
  let state = readState(statePath);
  assert.equal(state.batches[0].progress.state.state, 'submitted');
  assert.deepEqual(state.batches[1].progress.state, { state: 'sending', attempt: 1 });
  assert.equal(state.batches[1].progress.awaitingOutcome, true, 'saved before the request went out');
  assert.equal(state.batches[2].progress, null);
  // WeChat finishes what it was given: batch 2 is delivered although its sender is gone.
  await until(async () => (await control('GET', 'jobs')).jobs.some((j) => j.clientmsgid === c1), 'batch 2 accepted by WeChat');
  const existing = (await control('GET', 'jobs')).jobs.find((j) => j.clientmsgid === c1).msgId;

  // 2. Run again; Ctrl-C while it waits out WeChat's window: exit 130, batch 2 still unsent.
  const second = start(args, { env });
  const wait = await until(() => lines(second.stdout()).find((e) => e.type === 'wait' && e.index === 1), 'the resumed run waiting');
  assert.ok(wait.until >= state.batches[1].progress.lastAttemptAt + 60_000, 'no second request within WeChat\'s minute');
  second.child.kill('SIGINT');
  const stopped = await second.done;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /stopped; progress is in .*state\.json: run the same command again to resume/);
  state = readState(statePath);
  assert.equal(state.batches[1].progress.state.state, 'sending');
  assert.equal(state.batches[1].progress.maybeDelivered, true);
  assert.equal((await control('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.length, 2, 'the interrupted run sent nothing');

  // 3. Run again to the end.
  const third = await wxmass(args, { env });
  assert.equal(third.code, 0, third.stderr);
  const events = lines(third.stdout);
  const settled = events.filter((e) => e.type === 'settled');
  assert.deepEqual(settled.map((e) => [e.index, e.action.action]), [[1, 'done'], [2, 'done']]);
  assert.equal(settled[0].action.msgId, existing, 'batch 2 is the send WeChat already had');
  assert.match(third.stderr, /resuming job cli-resume from .*1 submitted, msg_id \d+; 2 sending: attempt 1 may have reached WeChat/);

  // Four requests: batches 1 and 2, batch 2 again (WeChat: 45065, the send exists, with its
  // msg_id: the same clientmsgid), batch 3. (The log clips bodies, so the ids come from replies.)
  const calls = (await control('GET', 'calls?path=/cgi-bin/message/mass/send')).calls;
  assert.deepEqual(calls.map((c) => c.errcode), [0, 0, 45065, 0]);
  assert.equal(/"msg_id":(\d+)/.exec(calls[2].reply)?.[1], existing);
  const accepted = (await control('GET', 'jobs')).jobs.map((j) => j.clientmsgid);
  assert.deepEqual(accepted, [c0, c1, c2]);
  const stats = await control('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0);
  assert.equal(stats.clientmsgidExist45065, 1);
  assert.equal(stats.sends, 3);
  assert.equal(stats.deliveries, 25_001);
  const delivered = (await control('GET', 'deliveries')).deliveries;
  assert.ok(ids.every((o) => delivered[o]?.length === 1), 'every OpenID exactly once');

  state = readState(statePath);
  const jobs = (await control('GET', 'jobs')).jobs;
  for (const [i, c] of [c0, c1, c2].entries()) {
    assert.equal(state.batches[i].progress.state.state, 'submitted');
    assert.equal(state.batches[i].progress.state.msgId, jobs.find((j) => j.clientmsgid === c).msgId);
  }
  assert.equal(state.batches[1].progress.attempts, 2);
});
