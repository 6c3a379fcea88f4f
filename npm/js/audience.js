// uploadAudience: sends a list of OpenIDs to a wxmass worker's admin API in numbered parts and
// seals it. Plain JS on fetch (no WebAssembly, no Node-only API), so it runs in browsers too.
// The worker keeps each part by its number and body, so a part whose answer was lost is sent
// again under the same number and counted once.
import { WxmassError } from './errors.js';

/** The worker refuses admin bodies over 4 MiB; a part is cut at 3.5 MiB of body text. */
const MAX_PART_BYTES = 3.5 * 1024 * 1024;
const MAX_SHOWN = 20;
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_BACKOFF_MS = 8_000;

// A part goes as text, one OpenID a line, when every entry is visible ASCII without `"` or `\`
// (every real OpenID is). Otherwise (an empty entry, spaces, a line break, non-ASCII, …) the part
// goes as a JSON array, where each entry stays one entry at its position, whatever it holds.
const PLAIN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const utf8 = new TextEncoder();

const aborted = (signal) => signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), capped; null if absent. */
function retryAfterMs(value) {
  if (value == null || value === '') return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

/** 0.5 s, 1 s, 2 s, … (at most 8 s), each plus up to half again at random. */
const backoffMs = (attempt) => Math.min(500 * 2 ** (attempt - 1), MAX_BACKOFF_MS) * (1 + Math.random() / 2);

/** The parts of `openIds`, cut at `partSize` entries or MAX_PART_BYTES of body, in order. */
async function* cutParts(openIds, partSize) {
  let ids = [];
  let textBytes = 0; // body size as text: each entry plus its line break
  let jsonBytes = 2; // body size as a JSON array: [ ] and each entry quoted plus its comma
  let json = false;
  let position = 0;
  const flush = () => {
    const part = {
      count: ids.length,
      end: position,
      contentType: json ? 'application/json' : 'text/plain; charset=utf-8',
      body: json ? JSON.stringify(ids) : ids.join('\n'),
    };
    ids = [];
    textBytes = 0;
    jsonBytes = 2;
    json = false;
    return part;
  };
  const add = (id) => {
    if (typeof id !== 'string') {
      throw new TypeError(`uploadAudience: openIds[${position}] is ${id === null ? 'null' : typeof id}, not a string`);
    }
    const plain = PLAIN.test(id);
    const jsonCost = plain ? id.length + 3 : utf8.encode(JSON.stringify(id)).length + 1;
    const asJson = json || !plain;
    const size = asJson ? jsonBytes + jsonCost : textBytes + id.length + 1;
    let part;
    if (ids.length > 0 && (ids.length >= partSize || size > MAX_PART_BYTES)) part = flush();
    ids.push(id);
    position++;
    textBytes += id.length + 1;
    jsonBytes += jsonCost;
    json ||= !plain;
    return part;
  };
  if (Array.isArray(openIds)) {
    for (let i = 0; i < openIds.length; i++) {
      const part = add(openIds[i]);
      if (part) yield part;
    }
  } else if (typeof openIds?.[Symbol.asyncIterator] === 'function') {
    for await (const id of openIds) {
      const part = add(id);
      if (part) yield part;
    }
  } else {
    for (const id of openIds) {
      const part = add(id);
      if (part) yield part;
    }
  }
  if (ids.length > 0) yield flush();
}

/**
 * uploadAudience({ url, adminToken, openIds, partSize, onProgress, fetch, signal, retries,
 * audienceId, startPart, timeoutMs, account }): creates an audience on the worker (or continues
 * `audienceId` from `startPart`), sends `openIds` in parts and seals it. Resolves to the seal
 * answer plus `invalidShown` (the first 20 invalid entries of the parts sent, by position).
 */
export async function uploadAudience(options = {}) {
  const {
    url,
    adminToken,
    openIds,
    partSize = 100_000,
    onProgress,
    fetch: fetchImpl = globalThis.fetch,
    signal,
    retries = 3,
    audienceId: resumeId,
    startPart = 1,
    timeoutMs = 120_000,
    account,
  } = options;
  if (typeof url !== 'string' || url === '') throw new TypeError('uploadAudience: url is required (the worker, e.g. https://wxmass.example.workers.dev)');
  if (typeof adminToken !== 'string' || adminToken === '') throw new TypeError('uploadAudience: adminToken is required');
  if (openIds == null || typeof openIds === 'string' || (typeof openIds[Symbol.iterator] !== 'function' && typeof openIds[Symbol.asyncIterator] !== 'function')) {
    throw new TypeError('uploadAudience: openIds must be an array or an (async) iterable of strings, one OpenID each');
  }
  if (!Number.isInteger(partSize) || partSize < 1) throw new TypeError('uploadAudience: partSize must be a positive integer');
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError('uploadAudience: retries must be an integer ≥ 0');
  if (!Number.isInteger(startPart) || startPart < 1) throw new TypeError('uploadAudience: startPart must be an integer ≥ 1');
  if (startPart > 1 && resumeId == null) throw new TypeError('uploadAudience: startPart needs the audienceId of the upload to continue');
  if (!(timeoutMs > 0)) throw new TypeError('uploadAudience: timeoutMs must be a positive number');
  if (typeof fetchImpl !== 'function') throw new TypeError('uploadAudience: no fetch available; pass options.fetch');
  if (account !== undefined && (typeof account !== 'string' || account === '')) throw new TypeError('uploadAudience: account must be an account id (a non-empty string)');
  if (Array.isArray(openIds)) {
    // Before anything is created: an array's entries are all known now.
    const bad = openIds.findIndex((id) => typeof id !== 'string');
    if (bad >= 0) throw new TypeError(`uploadAudience: openIds[${bad}] is ${openIds[bad] === null ? 'null' : typeof openIds[bad]}, not a string`);
  }
  try {
    new URL(url);
  } catch {
    throw new TypeError(`uploadAudience: url is not an absolute URL: ${url}`);
  }
  const base = url.replace(/\/+$/, '');
  // A worker serving several official accounts answers each under /api/accounts/{id}/…; the
  // paths without it are its default account's.
  const api = account === undefined ? '/api' : `/api/accounts/${encodeURIComponent(account)}`;
  const checkAbort = () => {
    if (signal?.aborted) throw aborted(signal);
  };

  let audienceId = resumeId == null ? null : String(resumeId);
  let part = 0;
  let sentOpenIds = 0;
  let totalOpenIds = Array.isArray(openIds) ? openIds.length : undefined;
  const progress = async (phase) => {
    if (onProgress) await onProgress({ phase, part, sentOpenIds, totalOpenIds, audienceId });
  };

  /** One attempt: `{ status, headers, json, text }` (`json` undefined unless the body is JSON). A lost answer throws an Error with `lost`; an abort throws `signal.reason`. */
  async function attempt(path, contentType, body) {
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(aborted(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    try {
      checkAbort();
      const res = await fetchImpl(base + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': contentType },
        body,
        signal: ctrl.signal,
      });
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text };
    } catch (e) {
      if (signal?.aborted) throw aborted(signal);
      throw Object.assign(new Error(timedOut ? `no answer within ${timeoutMs} ms` : String(e?.message ?? e)), { lost: true, cause: e });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  const failure = (message, props, extra) => Object.assign(new WxmassError(`uploadAudience: ${message}`, props), { status: null, detail: null, audienceId, part: null, ...extra });

  /**
   * POSTs until an answer that is not worth retrying: a lost answer (network error, timeout),
   * 5xx or 429 is tried again, the same request, up to `retries` times. Returns 2xx and 409
   * answers (the caller reads 409); throws WxmassError for the rest.
   */
  async function post(path, contentType, body, what, partNumber = null) {
    for (let failures = 0; ; ) {
      checkAbort();
      let res;
      let error;
      try {
        res = await attempt(path, contentType, body);
      } catch (e) {
        if (!e.lost) throw e;
        error = e;
      }
      if (res && (res.status < 500 && res.status !== 429)) {
        if ((res.status >= 200 && res.status < 300) || res.status === 409) {
          if ((typeof res.json === 'object' && res.json !== null) || res.status === 409) return res;
          throw failure(`${what}: HTTP ${res.status} with a body that is not JSON`, { code: 'malformed_reply', rule: 'malformed_reply' }, { status: res.status, part: partNumber });
        }
        throw httpFailure(res, what, partNumber);
      }
      if (++failures > retries) {
        if (res) throw httpFailure(res, what, partNumber);
        throw failure(`${what}: ${error.message} (after ${failures} attempts)`, { code: 'network', rule: 'network' }, { part: partNumber, cause: error.cause });
      }
      const wait = res ? retryAfterMs(res.headers.get('retry-after')) : null;
      await sleep(wait ?? backoffMs(failures), signal);
    }
  }

  function httpFailure(res, what, partNumber) {
    const e = res.json && typeof res.json.error === 'object' && res.json.error !== null ? res.json.error : {};
    const code = typeof e.code === 'string' && e.code !== '' ? e.code : 'http_status';
    const message = typeof e.message === 'string' ? e.message : res.text.slice(0, 200);
    return failure(
      `${what}: HTTP ${res.status} ${code}${message ? `: ${message}` : ''}`,
      { code, path: typeof e.path === 'string' ? e.path : '', rule: typeof e.rule === 'string' ? e.rule : code, problems: Array.isArray(e.problems) ? e.problems : [] },
      { status: res.status, detail: res.json?.error ?? null, part: partNumber },
    );
  }

  checkAbort();
  if (audienceId == null) {
    const created = await post(`${api}/audiences`, 'application/json', '{}', 'create the audience');
    if (created.status === 409) throw httpFailure(created, 'create the audience');
    if (typeof created.json?.id !== 'string' || created.json.id === '') {
      throw failure('create the audience: the answer has no id', { code: 'malformed_reply', rule: 'malformed_reply' }, { status: created.status });
    }
    audienceId = created.json.id;
    await progress('create');
  }

  const partsPath = `${api}/audiences/${encodeURIComponent(audienceId)}/openids?part=`;
  const invalidShown = [];
  for await (const cut of cutParts(openIds, partSize)) {
    part++;
    sentOpenIds = cut.end;
    if (part < startPart) continue; // sent by an earlier call
    checkAbort();
    const what = `part ${part} of audience ${audienceId}`;
    const res = await post(partsPath + part, cut.contentType, cut.body, `send ${what}`, part);
    if (res.status === 409) {
      // The worker expects the next part: this one is stored (an earlier attempt landed and
      // its answer was lost). Any other expectation means the parts do not line up: stop.
      const expected = res.json?.error?.expectedPart;
      if (!(res.json?.error?.code === 'part_out_of_order' && expected === part + 1)) throw httpFailure(res, `send ${what}`, part);
    } else {
      const answer = res.json;
      if (typeof answer.received === 'number' && answer.received !== cut.count) {
        throw failure(`send ${what}: the worker read ${answer.received} OpenIDs in a part of ${cut.count}`, { code: 'part_mismatch', rule: 'part_mismatch' }, { status: res.status, part });
      }
      if (Array.isArray(answer.invalidShown)) {
        for (const shown of answer.invalidShown) if (invalidShown.length < MAX_SHOWN) invalidShown.push(shown);
      }
    }
    await progress('upload');
  }
  totalOpenIds = sentOpenIds;
  if (part < startPart - 1) {
    throw failure(`openIds make ${part} parts of ${partSize}, fewer than startPart ${startPart} needs`, { code: 'start_part', rule: 'start_part' });
  }

  await progress('seal');
  const sealed = await post(`${api}/audiences/${encodeURIComponent(audienceId)}/seal`, 'application/json', '{}', `seal audience ${audienceId}`);
  if (sealed.status === 409) throw httpFailure(sealed, `seal audience ${audienceId}`);
  const result = { ...sealed.json, invalidShown };
  await progress('done');
  return result;
}
