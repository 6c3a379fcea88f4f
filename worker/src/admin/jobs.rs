//! Jobs: a message to an audience, planned by core into batches (each with its fixed
//! clientmsgid) and stored in D1; the cron sends them.
//!
//! `POST /api/jobs`
//! ```json
//! { "message": { "msgtype": "text", "text": { "content": "hello" } },
//!   "audience": { "openids": ["o…", …] } | { "tagId": 2 } | { "everyone": true },
//!   "sendAt": "2025-01-01T08:00:00+08:00" | 1735689600000,   // optional, default now
//!   "sendIgnoreReprint": false,                               // optional
//!   "skipInvalid": false }                                    // optional
//! ```
//! An `Idempotency-Key` header makes creation safe to retry: a repeat answers 200 with the
//! first job instead of 201 with a new one.

use serde_json::{json, Value};
use worker::js_sys;
use worker::Response;
use wxmass::plan::{BatchAudience, BatchProgress, PlanOptions, SendKind, SendPlan, UnixMillis};
use wxmass::{Audience, MassMessage};

use super::reply;
use crate::error::AppError;
use crate::wechat::ids_as_strings;
use crate::{store, Ctx};

/// Longest Idempotency-Key accepted.
const IDEMPOTENCY_KEY_MAX_BYTES: usize = 200;

fn audience(v: Option<&Value>) -> Result<Audience, AppError> {
    // Core's rule: exactly one of everyone / tagId / openIds, so nothing ambiguous widens a send.
    Audience::from_value(v.cloned().unwrap_or(Value::Null), "audience").map_err(AppError::Invalid)
}

fn send_at(v: Option<&Value>, now: i64) -> Result<i64, AppError> {
    match v {
        None | Some(Value::Null) => Ok(now),
        Some(Value::Number(n)) => n.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
            AppError::bad(
                "time",
                "sendAt",
                "sendAt must be Unix milliseconds or an RFC 3339 time",
            )
        }),
        Some(Value::String(s)) => {
            let t = js_sys::Date::parse(s);
            if t.is_finite() {
                Ok(t as i64)
            } else {
                Err(AppError::bad(
                    "time",
                    "sendAt",
                    format!("sendAt {s:?} is not an RFC 3339 time"),
                ))
            }
        }
        Some(_) => Err(AppError::bad(
            "time",
            "sendAt",
            "sendAt must be Unix milliseconds or an RFC 3339 time",
        )),
    }
}

fn opt_bool(body: &Value, key: &str) -> Result<Option<bool>, AppError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(AppError::bad(
            "type",
            key,
            format!("{key} must be true or false"),
        )),
    }
}

fn new_job_id() -> String {
    let mut id = String::from("j");
    for b in crate::random_bytes::<12>() {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// `POST /api/jobs`.
pub async fn create(
    body: Value,
    idempotency_key: Option<String>,
    app: &Ctx,
) -> Result<Response, AppError> {
    if let Some(key) = &idempotency_key {
        if key.is_empty() || key.len() > IDEMPOTENCY_KEY_MAX_BYTES {
            return Err(AppError::bad(
                "idempotency_key",
                "Idempotency-Key",
                format!("must be 1 to {IDEMPOTENCY_KEY_MAX_BYTES} bytes"),
            ));
        }
        if let Some(job) = store::job_by_idempotency_key(&app.db, key).await? {
            return reply(200, &job_view(&job, app).await?);
        }
    }
    let Value::Object(_) = &body else {
        return Err(AppError::bad("type", "", "the body must be a JSON object"));
    };
    for key in body
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if !matches!(
            key.as_str(),
            "message" | "audience" | "sendAt" | "sendIgnoreReprint" | "skipInvalid"
        ) {
            return Err(AppError::bad(
                "unknown_field",
                &key,
                format!("unknown field {key}"),
            ));
        }
    }
    let now = app.now().await;
    let message_value = body.get("message").cloned().unwrap_or(Value::Null);
    let message =
        MassMessage::from_value(message_value.clone(), "message").map_err(AppError::Invalid)?;
    let audience = audience(body.get("audience"))?;
    let send_at = send_at(body.get("sendAt"), now)?;
    let options = PlanOptions {
        skip_invalid: opt_bool(&body, "skipInvalid")?.unwrap_or(false),
        send_ignore_reprint: opt_bool(&body, "sendIgnoreReprint")?,
        account: app.cfg.account,
        // std has no randomness source on wasm32-unknown-unknown; the engine's Math.random
        // keeps the duplicate finder's keys unpredictable (see PlanOptions::hash_seed).
        hash_seed: Some(
            ((worker::js_sys::Math::random() * 4_294_967_296.0) as u64) << 32
                | (worker::js_sys::Math::random() * 4_294_967_296.0) as u64,
        ),
    };
    let audience_json = match &audience {
        Audience::OpenIds(list) => json!({ "openids": list.len() }),
        Audience::Tag(id) => json!({ "tagId": id }),
        Audience::Everyone => json!({ "everyone": true }),
    };
    let id = new_job_id();
    let plan = SendPlan::new(&id, message, audience, options).map_err(AppError::Plan)?;
    // The account's real send ledger, so the summary's quota verdict counts sends already made.
    let ledger = crate::cron::ledger(app, now).await?;
    let summary = plan.summary(&ledger, UnixMillis(send_at.max(now)));

    let progress_json = serde_json::to_string(&BatchProgress::new()).unwrap_or_default();
    let mut batches = Vec::with_capacity(plan.batches().len());
    for b in plan.batches() {
        let request = plan
            .request(b.index)
            .ok_or_else(|| AppError::Internal(format!("plan has no batch {}", b.index)))?;
        let http = request.build(&app.cfg.base).map_err(AppError::Invalid)?;
        batches.push(store::NewBatch {
            idx: b.index,
            clientmsgid: b.clientmsgid.clone(),
            endpoint: match b.send_kind() {
                SendKind::SendAll => "sendall",
                SendKind::SendToUsers => "send",
            },
            to_all: b.is_to_all(),
            recipients: match &b.recipients {
                BatchAudience::OpenIds(r) => Some(r.len()),
                BatchAudience::Filter(_) => None,
            },
            request_body: String::from_utf8(http.body).unwrap_or_default(),
            progress_json: progress_json.clone(),
        });
    }
    let job = store::JobRow {
        id: id.clone(),
        idempotency_key: idempotency_key.clone(),
        message_json: message_value.to_string(),
        audience_json: audience_json.to_string(),
        summary_json: serde_json::to_string(&summary).unwrap_or_default(),
        send_at: send_at as f64,
        created_at: now as f64,
        cancelled_at: None,
    };
    if let Err(e) = store::insert_job(&app.db, &job, &batches).await {
        // Two creates with one key at once: the loser answers with the winner's job.
        if let Some(key) = &idempotency_key {
            if let Some(first) = store::job_by_idempotency_key(&app.db, key).await? {
                return reply(200, &job_view(&first, app).await?);
            }
        }
        return Err(e.into());
    }
    reply(201, &job_view(&job, app).await?)
}

/// A job's state, from its batches' states.
fn job_state(job: &store::JobRow, batches: &[store::BatchRow]) -> &'static str {
    let count = |s: &str| batches.iter().filter(|b| b.state == s).count();
    let n = batches.len();
    let (pending, sending, submitted, finished, failed, cancelled) = (
        count("pending"),
        count("sending"),
        count("submitted"),
        count("finished"),
        count("failed"),
        count("cancelled"),
    );
    if n > 0 && cancelled == n {
        "cancelled"
    } else if n > 0 && finished + failed + cancelled == n {
        if failed == 0 {
            "finished"
        } else if finished == 0 {
            "failed"
        } else {
            "partly_failed"
        }
    } else if pending == n && batches.iter().all(|b| b.attempt == 0.0) {
        if job.cancelled_at.is_some() {
            "cancelled"
        } else {
            "planned"
        }
    } else if pending + sending > 0 {
        "sending"
    } else if submitted > 0 {
        "submitted"
    } else {
        "sending"
    }
}

async fn job_view(job: &store::JobRow, app: &Ctx) -> Result<Value, AppError> {
    let batches = store::batches_of_job(&app.db, &job.id).await?;
    let events = store::events_of_job(&app.db, &job.id).await?;
    let mut counts = json!({});
    for s in [
        "pending",
        "sending",
        "submitted",
        "finished",
        "failed",
        "cancelled",
    ] {
        counts[s] = json!(batches.iter().filter(|b| b.state == s).count());
    }
    let (mut total, mut filter, mut sent, mut error) = (0u64, 0u64, 0u64, 0u64);
    let batch_views: Vec<Value> = batches
        .iter()
        .map(|b| {
            let result: Value = b
                .result_json
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or(Value::Null);
            if !result.is_null() {
                total += result["total_count"].as_u64().unwrap_or(0);
                filter += result["filter_count"].as_u64().unwrap_or(0);
                sent += result["sent_count"].as_u64().unwrap_or(0);
                error += result["error_count"].as_u64().unwrap_or(0);
            }
            json!({
                "index": b.idx as u64,
                "clientmsgid": b.clientmsgid,
                "endpoint": b.endpoint,
                "recipients": b.recipients.map(|r| r as u64),
                "state": b.state,
                "attempts": b.attempt as u64,
                "jobId": b.job_id,
                "leaseUntil": b.lease_until as i64,
                "nextAttemptAt": b.next_attempt_at as i64,
                "msgId": b.msg_id,
                "msgDataId": b.msg_data_id,
                "lastOutcome": b.last_outcome,
                "failReason": b.fail_reason,
                "result": result,
            })
        })
        .collect();
    let event_views: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut payload: Value = serde_json::from_str(&e.payload_json).unwrap_or(Value::Null);
            ids_as_strings(&mut payload);
            json!({ "dedupeKey": e.dedupe_key, "msgId": e.msg_id, "batchId": e.batch_id, "receivedAt": e.received_at as i64, "event": payload })
        })
        .collect();
    let mut summary: Value = serde_json::from_str(&job.summary_json).unwrap_or(Value::Null);
    ids_as_strings(&mut summary);
    Ok(json!({
        "id": job.id,
        "state": job_state(job, &batches),
        "createdAt": job.created_at as i64,
        "sendAt": job.send_at as i64,
        "cancelledAt": job.cancelled_at.map(|t| t as i64),
        "message": serde_json::from_str::<Value>(&job.message_json).unwrap_or(Value::Null),
        "audience": serde_json::from_str::<Value>(&job.audience_json).unwrap_or(Value::Null),
        "summary": summary,
        "counts": counts,
        "results": { "events": events.len(), "totalCount": total, "filterCount": filter, "sentCount": sent, "errorCount": error },
        "batches": batch_views,
        "events": event_views,
    }))
}

/// `GET /api/jobs/{id}`.
pub async fn get(id: &str, app: &Ctx) -> Result<Response, AppError> {
    let job = store::job(&app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no job {id}")))?;
    reply(200, &job_view(&job, app).await?)
}

/// `GET /api/jobs`: the latest 100, without batches.
pub async fn list(app: &Ctx) -> Result<Response, AppError> {
    let mut out = Vec::new();
    for job in store::list_jobs(&app.db, 100).await? {
        let batches = store::batches_of_job(&app.db, &job.id).await?;
        out.push(json!({ "id": job.id, "state": job_state(&job, &batches), "createdAt": job.created_at as i64, "sendAt": job.send_at as i64, "batches": batches.len() }));
    }
    reply(200, &json!({ "jobs": out }))
}

/// `POST /api/jobs/{id}/cancel`: cancels every batch core allows (never one that may have
/// reached WeChat). 409 when none could be cancelled.
pub async fn cancel(id: &str, app: &Ctx) -> Result<Response, AppError> {
    let job = store::job(&app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no job {id}")))?;
    let now = app.now().await;
    let mut cancelled = 0;
    let mut kept = Vec::new();
    for b in store::batches_of_job(&app.db, id).await? {
        let mut progress: BatchProgress =
            serde_json::from_str(&b.progress_json).unwrap_or_default();
        let ok = b.state == "pending"
            && progress.cancel().is_ok()
            && store::cancel_batch(
                &app.db,
                &b.id,
                &serde_json::to_string(&progress).unwrap_or_default(),
                now,
            )
            .await?;
        if ok {
            cancelled += 1;
        } else if b.state != "cancelled" {
            kept.push(json!({ "index": b.idx as u64, "state": b.state }));
        }
    }
    if cancelled > 0 {
        store::mark_job_cancelled(&app.db, id, now).await?;
    }
    let view = job_view(&job, app).await?;
    if cancelled == 0 && !kept.is_empty() {
        return Err(AppError::Conflict(format!(
            "nothing to cancel: every batch has been sent or may have reached WeChat ({} batches)",
            kept.len()
        )));
    }
    reply(
        200,
        &json!({ "cancelledBatches": cancelled, "notCancelled": kept, "job": view }),
    )
}

/// `GET /api/events`: the latest 100 pushes, and how many are stored.
pub async fn events(app: &Ctx) -> Result<Response, AppError> {
    let total = store::count_events(&app.db).await?;
    let list: Vec<Value> = store::recent_events(&app.db, 100)
        .await?
        .into_iter()
        .map(|e| {
            let mut payload: Value = serde_json::from_str(&e.payload_json).unwrap_or(Value::Null);
            ids_as_strings(&mut payload);
            json!({ "dedupeKey": e.dedupe_key, "kind": e.kind, "event": e.event, "msgId": e.msg_id, "batchId": e.batch_id, "receivedAt": e.received_at as i64, "payload": payload })
        })
        .collect();
    reply(200, &json!({ "total": total, "events": list }))
}
