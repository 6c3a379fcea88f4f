/** One problem of a request: where, which rule, a readable message and the offending value. */
export interface Problem {
  /**
   * Field path in your own naming, so a form can show the problem next to its field. A key you
   * wrote is named exactly as written (`toUser[17]`, `articles[0].showCoverPic`); a missing one by
   * its camelCase name when any key of the body is a camelCase one (`mpnews.mediaId`), by its wire
   * (snake_case) name otherwise (`msgtype`). List entries are `[n]`; `''` is the whole body.
   */
  path: string;
  /** Stable rule name: `required`, `count`, `flag`, `openid_format`, `duplicate`, `clientmsgid`, `range`, `type`, `msgtype`, `unknown_field`, … */
  rule: string;
  /** English explanation, starting with the path. */
  message: string;
  /** The offending value (shortened), or null when absent. */
  value: string | null;
}

/** The `code` of an {@link ApiError}: a string, as every error code here. */
export type ApiErrorCode = 'wechat_busy' | 'wechat_rejected';

/** What to do about a WeChat error. */
export type ErrorClass = 'retry' | 'refresh-token' | 'quota' | 'duplicate' | 'fatal';

/**
 * A request, reply or callback that core rejected. `code` says what kind (`validation`,
 * `malformed_reply`, `unknown_endpoint`, `api_base`, `http_status`, or a callback/event/plan
 * error code); `path` and `rule` name the first problem, `problems` lists them all.
 */
export declare class WxmassError extends Error {
  constructor(message: string, props?: { code?: string; path?: string; rule?: string; problems?: Problem[] });
  readonly name: 'WxmassError';
  code: string;
  path: string;
  rule: string;
  problems: Problem[];
}

/** A WeChat reply with `errcode != 0`: the same fields as the worker's `error` for it. */
export declare class ApiError extends Error {
  constructor(
    message: string,
    props?: { code?: ApiErrorCode; errcode?: number; errmsg?: string; zh?: string | null; en?: string | null; class?: ErrorClass; msgId?: string | null },
  );
  readonly name: 'ApiError';
  /** `wechat_busy` when retrying later can help (class `retry`), else `wechat_rejected`. */
  code: ApiErrorCode;
  /** WeChat's errcode. */
  errcode: number;
  /** WeChat's errmsg, as sent. */
  errmsg: string;
  /** Chinese text from core's code table (null for a code core does not know). */
  zh: string | null;
  /** English text from core's code table. */
  en: string | null;
  /** What to do about it; unknown codes are `fatal`. */
  class: ErrorClass;
  /** For 45065: the msg_id of the send that already exists, as a decimal string. */
  msgId: string | null;
}
