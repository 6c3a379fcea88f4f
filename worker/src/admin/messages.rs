//! Sent messages and the account's send speed: mass/delete, mass/preview, mass/get, speed.

use serde_json::{json, Value};
use worker::Response;
use wxmass::endpoint::EndpointName;

use super::media::pass_through;
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
pub async fn status(msg_id: &str, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::GetStatus, json!({ "msg_id": msg_id }), app).await
}

/// `GET /api/speed`.
pub async fn speed_get(app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::SpeedGet, json!({}), app).await
}

/// `POST /api/speed`: `{"speed": 0..4}`.
pub async fn speed_set(body: Value, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::SpeedSet, body, app).await
}
