//! The account's permanent materials and tags, read from WeChat for pickers (`GET
//! /api/material`, `/api/material/count`, `/api/tags`): reads, answered from D1 for a minute
//! after WeChat answered them and within the reads' allowance (`reads.rs`).

use serde_json::{json, Value};
use worker::{Request, Response};
use wxmass::endpoint::EndpointName;

use super::reads::{answer, fetch, read};
use super::Page;
use crate::calls::READ_CACHE_MS;
use crate::ctx::Ctx;
use crate::error::AppError;

/// A whole number of a query (`offset`, `count`), `default` when absent.
fn number(page: &Page, name: &str, default: u64) -> Result<u64, AppError> {
    match page.param(name) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            AppError::bad_value("type", name, v, format!("{name} must be a whole number"))
        }),
    }
}

/// `GET /api/material?type=image|voice|video|news&offset=0&count=20` → `{"totalCount",
/// "itemCount", "items": [{"mediaId", "name", "updateTime" (Unix ms), "url"?, "articles"?}]}`.
/// Core checks the type and the count (1 to 20).
pub async fn list(req: &Request, app: &Ctx) -> Result<Response, AppError> {
    let page = Page::from_request(req)?;
    if let Some((name, _)) = page
        .params
        .iter()
        .find(|(k, _)| !["type", "offset", "count"].contains(&k.as_str()))
    {
        return Err(AppError::bad_value(
            "unknown_field",
            name,
            name,
            "GET /api/material takes type, offset and count",
        ));
    }
    let kind = page.param("type").unwrap_or_default();
    let offset = number(&page, "offset", 0)?;
    let count = number(&page, "count", 20)?;
    let body = json!({ "type": kind, "offset": offset, "count": count });
    let key = format!("{kind}/{offset}/{count}");
    let read = fetch(
        EndpointName::BatchGetMaterial,
        &key,
        body,
        READ_CACHE_MS,
        app,
    )
    .await?;
    answer(&material_page(&read.answer), read.age_ms)
}

/// Core's batchget_material reply as the admin API shows it: times in ms, `items`, a news
/// material's `articles`.
fn material_page(reply: &Value) -> Value {
    let items: Vec<Value> = reply["item"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|i| {
            let mut item = json!({
                "mediaId": i["mediaId"],
                "name": i.get("name").cloned().unwrap_or(Value::Null),
                "updateTime": i["updateTime"].as_i64().unwrap_or(0) * 1000,
            });
            if let Some(url) = i.get("url") {
                item["url"] = url.clone();
            }
            if let Some(news) = i["content"]["newsItem"].as_array() {
                item["articles"] = Value::Array(news.clone());
            }
            item
        })
        .collect();
    json!({
        "totalCount": reply["totalCount"],
        "itemCount": reply["itemCount"],
        "items": items,
    })
}

/// `GET /api/material/count` → `{"voiceCount", "videoCount", "imageCount", "newsCount"}`.
pub async fn count(app: &Ctx) -> Result<Response, AppError> {
    read(EndpointName::MaterialCount, "", json!({}), app).await
}

/// `GET /api/tags` → `{"tags": [{"id", "name", "count"}]}`.
pub async fn tags(app: &Ctx) -> Result<Response, AppError> {
    read(EndpointName::TagsGet, "", json!({}), app).await
}
