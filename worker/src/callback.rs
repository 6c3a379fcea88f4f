//! `/wechat/callback`: URL verification (GET) and pushes (POST).
//!
//! **The mode is configuration** (`CALLBACK_MODE`: `plain`, `compat`, `safe`; default safe with
//! `ENCODING_AES_KEY`, plain without), and core enforces it: in compatible and safe mode a push
//! must be signed over its `<Encrypt>` (`msg_signature`), so a plain push — whose `signature`
//! does not cover the body — is refused with 403 and nothing is stored. In plain mode each
//! accepted push's signed query is remembered for the skew window, and the same query with
//! another body is refused with 403 `replayed`.
//!
//! **A mass-send result is stored before it is acknowledged.** WeChat never retries after
//! `success`, so the event row and its batch's update go in one atomic commit (at most three D1
//! queries with the read); if it fails, the answer is 503 and WeChat retries. Retries and
//! replays land once, by core's dedupe key (MsgID + Status).
//!
//! **Every other push is the account's own server's** (an account has ONE callback URL: user
//! messages, menu clicks, subscriptions…). With `FORWARD_URL` it is forwarded with WeChat's
//! query string, body and content type, and the answer (a passive reply, `success` or empty)
//! goes back byte for byte; if that server fails or takes over 4 s, WeChat gets `success` (not a
//! retry of something half handled) and the push is kept as `forward_failed`. It is stored only
//! with `STORE_ALL_PUSHES=true`, or as `unreadable` when core cannot parse it.
//!
//! **A second result for one send that says something else** (another Status for a MsgID whose
//! batch already holds a result) is stored `conflicting`, with the reason, and never applied:
//! the batch keeps the first. WeChat sends one result per send, so one of the two is not
//! WeChat's; `GET /api/events?state=conflicting` lists them.

use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use worker::{Request, Response};
use wxmass::callback::{
    open_callback, verify_url, CallbackConfig, CallbackError, CallbackQuery, SecurityMode,
};
use wxmass::event::{CallbackMessage, EventError, MassSendJobFinish};
use wxmass::limits::{CALLBACK_BODY_MAX_BYTES, CALLBACK_SUCCESS_REPLY};
use wxmass::plan::{BatchOutcome, BatchProgress, JobResult, StateError, Text};

use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{self, BatchRow, NewEvent};
use crate::wechat::Forwarded;

fn query(req: &Request) -> Result<CallbackQuery, AppError> {
    let url = req.url()?;
    Ok(CallbackQuery::from_query_string(url.query().unwrap_or("")))
}

fn refused(e: &CallbackError) -> Result<Response, AppError> {
    let status = match e {
        CallbackError::BodyTooLarge { .. } => 413,
        _ => 403,
    };
    Ok(Response::error(format!("refused: {}", e.code()), status)?)
}

/// GET: echo `echostr` when the signature matches the token.
pub fn verify(req: &Request, app: &Ctx) -> Result<Response, AppError> {
    let token = app.acct()?.secret("callbackToken")?;
    match verify_url(token, &query(req)?) {
        Ok(echostr) => Ok(Response::ok(echostr)?),
        Err(e) => refused(&e),
    }
}

/// How long the account's own server gets for a forwarded push: WeChat waits 5 s in all.
const FORWARD_TIMEOUT_MS: u64 = 4_000;

/// The account's callback settings: the token, the key and the configured mode.
fn callback_config(app: &Ctx) -> Result<CallbackConfig, AppError> {
    let account = app.acct()?;
    let token = account.secret("callbackToken")?;
    let aes_key = account.secrets.encoding_aes_key.as_deref();
    let config = CallbackConfig::new(token, aes_key, &account.app_id)
        .map_err(|e| AppError::Config(format!("account {}: EncodingAESKey: {e}", account.id)))?;
    let config = match account.callback_mode {
        Some(mode) => config
            .with_mode(mode)
            .map_err(|e| AppError::Config(format!("CALLBACK_MODE={}: {e}", mode.as_str())))?,
        None => config,
    };
    if config.mode() == SecurityMode::Plain && !PLAIN_WARNED.swap(true, Ordering::Relaxed) {
        worker::console_warn!("CALLBACK_MODE is plain: a push's signature does not cover its body, so anyone holding the callback Token could post forged results; captured queries are refused with another body for 300 s, but use safe mode (set ENCODING_AES_KEY) on a live account");
    }
    Ok(config)
}

/// Once per isolate: the plain-mode warning.
static PLAIN_WARNED: AtomicBool = AtomicBool::new(false);

/// What came in, as the account's own server would need it again.
struct Incoming {
    query: String,
    body: Vec<u8>,
    content_type: Option<String>,
}

/// POST: verify and open the push; store a mass-send result before answering `success`; pass
/// everything else to the account's own server (`FORWARD_URL`) and its answer back to WeChat.
pub async fn receive(mut req: Request, app: &Ctx) -> Result<Response, AppError> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if declared > CALLBACK_BODY_MAX_BYTES {
        return refused(&CallbackError::BodyTooLarge {
            size: declared,
            limit: CALLBACK_BODY_MAX_BYTES,
        });
    }
    let incoming = Incoming {
        query: req.url()?.query().unwrap_or("").to_owned(),
        content_type: req.headers().get("content-type")?,
        body: req.bytes().await?,
    };
    let config = callback_config(app)?;
    // The test clock (TEST_CLOCK=1) moves with the simulator's; otherwise the runtime's clock.
    let now = app.now();
    let q = CallbackQuery::from_query_string(&incoming.query);
    let opened = match open_callback(&config, &q, &incoming.body, Some(now / 1000)) {
        Ok(o) => o,
        Err(e) => return refused(&e),
    };
    if let Some(guard) = &opened.replay_guard {
        // Plain mode: the same signed query with another body is a forgery.
        match app
            .store
            .remember_push(&guard.key, &guard.body_digest, guard.remember_until * 1000)
            .await
        {
            Ok(remembered) if guard.is_forged(&remembered) => {
                return Ok(Response::error("refused: replayed", 403)?)
            }
            Ok(_) => {}
            Err(e) => return Ok(not_stored(&e)?),
        }
    }
    match opened.parse() {
        Ok(CallbackMessage::MassSendJobFinish(e)) => {
            if let Err(err) = store_result(app, &e, &opened.xml, now).await {
                return Ok(not_stored(&err)?);
            }
            if app.cfg.forward_all {
                // Stored already; the account's server sees it too and may answer for it.
                if let Some(Ok(upstream)) = forward(app, &incoming).await {
                    return Ok(upstream);
                }
            }
            Ok(Response::ok(CALLBACK_SUCCESS_REPLY)?)
        }
        parsed => pass_on(app, &incoming, parsed, &opened.xml, now).await,
    }
}

/// A push that is not a mass-send result: the account's own server's. Forwarded when
/// `FORWARD_URL` is set (its answer goes back byte for byte; when it fails, `success` goes back
/// so WeChat does not retry what it may have half handled, and the push is kept as
/// `forward_failed`). Stored only with `STORE_ALL_PUSHES`, or when core could not read it.
async fn pass_on(
    app: &Ctx,
    incoming: &Incoming,
    parsed: Result<CallbackMessage, EventError>,
    xml: &str,
    now: i64,
) -> Result<Response, AppError> {
    let mut keep = match &parsed {
        Err(e) => Some(("unreadable", Some(Text::new(e.to_string(), e.zh())))),
        Ok(_) if app.cfg.store_all_pushes => Some(("stored", None)),
        Ok(_) => None,
    };
    let mut answer = Response::ok(CALLBACK_SUCCESS_REPLY)?;
    let forwarded = app.acct()?.secrets.forward_url.is_some();
    if forwarded {
        match forward(app, incoming).await {
            Some(Ok(upstream)) => answer = upstream,
            Some(Err(why)) => {
                let reason = match &keep {
                    Some((_, Some(parse_error))) => Text::new(
                        format!("{}; also unreadable: {}", why.en, parse_error.en),
                        format!("{}；且无法读取：{}", why.zh, parse_error.zh),
                    ),
                    _ => why,
                };
                keep = Some(("forward_failed", Some(reason)));
            }
            None => {}
        }
    }
    if let Some((state, reason)) = keep {
        if let Err(e) =
            store_push(app, parsed.as_ref().ok(), xml, state, reason.as_ref(), now).await
        {
            if !forwarded {
                // Storing was the only handling: let WeChat retry.
                return Ok(not_stored(&e)?);
            }
            worker::console_error!("keeping a forwarded push ({state}) failed: {e:?}");
        }
    }
    Ok(answer)
}

/// Forwards the push as it came. `Some(Ok)`: the upstream's answer for WeChat; `Some(Err)`:
/// why it failed (in English and Chinese); `None`: no `FORWARD_URL`.
async fn forward(app: &Ctx, incoming: &Incoming) -> Option<Result<Response, Text>> {
    let url = app.account.as_ref()?.secrets.forward_url.as_deref()?;
    let sent = app
        .wechat
        .forward(
            url,
            &incoming.query,
            &incoming.body,
            incoming.content_type.as_deref(),
            FORWARD_TIMEOUT_MS,
        )
        .await;
    let result = match sent {
        Err(e) => Err(Text::new(
            format!("forward not sent: {e}"),
            format!("未能转发：{e}"),
        )),
        Ok(Err(e)) => Err(Text::new(
            format!("forward failed: {}", e.0),
            format!("转发失败：{}", e.0),
        )),
        Ok(Ok(up)) if !(200..300).contains(&up.status) => Err(Text::new(
            format!(
                "forward failed: the account's server answered HTTP {}",
                up.status
            ),
            format!("转发失败：公众号自己的服务器返回 HTTP {}", up.status),
        )),
        Ok(Ok(up)) => upstream_answer(up).map_err(|e| {
            Text::new(
                format!("forward: {e}"),
                format!("转发：无法转交服务器的应答：{e}"),
            )
        }),
    };
    if let Err(why) = &result {
        worker::console_warn!("{}; answered success to WeChat", why.en);
    }
    Some(result)
}

/// The upstream's answer, byte for byte, with its content type.
fn upstream_answer(up: Forwarded) -> worker::Result<Response> {
    let mut resp = Response::from_bytes(up.body)?;
    if let Some(ct) = up.content_type {
        resp.headers_mut().set("content-type", &ct)?;
    }
    Ok(resp)
}

/// Not acknowledged, so WeChat retries; the retry lands once by the dedupe key.
fn not_stored(e: &AppError) -> worker::Result<Response> {
    worker::console_error!("storing a push failed, answered 503 for a retry: {e:?}");
    Response::error("storing the push failed; retry", 503)
}

/// A MASSSENDJOBFINISH: the event, and the result on its batch, in one commit.
async fn store_result(
    app: &Ctx,
    e: &MassSendJobFinish,
    xml: &str,
    now: i64,
) -> Result<(), AppError> {
    let msg_id = e.msg_id.to_string();
    let key = e.dedupe_key();
    // Stored as `parseEvent` gives it (with its `kind`), as every other push is.
    let payload =
        serde_json::to_string(&CallbackMessage::MassSendJobFinish(e.clone())).unwrap_or_default();
    let batch = app.store.batch_by_msg_id(&msg_id).await?;
    let event = NewEvent {
        dedupe_key: &key,
        kind: "mass_send_job_finish",
        event: Some("MASSSENDJOBFINISH"),
        msg_id: Some(&msg_id),
        batch_id: None,
        payload_json: &payload,
        xml,
        // Its batch has no msg_id yet (the send's reply is not recorded): the cron applies it.
        state: "pending",
        reason: None,
        received_at: now,
    };
    let Some(row) = batch else {
        app.store
            .commit(vec![app.store.insert_event(&event, false)?])
            .await?;
        return Ok(());
    };
    store_result_with_batch(app, e, &row, event, now).await
}

/// A result whose batch is known: applied to it (the batch's update guarded by its version,
/// the event stored only if that matched), or stored `ignored` with core's reason.
async fn store_result_with_batch(
    app: &Ctx,
    e: &MassSendJobFinish,
    row: &BatchRow,
    mut event: NewEvent<'_>,
    now: i64,
) -> Result<(), AppError> {
    event.batch_id = Some(&row.id);
    match apply_result(row, e) {
        Ok(Some(new)) => {
            event.state = "applied";
            let r = app
                .store
                .commit(vec![
                    app.store.update_batch(&new, row.version, now, false)?,
                    app.store.insert_event(&event, true)?,
                ])
                .await?;
            if !store::changed(&r, 0) {
                return Err(AppError::Stale(format!(
                    "batch {} changed while its result was stored",
                    row.id
                )));
            }
        }
        Ok(None) => {
            event.state = "applied";
            app.store
                .commit(vec![app.store.insert_event(&event, false)?])
                .await?;
        }
        Err(refused) => {
            event.state = refused.state;
            event.reason = Some(&refused.reason);
            app.store
                .commit(vec![app.store.insert_event(&event, false)?])
                .await?;
        }
    }
    Ok(())
}

/// Keeps a push that is not a mass-send result: `stored` (STORE_ALL_PUSHES), `unreadable`
/// (core could not parse it; `message` is `None`) or `forward_failed`.
async fn store_push(
    app: &Ctx,
    message: Option<&CallbackMessage>,
    xml: &str,
    state: &str,
    reason: Option<&Text>,
    now: i64,
) -> Result<(), AppError> {
    let (key, kind, name, payload) = match message {
        Some(m) => (
            m.dedupe_key(),
            "other",
            Some(match m {
                CallbackMessage::Other(o) => o.event.clone().unwrap_or_else(|| o.msg_type.clone()),
                CallbackMessage::MassSendJobFinish(_) => "MASSSENDJOBFINISH".to_owned(),
            }),
            serde_json::to_string(m).unwrap_or_default(),
        ),
        None => {
            let digest = Sha256::digest(xml.as_bytes());
            let key: String = std::iter::once("unreadable:".to_owned())
                .chain(digest.iter().map(|b| format!("{b:02x}")))
                .collect();
            (key, "unreadable", None, "null".to_owned())
        }
    };
    let event = NewEvent {
        dedupe_key: &key,
        kind,
        event: name.as_deref(),
        msg_id: None,
        batch_id: None,
        payload_json: &payload,
        xml,
        state,
        reason,
        received_at: now,
    };
    app.store
        .commit(vec![app.store.insert_event(&event, false)?])
        .await?;
    Ok(())
}

/// What core keeps of an event for a batch.
fn job_result(e: &MassSendJobFinish) -> JobResult {
    JobResult {
        status: e.status.meaning.as_wire(),
        total_count: e.total_count,
        filter_count: e.filter_count,
        sent_count: e.sent_count,
        error_count: e.error_count,
    }
}

/// Why a batch does not take a result event, and the state the event is kept in: `ignored`
/// (the batch is not waiting for it), or `conflicting` (the batch holds another result for the
/// same send: one of the two is not WeChat's, so it is kept apart for a person to look at).
pub struct Refused {
    pub state: &'static str,
    /// Why, in English and Chinese.
    pub reason: Text,
}

impl Refused {
    pub fn ignored(reason: Text) -> Refused {
        Refused {
            state: "ignored",
            reason,
        }
    }
}

/// What a MASSSENDJOBFINISH does to its batch, by core's state machine: the batch's new row
/// (finished, with core's outcome of the push), `None` when it already holds this result, or
/// why it does not take it. A batch finished from mass/get (counts unknown) still takes its late
/// event.
pub fn apply_result(row: &BatchRow, e: &MassSendJobFinish) -> Result<Option<BatchRow>, Refused> {
    if !matches!(row.state.as_str(), "submitted" | "finished") {
        return Err(Refused::ignored(Text::new(
            format!("the batch is {}", row.state),
            format!("该批次处于 {} 状态，不接收结果", row.state),
        )));
    }
    let mut progress: BatchProgress = serde_json::from_str(&row.progress_json).map_err(|err| {
        Refused::ignored(Text::new(
            format!("the batch's stored progress is unreadable: {err}"),
            format!("该批次保存的进度无法读取：{err}"),
        ))
    })?;
    let before = progress.clone();
    let result = job_result(e);
    progress
        .finish(e.msg_id, result.clone())
        .map_err(|err| match err {
            StateError::ConflictingResult { .. } => Refused {
                state: "conflicting",
                reason: err.text(),
            },
            other => Refused::ignored(other.text()),
        })?;
    if progress == before {
        return Ok(None);
    }
    let mut new = row.clone();
    new.state = "finished".into();
    new.progress_json = serde_json::to_string(&progress).unwrap_or_default();
    new.result_json = Some(serde_json::to_string(&result).unwrap_or_default());
    // Core's one outcome rule, as mass/get's check asks it: `send fail` or `err(N)` with nothing
    // sent is refused, and the job's state follows from it.
    new.outcome_json = Some(store::outcome_json(&BatchOutcome::of_result(&result)));
    Ok(Some(new))
}
