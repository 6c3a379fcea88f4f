//! Sent messages and the account's send speed: mass/delete, mass/preview, mass/get, speed.

use serde_json::{json, Value};
use worker::Response;
use wxmass::endpoint::EndpointName;

use super::media::pass_through;
use super::reads::read;
use crate::ctx::Ctx;
use crate::error::AppError;

/// `POST /api/messages/delete`: `{"msgId", "articleIdx"?, "url"?}` (only mpnews and mpvideo
/// can be deleted; a material reused across sends breaks for all of them).
pub async fn delete(body: Value, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::Delete, body, app).await
}

/// `POST /api/messages/preview`: `{"touser" | "towxname", "msgtype", "<kind>": {...}}`.
pub async fn preview(body: Value, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::Preview, body, app).await
}

/// `GET /api/messages/{msg_id}`: mass/get. The id stays a string (64-bit) until core reads it.
/// A read: answered from D1 for a minute after WeChat answered it (`Age`), and within the
/// reads' allowance of the account's minute (`calls.rs`).
pub async fn status(msg_id: &str, app: &Ctx) -> Result<Response, AppError> {
    read(
        EndpointName::GetStatus,
        msg_id,
        json!({ "msg_id": msg_id }),
        app,
    )
    .await
}

/// `GET /api/speed`: a read, as above.
pub async fn speed_get(app: &Ctx) -> Result<Response, AppError> {
    read(EndpointName::SpeedGet, "", json!({}), app).await
}

/// `POST /api/speed`: `{"speed": 0..4}`.
pub async fn speed_set(body: Value, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::SpeedSet, body, app).await
}
