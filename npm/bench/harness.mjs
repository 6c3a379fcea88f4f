// What bench.mjs and ab.mjs share: the tag sendall they build (camelCase, as a user passes it, and
// the wire object whose bare JSON.stringify is the comparison), the timing loop and the planSend
// of a million OpenIDs.

export const tagSend = { filter: { isToAll: false, tagId: 2 }, msgType: 'mpnews', mpnews: { mediaId: '123dsdajkasd231jhksad' }, sendIgnoreReprint: 0, clientMsgId: 'job-2024-06-01/batch-0' };
export const tagSendWire = { filter: { is_to_all: false, tag_id: 2 }, mpnews: { media_id: '123dsdajkasd231jhksad' }, msgtype: 'mpnews', send_ignore_reprint: 0, clientmsgid: 'job-2024-06-01/batch-0' };

// Each result is kept here so no engine can drop the timed calls.
let sink;
/** Calls per second of `fn` over `ms` milliseconds, after 2,000 warm-up calls. */
export function opsPerSec(fn, ms = 1000) {
  for (let i = 0; i < 2000; i++) sink = fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 200; i++) sink = fn();
    n += 200;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

/** Calls per second of each of `fns` (an object of functions), measured in `rounds` interleaved
 *  rounds of `ms` each and reported as the median round: machine noise that comes and goes
 *  falls on all of them alike, so their ratios hold better than separate measurements'. */
export function interleavedOpsPerSec(fns, rounds = 7, ms = 300) {
  const runs = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of Object.entries(fns)) runs[k].push(opsPerSec(fn, ms));
  }
  return Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, [...xs].sort((a, b) => a - b)[xs.length >> 1]]));
}

/** planSend of 1,000,000 OpenIDs (100 batches) five times with `wx` (a loaded build of the
 *  package): the first call's milliseconds, the median of the five, and all five. */
export function planMillion(wx) {
  const openids = Array.from({ length: 1_000_000 }, (_, i) => 'oR5Gjjl_eiZoUpGozMo' + String(i).padStart(9, '0'));
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const plan = wx.planSend({ jobId: 'bench-1m', message: { msgType: 'text', text: { content: 'hi' } }, audience: { openIds: openids } });
    times.push(performance.now() - t0);
    if (plan.batchCount !== 100) throw new Error('plan');
    plan.free();
  }
  return { first: times[0], median: [...times].sort((a, b) => a - b)[2], times };
}
