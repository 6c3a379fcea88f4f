// Compares two builds of the package on the tag sendall build, in one process: both modules are
// loaded side by side and measured in interleaved rounds with JSON.stringify, so machine noise
// falls on both alike (the shared 2-core machine varies by ±15 % between separate runs).
//
//   scripts/build-npm && cp -r npm/dist /tmp/before    # then change something
//   scripts/build-npm && node npm/bench/ab.mjs /tmp/before npm/dist
//
// Prints the median over 25 rounds of each build's time as a multiple of JSON.stringify's, and
// of the second build's time over the first's (below 1: the second is faster).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { opsPerSec, tagSend, tagSendWire } from './harness.mjs';

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error('usage: node npm/bench/ab.mjs <dist A> <dist B>');
  process.exit(2);
}
const load = (dir) => import(pathToFileURL(resolve(dir, 'index.js')).href);
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
