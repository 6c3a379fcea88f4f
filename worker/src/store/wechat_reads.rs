//! `wechat_reads`: WeChat's last answer to each read (mass/get of a msg_id, speed/get, the
//! material lists, the tags) of an account, served again for a minute so that reading never
//! spends what sends need (`calls.rs`, the worker's).

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::db::{n, s, Store};
use crate::error::AppError;

/// WeChat's answer to a read, as core's reply in JSON, and when it came.
#[derive(Debug, Clone, Deserialize)]
pub struct ReadRow {
    pub answer_json: String,
    pub fetched_at: i64,
}

/// The store's account's answer to one read (?1 the account, ?2 the endpoint, ?3 the key).
pub(super) const READ_SELECT: &str = "SELECT answer_json, fetched_at FROM wechat_reads WHERE account_id = ?1 AND endpoint = ?2 AND key = ?3";

/// When the store's account's reads of some endpoints were answered since ?2 (?3 the endpoints,
/// a JSON array).
pub(super) const READS_SINCE_SELECT: &str = "SELECT fetched_at FROM wechat_reads WHERE account_id = ?1 AND fetched_at > ?2 AND endpoint IN (SELECT value FROM json_each(?3))";

impl Store {
    /// Keeps WeChat's answer to a read (replacing the one before).
    pub fn put_read(
        &self,
        endpoint: &str,
        key: &str,
        answer_json: &str,
        now: i64,
    ) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT INTO wechat_reads (account_id, endpoint, key, answer_json, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(account_id, endpoint, key) DO UPDATE SET answer_json = excluded.answer_json, fetched_at = excluded.fetched_at",
            &[self.acc(), s(endpoint), s(key), s(answer_json), n(now)],
        )
    }

    /// Forgets the answer to a read (what it read changed: speed/set).
    pub fn forget_read(&self, endpoint: &str, key: &str) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "DELETE FROM wechat_reads WHERE account_id = ?1 AND endpoint = ?2 AND key = ?3",
            &[self.acc(), s(endpoint), s(key)],
        )
    }

    /// Deletes at most `chunk` answers fetched before `before`, every account's (retention).
    pub fn purge_reads(&self, before: i64, chunk: u32) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "DELETE FROM wechat_reads WHERE rowid IN (SELECT rowid FROM wechat_reads WHERE fetched_at < ?1 LIMIT ?2)",
            &[n(before), n(i64::from(chunk))],
        )
    }
}
