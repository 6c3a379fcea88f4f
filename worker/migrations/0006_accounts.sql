-- Many official accounts in one deployment (issue 20).
--
-- An account's settings are data; its secrets (AppSecret, callback Token, EncodingAESKey, the
-- forward URL, TOKEN_URL_SECRET) are one AES-GCM box under the worker secret
-- ACCOUNTS_MASTER_KEY, never stored in the clear. `key_id` names the master key that sealed the
-- box, so a key rotation re-seals row by row and a rotation stopped half-way leaves every row
-- readable (by the old key or the new).
--
-- The vars-and-secrets configuration of one account keeps working as the account `default`,
-- which needs no row. Rows written before this migration belong to it.
CREATE TABLE accounts (
  id            TEXT PRIMARY KEY,             -- 1-32 of a-z 0-9 -
  app_id        TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL,                -- service | subscription
  callback_mode TEXT,                         -- plain | compat | safe; NULL: core's default
  api_base      TEXT,                         -- NULL: https://api.weixin.qq.com
  token_url     TEXT,                         -- an operator's token service, or NULL
  secrets       TEXT NOT NULL,                -- the sealed box (base64 of nonce and ciphertext)
  key_id        TEXT NOT NULL,                -- which master key sealed it
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  version       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_key_id ON accounts(key_id);

ALTER TABLE jobs ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE batches ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE events ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE calls ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE audiences ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX jobs_account_created ON jobs(account_id, created_at, id);
CREATE INDEX batches_account_due ON batches(account_id, state, next_attempt_at);
CREATE INDEX events_account_received ON events(account_id, received_at);
CREATE INDEX calls_account_at ON calls(account_id, at);

-- Scoped admin tokens: stored as SHA-256 hashes, shown once at creation. `accounts` is a JSON
-- array of account ids, or ["*"] for every account.
CREATE TABLE admin_tokens (
  id           TEXT PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL,                 -- admin | operator | viewer
  accounts     TEXT NOT NULL,
  label        TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER,
  last_used_at INTEGER
);
