// Compares two builds of the package on the tag sendall build, in one process: both modules are
// loaded side by side and measured in interleaved rounds with JSON.stringify, so machine noise
// falls on both alike (the shared 2-core machine varies by ±15 % between separate runs). Then
// planSend of 1,000,000 OpenIDs: each build in three fresh processes, alternating A and B (a
// first call pays one-time costs, fresh wasm pages and a major GC, that a shared process would
// charge to whichever build ran first), five calls each.
//
//   scripts/build-npm && cp -r npm/dist /tmp/before    # then change something
//   scripts/build-npm && node npm/bench/ab.mjs /tmp/before npm/dist
//
// Prints the median over 25 rounds of each build's time as a multiple of JSON.stringify's, and
// of the second build's time over the first's (below 1: the second is faster); then each build's
// planSend first calls and medians of five.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { opsPerSec, planMillion, tagSend, tagSendWire } from './harness.mjs';

const load = (dir) => import(pathToFileURL(resolve(dir, 'index.js')).href);

// A child process of the planSend comparison: one build, five calls, the times as JSON.
if (process.argv[2] === '--plan') {
  console.log(JSON.stringify(planMillion(await load(process.argv[3]))));
  process.exit(0);
}

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error('usage: node npm/bench/ab.mjs <dist A> <dist B>');
  process.exit(2);
}
const [A, B] = await Promise.all([load(dirA), load(dirB)]);

const body = JSON.stringify(tagSendWire);
if (A.buildSendAll(tagSend).body !== body || B.buildSendAll(tagSend).body !== body) throw new Error('the builds disagree on the body');

const nsPerCall = (fn) => 1e9 / opsPerSec(fn, 100);
const ratioA = [];
const ratioB = [];
const bOverA = [];
for (let round = 0; round < 25; round++) {
  const a = nsPerCall(() => A.buildSendAll(tagSend));
  const b = nsPerCall(() => B.buildSendAll(tagSend));
  const s = nsPerCall(() => JSON.stringify(tagSendWire));
  ratioA.push(a / s);
  ratioB.push(b / s);
  bOverA.push(b / a);
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log(`buildSendAll, time as a multiple of JSON.stringify (median of 25 rounds):`);
console.log(`  A ${dirA}: ${median(ratioA).toFixed(2)}×`);
console.log(`  B ${dirB}: ${median(ratioB).toFixed(2)}×`);
console.log(`  B / A: ${median(bOverA).toFixed(3)}`);

const self = fileURLToPath(import.meta.url);
const plans = { A: [], B: [] };
for (let round = 0; round < 3; round++) {
  for (const [name, dir] of [['A', dirA], ['B', dirB]]) {
    plans[name].push(JSON.parse(execFileSync(process.execPath, [self, '--plan', dir], { encoding: 'utf8' })));
  }
}
console.log(`planSend, 1,000,000 OpenIDs (3 fresh processes each, 5 calls a process):`);
for (const [name, dir] of [['A', dirA], ['B', dirB]]) {
  const firsts = plans[name].map((p) => p.first);
  const medians = plans[name].map((p) => p.median);
  const ms = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`  ${name} ${dir}: first call ${ms(firsts)} ms (median ${median(firsts).toFixed(0)}), median of 5 ${ms(medians)} ms (median ${median(medians).toFixed(0)})`);
}
