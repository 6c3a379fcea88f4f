// The life of one batch (core's BatchProgress) and the per-minute limit (core's Pacer), as
// classes a sender drives and stores. Every decision is core's; this file only shapes the calls
// and turns a stored snapshot (an object or its JSON text) into the JSON text core reads.
import * as wasm from './wasm.js';
import { WxmassError } from './errors.js';
import { checkMsgIdNumber } from './msgid.js';

const bigintAsString = (_key, v) => (typeof v === 'bigint' ? v.toString() : v);
const snapshotText = (snapshot) => {
  if (typeof snapshot === 'string') return snapshot;
  checkMsgIdNumber(snapshot?.state?.msgId, 'state.msgId');
  return JSON.stringify(snapshot, bigintAsString);
};

/**
 * One batch: `beginAttempt(now)` before each request (store the snapshot then: if the process
 * dies mid-request, the restored batch knows the send may have happened), then
 * `settleHttp(status, body, now, jitter)` or `settleLost(now, jitter)` for core's next action.
 * `new BatchProgress()` is a batch not yet attempted; `BatchProgress.fromJSON(snapshot)` is one
 * as `toJSON()` left it.
 */
export class BatchProgress {
  #inner;
  constructor(snapshot) {
    this.#inner = snapshot === undefined ? new wasm.BatchProgress() : wasm.BatchProgress.fromJSON(snapshotText(snapshot));
  }
  /** The batch a snapshot (`toJSON()`'s object, or its JSON text) describes. */
  static fromJSON(snapshot) {
    return new BatchProgress(snapshot);
  }
  /** Starts an attempt; throws WxmassError (rule `batch_state`) when settled or too early. */
  beginAttempt(now = Date.now()) {
    return this.#inner.beginAttempt(now);
  }
  /** Core's next action after an HTTP answer (`status`, body bytes or text). */
  settleHttp(status, body, now = Date.now(), jitter = 0) {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    return this.#inner.settleHttp(status, bytes, now, jitter >>> 0);
  }
  /** Core's next action after an attempt with no usable answer (it may have reached WeChat). */
  settleLost(now = Date.now(), jitter = 0) {
    return this.#inner.settleLost(now, jitter >>> 0);
  }
  get attempts() {
    return this.#inner.attempts;
  }
  /** Earliest next attempt (Unix ms) core set, or undefined. */
  get notBefore() {
    return this.#inner.notBefore;
  }
  get maybeDelivered() {
    return this.#inner.maybeDelivered;
  }
  /** `{ state: 'pending' | 'sending' | 'submitted' | 'finished' | 'failed' | 'cancelled', … }` */
  get state() {
    return this.#inner.state;
  }
  /** Submitted, finished, failed or cancelled: no further attempt. */
  get settled() {
    return this.#inner.settled;
  }
  /** What core keeps about the batch, to store (JSON.stringify calls this). */
  toJSON() {
    return this.#inner.toJSON();
  }
  free() {
    this.#inner.free();
  }
}

/** At most the API's calls a minute, in any rolling minute (core's pacer), storable. */
export class Pacer {
  #inner;
  constructor(snapshot) {
    if (snapshot === undefined) {
      this.#inner = new wasm.Pacer();
      return;
    }
    const { limit, recent } = typeof snapshot === 'string' ? JSON.parse(snapshot) : snapshot ?? {};
    const bad = !Number.isInteger(limit) ? 'limit' : !Array.isArray(recent) || !recent.every(Number.isFinite) ? 'recent' : null;
    if (bad) {
      throw new WxmassError(`pacer.${bad}: not a Pacer snapshot (toJSON() gives { limit, recent })`, { code: 'pacer', path: `pacer.${bad}`, rule: 'type' });
    }
    this.#inner = wasm.Pacer.restore(Math.max(0, limit), Float64Array.from(recent));
  }
  static fromJSON(snapshot) {
    return new Pacer(snapshot);
  }
  /** The earliest time (Unix ms) the next call may start. */
  nextSlot(now = Date.now()) {
    return this.#inner.nextSlot(now);
  }
  /** Records a call started at `at` (Unix ms). */
  record(at = Date.now()) {
    this.#inner.record(at);
  }
  toJSON() {
    return this.#inner.toJSON();
  }
  free() {
    this.#inner.free();
  }
}
