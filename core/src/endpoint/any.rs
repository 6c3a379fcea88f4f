//! Every endpoint by name, for callers that pick the endpoint at run time: the npm package's
//! `buildRequest("sendall", body)` and the worker's admin API go through here, so user JSON meets
//! exactly the rules of the typed requests.

use serde::Serialize;
use serde_json::Value;

use super::*;
use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest, Method};
use crate::json_input::{read_bytes, read_value, Json};
use crate::limits;
use crate::reply::Ack;
use crate::validate::{Problem, Rule, ValidationError};

/// Generates, from the list below, `EndpointName` (with `ALL`, `as_str`, `facts` and the reply
/// parser) and `AnyRequest` (with its reading and dispatch): every per-endpoint `match` of this
/// module, each arm answered by the endpoint type's own [`Endpoint`] items.
macro_rules! endpoints {
    (
        multipart { $($mv:ident $mshort:literal => $mty:ty,)* }
        json { $($jv:ident $jshort:literal => $jty:ty,)* }
        multipart { $($tv:ident $tshort:literal => $tty:ty,)* }
        json { $($kv:ident $kshort:literal => $kty:ty,)* }
    ) => {
        /// The name of an endpoint, for callers that pick it at run time. Its facts (path,
        /// method, mass limit) are those of its type's [`Endpoint`] constants.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EndpointName {
            $(
                #[doc = concat!("`", $mshort, "`: [`", stringify!($mty), "`]")]
                $mv,
            )*
            $(
                #[doc = concat!("`", $jshort, "`: [`", stringify!($jty), "`]")]
                $jv,
            )*
            $(
                #[doc = concat!("`", $tshort, "`: [`", stringify!($tty), "`]")]
                $tv,
            )*
            $(
                #[doc = concat!("`", $kshort, "`: [`", stringify!($kty), "`]")]
                $kv,
            )*
        }

        // The list and each type's `Endpoint::NAME` must agree (checked at compile time).
        $(const _: () = assert!(matches!(<$mty as Endpoint>::NAME, EndpointName::$mv));)*
        $(const _: () = assert!(matches!(<$jty as Endpoint>::NAME, EndpointName::$jv));)*
        $(const _: () = assert!(matches!(<$tty as Endpoint>::NAME, EndpointName::$tv));)*
        $(const _: () = assert!(matches!(<$kty as Endpoint>::NAME, EndpointName::$kv));)*

        impl EndpointName {
            /// Every endpoint.
            pub const ALL: [EndpointName; [$($mshort,)* $($jshort,)* $($tshort,)* $($kshort,)*].len()] =
                [$(EndpointName::$mv,)* $(EndpointName::$jv,)* $(EndpointName::$tv,)* $(EndpointName::$kv,)*];

            /// Short name: `uploadimg`, `uploadnews`, `uploadvideo`, `sendall`, `send`, `delete`,
            /// `preview`, `get`, `speed/get`, `speed/set`, `stable_token`, and the material, tag
            /// and follower calls by their path under `cgi-bin/` (`media/upload`, `tags/get`, …).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EndpointName::$mv => $mshort,)*
                    $(EndpointName::$jv => $jshort,)*
                    $(EndpointName::$tv => $tshort,)*
                    $(EndpointName::$kv => $kshort,)*
                }
            }

            /// The facts of this endpoint: its type's [`Endpoint`] constants.
            pub const fn facts(self) -> EndpointFacts {
                match self {
                    $(EndpointName::$mv => EndpointFacts::of::<$mty>(),)*
                    $(EndpointName::$jv => EndpointFacts::of::<$jty>(),)*
                    $(EndpointName::$tv => EndpointFacts::of::<$tty>(),)*
                    $(EndpointName::$kv => EndpointFacts::of::<$kty>(),)*
                }
            }

            fn parse_reply(self, body: &[u8]) -> Result<AnyReply, ReplyError> {
                match self {
                    $(EndpointName::$mv => <$mty as Endpoint>::parse_reply(body).map(Into::into),)*
                    $(EndpointName::$jv => <$jty as Endpoint>::parse_reply(body).map(Into::into),)*
                    $(EndpointName::$tv => <$tty as Endpoint>::parse_reply(body).map(Into::into),)*
                    $(EndpointName::$kv => <$kty as Endpoint>::parse_reply(body).map(Into::into),)*
                }
            }
        }

        /// A request read from JSON, of any endpoint but the file uploads (uploadimg,
        /// media/upload and add_material are multipart: use their request types).
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)] // one variant per endpoint, named after it
        pub enum AnyRequest {
            $($jv($jty),)*
            $($kv($kty),)*
        }

        impl AnyRequest {
            fn from_json_value(
                endpoint: EndpointName,
                json: Json<'_>,
            ) -> Result<Self, ValidationError> {
                match endpoint {
                    $(EndpointName::$mv => Err(not_json(endpoint)),)*
                    $(EndpointName::$jv => <$jty>::from_tree(json).map(AnyRequest::$jv),)*
                    $(EndpointName::$tv => Err(not_json(endpoint)),)*
                    $(EndpointName::$kv => <$kty>::from_tree(json).map(AnyRequest::$kv),)*
                }
            }

            /// Which endpoint this request is for.
            pub fn endpoint(&self) -> EndpointName {
                match self {
                    $(AnyRequest::$jv(_) => <$jty as Endpoint>::NAME,)*
                    $(AnyRequest::$kv(_) => <$kty as Endpoint>::NAME,)*
                }
            }

            /// Every problem, or `Ok`.
            pub fn validate(&self) -> Result<(), ValidationError> {
                match self {
                    $(AnyRequest::$jv(r) => r.validate(),)*
                    $(AnyRequest::$kv(r) => r.validate(),)*
                }
            }

            /// Validates and builds the request.
            pub fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
                match self {
                    $(AnyRequest::$jv(r) => r.build(base),)*
                    $(AnyRequest::$kv(r) => r.build(base),)*
                }
            }

            /// The JSON body **without validation**.
            pub fn to_body(&self) -> Vec<u8> {
                match self {
                    $(AnyRequest::$jv(r) => r.to_body(),)*
                    $(AnyRequest::$kv(r) => r.to_body(),)*
                }
            }
        }
    };
}

// The one list of endpoints. Each line: the variant (of `EndpointName` and, for JSON bodies, of
// `AnyRequest`), its short name, and its type, whose file states the endpoint's facts. The
// order is `EndpointName::ALL`'s, which the npm package numbers endpoints by: add at the end.
endpoints! {
    multipart {
        UploadImg "uploadimg" => UploadImgRequest,
    }
    json {
        UploadNews "uploadnews" => UploadNewsRequest,
        UploadVideo "uploadvideo" => UploadVideoRequest,
        SendAll "sendall" => SendAllRequest,
        SendToUsers "send" => SendToUsersRequest,
        Delete "delete" => DeleteRequest,
        Preview "preview" => PreviewRequest,
        GetStatus "get" => GetStatusRequest,
        SpeedGet "speed/get" => SpeedGetRequest,
        SpeedSet "speed/set" => SpeedSetRequest,
        StableToken "stable_token" => StableTokenRequest,
    }
    multipart {
        MediaUpload "media/upload" => MediaUploadRequest,
        AddMaterial "material/add_material" => AddMaterialRequest,
    }
    json {
        BatchGetMaterial "material/batchget_material" => BatchGetMaterialRequest,
        MaterialCount "material/get_materialcount" => MaterialCountRequest,
        TagsGet "tags/get" => TagsGetRequest,
        UserTagGet "user/tag/get" => UserTagGetRequest,
        UserGet "user/get" => UserGetRequest,
    }
}

impl EndpointName {
    /// Reads a short name (as [`EndpointName::as_str`]) or a full path (`/cgi-bin/message/mass/send`).
    pub fn parse(s: &str) -> Option<EndpointName> {
        EndpointName::ALL
            .into_iter()
            .find(|e| e.as_str() == s || e.path() == s)
    }

    /// The path under the API base ([`Endpoint::PATH`]).
    pub fn path(self) -> &'static str {
        self.facts().path
    }

    /// The HTTP method ([`Endpoint::METHOD`]).
    pub fn method(self) -> Method {
        self.facts().method
    }

    /// The request of this endpoint for a JSON body that `build` produced earlier and the
    /// caller stored (a planned batch is sent with the very same bytes on every attempt).
    /// Not for the file uploads, whose multipart bodies only their request types build, nor
    /// for `user/get`, whose cursor travels in the query.
    pub fn request_for_built_body(self, base: &ApiBase, body: Vec<u8>) -> HttpRequest {
        let facts = self.facts();
        base.request(facts.method, facts.path, limits::CONTENT_TYPE_JSON, body)
    }

    /// Whether a call counts against the 60-a-minute mass-send limit ([`Endpoint::MASS`]).
    pub fn is_mass_endpoint(self) -> bool {
        self.facts().mass
    }
}

fn not_json(endpoint: EndpointName) -> ValidationError {
    ValidationError {
        problems: vec![Problem::new(
            "",
            Rule::NotAllowed {
                reason: "a file upload takes a multipart file, not JSON",
            },
            Some(endpoint.as_str()),
        )],
    }
}

impl AnyRequest {
    /// Reads a **valid** request of `endpoint` from JSON bytes: `Ok` only when the JSON has the
    /// request's shape and passes every rule; an error lists every problem at once.
    pub fn from_json(endpoint: EndpointName, bytes: &[u8]) -> Result<Self, ValidationError> {
        read_bytes(bytes, "", |json| Self::from_json_value(endpoint, json))
    }

    /// [`AnyRequest::from_json`] for a parsed JSON value: the same checks, the same problems.
    pub fn from_value(endpoint: EndpointName, value: Value) -> Result<Self, ValidationError> {
        read_value(&value, "", |json| Self::from_json_value(endpoint, json))
    }
}

/// A typed success reply of any endpoint; serializes as the reply's own JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)] // one variant per reply type
pub enum AnyReply {
    UploadImg(UploadImgReply),
    MediaUpload(MediaUploadReply),
    Send(SendReply),
    Ack(Ack),
    Preview(PreviewReply),
    GetStatus(GetStatusReply),
    SpeedGet(SpeedGetReply),
    Token(TokenReply),
    AddMaterial(AddMaterialReply),
    MaterialList(BatchGetMaterialReply),
    MaterialCount(MaterialCountReply),
    Tags(TagsReply),
    Followers(FollowerListReply),
}

/// Every typed reply is one variant of [`AnyReply`] ([`Endpoint::Reply`] requires it).
macro_rules! any_reply_from {
    ($($variant:ident($reply:ty),)*) => {
        $(impl From<$reply> for AnyReply {
            fn from(reply: $reply) -> AnyReply {
                AnyReply::$variant(reply)
            }
        })*
    };
}

any_reply_from! {
    UploadImg(UploadImgReply),
    MediaUpload(MediaUploadReply),
    Send(SendReply),
    Ack(Ack),
    Preview(PreviewReply),
    GetStatus(GetStatusReply),
    SpeedGet(SpeedGetReply),
    Token(TokenReply),
    AddMaterial(AddMaterialReply),
    MaterialList(BatchGetMaterialReply),
    MaterialCount(MaterialCountReply),
    Tags(TagsReply),
    Followers(FollowerListReply),
}

/// Parses the reply of `endpoint` (with its type's [`Endpoint::parse_reply`]).
pub fn parse_any_reply(endpoint: EndpointName, body: &[u8]) -> Result<AnyReply, ReplyError> {
    endpoint.parse_reply(body)
}
