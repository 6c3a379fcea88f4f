// End-to-end harness: starts the WeChat simulator in-process and `wrangler dev` (workerd, local
// D1 in a temp dir) as a child process on free ports, applies the migrations, and gives tests a
// small client. Every child runs in its own process group and is killed with it.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createSimulator, openidFor } from '../wechat-sim/src/server.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' };

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The D1 queries and subrequests one invocation spent (TEST_COUNTERS=1 puts them in headers). */
function countersOf(r) {
  const q = r.headers.get('x-wxmass-d1-queries');
  return q === null ? null : { d1Queries: Number(q), subrequests: Number(r.headers.get('x-wxmass-subrequests')) };
}

/**
 * Starts simulator + worker. Returns { sim, workerUrl, api(), cron(), advance(), callback(),
 * stop(), restart() }. `vars` adds or replaces the worker's vars (a var set to null is left out,
 * e.g. `{ TEST_CLOCK: null }` runs on the runtime's clock alone).
 */
export async function startStack(simOptions = {}, { vars: extraVars = {} } = {}) {
  const persist = mkdtempSync(join(tmpdir(), 'wxmass-e2e-'));
  const port = await freePort();
  // Its own devtools port too: wrangler's default (9229) is taken by any other `wrangler dev` on
  // the machine, and then this one does not start.
  const inspectorPort = await freePort();
  const workerUrl = `http://127.0.0.1:${port}`;
  const sim = await createSimulator({
    timeScale: 0.01,
    callbackMode: 'safe',
    callbackUrl: `${workerUrl}/wechat/callback`,
    log: () => {},
    ...simOptions,
  });
  const cfg = sim.state.cfg;
  const vars = {
    WECHAT_API_BASE: sim.url,
    APP_ID: cfg.appId,
    ACCOUNT_KIND: cfg.accountKind,
    APP_SECRET: cfg.appSecret,
    CALLBACK_TOKEN: cfg.callbackToken,
    ENCODING_AES_KEY: cfg.encodingAESKey,
    ADMIN_TOKEN,
    TEST_CLOCK: '1',
    // Answers carry the invocation's D1 queries and subrequests; /__test/last-cron tells a run's.
    TEST_COUNTERS: '1',
  };
  for (const [k, v] of Object.entries(extraVars)) {
    if (v === null) delete vars[k]; else vars[k] = v;
  }
  // The worker's test clock runs this far ahead of the real one (see advance()).
  let offsetMs = 0;
  execFileSync(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], {
    cwd: ROOT, env: ENV, stdio: 'pipe',
  });
  let child = null;
  let logs = '';
  const launch = async () => {
    const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist,
      '--inspector-port', String(inspectorPort), '--test-scheduled', '--show-interactive-dev-session=false', '--log-level', 'warn'];
    for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
    child = spawn(WRANGLER, args, { cwd: ROOT, env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { logs += d; });
    child.stderr.on('data', (d) => { logs += d; });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${workerUrl}/healthz`);
        await r.text();
        return;
      } catch {
        await sleep(200);
      }
      if (child.exitCode !== null) break;
    }
    throw new Error(`wrangler dev did not start:\n${logs.slice(-4000)}`);
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exited;
    clearTimeout(t);
  };
  try {
    await launch();
  } catch (e) {
    // Leave nothing running: an open simulator would keep the test file's process alive.
    await kill();
    await sim.close();
    rmSync(persist, { recursive: true, force: true });
    throw e;
  }

  // `d1()` blocks this process for seconds; meanwhile workerd may close an idle keep-alive
  // connection, and a request sent before the event loop has seen that would go out on the dead
  // socket ("other side closed"). The next request first lets the loop run once.
  let blocked = false;
  const settle = async () => {
    if (!blocked) return;
    blocked = false;
    await new Promise((r) => setTimeout(r, 20));
  };
  const api = async (method, path, body, headers = {}) => {
    await settle();
    const r = await fetch(`${workerUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text, headers: r.headers, counters: countersOf(r) };
  };
  const simCtl = async (method, path, body) => {
    const r = await fetch(`${sim.url}/__sim/${path}`, { method, body: body ? JSON.stringify(body) : undefined });
    return r.json();
  };
  return {
    sim, workerUrl, persist, api, simCtl, vars,
    /** The worker's clock in Unix seconds (a push's timestamp must be near it). */
    nowSec: () => Math.floor((Date.now() + offsetMs) / 1000),
    /** POSTs a push (`{ query, body }` from push.mjs) to the callback URL. */
    callback: async ({ query, body }) => {
      await settle();
      const r = await fetch(`${workerUrl}/wechat/callback?${query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      return { status: r.status, text: await r.text(), counters: countersOf(r) };
    },
    /** The last cron run's report: what it did, and its D1 queries and subrequests. */
    lastCron: async () => (await api('GET', '/__test/last-cron')).json.lastRun,
    /**
     * Runs SQL on the worker's local D1 while it runs (wrangler d1 execute on the same files):
     * how a test breaks D1 on purpose, e.g. a trigger that aborts one kind of write.
     */
    d1: (sql) => {
      const out = execFileSync(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--json', '--command', sql], {
        cwd: ROOT, env: ENV, stdio: 'pipe',
      });
      blocked = true;
      return JSON.parse(out.toString());
    },
    logs: () => logs,
    cron: async () => {
      await settle();
      const r = await fetch(`${workerUrl}/__scheduled?cron=*+*+*+*+*`);
      return r.text();
    },
    // Moves the worker's cron clock and the simulator's clock together (WeChat's one-minute
    // clientmsgid window and day quotas pass without waiting).
    advance: async (ms) => {
      offsetMs += ms;
      await simCtl('POST', 'clock', { advanceMs: ms });
      return api('POST', '/api/test/clock', { advanceMs: ms });
    },
    restart: async () => { await kill(); await launch(); },
    kill,
    stop: async () => {
      await kill();
      await sim.close();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

/**
 * A stand-in for the account's own server (FORWARD_URL): records each request it gets and
 * answers as told — `{ status, body, contentType, delayMs, drop }` (drop: close the connection).
 */
export async function startUpstream() {
  const received = [];
  let behaviour = { status: 200, body: 'success', contentType: 'text/plain; charset=utf-8', delayMs: 0, drop: false };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url, 'http://upstream');
      received.push({ method: req.method, path: url.pathname, query: url.search.slice(1), body: Buffer.concat(chunks).toString('utf8'), contentType: req.headers['content-type'] ?? null });
      const b = behaviour;
      if (b.drop) { req.socket.destroy(); return; }
      if (b.delayMs) await sleep(b.delayMs);
      if (res.destroyed) return;
      res.writeHead(b.status, b.contentType ? { 'content-type': b.contentType } : {});
      res.end(b.body);
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}/wechat/upstream`,
    received,
    answer: (b) => { behaviour = { ...behaviour, drop: false, delayMs: 0, ...b }; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/** Drives cron runs (moving the worker's clock) until the job settles and its events arrive. */
export async function driveJob(stack, jobId, { maxRuns = 40, advanceMs = 61_000, wantEvents = true } = {}) {
  let job;
  for (let i = 0; i < maxRuns; i++) {
    await stack.cron();
    await stack.simCtl('POST', 'callbacks/flush');
    await sleep(100);
    job = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
    const settled = job.batches.every((b) => ['finished', 'failed', 'cancelled'].includes(b.state));
    const submittedOnly = job.batches.every((b) => ['finished', 'failed', 'cancelled', 'submitted'].includes(b.state));
    if (settled || (!wantEvents && submittedOnly)) return job;
    await stack.advance(advanceMs);
  }
  return job;
}

export const openids = (n, seed = 'e2e') => Array.from({ length: n }, (_, i) => openidFor(`${seed}-${i}`));
