-- Tenancy you can trust (issue 24): the account is a column, never a string prefix.
--
-- Until now the tables shared by every account told accounts apart by a prefix in a key
-- (`b/newsletter-2030-03`, `b/mass:…`, `b/access_token`) while the default account's keys were
-- raw, so one account's key could be written to look like another's. Each such table is keyed
-- by (account_id, …) from here on, and today's rows move over with their prefix taken off.
--
-- SQLite cannot drop a UNIQUE or PRIMARY KEY from a column, so `jobs`, `events` and `push_seen`
-- are rebuilt. `batches` refers to `jobs`, and D1 enforces foreign keys: their check waits for
-- the end of the migration, when every job is back under its id.
PRAGMA defer_foreign_keys = true;

-- Jobs: an Idempotency-Key is unique within its account. The rows wait in a plain copy while
-- `jobs` is made again under its own name: a job inserted into `jobs` is what settles the
-- deferred check of its batches (a table renamed into place would not).
CREATE TABLE jobs_0006 AS
  SELECT id, account_id,
         CASE WHEN account_id != 'default' AND substr(idempotency_key, 1, length(account_id) + 1) = account_id || '/'
              THEN substr(idempotency_key, length(account_id) + 2)
              ELSE idempotency_key END AS idempotency_key,
         request_hash, message_json, audience_json, summary_json, send_at, created_at, cancelled_at,
         audience_id, send_ignore_reprint
  FROM jobs;
DROP TABLE jobs;
CREATE TABLE jobs (
  id                  TEXT PRIMARY KEY,
  account_id          TEXT NOT NULL DEFAULT 'default',
  idempotency_key     TEXT,                -- the Idempotency-Key header, as given
  request_hash        TEXT,
  message_json        TEXT NOT NULL,
  audience_json       TEXT NOT NULL,
  summary_json        TEXT NOT NULL,
  send_at             INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  cancelled_at        INTEGER,
  audience_id         TEXT,
  send_ignore_reprint INTEGER
);
INSERT INTO jobs (id, account_id, idempotency_key, request_hash, message_json, audience_json,
                  summary_json, send_at, created_at, cancelled_at, audience_id, send_ignore_reprint)
  SELECT id, account_id, idempotency_key, request_hash, message_json, audience_json, summary_json,
         send_at, created_at, cancelled_at, audience_id, send_ignore_reprint
  FROM jobs_0006;
DROP TABLE jobs_0006;
CREATE UNIQUE INDEX jobs_account_idempotency_key ON jobs(account_id, idempotency_key);
CREATE INDEX jobs_created ON jobs(created_at, id);
CREATE INDEX jobs_audience ON jobs(audience_id);
CREATE INDEX jobs_account_created ON jobs(account_id, created_at, id);

-- Pushes: core's dedupe key (MsgID + Status) is unique within its account. A new state,
-- `conflicting`: a second result for a MsgID whose batch already holds another; kept apart,
-- never applied.
CREATE TABLE events_0007 (
  account_id   TEXT NOT NULL DEFAULT 'default',
  dedupe_key   TEXT NOT NULL,             -- core's, as core writes it
  kind         TEXT NOT NULL,
  event        TEXT,
  msg_id       TEXT,
  batch_id     TEXT,
  payload_json TEXT NOT NULL,
  xml          TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  state        TEXT NOT NULL DEFAULT 'stored',
  reason       TEXT,
  PRIMARY KEY (account_id, dedupe_key)
);
INSERT INTO events_0007 (account_id, dedupe_key, kind, event, msg_id, batch_id, payload_json, xml,
                         received_at, state, reason)
  SELECT account_id,
         CASE WHEN account_id != 'default' AND substr(dedupe_key, 1, length(account_id) + 1) = account_id || '/'
              THEN substr(dedupe_key, length(account_id) + 2)
              ELSE dedupe_key END,
         kind, event, msg_id, batch_id, payload_json, xml, received_at, state, reason
  FROM events;
DROP TABLE events;
ALTER TABLE events_0007 RENAME TO events;
CREATE INDEX events_msg_id ON events(account_id, msg_id);
CREATE INDEX events_account_state ON events(account_id, state, received_at);
CREATE INDEX events_account_received ON events(account_id, received_at);
CREATE INDEX events_received ON events(received_at);

-- Plain-mode queries: remembered per account. The old keys were a SHA-256 in hex (no '/'), with
-- `<account>/` in front for every account but the default.
CREATE TABLE push_seen_0007 (
  account_id     TEXT NOT NULL,
  key            TEXT NOT NULL,           -- sha256 of timestamp, nonce, signature
  body_digest    TEXT NOT NULL,
  remember_until INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
);
INSERT INTO push_seen_0007 (account_id, key, body_digest, remember_until)
  SELECT CASE WHEN instr(key, '/') > 0 THEN substr(key, 1, instr(key, '/') - 1) ELSE 'default' END,
         CASE WHEN instr(key, '/') > 0 THEN substr(key, instr(key, '/') + 1) ELSE key END,
         body_digest, remember_until
  FROM push_seen;
DROP TABLE push_seen;
ALTER TABLE push_seen_0007 RENAME TO push_seen;
CREATE INDEX push_seen_until ON push_seen(remember_until);

-- The access_token of each account, sealed (AES-GCM, worker/src/secrets.rs) like the account's
-- other secrets, with its refresh lock. The tokens cached in `kv` were in the clear: they are
-- dropped, not moved (SQL cannot seal them); each account fetches a new one on its next call.
CREATE TABLE access_tokens (
  account_id TEXT PRIMARY KEY,
  sealed     TEXT NOT NULL DEFAULT '',      -- '' while a refresh holds only the lock
  refresh_at INTEGER NOT NULL DEFAULT 0,    -- when to fetch a new one (before WeChat's expiry)
  lock_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);
DELETE FROM kv WHERE key = 'access_token' OR key LIKE '%/access_token';

-- WeChat's answers to reads (mass/get, speed/get), kept briefly so that reading never spends
-- the minute's 60 mass calls that sends need (worker/src/calls.rs).
CREATE TABLE wechat_reads (
  account_id  TEXT NOT NULL,
  endpoint    TEXT NOT NULL,              -- core's EndpointName: get | speed/get
  key         TEXT NOT NULL,              -- the msg_id for get; '' for speed/get
  answer_json TEXT NOT NULL,              -- core's typed reply
  fetched_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, endpoint, key)
);
CREATE INDEX wechat_reads_fetched ON wechat_reads(fetched_at);

-- One official account, one row: AppIDs are stored in lower case (WeChat writes them so) and
-- unique whatever the case they were given in. If two rows hold one AppID in different cases,
-- this migration stops here: find them with
--   SELECT lower(app_id), group_concat(id) FROM accounts GROUP BY lower(app_id) HAVING count(*) > 1;
UPDATE accounts SET app_id = lower(app_id);
CREATE UNIQUE INDEX accounts_app_id_nocase ON accounts(lower(app_id));
