//! Jobs: a message to an audience, planned by core into batches (each with its fixed
//! clientmsgid) and stored in D1; the cron sends them.
//!
//! `POST /api/jobs`
//! ```json
//! { "message": { "msgtype": "text", "text": { "content": "hello" } },
//!   "audience": { "openids": ["o…", …] } | { "tagId": 2 } | { "everyone": true },
//!   "sendAt": "2030-03-07T08:00:00+08:00" | 1899072000000,   // optional, default now
//!   "sendIgnoreReprint": false,                                // optional
//!   "skipInvalid": false }                                     // optional
//! ```
//! `sendAt` is RFC 3339 with an explicit offset (China time is `+08:00`) or Unix milliseconds.
//! An `Idempotency-Key` header makes creation safe to retry: the same key with the same body
//! answers 200 with the first job (its creator stays the first caller's, whoever retries);
//! with another body, 422 `idempotency_key_reused`. Each job records who created it
//! (`createdBy`: the scoped token's id, label and role; `ADMIN_TOKEN` for the deployment's).

use std::collections::HashSet;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use worker::{Request, Response};
use wxmass::endpoint::tags_get::TagsReply;
use wxmass::endpoint::EndpointName;
use wxmass::limits::MEDIA_TEMPORARY_KEPT_SECS;
use wxmass::plan::{
    batch_state_zh, read_send_at, BatchAudience, BatchProgress, ChunkRef, FailReason, JobState,
    PendingSend, PlanOptions, PlanSummary, SendKind, SendPlan, UnixMillis,
};
use wxmass::{Audience, MassMessage};

use super::{media, reads, reply, view, Page, Principal};
use crate::calls::{Ledger, READ_CACHE_MS};
use crate::cron::LEDGER_LOOKBACK_MS;
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{
    self, AudienceRow, BatchCancel, BatchRow, JobListRow, JobRow, NewBatch, QueuedSend,
};

/// Longest Idempotency-Key accepted.
const IDEMPOTENCY_KEY_MAX_BYTES: usize = 200;
/// The fields of a create body.
const CREATE_FIELDS: [&str; 5] = [
    "message",
    "audience",
    "sendAt",
    "sendIgnoreReprint",
    "skipInvalid",
];

fn opt_bool(body: &Value, key: &str) -> Result<Option<bool>, AppError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(AppError::bad_value(
            "type",
            key,
            &other.to_string(),
            format!("{key} must be true or false"),
        )),
    }
}

fn new_job_id() -> String {
    std::iter::once("j".to_owned())
        .chain(
            crate::random::bytes::<12>()
                .iter()
                .map(|b| format!("{b:02x}")),
        )
        .collect()
}

/// A hash of the body with its keys in one order (serde_json's map is sorted), so the same
/// request written differently is still the same request.
fn request_hash(body: &Value) -> String {
    Sha256::digest(body.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_idempotency_key(key: &str) -> Result<(), AppError> {
    if key.is_empty()
        || key.len() > IDEMPOTENCY_KEY_MAX_BYTES
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AppError::bad_value(
            "idempotency_key",
            "Idempotency-Key",
            key,
            format!(
                "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_BYTES} visible ASCII characters"
            ),
        ));
    }
    Ok(())
}

/// A create that found a job under its key: the same body is a retry (200 with that job);
/// another body is a mistake (422). Jobs stored before hashes were kept count as the same.
async fn earlier_job(job: JobRow, key: &str, hash: &str, app: &Ctx) -> Result<Response, AppError> {
    match job.request_hash.as_deref() {
        Some(h) if h != hash => Err(AppError::IdempotencyKeyReused {
            key: key.to_owned(),
            job_id: job.id,
        }),
        _ => reply(200, &view_of(&job.id, app).await?),
    }
}

/// `POST /api/jobs`: read (an earlier job under the key, the quota ledger), let core plan,
/// commit the job and its batches at once.
pub async fn create(
    body: Value,
    idempotency_key: Option<String>,
    app: &Ctx,
    who: &Principal,
) -> Result<Response, AppError> {
    if let Some(key) = &idempotency_key {
        check_idempotency_key(key)?;
    }
    let hash = request_hash(&body);
    let now = app.now();
    let (earlier, sends, queued) = app
        .store
        .read_for_create(idempotency_key.as_deref(), now - LEDGER_LOOKBACK_MS)
        .await?;
    if let (Some(job), Some(key)) = (earlier, &idempotency_key) {
        return earlier_job(job, key, &hash, app).await;
    }
    check_create_fields(&body)?;
    let message_value = body.get("message").cloned().unwrap_or(Value::Null);
    let message =
        MassMessage::from_value(message_value.clone(), "message").map_err(AppError::Invalid)?;
    let audience_value = body.get("audience").cloned().unwrap_or(Value::Null);
    // Core refuses a start more than a minute before now: a year typed wrong would otherwise
    // send the whole list at once.
    let send_at = read_send_at(body.get("sendAt"), "sendAt", UnixMillis(now))
        .map_err(AppError::Invalid)?
        .map_or(now, |t| t.0);
    let options = plan_options(&body, app)?;
    let media_id = message.media_id().map(str::to_owned);
    let id = new_job_id();
    let quota = QuotaFacts {
        ledger: Ledger::new(&[], &sends),
        pending: pending_sends(&queued, now),
        start: UnixMillis(send_at.max(now)),
    };
    let planned = match sealed_audience_id(&audience_value)? {
        Some(audience_id) => plan_sealed(&id, message, audience_id, options, &quota, app).await?,
        None => plan_listed(&id, message, audience_value, options, &quota, app)?,
    };
    // What WeChat would refuse only at the send, refused now (issue 26): nothing is stored.
    if let Some(media_id) = &media_id {
        check_media(media_id, &message_value, send_at.max(now), app).await?;
    }
    let checks = check_tag(&planned.audience_json, app).await?;
    let job = JobRow {
        id,
        idempotency_key,
        request_hash: Some(hash),
        message_json: message_value.to_string(),
        audience_json: planned.audience_json.to_string(),
        summary_json: serde_json::to_string(&planned.summary).unwrap_or_default(),
        send_at,
        created_at: now,
        cancelled_at: None,
        audience_id: planned.audience_id,
        send_ignore_reprint: options.send_ignore_reprint.map(i64::from),
        created_by: Some(who.creator().to_string()),
    };
    insert_job(&job, &planned.batches, checks, app).await
}

/// The path of the message's media id as the caller wrote it (`message.image.media_id` or
/// `….mediaId`).
fn media_id_path(message: &Value) -> String {
    // Core reads the kind under its wire name or in camelCase; so does the path.
    let kind = ["msgtype", "msgType"]
        .iter()
        .find_map(|k| message[*k].as_str())
        .unwrap_or_default();
    let key = if message[kind].get("mediaId").is_some() {
        "mediaId"
    } else {
        "media_id"
    };
    format!("message.{kind}.{key}")
}

/// Refuses (422 `media_expired`) temporary media the worker made that WeChat will no longer
/// keep when the job starts at `start` (3 days after its upload).
async fn check_media(
    media_id: &str,
    message: &Value,
    start: i64,
    app: &Ctx,
) -> Result<(), AppError> {
    let Some(expires_at) = app.store.media(media_id).await?.and_then(|m| m.expires_at) else {
        return Ok(());
    };
    if expires_at > start {
        return Ok(());
    }
    let (expires, starts) = (UnixMillis(expires_at), UnixMillis(start));
    let days = MEDIA_TEMPORARY_KEPT_SECS / 86_400;
    Err(AppError::Refused {
        code: "media_expired",
        path: media_id_path(message),
        value: media_id.to_owned(),
        message: format!(
            "media {media_id} is temporary media, which WeChat keeps {days} days: it expires at {expires}, before the job starts at {starts}; upload it again (or as permanent material) or start earlier"
        ),
        message_zh: format!(
            "素材 {media_id} 是临时素材，微信只保存 {days} 天：它在 {expires} 过期，早于任务开始时间 {starts}；请重新上传（或上传为永久素材），或提前开始"
        ),
    })
}

/// For a job to a tag: `{"tagId": "checked"}` when the account's tags list has it, 422
/// `unknown_tag` when it does not (asked again of WeChat when the list came from the cache),
/// and `{"tagId": "unchecked", "reason", "reasonZh"}` when the list cannot be read: a send is
/// never refused for a read that failed. `None` for other audiences.
async fn check_tag(audience: &Value, app: &Ctx) -> Result<Option<Value>, AppError> {
    let Some(tag_id) = audience.get("tagId").and_then(Value::as_u64) else {
        return Ok(None);
    };
    let has = |tags: &TagsReply| tags.tags.iter().any(|t| t.id == tag_id);
    let mut read = reads::tags(READ_CACHE_MS, app).await;
    if matches!(&read, Ok((tags, age)) if *age > 0 && !has(tags)) {
        read = reads::tags(0, app).await;
    }
    match read {
        Ok((tags, _)) if has(&tags) => Ok(Some(json!({ "tagId": "checked" }))),
        Ok((tags, _)) => {
            let known: Vec<String> = tags
                .tags
                .iter()
                .map(|t| format!("{} ({})", t.id, t.name))
                .collect();
            Err(AppError::Refused {
                code: "unknown_tag",
                path: "audience.tagId".into(),
                value: tag_id.to_string(),
                message: format!(
                    "the account has no tag {tag_id}; its tags are: {}",
                    known.join(", ")
                ),
                message_zh: format!("该公众号没有标签 {tag_id}；现有标签：{}", known.join("、")),
            })
        }
        Err(e) => {
            let why = if e.is_internal() {
                "the worker could not read it".to_owned()
            } else {
                e.to_string()
            };
            Ok(Some(json!({
                "tagId": "unchecked",
                "reason": format!("the account's tags list could not be read, so tag {tag_id} was not checked: {why}"),
                "reasonZh": format!("无法读取公众号的标签列表，未检查标签 {tag_id}：{why}"),
            })))
        }
    }
}

/// A create body is an object of [`CREATE_FIELDS`] only.
fn check_create_fields(body: &Value) -> Result<(), AppError> {
    let Value::Object(fields) = body else {
        return Err(AppError::bad("type", "", "the body must be a JSON object"));
    };
    if let Some(key) = fields.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())) {
        return Err(AppError::bad_value(
            "unknown_field",
            key,
            key,
            format!(
                "unknown field {key}; a job has {}",
                CREATE_FIELDS.join(", ")
            ),
        ));
    }
    Ok(())
}

fn plan_options(body: &Value, app: &Ctx) -> Result<PlanOptions, AppError> {
    Ok(PlanOptions {
        skip_invalid: opt_bool(body, "skipInvalid")?.unwrap_or(false),
        send_ignore_reprint: opt_bool(body, "sendIgnoreReprint")?,
        account: app.acct()?.kind,
        // std has no randomness source on wasm32-unknown-unknown; the runtime's keeps the
        // duplicate finder's keys unpredictable (see PlanOptions::hash_seed).
        hash_seed: Some(u64::from_le_bytes(crate::random::bytes::<8>())),
    })
}

/// What a new job's quota summary counts besides its own batches: the account's real send
/// ledger and every other job's batches still to send (the quota is the account's, so the
/// summary's verdict counts both; core lays the queued ones out first).
struct QuotaFacts {
    ledger: Ledger,
    pending: Vec<PendingSend>,
    start: UnixMillis,
}

fn pending_sends(queued: &[QueuedSend], now: i64) -> Vec<PendingSend> {
    queued
        .iter()
        .filter_map(|q| {
            Some(PendingSend {
                not_before: UnixMillis(q.next_attempt_at.max(now)),
                kind: EndpointName::parse(&q.endpoint).and_then(SendKind::of_endpoint)?,
                to_all: q.to_all != 0,
            })
        })
        .collect()
}

/// A job as core planned it, ready to store.
struct Planned {
    summary: PlanSummary,
    batches: Vec<NewBatch>,
    /// The audience as the job shows it (a count, a tag, everyone, or a sealed audience).
    audience_json: Value,
    /// The sealed audience the batches' recipients are in.
    audience_id: Option<String>,
}

fn new_progress_json() -> String {
    serde_json::to_string(&BatchProgress::new()).unwrap_or_default()
}

/// A plan to a sealed audience: its batches hold chunk numbers, their bodies are built from
/// the chunks when they are sent.
async fn plan_sealed(
    id: &str,
    message: MassMessage,
    audience_id: String,
    options: PlanOptions,
    quota: &QuotaFacts,
    app: &Ctx,
) -> Result<Planned, AppError> {
    let (audience, refs) = sealed_chunks(&audience_id, app).await?;
    let plan =
        SendPlan::for_sealed_audience(id, message, &refs, options).map_err(AppError::Plan)?;
    let progress_json = new_progress_json();
    let batches = plan
        .batches()
        .iter()
        .map(|b| NewBatch {
            audience_id: Some(audience_id.clone()),
            idx: b.index,
            clientmsgid: b.clientmsgid.clone(),
            endpoint: b.send_kind().endpoint().as_str(),
            to_all: false,
            recipients: match &b.recipients {
                BatchAudience::OpenIds(r) => Some(r.len()),
                BatchAudience::Filter(_) => None,
            },
            // Built from the chunk when it is sent.
            request_body: String::new(),
            progress_json: progress_json.clone(),
        })
        .collect();
    Ok(Planned {
        summary: plan.summary_with_pending(quota.ledger.sends(), &quota.pending, quota.start),
        batches,
        audience_json: json!({
            "audienceId": audience_id,
            "openids": plan.recipient_count(),
            "name": audience.name,
            "source": view::audience_source(&audience),
        }),
        audience_id: Some(audience_id),
    })
}

/// The audience and its chunks, as core plans from them; an audience that is not sealed yet
/// (open, still collecting, failed) is a conflict.
async fn sealed_chunks(
    audience_id: &str,
    app: &Ctx,
) -> Result<(AudienceRow, Vec<ChunkRef>), AppError> {
    let (audience, chunks) = app.store.chunk_refs(audience_id).await?;
    let audience = match audience {
        None => {
            return Err(AppError::bad_value(
                "not_found",
                "audience.audienceId",
                audience_id,
                format!("there is no audience {audience_id}"),
            ))
        }
        Some(a) if a.state != "sealed" => return Err(not_sealed(&a)),
        Some(a) => a,
    };
    if chunks.iter().enumerate().any(|(i, c)| c.idx != i as i64) {
        return Err(AppError::Internal(format!(
            "audience {audience_id}: its chunks are not numbered 0..{}",
            chunks.len()
        )));
    }
    let refs = chunks
        .iter()
        .map(|c| ChunkRef {
            count: usize::try_from(c.count).unwrap_or(0),
            digest: c.digest.clone(),
        })
        .collect();
    Ok((audience, refs))
}

/// Why a job cannot go to an audience that is not sealed, with how far it is.
fn not_sealed(a: &AudienceRow) -> AppError {
    let id = &a.id;
    AppError::Conflict(match a.state.as_str() {
        "collecting" => {
            let of = a.total.map_or(String::new(), |t| format!(" of {t}"));
            format!(
                "audience {id} is still collecting from WeChat: {} OpenIDs{of} in {} pages so far; the cron seals it when the list is done (受众仍在从微信拉取：已拉取 {} 个 OpenID，{} 页)",
                a.collected, a.pages, a.collected, a.pages
            )
        }
        "failed" => format!(
            "audience {id} failed and cannot be sent to: {} ({})",
            a.fail_reason.as_deref().unwrap_or("no reason stored"),
            a.fail_reason_zh.as_deref().unwrap_or("无原因记录"),
        ),
        _ => format!(
            "audience {id} is not sealed yet: POST /api/audiences/{id}/seal first (受众尚未封存)"
        ),
    })
}

/// A plan to core's audiences (everyone, a tag, a list of OpenIDs): each batch's request body
/// is built now and stored.
fn plan_listed(
    id: &str,
    message: MassMessage,
    audience_value: Value,
    options: PlanOptions,
    quota: &QuotaFacts,
    app: &Ctx,
) -> Result<Planned, AppError> {
    // Core's rule: exactly one of everyone / tagId / openIds, so nothing ambiguous widens a
    // send.
    let audience = Audience::from_value(audience_value, "audience").map_err(AppError::Invalid)?;
    let audience_json = match &audience {
        Audience::OpenIds(list) => json!({ "openids": list.len() }),
        Audience::Tag(id) => json!({ "tagId": id }),
        Audience::Everyone => json!({ "everyone": true }),
    };
    let plan = SendPlan::new(id, message, audience, options).map_err(AppError::Plan)?;
    let progress_json = new_progress_json();
    let mut batches = Vec::with_capacity(plan.batches().len());
    for b in plan.batches() {
        let request = plan
            .request(b.index)
            .ok_or_else(|| AppError::Internal(format!("plan has no batch {}", b.index)))?;
        let http = request
            .build(&app.acct()?.base)
            .map_err(AppError::Invalid)?;
        batches.push(NewBatch {
            audience_id: None,
            idx: b.index,
            clientmsgid: b.clientmsgid.clone(),
            endpoint: b.send_kind().endpoint().as_str(),
            to_all: b.is_to_all(),
            recipients: match &b.recipients {
                BatchAudience::OpenIds(r) => Some(r.len()),
                BatchAudience::Filter(_) => None,
            },
            request_body: String::from_utf8(http.body).unwrap_or_default(),
            progress_json: progress_json.clone(),
        });
    }
    Ok(Planned {
        summary: plan.summary_with_pending(quota.ledger.sends(), &quota.pending, quota.start),
        batches,
        audience_json,
        audience_id: None,
    })
}

/// Commits a job and its batches at once (201), or, when another create under the same key
/// committed first, answers as a create that found that job.
async fn insert_job(
    job: &JobRow,
    batches: &[NewBatch],
    checks: Option<Value>,
    app: &Ctx,
) -> Result<Response, AppError> {
    if let Err(e) = app.store.commit(app.store.insert_job(job, batches)?).await {
        // Two creates with one key at once: the key is unique, so one insert fails whole.
        if let (Some(key), Some(hash)) = (&job.idempotency_key, &job.request_hash) {
            if let Some(first) = app.store.job_by_idempotency_key(key).await? {
                return earlier_job(first, key, hash, app).await;
            }
        }
        return Err(e);
    }
    let mut view = view_of(&job.id, app).await?;
    if let Some(checks) = checks {
        view["checks"] = checks;
    }
    reply(201, &view)
}

/// The audience id of `{"audienceId": "a…"}`, the form that sends to a sealed audience; `None`
/// for core's forms (everyone, a tag, a list of OpenIDs).
fn sealed_audience_id(audience: &Value) -> Result<Option<String>, AppError> {
    let Some(fields) = audience.as_object() else {
        return Ok(None);
    };
    let Some(id) = fields.get("audienceId") else {
        return Ok(None);
    };
    if let Some(other) = fields.keys().find(|k| *k != "audienceId") {
        return Err(AppError::bad_value(
            "one_of",
            &format!("audience.{other}"),
            other,
            "an audience is one of everyone, tagId, openIds or audienceId",
        ));
    }
    match id.as_str() {
        Some(s) if !s.is_empty() => Ok(Some(s.to_owned())),
        _ => Err(AppError::bad_value(
            "type",
            "audience.audienceId",
            &id.to_string(),
            "audienceId must be the id POST /api/audiences answered",
        )),
    }
}

/// A job as answered: one read of four queries (with the media its message names).
async fn view_of(id: &str, app: &Ctx) -> Result<Value, AppError> {
    let (job, batches, events, made) = app
        .store
        .read_job(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no job {id}")))?;
    let mut view = serde_json::to_value(view::job(&job, &batches, &events))
        .map_err(|e| AppError::Internal(format!("job view: {e}")))?;
    let media_id = serde_json::from_str(&job.message_json)
        .ok()
        .and_then(|m| MassMessage::from_value(m, "message").ok());
    view["media"] = media::job_media(media_id.as_ref().and_then(MassMessage::media_id), &made);
    Ok(view)
}

/// `GET /api/jobs/{id}`.
pub async fn get(id: &str, app: &Ctx) -> Result<Response, AppError> {
    reply(200, &view_of(id, app).await?)
}

/// Jobs one query of a filtered list reads.
const FILTER_SCAN_ROWS: u32 = 100;
/// Queries a filtered list makes at most before it answers (with fewer than `limit` jobs and a
/// cursor to go on from, when the filter skipped that many).
const FILTER_SCAN_QUERIES: usize = 5;

/// `?state=a,b`: the job states kept (names as the API shows them); 400 at `state` naming the
/// value and the states there are.
fn read_states(value: &str, into: &mut Vec<JobState>) -> Result<(), AppError> {
    for name in value.split(',') {
        let state = JobState::parse(name.trim()).ok_or_else(|| {
            let all: Vec<&str> = JobState::ALL.iter().map(|s| s.name()).collect();
            AppError::bad_value(
                "one_of",
                "state",
                name,
                format!(
                    "unknown job state {name:?}; state is a comma list of {}",
                    all.join(", ")
                ),
            )
        })?;
        into.push(state);
    }
    Ok(())
}

/// `GET /api/jobs?limit=&cursor=&state=`: newest first, without batches; one query. With
/// `state`, the jobs whose state (core's rule, as each item shows it) is one of those: up to
/// [`FILTER_SCAN_QUERIES`] queries of [`FILTER_SCAN_ROWS`] jobs each, so a page may hold fewer
/// than `limit` (even none) with a `nextCursor` to go on from; the list ends where
/// `nextCursor` is null.
pub async fn list(req: &Request, app: &Ctx) -> Result<Response, AppError> {
    let page = Page::from_request(req)?;
    let mut states = Vec::new();
    for (name, value) in &page.params {
        match name.as_str() {
            "state" => read_states(value, &mut states)?,
            _ => {
                return Err(AppError::bad_value(
                    "unknown_field",
                    name,
                    name,
                    "GET /api/jobs takes limit, cursor and state",
                ))
            }
        }
    }
    let after = page.after.as_ref().map(|(t, k)| (*t, k.as_str()));
    if states.is_empty() {
        let rows = app.store.list_jobs(page.limit, after).await?;
        let jobs: Vec<view::JobListItem> = rows.iter().map(view::list_item).collect();
        let next = page.next_cursor(
            rows.len(),
            rows.last().map(|j| (j.created_at, j.id.as_str())),
        );
        return reply(200, &json!({ "jobs": jobs, "nextCursor": next }));
    }
    let (kept, next) = scan_for_states(&page, &states, app).await?;
    let jobs: Vec<view::JobListItem> = kept.iter().map(view::list_item).collect();
    reply(200, &json!({ "jobs": jobs, "nextCursor": next }))
}

/// The jobs after the page's cursor whose state is one of `states`, up to its limit, and the
/// cursor after the last job looked at (null when the list ended).
async fn scan_for_states(
    page: &Page,
    states: &[JobState],
    app: &Ctx,
) -> Result<(Vec<JobListRow>, Value), AppError> {
    let limit = page.limit as usize;
    let mut kept = Vec::new();
    let mut seen = page.after.clone();
    for _ in 0..FILTER_SCAN_QUERIES {
        let after = seen.as_ref().map(|(t, k)| (*t, k.as_str()));
        let rows = app.store.list_jobs(FILTER_SCAN_ROWS, after).await?;
        let ended = rows.len() < FILTER_SCAN_ROWS as usize;
        for row in rows {
            seen = Some((row.created_at, row.id.clone()));
            if states.contains(&view::list_state(&row)) {
                kept.push(row);
                if kept.len() == limit {
                    return Ok((kept, page.next_cursor(limit, after_of(&seen))));
                }
            }
        }
        if ended {
            return Ok((kept, Value::Null));
        }
    }
    // The scan's share is spent: the caller goes on from the last job looked at.
    let next = page.next_cursor(limit, after_of(&seen));
    Ok((kept, next))
}

fn after_of(seen: &Option<(i64, String)>) -> Option<(i64, &str)> {
    seen.as_ref().map(|(t, k)| (*t, k.as_str()))
}

/// `POST /api/jobs/{id}/cancel`: cancels every batch core allows (never one that may have
/// reached WeChat), in one commit of two statements whatever the job's size (the batches by one
/// set-based update, each under its version guard; the job). 409 when none could be cancelled.
pub async fn cancel(id: &str, app: &Ctx) -> Result<Response, AppError> {
    let (_, batches) = app
        .store
        .read_for_cancel(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no job {id}")))?;
    let now = app.now();
    let CancelDecision { tried, mut kept } = decide_cancel(&batches)?;
    if tried.is_empty() {
        if kept.is_empty() {
            return reply(
                200,
                &json!({ "cancelledBatches": 0, "notCancelled": kept, "job": view_of(id, app).await? }),
            );
        }
        return Err(AppError::Conflict(format!(
            "nothing to cancel: every batch has been sent or may have reached WeChat ({} batches)",
            kept.len()
        )));
    }
    let r = app
        .store
        .commit(vec![
            app.store.cancel_batches(
                id,
                &tried,
                &FailReason::Cancelled.explain_text(false),
                now,
            )?,
            app.store.cancel_job(id, now)?,
        ])
        .await?;
    let changed: HashSet<String> = store::returned_ids(&r, 0)?.into_iter().collect();
    for t in tried.iter().filter(|t| !changed.contains(t.id)) {
        // A cron run claimed it between the read and the commit.
        kept.push(json!({
            "index": t.index, "state": "sending", "why": "a cron run took it first",
            "whyZh": "定时任务先一步开始发送该批次",
        }));
    }
    reply(
        200,
        &json!({ "cancelledBatches": changed.len(), "notCancelled": kept, "job": view_of(id, app).await? }),
    )
}

/// What core's `cancel` decided for a job's batches.
struct CancelDecision<'a> {
    /// Each batch to cancel, with the progress core wrote for it.
    tried: Vec<BatchCancel<'a>>,
    /// Why each other batch (not already cancelled) stays, as the answer shows it.
    kept: Vec<Value>,
}

fn decide_cancel(batches: &[BatchRow]) -> Result<CancelDecision<'_>, AppError> {
    let mut tried = Vec::new();
    let mut kept = Vec::new();
    for b in batches {
        if b.state == "cancelled" {
            continue;
        }
        let mut progress: BatchProgress = serde_json::from_str(&b.progress_json)
            .map_err(|e| AppError::Internal(format!("batch {}: {e}", b.id)))?;
        match (b.state.as_str(), progress.cancel()) {
            ("pending", Ok(())) => tried.push(BatchCancel {
                id: &b.id,
                index: b.idx,
                read_version: b.version,
                progress_json: serde_json::to_string(&progress).unwrap_or_default(),
            }),
            (_, Err(e)) => kept.push(json!({
                "index": b.idx, "state": b.state, "why": e.to_string(), "whyZh": e.zh(),
            })),
            (state, Ok(())) => kept.push(json!({
                "index": b.idx, "state": state, "why": format!("the batch is {state}"),
                "whyZh": format!("该批次{}", batch_state_zh(state)),
            })),
        }
    }
    Ok(CancelDecision { tried, kept })
}
