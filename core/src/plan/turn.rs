//! One account's cron turn, decided in one place: what the turn read goes in, the next step to
//! perform comes out, and the outcome of each call goes back in.
//!
//! The driver (the worker's cron) reads an account's due batches with their stored progress,
//! its ledger of sends, its pacer's window, its cached token's refresh time, and what its
//! budget has left; it builds a [`CronTurn`] from those plain values and then loops:
//!
//! ```text
//! loop {
//!     match turn.poll(now, left) {
//!         Step::ApplyResult { index }  => apply the stored result event, commit
//!         Step::RefreshToken           => fetch a token; turn.on_token()
//!         Step::Send(step)             => claim (guarded), call WeChat;
//!                                         commit turn.on_send_outcome(step, answer, now, jitter)
//!         Step::Check(step)            => claim (guarded), call mass/get;
//!                                         commit turn.on_check_outcome(step, answer, now)
//!         Step::Defer(d) | Step::Fail(f) => commit the row without a call
//!         Step::Collect(step)          => call step.pager's next request (an audience's page);
//!                                         commit turn.on_collect_outcome(step, answer)
//!         Step::Seal { audience }      => seal the collected audience, commit
//!         Step::Stop(reason)           => the rest waits for the next run
//!         Step::NothingLeft            => done
//!     }
//! }
//! ```
//!
//! Every rule of that loop is here: the order of the work (early result events, then due
//! batches oldest first, then overdue checks, then audiences collecting from WeChat with what
//! is left, see [`super::collect`]), when to stop (the run's time, the budget with a
//! token refresh counted when one is needed, the pacer's 60 calls a minute), the quota window
//! and the dedupe wait that move a batch to a later time without a call, a token refused
//! mid-turn (refreshed, and the batch sent once more), and what each outcome makes of the stored
//! batch ([`Stage`], next time, msg_id, reasons). Costs are the driver's units (the worker's D1
//! queries and subrequests), given as [`StepCosts`]; time and jitter are parameters. It reuses
//! [`BatchProgress`], [`earliest_start`], [`Pacer`] and [`after_status`] and restates none of
//! their rules.
//!
//! [`AccountTurns`] shares a run between accounts so one account's backlog never holds another's
//! single send back.

use std::collections::VecDeque;
use std::fmt;

use super::china_time::UnixMillis;
use super::collect::{self, CollectCosts, CollectStep, Collected, Collecting, Next};
use super::decide::{Action, BatchProgress, BatchState, Outcome};
use super::outcome::{BatchOutcome, Text};
use super::pacer::Pacer;
use super::quota::{earliest_start, AccountKind, QuotaDecision, QuotaNeed, QuotaRule};
use super::quota::{SendKind, SentRecord};
use super::status_check::{after_status, first_status_check_at, StatusCheck};
use crate::endpoint::{parse_any_reply, AnyReply, EndpointName, MsgStatus};
use crate::error_code::{ErrorClass, ReplyError};
use crate::followers::FollowerPager;
use crate::ids::MsgId;
use crate::limits::MAX_CALLS_PER_MINUTE;

/// A claimed batch belongs to its run this long; a run that dies leaves it to the next one
/// after (whose [`BatchProgress::begin_attempt`] treats the lost attempt as a lost reply).
pub const LEASE_MS: i64 = 60_000;

/// Queries and subrequests, in the driver's units: a cost, or what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spend {
    /// Storage queries (the worker: D1 queries, each statement of a batch counting one).
    pub queries: u32,
    /// Outgoing requests (the worker: subrequests).
    pub subrequests: u32,
}

impl Spend {
    /// `queries` queries and `subrequests` subrequests.
    pub const fn new(queries: u32, subrequests: u32) -> Spend {
        Spend {
            queries,
            subrequests,
        }
    }

    /// Both costs together.
    pub fn plus(self, other: Spend) -> Spend {
        Spend {
            queries: self.queries.saturating_add(other.queries),
            subrequests: self.subrequests.saturating_add(other.subrequests),
        }
    }

    /// Whether this cost fits in `left`.
    pub fn fits_in(self, left: Spend) -> bool {
        self.queries <= left.queries && self.subrequests <= left.subrequests
    }
}

/// What each step costs the driver after the turn's read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCosts {
    /// A send: the claim, the call, the commit of the batch and its ledger row.
    pub send: Spend,
    /// A status check: the same shape as a send.
    pub check: Spend,
    /// Applying a result event that came early.
    pub result: Spend,
    /// Fetching a new access_token.
    pub token_refresh: Spend,
}

/// A batch due for an attempt, as the turn read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueBatch {
    /// Its stored progress.
    pub progress: BatchProgress,
    /// The endpoint it calls.
    pub kind: SendKind,
    /// Whether it sends `is_to_all: true`.
    pub to_all: bool,
    /// What its send costs beyond [`StepCosts::send`] (the worker: a batch of a sealed audience
    /// reads its chunk with the claim, one query more).
    pub extra: Spend,
}

/// A submitted batch whose result event is overdue, as the turn read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverdueBatch {
    /// Its msg_id (`None`: the stored one is unreadable, and the batch is left alone).
    pub msg_id: Option<MsgId>,
    /// When WeChat accepted it (`None`: unknown, counted from the check).
    pub submitted_at: Option<UnixMillis>,
    /// mass/get checks made before.
    pub status_checks: u32,
}

/// Everything a turn decides from: what the driver read, and its limits.
#[derive(Debug, Clone)]
pub struct TurnRead {
    /// The account, which decides its quotas.
    pub account: AccountKind,
    /// Result events that came before their batch's msg_id was recorded (applied first, by
    /// index into the driver's list).
    pub pending_results: usize,
    /// Batches due for an attempt, oldest due first. A step names one by its index here.
    pub due: Vec<DueBatch>,
    /// Submitted batches whose status check is due. A step names one by its index here.
    pub overdue: Vec<OverdueBatch>,
    /// The account's sends of the quota window (a China month and a bit).
    pub sends: Vec<SentRecord>,
    /// The account's latest calls to any mass endpoint.
    pub pacer: Pacer,
    /// When the cached access_token is due for a refresh (`None`: no token cached).
    pub token_refresh_at: Option<UnixMillis>,
    /// The turn starts no step at or after this time (a short run keeps a restart cheap).
    pub deadline: UnixMillis,
    /// What each step costs.
    pub costs: StepCosts,
}

/// What the stored batch waits for: the state a driver keeps beside its [`BatchProgress`] to
/// find due work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waits for an attempt at its next time.
    Pending,
    /// Claimed by a run for an attempt, until its lease ends.
    Sending,
    /// WeChat has it; waits for its result event, or a status check at its next time.
    Submitted,
    /// Its result is known.
    Finished,
    /// It failed.
    Failed,
}

impl Stage {
    /// `pending`, `sending`, `submitted`, `finished` or `failed`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pending => "pending",
            Stage::Sending => "sending",
            Stage::Submitted => "submitted",
            Stage::Finished => "finished",
            Stage::Failed => "failed",
        }
    }
}

/// Why a turn (or a run) stops before the end of what was due. The rest waits for the next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The run's time is up.
    RunTime,
    /// The next step's queries or subrequests (a token refresh counted if it needs one) do not
    /// fit in what the budget has left.
    Budget,
    /// The pacer's rolling minute is full: the account's next call must wait.
    Pacer,
    /// More accounts are due than one run's budget serves; the next runs serve the rest first.
    AccountsOverBudget,
}

impl StopReason {
    /// The reason for the run's report and log.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::RunTime => "run time (本次运行时间已到)",
            StopReason::Budget => {
                "query or subrequest budget of the invocation (本次调用的查询或子请求额度已用完)"
            }
            StopReason::Pacer => "60 mass calls a minute (每分钟最多 60 次群发接口调用)",
            StopReason::AccountsOverBudget => {
                "query budget (more accounts due than one run serves; 到期账号多于一次运行所能服务)"
            }
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a batch moves to a later time without a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferReason {
    /// The account's quota window is used up; the rule that holds it back.
    QuotaWindow(QuotaRule),
    /// The batch's progress sets a later attempt: after an attempt whose outcome is unknown (a
    /// run died with the lease), WeChat must be given a minute so the same clientmsgid is
    /// answered 45065 with its msg_id, not 45066.
    AttemptNotYet {
        /// Whether an earlier attempt may have reached WeChat.
        maybe_delivered: bool,
    },
}

/// A batch moved to a later time without a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferral {
    /// The batch (index into [`TurnRead::due`]).
    pub batch: usize,
    /// Its next time.
    pub until: UnixMillis,
    /// Its progress to store (an attempt whose outcome never came is marked as maybe delivered).
    pub progress: BatchProgress,
    /// Why.
    pub reason: DeferReason,
}

impl Deferral {
    /// The reason for a person, in English and Chinese, with the time in China time.
    pub fn explain(&self) -> Text {
        let at = self.until.china_display();
        match self.reason {
            DeferReason::QuotaWindow(rule) => Text::new(
                format!("waiting for the account's quota window (from {at} China time): {rule} (等待群发额度恢复)"),
                format!("等待群发额度恢复（北京时间 {at} 起）：{}", rule.zh()),
            ),
            DeferReason::AttemptNotYet {
                maybe_delivered: true,
            } => Text::new(
                format!("waiting until {at} China time: an earlier attempt may have reached WeChat, and the same clientmsgid sent again within a minute is answered 45066 instead of with its msg_id (上次尝试结果未知,一分钟后以同一 clientmsgid 重试)"),
                format!("等待至北京时间 {at}：上次尝试可能已到达微信，一分钟内以同一 clientmsgid 重发会得到 45066 而不是其 msg_id，故一分钟后再以同一 clientmsgid 重试"),
            ),
            DeferReason::AttemptNotYet {
                maybe_delivered: false,
            } => Text::new(
                format!("the next attempt may start at {at} China time (下次尝试时间未到)"),
                format!("下次尝试时间未到：最早北京时间 {at}"),
            ),
        }
    }
}

/// A batch that fails without a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The batch (index into [`TurnRead::due`]).
    pub batch: usize,
    /// Its progress to store.
    pub progress: BatchProgress,
    /// Why, for a person.
    pub reason: Text,
}

/// A send to make: claim the batch with this progress and lease, call, and hand the answer to
/// [`CronTurn::on_send_outcome`]. If the claim finds the batch changed by another run, drop the
/// step and poll again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendStep {
    /// The batch (index into [`TurnRead::due`]).
    pub batch: usize,
    /// Its progress with the attempt begun: store it with the claim, before the call.
    pub progress: BatchProgress,
    /// The endpoint.
    pub kind: SendKind,
    /// Whether it sends `is_to_all: true`.
    pub to_all: bool,
    /// The claim's end.
    pub lease_until: UnixMillis,
    extra: Spend,
    /// Already sent once more in this turn after a refused token.
    token_retried: bool,
}

impl SendStep {
    /// The attempt's number, from 1.
    pub fn attempt(&self) -> u32 {
        self.progress.attempts()
    }
}

/// A mass/get check to make: claim the batch until `lease_until`, call, and hand the answer to
/// [`CronTurn::on_check_outcome`]. If the claim finds the batch changed, drop the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckStep {
    /// The batch (index into [`TurnRead::overdue`]).
    pub batch: usize,
    /// The send to ask about.
    pub msg_id: MsgId,
    /// The claim: the batch's next check time until this check is committed.
    pub lease_until: UnixMillis,
    submitted_at: Option<UnixMillis>,
    status_checks: u32,
}

/// The next step of a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Apply stored result event `index` (of [`TurnRead::pending_results`]).
    ApplyResult {
        /// Its index.
        index: usize,
    },
    /// Fetch a new access_token, then [`CronTurn::on_token`].
    RefreshToken,
    /// Claim a batch and send it.
    Send(SendStep),
    /// Claim an overdue batch and ask mass/get about it.
    Check(CheckStep),
    /// Move a batch to a later time without a call.
    Defer(Deferral),
    /// Fail a batch without a call.
    Fail(Failure),
    /// Ask WeChat for the next page of a collecting audience (see [`super::collect`]).
    Collect(CollectStep),
    /// A collecting audience's list is done: seal it (index into the driver's list).
    Seal {
        /// The audience.
        audience: usize,
    },
    /// Stop the turn; every later poll says the same.
    Stop(StopReason),
    /// Nothing is left to do.
    NothingLeft,
}

/// What a call produced, as the transport saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAnswer<'a> {
    /// An HTTP response.
    Http {
        /// Its status.
        status: u16,
        /// Its body.
        body: &'a [u8],
    },
    /// No response: a timeout or a dropped connection (the request may have reached WeChat).
    NoAnswer(&'a str),
}

/// What WeChat accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submission {
    /// The send's msg_id.
    pub msg_id: MsgId,
    /// Its msg_data_id, when WeChat gave one (articles).
    pub msg_data_id: Option<MsgId>,
    /// When the call was made.
    pub at: UnixMillis,
}

/// The batch after a send's outcome: write it with the call's ledger row, in one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSettled {
    /// Core's decision.
    pub action: Action,
    /// The progress to store.
    pub progress: BatchProgress,
    /// The stage to store.
    pub stage: Stage,
    /// The batch's next time (`None`: keep it).
    pub next_at: Option<UnixMillis>,
    /// Set when WeChat has the send (its status checks start again from 0).
    pub submitted: Option<Submission>,
    /// Set when the batch failed: why, for a person.
    pub fail_reason: Option<Text>,
    /// The call's outcome, for a person.
    pub outcome: Text,
    /// Whether the ledger row records a success (what quotas count).
    pub call_succeeded: bool,
}

/// What a mass/get check learned of a finished send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedResult {
    /// The status mass/get gave (`SEND_SUCCESS`, `DELETE`).
    pub status: String,
    /// Where the outcome came from and what is unknown, for a person.
    pub note: Text,
}

/// The batch after a check's outcome: write it with the call's ledger row, in one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSettled {
    /// The stage to store (`Submitted` while the send goes on).
    pub stage: Stage,
    /// The next check (`None`: keep the claim's time).
    pub next_at: Option<UnixMillis>,
    /// Set when the check found the send finished.
    pub finished: Option<CheckedResult>,
    /// Set when the batch failed: why, for a person.
    pub fail_reason: Option<Text>,
    /// How the batch ended, when it did: the outcome rule a MASSSENDJOBFINISH push is read
    /// with, so `SEND_FAIL` here is refused as `send fail` there is; a check that gave up
    /// is refused with its reason.
    pub batch_outcome: Option<BatchOutcome>,
    /// What the check said, for a person.
    pub outcome: Text,
    /// Checks made, this one included.
    pub status_checks: u32,
    /// Whether mass/get answered (the ledger row's success).
    pub call_succeeded: bool,
}

/// The access_token as the turn knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// The cached one, good until its refresh time.
    Cached(UnixMillis),
    /// One the driver holds for the rest of the turn (taken for a call, or just fetched).
    InHand,
    /// None, or WeChat refused the one held.
    Stale,
}

/// A due batch in the turn's queue.
#[derive(Debug, Clone)]
struct Queued {
    batch: usize,
    due: DueBatch,
    token_retried: bool,
}

/// What core makes of a due batch at an instant, before any IO.
enum Judged {
    Go(BatchProgress),
    Defer {
        until: UnixMillis,
        progress: BatchProgress,
        reason: DeferReason,
    },
    Fail {
        progress: BatchProgress,
        reason: Text,
    },
}

/// One account's cron turn. See the module doc for the loop that drives it.
#[derive(Debug, Clone)]
pub struct CronTurn {
    account: AccountKind,
    costs: StepCosts,
    deadline: UnixMillis,
    sends: Vec<SentRecord>,
    pacer: Pacer,
    token: Token,
    results: usize,
    next_result: usize,
    due: VecDeque<Queued>,
    overdue: VecDeque<(usize, OverdueBatch)>,
    /// Audiences collecting from WeChat, after everything else: (index, state, whether the
    /// front page was already asked again after a refused token).
    collecting: VecDeque<(usize, Collecting, bool)>,
    collect_costs: Option<CollectCosts>,
    stopped: Option<StopReason>,
}

impl CronTurn {
    /// A turn over what the driver read.
    pub fn new(read: TurnRead) -> CronTurn {
        CronTurn {
            account: read.account,
            costs: read.costs,
            deadline: read.deadline,
            sends: read.sends,
            pacer: read.pacer,
            token: read.token_refresh_at.map_or(Token::Stale, Token::Cached),
            results: read.pending_results,
            next_result: 0,
            due: read
                .due
                .into_iter()
                .enumerate()
                .map(|(batch, due)| Queued {
                    batch,
                    due,
                    token_retried: false,
                })
                .collect(),
            overdue: read.overdue.into_iter().enumerate().collect(),
            collecting: VecDeque::new(),
            collect_costs: None,
            stopped: None,
        }
    }

    /// The turn also collects `audiences` from WeChat (see [`super::collect`]), at `costs`,
    /// with what is left once the due batches and overdue checks are done: a page at a time,
    /// one audience after the other, each sealed once its list is done.
    pub fn with_collecting(mut self, audiences: Vec<Collecting>, costs: CollectCosts) -> Self {
        self.collecting = audiences
            .into_iter()
            .enumerate()
            .map(|(i, c)| (i, c, false))
            .collect();
        self.collect_costs = Some(costs);
        self
    }

    /// The next step at `now`, with `left` what the budget has left.
    pub fn poll(&mut self, now: UnixMillis, left: Spend) -> Step {
        if let Some(reason) = self.stopped {
            return Step::Stop(reason);
        }
        if self.next_result < self.results {
            // Applying an event makes no call: only its queries count.
            if !self.costs.result.fits_in(left) {
                return self.stop(StopReason::Budget);
            }
            let index = self.next_result;
            self.next_result += 1;
            return Step::ApplyResult { index };
        }
        if let Some(front) = self.due.front() {
            let cost = self.costs.send.plus(front.due.extra);
            if let Some(reason) = self.must_stop(now, left, cost, true) {
                return self.stop(reason);
            }
            return self.next_due(now);
        }
        // A batch whose stored msg_id is unreadable cannot be asked about.
        while self
            .overdue
            .front()
            .is_some_and(|(_, o)| o.msg_id.is_none())
        {
            self.overdue.pop_front();
        }
        if !self.overdue.is_empty() {
            if let Some(reason) = self.must_stop(now, left, self.costs.check, true) {
                return self.stop(reason);
            }
            if !self.token_fresh(now) {
                return Step::RefreshToken;
            }
            if let Some((batch, o)) = self.overdue.pop_front() {
                if let Some(msg_id) = o.msg_id {
                    self.token = Token::InHand;
                    return Step::Check(CheckStep {
                        batch,
                        msg_id,
                        lease_until: now.plus_millis(LEASE_MS),
                        submitted_at: o.submitted_at,
                        status_checks: o.status_checks,
                    });
                }
            }
        }
        self.next_collecting(now, left)
    }

    /// The front collecting audience: its seal once its list is done, else its next page.
    /// These are not mass calls: the pacer's minute does not hold them back.
    fn next_collecting(&mut self, now: UnixMillis, left: Spend) -> Step {
        let (Some(costs), Some((_, front, _))) = (self.collect_costs, self.collecting.front())
        else {
            return Step::NothingLeft;
        };
        if front.listed {
            let cost = costs.seal(front.pages, front.collected);
            if now >= self.deadline {
                return self.stop(StopReason::RunTime);
            }
            if !cost.fits_in(left) {
                return self.stop(StopReason::Budget);
            }
            let Some((audience, _, _)) = self.collecting.pop_front() else {
                return Step::NothingLeft;
            };
            return Step::Seal { audience };
        }
        if let Some(reason) = self.must_stop(now, left, costs.page, false) {
            return self.stop(reason);
        }
        if !self.token_fresh(now) {
            return Step::RefreshToken;
        }
        let Some((audience, before, token_retried)) = self.collecting.pop_front() else {
            return Step::NothingLeft;
        };
        self.token = Token::InHand;
        Step::Collect(CollectStep {
            audience,
            pager: FollowerPager::resume(before.source, before.cursor.clone()),
            before,
            token_retried,
        })
    }

    /// The driver's commit of a page did not match (another run moved the audience on): the
    /// turn leaves the audience to that run.
    pub fn leave_collecting(&mut self, audience: usize) {
        self.collecting.retain(|(i, _, _)| *i != audience);
    }

    /// Settles a page of a collecting audience with what its call produced. A page taken keeps
    /// the audience at the front (its next page, or its seal, comes next); a refused token is
    /// dropped and the page asked once more after a refresh; anything else leaves the audience
    /// for the next run, or ends it.
    pub fn on_collect_outcome(&mut self, step: CollectStep, answer: CallAnswer<'_>) -> Collected {
        let audience = step.audience;
        let (status, body) = match answer {
            CallAnswer::Http { status, body } => (Some(status), body),
            CallAnswer::NoAnswer(_) => (None, &b""[..]),
        };
        let (collected, next) = collect::settle(step, status, body);
        // A page that grows the list past what one run can seal ends it now, not forever on.
        let too_large = match (&collected, self.collect_costs) {
            (
                Collected::Page {
                    pages, collected, ..
                },
                Some(costs),
            ) => costs.too_large(*pages, *collected),
            _ => None,
        };
        if let Some((reason, reason_zh)) = too_large {
            return Collected::Failed { reason, reason_zh };
        }
        match next {
            Next::Continue(after, retried) => {
                self.collecting.push_front((audience, after, retried));
            }
            Next::RefreshThen(again) => {
                self.token = Token::Stale;
                if let Some(before) = again {
                    self.collecting.push_front((audience, before, true));
                }
            }
            Next::Leave => {}
        }
        collected
    }

    /// The driver holds a fresh access_token (after [`Step::RefreshToken`]).
    pub fn on_token(&mut self) {
        self.token = Token::InHand;
    }

    /// Settles a send with what its call produced at `now` (the time the step was polled at),
    /// `jitter` any random value (it spreads retries). A refused token is dropped, and the batch
    /// is sent once more in this turn after a refresh.
    pub fn on_send_outcome(
        &mut self,
        step: SendStep,
        answer: CallAnswer<'_>,
        now: UnixMillis,
        jitter: u32,
    ) -> SendSettled {
        let outcome = match answer {
            CallAnswer::Http { status, body } => Outcome::from_http(status, body),
            CallAnswer::NoAnswer(_) => Outcome::ReplyLost,
        };
        let mut progress = step.progress;
        let action = progress.settle(&outcome, now, jitter);
        let call_succeeded = matches!(action, Action::Done { .. });
        self.pacer.record(now);
        if call_succeeded {
            // Only a send WeChat accepted uses the account's quota.
            self.sends.push(SentRecord {
                at: now,
                kind: step.kind,
                to_all: step.to_all,
                succeeded: true,
            });
        }
        let mut settled = SendSettled {
            action: action.clone(),
            progress: progress.clone(),
            stage: Stage::Pending,
            next_at: None,
            submitted: None,
            fail_reason: None,
            outcome: describe(&outcome),
            call_succeeded,
        };
        match action {
            Action::Done { msg_id } => {
                settled.stage = Stage::Submitted;
                settled.submitted = Some(Submission {
                    msg_id,
                    msg_data_id: match &outcome {
                        Outcome::Accepted(reply) => reply.msg_data_id,
                        _ => None,
                    },
                    at: now,
                });
                settled.next_at = Some(first_status_check_at(now));
            }
            Action::RetryAt { at } | Action::WaitUntil { until: at } => {
                settled.next_at = Some(at);
            }
            Action::RefreshTokenThenRetry => {
                settled.next_at = Some(now);
                self.token = Token::Stale;
                if !step.token_retried {
                    self.due.push_front(Queued {
                        batch: step.batch,
                        due: DueBatch {
                            progress,
                            kind: step.kind,
                            to_all: step.to_all,
                            extra: step.extra,
                        },
                        token_retried: true,
                    });
                }
            }
            Action::Fail {
                reason,
                maybe_delivered,
            } => {
                settled.stage = Stage::Failed;
                settled.fail_reason = Some(reason.explain_text(maybe_delivered));
            }
        }
        settled
    }

    /// Settles a status check with what mass/get produced at `now`. A refused token is dropped
    /// (the next call refreshes it) and the batch is asked about again later.
    pub fn on_check_outcome(
        &mut self,
        step: CheckStep,
        answer: CallAnswer<'_>,
        now: UnixMillis,
    ) -> CheckSettled {
        self.pacer.record(now);
        let heard = read_status(answer);
        if heard.token_refused {
            self.token = Token::Stale;
        }
        let mut settled = CheckSettled {
            stage: Stage::Submitted,
            next_at: None,
            finished: None,
            fail_reason: None,
            batch_outcome: None,
            outcome: heard.described,
            status_checks: step.status_checks.saturating_add(1),
            call_succeeded: heard.status.is_some(),
        };
        let submitted_at = step.submitted_at.unwrap_or(now);
        match after_status(heard.status.as_ref(), submitted_at, step.status_checks, now) {
            StatusCheck::Finished { status, note } => {
                settled.stage = Stage::Finished;
                settled.outcome = note.clone();
                settled.finished = Some(CheckedResult { status, note });
                settled.batch_outcome = heard.status.as_ref().and_then(BatchOutcome::of_status);
            }
            StatusCheck::Failed { reason } => {
                settled.stage = Stage::Failed;
                settled.batch_outcome = Some(
                    heard
                        .status
                        .as_ref()
                        .and_then(BatchOutcome::of_status)
                        .unwrap_or_else(|| BatchOutcome::of_failure_said(&reason)),
                );
                settled.fail_reason = Some(reason);
            }
            StatusCheck::CheckAgainAt { at } => settled.next_at = Some(at),
        }
        settled
    }

    fn stop(&mut self, reason: StopReason) -> Step {
        self.stopped = Some(reason);
        Step::Stop(reason)
    }

    fn token_fresh(&self, now: UnixMillis) -> bool {
        match self.token {
            Token::InHand => true,
            Token::Cached(refresh_at) => refresh_at > now,
            Token::Stale => false,
        }
    }

    /// Why no further step that calls WeChat may start, if none may: the run's time, the
    /// budget (a token refresh counted when the step needs one), the pacer.
    fn must_stop(
        &self,
        now: UnixMillis,
        left: Spend,
        cost: Spend,
        paced: bool,
    ) -> Option<StopReason> {
        let cost = if self.token_fresh(now) {
            cost
        } else {
            cost.plus(self.costs.token_refresh)
        };
        if now >= self.deadline {
            Some(StopReason::RunTime)
        } else if !cost.fits_in(left) {
            Some(StopReason::Budget)
        } else if paced && !self.pacer.may_call(now) {
            Some(StopReason::Pacer)
        } else {
            None
        }
    }

    /// The front due batch: deferred, failed, or sent (after a token refresh if it needs one).
    fn next_due(&mut self, now: UnixMillis) -> Step {
        let Some(front) = self.due.front() else {
            return Step::NothingLeft;
        };
        match judge(self.account, &self.sends, &front.due, now) {
            Judged::Go(progress) => {
                // Deciding first spares a refresh for a batch that waits; the batch stays at the
                // front and is judged again at the next poll, with the fresh token.
                if !self.token_fresh(now) {
                    return Step::RefreshToken;
                }
                let Some(q) = self.due.pop_front() else {
                    return Step::NothingLeft;
                };
                self.token = Token::InHand;
                Step::Send(SendStep {
                    batch: q.batch,
                    progress,
                    kind: q.due.kind,
                    to_all: q.due.to_all,
                    lease_until: now.plus_millis(LEASE_MS),
                    extra: q.due.extra,
                    token_retried: q.token_retried,
                })
            }
            Judged::Defer {
                until,
                progress,
                reason,
            } => {
                let batch = front.batch;
                self.due.pop_front();
                Step::Defer(Deferral {
                    batch,
                    until,
                    progress,
                    reason,
                })
            }
            Judged::Fail { progress, reason } => {
                let batch = front.batch;
                self.due.pop_front();
                Step::Fail(Failure {
                    batch,
                    progress,
                    reason,
                })
            }
        }
    }
}

/// Whether a due batch may be sent at `now`: the account's quota first, then its progress
/// (which may set a later time, or have used every attempt).
fn judge(account: AccountKind, sends: &[SentRecord], due: &DueBatch, now: UnixMillis) -> Judged {
    let need = QuotaNeed {
        sendall_calls: usize::from(due.kind == SendKind::SendAll),
        send_calls: usize::from(due.kind == SendKind::SendToUsers),
        to_all: due.to_all,
    };
    let mut progress = due.progress.clone();
    match earliest_start(account, sends, &need, now) {
        QuotaDecision::Now => {}
        QuotaDecision::NotBefore { at, rule } => {
            return Judged::Defer {
                until: at,
                progress,
                reason: DeferReason::QuotaWindow(rule),
            }
        }
        QuotaDecision::Never { reason, reason_zh } => {
            return Judged::Fail {
                progress,
                reason: Text::new(reason, reason_zh),
            }
        }
    }
    match progress.begin_attempt(now) {
        Ok(_) => Judged::Go(progress),
        Err(e) => match progress.not_before() {
            Some(until) => Judged::Defer {
                until,
                reason: DeferReason::AttemptNotYet {
                    maybe_delivered: progress.maybe_delivered(),
                },
                progress,
            },
            None => {
                // Out of attempts: the progress says why, and whether the send may exist.
                let reason = match progress.state() {
                    BatchState::Failed {
                        reason,
                        maybe_delivered,
                    } => reason.explain_text(*maybe_delivered),
                    _ => e.text(),
                };
                Judged::Fail { progress, reason }
            }
        },
    }
}

/// The outcome of a send, for a person.
fn describe(outcome: &Outcome) -> Text {
    match outcome {
        Outcome::Accepted(r) => Text::new(
            format!("accepted: msg_id {}", r.msg_id),
            format!("微信已受理：msg_id {}", r.msg_id),
        ),
        Outcome::ReplyLost => Text::new(
            "no reply (lost or unreadable)",
            "没有收到应答（丢失或无法读取）",
        ),
        Outcome::HttpStatus(s) => Text::new(format!("HTTP {s}"), format!("HTTP 状态 {s}")),
        Outcome::Api(e) => Text::new(e.to_string(), e.zh()),
    }
}

/// What a mass/get answer said.
struct Heard {
    status: Option<MsgStatus>,
    described: Text,
    token_refused: bool,
}

fn read_status(answer: CallAnswer<'_>) -> Heard {
    let heard = |status, described| Heard {
        status,
        described,
        token_refused: false,
    };
    match answer {
        CallAnswer::NoAnswer(why) => heard(
            None,
            Text::new(
                format!("mass/get: no answer ({why})"),
                format!("mass/get：没有应答（{why}）"),
            ),
        ),
        CallAnswer::Http { status, .. } if status != 200 => heard(
            None,
            Text::new(
                format!("mass/get: HTTP {status}"),
                format!("mass/get：HTTP 状态 {status}"),
            ),
        ),
        CallAnswer::Http { body, .. } => match parse_any_reply(EndpointName::GetStatus, body) {
            Ok(AnyReply::GetStatus(r)) => {
                let status = r.msg_status.as_str();
                let described = Text::new(
                    format!("mass/get: {status}"),
                    format!("mass/get：群发状态 {status}"),
                );
                heard(Some(r.msg_status), described)
            }
            Ok(_) => heard(
                None,
                Text::new(
                    "mass/get: an answer of another endpoint",
                    "mass/get：收到的是其他接口的应答",
                ),
            ),
            Err(ReplyError::Api(e)) => Heard {
                token_refused: e.class() == ErrorClass::RefreshToken,
                described: Text::new(format!("mass/get: {e}"), format!("mass/get：{}", e.zh())),
                status: None,
            },
            Err(e) => heard(
                None,
                Text::new(
                    format!("mass/get: unreadable answer: {e}"),
                    format!("mass/get：无法读取的应答：{e}"),
                ),
            ),
        },
    }
}

/// How a run shares its query budget between the accounts with due work.
///
/// Each account's turn gets an equal share of what is left, and what one does not use goes to
/// those after it, so one account's backlog never holds another's single send back. When more
/// accounts are due than the budget serves at `min_turn` queries each, each minute's run starts
/// where the previous minute's could stop, so each is served within
/// ceil(accounts / [`AccountTurns::per_run`]) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountTurns {
    max_queries: u32,
    min_turn: u32,
}

impl AccountTurns {
    /// A run of `max_queries` queries whose turns each need at least `min_turn` to make any
    /// progress (the worker: the account's row, its read, a token refresh, one step).
    pub fn new(max_queries: u32, min_turn: u32) -> AccountTurns {
        AccountTurns {
            max_queries,
            min_turn: min_turn.max(1),
        }
    }

    /// Turns one run holds at least.
    pub fn per_run(&self) -> u32 {
        (self.max_queries / self.min_turn).max(1)
    }

    /// The position in the list of `accounts` due accounts where the run at `now` starts.
    pub fn first(&self, accounts: usize, now: UnixMillis) -> usize {
        if accounts == 0 {
            return 0;
        }
        let minute = u64::try_from(now.0.div_euclid(60_000)).unwrap_or(0);
        let first = minute.wrapping_mul(u64::from(self.per_run())) % accounts as u64;
        usize::try_from(first).unwrap_or(0)
    }

    /// The query count up to which the next account may spend, with `spent` spent so far and
    /// `still_to_go` accounts (this one included) waiting; a stop when no turn fits.
    pub fn ceiling(&self, spent: u32, still_to_go: usize) -> Result<u32, StopReason> {
        let left = self.max_queries.saturating_sub(spent);
        if left < self.min_turn {
            return Err(StopReason::AccountsOverBudget);
        }
        let still_to_go = u32::try_from(still_to_go).unwrap_or(u32::MAX).max(1);
        Ok(spent.saturating_add((left / still_to_go).max(self.min_turn)))
    }
}

/// Due batches a turn reads at most: what `share_left` queries pay for after `before_steps`
/// (the read and a token refresh) at `step` each, at least 1, and no more than the pacer lets
/// one minute's run send.
pub fn due_limit(share_left: u32, before_steps: u32, step: u32) -> u32 {
    let affordable = share_left.saturating_sub(before_steps) / step.max(1);
    affordable.clamp(1, MAX_CALLS_PER_MINUTE)
}

/// Whether a read that found `read` due batches under `limit` may have left more behind, and
/// what held it back.
pub fn read_held_back(read: usize, limit: u32) -> Option<StopReason> {
    if read < limit as usize {
        None
    } else if limit < MAX_CALLS_PER_MINUTE {
        Some(StopReason::Budget)
    } else {
        Some(StopReason::Pacer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_code::ApiError;
    use crate::limits::{BATCH_ATTEMPTS_MAX, RESULT_EVENT_WAIT_MS};

    const T0: UnixMillis = UnixMillis(1_718_000_000_000); // 2024-06-10 14:13:20 China time
    const COSTS: StepCosts = StepCosts {
        send: Spend::new(3, 1),
        check: Spend::new(3, 1),
        result: Spend::new(2, 0),
        token_refresh: Spend::new(2, 1),
    };
    const PLENTY: Spend = Spend::new(1_000, 1_000);
    const ACCEPTED: &[u8] =
        br#"{"errcode":0,"errmsg":"send job submission success","msg_id":1000000001,"msg_data_id":2247483647}"#;

    fn due(kind: SendKind) -> DueBatch {
        DueBatch {
            progress: BatchProgress::new(),
            kind,
            to_all: false,
            extra: Spend::default(),
        }
    }

    fn read(account: AccountKind, due: Vec<DueBatch>) -> TurnRead {
        TurnRead {
            account,
            pending_results: 0,
            due,
            overdue: Vec::new(),
            sends: Vec::new(),
            pacer: Pacer::new(),
            token_refresh_at: Some(T0.plus_millis(3_600_000)),
            // Far enough for the tests that move the clock; one test sets its own.
            deadline: T0.plus_millis(86_400_000),
            costs: COSTS,
        }
    }

    fn turn(due: Vec<DueBatch>) -> CronTurn {
        CronTurn::new(read(AccountKind::Service, due))
    }

    fn http(body: &[u8]) -> CallAnswer<'_> {
        CallAnswer::Http { status: 200, body }
    }

    fn send_step(step: Step) -> SendStep {
        match step {
            Step::Send(s) => s,
            other => panic!("expected a send, got {other:?}"),
        }
    }

    fn sends_today(n: usize) -> Vec<SentRecord> {
        (0..n)
            .map(|i| SentRecord {
                at: T0.plus_millis(-(i as i64) * 1_000 - 70_000),
                kind: SendKind::SendToUsers,
                to_all: false,
                succeeded: true,
            })
            .collect()
    }

    #[test]
    fn applies_early_result_events_first_while_the_budget_lasts() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        r.pending_results = 2;
        let mut t = CronTurn::new(r);
        assert_eq!(t.poll(T0, PLENTY), Step::ApplyResult { index: 0 });
        // An event's two queries no longer fit: the turn stops, and stays stopped.
        assert_eq!(
            t.poll(T0, Spend::new(1, 50)),
            Step::Stop(StopReason::Budget)
        );
        assert_eq!(t.poll(T0, PLENTY), Step::Stop(StopReason::Budget));
    }

    #[test]
    fn sends_a_due_batch_with_its_attempt_begun_and_a_lease() {
        let mut t = turn(vec![due(SendKind::SendToUsers)]);
        let s = send_step(t.poll(T0, PLENTY));
        assert_eq!(
            (s.batch, s.attempt(), s.kind),
            (0, 1, SendKind::SendToUsers)
        );
        assert_eq!(s.lease_until, T0.plus_millis(LEASE_MS));
        assert!(matches!(
            s.progress.state(),
            BatchState::Sending { attempt: 1 }
        ));
        assert_eq!(t.poll(T0, PLENTY), Step::NothingLeft);
    }

    #[test]
    fn an_accepted_send_is_submitted_and_checked_on_after_the_event_wait() {
        let mut t = turn(vec![due(SendKind::SendToUsers)]);
        let s = send_step(t.poll(T0, PLENTY));
        let settled = t.on_send_outcome(s, http(ACCEPTED), T0, 0);
        assert_eq!(settled.stage, Stage::Submitted);
        assert_eq!(
            settled.submitted,
            Some(Submission {
                msg_id: MsgId(1_000_000_001),
                msg_data_id: Some(MsgId(2_247_483_647)),
                at: T0
            })
        );
        assert_eq!(settled.next_at, Some(T0.plus_millis(RESULT_EVENT_WAIT_MS)));
        assert!(settled.call_succeeded);
        assert_eq!(settled.outcome.en, "accepted: msg_id 1000000001");
        assert_eq!(settled.outcome.zh, "微信已受理：msg_id 1000000001");
        assert_eq!(settled.fail_reason, None);
    }

    #[test]
    fn refreshes_a_stale_token_before_a_call_and_counts_it_in_the_budget() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        r.token_refresh_at = Some(T0); // due for a refresh now
        let mut t = CronTurn::new(r);
        // A send (3 queries, 1 subrequest) and a refresh (2, 1): 4 queries are not enough.
        assert_eq!(
            t.clone().poll(T0, Spend::new(4, 50)),
            Step::Stop(StopReason::Budget)
        );
        assert_eq!(t.poll(T0, Spend::new(5, 2)), Step::RefreshToken);
        // Asked again before the refresh came back: still the refresh.
        assert_eq!(t.poll(T0, Spend::new(5, 2)), Step::RefreshToken);
        t.on_token();
        assert_eq!(send_step(t.poll(T0, Spend::new(3, 1))).attempt(), 1);
    }

    #[test]
    fn a_batch_that_waits_needs_no_token_refresh() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        r.token_refresh_at = None;
        r.sends = sends_today(100);
        let mut t = CronTurn::new(r);
        assert!(matches!(t.poll(T0, PLENTY), Step::Defer(_)));
    }

    #[test]
    fn defers_to_the_next_china_day_when_the_day_quota_is_used() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        r.sends = sends_today(100);
        let mut t = CronTurn::new(r);
        let Step::Defer(d) = t.poll(T0, PLENTY) else {
            panic!("expected a deferral")
        };
        assert_eq!(d.batch, 0);
        assert_eq!(d.until, T0.next_china_day());
        assert_eq!(
            d.reason,
            DeferReason::QuotaWindow(QuotaRule::ServiceSendsPerDay)
        );
        assert_eq!(d.progress, BatchProgress::new());
        let text = d.explain();
        assert!(
            text.en.contains("quota window (from 2024-06-11 00:00"),
            "{}",
            text.en
        );
        assert!(text.en.contains("100 API mass sends a day"), "{}", text.en);
        assert!(
            text.zh
                .contains("等待群发额度恢复（北京时间 2024-06-11 00:00"),
            "{}",
            text.zh
        );
        assert!(text.zh.contains("服务号每天"), "{}", text.zh);
        assert_eq!(t.poll(T0, PLENTY), Step::NothingLeft);
    }

    #[test]
    fn a_send_made_in_the_turn_counts_against_the_quota_of_the_next() {
        let mut t = CronTurn::new(read(
            AccountKind::Subscription,
            vec![due(SendKind::SendAll), due(SendKind::SendAll)],
        ));
        let s = send_step(t.poll(T0, PLENTY));
        t.on_send_outcome(s, http(ACCEPTED), T0, 0);
        let Step::Defer(d) = t.poll(T0.plus_millis(1_000), PLENTY) else {
            panic!("expected a deferral")
        };
        assert_eq!(
            (d.batch, d.reason),
            (
                1,
                DeferReason::QuotaWindow(QuotaRule::SubscriptionSendAllPerDay)
            )
        );
    }

    #[test]
    fn fails_an_openid_list_on_a_subscription_account() {
        let mut t = CronTurn::new(read(
            AccountKind::Subscription,
            vec![due(SendKind::SendToUsers)],
        ));
        let Step::Fail(f) = t.poll(T0, PLENTY) else {
            panic!("expected a failure")
        };
        assert_eq!(f.batch, 0);
        assert!(f.reason.zh.contains("订阅号不可用"), "{}", f.reason.zh);
        assert!(
            f.reason.en.contains("verified service accounts"),
            "{}",
            f.reason.en
        );
    }

    #[test]
    fn stops_for_the_pacer_when_the_rolling_minute_is_full() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        for i in 0..60 {
            r.pacer.record(T0.plus_millis(-30_000 + i * 100));
        }
        let mut t = CronTurn::new(r);
        assert_eq!(t.poll(T0, PLENTY), Step::Stop(StopReason::Pacer));
        assert_eq!(
            t.poll(T0.plus_millis(60_000), PLENTY),
            Step::Stop(StopReason::Pacer)
        );
    }

    #[test]
    fn stops_for_the_budget_counting_a_batch_s_extra_query() {
        let mut sealed = due(SendKind::SendToUsers);
        sealed.extra = Spend::new(1, 0);
        let mut t = turn(vec![sealed]);
        assert_eq!(
            t.clone().poll(T0, Spend::new(3, 1)),
            Step::Stop(StopReason::Budget)
        );
        assert_eq!(
            t.clone().poll(T0, Spend::new(4, 0)),
            Step::Stop(StopReason::Budget)
        );
        assert!(matches!(t.poll(T0, Spend::new(4, 1)), Step::Send(_)));
    }

    #[test]
    fn stops_when_the_run_s_time_is_up() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        r.deadline = T0.plus_millis(25_000);
        let mut t = CronTurn::new(r);
        assert!(matches!(
            t.clone().poll(T0.plus_millis(24_999), PLENTY),
            Step::Send(_)
        ));
        assert_eq!(
            t.poll(T0.plus_millis(25_000), PLENTY),
            Step::Stop(StopReason::RunTime)
        );
    }

    #[test]
    fn a_batch_whose_lease_expired_waits_a_minute_after_its_lost_attempt() {
        // A run claimed it at T0 and died before settling.
        let mut claimed = BatchProgress::new();
        claimed.begin_attempt(T0).unwrap();
        let mut d = due(SendKind::SendToUsers);
        d.progress = claimed;
        let mut t = turn(vec![d.clone()]);
        let Step::Defer(w) = t.poll(T0.plus_millis(LEASE_MS - 1), PLENTY) else {
            panic!("expected a deferral")
        };
        assert_eq!(w.until, T0.plus_millis(60_000));
        assert_eq!(
            w.reason,
            DeferReason::AttemptNotYet {
                maybe_delivered: true
            }
        );
        assert!(w.progress.maybe_delivered());
        assert!(w.explain().en.contains("45066"), "{}", w.explain().en);
        assert!(w.explain().zh.contains("45066"), "{}", w.explain().zh);
        // After the minute, the same batch goes again as attempt 2 (same clientmsgid).
        let mut t = turn(vec![d]);
        let s = send_step(t.poll(T0.plus_millis(60_000), PLENTY));
        assert_eq!(s.attempt(), 2);
    }

    #[test]
    fn a_batch_scheduled_later_by_its_progress_waits_without_a_warning() {
        let mut p = BatchProgress::new();
        p.begin_attempt(T0).unwrap();
        p.settle(
            &Outcome::Api(ApiError::new(45009, "reach max api daily quota limit")),
            T0,
            0,
        );
        let mut d = due(SendKind::SendToUsers);
        d.progress = p;
        let mut t = turn(vec![d]);
        let Step::Defer(w) = t.poll(T0.plus_millis(1), PLENTY) else {
            panic!("expected a deferral")
        };
        assert_eq!(w.until, T0.next_china_day());
        assert!(
            w.explain().en.starts_with("the next attempt may start at"),
            "{}",
            w.explain().en
        );
    }

    #[test]
    fn a_batch_out_of_attempts_fails_and_says_the_send_may_exist() {
        let mut p = BatchProgress::new();
        let mut now = T0;
        for _ in 0..BATCH_ATTEMPTS_MAX {
            // Every attempt dies unsettled: each next one waits the dedupe minute.
            p.begin_attempt(now).unwrap();
            now = now.plus_millis(60_000);
        }
        let mut d = due(SendKind::SendToUsers);
        d.progress = p;
        let mut t = turn(vec![d]);
        let Step::Fail(f) = t.poll(now, PLENTY) else {
            panic!("expected a failure")
        };
        assert!(
            f.reason.en.contains("the attempt limit was reached"),
            "{}",
            f.reason.en
        );
        assert!(f.reason.en.contains("mass/get"), "{}", f.reason.en);
        assert!(f.reason.zh.contains("mass/get"), "{}", f.reason.zh);
        assert!(f.progress.is_settled());
    }

    #[test]
    fn a_refused_token_is_refreshed_and_the_batch_sent_once_more_in_the_turn() {
        let refused = br#"{"errcode":40001,"errmsg":"invalid credential"}"#;
        let mut t = turn(vec![due(SendKind::SendToUsers), due(SendKind::SendToUsers)]);
        let s = send_step(t.poll(T0, PLENTY));
        let settled = t.on_send_outcome(s, http(refused), T0, 0);
        assert_eq!(settled.action, Action::RefreshTokenThenRetry);
        assert_eq!((settled.stage, settled.next_at), (Stage::Pending, Some(T0)));
        assert!(!settled.call_succeeded);
        let later = T0.plus_millis(500);
        assert_eq!(t.poll(later, PLENTY), Step::RefreshToken);
        t.on_token();
        let again = send_step(t.poll(later, PLENTY));
        assert_eq!((again.batch, again.attempt()), (0, 2));
        // Refused again: it waits for the next run, and the turn goes on with batch 1.
        t.on_send_outcome(again, http(refused), later, 0);
        assert_eq!(t.poll(later, PLENTY), Step::RefreshToken);
        t.on_token();
        assert_eq!(send_step(t.poll(later, PLENTY)).batch, 1);
    }

    #[test]
    fn a_lost_reply_is_retried_after_the_dedupe_minute_and_counts_in_the_pacer() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers); 2]);
        for i in 0..59 {
            r.pacer.record(T0.plus_millis(-30_000 + i * 100));
        }
        let mut t = CronTurn::new(r);
        let s = send_step(t.poll(T0, PLENTY));
        let settled = t.on_send_outcome(s, CallAnswer::NoAnswer("timeout"), T0, 0);
        assert_eq!(settled.stage, Stage::Pending);
        assert_eq!(settled.next_at, Some(T0.plus_millis(60_000)));
        assert!(settled.progress.maybe_delivered());
        assert_eq!(settled.outcome.en, "no reply (lost or unreadable)");
        // The call was the minute's 60th.
        assert_eq!(t.poll(T0, PLENTY), Step::Stop(StopReason::Pacer));
    }

    #[test]
    fn a_refused_send_fails_with_core_s_reason() {
        let mut t = turn(vec![due(SendKind::SendToUsers)]);
        let s = send_step(t.poll(T0, PLENTY));
        let settled = t.on_send_outcome(
            s,
            CallAnswer::Http {
                status: 403,
                body: b"",
            },
            T0,
            0,
        );
        assert_eq!(settled.stage, Stage::Failed);
        assert_eq!(settled.next_at, None);
        assert!(settled
            .fail_reason
            .as_ref()
            .is_some_and(|r| r.en.contains("HTTP status 403") && r.zh.contains("HTTP 403")));
    }

    fn overdue(msg_id: Option<MsgId>, checks: u32) -> OverdueBatch {
        OverdueBatch {
            msg_id,
            submitted_at: Some(T0.plus_millis(-RESULT_EVENT_WAIT_MS)),
            status_checks: checks,
        }
    }

    fn check_step(step: Step) -> CheckStep {
        match step {
            Step::Check(s) => s,
            other => panic!("expected a check, got {other:?}"),
        }
    }

    #[test]
    fn checks_overdue_batches_after_the_due_ones_and_skips_an_unreadable_msg_id() {
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        r.overdue = vec![overdue(None, 0), overdue(Some(MsgId(7)), 0)];
        let mut t = CronTurn::new(r);
        assert!(matches!(t.poll(T0, PLENTY), Step::Send(_)));
        let c = check_step(t.poll(T0, PLENTY));
        assert_eq!((c.batch, c.msg_id), (1, MsgId(7)));
        assert_eq!(c.lease_until, T0.plus_millis(LEASE_MS));
        assert_eq!(t.poll(T0, PLENTY), Step::NothingLeft);
    }

    #[test]
    fn a_check_that_finds_the_send_done_finishes_the_batch() {
        let mut r = read(AccountKind::Service, Vec::new());
        r.overdue = vec![overdue(Some(MsgId(7)), 0)];
        let mut t = CronTurn::new(r);
        let c = check_step(t.poll(T0, PLENTY));
        let body = br#"{"errcode":0,"errmsg":"ok","msg_id":7,"msg_status":"SEND_SUCCESS"}"#;
        let settled = t.on_check_outcome(c, http(body), T0);
        assert_eq!(settled.stage, Stage::Finished);
        assert!(settled.call_succeeded);
        assert_eq!(settled.status_checks, 1);
        let result = settled.finished.unwrap();
        assert_eq!(result.status, "SEND_SUCCESS");
        assert_eq!(settled.outcome, result.note);
        assert_eq!(
            settled.batch_outcome.map(|o| o.delivery),
            Some(crate::plan::Delivery::Delivered)
        );
    }

    #[test]
    fn a_check_that_finds_send_fail_ends_the_batch_refused_as_the_push_would() {
        let mut r = read(AccountKind::Service, Vec::new());
        r.overdue = vec![overdue(Some(MsgId(7)), 0)];
        let mut t = CronTurn::new(r);
        let c = check_step(t.poll(T0, PLENTY));
        let body = br#"{"errcode":0,"errmsg":"ok","msg_id":7,"msg_status":"SEND_FAIL"}"#;
        let settled = t.on_check_outcome(c, http(body), T0);
        assert_eq!(settled.stage, Stage::Failed);
        let outcome = settled.batch_outcome.unwrap();
        assert_eq!(outcome.delivery, crate::plan::Delivery::Refused);
        assert!(outcome.en.contains("SEND_FAIL"), "{}", outcome.en);
    }

    #[test]
    fn a_check_that_finds_it_sending_asks_again_later() {
        let mut r = read(AccountKind::Service, Vec::new());
        r.overdue = vec![overdue(Some(MsgId(7)), 1)];
        let mut t = CronTurn::new(r);
        let c = check_step(t.poll(T0, PLENTY));
        let body = br#"{"errcode":0,"errmsg":"ok","msg_id":7,"msg_status":"SENDING"}"#;
        let settled = t.on_check_outcome(c, http(body), T0);
        assert_eq!(settled.stage, Stage::Submitted);
        assert_eq!(
            settled.next_at,
            Some(T0.plus_millis(2 * RESULT_EVENT_WAIT_MS))
        );
        assert_eq!(
            (settled.outcome.en.as_str(), settled.status_checks),
            ("mass/get: SENDING", 2)
        );
    }

    #[test]
    fn a_check_whose_token_is_refused_refreshes_before_the_next_call() {
        let mut r = read(AccountKind::Service, Vec::new());
        r.overdue = vec![overdue(Some(MsgId(7)), 0), overdue(Some(MsgId(8)), 0)];
        let mut t = CronTurn::new(r);
        let c = check_step(t.poll(T0, PLENTY));
        let body = br#"{"errcode":42001,"errmsg":"access_token expired"}"#;
        let settled = t.on_check_outcome(c, http(body), T0);
        assert_eq!(settled.stage, Stage::Submitted);
        assert!(!settled.call_succeeded);
        assert!(
            settled.outcome.en.starts_with("mass/get: "),
            "{}",
            settled.outcome.en
        );
        assert_eq!(t.poll(T0, PLENTY), Step::RefreshToken);
        t.on_token();
        assert_eq!(check_step(t.poll(T0, PLENTY)).msg_id, MsgId(8));
    }

    #[test]
    fn a_check_without_an_answer_fails_the_batch_past_the_give_up_time() {
        let mut r = read(AccountKind::Service, Vec::new());
        let mut o = overdue(Some(MsgId(7)), 5);
        o.submitted_at = Some(T0.plus_millis(-crate::limits::STATUS_CHECK_GIVE_UP_MS));
        r.overdue = vec![o];
        let mut t = CronTurn::new(r);
        let c = check_step(t.poll(T0, PLENTY));
        let settled = t.on_check_outcome(c, CallAnswer::NoAnswer("timeout"), T0);
        assert_eq!(settled.stage, Stage::Failed);
        assert!(settled.fail_reason.is_some());
        assert_eq!(settled.outcome.en, "mass/get: no answer (timeout)");
        assert_eq!(settled.outcome.zh, "mass/get：没有应答（timeout）");
    }

    #[test]
    fn accounts_share_the_run_and_the_start_moves_by_the_minute() {
        // 50 queries, 12 for a turn at least: 4 turns a run.
        let turns = AccountTurns::new(50, 12);
        assert_eq!(turns.per_run(), 4);
        assert_eq!(turns.first(6, UnixMillis(0)), 0);
        assert_eq!(turns.first(6, UnixMillis(60_000)), 4);
        assert_eq!(turns.first(6, UnixMillis(120_000)), 2);
        assert_eq!(turns.first(0, UnixMillis(60_000)), 0);
        // One of three accounts at 1 spent: a third of 49, but never under a turn's minimum.
        assert_eq!(turns.ceiling(1, 3), Ok(1 + 16));
        assert_eq!(turns.ceiling(1, 6), Ok(1 + 12));
        assert_eq!(turns.ceiling(39, 1), Err(StopReason::AccountsOverBudget));
        assert!(StopReason::AccountsOverBudget
            .as_str()
            .contains("more accounts due"));
    }

    #[test]
    fn a_read_takes_what_the_share_pays_for_and_says_what_held_it_back() {
        // 43 left, the read and a refresh 8, a step 3: 11 batches.
        assert_eq!(due_limit(43, 8, 3), 11);
        assert_eq!(due_limit(0, 8, 3), 1);
        assert_eq!(due_limit(10_000, 8, 3), MAX_CALLS_PER_MINUTE);
        assert_eq!(read_held_back(10, 11), None);
        assert_eq!(read_held_back(11, 11), Some(StopReason::Budget));
        assert_eq!(read_held_back(60, 60), Some(StopReason::Pacer));
        assert!(StopReason::Budget.as_str().contains("budget"));
    }

    const COLLECT: CollectCosts = CollectCosts {
        page: Spend::new(2, 1),
        seal_fixed: Spend::new(2, 0),
        seal_pages_per_read: 20,
        seal_chunks_per_insert: 5,
        seal_max: Spend::new(40, 50),
    };
    const O1: &str = "ocYxcuAEy30bX0NXmGn4ypqx3tI0";
    const O2: &str = "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y";

    fn collecting(source: crate::followers::FollowerSource) -> Collecting {
        Collecting {
            source,
            cursor: String::new(),
            listed: false,
            pages: 0,
            collected: 0,
        }
    }

    fn collect_step(step: Step) -> CollectStep {
        match step {
            Step::Collect(s) => s,
            other => panic!("expected a page to collect, got {other:?}"),
        }
    }

    #[test]
    fn collects_only_after_the_due_batches_and_pages_on_until_the_seal() {
        use crate::followers::FollowerSource;
        let mut t = turn(vec![due(SendKind::SendToUsers)])
            .with_collecting(vec![collecting(FollowerSource::Tag(2))], COLLECT);
        let s = send_step(t.poll(T0, PLENTY));
        t.on_send_outcome(s, http(ACCEPTED), T0, 0);
        let c = collect_step(t.poll(T0, PLENTY));
        assert_eq!((c.audience, c.pager.cursor()), (0, ""));
        let page = format!(r#"{{"count":1,"data":{{"openid":["{O1}"]}},"next_openid":"{O1}"}}"#);
        let got = t.on_collect_outcome(c, http(page.as_bytes()));
        assert!(
            matches!(
                got,
                Collected::Page {
                    pages: 1,
                    collected: 1,
                    listed: false,
                    ..
                }
            ),
            "{got:?}"
        );
        // The next page resumes at the cursor just taken; the last one ends the list.
        let c = collect_step(t.poll(T0, PLENTY));
        assert_eq!(c.pager.cursor(), O1);
        let last = format!(r#"{{"count":1,"data":{{"openid":["{O2}"]}},"next_openid":""}}"#);
        let got = t.on_collect_outcome(c, http(last.as_bytes()));
        assert!(
            matches!(
                got,
                Collected::Page {
                    pages: 2,
                    collected: 2,
                    listed: true,
                    ..
                }
            ),
            "{got:?}"
        );
        assert_eq!(t.poll(T0, PLENTY), Step::Seal { audience: 0 });
        assert_eq!(t.poll(T0, PLENTY), Step::NothingLeft);
    }

    #[test]
    fn collecting_gets_only_what_the_sends_leave_and_the_pacer_does_not_hold_it() {
        use crate::followers::FollowerSource;
        let mut r = read(AccountKind::Service, vec![due(SendKind::SendToUsers)]);
        for i in 0..60 {
            r.pacer.record(T0.plus_millis(-30_000 + i * 100));
        }
        // The minute is full: the send waits, and so does the whole turn (sends go first).
        let mut t = CronTurn::new(r.clone())
            .with_collecting(vec![collecting(FollowerSource::Everyone)], COLLECT);
        assert_eq!(t.poll(T0, PLENTY), Step::Stop(StopReason::Pacer));
        // With no batch due, a full minute of mass calls does not stop a page.
        r.due.clear();
        let mut t =
            CronTurn::new(r).with_collecting(vec![collecting(FollowerSource::Everyone)], COLLECT);
        assert!(matches!(t.poll(T0, PLENTY), Step::Collect(_)));
        // A page's two queries and one subrequest must fit.
        let mut t =
            turn(Vec::new()).with_collecting(vec![collecting(FollowerSource::Everyone)], COLLECT);
        assert_eq!(t.poll(T0, Spend::new(1, 5)), Step::Stop(StopReason::Budget));
    }

    #[test]
    fn a_seal_waits_for_a_run_whose_budget_holds_it() {
        use crate::followers::FollowerSource;
        let mut listed = collecting(FollowerSource::Tag(2));
        listed.listed = true;
        listed.pages = 100;
        listed.collected = 1_000_000;
        let mut t = turn(Vec::new()).with_collecting(vec![listed.clone()], COLLECT);
        assert_eq!(
            t.poll(T0, Spend::new(26, 0)),
            Step::Stop(StopReason::Budget)
        );
        let mut t = turn(Vec::new()).with_collecting(vec![listed], COLLECT);
        assert_eq!(t.poll(T0, Spend::new(27, 0)), Step::Seal { audience: 0 });
    }

    #[test]
    fn a_list_that_grows_past_what_one_run_can_seal_fails_at_that_page() {
        use crate::followers::FollowerSource;
        // 40 queries hold a seal of 1,500,000 OpenIDs in 150 pages (2 + 8 reads + 30 inserts);
        // the page that brings the list to 1,510,000 in 151 pages would need 41.
        let mut big = collecting(FollowerSource::Everyone);
        (big.cursor, big.pages, big.collected) = (O1.into(), 150, 1_500_000);
        assert_eq!(COLLECT.too_large(150, 1_500_000), None);
        let mut t = turn(Vec::new()).with_collecting(vec![big], COLLECT);
        let c = collect_step(t.poll(T0, PLENTY));
        let ids: Vec<String> = (0..10_000).map(|i| format!("ocYxcu{i:022}")).collect();
        let page = serde_json::json!({ "count": 10_000, "data": { "openid": ids }, "next_openid": ids[9_999] });
        let got = t.on_collect_outcome(c, http(page.to_string().as_bytes()));
        let Collected::Failed { reason, reason_zh } = got else {
            panic!("{got:?}");
        };
        assert!(
            reason.contains("1510000 OpenIDs in 151 pages") && reason.contains("(40)"),
            "{reason}"
        );
        assert!(reason_zh.contains("封存需要 41 次"), "{reason_zh}");
        // Nothing more is asked of it in this turn.
        assert_eq!(t.poll(T0, PLENTY), Step::NothingLeft);
    }

    #[test]
    fn a_refused_token_is_refreshed_and_the_page_asked_once_more_then_an_error_moves_on() {
        use crate::followers::FollowerSource;
        let refused = br#"{"errcode":40001,"errmsg":"invalid credential"}"#;
        let mut t = turn(Vec::new()).with_collecting(
            vec![
                collecting(FollowerSource::Tag(2)),
                collecting(FollowerSource::Tag(999)),
            ],
            COLLECT,
        );
        let c = collect_step(t.poll(T0, PLENTY));
        assert!(matches!(
            t.on_collect_outcome(c, http(refused)),
            Collected::Again { .. }
        ));
        assert_eq!(t.poll(T0, PLENTY), Step::RefreshToken);
        t.on_token();
        let c = collect_step(t.poll(T0, PLENTY));
        assert_eq!(c.audience, 0);
        // Refused again: audience 0 waits for the next run, and the turn goes on with 1.
        assert!(matches!(
            t.on_collect_outcome(c, http(refused)),
            Collected::Again { .. }
        ));
        assert_eq!(t.poll(T0, PLENTY), Step::RefreshToken);
        t.on_token();
        let c = collect_step(t.poll(T0, PLENTY));
        assert_eq!(c.audience, 1);
        let unknown = br#"{"errcode":45159,"errmsg":"invalid tag id"}"#;
        assert!(matches!(
            t.on_collect_outcome(c, http(unknown)),
            Collected::Failed { .. }
        ));
        assert_eq!(t.poll(T0, PLENTY), Step::NothingLeft);
    }
}
