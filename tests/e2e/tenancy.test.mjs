// Tenancy you can trust (issue 24): one test per finding of the issue, each seen to fail on the
// main branch before the fix. Accounts `a` and `b` are created through the API beside the
// default account (the vars); the simulator serves each AppID with its own tokens and limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack, openids, driveJob, ADMIN_TOKEN } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

const MASTER = randomBytes(32).toString('base64');
const APPS = {
  a: { appId: 'wx00000000000000aa', appSecret: 'aaaasecret-0123456789abcdef012345', callbackToken: 'aaaaCallbackTokenForAccountA', encodingAesKey: 'aaaaAccountAEncodingAESKey0123456789abcdefg' },
  b: { appId: 'wx00000000000000bb', appSecret: 'bbbbsecret-0123456789abcdef012345', callbackToken: 'bbbbCallbackTokenForAccountB', encodingAesKey: 'bbbbAccountBEncodingAESKey0123456789abcdefg' },
};
const text = (content) => ({ msgtype: 'text', text: { content } });

let stack;

async function api(method, path, body, token = ADMIN_TOKEN, headers = {}) {
  return stack.api(method, path, body, { authorization: `Bearer ${token}`, ...headers });
}
async function token(role, accounts, as = ADMIN_TOKEN) {
  const r = await api('POST', '/api/tokens', { role, accounts, label: `tenancy ${role} ${accounts}` }, as);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

before(async () => {
  stack = await startStack({}, { vars: { ACCOUNTS_MASTER_KEY: MASTER } });
  await stack.simCtl('POST', 'config', {
    apps: Object.entries(APPS).map(([id, a]) => ({ appId: a.appId, appSecret: a.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/${id}`, callbackToken: a.callbackToken, encodingAESKey: a.encodingAesKey })),
  });
  for (const [id, a] of Object.entries(APPS)) {
    const r = await api('POST', '/api/accounts', { id, appId: a.appId, apiBase: stack.sim.url, callbackMode: 'safe', secrets: { appSecret: a.appSecret, callbackToken: a.callbackToken, encodingAesKey: a.encodingAesKey } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async (t) => {
  if (process.env.WXMASS_E2E_LOGS) console.log(stack?.logs().slice(-6000));
  await stack?.stop();
});

test('finding 1: a token scoped to b makes no token beyond its own scope, changes no other account, moves no apiBase and revokes no token it does not hold', async () => {
  const adminB = await token('admin', ['b']);
  const T = adminB.token;
  // Tokens: a wider scope or a higher role than its own is refused, with what was missing.
  const wide = await api('POST', '/api/tokens', { role: 'operator', accounts: ['*'] }, T);
  assert.equal(wide.status, 403, wide.text);
  assert.equal(wide.json.error.code, 'forbidden');
  assert.equal(wide.json.error.missing, 'account');
  assert.equal(wide.json.error.account, '*');
  const otherAccount = await api('POST', '/api/tokens', { role: 'admin', accounts: ['a'] }, T);
  assert.equal(otherAccount.status, 403, otherAccount.text);
  assert.equal(otherAccount.json.error.account, 'a');
  const within = await api('POST', '/api/tokens', { role: 'viewer', accounts: ['b'] }, T);
  assert.equal(within.status, 201, within.text);
  const operatorB = await token('operator', ['b']);
  const higher = await api('POST', '/api/tokens', { role: 'admin', accounts: ['b'] }, operatorB.token);
  assert.equal(higher.status, 403, higher.text);
  // A token for an account the worker does not serve is refused, and nothing is stored; an
  // admin of b asking for it learns only that it may not (403), not whether the id exists.
  const tokensBefore = stack.d1('SELECT count(*) AS n FROM admin_tokens')[0].results[0].n;
  const ghost = await api('POST', '/api/tokens', { role: 'viewer', accounts: ['default', 'nosuch'] });
  assert.equal(ghost.status, 422, ghost.text);
  assert.equal(ghost.json.error.code, 'unknown_account');
  assert.equal(ghost.json.error.path, 'accounts[1]');
  assert.equal(ghost.json.error.value, 'nosuch');
  assert.match(ghost.json.error.messageZh, /没有账号 nosuch/);
  assert.equal((await api('POST', '/api/tokens', { role: 'viewer', accounts: ['nosuch'] }, T)).status, 403);
  assert.equal(stack.d1('SELECT count(*) AS n FROM admin_tokens')[0].results[0].n, tokensBefore);
  assert.equal((await api('POST', '/api/tokens', { role: 'viewer', accounts: ['default', 'a', 'b'] })).status, 201);
  // Accounts: not a's settings, not anyone's apiBase or tokenUrl, no new account, no rotation.
  const beforeA = (await api('GET', '/api/accounts/a')).json;
  for (const [path, body] of [
    ['/api/accounts/a', { apiBase: 'https://tester.example.com' }],
    ['/api/accounts/a', { kind: 'subscription' }],
    ['/api/accounts/b', { apiBase: 'https://tester.example.com' }],
    ['/api/accounts/b', { tokenUrl: 'https://tester.example.com/token' }],
  ]) {
    const r = await api('PATCH', path, body, T);
    assert.equal(r.status, 403, `PATCH ${path} ${JSON.stringify(body)}: ${r.text}`);
  }
  assert.deepEqual((await api('GET', '/api/accounts/a')).json, beforeA, 'a is unchanged');
  assert.equal((await api('PATCH', '/api/accounts/b', { kind: 'service' }, T)).status, 200, 'b\'s own settings are b\'s admin\'s');
  assert.equal((await api('GET', '/api/accounts/a', undefined, T)).status, 403);
  assert.deepEqual((await api('GET', '/api/accounts', undefined, T)).json.accounts.map((x) => x.id), ['b']);
  assert.equal((await api('POST', '/api/accounts', { id: 'z', appId: 'wx000000000000zz00' }, T)).status, 403);
  assert.equal((await api('POST', '/api/master-key/rotate', undefined, T)).status, 403);
  // Tokens of other accounts: not listed, not revoked.
  const viewerA = await token('viewer', ['a']);
  const listed = (await api('GET', '/api/tokens', undefined, T)).json.tokens;
  assert.ok(listed.every((t) => JSON.stringify(t.accounts) === '["b"]'), JSON.stringify(listed));
  const revoke = await api('DELETE', `/api/tokens/${viewerA.id}`, undefined, T);
  assert.equal(revoke.status, 403, revoke.text);
  assert.equal((await api('GET', '/api/accounts/a/jobs', undefined, viewerA.token)).status, 200, 'a\'s token still works');
  assert.equal((await api('DELETE', `/api/tokens/${within.json.id}`, undefined, T)).status, 200, 'its own scope\'s token it revokes');
});

test('finding 2: idempotency keys are per account: a key that looks like another account\'s is just a key', async () => {
  const operatorDefault = await token('operator', ['default']);
  const job = (content, seed) => ({ message: text(content), audience: { openids: openids(2, seed) }, sendAt: Date.now() + 86_400_000 * 30 });
  const b1 = await api('POST', '/api/accounts/b/jobs', job('b newsletter', 'idem-b'), ADMIN_TOKEN, { 'idempotency-key': 'newsletter-2030-03' });
  assert.equal(b1.status, 201, b1.text);
  const d1 = await api('POST', '/api/jobs', job('default newsletter', 'idem-d'), operatorDefault.token, { 'idempotency-key': 'b/newsletter-2030-03' });
  assert.equal(d1.status, 201, d1.text);
  assert.ok(!d1.text.includes(b1.json.id), 'the answer names no job of b');
  const d2 = await api('POST', '/api/jobs', job('default again', 'idem-d2'), operatorDefault.token, { 'idempotency-key': 'b/newsletter-2030-04' });
  assert.equal(d2.status, 201, d2.text);
  const april = job('b april', 'idem-b2');
  const b2 = await api('POST', '/api/accounts/b/jobs', april, ADMIN_TOKEN, { 'idempotency-key': 'newsletter-2030-04' });
  assert.equal(b2.status, 201, b2.text);
  // The same key again in its own account is still a retry.
  const again = await api('POST', '/api/accounts/b/jobs', april, ADMIN_TOKEN, { 'idempotency-key': 'newsletter-2030-04' });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.id, b2.json.id);
  // Stored as a column: no stored key carries an account id.
  const keys = stack.d1('SELECT account_id, idempotency_key FROM jobs WHERE idempotency_key IS NOT NULL')[0].results;
  assert.deepEqual(keys.filter((k) => k.account_id === 'b').map((k) => k.idempotency_key).sort(), ['newsletter-2030-03', 'newsletter-2030-04']);
  for (const id of [b1.json.id, b2.json.id]) await api('POST', `/api/accounts/b/jobs/${id}/cancel`);
  for (const id of [d1.json.id, d2.json.id]) await api('POST', `/api/jobs/${id}/cancel`);
});

test('finding 3: 100 viewer reads in one minute neither stop the admin\'s preview nor the cron\'s sends that minute', async () => {
  await stack.advance(120_000); // a fresh minute for a's pacer
  const viewerA = await token('viewer', ['a']);
  const jobs = [];
  for (let i = 0; i < 3; i++) {
    const r = await api('POST', '/api/accounts/a/jobs', { message: text(`due ${i}`), audience: { openids: openids(2, `reads-${i}`) } });
    assert.equal(r.status, 201, r.text);
    jobs.push(r.json.id);
  }
  const readsBefore = (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/speed/get`)).calls.length
    + (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/get`)).calls.length;
  const answers = [];
  for (let i = 0; i < 100; i++) {
    const path = i % 2 === 0 ? '/api/accounts/a/speed' : `/api/accounts/a/messages/${1000000000 + i}`;
    answers.push(await api('GET', path, undefined, viewerA.token));
  }
  const speedAnswers = answers.filter((_, i) => i % 2 === 0);
  assert.ok(speedAnswers.every((r) => r.status === 200), 'speed/get is answered from the cache');
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, 'past the reads\' allowance: 429');
  for (const r of limited) {
    assert.equal(r.json.error.code, 'rate_limited', r.text);
    assert.ok(Number(r.headers.get('retry-after')) >= 1, r.text);
  }
  assert.ok(answers.every((r) => r.status < 500), answers.filter((r) => r.status >= 500).map((r) => r.text).join('\n'));
  const readsAfter = (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/speed/get`)).calls.length
    + (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/get`)).calls.length;
  assert.ok(readsAfter - readsBefore <= 10, `WeChat saw ${readsAfter - readsBefore} reads`);
  // A read from the cache: no WeChat call, no ledger row, within the read's queries.
  const cached = await api('GET', '/api/accounts/a/speed', undefined, viewerA.token);
  assert.equal(cached.status, 200);
  assert.ok(cached.counters.d1Queries <= 5, JSON.stringify(cached.counters));
  assert.equal(cached.counters.subrequests, 0, JSON.stringify(cached.counters));
  const preview = await api('POST', '/api/accounts/a/messages/preview', { touser: openids(1, 'preview')[0], msgtype: 'text', text: { content: 'preview' } });
  assert.equal(preview.status, 200, preview.text);
  await stack.cron();
  const run = await stack.lastCron();
  assert.equal(run.error, null, JSON.stringify(run));
  assert.ok(run.d1Queries <= 50, JSON.stringify(run));
  assert.equal(run.attempts, 3, JSON.stringify(run));
  for (const id of jobs) {
    const job = (await api('GET', `/api/accounts/a/jobs/${id}`)).json;
    assert.ok(['submitted', 'finished'].includes(job.batches[0].state), JSON.stringify(job.batches[0]));
  }
});

test('finding 4: one official account, one row: the default\'s AppID or another\'s in upper case is 409 app_id_taken', async () => {
  const secrets = { appSecret: 'zzzzsecret-0123456789abcdef012345', callbackToken: 'zzzzCallbackToken' };
  const asDefault = await api('POST', '/api/accounts', { id: 'copy-default', appId: stack.vars.APP_ID, apiBase: stack.sim.url, secrets });
  assert.equal(asDefault.status, 409, asDefault.text);
  assert.equal(asDefault.json.error.code, 'app_id_taken');
  const upper = await api('POST', '/api/accounts', { id: 'copy-b', appId: APPS.b.appId.toUpperCase(), apiBase: stack.sim.url, secrets });
  assert.equal(upper.status, 409, upper.text);
  assert.equal(upper.json.error.code, 'app_id_taken');
  assert.match(upper.json.error.message, /\bb\b/, 'names the account that holds it');
  const moved = await api('PATCH', '/api/accounts/a', { appId: APPS.b.appId });
  assert.equal(moved.status, 409, moved.text);
  assert.equal(moved.json.error.code, 'app_id_taken');
  const malformed = await api('POST', '/api/accounts', { id: 'bad-appid', appId: 'not-an-appid', secrets });
  assert.equal(malformed.status, 400, malformed.text);
  assert.equal(malformed.json.error.path, 'appId');
  const ids = (await api('GET', '/api/accounts')).json.accounts.map((x) => x.id);
  assert.deepEqual(ids, ['default', 'a', 'b']);
});

test('finding 6: apiBase, tokenUrl and forwardUrl are absolute https URLs (http only for localhost), checked where they are set', async () => {
  const cases = [
    [{ apiBase: 'not a url' }, 'apiBase'],
    [{ apiBase: 'javascript:alert(1)' }, 'apiBase'],
    [{ apiBase: 'http://proxy.example.com' }, 'apiBase'],
    [{ tokenUrl: 'data:text/plain,token' }, 'tokenUrl'],
    [{ tokenUrl: '/relative/token' }, 'tokenUrl'],
    [{ secrets: { forwardUrl: 'javascript:alert(1)' } }, 'secrets.forwardUrl'],
    [{ secrets: { forwardUrl: 'not a url' } }, 'secrets.forwardUrl'],
    [{ secrets: { forwardUrl: 'http://upstream.example.com/wechat' } }, 'secrets.forwardUrl'],
  ];
  for (const [body, path] of cases) {
    const r = await api('PATCH', '/api/accounts/b', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.path, path, r.text);
    assert.equal(r.json.error.code, 'url', r.text);
  }
  const created = await api('POST', '/api/accounts', { id: 'bad-url', appId: 'wx0000000000000dd1', apiBase: 'javascript:alert(1)', secrets: { appSecret: 'x-0123456789abcdef', callbackToken: 't' } });
  assert.equal(created.status, 400, created.text);
  assert.equal(created.json.error.path, 'apiBase');
  const ok = await api('PATCH', '/api/accounts/b', { secrets: { forwardUrl: 'https://user:pass@upstream.example.com/wechat?k=1' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await api('PATCH', '/api/accounts/b', { secrets: { forwardUrl: null } })).status, 200);
  assert.equal((await api('GET', '/api/accounts/b')).json.apiBase, stack.sim.url, 'nothing refused was stored');
});

test('an account whose apiBase was stored before the URL rules is unavailable until an admin gives a new one, which PATCH accepts', async () => {
  const created = await api('POST', '/api/accounts', { id: 'legacy', appId: 'wx0000000000000dd2', apiBase: stack.sim.url, secrets: { appSecret: 'legacy-0123456789abcdef', callbackToken: 'legacyToken' } });
  assert.equal(created.status, 201, created.text);
  // What an earlier version let through: plain http to another host (a proxy on a LAN).
  stack.d1("UPDATE accounts SET api_base = 'http://proxy.example.com' WHERE id = 'legacy'");
  const broken = await api('GET', '/api/accounts/legacy/status');
  assert.equal(broken.status, 503, broken.text);
  assert.equal(broken.json.error.code, 'account_unavailable', broken.text);
  // Another change cannot go through the stored value, but a new apiBase repairs the account.
  assert.equal((await api('PATCH', '/api/accounts/legacy', { callbackMode: 'safe' })).status, 503);
  const repaired = await api('PATCH', '/api/accounts/legacy', { apiBase: stack.sim.url });
  assert.equal(repaired.status, 200, repaired.text);
  assert.equal(repaired.json.apiBase, stack.sim.url);
  assert.equal((await api('GET', '/api/accounts/legacy/status')).status, 200);
});

test('finding 7: access tokens are sealed in D1 like the other secrets', async () => {
  assert.equal((await api('GET', '/api/speed')).status, 200);
  assert.equal((await api('GET', '/api/accounts/b/speed')).status, 200);
  const calls = (await stack.simCtl('GET', 'calls')).calls;
  const issued = [...new Set(calls.map((c) => c.query?.access_token).filter(Boolean))];
  assert.ok(issued.length >= 2, `tokens seen: ${issued.length}`);
  // Read with the worker stopped: a wrangler process reading every table beside a running
  // `wrangler dev` has made the latter exit.
  await stack.kill();
  const tables = stack.d1("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'")[0].results.map((t) => t.name);
  const dumps = stack.d1(tables.map((t) => `SELECT * FROM "${t}"`).join('; '));
  await stack.restart();
  for (const [i, table] of tables.entries()) {
    const dump = JSON.stringify(dumps[i].results);
    for (const t of issued) assert.ok(!dump.includes(t), `table ${table} holds an access_token in the clear`);
  }
});

test('finding 8: a second, contradictory result for one MsgID is kept apart as conflicting, never applied', async () => {
  const created = await api('POST', '/api/jobs', { message: text('one result'), audience: { openids: openids(2, 'conflict') } });
  assert.equal(created.status, 201, created.text);
  const done = await driveJob(stack, created.json.id);
  const batch = done.batches[0];
  assert.equal(batch.state, 'finished', JSON.stringify(batch));
  const first = batch.result;
  const v = stack.vars;
  const push = signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml: jobFinishXml({ msgId: batch.msgId, status: 'send fail', sent: 0, errors: 2 }), mode: 'safe', nowSec: stack.nowSec() });
  const r = await stack.callback(push);
  assert.equal(r.status, 200, r.text);
  const conflicting = (await api('GET', '/api/events?state=conflicting')).json;
  assert.equal(conflicting?.total, 1, JSON.stringify(conflicting));
  assert.equal(conflicting.events[0].msgId, batch.msgId);
  assert.ok(conflicting.events[0].reason, 'says why');
  const applied = (await api('GET', '/api/events?state=applied')).json.events.filter((e) => e.msgId === batch.msgId);
  assert.equal(applied.length, 1, JSON.stringify(applied));
  const after = (await api('GET', `/api/jobs/${created.json.id}`)).json.batches[0];
  assert.deepEqual(after.result, first, 'the batch keeps the first result');
  // The same conflicting push again lands once.
  assert.equal((await stack.callback(push)).status, 200);
  assert.equal((await api('GET', '/api/events?state=conflicting')).json.total, 1);
});
