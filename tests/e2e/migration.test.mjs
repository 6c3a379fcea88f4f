// Migration 0007 (issue 24: the account is a column, never a string prefix), applied by wrangler
// to a local D1 that holds rows of the shape 0001–0006 left: keys with `<account>/` in front for
// every account but the default, access tokens in the clear, an AppID in upper case. Needs no
// worker build: wrangler applies the SQL files as `wrangler d1 migrations apply` does in a deploy.
// The later migrations (0008 on) are then applied over the same rows, as a deploy would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' };
const MIGRATION = '0007_tenancy.sql';

let dir;
function wrangler(...args) {
  try {
    return execFileSync(WRANGLER, [...args, '--local', '--persist-to', join(dir, 'd1'), '-c', join(dir, 'wrangler.toml')], { cwd: dir, env: ENV, stdio: 'pipe' }).toString();
  } catch (e) {
    // What D1 said (a constraint's name) is in wrangler's output, not in the exit status.
    throw new Error(`${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
const sql = (command) => JSON.parse(wrangler('d1', 'execute', 'DB', '--json', '--command', command));
const rows = (command) => sql(command)[0].results;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wxmass-migration-'));
  mkdirSync(join(dir, 'migrations'));
  for (const f of readdirSync(join(ROOT, 'worker', 'migrations'))) {
    if (f < MIGRATION) cpSync(join(ROOT, 'worker', 'migrations', f), join(dir, 'migrations', f));
  }
  writeFileSync(join(dir, 'wrangler.toml'), [
    'name = "wxmass-migration-test"',
    'compatibility_date = "2025-09-01"',
    '[[d1_databases]]',
    'binding = "DB"',
    'database_name = "wxmass"',
    'database_id = "00000000-0000-0000-0000-000000000000"',
    `migrations_dir = "${join(dir, 'migrations')}"`,
  ].join('\n'));
  wrangler('d1', 'migrations', 'apply', 'DB');
  // Rows as the worker of 0006 wrote them.
  const job = (id, account, key) => `('${id}', ${key === null ? 'NULL' : `'${key}'`}, 'h', '{}', '{}', '{}', 1, 1, NULL, NULL, NULL, '${account}')`;
  const batch = (job, account) => `('${job}-0', '${job}', 0, 'c-${job}', 'send', 0, 2, 'body', 'submitted', '{}', 0, 0, 1, '${job === 'jd1' ? '111' : '222'}', NULL, NULL, NULL, NULL, '{}', 1, 0, 1, NULL, '${account}')`;
  sql([
    `INSERT INTO jobs (id, idempotency_key, request_hash, message_json, audience_json, summary_json, send_at, created_at, cancelled_at, audience_id, send_ignore_reprint, account_id) VALUES ${[
      job('jd1', 'default', 'newsletter'), job('jb1', 'b', 'b/newsletter'), job('jd2', 'default', 'b/spring'), job('jd3', 'default', null), job('jb2', 'b', null),
    ].join(', ')}`,
    `INSERT INTO batches (id, job_id, idx, clientmsgid, endpoint, to_all, recipients, request_body, state, progress_json, attempt, lease_until, next_attempt_at, msg_id, msg_data_id, last_outcome, fail_reason, result_json, updated_at, submitted_at, status_checks, version, audience_id, account_id) VALUES ${[batch('jd1', 'default'), batch('jb1', 'b')].join(', ')}`,
    "INSERT INTO events (dedupe_key, kind, event, msg_id, batch_id, payload_json, xml, received_at, state, reason, account_id) VALUES ('mass:111:send success', 'mass_send_job_finish', 'MASSSENDJOBFINISH', '111', 'jd1-0', '{}', '<xml/>', 5, 'applied', NULL, 'default'), ('b/mass:222:send success', 'mass_send_job_finish', 'MASSSENDJOBFINISH', '222', 'jb1-0', '{}', '<xml/>', 6, 'applied', NULL, 'b')",
    "INSERT INTO push_seen (key, body_digest, remember_until) VALUES ('aaaa1111', 'd1', 9), ('b/bbbb2222', 'd2', 9)",
    "INSERT INTO kv (key, value, expires_at) VALUES ('access_token', 'CLEAR-TOKEN-DEFAULT', 9), ('b/access_token', 'CLEAR-TOKEN-B', 9), ('test_clock_offset_ms', '42', 0)",
    "INSERT INTO calls (at, endpoint, batch_id, to_all, succeeded, answered, account_id) VALUES (1, 'send', 'jd1-0', 0, 1, 1, 'default'), (2, 'send', 'jb1-0', 0, 1, 1, 'b')",
    "INSERT INTO accounts (id, app_id, kind, secrets, key_id, created_at, updated_at) VALUES ('b', 'WX00000000000000BB', 'service', 'sealed', 'k1', 1, 1)",
    "INSERT INTO admin_tokens (id, token_hash, role, accounts, created_at) VALUES ('t1', 'h1', 'viewer', '[\"b\"]', 1)",
  ].join('; '));
  cpSync(join(ROOT, 'worker', 'migrations', MIGRATION), join(dir, 'migrations', MIGRATION));
  wrangler('d1', 'migrations', 'apply', 'DB');
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('0007 moves idempotency keys into (account_id, key): prefixes off, the default\'s raw keys kept as they were', () => {
  assert.deepEqual(rows('SELECT id, account_id, idempotency_key FROM jobs ORDER BY id'), [
    { id: 'jb1', account_id: 'b', idempotency_key: 'newsletter' },
    { id: 'jb2', account_id: 'b', idempotency_key: null },
    { id: 'jd1', account_id: 'default', idempotency_key: 'newsletter' },
    { id: 'jd2', account_id: 'default', idempotency_key: 'b/spring' },
    { id: 'jd3', account_id: 'default', idempotency_key: null },
  ]);
  // One key per account, any number of jobs without one.
  assert.throws(() => sql("INSERT INTO jobs (id, account_id, idempotency_key, message_json, audience_json, summary_json, send_at, created_at) VALUES ('jb3', 'b', 'newsletter', '{}', '{}', '{}', 1, 1)"), /UNIQUE/);
  sql("INSERT INTO jobs (id, account_id, idempotency_key, message_json, audience_json, summary_json, send_at, created_at) VALUES ('jc1', 'c', 'newsletter', '{}', '{}', '{}', 1, 1), ('jc2', 'c', NULL, '{}', '{}', '{}', 1, 1)");
  // The batches still belong to their jobs, and the foreign key still points at jobs.
  assert.deepEqual(rows('SELECT b.id, j.account_id FROM batches b JOIN jobs j ON j.id = b.job_id ORDER BY b.id'), [
    { id: 'jb1-0', account_id: 'b' }, { id: 'jd1-0', account_id: 'default' },
  ]);
  assert.deepEqual(rows('PRAGMA foreign_key_list(batches)').map((f) => [f.table, f.from, f.to]), [['jobs', 'job_id', 'id']]);
  assert.ok(rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'").map((i) => i.name).includes('jobs_account_created'));
});

test('0007 keys pushes and plain-mode queries by (account_id, key), prefixes off', () => {
  assert.deepEqual(rows('SELECT account_id, dedupe_key, state, batch_id FROM events ORDER BY account_id'), [
    { account_id: 'b', dedupe_key: 'mass:222:send success', state: 'applied', batch_id: 'jb1-0' },
    { account_id: 'default', dedupe_key: 'mass:111:send success', state: 'applied', batch_id: 'jd1-0' },
  ]);
  // The same dedupe key in two accounts is two pushes; twice in one account, one.
  sql("INSERT INTO events (account_id, dedupe_key, kind, payload_json, xml, received_at) VALUES ('b', 'mass:111:send success', 'mass_send_job_finish', '{}', '<xml/>', 7)");
  assert.throws(() => sql("INSERT INTO events (account_id, dedupe_key, kind, payload_json, xml, received_at) VALUES ('b', 'mass:111:send success', 'mass_send_job_finish', '{}', '<xml/>', 8)"), /UNIQUE/);
  assert.deepEqual(rows('SELECT account_id, key, body_digest FROM push_seen ORDER BY account_id'), [
    { account_id: 'b', key: 'bbbb2222', body_digest: 'd2' },
    { account_id: 'default', key: 'aaaa1111', body_digest: 'd1' },
  ]);
});

test('0007 drops the access tokens kept in the clear, keeps the other kv rows, and starts the sealed token table empty', () => {
  assert.deepEqual(rows('SELECT key, value FROM kv ORDER BY key'), [{ key: 'test_clock_offset_ms', value: '42' }]);
  assert.deepEqual(rows('SELECT * FROM access_tokens'), []);
  assert.deepEqual(rows('SELECT * FROM wechat_reads'), []);
});

test('0007 stores AppIDs in lower case and refuses one AppID twice whatever its case; calls and tokens are untouched', () => {
  assert.deepEqual(rows('SELECT id, app_id FROM accounts'), [{ id: 'b', app_id: 'wx00000000000000bb' }]);
  assert.throws(() => sql("INSERT INTO accounts (id, app_id, kind, secrets, key_id, created_at, updated_at) VALUES ('c', 'Wx00000000000000Bb', 'service', 's', 'k1', 1, 1)"), /UNIQUE/);
  assert.deepEqual(rows('SELECT account_id, count(*) AS n FROM calls GROUP BY account_id ORDER BY account_id'), [{ account_id: 'b', n: 1 }, { account_id: 'default', n: 1 }]);
  assert.deepEqual(rows('SELECT id, accounts FROM admin_tokens'), [{ id: 't1', accounts: '["b"]' }]);
});

test('the later migrations apply in order over those rows: jobs made before 0009 name no creator, and texts written before it have no Chinese twin', () => {
  for (const f of readdirSync(join(ROOT, 'worker', 'migrations'))) {
    if (f > MIGRATION) cpSync(join(ROOT, 'worker', 'migrations', f), join(dir, 'migrations', f));
  }
  wrangler('d1', 'migrations', 'apply', 'DB');
  assert.deepEqual(rows("SELECT id, created_by FROM jobs WHERE account_id = 'default' ORDER BY id").map((j) => j.created_by), [null, null, null]);
  assert.deepEqual(rows('SELECT last_outcome_zh, fail_reason_zh FROM batches').map(Object.values).flat(), [null, null, null, null]);
  assert.deepEqual(rows('SELECT reason_zh FROM events').map((e) => e.reason_zh), [null, null, null]);
});
