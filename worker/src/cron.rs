//! The cron run: claim due batches in D1, send each with its fixed clientmsgid, and follow
//! core's decision about the outcome. A run stops well inside a Worker invocation's limits and
//! leaves the rest for the next run.
//!
//! Two overlapping runs never take the same batch: a claim is a conditional UPDATE that only
//! one of them can win (`changes == 1`), with a lease. A run that dies mid-send (the worker
//! restarted) leaves its batch `sending`; after the lease, the next run re-claims it and core's
//! `begin_attempt` treats the lost attempt as a lost reply (it may have reached WeChat), so the
//! same request with the same clientmsgid goes out no sooner than WeChat's dedupe allows, and
//! WeChat answers 45065 with the existing msg_id instead of delivering twice.
//!
//! No batch stays `submitted` forever: when its MASSSENDJOBFINISH has not come 30 minutes after
//! WeChat accepted it (the push was lost: the callback URL was down through WeChat's retries),
//! the run asks mass/get and core's `plan::status_check` decides: finished (counts unknown;
//! a late event still brings them), failed, or ask again later, up to a day.

use serde_json::json;
use worker::Date;
use wxmass::endpoint::{AnyReply, EndpointName, GetStatusRequest, SendReply};
use wxmass::plan::{
    after_status, earliest_start, first_status_check_at, Action, BatchProgress, Outcome, Pacer,
    QuotaDecision, QuotaNeed, SendKind, SentRecord, StatusCheck, UnixMillis,
};
use wxmass::{Endpoint, HttpRequest, MsgId};

use crate::error::AppError;
use crate::{callback, store, token, wechat, Ctx};

/// WeChat calls one run may make: a free Worker invocation has 50 subrequests, and the token
/// fetch needs some.
pub const MAX_CALLS_PER_RUN: u32 = 40;
/// Wall time after which a run starts no new send (a cron invocation may run for minutes, but
/// a short run keeps a restart cheap).
pub const MAX_RUN_MS: i64 = 20_000;
/// A claimed batch belongs to its run this long; a run that dies leaves it to the next one after.
pub const LEASE_MS: i64 = 60_000;
/// Due batches looked at per query.
const DUE_PAGE: u32 = 20;
/// How far back the quota ledger is read (a China month and a bit).
const LEDGER_LOOKBACK_MS: i64 = 32 * 24 * 3600 * 1000;
const PACER_KEY: &str = "pacer";
/// When the token source fails, look again this much later.
const NO_TOKEN_RETRY_MS: i64 = 30_000;

/// One cron run: due batches first, then submitted batches whose result event is overdue.
/// Returns the number of WeChat calls made.
pub async fn run(app: &Ctx) -> Result<u32, AppError> {
    let started = Date::now().as_millis() as i64;
    let mut calls = send_due(app, started).await?;
    calls += check_overdue(app, started, calls).await?;
    Ok(calls)
}

/// Sends the due batches. Returns the number of WeChat calls made.
async fn send_due(app: &Ctx, started: i64) -> Result<u32, AppError> {
    let mut calls = 0u32;
    let mut skipped: Vec<String> = Vec::new();
    'run: while calls < MAX_CALLS_PER_RUN && (Date::now().as_millis() as i64) - started < MAX_RUN_MS
    {
        let now = app.now().await;
        let due = store::due_batches(&app.db, now, DUE_PAGE).await?;
        let due: Vec<String> = due.into_iter().filter(|id| !skipped.contains(id)).collect();
        if due.is_empty() {
            break;
        }
        for id in due {
            if calls >= MAX_CALLS_PER_RUN
                || (Date::now().as_millis() as i64) - started >= MAX_RUN_MS
            {
                break 'run;
            }
            let now = app.now().await;
            let pacer = load_pacer(app).await;
            let slot = pacer.next_slot(UnixMillis(now));
            if slot.0 > now {
                // 60 calls in the last minute: the rest waits for the next run.
                break 'run;
            }
            match attempt(app, &id, now).await? {
                Attempted::Sent => calls += 1,
                Attempted::NotSent => skipped.push(id),
            }
        }
    }
    Ok(calls)
}

enum Attempted {
    Sent,
    NotSent,
}

async fn attempt(app: &Ctx, id: &str, now: i64) -> Result<Attempted, AppError> {
    let Some(row) = store::batch(&app.db, id).await? else {
        return Ok(Attempted::NotSent);
    };
    let kind = if row.endpoint == "sendall" {
        SendKind::SendAll
    } else {
        SendKind::SendToUsers
    };
    let to_all = row.to_all != 0.0;
    let mut progress: BatchProgress = serde_json::from_str(&row.progress_json)
        .map_err(|e| AppError::Internal(format!("batch {id}: stored progress unreadable: {e}")))?;

    // Quotas: core decides from the ledger whether this call may go out now.
    let ledger = ledger(app, now).await?;
    let need = QuotaNeed {
        sendall_calls: usize::from(kind == SendKind::SendAll),
        send_calls: usize::from(kind == SendKind::SendToUsers),
        to_all,
    };
    match earliest_start(app.cfg.account, &ledger, &need, UnixMillis(now)) {
        QuotaDecision::Now => {}
        QuotaDecision::NotBefore { at, .. } => {
            store::release_batch(
                &app.db,
                id,
                &row.progress_json,
                at.0,
                "waiting for the account's quota window",
                now,
            )
            .await?;
            return Ok(Attempted::NotSent);
        }
        QuotaDecision::Never { reason } => {
            store::fail_batch(
                &app.db,
                id,
                &row.progress_json,
                &reason,
                "quota: never",
                now,
            )
            .await?;
            return Ok(Attempted::NotSent);
        }
    }

    if !store::claim_batch(&app.db, id, now, now + LEASE_MS).await? {
        return Ok(Attempted::NotSent); // another run has it
    }
    // A token first: without one nothing is sent and the attempt does not count.
    let first_token = match token::access_token(app, None).await {
        Ok(t) => t,
        Err(e) => {
            let why = format!("no access_token: {e:?}");
            store::release_batch(
                &app.db,
                id,
                &row.progress_json,
                now + NO_TOKEN_RETRY_MS,
                &why,
                now,
            )
            .await?;
            return Ok(Attempted::NotSent);
        }
    };
    // Core: may an attempt start now? (A batch whose last attempt never settled waits until
    // WeChat's clientmsgid dedupe will answer 45065 rather than 45066.)
    if let Err(e) = progress.begin_attempt(UnixMillis(now)) {
        let progress_json = serde_json::to_string(&progress).unwrap_or_default();
        match progress.not_before() {
            Some(at) => {
                store::release_batch(&app.db, id, &progress_json, at.0, &e.to_string(), now).await?
            }
            None => {
                store::fail_batch(
                    &app.db,
                    id,
                    &progress_json,
                    &e.to_string(),
                    &e.to_string(),
                    now,
                )
                .await?
            }
        }
        return Ok(Attempted::NotSent);
    }
    // Stored before the request goes out: if this run dies now, the next knows.
    let progress_json = serde_json::to_string(&progress).unwrap_or_default();
    store::save_progress(&app.db, id, &progress_json, now).await?;

    let Some(body) = store::request_body(&app.db, id).await? else {
        return Ok(Attempted::NotSent);
    };
    let endpoint = if kind == SendKind::SendAll {
        EndpointName::SendAll
    } else {
        EndpointName::SendToUsers
    };
    let req = HttpRequest {
        method: wxmass::Method::Post,
        scheme: app.cfg.base.scheme.clone(),
        host: app.cfg.base.host.clone(),
        path: format!("{}{}", app.cfg.base.path_prefix, endpoint.path()),
        content_type: wxmass::limits::CONTENT_TYPE_JSON.to_owned(),
        body: body.into_bytes(),
    };
    let mut tok = first_token;
    loop {
        let sent_at = app.now().await;
        let outcome = match wechat::send(&req, Some(&tok)).await {
            Ok(ex) => Outcome::from_http(ex.status, &ex.body),
            Err(_) => Outcome::ReplyLost,
        };
        record_call(app).await;
        let described = describe(&outcome);
        let action = progress.settle(&outcome, UnixMillis(sent_at), jitter());
        let progress_json = serde_json::to_string(&progress).unwrap_or_default();
        let accepted = matches!(action, Action::Done { .. });
        store::record_send(&app.db, id, sent_at, &row.endpoint, to_all, accepted).await?;
        match action {
            Action::Done { msg_id } => {
                let msg_data_id = match &outcome {
                    Outcome::Accepted(SendReply { msg_data_id, .. }) => {
                        msg_data_id.map(|m| m.to_string())
                    }
                    _ => None,
                };
                let msg_id = msg_id.to_string();
                store::submit_batch(
                    &app.db,
                    id,
                    &progress_json,
                    &msg_id,
                    msg_data_id.as_deref(),
                    &described,
                    sent_at,
                    first_status_check_at(UnixMillis(sent_at)).0,
                )
                .await?;
                callback::apply_early_result(app, id, &msg_id, sent_at).await?;
            }
            Action::RetryAt { at } => {
                store::release_batch(&app.db, id, &progress_json, at.0, &described, sent_at).await?
            }
            Action::WaitUntil { until } => {
                store::release_batch(&app.db, id, &progress_json, until.0, &described, sent_at)
                    .await?
            }
            Action::RefreshTokenThenRetry => {
                // Core counts refreshes in a row and fails the batch if they never help.
                tok = match token::access_token(app, Some(&tok)).await {
                    Ok(t) => t,
                    Err(e) => {
                        let why = format!("{described}; token refresh failed: {e:?}");
                        store::release_batch(
                            &app.db,
                            id,
                            &progress_json,
                            sent_at + NO_TOKEN_RETRY_MS,
                            &why,
                            sent_at,
                        )
                        .await?;
                        return Ok(Attempted::Sent);
                    }
                };
                store::save_progress(&app.db, id, &progress_json, sent_at).await?;
                if progress.begin_attempt(UnixMillis(app.now().await)).is_err() {
                    store::release_batch(&app.db, id, &progress_json, sent_at, &described, sent_at)
                        .await?;
                    return Ok(Attempted::Sent);
                }
                let pj = serde_json::to_string(&progress).unwrap_or_default();
                store::save_progress(&app.db, id, &pj, sent_at).await?;
                continue;
            }
            Action::Fail {
                reason,
                maybe_delivered,
            } => {
                store::fail_batch(
                    &app.db,
                    id,
                    &progress_json,
                    &reason.explain(maybe_delivered),
                    &described,
                    sent_at,
                )
                .await?
            }
        }
        return Ok(Attempted::Sent);
    }
}

/// Submitted batches whose MASSSENDJOBFINISH has not come in time (a push lost while the
/// callback URL was down): ask mass/get, and let core's `after_status` settle the batch or set
/// the next check. `calls` WeChat calls were made earlier in this run; returns the calls made here.
async fn check_overdue(app: &Ctx, started: i64, calls_before: u32) -> Result<u32, AppError> {
    let mut calls = 0u32;
    let now = app.now().await;
    for b in store::overdue_submitted(&app.db, now, DUE_PAGE).await? {
        if calls_before + calls >= MAX_CALLS_PER_RUN
            || (Date::now().as_millis() as i64) - started >= MAX_RUN_MS
        {
            break;
        }
        let now = app.now().await;
        if load_pacer(app).await.next_slot(UnixMillis(now)).0 > now {
            break; // mass/get counts against the 60 calls a minute too
        }
        let Some(msg_id) = b.msg_id.as_deref().and_then(|m| m.parse::<MsgId>().ok()) else {
            continue;
        };
        if !store::claim_status_check(&app.db, &b.id, now, now + LEASE_MS).await? {
            continue; // another run has it
        }
        let req = GetStatusRequest { msg_id }
            .build(&app.cfg.base)
            .map_err(AppError::Invalid)?;
        calls += 1;
        let (status, described) = match wechat::call_reply(app, EndpointName::GetStatus, &req).await
        {
            Ok(AnyReply::GetStatus(r)) => {
                let d = format!("mass/get: {}", r.msg_status.as_str());
                (Some(r.msg_status), d)
            }
            Ok(other) => (None, format!("mass/get: unexpected reply {other:?}")),
            Err(e) => (None, format!("mass/get failed: {e:?}")),
        };
        let submitted_at = UnixMillis(b.submitted_at.map_or(now, |t| t as i64));
        let checks = b.status_checks as u32;
        match after_status(status.as_ref(), submitted_at, checks, UnixMillis(now)) {
            StatusCheck::Finished { status, note } => {
                let result = json!({ "status": status, "source": "mass/get", "note": note });
                store::settle_from_status(
                    &app.db,
                    &b.id,
                    "finished",
                    Some(&result.to_string()),
                    None,
                    &note,
                    now,
                )
                .await?;
            }
            StatusCheck::Failed { reason } => {
                store::settle_from_status(
                    &app.db,
                    &b.id,
                    "failed",
                    None,
                    Some(&reason),
                    &described,
                    now,
                )
                .await?;
            }
            StatusCheck::CheckAgainAt { at } => {
                store::status_checked(&app.db, &b.id, at.0, &described, now).await?
            }
        }
    }
    Ok(calls)
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Accepted(r) => format!("accepted: msg_id {}", r.msg_id),
        Outcome::ReplyLost => "no reply (lost or unreadable)".into(),
        Outcome::HttpStatus(s) => format!("HTTP {s}"),
        Outcome::Api(e) => e.to_string(),
    }
}

fn jitter() -> u32 {
    u32::from_le_bytes(crate::random_bytes::<4>())
}

/// The sends of the last China month and a bit, for core's quota rules.
pub(crate) async fn ledger(app: &Ctx, now: i64) -> Result<Vec<SentRecord>, AppError> {
    let rows = store::sends_since(&app.db, now - LEDGER_LOOKBACK_MS).await?;
    Ok(rows
        .into_iter()
        .map(|r| SentRecord {
            at: UnixMillis(r.at as i64),
            kind: if r.endpoint == "sendall" {
                SendKind::SendAll
            } else {
                SendKind::SendToUsers
            },
            to_all: r.to_all != 0.0,
            succeeded: r.succeeded != 0.0,
        })
        .collect())
}

async fn load_pacer(app: &Ctx) -> Pacer {
    match store::kv_get(&app.db, PACER_KEY).await {
        Ok(Some(row)) => serde_json::from_str(&row.value).unwrap_or_default(),
        _ => Pacer::new(),
    }
}

/// Records one call to a mass endpoint in the shared pacer (sends, previews, gets, speed).
pub async fn record_call(app: &Ctx) {
    let now = app.now().await;
    let mut pacer = load_pacer(app).await;
    pacer.record(UnixMillis(now));
    if let Ok(json) = serde_json::to_string(&pacer) {
        let _ = store::kv_put(&app.db, PACER_KEY, &json, 0, now).await;
    }
}
