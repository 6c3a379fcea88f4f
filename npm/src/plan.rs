//! Send plans for JS: [`SendPlan`] (batches with fixed clientmsgids, the summary, each batch's
//! request), [`BatchProgress`] (core's retry decisions after each attempt) and [`Pacer`] (the
//! per-minute limit). The JS client drives them; every decision is core's.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wxmass::plan::{self, AccountKind, Outcome, PlanError, PlanOptions, SentRecord, UnixMillis};
use wxmass::validate::{Problem, Rule, ValidationError};
use wxmass::{Audience, MassMessage};

use crate::errors::{self, set};
use crate::openid_buffer::OpenIdBuffer;
use crate::to_js::to_js;

/// A `WxmassError` with core's JSON of the refusal (code `validation` for the message's
/// problems, `plan` for the rest), as the worker answers it.
fn plan_error(e: &PlanError) -> JsValue {
    errors::from_core(e, &e.to_string())
}

fn json_error(path: &str, e: impl std::fmt::Display) -> JsValue {
    errors::validation(&ValidationError {
        problems: vec![Problem::new(path, Rule::Json, Some(&e.to_string()))],
    })
}

/// The message of a plan: core's reader of a standalone message (the send options belong to the
/// plan and are refused there).
fn read_message(message_json: &str) -> Result<MassMessage, JsValue> {
    MassMessage::from_json(message_json.as_bytes(), "").map_err(|e| errors::validation(&e))
}

/// Grows the wasm heap once by `bytes` (allocated and freed, so later allocations reuse it).
/// V8 runs a full garbage collection on every `memory.grow`, and with a million OpenIDs in the
/// JS heap, growing step by step while planning cost more than the planning; the facade calls
/// this before passing a large list.
#[wasm_bindgen]
pub fn reserve(bytes: usize) {
    drop(Vec::<u8>::with_capacity(bytes));
}

/// 64 unpredictable bits for core's duplicate finder (std has no randomness source on this
/// target, see `PlanOptions::hash_seed`): `Math.random`, seeded by the engine, is enough to keep
/// a list from being crafted against the keys in advance.
fn hash_seed() -> u64 {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (half() << 32) | half()
}

/// A validated send, split into batches with fixed clientmsgids.
#[wasm_bindgen]
pub struct SendPlan {
    inner: plan::SendPlan,
}

/// Plans a send. `audience_json` is read by core (`Audience::from_json`: exactly one of
/// `everyone`, `tagId`, `openIds`). A large OpenID list may instead come `\n`-joined as UTF-8 in
/// an [`OpenIdBuffer`] (`openids_joined`, checked against `openid_count` so an entry holding a
/// line break cannot split into two), with `"openIds": []` standing in for it in the JSON. `account` is `service`
/// or `subscription`.
#[wasm_bindgen(js_name = planSend)]
#[allow(clippy::too_many_arguments)]
pub fn plan_send(
    job_id: &str,
    message_json: &str,
    audience_json: &str,
    openids_joined: Option<OpenIdBuffer>,
    openid_count: Option<u32>,
    account: &str,
    skip_invalid: bool,
    send_ignore_reprint: Option<bool>,
) -> Result<SendPlan, JsValue> {
    let message = read_message(message_json)?;
    let account = AccountKind::parse(account).ok_or_else(|| {
        errors::validation(&ValidationError {
            problems: vec![Problem::new(
                "account",
                Rule::OneOf {
                    fields: "service, subscription",
                },
                Some(account),
            )],
        })
    })?;
    let options = PlanOptions {
        skip_invalid,
        send_ignore_reprint,
        account,
        hash_seed: Some(hash_seed()),
    };
    let audience = Audience::from_json(audience_json.as_bytes(), "audience")
        .map_err(|e| errors::validation(&e))?;
    let plan = match (audience, openids_joined) {
        (Audience::OpenIds(_), Some(joined)) => {
            // Borrowed slices of the one buffer: core packs each OpenID as it reads it, so no
            // entry needs a string of its own.
            let count = openid_count
                .ok_or_else(|| json_error("audience.openIds", "the count of entries is missing"))?;
            let ids = joined
                .entries(count as usize)
                .map_err(|e| json_error("audience.openIds", e))?;
            plan::SendPlan::for_openids(job_id, message, &ids, options)
        }
        (audience, _) => plan::SendPlan::new(job_id, message, audience, options),
    };
    plan.map(|inner| SendPlan { inner })
        .map_err(|e| plan_error(&e))
}

/// Past sends from JS: core's `SentRecord` list with camelCase keys (`toAll`) or wire ones.
fn ledger(ledger_json: Option<String>) -> Result<Vec<SentRecord>, JsValue> {
    let Some(j) = ledger_json else {
        return Ok(Vec::new());
    };
    SentRecord::list_from_json(j.as_bytes(), "ledger").map_err(|e| errors::validation(&e))
}

#[wasm_bindgen]
impl SendPlan {
    /// The job id.
    #[wasm_bindgen(getter, js_name = jobId)]
    pub fn job_id(&self) -> String {
        self.inner.job_id().to_owned()
    }

    /// `service` or `subscription`.
    #[wasm_bindgen(getter)]
    pub fn account(&self) -> String {
        self.inner.account().as_str().to_owned()
    }

    /// Number of calls.
    #[wasm_bindgen(getter, js_name = batchCount)]
    pub fn batch_count(&self) -> usize {
        self.inner.batches().len()
    }

    /// Valid unique recipients of an OpenID plan (0 for a tag or everyone).
    #[wasm_bindgen(getter, js_name = recipientCount)]
    pub fn recipient_count(&self) -> usize {
        self.inner.recipient_count()
    }

    /// `[{ index, clientMsgId, endpoint, recipients, isToAll }]` (`recipients`: OpenIDs in the
    /// batch, or `null` for a tag or everyone).
    pub fn batches(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.batches())
    }

    /// The OpenIDs of batch `index` (empty for a tag or everyone).
    #[wasm_bindgen(js_name = batchRecipients)]
    pub fn batch_recipients(&self, index: usize) -> Array {
        self.inner
            .batch_recipients(index)
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect()
    }

    /// The exact request of batch `index` (with its clientmsgid), like `buildRequest`.
    pub fn request(
        &self,
        index: usize,
        api_base_url: Option<String>,
        access_token: Option<String>,
    ) -> Result<Object, JsValue> {
        let req = self.inner.request(index).ok_or_else(|| {
            errors::wxmass_error("plan", "index", "batch_index", &format!("no batch {index}"))
        })?;
        let base = crate::api_base(api_base_url)?;
        let http = req.build(&base).map_err(|e| errors::validation(&e))?;
        Ok(crate::request_object(&http, access_token.as_deref(), true))
    }

    /// The plan for a person (camelCase), given past sends (`ledger`: core's `SentRecord` JSON
    /// list) at `now` (Unix ms).
    pub fn summary(&self, ledger_json: Option<String>, now: f64) -> Result<JsValue, JsValue> {
        to_js(
            &self
                .inner
                .summary(&ledger(ledger_json)?, UnixMillis(now as i64)),
        )
    }

    /// The summary as text.
    #[wasm_bindgen(js_name = summaryText)]
    pub fn summary_text(&self, ledger_json: Option<String>, now: f64) -> Result<String, JsValue> {
        Ok(self
            .inner
            .summary(&ledger(ledger_json)?, UnixMillis(now as i64))
            .to_string())
    }
}

/// The life of one batch: begin an attempt, settle what it produced, get core's next action.
#[wasm_bindgen]
#[derive(Default)]
pub struct BatchProgress {
    inner: plan::BatchProgress,
}

fn action(a: &plan::Action) -> Result<JsValue, JsValue> {
    let v = to_js(a)?;
    if let plan::Action::Fail {
        reason,
        maybe_delivered,
    } = a
    {
        set(
            &Object::from(v.clone()),
            "message",
            reason.explain(*maybe_delivered),
        );
    }
    Ok(v)
}

#[wasm_bindgen]
impl BatchProgress {
    /// A batch not yet attempted.
    #[wasm_bindgen(constructor)]
    pub fn new() -> BatchProgress {
        BatchProgress::default()
    }

    /// Starts an attempt at `now`; throws when the batch is settled or it is too early.
    #[wasm_bindgen(js_name = beginAttempt)]
    pub fn begin_attempt(&mut self, now: f64) -> Result<u32, JsValue> {
        self.inner
            .begin_attempt(UnixMillis(now as i64))
            .map_err(|e| errors::wxmass_error("plan", "", "batch_state", &e.to_string()))
    }

    /// Settles an HTTP answer (`status`, body bytes): `{ action: 'done', msgId }`,
    /// `{ action: 'retry_at', at }`, `{ action: 'refresh_token_then_retry' }`,
    /// `{ action: 'wait_until', until }` or `{ action: 'fail', reason, maybeDelivered, message }`.
    #[wasm_bindgen(js_name = settleHttp)]
    pub fn settle_http(
        &mut self,
        status: u16,
        body: &[u8],
        now: f64,
        jitter: u32,
    ) -> Result<JsValue, JsValue> {
        let outcome = Outcome::from_http(status, body);
        action(&self.inner.settle(&outcome, UnixMillis(now as i64), jitter))
    }

    /// Settles an attempt with no usable answer (timeout, dropped connection): it may have
    /// reached WeChat.
    #[wasm_bindgen(js_name = settleLost)]
    pub fn settle_lost(&mut self, now: f64, jitter: u32) -> Result<JsValue, JsValue> {
        action(
            &self
                .inner
                .settle(&Outcome::ReplyLost, UnixMillis(now as i64), jitter),
        )
    }

    /// Attempts so far.
    #[wasm_bindgen(getter)]
    pub fn attempts(&self) -> u32 {
        self.inner.attempts()
    }

    /// Earliest next attempt (Unix ms), if core set one.
    #[wasm_bindgen(getter, js_name = notBefore)]
    pub fn not_before(&self) -> Option<f64> {
        self.inner.not_before().map(|t| t.0 as f64)
    }

    /// Whether an attempt may have reached WeChat.
    #[wasm_bindgen(getter, js_name = maybeDelivered)]
    pub fn maybe_delivered(&self) -> bool {
        self.inner.maybe_delivered()
    }

    /// The state, as core names it (camelCase, ids as strings).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.state())
    }

    /// Whether the batch is submitted, finished, failed or cancelled: no further attempt.
    #[wasm_bindgen(getter)]
    pub fn settled(&self) -> bool {
        self.inner.is_settled()
    }

    /// Everything core keeps about the batch (state, counters, times; camelCase, ids as
    /// strings), to store and give back to [`BatchProgress::from_json`] after a restart.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner)
    }

    /// The batch as a snapshot left it (`toJSON`'s object as JSON text, read by core's
    /// `BatchProgress::from_json`). An attempt the snapshot shows begun but not settled is, to
    /// core, a reply that may have been lost: the next attempt waits for WeChat's clientmsgid
    /// window and reuses the clientmsgid.
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(json: &str) -> Result<BatchProgress, JsValue> {
        plan::BatchProgress::from_json(json.as_bytes(), "progress")
            .map(|inner| BatchProgress { inner })
            .map_err(|e| errors::validation(&e))
    }
}

/// At most the account's per-minute number of mass-send calls in any sliding minute (core's
/// pacer).
#[wasm_bindgen]
#[derive(Default)]
pub struct Pacer {
    inner: plan::Pacer,
}

#[wasm_bindgen]
impl Pacer {
    /// An empty window at the API's limit.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// The earliest time (Unix ms) at which the next call may start.
    #[wasm_bindgen(js_name = nextSlot)]
    pub fn next_slot(&self, now: f64) -> f64 {
        self.inner.next_slot(UnixMillis(now as i64)).0 as f64
    }

    /// Records a call started at `at` (Unix ms).
    pub fn record(&mut self, at: f64) {
        self.inner.record(UnixMillis(at as i64));
    }

    /// The window (`{ limit, recent }`), to store and give back to [`Pacer::from_json`], so
    /// calls made before a restart still count in their minute.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner)
    }

    /// The window a snapshot kept: its `limit` and the `recent` calls (Unix ms), recorded
    /// again (core sorts them and keeps what can still decide a slot).
    pub fn restore(limit: u32, recent: Vec<f64>) -> Pacer {
        let mut inner = plan::Pacer::with_limit(limit);
        for at in recent {
            inner.record(UnixMillis(at as i64));
        }
        Pacer { inner }
    }
}

/// An instant as a person in China reads it (core's wording, e.g. `2030-03-07 08:00:00 China
/// time (UTC+8)`), for tools that show times of a plan or a send.
#[wasm_bindgen(js_name = chinaTime)]
pub fn china_time(ms: f64) -> String {
    UnixMillis(ms as i64).china_display()
}

/// When a scheduled send may start, from text as a person types it (`--send-at`, a form field):
/// RFC 3339 with an offset or Unix milliseconds as digits. Core refuses what is not a time and a
/// time more than a minute before `now` (Unix ms), each as a `validation` WxmassError at `path`.
#[wasm_bindgen(js_name = readSendAt)]
pub fn read_send_at(text: &str, path: &str, now: f64) -> Result<f64, JsValue> {
    plan::read_send_at_text(text, path, UnixMillis(now as i64))
        .map(|at| at.0 as f64)
        .map_err(|e| errors::validation(&e))
}
