//! `jobs` and `batches`: a job is planned once into batches, each sent and settled on its own
//! under a version guard.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, D1Result};

use super::calls::{CallRow, SENDS_SELECT};
use super::db::{first, n, opt, opt_n, rows, s, Store};
use super::events::EventRow;
use crate::error::AppError;

/// What a claim returned ([`Store::claim`]): the stored body, and for a batch of a sealed
/// audience its chunk's OpenIDs; `None` when the claim did not match (another run changed the
/// batch first).
pub fn claimed(results: &[D1Result]) -> Result<Option<(String, Option<String>)>, AppError> {
    #[derive(Deserialize)]
    struct Body {
        request_body: String,
    }
    #[derive(Deserialize)]
    struct Chunk {
        openids: String,
    }
    let Some(body) = first::<Body>(results, 0)? else {
        return Ok(None);
    };
    let chunk = match results.len() {
        2 => first::<Chunk>(results, 1)?.map(|c| c.openids),
        _ => None,
    };
    Ok(Some((body.request_body, chunk)))
}

/// A job row.
#[derive(Debug, Clone, Deserialize)]
pub struct JobRow {
    pub id: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub message_json: String,
    pub audience_json: String,
    pub summary_json: String,
    pub send_at: i64,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
    /// A job sent to a sealed audience.
    #[serde(default)]
    pub audience_id: Option<String>,
    /// The job's `send_ignore_reprint` (1/0), for building a sealed audience's bodies.
    #[serde(default)]
    pub send_ignore_reprint: Option<i64>,
}

/// A job in the list, with its batches counted by state.
#[derive(Debug, Clone, Deserialize)]
pub struct JobListRow {
    pub id: String,
    pub created_at: i64,
    pub send_at: i64,
    pub cancelled_at: Option<i64>,
    /// The message and audience as the job was created with them (the console's list shows them).
    pub message_json: String,
    pub audience_json: String,
    #[serde(flatten)]
    pub counts: BatchCounts,
}

/// How many batches of a job are in each state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BatchCounts {
    pub batches: i64,
    pub pending: i64,
    pub sending: i64,
    pub submitted: i64,
    pub finished: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Batches with at least one attempt.
    pub attempted: i64,
}

/// A batch without its (large) request body.
#[derive(Debug, Clone, Deserialize)]
pub struct BatchRow {
    pub id: String,
    pub job_id: String,
    pub idx: i64,
    pub clientmsgid: String,
    pub endpoint: String,
    pub to_all: i64,
    pub recipients: Option<i64>,
    pub state: String,
    pub progress_json: String,
    pub attempt: i64,
    pub lease_until: i64,
    pub next_attempt_at: i64,
    pub msg_id: Option<String>,
    pub msg_data_id: Option<String>,
    pub last_outcome: Option<String>,
    pub fail_reason: Option<String>,
    pub result_json: Option<String>,
    pub submitted_at: Option<i64>,
    pub status_checks: i64,
    pub version: i64,
    /// A batch of a job sent to a sealed audience: its recipients are chunk `idx` there.
    #[serde(default)]
    pub audience_id: Option<String>,
    /// For such a batch, in the cron's read: the job's message, to build the body from.
    #[serde(default)]
    pub job_message: Option<String>,
    /// …and the job's `send_ignore_reprint`.
    #[serde(default)]
    pub job_reprint: Option<i64>,
}

pub(super) const BATCH_COLUMNS: &str = "b.id, b.job_id, b.idx, b.clientmsgid, b.endpoint, b.to_all, b.recipients, b.state, b.progress_json, b.attempt, b.lease_until, b.next_attempt_at, b.msg_id, b.msg_data_id, b.last_outcome, b.fail_reason, b.result_json, b.submitted_at, b.status_checks, b.version, b.audience_id";

/// Batches one INSERT carries (12 parameters each; D1 binds at most 100).
const BATCHES_PER_INSERT: usize = 8;

/// Stored request bodies one INSERT carries at most (a 10,000-OpenID body is ~330 KB).
const BODY_BYTES_PER_INSERT: usize = 1_400_000;

/// A new batch, as planned by core.
pub struct NewBatch {
    /// The sealed audience whose chunk `idx` holds its recipients (its body is built when it is
    /// sent; `request_body` is empty).
    pub audience_id: Option<String>,
    pub idx: usize,
    pub clientmsgid: String,
    pub endpoint: &'static str,
    pub to_all: bool,
    pub recipients: Option<usize>,
    pub request_body: String,
    pub progress_json: String,
}

/// A batch of a job still to send.
#[derive(Debug, Clone, Deserialize)]
pub struct QueuedSend {
    pub next_attempt_at: i64,
    pub endpoint: String,
    pub to_all: i64,
}

impl Store {
    /// What creating a job decides from: an earlier job under the same key, the sends of the
    /// quota window, and the batches of every job still to send (the quota is the account's).
    pub async fn read_for_create(
        &self,
        idempotency_key: Option<&str>,
        sends_since: i64,
    ) -> Result<(Option<JobRow>, Vec<CallRow>, Vec<QueuedSend>), AppError> {
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT * FROM jobs WHERE account_id = ?2 AND idempotency_key = ?1",
                    &[opt(idempotency_key), self.acc()],
                )?,
                self.sql(SENDS_SELECT, &[n(sends_since), self.acc()])?,
                self.sql(
                    "SELECT next_attempt_at, endpoint, to_all FROM batches WHERE account_id = ?1 AND state IN ('pending', 'sending') ORDER BY next_attempt_at, job_id, idx",
                    &[self.acc()],
                )?,
            ])
            .await?;
        Ok((first(&r, 0)?, rows(&r, 1)?, rows(&r, 2)?))
    }

    /// A job by its idempotency key (after a create lost the race for it).
    pub async fn job_by_idempotency_key(&self, key: &str) -> Result<Option<JobRow>, AppError> {
        let r = self
            .batch(vec![self.sql(
                "SELECT * FROM jobs WHERE account_id = ?2 AND idempotency_key = ?1",
                &[s(key), self.acc()],
            )?])
            .await?;
        first(&r, 0)
    }

    /// A job with its batches and its result events, in one round trip.
    pub async fn read_job(
        &self,
        id: &str,
    ) -> Result<Option<(JobRow, Vec<BatchRow>, Vec<EventRow>)>, AppError> {
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT * FROM jobs WHERE id = ?1 AND account_id = ?2",
                    &[s(id), self.acc()],
                )?,
                self.sql(
                    &format!("SELECT {BATCH_COLUMNS} FROM batches b WHERE b.job_id = ?1 AND b.account_id = ?2 ORDER BY b.idx"),
                    &[s(id), self.acc()],
                )?,
                self.sql(
                    "SELECT e.* FROM events e JOIN batches b ON b.msg_id = e.msg_id AND b.account_id = e.account_id WHERE b.job_id = ?1 AND b.account_id = ?2 AND e.kind = 'mass_send_job_finish' ORDER BY e.received_at",
                    &[s(id), self.acc()],
                )?,
            ])
            .await?;
        match first::<JobRow>(&r, 0)? {
            Some(job) => Ok(Some((job, rows(&r, 1)?, rows(&r, 2)?))),
            None => Ok(None),
        }
    }

    /// A page of jobs, newest first, each with its batches counted by state. `after` is the
    /// last job of the previous page: `(created_at, id)`.
    pub async fn list_jobs(
        &self,
        limit: u32,
        after: Option<(i64, &str)>,
    ) -> Result<Vec<JobListRow>, AppError> {
        let (at, id) = after.map_or((JsValue::NULL, JsValue::NULL), |(t, i)| (n(t), s(i)));
        self.all(
                "SELECT j.id, j.created_at, j.send_at, j.cancelled_at, j.message_json, j.audience_json, count(b.id) AS batches, \
                 coalesce(sum(b.state = 'pending'), 0) AS pending, coalesce(sum(b.state = 'sending'), 0) AS sending, \
                 coalesce(sum(b.state = 'submitted'), 0) AS submitted, coalesce(sum(b.state = 'finished'), 0) AS finished, \
                 coalesce(sum(b.state = 'failed'), 0) AS failed, coalesce(sum(b.state = 'cancelled'), 0) AS cancelled, \
                 coalesce(sum(b.attempt > 0), 0) AS attempted \
                 FROM jobs j LEFT JOIN batches b ON b.job_id = j.id \
                 WHERE j.account_id = ?4 AND (?1 IS NULL OR j.created_at < ?1 OR (j.created_at = ?1 AND j.id < ?2)) \
                 GROUP BY j.id ORDER BY j.created_at DESC, j.id DESC LIMIT ?3",
            &[at, id, n(i64::from(limit)), self.acc()],
        )
        .await
    }

    /// The batch WeChat knows as `msg_id`.
    pub async fn batch_by_msg_id(&self, msg_id: &str) -> Result<Option<BatchRow>, AppError> {
        self.one(
            &format!("SELECT {BATCH_COLUMNS} FROM batches b WHERE b.msg_id = ?1 AND b.account_id = ?2 LIMIT 1"),
            &[s(msg_id), self.acc()],
        )
        .await
    }

    /// The batches of a job, for a cancel to decide from.
    pub async fn read_for_cancel(
        &self,
        job_id: &str,
    ) -> Result<Option<(JobRow, Vec<BatchRow>)>, AppError> {
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT * FROM jobs WHERE id = ?1 AND account_id = ?2",
                    &[s(job_id), self.acc()],
                )?,
                self.sql(
                    &format!(
                        "SELECT {BATCH_COLUMNS} FROM batches b WHERE b.job_id = ?1 AND b.account_id = ?2 ORDER BY b.idx"
                    ),
                    &[s(job_id), self.acc()],
                )?,
            ])
            .await?;
        match first::<JobRow>(&r, 0)? {
            Some(job) => Ok(Some((job, rows(&r, 1)?))),
            None => Ok(None),
        }
    }

    /// Writes a batch row's new values, if nobody changed it since it was read at
    /// `read_version` (the version goes up by one). With `returning_body`, the statement also
    /// returns the request body (a claim: the bytes to send).
    pub fn update_batch(
        &self,
        new: &BatchRow,
        read_version: i64,
        now: i64,
        returning_body: bool,
    ) -> Result<D1PreparedStatement, AppError> {
        let returning = if returning_body {
            " RETURNING request_body"
        } else {
            ""
        };
        self.sql(
            &format!("UPDATE batches SET state = ?3, progress_json = ?4, attempt = ?5, lease_until = ?6, next_attempt_at = ?7, msg_id = ?8, msg_data_id = ?9, last_outcome = ?10, fail_reason = ?11, result_json = ?12, submitted_at = ?13, status_checks = ?14, updated_at = ?15, version = version + 1 WHERE id = ?1 AND version = ?2{returning}"),
            &[
                s(&new.id),
                n(read_version),
                s(&new.state),
                s(&new.progress_json),
                n(new.attempt),
                n(new.lease_until),
                n(new.next_attempt_at),
                opt(new.msg_id.as_deref()),
                opt(new.msg_data_id.as_deref()),
                opt(new.last_outcome.as_deref()),
                opt(new.fail_reason.as_deref()),
                opt(new.result_json.as_deref()),
                opt_n(new.submitted_at),
                n(new.status_checks),
                n(now),
            ],
        )
    }

    /// A claim: the batch's new row (guarded) returning its stored body, and for a batch of a
    /// sealed audience its chunk — read only if the claim matched (the version it wrote).
    pub fn claim(
        &self,
        new: &BatchRow,
        read_version: i64,
        now: i64,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let mut stmts = vec![self.update_batch(new, read_version, now, true)?];
        if new.audience_id.is_some() {
            stmts.push(self.sql(
                "SELECT c.openids FROM audience_chunks c JOIN batches b ON c.audience_id = b.audience_id AND c.idx = b.idx WHERE b.id = ?1 AND b.version = ?2",
                &[s(&new.id), n(read_version + 1)],
            )?);
        }
        Ok(stmts)
    }

    /// A job and its batches, a few batches a statement (D1 binds at most 100 parameters, 12
    /// a batch; and at most ~1.4 MB of stored bodies a statement), so a job of 100 batches is
    /// about 15 queries, not 101.
    pub fn insert_job(
        &self,
        job: &JobRow,
        batches: &[NewBatch],
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let mut stmts = vec![self.sql(
            "INSERT INTO jobs (id, idempotency_key, request_hash, message_json, audience_json, summary_json, send_at, created_at, audience_id, send_ignore_reprint, account_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            &[
                s(&job.id),
                opt(job.idempotency_key.as_deref()),
                opt(job.request_hash.as_deref()),
                s(&job.message_json),
                s(&job.audience_json),
                s(&job.summary_json),
                n(job.send_at),
                n(job.created_at),
                opt(job.audience_id.as_deref()),
                opt_n(job.send_ignore_reprint),
                self.acc(),
            ],
        )?];
        let mut group: Vec<&NewBatch> = Vec::new();
        let mut group_bytes = 0;
        for b in batches {
            if group.len() == BATCHES_PER_INSERT
                || (!group.is_empty() && group_bytes + b.request_body.len() > BODY_BYTES_PER_INSERT)
            {
                stmts.push(self.insert_batches(job, &group)?);
                group.clear();
                group_bytes = 0;
            }
            group_bytes += b.request_body.len();
            group.push(b);
        }
        if !group.is_empty() {
            stmts.push(self.insert_batches(job, &group)?);
        }
        Ok(stmts)
    }

    fn insert_batches(
        &self,
        job: &JobRow,
        group: &[&NewBatch],
    ) -> Result<D1PreparedStatement, AppError> {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; group.len()].join(", ");
        // The account is bound once for the whole statement (12 parameters a batch, 8 batches:
        // 97); its `?` comes first in the text, so it is the first parameter.
        let mut args = Vec::with_capacity(group.len() * 12 + 1);
        args.push(self.acc());
        for b in group {
            args.extend([
                s(&format!("{}-{}", job.id, b.idx)),
                s(&job.id),
                n(i64::try_from(b.idx).unwrap_or(i64::MAX)),
                s(&b.clientmsgid),
                s(b.endpoint),
                n(i64::from(b.to_all)),
                opt_n(b.recipients.and_then(|r| i64::try_from(r).ok())),
                s(&b.request_body),
                s(&b.progress_json),
                n(job.send_at),
                n(job.created_at),
                opt(b.audience_id.as_deref()),
            ]);
        }
        self.sql(
            &format!("INSERT INTO batches (id, job_id, idx, clientmsgid, endpoint, to_all, recipients, request_body, state, progress_json, next_attempt_at, updated_at, audience_id, account_id) SELECT column1, column2, column3, column4, column5, column6, column7, column8, 'pending', column9, column10, column11, column12, ? FROM (VALUES {values})"),
            &args,
        )
    }

    /// Marks a job cancelled (the first cancel's time is kept).
    pub fn cancel_job(&self, id: &str, now: i64) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "UPDATE jobs SET cancelled_at = ?2 WHERE id = ?1 AND account_id = ?3 AND cancelled_at IS NULL",
            &[s(id), n(now), self.acc()],
        )
    }
}
