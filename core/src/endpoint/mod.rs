//! One module per WeChat endpoint: its facts, its `Request`, its `Reply`, and its validation.
//!
//! Every request implements [`Endpoint`], whose constants are the endpoint's facts (name, path,
//! method, whether it counts as a mass call, reply type), stated once in the endpoint's own
//! file. [`EndpointName`] and [`AnyRequest`] dispatch through those constants; the one list of
//! endpoints is in [`any`], so a new endpoint is a new file and one line there.
//!
//! `validate()` returns all problems at once, and `build()` validates and yields an
//! [`HttpRequest`] (the caller adds `access_token`). Requests with a JSON body can also be read
//! from user JSON with `from_json`/`from_value`: unknown fields rejected, every rule checked, so
//! `Ok` is always a valid request and an error lists every problem with its JSON path, in the
//! caller's naming ([`crate::validate::Problem::path`]). `to_body` turns a request into body
//! bytes **without validation** (tests compare it with WeChat's own examples, which use
//! placeholders such as `OPENID1`).

use serde::de::DeserializeOwned;

use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest, Method};
use crate::validate::ValidationError;

pub mod add_material;
pub mod any;
pub mod batchget_material;
pub mod delete;
pub mod get_status;
pub mod material_count;
pub mod media;
pub mod media_upload;
pub mod preview;
pub mod send_all;
pub mod send_to_users;
pub mod speed;
pub mod tags_get;
pub mod token;
pub mod upload_img;
pub mod upload_news;
pub mod upload_video;
pub mod user_get;
pub mod user_tag_get;

pub use add_material::{AddMaterialReply, AddMaterialRequest, VideoDescription};
pub use any::{parse_any_reply, AnyReply, AnyRequest, EndpointName};
pub use batchget_material::{BatchGetMaterialReply, BatchGetMaterialRequest, MaterialItem};
pub use delete::DeleteRequest;
pub use get_status::{GetStatusReply, GetStatusRequest, MsgStatus};
pub use material_count::{MaterialCountReply, MaterialCountRequest};
pub use media::{FramedUpload, MediaFormat, MediaType, StreamedUpload};
pub use media_upload::MediaUploadRequest;
pub use preview::{PreviewReply, PreviewRequest};
pub use send_all::{SendAllRequest, SendReply};
pub use send_to_users::SendToUsersRequest;
pub use speed::{SpeedGetReply, SpeedGetRequest, SpeedSetRequest};
pub use tags_get::{Tag, TagsGetRequest, TagsReply};
pub use token::{StableTokenRequest, TokenReply};
pub use upload_img::{UploadImgReply, UploadImgRequest};
pub use upload_news::{MediaUploadReply, UploadNewsRequest};
pub use upload_video::UploadVideoRequest;
pub use user_get::{FollowerListReply, UserGetRequest};
pub use user_tag_get::UserTagGetRequest;

/// One WeChat API call.
pub trait Endpoint {
    /// Which endpoint this is, by name (the runtime handle of the type: [`EndpointName::facts`]
    /// answers with this type's constants).
    const NAME: EndpointName;
    /// Path under the API base (from [`crate::limits`]).
    const PATH: &'static str;
    /// HTTP method of the call.
    const METHOD: Method;
    /// Whether a call counts against the 60-a-minute mass-send limit.
    const MASS: bool;
    /// The typed success reply (one of [`AnyReply`]'s variants).
    type Reply: DeserializeOwned + Into<AnyReply>;

    /// Every problem of this request, or `Ok`.
    fn validate(&self) -> Result<(), ValidationError>;

    /// Validates, then builds the request against `base`.
    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError>;

    /// Parses this endpoint's reply body.
    fn parse_reply(body: &[u8]) -> Result<Self::Reply, ReplyError> {
        crate::reply::parse(body)
    }
}

/// An endpoint's facts as values, for code that picks the endpoint at run time
/// ([`EndpointName::facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointFacts {
    /// [`Endpoint::NAME`]
    pub name: EndpointName,
    /// [`Endpoint::PATH`]
    pub path: &'static str,
    /// [`Endpoint::METHOD`]
    pub method: Method,
    /// [`Endpoint::MASS`]
    pub mass: bool,
}

impl EndpointFacts {
    /// The facts of endpoint type `E`.
    pub const fn of<E: Endpoint>() -> EndpointFacts {
        EndpointFacts {
            name: E::NAME,
            path: E::PATH,
            method: E::METHOD,
            mass: E::MASS,
        }
    }
}

/// Implements [`Endpoint`] and the JSON entry points for a request with a JSON body, from the
/// facts block its file states:
///
/// ```text
/// json_endpoint! {
///     SendAllRequest {
///         NAME: EndpointName::SendAll,
///         PATH: PATH_SEND_ALL,
///         METHOD: Method::Post,
///         MASS: true,
///         Reply: SendReply,
///     }
/// }
/// ```
///
/// The type provides `fn check(&self, &mut Problems)` (its rules) and
/// `fn read(Obj, &mut Problems) -> Option<Self>` (its fields).
macro_rules! json_endpoint {
    ($req:ident {
        NAME: $name:expr,
        PATH: $path:expr,
        METHOD: $method:expr,
        MASS: $mass:expr,
        Reply: $reply:ty $(,)?
    }) => {
        $crate::endpoint::json_endpoint!(@impl $req, $name, $path, $method, $mass, $reply,
            |_: &$req, http: $crate::http::HttpRequest| http);
    };
    // A `GET` whose fields travel in the query: `$query(&self, HttpRequest) -> HttpRequest` adds
    // them (the JSON entry points read the same fields, so callers use one shape for every call).
    ($req:ident {
        NAME: $name:expr,
        PATH: $path:expr,
        METHOD: $method:expr,
        MASS: $mass:expr,
        Reply: $reply:ty,
        Query: $query:expr $(,)?
    }) => {
        $crate::endpoint::json_endpoint!(@impl $req, $name, $path, $method, $mass, $reply, $query);
    };
    (@impl $req:ident, $name:expr, $path:expr, $method:expr, $mass:expr, $reply:ty, $query:expr) => {
        impl $crate::endpoint::Endpoint for $req {
            const NAME: $crate::endpoint::EndpointName = $name;
            const PATH: &'static str = $path;
            const METHOD: $crate::http::Method = $method;
            const MASS: bool = $mass;
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
                let method = <Self as $crate::endpoint::Endpoint>::METHOD;
                // A GET carries no body (its fields, if any, are in the query).
                let body = match method {
                    $crate::http::Method::Get => Vec::new(),
                    $crate::http::Method::Post => self.to_body(),
                };
                let http = base.request(
                    method,
                    <Self as $crate::endpoint::Endpoint>::PATH,
                    $crate::limits::CONTENT_TYPE_JSON,
                    body,
                );
                Ok(($query)(self, http))
            }
        }

        impl $req {
            /// Reads a **valid** request from JSON bytes (wire names or their camelCase
            /// aliases): `Ok` only when the JSON has the request's shape and passes every rule
            /// of `validate`; an error lists every problem, structure and rules together, each
            /// path in the caller's naming (see [`$crate::validate::Problem::path`]).
            pub fn from_json(bytes: &[u8]) -> Result<Self, $crate::validate::ValidationError> {
                $crate::json_input::read_bytes(bytes, "", Self::from_tree)
            }

            /// [`Self::from_json`] for a parsed JSON value: the same checks, the same problems.
            pub fn from_value(
                value: serde_json::Value,
            ) -> Result<Self, $crate::validate::ValidationError> {
                $crate::json_input::read_value(&value, "", Self::from_tree)
            }

            /// Reads and checks the body; paths as the readers and rules build them (the JSON
            /// entry points then put them in the caller's naming).
            pub(crate) fn from_tree(
                value: $crate::json_input::Json<'_>,
            ) -> Result<Self, $crate::validate::ValidationError> {
                let mut p = $crate::validate::Problems::default();
                let read = $crate::json_input::Obj::new(value, "", &mut p)
                    .and_then(|o| Self::read(o, &mut p));
                match read {
                    // Rules run even when structure is broken somewhere, so a person fixes
                    // everything in one pass; a request comes back only when nothing is wrong.
                    Some(req) => {
                        req.check(&mut p);
                        if p.is_empty() {
                            Ok(req)
                        } else {
                            Err(p.into_error())
                        }
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
