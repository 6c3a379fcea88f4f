//! Every SQL statement of the worker, and nothing else. The schema is `worker/migrations/`.
//!
//! Handlers read what a step needs in one round trip (`read_*`: one `db.batch` of SELECTs), let
//! core decide, and write the outcome with [`Store::commit`]: one `db.batch`, which D1 runs as a
//! transaction. A commit that changes a batch row is guarded by the row's version
//! ([`Store::update_batch`]), and what must only happen with it (an event marked applied) is
//! conditional on that update having matched (`WHERE changes() = 1`), so of two runs that read
//! the same row only one applies its decision, whole.
//!
//! Every statement counts against the invocation's [`Budget`] (each statement of a batch is a
//! D1 query). Rows are typed: D1 hands integers to JavaScript as doubles, which serde reads
//! into `i64` exactly below 2^53 (times in ms, counts); WeChat's 64-bit msg ids are TEXT.

use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::budget::Budget;
use crate::error::AppError;

fn n(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}
fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn opt(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}
fn opt_n(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, n)
}

/// The rows of one statement's result.
fn rows<T: DeserializeOwned>(results: &[D1Result], i: usize) -> Result<Vec<T>, AppError> {
    match results.get(i) {
        Some(r) => Ok(r.results()?),
        None => Err(AppError::Internal(format!("D1 returned no result {i}"))),
    }
}

fn first<T: DeserializeOwned>(results: &[D1Result], i: usize) -> Result<Option<T>, AppError> {
    Ok(rows(results, i)?.into_iter().next())
}

/// Whether statement `i` of a commit changed a row (a guarded update that matched).
pub fn changed(results: &[D1Result], i: usize) -> bool {
    results
        .get(i)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0
}

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

// ---- rows ----------------------------------------------------------------------------------

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

const BATCH_COLUMNS: &str = "b.id, b.job_id, b.idx, b.clientmsgid, b.endpoint, b.to_all, b.recipients, b.state, b.progress_json, b.attempt, b.lease_until, b.next_attempt_at, b.msg_id, b.msg_data_id, b.last_outcome, b.fail_reason, b.result_json, b.submitted_at, b.status_checks, b.version, b.audience_id";

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
    pub account_id: String,
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
    pub reason: Option<&'a str>,
    pub received_at: i64,
}

/// A result event waiting for its batch, with the batch that now carries its msg_id.
#[derive(Debug, Clone, Deserialize)]
pub struct PendingResult {
    pub event_key: String,
    pub event_xml: String,
    #[serde(flatten)]
    pub batch: BatchRow,
}

/// An account's row: its settings, and its secrets sealed (`secrets.rs`).
#[derive(Debug, Clone, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub app_id: String,
    pub kind: String,
    pub callback_mode: Option<String>,
    pub api_base: Option<String>,
    pub token_url: Option<String>,
    pub secrets: String,
    pub key_id: String,
    pub created_at: i64,
    pub version: i64,
}

/// An account with due work.
#[derive(Debug, Clone, Deserialize)]
pub struct DueAccount {
    pub account_id: String,
}

/// A scoped admin token (its hash only).
#[derive(Debug, Clone, Deserialize)]
pub struct AdminTokenRow {
    pub id: String,
    pub token_hash: String,
    pub role: String,
    /// JSON array of account ids, or `["*"]`.
    pub accounts: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A small shared value: the access_token (with its refresh lock) or the test clock.
#[derive(Debug, Clone, Deserialize)]
pub struct KvRow {
    pub value: String,
    pub expires_at: i64,
}

/// An audience.
#[derive(Debug, Clone, Deserialize)]
pub struct AudienceRow {
    pub id: String,
    pub state: String,
    pub parts: i64,
    pub received: i64,
    pub invalid: i64,
    pub valid: Option<i64>,
    pub duplicates: Option<i64>,
    pub batches: Option<i64>,
    pub created_at: i64,
    pub sealed_at: Option<i64>,
    pub version: i64,
}

/// One uploaded part of an audience.
#[derive(Debug, Clone, Deserialize)]
pub struct PartRow {
    pub part: i64,
    pub first_position: i64,
    pub received: i64,
    pub valid: i64,
    pub invalid: i64,
    pub body_hash: String,
    pub answer_json: String,
}

/// A chunk of a sealed audience, without its OpenIDs.
#[derive(Debug, Clone, Deserialize)]
pub struct ChunkMeta {
    pub idx: i64,
    pub count: i64,
    pub digest: String,
}

/// A chunk to store at sealing.
pub struct NewChunk<'a> {
    pub idx: i64,
    pub count: i64,
    pub digest: &'a str,
    pub openids: &'a str,
}

/// Chunks one INSERT carries: at most 1.4 MB of OpenIDs a statement, well inside what D1 takes
/// in one query (a string of at most 2 MB, 100 bound parameters: 5 a chunk).
const CHUNKS_PER_INSERT: usize = 5;

/// How many stored pushes are in one state.
#[derive(Debug, Clone, Deserialize)]
pub struct StateCount {
    pub state: String,
    pub n: i64,
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

/// What `GET /api/status` reads.
pub struct StatusRead {
    pub events_by_state: Vec<StateCount>,
    pub token_fetched_at: Option<i64>,
    pub token_refresh_at: Option<i64>,
    pub calls: CallCounts,
    /// The sends of the China month so far (core's quota rules count them).
    pub month_sends: Vec<CallRow>,
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
    pub token: Option<KvRow>,
}

/// How many of the latest calls the pacer needs (WeChat's 60 a minute).
const PACER_ROWS: i64 = wxmass::limits::MAX_CALLS_PER_MINUTE as i64;

pub const TOKEN_KEY: &str = "access_token";
/// An audience of the store's account (?1 its id, ?2 the account).
const AUDIENCE_SELECT: &str = "SELECT * FROM audiences WHERE id = ?1 AND account_id = ?2";
const TOKEN_SELECT: &str = "SELECT value, expires_at FROM kv WHERE key = ?1";
/// The account's sends since ?1 (the quota window), oldest first.
const SENDS_SELECT: &str = "SELECT at, endpoint, to_all, succeeded FROM calls WHERE account_id = ?2 AND endpoint IN ('sendall', 'send') AND at >= ?1 ORDER BY at";
/// The account's latest ?1 calls (the pacer's window), newest first.
const PACER_SELECT: &str = "SELECT at, endpoint, to_all, succeeded FROM calls WHERE account_id = ?2 ORDER BY at DESC LIMIT ?1";
const TEST_CLOCK_KEY: &str = "test_clock_offset_ms";

/// The D1 database, with every statement counted against the invocation's budget.
pub struct Store {
    /// Shared by the stores of one invocation (one per account in a cron run).
    db: Rc<D1Database>,
    budget: Rc<Budget>,
    /// The account every statement is about: its rows are the only ones read or written.
    account: String,
}

impl Store {
    pub fn new(db: D1Database, budget: Rc<Budget>, account: &str) -> Self {
        Store {
            db: Rc::new(db),
            budget,
            account: account.to_owned(),
        }
    }

    /// The same database and budget, about another account.
    pub fn for_account(&self, account: &str) -> Store {
        Store {
            db: self.db.clone(),
            budget: self.budget.clone(),
            account: account.to_owned(),
        }
    }

    /// The account, as a bound parameter.
    fn acc(&self) -> JsValue {
        s(&self.account)
    }

    /// `key` in a table shared by every account (see [`crate::account::scoped`]).
    fn key(&self, key: &str) -> JsValue {
        s(&crate::account::scoped(&self.account, key))
    }

    fn sql(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, AppError> {
        Ok(self.db.prepare(sql).bind(args)?)
    }

    /// Runs statements as one `db.batch`: one round trip, one transaction (all or nothing).
    async fn batch(&self, stmts: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>, AppError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        self.budget
            .spend_queries(u32::try_from(stmts.len()).unwrap_or(u32::MAX))?;
        Ok(self.db.batch(stmts).await?)
    }

    /// One statement's first row, in a round trip of its own.
    async fn one<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, AppError> {
        let r = self.batch(vec![self.sql(sql, args)?]).await?;
        first(&r, 0)
    }

    /// One statement's rows, in a round trip of its own.
    async fn all<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Vec<T>, AppError> {
        let r = self.batch(vec![self.sql(sql, args)?]).await?;
        rows(&r, 0)
    }

    /// Writes a decision: every statement applies, or none does.
    pub async fn commit(&self, stmts: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>, AppError> {
        self.batch(stmts).await
    }

    // ---- reads -----------------------------------------------------------------------------

    /// Everything one cron run decides from, in one round trip.
    pub async fn read_run(
        &self,
        now: i64,
        due_limit: u32,
        sends_since: i64,
    ) -> Result<RunRead, AppError> {
        let r = self
            .batch(vec![
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
                self.sql(TOKEN_SELECT, &[self.key(TOKEN_KEY)])?,
            ])
            .await?;
        Ok(RunRead {
            due: rows(&r, 0)?,
            overdue: rows(&r, 1)?,
            pending_results: rows(&r, 2)?,
            sends: rows(&r, 3)?,
            recent_calls: rows(&r, 4)?,
            token: first(&r, 5)?,
        })
    }

    /// What an admin call to WeChat decides from: the cached token and the pacer's window.
    pub async fn read_for_call(&self) -> Result<(Option<KvRow>, Vec<CallRow>), AppError> {
        let r = self
            .batch(vec![
                self.sql(TOKEN_SELECT, &[self.key(TOKEN_KEY)])?,
                self.sql(PACER_SELECT, &[n(PACER_ROWS), self.acc()])?,
            ])
            .await?;
        Ok((first(&r, 0)?, rows(&r, 1)?))
    }

    /// The cached token alone (a non-mass call: no pacing).
    pub async fn read_token(&self) -> Result<Option<KvRow>, AppError> {
        self.one(TOKEN_SELECT, &[self.key(TOKEN_KEY)]).await
    }

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
                    "SELECT * FROM jobs WHERE idempotency_key = ?1",
                    &[idempotency_key.map_or(JsValue::NULL, |k| self.key(k))],
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
                "SELECT * FROM jobs WHERE idempotency_key = ?1",
                &[self.key(key)],
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
                "SELECT j.id, j.created_at, j.send_at, j.cancelled_at, count(b.id) AS batches, \
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

    // ---- statements for commits ------------------------------------------------------------

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

    /// Stores a push once (its dedupe key, core's, scoped to the account here). A repeat changes nothing, unless the stored one is
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
            &format!("INSERT INTO events (dedupe_key, kind, event, msg_id, batch_id, payload_json, xml, received_at, state, reason, account_id) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 WHERE {guard} ON CONFLICT(dedupe_key) DO UPDATE SET state = excluded.state, batch_id = excluded.batch_id, reason = excluded.reason WHERE events.state = 'pending'"),
            &[
                self.key(e.dedupe_key),
                s(e.kind),
                opt(e.event),
                opt(e.msg_id),
                opt(e.batch_id),
                s(e.payload_json),
                s(e.xml),
                n(e.received_at),
                s(e.state),
                opt(e.reason),
                self.acc(),
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
        reason: Option<&str>,
        unconditional: bool,
    ) -> Result<D1PreparedStatement, AppError> {
        let guard = if unconditional {
            ""
        } else {
            " AND changes() = 1"
        };
        self.sql(
            &format!("UPDATE events SET state = ?2, batch_id = ?3, reason = ?4 WHERE dedupe_key = ?1{guard}"),
            &[s(dedupe_key), s(state), s(batch_id), opt(reason)],
        )
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
                job.idempotency_key
                    .as_deref()
                    .map_or(JsValue::NULL, |k| self.key(k)),
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

    // ---- plain-mode replays, retention, status --------------------------------------------

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
                    "INSERT OR IGNORE INTO push_seen (key, body_digest, remember_until) VALUES (?1, ?2, ?3)",
                    &[self.key(key), s(body_digest), n(remember_until)],
                )?,
                self.sql("SELECT body_digest FROM push_seen WHERE key = ?1", &[self.key(key)])?,
            ])
            .await?;
        Ok(first::<Seen>(&r, 1)?.map_or_else(|| body_digest.to_owned(), |x| x.body_digest))
    }

    /// Deletes at most `chunk` stored pushes received before `events_before` that no batch
    /// holds (a result linked to a batch is kept with its job), and the plain-mode queries
    /// past their window.
    pub fn purge(
        &self,
        events_before: i64,
        seen_before: i64,
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
        ])
    }

    /// What `GET /api/status` shows: stored pushes by state, when the token was fetched and
    /// when it is refreshed (never the token), and the mass calls since `day_start`,
    /// `month_start` and `minute_start`.
    pub async fn read_status(
        &self,
        minute_start: i64,
        day_start: i64,
        month_start: i64,
    ) -> Result<StatusRead, AppError> {
        #[derive(Deserialize)]
        struct TokenTimes {
            updated_at: i64,
            expires_at: i64,
        }
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT state, count(*) AS n FROM events WHERE account_id = ?1 GROUP BY state",
                    &[self.acc()],
                )?,
                self.sql(
                    "SELECT updated_at, expires_at FROM kv WHERE key = ?1 AND value != ''",
                    &[self.key(TOKEN_KEY)],
                )?,
                self.sql(
                    "SELECT coalesce(sum(at >= ?1), 0) AS last_minute, \
                     coalesce(sum(at >= ?2 AND endpoint IN ('sendall', 'send') AND succeeded = 1), 0) AS sends_today, \
                     coalesce(sum(endpoint IN ('sendall', 'send') AND succeeded = 1), 0) AS sends_this_month, \
                     coalesce(sum(at >= ?2 AND to_all = 1 AND succeeded = 1), 0) AS to_all_today, \
                     coalesce(sum(to_all = 1 AND succeeded = 1), 0) AS to_all_this_month \
                     FROM calls WHERE account_id = ?4 AND at >= ?3",
                    &[n(minute_start), n(day_start), n(month_start), self.acc()],
                )?,
                self.sql(
                    "SELECT at, endpoint, to_all, succeeded FROM calls WHERE account_id = ?2 AND endpoint IN ('sendall', 'send') AND succeeded = 1 AND at >= ?1 ORDER BY at",
                    &[n(month_start), self.acc()],
                )?,
            ])
            .await?;
        let token = first::<TokenTimes>(&r, 1)?;
        Ok(StatusRead {
            events_by_state: rows(&r, 0)?,
            token_fetched_at: token.as_ref().map(|t| t.updated_at),
            token_refresh_at: token.map(|t| t.expires_at),
            calls: first(&r, 2)?.unwrap_or_default(),
            month_sends: rows(&r, 3)?,
        })
    }

    // ---- audiences -------------------------------------------------------------------------

    /// A new, open audience.
    pub fn insert_audience(&self, id: &str, now: i64) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT INTO audiences (id, state, created_at, account_id) VALUES (?1, 'open', ?2, ?3)",
            &[s(id), n(now), self.acc()],
        )
    }

    /// An audience with its parts.
    pub async fn read_audience(
        &self,
        id: &str,
    ) -> Result<Option<(AudienceRow, Vec<PartRow>, i64)>, AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let r = self
            .batch(vec![
                self.sql(AUDIENCE_SELECT, &[s(id), self.acc()])?,
                self.sql(
                    "SELECT part, first_position, received, valid, invalid, body_hash, answer_json FROM audience_parts WHERE audience_id = ?1 ORDER BY part",
                    &[s(id)],
                )?,
                self.sql(
                    "SELECT count(*) AS n FROM batches WHERE audience_id = ?1 AND state IN ('pending', 'sending', 'submitted')",
                    &[s(id)],
                )?,
            ])
            .await?;
        match first::<AudienceRow>(&r, 0)? {
            Some(a) => Ok(Some((
                a,
                rows(&r, 1)?,
                first::<Count>(&r, 2)?.map_or(0, |c| c.n),
            ))),
            None => Ok(None),
        }
    }

    /// What a part upload decides from: the audience, this part if it came before, and the part
    /// before it (whose end is this part's first position).
    pub async fn read_for_part(
        &self,
        id: &str,
        part: i64,
    ) -> Result<(Option<AudienceRow>, Option<PartRow>, Option<PartRow>), AppError> {
        let part_sql = "SELECT part, first_position, received, valid, invalid, body_hash, answer_json FROM audience_parts WHERE audience_id = ?1 AND part = ?2";
        let r = self
            .batch(vec![
                self.sql(AUDIENCE_SELECT, &[s(id), self.acc()])?,
                self.sql(part_sql, &[s(id), n(part)])?,
                self.sql(part_sql, &[s(id), n(part - 1)])?,
            ])
            .await?;
        Ok((first(&r, 0)?, first(&r, 1)?, first(&r, 2)?))
    }

    /// A part's commit: the audience's counters (guarded by its version, open only), then the
    /// part and its OpenIDs only if that matched.
    pub fn add_part(
        &self,
        audience: &AudienceRow,
        part: &PartRow,
        raw: &[&str],
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let mut stmts = vec![
            self.sql(
                "UPDATE audiences SET parts = ?3, received = received + ?4, invalid = invalid + ?5, version = version + 1 WHERE id = ?1 AND version = ?2 AND state = 'open'",
                &[s(&audience.id), n(audience.version), n(part.part), n(part.received), n(part.invalid)],
            )?,
            self.sql(
                "INSERT INTO audience_parts (audience_id, part, first_position, received, valid, invalid, body_hash, answer_json) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE changes() = 1",
                &[s(&audience.id), n(part.part), n(part.first_position), n(part.received), n(part.valid), n(part.invalid), s(&part.body_hash), s(&part.answer_json)],
            )?,
        ];
        for (seq, text) in raw.iter().enumerate() {
            stmts.push(self.sql(
                "INSERT INTO audience_raw (audience_id, part, seq, openids) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND version = ?5)",
                &[s(&audience.id), n(part.part), n(seq as i64), s(text), n(audience.version + 1)],
            )?);
        }
        Ok(stmts)
    }

    /// The uploaded OpenIDs of an open audience, `limit` rows from `offset`, in upload order.
    pub async fn raw_rows(
        &self,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<String>, AppError> {
        #[derive(Deserialize)]
        struct Raw {
            openids: String,
        }
        let rows: Vec<Raw> = self
            .all(
                "SELECT openids FROM audience_raw WHERE audience_id = ?1 ORDER BY part, seq LIMIT ?2 OFFSET ?3",
                &[s(id), n(limit), n(offset)],
            )
            .await?;
        Ok(rows.into_iter().map(|x| x.openids).collect())
    }

    /// How many rows of uploaded OpenIDs an open audience has.
    pub async fn raw_row_count(&self, id: &str) -> Result<i64, AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let count: Option<Count> = self
            .one(
                "SELECT count(*) AS n FROM audience_raw WHERE audience_id = ?1",
                &[s(id)],
            )
            .await?;
        Ok(count.map_or(0, |c| c.n))
    }

    /// The seal's commit: the audience sealed with its counts (guarded), its chunks only if
    /// that matched (a few per statement: D1 binds at most 100 parameters), the uploads deleted.
    pub fn seal_audience(
        &self,
        audience: &AudienceRow,
        counts: (i64, i64, i64),
        chunks: &[NewChunk<'_>],
        now: i64,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let (valid, duplicates, batches) = counts;
        let mut stmts = vec![self.sql(
            "UPDATE audiences SET state = 'sealed', valid = ?3, duplicates = ?4, batches = ?5, sealed_at = ?6, version = version + 1 WHERE id = ?1 AND version = ?2 AND state = 'open'",
            &[s(&audience.id), n(audience.version), n(valid), n(duplicates), n(batches), n(now)],
        )?];
        for group in chunks.chunks(CHUNKS_PER_INSERT) {
            let values = vec!["(?, ?, ?, ?, ?)"; group.len()].join(", ");
            let mut args = Vec::with_capacity(group.len() * 5 + 2);
            for c in group {
                args.extend([
                    s(&audience.id),
                    n(c.idx),
                    n(c.count),
                    s(c.digest),
                    s(c.openids),
                ]);
            }
            args.extend([s(&audience.id), n(audience.version + 1)]);
            stmts.push(self.sql(
                &format!("INSERT INTO audience_chunks (audience_id, idx, count, digest, openids) SELECT column1, column2, column3, column4, column5 FROM (VALUES {values}) WHERE EXISTS (SELECT 1 FROM audiences WHERE id = ? AND version = ? AND state = 'sealed')"),
                &args,
            )?);
        }
        stmts.push(self.sql(
            "DELETE FROM audience_raw WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND state = 'sealed')",
            &[s(&audience.id)],
        )?);
        Ok(stmts)
    }

    /// Deletes an audience and everything of it.
    pub fn delete_audience(&self, id: &str) -> Result<Vec<D1PreparedStatement>, AppError> {
        Ok(vec![
            self.sql(
                "DELETE FROM audience_chunks WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND account_id = ?2)",
                &[s(id), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audience_raw WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND account_id = ?2)",
                &[s(id), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audience_parts WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND account_id = ?2)",
                &[s(id), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audiences WHERE id = ?1 AND account_id = ?2",
                &[s(id), self.acc()],
            )?,
        ])
    }

    /// A sealed audience's chunks without their OpenIDs: what a job plans from.
    pub async fn chunk_refs(
        &self,
        id: &str,
    ) -> Result<(Option<AudienceRow>, Vec<ChunkMeta>), AppError> {
        let r = self
            .batch(vec![
                self.sql(AUDIENCE_SELECT, &[s(id), self.acc()])?,
                self.sql(
                    "SELECT idx, count, digest FROM audience_chunks WHERE audience_id = ?1 ORDER BY idx",
                    &[s(id)],
                )?,
            ])
            .await?;
        Ok((first(&r, 0)?, rows(&r, 1)?))
    }

    // ---- accounts and admin tokens (not scoped: they are the scopes) ----------------------

    /// An account's row.
    pub async fn read_account(&self, id: &str) -> Result<Option<AccountRow>, AppError> {
        self.one("SELECT * FROM accounts WHERE id = ?1", &[s(id)])
            .await
    }

    /// Every account's row, by id.
    pub async fn list_accounts(&self) -> Result<Vec<AccountRow>, AppError> {
        self.all("SELECT * FROM accounts ORDER BY id", &[]).await
    }

    /// A new account; changes nothing when the id or the AppID is taken (see [`changed`]).
    pub fn insert_account(&self, a: &AccountRow) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT OR IGNORE INTO accounts (id, app_id, kind, callback_mode, api_base, token_url, secrets, key_id, created_at, updated_at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 0)",
            &[
                s(&a.id),
                s(&a.app_id),
                s(&a.kind),
                opt(a.callback_mode.as_deref()),
                opt(a.api_base.as_deref()),
                opt(a.token_url.as_deref()),
                s(&a.secrets),
                s(&a.key_id),
                n(a.created_at),
            ],
        )
    }

    /// An account's new values, if nobody changed it since it was read at `read_version`.
    pub fn update_account(
        &self,
        a: &AccountRow,
        read_version: i64,
        now: i64,
    ) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "UPDATE accounts SET app_id = ?3, kind = ?4, callback_mode = ?5, api_base = ?6, token_url = ?7, secrets = ?8, key_id = ?9, updated_at = ?10, version = version + 1 WHERE id = ?1 AND version = ?2",
            &[
                s(&a.id),
                n(read_version),
                s(&a.app_id),
                s(&a.kind),
                opt(a.callback_mode.as_deref()),
                opt(a.api_base.as_deref()),
                opt(a.token_url.as_deref()),
                s(&a.secrets),
                s(&a.key_id),
                n(now),
            ],
        )
    }

    /// At most `limit` accounts whose secrets another key than `key_id` sealed (a rotation's
    /// work), and how many there are in all.
    pub async fn accounts_to_reseal(
        &self,
        key_id: &str,
        limit: u32,
    ) -> Result<(Vec<AccountRow>, i64), AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT * FROM accounts WHERE key_id != ?1 ORDER BY id LIMIT ?2",
                    &[s(key_id), n(i64::from(limit))],
                )?,
                self.sql(
                    "SELECT count(*) AS n FROM accounts WHERE key_id != ?1",
                    &[s(key_id)],
                )?,
            ])
            .await?;
        Ok((rows(&r, 0)?, first::<Count>(&r, 1)?.map_or(0, |c| c.n)))
    }

    /// The accounts with work due at `now` (batches to send or check, results to apply), by id.
    pub async fn accounts_with_due_work(&self, now: i64) -> Result<Vec<DueAccount>, AppError> {
        self.all(
            "SELECT DISTINCT account_id FROM ( \
               SELECT account_id FROM batches WHERE next_attempt_at <= ?1 AND (state IN ('pending', 'submitted') OR (state = 'sending' AND lease_until < ?1)) \
               UNION ALL SELECT account_id FROM events WHERE state = 'pending' \
             ) ORDER BY account_id",
            &[n(now)],
        )
        .await
    }

    /// The admin token whose hash is `hash`, unless revoked; records its use at `now`. One
    /// query: the update returns the row.
    pub async fn use_admin_token(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<AdminTokenRow>, AppError> {
        self.one(
            "UPDATE admin_tokens SET last_used_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL RETURNING *",
            &[s(hash), n(now)],
        )
        .await
    }

    pub fn insert_admin_token(&self, t: &AdminTokenRow) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT INTO admin_tokens (id, token_hash, role, accounts, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                s(&t.id),
                s(&t.token_hash),
                s(&t.role),
                s(&t.accounts),
                s(&t.label),
                n(t.created_at),
            ],
        )
    }

    pub async fn list_admin_tokens(&self) -> Result<Vec<AdminTokenRow>, AppError> {
        self.all("SELECT * FROM admin_tokens ORDER BY created_at, id", &[])
            .await
    }

    /// Revokes a token (the first revocation's time is kept).
    pub fn revoke_admin_token(&self, id: &str, now: i64) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "UPDATE admin_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            &[s(id), n(now)],
        )
    }

    // ---- the access_token ------------------------------------------------------------------

    /// Takes the token's refresh lock until `until` if nobody holds it (one of many wins).
    pub async fn lock_token(&self, now: i64, until: i64) -> Result<bool, AppError> {
        let r = self
            .batch(vec![self.sql(
                "INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, '', 0, ?3, ?2) ON CONFLICT(key) DO UPDATE SET lock_until = excluded.lock_until WHERE kv.lock_until < ?2",
                &[self.key(TOKEN_KEY), n(now), n(until)],
            )?])
            .await?;
        Ok(changed(&r, 0))
    }

    /// Stores a fresh token (and releases the lock), or with `value` empty just the lock.
    pub async fn put_token(&self, value: &str, refresh_at: i64, now: i64) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, lock_until = 0, updated_at = excluded.updated_at",
            &[self.key(TOKEN_KEY), s(value), n(refresh_at), n(now)],
        )?])
        .await?;
        Ok(())
    }

    /// Releases the token's refresh lock after a failed fetch.
    pub async fn unlock_token(&self) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "UPDATE kv SET lock_until = 0 WHERE key = ?1",
            &[self.key(TOKEN_KEY)],
        )?])
        .await?;
        Ok(())
    }

    // ---- test hooks (TEST_CLOCK=1, TEST_COUNTERS=1; never in production) ----------------------

    /// The test clock's offset. Not counted: the query does not exist in production.
    pub async fn test_clock_offset(&self) -> i64 {
        let row: Option<KvRow> = match self
            .db
            .prepare("SELECT value, expires_at FROM kv WHERE key = ?1")
            .bind(&[s(TEST_CLOCK_KEY)])
        {
            Ok(stmt) => stmt.first(None).await.ok().flatten(),
            Err(_) => None,
        };
        row.and_then(|r| r.value.parse().ok()).unwrap_or(0)
    }

    /// Writes a test value (the clock offset, the last cron run's counters). Not counted.
    pub async fn put_test_value(&self, key: &str, value: &str) -> Result<(), AppError> {
        self.db
            .prepare("INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, ?2, 0, 0, 0) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(&[s(key), s(value)])?
            .run()
            .await?;
        Ok(())
    }

    /// Reads a test value. Not counted.
    pub async fn test_value(&self, key: &str) -> Option<String> {
        let row: Option<KvRow> = match self
            .db
            .prepare("SELECT value, expires_at FROM kv WHERE key = ?1")
            .bind(&[s(key)])
        {
            Ok(stmt) => stmt.first(None).await.ok().flatten(),
            Err(_) => None,
        };
        row.map(|r| r.value)
    }

    pub const TEST_CLOCK_KEY: &'static str = TEST_CLOCK_KEY;
}
