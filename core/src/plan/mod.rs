//! Send planning: from a job, a message and an audience to validated batches with fixed
//! idempotency keys; account quotas and pacing; and what to do after each attempt.
//!
//! Users send to lists far larger than the 10,000 OpenIDs one call takes, on accounts whose
//! quota is tiny. The failures they fear most are a send that goes out twice and followers that
//! are silently skipped; this module makes both impossible by construction:
//!
//! - **Nobody skipped silently.** [`SendPlan::new`] drops duplicates (and counts them), refuses
//!   invalid OpenIDs with their positions unless the caller opts to skip them (then they are
//!   counted and listed too), and puts every remaining OpenID in exactly one batch of 2..=10,000.
//!   A single recipient is refused with a pointer to preview, never dropped.
//! - **Nothing sent twice.** Each batch's `clientmsgid` is derived from the job, the batch and
//!   its content ([`client_msg_id`]), fixed at planning, and reused by every retry; [`decide()`]
//!   never asks for a new one, and turns WeChat's 45065 into success with the existing msg_id.
//!
//! An audience too large for one request is uploaded in parts, sealed once into chunks that are
//! the batches of every job sent to it, and planned from the chunks' digests alone
//! ([`sealed_audience`], [`SendPlan::for_sealed_audience`]). The account's quota is shared by
//! its jobs: [`SendPlan::summary_with_pending`] lays out the pending batches of earlier jobs
//! first and says which batches go on which China day.
//!
//! Core stays sans-IO: time ([`UnixMillis`]), randomness (a `jitter: u32` per decision) and the
//! record of past sends ([`SentRecord`]) are parameters, so every rule here is a unit test.
//!
//! The driver (the worker, or your own loop) does, per batch:
//! 1. [`quota::earliest_start`] and [`Pacer::next_slot`] say when;
//! 2. [`BatchProgress::begin_attempt`], store it, send [`SendPlan::request`] built with
//!    [`BatchRequest::build`], [`Pacer::record`];
//! 3. [`Outcome::from_http`], then [`BatchProgress::settle`] gives the next [`Action`];
//! 4. a submitted batch whose MASSSENDJOBFINISH has not come by [`first_status_check_at`]:
//!    mass/get, then [`after_status`] says finished, failed or when to ask again.
//!
//! [`CronTurn`] is that driver's every decision in one place: built from what a run read, it
//! answers the next step (send, check, refresh the token, defer, fail, stop) and takes each
//! call's outcome back, so the driver only reads, calls and commits.
//!
//! ```
//! use wxmass::plan::{
//!     earliest_start, AccountKind, Action, BatchProgress, Outcome, Pacer, PlanOptions,
//!     QuotaDecision, SendPlan, UnixMillis,
//! };
//! use wxmass::{ApiBase, Audience, MassMessage};
//!
//! let openids: Vec<String> = (0..10_001).map(|i| format!("oR5Gjjl_eiZoUpGozMo7{i:08}")).collect();
//! let plan = SendPlan::new(
//!     "newsletter-2024-06",
//!     MassMessage::mpnews("NEWS_MEDIA_ID"),
//!     Audience::OpenIds(openids),
//!     PlanOptions::new(AccountKind::Service),
//! )?;
//! assert_eq!(plan.batches().len(), 2); // 5,001 + 5,000
//!
//! let now = UnixMillis(1_718_000_000_000); // the caller's clock: Date.now(), SystemTime, …
//! println!("{}", plan.summary(&[], now)); // for a person to confirm
//! assert_eq!(earliest_start(plan.account(), &[], &plan.quota_need(), now), QuotaDecision::Now);
//!
//! let mut pacer = Pacer::new();
//! let mut progress = BatchProgress::new(); // stored per batch between runs (serde)
//! let at = pacer.next_slot(now);
//! progress.begin_attempt(at)?; // store progress, then send:
//! let http = plan.request(0).expect("batch 0").build(&ApiBase::default())?;
//! pacer.record(at);
//! # let (status, body) = (200, br#"{"errcode":0,"errmsg":"send job submission success","msg_id":1000000001}"#);
//! // … POST http.body to http.url_with_token(token), get (status, body) back …
//! let jitter: u32 = 12_345; // any random u32 from the caller
//! match progress.settle(&Outcome::from_http(status, body), at, jitter) {
//!     Action::Done { msg_id } => println!("batch 0 is msg_id {msg_id}"),
//!     Action::RetryAt { at } | Action::WaitUntil { until: at } => println!("again at {at}"),
//!     Action::RefreshTokenThenRetry => println!("refresh the token, then again"),
//!     Action::Fail { reason, maybe_delivered } => println!("{}", reason.explain(maybe_delivered)),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

pub mod batch;
pub mod china_time;
pub mod client_msg_id;
pub mod collect;
pub mod decide;
pub mod outcome;
pub mod pacer;
pub mod quota;
mod recipients;
pub mod sealed_audience;
pub mod send_at;
pub(crate) mod sha256_lanes;
pub mod status_check;
pub mod summary;
pub mod turn;

pub use batch::{Batch, BatchAudience, BatchRequest};
pub use china_time::{ChinaDate, UnixMillis};
pub use collect::{CollectCosts, CollectStep, Collected, Collecting};
pub use decide::{
    backoff_ms, batch_state_zh, decide, Action, BatchProgress, BatchState, FailReason, JobResult,
    Outcome, StateError,
};
pub use outcome::{
    job_reason, job_state, BatchOutcome, BatchTally, Delivery, JobReason, JobState, ResultCounts,
    Text,
};
pub use pacer::Pacer;
pub use quota::{
    days_needed, earliest_start, usage as quota_usage, AccountKind, PendingSend, QuotaDecision,
    QuotaNeed, QuotaRule, QuotaUsage, QuotaWindow, SendKind, SentRecord,
};
pub use sealed_audience::{
    chunk_digest, read_audience_part, AudiencePart, AudienceSealer, ChunkRef, PartFormat,
    SealedAudience, SealedChunk, SealedPlan,
};
pub use send_at::{read_send_at, read_send_at_text, send_at_from_value, TimeError};
pub use status_check::{after_status, first_status_check_at, StatusCheck};
pub use summary::{PlanSummary, ScheduledDay};
pub use turn::{
    AccountTurns, CallAnswer, CheckSettled, CheckStep, CronTurn, DueBatch, OverdueBatch,
    SendSettled, SendStep, Spend, Stage, Step, StepCosts, StopReason, TurnRead,
};

#[doc(hidden)]
pub use sha256_lanes::digest_pairs as sha256_lane_digests;

use crate::audience::{Audience, SendAllFilter};
use crate::endpoint::{SendAllRequest, SendToUsersRequest};
use crate::limits::{PLAN_INVALID_SHOWN_MAX, PLAN_JOB_ID_MAX_BYTES, PLAN_MAX_BATCHES};
use crate::message::{MassMessage, Use};
use crate::validate::{shorten, Problem, Problems, Rule, ValidationError};

use client_msg_id::{is_job_id, PlanDigest};

/// How to plan. Serde, so the worker and the npm package can take it as JSON
/// (`{"account":"service","skip_invalid":true}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanOptions {
    /// Send to the valid OpenIDs and report the invalid ones, instead of refusing the plan.
    #[serde(default)]
    pub skip_invalid: bool,
    /// `send_ignore_reprint` of every batch (1 = go on when an article is judged a reprint).
    #[serde(default)]
    pub send_ignore_reprint: Option<bool>,
    /// The account, which decides what it may send and its quotas.
    pub account: AccountKind,
    /// Entropy for the keys of the duplicate finder's hash, from the caller's random source
    /// (core does no IO). Without it core uses std's `RandomState`, which has no randomness
    /// source on `wasm32-unknown-unknown` (the npm package, the worker): there its keys are
    /// predictable, and a list crafted against them could make deduplication quadratic. Only
    /// where entries are filed depends on it, never the plan.
    #[serde(skip)]
    pub hash_seed: Option<u64>,
}

impl PlanOptions {
    /// Strict options for `account`: invalid OpenIDs refuse the plan, no reprint flag.
    pub fn new(account: AccountKind) -> Self {
        PlanOptions {
            skip_invalid: false,
            send_ignore_reprint: None,
            account,
            hash_seed: None,
        }
    }
}

/// An OpenID that is not 28 characters of `[A-Za-z0-9_-]`, at its position in the input list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidOpenId {
    /// Position in the list as given (from 0).
    pub position: usize,
    /// The value, shortened for display.
    pub value: String,
}

impl fmt::Display for InvalidOpenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {:?}", self.position, self.value)
    }
}

/// Why a plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The job id cannot be written into a `clientmsgid`.
    #[error("job id {job_id:?} is not valid: it must be 1 to {PLAN_JOB_ID_MAX_BYTES} bytes of visible ASCII (no spaces), because it is written into every clientmsgid (at most 64 bytes)")]
    InvalidJobId {
        /// The job id, shortened.
        job_id: String,
    },
    /// The message breaks a rule of the send endpoints.
    #[error("the message is not valid: {0}")]
    InvalidMessage(ValidationError),
    /// A subscription account asked to send to an OpenID list.
    #[error(
        "a subscription account cannot send to a list of OpenIDs: {}",
        quota::SUBSCRIPTION_NO_OPENID_LIST
    )]
    OpenIdListNeedsServiceAccount,
    /// Some OpenIDs are malformed and the caller did not opt to skip them.
    #[error("{count} of the OpenIDs are not valid (28 characters of A-Z a-z 0-9 _ -): {}{}; fix them, or plan with skip_invalid to send to the valid ones only", list(shown), more(*count, shown.len()))]
    InvalidOpenIds {
        /// How many are invalid.
        count: usize,
        /// The first ones, by position (at most [`PLAN_INVALID_SHOWN_MAX`]).
        shown: Vec<InvalidOpenId>,
    },
    /// No recipient is left.
    #[error("the audience is empty: no valid OpenID is left ({duplicates_dropped} duplicates dropped, {invalid_skipped} invalid skipped)")]
    EmptyAudience {
        /// Duplicates dropped.
        duplicates_dropped: usize,
        /// Invalid OpenIDs skipped.
        invalid_skipped: usize,
    },
    /// Exactly one recipient: `mass/send` rejects a single OpenID.
    #[error("only one recipient ({openid}): WeChat's mass/send needs at least 2 OpenIDs; send to a single follower with preview (mass/preview) instead")]
    SingleRecipient {
        /// The one OpenID.
        openid: String,
    },
    /// More batches than a plan's `clientmsgid`s can number.
    #[error("{recipients} recipients need {batches} batches, more than the {PLAN_MAX_BATCHES} one plan can hold; split the job")]
    TooManyRecipients {
        /// Valid unique recipients.
        recipients: usize,
        /// Batches they would need.
        batches: usize,
    },
    /// Text pushed to an [`AudienceSealer`] holds entries that are not OpenIDs (it takes the
    /// parts' `valid_text`, which holds none, so the text was changed or is something else).
    #[error("{count} entries of the text given to the audience sealer are not OpenIDs (28 characters of A-Z a-z 0-9 _ -, one a line): {}{}; push the valid_text of each part as read_audience_part gave it", list(shown), more(*count, shown.len()))]
    UnsealableText {
        /// How many entries are not OpenIDs.
        count: usize,
        /// The first ones, by position among the entries pushed (at most
        /// [`PLAN_INVALID_SHOWN_MAX`]).
        shown: Vec<InvalidOpenId>,
    },
    /// A chunk of a sealed audience cannot be a batch: its count is not 2 to 10,000 or its
    /// digest is not one the sealer gives (paths `chunks[3].count`, `chunks[3].digest`).
    #[error("the chunks of the sealed audience are not valid: {0}")]
    InvalidChunks(ValidationError),
}

impl PlanError {
    /// Stable machine name of the error (the npm package's `rule`, the worker's error JSON).
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::InvalidJobId { .. } => "job_id",
            PlanError::InvalidMessage(_) => "message",
            PlanError::OpenIdListNeedsServiceAccount => "openid_list_needs_service_account",
            PlanError::InvalidOpenIds { .. } => "invalid_openids",
            PlanError::EmptyAudience { .. } => "empty_audience",
            PlanError::SingleRecipient { .. } => "single_recipient",
            PlanError::TooManyRecipients { .. } => "too_many_recipients",
            PlanError::UnsealableText { .. } => "unsealable_text",
            PlanError::InvalidChunks(_) => "chunks",
        }
    }
}

/// JSON (the JS model, and the `error` of the worker's 400 answers): a message's problems as
/// [`ValidationError`] writes them (code `validation`); any other refusal as
/// `{"code":"plan","message","path","rule","problems"}`, `rule` being [`PlanError::code`], `path`
/// the input it concerns (`jobId`, `audience`, or the first invalid `audience.openIds[n]`) and
/// `problems` one per invalid OpenID shown or per chunk problem.
impl serde::Serialize for PlanError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let openid_problems = |shown: &[InvalidOpenId]| -> Vec<Problem> {
            shown
                .iter()
                .map(|i| {
                    Problem::new(
                        format!("audience.openIds[{}]", i.position),
                        Rule::OpenIdFormat,
                        Some(&i.value),
                    )
                })
                .collect()
        };
        let (path, problems) = match self {
            PlanError::InvalidMessage(v) => return v.serialize(s),
            PlanError::InvalidJobId { .. } => ("jobId".to_owned(), Vec::new()),
            PlanError::InvalidOpenIds { shown, .. } => {
                let problems = openid_problems(shown);
                let first = problems.first().map(|p| p.path.clone());
                (first.unwrap_or_else(|| "audience".to_owned()), problems)
            }
            PlanError::InvalidChunks(v) => {
                let first = v.problems.first().map(|p| p.path.clone());
                (first.unwrap_or_default(), v.problems.clone())
            }
            _ => ("audience".to_owned(), Vec::new()),
        };
        let mut m = s.serialize_struct("PlanError", 5)?;
        m.serialize_field("code", "plan")?;
        m.serialize_field("message", &self.to_string())?;
        m.serialize_field("path", &path)?;
        m.serialize_field("rule", self.code())?;
        m.serialize_field("problems", &problems)?;
        m.end()
    }
}

fn list(shown: &[InvalidOpenId]) -> String {
    shown
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn more(count: usize, shown: usize) -> String {
    match count.saturating_sub(shown) {
        0 => String::new(),
        n => format!(" and {n} more"),
    }
}

/// A validated send: its batches, each with a fixed `clientmsgid`, and what was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPlan {
    job_id: String,
    message: MassMessage,
    send_ignore_reprint: Option<bool>,
    account: AccountKind,
    /// The deduplicated valid OpenIDs, in first-seen order (empty for a tag or everyone),
    /// packed: 24 bytes each in one array instead of a heap string each, which is what lets a
    /// million-entry list plan without a million allocations (see `recipients.rs`).
    recipients: Vec<recipients::Key>,
    batches: Vec<Batch>,
    duplicates_dropped: usize,
    invalid_count: usize,
    invalid_shown: Vec<InvalidOpenId>,
}

impl SendPlan {
    /// Plans sending `message` to `audience` as job `job_id`.
    ///
    /// Checks, in order: the job id, the message, whether the account may send to this audience,
    /// then the OpenIDs (malformed ones refuse the plan unless `options.skip_invalid`;
    /// duplicates are dropped, keeping the first), and the count left (0 and 1 are refused).
    /// Planning is deterministic: the same input gives the same plan and the same ids.
    pub fn new(
        job_id: &str,
        message: MassMessage,
        audience: Audience,
        options: PlanOptions,
    ) -> Result<SendPlan, PlanError> {
        let filter = match audience {
            Audience::Everyone => SendAllFilter::Everyone,
            Audience::Tag(id) => SendAllFilter::Tag(id),
            Audience::OpenIds(ids) => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                return SendPlan::for_openids(job_id, message, &ids, options);
            }
        };
        let mut plan = SendPlan::start(job_id, message, options)?;
        let digest = PlanDigest::new(&plan.job_id, &plan.message, plan.send_ignore_reprint, 1);
        plan.batches.push(Batch {
            index: 0,
            clientmsgid: digest.for_filter(&plan.job_id, 0, filter),
            recipients: BatchAudience::Filter(filter),
        });
        Ok(plan)
    }

    /// Plans sending `message` to the OpenIDs `ids`: [`SendPlan::new`] with
    /// [`Audience::OpenIds`], for a list the caller holds as borrowed strings (the npm package
    /// splits one buffer into them), so that no OpenID needs a copy of its own.
    pub fn for_openids(
        job_id: &str,
        message: MassMessage,
        ids: &[&str],
        options: PlanOptions,
    ) -> Result<SendPlan, PlanError> {
        let mut plan = SendPlan::start(job_id, message, options)?;
        if options.account == AccountKind::Subscription {
            return Err(PlanError::OpenIdListNeedsServiceAccount);
        }
        plan.plan_openids(ids, &options)?;
        Ok(plan)
    }

    /// Plans sending `message` to a sealed audience (see [`sealed_audience`]) as job `job_id`,
    /// from what is kept of each chunk: its count and digest ([`SealedAudience::chunk_refs`]).
    /// Batch *i* sends to chunk *i*; no OpenID is read.
    ///
    /// Checks, in order: the job id, the message, the account (a subscription account cannot
    /// send to OpenIDs), then the chunks: at least one, at most [`PLAN_MAX_BATCHES`], each of
    /// 2 to 10,000 OpenIDs with a digest of 64 lowercase hex digits (every bad one named at
    /// `chunks[i].count` or `chunks[i].digest`). Each batch's `clientmsgid` is derived from the
    /// job, the message, the batch and its chunk's count and digest (v2 in [`client_msg_id`]):
    /// the same inputs always give the same ids.
    ///
    /// A [`SealedPlan`] rather than a [`SendPlan`]: it holds no OpenIDs, so its batches'
    /// requests are built from the chunks at send time.
    pub fn for_sealed_audience(
        job_id: &str,
        message: MassMessage,
        chunks: &[ChunkRef],
        options: PlanOptions,
    ) -> Result<SealedPlan, PlanError> {
        SealedPlan::new(job_id, message, chunks, options)
    }

    /// The checks every plan begins with (job id, then message), and the plan without batches.
    fn start(
        job_id: &str,
        message: MassMessage,
        options: PlanOptions,
    ) -> Result<SendPlan, PlanError> {
        let message = check_job(job_id, message)?;
        Ok(SendPlan {
            job_id: job_id.to_owned(),
            message,
            send_ignore_reprint: options.send_ignore_reprint,
            account: options.account,
            recipients: Vec::new(),
            batches: Vec::new(),
            duplicates_dropped: 0,
            invalid_count: 0,
            invalid_shown: Vec::new(),
        })
    }

    fn plan_openids(&mut self, ids: &[&str], options: &PlanOptions) -> Result<(), PlanError> {
        let skip_invalid = options.skip_invalid;
        let found = recipients::dedupe(ids, PLAN_INVALID_SHOWN_MAX, options.hash_seed);
        self.duplicates_dropped = found.duplicates;
        self.invalid_count = found.invalid_count;
        self.invalid_shown = found
            .invalid_positions
            .iter()
            .filter_map(|&position| {
                ids.get(position).map(|id| InvalidOpenId {
                    position,
                    value: shorten(id),
                })
            })
            .collect();
        if self.invalid_count > 0 && !skip_invalid {
            return Err(PlanError::InvalidOpenIds {
                count: self.invalid_count,
                shown: std::mem::take(&mut self.invalid_shown),
            });
        }
        let keys = found.keys;
        match keys.as_slice() {
            [] => {
                return Err(PlanError::EmptyAudience {
                    duplicates_dropped: self.duplicates_dropped,
                    invalid_skipped: self.invalid_count,
                })
            }
            [only] => {
                return Err(PlanError::SingleRecipient {
                    openid: recipients::unpack(only),
                })
            }
            _ => {}
        }
        let ranges = batch::split_ranges(keys.len());
        if ranges.len() > PLAN_MAX_BATCHES {
            return Err(PlanError::TooManyRecipients {
                recipients: keys.len(),
                batches: ranges.len(),
            });
        }
        let digest = PlanDigest::new(
            &self.job_id,
            &self.message,
            self.send_ignore_reprint,
            ranges.len(),
        );
        // All batches' ids in one call: their digests share the wasm SIMD lanes.
        let ids = digest.for_openid_batches(
            &self.job_id,
            ranges
                .iter()
                .enumerate()
                .map(|(index, range)| (index, keys.get(range.clone()).unwrap_or_default())),
        );
        self.batches = ranges
            .into_iter()
            .zip(ids)
            .enumerate()
            .map(|(index, (range, clientmsgid))| Batch {
                index,
                clientmsgid,
                recipients: BatchAudience::OpenIds(range),
            })
            .collect();
        self.recipients = keys;
        Ok(())
    }

    /// The job id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The message.
    pub fn message(&self) -> &MassMessage {
        &self.message
    }

    /// The account planned for.
    pub fn account(&self) -> AccountKind {
        self.account
    }

    /// `send_ignore_reprint` of every batch.
    pub fn send_ignore_reprint(&self) -> Option<bool> {
        self.send_ignore_reprint
    }

    /// The batches, in order.
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// How many OpenIDs the plan sends to: the deduplicated valid ones (0 for a tag or
    /// everyone).
    pub fn recipient_count(&self) -> usize {
        self.recipients.len()
    }

    /// The deduplicated valid OpenIDs in first-seen order (empty for a tag or everyone). The
    /// plan stores them packed, so this makes a string for each: for one batch, use
    /// [`SendPlan::batch_recipients`]; for the count, [`SendPlan::recipient_count`].
    pub fn recipients(&self) -> Vec<String> {
        self.recipients.iter().map(recipients::unpack).collect()
    }

    /// The OpenIDs of batch `index` (empty for a tag or everyone, or out of range).
    pub fn batch_recipients(&self, index: usize) -> Vec<String> {
        match self.batches.get(index).map(|b| &b.recipients) {
            Some(BatchAudience::OpenIds(r)) => self
                .recipients
                .get(r.clone())
                .unwrap_or_default()
                .iter()
                .map(recipients::unpack)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Duplicate OpenIDs dropped (each repeat after the first counts once).
    pub fn duplicates_dropped(&self) -> usize {
        self.duplicates_dropped
    }

    /// Invalid OpenIDs skipped (only with `skip_invalid`).
    pub fn invalid_skipped(&self) -> usize {
        self.invalid_count
    }

    /// The first skipped invalid OpenIDs with their positions (at most
    /// [`PLAN_INVALID_SHOWN_MAX`]).
    pub fn invalid_shown(&self) -> &[InvalidOpenId] {
        &self.invalid_shown
    }

    /// Whether the plan sends `is_to_all: true`.
    pub fn is_to_all(&self) -> bool {
        self.batches.iter().any(Batch::is_to_all)
    }

    /// The calls the plan makes, as quotas count them.
    pub fn quota_need(&self) -> QuotaNeed {
        let sendall = self
            .batches
            .iter()
            .filter(|b| b.send_kind() == SendKind::SendAll)
            .count();
        QuotaNeed {
            sendall_calls: sendall,
            send_calls: self.batches.len() - sendall,
            to_all: self.is_to_all(),
        }
    }

    /// The exact request of batch `index`, carrying its `clientmsgid`; `None` out of range.
    pub fn request(&self, index: usize) -> Option<BatchRequest> {
        let b = self.batches.get(index)?;
        Some(match &b.recipients {
            BatchAudience::Filter(filter) => BatchRequest::SendAll(SendAllRequest {
                filter: *filter,
                message: self.message.clone(),
                send_ignore_reprint: self.send_ignore_reprint,
                clientmsgid: Some(b.clientmsgid.clone()),
            }),
            BatchAudience::OpenIds(_) => BatchRequest::SendToUsers(SendToUsersRequest {
                touser: self.batch_recipients(index),
                message: self.message.clone(),
                send_ignore_reprint: self.send_ignore_reprint,
                clientmsgid: Some(b.clientmsgid.clone()),
            }),
        })
    }

    /// The plan for people: counts, earliest start given `ledger` at `now`, duration, quota
    /// used, which batches go on which China day, and notes. The account's other jobs are not
    /// counted: [`SendPlan::summary_with_pending`] counts them.
    pub fn summary(&self, ledger: &[SentRecord], now: UnixMillis) -> PlanSummary {
        self.summary_with_pending(ledger, &[], now)
    }

    /// [`SendPlan::summary`] on an account whose quota other jobs share: `pending` holds a
    /// [`PendingSend`] for every batch of the account's other pending or scheduled jobs. Those
    /// were created earlier, so they are laid out first, on China days at the account's daily
    /// quota from their `not_before`; this plan's batches then take what is left, from `now`.
    /// The summary's `earliest_start`, `days_needed`, `estimated_duration_ms` and `schedule`
    /// say where that puts them, and a note says why a day's batches wait (e.g. "batches
    /// 61–100 start tomorrow, 2030-03-08 00:00 China time: the account's 100 mass sends a day
    /// are used up today (40 by earlier jobs, 60 by this job's batches 1–60)").
    pub fn summary_with_pending(
        &self,
        ledger: &[SentRecord],
        pending: &[PendingSend],
        now: UnixMillis,
    ) -> PlanSummary {
        summary::summarize(
            summary::Facts {
                job_id: &self.job_id,
                message: &self.message,
                account: self.account,
                batches: &self.batches,
                recipients: self.recipients.len(),
                duplicates_dropped: self.duplicates_dropped,
                invalid_skipped: self.invalid_count,
                invalid_shown: &self.invalid_shown,
                need: self.quota_need(),
            },
            ledger,
            pending,
            now,
        )
    }
}

/// The checks every plan begins with: the job id, then the message (for a send).
fn check_job(job_id: &str, message: MassMessage) -> Result<MassMessage, PlanError> {
    if !is_job_id(job_id) {
        return Err(PlanError::InvalidJobId {
            job_id: shorten(job_id),
        });
    }
    let mut p = Problems::default();
    message.check(Use::Send, &mut p);
    p.into_result().map_err(PlanError::InvalidMessage)?;
    Ok(message)
}
