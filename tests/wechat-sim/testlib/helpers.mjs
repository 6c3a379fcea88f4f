// Test helpers. Deliberately small: replies are checked on their raw text (so 64-bit ids are
// compared exactly), and nothing here reuses the simulator's own JSON or crypto code.
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
