import type { JobResult } from './index.js';

/** Why a batch failed (core's FailReason). */
export type FailReason =
  | { kind: 'api'; code: number; message: string }
  | { kind: 'http_status'; status: number }
  | { kind: 'delivered_without_msg_id' }
  | { kind: 'retries_exhausted'; attempts: number; last: string }
  | { kind: 'token_refresh_loop'; refreshes: number; last: string }
  | { kind: 'quota_waits_exhausted'; waits: number }
  | { kind: 'cancelled' };

/** The state of one batch (core's BatchState); msg ids are decimal strings. */
export type BatchState =
  | { state: 'pending' }
  | { state: 'sending'; attempt: number }
  | { state: 'submitted'; msgId: string }
  | { state: 'finished'; msgId: string; result: JobResult }
  | { state: 'failed'; reason: FailReason; maybeDelivered: boolean }
  | { state: 'cancelled' };

/** Core's next step for a batch after an attempt (times in Unix ms). */
export type BatchAction =
  | { action: 'done'; msgId: string }
  | { action: 'retry_at'; at: number }
  | { action: 'refresh_token_then_retry' }
  | { action: 'wait_until'; until: number }
  | { action: 'fail'; reason: FailReason; maybeDelivered: boolean; message: string };

/** What `BatchProgress.toJSON()` gives: everything core keeps about a batch. */
export interface BatchProgressSnapshot {
  state: BatchState;
  attempts: number;
  retries: number;
  tokenRefreshesInARow: number;
  quotaWaits: number;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
  notBefore: number | null;
  /** An attempt began and its outcome was not settled (the process may have died mid-request). */
  awaitingOutcome: boolean;
  maybeDelivered: boolean;
}

/** The life of one batch (core's BatchProgress): begin an attempt, settle it, follow core's action. */
export declare class BatchProgress {
  /** A batch not yet attempted, or the one a snapshot describes. */
  constructor(snapshot?: BatchProgressSnapshot | string);
  /** The batch a snapshot (`toJSON()`'s object or its JSON text) describes; throws WxmassError (path `progress`, rule `json`) for anything else. */
  static fromJSON(snapshot: BatchProgressSnapshot | string): BatchProgress;
  /** Starts an attempt (its number, from 1); store `toJSON()` before sending. Throws WxmassError (rule `batch_state`) when settled or before `notBefore`. */
  beginAttempt(now?: number): number;
  settleHttp(status: number, body: Uint8Array | string, now?: number, jitter?: number): BatchAction;
  /** No usable answer (timeout, dropped connection): the send may have happened. */
  settleLost(now?: number, jitter?: number): BatchAction;
  readonly attempts: number;
  /** Earliest next attempt (Unix ms) core set. */
  readonly notBefore: number | undefined;
  readonly maybeDelivered: boolean;
  readonly state: BatchState;
  /** Submitted, finished, failed or cancelled. */
  readonly settled: boolean;
  toJSON(): BatchProgressSnapshot;
  free(): void;
}

/** What `Pacer.toJSON()` gives: the limit and the recent calls (Unix ms). */
export interface PacerSnapshot {
  limit: number;
  recent: number[];
}

/** At most the API's mass calls a minute in any rolling minute (core's Pacer). */
export declare class Pacer {
  constructor(snapshot?: PacerSnapshot | string);
  static fromJSON(snapshot: PacerSnapshot | string): Pacer;
  /** The earliest time (Unix ms) the next call may start. */
  nextSlot(now?: number): number;
  /** Records a call started at `at` (Unix ms). */
  record(at?: number): void;
  toJSON(): PacerSnapshot;
  free(): void;
}
