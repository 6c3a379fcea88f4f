//! What one cron run reads for an account before it decides anything: one round trip across
//! `batches`, `events`, `calls` and the access_token.

use serde::Deserialize;

use super::access_token::{TokenRow, TOKEN_SELECT};
use super::audiences::AudienceRow;
use super::calls::{CallRow, PACER_ROWS, PACER_SELECT, SENDS_SELECT};
use super::db::{first, n, rows, Store};
use super::jobs::{BatchRow, BATCH_COLUMNS};
use crate::error::AppError;

/// A result event waiting for its batch, with the batch that now carries its msg_id.
#[derive(Debug, Clone, Deserialize)]
pub struct PendingResult {
    pub event_key: String,
    pub event_xml: String,
    #[serde(flatten)]
    pub batch: BatchRow,
}

/// What one cron run reads before it decides anything.
pub struct RunRead {
    /// Batches due now, oldest due first.
    pub due: Vec<BatchRow>,
    /// Submitted batches whose mass/get check is due.
    pub overdue: Vec<BatchRow>,
    /// Result events that came before their batch's msg_id was recorded.
    pub pending_results: Vec<PendingResult>,
    /// The sends of the quota window.
    pub sends: Vec<CallRow>,
    /// The latest mass calls, newest first (the pacer's window).
    pub recent_calls: Vec<CallRow>,
    /// The cached access_token.
    pub token: Option<TokenRow>,
    /// Audiences collecting from WeChat (read only when the account has some).
    pub collecting: Vec<AudienceRow>,
}

impl Store {
    /// Everything one cron run decides from, in one round trip; with `collecting`, the
    /// account's audiences collecting from WeChat too (one statement more).
    pub async fn read_run(
        &self,
        now: i64,
        due_limit: u32,
        sends_since: i64,
        collecting: Option<u32>,
    ) -> Result<RunRead, AppError> {
        let mut stmts = vec![
                self.sql(
                    &format!("SELECT {BATCH_COLUMNS}, j.message_json AS job_message, j.send_ignore_reprint AS job_reprint FROM batches b LEFT JOIN jobs j ON j.id = b.job_id AND b.audience_id IS NOT NULL WHERE b.account_id = ?3 AND b.next_attempt_at <= ?1 AND (b.state = 'pending' OR (b.state = 'sending' AND b.lease_until < ?1)) ORDER BY b.next_attempt_at, b.job_id, b.idx LIMIT ?2"),
                    &[n(now), n(i64::from(due_limit)), self.acc()],
                )?,
                self.sql(
                    &format!("SELECT {BATCH_COLUMNS} FROM batches b WHERE b.account_id = ?3 AND b.state = 'submitted' AND b.next_attempt_at <= ?1 ORDER BY b.next_attempt_at LIMIT ?2"),
                    &[n(now), n(i64::from(due_limit)), self.acc()],
                )?,
                self.sql(
                    &format!("SELECT e.dedupe_key AS event_key, e.xml AS event_xml, {BATCH_COLUMNS} FROM events e JOIN batches b ON b.msg_id = e.msg_id AND b.account_id = e.account_id WHERE e.account_id = ?2 AND e.state = 'pending' AND b.state IN ('submitted', 'finished') ORDER BY e.received_at LIMIT ?1"),
                    &[n(i64::from(due_limit)), self.acc()],
                )?,
                self.sql(SENDS_SELECT, &[n(sends_since), self.acc()])?,
                self.sql(PACER_SELECT, &[n(PACER_ROWS), self.acc()])?,
                self.sql(TOKEN_SELECT, &[self.acc()])?,
            ];
        if let Some(limit) = collecting {
            stmts.push(self.collecting_select(limit)?);
        }
        let r = self.batch(stmts).await?;
        Ok(RunRead {
            due: rows(&r, 0)?,
            overdue: rows(&r, 1)?,
            pending_results: rows(&r, 2)?,
            sends: rows(&r, 3)?,
            recent_calls: rows(&r, 4)?,
            token: first(&r, 5)?,
            collecting: if collecting.is_some() {
                rows(&r, 6)?
            } else {
                Vec::new()
            },
        })
    }
}
