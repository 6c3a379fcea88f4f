// The errors wxmass throws. The wasm module constructs them (see wasm.js, which registers these
// classes), so `instanceof` works for every error, whichever function threw it.

/** A request, reply or callback that core rejected: `code`, field `path`, broken `rule`. */
export class WxmassError extends Error {
  constructor(message, props = {}) {
    super(message);
    this.name = 'WxmassError';
    this.code = props.code ?? 'error';
    this.path = props.path ?? '';
    this.rule = props.rule ?? '';
    this.problems = props.problems ?? [];
  }
}

/**
 * A WeChat reply with `errcode != 0`, with core's Chinese/English text and retry class. `code` is
 * `wechat_busy` or `wechat_rejected` (as in the worker's answers); WeChat's number is `errcode`.
 */
export class ApiError extends Error {
  constructor(message, props = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = props.code ?? 'wechat_rejected';
    this.errcode = props.errcode;
    this.errmsg = props.errmsg ?? '';
    this.zh = props.zh ?? null;
    this.en = props.en ?? null;
    this.class = props.class ?? 'fatal';
    this.msgId = props.msgId ?? null;
  }
}
