-- wxmass worker state. Times are Unix milliseconds (INTEGER); WeChat's 64-bit msg ids are TEXT
-- because D1 hands numbers to JavaScript as doubles, which cannot hold them exactly.

-- One mass-send job as an operator created it, planned by core at creation.
CREATE TABLE jobs (
  id              TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,            -- the Idempotency-Key header of the create call
  message_json    TEXT NOT NULL,          -- the message as given (after core read it)
  audience_json   TEXT NOT NULL,          -- the audience as given (OpenID lists summarized)
  summary_json    TEXT NOT NULL,          -- core's PlanSummary at creation
  send_at         INTEGER NOT NULL,       -- no batch goes out before this
  created_at      INTEGER NOT NULL,
  cancelled_at    INTEGER
);

-- One WeChat call of a job (a mass/send of <= 10,000 OpenIDs, or a sendall). The request body is
-- built and validated by core at creation and carries the batch's fixed clientmsgid, so every
-- attempt sends the very same bytes.
CREATE TABLE batches (
  id              TEXT PRIMARY KEY,       -- <job id>-<index>
  job_id          TEXT NOT NULL REFERENCES jobs(id),
  idx             INTEGER NOT NULL,
  clientmsgid     TEXT NOT NULL UNIQUE,
  endpoint        TEXT NOT NULL,          -- core EndpointName: sendall | send
  to_all          INTEGER NOT NULL,
  recipients      INTEGER,                -- OpenIDs in the batch (NULL for tag/everyone)
  request_body    TEXT NOT NULL,
  -- pending: due at next_attempt_at | sending: claimed until lease_until | submitted: WeChat
  -- has it (msg_id) | finished: MASSSENDJOBFINISH recorded | failed | cancelled
  state           TEXT NOT NULL,
  progress_json   TEXT NOT NULL,          -- core BatchProgress (attempt counters, not_before, ...)
  attempt         INTEGER NOT NULL DEFAULT 0,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  msg_id          TEXT,
  msg_data_id     TEXT,
  last_outcome    TEXT,                   -- what the latest attempt got, for a person
  fail_reason     TEXT,
  result_json     TEXT,                   -- core JobResult from the event
  updated_at      INTEGER NOT NULL
);
CREATE INDEX batches_due ON batches(state, next_attempt_at);
CREATE INDEX batches_job ON batches(job_id, idx);
CREATE INDEX batches_msg_id ON batches(msg_id);

-- Every push from WeChat, once: dedupe_key is core's (MsgID + Status for MASSSENDJOBFINISH).
CREATE TABLE events (
  dedupe_key   TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,             -- mass_send_job_finish | other
  event        TEXT,                      -- Event / MsgType as sent
  msg_id       TEXT,
  batch_id     TEXT,                      -- the batch it was recorded against
  payload_json TEXT NOT NULL,             -- core's parsed CallbackMessage
  xml          TEXT NOT NULL,             -- the verified (decrypted) XML, for core to read again
  received_at  INTEGER NOT NULL
);
CREATE INDEX events_msg_id ON events(msg_id);

-- The account's send ledger, for core's quota checks (China days and months).
CREATE TABLE sends (
  batch_id  TEXT NOT NULL,
  at        INTEGER NOT NULL,
  endpoint  TEXT NOT NULL,
  to_all    INTEGER NOT NULL,
  succeeded INTEGER NOT NULL
);
CREATE INDEX sends_at ON sends(at);

-- Small shared state: the access_token cache (with a refresh lock), the pacer, the test clock.
CREATE TABLE kv (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  lock_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);
