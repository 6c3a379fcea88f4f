//! The life of one batch and what to do after each attempt.
//!
//! ```text
//! Pending ──begin_attempt──▶ Sending{attempt} ──Done──▶ Submitted{msg_id} ──finish──▶ Finished
//!    │                         │   ▲    │
//!    │ cancel                  │   └────┘ RetryAt / RefreshTokenThenRetry / WaitUntil
//!    ▼                         └──Fail──▶ Failed{reason}
//! Cancelled
//! ```
//!
//! [`decide`] is pure: the batch's progress, what the last attempt produced, the time and a
//! random value in, the next [`Action`] out. [`BatchProgress::settle`] applies it. Two promises
//! follow from the design, and the model test in `core/tests/plan.rs` checks both:
//!
//! - **Never delivered twice.** A batch's `clientmsgid` is fixed when the plan is made and no
//!   action ever asks for a new one, so every retry — after a timeout, a lost reply, a 5xx —
//!   reaches WeChat's dedupe (45065 → the existing msg_id, which is success).
//! - **Always ends.** Retries, token refreshes in a row, quota waits and attempts overall are
//!   capped (constants in [`crate::limits`]); past a cap the batch fails with a reason that says
//!   whether it may have been delivered.
//!
//! Choices worth knowing:
//! - A request that may have reached WeChat (lost reply, 5xx) is retried no sooner than a minute
//!   later: WeChat answers the same `clientmsgid` within a minute with 45066, not 45065.
//! - 45065 without a msg_id cannot be made into `Done`, and must not be re-sent with a new id:
//!   it fails as [`FailReason::DeliveredWithoutMsgId`], whose text says the send exists and to
//!   find its msg_id (mass/get, or the MASSSENDJOBFINISH event) instead of sending again.
//! - 45009/45028 wait for the next China day; a month-bound quota (a service account's fourth
//!   `is_to_all`) shows up as repeated daily waits until [`QUOTA_WAIT_MAX`] ends it; check
//!   [`super::quota::earliest_start`] before starting to avoid that.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::china_time::UnixMillis;
use super::outcome::Text;
use crate::endpoint::SendReply;
use crate::error_code::{codes, ApiError, ErrorClass, ReplyError};
use crate::ids::MsgId;
use crate::json_input::{read_bytes, show, wire, FieldName, Json, Obj};
use crate::limits::{
    BATCH_ATTEMPTS_MAX, QUOTA_WAIT_MAX, RATE_LIMITED_WAIT_MS, RETRY_BASE_MS, RETRY_CAP_MS,
    RETRY_MAX, RETRY_SAME_CLIENT_MSG_ID_AFTER_MS, TOKEN_REFRESH_MAX_IN_A_ROW,
};
use crate::validate::{Problems, Rule, ValidationError};

/// What one attempt of a batch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// WeChat accepted the send.
    Accepted(SendReply),
    /// No usable answer, and the request may have reached WeChat: a timeout, a dropped
    /// connection, or a 200 whose body could not be read.
    ReplyLost,
    /// An HTTP status other than 200 (from WeChat or a proxy in front of it).
    HttpStatus(u16),
    /// WeChat answered with `errcode != 0`.
    Api(ApiError),
}

impl Outcome {
    /// The outcome of a parsed reply. A malformed reply counts as lost: the send may have
    /// happened, and a retry with the same `clientmsgid` will tell.
    pub fn from_reply(reply: Result<SendReply, ReplyError>) -> Self {
        match reply {
            Ok(r) => Outcome::Accepted(r),
            Err(ReplyError::Api(e)) => Outcome::Api(e),
            Err(ReplyError::Malformed { .. }) => Outcome::ReplyLost,
        }
    }

    /// The outcome of an HTTP response: a status other than 200 as is, otherwise the body.
    pub fn from_http(status: u16, body: &[u8]) -> Self {
        if status == 200 {
            Outcome::from_reply(crate::reply::parse(body))
        } else {
            Outcome::HttpStatus(status)
        }
    }

    /// Whether the request may have reached WeChat without us learning what it did.
    pub fn may_have_reached_wechat(&self) -> bool {
        match self {
            Outcome::ReplyLost => true,
            // A 5xx may come from a proxy or gateway after WeChat processed the request; a 2xx
            // passed here as a status carried no body worth reading.
            Outcome::HttpStatus(s) => matches!(s, 500..=599 | 200..=299),
            Outcome::Accepted(_) | Outcome::Api(_) => false,
        }
    }
}

/// Statuses worth retrying: server errors (the request may have been processed), 408 and 429.
fn http_retryable(status: u16) -> bool {
    matches!(status, 500..=599 | 408 | 429 | 200..=299)
}

/// What to do next with a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[serde(rename_all_fields = "camelCase")]
pub enum Action {
    /// WeChat has the send: record the msg_id. The batch is submitted.
    Done {
        /// The send's msg_id.
        msg_id: MsgId,
    },
    /// Send the same request again (same `clientmsgid`) at or after `at`.
    RetryAt {
        /// Earliest retry.
        at: UnixMillis,
    },
    /// Refresh the access_token, then send the same request again.
    RefreshTokenThenRetry,
    /// A quota or rate limit: send the same request again at or after `until`.
    WaitUntil {
        /// End of the quota window.
        until: UnixMillis,
    },
    /// Stop: the batch has failed.
    Fail {
        /// Why, for the record and for a person.
        reason: FailReason,
        /// Whether an attempt may have reached WeChat, so the send may exist anyway: check with
        /// mass/get or the MASSSENDJOBFINISH event before sending it again (re-planning the same
        /// job reuses the same clientmsgid, so WeChat cannot deliver it twice).
        maybe_delivered: bool,
    },
}

/// Why a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(rename_all_fields = "camelCase")]
pub enum FailReason {
    /// WeChat refused the request for a reason retrying cannot fix.
    Api {
        /// WeChat's errcode.
        code: i64,
        /// The error as text (English and Chinese when known, and the server's message).
        message: String,
    },
    /// An HTTP status that is not worth retrying (a proxy's 403, for example).
    HttpStatus {
        /// The status.
        status: u16,
    },
    /// WeChat says the send exists (45065) but gave no msg_id. It was delivered; do not send
    /// again. Find its msg_id with mass/get or the MASSSENDJOBFINISH event.
    DeliveredWithoutMsgId,
    /// Transient errors went on past the retry limit.
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last outcome, for a person.
        last: String,
    },
    /// The token was refreshed and still rejected, several times in a row.
    TokenRefreshLoop {
        /// Refreshes in a row.
        refreshes: u32,
        /// The last error.
        last: String,
    },
    /// The daily quota stayed exhausted for too many windows.
    QuotaWaitsExhausted {
        /// Windows waited.
        waits: u32,
    },
    /// The batch was cancelled before it was sent.
    Cancelled,
}

impl FailReason {
    /// The reason for a person, with a warning when the send may exist anyway.
    pub fn explain(&self, maybe_delivered: bool) -> String {
        if self.may_exist(maybe_delivered) {
            format!("{self}; an attempt may have reached WeChat, so the send may exist: check with mass/get or the MASSSENDJOBFINISH event before sending again (re-planning the same job reuses the same clientmsgid, so WeChat will not deliver it twice)")
        } else {
            self.to_string()
        }
    }

    /// [`FailReason::explain`] in Chinese: the same facts, WeChat's own Chinese message for an
    /// error code the table knows.
    pub fn explain_zh(&self, maybe_delivered: bool) -> String {
        if self.may_exist(maybe_delivered) {
            format!("{}；某次请求可能已到达微信，群发可能已存在：重发前请用 mass/get 或 MASSSENDJOBFINISH 推送核实（同一任务重新规划会沿用同一 clientmsgid，微信不会重复送达）", self.zh())
        } else {
            self.zh()
        }
    }

    /// Both, for a person: [`FailReason::explain`] and [`FailReason::explain_zh`].
    pub fn explain_text(&self, maybe_delivered: bool) -> Text {
        Text {
            en: self.explain(maybe_delivered),
            zh: self.explain_zh(maybe_delivered),
        }
    }

    fn may_exist(&self, maybe_delivered: bool) -> bool {
        maybe_delivered && *self != FailReason::DeliveredWithoutMsgId
    }

    /// The reason in Chinese: the same facts as its English `Display`.
    pub fn zh(&self) -> String {
        match self {
            FailReason::Api { code, message } => match crate::error_code::lookup(*code) {
                Some(k) => format!("微信错误 {code}：{}（{}）", k.zh, k.class.zh()),
                // Only the English text was kept of a code the table does not know.
                None => format!("微信错误 {code}（wxmass 不认识此代码）：{message}"),
            },
            FailReason::HttpStatus { status } => {
                format!("API 地址（微信前的代理？）返回 HTTP {status}，未重试")
            }
            FailReason::DeliveredWithoutMsgId => "微信说此 clientmsgid 的群发已存在（45065）却未返回 msg_id：它已送出，请勿重发；用 mass/get 或 MASSSENDJOBFINISH 推送查出其 msg_id".to_owned(),
            FailReason::RetriesExhausted { attempts, last } => {
                format!("尝试 {attempts} 次后放弃（最后一次：{last}）")
            }
            FailReason::TokenRefreshLoop { refreshes, last } => format!(
                "access_token 连续刷新 {refreshes} 次仍被拒绝（最后一次：{last}）；请检查 AppID/AppSecret 或 token 来源"
            ),
            FailReason::QuotaWaitsExhausted { waits } => format!(
                "等待 {waits} 次后群发额度仍已用完；请检查账号剩余额度（是否为每月 is_to_all 上限？）"
            ),
            FailReason::Cancelled => "发送前已取消".to_owned(),
        }
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Api { message, .. } => f.write_str(message),
            FailReason::HttpStatus { status } => write!(
                f,
                "HTTP status {status} from the API base (a proxy in front of WeChat?); not retried"
            ),
            FailReason::DeliveredWithoutMsgId => f.write_str(
                "WeChat says a send with this clientmsgid already exists (45065) but returned no msg_id: it was delivered, do not send again; find its msg_id with mass/get or the MASSSENDJOBFINISH event",
            ),
            FailReason::RetriesExhausted { attempts, last } => {
                write!(f, "gave up after {attempts} attempts (last: {last})")
            }
            FailReason::TokenRefreshLoop { refreshes, last } => write!(
                f,
                "the access_token was refreshed {refreshes} times in a row and still rejected (last: {last}); check the AppID/AppSecret or the token source"
            ),
            FailReason::QuotaWaitsExhausted { waits } => write!(
                f,
                "the mass-send quota stayed exhausted through {waits} waits; check the account's remaining quota (a monthly is_to_all limit?)"
            ),
            FailReason::Cancelled => f.write_str("cancelled before it was sent"),
        }
    }
}

/// The state of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[serde(rename_all_fields = "camelCase")]
pub enum BatchState {
    /// Not attempted yet.
    Pending,
    /// Attempts have started; the batch is in flight or waiting to retry.
    Sending {
        /// The latest attempt, from 1.
        attempt: u32,
    },
    /// WeChat accepted it; its result event has not been recorded.
    Submitted {
        /// The send's msg_id.
        msg_id: MsgId,
    },
    /// The MASSSENDJOBFINISH event was recorded.
    Finished {
        /// The send's msg_id.
        msg_id: MsgId,
        /// What the event reported.
        result: JobResult,
    },
    /// The batch failed.
    Failed {
        /// Why.
        reason: FailReason,
        /// Whether an attempt may have reached WeChat, so the send may exist anyway.
        #[serde(alias = "maybe_delivered")]
        maybe_delivered: bool,
    },
    /// Cancelled before it could have been delivered.
    Cancelled,
}

/// What a MASSSENDJOBFINISH event reported for a batch (the fields a person reads).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResult {
    /// `Status`: `send success`, `send fail` or `err(N)`.
    pub status: String,
    /// `TotalCount`: followers targeted.
    #[serde(alias = "total_count")]
    pub total_count: u64,
    /// `FilterCount`: followers left after WeChat's filters (including the 4-a-month rule).
    #[serde(alias = "filter_count")]
    pub filter_count: u64,
    /// `SentCount`: sent successfully.
    #[serde(alias = "sent_count")]
    pub sent_count: u64,
    /// `ErrorCount`: failed.
    #[serde(alias = "error_count")]
    pub error_count: u64,
}

/// A batch's state with the counters that bound it. Serde, so it can be stored between runs;
/// the snake_case aliases read what the worker stored before core wrote the JS model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchProgress {
    state: BatchState,
    /// Attempts started.
    #[serde(default)]
    attempts: u32,
    /// Retries scheduled (transient errors, 45066, 45011).
    #[serde(default)]
    retries: u32,
    /// Token refreshes since the last outcome that was not a token error.
    #[serde(default, alias = "token_refreshes_in_a_row")]
    token_refreshes_in_a_row: u32,
    /// Daily-quota waits scheduled.
    #[serde(default, alias = "quota_waits")]
    quota_waits: u32,
    /// When the first attempt started.
    #[serde(default, alias = "first_attempt_at")]
    first_attempt_at: Option<UnixMillis>,
    /// When the latest attempt started.
    #[serde(default, alias = "last_attempt_at")]
    last_attempt_at: Option<UnixMillis>,
    /// No attempt before this time.
    #[serde(default, alias = "not_before")]
    not_before: Option<UnixMillis>,
    /// An attempt was started and its outcome not yet settled.
    #[serde(default, alias = "awaiting_outcome")]
    awaiting_outcome: bool,
    /// Some attempt may have reached WeChat without a known result.
    #[serde(default, alias = "maybe_delivered")]
    maybe_delivered: bool,
}

/// A transition the batch's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// An attempt before the time the last action set.
    #[error("too early: the next attempt may start at {not_before}")]
    TooEarly {
        /// The earliest attempt.
        not_before: UnixMillis,
    },
    /// The batch is submitted, finished, failed or cancelled.
    #[error("the batch is {state}: no further attempts")]
    Settled {
        /// The state's name.
        state: &'static str,
    },
    /// Cancel after an attempt may have reached WeChat.
    #[error("cannot cancel: an attempt may have reached WeChat, so the send may exist; let it finish with the same clientmsgid, or check with mass/get")]
    MayBeDelivered,
    /// A finish event for a batch that is not submitted under that msg_id.
    #[error("the batch is not submitted under msg_id {msg_id}")]
    NotSubmitted {
        /// The event's msg_id.
        msg_id: MsgId,
    },
    /// A second finish event for the msg_id that says something else than the one the batch
    /// holds: WeChat sends one result per send, so one of them is not WeChat's; the first stays.
    #[error("the batch already holds another result for msg_id {msg_id} ({held}); this one ({given}) is kept apart, not applied")]
    ConflictingResult {
        /// The event's msg_id.
        msg_id: MsgId,
        /// The status the batch holds.
        held: String,
        /// The status of the event that disagrees.
        given: String,
    },
}

impl StateError {
    /// The error in Chinese, the twin of its `Display`.
    pub fn zh(&self) -> String {
        match self {
            StateError::TooEarly { not_before } => {
                format!("太早：下次尝试最早在 {}（北京时间）", not_before.china_display())
            }
            StateError::Settled { state } => {
                format!("该批次{}，不再尝试", batch_state_zh(state))
            }
            StateError::MayBeDelivered => "无法取消：某次尝试可能已到达微信，群发可能已存在；请让它以同一 clientmsgid 完成，或用 mass/get 核实".to_owned(),
            StateError::NotSubmitted { msg_id } => {
                format!("该批次并非以 msg_id {msg_id} 提交")
            }
            StateError::ConflictingResult {
                msg_id,
                held,
                given,
            } => format!(
                "该批次已持有 msg_id {msg_id} 的另一结果（{held}）；此结果（{given}）单独保留，不予应用"
            ),
        }
    }

    /// Both, for a person.
    pub fn text(&self) -> Text {
        Text {
            en: self.to_string(),
            zh: self.zh(),
        }
    }
}

impl Default for BatchProgress {
    fn default() -> Self {
        BatchProgress::new()
    }
}

/// A batch state's name (`pending`, `sending`, `submitted`, `finished`, `failed`, `cancelled`)
/// in Chinese, as the console's badges say it; another name is given back as it is.
pub fn batch_state_zh(name: &str) -> &str {
    match name {
        "pending" => "待发送",
        "sending" => "发送中",
        "submitted" => "已提交微信",
        "finished" => "已完成",
        "failed" => "已失败",
        "cancelled" => "已取消",
        other => other,
    }
}

impl BatchState {
    fn name(&self) -> &'static str {
        match self {
            BatchState::Pending => "pending",
            BatchState::Sending { .. } => "sending",
            BatchState::Submitted { .. } => "submitted",
            BatchState::Finished { .. } => "finished",
            BatchState::Failed { .. } => "failed",
            BatchState::Cancelled => "cancelled",
        }
    }
}

impl BatchProgress {
    /// A batch not attempted yet.
    pub fn new() -> Self {
        BatchProgress {
            state: BatchState::Pending,
            attempts: 0,
            retries: 0,
            token_refreshes_in_a_row: 0,
            quota_waits: 0,
            first_attempt_at: None,
            last_attempt_at: None,
            not_before: None,
            awaiting_outcome: false,
            maybe_delivered: false,
        }
    }

    /// The state.
    pub fn state(&self) -> &BatchState {
        &self.state
    }

    /// Attempts started.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the first attempt started.
    pub fn first_attempt_at(&self) -> Option<UnixMillis> {
        self.first_attempt_at
    }

    /// The earliest time of the next attempt, if one is scheduled.
    pub fn not_before(&self) -> Option<UnixMillis> {
        self.not_before
    }

    /// Whether some attempt may have reached WeChat without a known result.
    pub fn maybe_delivered(&self) -> bool {
        self.maybe_delivered
    }

    /// Whether the batch is submitted, finished, failed or cancelled.
    pub fn is_settled(&self) -> bool {
        !matches!(self.state, BatchState::Pending | BatchState::Sending { .. })
    }

    /// Starts an attempt at `now`; returns its number (from 1). Store the progress *before*
    /// sending: if the process dies mid-request, the next attempt knows the last one may have
    /// reached WeChat and waits a minute so WeChat answers 45065 rather than 45066.
    ///
    /// Errors: [`StateError::TooEarly`] before the time the last action set, and
    /// [`StateError::Settled`] for a settled batch — including one this call fails because it
    /// has used all [`BATCH_ATTEMPTS_MAX`] attempts without settling them.
    pub fn begin_attempt(&mut self, now: UnixMillis) -> Result<u32, StateError> {
        if self.is_settled() {
            return Err(StateError::Settled {
                state: self.state.name(),
            });
        }
        if self.attempts >= BATCH_ATTEMPTS_MAX {
            // Reached only when attempts never settle (a driver that keeps dying mid-request):
            // the hard bound still ends the batch.
            self.state = BatchState::Failed {
                reason: FailReason::RetriesExhausted {
                    attempts: self.attempts,
                    last: "the attempt limit was reached".to_owned(),
                },
                maybe_delivered: self.maybe_delivered || self.awaiting_outcome,
            };
            self.awaiting_outcome = false;
            self.not_before = None;
            return Err(StateError::Settled { state: "failed" });
        }
        if self.awaiting_outcome {
            // The previous attempt never settled: treat it as a lost reply.
            self.maybe_delivered = true;
            let after = self
                .last_attempt_at
                .map(|t| t.plus_millis(RETRY_SAME_CLIENT_MSG_ID_AFTER_MS));
            self.not_before = self.not_before.max(after);
        }
        if let Some(t) = self.not_before {
            if now < t {
                return Err(StateError::TooEarly { not_before: t });
            }
        }
        self.attempts = self.attempts.saturating_add(1);
        self.first_attempt_at.get_or_insert(now);
        self.last_attempt_at = Some(now);
        self.not_before = None;
        self.awaiting_outcome = true;
        self.state = BatchState::Sending {
            attempt: self.attempts,
        };
        Ok(self.attempts)
    }

    /// Decides what to do about `outcome` (see [`decide`]) and applies it to the state.
    pub fn settle(&mut self, outcome: &Outcome, now: UnixMillis, jitter: u32) -> Action {
        let (action, counter) = decide_counted(self, outcome, now, jitter);
        if self.is_settled() {
            return action;
        }
        self.awaiting_outcome = false;
        if outcome.may_have_reached_wechat() {
            self.maybe_delivered = true;
        }
        if !matches!(counter, Counter::TokenRefresh) {
            self.token_refreshes_in_a_row = 0;
        }
        match counter {
            Counter::Retry => self.retries = self.retries.saturating_add(1),
            Counter::TokenRefresh => {
                self.token_refreshes_in_a_row = self.token_refreshes_in_a_row.saturating_add(1)
            }
            Counter::QuotaWait => self.quota_waits = self.quota_waits.saturating_add(1),
            Counter::None => {}
        }
        match &action {
            Action::Done { msg_id } => {
                self.state = BatchState::Submitted { msg_id: *msg_id };
                self.not_before = None;
            }
            Action::RetryAt { at } => self.not_before = Some(*at),
            Action::WaitUntil { until } => self.not_before = Some(*until),
            Action::RefreshTokenThenRetry => self.not_before = None,
            Action::Fail {
                reason,
                maybe_delivered,
            } => {
                self.state = BatchState::Failed {
                    reason: reason.clone(),
                    maybe_delivered: *maybe_delivered,
                };
                self.not_before = None;
            }
        }
        action
    }

    /// Records the batch's MASSSENDJOBFINISH event.
    pub fn finish(&mut self, msg_id: MsgId, result: JobResult) -> Result<(), StateError> {
        match self.state {
            BatchState::Submitted { msg_id: id } if id == msg_id => {
                self.state = BatchState::Finished { msg_id, result };
                Ok(())
            }
            // The same event again (WeChat retries its push): already recorded.
            BatchState::Finished {
                msg_id: id,
                result: ref held,
            } if id == msg_id => {
                if *held == result {
                    Ok(())
                } else {
                    Err(StateError::ConflictingResult {
                        msg_id,
                        held: held.status.clone(),
                        given: result.status,
                    })
                }
            }
            _ => Err(StateError::NotSubmitted { msg_id }),
        }
    }

    /// Cancels the batch. Allowed while no attempt may have reached WeChat: a batch that may
    /// have been delivered is never reported as cancelled.
    pub fn cancel(&mut self) -> Result<(), StateError> {
        match self.state {
            BatchState::Cancelled => Ok(()),
            BatchState::Pending | BatchState::Sending { .. } => {
                if self.maybe_delivered || self.awaiting_outcome {
                    return Err(StateError::MayBeDelivered);
                }
                self.state = BatchState::Cancelled;
                self.not_before = None;
                Ok(())
            }
            _ => Err(StateError::Settled {
                state: self.state.name(),
            }),
        }
    }
}

impl BatchProgress {
    /// A progress stored as JSON (its serde form: camelCase, msg ids as strings; the snake_case
    /// of rows stored before is read too), read with core's input walker: every problem with its
    /// path under `path`, unknown fields refused. The npm package restores a batch with this rather than
    /// serde's `Deserialize`, whose internally tagged enums would add ~20 KB to its WebAssembly.
    pub fn from_json(bytes: &[u8], path: &str) -> Result<BatchProgress, ValidationError> {
        read_bytes(bytes, path, |json| {
            let mut p = Problems::default();
            let progress = Obj::new(json, path, &mut p).and_then(|o| read_progress(o, &mut p));
            p.into_result()?;
            // A reader that found no problem built the value.
            progress.ok_or_else(|| Problems::default().into_error())
        })
    }
}

fn read_progress(mut o: Obj<'_>, p: &mut Problems) -> Option<BatchProgress> {
    let state = match o.opt_obj(wire!("state"), p) {
        Some(s) => read_state(s, p),
        None => {
            p.push(o.field_path("state"), Rule::Required, None);
            None
        }
    };
    let mut count = |name: FieldName| -> u32 {
        o.opt_u64(name, p)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let attempts = count(wire!("attempts"));
    let retries = count(wire!("retries"));
    let token_refreshes_in_a_row = count(wire!("token_refreshes_in_a_row"));
    let quota_waits = count(wire!("quota_waits"));
    let mut time = |name: FieldName| o.opt_u64(name, p).map(millis);
    let first_attempt_at = time(wire!("first_attempt_at"));
    let last_attempt_at = time(wire!("last_attempt_at"));
    let not_before = time(wire!("not_before"));
    let awaiting_outcome = o.opt_bool(wire!("awaiting_outcome"), p).unwrap_or(false);
    let maybe_delivered = o.opt_bool(wire!("maybe_delivered"), p).unwrap_or(false);
    o.finish(p);
    Some(BatchProgress {
        state: state?,
        attempts,
        retries,
        token_refreshes_in_a_row,
        quota_waits,
        first_attempt_at,
        last_attempt_at,
        not_before,
        awaiting_outcome,
        maybe_delivered,
    })
}

fn millis(ms: u64) -> UnixMillis {
    UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn read_state(mut o: Obj<'_>, p: &mut Problems) -> Option<BatchState> {
    const STATES: &str = "pending, sending, submitted, finished, failed, cancelled";
    let present = o.has(wire!("state"));
    let name = o.string(wire!("state"), p);
    let state = match name.as_str() {
        "pending" => Some(BatchState::Pending),
        "sending" => o
            .u64(wire!("attempt"), p)
            .map(|n| BatchState::Sending { attempt: small(n) }),
        "submitted" => o
            .msg_id(wire!("msg_id"), p)
            .map(|msg_id| BatchState::Submitted { msg_id }),
        "finished" => {
            let msg_id = o.msg_id(wire!("msg_id"), p);
            let result = match o.opt_obj(wire!("result"), p) {
                Some(r) => read_result(r, p),
                None => {
                    p.push(o.field_path("result"), Rule::Required, None);
                    None
                }
            };
            msg_id
                .zip(result)
                .map(|(msg_id, result)| BatchState::Finished { msg_id, result })
        }
        "failed" => {
            let reason = match o.opt_obj(wire!("reason"), p) {
                Some(r) => read_reason(r, p),
                None => {
                    p.push(o.field_path("reason"), Rule::Required, None);
                    None
                }
            };
            let maybe_delivered = o.bool(wire!("maybe_delivered"), p);
            reason
                .zip(maybe_delivered)
                .map(|(reason, maybe_delivered)| BatchState::Failed {
                    reason,
                    maybe_delivered,
                })
        }
        "cancelled" => Some(BatchState::Cancelled),
        "" if !present => None,
        other => {
            p.push(
                o.field_path("state"),
                Rule::OneOf { fields: STATES },
                Some(other),
            );
            None
        }
    };
    o.finish(p);
    state
}

fn read_result(mut o: Obj<'_>, p: &mut Problems) -> Option<JobResult> {
    let status = o.string(wire!("status"), p);
    let total_count = o.u64(wire!("total_count"), p);
    let filter_count = o.u64(wire!("filter_count"), p);
    let sent_count = o.u64(wire!("sent_count"), p);
    let error_count = o.u64(wire!("error_count"), p);
    o.finish(p);
    Some(JobResult {
        status,
        total_count: total_count?,
        filter_count: filter_count?,
        sent_count: sent_count?,
        error_count: error_count?,
    })
}

fn read_reason(mut o: Obj<'_>, p: &mut Problems) -> Option<FailReason> {
    const KINDS: &str = "api, http_status, delivered_without_msg_id, retries_exhausted, token_refresh_loop, quota_waits_exhausted, cancelled";
    let present = o.has(wire!("kind"));
    let kind = o.string(wire!("kind"), p);
    let reason = match kind.as_str() {
        "api" => {
            // WeChat's codes include -1 (busy): a signed integer.
            let code = match o.take(wire!("code")) {
                Some(f) => match f.value {
                    Json::Unsigned(u) => i64::try_from(u).ok(),
                    Json::Negative(i) => Some(i),
                    other => {
                        p.push(
                            o.field_path("code"),
                            Rule::Type {
                                expected: "an integer",
                            },
                            Some(&show(&other)),
                        );
                        None
                    }
                },
                None => {
                    p.push(o.field_path("code"), Rule::Required, None);
                    None
                }
            };
            let message = o.string(wire!("message"), p);
            code.map(|code| FailReason::Api { code, message })
        }
        "http_status" => o.u64(wire!("status"), p).map(|s| FailReason::HttpStatus {
            status: u16::try_from(s).unwrap_or(u16::MAX),
        }),
        "delivered_without_msg_id" => Some(FailReason::DeliveredWithoutMsgId),
        "retries_exhausted" => {
            let attempts = o.u64(wire!("attempts"), p);
            let last = o.string(wire!("last"), p);
            attempts.map(|a| FailReason::RetriesExhausted {
                attempts: small(a),
                last,
            })
        }
        "token_refresh_loop" => {
            let refreshes = o.u64(wire!("refreshes"), p);
            let last = o.string(wire!("last"), p);
            refreshes.map(|r| FailReason::TokenRefreshLoop {
                refreshes: small(r),
                last,
            })
        }
        "quota_waits_exhausted" => o
            .u64(wire!("waits"), p)
            .map(|w| FailReason::QuotaWaitsExhausted { waits: small(w) }),
        "cancelled" => Some(FailReason::Cancelled),
        "" if !present => None,
        other => {
            p.push(
                o.field_path("kind"),
                Rule::OneOf { fields: KINDS },
                Some(other),
            );
            None
        }
    };
    o.finish(p);
    reason
}

/// Which bound an action counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counter {
    None,
    Retry,
    TokenRefresh,
    QuotaWait,
}

/// The next action for a batch after `outcome`, at `now`. `jitter` is any random `u32` (the
/// caller's randomness: `crypto.getRandomValues`, `rand::random`); it spreads the backoff of a
/// transient retry over the upper half of its delay so many batches do not retry in step.
///
/// | outcome | action |
/// |---|---|
/// | accepted | `Done(msg_id)` |
/// | 45065 with msg_id | `Done(existing msg_id)` |
/// | 45065 without msg_id | `Fail(DeliveredWithoutMsgId)` |
/// | 45066 | `RetryAt(now + 60 s)` |
/// | -1, 408, 429 | `RetryAt(now + backoff)` (2 s doubling to 5 min, with jitter) |
/// | lost reply, 5xx | `RetryAt(now + max(backoff, 60 s))` |
/// | 40001, 40014, 41001, 42001 | `RefreshTokenThenRetry` (3 in a row, then fail) |
/// | 45009, 45028 | `WaitUntil(next China day 00:00)` |
/// | 45011 | `WaitUntil(now + 60 s)` |
/// | any other error, other HTTP status | `Fail` |
///
/// A settled batch answers the same way every time (`Done` for a submitted one). No action
/// carries a new `clientmsgid`: the batch's id never changes.
pub fn decide(progress: &BatchProgress, outcome: &Outcome, now: UnixMillis, jitter: u32) -> Action {
    decide_counted(progress, outcome, now, jitter).0
}

fn decide_counted(
    progress: &BatchProgress,
    outcome: &Outcome,
    now: UnixMillis,
    jitter: u32,
) -> (Action, Counter) {
    let failed = |reason, maybe_delivered| {
        (
            Action::Fail {
                reason,
                maybe_delivered,
            },
            Counter::None,
        )
    };
    match &progress.state {
        BatchState::Submitted { msg_id } | BatchState::Finished { msg_id, .. } => {
            return (Action::Done { msg_id: *msg_id }, Counter::None)
        }
        BatchState::Failed {
            reason,
            maybe_delivered,
        } => return failed(reason.clone(), *maybe_delivered),
        BatchState::Cancelled => return failed(FailReason::Cancelled, false),
        BatchState::Pending | BatchState::Sending { .. } => {}
    }
    let maybe_delivered = progress.maybe_delivered || outcome.may_have_reached_wechat();
    let fail = |reason| failed(reason, maybe_delivered);
    let retry = |delay: i64, counter: Counter, wait: bool| {
        if progress.retries >= RETRY_MAX || progress.attempts >= BATCH_ATTEMPTS_MAX {
            return fail(FailReason::RetriesExhausted {
                attempts: progress.attempts,
                last: describe(outcome),
            });
        }
        let at = now.plus_millis(delay);
        let action = if wait {
            Action::WaitUntil { until: at }
        } else {
            Action::RetryAt { at }
        };
        (action, counter)
    };
    let backoff = backoff_ms(progress.retries.saturating_add(1), jitter);
    match outcome {
        Outcome::Accepted(reply) => (
            Action::Done {
                msg_id: reply.msg_id,
            },
            Counter::None,
        ),
        Outcome::ReplyLost => retry(
            backoff.max(RETRY_SAME_CLIENT_MSG_ID_AFTER_MS),
            Counter::Retry,
            false,
        ),
        Outcome::HttpStatus(status) => {
            if !http_retryable(*status) {
                fail(FailReason::HttpStatus { status: *status })
            } else if outcome.may_have_reached_wechat() {
                retry(
                    backoff.max(RETRY_SAME_CLIENT_MSG_ID_AFTER_MS),
                    Counter::Retry,
                    false,
                )
            } else {
                retry(backoff, Counter::Retry, false)
            }
        }
        Outcome::Api(e) => match e.code {
            codes::CLIENT_MSG_ID_EXISTS => match e.msg_id {
                Some(msg_id) => (Action::Done { msg_id }, Counter::None),
                None => failed(FailReason::DeliveredWithoutMsgId, true),
            },
            codes::CLIENT_MSG_ID_TOO_FAST => {
                retry(RETRY_SAME_CLIENT_MSG_ID_AFTER_MS, Counter::Retry, false)
            }
            codes::RATE_LIMITED => retry(RATE_LIMITED_WAIT_MS, Counter::Retry, true),
            _ => match e.class() {
                ErrorClass::Retry => retry(backoff, Counter::Retry, false),
                ErrorClass::RefreshToken => {
                    if progress.token_refreshes_in_a_row >= TOKEN_REFRESH_MAX_IN_A_ROW
                        || progress.attempts >= BATCH_ATTEMPTS_MAX
                    {
                        fail(FailReason::TokenRefreshLoop {
                            refreshes: progress.token_refreshes_in_a_row,
                            last: e.to_string(),
                        })
                    } else {
                        (Action::RefreshTokenThenRetry, Counter::TokenRefresh)
                    }
                }
                ErrorClass::Quota => {
                    if progress.quota_waits >= QUOTA_WAIT_MAX
                        || progress.attempts >= BATCH_ATTEMPTS_MAX
                    {
                        fail(FailReason::QuotaWaitsExhausted {
                            waits: progress.quota_waits,
                        })
                    } else {
                        (
                            Action::WaitUntil {
                                until: now.next_china_day(),
                            },
                            Counter::QuotaWait,
                        )
                    }
                }
                ErrorClass::Duplicate | ErrorClass::Fatal => fail(FailReason::Api {
                    code: e.code,
                    message: e.to_string(),
                }),
            },
        },
    }
}

/// The delay before retry number `n` (from 1): `RETRY_BASE_MS · 2^(n-1)`, capped at
/// `RETRY_CAP_MS`, then spread over its upper half by `jitter` ("equal jitter": never less than
/// half the delay, so the backoff still grows).
pub fn backoff_ms(n: u32, jitter: u32) -> i64 {
    let shift = n.saturating_sub(1).min(20);
    let full = RETRY_BASE_MS
        .saturating_mul(1i64 << shift)
        .min(RETRY_CAP_MS);
    let half = full / 2;
    // half ≤ 150,000 and jitter < 2^32: the product fits in an i64.
    half + ((half * i64::from(jitter)) >> 32)
}

/// An outcome in a few words, for a failure's record.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Accepted(r) => format!("accepted as msg_id {}", r.msg_id),
        Outcome::ReplyLost => "no reply (timeout or connection lost)".to_owned(),
        Outcome::HttpStatus(s) => format!("HTTP status {s}"),
        Outcome::Api(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_710_388_800_000); // 2024-03-14T04:00:00Z

    fn api(code: i64) -> Outcome {
        Outcome::Api(ApiError::new(code, "x"))
    }

    fn sending() -> BatchProgress {
        let mut p = BatchProgress::new();
        p.begin_attempt(T0).unwrap();
        p
    }

    #[test]
    fn a_settled_batch_says_why_in_chinese_without_english_state_names() {
        for state in [
            "submitted",
            "finished",
            "failed",
            "cancelled",
            "pending",
            "sending",
        ] {
            let zh = StateError::Settled { state }.zh();
            assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{zh}");
        }
        assert_eq!(batch_state_zh("submitted"), "已提交微信");
        assert_eq!(batch_state_zh("other"), "other");
    }

    /// Every state a batch reaches on a walk through `outcomes` (begin, settle, repeat; a
    /// finish or a cancel where allowed), as the worker stores it.
    fn walk(outcomes: &[u8]) -> Vec<BatchProgress> {
        let mut p = BatchProgress::new();
        let mut seen = vec![p.clone()];
        let mut now = T0;
        for (i, o) in outcomes.iter().enumerate() {
            now = now.plus_millis(61_000);
            match o % 11 {
                9 => {
                    let _ = p.cancel();
                }
                10 => {
                    if let BatchState::Submitted { msg_id } = p.state().clone() {
                        let result = JobResult {
                            status: "send success".into(),
                            total_count: 3,
                            filter_count: 2,
                            sent_count: 2,
                            error_count: 0,
                        };
                        p.finish(msg_id, result).unwrap();
                    }
                }
                k => {
                    if let Some(t) = p.not_before() {
                        now = now.max(t);
                    }
                    if p.begin_attempt(now).is_ok() {
                        seen.push(p.clone());
                        let outcome = match k {
                            0 => Outcome::ReplyLost,
                            1 => Outcome::HttpStatus(502),
                            2 => Outcome::HttpStatus(403),
                            3 => api(-1),
                            4 => api(40001),
                            5 => api(45009),
                            6 => api(40003),
                            7 => Outcome::Api(ApiError {
                                msg_id: Some(MsgId(9_007_199_254_740_993 + i as u64)),
                                ..ApiError::new(45065, "clientmsgid exist")
                            }),
                            _ => api(45065),
                        };
                        p.settle(&outcome, now, i as u32);
                    }
                }
            }
            seen.push(p.clone());
        }
        seen
    }

    #[test]
    fn a_stored_progress_reads_back_exactly_as_serde_wrote_it() {
        let mut states = std::collections::BTreeSet::new();
        for seed in 0u32..400 {
            // A small LCG: many different walks, the same every run.
            let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
            let outcomes: Vec<u8> = (0..12)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (x >> 16) as u8
                })
                .collect();
            for progress in walk(&outcomes) {
                let json = serde_json::to_string(&progress).unwrap();
                let read = BatchProgress::from_json(json.as_bytes(), "progress")
                    .unwrap_or_else(|e| panic!("{json}: {e}"));
                assert_eq!(read, progress, "{json}");
                assert_eq!(
                    serde_json::from_str::<BatchProgress>(&json).unwrap(),
                    progress
                );
                states.insert(progress.state().name());
            }
        }
        // The walks reach every state.
        assert_eq!(states.len(), 6, "{states:?}");
    }

    #[test]
    fn a_stored_progress_reads_camel_case_ids_as_strings_and_older_snake_case() {
        let json = br#"{"state":{"state":"finished","msgId":"9007199254740993","result":{"status":"send success","totalCount":3,"filterCount":2,"sentCount":2,"errorCount":0}},"attempts":2,"retries":1,"tokenRefreshesInARow":0,"quotaWaits":0,"firstAttemptAt":1,"lastAttemptAt":61001,"notBefore":null,"awaitingOutcome":false,"maybeDelivered":true}"#;
        let p = BatchProgress::from_json(json, "progress").unwrap();
        // A row stored before the model went camelCase: snake_case keys, the id a number.
        let snake = br#"{"state":{"state":"finished","msg_id":9007199254740993,"result":{"status":"send success","total_count":3,"filter_count":2,"sent_count":2,"error_count":0}},"attempts":2,"retries":1,"token_refreshes_in_a_row":0,"quota_waits":0,"first_attempt_at":1,"last_attempt_at":61001,"not_before":null,"awaiting_outcome":false,"maybe_delivered":true}"#;
        assert_eq!(BatchProgress::from_json(snake, "progress").unwrap(), p);
        assert_eq!(p.attempts(), 2);
        assert!(p.maybe_delivered());
        match p.state() {
            BatchState::Finished { msg_id, result } => {
                assert_eq!(msg_id.0, 9_007_199_254_740_993);
                assert_eq!(result.sent_count, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_broken_stored_progress_names_each_problem_with_its_path() {
        let e = BatchProgress::from_json(
            br#"{"state":{"state":"flying"},"attempts":-1,"extra":1}"#,
            "progress",
        )
        .unwrap_err();
        let found: Vec<(&str, &str)> = e
            .problems
            .iter()
            .map(|p| (p.path.as_str(), p.rule.code()))
            .collect();
        assert_eq!(
            found,
            [
                ("progress.state.state", "one_of"),
                ("progress.attempts", "non_negative_integer"),
                ("progress.extra", "unknown_field"),
            ]
        );
        let e = BatchProgress::from_json(
            br#"{"state":{"state":"failed","reason":{"kind":"api","code":-1}}}"#,
            "p",
        )
        .unwrap_err();
        let found: Vec<&str> = e.problems.iter().map(|p| p.path.as_str()).collect();
        // A missing field is named in the body's naming (json_input::names): wire names here…
        assert_eq!(found, ["p.state.reason.message", "p.state.maybe_delivered"]);
        // …camelCase in a snapshot that writes camelCase, as the npm package's does.
        let e = BatchProgress::from_json(
            br#"{"state":{"state":"failed","reason":{"kind":"api","code":-1}},"quotaWaits":0}"#,
            "p",
        )
        .unwrap_err();
        let found: Vec<&str> = e.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(found, ["p.state.reason.message", "p.state.maybeDelivered"]);
        assert!(BatchProgress::from_json(b"[", "p").is_err());
    }

    #[test]
    fn progress_is_stored_in_the_js_model_and_reads_rows_stored_before_it() {
        let mut p = sending();
        p.settle(&Outcome::ReplyLost, T0, 0);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["awaitingOutcome"], false);
        assert_eq!(json["maybeDelivered"], true);
        assert_eq!(json["firstAttemptAt"], T0.0);
        assert!(json.get("maybe_delivered").is_none());
        let back: BatchProgress = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);

        // A row the worker wrote before: in flight, its outcome unknown, a retry scheduled.
        let old = r#"{"state":{"state":"sending","attempt":2},"attempts":2,"retries":1,
            "token_refreshes_in_a_row":1,"quota_waits":1,"first_attempt_at":5,
            "last_attempt_at":6,"not_before":7,"awaiting_outcome":true,"maybe_delivered":true}"#;
        let old: BatchProgress = serde_json::from_str(old).unwrap();
        assert_eq!(
            (
                old.token_refreshes_in_a_row,
                old.quota_waits,
                old.awaiting_outcome
            ),
            (1, 1, true)
        );
        assert_eq!(
            (old.first_attempt_at, old.last_attempt_at, old.not_before),
            (
                Some(UnixMillis(5)),
                Some(UnixMillis(6)),
                Some(UnixMillis(7))
            )
        );
        assert!(old.maybe_delivered);
        let failed: BatchState = serde_json::from_str(
            r#"{"state":"failed","reason":{"kind":"cancelled"},"maybe_delivered":true}"#,
        )
        .unwrap();
        assert_eq!(
            failed,
            BatchState::Failed {
                reason: FailReason::Cancelled,
                maybe_delivered: true
            }
        );
        let result: JobResult = serde_json::from_str(
            r#"{"status":"send success","total_count":3,"filter_count":2,"sent_count":2,"error_count":0}"#,
        )
        .unwrap();
        assert_eq!((result.total_count, result.sent_count), (3, 2));
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() {
        assert_eq!(backoff_ms(1, 0), 1_000);
        assert_eq!(backoff_ms(1, u32::MAX), 1_999);
        assert_eq!(backoff_ms(2, 0), 2_000);
        assert_eq!(backoff_ms(9, 0), 150_000);
        assert_eq!(backoff_ms(u32::MAX, u32::MAX), 299_999);
    }

    #[test]
    fn accepted_and_45065_with_msg_id_are_done() {
        let p = sending();
        let reply = SendReply {
            msg_id: MsgId(7),
            msg_data_id: None,
        };
        assert_eq!(
            decide(&p, &Outcome::Accepted(reply), T0, 0),
            Action::Done { msg_id: MsgId(7) }
        );
        let mut e = ApiError::new(45065, "clientmsgid exist");
        e.msg_id = Some(MsgId(9));
        assert_eq!(
            decide(&p, &Outcome::Api(e), T0, 0),
            Action::Done { msg_id: MsgId(9) }
        );
        assert_eq!(
            decide(&p, &api(45065), T0, 0),
            Action::Fail {
                reason: FailReason::DeliveredWithoutMsgId,
                maybe_delivered: true
            }
        );
    }

    #[test]
    fn each_error_class_gets_its_action() {
        let p = sending();
        assert_eq!(
            decide(&p, &api(45066), T0, 0),
            Action::RetryAt {
                at: T0.plus_millis(60_000)
            }
        );
        assert_eq!(
            decide(&p, &api(-1), T0, 0),
            Action::RetryAt {
                at: T0.plus_millis(1_000)
            }
        );
        assert_eq!(
            decide(&p, &Outcome::ReplyLost, T0, 0),
            Action::RetryAt {
                at: T0.plus_millis(60_000)
            }
        );
        assert_eq!(
            decide(&p, &Outcome::HttpStatus(502), T0, 0),
            Action::RetryAt {
                at: T0.plus_millis(60_000)
            }
        );
        assert_eq!(
            decide(&p, &api(40001), T0, 0),
            Action::RefreshTokenThenRetry
        );
        assert_eq!(
            decide(&p, &api(45009), T0, 0),
            Action::WaitUntil {
                until: T0.next_china_day()
            }
        );
        assert_eq!(
            decide(&p, &api(45011), T0, 0),
            Action::WaitUntil {
                until: T0.plus_millis(60_000)
            }
        );
        assert!(matches!(
            decide(&p, &api(40003), T0, 0),
            Action::Fail {
                reason: FailReason::Api { code: 40003, .. },
                maybe_delivered: false
            }
        ));
        assert_eq!(
            decide(&p, &Outcome::HttpStatus(403), T0, 0),
            Action::Fail {
                reason: FailReason::HttpStatus { status: 403 },
                maybe_delivered: false
            }
        );
    }

    #[test]
    fn token_refreshes_in_a_row_are_capped() {
        let mut p = BatchProgress::new();
        let mut now = T0;
        for _ in 0..TOKEN_REFRESH_MAX_IN_A_ROW {
            p.begin_attempt(now).unwrap();
            assert_eq!(p.settle(&api(42001), now, 0), Action::RefreshTokenThenRetry);
            now = now.plus_millis(10);
        }
        p.begin_attempt(now).unwrap();
        assert!(matches!(
            p.settle(&api(42001), now, 0),
            Action::Fail {
                reason: FailReason::TokenRefreshLoop { .. },
                maybe_delivered: false
            }
        ));
        assert!(p.is_settled());
    }

    #[test]
    fn retries_are_capped_and_say_the_send_may_exist() {
        let mut p = BatchProgress::new();
        let mut now = T0;
        loop {
            p.begin_attempt(now).unwrap();
            match p.settle(&Outcome::ReplyLost, now, 0) {
                Action::RetryAt { at } => now = at,
                Action::Fail {
                    reason,
                    maybe_delivered,
                } => {
                    assert_eq!(
                        reason,
                        FailReason::RetriesExhausted {
                            attempts: RETRY_MAX + 1,
                            last: "no reply (timeout or connection lost)".into()
                        }
                    );
                    assert!(maybe_delivered);
                    assert!(reason.explain(maybe_delivered).contains("mass/get"));
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn attempts_wait_for_the_action_time() {
        let mut p = sending();
        p.settle(&api(45066), T0, 0);
        assert_eq!(
            p.begin_attempt(T0.plus_millis(59_999)),
            Err(StateError::TooEarly {
                not_before: T0.plus_millis(60_000)
            })
        );
        assert_eq!(p.begin_attempt(T0.plus_millis(60_000)), Ok(2));
    }

    #[test]
    fn an_unsettled_attempt_counts_as_maybe_delivered() {
        let mut p = sending();
        // The process died before settling: a new attempt waits a minute after the last.
        assert!(matches!(
            p.begin_attempt(T0.plus_millis(1)),
            Err(StateError::TooEarly { .. })
        ));
        assert!(p.maybe_delivered());
        assert_eq!(p.cancel(), Err(StateError::MayBeDelivered));
        assert_eq!(p.begin_attempt(T0.plus_millis(60_000)), Ok(2));
    }

    #[test]
    fn cancel_only_before_anything_may_have_been_sent() {
        let mut p = BatchProgress::new();
        assert_eq!(p.cancel(), Ok(()));
        assert_eq!(p.state(), &BatchState::Cancelled);
        assert!(p.begin_attempt(T0).is_err());
        // A definite refusal (quota) leaves it cancellable.
        let mut p = sending();
        p.settle(&api(45009), T0, 0);
        assert_eq!(p.cancel(), Ok(()));
        // A lost reply does not.
        let mut p = sending();
        p.settle(&Outcome::ReplyLost, T0, 0);
        assert_eq!(p.cancel(), Err(StateError::MayBeDelivered));
    }

    #[test]
    fn finish_records_the_event_once() {
        let mut p = sending();
        let reply = SendReply {
            msg_id: MsgId(5),
            msg_data_id: None,
        };
        p.settle(&Outcome::Accepted(reply), T0, 0);
        assert_eq!(
            p.finish(MsgId(6), JobResult::default()),
            Err(StateError::NotSubmitted { msg_id: MsgId(6) })
        );
        p.finish(MsgId(5), JobResult::default()).unwrap();
        p.finish(MsgId(5), JobResult::default()).unwrap();
        assert!(matches!(p.state(), BatchState::Finished { .. }));
        // Any later outcome keeps it done.
        assert_eq!(
            decide(&p, &Outcome::ReplyLost, T0, 0),
            Action::Done { msg_id: MsgId(5) }
        );
    }

    #[test]
    fn a_second_result_that_disagrees_is_refused_and_the_first_kept() {
        let mut p = sending();
        let reply = SendReply {
            msg_id: MsgId(5),
            msg_data_id: None,
        };
        p.settle(&Outcome::Accepted(reply), T0, 0);
        let first = JobResult {
            status: "send success".into(),
            total_count: 2,
            filter_count: 2,
            sent_count: 2,
            error_count: 0,
        };
        p.finish(MsgId(5), first.clone()).unwrap();
        let other = JobResult {
            status: "send fail".into(),
            sent_count: 0,
            error_count: 2,
            ..first.clone()
        };
        assert_eq!(
            p.finish(MsgId(5), other),
            Err(StateError::ConflictingResult {
                msg_id: MsgId(5),
                held: "send success".into(),
                given: "send fail".into(),
            })
        );
        assert_eq!(
            p.state(),
            &BatchState::Finished {
                msg_id: MsgId(5),
                result: first
            }
        );
    }

    #[test]
    fn progress_round_trips_through_json() {
        let mut p = sending();
        p.settle(&Outcome::ReplyLost, T0, 0);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<BatchProgress>(&json).unwrap(), p);
        assert!(
            json.contains(r#""state":{"state":"sending","attempt":1}"#),
            "{json}"
        );
    }

    #[test]
    fn outcome_from_http() {
        assert_eq!(Outcome::from_http(504, b""), Outcome::HttpStatus(504));
        assert_eq!(Outcome::from_http(200, b"<html>"), Outcome::ReplyLost);
        assert_eq!(
            Outcome::from_http(
                200,
                br#"{"errcode":0,"errmsg":"send job submission success","msg_id":34182}"#
            ),
            Outcome::Accepted(SendReply {
                msg_id: MsgId(34182),
                msg_data_id: None
            })
        );
        assert!(matches!(
            Outcome::from_http(
                200,
                br#"{"errcode":45028,"errmsg":"has no masssend quota"}"#
            ),
            Outcome::Api(ApiError { code: 45028, .. })
        ));
    }
}
