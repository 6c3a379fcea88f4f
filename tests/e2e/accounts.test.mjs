// Many official accounts in one deployment: the default account (the vars) and account `b`
// (created through the API, its secrets sealed in D1), both on the simulator, which serves B as a
// second AppID with its own tokens, quotas and callback settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack, openids, ADMIN_TOKEN } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

const MASTER_1 = randomBytes(32).toString('base64');
const MASTER_2 = randomBytes(32).toString('base64');
const B = {
  appId: 'wx00000000000000bb',
  appSecret: 'bbbbsecret-0123456789abcdef012345',
  callbackToken: 'bbbbCallbackTokenForAccountB',
  encodingAesKey: 'bbbbAccountBEncodingAESKey0123456789abcdefg',
};
const C = { appId: 'wx00000000000000cc', appSecret: 'ccccsecret-0123456789abcdef012345', callbackToken: 'ccccCallbackTokenForAccountC' };
const SECRETS = [B.appSecret, B.callbackToken, B.encodingAesKey, C.appSecret, C.callbackToken, MASTER_1, MASTER_2];

let stack;
/** Every answer of this file, to look for secrets in (the token-creating answers aside). */
const answers = [];
const text = (content) => ({ msgtype: 'text', text: { content } });

async function api(method, path, body, token = ADMIN_TOKEN, { record = true } = {}) {
  const r = await stack.api(method, path, body, { authorization: `Bearer ${token}` });
  if (record) answers.push(`${method} ${path} → ${r.status} ${r.text}`);
  return r;
}

before(async () => {
  stack = await startStack({}, { vars: { ACCOUNTS_MASTER_KEY: MASTER_1 } });
  await stack.simCtl('POST', 'config', {
    apps: [
      { appId: B.appId, appSecret: B.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/b`, callbackToken: B.callbackToken, encodingAESKey: B.encodingAesKey, ghId: 'gh_00000000000b' },
      { appId: C.appId, appSecret: C.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/c`, callbackToken: C.callbackToken, callbackMode: 'plain' },
    ],
  });
  const b = await api('POST', '/api/accounts', { id: 'b', appId: B.appId, kind: 'service', apiBase: stack.sim.url, secrets: { appSecret: B.appSecret, callbackToken: B.callbackToken, encodingAesKey: B.encodingAesKey } });
  assert.equal(b.status, 201, b.text);
  const c = await api('POST', '/api/accounts', { id: 'c', appId: C.appId, kind: 'service', apiBase: stack.sim.url, callbackMode: 'plain', secrets: { appSecret: C.appSecret, callbackToken: C.callbackToken } });
  assert.equal(c.status, 201, c.text);
});
after(async () => { await stack?.stop(); });

/** Cron runs (moving the clocks) until every batch of the job settles. */
async function drive(prefix, jobId) {
  let job;
  for (let i = 0; i < 20; i++) {
    await stack.cron();
    await stack.simCtl('POST', 'callbacks/flush');
    await new Promise((r) => setTimeout(r, 100));
    job = (await api('GET', `${prefix}/jobs/${jobId}`)).json;
    if (job.batches.every((b) => ['finished', 'failed', 'cancelled'].includes(b.state))) return job;
    await stack.advance(61_000);
  }
  return job;
}

test('an account is data: its secrets are write-only, shown by their last 4 characters at most, and sealed in D1', async () => {
  const b = await api('GET', '/api/accounts/b');
  assert.equal(b.status, 200, b.text);
  assert.equal(b.json.appId, B.appId);
  assert.equal(b.json.callbackPath, '/wechat/callback/b');
  assert.equal(b.json.secrets.appSecret, `…${B.appSecret.slice(-4)}`);
  assert.equal(b.json.secrets.forwardUrl, null);
  const list = await api('GET', '/api/accounts');
  assert.deepEqual(list.json.accounts.map((a) => a.id), ['default', 'b', 'c']);
  const rows = stack.d1('SELECT id, secrets, key_id FROM accounts ORDER BY id')[0].results;
  assert.equal(rows.length, 2);
  for (const row of rows) for (const s of SECRETS) assert.ok(!row.secrets.includes(s), `${row.id} holds a secret in the clear`);
  // Bad input names the field and the rule, and never echoes a secret.
  const bad = await api('POST', '/api/accounts', { id: 'd', appId: 'wx00000000000000dd', secrets: { appSecret: 'x-secret-value-123456', callbackToken: 't', encodingAesKey: 'short' } });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.error.path, 'secrets.encodingAesKey');
  assert.ok(!bad.text.includes('x-secret-value-123456'));
  const dup = await api('POST', '/api/accounts', { id: 'd', appId: B.appId, secrets: { appSecret: 's', callbackToken: 't' } });
  assert.equal(dup.status, 409, dup.text);
});

test('everything is per account: each uses its own token, jobs, events and callback URL; a push signed with A\'s Token to B\'s URL is refused', async () => {
  const a = await api('POST', '/api/jobs', { message: text('for A'), audience: { openids: openids(2, 'acct-a') } });
  const b = await api('POST', '/api/accounts/b/jobs', { message: text('for B'), audience: { openids: openids(2, 'acct-b') } });
  assert.equal(a.status, 201, a.text);
  assert.equal(b.status, 201, b.text);
  const doneA = await drive('/api', a.json.id);
  const doneB = await drive('/api/accounts/b', b.json.id);
  assert.equal(doneA.state, 'finished', JSON.stringify(doneA.batches));
  assert.equal(doneB.state, 'finished', JSON.stringify(doneB.batches));

  // The simulator saw each account's batch sent with that account's token only.
  const sends = (await stack.simCtl('GET', 'calls?path=cgi-bin/message/mass/send')).calls;
  const sendsOf = (job) => sends.filter((c) => c.body.includes(job.batches[0].clientMsgId));
  assert.deepEqual([...new Set(sendsOf(doneA).map((c) => c.appId))], [stack.vars.APP_ID]);
  assert.deepEqual([...new Set(sendsOf(doneB).map((c) => c.appId))], [B.appId]);
  const tokens = (await stack.simCtl('GET', 'calls?path=cgi-bin/stable_token')).calls;
  assert.ok(tokens.some((c) => c.body.includes(B.appId)), 'B fetched its own token');

  // Each account's jobs and events are its own.
  const listA = (await api('GET', '/api/jobs')).json.jobs.map((j) => j.id);
  const listB = (await api('GET', '/api/accounts/b/jobs')).json.jobs.map((j) => j.id);
  assert.ok(listA.includes(a.json.id) && !listA.includes(b.json.id));
  assert.deepEqual(listB, [b.json.id]);
  assert.equal((await api('GET', `/api/jobs/${b.json.id}`)).status, 404);
  assert.equal((await api('GET', `/api/accounts/b/jobs/${a.json.id}`)).status, 404);
  const eventsB = (await api('GET', '/api/accounts/b/events')).json;
  assert.deepEqual(eventsB.events.map((e) => e.msgId), [doneB.batches[0].msgId]);
  assert.equal(eventsB.events[0].dedupeKey, `mass:${doneB.batches[0].msgId}:send success`);
  assert.ok(!(await api('GET', '/api/events')).json.events.some((e) => e.msgId === doneB.batches[0].msgId));

  // A push signed with A's Token and key, sent to B's URL: refused, nothing stored for B.
  const v = stack.vars;
  const forged = signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml: jobFinishXml({ msgId: doneB.batches[0].msgId, status: 'send fail' }), mode: 'safe', nowSec: stack.nowSec() });
  const r = await fetch(`${stack.workerUrl}/wechat/callback/b?${forged.query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: forged.body });
  assert.equal(r.status, 403, await r.text());
  assert.equal((await api('GET', '/api/accounts/b/events')).json.total, eventsB.total);
  // The same push signed with B's own Token is taken.
  const own = signedPush({ token: B.callbackToken, encodingAESKey: B.encodingAesKey, appId: B.appId, xml: jobFinishXml({ msgId: doneB.batches[0].msgId, status: 'send fail' }), mode: 'safe', nowSec: stack.nowSec() });
  const ok = await fetch(`${stack.workerUrl}/wechat/callback/b?${own.query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: own.body });
  assert.equal(ok.status, 200);
  assert.equal((await ok.text()), 'success');
  assert.equal((await api('GET', '/wechat/callback/nobody')).status, 404);
});

test('each account\'s quota is its own: 100 sends of B today hold B\'s next job to tomorrow, not A\'s', async () => {
  const now = stack.nowSec() * 1000;
  stack.d1(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO calls (at, endpoint, batch_id, to_all, succeeded, answered, account_id) SELECT ${now - 60_000}, 'send', NULL, 0, 1, 1, 'b' FROM n`);
  const b = await api('POST', '/api/accounts/b/jobs', { message: text('B is full today'), audience: { openids: openids(2, 'quota-b') } });
  const a = await api('POST', '/api/jobs', { message: text('A is not'), audience: { openids: openids(2, 'quota-a') } });
  assert.equal(b.json.summary.earliestStart.decision, 'not_before', JSON.stringify(b.json.summary.earliestStart));
  assert.equal(a.json.summary.earliestStart.decision, 'now', JSON.stringify(a.json.summary.earliestStart));
  const statusB = (await api('GET', '/api/accounts/b/status')).json;
  const statusA = (await api('GET', '/api/status')).json;
  assert.ok(statusB.calls.sendsToday >= 100, JSON.stringify(statusB.calls));
  assert.ok(statusA.calls.sendsToday < 100, JSON.stringify(statusA.calls));
  assert.equal(statusB.account.appId, B.appId);
  // The simulator counts each AppID's sends apart too.
  const simB = await stack.simCtl('GET', `quotas?appId=${B.appId}`);
  const simA = await stack.simCtl('GET', 'quotas');
  assert.equal(simB.appId, B.appId);
  assert.equal(simA.apiSendsToday + simB.apiSendsToday, (await stack.simCtl('GET', 'jobs')).jobs.length);
  for (const id of [a.json.id]) await api('POST', `/api/jobs/${id}/cancel`);
  await api('POST', `/api/accounts/b/jobs/${b.json.id}/cancel`);
});

test('a fair cron: A has 30 due batches and B has 1; B\'s goes out in the first run', async () => {
  await stack.advance(86_400_000); // past the quota test's day
  await api('GET', '/api/speed');
  await api('GET', '/api/accounts/b/speed'); // both tokens cached: the run spends only on sends
  for (let i = 0; i < 30; i++) {
    const r = await api('POST', '/api/jobs', { message: text(`A backlog ${i}`), audience: { openids: openids(2, `fair-a-${i}`) } }, ADMIN_TOKEN, { record: false });
    assert.equal(r.status, 201, r.text);
  }
  const b = await api('POST', '/api/accounts/b/jobs', { message: text('B single'), audience: { openids: openids(2, 'fair-b') } });
  await stack.cron();
  const run = await stack.lastCron();
  assert.equal(run.error, null, JSON.stringify(run));
  assert.equal(run.accounts, 2);
  assert.ok(run.d1Queries <= 50, JSON.stringify(run));
  const jobB = (await api('GET', `/api/accounts/b/jobs/${b.json.id}`)).json;
  assert.ok(['submitted', 'finished'].includes(jobB.batches[0].state) && jobB.batches[0].attempts === 1, JSON.stringify(jobB.batches[0]));
  assert.ok(run.attempts > 1, 'A sent some of its backlog in the same run');
  assert.ok(run.attempts < 31, 'A\'s backlog did not all fit: B was not simply last in line');
});

test('more accounts due than one run can serve: each run serves as many as fit, and the next minute\'s run the others', async () => {
  // Five more accounts, each with one send due, beside A's backlog: six due, four turns fit in
  // a Free run (50 queries, at least 12 a turn).
  const more = ['d', 'e', 'f', 'g', 'h'].map((id, i) => ({ id, appId: `wx00000000000001${i}${i}`, appSecret: `secret-${id}-0123456789abcdef`, callbackToken: `token-${id}` }));
  const config = await stack.simCtl('GET', 'config');
  await stack.simCtl('POST', 'config', {
    apps: [...config.apps, ...more.map((m) => ({ appId: m.appId, appSecret: m.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/${m.id}`, callbackToken: m.callbackToken, callbackMode: 'plain' }))],
  });
  const jobs = {};
  for (const m of more) {
    const created = await api('POST', '/api/accounts', { id: m.id, appId: m.appId, apiBase: stack.sim.url, callbackMode: 'plain', secrets: { appSecret: m.appSecret, callbackToken: m.callbackToken } });
    assert.equal(created.status, 201, created.text);
    const job = await api('POST', `/api/accounts/${m.id}/jobs`, { message: text(`for ${m.id}`), audience: { openids: openids(2, `turns-${m.id}`) } });
    assert.equal(job.status, 201, job.text);
    jobs[m.id] = job.json.id;
  }
  const attempted = async () => {
    const out = [];
    for (const m of more) {
      const job = (await api('GET', `/api/accounts/${m.id}/jobs/${jobs[m.id]}`)).json;
      if (job.batches[0].attempts > 0) out.push(m.id);
    }
    return out;
  };
  await stack.advance(61_000);
  await stack.cron();
  const first = await stack.lastCron();
  assert.equal(first.error, null, JSON.stringify(first));
  assert.ok(first.d1Queries <= 50, JSON.stringify(first));
  assert.equal(first.accounts, 6, JSON.stringify(first));
  assert.match(first.stopped ?? '', /more accounts due/, JSON.stringify(first));
  const afterFirst = await attempted();
  assert.ok(afterFirst.length >= 3 && afterFirst.length < 5, `served in the first run: ${afterFirst}`);
  await stack.advance(61_000);
  await stack.cron();
  const second = await stack.lastCron();
  assert.equal(second.error, null, JSON.stringify(second));
  assert.deepEqual(await attempted(), more.map((m) => m.id), 'every account served within two runs');
});

test('scoped tokens: a viewer reads only, an operator sends only for its accounts; tokens are hashed, shown once, their use recorded, revocable', async () => {
  const viewer = await api('POST', '/api/tokens', { role: 'viewer', accounts: ['b'], label: 'B dashboard' }, ADMIN_TOKEN, { record: false });
  const operator = await api('POST', '/api/tokens', { role: 'operator', accounts: ['b'] }, ADMIN_TOKEN, { record: false });
  assert.equal(viewer.status, 201, viewer.text);
  assert.match(viewer.json.token, /^wxm_[0-9a-f]{48}$/);
  const V = viewer.json.token;
  const O = operator.json.token;
  SECRETS.push(V, O);
  const stored = stack.d1('SELECT token_hash FROM admin_tokens')[0].results.map((r) => r.token_hash);
  assert.ok(!stored.includes(V) && stored.length >= 2);

  const bJobs = await api('GET', '/api/accounts/b/jobs', undefined, V);
  assert.equal(bJobs.status, 200);
  const someB = bJobs.json.jobs[0].id;
  assert.equal((await api('POST', '/api/accounts/b/jobs', { message: text('v'), audience: { openids: openids(2, 'v') } }, V)).status, 403);
  assert.equal((await api('POST', `/api/accounts/b/jobs/${someB}/cancel`, undefined, V)).status, 403);
  assert.equal((await api('GET', '/api/jobs', undefined, V)).status, 403, 'the default account is not the viewer\'s');

  const created = await api('POST', '/api/accounts/b/jobs', { message: text('op'), audience: { openids: openids(2, 'op') }, sendAt: Date.now() + 86_400_000 * 30 }, O);
  assert.equal(created.status, 201, created.text);
  assert.equal((await api('POST', `/api/accounts/b/jobs/${created.json.id}/cancel`, undefined, O)).status, 200);
  assert.equal((await api('POST', '/api/jobs', { message: text('op'), audience: { openids: openids(2, 'op-a') } }, O)).status, 403);
  const someA = (await api('GET', '/api/jobs')).json.jobs[0].id;
  assert.equal((await api('GET', `/api/jobs/${someA}`, undefined, O)).status, 403);
  assert.equal((await api('GET', '/api/accounts', undefined, O)).status, 403);
  assert.equal((await api('POST', '/api/tokens', { role: 'admin' }, O)).status, 403);
  assert.equal((await api('POST', '/api/accounts/b/speed', { speed: 1 }, O)).status, 403);

  const list = (await api('GET', '/api/tokens')).json.tokens;
  const v = list.find((t) => t.id === viewer.json.id);
  assert.ok(v.lastUsedAt > 0, JSON.stringify(v));
  assert.equal(v.token, undefined);
  assert.equal((await api('DELETE', `/api/tokens/${viewer.json.id}`)).status, 200);
  const revoked = await api('GET', '/api/accounts/b/jobs', undefined, V);
  assert.equal(revoked.status, 401);
  assert.equal((await api('GET', '/api/accounts/b/jobs', undefined, 'wxm_not-a-token')).status, 401);
});

test('master-key rotation re-seals every account, and a rotation stopped half-way loses nothing', async () => {
  const before = stack.d1('SELECT id, key_id FROM accounts ORDER BY id')[0].results;
  assert.equal(new Set(before.map((r) => r.key_id)).size, 1);
  stack.vars.ACCOUNTS_MASTER_KEY = MASTER_2;
  stack.vars.ACCOUNTS_MASTER_KEY_PREVIOUS = MASTER_1;
  await stack.restart();
  // Half-way: one account re-sealed (b, the first by id), the others still under the old key;
  // every one works.
  const half = await api('POST', '/api/master-key/rotate?limit=1');
  assert.equal(half.status, 200, half.text);
  assert.deepEqual([half.json.resealed, half.json.remaining], [1, before.length - 1]);
  const mid = stack.d1('SELECT id, key_id FROM accounts ORDER BY id')[0].results;
  assert.equal(new Set(mid.map((r) => r.key_id)).size, 2);
  for (const id of ['b', 'c']) {
    const r = await api('GET', `/api/accounts/${id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.secrets.appSecret, `…${(id === 'b' ? B : C).appSecret.slice(-4)}`);
  }
  assert.equal((await api('GET', '/api/accounts/b/speed')).status, 200, 'b, re-sealed, still gets its token');
  assert.equal((await api('GET', '/api/accounts/c/speed')).status, 200, 'c, not yet, too');
  const rest = await api('POST', '/api/master-key/rotate');
  assert.deepEqual([rest.json.resealed, rest.json.remaining], [before.length - 1, 0]);
  assert.equal((await api('POST', '/api/master-key/rotate')).json.remaining, 0);
  delete stack.vars.ACCOUNTS_MASTER_KEY_PREVIOUS;
  await stack.restart();
  for (const id of ['b', 'c']) assert.equal((await api('GET', `/api/accounts/${id}`)).status, 200);
  assert.equal((await api('GET', '/api/accounts/c/status')).json.account.appId, C.appId);
});

test('no answer and no log line holds a secret', () => {
  const logs = stack.logs();
  for (const s of SECRETS) {
    assert.ok(!logs.includes(s), `a log line holds ${s.slice(0, 6)}…`);
    const hit = answers.find((a) => a.includes(s));
    assert.equal(hit, undefined, `an answer holds ${s.slice(0, 6)}…: ${hit?.slice(0, 200)}`);
  }
});
