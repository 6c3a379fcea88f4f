//! WeChat reads for the admin API (mass/get, speed/get, the material lists, the tags): core
//! builds the request, `calls::admin_read` answers from D1 for a minute after WeChat did (`Age`)
//! and keeps a person's reads within their allowance of the account's minute.

use serde_json::{json, Value};
use worker::Response;
use wxmass::endpoint::tags_get::TagsReply;
use wxmass::endpoint::EndpointName;

use super::{build, reply};
use crate::calls::{admin_read, ReadAnswer, READ_CACHE_MS};
use crate::ctx::Ctx;
use crate::error::AppError;

/// The answer to a read (`key` names it in the cache) taken when younger than `max_age_ms`,
/// else WeChat's. Core checks the request first: a malformed one is 400 and never a cache key.
pub async fn fetch(
    endpoint: EndpointName,
    key: &str,
    body: Value,
    max_age_ms: i64,
    app: &Ctx,
) -> Result<ReadAnswer, AppError> {
    let http = build(endpoint, body, app)?;
    admin_read(app, endpoint, key, &http, max_age_ms).await
}

/// A read's answer as the route gives it: `body`, with how old it is (`Age`) and how long it
/// stays fresh (`Cache-Control`).
pub fn answer(body: &Value, age_ms: i64) -> Result<Response, AppError> {
    let mut resp = reply(200, body)?;
    let headers = resp.headers_mut();
    headers.set("age", &(age_ms / 1000).to_string())?;
    headers.set(
        "cache-control",
        &format!(
            "private, max-age={}",
            (READ_CACHE_MS - age_ms).max(0) / 1000
        ),
    )?;
    Ok(resp)
}

/// A read answered as core's reply.
pub async fn read(
    endpoint: EndpointName,
    key: &str,
    body: Value,
    app: &Ctx,
) -> Result<Response, AppError> {
    let read = fetch(endpoint, key, body, READ_CACHE_MS, app).await?;
    answer(&read.answer, read.age_ms)
}

/// The account's tags (`tags/get`), taken from the cache when younger than `max_age_ms`, and the
/// answer's age.
pub async fn tags(max_age_ms: i64, app: &Ctx) -> Result<(TagsReply, i64), AppError> {
    let read = fetch(EndpointName::TagsGet, "", json!({}), max_age_ms, app).await?;
    let tags = serde_json::from_value(read.answer)
        .map_err(|e| AppError::Internal(format!("a cached tags/get answer: {e}")))?;
    Ok((tags, read.age_ms))
}
