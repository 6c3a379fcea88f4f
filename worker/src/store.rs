//! Every SQL statement of the worker, in one place. The schema is `worker/migrations/`.
//!
//! D1 hands numbers to JavaScript as doubles: times (ms) and counts fit, WeChat's 64-bit msg ids
//! do not, so those are TEXT. Rows are read into small structs with `f64` numbers.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

fn n(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}
fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn opt(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

async fn changes(stmt: D1PreparedStatement) -> Result<usize> {
    let r = stmt.run().await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

// ---- jobs ----------------------------------------------------------------------------------

/// A job row.
#[derive(Debug, Clone, Deserialize)]
pub struct JobRow {
    pub id: String,
    pub idempotency_key: Option<String>,
    pub message_json: String,
    pub audience_json: String,
    pub summary_json: String,
    pub send_at: f64,
    pub created_at: f64,
    pub cancelled_at: Option<f64>,
}

/// A new batch, as planned by core.
pub struct NewBatch {
    pub idx: usize,
    pub clientmsgid: String,
    pub endpoint: &'static str,
    pub to_all: bool,
    pub recipients: Option<usize>,
    pub request_body: String,
    pub progress_json: String,
}

/// Inserts a job and its batches in one D1 batch (a transaction): all or nothing. Fails on a
/// repeated idempotency key.
pub async fn insert_job(db: &D1Database, job: &JobRow, batches: &[NewBatch]) -> Result<()> {
    let mut stmts = vec![db
        .prepare(
            "INSERT INTO jobs (id, idempotency_key, message_json, audience_json, summary_json, send_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&[
            s(&job.id),
            opt(job.idempotency_key.as_deref()),
            s(&job.message_json),
            s(&job.audience_json),
            s(&job.summary_json),
            JsValue::from_f64(job.send_at),
            JsValue::from_f64(job.created_at),
        ])?];
    for b in batches {
        stmts.push(
            db.prepare(
                "INSERT INTO batches (id, job_id, idx, clientmsgid, endpoint, to_all, recipients, request_body, state, progress_json, next_attempt_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11)",
            )
            .bind(&[
                s(&format!("{}-{}", job.id, b.idx)),
                s(&job.id),
                n(b.idx as i64),
                s(&b.clientmsgid),
                s(b.endpoint),
                n(i64::from(b.to_all)),
                b.recipients.map_or(JsValue::NULL, |r| n(r as i64)),
                s(&b.request_body),
                s(&b.progress_json),
                JsValue::from_f64(job.send_at),
                JsValue::from_f64(job.created_at),
            ])?,
        );
    }
    db.batch(stmts).await?;
    Ok(())
}

pub async fn job(db: &D1Database, id: &str) -> Result<Option<JobRow>> {
    db.prepare("SELECT * FROM jobs WHERE id = ?1")
        .bind(&[s(id)])?
        .first(None)
        .await
}

pub async fn job_by_idempotency_key(db: &D1Database, key: &str) -> Result<Option<JobRow>> {
    db.prepare("SELECT * FROM jobs WHERE idempotency_key = ?1")
        .bind(&[s(key)])?
        .first(None)
        .await
}

pub async fn list_jobs(db: &D1Database, limit: u32) -> Result<Vec<JobRow>> {
    db.prepare("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?1")
        .bind(&[n(i64::from(limit))])?
        .all()
        .await?
        .results()
}

pub async fn mark_job_cancelled(db: &D1Database, id: &str, now: i64) -> Result<()> {
    db.prepare("UPDATE jobs SET cancelled_at = ?2 WHERE id = ?1 AND cancelled_at IS NULL")
        .bind(&[s(id), n(now)])?
        .run()
        .await?;
    Ok(())
}

// ---- batches -------------------------------------------------------------------------------

/// A batch without its (large) request body.
#[derive(Debug, Clone, Deserialize)]
pub struct BatchRow {
    pub id: String,
    pub job_id: String,
    pub idx: f64,
    pub clientmsgid: String,
    pub endpoint: String,
    pub to_all: f64,
    pub recipients: Option<f64>,
    pub state: String,
    pub progress_json: String,
    pub attempt: f64,
    pub lease_until: f64,
    pub next_attempt_at: f64,
    pub msg_id: Option<String>,
    pub msg_data_id: Option<String>,
    pub last_outcome: Option<String>,
    pub fail_reason: Option<String>,
    pub result_json: Option<String>,
    pub submitted_at: Option<f64>,
    pub status_checks: f64,
}

const BATCH_COLUMNS: &str = "id, job_id, idx, clientmsgid, endpoint, to_all, recipients, state, progress_json, attempt, lease_until, next_attempt_at, msg_id, msg_data_id, last_outcome, fail_reason, result_json, submitted_at, status_checks";

pub async fn batches_of_job(db: &D1Database, job_id: &str) -> Result<Vec<BatchRow>> {
    db.prepare(format!(
        "SELECT {BATCH_COLUMNS} FROM batches WHERE job_id = ?1 ORDER BY idx"
    ))
    .bind(&[s(job_id)])?
    .all()
    .await?
    .results()
}

pub async fn batch(db: &D1Database, id: &str) -> Result<Option<BatchRow>> {
    db.prepare(format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1"))
        .bind(&[s(id)])?
        .first(None)
        .await
}

pub async fn batch_by_msg_id(db: &D1Database, msg_id: &str) -> Result<Option<BatchRow>> {
    db.prepare(format!(
        "SELECT {BATCH_COLUMNS} FROM batches WHERE msg_id = ?1 LIMIT 1"
    ))
    .bind(&[s(msg_id)])?
    .first(None)
    .await
}

pub async fn request_body(db: &D1Database, id: &str) -> Result<Option<String>> {
    db.prepare("SELECT request_body FROM batches WHERE id = ?1")
        .bind(&[s(id)])?
        .first(Some("request_body"))
        .await
}

/// Batches that are due at `now`: pending and past their next attempt time, or claimed by a run
/// whose lease ran out (a crash or a restart mid-send), of jobs not cancelled.
pub async fn due_batches(db: &D1Database, now: i64, limit: u32) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows: Vec<Id> = db
        .prepare(
            "SELECT b.id FROM batches b JOIN jobs j ON j.id = b.job_id WHERE j.cancelled_at IS NULL AND b.next_attempt_at <= ?1 AND (b.state = 'pending' OR (b.state = 'sending' AND b.lease_until < ?1)) ORDER BY b.next_attempt_at, b.job_id, b.idx LIMIT ?2",
        )
        .bind(&[n(now), n(i64::from(limit))])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Claims a batch for one run: a conditional update that only one of two overlapping runs can
/// win (`changes == 1`).
pub async fn claim_batch(db: &D1Database, id: &str, now: i64, lease_until: i64) -> Result<bool> {
    let stmt = db
        .prepare(
            "UPDATE batches SET state = 'sending', lease_until = ?2, attempt = attempt + 1, updated_at = ?3 WHERE id = ?1 AND (state = 'pending' OR (state = 'sending' AND lease_until < ?3)) AND next_attempt_at <= ?3",
        )
        .bind(&[s(id), n(lease_until), n(now)])?;
    Ok(changes(stmt).await? == 1)
}

/// Saves a claimed batch's progress before its request goes out.
pub async fn save_progress(db: &D1Database, id: &str, progress_json: &str, now: i64) -> Result<()> {
    db.prepare("UPDATE batches SET progress_json = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(&[s(id), s(progress_json), n(now)])?
        .run()
        .await?;
    Ok(())
}

/// Puts a batch back to wait for `next_attempt_at`.
pub async fn release_batch(
    db: &D1Database,
    id: &str,
    progress_json: &str,
    next_attempt_at: i64,
    last_outcome: &str,
    now: i64,
) -> Result<()> {
    db.prepare(
        "UPDATE batches SET state = 'pending', progress_json = ?2, next_attempt_at = ?3, lease_until = 0, last_outcome = ?4, updated_at = ?5 WHERE id = ?1",
    )
    .bind(&[s(id), s(progress_json), n(next_attempt_at), s(last_outcome), n(now)])?
    .run()
    .await?;
    Ok(())
}

/// WeChat has the batch (`msg_id`); if its result event has not come by `first_check_at`, the
/// cron asks mass/get.
#[allow(clippy::too_many_arguments)]
pub async fn submit_batch(
    db: &D1Database,
    id: &str,
    progress_json: &str,
    msg_id: &str,
    msg_data_id: Option<&str>,
    last_outcome: &str,
    now: i64,
    first_check_at: i64,
) -> Result<()> {
    db.prepare(
        "UPDATE batches SET state = 'submitted', progress_json = ?2, msg_id = ?3, msg_data_id = ?4, lease_until = 0, last_outcome = ?5, updated_at = ?6, submitted_at = ?6, next_attempt_at = ?7, status_checks = 0 WHERE id = ?1",
    )
    .bind(&[s(id), s(progress_json), s(msg_id), opt(msg_data_id), s(last_outcome), n(now), n(first_check_at)])?
    .run()
    .await?;
    Ok(())
}

pub async fn fail_batch(
    db: &D1Database,
    id: &str,
    progress_json: &str,
    reason: &str,
    last_outcome: &str,
    now: i64,
) -> Result<()> {
    db.prepare(
        "UPDATE batches SET state = 'failed', progress_json = ?2, fail_reason = ?3, lease_until = 0, last_outcome = ?4, updated_at = ?5 WHERE id = ?1",
    )
    .bind(&[s(id), s(progress_json), s(reason), s(last_outcome), n(now)])?
    .run()
    .await?;
    Ok(())
}

/// Records the result event against a submitted batch (only from `submitted`, so a repeat of
/// the event cannot change a finished batch; or over an outcome taken from mass/get, which had
/// no counts).
pub async fn finish_batch(
    db: &D1Database,
    id: &str,
    progress_json: &str,
    result_json: &str,
    now: i64,
) -> Result<bool> {
    let stmt = db
        .prepare(
            "UPDATE batches SET state = 'finished', progress_json = ?2, result_json = ?3, updated_at = ?4 WHERE id = ?1 AND (state = 'submitted' OR (state = 'finished' AND json_extract(result_json, '$.source') = 'mass/get'))",
        )
        .bind(&[s(id), s(progress_json), s(result_json), n(now)])?;
    Ok(changes(stmt).await? == 1)
}

/// Submitted batches whose result event is overdue (their next mass/get check is due).
pub async fn overdue_submitted(db: &D1Database, now: i64, limit: u32) -> Result<Vec<BatchRow>> {
    db.prepare(format!(
        "SELECT {BATCH_COLUMNS} FROM batches WHERE state = 'submitted' AND next_attempt_at <= ?1 ORDER BY next_attempt_at LIMIT ?2"
    ))
    .bind(&[n(now), n(i64::from(limit))])?
    .all()
    .await?
    .results()
}

/// Claims a status check for one run: moves the next check to `until`, a conditional update
/// only one of two overlapping runs can win.
pub async fn claim_status_check(db: &D1Database, id: &str, now: i64, until: i64) -> Result<bool> {
    let stmt = db
        .prepare(
            "UPDATE batches SET next_attempt_at = ?3 WHERE id = ?1 AND state = 'submitted' AND next_attempt_at <= ?2",
        )
        .bind(&[s(id), n(now), n(until)])?;
    Ok(changes(stmt).await? == 1)
}

/// After a mass/get check that settled nothing: the next one at `next_at`.
pub async fn status_checked(
    db: &D1Database,
    id: &str,
    next_at: i64,
    last_outcome: &str,
    now: i64,
) -> Result<()> {
    db.prepare(
        "UPDATE batches SET next_attempt_at = ?2, status_checks = status_checks + 1, last_outcome = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'submitted'",
    )
    .bind(&[s(id), n(next_at), s(last_outcome), n(now)])?
    .run()
    .await?;
    Ok(())
}

/// Settles a submitted batch from mass/get: `finished` with `result_json`, or `failed` with
/// `fail_reason` (only from `submitted`: an event that came meanwhile wins).
pub async fn settle_from_status(
    db: &D1Database,
    id: &str,
    state: &str,
    result_json: Option<&str>,
    fail_reason: Option<&str>,
    last_outcome: &str,
    now: i64,
) -> Result<bool> {
    let stmt = db
        .prepare(
            "UPDATE batches SET state = ?2, result_json = ?3, fail_reason = ?4, status_checks = status_checks + 1, last_outcome = ?5, updated_at = ?6 WHERE id = ?1 AND state = 'submitted'",
        )
        .bind(&[s(id), s(state), opt(result_json), opt(fail_reason), s(last_outcome), n(now)])?;
    Ok(changes(stmt).await? == 1)
}

/// Cancels a batch that no run holds.
pub async fn cancel_batch(
    db: &D1Database,
    id: &str,
    progress_json: &str,
    now: i64,
) -> Result<bool> {
    let stmt = db
        .prepare(
            "UPDATE batches SET state = 'cancelled', progress_json = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'pending'",
        )
        .bind(&[s(id), s(progress_json), n(now)])?;
    Ok(changes(stmt).await? == 1)
}

// ---- the send ledger -----------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct SendRow {
    pub at: f64,
    pub endpoint: String,
    pub to_all: f64,
    pub succeeded: f64,
}

pub async fn record_send(
    db: &D1Database,
    batch_id: &str,
    at: i64,
    endpoint: &str,
    to_all: bool,
    succeeded: bool,
) -> Result<()> {
    db.prepare(
        "INSERT INTO sends (batch_id, at, endpoint, to_all, succeeded) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&[
        s(batch_id),
        n(at),
        s(endpoint),
        n(i64::from(to_all)),
        n(i64::from(succeeded)),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Sends since `since` (quotas look back at most a China month).
pub async fn sends_since(db: &D1Database, since: i64) -> Result<Vec<SendRow>> {
    db.prepare("SELECT at, endpoint, to_all, succeeded FROM sends WHERE at >= ?1 ORDER BY at")
        .bind(&[n(since)])?
        .all()
        .await?
        .results()
}

// ---- events --------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct EventRow {
    pub dedupe_key: String,
    pub kind: String,
    pub event: Option<String>,
    pub msg_id: Option<String>,
    pub batch_id: Option<String>,
    pub payload_json: String,
    pub xml: String,
    pub received_at: f64,
}

/// A push to store.
pub struct NewEvent<'a> {
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub event: Option<&'a str>,
    pub msg_id: Option<&'a str>,
    pub payload_json: &'a str,
    pub xml: &'a str,
}

/// Stores a push once; `false` when its dedupe key was seen before (WeChat's retry).
pub async fn insert_event(db: &D1Database, e: &NewEvent<'_>, now: i64) -> Result<bool> {
    let stmt = db
        .prepare(
            "INSERT OR IGNORE INTO events (dedupe_key, kind, event, msg_id, payload_json, xml, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&[s(e.dedupe_key), s(e.kind), opt(e.event), opt(e.msg_id), s(e.payload_json), s(e.xml), n(now)])?;
    Ok(changes(stmt).await? == 1)
}

pub async fn link_event(db: &D1Database, dedupe_key: &str, batch_id: &str) -> Result<()> {
    db.prepare("UPDATE events SET batch_id = ?2 WHERE dedupe_key = ?1")
        .bind(&[s(dedupe_key), s(batch_id)])?
        .run()
        .await?;
    Ok(())
}

/// The first result event for a msg_id (it may arrive before the send's reply is recorded).
pub async fn result_event_for(db: &D1Database, msg_id: &str) -> Result<Option<EventRow>> {
    db.prepare("SELECT * FROM events WHERE msg_id = ?1 AND kind = 'mass_send_job_finish' ORDER BY received_at LIMIT 1")
        .bind(&[s(msg_id)])?
        .first(None)
        .await
}

pub async fn events_of_job(db: &D1Database, job_id: &str) -> Result<Vec<EventRow>> {
    db.prepare("SELECT e.* FROM events e JOIN batches b ON b.msg_id = e.msg_id WHERE b.job_id = ?1 ORDER BY e.received_at")
        .bind(&[s(job_id)])?
        .all()
        .await?
        .results()
}

/// How many pushes are stored.
pub async fn count_events(db: &D1Database) -> Result<u64> {
    let n: Option<f64> = db
        .prepare("SELECT count(*) AS n FROM events")
        .first(Some("n"))
        .await?;
    Ok(n.unwrap_or(0.0) as u64)
}

pub async fn recent_events(db: &D1Database, limit: u32) -> Result<Vec<EventRow>> {
    db.prepare("SELECT * FROM events ORDER BY received_at DESC LIMIT ?1")
        .bind(&[n(i64::from(limit))])?
        .all()
        .await?
        .results()
}

// ---- kv: token cache, pacer, test clock ----------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct KvRow {
    pub value: String,
    pub expires_at: f64,
}

pub async fn kv_get(db: &D1Database, key: &str) -> Result<Option<KvRow>> {
    db.prepare("SELECT value, expires_at, lock_until, updated_at FROM kv WHERE key = ?1")
        .bind(&[s(key)])?
        .first(None)
        .await
}

/// Writes a value and clears its lock.
pub async fn kv_put(
    db: &D1Database,
    key: &str,
    value: &str,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    db.prepare(
        "INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, lock_until = 0, updated_at = excluded.updated_at",
    )
    .bind(&[s(key), s(value), n(expires_at), n(now)])?
    .run()
    .await?;
    Ok(())
}

/// Takes a key's lock until `until` if nobody holds it: one caller of many wins.
pub async fn kv_lock(db: &D1Database, key: &str, now: i64, until: i64) -> Result<bool> {
    db.prepare("INSERT OR IGNORE INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, '', 0, 0, 0)")
        .bind(&[s(key)])?
        .run()
        .await?;
    let stmt = db
        .prepare("UPDATE kv SET lock_until = ?3 WHERE key = ?1 AND lock_until < ?2")
        .bind(&[s(key), n(now), n(until)])?;
    Ok(changes(stmt).await? == 1)
}

pub async fn kv_unlock(db: &D1Database, key: &str) -> Result<()> {
    db.prepare("UPDATE kv SET lock_until = 0 WHERE key = ?1")
        .bind(&[s(key)])?
        .run()
        .await?;
    Ok(())
}
