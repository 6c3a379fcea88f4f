-- Audiences of up to a million OpenIDs, uploaded in parts (an admin body is at most 4 MiB, about
-- 130,000 OpenIDs) and sealed once: duplicates across parts removed (the first kept), then split
-- by core into ⌈N/10,000⌉ balanced chunks. Chunk i is batch i of every job sent to the audience,
-- so a job of a million needs no second read of the million: each batch's clientmsgid comes from
-- its chunk's digest, and the cron reads the one chunk it sends.
--
-- D1's limits: a row or string is at most 2 MB, so a part's OpenIDs are kept in rows of at most
-- 50,000 (1.4 MB) and a chunk holds at most 10,000 (280 KB).
CREATE TABLE audiences (
  id          TEXT PRIMARY KEY,
  state       TEXT NOT NULL,               -- open | sealed
  parts       INTEGER NOT NULL DEFAULT 0,  -- parts received (numbered 1, 2, … in order)
  received    INTEGER NOT NULL DEFAULT 0,  -- entries received over all parts
  invalid     INTEGER NOT NULL DEFAULT 0,  -- entries that are not OpenIDs
  valid       INTEGER,                     -- unique valid OpenIDs, once sealed
  duplicates  INTEGER,                     -- repeats dropped at sealing
  batches     INTEGER,                     -- chunks, once sealed
  created_at  INTEGER NOT NULL,
  sealed_at   INTEGER,
  version     INTEGER NOT NULL DEFAULT 0   -- guards every commit, like batches.version
);

-- One uploaded part: what it held, a hash of its body (the same part number again with the same
-- body is a retry; with another body, a mistake), and the answer given, for the retry.
CREATE TABLE audience_parts (
  audience_id    TEXT NOT NULL,
  part           INTEGER NOT NULL,
  first_position INTEGER NOT NULL,          -- position in the whole audience of its first entry
  received       INTEGER NOT NULL,
  valid          INTEGER NOT NULL,
  invalid        INTEGER NOT NULL,
  body_hash      TEXT NOT NULL,
  answer_json    TEXT NOT NULL,
  PRIMARY KEY (audience_id, part)
);

-- The valid OpenIDs of each part as uploaded, '\n'-joined, until the audience is sealed.
CREATE TABLE audience_raw (
  audience_id TEXT NOT NULL,
  part        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  openids     TEXT NOT NULL,
  PRIMARY KEY (audience_id, part, seq)
);

-- The sealed audience: chunk idx = batch idx of every job sent to it.
CREATE TABLE audience_chunks (
  audience_id TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  digest      TEXT NOT NULL,                -- core's digest of the chunk's recipients
  openids     TEXT NOT NULL,
  PRIMARY KEY (audience_id, idx)
);

-- A job sent to a sealed audience: its batches have no stored body (request_body ''); the cron
-- builds each from the job's message and the batch's chunk.
ALTER TABLE jobs ADD COLUMN audience_id TEXT;
ALTER TABLE jobs ADD COLUMN send_ignore_reprint INTEGER;
ALTER TABLE batches ADD COLUMN audience_id TEXT;
CREATE INDEX jobs_audience ON jobs(audience_id);
