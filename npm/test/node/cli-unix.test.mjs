// The wxmass bin behaves like a Unix tool (issue 25): a closed output pipe ends it quietly (and
// never stops a send half-way), every documented exit code holds (a 5xx answer is not "transport
// trouble"), WeChat's 45066 and 45009 waits are said in text and in --json, plan and send take the
// account's earlier sends (a file, or the worker's GET /api/status), and `jobs create` checks every
// option before it uploads anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { BIN, dir, lines, start, until, wxmass } from './cli-helpers.mjs';

const repo = process.env.WXMASS_REPO;
assert.ok(repo, 'WXMASS_REPO must point at the repository (scripts/test-npm sets it)');
const { createSimulator, openidFor } = await import(`${repo}/tests/wechat-sim/src/server.mjs`);

const text = { msgType: 'text', text: { content: 'hello from a pipe' } };

let sim;
let cfg;
before(async () => {
  sim = await createSimulator({ log: () => {} });
  cfg = await control('GET', 'config');
});
after(() => sim?.close());

async function control(method, path, body) {
  const res = await fetch(`${sim.url}/__sim/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(res.status, 200, `${method} /__sim/${path}`);
  return res.json();
}

const credentials = () => ({ APP_ID: cfg.appId, APP_SECRET: cfg.appSecret, WECHAT_API_BASE: sim.url });

/**
 * Runs `wxmass <args> | head -<n>` in bash: what head printed, what the pipeline wrote to stderr
 * (wxmass's stderr, where a crash would show), and wxmass's own exit code (PIPESTATUS).
 */
function piped(args, n, env = {}) {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `"$BIN" ${quoted} | head -${n}; echo "exit=\${PIPESTATUS[0]}" >&2`], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BIN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('close', () => {
      const m = /exit=(\d+)\n$/.exec(stderr);
      resolve({ stdout, stderr: stderr.replace(/exit=\d+\n$/, ''), code: m ? Number(m[1]) : null });
    });
  });
}

/** A plan file for `n` OpenIDs made by the bin; its directory, path and state path. */
async function planFile(jobId, n) {
  const ids = Array.from({ length: n }, (_, i) => openidFor(`${jobId}-${i}`));
  const d = dir({ 'ids.txt': ids.join('\n'), 'msg.json': JSON.stringify(text) });
  const plan = join(d, 'plan.json');
  const r = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--job', jobId, '--out', plan]);
  assert.equal(r.code, 0, r.stderr);
  return { d, plan, state: join(d, 'state.json') };
}

/** An HTTP server standing in for a worker: `answer(req, body)` → [status, json]; every request is kept. */
async function fakeWorker(answer) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({ method: req.method, url: req.url, body });
    const [status, json] = answer(req, body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

// ---- a closed pipe --------------------------------------------------------------------------

test('check … | head -1: the closed pipe ends it quietly, with check\'s own exit code and no trace', async () => {
  // Thousands of problems: far more output than a pipe holds, so wxmass writes after head left.
  const body = { toUser: Array.from({ length: 3000 }, (_, i) => `bad-${i}`), msgType: 'text', text: { content: 'x' } };
  const d = dir({ 'body.json': JSON.stringify(body) });
  for (const args of [['check', 'send', join(d, 'body.json')], ['check', 'send', join(d, 'body.json'), '--json']]) {
    const r = await piped(args, 1);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, r.stdout);
    assert.equal(r.stderr, '', `nothing on stderr (no EPIPE, no stack trace): ${r.stderr}`);
    assert.equal(r.code, 1, 'problems found: exit 1, as documented');
  }
  const ok = await piped(['errcode', '45066'], 1);
  assert.equal(ok.stderr, '');
  assert.equal(ok.code, 0);
});

test('send --json | head -2: the send goes on to the end with the reader gone; the state holds every batch', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-pipe', 30_000);
  const r = await piped(['send', '--plan', p.plan, '--state', p.state, '--json'], 2, credentials());
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|unexpected error|at .*\.js:\d+/);
  const state = JSON.parse(readFileSync(p.state, 'utf8'));
  assert.deepEqual(state.batches.map((b) => b.progress?.state?.state), ['submitted', 'submitted', 'submitted']);
  assert.equal((await control('GET', 'jobs')).jobs.length, 3, 'all three batches reached WeChat');
});

// ---- exit codes -------------------------------------------------------------------------------

test('send: a state file in a directory that does not exist is a usage error (exit 2), before anything is sent', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-nodir', 4);
  const state = join(p.d, 'no', 'such', 'dir', 'state.json');
  const r = await wxmass(['send', '--plan', p.plan, '--state', state], { env: credentials() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--state: .*no\/such\/dir.* does not exist/);
  assert.doesNotMatch(r.stderr, /unexpected error|ENOENT/);
  assert.equal((await control('GET', 'calls')).calls.length, 0, 'nothing reached WeChat');
  const json = await wxmass(['send', '--plan', p.plan, '--state', state, '--json'], { env: credentials() });
  assert.equal(json.code, 2);
  assert.equal(JSON.parse(json.stdout).error.exitCode, 2);
});

test('plan --out into a directory that does not exist is a usage error (exit 2)', async () => {
  const d = dir({ 'ids.txt': `${openidFor('o1')}\n${openidFor('o2')}\n`, 'msg.json': JSON.stringify(text) });
  const r = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--out', join(d, 'nope', 'plan.json')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--out: .*nope.* does not exist/);
});

test('jobs: a worker answering 5xx is exit 5 (it answered: not transport trouble); an unreachable one is exit 4', async () => {
  const w = await fakeWorker(() => [500, { error: { code: 'internal', message: 'D1 said no', id: 'e-1' } }]);
  try {
    const env = { WXMASS_URL: w.url, WXMASS_ADMIN_TOKEN: 't' };
    for (const args of [['jobs', 'list'], ['jobs', 'cancel', 'j1'], ['jobs', 'show', 'j1']]) {
      const r = await wxmass(args, { env });
      assert.equal(r.code, 5, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /HTTP 500 internal: D1 said no/);
    }
    const json = await wxmass(['jobs', 'list', '--json'], { env });
    assert.equal(JSON.parse(json.stdout).error.exitCode, 5);
  } finally {
    await w.close();
  }
  const gone = await wxmass(['jobs', 'list'], { env: { WXMASS_URL: 'http://127.0.0.1:9', WXMASS_ADMIN_TOKEN: 't' } });
  assert.equal(gone.code, 4, gone.stderr);
  const help = await wxmass(['--help']);
  assert.match(help.stdout, /5 the worker or a service answered with a server error/);
});

// ---- jobs create checks every option before it uploads ----------------------------------------

test('jobs create: a --send-at in the past, or not a time, is refused before anything is uploaded', async () => {
  const w = await fakeWorker(() => [500, { error: { code: 'internal', message: 'should not be called' } }]);
  try {
    const env = { WXMASS_URL: w.url, WXMASS_ADMIN_TOKEN: 't' };
    const d = dir({ 'ids.txt': `${openidFor('c1')}\n${openidFor('c2')}\n`, 'msg.json': JSON.stringify(text) });
    const base = ['jobs', 'create', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json')];
    const past = await wxmass([...base, '--send-at', '2020-03-07T08:00:00+08:00'], { env });
    assert.equal(past.code, 1, past.stderr);
    assert.match(past.stderr, /--send-at/);
    assert.match(past.stderr, /2020-03-07 08:00:00 China time \(UTC\+8\), more than a minute before now/);
    assert.match(past.stderr, /leave it out .* to send now/);
    assert.match(past.stderr, /北京时间/);
    const json = await wxmass([...base, '--send-at', '2020-03-07T08:00:00+08:00', '--json'], { env });
    const error = JSON.parse(json.stdout).error;
    assert.equal(error.exitCode, 1);
    assert.equal(error.problems[0].rule, 'in_the_past');
    const seconds = await wxmass([...base, '--send-at', '1899072000'], { env });
    assert.equal(seconds.code, 1);
    assert.match(seconds.stderr, /looks like Unix seconds/);
    const size = await wxmass([...base, '--part-size', '0'], { env });
    assert.equal(size.code, 2);
    assert.equal(w.requests.length, 0, `nothing reached the worker: ${w.requests.map((r) => r.url).join(', ')}`);
  } finally {
    await w.close();
  }
});

// ---- waits said -------------------------------------------------------------------------------

/** Runs send until `seen(stdout, stderr)` holds, then Ctrl-C; the run's output and exit code. */
async function sendUntil(p, seen, extra = []) {
  const run = start(['send', '--plan', p.plan, '--state', p.state, '--json', ...extra], { env: credentials() });
  await until(() => seen(run.stdout(), run.stderr()), 'the wait to be said');
  run.child.kill('SIGINT');
  return run.done;
}

test('send: WeChat\'s 45066 (the same clientmsgid within a minute) is said in text and --json, with the wait', async () => {
  await control('POST', 'reset');
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'errcode', errcode: 45066, count: 1 });
  const p = await planFile('cli-45066', 4);
  const r = await sendUntil(p, (out) => out.includes('"type":"wait"'));
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /batch 1\/1: WeChat answered 45066/);
  assert.match(r.stderr, /waiting (1 min|\d+ s)/);
  const events = lines(r.stdout);
  const settled = events.find((e) => e.type === 'settled');
  assert.equal(settled.answer.errcode, 45066);
  assert.ok(settled.answer.en && settled.answer.zh, JSON.stringify(settled));
  const wait = events.find((e) => e.type === 'wait');
  assert.equal(wait.reason, 'retry');
  assert.equal(wait.errcode, 45066);
  assert.ok(wait.until > Date.now(), 'a wait until a time to come');
  assert.match(wait.text, /45066/);
});

test('send: a quota refusal (45009) is said in text and --json with the China time it waits for', async () => {
  await control('POST', 'reset');
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'quota_45009', count: 1 });
  const p = await planFile('cli-45009', 4);
  const r = await sendUntil(p, (out) => out.includes('"type":"wait"'));
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /WeChat answered 45009/);
  assert.match(r.stderr, /China time/);
  const wait = lines(r.stdout).find((e) => e.type === 'wait');
  assert.equal(wait.reason, 'quota');
  assert.equal(wait.errcode, 45009);
});

// ---- earlier sends ------------------------------------------------------------------------------

/** 100 successful mass/send calls made `ago` ms before now: a service account's day, spent. */
const spentDay = (now = Date.now()) => Array.from({ length: 100 }, (_, i) => ({ at: now - 1000 - i, kind: 'send', toAll: false, succeeded: true }));

test('plan --ledger: the account\'s earlier sends move the earliest start; a ledger in seconds is refused at its path', async () => {
  const ids = `${openidFor('l1')}\n${openidFor('l2')}\n`;
  const d = dir({ 'ids.txt': ids, 'msg.json': JSON.stringify(text), 'ledger.json': JSON.stringify(spentDay()) });
  const base = ['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json')];
  const fresh = await wxmass([...base, '--json']);
  assert.equal(JSON.parse(fresh.stdout).summary.earliestStart.decision, 'now');
  const held = await wxmass([...base, '--ledger', join(d, 'ledger.json'), '--json']);
  assert.equal(held.code, 0, held.stderr);
  const start = JSON.parse(held.stdout).summary.earliestStart;
  assert.equal(start.decision, 'not_before');
  assert.equal(start.rule, 'service_sends_per_day');
  const words = await wxmass([...base, '--ledger', join(d, 'ledger.json')]);
  assert.match(words.stdout, /earliest: +.*held by the quota rule service_sends_per_day/);
  writeFileSync(join(d, 'seconds.json'), JSON.stringify([{ at: Math.floor(Date.now() / 1000), kind: 'send', toAll: false, succeeded: true }]));
  const seconds = await wxmass([...base, '--ledger', join(d, 'seconds.json')]);
  assert.equal(seconds.code, 1, seconds.stderr);
  assert.match(seconds.stderr, /ledger\[0\]\.at/);
  assert.match(seconds.stderr, /looks like Unix seconds/);
  assert.equal((await wxmass([...base, '--ledger', join(d, 'missing.json')])).code, 2);
});

test('plan --ledger-from-worker and send --ledger: the worker\'s GET /api/status ledger; send waits for the start it promised, and says so', async () => {
  const w = await fakeWorker((req) => (req.url === '/api/status' ? [200, { ledger: spentDay() }] : [404, { error: { code: 'not_found', message: 'no' } }]));
  try {
    const d = dir({ 'ids.txt': `${openidFor('w1')}\n${openidFor('w2')}\n`, 'msg.json': JSON.stringify(text) });
    const plan = join(d, 'plan.json');
    const env = { WXMASS_URL: w.url, WXMASS_ADMIN_TOKEN: 'secret-t' };
    const r = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--ledger-from-worker', '--out', plan, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).summary.earliestStart.decision, 'not_before');
    assert.equal(w.requests[0].url, '/api/status');
    await control('POST', 'reset');
    const s = start(['send', '--plan', plan, '--state', join(d, 'state.json'), '--ledger-from-worker', '--json'], { env: { ...credentials(), ...env } });
    await until(() => s.stdout().includes('"type":"wait"'), 'the quota wait');
    s.child.kill('SIGINT');
    const sent = await s.done;
    assert.equal(sent.code, 130, sent.stderr);
    const wait = lines(sent.stdout).find((e) => e.type === 'wait');
    assert.equal(wait.reason, 'quota');
    assert.equal(wait.rule, 'service_sends_per_day');
    assert.match(sent.stderr, /held by the quota rule service_sends_per_day/);
    assert.equal((await control('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.length, 0, 'nothing sent before the quota allows it');
  } finally {
    await w.close();
  }
});
