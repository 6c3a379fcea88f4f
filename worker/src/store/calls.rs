//! `calls`: the ledger of WeChat calls, which the pacer (60 a minute) and the quota rules read.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::access_token::{TokenRow, TOKEN_SELECT};
use super::db::{first, n, opt, rows, s, Store};
use super::wechat_reads::{ReadRow, READS_SINCE_SELECT, READ_SELECT};
use crate::error::AppError;

/// One row of the call ledger.
#[derive(Debug, Clone, Deserialize)]
pub struct CallRow {
    pub at: i64,
    pub endpoint: String,
    pub to_all: i64,
    pub succeeded: i64,
}

/// A call to record.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub at: i64,
    pub endpoint: &'static str,
    pub batch_id: Option<String>,
    pub to_all: bool,
    pub succeeded: bool,
    pub answered: bool,
}

/// The account's mass calls lately.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallCounts {
    pub last_minute: i64,
    pub sends_today: i64,
    pub sends_this_month: i64,
    pub to_all_today: i64,
    pub to_all_this_month: i64,
}

/// How many of the latest calls the pacer needs (WeChat's 60 a minute).
pub(super) const PACER_ROWS: i64 = wxmass::limits::MAX_CALLS_PER_MINUTE as i64;

/// The account's sends since ?1 (the quota window), oldest first.
pub(super) const SENDS_SELECT: &str = "SELECT at, endpoint, to_all, succeeded FROM calls WHERE account_id = ?2 AND endpoint IN ('sendall', 'send') AND at >= ?1 ORDER BY at";

/// The account's latest ?1 calls (the pacer's window), newest first.
pub(super) const PACER_SELECT: &str = "SELECT at, endpoint, to_all, succeeded FROM calls WHERE account_id = ?2 ORDER BY at DESC LIMIT ?1";

impl Store {
    /// What an admin call to WeChat decides from: the cached token and the pacer's window.
    pub async fn read_for_call(&self) -> Result<(Option<TokenRow>, Vec<CallRow>), AppError> {
        let r = self
            .batch(vec![
                self.sql(TOKEN_SELECT, &[self.acc()])?,
                self.sql(PACER_SELECT, &[n(PACER_ROWS), self.acc()])?,
            ])
            .await?;
        Ok((first(&r, 0)?, rows(&r, 1)?))
    }

    /// What a read for the admin API decides from: the token, the pacer's window (the reads'
    /// allowance is counted in it), and WeChat's last answer to the same read.
    pub async fn read_for_read(
        &self,
        endpoint: &str,
        key: &str,
    ) -> Result<(Option<TokenRow>, Vec<CallRow>, Option<ReadRow>), AppError> {
        let r = self
            .batch(vec![
                self.sql(TOKEN_SELECT, &[self.acc()])?,
                self.sql(PACER_SELECT, &[n(PACER_ROWS), self.acc()])?,
                self.sql(READ_SELECT, &[self.acc(), s(endpoint), s(key)])?,
            ])
            .await?;
        Ok((first(&r, 0)?, rows(&r, 1)?, first(&r, 2)?))
    }

    /// What a read that is no mass call decides from: the token, when WeChat answered the reads
    /// of `endpoints` since `since` (their allowance), and its last answer to the same read.
    pub async fn read_for_plain_read(
        &self,
        endpoint: &str,
        key: &str,
        since: i64,
        endpoints: &[&str],
    ) -> Result<(Option<TokenRow>, Vec<i64>, Option<ReadRow>), AppError> {
        #[derive(Deserialize)]
        struct At {
            fetched_at: i64,
        }
        let names = serde_json::to_string(endpoints)
            .map_err(|e| AppError::Internal(format!("read endpoints: {e}")))?;
        let r = self
            .batch(vec![
                self.sql(TOKEN_SELECT, &[self.acc()])?,
                self.sql(READS_SINCE_SELECT, &[self.acc(), n(since), s(&names)])?,
                self.sql(READ_SELECT, &[self.acc(), s(endpoint), s(key)])?,
            ])
            .await?;
        let reads: Vec<At> = rows(&r, 1)?;
        Ok((
            first(&r, 0)?,
            reads.into_iter().map(|a| a.fetched_at).collect(),
            first(&r, 2)?,
        ))
    }

    /// Records a call in the ledger.
    pub fn insert_call(&self, c: &NewCall) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT INTO calls (at, endpoint, batch_id, to_all, succeeded, answered, account_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                n(c.at),
                s(c.endpoint),
                opt(c.batch_id.as_deref()),
                n(i64::from(c.to_all)),
                n(i64::from(c.succeeded)),
                n(i64::from(c.answered)),
                self.acc(),
            ],
        )
    }
}
