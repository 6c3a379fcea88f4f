// End-to-end: `wxmass jobs …` (the npm package's bin, npm/dist/cli/main.js, as a child process)
// against the worker under `wrangler dev` and the WeChat simulator. `jobs create` uploads 25,001
// OpenIDs in parts with a progress bar and creates the job; `jobs watch` redraws each batch's
// state while the test drives the cron, until the job is finished, then prints the result counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, ADMIN_TOKEN, ROOT } from './harness.mjs';
import { openidFor } from '../wechat-sim/src/server.mjs';

const BIN = join(ROOT, 'npm', 'dist', 'cli', 'main.js');
assert.ok(existsSync(BIN), 'npm/dist/cli/main.js: build the npm package first (scripts/test-e2e does)');

let stack;
let env;
// A second official account on the same worker (issue 20), served by the simulator as its own AppID.
const B = { appId: 'wx00000000000000bb', appSecret: 'bbbbsecret-0123456789abcdef012345', callbackToken: 'bbbbCallbackTokenForAccountB' };
before(async () => {
  stack = await startStack({ strictFollowers: false }, { vars: { ACCOUNTS_MASTER_KEY: randomBytes(32).toString('base64') } });
  env = { WXMASS_URL: stack.workerUrl, WXMASS_ADMIN_TOKEN: ADMIN_TOKEN };
});
after(async () => { await stack?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start(args, extraEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let firstOutput;
  const output = new Promise((resolve) => { firstOutput = resolve; });
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; firstOutput(); });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; firstOutput(); });
  const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  done.then(firstOutput);
  return { child, done, output };
}
const wxmass = (args, extraEnv = env) => start(args, extraEnv).done;

/** `wxmass jobs watch <id>` while the cron runs (and the clocks move) until it exits. */
async function watchWhileCronRuns(id, watchEnv, maxRuns) {
  const watch = start(['jobs', 'watch', id, '--interval', '200'], watchEnv);
  let exited = null;
  watch.done.then((r) => { exited = r; });
  // The first draw shows the job before the cron moves it (a loaded machine can start the
  // process after a whole run otherwise).
  await watch.output;
  for (let run = 0; run < maxRuns && exited === null; run++) {
    await stack.cron();
    await stack.simCtl('POST', 'callbacks/flush');
    await sleep(600);
    await stack.advance(61_000);
  }
  return watch.done;
}

const dir = mkdtempSync(join(tmpdir(), 'wxmass-cli-jobs-'));
const file = (name, text) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const message = file('msg.json', JSON.stringify({ msgType: 'text', text: { content: 'from wxmass jobs create' } }));
const ids = Array.from({ length: 25_001 }, (_, i) => openidFor(`cli-jobs-${i}`));
// Line 3 is not an OpenID, the last line repeats line 1.
const list = file('ids.txt', `${[ids[0], ids[1], 'not-an-openid', ...ids.slice(2), ids[0]].join('\n')}\n`);

test('jobs create: refuses a list with an invalid OpenID (its line number), then with --skip-invalid uploads 25,001 OpenIDs in parts with a progress bar; jobs watch follows it to finished', async () => {
  const refused = await wxmass(['jobs', 'create', '--openids', list, '--message', message, '--part-size', '10000']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /25,003 received, 25,001 valid, 1 invalid, 1 duplicates, 3 batches/);
  assert.match(refused.stderr, /invalid, line 3: "not-an-openid"/);
  assert.match(refused.stderr, /No job created: 1 invalid OpenID/);
  assert.equal((await stack.api('GET', '/api/jobs')).json.jobs.length, 0);

  const created = await wxmass(['jobs', 'create', '--openids', list, '--message', message, '--part-size', '10000', '--skip-invalid']);
  assert.equal(created.code, 0, created.stderr);
  // Without a TTY the bar is printed once per step: the parts, then the seal.
  for (const [n, sent] of [[1, '10,000'], [2, '20,000'], [3, '25,003']]) {
    assert.match(created.stderr, new RegExp(`\\[[#.]{24}\\] ${sent}/25,003 OpenIDs uploaded · part ${n} stored\\n`));
  }
  assert.match(created.stderr, /\[#{24}\] 25,003\/25,003 OpenIDs uploaded · sealed\n/);
  const id = /^job (\S+): /m.exec(created.stdout)?.[1];
  assert.ok(id, created.stdout);
  const job = (await stack.api('GET', `/api/jobs/${id}`)).json;
  assert.equal(job.batches.length, 3);
  assert.equal(job.batches.reduce((n, b) => n + b.recipients, 0), 25_001);
  for (const b of job.batches) {
    assert.match(b.clientMsgId, /^wxm1-/);
    assert.ok(created.stdout.includes(`clientmsgid ${b.clientMsgId}`), created.stdout);
  }

  const w = await watchWhileCronRuns(id, env, 20);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, new RegExp(`^job ${id} finished: total 25,001, filtered 25,001, sent 25,001, errors 0\\n$`));
  // Each redraw is a header and one line per batch; it began with nothing sent and ended with
  // every batch finished.
  const draws = w.stderr.split(/(?=^job )/m).filter((d) => d.startsWith(`job ${id}: `));
  assert.ok(draws.length >= 2, w.stderr);
  assert.match(draws[0], /: (planned|sending) /);
  const last = draws.at(-1);
  assert.match(last, /^job \S+: finished · 3 finished\n/);
  assert.equal(last.match(/ finished +[\d,]+ OpenIDs  attempts 1  msg_id \d+ sent [\d,]+\n/g)?.length, 3, last);
  const stats = await stack.simCtl('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0);
  assert.equal(stats.deliveries, 25_001);

  const shown = await wxmass(['jobs', 'show', id]);
  assert.equal(shown.code, 0, shown.stderr);
  const final = (await stack.api('GET', `/api/jobs/${id}`)).json;
  for (const b of final.batches) assert.ok(shown.stdout.includes(`msg_id ${b.msgId}`), shown.stdout);
  assert.match(shown.stdout, /results: +total 25,001, filtered 25,001, sent 25,001, errors 0/);
  const listed = await wxmass(['jobs', 'list', '--json']);
  assert.equal(listed.code, 0);
  assert.deepEqual(JSON.parse(listed.stdout).jobs.map((j) => [j.id, j.state]), [[id, 'finished']]);
});

test('jobs cancel: a job held for later is cancelled (exit 0; again: nothing more to cancel, exit 0), a job already sent is refused (exit 1); watch of a cancelled job ends at once', async () => {
  const created = await wxmass(['jobs', 'create', '--tag', '2', '--message', message, '--send-at', '2099-01-01T08:00:00+08:00', '--json']);
  assert.equal(created.code, 0, created.stdout);
  const id = JSON.parse(created.stdout).job.id;
  const cancelled = await wxmass(['jobs', 'cancel', id]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.match(cancelled.stdout, new RegExp(`^job ${id}: 1 batch cancelled`));
  const again = await wxmass(['jobs', 'cancel', id]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`^job ${id}: 0 batches cancelled`));
  const watch = await wxmass(['jobs', 'watch', id, '--interval', '100']);
  assert.equal(watch.code, 0);
  assert.match(watch.stdout, new RegExp(`^job ${id} cancelled: `));
  const json = await wxmass(['jobs', 'watch', id, '--json']);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.type, l.state]), [['job', 'cancelled'], ['result', 'cancelled']]);
  assert.deepEqual(lines[0].batches.map((b) => b.state), ['cancelled']);

  const now = JSON.parse((await wxmass(['jobs', 'create', '--tag', '2', '--message', message, '--json'])).stdout).job.id;
  await stack.cron();
  const late = await wxmass(['jobs', 'cancel', now]);
  assert.equal(late.code, 1, late.stdout);
  assert.match(late.stderr, /HTTP 409 conflict: nothing to cancel/);

  // The list filtered by state on the worker: only the cancelled job, and who created it.
  const all = JSON.parse((await wxmass(['jobs', 'list', '--json'])).stdout).jobs;
  assert.ok(all.some((j) => j.id === now) && all.some((j) => j.id === id));
  const onlyCancelled = await wxmass(['jobs', 'list', '--state', 'cancelled', '--json']);
  assert.equal(onlyCancelled.code, 0, onlyCancelled.stderr);
  assert.deepEqual(JSON.parse(onlyCancelled.stdout).jobs.map((j) => j.id), all.filter((j) => j.state === 'cancelled').map((j) => j.id));
  assert.ok(JSON.parse(onlyCancelled.stdout).jobs.some((j) => j.id === id));
  const text = await wxmass(['jobs', 'list', '--state', 'cancelled,finished']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^${id} +cancelled .* ADMIN_TOKEN \\(admin\\)$`, 'm'));
  assert.ok(!text.stdout.includes(now) || all.find((j) => j.id === now).state === 'finished', text.stdout);
  const bad = await wxmass(['jobs', 'list', '--state', 'done']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /state.*"?done"?/);
});

test('jobs: usage and configuration errors exit 2, a message with problems 1 (before any upload), an unreachable worker 4', async () => {
  const noUrl = await wxmass(['jobs', 'list'], { WXMASS_ADMIN_TOKEN: ADMIN_TOKEN });
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /set WXMASS_URL/);
  const wrongToken = await wxmass(['jobs', 'list'], { ...env, WXMASS_ADMIN_TOKEN: 'wrong' });
  assert.equal(wrongToken.code, 2);
  assert.match(wrongToken.stderr, /HTTP 401 unauthorized/);
  const unknown = await wxmass(['jobs', 'show', 'no-such-job']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /HTTP 404/);
  assert.equal((await wxmass(['jobs', 'explode'])).code, 2);
  assert.equal((await wxmass(['jobs', 'show'])).code, 2);
  const before = (await stack.simCtl('GET', 'stats')).calls;
  const badMessage = file('bad.json', JSON.stringify({ msgType: 'text', text: { content: '' } }));
  const bad = await wxmass(['jobs', 'create', '--openids', list, '--message', badMessage]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /text\.content +\[required\]\n +en: text\.content is required/);
  assert.doesNotMatch(bad.stderr, /uploaded/);
  assert.equal((await stack.simCtl('GET', 'stats')).calls, before);
  const down = await wxmass(['jobs', 'list'], { WXMASS_URL: 'http://127.0.0.1:9', WXMASS_ADMIN_TOKEN: ADMIN_TOKEN });
  assert.equal(down.code, 4);
});

test('jobs --account-id (or WXMASS_ACCOUNT): a job of another official account on the same worker, uploaded, listed, watched to finished under that account only', async () => {
  await stack.simCtl('POST', 'config', {
    apps: [{ appId: B.appId, appSecret: B.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/b`, callbackToken: B.callbackToken, callbackMode: 'plain' }],
  });
  const account = await stack.api('POST', '/api/accounts', { id: 'b', appId: B.appId, kind: 'service', apiBase: stack.sim.url, callbackMode: 'plain', secrets: { appSecret: B.appSecret, callbackToken: B.callbackToken } });
  assert.equal(account.status, 201, account.text);
  const few = file('b-ids.txt', `${ids.slice(0, 5).join('\n')}\n`);
  const created = await wxmass(['jobs', 'create', '--account-id', 'b', '--openids', few, '--message', message, '--json']);
  assert.equal(created.code, 0, created.stderr + created.stdout);
  const result = created.stdout.trim().split('\n').map((l) => JSON.parse(l)).at(-1);
  assert.equal(result.type, 'result');
  const id = result.job.id;
  assert.equal(result.audience.valid, 5);
  assert.equal((await stack.api('GET', `/api/accounts/b/jobs/${id}`)).status, 200);
  assert.equal((await stack.api('GET', `/api/jobs/${id}`)).status, 404, 'not the default account\'s');
  const listed = await wxmass(['jobs', 'list', '--json'], { ...env, WXMASS_ACCOUNT: 'b' });
  assert.deepEqual(JSON.parse(listed.stdout).jobs.map((j) => j.id), [id]);
  assert.ok(!JSON.parse((await wxmass(['jobs', 'list', '--json'])).stdout).jobs.some((j) => j.id === id));

  const w = await watchWhileCronRuns(id, { ...env, WXMASS_ACCOUNT: 'b' }, 10);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, new RegExp(`^job ${id} finished: total 5, filtered 5, sent 5, errors 0\\n$`));
  const sends = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.filter((c) => c.appId === B.appId);
  assert.equal(sends.length, 1, 'sent with account b\'s token');
  const unknown = await wxmass(['jobs', 'list', '--account-id', 'nobody']);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /HTTP 404/);
});
