//! `/wechat/callback`: URL verification (GET) and pushes (POST) in plain, compatible and safe
//! mode. Core checks the signature and decrypts; a push that fails is refused with 403 and
//! nothing is stored.
//!
//! A push is stored before it is acknowledged: WeChat never retries after `success`, so an
//! answer given before the commit could lose the push. The event row, and for a
//! MASSSENDJOBFINISH its batch's update, go in one atomic commit (at most three D1 queries with
//! the read); if it fails, the answer is 503 and WeChat retries. Retries and replays land once,
//! by core's dedupe key (MsgID + Status). A verified push that core cannot parse is stored raw
//! (`unreadable`, with the reason) and answered `success`: WeChat cannot fix it, and a person can
//! read it from `GET /api/events?state=unreadable`.

use sha2::{Digest, Sha256};
use worker::{Request, Response};
use wxmass::callback::{open_callback, verify_url, CallbackConfig, CallbackError, CallbackQuery};
use wxmass::event::{CallbackMessage, EventError, MassSendJobFinish};
use wxmass::limits::{CALLBACK_BODY_MAX_BYTES, CALLBACK_SUCCESS_REPLY};
use wxmass::plan::{BatchProgress, JobResult};

use crate::error::AppError;
use crate::store::{self, BatchRow, NewEvent};
use crate::Ctx;

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
    let token = crate::config::secret(&app.env, "CALLBACK_TOKEN")?;
    match verify_url(&token, &query(req)?) {
        Ok(echostr) => Ok(Response::ok(echostr)?),
        Err(e) => refused(&e),
    }
}

/// POST: verify and open the push, store it, then answer `success`.
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
    let q = query(&req)?;
    let body = req.bytes().await?;
    let token = crate::config::secret(&app.env, "CALLBACK_TOKEN")?;
    let aes_key = crate::config::optional_secret(&app.env, "ENCODING_AES_KEY");
    let config = CallbackConfig::new(&token, aes_key.as_deref(), &app.cfg.app_id)
        .map_err(|e| AppError::Config(format!("ENCODING_AES_KEY: {e}")))?;
    // The test clock (TEST_CLOCK=1) moves with the simulator's; otherwise the runtime's clock.
    let now = app.now();
    let opened = match open_callback(&config, &q, &body, Some(now / 1000)) {
        Ok(o) => o,
        Err(e) => return refused(&e),
    };
    let stored = match opened.parse() {
        Ok(CallbackMessage::MassSendJobFinish(e)) => store_result(app, &e, &opened.xml, now).await,
        Ok(message) => store_other(app, &message, &opened.xml, now).await,
        Err(e) => store_unreadable(app, &e, &opened.xml, now).await,
    };
    match stored {
        Ok(()) => Ok(Response::ok(CALLBACK_SUCCESS_REPLY)?),
        Err(e) => {
            // Not acknowledged, so WeChat retries; the retry lands once by the dedupe key.
            worker::console_error!("storing a push failed, answered 503 for a retry: {e:?}");
            Ok(Response::error("storing the push failed; retry", 503)?)
        }
    }
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
    let payload = serde_json::to_string(e).unwrap_or_default();
    let batch = app.store.batch_by_msg_id(&msg_id).await?;
    let mut event = NewEvent {
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
    event.batch_id = Some(&row.id);
    match apply_result(&row, e) {
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
        Err(why) => {
            event.state = "ignored";
            event.reason = Some(&why);
            app.store
                .commit(vec![app.store.insert_event(&event, false)?])
                .await?;
        }
    }
    Ok(())
}

/// Any other push (a user's message, a menu click, another event).
async fn store_other(
    app: &Ctx,
    message: &CallbackMessage,
    xml: &str,
    now: i64,
) -> Result<(), AppError> {
    let key = message.dedupe_key();
    let payload = serde_json::to_string(message).unwrap_or_default();
    let name = match message {
        CallbackMessage::Other(m) => m.event.clone().unwrap_or_else(|| m.msg_type.clone()),
        CallbackMessage::MassSendJobFinish(_) => "MASSSENDJOBFINISH".to_owned(),
    };
    let event = NewEvent {
        dedupe_key: &key,
        kind: "other",
        event: Some(&name),
        msg_id: None,
        batch_id: None,
        payload_json: &payload,
        xml,
        state: "stored",
        reason: None,
        received_at: now,
    };
    app.store
        .commit(vec![app.store.insert_event(&event, false)?])
        .await?;
    Ok(())
}

/// A verified push core cannot parse: kept raw, so it is not lost and a person can read it.
async fn store_unreadable(
    app: &Ctx,
    error: &EventError,
    xml: &str,
    now: i64,
) -> Result<(), AppError> {
    let digest = Sha256::digest(xml.as_bytes());
    let key: String = std::iter::once("unreadable:".to_owned())
        .chain(digest.iter().map(|b| format!("{b:02x}")))
        .collect();
    let reason = error.to_string();
    let event = NewEvent {
        dedupe_key: &key,
        kind: "unreadable",
        event: None,
        msg_id: None,
        batch_id: None,
        payload_json: "null",
        xml,
        state: "unreadable",
        reason: Some(&reason),
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
        status: e.status.as_wire(),
        total_count: e.total_count,
        filter_count: e.filter_count,
        sent_count: e.sent_count,
        error_count: e.error_count,
    }
}

/// What a MASSSENDJOBFINISH does to its batch, by core's state machine: the batch's new row,
/// `None` when it already holds this result, or why it does not take it. A batch finished from
/// mass/get (counts unknown) still takes its late event.
pub fn apply_result(row: &BatchRow, e: &MassSendJobFinish) -> Result<Option<BatchRow>, String> {
    if !matches!(row.state.as_str(), "submitted" | "finished") {
        return Err(format!("the batch is {}", row.state));
    }
    let mut progress: BatchProgress = serde_json::from_str(&row.progress_json)
        .map_err(|err| format!("the batch's stored progress is unreadable: {err}"))?;
    let before = progress.clone();
    let result = job_result(e);
    progress
        .finish(e.msg_id, result.clone())
        .map_err(|err| err.to_string())?;
    if progress == before {
        return Ok(None);
    }
    let mut new = row.clone();
    new.state = "finished".into();
    new.progress_json = serde_json::to_string(&progress).unwrap_or_default();
    new.result_json = Some(serde_json::to_string(&result).unwrap_or_default());
    Ok(Some(new))
}
