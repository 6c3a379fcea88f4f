// What bench.mjs and ab.mjs share: the tag sendall they build (camelCase, as a user passes it, and
// the wire object whose bare JSON.stringify is the comparison) and the timing loop.

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
