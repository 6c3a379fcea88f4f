// wxmass: every rule of WeChat Official Account mass sending (高级群发接口), compiled from the
// Rust core to WebAssembly. This facade only shapes the API: every field name, limit, body and
// error code comes from core through ./wasm.js.
import * as wasm from './wasm.js';

import { WxmassError } from './errors.js';
import { checkMsgIdNumber } from './msgid.js';

export { WxmassError, ApiError } from './errors.js';
export { createClient } from './client.js';
export { uploadAudience } from './audience.js';
export { BatchProgress, Pacer } from './progress.js';

/** Every endpoint core knows: `{ name, path, mass }`. */
export const endpoints = Object.freeze(wasm.endpoints().map(Object.freeze));

const bigintAsString = (_key, v) => (typeof v === 'bigint' ? v.toString() : v);

/** JSON text of a request body; BigInt ids become decimal strings (core reads them exactly). */
function bodyJson(body) {
  if (body === undefined) return '{}';
  // The bodies that carry a msg_id (delete, get) carry it at the top.
  if (body !== null && typeof body === 'object') {
    checkMsgIdNumber(body.msgId, 'msgId');
    checkMsgIdNumber(body.msg_id, 'msg_id');
  }
  try {
    return JSON.stringify(body);
  } catch (e) {
    if (e instanceof TypeError) return JSON.stringify(body, bigintAsString);
    throw e;
  }
}

const utf8 = new TextEncoder();
const validation = (problems) => (problems === null ? { ok: true, problems: [] } : { ok: false, problems });

function toBytes(media) {
  if (media instanceof Uint8Array) return media;
  if (media instanceof ArrayBuffer) return new Uint8Array(media);
  if (ArrayBuffer.isView(media)) return new Uint8Array(media.buffer, media.byteOffset, media.byteLength);
  return new Uint8Array(0);
}

/**
 * Validates `body` (camelCase or wire names) for `endpoint` and builds the HTTP request.
 * Throws a WxmassError (code `validation`) listing every problem.
 */
export function buildRequest(endpoint, body, options = {}) {
  const upload = fileUploads[endpoint];
  if (upload) return upload.build(body, options);
  const { apiBase, accessToken } = options;
  // A GET's fields travel in its URL (user/get's cursor), so its head is not reused.
  if (getEndpoints.has(endpoint)) return wasm.buildRequest(endpoint, bodyJson(body), apiBase, accessToken);
  // Without options the endpoint name is the key: no string to build and hash per call.
  const key = apiBase == null && accessToken == null ? endpoint : `${endpoint}\n${apiBase ?? ''}\n${accessToken ?? ''}`;
  const head = heads.get(key);
  if (head) {
    const { method, url, host, path, contentType } = head;
    return { method, url, host, path, contentType, body: wasm.buildBody(endpoint, bodyJson(body)) };
  }
  const req = wasm.buildRequest(endpoint, bodyJson(body), apiBase, accessToken);
  if (heads.size >= 64) heads.clear();
  heads.set(key, { ...req });
  return req;
}

// method, url, host, path and contentType of a JSON request depend only on the endpoint, the
// base and the token: the first build of each combination is remembered (core built it).
const heads = new Map();

const getEndpoints = new Set(endpoints.filter((e) => e.method === 'GET').map((e) => e.name));

/** Every problem of `body` for `endpoint`, without throwing: `{ ok, problems }`. */
export function validateRequest(endpoint, body) {
  const upload = fileUploads[endpoint];
  if (upload) return upload.validate(body);
  return validation(wasm.validateRequest(endpoint, bodyJson(body)));
}

/** Builds the multipart uploadimg request: `{ filename, media }` (JPEG or PNG bytes). */
export function buildUploadImg({ filename = '', media } = {}, options = {}) {
  return wasm.buildUploadImg(String(filename), toBytes(media), options.apiBase, options.accessToken);
}

/** Every problem of an uploadimg request, without throwing. */
export function validateUploadImg({ filename = '', media } = {}) {
  return validation(wasm.validateUploadImg(String(filename), toBytes(media)));
}

/**
 * Builds the multipart media/upload request: `{ type, filename, media, boundary? }`, type
 * `image` | `voice` | `video` | `thumb`. Core checks the format from the bytes, the file name's
 * extension and the size before anything is sent; `boundary` defaults to one derived from the
 * content.
 */
export function buildMediaUpload({ type = '', filename = '', media, boundary } = {}, options = {}) {
  return wasm.buildMediaUpload(String(type), String(filename), toBytes(media), boundary ?? undefined, options.apiBase, options.accessToken);
}

/** Every problem of a media/upload request, without throwing. */
export function validateMediaUpload({ type = '', filename = '', media, boundary } = {}) {
  return validation(wasm.validateMediaUpload(String(type), String(filename), toBytes(media), boundary ?? undefined));
}

/**
 * Builds the multipart material/add_material request: `{ type, filename, media, title?,
 * introduction?, boundary? }`; a video needs `title` (and may have `introduction`).
 */
export function buildAddMaterial({ type = '', filename = '', media, title, introduction, boundary } = {}, options = {}) {
  return wasm.buildAddMaterial(String(type), String(filename), toBytes(media), optText(title), optText(introduction), boundary ?? undefined, options.apiBase, options.accessToken);
}

/** Every problem of an add_material request, without throwing. */
export function validateAddMaterial({ type = '', filename = '', media, title, introduction, boundary } = {}) {
  return validation(wasm.validateAddMaterial(String(type), String(filename), toBytes(media), optText(title), optText(introduction), boundary ?? undefined));
}

const optText = (v) => (v === undefined || v === null ? undefined : String(v));

// The endpoints whose body is a file (multipart) rather than JSON.
const fileUploads = {
  uploadimg: { build: (b, o) => buildUploadImg(b, o), validate: (b) => validateUploadImg(b) },
  'media/upload': { build: (b, o) => buildMediaUpload(b, o), validate: (b) => validateMediaUpload(b) },
  'material/add_material': { build: (b, o) => buildAddMaterial(b, o), validate: (b) => validateAddMaterial(b) },
};

/**
 * Pages through followers with core's pager: `new FollowerPager({ tagId })` for a tag's,
 * `new FollowerPager()` for the whole account's, `cursor` to resume. `nextRequest(options)` is
 * the request to send (null when done); `feed(replyText)` gives `{ openIds, total, done }`.
 */
export class FollowerPager {
  #inner;
  constructor({ tagId, cursor } = {}) {
    const tag = tagId === undefined || tagId === null ? undefined : String(tagId);
    this.#inner = new wasm.FollowerPager(tag, cursor ?? undefined);
  }
  get endpoint() {
    return this.#inner.endpoint;
  }
  get cursor() {
    return this.#inner.cursor;
  }
  get done() {
    return this.#inner.done;
  }
  get pages() {
    return this.#inner.pages;
  }
  get fetched() {
    return this.#inner.fetched;
  }
  nextRequest(options = {}) {
    return this.#inner.nextRequest(options.apiBase, options.accessToken);
  }
  feed(body) {
    return this.#inner.feed(typeof body === 'string' ? body : new TextDecoder().decode(toBytes(body)));
  }
  free() {
    this.#inner.free();
  }
}

/**
 * Parses the reply of `endpoint` (text or bytes) into its typed value (camelCase; 64-bit ids as
 * strings). Throws an ApiError for `errcode != 0`, a WxmassError for a malformed reply.
 */
export function parseReply(endpoint, body) {
  if (typeof body === 'string') return wasm.parseReplyText(endpoint, body);
  return wasm.parseReply(endpoint, toBytes(body));
}

/** parseReply without throwing: `{ ok: true, value }` or `{ ok: false, error }`. */
export function readReply(endpoint, body) {
  try {
    return { ok: true, value: parseReply(endpoint, body) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** `{ code, zh, en, class }` of a WeChat error code, or `null` when unknown. */
export function errorInfo(code) {
  return wasm.errorInfo(Number(code));
}

/** Every error code core knows, sorted. */
export function errorCodes() {
  return wasm.errorCodes();
}

// Per-endpoint helpers: buildSendAll(body, options), validateSendAll(body), … (the test suite
// checks that they cover exactly core's endpoint list).
const pair = (name) => [(body, options) => buildRequest(name, body, options), (body) => validateRequest(name, body)];
export const [buildUploadNews, validateUploadNews] = pair('uploadnews');
export const [buildUploadVideo, validateUploadVideo] = pair('uploadvideo');
export const [buildSendAll, validateSendAll] = pair('sendall');
export const [buildSend, validateSend] = pair('send');
export const [buildDelete, validateDelete] = pair('delete');
export const [buildPreview, validatePreview] = pair('preview');
export const [buildGetStatus, validateGetStatus] = pair('get');
export const [buildSpeedGet, validateSpeedGet] = pair('speed/get');
export const [buildSpeedSet, validateSpeedSet] = pair('speed/set');
export const [buildStableToken, validateStableToken] = pair('stable_token');
export const [buildBatchGetMaterial, validateBatchGetMaterial] = pair('material/batchget_material');
export const [buildMaterialCount, validateMaterialCount] = pair('material/get_materialcount');
export const [buildTagsGet, validateTagsGet] = pair('tags/get');
export const [buildUserTagGet, validateUserTagGet] = pair('user/tag/get');
export const [buildUserGet, validateUserGet] = pair('user/get');

// ---- send plans ------------------------------------------------------------------------------

/** A planned send (core's SendPlan): batches with fixed clientmsgids, summary, requests. */
export class SendPlan {
  #inner;
  constructor(inner) {
    this.#inner = inner;
  }
  get jobId() {
    return this.#inner.jobId;
  }
  get account() {
    return this.#inner.account;
  }
  get batchCount() {
    return this.#inner.batchCount;
  }
  get recipientCount() {
    return this.#inner.recipientCount;
  }
  /** `[{ index, clientMsgId, endpoint, recipients, isToAll }]` */
  batches() {
    return this.#inner.batches();
  }
  /** The OpenIDs of one batch. */
  batchRecipients(index) {
    return this.#inner.batchRecipients(index);
  }
  /** The exact request of batch `index`, with its clientmsgid. */
  request(index, options = {}) {
    return this.#inner.request(index, options.apiBase, options.accessToken);
  }
  /** The plan for a person: counts, earliest start given past sends, duration, quota, notes. */
  summary({ ledger, now = Date.now() } = {}) {
    return this.#inner.summary(ledger === undefined ? undefined : JSON.stringify(ledger), now);
  }
  /** The summary as text. */
  summaryText({ ledger, now = Date.now() } = {}) {
    return this.#inner.summaryText(ledger === undefined ? undefined : JSON.stringify(ledger), now);
  }
  /** Frees the plan's wasm memory now (otherwise when it is garbage-collected). */
  free() {
    this.#inner.free();
  }
}

// OpenIDs joined per chunk: V8 joins a chunk into a string under 128 KiB (a young-generation
// object) about twice as fast per entry as it joins a whole million-entry list into one large
// object (measured: ~35 ms against ~75 ms for 1M OpenIDs, Node 20).
const JOIN_CHUNK = 4096;

/**
 * `ids` `\n`-joined as UTF-8 in an OpenIdBuffer, which planSend takes over: one string crosses
 * into wasm much faster than a million. An ASCII list (as OpenIDs are) is written in place into
 * wasm memory with encodeInto, skipping a 29 MB intermediate buffer and wasm-bindgen's copy of
 * it. Core re-splits and checks the count. `undefined` when an entry is not a string: such a
 * list goes in as JSON, where core reports the entry.
 */
function writeOpenIds(ids) {
  let size = ids.length === 0 ? 0 : ids.length - 1;
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (typeof s !== 'string') return undefined;
    size += s.length;
  }
  // Room for the buffer and the plan (slices, packed keys, dedupe tables) in one heap growth:
  // V8 runs a full GC on every memory.grow, and a million OpenIDs in the JS heap make it slow.
  if (size > 1 << 20) wasm.reserve(size + ids.length * 64);
  const buffer = new wasm.OpenIdBuffer(size);
  // After the allocation: growing the memory detaches earlier views of it.
  const view = new Uint8Array(wasm.memory.buffer, buffer.ptr, size);
  let at = 0;
  for (let i = 0; i < ids.length; i += JOIN_CHUNK) {
    if (i > 0) view[at++] = 10; // '\n' between chunks
    const text = ids.slice(i, i + JOIN_CHUNK).join('\n');
    const { read, written } = utf8.encodeInto(text, view.subarray(at));
    at += written;
    // Non-ASCII takes more bytes than characters, so some chunk runs out of room (possibly a
    // later one, after filling the buffer exactly: only `read` tells). Such a list is invalid
    // anyway; it goes in encoded as a whole (lone surrogates become U+FFFD, reported as is).
    if (read !== text.length) {
      buffer.free();
      return wasm.OpenIdBuffer.fromBytes(utf8.encode(ids.join('\n')));
    }
  }
  // All ASCII, so exactly `size` bytes; anything else would be a bug here, not in the input.
  if (at !== size) {
    buffer.free();
    throw new Error(`wxmass: wrote ${at} of ${size} bytes of OpenIDs`);
  }
  return buffer;
}

/**
 * Plans a send: `{ jobId, message, audience: 'everyone' | { tagId } | { openIds }, account,
 * skipInvalid, sendIgnoreReprint }`. Throws WxmassError (code `validation` for the message,
 * `plan` otherwise).
 */
export function planSend({ jobId, message, audience, account = 'service', skipInvalid = false, sendIgnoreReprint } = {}) {
  // Everything that may throw comes before the OpenIDs are written: a written buffer is only
  // freed by planSend taking it over.
  const job = String(jobId ?? '');
  const messageJson = bodyJson(message);
  const accountName = String(account);
  const flag = sendIgnoreReprint === undefined || sendIgnoreReprint === null ? undefined : Boolean(sendIgnoreReprint);
  // Core reads the audience (exactly one of everyone / tagId / openIds); an OpenID list takes a
  // faster road in, as one UTF-8 buffer, with an empty list standing in for it.
  const shape = audience === 'everyone' ? { everyone: true } : audience;
  let audienceJson;
  let joined;
  let count;
  const ids = shape?.openIds;
  if (Array.isArray(ids)) {
    const standIn = JSON.stringify({ ...shape, openIds: [] });
    joined = writeOpenIds(ids);
    if (joined !== undefined) {
      audienceJson = standIn;
      count = ids.length;
    }
  }
  audienceJson ??= JSON.stringify(shape ?? null);
  return new SendPlan(wasm.planSend(job, messageJson, audienceJson, joined, count, accountName, Boolean(skipInvalid), flag));
}

/**
 * When a scheduled send may start, read by core: `value` is RFC 3339 with an offset
 * (`2030-03-07T08:00:00+08:00`) or Unix milliseconds (a number, or digits). Returns Unix ms.
 * Throws WxmassError (code `validation`, at `path`, default `sendAt`): rule `time` for what is
 * not a time, `in_the_past` for a time more than a minute before `now`.
 */
export function readSendAt(value, { now = Date.now(), path = 'sendAt' } = {}) {
  return wasm.readSendAt(typeof value === 'string' ? value : String(value ?? ''), String(path), now);
}

/** planSend(...).summary(): the summary of a plan without keeping the plan. */
export function summarizePlan(input, { ledger, now } = {}) {
  return planSend(input).summary({ ledger, now });
}

// ---- callbacks and events -------------------------------------------------------------------

const queryString = (query) => {
  if (typeof query === 'string') return query;
  if (query instanceof URLSearchParams) return query.toString();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) q.append(k, String(v));
  return q.toString();
};

const random16 = () => globalThis.crypto.getRandomValues(new Uint8Array(16));

/**
 * URL verification (`GET` when the callback URL is saved): the `echostr` to answer when the
 * signature matches. `query`: the query string, URLSearchParams or an object. Throws WxmassError
 * (code `callback`, rule e.g. `signature_mismatch`).
 */
export function verifyUrl(token, query) {
  return wasm.verifyUrl(String(token), queryString(query));
}

/** One account's safe-mode crypto: `new MessageCrypto({ token, encodingAesKey, appId })`. */
export class MessageCrypto {
  #inner;
  constructor({ token, encodingAesKey, appId } = {}) {
    this.#inner = new wasm.MessageCrypto(String(token ?? ''), String(encodingAesKey ?? ''), String(appId ?? ''));
  }
  get appId() {
    return this.#inner.appId;
  }
  /** Verifies msg_signature, decrypts `<Encrypt>` and checks the AppID: the message XML. */
  decrypt({ msgSignature, timestamp, nonce, encrypt }) {
    return this.#inner.decrypt(String(msgSignature ?? ''), String(timestamp ?? ''), String(nonce ?? ''), String(encrypt ?? ''));
  }
  /** Decrypts `<Encrypt>` without the signature check. */
  decryptUnsigned(encrypt) {
    return this.#inner.decryptUnsigned(String(encrypt));
  }
  /** The base64 `<Encrypt>` text of `message` (random prefix from crypto.getRandomValues unless given). */
  encrypt(message, { random = random16() } = {}) {
    return this.#inner.encrypt(String(message), random);
  }
  /** The signed, encrypted envelope answering a safe-mode push with `replyXml`. */
  encryptReply(replyXml, { timestamp = String(Math.floor(Date.now() / 1000)), nonce = nonce16(), random = random16() } = {}) {
    return this.#inner.encryptReply(String(replyXml), String(timestamp), String(nonce), random);
  }
  /** msg_signature over the token, timestamp, nonce and encrypt. */
  signature({ timestamp, nonce, encrypt }) {
    return this.#inner.signature(String(timestamp), String(nonce), String(encrypt));
  }
}

function nonce16() {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(random16(), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Verifies a `POST` push (plain, compatible or safe mode, by its `encrypt_type`) and returns
 * `{ mode: 'plain' | 'aes', xml }`. `now` (Unix ms, e.g. `Date.now()`) turns on the timestamp-skew check.
 */
export function openCallback({ token, encodingAesKey, appId = '', query, body, now, mode } = {}) {
  const bytes = typeof body === 'string' ? utf8.encode(body) : toBytes(body);
  return wasm.openCallback(String(token ?? ''), encodingAesKey ?? undefined, String(appId), queryString(query), bytes, now ?? undefined, mode ?? undefined);
}

/**
 * Parses a pushed message or event (text or bytes): MASSSENDJOBFINISH as
 * `{ kind: 'mass_send_job_finish', msgId, status, totalCount, …, dedupeKey }`, anything else as
 * `{ kind: 'other', msgType, event, fields, dedupeKey }`. Throws WxmassError (code `event`).
 */
export function parseEvent(xml) {
  if (typeof xml === 'string') return wasm.parseEventText(xml);
  return wasm.parseEvent(toBytes(xml));
}
