//! The transport: moves core's `HttpRequest` bytes to WeChat (or the proxy, or the token
//! service) and the answer's bytes back. It decides nothing; each fetch is counted against the
//! invocation's subrequest budget.

use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either};
use worker::js_sys::Uint8Array;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit};
use wxmass::HttpRequest;

use crate::budget::Budget;
use crate::error::AppError;

/// What came back from one HTTP exchange.
pub struct Exchange {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no answer came back. The request may or may not have reached WeChat.
pub struct NoAnswer(pub String);

pub struct Transport {
    budget: Rc<Budget>,
}

impl Transport {
    pub fn new(budget: Rc<Budget>) -> Self {
        Transport { budget }
    }

    /// Sends `req`, with `access_token` in the query and `bearer` as `Authorization` when
    /// given. `Err(AppError)` only when the budget refuses the fetch (nothing was sent);
    /// `Ok(Err(NoAnswer))` when the fetch went out and no answer came back.
    pub async fn send(
        &self,
        req: &HttpRequest,
        access_token: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Result<Exchange, NoAnswer>, AppError> {
        self.budget.spend_subrequest()?;
        Ok(fetch(req, access_token, bearer).await)
    }
}

/// What the account's own server answered a forwarded push.
pub struct Forwarded {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Transport {
    /// Forwards a push to `url` with WeChat's query string, body and content type, waiting at
    /// most `timeout_ms` for the whole answer.
    pub async fn forward(
        &self,
        url: &str,
        query: &str,
        body: &[u8],
        content_type: Option<&str>,
        timeout_ms: u64,
    ) -> Result<Result<Forwarded, NoAnswer>, AppError> {
        self.budget.spend_subrequest()?;
        let target = match (query.is_empty(), url.contains('?')) {
            (true, _) => url.to_owned(),
            (false, false) => format!("{url}?{query}"),
            (false, true) => format!("{url}&{query}"),
        };
        let exchange = Box::pin(forward_once(target, body, content_type));
        let timeout = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
        Ok(match select(exchange, timeout).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Err(NoAnswer(format!("no answer within {timeout_ms} ms"))),
        })
    }
}

async fn forward_once(
    url: String,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Forwarded, NoAnswer> {
    let no_answer = |e: worker::Error| NoAnswer(e.to_string());
    let headers = Headers::new();
    if let Some(ct) = content_type {
        headers.set("content-type", ct).map_err(no_answer)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(Uint8Array::from(body).into()));
    let request = Request::new_with_init(&url, &init).map_err(no_answer)?;
    let mut resp = Fetch::Request(request).send().await.map_err(no_answer)?;
    let status = resp.status_code();
    let content_type = resp.headers().get("content-type").map_err(no_answer)?;
    let body = resp.bytes().await.map_err(no_answer)?;
    Ok(Forwarded {
        status,
        content_type,
        body,
    })
}

async fn fetch(
    req: &HttpRequest,
    access_token: Option<&str>,
    bearer: Option<&str>,
) -> Result<Exchange, NoAnswer> {
    let no_answer = |e: worker::Error| NoAnswer(e.to_string());
    let headers = Headers::new();
    headers
        .set("content-type", &req.content_type)
        .map_err(no_answer)?;
    if let Some(secret) = bearer {
        headers
            .set("authorization", &format!("Bearer {secret}"))
            .map_err(no_answer)?;
    }
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
    let request = Request::new_with_init(&url, &init).map_err(no_answer)?;
    let mut resp = Fetch::Request(request).send().await.map_err(no_answer)?;
    let status = resp.status_code();
    let body = resp.bytes().await.map_err(no_answer)?;
    Ok(Exchange { status, body })
}
