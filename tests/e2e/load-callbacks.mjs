// The load run behind scripts/load-callbacks (not a test): the worker under wrangler dev (local
// D1, bound to 127.0.0.1) gets rounds of N concurrent signed, encrypted (safe mode)
// MASSSENDJOBFINISH pushes, each with its own MsgID so each is stored. Latency is measured per
// request on the client, from just before the request is written to the end of its answer.
//
// wrangler dev puts its own proxy worker in front of the worker, and N requests sent at once
// queue in one isolate, so each round is paired with a baseline: N concurrent GETs of an unknown
// path on the same worker (404, no D1, no crypto). The ratio reads the callback's figure against
// the harness's own floor. One request at a time (no queueing) is measured too.
//
//   node tests/e2e/load-callbacks.mjs [--concurrency 200] [--rounds 3] [--sequential 50]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startStack } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

const { values: opts } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    sequential: { type: 'string', default: '50' },
  },
});
const N = Number(opts.concurrency);
const ROUNDS = Number(opts.rounds);
const SEQ = Number(opts.sequential);
const WARMUP = 20;

// The runtime's clock only: no TEST_CLOCK lookup in D1 on each push.
const stack = await startStack({ callbackUrl: null }, { vars: { TEST_CLOCK: null } });
const { CALLBACK_TOKEN: token, ENCODING_AES_KEY: encodingAESKey, APP_ID: appId } = stack.vars;
const url = new URL(stack.workerUrl);
// One kept-alive socket per concurrent request, opened by the warm-up and reused after.
const agent = new http.Agent({ keepAlive: true, maxSockets: N, maxFreeSockets: N });

let nextMsgId = 2n ** 53n + 7_000_001n; // 64-bit ids: BigInt, written as decimal text
const pushes = (n) => Array.from({ length: n }, () => {
  const msgId = (nextMsgId += 2n).toString();
  const p = signedPush({ token, encodingAESKey, appId, xml: jobFinishXml({ msgId, total: 10 }), mode: 'safe' });
  return { method: 'POST', path: `/wechat/callback?${p.query}`, body: p.body };
});
const trivial = (n) => Array.from({ length: n }, () => ({ method: 'GET', path: '/no-such-route', body: null }));

function one({ method, path, body }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers: body ? { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode, text }));
    });
    req.on('error', (e) => resolve({ ms: performance.now() - t0, status: 0, text: String(e) }));
    req.end(body ?? undefined);
  });
}

const concurrent = (reqs) => Promise.all(reqs.map(one));
async function sequential(reqs) {
  const out = [];
  for (const r of reqs) out.push(await one(r));
  return out;
}

function stats(results, expectStatus) {
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
  const bad = results.filter((r) => r.status !== expectStatus);
  return { n: ms.length, p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1], bad: bad.length, firstBad: bad[0] };
}
const f = (x) => x.toFixed(2).padStart(7);
const line = (label, s) => `${label.padEnd(34)} p50 ${f(s.p50)} ms  p99 ${f(s.p99)} ms  max ${f(s.max)} ms  non-${s.expect} ${s.bad}`;
const show = (label, s, expect) => {
  console.log(line(label, { ...s, expect }));
  if (s.firstBad) console.log(`  first unexpected answer: ${s.firstBad.status} ${s.firstBad.text.slice(0, 200)}`);
};

let sent = 0;
let failed = false;
try {
  console.log(`worker ${stack.workerUrl} (wrangler dev --local --ip 127.0.0.1), ${N} concurrent requests a round, ${ROUNDS} rounds`);
  // Warm-up (not reported): the isolate, the wasm instance, D1, N kept-alive sockets, and one
  // round of N pushes.
  await concurrent(trivial(N));
  const warm = [...await sequential(pushes(WARMUP)), ...await concurrent(pushes(N))];
  sent += WARMUP + N;
  if (warm.some((r) => r.status !== 200)) throw new Error(`warm-up push refused: ${warm.find((r) => r.status !== 200).text}`);

  const all = { cb: [], base: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const cbReqs = pushes(N); // built (and encrypted) before the clock starts
    const base = stats(await concurrent(trivial(N)), 404);
    const cbRes = await concurrent(cbReqs);
    sent += N;
    const cb = stats(cbRes, 200);
    all.cb.push(...cbRes);
    all.base.push(...(await concurrent(trivial(N))));
    show(`round ${round}: ${N} pushes at once`, cb, 200);
    show(`round ${round}: ${N} GET 404 at once (floor)`, base, 404);
    console.log(`  ratio push/floor: p50 ${(cb.p50 / base.p50).toFixed(2)}x, p99 ${(cb.p99 / base.p99).toFixed(2)}x`);
    if (cb.bad) failed = true;
  }
  const cbAll = stats(all.cb, 200);
  const baseAll = stats(all.base, 404);
  console.log('--- all rounds');
  show(`${all.cb.length} pushes, ${N} at a time`, cbAll, 200);
  show(`${all.base.length} GET 404, ${N} at a time`, baseAll, 404);
  console.log(`  ratio push/floor: p50 ${(cbAll.p50 / baseAll.p50).toFixed(2)}x, p99 ${(cbAll.p99 / baseAll.p99).toFixed(2)}x`);

  if (SEQ > 0) {
    const seqCb = stats(await sequential(pushes(SEQ)), 200);
    sent += SEQ;
    const seqBase = stats(await sequential(trivial(SEQ)), 404);
    console.log('--- one request at a time (no queueing)');
    show(`${SEQ} pushes`, seqCb, 200);
    show(`${SEQ} GET 404 (floor)`, seqBase, 404);
    console.log(`  ratio push/floor: p50 ${(seqCb.p50 / seqBase.p50).toFixed(2)}x, p99 ${(seqCb.p99 / seqBase.p99).toFixed(2)}x`);
    if (seqCb.bad) failed = true;
  }

  // Every push answered 200 must be stored once (the worker stores before it answers).
  let total = -1;
  for (let i = 0; i < 50 && total < sent; i++) {
    total = (await stack.api('GET', '/api/events')).json?.total ?? -1;
    if (total < sent) await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`stored events: ${total} of ${sent} pushes sent (each MsgID once)`);
  if (total !== sent) {
    failed = true;
    console.log(stack.logs().slice(-2000));
  }
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  agent.destroy();
  await stack.stop();
}
process.exit(failed ? 1 : 0);
