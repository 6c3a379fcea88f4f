//! `jobs` and `batches`: a job is planned once into batches, each sent and settled on its own
//! under a version guard.

use serde::Deserialize;
use serde_json::json;
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, D1Result};
use wxmass::endpoint::MsgStatus;
use wxmass::plan::{BatchOutcome, BatchProgress, BatchState, Delivery, JobResult, Text};

use super::calls::{CallRow, SENDS_SELECT};
use super::db::{first, n, opt, opt_n, rows, s, Store};
use super::events::EventRow;
use super::media::{media_of_job_select, MediaRow};
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
    /// Who created it: `{"tokenId", "label", "role"}` as JSON; `None` for jobs created before
    /// migration 0009.
    #[serde(default)]
    pub created_by: Option<String>,
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
    /// As [`JobRow::created_by`].
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(flatten)]
    pub counts: BatchCounts,
    /// The stored results (a JSON array of them) of finished batches with no stored outcome:
    /// rows written before outcomes were (migration 0008), judged by core when read.
    #[serde(default)]
    pub unjudged_results: Option<String>,
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
    /// Finished batches by their stored outcome's delivery.
    #[serde(default)]
    pub delivered: i64,
    #[serde(default)]
    pub partly_delivered: i64,
    #[serde(default)]
    pub refused: i64,
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
    /// [`BatchRow::last_outcome`] in Chinese; `None` for rows written before migration 0009.
    #[serde(default)]
    pub last_outcome_zh: Option<String>,
    /// [`BatchRow::fail_reason`] in Chinese; `None` for rows written before migration 0009.
    #[serde(default)]
    pub fail_reason_zh: Option<String>,
    pub result_json: Option<String>,
    pub submitted_at: Option<i64>,
    pub status_checks: i64,
    pub version: i64,
    /// Core's [`BatchOutcome`] as JSON, stored when the batch ended (see [`BatchRow::outcome`]).
    #[serde(default)]
    pub outcome_json: Option<String>,
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

pub(super) const BATCH_COLUMNS: &str = "b.id, b.job_id, b.idx, b.clientmsgid, b.endpoint, b.to_all, b.recipients, b.state, b.progress_json, b.attempt, b.lease_until, b.next_attempt_at, b.msg_id, b.msg_data_id, b.last_outcome, b.fail_reason, b.result_json, b.submitted_at, b.status_checks, b.version, b.audience_id, b.outcome_json, b.last_outcome_zh, b.fail_reason_zh";

/// The JSON one INSERT of batches carries at most, in one bound parameter (D1 holds at most
/// 2 MB in a string; a 10,000-OpenID body is ~330 KB, a batch of a sealed audience ~250 bytes,
/// so a job of 1,000 such batches is one statement).
const BATCH_JSON_BYTES_PER_INSERT: usize = 1_400_000;

/// How a batch ended, as stored: core's [`BatchOutcome`] JSON.
#[derive(Deserialize)]
struct StoredOutcome {
    delivery: String,
    en: String,
    zh: String,
}

fn stored_outcome(text: &str) -> Option<BatchOutcome> {
    let o: StoredOutcome = serde_json::from_str(text).ok()?;
    Some(BatchOutcome {
        delivery: Delivery::parse(&o.delivery)?,
        en: o.en,
        zh: o.zh,
    })
}

/// Core's [`BatchOutcome`] as stored in `outcome_json`.
pub fn outcome_json(outcome: &BatchOutcome) -> String {
    // Cannot fail: an enum and two strings.
    serde_json::to_string(outcome).unwrap_or_default()
}

/// The outcome core gives a finished batch's stored result: a push's counts ([`JobResult`]), or
/// `{status, source: "mass/get"}` from a status check. `None` for anything else.
pub fn outcome_of_result(text: &str) -> Option<BatchOutcome> {
    if let Ok(result) = serde_json::from_str::<JobResult>(text) {
        return Some(BatchOutcome::of_result(&result));
    }
    #[derive(Deserialize)]
    struct StatusResult {
        status: MsgStatus,
    }
    let checked: StatusResult = serde_json::from_str(text).ok()?;
    BatchOutcome::of_status(&checked.status)
}

impl BatchRow {
    /// How the batch ended, by core's rule: as stored when it ended, or, for a row that has no
    /// stored outcome (written before migration 0008, or failed by a cron step that leaves it to
    /// this), as core reads its result, its progress or its fail reason. `None` while its end is
    /// not known, and for a cancelled batch.
    pub fn outcome(&self) -> Option<BatchOutcome> {
        if let Some(o) = self.outcome_json.as_deref().and_then(stored_outcome) {
            return Some(o);
        }
        match self.state.as_str() {
            "finished" => self.result_json.as_deref().and_then(outcome_of_result),
            "failed" => Some(self.failure_outcome()),
            _ => None,
        }
    }

    fn failure_outcome(&self) -> BatchOutcome {
        let progress = serde_json::from_str::<BatchProgress>(&self.progress_json).ok();
        match progress.as_ref().map(BatchProgress::state) {
            Some(BatchState::Failed {
                reason,
                maybe_delivered,
            }) => BatchOutcome::of_failure(reason, *maybe_delivered),
            _ => match (&self.fail_reason, &self.fail_reason_zh) {
                (Some(en), Some(zh)) => BatchOutcome::of_failure_said(&Text::new(en, zh)),
                (en, _) => {
                    BatchOutcome::of_failure_text(en.as_deref().unwrap_or("the batch failed"))
                }
            },
        }
    }
}

/// A batch to cancel, as core decided it: its row's id, the version it was read at, and the
/// progress core wrote.
pub struct BatchCancel<'a> {
    pub id: &'a str,
    /// Its index in the job, as answers show it.
    pub index: i64,
    pub read_version: i64,
    pub progress_json: String,
}

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
    ) -> Result<Option<(JobRow, Vec<BatchRow>, Vec<EventRow>, Vec<MediaRow>)>, AppError> {
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
                // The media the worker made that the message names (0010_media.sql).
                self.sql(&media_of_job_select(), &[s(id), self.acc()])?,
            ])
            .await?;
        match first::<JobRow>(&r, 0)? {
            Some(job) => Ok(Some((job, rows(&r, 1)?, rows(&r, 2)?, rows(&r, 3)?))),
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
                "SELECT j.id, j.created_at, j.send_at, j.cancelled_at, j.message_json, j.audience_json, j.created_by, count(b.id) AS batches, \
                 coalesce(sum(b.state = 'pending'), 0) AS pending, coalesce(sum(b.state = 'sending'), 0) AS sending, \
                 coalesce(sum(b.state = 'submitted'), 0) AS submitted, coalesce(sum(b.state = 'finished'), 0) AS finished, \
                 coalesce(sum(b.state = 'failed'), 0) AS failed, coalesce(sum(b.state = 'cancelled'), 0) AS cancelled, \
                 coalesce(sum(b.attempt > 0), 0) AS attempted, \
                 coalesce(sum(b.state = 'finished' AND json_extract(b.outcome_json, '$.delivery') = 'delivered'), 0) AS delivered, \
                 coalesce(sum(b.state = 'finished' AND json_extract(b.outcome_json, '$.delivery') = 'partly_delivered'), 0) AS partly_delivered, \
                 coalesce(sum(b.state = 'finished' AND json_extract(b.outcome_json, '$.delivery') = 'refused'), 0) AS refused, \
                 json_group_array(b.result_json) FILTER (WHERE b.state = 'finished' AND b.outcome_json IS NULL) AS unjudged_results \
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
            &format!("UPDATE batches SET state = ?3, progress_json = ?4, attempt = ?5, lease_until = ?6, next_attempt_at = ?7, msg_id = ?8, msg_data_id = ?9, last_outcome = ?10, fail_reason = ?11, result_json = ?12, submitted_at = ?13, status_checks = ?14, updated_at = ?15, outcome_json = ?16, last_outcome_zh = ?17, fail_reason_zh = ?18, version = version + 1 WHERE id = ?1 AND version = ?2{returning}"),
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
                opt(new.outcome_json.as_deref()),
                opt(new.last_outcome_zh.as_deref()),
                opt(new.fail_reason_zh.as_deref()),
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

    /// A job and its batches: the batches as rows of one JSON parameter a statement (D1 binds
    /// at most 100 parameters a query, so a statement of bound columns held 8 batches and a job
    /// of 1,000 batches took 125 queries), as many as fit in [`BATCH_JSON_BYTES_PER_INSERT`]:
    /// a job to a sealed audience is 2 queries whatever its size, a list of 130,000 OpenIDs
    /// (13 bodies of ~330 KB) about 5.
    pub fn insert_job(
        &self,
        job: &JobRow,
        batches: &[NewBatch],
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let mut stmts = vec![self.sql(
            "INSERT INTO jobs (id, idempotency_key, request_hash, message_json, audience_json, summary_json, send_at, created_at, audience_id, send_ignore_reprint, account_id, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
                opt(job.created_by.as_deref()),
            ],
        )?];
        let mut rows: Vec<String> = Vec::new();
        let mut rows_bytes = 0;
        for b in batches {
            let row = json!([
                format!("{}-{}", job.id, b.idx),
                b.idx,
                b.clientmsgid,
                b.endpoint,
                i64::from(b.to_all),
                b.recipients,
                b.request_body,
                b.progress_json,
                b.audience_id,
            ])
            .to_string();
            if !rows.is_empty() && rows_bytes + row.len() + 1 > BATCH_JSON_BYTES_PER_INSERT {
                stmts.push(self.insert_batches(job, &rows)?);
                rows.clear();
                rows_bytes = 0;
            }
            rows_bytes += row.len() + 1;
            rows.push(row);
        }
        if !rows.is_empty() {
            stmts.push(self.insert_batches(job, &rows)?);
        }
        Ok(stmts)
    }

    /// One INSERT of batches, each a JSON array `[id, idx, clientmsgid, endpoint, to_all,
    /// recipients, request_body, progress_json, audience_id]` of one JSON parameter.
    fn insert_batches(
        &self,
        job: &JobRow,
        rows: &[String],
    ) -> Result<D1PreparedStatement, AppError> {
        let json = format!("[{}]", rows.join(","));
        self.sql(
            "INSERT INTO batches (id, job_id, idx, clientmsgid, endpoint, to_all, recipients, request_body, state, progress_json, next_attempt_at, updated_at, audience_id, account_id) \
             SELECT json_extract(value, '$[0]'), ?2, json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), json_extract(value, '$[6]'), \
             'pending', json_extract(value, '$[7]'), ?3, ?4, json_extract(value, '$[8]'), ?5 FROM json_each(?1) ORDER BY key",
            &[s(&json), s(&job.id), n(job.send_at), n(job.created_at), self.acc()],
        )
    }

    /// Cancels a job's batches in one statement, whatever their number: each as core decided
    /// (the progress it wrote) and only if nobody changed it since it was read (its version, as
    /// [`Store::update_batch`] guards). The batches go as one JSON parameter, each progress once
    /// (they are mostly the same). Returns the ids it changed (`RETURNING id`): a batch missing
    /// there was taken by a cron run between the read and this commit.
    pub fn cancel_batches(
        &self,
        job_id: &str,
        batches: &[BatchCancel<'_>],
        last_outcome: &Text,
        now: i64,
    ) -> Result<D1PreparedStatement, AppError> {
        let mut progress: Vec<&str> = Vec::new();
        let mut rows = Vec::with_capacity(batches.len());
        for b in batches {
            let i = match progress.iter().position(|p| *p == b.progress_json) {
                Some(i) => i,
                None => {
                    progress.push(&b.progress_json);
                    progress.len() - 1
                }
            };
            rows.push(json!([b.id, b.read_version, i]));
        }
        let decided = json!({ "progress": progress, "batches": rows }).to_string();
        self.sql(
            "WITH decided(id, version, progress_json) AS ( \
               SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(?1, '$.progress[' || json_extract(value, '$[2]') || ']') \
               FROM json_each(?1, '$.batches')) \
             UPDATE batches SET state = 'cancelled', progress_json = decided.progress_json, last_outcome = ?4, last_outcome_zh = ?6, updated_at = ?5, version = batches.version + 1 \
             FROM decided WHERE batches.id = decided.id AND batches.version = decided.version AND batches.job_id = ?2 AND batches.account_id = ?3 \
             RETURNING batches.id",
            &[
                s(&decided),
                s(job_id),
                self.acc(),
                s(&last_outcome.en),
                n(now),
                s(&last_outcome.zh),
            ],
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
