-- Plain-mode pushes (CALLBACK_MODE=plain): a plain `signature` does not cover the body, so the
-- signed query (timestamp, nonce, signature) of each accepted push is kept until its timestamp
-- leaves the skew window, and the same query with another body is refused as forged (core's
-- callback::ReplayGuard). The cron deletes rows past remember_until.
CREATE TABLE push_seen (
  key            TEXT PRIMARY KEY,        -- sha256 of timestamp, nonce, signature
  body_digest    TEXT NOT NULL,           -- sha256 of the body first accepted under it
  remember_until INTEGER NOT NULL         -- Unix ms
);
CREATE INDEX push_seen_until ON push_seen(remember_until);

-- Events gain one state: forward_failed (a push for the account's own server, FORWARD_URL,
-- that it did not take; kept with the reason). Pushes that are not mass-send results are no
-- longer stored unless STORE_ALL_PUSHES=true, and stored pushes not linked to a batch are
-- deleted after EVENT_RETENTION_DAYS (worker/src/cron.rs).
