import type { WxmassError } from './errors.js';

/** An invalid entry: its position (in the whole list, as the worker counts) and its value. */
export interface InvalidEntry {
  position: number;
  value: string;
}

export interface UploadAudienceProgress {
  /**
   * `create`: the audience exists (`part` 0). `upload`: part `part` is stored. `seal`: every part
   * is stored, sealing starts. `done`: the audience is sealed.
   */
  phase: 'create' | 'upload' | 'seal' | 'done';
  /** The last part stored (0 before any). */
  part: number;
  /** OpenIDs in the parts up to and including `part`, counted from the start of the list. */
  sentOpenIds: number;
  /** The list's length: known from the start for an array, at `seal` for an iterable. */
  totalOpenIds: number | undefined;
  audienceId: string;
}

export interface UploadAudienceOptions {
  /** The worker's base URL, e.g. `https://wxmass.example.workers.dev`. */
  url: string;
  /** Sent as `Authorization: Bearer <adminToken>`. */
  adminToken: string;
  /**
   * One OpenID per entry: an array, or any iterable or async iterable of strings (a browser can
   * stream a File's lines). An empty or odd entry stays one entry at its position; the worker
   * reports it as invalid.
   */
  openIds: Iterable<string> | AsyncIterable<string>;
  /** OpenIDs a part at most (default 100,000); a part is also cut at 3.5 MiB of body. */
  partSize?: number;
  /** After each step; awaited when it returns a promise. */
  onProgress?: (progress: UploadAudienceProgress) => void | Promise<void>;
  /** Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Aborts between and during requests; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Retries of one request after a lost answer, a 5xx or a 429 (default 3). */
  retries?: number;
  /** Continue this audience instead of creating one (with the same `openIds` and `partSize`). */
  audienceId?: string;
  /** With `audienceId`: the first part to send; the parts before it are cut but not sent. Default 1. */
  startPart?: number;
  /** One request's time limit; a timeout counts as a lost answer. Default 120000. */
  timeoutMs?: number;
  /**
   * The account's id on a worker serving several official accounts: the requests go to
   * `/api/accounts/{account}/audiences…`. Default: the worker's default account (`/api/audiences…`).
   */
  account?: string;
}

/** The worker's seal answer, plus the first 20 invalid entries the parts reported. */
export interface SealedAudience {
  id: string;
  state: 'sealed';
  received: number;
  valid: number;
  invalid: number;
  duplicates: number;
  batches: number;
  /** From the parts sent in this call, by position (at most 20). */
  invalidShown: InvalidEntry[];
}

/**
 * What uploadAudience throws (besides `signal.reason` on abort and TypeError for bad options):
 * a WxmassError whose `code` is the worker's `error.code` (`unauthorized`, `part_out_of_order`,
 * `part_reused`, `too_large`, …), or `http_status` (an answer without one), `network` (no answer
 * after the retries), `malformed_reply`, `part_mismatch`, `start_part`.
 */
export interface UploadAudienceError extends WxmassError {
  /** The HTTP status; null when no answer came. */
  status: number | null;
  /** The worker's `error` object as sent (e.g. with `expectedPart`), or null. */
  detail: { code?: string; message?: string; expectedPart?: number; [key: string]: unknown } | null;
  /** The audience being filled (null if creating it failed): pass it back as `audienceId` to resume. */
  audienceId: string | null;
  /** The part that failed (resume with `startPart: part`), or null. */
  part: number | null;
}

/**
 * Creates an audience on the worker (or continues `audienceId`), sends `openIds` in numbered
 * parts and seals it. A part whose answer is lost is sent again under the same number, which
 * the worker counts once.
 */
export declare function uploadAudience(options: UploadAudienceOptions): Promise<SealedAudience>;
