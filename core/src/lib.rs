//! # wxmass — the sans-IO core of WeChat Official Account mass sending (高级群发接口)
//!
//! This crate is the one home of every WeChat rule the project knows: field names, limits,
//! error codes, signature steps, the result event, and how a large send is planned. It is
//! deterministic protocol logic and nothing else:
//!
//! - **no IO**: builders return an [`http::HttpRequest`] value (method, host, path, content
//!   type, body); the caller adds the `access_token` and moves the bytes. Replies come back in as
//!   bytes and leave as typed values or an [`error_code::ApiError`].
//! - **no clock**: where a rule depends on time (quota windows, timestamp skew, backoff), `now`
//!   is a parameter.
//! - **no randomness of its own**: random bytes (AES padding prefix, retry jitter) are parameters.
//!
//! The npm package (`npm/`, wasm-bindgen) and the Cloudflare Worker (`worker/`, workers-rs) are
//! thin transports over this crate and never restate a rule.
//!
//! Modules follow the domain: [`limits`] (every number and path in one place), [`article`],
//! [`message`] (the six message kinds), [`audience`], [`endpoint`] (one module per API call with
//! its request, reply and validation), [`error_code`] (the code table and [`error_code::ApiError`]),
//! [`callback`] (URL verification and message crypto), [`event`] (MASSSENDJOBFINISH and other
//! pushes), [`followers`] (paging through an account's or a tag's followers) and [`plan`]
//! (batches, idempotency keys, quotas, retry decisions).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod article;
pub mod audience;
pub mod callback;
pub mod endpoint;
pub mod error_code;
pub mod event;
pub mod followers;
pub mod http;
pub mod ids;
mod json_input;
pub mod limits;
pub mod message;
pub mod plan;
pub mod reply;
pub mod validate;

pub use article::Article;
pub use audience::{Audience, PreviewTarget, SendAllFilter};
pub use endpoint::Endpoint;
pub use error_code::{ApiError, ErrorClass, ReplyError};
pub use http::{check_url, ApiBase, CheckedUrl, HttpRequest, Method, UrlError};
pub use ids::{AppId, MsgId};
pub use message::MassMessage;
pub use validate::{Problem, Rule, RuleZh, ValidationError};

/// The README's "Core usage" examples, compiled and run as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
