import type { EndpointName, FollowerPage, Replies, RequestBodies, SendPlan, PlanBatch } from './index.js';
import type { BatchAction, BatchProgress, BatchProgressSnapshot, Pacer } from './progress.js';

export interface TokenProviderResult {
  accessToken: string;
  /** Seconds the token lives; without it the token is kept until WeChat rejects it. */
  expiresIn?: number;
}

export interface ClientOptions {
  /** With appSecret: tokens come from `stable_token` (does not invalidate other holders). */
  appId?: string;
  appSecret?: string;
  /** Instead of appId/appSecret: an external token service (e.g. behind a fixed-IP proxy). */
  tokenProvider?: (request: { forceRefresh: boolean }) => string | TokenProviderResult | Promise<string | TokenProviderResult>;
  /** `https://host[:port][/prefix]`; default `https://api.weixin.qq.com`. */
  apiBase?: string;
  /** Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Clock in Unix ms (tests). Default Date.now. */
  now?: () => number;
  /** How to wait (tests). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout; a timeout counts as a lost reply. Default 15000. */
  timeoutMs?: number;
  /**
   * The rolling minute of mass calls (default: a fresh one). Pass `Pacer.fromJSON(stored)` so
   * calls made before a restart still count, and store `pacer.toJSON()` on each `begin` event.
   */
  pacer?: Pacer;
}

/** What `send` reports while it works; store the batch's `progress.toJSON()` on each one. */
export type SendEvent =
  /** An attempt begins: stored now, a crash mid-request leaves a batch core knows may be sent. */
  | { type: 'begin'; index: number; batch: PlanBatch; attempt: number; progress: BatchProgress }
  /** The attempt's answer (or its loss) was settled; `action` is core's next step (null when core settled the batch without an attempt, e.g. out of attempts). */
  | { type: 'settled'; index: number; batch: PlanBatch; action: BatchAction | null; progress: BatchProgress; answer?: AttemptAnswer }
  /**
   * Nothing may go out before `until` (Unix ms). `reason`: `retry` (core's retry_at, e.g. after
   * 45066 or a lost reply), `quota` (wait_until after 45009/45028), `clientmsgid_window` (an attempt
   * of an earlier run may have reached WeChat: the same clientmsgid goes again after WeChat's
   * minute), or `pacer` (60 mass calls a minute); `answer` is the answer that caused it.
   */
  | { type: 'wait'; index: number; batch: PlanBatch; until: number; progress: BatchProgress; reason: WaitReason; answer: AttemptAnswer | null };

export type WaitReason = 'retry' | 'quota' | 'clientmsgid_window' | 'pacer';

/** What an attempt was answered: the HTTP status, and WeChat's errcode with core's text when it refused. */
export interface AttemptAnswer {
  /** null when no answer came (`lost`). */
  status: number | null;
  lost?: true;
  malformed?: true;
  errcode?: number;
  en?: string | null;
  zh?: string | null;
  class?: string;
}

export interface ClientSendOptions {
  onBatch?: (result: BatchResult) => void | Promise<void>;
  /** Awaited on every event: where a caller stores progress. */
  onProgress?: (event: SendEvent) => void | Promise<void>;
  /**
   * Where each batch starts: a stored snapshot (or BatchProgress) of an earlier run, or
   * undefined for a batch not yet attempted. Settled batches are reported, not sent again.
   */
  progress?: (
    index: number,
    batch: PlanBatch,
  ) => BatchProgress | BatchProgressSnapshot | string | undefined | Promise<BatchProgress | BatchProgressSnapshot | string | undefined>;
  /** Stops before the next attempt or during a wait (rejects with `signal.reason`); an attempt in flight is settled first. */
  signal?: AbortSignal;
  jitter?: () => number;
}

export interface ClientStats {
  tokenFetches: number;
  calls: number;
  retries: number;
}

export type BatchResult =
  | { index: number; clientMsgId: string; ok: true; msgId: string; attempts: number }
  | {
      index: number;
      clientMsgId: string;
      ok: false;
      /** Core's FailReason, e.g. `{ kind: 'api', code, message }`. */
      reason: { kind: string; [key: string]: unknown };
      /** Whether an attempt may have reached WeChat (check mass/get before re-planning). */
      maybeDelivered: boolean;
      message: string;
      attempts: number;
    };

export interface SendResult {
  jobId: string;
  ok: boolean;
  batches: BatchResult[];
}

export interface Client {
  /** The cached access_token, refreshing it (once, whoever asks) when due. */
  token(options?: { forceRefresh?: boolean }): Promise<string>;
  /**
   * One API call: validated and built by core, paced, token added, reply parsed by core. Token
   * errors refresh once; transient errors (class `retry`) are retried with core's backoff.
   */
  call<E extends EndpointName>(endpoint: E, body: RequestBodies[E], options?: { jitter?: () => number }): Promise<Replies[E]>;
  /**
   * Executes a plan batch by batch with core's decisions: a lost reply is retried with the same
   * clientmsgid (45065 = success with the existing msg_id), token errors refresh once, quotas wait.
   */
  send(plan: SendPlan, options?: ClientSendOptions): Promise<SendResult>;
  /**
   * Every follower of `tagId` (user/tag/get) or of the account (user/get, without a tag), paged
   * by core (10,000 a page), each page one call with the token refresh and retries of `call`.
   * `onPage` sees each page with the `cursor` to resume from.
   */
  followers(options?: {
    tagId?: number | string;
    /** Resume after this OpenID (a `cursor` an earlier `onPage` gave). */
    cursor?: string;
    onPage?: (page: FollowerPage & { cursor: string; pages: number; fetched: number }) => void | Promise<void>;
    jitter?: () => number;
  }): Promise<{ openIds: string[]; total: number | null; pages: number; fetched: number }>;
  readonly stats: ClientStats;
}

export declare function createClient(options: ClientOptions): Client;
