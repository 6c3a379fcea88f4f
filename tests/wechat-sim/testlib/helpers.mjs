// Test helpers. Deliberately small: replies are checked on their raw text (so 64-bit ids are
// compared exactly), and nothing here reuses the simulator's own JSON or crypto code.
import assert from 'node:assert/strict';
import { createHash, createDecipheriv } from 'node:crypto';
import { createSimulator } from '../src/server.mjs';

export const APPID = 'wx0123456789abcdef';
export const SECRET = '0123456789abcdef0123456789abcdef';
export const TWO_53 = 2n ** 53n;

/** Start an in-process simulator on 127.0.0.1:0 with fast time; collects its log lines. */
export async function startSim(opts = {}) {
  const logs = [];
  const sim = await createSimulator({ timeScale: 0.01, log: (l) => logs.push(l), ...opts });
  sim.logs = logs;
  return sim;
}

/** Exact 64-bit msg_id (as a decimal string) from a raw JSON reply text. */
export function rawId(text, field = 'msg_id') {
  const m = new RegExp(`"${field}"\\s*:\\s*(\\d+)`).exec(text);
  return m ? m[1] : null;
}

/** Call an API path; returns { status, text, json }. `token` is appended as access_token. */
export async function api(sim, path, { method = 'POST', body, token, query = {}, headers = {} } = {}) {
  const u = new URL(sim.url + '/' + path.replace(/^\//, ''));
  if (token !== undefined) u.searchParams.set('access_token', token);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData ? body : JSON.stringify(body);
    if (!(body instanceof FormData) && !init.headers['content-type']) init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(u, init);
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, text, json };
}

/** A valid access token (stable_token). */
export async function getToken(sim) {
  const r = await api(sim, 'cgi-bin/stable_token', { body: { grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: false } });
  if (!r.json?.access_token) throw new Error('no token: ' + r.text);
  return r.json.access_token;
}

/** Control API call; returns the parsed JSON (throws on non-2xx). */
export async function ctl(sim, method, path, body) {
  const res = await fetch(sim.url + '/__sim/' + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = JSON.parse(text);
  if (!res.ok) {
    const e = new Error(`control ${method} ${path}: ${res.status} ${text}`);
    e.status = res.status;
    e.json = json;
    throw e;
  }
  return json;
}

/** Upload a one-article news material and return its media_id. */
export async function uploadNews(sim, token, n = 1) {
  const articles = Array.from({ length: n }, (_, i) => ({
    thumb_media_id: 'sim-thumb-media-id-0001', title: `Title ${i + 1}`, content: `<p>Body ${i + 1}</p>`,
  }));
  const r = await api(sim, 'cgi-bin/media/uploadnews', { token, body: { articles } });
  if (!r.json?.media_id) throw new Error('uploadnews failed: ' + r.text);
  return r.json.media_id;
}

/** N well-formed OpenIDs that are not the simulator's generated followers. */
export function openids(n, prefix = 'oTest') {
  return Array.from({ length: n }, (_, i) => (prefix + String(i).padStart(6, '0')).padEnd(28, 'x'));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** sha1 hex of a string. */
export const sha1 = (s) => createHash('sha1').update(s).digest('hex');
/** WeChat's signature: sha1 of the parts sorted and joined. */
export const sig = (...parts) => sha1(parts.sort().join(''));
/** The text of element `name` in an XML string (CDATA or plain), or null. */
export const field = (xml, name) => {
  const m = new RegExp(`<${name}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${name}>`).exec(xml);
  return m ? (m[1] ?? m[2]) : null;
};

/**
 * Decrypts an <Encrypt> value by the spec alone (key = base64(EncodingAESKey + "="), IV =
 * key[0..16], PKCS#7 to 32-byte blocks, 16 random bytes ‖ u32be length ‖ XML ‖ AppID), checking
 * the padding on the way.
 */
export function decryptIndependently(b64, encodingAESKey) {
  const key = Buffer.from(encodingAESKey + '=', 'base64');
  assert.equal(key.length, 32);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]);
  assert.equal(plain.length % 32, 0, 'padded to 32-byte blocks');
  const pad = plain[plain.length - 1];
  assert.ok(pad >= 1 && pad <= 32, 'PKCS#7 pad 1..32');
  for (let i = plain.length - pad; i < plain.length; i++) assert.equal(plain[i], pad);
  const body = plain.subarray(0, plain.length - pad);
  const len = body.readUInt32BE(16);
  return { xml: body.subarray(20, 20 + len).toString('utf8'), appId: body.subarray(20 + len).toString('utf8') };
}
