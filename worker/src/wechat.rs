//! The only place that talks to WeChat: it moves core's `HttpRequest` bytes and hands the reply
//! bytes back to core. Tokens come from [`crate::token`]; a token error is refreshed once.

use serde_json::Value;
use worker::js_sys::Uint8Array;
use worker::{Fetch, Headers, Method, Request, RequestInit};
use wxmass::endpoint::{parse_any_reply, AnyReply, EndpointName};
use wxmass::{ErrorClass, HttpRequest, ReplyError};

use crate::error::AppError;
use crate::{token, Ctx};

/// What came back from one HTTP exchange.
pub struct Exchange {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `req` with `access_token`. `Err` means no answer (connection lost, DNS, reset): the
/// request may or may not have reached WeChat.
pub async fn send(req: &HttpRequest, access_token: Option<&str>) -> Result<Exchange, String> {
    let headers = Headers::new();
    headers
        .set("content-type", &req.content_type)
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(match req.method {
        wxmass::Method::Get => Method::Get,
        wxmass::Method::Post => Method::Post,
    })
    .with_headers(headers);
    if req.method == wxmass::Method::Post {
        init.with_body(Some(Uint8Array::from(req.body.as_slice()).into()));
    }
    let url = match access_token {
        Some(t) => req.url_with_token(t),
        None => req.url(),
    };
    let request = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(request)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status_code();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok(Exchange { status, body })
}

/// Calls an endpoint for the admin API: token, send, parse by core; on a token error, refresh
/// once and retry. The reply comes back as JSON with 64-bit ids as strings.
pub async fn call(ctx: &Ctx, endpoint: EndpointName, req: &HttpRequest) -> Result<Value, AppError> {
    Ok(reply_json(&call_reply(ctx, endpoint, req).await?))
}

/// [`call`], with core's typed reply.
pub async fn call_reply(
    ctx: &Ctx,
    endpoint: EndpointName,
    req: &HttpRequest,
) -> Result<AnyReply, AppError> {
    let mut tok = token::access_token(ctx, None).await?;
    for attempt in 0..2 {
        let ex = send(req, Some(&tok)).await.map_err(AppError::Upstream)?;
        if endpoint.is_mass_endpoint() {
            crate::cron::record_call(ctx).await;
        }
        if ex.status != 200 {
            return Err(AppError::Upstream(format!(
                "HTTP {} from {}",
                ex.status,
                req.url()
            )));
        }
        match parse_any_reply(endpoint, &ex.body) {
            Ok(reply) => return Ok(reply),
            Err(ReplyError::Api(e)) if e.class() == ErrorClass::RefreshToken && attempt == 0 => {
                tok = token::access_token(ctx, Some(&tok)).await?;
            }
            Err(ReplyError::Api(e)) => return Err(AppError::WeChat(e)),
            Err(e) => return Err(AppError::Upstream(e.to_string())),
        }
    }
    Err(AppError::Upstream("token refresh did not help".into()))
}

/// A reply as JSON for people and JavaScript: 64-bit ids (`msg_id`, `msg_data_id`) as strings.
pub fn reply_json(reply: &AnyReply) -> Value {
    let mut v = serde_json::to_value(reply).unwrap_or(Value::Null);
    ids_as_strings(&mut v);
    v
}

/// Turns every `msg_id`/`msg_data_id` number into a decimal string, at any depth.
pub fn ids_as_strings(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if matches!(k.as_str(), "msg_id" | "msg_data_id") {
                    if let Value::Number(num) = val {
                        *val = Value::String(num.to_string());
                        continue;
                    }
                }
                ids_as_strings(val);
            }
        }
        Value::Array(list) => list.iter_mut().for_each(ids_as_strings),
        _ => {}
    }
}
