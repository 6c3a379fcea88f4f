//! One error type for every route, turned into an HTTP response in one place:
//! `{ "error": { "code", "message", "path", … } }`.
//!
//! 4xx is the caller's mistake (with the field path, the rule and the value where there is one;
//! `problems` lists every one core found), 5xx the worker's own or WeChat's unavailability:
//! - 422 `wechat_rejected`: WeChat refused the request (its `errcode`, and core's `zh` and `en`);
//!   422 `unknown_tag`, `media_expired`: what a job names cannot be sent (`messageZh` beside
//!   `message`);
//! - 429: the account's 60 calls a minute are used up, or WeChat's quota (`Retry-After`);
//! - 502 `upstream`: WeChat could not be reached or answered something unreadable;
//! - 503: WeChat is busy, or a concurrent change won; retry. Also a master key that is missing
//!   or not a key (`master_key_invalid`, naming the variable) and an account whose secrets cannot
//!   be opened (`account_unavailable`, naming it): those fail alone, the rest works on;
//! - 500 `internal`: a generic message and an error id; the details go to the log only.

use serde_json::{json, Value};
use worker::Response;
use wxmass::plan::PlanError;
use wxmass::{ApiError, ErrorClass, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, wrong or revoked `Authorization: Bearer <token>`.
    #[error("send Authorization: Bearer <ADMIN_TOKEN or a token from POST /api/tokens>")]
    Unauthorized,
    /// The token's role or accounts do not allow this (decided in `admin/mod.rs`); says which
    /// was missing.
    #[error("{message}")]
    Forbidden { missing: Missing, message: String },
    /// No such route or record.
    #[error("{0}")]
    NotFound(String),
    /// A known path with another method.
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: String },
    /// Input the worker itself reads (paging, headers, the job's own fields) is wrong.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        path: String,
        value: Option<String>,
    },
    /// Core found problems in the input.
    #[error(transparent)]
    Invalid(ValidationError),
    /// Core refused to plan the job.
    #[error(transparent)]
    Plan(PlanError),
    /// A streamed upload without a `Content-Length` (a chunked body): 411 at `Content-Length`.
    #[error("send the file with a Content-Length header (its size in bytes): an upload is streamed through to WeChat, which needs the length before the bytes; a chunked body cannot be")]
    LengthRequired,
    /// A streamed upload's body ended before, or went past, its declared `Content-Length`:
    /// nothing was recorded, WeChat's copy was cut short.
    #[error("the body was not as long as its Content-Length said ({declared} bytes; {got} arrived before it ended or went past): send the whole file again with its exact length")]
    LengthMismatch { declared: u64, got: u64 },
    /// WeChat refused the access_token of an upload whose body was streamed through and so
    /// cannot be sent again: the token is dropped, the caller sends the file again.
    #[error("WeChat refused the access_token ({0}) while the file was streamed through, and a streamed body cannot be sent twice: nothing was stored; the token is renewed on the next call, send the file again")]
    UploadAgain(String),
    /// The body is larger than the route accepts.
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The request conflicts with the record's state (cancel after sending).
    #[error("{0}")]
    Conflict(String),
    /// An audience part number already used for another body.
    #[error("part {part} was already uploaded with another body; a retry must send the same body, and new OpenIDs go in the next part")]
    PartReused { part: i64 },
    /// An audience part out of order.
    #[error("part {part} cannot come now: the next part of this audience is {expected_part}")]
    PartOutOfOrder { part: i64, expected_part: i64 },
    /// The input is well formed, but what it names cannot be sent (a tag the account does not
    /// have, media that will have expired): 422 at `path`, in English and Chinese.
    #[error("{message}")]
    Refused {
        code: &'static str,
        path: String,
        value: String,
        message: String,
        message_zh: String,
    },
    /// An `Idempotency-Key` already used for another body.
    #[error("Idempotency-Key {key:?} was already used for another request body (job {job_id}); use a new key for a new job")]
    IdempotencyKeyReused { key: String, job_id: String },
    /// WeChat answered with an error code.
    #[error(transparent)]
    WeChat(ApiError),
    /// The account's rolling minute of mass calls is full; the next slot is `retry_after_ms` away.
    #[error(
        "the account's 60 mass-send API calls a minute are used up; retry in {retry_after_ms} ms"
    )]
    RateLimited { retry_after_ms: i64 },
    /// A person's reads have reached WeChat as often as a minute allows: mass/get and speed/get
    /// their share of the account's 60 mass calls (the rest are the sends'), the material and
    /// tag reads their own allowance.
    #[error("reads may reach WeChat {per_minute} times a minute (mass/get and speed/get: of the account's 60 mass-send API calls, the rest are the sends'; the material and tag reads: an allowance of their own), and have; retry in {retry_after_ms} ms")]
    ReadsLimited {
        per_minute: usize,
        retry_after_ms: i64,
    },
    /// WeChat (or the proxy) could not be reached or answered something unreadable.
    #[error("{0}")]
    Upstream(String),
    /// A concurrent change to the same record won; nothing of this request was written.
    #[error("{0}")]
    Stale(String),
    /// A configuration value is missing or wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// A master-key variable is set but holds no key: what needs it waits until it is put
    /// right; the accounts other keys sealed, and the default account, work on.
    #[error("{variable} is set but is not a key ({problem}): the accounts it seals cannot be opened and no account can be created or changed until it is put right")]
    MasterKeyInvalid {
        variable: &'static str,
        problem: String,
    },
    /// No master key: accounts cannot be created (or opened).
    #[error("{variable} is not set: set it (wrangler secret put {variable}, 32 random bytes in base64: openssl rand -base64 32) before creating accounts")]
    MasterKeyMissing { variable: &'static str },
    /// The AppID is another account's: one official account is one account here.
    #[error(
        "AppID {app_id} is already account {holder}'s: one official account is one account here"
    )]
    AppIdTaken { app_id: String, holder: String },
    /// One account's secrets cannot be opened; the others work on.
    #[error("account {account} is unavailable: {problem}")]
    AccountUnavailable { account: String, problem: String },
    /// The invocation would go over its D1 query or subrequest budget.
    #[error("budget: {0}")]
    OverBudget(String),
    /// Anything else (D1, the runtime).
    #[error("internal: {0}")]
    Internal(String),
}

/// What a refused caller lacks, as the answer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Its role (`has`) is below the one needed.
    Role {
        has: &'static str,
        need: &'static str,
    },
    /// An account it does not hold (`*`: every account).
    Account(String),
}

impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    pub fn bad(code: &'static str, path: &str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
            path: path.to_owned(),
            value: None,
        }
    }

    /// A [`AppError::BadRequest`] that shows the value given.
    pub fn bad_value(
        code: &'static str,
        path: &str,
        value: &str,
        message: impl Into<String>,
    ) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
            path: path.to_owned(),
            value: Some(value.chars().take(200).collect()),
        }
    }

    /// Whether the fault is the worker's own (500): its details go to the log, not the answer.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            AppError::Config(_) | AppError::OverBudget(_) | AppError::Internal(_)
        )
    }

    fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::BadRequest { .. } | AppError::Invalid(_) | AppError::Plan(_) => 400,
            AppError::TooLarge { .. } => 413,
            AppError::LengthRequired => 411,
            AppError::LengthMismatch { .. } => 400,
            AppError::UploadAgain(_) => 503,
            AppError::Conflict(_)
            | AppError::PartOutOfOrder { .. }
            | AppError::AppIdTaken { .. } => 409,
            AppError::IdempotencyKeyReused { .. }
            | AppError::PartReused { .. }
            | AppError::Refused { .. } => 422,
            AppError::WeChat(e) => match e.class() {
                ErrorClass::Retry => 503,
                ErrorClass::Quota => 429,
                _ => 422,
            },
            AppError::RateLimited { .. } | AppError::ReadsLimited { .. } => 429,
            AppError::Upstream(_) => 502,
            AppError::Stale(_) => 503,
            AppError::MasterKeyInvalid { .. }
            | AppError::MasterKeyMissing { .. }
            | AppError::AccountUnavailable { .. } => 503,
            AppError::Config(_) | AppError::OverBudget(_) | AppError::Internal(_) => 500,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden { .. } => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::BadRequest { code, .. } | AppError::Refused { code, .. } => code,
            AppError::Invalid(_) => ValidationError::CODE,
            AppError::Plan(PlanError::InvalidMessage(_)) => ValidationError::CODE,
            AppError::Plan(_) => "plan",
            AppError::TooLarge { .. } => "too_large",
            AppError::LengthRequired => "length_required",
            AppError::LengthMismatch { .. } => "length_mismatch",
            AppError::UploadAgain(_) => "upload_again",
            AppError::Conflict(_) => "conflict",
            AppError::AppIdTaken { .. } => "app_id_taken",
            AppError::IdempotencyKeyReused { .. } => "idempotency_key_reused",
            AppError::PartReused { .. } => "part_reused",
            AppError::PartOutOfOrder { .. } => "part_out_of_order",
            AppError::WeChat(e) => e.code_name(),
            AppError::RateLimited { .. } | AppError::ReadsLimited { .. } => "rate_limited",
            AppError::Upstream(_) => "upstream",
            AppError::Stale(_) => "busy",
            AppError::MasterKeyInvalid { .. } => "master_key_invalid",
            AppError::MasterKeyMissing { .. } => "master_key_missing",
            AppError::AccountUnavailable { .. } => "account_unavailable",
            AppError::Config(_) | AppError::OverBudget(_) | AppError::Internal(_) => "internal",
        }
    }

    /// The answer. A 500 gets a generic message and an id; the details are logged under that id.
    pub fn into_response(self) -> worker::Result<Response> {
        let status = self.status();
        let mut error = json!({ "code": self.code(), "message": self.to_string(), "path": "" });
        let mut retry_after = None;
        match &self {
            _ if self.is_internal() => {
                let id = error_id();
                worker::console_error!("error {id}: {self:?}");
                error["message"] = json!(format!(
                    "internal error {id}; the details are in the worker's log under this id"
                ));
                error["id"] = json!(id);
            }
            AppError::BadRequest { path, value, .. } => {
                error["path"] = json!(path);
                if let Some(v) = value {
                    error["value"] = json!(v);
                }
            }
            AppError::Refused {
                path,
                value,
                message_zh,
                ..
            } => {
                error["path"] = json!(path);
                error["value"] = json!(value);
                error["messageZh"] = json!(message_zh);
            }
            // Core's errors answer in the shape the npm package throws them: one model.
            AppError::Invalid(e) => error = core_json(e, error),
            AppError::Plan(e) => error = core_json(e, error),
            AppError::WeChat(e) => {
                error = core_json(e, error);
                error["path"] = json!("");
                if status != 422 {
                    retry_after = Some(60);
                }
            }
            AppError::PartReused { part } => {
                error["path"] = json!("part");
                error["value"] = json!(part.to_string());
            }
            AppError::PartOutOfOrder {
                part,
                expected_part,
            } => {
                error["path"] = json!("part");
                error["value"] = json!(part.to_string());
                error["expectedPart"] = json!(expected_part);
            }
            AppError::RateLimited { retry_after_ms }
            | AppError::ReadsLimited { retry_after_ms, .. } => {
                retry_after = Some((retry_after_ms + 999) / 1000);
            }
            AppError::Stale(_) => retry_after = Some(1),
            AppError::LengthRequired => {
                error["path"] = json!("Content-Length");
                error["messageZh"] = json!("请带 Content-Length 头（文件字节数）发送文件：上传会直接流式转发给微信，微信需先知道长度；分块（chunked）请求体无法转发");
            }
            AppError::LengthMismatch { declared, got } => {
                error["path"] = json!("Content-Length");
                error["value"] = json!(declared.to_string());
                error["got"] = json!(got);
                error["messageZh"] = json!(format!("请求体长度与 Content-Length 不符（声明 {declared} 字节，实际在结束或超出前收到 {got} 字节）：请以准确长度重新发送整个文件"));
            }
            AppError::UploadAgain(_) => {
                retry_after = Some(1);
                error["messageZh"] = json!("文件流式转发期间微信拒绝了 access_token，流式请求体无法重发：未保存任何内容；下次调用会换新 token，请重新发送文件");
            }
            AppError::MasterKeyInvalid { variable, .. }
            | AppError::MasterKeyMissing { variable } => error["variable"] = json!(variable),
            AppError::AccountUnavailable { account, .. } => error["account"] = json!(account),
            AppError::AppIdTaken { app_id, holder } => {
                error["path"] = json!("appId");
                error["value"] = json!(app_id);
                error["account"] = json!(holder);
            }
            AppError::Forbidden { missing, .. } => match missing {
                Missing::Role { has, need } => {
                    error["missing"] = json!("role");
                    error["role"] = json!(has);
                    error["need"] = json!(need);
                }
                Missing::Account(account) => {
                    error["missing"] = json!("account");
                    error["account"] = json!(account);
                }
            },
            _ => {}
        }
        let mut resp = Response::from_json(&json!({ "error": error }))?.with_status(status);
        if let AppError::MethodNotAllowed { allow, .. } = &self {
            resp.headers_mut().set("allow", allow)?;
        }
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .set("retry-after", &secs.max(1).to_string())?;
        }
        Ok(resp)
    }
}

/// 8 random bytes in hex: what an operator quotes to find a 500 in the log.
fn error_id() -> String {
    crate::random::bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Core's JSON of an error (`code`, `message`, `path`, …), or `fallback` if it cannot be
/// written (it always can: these are plain structs of strings and numbers).
fn core_json(e: &impl serde::Serialize, fallback: Value) -> Value {
    serde_json::to_value(e).unwrap_or(fallback)
}
