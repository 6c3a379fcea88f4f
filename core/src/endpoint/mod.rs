//! One module per WeChat endpoint: its path, its `Request`, its `Reply`, and its validation.
//!
//! Every request implements [`Endpoint`]: `validate()` returns all problems at once, and
//! `build()` validates and yields an [`HttpRequest`] (the caller adds `access_token`). Requests
//! with a JSON body can also be read from user JSON (`from_json`, unknown fields rejected, each
//! problem with its JSON path) and turned into body bytes without validation (`to_body`, used by
//! tests to compare with WeChat's own examples).

use serde::de::DeserializeOwned;

use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest};
use crate::validate::ValidationError;

pub mod any;
pub mod delete;
pub mod get_status;
pub mod preview;
pub mod send_all;
pub mod send_to_users;
pub mod speed;
pub mod token;
pub mod upload_img;
pub mod upload_news;
pub mod upload_video;

pub use any::{parse_any_reply, AnyReply, AnyRequest, EndpointName};
pub use delete::DeleteRequest;
pub use get_status::{GetStatusReply, GetStatusRequest, MsgStatus};
pub use preview::{PreviewReply, PreviewRequest};
pub use send_all::{SendAllRequest, SendReply};
pub use send_to_users::SendToUsersRequest;
pub use speed::{SpeedGetReply, SpeedGetRequest, SpeedSetRequest};
pub use token::{StableTokenRequest, TokenReply};
pub use upload_img::{UploadImgReply, UploadImgRequest};
pub use upload_news::{MediaUploadReply, UploadNewsRequest};
pub use upload_video::UploadVideoRequest;

/// One WeChat API call.
pub trait Endpoint {
    /// Path under the API base (from [`crate::limits`]).
    const PATH: &'static str;
    /// The typed success reply.
    type Reply: DeserializeOwned;

    /// Every problem of this request, or `Ok`.
    fn validate(&self) -> Result<(), ValidationError>;

    /// Validates, then builds the request against `base`.
    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError>;

    /// Parses this endpoint's reply body.
    fn parse_reply(body: &[u8]) -> Result<Self::Reply, ReplyError> {
        crate::reply::parse(body)
    }
}

/// Implements [`Endpoint`] and the JSON entry points for a request with a JSON body. The type
/// provides `fn check(&self, &mut Problems)` (its rules) and
/// `fn read(Obj, &mut Problems) -> Option<Self>` (its fields).
macro_rules! json_endpoint {
    ($req:ty, $path:expr, $reply:ty) => {
        impl $crate::endpoint::Endpoint for $req {
            const PATH: &'static str = $path;
            type Reply = $reply;

            fn validate(&self) -> Result<(), $crate::validate::ValidationError> {
                let mut p = $crate::validate::Problems::default();
                self.check(&mut p);
                p.into_result()
            }

            fn build(
                &self,
                base: &$crate::http::ApiBase,
            ) -> Result<$crate::http::HttpRequest, $crate::validate::ValidationError> {
                $crate::endpoint::Endpoint::validate(self)?;
                Ok(base.request(
                    $crate::http::Method::Post,
                    $path,
                    $crate::limits::CONTENT_TYPE_JSON,
                    self.to_body(),
                ))
            }
        }

        impl $req {
            /// Reads the request from JSON bytes (wire names or their camelCase aliases).
            /// `Ok` means the JSON has the request's shape (rules are checked by
            /// `validate`/`build`); an error lists every problem found, rules included.
            pub fn from_json(bytes: &[u8]) -> Result<Self, $crate::validate::ValidationError> {
                let mut p = $crate::validate::Problems::default();
                let value = $crate::json_input::parse_bytes(bytes, &mut p);
                Self::from_parts(value, p)
            }

            /// Reads the request from a parsed JSON value.
            pub fn from_value(
                value: serde_json::Value,
            ) -> Result<Self, $crate::validate::ValidationError> {
                Self::from_parts(
                    Some($crate::json_input::Json::borrow(&value)),
                    $crate::validate::Problems::default(),
                )
            }

            pub(crate) fn from_parts(
                value: Option<$crate::json_input::Json<'_>>,
                mut p: $crate::validate::Problems,
            ) -> Result<Self, $crate::validate::ValidationError> {
                let read = value
                    .and_then(|v| $crate::json_input::Obj::new(v, "", &mut p))
                    .and_then(|o| Self::read(o, &mut p));
                match read {
                    Some(req) if p.is_empty() => Ok(req),
                    Some(req) => {
                        // Structure is broken somewhere, but report the rules too, so a person
                        // fixes everything in one pass.
                        req.check(&mut p);
                        Err(p.into_error())
                    }
                    None => Err(p.into_error()),
                }
            }

            /// The JSON body, **without validation** (use `build` to send).
            pub fn to_body(&self) -> Vec<u8> {
                // Cannot fail: every key is a string and no Serialize impl here returns an error.
                serde_json::to_vec(self).unwrap_or_default()
            }
        }
    };
}
pub(crate) use json_endpoint;
