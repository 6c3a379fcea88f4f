// msg_ids given as JS numbers: refused when the number cannot be the id the caller meant.

/**
 * Throws a TypeError when `value` (the msg_id at `path`) is a JS number that is not a safe
 * integer: above 2^53 the number has already been rounded (9007199254740993 is held as …992), so
 * the request would name another send. Core cannot see this: the rounding happened before the
 * text reached it.
 */
export function checkMsgIdNumber(value, path) {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new TypeError(`${path}: ${value} is not a safe integer (a JS number holds whole numbers exactly only up to 2^53, and WeChat's msg_ids go beyond it); give the msg_id as a string or a bigint`);
  }
}
