-- Read, decide in core, commit once (worker/src/store.rs).
--
-- Every commit that changes a batch is guarded by its version: `UPDATE … WHERE id = ? AND
-- version = ?` bumps it, so of two runs that read the same row only the first commit applies.
ALTER TABLE batches ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- A hash of the canonical create body, so an Idempotency-Key reused with another body is refused.
ALTER TABLE jobs ADD COLUMN request_hash TEXT;
CREATE INDEX jobs_created ON jobs(created_at, id);

-- What became of each push:
--   applied     a MASSSENDJOBFINISH recorded against its batch (batch_id)
--   pending     a MASSSENDJOBFINISH whose batch has no msg_id yet; the cron applies it later
--   ignored     a MASSSENDJOBFINISH core would not apply to its batch (reason says why)
--   stored      any other push
--   unreadable  verified, but core could not parse it (reason says why; xml holds the raw text)
ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT 'stored';
ALTER TABLE events ADD COLUMN reason TEXT;
UPDATE events SET state = CASE
  WHEN batch_id IS NOT NULL THEN 'applied'
  WHEN kind = 'mass_send_job_finish' THEN 'pending'
  ELSE 'stored' END;
CREATE INDEX events_state ON events(state, received_at);
CREATE INDEX events_received ON events(received_at);

-- The call ledger: every call to a mass endpoint (send, sendall, preview, get, delete, speed),
-- from the cron and the admin API alike, answered or not. The pacer reads its latest 60 rows;
-- core's quota rules read its sends of the last China month.
CREATE TABLE calls (
  at        INTEGER NOT NULL,
  endpoint  TEXT NOT NULL,              -- core's EndpointName::as_str: sendall | send | preview | …
  batch_id  TEXT,
  to_all    INTEGER NOT NULL DEFAULT 0,
  succeeded INTEGER NOT NULL DEFAULT 0, -- WeChat accepted it (what the quota counts)
  answered  INTEGER NOT NULL DEFAULT 1  -- 0: no usable answer (it may have reached WeChat)
);
CREATE INDEX calls_at ON calls(at);
CREATE INDEX calls_endpoint_at ON calls(endpoint, at);
INSERT INTO calls (at, endpoint, batch_id, to_all, succeeded)
  SELECT at, endpoint, batch_id, to_all, succeeded FROM sends;
DROP TABLE sends;
-- The pacer's state now comes from the ledger.
DELETE FROM kv WHERE key = 'pacer';
