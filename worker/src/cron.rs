//! The cron run: for each account with due work, one read, then core's [`CronTurn`] says step
//! after step what to do — apply an early result, refresh the token, send a batch, check an
//! overdue one, defer or fail one without a call, stop — and this file only performs it: the
//! IO, and one guarded commit per step. The rest waits for the next run.
//!
//! A send is: the claim commits core's begun attempt with a lease and returns the request body
//! (one D1 query; a version guard, so of two overlapping runs only one claims it); one WeChat
//! call; core settles the outcome; one commit writes the batch and the call's ledger row (two
//! queries). A run that dies between claim and commit leaves the batch `sending`; after the
//! lease the next run re-claims it, and core treats the lost attempt as a lost reply, so the
//! same bytes with the same clientmsgid go out no sooner than WeChat's dedupe answers 45065 with
//! the existing msg_id rather than delivering twice.
//!
//! A submitted batch whose MASSSENDJOBFINISH has not come 30 minutes after WeChat accepted it
//! is asked about with mass/get, the same way. A result event that came before its batch's
//! msg_id was recorded is applied here, as the callback applies it.
//!
//! With what the account's share leaves after that, its audiences collecting from WeChat take
//! their next pages and, once listed, are sealed (`collect.rs`): a page and its cursor in one
//! commit, so a run stopped anywhere neither loses nor repeats one.
//!
//! **Accounts take turns** ([`AccountTurns`]): each gets an equal share of the queries left, so
//! one account's backlog never holds another's single send back, and when more accounts are due
//! than a run serves, the next minute's run starts after the last one served. Each account's
//! steps use its own token, pacer and quota ledger.

use std::fmt;

use serde_json::{json, Value};
use wxmass::endpoint::{EndpointName, GetStatusRequest, SendToUsersRequest};
use wxmass::event::{parse_message, CallbackMessage};
use wxmass::plan::turn::{
    due_limit, read_held_back, AccountTurns, CheckSettled, CheckStep, CronTurn, DueBatch,
    OverdueBatch, SendSettled, SendStep, Spend, Stage, Step, StepCosts, TurnRead,
};
use wxmass::plan::{BatchProgress, SendKind, Text, UnixMillis};
use wxmass::{Endpoint, HttpRequest, MassMessage, MsgId};

use crate::account::Account;
use crate::callback::{apply_result, Refused};
use crate::calls::{self, Ledger};
use crate::collect::{self, answer_of};
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{self, AudienceRow, BatchRow, DueAccount, PendingResult};
use crate::token::{self, Token};

/// Wall time after which a run starts no new step (a short run keeps a restart cheap).
const MAX_RUN_MS: i64 = 25_000;
/// How far back the quota ledger is read (a China month and a bit).
pub const LEDGER_LOOKBACK_MS: i64 = 32 * 24 * 3600 * 1000;
/// D1 queries of an account's one read (statements of its batch).
const READ_QUERIES: u32 = 6;
/// D1 queries of one attempt or status check after the read: the claim, then the batch and
/// its ledger row.
const STEP_QUERIES: u32 = 3;
/// What each step costs after the read, for core's turn: D1 queries and subrequests (a WeChat
/// call is one; applying a result event makes none; a token refresh is its lock and store and
/// one fetch).
const COSTS: StepCosts = StepCosts {
    send: Spend::new(STEP_QUERIES, 1),
    check: Spend::new(STEP_QUERIES, 1),
    result: Spend::new(2, 0),
    token_refresh: Spend::new(token::REFRESH_QUERIES, token::REFRESH_SUBREQUESTS),
};
/// A batch of a sealed audience reads its chunk with the claim: one query more.
const CHUNK_QUERIES: Spend = Spend::new(1, 0);
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
    /// Pages of audiences collected from WeChat and stored.
    pub pages: u32,
    /// Collected audiences sealed.
    pub sealed: u32,
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
            "audiencePages": self.pages,
            "audiencesSealed": self.sealed,
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
            "{} send attempts, {} status checks, {} early results applied, {} deferred, {} audience pages, {} audiences sealed, {} old pushes deleted",
            self.attempts, self.status_checks, self.results_applied, self.deferred, self.pages, self.sealed, self.purged.unwrap_or(0)
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

/// D1 queries of the retention purge (old pushes, expired plain-mode queries, old answers to
/// reads).
const PURGE_QUERIES: u32 = 3;
/// How long WeChat's answers to reads are kept (they are served for a minute; an hour's rows
/// are few).
const READS_KEPT_MS: i64 = 3_600_000;
/// Rows one run deletes at most from each, so a backlog is worked off over runs.
const PURGE_CHUNK: u32 = 500;

/// Deletes stored pushes older than `EVENT_RETENTION_DAYS` that no batch holds (OpenIDs and
/// message text are personal data), and plain-mode queries past their window.
async fn purge(app: &Ctx) -> Result<u64, AppError> {
    let now = app.now();
    let days = i64::from(app.cfg.event_retention_days);
    let r = app
        .store
        .commit(app.store.purge(
            now - days * 86_400_000,
            now,
            now - READS_KEPT_MS,
            PURGE_CHUNK,
        )?)
        .await?;
    Ok(r.iter()
        .take(1)
        .filter_map(|x| x.meta().ok().flatten()?.changes)
        .sum::<usize>() as u64)
}

/// D1 queries an account's turn needs to make any progress: its settings' row (an account
/// created through the API), its read, a token refresh, a step.
const MIN_TURN_QUERIES: u32 = 1 + READ_QUERIES + token::REFRESH_QUERIES + STEP_QUERIES;

/// The accounts with due work, each with its share of the run.
async fn run_accounts(base: &Ctx, report: &mut RunReport) -> Result<(), AppError> {
    let deadline = UnixMillis(base.now() + MAX_RUN_MS);
    let mut due = base.store.accounts_with_due_work(base.now()).await?;
    report.accounts = u32::try_from(due.len()).unwrap_or(u32::MAX);
    let turns = AccountTurns::new(base.budget.max_queries(), MIN_TURN_QUERIES);
    let first = turns.first(due.len(), UnixMillis(base.now()));
    due.rotate_left(first);
    for (i, d) in due.iter().enumerate() {
        let ceiling = match turns.ceiling(base.budget.queries(), due.len() - i) {
            Ok(ceiling) => ceiling,
            Err(why) => {
                report.stopped = Some(why.as_str());
                break;
            }
        };
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
        run_turn(&app, d, report, ceiling, deadline).await?;
        worker::console_log!(
            "cron: account {}: {} D1 queries",
            d.account_id,
            base.budget.queries() - queries_before
        );
    }
    Ok(())
}

/// What the account may still spend: the invocation's budget, its queries up to `ceiling`.
fn left(app: &Ctx, ceiling: u32) -> Spend {
    let spent = app.budget.queries();
    Spend::new(
        ceiling.min(app.budget.max_queries()).saturating_sub(spent),
        app.budget
            .max_subrequests()
            .saturating_sub(app.budget.subrequests()),
    )
}

/// What the turn works on: the rows it read, which its steps name by index.
struct Rows {
    due: Vec<BatchRow>,
    overdue: Vec<BatchRow>,
    results: Vec<Option<PendingResult>>,
    collecting: Vec<AudienceRow>,
}

/// One account's turn: read, then perform what core's turn asks until it stops.
/// The turn's read, in one round trip, handed to core: what is due, overdue and pending, the
/// ledger and pacer, and the cached token's age.
async fn read_turn(
    app: &Ctx,
    due: &DueAccount,
    report: &mut RunReport,
    ceiling: u32,
    deadline: UnixMillis,
) -> Result<(CronTurn, Rows, Token), AppError> {
    let now = app.now();
    // Audiences collecting from WeChat are read only for an account that has some.
    let collecting = (due.collecting != 0).then_some(collect::AUDIENCES_PER_TURN);
    let read_queries = READ_QUERIES + u32::from(collecting.is_some());
    // Read no more than the account's share lets it act on.
    let limit = due_limit(
        left(app, ceiling).queries,
        read_queries + token::REFRESH_QUERIES,
        STEP_QUERIES,
    );
    let read = app
        .store
        .read_run(now, limit, now - LEDGER_LOOKBACK_MS, collecting)
        .await?;
    if let Some(why) = read_held_back(read.due.len(), limit) {
        // More may be due than this run read: say what held it back, unless something else does.
        report.stopped = Some(why.as_str());
    }
    let token = Token::new(read.token);
    let (pacer, sends) = Ledger::new(&read.recent_calls, &read.sends).into_parts();
    let turn = CronTurn::new(TurnRead {
        account: app.acct()?.kind,
        pending_results: read.pending_results.len(),
        due: read.due.iter().map(due_batch).collect::<Result<_, _>>()?,
        overdue: read.overdue.iter().map(overdue_batch).collect(),
        sends,
        pacer,
        token_refresh_at: token.refresh_at().map(UnixMillis),
        deadline,
        costs: COSTS,
    });
    // A row with no source cannot be collected: it is left out (and stays as it is).
    let audiences: Vec<AudienceRow> = read
        .collecting
        .into_iter()
        .filter(|a| collect::collecting(a).is_some())
        .collect();
    let turn = turn.with_collecting(
        audiences.iter().filter_map(collect::collecting).collect(),
        // A run that serves this account alone: finding the accounts, its read, a refresh.
        collect::costs(app, 1 + read_queries + token::REFRESH_QUERIES),
    );
    let rows = Rows {
        due: read.due,
        overdue: read.overdue,
        results: read.pending_results.into_iter().map(Some).collect(),
        collecting: audiences,
    };
    Ok((turn, rows, token))
}

async fn run_turn(
    app: &Ctx,
    due: &DueAccount,
    report: &mut RunReport,
    ceiling: u32,
    deadline: UnixMillis,
) -> Result<(), AppError> {
    let (mut turn, mut rows, mut token) = read_turn(app, due, report, ceiling, deadline).await?;
    loop {
        let now = app.now();
        match turn.poll(UnixMillis(now), left(app, ceiling)) {
            Step::ApplyResult { index } => {
                let pending = rows.results.get_mut(index).and_then(Option::take);
                if let Some(p) = pending {
                    if apply_pending_result(app, p).await? {
                        report.results_applied += 1;
                    }
                }
            }
            Step::RefreshToken => {
                // Core asks when the cached token is due, or WeChat refused the one in hand.
                token.reject();
                token.get(app).await?;
                turn.on_token();
            }
            Step::Send(step) => {
                if send(app, &mut turn, &mut rows.due, step, &mut token, now).await? {
                    report.attempts += 1;
                }
            }
            Step::Check(step) => {
                if check_status(app, &mut turn, &rows.overdue, step, &mut token, now).await? {
                    report.status_checks += 1;
                }
            }
            Step::Defer(d) => {
                let row = row_of(&rows.due, d.batch)?;
                let why = d.explain();
                defer(app, row, &d.progress, Stage::Pending, d.until.0, why, now).await?;
                report.deferred += 1;
            }
            Step::Fail(f) => {
                let row = row_of(&rows.due, f.batch)?;
                let next = row.next_attempt_at;
                defer(app, row, &f.progress, Stage::Failed, next, f.reason, now).await?;
                report.deferred += 1;
            }
            Step::Collect(step) => {
                let audiences = &mut rows.collecting;
                if collect::page(app, &mut turn, audiences, step, &mut token, now).await? {
                    report.pages += 1;
                }
            }
            Step::Seal { audience } => {
                let row = rows.collecting.get(audience).ok_or_else(|| {
                    AppError::Internal(format!("cron: no audience {audience} in the read"))
                })?;
                if collect::seal_collected(app, row).await? {
                    report.sealed += 1;
                }
            }
            Step::Stop(why) => {
                report.stopped = Some(why.as_str());
                return Ok(());
            }
            Step::NothingLeft => return Ok(()),
        }
    }
}

fn row_of(rows: &[BatchRow], index: usize) -> Result<&BatchRow, AppError> {
    rows.get(index)
        .ok_or_else(|| AppError::Internal(format!("cron: no batch {index} in the turn's read")))
}

/// A due row as core's turn reads it.
fn due_batch(row: &BatchRow) -> Result<DueBatch, AppError> {
    let broken = |what: String| AppError::Internal(format!("batch {}: {what}", row.id));
    let progress: BatchProgress = serde_json::from_str(&row.progress_json)
        .map_err(|e| broken(format!("stored progress unreadable: {e}")))?;
    let kind = EndpointName::parse(&row.endpoint)
        .and_then(SendKind::of_endpoint)
        .ok_or_else(|| broken(format!("unknown endpoint {:?}", row.endpoint)))?;
    Ok(DueBatch {
        progress,
        kind,
        to_all: row.to_all != 0,
        extra: if row.audience_id.is_some() {
            CHUNK_QUERIES
        } else {
            Spend::default()
        },
    })
}

/// An overdue row as core's turn reads it.
fn overdue_batch(row: &BatchRow) -> OverdueBatch {
    OverdueBatch {
        msg_id: row.msg_id.as_deref().and_then(|m| m.parse::<MsgId>().ok()),
        submitted_at: row.submitted_at.map(UnixMillis),
        status_checks: u32::try_from(row.status_checks).unwrap_or(u32::MAX),
    }
}

fn to_json(progress: &BatchProgress) -> String {
    // Cannot fail: plain data with string keys.
    serde_json::to_string(progress).unwrap_or_default()
}

/// Moves a batch to `next_at` (or fails it) without calling WeChat, as core decided.
async fn defer(
    app: &Ctx,
    row: &BatchRow,
    progress: &BatchProgress,
    stage: Stage,
    next_at: i64,
    why: Text,
    now: i64,
) -> Result<(), AppError> {
    let mut new = row.clone();
    new.progress_json = to_json(progress);
    new.state = stage.as_str().into();
    new.lease_until = 0;
    new.next_attempt_at = next_at;
    if stage == Stage::Failed {
        set_fail_reason(&mut new, &why);
    }
    set_last_outcome(&mut new, why);
    app.store
        .commit(vec![app.store.update_batch(
            &new,
            row.version,
            now,
            false,
        )?])
        .await?;
    Ok(())
}

/// Claims a batch with core's begun attempt, sends it, and commits core's decision about the
/// outcome with the call's ledger row. Returns whether WeChat was called (another run may have
/// claimed it first).
async fn send(
    app: &Ctx,
    turn: &mut CronTurn,
    rows: &mut [BatchRow],
    step: SendStep,
    token: &mut Token,
    now: i64,
) -> Result<bool, AppError> {
    let tok = token.get(app).await?;
    let index = step.batch;
    let row = row_of(rows, index)?;
    let mut claimed = row.clone();
    claimed.state = Stage::Sending.as_str().into();
    claimed.progress_json = to_json(&step.progress);
    claimed.attempt = i64::from(step.attempt());
    claimed.lease_until = step.lease_until.0;
    let r = app
        .store
        .commit(app.store.claim(&claimed, row.version, now)?)
        .await?;
    let Some((body, chunk)) = store::claimed(&r)? else {
        return Ok(false); // another run changed it first
    };
    claimed.version = row.version + 1;
    let endpoint = step.kind.endpoint();
    let req = match &row.audience_id {
        None => endpoint.request_for_built_body(&app.acct()?.base, body.into_bytes()),
        Some(_) => chunk_request(app, row, chunk)?,
    };
    let made = calls::make(app, endpoint, &req, &tok, now).await?;
    let mut call = made.call;
    call.batch_id = Some(row.id.clone());
    call.to_all = step.to_all;
    let settled = turn.on_send_outcome(step, answer_of(&made.answer), UnixMillis(now), jitter());
    call.succeeded = settled.call_succeeded;
    let new = after_send(claimed.clone(), &settled);
    app.store
        .commit(vec![
            app.store.update_batch(&new, claimed.version, now, false)?,
            app.store.insert_call(&call)?,
        ])
        .await?;
    // Core may send it again in this turn (after a refused token): from the row as committed.
    if let Some(slot) = rows.get_mut(index) {
        *slot = new;
        slot.version = claimed.version + 1;
    }
    Ok(true)
}

/// The row after core settled a send.
fn after_send(mut row: BatchRow, settled: &SendSettled) -> BatchRow {
    row.progress_json = to_json(&settled.progress);
    row.attempt = i64::from(settled.progress.attempts());
    row.lease_until = 0;
    row.state = settled.stage.as_str().into();
    set_last_outcome(&mut row, settled.outcome.clone());
    if let Some(at) = settled.next_at {
        row.next_attempt_at = at.0;
    }
    if let Some(s) = &settled.submitted {
        row.msg_id = Some(s.msg_id.to_string());
        row.msg_data_id = s.msg_data_id.map(|m| m.to_string());
        row.submitted_at = Some(s.at.0);
        row.status_checks = 0;
    }
    if let Some(why) = &settled.fail_reason {
        set_fail_reason(&mut row, why);
    }
    row
}

/// A batch's last outcome, in both languages.
fn set_last_outcome(row: &mut BatchRow, outcome: Text) {
    row.last_outcome = Some(outcome.en);
    row.last_outcome_zh = Some(outcome.zh);
}

/// Why a batch failed, in both languages.
fn set_fail_reason(row: &mut BatchRow, why: &Text) {
    row.fail_reason = Some(why.en.clone());
    row.fail_reason_zh = Some(why.zh.clone());
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

/// Claims an overdue batch until the check's lease, asks mass/get, and commits core's
/// decision with the call's ledger row. Returns whether a call was made.
async fn check_status(
    app: &Ctx,
    turn: &mut CronTurn,
    rows: &[BatchRow],
    step: CheckStep,
    token: &mut Token,
    now: i64,
) -> Result<bool, AppError> {
    let row = row_of(rows, step.batch)?;
    let tok = token.get(app).await?;
    let mut claimed = row.clone();
    claimed.next_attempt_at = step.lease_until.0;
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
    let req = GetStatusRequest {
        msg_id: step.msg_id,
    }
    .build(&app.acct()?.base)
    .map_err(|e| AppError::Internal(format!("mass/get for batch {}: {e}", row.id)))?;
    let made = calls::make(app, EndpointName::GetStatus, &req, &tok, now).await?;
    let settled = turn.on_check_outcome(step, answer_of(&made.answer), UnixMillis(now));
    let mut call = made.call;
    call.batch_id = Some(row.id.clone());
    call.succeeded = settled.call_succeeded;
    app.store
        .commit(vec![
            app.store
                .update_batch(&after_check(claimed, &settled), row.version + 1, now, false)?,
            app.store.insert_call(&call)?,
        ])
        .await?;
    Ok(true)
}

/// The row after core settled a status check.
fn after_check(mut row: BatchRow, settled: &CheckSettled) -> BatchRow {
    row.state = settled.stage.as_str().into();
    row.status_checks = i64::from(settled.status_checks);
    set_last_outcome(&mut row, settled.outcome.clone());
    if let Some(at) = settled.next_at {
        row.next_attempt_at = at.0;
    }
    if let Some(r) = &settled.finished {
        row.result_json = Some(
            json!({ "status": r.status, "source": "mass/get", "note": r.note.en, "noteZh": r.note.zh })
                .to_string(),
        );
    }
    if let Some(why) = &settled.fail_reason {
        set_fail_reason(&mut row, why);
    }
    // Core's outcome of the check, as a push would have stored it (SEND_FAIL is refused).
    if let Some(outcome) = &settled.batch_outcome {
        row.outcome_json = Some(store::outcome_json(outcome));
    }
    row
}

/// Applies a result event that came before its batch's msg_id was recorded. Returns whether the
/// batch took it.
async fn apply_pending_result(app: &Ctx, p: PendingResult) -> Result<bool, AppError> {
    let now = app.now();
    let decision = match parse_message(p.event_xml.as_bytes()) {
        Ok(CallbackMessage::MassSendJobFinish(e)) => apply_result(&p.batch, &e),
        Ok(_) => Err(Refused::ignored(Text::new(
            "not a MASSSENDJOBFINISH",
            "不是 MASSSENDJOBFINISH 推送",
        ))),
        Err(e) => Err(Refused::ignored(Text::new(
            format!("unreadable: {e}"),
            format!("无法读取：{}", e.zh()),
        ))),
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
        Err(refused) => {
            vec![app.store.settle_event(
                &p.event_key,
                refused.state,
                &p.batch.id,
                Some(&refused.reason),
                true,
            )?]
        }
    };
    let r = app.store.commit(stmts).await?;
    Ok(matches!(decision, Ok(Some(_))) && store::changed(&r, 0))
}

fn jitter() -> u32 {
    u32::from_le_bytes(crate::random::bytes::<4>())
}
