// The authorization table (issue 24): every /api route × every kind of caller × the caller's own
// account and another, each cell's expected status written out below, so that one changed cell
// fails the test and names itself.
//
// Callers: no token, a wrong token, a revoked one, and scoped tokens for account `a` (viewer,
// operator, admin) and an admin of every account (`*`). "own" is account `a`, "other" is `b`
// (for the admin of `*` both are its own). Requests that pass authorization are built to stop
// right after it where they could change something for the next cell: an empty job body (400),
// an id that does not exist (404), so every cell is independent of the cells before it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack, ADMIN_TOKEN } from './harness.mjs';

const MASTER = randomBytes(32).toString('base64');
const APPS = {
  a: { appId: 'wx00000000000000aa', appSecret: 'aaaasecret-0123456789abcdef012345', callbackToken: 'aaaaCallbackTokenForAccountA' },
  b: { appId: 'wx00000000000000bb', appSecret: 'bbbbsecret-0123456789abcdef012345', callbackToken: 'bbbbCallbackTokenForAccountB' },
};
const CALLERS = ['none', 'wrong', 'revoked', 'viewer', 'operator', 'adminA', 'adminAll'];

let stack;
const tokens = {};

async function call(caller, method, path, body) {
  const headers = { 'content-type': 'application/json' };
  if (caller !== 'none') headers.authorization = `Bearer ${tokens[caller]}`;
  const r = await fetch(`${stack.workerUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, text };
}

async function admin(method, path, body) {
  const r = await stack.api(method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}

before(async () => {
  stack = await startStack({}, { vars: { ACCOUNTS_MASTER_KEY: MASTER } });
  await stack.simCtl('POST', 'config', {
    apps: Object.entries(APPS).map(([id, a]) => ({ appId: a.appId, appSecret: a.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/${id}`, callbackToken: a.callbackToken, callbackMode: 'plain' })),
  });
  for (const [id, a] of Object.entries(APPS)) {
    await admin('POST', '/api/accounts', { id, appId: a.appId, apiBase: stack.sim.url, callbackMode: 'plain', secrets: { appSecret: a.appSecret, callbackToken: a.callbackToken } });
  }
  const make = async (role, accounts) => (await admin('POST', '/api/tokens', { role, accounts, label: `authz ${role}` })).token;
  tokens.wrong = `wxm_${'0'.repeat(48)}`;
  const revoked = await admin('POST', '/api/tokens', { role: 'viewer', accounts: ['a'], label: 'revoked' });
  await admin('DELETE', `/api/tokens/${revoked.id}`);
  tokens.revoked = revoked.token;
  tokens.viewer = await make('viewer', ['a']);
  tokens.operator = await make('operator', ['a']);
  tokens.adminA = await make('admin', ['a']);
  tokens.adminAll = await make('admin', ['*']);
});
after(async () => { await stack?.stop(); });

// Each row: method, path ({acct} is the account of the column), body (a function of the
// account where it names one), then the expected status of each caller in CALLERS' order, for
// the own account, then for the other.
//                                                                               none wrong revoked viewer operator adminA adminAll
const TABLE = [
  ['GET', '/api/accounts/{acct}/jobs', undefined,                                 '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['POST', '/api/accounts/{acct}/jobs', {},                                        '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  ['GET', '/api/accounts/{acct}/jobs/jnone', undefined,                           '401 401 401 404 404 404 404 | 401 401 401 403 403 403 404'],
  ['POST', '/api/accounts/{acct}/jobs/jnone/cancel', undefined,                   '401 401 401 403 404 404 404 | 401 401 401 403 403 403 404'],
  ['GET', '/api/accounts/{acct}/events', undefined,                               '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['POST', '/api/accounts/{acct}/media/uploadimg', {},                             '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  ['POST', '/api/accounts/{acct}/media/uploadnews', {},                            '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  ['POST', '/api/accounts/{acct}/media/uploadvideo', {},                           '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  // No type: 400 once past authorization, before any call.
  ['POST', '/api/accounts/{acct}/media/upload', {},                                '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  ['POST', '/api/accounts/{acct}/material', {},                                    '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  ['GET', '/api/accounts/{acct}/material?type=image', undefined,                  '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['GET', '/api/accounts/{acct}/material/count', undefined,                       '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['GET', '/api/accounts/{acct}/tags', undefined,                                 '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['POST', '/api/accounts/{acct}/messages/delete', {},                             '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  ['POST', '/api/accounts/{acct}/messages/preview', {},                            '401 401 401 403 400 400 400 | 401 401 401 403 403 403 400'],
  // WeChat does not know this msg_id (40035): 422 once past authorization.
  ['GET', '/api/accounts/{acct}/messages/1000000001', undefined,                  '401 401 401 422 422 422 422 | 401 401 401 403 403 403 422'],
  ['GET', '/api/accounts/{acct}/speed', undefined,                                '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['POST', '/api/accounts/{acct}/speed', {},                                       '401 401 401 403 403 400 400 | 401 401 401 403 403 403 400'],
  ['GET', '/api/accounts/{acct}/status', undefined,                               '401 401 401 200 200 200 200 | 401 401 401 403 403 403 200'],
  ['POST', '/api/accounts/{acct}/audiences', undefined,                           '401 401 401 403 201 201 201 | 401 401 401 403 403 403 201'],
  ['GET', '/api/accounts/{acct}/audiences/anone', undefined,                      '401 401 401 404 404 404 404 | 401 401 401 403 403 403 404'],
  ['DELETE', '/api/accounts/{acct}/audiences/anone', undefined,                   '401 401 401 403 404 404 404 | 401 401 401 403 403 403 404'],
  ['POST', '/api/accounts/{acct}/audiences/anone/openids?part=1', [],              '401 401 401 403 404 404 404 | 401 401 401 403 403 403 404'],
  ['POST', '/api/accounts/{acct}/audiences/anone/seal', undefined,                '401 401 401 403 404 404 404 | 401 401 401 403 403 403 404'],
  ['GET', '/api/accounts', undefined,                                             '401 401 401 403 403 200 200 | 401 401 401 403 403 200 200'],
  ['POST', '/api/accounts', {},                                                    '401 401 401 403 403 403 400 | 401 401 401 403 403 403 400'],
  ['GET', '/api/accounts/{acct}', undefined,                                      '401 401 401 403 403 200 200 | 401 401 401 403 403 403 200'],
  ['PATCH', '/api/accounts/{acct}', { kind: 'service' },                          '401 401 401 403 403 200 200 | 401 401 401 403 403 403 200'],
  ['PATCH', '/api/accounts/{acct}', 'apiBase',                                    '401 401 401 403 403 403 200 | 401 401 401 403 403 403 200'],
  ['POST', '/api/master-key/rotate', undefined,                                   '401 401 401 403 403 403 200 | 401 401 401 403 403 403 200'],
  ['GET', '/api/tokens', undefined,                                               '401 401 401 403 403 200 200 | 401 401 401 403 403 200 200'],
  ['POST', '/api/tokens', 'viewerOf',                                             '401 401 401 403 403 201 201 | 401 401 401 403 403 403 201'],
  ['DELETE', '/api/tokens/{tokenOf}', undefined,                                  '401 401 401 403 403 200 200 | 401 401 401 403 403 403 200'],
];

test('authorization: every /api route × every caller × own and other account answers the status written in the table', async () => {
  const mismatches = [];
  for (const [method, template, bodySpec, expected] of TABLE) {
    const [own, other] = expected.split('|').map((half) => half.trim().split(/\s+/).map(Number));
    for (const [acct, want] of [['a', own], ['b', other]]) {
      for (const [i, caller] of CALLERS.entries()) {
        let path = template.replace('{acct}', acct);
        if (path.includes('{tokenOf}')) {
          // A fresh token of the column's account for each cell: a revocation changes nothing later.
          const t = await admin('POST', '/api/tokens', { role: 'viewer', accounts: [acct], label: 'to revoke' });
          path = path.replace('{tokenOf}', t.id);
        }
        const body = bodySpec === 'apiBase' ? { apiBase: stack.sim.url }
          : bodySpec === 'viewerOf' ? { role: 'viewer', accounts: [acct], label: 'made in the table' }
            : bodySpec;
        const got = await call(caller, method, path, body);
        if (got.status !== want[i]) mismatches.push(`${method} ${path} as ${caller}: ${got.status} (want ${want[i]}) ${got.text.slice(0, 160)}`);
      }
    }
  }
  assert.deepEqual(mismatches, [], `${mismatches.length} cells differ:\n${mismatches.join('\n')}`);
});

test('a refusal says what was missing: the role or the account, and changes nothing', async () => {
  const asViewer = await call('viewer', 'POST', '/api/accounts/a/jobs', {});
  const body = JSON.parse(asViewer.text);
  assert.equal(body.error.code, 'forbidden');
  assert.equal(body.error.missing, 'role', asViewer.text);
  assert.equal(body.error.need, 'operator', asViewer.text);
  const otherAccount = JSON.parse((await call('adminA', 'GET', '/api/accounts/b/jobs')).text);
  assert.equal(otherAccount.error.missing, 'account', JSON.stringify(otherAccount));
  assert.equal(otherAccount.error.account, 'b', JSON.stringify(otherAccount));
  const before = (await admin('GET', '/api/accounts/a')).apiBase;
  const patch = JSON.parse((await call('adminA', 'PATCH', '/api/accounts/a', { apiBase: 'https://elsewhere.example.com' })).text);
  assert.equal(patch.error.missing, 'account', JSON.stringify(patch));
  assert.equal(patch.error.account, '*', JSON.stringify(patch));
  assert.equal((await admin('GET', '/api/accounts/a')).apiBase, before, 'the refused PATCH changed nothing');
});
