//! The admin API under `/api`: every route behind `Authorization: Bearer <ADMIN_TOKEN>`.

use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use worker::{Request, Response};

use crate::error::AppError;
use crate::{store, Ctx};

pub mod jobs;
pub mod media;
pub mod messages;

/// Checks the bearer token in constant time.
pub fn authorize(req: &Request, app: &Ctx) -> Result<(), AppError> {
    let expected = crate::secret(&app.env, "ADMIN_TOKEN")?;
    let given = req.headers().get("authorization")?.unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::Unauthorized)
    }
}

/// A JSON answer with a status.
pub fn reply(status: u16, body: &Value) -> Result<Response, AppError> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// `POST /api/test/clock {"advanceMs": n}` (only with `TEST_CLOCK=1`): moves the cron's clock.
pub async fn test_clock(body: Value, app: &Ctx) -> Result<Response, AppError> {
    let advance = body
        .get("advanceMs")
        .and_then(Value::as_i64)
        .ok_or_else(|| AppError::bad("required", "advanceMs", "advanceMs must be an integer"))?;
    let current = store::kv_get(&app.db, "test_clock_offset_ms")
        .await?
        .and_then(|r| r.value.parse::<i64>().ok())
        .unwrap_or(0);
    let offset = current + advance;
    store::kv_put(&app.db, "test_clock_offset_ms", &offset.to_string(), 0, 0).await?;
    reply(200, &json!({ "offsetMs": offset }))
}
