//! `events` and `push_seen`: stored pushes (mass-send results and, by configuration, the rest)
//! and the plain-mode queries remembered for the skew window.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

use wxmass::plan::Text;

use super::db::{first, n, opt, rows, s, Store};
use crate::error::AppError;

/// A stored push.
#[derive(Debug, Clone, Deserialize)]
pub struct EventRow {
    pub dedupe_key: String,
    pub kind: String,
    pub event: Option<String>,
    pub msg_id: Option<String>,
    pub batch_id: Option<String>,
    pub payload_json: String,
    pub xml: String,
    pub received_at: i64,
    pub state: String,
    pub reason: Option<String>,
    /// The reason in Chinese; `None` for pushes stored before migration 0009.
    #[serde(default)]
    pub reason_zh: Option<String>,
}

/// A push to store.
pub struct NewEvent<'a> {
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub event: Option<&'a str>,
    pub msg_id: Option<&'a str>,
    pub batch_id: Option<&'a str>,
    pub payload_json: &'a str,
    pub xml: &'a str,
    pub state: &'a str,
    /// Why it is kept so, in English and Chinese.
    pub reason: Option<&'a Text>,
    pub received_at: i64,
}

/// How many stored pushes are in one state.
#[derive(Debug, Clone, Deserialize)]
pub struct StateCount {
    pub state: String,
    pub n: i64,
}

impl Store {
    /// A page of stored pushes, newest first, optionally in one state, with the number stored.
    pub async fn list_events(
        &self,
        state: Option<&str>,
        limit: u32,
        after: Option<(i64, &str)>,
    ) -> Result<(Vec<EventRow>, i64), AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let (at, key) = after.map_or((JsValue::NULL, JsValue::NULL), |(t, k)| (n(t), s(k)));
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT * FROM events WHERE account_id = ?5 AND (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR received_at < ?2 OR (received_at = ?2 AND dedupe_key < ?3)) ORDER BY received_at DESC, dedupe_key DESC LIMIT ?4",
                    &[opt(state), at, key, n(i64::from(limit)), self.acc()],
                )?,
                self.sql(
                    "SELECT count(*) AS n FROM events WHERE account_id = ?2 AND (?1 IS NULL OR state = ?1)",
                    &[opt(state), self.acc()],
                )?,
            ])
            .await?;
        let total = first::<Count>(&r, 1)?.map_or(0, |c| c.n);
        Ok((rows(&r, 0)?, total))
    }

    /// Stores a push once in its account (its dedupe key, core's). A repeat changes nothing, unless the stored one is
    /// still `pending` (its batch had no msg_id yet): then it takes the new state. With
    /// `if_previous_changed`, only when the statement before it in the commit changed a row
    /// (its batch update matched), so an event is never marked applied to a batch that did not
    /// take it.
    pub fn insert_event(
        &self,
        e: &NewEvent<'_>,
        if_previous_changed: bool,
    ) -> Result<D1PreparedStatement, AppError> {
        // SQLite wants a WHERE in an INSERT … SELECT before ON CONFLICT.
        let guard = if if_previous_changed {
            "changes() = 1"
        } else {
            "1"
        };
        self.sql(
            &format!("INSERT INTO events (dedupe_key, kind, event, msg_id, batch_id, payload_json, xml, received_at, state, reason, account_id, reason_zh) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE {guard} ON CONFLICT(account_id, dedupe_key) DO UPDATE SET state = excluded.state, batch_id = excluded.batch_id, reason = excluded.reason, reason_zh = excluded.reason_zh WHERE events.state = 'pending'"),
            &[
                s(e.dedupe_key),
                s(e.kind),
                opt(e.event),
                opt(e.msg_id),
                opt(e.batch_id),
                s(e.payload_json),
                s(e.xml),
                n(e.received_at),
                s(e.state),
                opt(e.reason.map(|r| r.en.as_str())),
                self.acc(),
                opt(e.reason.map(|r| r.zh.as_str())),
            ],
        )
    }

    /// Marks a stored push (by its stored key, as read) applied to `batch_id` (or ignored, with the reason), only when the
    /// statement before it changed a row (its batch update matched) or `unconditional`.
    pub fn settle_event(
        &self,
        dedupe_key: &str,
        state: &str,
        batch_id: &str,
        reason: Option<&Text>,
        unconditional: bool,
    ) -> Result<D1PreparedStatement, AppError> {
        let guard = if unconditional {
            ""
        } else {
            " AND changes() = 1"
        };
        self.sql(
            &format!("UPDATE events SET state = ?2, batch_id = ?3, reason = ?4, reason_zh = ?6 WHERE account_id = ?5 AND dedupe_key = ?1{guard}"),
            &[
                s(dedupe_key),
                s(state),
                s(batch_id),
                opt(reason.map(|r| r.en.as_str())),
                self.acc(),
                opt(reason.map(|r| r.zh.as_str())),
            ],
        )
    }

    /// Remembers a plain push's signed query with its body digest (the first one wins) and
    /// answers the digest remembered: one round trip, two queries.
    pub async fn remember_push(
        &self,
        key: &str,
        body_digest: &str,
        remember_until: i64,
    ) -> Result<String, AppError> {
        #[derive(Deserialize)]
        struct Seen {
            body_digest: String,
        }
        let r = self
            .batch(vec![
                self.sql(
                    "INSERT OR IGNORE INTO push_seen (account_id, key, body_digest, remember_until) VALUES (?4, ?1, ?2, ?3)",
                    &[s(key), s(body_digest), n(remember_until), self.acc()],
                )?,
                self.sql(
                    "SELECT body_digest FROM push_seen WHERE account_id = ?2 AND key = ?1",
                    &[s(key), self.acc()],
                )?,
            ])
            .await?;
        Ok(first::<Seen>(&r, 1)?.map_or_else(|| body_digest.to_owned(), |x| x.body_digest))
    }

    /// Deletes at most `chunk` stored pushes received before `events_before` that no batch
    /// holds (a result linked to a batch is kept with its job), the plain-mode queries past
    /// their window, and WeChat's answers to reads fetched before `reads_before`: every
    /// account's, one retention for the deployment.
    pub fn purge(
        &self,
        events_before: i64,
        seen_before: i64,
        reads_before: i64,
        chunk: u32,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        Ok(vec![
            self.sql(
                "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE received_at < ?1 AND batch_id IS NULL ORDER BY received_at LIMIT ?2)",
                &[n(events_before), n(i64::from(chunk))],
            )?,
            self.sql(
                "DELETE FROM push_seen WHERE rowid IN (SELECT rowid FROM push_seen WHERE remember_until < ?1 LIMIT ?2)",
                &[n(seen_before), n(i64::from(chunk))],
            )?,
            self.purge_reads(reads_before, chunk)?,
        ])
    }
}
