// wechat-sim: a local stand-in for the WeChat Official Account mass-send API (高级群发接口).
//
// Written from ../../shared/spec.md and the seeds only, never from wxmass code: it is the oracle
// that catches the other components' mistakes. Everything is in memory; time is a simulated clock
// (real time + a settable offset) and every WeChat-defined duration (rate window, clientmsgid
// retry window, callback delay/timeout/retry interval) is multiplied by `timeScale` so tests run
// fast. See README.md for the full behaviour, the control API and the choices made where the
// spec is silent.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { parseJson, toJson, toControlJson } from './json.mjs';
import { WxError, errReply } from './errors.mjs';
import * as rules from './rules.mjs';
import * as materials from './materials.mjs';
import { aesKey, signature as urlSignature } from './crypto.mjs';
import { eventXml, messageXml, buildPush, postOnce, xmlField } from './callback.mjs';

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
const CN_OFFSET_MS = 8 * 3_600_000; // quotas roll over on the China calendar (UTC+8)
const MASS = 'cgi-bin/message/mass/';

/** Day number on the China calendar (UTC+8) for a ms timestamp. */
export const chinaDay = (ms) => Math.floor((ms + CN_OFFSET_MS) / DAY_MS);
/** Month number (year*12+month) on the China calendar for a ms timestamp. */
export const chinaMonth = (ms) => {
  const d = new Date(ms + CN_OFFSET_MS);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

/** A deterministic, well-formed OpenID (28 chars of [A-Za-z0-9_-]) for a seed string. */
export const openidFor = (seed) =>
  'o' + createHash('sha256').update('wechat-sim ' + seed).digest('base64url').slice(0, 27);

export const DEFAULT_MEDIA = Object.freeze({
  'sim-thumb-media-id-0001': 'thumb',
  'sim-image-media-id-0001': 'image',
  'sim-voice-media-id-0001': 'voice',
  'sim-video-media-id-0001': 'video',
});

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  appId: 'wx0123456789abcdef',
  appSecret: '0123456789abcdef0123456789abcdef',
  // More official accounts on the same platform, each with its own credentials, tokens, rate
  // window, quotas and callback settings: [{ appId, appSecret, accountKind?, ghId?, callbackUrl?,
  // callbackMode?, callbackToken?, encodingAESKey? }]; what one leaves out is the first account's.
  apps: [],
  accountKind: 'service', // or 'subscription'
  ghId: 'gh_5f1a0c0de001', // ToUserName of pushed events
  helperOpenId: null, // FromUserName of pushed events; default openidFor('mass-helper')
  tokenLifetimeSec: 7200, // not scaled: expires_in says exactly this
  timeScale: 1,
  clockOffsetMs: 0,
  msgIdStart: 2n ** 53n + 12345n, // above 2^53 so a client that parses with JS numbers is caught
  msgDataIdStart: 2n ** 53n + 1_000_000_007n,
  callbackUrl: null,
  callbackMode: 'safe', // plain | compat | safe
  callbackToken: 'wxmasssimtoken',
  encodingAESKey: 'wxmassSimulatorEncodingAESKey0123456789abcE', // canonical last char; real keys often are not
  callbackDelayMs: 1000, // after acceptance, scaled
  callbackTimeoutMs: 5000, // WeChat waits 5 s, scaled
  callbackRetries: 3, // retries after the first attempt: 4 attempts in all
  callbackRetryIntervalMs: 1000, // between a failed attempt and the next, scaled
  rateLimitPerMinute: 60, // message/mass/* calls per (scaled) minute; 0 disables
  dedupeWindowMs: 60_000, // same clientmsgid within this (scaled) -> 45066
  clientmsgidTtlMs: 0, // how long a clientmsgid is remembered; 0 = forever
  errorFraction: 0, // share of FilterCount reported as ErrorCount (not delivered)
  followerCount: 20, // generated followers when `followers` is not given
  followers: null, // explicit OpenID list
  tags: null, // { tagId: [openid, ...] }; default: "2" = first half, "100" = second half
  tagNames: null, // { tagId: name }; default "星标组" for 2, "tag <id>" for the others
  followersPerPage: 10_000, // OpenIDs per user/get and user/tag/get page
  strictFollowers: false, // true: OpenIDs outside `followers` get 40003
  strictFields: true, // true: unknown JSON fields get 47001
  media: DEFAULT_MEDIA, // pre-seeded media ids -> type (thumb|image|voice|video|news|mpvideo)
  cards: ['sim-card-id-0001'],
  quota: {
    subscriptionDaily: 1, // successful sendall per China day (API + web console)
    serviceDaily: 100, // API mass sends (sendall + send) per China day -> 45009
    serviceToAllMonthly: 4, // is_to_all sends + web-console sends per China month -> 45028
    towxnameDaily: 100, // preview by towxname per China day -> 45009
    followerMonthly: 4, // mass messages one follower receives per China month
  },
  maxBodyBytes: 12 * 1024 * 1024,
  maxCallsLogged: 20000,
  log: (line) => process.stderr.write(line + '\n'),
  verbose: false,
});

const TOGGLES = ['callbackUrl', 'callbackMode', 'callbackToken', 'encodingAESKey', 'appId', 'appSecret', 'apps',
  'accountKind', 'ghId', 'helperOpenId', 'tokenLifetimeSec', 'timeScale', 'callbackDelayMs',
  'callbackTimeoutMs', 'callbackRetries', 'callbackRetryIntervalMs', 'rateLimitPerMinute',
  'dedupeWindowMs', 'clientmsgidTtlMs', 'errorFraction', 'strictFollowers', 'strictFields', 'quota', 'verbose',
  'followersPerPage'];

const FAULT_KINDS = ['delay', 'drop', 'http_500', 'errcode_-1', 'token_expired', 'quota_45009',
  'lose_reply', 'errcode', 'reprint', 'job_status'];
/** Faults that act on the job an accepted send creates, not on the HTTP exchange. */
const JOB_FAULTS = new Set(['reprint', 'job_status']);

const ROUTES = {
  'cgi-bin/token': { method: 'GET', auth: false, handler: 'hToken' },
  'cgi-bin/stable_token': { method: 'POST', auth: false, json: true, handler: 'hStableToken' },
  'cgi-bin/media/uploadimg': { method: 'POST', handler: 'hUploadImg' },
  'cgi-bin/media/uploadnews': { method: 'POST', json: true, handler: 'hUploadNews' },
  'cgi-bin/media/uploadvideo': { method: 'POST', json: true, handler: 'hUploadVideo' },
  'cgi-bin/media/upload': { method: 'POST', handler: 'hMediaUpload' },
  'cgi-bin/material/add_material': { method: 'POST', handler: 'hAddMaterial' },
  'cgi-bin/material/batchget_material': { method: 'POST', json: true, handler: 'hBatchGetMaterial' },
  'cgi-bin/material/get_materialcount': { method: 'GET', handler: 'hMaterialCount' },
  'cgi-bin/tags/get': { method: 'GET', handler: 'hTagsGet' },
  'cgi-bin/user/tag/get': { method: 'POST', json: true, handler: 'hUserTagGet' },
  'cgi-bin/user/get': { method: 'GET', handler: 'hUserGet' },
  [MASS + 'sendall']: { method: 'POST', json: true, handler: 'hSendAll' },
  [MASS + 'send']: { method: 'POST', json: true, handler: 'hSend' },
  [MASS + 'delete']: { method: 'POST', json: true, handler: 'hDelete' },
  [MASS + 'preview']: { method: 'POST', json: true, handler: 'hPreview' },
  [MASS + 'get']: { method: 'POST', json: true, handler: 'hGet' },
  [MASS + 'speed/get']: { method: 'POST', json: true, emptyOk: true, handler: 'hSpeedGet' },
  [MASS + 'speed/set']: { method: 'POST', json: true, handler: 'hSpeedSet' },
};

const sortKeys = (v) => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
};
const digest = (v) => createHash('sha256').update(toJson(sortKeys(v))).digest('hex');
const opaqueId = () => randomBytes(48).toString('base64url'); // 64 chars, like real media ids
const clip = (s, n = 65536) => (s.length > n ? s.slice(0, n) + `…[${s.length - n} more chars]` : s);

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function toBigInt(v, name) {
  try {
    const b = BigInt(v);
    if (b < 0n || b >= 2n ** 64n) throw new Error();
    return b;
  } catch {
    throw new HttpError(400, `${name} must be an unsigned 64-bit integer`);
  }
}

/** Validate and merge a config patch (used at start and by POST /__sim/config). */
function mergeConfig(base, patch, { atStart }) {
  const cfg = { ...base };
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v === undefined) continue;
    if (!atStart && !TOGGLES.includes(k)) throw new HttpError(400, `config key ${k} cannot be changed at run time`);
    if (!(k in DEFAULTS)) throw new HttpError(400, `unknown config key ${k}`);
    cfg[k] = k === 'quota' ? { ...base.quota, ...v } : v;
  }
  if (!['service', 'subscription'].includes(cfg.accountKind)) throw new HttpError(400, 'accountKind must be service or subscription');
  if (!['plain', 'compat', 'safe'].includes(cfg.callbackMode)) throw new HttpError(400, 'callbackMode must be plain, compat or safe');
  try {
    aesKey(cfg.encodingAESKey);
  } catch (e) {
    throw new HttpError(400, e.message);
  }
  for (const k of ['tokenLifetimeSec', 'timeScale']) {
    if (!(typeof cfg[k] === 'number' && cfg[k] > 0)) throw new HttpError(400, `${k} must be a positive number`);
  }
  for (const k of ['callbackDelayMs', 'callbackTimeoutMs', 'callbackRetries', 'callbackRetryIntervalMs',
    'rateLimitPerMinute', 'dedupeWindowMs', 'clientmsgidTtlMs', 'clockOffsetMs']) {
    if (!(typeof cfg[k] === 'number' && Number.isFinite(cfg[k]) && (k === 'clockOffsetMs' || cfg[k] >= 0))) {
      throw new HttpError(400, `${k} must be a non-negative number`);
    }
  }
  if (!(cfg.errorFraction >= 0 && cfg.errorFraction <= 1)) throw new HttpError(400, 'errorFraction must be in 0..1');
  if (cfg.callbackUrl !== null && cfg.callbackUrl !== '') {
    try {
      const u = new URL(cfg.callbackUrl);
      if (!/^https?:$/.test(u.protocol)) throw new Error();
    } catch {
      throw new HttpError(400, 'callbackUrl must be an http(s) URL');
    }
  } else cfg.callbackUrl = null;
  if (!Array.isArray(cfg.apps)) throw new HttpError(400, 'apps must be an array');
  const ids = new Set([cfg.appId]);
  for (const [i, a] of cfg.apps.entries()) {
    if (typeof a?.appId !== 'string' || typeof a?.appSecret !== 'string') throw new HttpError(400, `apps[${i}] needs appId and appSecret`);
    if (ids.has(a.appId)) throw new HttpError(400, `apps[${i}].appId ${a.appId} is used twice`);
    ids.add(a.appId);
    if (a.encodingAESKey !== undefined) {
      try {
        aesKey(a.encodingAESKey);
      } catch (e) {
        throw new HttpError(400, `apps[${i}].encodingAESKey: ${e.message}`);
      }
    }
  }
  cfg.msgIdStart = toBigInt(cfg.msgIdStart, 'msgIdStart');
  cfg.msgDataIdStart = toBigInt(cfg.msgDataIdStart, 'msgDataIdStart');
  if (!cfg.helperOpenId) cfg.helperOpenId = openidFor('mass-helper');
  return cfg;
}

export class Simulator {
  constructor(options = {}) {
    this.cfg = mergeConfig(DEFAULTS, options, { atStart: true });
    this.timers = new Set();
    this.aborts = new Set();
    this.inflight = new Set(); // callback attempt promises
    this.closed = false;
    this.nextMsgId = this.cfg.msgIdStart;
    this.nextMsgDataId = this.cfg.msgDataIdStart;
    this.nextPushMsgId = 2n ** 62n + 1n; // MsgId of a pushed text message when the test gives none
    this.clockOffsetMs = this.cfg.clockOffsetMs;
    this.track = (abort) => {
      this.aborts.add(abort);
      return () => this.aborts.delete(abort);
    };
    this.reset();
  }

  // ---- clock & timers ------------------------------------------------------------------------

  /** Simulated now, ms since epoch. */
  now() {
    return Date.now() + this.clockOffsetMs;
  }

  scaled(ms) {
    return ms * this.cfg.timeScale;
  }

  later(ms, fn) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
    return t;
  }

  cancel(t) {
    if (t) {
      clearTimeout(t);
      this.timers.delete(t);
    }
  }

  sleep(ms) {
    return new Promise((resolve) => {
      let untrack = () => {};
      const t = this.later(ms, () => {
        untrack();
        resolve();
      });
      untrack = this.track(() => {
        this.cancel(t);
        resolve();
      });
    });
  }

  log(line) {
    try {
      this.cfg.log?.(`[wechat-sim] ${line}`);
    } catch {
      /* a broken logger must not break the simulator */
    }
  }

  // ---- state ---------------------------------------------------------------------------------

  /** Forget everything except config and the id counters (ids are never reused). */
  reset() {
    for (const cb of this.callbacks?.values() ?? []) this.cancel(cb.timer);
    const c = this.cfg;
    this.tokens = new Map(); // token -> { source, expiresAtMs, revoked }
    this.currentToken = new Map(); // appId -> latest from cgi-bin/token (a new one revokes it)
    this.currentStable = new Map(); // appId -> latest from cgi-bin/stable_token (independent)
    this.media = new Map(Object.entries(c.media).map(([id, type]) => [id, { type, source: 'seed', createdAtMs: this.now() }]));
    this.cards = new Set(c.cards);
    this.imageUrls = [];
    this.articleUrlIndex = new Map(); // url -> { mediaId, idx }
    this.jobs = new Map(); // String(msgId) -> job
    this.sends = []; // accepted API sends and simulated web-console sends, for quotas
    this.previewsByWxname = []; // ms timestamps, for the towxname daily limit
    this.dedupe = new Map(); // clientmsgid -> { msgId, createdAtMs, lastAttemptMs, repeats }
    this.rateWindows = new Map(); // appId -> times of the mass calls of the last minute
    this.deliveries = new Map(); // openid (or "wxname:<id>") -> [delivery]
    this.deliveryCount = 0;
    this.calls = [];
    this.callSeq = 0;
    this.faults = [];
    this.faultSeq = 0;
    this.callbacks = new Map(); // String(msgId) -> callback record
    this.quotaResetAtMs = -Infinity;
    this.speed = 0;
    this.counters = { e45065: 0, e45066: 0, e45011: 0, unexpectedErrors: 0 };
    const followers = c.followers ?? Array.from({ length: c.followerCount }, (_, i) => openidFor('follower ' + i));
    this.followers = [...new Set(followers)];
    this.followerSet = new Set(this.followers);
    this.tags = new Map();
    const tags = c.tags ?? {
      2: this.followers.slice(0, Math.ceil(this.followers.length / 2)),
      100: this.followers.slice(Math.ceil(this.followers.length / 2)),
    };
    for (const [id, list] of Object.entries(tags)) this.tags.set(String(BigInt(id)), [...new Set(list)]);
  }

  rulesCtx() {
    return {
      strict: this.cfg.strictFields,
      mediaType: (id) => this.media.get(id)?.type,
      cardExists: (id) => this.cards.has(id),
    };
  }

  // ---- HTTP entry ----------------------------------------------------------------------------

  async onRequest(req, res) {
    const t0 = Date.now();
    let url;
    try {
      url = new URL(req.url, 'http://sim.invalid');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const path = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
    const body = await this.readBody(req);
    if (body === null) {
      // over maxBodyBytes: drained and refused (a gateway answers 413 before WeChat sees it)
      res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(toJson({ errcode: -1, errmsg: `request body larger than ${this.cfg.maxBodyBytes} bytes` }));
      return;
    }
    if (body === undefined) return; // client went away
    if (path === '__sim' || path.startsWith('__sim/')) return this.control(req, res, url, path.slice(6), body);
    return this.api(req, res, url, path, body, t0);
  }

  readBody(req) {
    return new Promise((resolve) => {
      const chunks = [];
      let size = 0;
      let over = false;
      req.on('data', (c) => {
        size += c.length;
        if (size > this.cfg.maxBodyBytes) {
          over = true;
          chunks.length = 0;
          if (size > 4 * this.cfg.maxBodyBytes) req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
      req.on('error', () => resolve(undefined));
      req.on('close', () => resolve(undefined)); // no-op once resolved
    });
  }

  writeJson(res, call, status, obj) {
    const text = toJson(obj);
    if (call) {
      call.status = status;
      call.errcode = typeof obj.errcode === 'number' ? obj.errcode : 0;
      call.reply = clip(text);
    }
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; encoding=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async api(req, res, url, path, body, t0) {
    const ct = req.headers['content-type'] ?? '';
    const call = {
      seq: ++this.callSeq,
      atMs: this.now(),
      method: req.method,
      path: '/' + path,
      query: Object.fromEntries(url.searchParams),
      body: /multipart\//i.test(ct) ? `<multipart ${body.length} bytes>` : clip(body.toString('utf8')),
      // A multipart body's parts as received: what a test compares with the file it sent.
      parts: /multipart\//i.test(ct) ? multipartSummary(body, ct) : undefined,
      status: null,
      errcode: null,
      reply: null,
      fault: null,
      outcome: 'replied',
      ms: null,
    };
    this.calls.push(call);
    if (this.calls.length > this.cfg.maxCallsLogged) this.calls.shift();
    const done = () => {
      call.ms = Date.now() - t0;
      if (this.cfg.verbose) this.log(`${call.method} ${call.path} -> ${call.outcome} ${call.status ?? ''} errcode=${call.errcode}`);
    };
    try {
      const route = ROUTES[path];
      if (!route) return this.writeJson(res, call, 404, errReply(40066, `no API at /${path}`));

      const fault = this.takeFault(path, false);
      if (fault) {
        call.fault = fault.kind;
        switch (fault.kind) {
          case 'delay':
            await this.sleep(fault.ms ?? 1000);
            if (this.closed) return;
            break;
          case 'drop':
            call.outcome = 'dropped';
            req.socket.destroy();
            return;
          case 'http_500': {
            const st = fault.status ?? 500;
            call.status = st;
            call.outcome = 'http_error';
            res.writeHead(st, { 'content-type': 'text/html' }).end(`<html><body><h1>${st}</h1>simulated gateway error</body></html>`);
            return;
          }
          case 'errcode_-1':
            return this.writeJson(res, call, 200, errReply(-1));
          case 'quota_45009':
            return this.writeJson(res, call, 200, errReply(45009));
          case 'errcode':
            return this.writeJson(res, call, 200, errReply(fault.errcode));
          case 'token_expired': {
            if (fault.invalidate) {
              const rec = this.tokens.get(url.searchParams.get('access_token'));
              if (rec) rec.expiresAtMs = Math.min(rec.expiresAtMs, this.now());
            }
            return this.writeJson(res, call, 200, errReply(fault.errcode ?? 42001));
          }
          default: // lose_reply: handled after the call ran
        }
      }

      let reply;
      try {
        reply = await this.dispatch(route, { req, url, path, body, call });
      } catch (e) {
        if (e instanceof WxError) {
          reply = errReply(e.errcode, e.hint, e.extra);
          if (e.errcode === 45065) this.counters.e45065++;
          if (e.errcode === 45066) this.counters.e45066++;
          if (e.errcode === 45011) this.counters.e45011++;
        } else {
          this.counters.unexpectedErrors++;
          this.log(`unexpected error in ${call.method} /${path}: ${e?.stack ?? e}`);
          reply = errReply(-1, 'simulator internal error');
        }
      }
      if (fault?.kind === 'lose_reply') {
        // The platform did the work (send recorded, deliveries made, callback scheduled) but the
        // answer never reaches the caller: exactly the case clientmsgid exists for.
        this.writeJson({ destroyed: true }, call, 200, reply);
        call.outcome = 'lost_reply';
        req.socket.destroy();
        return;
      }
      this.writeJson(res, call, 200, reply);
    } catch (e) {
      this.counters.unexpectedErrors++;
      this.log(`unexpected error in ${req.method} /${path}: ${e?.stack ?? e}`);
      if (!res.headersSent) this.writeJson(res, call, 200, errReply(-1, 'simulator internal error'));
    } finally {
      done();
    }
  }

  async dispatch(route, ctx) {
    const { req, url, path, body } = ctx;
    if (req.method !== route.method) throw new WxError(route.method === 'GET' ? 43001 : 43002);
    // The account a call acts for is its token's (a token call names its AppID).
    ctx.appId = this.cfg.appId;
    if (route.auth !== false) ctx.appId = this.checkToken(url.searchParams.get('access_token')).appId;
    ctx.call.appId = ctx.appId;
    if (path.startsWith(MASS)) this.rateLimit(ctx.appId);
    let parsed;
    if (route.json) {
      const text = body.toString('utf8');
      if (text.trim() === '') {
        if (!route.emptyOk) throw new WxError(44002);
        parsed = {};
      } else {
        try {
          parsed = parseJson(text);
        } catch (e) {
          throw new WxError(47001, `invalid JSON: ${e.message}`);
        }
      }
    }
    return this[route.handler](parsed, ctx);
  }

  // ---- tokens --------------------------------------------------------------------------------

  issueToken(source, appId) {
    const token = randomBytes(96).toString('base64url');
    this.tokens.set(token, { source, appId, expiresAtMs: this.now() + this.cfg.tokenLifetimeSec * 1000, revoked: false });
    return token;
  }

  /** The settings of account `appId`: the first account's, or an `apps` entry over them. */
  app(appId) {
    if (appId === this.cfg.appId) return this.cfg;
    const extra = this.cfg.apps.find((a) => a.appId === appId);
    return extra ? { ...this.cfg, ...extra } : undefined;
  }

  tokenReply(token) {
    const rec = this.tokens.get(token);
    return { access_token: token, expires_in: Math.max(1, Math.ceil((rec.expiresAtMs - this.now()) / 1000)) };
  }

  checkToken(token) {
    if (!token) throw new WxError(41001);
    const rec = this.tokens.get(token);
    if (!rec || rec.revoked) throw new WxError(40001);
    if (this.now() >= rec.expiresAtMs) throw new WxError(42001);
    return rec;
  }

  checkCredentials(grantType, appid, secret) {
    if (grantType !== 'client_credential') throw new WxError(40002);
    if (!appid) throw new WxError(41002);
    const app = this.app(appid);
    if (!app) throw new WxError(40013);
    if (!secret) throw new WxError(41004);
    if (secret !== app.appSecret) throw new WxError(40125);
  }

  hToken(_b, { url }) {
    const q = url.searchParams;
    this.checkCredentials(q.get('grant_type'), q.get('appid'), q.get('secret'));
    // cgi-bin/token always issues a new token and the previous one stops working.
    const appId = q.get('appid');
    const old = this.tokens.get(this.currentToken.get(appId));
    if (old) old.revoked = true;
    const token = this.issueToken('token', appId);
    this.currentToken.set(appId, token);
    return this.tokenReply(token);
  }

  hStableToken(b) {
    rules.requireObject(b);
    this.checkCredentials(b.grant_type, b.appid, b.secret);
    if (b.force_refresh !== undefined && typeof b.force_refresh !== 'boolean') {
      throw new WxError(47001, 'force_refresh must be true or false');
    }
    const current = this.currentStable.get(b.appid);
    const cur = this.tokens.get(current);
    if (!b.force_refresh && cur && !cur.revoked && this.now() < cur.expiresAtMs) return this.tokenReply(current);
    if (cur) cur.revoked = true;
    const token = this.issueToken('stable_token', b.appid);
    this.currentStable.set(b.appid, token);
    return this.tokenReply(token);
  }

  // ---- limits --------------------------------------------------------------------------------

  rateLimit(appId) {
    const limit = this.cfg.rateLimitPerMinute;
    if (!limit) return;
    const now = this.now();
    const cut = now - this.scaled(MINUTE);
    let window = this.rateWindows.get(appId);
    if (!window) this.rateWindows.set(appId, (window = []));
    while (window.length && window[0] <= cut) window.shift();
    if (window.length >= limit) throw new WxError(45011, `${limit} mass-send API calls per minute`);
    window.push(now);
  }

  quotaUsage(now = this.now(), appId = this.cfg.appId) {
    const day = chinaDay(now);
    const month = chinaMonth(now);
    const live = this.sends.filter((s) => s.atMs >= this.quotaResetAtMs && (s.appId ?? this.cfg.appId) === appId);
    const today = live.filter((s) => chinaDay(s.atMs) === day);
    const thisMonth = live.filter((s) => chinaMonth(s.atMs) === month);
    return {
      appId,
      accountKind: this.app(appId)?.accountKind ?? this.cfg.accountKind,
      chinaDate: new Date(now + CN_OFFSET_MS).toISOString().slice(0, 10),
      apiSendsToday: today.filter((s) => s.source === 'api').length,
      consoleSendsToday: today.filter((s) => s.source === 'console').length,
      isToAllThisMonth: thisMonth.filter((s) => s.source === 'api' && s.isToAll).length,
      consoleSendsThisMonth: thisMonth.filter((s) => s.source === 'console').length,
      towxnamePreviewsToday: this.previewsByWxname.filter((t) => t >= this.quotaResetAtMs && chinaDay(t) === day).length,
      limits: this.cfg.quota,
    };
  }

  checkSendQuota(kind, isToAll, appId) {
    const u = this.quotaUsage(this.now(), appId);
    const q = this.cfg.quota;
    if (this.app(appId).accountKind === 'subscription') {
      if (u.apiSendsToday + u.consoleSendsToday >= q.subscriptionDaily) {
        throw new WxError(45028, `subscription account: ${q.subscriptionDaily} mass send a day (API + web console)`);
      }
      return;
    }
    if (u.apiSendsToday >= q.serviceDaily) throw new WxError(45009, `${q.serviceDaily} API mass sends a day`);
    if (kind === 'sendall' && isToAll && u.isToAllThisMonth + u.consoleSendsThisMonth >= q.serviceToAllMonthly) {
      throw new WxError(45028, `is_to_all: ${q.serviceToAllMonthly} a month together with web-console sends`);
    }
  }

  monthlyReceived(openid, now) {
    const list = this.deliveries.get(openid);
    if (!list) return 0;
    const m = chinaMonth(now);
    let n = 0;
    for (const d of list) if (d.source !== 'preview' && d.atMs >= this.quotaResetAtMs && chinaMonth(d.atMs) === m) n++;
    return n;
  }

  // ---- faults --------------------------------------------------------------------------------

  addFault(spec) {
    if (!spec || typeof spec !== 'object') throw new HttpError(400, 'fault must be an object');
    if (!FAULT_KINDS.includes(spec.kind)) throw new HttpError(400, `kind must be one of ${FAULT_KINDS.join(', ')}`);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new HttpError(400, 'count must be a positive integer');
    const skip = spec.skip ?? 0;
    if (!Number.isInteger(skip) || skip < 0) throw new HttpError(400, 'skip must be a non-negative integer');
    const path = String(spec.path ?? '*').replace(/^\/+/, '');
    if (spec.kind === 'errcode' && !Number.isInteger(spec.errcode)) throw new HttpError(400, 'errcode fault needs an integer errcode');
    if (spec.kind === 'token_expired' && spec.errcode !== undefined && ![40001, 42001, 40014].includes(spec.errcode)) {
      throw new HttpError(400, 'token_expired errcode must be 40001, 42001 or 40014');
    }
    if (spec.kind === 'http_500' && spec.status !== undefined && !(Number.isInteger(spec.status) && spec.status >= 500 && spec.status <= 599)) {
      throw new HttpError(400, 'http_500 status must be 5xx');
    }
    if (spec.kind === 'delay' && spec.ms !== undefined && !(typeof spec.ms === 'number' && spec.ms >= 0)) {
      throw new HttpError(400, 'delay ms must be a non-negative number');
    }
    if (spec.kind === 'job_status' && (typeof spec.status !== 'string' || !/^(send fail|err\(\d+\))$/.test(spec.status))) {
      throw new HttpError(400, 'job_status needs status "send fail" or "err(N)"');
    }
    const f = {
      id: ++this.faultSeq,
      path,
      kind: spec.kind,
      count,
      remaining: count,
      skip,
      hits: 0,
      ms: spec.ms,
      status: spec.status,
      errcode: spec.errcode,
      invalidate: spec.invalidate === true,
      canReprint: spec.canReprint === undefined ? 1 : spec.canReprint ? 1 : 0,
    };
    this.faults.push(f);
    return f;
  }

  takeFault(path, jobFault) {
    for (const f of this.faults) {
      if (f.remaining <= 0 || JOB_FAULTS.has(f.kind) !== jobFault) continue;
      const match = f.path === '*' || f.path === path || (f.path.endsWith('*') && path.startsWith(f.path.slice(0, -1)));
      if (!match) continue;
      if (f.skip > 0) {
        f.skip--;
        continue;
      }
      f.remaining--;
      f.hits++;
      return f;
    }
    return null;
  }

  // ---- media ---------------------------------------------------------------------------------

  hUploadImg(_b, { req, body }) {
    const ct = req.headers['content-type'] ?? '';
    const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
    if (!/^multipart\/form-data/i.test(ct) || !m) throw new WxError(41005, 'expected multipart/form-data with a part named media');
    const part = parseMultipart(body, m[1] ?? m[2]).find((p) => p.name === 'media');
    if (!part) throw new WxError(41005, 'no part named media');
    const data = part.data;
    if (data.length === 0) throw new WxError(40006, 'empty file');
    const isJpeg = data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
    const isPng = data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    if (!isJpeg && !isPng) throw new WxError(40005, 'only jpg and png');
    if (data.length >= 1024 * 1024) throw new WxError(40006, `${data.length} bytes, must be under 1 MB`);
    const url = `http://mmbiz.qpic.cn/mmbiz_${isPng ? 'png' : 'jpg'}/${randomBytes(40).toString('base64url')}/0`;
    this.imageUrls.push({ url, bytes: data.length, filename: part.filename, atMs: this.now() });
    return { url };
  }

  newsData(media) {
    if (media.dataId === undefined) {
      // One material has one link: every send of it shares the data id and the article URLs.
      media.dataId = this.nextMsgDataId;
      this.nextMsgDataId += 2n;
      const n = media.articles?.length ?? media.articleCount ?? 1;
      const biz = Buffer.from(this.cfg.appId).toString('base64').replace(/=+$/, '');
      const sn = createHash('md5').update(String(media.dataId)).digest('hex');
      media.articleUrls = Array.from({ length: n }, (_, i) =>
        `http://mp.weixin.qq.com/s?__biz=${biz}==&mid=${media.dataId}&idx=${i + 1}&sn=${sn}#rd`);
      media.articleUrls.forEach((u, i) => this.articleUrlIndex.set(u, { mediaId: media.id, idx: i + 1 }));
    }
    return media;
  }

  hUploadNews(b) {
    const { articles } = rules.checkUploadNews(b, this.rulesCtx());
    const id = opaqueId();
    const media = { id, type: 'news', source: 'uploadnews', articles, createdAtMs: this.now() };
    this.media.set(id, media);
    return { type: 'news', media_id: id, created_at: Math.floor(this.now() / 1000) };
  }

  hUploadVideo(b) {
    const v = rules.checkUploadVideo(b, this.rulesCtx());
    const id = opaqueId();
    this.media.set(id, { id, type: 'mpvideo', source: 'uploadvideo', from: v.mediaId, title: v.title, description: v.description, createdAtMs: this.now() });
    return { type: 'video', media_id: id, created_at: Math.floor(this.now() / 1000) };
  }

  /** The file part of a media/upload or add_material body (41005 when there is none). */
  uploadedParts(req, body) {
    const ct = req.headers['content-type'] ?? '';
    const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
    if (!/^multipart\/form-data/i.test(ct) || !m) throw new WxError(41005, 'expected multipart/form-data with a part named media');
    const parts = parseMultipart(body, m[1] ?? m[2]);
    const media = parts.find((p) => p.name === 'media');
    if (!media) throw new WxError(41005, 'no part named media');
    return { media, parts };
  }

  hMediaUpload(_b, { req, url, body }) {
    const type = url.searchParams.get('type') ?? '';
    if (!materials.MEDIA_TYPES.includes(type)) throw new WxError(40004, `type must be one of ${materials.MEDIA_TYPES.join(', ')}`);
    const { media } = this.uploadedParts(req, body);
    const format = materials.checkFile('temporary', type, media);
    const id = opaqueId();
    const createdAtMs = this.now();
    this.media.set(id, { id, type, source: 'media/upload', format, bytes: media.data.length, filename: media.filename, createdAtMs });
    // A thumb's id comes back as thumb_media_id.
    const idField = type === 'thumb' ? 'thumb_media_id' : 'media_id';
    return { type, [idField]: id, created_at: Math.floor(createdAtMs / 1000) };
  }

  hAddMaterial(_b, { req, url, body }) {
    const type = url.searchParams.get('type') ?? '';
    if (!materials.MEDIA_TYPES.includes(type)) throw new WxError(40004, `type must be one of ${materials.MEDIA_TYPES.join(', ')}`);
    const { media, parts } = this.uploadedParts(req, body);
    const format = materials.checkFile('permanent', type, media);
    let title;
    let introduction;
    if (type === 'video') {
      const d = parts.find((p) => p.name === 'description');
      if (!d) throw new WxError(40035, 'a video needs a description part {"title","introduction"}');
      let desc;
      try {
        desc = parseJson(d.data.toString('utf8'));
      } catch (e) {
        throw new WxError(47001, `description is not JSON: ${e.message}`);
      }
      if (!desc || typeof desc !== 'object' || Array.isArray(desc)) throw new WxError(47001, 'description must be a JSON object');
      if (typeof desc.title !== 'string' || desc.title.trim() === '') throw new WxError(40035, 'description.title missing');
      if (desc.introduction !== undefined && typeof desc.introduction !== 'string') throw new WxError(47001, 'description.introduction must be a string');
      title = desc.title;
      introduction = desc.introduction ?? '';
    }
    const id = opaqueId();
    const createdAtMs = this.now();
    const m = { id, type, source: 'add_material', permanent: true, format, bytes: media.data.length, filename: media.filename, title, introduction, createdAtMs };
    if (type === 'image') m.url = `http://mmbiz.qpic.cn/mmbiz_${format === 'png' ? 'png' : 'jpg'}/${randomBytes(40).toString('base64url')}/0?wx_fmt=${format}`;
    this.media.set(id, m);
    return m.url ? { media_id: id, url: m.url } : { media_id: id };
  }

  /** Permanent materials of `type`, newest first. */
  materialsOf(type) {
    return [...this.media.values()].filter((m) => m.permanent && m.type === type).reverse();
  }

  hBatchGetMaterial(b) {
    rules.requireObject(b);
    const types = ['image', 'video', 'voice', 'news'];
    for (const k of Object.keys(b)) if (this.cfg.strictFields && !['type', 'offset', 'count'].includes(k)) throw new WxError(47001, `unknown field ${k}`);
    if (!types.includes(b.type)) throw new WxError(40004, `type must be one of ${types.join(', ')}`);
    const offset = b.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) throw new WxError(40035, 'offset must be a non-negative integer');
    if (!Number.isInteger(b.count) || b.count < 1 || b.count > 20) throw new WxError(40035, 'count must be 1 to 20');
    const all = this.materialsOf(b.type);
    const item = all.slice(offset, offset + b.count).map((m) => ({
      media_id: m.id,
      name: m.filename ?? '',
      update_time: Math.floor(m.createdAtMs / 1000),
      ...(m.url ? { url: m.url } : {}),
    }));
    return { total_count: all.length, item_count: item.length, item };
  }

  hMaterialCount() {
    const n = (t) => this.materialsOf(t).length;
    return { voice_count: n('voice'), video_count: n('video'), image_count: n('image'), news_count: n('news') };
  }

  tagName(id) {
    return this.cfg.tagNames?.[id] ?? (id === '2' ? '星标组' : `tag ${id}`);
  }

  hTagsGet() {
    return { tags: [...this.tags].map(([id, list]) => ({ id: Number(id), name: this.tagName(id), count: list.length })) };
  }

  hUserTagGet(b) {
    rules.requireObject(b);
    for (const k of Object.keys(b)) if (this.cfg.strictFields && !['tagid', 'next_openid'].includes(k)) throw new WxError(47001, `unknown field ${k}`);
    if (b.tagid === undefined) throw new WxError(40035, 'tagid missing');
    const id = String(rules.parseId(b.tagid, 'tagid'));
    const list = this.tags.get(id);
    if (!list) throw new WxError(45159, `no tag ${id}`);
    if (b.next_openid !== undefined && typeof b.next_openid !== 'string') throw new WxError(47001, 'next_openid must be a string');
    return materials.followerPage(list, b.next_openid ?? '', this.cfg.followersPerPage);
  }

  hUserGet(_b, { url }) {
    const next = url.searchParams.get('next_openid') ?? '';
    return materials.followerPage(this.followers, next, this.cfg.followersPerPage, { total: this.followers.length });
  }

  // ---- sends ---------------------------------------------------------------------------------

  hSendAll(b, { path, appId }) {
    const p = rules.checkSendAll(b, this.rulesCtx());
    let recipients;
    if (p.isToAll) recipients = this.followers;
    else {
      recipients = this.tags.get(p.tagId);
      if (!recipients) throw new WxError(45159, `no tag ${p.tagId}`);
    }
    const audience = p.isToAll ? { is_to_all: true } : { is_to_all: false, tag_id: p.tagId };
    return this.accept('sendall', path, p, recipients, audience, appId);
  }

  hSend(b, { path, appId }) {
    if (this.app(appId).accountKind === 'subscription') throw new WxError(48001, 'send by OpenID list needs a verified service account');
    const p = rules.checkSend(b, this.rulesCtx());
    const unique = [...new Set(p.touser)];
    if (this.cfg.strictFollowers) {
      const i = p.touser.findIndex((o) => !this.followerSet.has(o));
      if (i >= 0) throw new WxError(40003, `touser[${i}] does not follow this account`);
    }
    return this.accept('send', path, p, unique, { touser: [...unique].sort() }, appId);
  }

  accept(kind, path, p, recipients, audience, appId) {
    const now = this.now();
    if (p.clientmsgid !== null) {
      let d = this.dedupe.get(p.clientmsgid);
      if (d && this.cfg.clientmsgidTtlMs > 0 && now - d.createdAtMs >= this.cfg.clientmsgidTtlMs) {
        this.dedupe.delete(p.clientmsgid);
        d = undefined;
      }
      if (d) {
        // Every request carrying the id counts as an attempt: 45066 until a (scaled) minute has
        // passed since the previous one, then 45065 with the msg_id of the existing send.
        const since = now - d.lastAttemptMs;
        d.lastAttemptMs = now;
        d.repeats++;
        if (since < this.scaled(this.cfg.dedupeWindowMs)) throw new WxError(45066, 'retry after a minute');
        throw new WxError(45065, undefined, { msg_id: d.msgId });
      }
    }
    this.checkSendQuota(kind, p.isToAll, appId);
    const jobFault = this.takeFault(path, true);

    const msgId = this.takeMsgId();
    const mediaId = p.message.media_id ?? null;
    let media = null;
    let msgDataId = null;
    if (p.msgtype === 'mpnews') {
      media = this.newsData(this.media.get(mediaId));
      msgDataId = media.dataId;
    }
    const articleCount = media ? media.articleUrls.length : 1;
    let status = 'send success';
    const copyright = { checkState: 1, items: [] };
    if (jobFault?.kind === 'reprint' && p.msgtype === 'mpnews') {
      copyright.items = Array.from({ length: articleCount }, (_, i) => ({
        articleIdx: i + 1, userDeclareState: 0, auditState: 2,
        originalArticleUrl: `http://mp.weixin.qq.com/s/original-article-${i + 1}`, originalArticleType: 1,
        canReprint: jobFault.canReprint, needReplaceContent: 1, needShowReprintSource: 1,
      }));
      if (p.sendIgnoreReprint === 1 && jobFault.canReprint) copyright.checkState = 2;
      else {
        copyright.checkState = 3;
        status = 'err(30003)';
      }
    }
    if (jobFault?.kind === 'job_status') status = jobFault.status;

    const counts = { total: 0, filter: 0, sent: 0, error: 0 };
    const sentTo = [];
    if (status === 'send success') {
      counts.total = recipients.length;
      const limit = this.cfg.quota.followerMonthly;
      const passing = recipients.filter((o) => this.monthlyReceived(o, now) < limit);
      counts.filter = passing.length;
      counts.error = Math.round(passing.length * this.cfg.errorFraction);
      counts.sent = passing.length - counts.error;
      sentTo.push(...passing.slice(0, counts.sent));
    }
    const message = { msgtype: p.msgtype, [p.msgtype]: p.message };
    const key = p.clientmsgid !== null ? 'clientmsgid:' + p.clientmsgid : 'body:' + digest({ kind, message, audience });
    const contentKey = digest(message);
    for (const o of sentTo) this.deliver(o, { msgId, atMs: now, source: kind, key, contentKey, clientmsgid: p.clientmsgid });

    const job = {
      msgId, msgDataId, kind, msgtype: p.msgtype, mediaId, clientmsgid: p.clientmsgid,
      isToAll: p.isToAll ?? false, tagId: p.tagId ?? null, touserCount: p.touser?.length ?? null,
      sendIgnoreReprint: p.sendIgnoreReprint, acceptedAtMs: now,
      finishAtMs: now + this.scaled(this.cfg.callbackDelayMs), status, counts, copyright,
      articleUrls: media?.articleUrls ?? [], articleCount, deleted: false, deletedArticles: new Set(),
      preview: false, fault: jobFault?.kind ?? null, appId,
    };
    this.jobs.set(String(msgId), job);
    this.sends.push({ atMs: now, kind, isToAll: job.isToAll, source: 'api', msgId, appId });
    if (p.clientmsgid !== null) {
      this.dedupe.set(p.clientmsgid, { msgId, createdAtMs: now, lastAttemptMs: now, repeats: 0 });
    }
    this.scheduleCallback(job);
    const reply = { errcode: 0, errmsg: 'send job submission success', msg_id: msgId };
    if (msgDataId !== null) reply.msg_data_id = msgDataId;
    return reply;
  }

  /**
   * Ids advance by 2 from an odd start: between 2^53 and 2^54 a double holds only even integers,
   * so no issued id survives a trip through a JS number.
   */
  takeMsgId() {
    const id = this.nextMsgId;
    this.nextMsgId += 2n;
    return id;
  }

  deliver(openid, d) {
    let list = this.deliveries.get(openid);
    if (!list) this.deliveries.set(openid, (list = []));
    list.push(d);
    this.deliveryCount++;
  }

  jobFor(msgId) {
    const job = this.jobs.get(String(msgId));
    return job && !job.preview ? job : undefined;
  }

  jobStatus(job) {
    if (job.deleted) return 'DELETE';
    if (this.now() < job.finishAtMs) return 'SENDING';
    return job.status === 'send success' ? 'SEND_SUCCESS' : 'SEND_FAIL';
  }

  hDelete(b) {
    const p = rules.checkDelete(b, this.rulesCtx());
    let job;
    let idx = p.articleIdx;
    if (p.msgId !== null) {
      job = this.jobFor(p.msgId);
      if (!job) throw new WxError(40035, `unknown msg_id ${p.msgId}`);
    } else {
      const ent = this.articleUrlIndex.get(p.url);
      if (!ent) throw new WxError(40035, 'unknown url');
      job = [...this.jobs.values()].reverse().find((j) => !j.preview && j.mediaId === ent.mediaId);
      if (!job) throw new WxError(40035, 'url was never sent');
      idx = ent.idx;
    }
    if (!rules.DELETABLE.includes(job.msgtype)) throw new WxError(40035, `a ${job.msgtype} send cannot be deleted, only mpnews and mpvideo`);
    if (job.status !== 'send success') throw new WxError(40035, 'only sends that succeeded can be deleted');
    if (idx > job.articleCount) throw new WxError(40035, `article_idx ${idx} but the send has ${job.articleCount} article(s)`);
    // Sends of the same material share one link: deleting one breaks all of them.
    for (const j of this.jobs.values()) {
      if (j.preview || j.msgtype !== job.msgtype || j.mediaId !== job.mediaId) continue;
      if (idx === 0) j.deleted = true;
      else {
        j.deletedArticles.add(idx);
        if (j.deletedArticles.size >= j.articleCount) j.deleted = true;
      }
    }
    return { errcode: 0, errmsg: 'ok' };
  }

  hGet(b) {
    const { msgId } = rules.checkGet(b, this.rulesCtx());
    const job = this.jobs.get(String(msgId));
    if (!job) throw new WxError(40035, `unknown msg_id ${msgId}`);
    return { msg_id: msgId, msg_status: this.jobStatus(job) };
  }

  hPreview(b) {
    const p = rules.checkPreview(b, this.rulesCtx());
    const now = this.now();
    if (p.to.wxname !== undefined) {
      if (this.quotaUsage(now).towxnamePreviewsToday >= this.cfg.quota.towxnameDaily) {
        throw new WxError(45009, `towxname previews: ${this.cfg.quota.towxnameDaily} a day`);
      }
      this.previewsByWxname.push(now);
    } else if (this.cfg.strictFollowers && !this.followerSet.has(p.to.openid)) {
      throw new WxError(40003, 'touser does not follow this account');
    }
    const msgId = this.takeMsgId();
    const message = { msgtype: p.msgtype, [p.msgtype]: p.message };
    const target = p.to.wxname !== undefined ? 'wxname:' + p.to.wxname : p.to.openid;
    this.deliver(target, { msgId, atMs: now, source: 'preview', key: null, contentKey: digest(message), clientmsgid: null });
    this.jobs.set(String(msgId), {
      msgId, msgDataId: null, kind: 'preview', msgtype: p.msgtype, mediaId: p.message.media_id ?? null,
      acceptedAtMs: now, finishAtMs: now, status: 'send success', counts: { total: 1, filter: 1, sent: 1, error: 0 },
      deleted: false, deletedArticles: new Set(), preview: true, to: p.to,
    });
    return { errcode: 0, errmsg: 'preview success', msg_id: msgId };
  }

  hSpeedGet(b) {
    rules.requireObject(b);
    if (this.cfg.strictFields && Object.keys(b).length) throw new WxError(47001, `unknown field ${Object.keys(b)[0]}`);
    return { speed: this.speed, realspeed: rules.REALSPEED[this.speed] };
  }

  hSpeedSet(b) {
    this.speed = rules.checkSpeedSet(b, this.rulesCtx()).speed;
    return { errcode: 0, errmsg: 'ok' };
  }

  // ---- callbacks -----------------------------------------------------------------------------

  scheduleCallback(job) {
    // Each account pushes to its own URL, signed with its own Token and key.
    const app = this.app(job.appId ?? this.cfg.appId) ?? this.cfg;
    if (!app.callbackUrl) return;
    const cb = {
      msgId: job.msgId, appId: app.appId, url: app.callbackUrl, mode: app.callbackMode, state: 'scheduled',
      dueAtMs: job.finishAtMs, attempts: [], xml: null, timer: null, running: null,
    };
    this.callbacks.set(String(job.msgId), cb);
    cb.timer = this.later(this.scaled(this.cfg.callbackDelayMs), () => this.runCallback(cb));
  }

  runCallback(cb) {
    if (cb.running) return cb.running;
    this.cancel(cb.timer);
    cb.timer = null;
    const p = this.attemptCallback(cb).finally(() => {
      cb.running = null;
      this.inflight.delete(p);
    });
    cb.running = p;
    this.inflight.add(p);
    return p;
  }

  async attemptCallback(cb) {
    const job = this.jobs.get(String(cb.msgId));
    if (!job || this.closed) return;
    cb.state = 'in_flight';
    const now = this.now();
    if (job.finishAtMs > now) job.finishAtMs = now;
    if (!cb.xml) {
      // The event is built once; retries repeat it (same CreateTime) with a fresh signature.
      cb.xml = eventXml(job, { toUserName: this.app(cb.appId ?? this.cfg.appId)?.ghId ?? this.cfg.ghId, fromUserName: this.cfg.helperOpenId, createTime: Math.floor(now / 1000) });
    }
    const cfg = { ...(this.app(cb.appId ?? this.cfg.appId) ?? this.cfg), callbackUrl: cb.url, callbackMode: cb.mode };
    let push;
    try {
      push = buildPush(cb.xml, cfg, { toUserName: cfg.ghId, openid: this.cfg.helperOpenId, timestamp: String(Math.floor(now / 1000)) });
    } catch (e) {
      this.log(`callback for ${cb.msgId} not sent: ${e.message}`);
      cb.state = 'failed';
      return;
    }
    const r = await postOnce(push.url, push.body, this.scaled(this.cfg.callbackTimeoutMs), this.track);
    cb.attempts.push({
      atMs: now, url: push.url, body: push.body, ok: r.ok, status: r.status, contentType: r.contentType, answer: r.body, error: r.error, ms: r.ms,
    });
    if (this.closed) return;
    if (r.ok) {
      cb.state = 'delivered';
      return;
    }
    if (cb.attempts.length <= this.cfg.callbackRetries) {
      cb.state = 'retry_wait';
      cb.timer = this.later(this.scaled(this.cfg.callbackRetryIntervalMs), () => this.runCallback(cb));
    } else {
      cb.state = 'failed';
      this.log(`callback for msg ${cb.msgId} failed after ${cb.attempts.length} attempts: ${r.error}`);
    }
  }

  /** Finish every running job now and push every pending callback once; resolves when answered. */
  async flushCallbacks() {
    const now = this.now();
    for (const j of this.jobs.values()) if (j.finishAtMs > now) j.finishAtMs = now;
    const waits = [];
    for (const cb of this.callbacks.values()) {
      if (cb.state === 'scheduled' || cb.state === 'retry_wait' || cb.state === 'in_flight') waits.push(this.runCallback(cb));
    }
    await Promise.all(waits);
  }

  /**
   * POST /__sim/callbacks/push: push one message (given XML, or a text message / menu CLICK built
   * here) to the callback URL exactly as the MASSSENDJOBFINISH pushes go (buildPush + postOnce),
   * once, no retries; answers what came back, byte for byte.
   */
  async pushMessage(input) {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new HttpError(400, 'body must be a JSON object');
    const mode = input.mode ?? this.cfg.callbackMode;
    if (!['plain', 'compat', 'safe'].includes(mode)) throw new HttpError(400, `unknown mode ${JSON.stringify(input.mode)}: plain, compat or safe`);
    const target = input.url ?? this.cfg.callbackUrl;
    if (!target) throw new HttpError(400, 'no url given and no callbackUrl configured');
    let parsed = null;
    try {
      parsed = typeof target === 'string' ? new URL(target) : null;
    } catch {
      /* refused below */
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw new HttpError(400, 'url must be an http(s) URL');
    const tamper = input.tamper ?? null;
    if (![null, 'body', 'drop_encryption'].includes(tamper)) throw new HttpError(400, `unknown tamper ${JSON.stringify(tamper)}: "body" or "drop_encryption"`);
    if (tamper === 'drop_encryption' && mode === 'plain') throw new HttpError(400, 'tamper "drop_encryption" needs mode compat or safe');
    const now = this.now();
    const createTime = Math.floor(now / 1000);
    let xml;
    if (input.xml !== undefined && input.xml !== null) {
      if (typeof input.xml !== 'string' || !input.xml) throw new HttpError(400, 'xml must be a non-empty string');
      if (mode === 'compat' && !/<\/xml>\s*$/.test(input.xml)) throw new HttpError(400, 'xml must end with </xml> in compat mode (<Encrypt> goes before it)');
      xml = input.xml;
    } else if (input.message !== undefined && input.message !== null) {
      xml = messageXml(this.checkPushMessage(input.message), { toUserName: this.cfg.ghId, createTime });
    } else {
      throw new HttpError(400, 'give xml (the message XML) or message ({msgType, ...})');
    }
    const cfg = { ...this.cfg, callbackUrl: parsed.toString(), callbackMode: mode };
    let push;
    try {
      push = buildPush(xml, cfg, {
        toUserName: xmlField(xml, 'ToUserName') ?? this.cfg.ghId, openid: xmlField(xml, 'FromUserName'),
        timestamp: String(createTime), tamper,
      });
    } catch (e) {
      throw new HttpError(400, e.message);
    }
    // WeChat's real wait (5 s) unless told: a test of a slow callback server runs in real time
    // even when the simulator's other durations are scaled down.
    const timeoutMs = input.timeoutMs ?? this.scaled(this.cfg.callbackTimeoutMs);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new HttpError(400, 'timeoutMs must be a positive integer (real milliseconds)');
    const p = postOnce(push.url, push.body, timeoutMs, this.track, { maxAnswerBytes: 4 << 20 });
    this.inflight.add(p);
    const r = await p.finally(() => this.inflight.delete(p));
    const error = r.error ?? (r.truncated ? 'answer longer than 4 MiB: only the first 4 MiB kept' : null);
    return {
      status: r.status, error, contentType: r.contentType, body: r.body, bodyBase64: r.bytes ? r.bytes.toString('base64') : null, ms: r.ms,
      request: { query: new URL(push.url).search.slice(1), body: push.body, xml },
    };
  }

  /** Validate `message` of a push; returns {msgType, fromUser, content, msgId | event, eventKey}. */
  checkPushMessage(m) {
    if (typeof m !== 'object' || Array.isArray(m)) throw new HttpError(400, 'message must be an object');
    const fromUser = m.fromUser ?? this.followers[0] ?? openidFor('follower 0');
    if (typeof fromUser !== 'string' || !fromUser) throw new HttpError(400, 'message.fromUser must be an OpenID string');
    if (m.msgType === 'text') {
      if (typeof m.content !== 'string') throw new HttpError(400, 'message.content must be a string');
      let msgId = m.msgId;
      if (msgId === undefined || msgId === null) {
        msgId = String(this.nextPushMsgId);
        this.nextPushMsgId += 1n;
      } else if (typeof msgId !== 'string' || !/^\d{1,20}$/.test(msgId) || BigInt(msgId) >= 2n ** 64n) {
        throw new HttpError(400, 'message.msgId must be a decimal string of a 64-bit id (a JSON number loses digits above 2^53)');
      }
      return { msgType: 'text', fromUser, content: m.content, msgId };
    }
    if (m.msgType === 'event') {
      const event = m.event ?? 'CLICK';
      if (event !== 'CLICK') throw new HttpError(400, `unknown event ${JSON.stringify(event)}: only CLICK`);
      if (typeof m.eventKey !== 'string') throw new HttpError(400, 'message.eventKey must be a string (the menu key)');
      return { msgType: 'event', fromUser, event, eventKey: m.eventKey };
    }
    throw new HttpError(400, `unknown msgType ${JSON.stringify(m.msgType)}: text or event`);
  }

  async verifyCallbackUrl() {
    if (!this.cfg.callbackUrl) throw new HttpError(400, 'no callbackUrl configured');
    const timestamp = String(Math.floor(this.now() / 1000));
    const nonce = String(Math.floor(Math.random() * 1e9));
    const echostr = randomBytes(12).toString('hex');
    const u = new URL(this.cfg.callbackUrl);
    u.searchParams.set('signature', urlSignature(this.cfg.callbackToken, timestamp, nonce));
    u.searchParams.set('timestamp', timestamp);
    u.searchParams.set('nonce', nonce);
    u.searchParams.set('echostr', echostr);
    const r = await new Promise((resolve) => {
      const req = http.get(u, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => resolve({ status: res.statusCode, error: e.message }));
      });
      req.setTimeout(this.scaled(this.cfg.callbackTimeoutMs), () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: null, error: e.message }));
    });
    return { ok: r.status === 200 && r.body === echostr, echostr, url: u.toString(), ...r };
  }

  // ---- inspection ----------------------------------------------------------------------------

  duplicateStats() {
    let duplicateDeliveries = 0;
    let sameContentRepeats = 0;
    const pairs = [];
    for (const [openid, list] of this.deliveries) {
      const byKey = new Map();
      const byContent = new Map();
      for (const d of list) {
        if (d.source === 'preview') continue;
        byKey.set(d.key, (byKey.get(d.key) ?? []).concat([d.msgId]));
        byContent.set(d.contentKey, (byContent.get(d.contentKey) ?? 0) + 1);
      }
      for (const [key, ids] of byKey) {
        if (ids.length > 1) {
          duplicateDeliveries++;
          if (pairs.length < 100) pairs.push({ openid, key, msgIds: ids });
        }
      }
      for (const n of byContent.values()) if (n > 1) sameContentRepeats++;
    }
    return { duplicateDeliveries, sameContentRepeats, duplicates: pairs };
  }

  stats() {
    const jobs = [...this.jobs.values()];
    const cbs = [...this.callbacks.values()];
    const { duplicateDeliveries, sameContentRepeats, duplicates } = this.duplicateStats();
    return {
      duplicateDeliveries,
      sameContentRepeats,
      duplicates,
      sends: jobs.filter((j) => !j.preview).length,
      previews: jobs.filter((j) => j.preview).length,
      deliveries: this.deliveryCount,
      recipients: this.deliveries.size,
      calls: this.callSeq,
      callbacksPending: cbs.filter((c) => ['scheduled', 'in_flight', 'retry_wait'].includes(c.state)).length,
      callbacksDelivered: cbs.filter((c) => c.state === 'delivered').length,
      callbacksFailed: cbs.filter((c) => c.state === 'failed').length,
      faultsPending: this.faults.filter((f) => f.remaining > 0).length,
      clientmsgidExist45065: this.counters.e45065,
      clientmsgidTooFast45066: this.counters.e45066,
      rateLimited45011: this.counters.e45011,
      unexpectedErrors: this.counters.unexpectedErrors,
    };
  }

  jobView(j) {
    return {
      msgId: j.msgId, appId: j.appId ?? this.cfg.appId, msgDataId: j.msgDataId, kind: j.kind, msgtype: j.msgtype, mediaId: j.mediaId,
      clientmsgid: j.clientmsgid ?? null, isToAll: j.isToAll ?? null, tagId: j.tagId ?? null,
      status: j.status, msgStatus: this.jobStatus(j), counts: j.counts, acceptedAt: new Date(j.acceptedAtMs).toISOString(),
      articleUrls: j.articleUrls ?? [], deletedArticles: [...j.deletedArticles], fault: j.fault ?? null, to: j.to,
    };
  }

  callbackView(cb) {
    return {
      msgId: cb.msgId, state: cb.state, url: cb.url, mode: cb.mode, xml: cb.xml,
      dueAt: new Date(cb.dueAtMs).toISOString(),
      attempts: cb.attempts.map((a) => ({ ...a, at: new Date(a.atMs).toISOString() })),
    };
  }

  // ---- control API ---------------------------------------------------------------------------

  async control(req, res, url, sub, bodyBuf) {
    const send = (status, obj) => {
      const text = toControlJson(obj);
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(text);
    };
    try {
      let input = {};
      const text = bodyBuf.toString('utf8');
      if (text.trim()) {
        try {
          input = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'control body must be JSON');
        }
      }
      const q = url.searchParams;
      const route = `${req.method} ${sub}`;
      switch (route) {
        case 'GET health':
          return send(200, { ok: true, now: new Date(this.now()).toISOString() });
        case 'GET config':
          return send(200, this.publicConfig());
        case 'POST config':
          this.cfg = mergeConfig(this.cfg, input, { atStart: false });
          return send(200, this.publicConfig());
        case 'GET faults':
          return send(200, { faults: this.faults });
        case 'POST faults': {
          const list = Array.isArray(input.faults) ? input.faults : [input];
          const added = list.map((f) => this.addFault(f));
          return send(200, { faults: added, id: added[0]?.id });
        }
        case 'DELETE faults':
          this.faults = [];
          return send(200, { ok: true });
        case 'GET calls': {
          let calls = this.calls;
          if (q.get('path')) calls = calls.filter((c) => c.path === '/' + q.get('path').replace(/^\/+/, ''));
          if (q.get('since')) calls = calls.filter((c) => c.seq > Number(q.get('since')));
          return send(200, { calls: calls.map((c) => ({ ...c, at: new Date(c.atMs).toISOString() })) });
        }
        case 'DELETE calls':
          this.calls = [];
          return send(200, { ok: true });
        case 'GET deliveries': {
          const out = {};
          for (const [o, list] of this.deliveries) {
            if (q.get('openid') && o !== q.get('openid')) continue;
            out[o] = list.map((d) => ({ msgId: d.msgId, at: new Date(d.atMs).toISOString(), source: d.source, clientmsgid: d.clientmsgid, key: d.key }));
          }
          return send(200, { deliveries: out, ...this.duplicateStats() });
        }
        case 'GET stats':
          return send(200, this.stats());
        case 'GET jobs':
          return send(200, { jobs: [...this.jobs.values()].map((j) => this.jobView(j)) });
        case 'GET callbacks':
          return send(200, { callbacks: [...this.callbacks.values()].map((c) => this.callbackView(c)) });
        case 'POST callbacks/flush':
          await this.flushCallbacks();
          return send(200, { callbacks: [...this.callbacks.values()].map((c) => this.callbackView(c)) });
        case 'POST callbacks/push':
          return send(200, await this.pushMessage(input));
        case 'POST callbacks/verify-url':
          return send(200, await this.verifyCallbackUrl());
        case 'GET clock':
          return send(200, this.clockView());
        case 'POST clock':
          this.setClock(input);
          return send(200, this.clockView());
        case 'GET quotas':
          // ?appId= for another account's (default: the first account's).
          return send(200, this.quotaUsage(this.now(), q.get('appId') ?? this.cfg.appId));
        case 'POST quotas': {
          if (input.reset) {
            this.quotaResetAtMs = this.now();
            this.previewsByWxname = [];
          }
          const n = input.consoleSends ?? 0;
          if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'consoleSends must be a non-negative integer');
          for (let i = 0; i < n; i++) this.sends.push({ atMs: this.now(), kind: 'console', isToAll: false, source: 'console' });
          return send(200, this.quotaUsage());
        }
        case 'GET media':
          return send(200, {
            media: [...this.media.entries()].map(([id, m]) => ({ mediaId: id, type: m.type, source: m.source, articleUrls: m.articleUrls ?? [] })),
            cards: [...this.cards],
            imageUrls: this.imageUrls,
          });
        case 'POST media': {
          const types = ['thumb', 'image', 'voice', 'video', 'news', 'mpvideo'];
          if (input.card_id !== undefined) {
            if (typeof input.card_id !== 'string' || !input.card_id) throw new HttpError(400, 'card_id must be a string');
            this.cards.add(input.card_id);
          }
          if (input.media_id !== undefined) {
            if (typeof input.media_id !== 'string' || !input.media_id) throw new HttpError(400, 'media_id must be a string');
            if (!types.includes(input.type)) throw new HttpError(400, `type must be one of ${types.join(', ')}`);
            const articleCount = Number.isInteger(input.articles) && input.articles >= 1 && input.articles <= 8 ? input.articles : 1;
            this.media.set(input.media_id, { id: input.media_id, type: input.type, source: 'control', articleCount, createdAtMs: this.now() });
          }
          return send(200, { ok: true });
        }
        case 'GET followers':
          return send(200, { followers: this.followers, tags: Object.fromEntries(this.tags), strict: this.cfg.strictFollowers });
        case 'POST followers': {
          if (input.followers !== undefined) {
            if (!Array.isArray(input.followers) || input.followers.some((o) => !rules.OPENID_RE.test(o))) {
              throw new HttpError(400, 'followers must be a list of OpenIDs (28 chars [A-Za-z0-9_-])');
            }
            this.followers = [...new Set(input.followers)];
            this.followerSet = new Set(this.followers);
          }
          if (input.tags !== undefined) {
            this.tags = new Map();
            for (const [id, list] of Object.entries(input.tags)) {
              if (!/^\d+$/.test(id) || !Array.isArray(list)) throw new HttpError(400, 'tags must map numeric ids to OpenID lists');
              this.tags.set(String(BigInt(id)), [...new Set(list)]);
            }
          }
          if (input.strict !== undefined) this.cfg.strictFollowers = input.strict === true;
          return send(200, { followers: this.followers.length, tags: Object.fromEntries([...this.tags].map(([k, v]) => [k, v.length])) });
        }
        case 'POST tokens/expire': {
          for (const rec of this.tokens.values()) rec.expiresAtMs = Math.min(rec.expiresAtMs, this.now());
          return send(200, { ok: true, expired: this.tokens.size });
        }
        case 'POST reset':
          this.reset();
          return send(200, { ok: true });
        default:
          return send(404, { error: `no control endpoint ${req.method} /__sim/${sub}` });
      }
    } catch (e) {
      if (e instanceof HttpError) return send(e.status, { error: e.message });
      this.counters.unexpectedErrors++;
      this.log(`unexpected error in control ${req.method} /__sim/${sub}: ${e?.stack ?? e}`);
      return send(500, { error: String(e?.message ?? e) });
    }
  }

  publicConfig() {
    const { log, ...rest } = this.cfg;
    return { ...rest, nextMsgId: this.nextMsgId, nextMsgDataId: this.nextMsgDataId };
  }

  clockView() {
    const now = this.now();
    return { now: new Date(now).toISOString(), nowMs: now, offsetMs: this.clockOffsetMs, chinaTime: new Date(now + CN_OFFSET_MS).toISOString().replace('Z', '+08:00') };
  }

  setClock(input) {
    const real = Date.now();
    const before = this.now();
    if (input.offsetMs !== undefined) this.clockOffsetMs = Number(input.offsetMs);
    else if (input.advanceMs !== undefined) this.clockOffsetMs += Number(input.advanceMs);
    else if (input.nowMs !== undefined) this.clockOffsetMs = Number(input.nowMs) - real;
    else if (input.at !== undefined) {
      const t = Date.parse(input.at);
      if (Number.isNaN(t)) throw new HttpError(400, 'at must be a date-time string, e.g. 2025-01-31T23:59:00+08:00');
      this.clockOffsetMs = t - real;
    } else throw new HttpError(400, 'give one of offsetMs, advanceMs, nowMs, at');
    if (!Number.isFinite(this.clockOffsetMs)) {
      this.clockOffsetMs = 0;
      throw new HttpError(400, 'clock value must be a finite number');
    }
    // A jump back must not leave calls "in the future" of the minute window.
    if (this.now() < before) this.rateWindows.clear();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  async close() {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of [...this.aborts]) a();
    this.aborts.clear();
    await Promise.allSettled([...this.inflight]);
    if (this.server) {
      const closing = new Promise((r) => this.server.close(() => r()));
      this.server.closeAllConnections();
      await closing;
    }
  }
}

/** Each part of a multipart body: name, filename, content type, size and SHA-256 of its bytes. */
function multipartSummary(body, ct) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
  if (!m) return [];
  return parseMultipart(body, m[1] ?? m[2]).map((p) => ({
    name: p.name, filename: p.filename, contentType: p.contentType, bytes: p.data.length,
    sha256: createHash('sha256').update(p.data).digest('hex'), boundary: m[1] ?? m[2],
  }));
}

/** Split a multipart/form-data body into parts { name, filename, contentType, data }. */
export function parseMultipart(buf, boundary) {
  const delim = Buffer.from('--' + boundary);
  const parts = [];
  let pos = buf.indexOf(delim);
  while (pos !== -1) {
    let start = pos + delim.length;
    if (buf[start] === 0x2d && buf[start + 1] === 0x2d) break; // closing delimiter
    if (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    const next = buf.indexOf(delim, start);
    if (next === -1) break;
    let end = next;
    if (buf[end - 2] === 0x0d && buf[end - 1] === 0x0a) end -= 2;
    const part = buf.subarray(start, end);
    const sep = part.indexOf('\r\n\r\n');
    if (sep !== -1) {
      const head = part.subarray(0, sep).toString('utf8');
      const disp = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
      parts.push({
        name: /\bname="([^"]*)"/i.exec(disp)?.[1] ?? null,
        filename: /\bfilename="([^"]*)"/i.exec(disp)?.[1] ?? null,
        contentType: /content-type:\s*([^\r\n]*)/i.exec(head)?.[1] ?? null,
        data: part.subarray(sep + 4),
      });
    }
    pos = next;
  }
  return parts;
}

/**
 * Start a simulator. Resolves to { url, port, host, close(), state } where `state` is the
 * Simulator instance (in-process tests may call its methods directly).
 */
export async function createSimulator(options = {}) {
  const sim = new Simulator(options);
  const server = http.createServer((req, res) => {
    sim.onRequest(req, res).catch((e) => {
      sim.counters.unexpectedErrors++;
      sim.log(`unexpected error: ${e?.stack ?? e}`);
      try {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' }).end(toJson(errReply(-1)));
      } catch {
        /* socket already gone */
      }
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  sim.server = server;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(sim.cfg.port, sim.cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const host = sim.cfg.host.includes(':') ? `[${sim.cfg.host}]` : sim.cfg.host;
  const url = `http://${host}:${port}`;
  return { url, port, host: sim.cfg.host, state: sim, sim, close: () => sim.close() };
}
