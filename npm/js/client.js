// A small fetch-based client: access_token caching through stable_token, one refresh shared by
// concurrent callers, refresh-and-retry on token errors, pacing of mass-send calls, and plan
// execution. Every body, every reply and every decision (error class, retry, wait, pacing) comes
// from core through ./wasm.js; this file only moves bytes and waits.
import * as wasm from './wasm.js';
import { ApiError, WxmassError } from './errors.js';
import { BatchProgress, Pacer } from './progress.js';

const randomU32 = () => (Math.random() * 0x1_0000_0000) >>> 0;
const defaultSleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const bigintAsString = (_key, v) => (typeof v === 'bigint' ? v.toString() : v);
const bodyJson = (body) => JSON.stringify(body ?? {}, bigintAsString);

/**
 * What an attempt's answer was, for a person and a log: `{ status }`, plus WeChat's `errcode`
 * and core's `en`, `zh` and `class` when WeChat refused (the decision itself is core's, from the
 * same bytes).
 */
function answerOf(status, body) {
  if (status !== 200) return { status };
  try {
    wasm.parseReply('send', body);
    return { status };
  } catch (e) {
    if (e instanceof ApiError) return { status, errcode: e.errcode, en: e.en, zh: e.zh, class: e.class };
    return { status, malformed: true };
  }
}

/**
 * createClient({ appId, appSecret } | { tokenProvider }, { apiBase, fetch, now, sleep, timeoutMs })
 */
export function createClient(options = {}) {
  const {
    appId,
    appSecret,
    tokenProvider,
    apiBase,
    fetch: fetchImpl = globalThis.fetch,
    now = Date.now,
    sleep = defaultSleep,
    timeoutMs = 15_000,
    pacer = new Pacer(),
  } = options;
  if (typeof fetchImpl !== 'function') throw new TypeError('createClient: no fetch available; pass options.fetch');
  if (!tokenProvider && !(appId && appSecret)) {
    throw new TypeError('createClient: pass appId and appSecret, or a tokenProvider');
  }
  // Validates apiBase once, at creation (throws WxmassError code api_base).
  wasm.buildRequest('speed/get', '{}', apiBase, undefined);

  let cached = null; // { token, refreshAt }
  let inflight = null; // the one refresh everybody waits for
  const stats = { tokenFetches: 0, calls: 0, retries: 0 };

  async function fetchToken(forceRefresh) {
    stats.tokenFetches++;
    if (tokenProvider) {
      const t = await tokenProvider({ forceRefresh });
      const token = typeof t === 'string' ? t : t?.accessToken;
      if (!token) throw new WxmassError('tokenProvider returned no access token', { code: 'token', rule: 'token' });
      return { token, refreshAt: wasm.tokenRefreshAt(now(), typeof t === 'object' ? t.expiresIn ?? null : null) };
    }
    const req = wasm.buildRequest('stable_token', bodyJson({ appId, secret: appSecret, forceRefresh }), apiBase, undefined);
    const res = await exchange(req);
    const reply = wasm.parseReplyText('stable_token', await res.text());
    return { token: reply.accessToken, refreshAt: wasm.tokenRefreshAt(now(), reply.expiresIn) };
  }

  /** The cached token, or the result of the single refresh in flight. */
  function token({ forceRefresh = false } = {}) {
    if (!forceRefresh && cached && now() < cached.refreshAt) return Promise.resolve(cached.token);
    if (!inflight) {
      inflight = fetchToken(forceRefresh)
        .then((t) => {
          cached = t;
          return t.token;
        })
        .finally(() => {
          inflight = null;
        });
    }
    return inflight;
  }

  /** Drops `used` from the cache (unless a concurrent refresh already replaced it). */
  function invalidate(used) {
    if (cached && cached.token === used) cached = null;
  }

  async function exchange(req) {
    const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = ctrl ? setTimeout(() => ctrl.abort(), timeoutMs) : null;
    try {
      // A GET carries no body (fetch refuses one) and so no content type.
      const get = req.method === 'GET';
      return await fetchImpl(req.url, {
        method: req.method,
        headers: get ? {} : { 'content-type': req.contentType },
        body: get ? undefined : req.body,
        signal: ctrl?.signal,
      });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async function paced(endpoint) {
    if (!wasm.isMassEndpoint(endpoint)) return;
    for (;;) {
      const at = pacer.nextSlot(now());
      if (at <= now()) break;
      await sleep(at - now());
    }
    pacer.record(now());
  }

  /**
   * One API call: build (validates), pace, send with the token, parse. A token error refreshes
   * the token once and retries; a transient error (class `retry`, or no usable answer for a
   * read-only call) is retried after core's backoff; everything else is thrown (ApiError with
   * its class). Sends go through `send(plan)`, whose clientmsgids make retries safe.
   */
  async function call(endpoint, body, { jitter = randomU32 } = {}) {
    const build = (accessToken) => {
      const upload = fileUpload(endpoint);
      return upload ? upload(body ?? {}, { apiBase, accessToken }) : wasm.buildRequest(endpoint, bodyJson(body), apiBase, accessToken);
    };
    build(undefined); // validation problems surface before any token or network use
    const retryLost = READ_ONLY.has(endpoint) || getEndpoints().has(endpoint);
    return (await exchangeReply(endpoint, build, { jitter, retryLost })).reply;
  }

  /**
   * Executes a plan (from planSend) batch by batch. Every attempt of a batch carries the batch's
   * fixed clientmsgid; after each attempt core's decision says what next: done (a new msg_id, or
   * 45065's existing one), retry at, refresh the token and retry, wait for a quota, or fail.
   * A lost reply is retried with the same clientmsgid, so WeChat never delivers a batch twice.
   *
   * To survive a crash, store each batch's progress on every `onProgress` event (`begin` comes
   * before the request goes out) and pass it back as `progress` on the next run: a batch that
   * was submitted is not sent again, and one whose request may have gone out is sent again with
   * the same clientmsgid only once WeChat answers that with 45065 and the existing msg_id.
   */
  async function send(plan, { onBatch, onProgress, progress: restore, signal, jitter = randomU32 } = {}) {
    const results = [];
    const stopIfAborted = () => {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    };
    const wait = async (ms) => {
      stopIfAborted();
      if (!signal) return sleep(ms);
      let onAbort;
      const aborted = new Promise((resolve) => {
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        await Promise.race([sleep(ms), aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      stopIfAborted();
    };
    const emit = async (event) => {
      if (onProgress) await onProgress(event);
    };
    for (const batch of plan.batches()) {
      const given = restore ? await restore(batch.index, batch) : undefined;
      const progress = given instanceof BatchProgress ? given : new BatchProgress(given ?? undefined);
      const settledResult = () => {
        const s = progress.state;
        if (s.msgId !== undefined) {
          return { index: batch.index, clientMsgId: batch.clientMsgId, ok: true, msgId: s.msgId, attempts: progress.attempts };
        }
        const reason = s.reason ?? { kind: s.state };
        const maybeDelivered = Boolean(s.maybeDelivered);
        return { index: batch.index, clientMsgId: batch.clientMsgId, ok: false, reason, maybeDelivered, message: `${s.state} (${reason.kind})`, attempts: progress.attempts };
      };
      let result = progress.settled ? settledResult() : undefined;
      let wake = 0;
      // Why the next wait happens, said with it: `retry` (core's retry_at), `quota` (wait_until),
      // `clientmsgid_window` (an earlier attempt may have reached WeChat), or `pacer`; and the
      // answer that caused it.
      let why = progress.maybeDelivered || progress.toJSON().awaitingOutcome ? 'clientmsgid_window' : null;
      let answer = null;
      while (!result) {
        const slot = pacer.nextSlot(now());
        const at = Math.max(wake, progress.notBefore ?? 0, slot);
        if (at > now()) {
          const reason = at === slot && slot > Math.max(wake, progress.notBefore ?? 0) ? 'pacer' : why ?? 'retry';
          await emit({ type: 'wait', index: batch.index, batch, until: at, progress, reason, answer });
          await wait(at - now());
          continue;
        }
        stopIfAborted();
        const used = await token();
        const started = now();
        let attempt;
        try {
          attempt = progress.beginAttempt(started);
        } catch (e) {
          // Too early (an attempt of an earlier run may have reached WeChat: core waits for its
          // clientmsgid window) or out of attempts: core changed the progress either way.
          if (progress.settled) {
            result = settledResult();
            await emit({ type: 'settled', index: batch.index, batch, action: null, progress });
            break;
          }
          if ((progress.notBefore ?? 0) > started) {
            wake = progress.notBefore;
            why = 'clientmsgid_window';
            continue;
          }
          throw e;
        }
        const req = plan.request(batch.index, { apiBase, accessToken: used });
        pacer.record(started);
        stats.calls++;
        await emit({ type: 'begin', index: batch.index, batch, attempt, progress });
        let action;
        try {
          const res = await exchange(req);
          const body = new Uint8Array(await res.arrayBuffer());
          action = progress.settleHttp(res.status, body, now(), jitter());
          answer = answerOf(res.status, body);
        } catch {
          // Timeout or dropped connection: the send may have happened; core decides.
          action = progress.settleLost(now(), jitter());
          answer = { status: null, lost: true };
        }
        why = action.action === 'wait_until' ? 'quota' : 'retry';
        await emit({ type: 'settled', index: batch.index, batch, action, progress, answer });
        if (action.action === 'done') {
          result = { index: batch.index, clientMsgId: batch.clientMsgId, ok: true, msgId: action.msgId, attempts: progress.attempts };
          break;
        }
        if (action.action === 'fail') {
          result = {
            index: batch.index,
            clientMsgId: batch.clientMsgId,
            ok: false,
            reason: action.reason,
            maybeDelivered: action.maybeDelivered,
            message: action.message,
            attempts: progress.attempts,
          };
          break;
        }
        stats.retries++;
        if (action.action === 'refresh_token_then_retry') invalidate(used);
        wake = action.at ?? action.until ?? 0; // retry_at / wait_until
      }
      results.push(result);
      if (onBatch) await onBatch(result);
    }
    return { jobId: plan.jobId, ok: results.every((r) => r.ok), batches: results };
  }

  /**
   * Every follower of tag `tagId` (or of the account, without one): pages through `user/tag/get`
   * or `user/get` with core's pager, each page one `call` (token refresh and retries included).
   * `onPage({ openIds, total, done, cursor, pages, fetched })` sees each page (store `cursor` to
   * resume with `cursor` later). Resolves to `{ openIds, total, pages, fetched }`.
   */
  async function followers({ tagId, cursor, onPage, jitter } = {}) {
    const pager = new wasm.FollowerPager(tagId === undefined || tagId === null ? undefined : String(tagId), cursor ?? undefined);
    const openIds = [];
    let total = null;
    try {
      for (;;) {
        const head = pager.nextRequest(apiBase, undefined);
        if (head === null) break;
        const { text } = await exchangeReply(pager.endpoint, (used) => pager.nextRequest(apiBase, used), { jitter });
        const step = pager.feed(text);
        for (const id of step.openIds) openIds.push(id);
        total = step.total ?? total;
        if (onPage) await onPage({ ...step, cursor: pager.cursor, pages: pager.pages, fetched: pager.fetched });
      }
      return { openIds, total, pages: pager.pages, fetched: pager.fetched };
    } finally {
      pager.free();
    }
  }

  /**
   * One exchange with the token, its refresh and core's retries, for a request built per token:
   * the reply once WeChat did not refuse it, as text and as parsed for `endpoint`. A lost answer
   * is asked again only with `retryLost` (a call that changes nothing at WeChat).
   */
  async function exchangeReply(endpoint, build, { jitter = randomU32, retryLost = true } = {}) {
    let refreshed = false;
    let failures = 0;
    for (;;) {
      const used = await token();
      await paced(endpoint);
      stats.calls++;
      let text;
      let status;
      try {
        const res = await exchange(build(used));
        status = res.status;
        text = await res.text();
      } catch (e) {
        const delay = retryLost ? wasm.callRetryDelay(++failures, 'lost', jitter()) : undefined;
        if (delay === undefined) throw e;
        stats.retries++;
        await sleep(delay);
        continue;
      }
      if (status !== 200) {
        throw new WxmassError(`HTTP ${status} from ${endpoint}`, { code: 'http_status', rule: 'http_status', path: '' });
      }
      try {
        return { text, reply: wasm.parseReplyText(endpoint, text) };
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (e.class === 'refresh-token' && !refreshed) {
          refreshed = true;
          stats.retries++;
          invalidate(used);
          continue;
        }
        const delay = wasm.callRetryDelay(++failures, e.class, jitter());
        if (delay === undefined) throw e;
        stats.retries++;
        await sleep(delay);
      }
    }
  }

  return { token, call, send, followers, stats };
}

// Calls that change nothing at WeChat, so a lost answer is simply asked again (and every GET).
const READ_ONLY = new Set(['get', 'speed/get', 'material/batchget_material', 'user/tag/get']);
let gets = null;
const getEndpoints = () => (gets ??= new Set(wasm.endpoints().filter((e) => e.method === 'GET').map((e) => e.name)));

/** File bytes as the wasm module takes them. */
function bytesOf(media) {
  if (media instanceof Uint8Array) return media;
  if (media instanceof ArrayBuffer) return new Uint8Array(media);
  if (ArrayBuffer.isView(media)) return new Uint8Array(media.buffer, media.byteOffset, media.byteLength);
  return new Uint8Array(0);
}

/** The builder of a file upload endpoint (multipart), or undefined for a JSON one. */
function fileUpload(endpoint) {
  switch (endpoint) {
    case 'uploadimg':
      return (b, o) => wasm.buildUploadImg(String(b.filename ?? ''), bytesOf(b.media), o.apiBase, o.accessToken);
    case 'media/upload':
      return (b, o) => wasm.buildMediaUpload(String(b.type ?? ''), String(b.filename ?? ''), bytesOf(b.media), b.boundary ?? undefined, o.apiBase, o.accessToken);
    case 'material/add_material':
      return (b, o) =>
        wasm.buildAddMaterial(
          String(b.type ?? ''),
          String(b.filename ?? ''),
          bytesOf(b.media),
          b.title === undefined || b.title === null ? undefined : String(b.title),
          b.introduction === undefined || b.introduction === null ? undefined : String(b.introduction),
          b.boundary ?? undefined,
          o.apiBase,
          o.accessToken,
        );
    default:
      return undefined;
  }
}
