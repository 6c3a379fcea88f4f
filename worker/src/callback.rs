//! `/wechat/callback`: URL verification (GET) and pushes (POST) in plain, compatible and safe
//! mode. Core checks the signature and decrypts; a push that fails is refused with 403 and
//! nothing is stored. WeChat waits 5 s and retries 3 times, so the answer (`success`) goes out
//! as soon as the push is verified, and storing it runs after (`ctx.wait_until`); the event's
//! dedupe key (core's: MsgID + Status) makes WeChat's retries land once.

use worker::{Context, Date, Request, Response};
use wxmass::callback::{open_callback, verify_url, CallbackConfig, CallbackError, CallbackQuery};
use wxmass::event::{parse_message, CallbackMessage, MassSendJobFinish};
use wxmass::limits::{CALLBACK_BODY_MAX_BYTES, CALLBACK_SUCCESS_REPLY};
use wxmass::plan::{BatchProgress, JobResult};

use crate::error::AppError;
use crate::{store, Ctx};

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
    let token = crate::secret(&app.env, "CALLBACK_TOKEN")?;
    match verify_url(&token, &query(req)?) {
        Ok(echostr) => Ok(Response::ok(echostr)?),
        Err(e) => refused(&e),
    }
}

/// POST: verify and open the push, answer `success`, store it afterwards.
pub async fn receive(mut req: Request, app: Ctx, ctx: Context) -> Result<Response, AppError> {
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
    let token = crate::secret(&app.env, "CALLBACK_TOKEN")?;
    let aes_key = crate::secret(&app.env, "ENCODING_AES_KEY").ok();
    let config = CallbackConfig::new(&token, aes_key.as_deref(), &app.cfg.app_id)
        .map_err(|e| AppError::Config(format!("ENCODING_AES_KEY: {e}")))?;
    // The test clock (TEST_CLOCK=1) moves with the simulator's; otherwise the runtime's clock.
    let now_secs = app.now().await / 1000;
    let opened = match open_callback(&config, &q, &body, Some(now_secs)) {
        Ok(o) => o,
        Err(e) => return refused(&e),
    };
    let message = match opened.parse() {
        Ok(m) => m,
        Err(e) => return Ok(Response::error(format!("unreadable push: {e}"), 400)?),
    };
    ctx.wait_until(async move {
        if let Err(e) = record(&app, &message, &opened.xml).await {
            worker::console_error!("storing a push failed: {e:?}");
        }
    });
    Ok(Response::ok(CALLBACK_SUCCESS_REPLY)?)
}

/// Stores a push once, and a result event against its batch.
async fn record(app: &Ctx, message: &CallbackMessage, xml: &str) -> Result<(), AppError> {
    let now = Date::now().as_millis() as i64;
    let key = message.dedupe_key();
    let payload = serde_json::to_string(message).unwrap_or_default();
    let (kind, event, msg_id) = match message {
        CallbackMessage::MassSendJobFinish(e) => (
            "mass_send_job_finish",
            Some("MASSSENDJOBFINISH".to_owned()),
            Some(e.msg_id.to_string()),
        ),
        CallbackMessage::Other(m) => (
            "other",
            Some(m.event.clone().unwrap_or_else(|| m.msg_type.clone())),
            None,
        ),
    };
    let fresh = store::insert_event(
        &app.db,
        &store::NewEvent {
            dedupe_key: &key,
            kind,
            event: event.as_deref(),
            msg_id: msg_id.as_deref(),
            payload_json: &payload,
            xml,
        },
        now,
    )
    .await?;
    if let (true, CallbackMessage::MassSendJobFinish(e)) = (fresh, message) {
        if let Some(batch) = store::batch_by_msg_id(&app.db, &e.msg_id.to_string()).await? {
            apply_result(app, &batch, e, &key, now).await?;
        }
        // Otherwise the send's reply is not recorded yet; the cron applies it when it is.
    }
    Ok(())
}

/// What core keeps of an event for a batch.
pub fn job_result(e: &MassSendJobFinish) -> JobResult {
    JobResult {
        status: e.status.as_wire(),
        total_count: e.total_count,
        filter_count: e.filter_count,
        sent_count: e.sent_count,
        error_count: e.error_count,
    }
}

/// Moves a submitted batch to finished with the event's result (core's state machine decides).
pub async fn apply_result(
    app: &Ctx,
    batch: &store::BatchRow,
    e: &MassSendJobFinish,
    dedupe_key: &str,
    now: i64,
) -> Result<(), AppError> {
    let Ok(mut progress) = serde_json::from_str::<BatchProgress>(&batch.progress_json) else {
        return Ok(());
    };
    let result = job_result(e);
    if progress.finish(e.msg_id, result.clone()).is_ok() {
        let progress_json = serde_json::to_string(&progress).unwrap_or_default();
        let result_json = serde_json::to_string(&result).unwrap_or_default();
        store::finish_batch(&app.db, &batch.id, &progress_json, &result_json, now).await?;
        store::link_event(&app.db, dedupe_key, &batch.id).await?;
    }
    Ok(())
}

/// After the cron records a msg_id: apply a result event that arrived first.
pub async fn apply_early_result(
    app: &Ctx,
    batch_id: &str,
    msg_id: &str,
    now: i64,
) -> Result<(), AppError> {
    let Some(ev) = store::result_event_for(&app.db, msg_id).await? else {
        return Ok(());
    };
    let Ok(CallbackMessage::MassSendJobFinish(e)) = parse_message(ev.xml.as_bytes()) else {
        return Ok(());
    };
    if let Some(batch) = store::batch(&app.db, batch_id).await? {
        apply_result(app, &batch, &e, &ev.dedupe_key, now).await?;
    }
    Ok(())
}
