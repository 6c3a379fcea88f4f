//! The cron run: one read of everything due, then step after step — each decided by core and
//! written in one guarded commit — until nothing is due or the invocation's budget, the pacer
//! or the wall clock says stop. The rest waits for the next run.
//!
//! A batch attempt is: core decides (quota, pacer, `begin_attempt`); the claim commits that
//! decision with a lease and returns the request body (one D1 query; a version guard, so of two
//! overlapping runs only one claims it); one WeChat call; core decides about the outcome
//! (`settle`); one commit writes the batch and the call's ledger row (two queries). A run that
//! dies between claim and commit leaves the batch `sending`; after the lease the next run
//! re-claims it, and core's `begin_attempt` treats the lost attempt as a lost reply, so the same
//! bytes with the same clientmsgid go out no sooner than WeChat's dedupe answers 45065 with the
//! existing msg_id rather than delivering twice.
//!
//! A submitted batch whose MASSSENDJOBFINISH has not come 30 minutes after WeChat accepted it
//! is asked about with mass/get, and core's `after_status` settles it or sets the next check.
//! A result event that came before its batch's msg_id was recorded is applied here.
//!
//! **Accounts take turns.** A run first finds the accounts with due work (one query) and gives
//! each an equal share of the queries left — what one does not use goes to those after it — so
//! one account's backlog of 100 batches never holds another's single send back. When more
//! accounts are due than the budget can serve (each needs its settings, its read, a token refresh
//! and one step: 12 queries), the run serves as many as it can, and the next minute's run starts after them,
//! so each is served within ceil(accounts / turns a run holds) runs. Each account's steps use its own token,
//! pacer and quota ledger.

use std::fmt;

use serde_json::{json, Value};
use worker::Date;
use wxmass::endpoint::{
    parse_any_reply, AnyReply, EndpointName, GetStatusRequest, MsgStatus, SendReply,
    SendToUsersRequest,
};
use wxmass::event::{parse_message, CallbackMessage};
use wxmass::plan::{
    after_status, earliest_start, first_status_check_at, Action, BatchOutcome, BatchProgress,
    Outcome, QuotaDecision, QuotaNeed, SendKind, StatusCheck, UnixMillis,
};
use wxmass::{Endpoint, ErrorClass, HttpRequest, MassMessage, MsgId, ReplyError};

use crate::account::Account;
use crate::callback::apply_result;
use crate::calls::{self, Ledger};
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{self, BatchRow, NewCall, PendingResult};
use crate::token::{self, Token};
use crate::wechat::{Exchange, NoAnswer};

/// A claimed batch belongs to its run this long; a run that dies leaves it to the next one after.
pub const LEASE_MS: i64 = 60_000;
/// Wall time after which a run starts no new step (a short run keeps a restart cheap).
const MAX_RUN_MS: i64 = 25_000;
/// How far back the quota ledger is read (a China month and a bit).
pub const LEDGER_LOOKBACK_MS: i64 = 32 * 24 * 3600 * 1000;
/// D1 queries of an account's one read (statements of its batch).
const READ_QUERIES: u32 = 6;
/// D1 queries of one attempt or status check after the read: the claim, then the batch and
/// its ledger row.
const STEP_QUERIES: u32 = 3;
/// D1 queries of applying a result event that came early: the batch and the event.
const RESULT_QUERIES: u32 = 2;
/// Due batches one run reads at most: the pacer allows 60 calls a minute and the cron runs
/// every minute.
const MAX_DUE_PER_RUN: u32 = wxmass::limits::MAX_CALLS_PER_MINUTE;
/// Where `TEST_COUNTERS=1` keeps the last run's report.
pub const LAST_RUN_KEY: &str = "test_last_cron";

/// What one run did, for the log (and, under `TEST_COUNTERS=1`, for the tests).
#[derive(Debug, Default)]
pub struct RunReport {
    /// Send attempts made (WeChat calls to send/sendall).
    pub attempts: u32,
    /// mass/get checks made.
    pub status_checks: u32,
    /// Early result events applied.
    pub results_applied: u32,
    /// Batches moved to a later time without a call (quota window, dedupe wait).
    pub deferred: u32,
    /// Stored pushes deleted for retention (`None`: the budget left no room to look).
    pub purged: Option<u64>,
    /// Accounts that had due work.
    pub accounts: u32,
    /// Why the run stopped before the end of what was due, if it did.
    pub stopped: Option<&'static str>,
    /// The error that ended the run, if one did.
    pub error: Option<String>,
}

impl RunReport {
    pub fn to_json(&self) -> Value {
        json!({
            "accounts": self.accounts,
            "attempts": self.attempts,
            "statusChecks": self.status_checks,
            "resultsApplied": self.results_applied,
            "deferred": self.deferred,
            "purged": self.purged,
            "stopped": self.stopped,
            "error": self.error,
        })
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} send attempts, {} status checks, {} early results applied, {} deferred, {} old pushes deleted",
            self.attempts, self.status_checks, self.results_applied, self.deferred, self.purged.unwrap_or(0)
        )?;
        if let Some(why) = self.stopped {
            write!(f, "; stopped: {why}")?;
        }
        if let Some(e) = &self.error {
            write!(f, "; error: {e}")?;
        }
        Ok(())
    }
}

/// One cron run: each account's sends in turn, then, with what the budget has left, the
/// retention purge.
pub async fn run(app: &Ctx) -> RunReport {
    let mut report = RunReport::default();
    if let Err(e) = run_accounts(app, &mut report).await {
        worker::console_error!("cron run ended early: {e:?}");
        report.error = Some(e.to_string());
    }
    if app.budget.can_afford(PURGE_QUERIES, 0) {
        match purge(app).await {
            Ok(n) => report.purged = Some(n),
            Err(e) => worker::console_error!("purging old pushes failed: {e:?}"),
        }
    }
    report
}

/// D1 queries of the retention purge (old pushes, expired plain-mode queries).
const PURGE_QUERIES: u32 = 2;
/// Rows one run deletes at most from each, so a backlog is worked off over runs.
const PURGE_CHUNK: u32 = 500;

/// Deletes stored pushes older than `EVENT_RETENTION_DAYS` that no batch holds (OpenIDs and
/// message text are personal data), and plain-mode queries past their window.
async fn purge(app: &Ctx) -> Result<u64, AppError> {
    let now = app.now();
    let days = i64::from(app.cfg.event_retention_days);
    let r = app
        .store
        .commit(app.store.purge(now - days * 86_400_000, now, PURGE_CHUNK)?)
        .await?;
    Ok(r.iter()
        .take(1)
        .filter_map(|x| x.meta().ok().flatten()?.changes)
        .sum::<usize>() as u64)
}

/// What a step needs after the read, to be started at all.
fn can_start(app: &Ctx, share: Share, token: &Token, queries: u32) -> bool {
    let (q, s) = if token.is_fresh(app.now()) {
        (queries, 1)
    } else {
        (
            queries + token::REFRESH_QUERIES,
            1 + token::REFRESH_SUBREQUESTS,
        )
    };
    share.can_afford(app, q, s)
}

/// D1 queries an account's turn needs to make any progress: its settings' row (an account
/// created through the API), its read, a token refresh, a step.
const MIN_TURN_QUERIES: u32 = 1 + READ_QUERIES + token::REFRESH_QUERIES + STEP_QUERIES;

/// The accounts with due work, each with its share of the run.
async fn run_accounts(base: &Ctx, report: &mut RunReport) -> Result<(), AppError> {
    let started = Date::now().as_millis() as i64;
    let mut due = base.store.accounts_with_due_work(base.now()).await?;
    report.accounts = u32::try_from(due.len()).unwrap_or(u32::MAX);
    if !due.is_empty() {
        // When not every account fits in a run, each minute's run starts where the previous
        // minute's could stop (as many turns further as a run holds), so each account is served
        // within ceil(accounts / turns a run holds) runs.
        let turns_per_run = (base.budget.max_queries() / MIN_TURN_QUERIES).max(1);
        let minute = u64::try_from(base.now().div_euclid(60_000)).unwrap_or(0);
        let first = minute.wrapping_mul(u64::from(turns_per_run)) % due.len() as u64;
        due.rotate_left(usize::try_from(first).unwrap_or(0));
    }
    for (i, d) in due.iter().enumerate() {
        let still_to_go = u32::try_from(due.len() - i).unwrap_or(u32::MAX);
        let left = base
            .budget
            .max_queries()
            .saturating_sub(base.budget.queries());
        if left < MIN_TURN_QUERIES {
            report.stopped = Some("D1 query budget (more accounts due than one run serves)");
            break;
        }
        let ceiling = base.budget.queries() + (left / still_to_go).max(MIN_TURN_QUERIES);
        let account = match Account::load(&d.account_id, &base.env, &base.store).await {
            Ok(a) => a,
            Err(e) => {
                // One account's broken settings must not hold the others' sends back.
                worker::console_error!("cron: account {} skipped: {e:?}", d.account_id);
                report.error = Some(format!("account {}: {e}", d.account_id));
                continue;
            }
        };
        let app = base.with_account(account);
        let queries_before = base.budget.queries();
        run_steps(&app, report, Share { ceiling, started }).await?;
        worker::console_log!(
            "cron: account {}: {} D1 queries",
            d.account_id,
            base.budget.queries() - queries_before
        );
    }
    Ok(())
}

/// What one account may spend of a run: D1 queries up to `ceiling` (the invocation's count),
/// and the run's wall time from `started`.
#[derive(Clone, Copy)]
struct Share {
    ceiling: u32,
    started: i64,
}

impl Share {
    fn can_afford(&self, app: &Ctx, queries: u32, subrequests: u32) -> bool {
        app.budget.can_afford(queries, subrequests)
            && app.budget.queries().saturating_add(queries) <= self.ceiling
    }
}

async fn run_steps(app: &Ctx, report: &mut RunReport, share: Share) -> Result<(), AppError> {
    let now = app.now();
    // Read no more than the account's share lets it act on.
    let affordable = share
        .ceiling
        .saturating_sub(app.budget.queries())
        .saturating_sub(READ_QUERIES + token::REFRESH_QUERIES)
        / STEP_QUERIES;
    let due_limit = affordable.clamp(1, MAX_DUE_PER_RUN);
    let read = app
        .store
        .read_run(now, due_limit, now - LEDGER_LOOKBACK_MS)
        .await?;
    let mut ledger = Ledger::new(&read.recent_calls, &read.sends);
    let mut token = Token::new(read.token);
    if read.due.len() as u32 == due_limit {
        // More may be due than this run read: say what held it back, unless something else does.
        report.stopped = Some(if due_limit < MAX_DUE_PER_RUN {
            "D1 query or subrequest budget"
        } else {
            "60 mass calls a minute"
        });
    }

    for pending in read.pending_results {
        if !share.can_afford(app, RESULT_QUERIES, 0) {
            report.stopped = Some("D1 query budget");
            return Ok(());
        }
        if apply_pending_result(app, pending).await? {
            report.results_applied += 1;
        }
    }
    for row in read.due {
        // A batch of a sealed audience reads its chunk with the claim: one query more.
        let cost = STEP_QUERIES + u32::from(row.audience_id.is_some());
        if let Some(why) = must_stop(app, share, &token, &ledger, cost) {
            report.stopped = Some(why);
            return Ok(());
        }
        match attempt(app, share, row, &mut ledger, &mut token).await? {
            Step::Called(n) => report.attempts += n,
            Step::Deferred => report.deferred += 1,
            Step::Skipped => {}
        }
    }
    for row in read.overdue {
        if let Some(why) = must_stop(app, share, &token, &ledger, STEP_QUERIES) {
            report.stopped = Some(why);
            return Ok(());
        }
        if check_status(app, row, &mut ledger, &mut token).await? {
            report.status_checks += 1;
        }
    }
    Ok(())
}

/// Why the run may start no further step that calls WeChat, if it may not.
fn must_stop(
    app: &Ctx,
    share: Share,
    token: &Token,
    ledger: &Ledger,
    queries: u32,
) -> Option<&'static str> {
    let now = app.now();
    if Date::now().as_millis() as i64 - share.started >= MAX_RUN_MS {
        Some("run time")
    } else if !can_start(app, share, token, queries) {
        Some("D1 query or subrequest budget")
    } else if ledger.next_slot(now) > now {
        Some("60 mass calls a minute")
    } else {
        None
    }
}

enum Step {
    /// WeChat was called this many times.
    Called(u32),
    /// Moved to a later time (or failed) without a call.
    Deferred,
    /// Another run had it.
    Skipped,
}

fn progress_of(row: &BatchRow) -> Result<BatchProgress, AppError> {
    serde_json::from_str(&row.progress_json).map_err(|e| {
        AppError::Internal(format!("batch {}: stored progress unreadable: {e}", row.id))
    })
}

fn to_json(progress: &BatchProgress) -> String {
    // Cannot fail: plain data with string keys.
    serde_json::to_string(progress).unwrap_or_default()
}

/// The row after core's decision about an attempt's outcome.
fn after_action(
    mut row: BatchRow,
    progress: &BatchProgress,
    action: &Action,
    outcome: &Outcome,
    at: i64,
) -> BatchRow {
    row.progress_json = to_json(progress);
    row.attempt = i64::from(progress.attempts());
    row.lease_until = 0;
    row.last_outcome = Some(describe(outcome));
    match action {
        Action::Done { msg_id } => {
            row.state = "submitted".into();
            row.msg_id = Some(msg_id.to_string());
            row.msg_data_id = match outcome {
                Outcome::Accepted(SendReply { msg_data_id, .. }) => {
                    msg_data_id.map(|m| m.to_string())
                }
                _ => None,
            };
            row.submitted_at = Some(at);
            row.next_attempt_at = first_status_check_at(UnixMillis(at)).0;
            row.status_checks = 0;
        }
        Action::RetryAt { at: next } | Action::WaitUntil { until: next } => {
            row.state = "pending".into();
            row.next_attempt_at = next.0;
        }
        Action::RefreshTokenThenRetry => {
            row.state = "pending".into();
            row.next_attempt_at = at;
        }
        Action::Fail {
            reason,
            maybe_delivered,
        } => {
            row.state = "failed".into();
            row.fail_reason = Some(reason.explain(*maybe_delivered));
        }
    }
    row
}

/// Moves a batch to `next_at` (or fails it) without calling WeChat: a quota window, or a
/// dedupe wait core asked for.
async fn defer(
    app: &Ctx,
    row: &BatchRow,
    progress: &BatchProgress,
    state: &str,
    next_at: i64,
    why: String,
    now: i64,
) -> Result<Step, AppError> {
    let mut new = row.clone();
    new.progress_json = to_json(progress);
    new.state = state.into();
    new.lease_until = 0;
    new.next_attempt_at = next_at;
    if state == "failed" {
        new.fail_reason = Some(why.clone());
    }
    new.last_outcome = Some(why);
    app.store
        .commit(vec![app.store.update_batch(
            &new,
            row.version,
            now,
            false,
        )?])
        .await?;
    Ok(Step::Deferred)
}

async fn attempt(
    app: &Ctx,
    share: Share,
    mut row: BatchRow,
    ledger: &mut Ledger,
    token: &mut Token,
) -> Result<Step, AppError> {
    let mut calls_made = 0;
    // Core may ask for a fresh token and the same request again, once per attempt here.
    for _ in 0..2 {
        // The token first: after core's decision the only store call is its commit.
        let tok = token.get(app).await?;
        let now = app.now();
        let mut progress = progress_of(&row)?;
        let kind = EndpointName::parse(&row.endpoint)
            .and_then(SendKind::of_endpoint)
            .ok_or_else(|| {
                AppError::Internal(format!(
                    "batch {}: unknown endpoint {:?}",
                    row.id, row.endpoint
                ))
            })?;
        let need = QuotaNeed {
            sendall_calls: usize::from(kind == SendKind::SendAll),
            send_calls: usize::from(kind == SendKind::SendToUsers),
            to_all: row.to_all != 0,
        };
        match earliest_start(app.acct()?.kind, ledger.sends(), &need, UnixMillis(now)) {
            QuotaDecision::Now => {}
            QuotaDecision::NotBefore { at, .. } => {
                let why = format!(
                    "waiting for the account's quota window (from {})",
                    at.china_display()
                );
                return defer(app, &row, &progress, "pending", at.0, why, now).await;
            }
            QuotaDecision::Never { reason } => {
                return defer(
                    app,
                    &row,
                    &progress,
                    "failed",
                    row.next_attempt_at,
                    reason,
                    now,
                )
                .await;
            }
        }
        if let Err(e) = progress.begin_attempt(UnixMillis(now)) {
            // Too early (a lost attempt waits for WeChat's dedupe window), or out of attempts.
            return match progress.not_before() {
                Some(at) => defer(app, &row, &progress, "pending", at.0, e.to_string(), now).await,
                None => {
                    defer(
                        app,
                        &row,
                        &progress,
                        "failed",
                        row.next_attempt_at,
                        e.to_string(),
                        now,
                    )
                    .await
                }
            };
        }
        // The claim: the attempt begun, a lease, and the bytes to send.
        let mut claimed = row.clone();
        claimed.state = "sending".into();
        claimed.progress_json = to_json(&progress);
        claimed.attempt = i64::from(progress.attempts());
        claimed.lease_until = now + LEASE_MS;
        let r = app
            .store
            .commit(app.store.claim(&claimed, row.version, now)?)
            .await?;
        let Some((body, chunk)) = store::claimed(&r)? else {
            return Ok(Step::Skipped); // another run changed it first
        };
        claimed.version = row.version + 1;
        let endpoint = kind.endpoint();
        let req = match &row.audience_id {
            None => endpoint.request_for_built_body(&app.acct()?.base, body.into_bytes()),
            Some(_) => chunk_request(app, &row, chunk)?,
        };
        let made = calls::make(app, ledger, endpoint, &req, &tok, now).await?;
        calls_made += 1;
        let outcome = match &made.answer {
            Ok(ex) => Outcome::from_http(ex.status, &ex.body),
            Err(_) => Outcome::ReplyLost,
        };
        let action = progress.settle(&outcome, UnixMillis(now), jitter());
        let mut call = made.call;
        call.batch_id = Some(row.id.clone());
        call.to_all = row.to_all != 0;
        call.succeeded = matches!(action, Action::Done { .. });
        ledger.record(&call);
        let settled = after_action(claimed.clone(), &progress, &action, &outcome, now);
        app.store
            .commit(vec![
                app.store
                    .update_batch(&settled, claimed.version, now, false)?,
                app.store.insert_call(&call)?,
            ])
            .await?;
        if action != Action::RefreshTokenThenRetry {
            break;
        }
        token.reject();
        row = settled;
        row.version = claimed.version + 1;
        if !can_start(app, share, token, STEP_QUERIES) {
            break;
        }
    }
    Ok(Step::Called(calls_made))
}

/// The request of a batch of a sealed audience, built now by core from the job's message, its
/// `send_ignore_reprint`, the batch's clientmsgid and the chunk's OpenIDs (stored bodies of a
/// million recipients would be 33 MB of D1).
fn chunk_request(
    app: &Ctx,
    row: &BatchRow,
    chunk: Option<String>,
) -> Result<HttpRequest, AppError> {
    let broken = |what: String| AppError::Internal(format!("batch {}: {what}", row.id));
    let openids = chunk.ok_or_else(|| broken("its audience chunk is gone".into()))?;
    let message: serde_json::Value = serde_json::from_str(row.job_message.as_deref().unwrap_or(""))
        .map_err(|e| broken(format!("the job's message is unreadable: {e}")))?;
    let message = MassMessage::from_value(message, "message")
        .map_err(|e| broken(format!("the job's message: {e}")))?;
    let mut request =
        SendToUsersRequest::new(openids.split('\n').map(str::to_owned).collect(), message);
    request.send_ignore_reprint = row.job_reprint.map(|r| r != 0);
    request.clientmsgid = Some(row.clientmsgid.clone());
    request
        .build(&app.acct()?.base)
        .map_err(|e| broken(format!("its request: {e}")))
}

/// Asks mass/get about a submitted batch whose result event is overdue. Returns whether a call
/// was made.
async fn check_status(
    app: &Ctx,
    row: BatchRow,
    ledger: &mut Ledger,
    token: &mut Token,
) -> Result<bool, AppError> {
    let now = app.now();
    let Some(msg_id) = row.msg_id.as_deref().and_then(|m| m.parse::<MsgId>().ok()) else {
        return Ok(false);
    };
    let tok = token.get(app).await?;
    let mut claimed = row.clone();
    claimed.next_attempt_at = now + LEASE_MS;
    let r = app
        .store
        .commit(vec![app.store.update_batch(
            &claimed,
            row.version,
            now,
            false,
        )?])
        .await?;
    if !store::changed(&r, 0) {
        return Ok(false); // another run has it
    }
    let req = GetStatusRequest { msg_id }
        .build(&app.acct()?.base)
        .map_err(|e| AppError::Internal(format!("mass/get for batch {}: {e}", row.id)))?;
    let made = calls::make(app, ledger, EndpointName::GetStatus, &req, &tok, now).await?;
    let mut call = made.call;
    call.batch_id = Some(row.id.clone());
    ledger.record(&call);
    let (status, described) = read_status_answer(&made.answer, &mut call, token);
    let submitted_at = UnixMillis(row.submitted_at.unwrap_or(now));
    let checks = u32::try_from(row.status_checks).unwrap_or(u32::MAX);
    let mut new = claimed.clone();
    new.status_checks = row.status_checks + 1;
    new.last_outcome = Some(described.clone());
    // The outcome the push would have stored, by core's same rule (SEND_FAIL is refused), or,
    // when core gave up asking, the reason it did.
    let told = status.as_ref().and_then(BatchOutcome::of_status);
    match after_status(status.as_ref(), submitted_at, checks, UnixMillis(now)) {
        StatusCheck::Finished { status, note } => {
            new.state = "finished".into();
            new.result_json =
                Some(json!({ "status": status, "source": "mass/get", "note": note }).to_string());
            new.outcome_json = told.as_ref().map(store::outcome_json);
            new.last_outcome = Some(note);
        }
        StatusCheck::Failed { reason } => {
            new.state = "failed".into();
            let outcome = told.unwrap_or_else(|| BatchOutcome::of_failure_text(&reason));
            new.outcome_json = Some(store::outcome_json(&outcome));
            new.fail_reason = Some(reason);
        }
        StatusCheck::CheckAgainAt { at } => new.next_attempt_at = at.0,
    }
    app.store
        .commit(vec![
            app.store.update_batch(&new, row.version + 1, now, false)?,
            app.store.insert_call(&call)?,
        ])
        .await?;
    Ok(true)
}

/// What mass/get answered: the status if it told one (then the call succeeded), and a line
/// for the batch's last outcome. A refused token is dropped; this check is asked again later.
fn read_status_answer(
    answer: &Result<Exchange, NoAnswer>,
    call: &mut NewCall,
    token: &mut Token,
) -> (Option<MsgStatus>, String) {
    match answer {
        Err(e) => (None, format!("mass/get: no answer ({})", e.0)),
        Ok(ex) if ex.status != 200 => (None, format!("mass/get: HTTP {}", ex.status)),
        Ok(ex) => match parse_any_reply(EndpointName::GetStatus, &ex.body) {
            Ok(AnyReply::GetStatus(r)) => {
                call.succeeded = true;
                let d = format!("mass/get: {}", r.msg_status.as_str());
                (Some(r.msg_status), d)
            }
            Ok(_) => (None, "mass/get: an answer of another endpoint".into()),
            Err(ReplyError::Api(e)) => {
                if e.class() == ErrorClass::RefreshToken {
                    // The next step refreshes it; this check is asked again later.
                    token.reject();
                }
                (None, format!("mass/get: {e}"))
            }
            Err(e) => (None, format!("mass/get: unreadable answer: {e}")),
        },
    }
}

/// Applies a result event that came before its batch's msg_id was recorded. Returns whether the
/// batch took it.
async fn apply_pending_result(app: &Ctx, p: PendingResult) -> Result<bool, AppError> {
    let now = app.now();
    let decision = match parse_message(p.event_xml.as_bytes()) {
        Ok(CallbackMessage::MassSendJobFinish(e)) => apply_result(&p.batch, &e),
        Ok(_) => Err("not a MASSSENDJOBFINISH".to_owned()),
        Err(e) => Err(format!("unreadable: {e}")),
    };
    let stmts = match &decision {
        Ok(Some(new)) => vec![
            app.store.update_batch(new, p.batch.version, now, false)?,
            app.store
                .settle_event(&p.event_key, "applied", &p.batch.id, None, false)?,
        ],
        Ok(None) => {
            vec![app
                .store
                .settle_event(&p.event_key, "applied", &p.batch.id, None, true)?]
        }
        Err(why) => {
            vec![app
                .store
                .settle_event(&p.event_key, "ignored", &p.batch.id, Some(why), true)?]
        }
    };
    let r = app.store.commit(stmts).await?;
    Ok(matches!(decision, Ok(Some(_))) && store::changed(&r, 0))
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
    u32::from_le_bytes(crate::random::bytes::<4>())
}
