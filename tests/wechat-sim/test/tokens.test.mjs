import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, api, ctl, APPID, SECRET, sleep } from '../testlib/helpers.mjs';

let sim;
before(async () => {
  sim = await startSim();
});
after(() => sim.close());

const tokenUrl = (q) => 'cgi-bin/token?' + new URLSearchParams({ grant_type: 'client_credential', appid: APPID, secret: SECRET, ...q });
const stable = (b) => api(sim, 'cgi-bin/stable_token', { body: { grant_type: 'client_credential', appid: APPID, secret: SECRET, ...b } });
const get = (t) => api(sim, 'cgi-bin/message/mass/speed/get', { token: t, body: {} });

test('cgi-bin/token issues a token with expires_in', async () => {
  const r = await api(sim, tokenUrl({}), { method: 'GET' });
  assert.equal(r.status, 200);
  assert.match(r.json.access_token, /^[A-Za-z0-9_-]{64,}$/);
  assert.equal(r.json.expires_in, 7200);
  assert.equal((await get(r.json.access_token)).json.speed, 0);
});

test('cgi-bin/token invalidates the previous cgi-bin/token token (40001)', async () => {
  const a = (await api(sim, tokenUrl({}), { method: 'GET' })).json.access_token;
  const b = (await api(sim, tokenUrl({}), { method: 'GET' })).json.access_token;
  assert.notEqual(a, b);
  assert.equal((await get(a)).json.errcode, 40001);
  assert.equal((await get(b)).json.speed, 0);
});

test('token endpoint errors: grant_type 40002, appid 41002/40013, secret 41004/40125, method 43001', async () => {
  assert.equal((await api(sim, tokenUrl({ grant_type: 'x' }), { method: 'GET' })).json.errcode, 40002);
  assert.equal((await api(sim, tokenUrl({ appid: '' }), { method: 'GET' })).json.errcode, 41002);
  assert.equal((await api(sim, tokenUrl({ appid: 'wxffffffffffffffff' }), { method: 'GET' })).json.errcode, 40013);
  assert.equal((await api(sim, tokenUrl({ secret: '' }), { method: 'GET' })).json.errcode, 41004);
  assert.equal((await api(sim, tokenUrl({ secret: 'nope' }), { method: 'GET' })).json.errcode, 40125);
  assert.equal((await api(sim, tokenUrl({}), { method: 'POST', body: '' })).json.errcode, 43001);
  assert.equal((await stable({ appid: 'wxffffffffffffffff' })).json.errcode, 40013);
  assert.equal((await stable({ secret: 'bad' })).json.errcode, 40125);
  assert.equal((await stable({ force_refresh: 'no' })).json.errcode, 47001);
  assert.equal((await api(sim, 'cgi-bin/stable_token', { body: '' })).json.errcode, 44002);
  assert.equal((await api(sim, 'cgi-bin/stable_token', { body: '{"grant_type":' })).json.errcode, 47001);
  assert.equal((await api(sim, 'cgi-bin/stable_token', { method: 'GET' })).json.errcode, 43002);
});

test('stable_token returns the same token while valid; force_refresh replaces it', async () => {
  const a = (await stable({ force_refresh: false })).json.access_token;
  const b = (await stable({})).json.access_token;
  assert.equal(a, b);
  // cgi-bin/token does not touch the stable token
  await api(sim, tokenUrl({}), { method: 'GET' });
  assert.equal((await get(a)).json.speed, 0);
  const c = (await stable({ force_refresh: true })).json.access_token;
  assert.notEqual(c, a);
  assert.equal((await get(a)).json.errcode, 40001);
  assert.equal((await get(c)).json.speed, 0);
});

test('API calls: missing token 41001, unknown 40001, expired 42001', async () => {
  assert.equal((await get(undefined)).json.errcode, 41001);
  assert.equal((await get('not-a-token')).json.errcode, 40001);
  await ctl(sim, 'POST', 'config', { tokenLifetimeSec: 0.3 });
  const fresh = await stable({ force_refresh: true });
  assert.equal(fresh.json.expires_in, 1); // 0.3 s rounds up
  const t = fresh.json.access_token;
  await sleep(350);
  assert.equal((await get(t)).json.errcode, 42001);
  // after expiry stable_token (force_refresh false) hands out a fresh one
  const t2 = (await stable({})).json.access_token;
  assert.notEqual(t2, t);
  assert.equal((await get(t2)).json.speed, 0);
});

test('control: tokens/expire and clock advance expire tokens', async () => {
  await ctl(sim, 'POST', 'config', { tokenLifetimeSec: 7200 });
  const t = (await stable({ force_refresh: true })).json.access_token;
  assert.equal((await stable({})).json.expires_in, 7200);
  await ctl(sim, 'POST', 'clock', { advanceMs: 7200_000 });
  assert.equal((await get(t)).json.errcode, 42001);
  await ctl(sim, 'POST', 'clock', { offsetMs: 0 });
  assert.equal((await get(t)).json.speed, 0);
  await ctl(sim, 'POST', 'tokens/expire');
  assert.equal((await get(t)).json.errcode, 42001);
});
