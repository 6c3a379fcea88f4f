// The errcodes the simulator answers with, and their errmsg text as WeChat writes it.
// Where the platform's exact choice is not documented the choice is recorded in README.md
// ("Choices where the spec is silent").

export const ERRMSG = {
  [-1]: 'system error',
  0: 'ok',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid media size',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40035: 'invalid args',
  40066: 'invalid url',
  40073: 'invalid card id',
  40125: 'invalid appsecret',
  40130: 'invalid openid list size, at least two openid',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41005: 'media data missing',
  42001: 'access_token expired',
  45001: 'media size out of limit',
  43001: 'require GET method',
  43002: 'require POST method',
  44002: 'empty post data',
  44003: 'empty news data',
  44004: 'empty content',
  45008: 'article size out of limit',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit, mustslower, retry next minute',
  45028: 'has no masssend quota',
  45065: 'clientmsgid exist',
  45066: 'same clientmsgid retry too fast',
  45067: 'clientmsgid size out of limit',
  45083: 'speed out of range',
  45084: 'no speed message',
  45159: 'invalid tag id',
  47001: 'data format error',
  48001: 'api unauthorized',
};

/** A WeChat-level rejection: becomes `{"errcode":code,"errmsg":"<msg> hint: [<hint>]"}`. */
export class WxError extends Error {
  constructor(errcode, hint, extra) {
    super(`${errcode} ${ERRMSG[errcode] ?? 'error'}${hint ? ` (${hint})` : ''}`);
    this.errcode = errcode;
    this.hint = hint;
    this.extra = extra; // extra reply fields, e.g. msg_id for 45065
  }
}

/** Reply object for an errcode; WeChat appends `hint: [...]` to errmsg, clients must match errcode only. */
export function errReply(errcode, hint, extra) {
  const base = ERRMSG[errcode] ?? 'error';
  return { errcode, errmsg: hint ? `${base} hint: [${hint}]` : base, ...(extra ?? {}) };
}
