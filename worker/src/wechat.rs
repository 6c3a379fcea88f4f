//! The transport: moves core's `HttpRequest` bytes to WeChat (or the proxy, or the token
//! service) and the answer's bytes back. It decides nothing; each fetch is counted against the
//! invocation's subrequest budget.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::{stream, StreamExt};
use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStreamDefaultReader;
use worker::worker_sys::FixedLengthStream as JsFixedLengthStream;
use worker::{Delay, Fetch, FixedLengthStream, Headers, Method, Request, RequestInit};
use wxmass::endpoint::FramedUpload;
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

/// A caller's request body passed through to WeChat as it arrives: the file of a streamed
/// upload. Only its first bytes are held (what core reads to tell the format). Dropped unsent
/// (a refused upload), the body is left unread, not cancelled, as if it had not been opened:
/// cancelling it would break the connection under the caller's answer.
pub struct PassThrough {
    declared: u64,
    first: Vec<u8>,
    rest: Body,
}

/// The request body's reader (none for a request without a body); releases its lock when
/// dropped between reads (dropped during one, when WeChat's side stopped taking the stream, the
/// request is over and the lock goes with it).
struct Body(Option<ReadableStreamDefaultReader>, Cell<bool>);

impl Body {
    /// The next chunk; `None` at the end.
    async fn next(&self) -> Result<Option<Vec<u8>>, JsValue> {
        let Some(reader) = &self.0 else {
            return Ok(None);
        };
        self.1.set(true);
        let read = JsFuture::from(reader.read()).await;
        self.1.set(false);
        let read = read?;
        if Reflect::get(&read, &"done".into())?.as_bool() != Some(false) {
            return Ok(None);
        }
        let value = Reflect::get(&read, &"value".into())?;
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if let (Some(reader), false) = (&self.0, self.1.get()) {
            reader.release_lock();
        }
    }
}

/// The caller's body was not as long as its `Content-Length` said: `got` bytes had arrived when
/// it ended, or when it went past the declared length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthMismatch {
    pub declared: u64,
    pub got: u64,
}

impl From<LengthMismatch> for AppError {
    fn from(m: LengthMismatch) -> Self {
        AppError::LengthMismatch {
            declared: m.declared,
            got: m.got,
        }
    }
}

impl PassThrough {
    /// Reads `req`'s body (declared `declared` bytes long) until `want` of them (at most the
    /// declared length) have arrived.
    pub async fn open(req: &mut Request, declared: u64, want: usize) -> Result<Self, AppError> {
        let want = want.min(usize::try_from(declared).unwrap_or(usize::MAX));
        let rest = Body(
            req.inner()
                .body()
                .map(|body| body.get_reader().unchecked_into()),
            Cell::new(false),
        );
        let mut first = Vec::with_capacity(want);
        while first.len() < want {
            match rest.next().await {
                Ok(Some(chunk)) => first.extend_from_slice(&chunk),
                Err(_) | Ok(None) => {
                    return Err(LengthMismatch {
                        declared,
                        got: first.len() as u64,
                    }
                    .into())
                }
            }
        }
        if first.len() as u64 > declared {
            return Err(LengthMismatch {
                declared,
                got: first.len() as u64,
            }
            .into());
        }
        Ok(PassThrough {
            declared,
            first,
            rest,
        })
    }

    /// Reads the rest of the body and drops it: a refused upload answers after its body, so the
    /// caller's connection carries the answer (an unread body left behind breaks it in workerd).
    pub async fn discard(self) {
        while let Ok(Some(_)) = self.rest.next().await {}
    }

    /// The body's first bytes (at least the `want` asked for, unless the body is shorter).
    pub fn first(&self) -> &[u8] {
        &self.first
    }

    /// `head ++ the body ++ tail`, the body counted: a body that ends short of its declared
    /// length or goes past it fails the stream (and so the fetch), and `mismatch` says so.
    fn framed(
        self,
        head: Vec<u8>,
        tail: Vec<u8>,
        mismatch: Rc<Cell<Option<LengthMismatch>>>,
    ) -> impl futures_util::Stream<Item = worker::Result<Vec<u8>>> + 'static {
        let declared = self.declared;
        let seen = self.first.len() as u64;
        let counted = stream::unfold((self.rest, seen, false), move |(rest, seen, done)| {
            let mismatch = mismatch.clone();
            async move {
                if done {
                    return None;
                }
                let fail = |got| {
                    mismatch.set(Some(LengthMismatch { declared, got }));
                    worker::Error::from(format!(
                        "the upload's body was not its declared {declared} bytes (got {got})"
                    ))
                };
                match rest.next().await {
                    Ok(Some(chunk)) => {
                        let seen = seen + chunk.len() as u64;
                        if seen > declared {
                            return Some((Err(fail(seen)), (rest, seen, true)));
                        }
                        Some((Ok(chunk), (rest, seen, false)))
                    }
                    Err(_) => Some((Err(fail(seen)), (rest, seen, true))),
                    Ok(None) if seen != declared => Some((Err(fail(seen)), (rest, seen, true))),
                    Ok(None) => None,
                }
            }
        });
        stream::iter([Ok(head), Ok(self.first)])
            .chain(counted)
            .chain(stream::iter([Ok(tail)]))
    }
}

impl Transport {
    /// Sends a framed upload with `access_token`, its body `head ++ file ++ tail` streamed
    /// from `file` with a fixed `Content-Length`. Sent once: the stream cannot be sent again.
    /// `Some(LengthMismatch)` when the caller's body was not its declared length (the fetch
    /// then failed: WeChat saw a body cut short).
    pub async fn send_streamed(
        &self,
        framed: &FramedUpload,
        file: PassThrough,
        access_token: &str,
    ) -> Result<(Result<Exchange, NoAnswer>, Option<LengthMismatch>), AppError> {
        self.budget.spend_subrequest()?;
        let mismatch = Rc::new(Cell::new(None));
        let body = file.framed(framed.head.clone(), framed.tail.clone(), mismatch.clone());
        let fixed: JsFixedLengthStream =
            FixedLengthStream::wrap(body, framed.content_length).into();
        let req = &framed.request;
        let answer = fetch_body(
            req,
            &req.url_with_token(access_token),
            None,
            Some(fixed.readable().into()),
        )
        .await;
        Ok((answer, mismatch.get()))
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
    let url = match access_token {
        Some(t) => req.url_with_token(t),
        None => req.url(),
    };
    let body =
        (req.method == wxmass::Method::Post).then(|| Uint8Array::from(req.body.as_slice()).into());
    fetch_body(req, &url, bearer, body).await
}

/// Fetches `url` with `req`'s method and content type and `body` (bytes or a stream).
async fn fetch_body(
    req: &HttpRequest,
    url: &str,
    bearer: Option<&str>,
    body: Option<JsValue>,
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
    if body.is_some() {
        init.with_body(body);
    }
    let request = Request::new_with_init(url, &init).map_err(no_answer)?;
    let mut resp = Fetch::Request(request).send().await.map_err(no_answer)?;
    let status = resp.status_code();
    let body = resp.bytes().await.map_err(no_answer)?;
    Ok(Exchange { status, body })
}
