// Key trouble fails small and says so (issue 24, finding 5): each master-key mistake an operator
// can make — ACCOUNTS_MASTER_KEY_PREVIOUS forgotten, wrong or malformed, ACCOUNTS_MASTER_KEY
// malformed — takes down only the accounts that need the missing key, with a 503 that names the
// account or the variable; every other account keeps serving jobs and callbacks, and
// GET /api/accounts still lists every account, with its state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack, openids, ADMIN_TOKEN } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const WRONG = randomBytes(32).toString('base64');
const APPS = {
  b: { appId: 'wx00000000000000bb', appSecret: 'bbbbsecret-0123456789abcdef012345', callbackToken: 'bbbbCallbackTokenForAccountB', encodingAesKey: 'bbbbAccountBEncodingAESKey0123456789abcdefg' },
  c: { appId: 'wx00000000000000cc', appSecret: 'ccccsecret-0123456789abcdef012345', callbackToken: 'ccccCallbackTokenForAccountC', encodingAesKey: 'ccccAccountCEncodingAESKey0123456789abcdefg' },
};
const text = (content) => ({ msgtype: 'text', text: { content } });

let stack;
const api = (method, path, body) => stack.api(method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
const prefix = (id) => (id === 'default' ? '/api' : `/api/accounts/${id}`);
const callbackPath = (id) => (id === 'default' ? '/wechat/callback' : `/wechat/callback/${id}`);

function push(id, msgId) {
  const cfg = id === 'default'
    ? { token: stack.vars.CALLBACK_TOKEN, encodingAESKey: stack.vars.ENCODING_AES_KEY, appId: stack.vars.APP_ID }
    : { token: APPS[id].callbackToken, encodingAESKey: APPS[id].encodingAesKey, appId: APPS[id].appId };
  const p = signedPush({ ...cfg, xml: jobFinishXml({ msgId }), mode: 'safe', nowSec: stack.nowSec() });
  return fetch(`${stack.workerUrl}${callbackPath(id)}?${p.query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: p.body });
}

async function createAccount(id) {
  const a = APPS[id];
  const r = await api('POST', '/api/accounts', { id, appId: a.appId, apiBase: stack.sim.url, callbackMode: 'safe', secrets: { appSecret: a.appSecret, callbackToken: a.callbackToken, encodingAesKey: a.encodingAesKey } });
  assert.equal(r.status, 201, r.text);
}

async function restartWith(keys) {
  for (const [k, v] of Object.entries(keys)) {
    if (v === undefined) delete stack.vars[k]; else stack.vars[k] = v;
  }
  await stack.restart();
  await stack.advance(61_000); // each case in a fresh minute of its own
}

/** Each healthy account creates a job, the cron sends it, and its callback URL takes the result. */
async function keepServing(ids) {
  const jobs = {};
  for (const id of ids) {
    const r = await api('POST', `${prefix(id)}/jobs`, { message: text(`still serving ${id}`), audience: { openids: openids(2, `mk-${id}-${Math.random()}`) } });
    assert.equal(r.status, 201, `${id}: ${r.text}`);
    jobs[id] = r.json.id;
  }
  await stack.cron();
  const run = await stack.lastCron();
  assert.ok(run.d1Queries <= 50, JSON.stringify(run));
  for (const id of ids) {
    const job = (await api('GET', `${prefix(id)}/jobs/${jobs[id]}`)).json;
    const b = job.batches[0];
    // Sent this run (the simulator may already have pushed its result).
    assert.ok(['submitted', 'finished'].includes(b.state) && b.attempts === 1, `${id}: ${JSON.stringify(b)} (run: ${JSON.stringify(run)})`);
    const r = await push(id, b.msgId);
    assert.equal(r.status, 200, `${id}'s callback: ${await r.text()}`);
  }
  return run;
}

/** An account whose secrets cannot be opened: its routes and its callbacks 503, naming it. */
async function failsAlone(id, { code, variable }) {
  const r = await api('GET', `${prefix(id)}/jobs`);
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.error.code, code, r.text);
  if (variable) assert.equal(r.json.error.variable, variable, r.text);
  else assert.equal(r.json.error.account, id, r.text);
  const cb = await push(id, '1000000001');
  assert.equal(cb.status, 503, 'WeChat retries a push the account cannot take now');
  const listed = await api('GET', '/api/accounts');
  assert.equal(listed.status, 200, listed.text);
  const row = listed.json.accounts.find((a) => a.id === id);
  assert.equal(row?.state, 'unavailable', JSON.stringify(listed.json));
  assert.ok(row.problem, JSON.stringify(row));
  return listed.json;
}

before(async () => {
  stack = await startStack({}, { vars: { ACCOUNTS_MASTER_KEY: K1 } });
  await stack.simCtl('POST', 'config', {
    apps: Object.entries(APPS).map(([id, a]) => ({ appId: a.appId, appSecret: a.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/${id}`, callbackToken: a.callbackToken, encodingAESKey: a.encodingAesKey })),
  });
  await createAccount('b');
  // b has a send due when the key goes wrong: the cron must pass over it, not stop at it.
  const due = await api('POST', '/api/accounts/b/jobs', { message: text('due for b'), audience: { openids: openids(2, 'mk-b-due') } });
  assert.equal(due.status, 201, due.text);
  await restartWith({ ACCOUNTS_MASTER_KEY: K2 });
  await createAccount('c'); // sealed with K2
});
after(async () => { await stack?.stop(); });

test('ACCOUNTS_MASTER_KEY_PREVIOUS forgotten: b (sealed by the old key) fails alone, named; the default and c keep serving', async () => {
  const listed = await failsAlone('b', { code: 'account_unavailable' });
  assert.deepEqual(listed.accounts.map((a) => [a.id, a.state]), [['default', 'ok'], ['b', 'unavailable'], ['c', 'ok']]);
  assert.match(listed.accounts[1].problem, /ACCOUNTS_MASTER_KEY_PREVIOUS/);
  const run = await keepServing(['default', 'c']);
  assert.match(run.error ?? '', /account b/, JSON.stringify(run));
});

test('ACCOUNTS_MASTER_KEY_PREVIOUS wrong: b fails alone, named; the default and c keep serving', async () => {
  await restartWith({ ACCOUNTS_MASTER_KEY: K2, ACCOUNTS_MASTER_KEY_PREVIOUS: WRONG });
  await failsAlone('b', { code: 'account_unavailable' });
  await keepServing(['default', 'c']);
});

test('ACCOUNTS_MASTER_KEY_PREVIOUS malformed: a configuration error named in the status; accounts sealed with the current key keep serving', async () => {
  await restartWith({ ACCOUNTS_MASTER_KEY: K2, ACCOUNTS_MASTER_KEY_PREVIOUS: 'not a key!' });
  const status = await api('GET', '/api/status');
  assert.equal(status.status, 200, status.text);
  assert.deepEqual(status.json.configuration.map((p) => p.variable), ['ACCOUNTS_MASTER_KEY_PREVIOUS'], JSON.stringify(status.json.configuration));
  await failsAlone('b', { code: 'master_key_invalid', variable: 'ACCOUNTS_MASTER_KEY_PREVIOUS' });
  assert.equal((await api('GET', '/api/accounts/c')).status, 200);
  await keepServing(['default', 'c']);
});

test('ACCOUNTS_MASTER_KEY malformed: every created account 503s naming it, creating one too; the default keeps serving', async () => {
  await restartWith({ ACCOUNTS_MASTER_KEY: 'c2hvcnQ=', ACCOUNTS_MASTER_KEY_PREVIOUS: undefined });
  const status = await api('GET', '/api/status');
  assert.equal(status.status, 200, status.text);
  assert.deepEqual(status.json.configuration.map((p) => p.variable), ['ACCOUNTS_MASTER_KEY']);
  assert.ok(!status.text.includes('c2hvcnQ='), 'the key is never shown');
  for (const id of ['b', 'c']) await failsAlone(id, { code: 'master_key_invalid', variable: 'ACCOUNTS_MASTER_KEY' });
  const create = await api('POST', '/api/accounts', { id: 'd', appId: 'wx00000000000000dd', secrets: { appSecret: 'dddd-0123456789abcdef', callbackToken: 'dddd' } });
  assert.equal(create.status, 503, create.text);
  assert.equal(create.json.error.code, 'master_key_invalid');
  await keepServing(['default']);
});

test('the keys put right: a rotation re-seals b, and every account serves again', async () => {
  await restartWith({ ACCOUNTS_MASTER_KEY: K2, ACCOUNTS_MASTER_KEY_PREVIOUS: K1 });
  const rotated = await api('POST', '/api/master-key/rotate');
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(rotated.json.remaining, 0);
  const listed = (await api('GET', '/api/accounts')).json.accounts;
  assert.deepEqual(listed.map((a) => a.state), ['ok', 'ok', 'ok']);
  await keepServing(['default', 'b', 'c']);
  assert.equal((await api('GET', '/api/status')).json.configuration.length, 0);
});
