//! Every endpoint by name, for callers that pick the endpoint at run time: the npm package's
//! `buildRequest("sendall", body)` and the worker's admin API go through here, so user JSON meets
//! exactly the rules of the typed requests.

use serde::Serialize;
use serde_json::Value;

use super::*;
use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest, Method};
use crate::json_input::{read_bytes, Json};
use crate::limits;
use crate::reply::Ack;
use crate::validate::{Problem, Problems, Rule, ValidationError};

/// The name of an endpoint, as the spec's table writes its path tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointName {
    /// `media/uploadimg`
    UploadImg,
    /// `media/uploadnews`
    UploadNews,
    /// `media/uploadvideo`
    UploadVideo,
    /// `message/mass/sendall`
    SendAll,
    /// `message/mass/send`
    SendToUsers,
    /// `message/mass/delete`
    Delete,
    /// `message/mass/preview`
    Preview,
    /// `message/mass/get`
    GetStatus,
    /// `message/mass/speed/get`
    SpeedGet,
    /// `message/mass/speed/set`
    SpeedSet,
    /// `stable_token`
    StableToken,
}

impl EndpointName {
    /// Every endpoint.
    pub const ALL: [EndpointName; 11] = [
        EndpointName::UploadImg,
        EndpointName::UploadNews,
        EndpointName::UploadVideo,
        EndpointName::SendAll,
        EndpointName::SendToUsers,
        EndpointName::Delete,
        EndpointName::Preview,
        EndpointName::GetStatus,
        EndpointName::SpeedGet,
        EndpointName::SpeedSet,
        EndpointName::StableToken,
    ];

    /// Short name: `uploadimg`, `uploadnews`, `uploadvideo`, `sendall`, `send`, `delete`,
    /// `preview`, `get`, `speed/get`, `speed/set`, `stable_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointName::UploadImg => "uploadimg",
            EndpointName::UploadNews => "uploadnews",
            EndpointName::UploadVideo => "uploadvideo",
            EndpointName::SendAll => "sendall",
            EndpointName::SendToUsers => "send",
            EndpointName::Delete => "delete",
            EndpointName::Preview => "preview",
            EndpointName::GetStatus => "get",
            EndpointName::SpeedGet => "speed/get",
            EndpointName::SpeedSet => "speed/set",
            EndpointName::StableToken => "stable_token",
        }
    }

    /// Reads a short name (as [`EndpointName::as_str`]) or a full path (`/cgi-bin/message/mass/send`).
    pub fn parse(s: &str) -> Option<EndpointName> {
        EndpointName::ALL
            .into_iter()
            .find(|e| e.as_str() == s || e.path() == s)
    }

    /// The path under the API base.
    pub fn path(self) -> &'static str {
        match self {
            EndpointName::UploadImg => limits::PATH_UPLOAD_IMG,
            EndpointName::UploadNews => limits::PATH_UPLOAD_NEWS,
            EndpointName::UploadVideo => limits::PATH_UPLOAD_VIDEO,
            EndpointName::SendAll => limits::PATH_SEND_ALL,
            EndpointName::SendToUsers => limits::PATH_SEND_TO_USERS,
            EndpointName::Delete => limits::PATH_DELETE,
            EndpointName::Preview => limits::PATH_PREVIEW,
            EndpointName::GetStatus => limits::PATH_GET_STATUS,
            EndpointName::SpeedGet => limits::PATH_SPEED_GET,
            EndpointName::SpeedSet => limits::PATH_SPEED_SET,
            EndpointName::StableToken => limits::PATH_STABLE_TOKEN,
        }
    }

    /// The request of this endpoint for a JSON body that `build` produced earlier and the
    /// caller stored (a planned batch is sent with the very same bytes on every attempt).
    /// Not for uploadimg, whose multipart body only [`UploadImgRequest`] builds.
    pub fn request_for_built_body(self, base: &ApiBase, body: Vec<u8>) -> HttpRequest {
        base.request(Method::Post, self.path(), limits::CONTENT_TYPE_JSON, body)
    }

    /// Whether a call counts against the 60-a-minute mass-send limit.
    pub fn is_mass_endpoint(self) -> bool {
        !matches!(self, EndpointName::StableToken)
    }
}

/// A request with a JSON body, of any endpoint (uploadimg is multipart: use
/// [`UploadImgRequest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // one variant per endpoint, named after it
pub enum AnyRequest {
    UploadNews(UploadNewsRequest),
    UploadVideo(UploadVideoRequest),
    SendAll(SendAllRequest),
    SendToUsers(SendToUsersRequest),
    Delete(DeleteRequest),
    Preview(PreviewRequest),
    GetStatus(GetStatusRequest),
    SpeedGet(SpeedGetRequest),
    SpeedSet(SpeedSetRequest),
    StableToken(StableTokenRequest),
}

macro_rules! each {
    ($self:expr, $r:ident => $body:expr) => {
        match $self {
            AnyRequest::UploadNews($r) => $body,
            AnyRequest::UploadVideo($r) => $body,
            AnyRequest::SendAll($r) => $body,
            AnyRequest::SendToUsers($r) => $body,
            AnyRequest::Delete($r) => $body,
            AnyRequest::Preview($r) => $body,
            AnyRequest::GetStatus($r) => $body,
            AnyRequest::SpeedGet($r) => $body,
            AnyRequest::SpeedSet($r) => $body,
            AnyRequest::StableToken($r) => $body,
        }
    };
}

fn not_json(endpoint: EndpointName) -> ValidationError {
    ValidationError {
        problems: vec![Problem::new(
            "",
            Rule::NotAllowed {
                reason: "uploadimg takes a multipart image, not JSON",
            },
            Some(endpoint.as_str()),
        )],
    }
}

impl AnyRequest {
    /// Reads the request of `endpoint` from JSON bytes.
    pub fn from_json(endpoint: EndpointName, bytes: &[u8]) -> Result<Self, ValidationError> {
        read_bytes(bytes, |json| Self::from_json_value(endpoint, json))
    }

    /// Reads the request of `endpoint` from a parsed JSON value.
    pub fn from_value(endpoint: EndpointName, value: Value) -> Result<Self, ValidationError> {
        Self::from_json_value(endpoint, Json::borrow(&value))
    }

    fn from_json_value(endpoint: EndpointName, json: Json<'_>) -> Result<Self, ValidationError> {
        let v = Some(json);
        let p = Problems::default;
        Ok(match endpoint {
            EndpointName::UploadImg => return Err(not_json(endpoint)),
            EndpointName::UploadNews => {
                AnyRequest::UploadNews(UploadNewsRequest::from_parts(v, p())?)
            }
            EndpointName::UploadVideo => {
                AnyRequest::UploadVideo(UploadVideoRequest::from_parts(v, p())?)
            }
            EndpointName::SendAll => AnyRequest::SendAll(SendAllRequest::from_parts(v, p())?),
            EndpointName::SendToUsers => {
                AnyRequest::SendToUsers(SendToUsersRequest::from_parts(v, p())?)
            }
            EndpointName::Delete => AnyRequest::Delete(DeleteRequest::from_parts(v, p())?),
            EndpointName::Preview => AnyRequest::Preview(PreviewRequest::from_parts(v, p())?),
            EndpointName::GetStatus => AnyRequest::GetStatus(GetStatusRequest::from_parts(v, p())?),
            EndpointName::SpeedGet => AnyRequest::SpeedGet(SpeedGetRequest::from_parts(v, p())?),
            EndpointName::SpeedSet => AnyRequest::SpeedSet(SpeedSetRequest::from_parts(v, p())?),
            EndpointName::StableToken => {
                AnyRequest::StableToken(StableTokenRequest::from_parts(v, p())?)
            }
        })
    }

    /// Which endpoint this request is for.
    pub fn endpoint(&self) -> EndpointName {
        match self {
            AnyRequest::UploadNews(_) => EndpointName::UploadNews,
            AnyRequest::UploadVideo(_) => EndpointName::UploadVideo,
            AnyRequest::SendAll(_) => EndpointName::SendAll,
            AnyRequest::SendToUsers(_) => EndpointName::SendToUsers,
            AnyRequest::Delete(_) => EndpointName::Delete,
            AnyRequest::Preview(_) => EndpointName::Preview,
            AnyRequest::GetStatus(_) => EndpointName::GetStatus,
            AnyRequest::SpeedGet(_) => EndpointName::SpeedGet,
            AnyRequest::SpeedSet(_) => EndpointName::SpeedSet,
            AnyRequest::StableToken(_) => EndpointName::StableToken,
        }
    }

    /// Every problem, or `Ok`.
    pub fn validate(&self) -> Result<(), ValidationError> {
        each!(self, r => r.validate())
    }

    /// Validates and builds the request.
    pub fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        each!(self, r => r.build(base))
    }

    /// The JSON body without validation.
    pub fn to_body(&self) -> Vec<u8> {
        each!(self, r => r.to_body())
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
}

/// Parses the reply of `endpoint`.
pub fn parse_any_reply(endpoint: EndpointName, body: &[u8]) -> Result<AnyReply, ReplyError> {
    use crate::reply::parse;
    Ok(match endpoint {
        EndpointName::UploadImg => AnyReply::UploadImg(parse(body)?),
        EndpointName::UploadNews | EndpointName::UploadVideo => AnyReply::MediaUpload(parse(body)?),
        EndpointName::SendAll | EndpointName::SendToUsers => AnyReply::Send(parse(body)?),
        EndpointName::Delete | EndpointName::SpeedSet => AnyReply::Ack(parse(body)?),
        EndpointName::Preview => AnyReply::Preview(parse(body)?),
        EndpointName::GetStatus => AnyReply::GetStatus(parse(body)?),
        EndpointName::SpeedGet => AnyReply::SpeedGet(parse(body)?),
        EndpointName::StableToken => AnyReply::Token(parse(body)?),
    })
}
