//! `POST cgi-bin/message/mass/get`: the status of a sent message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::EndpointName;
use crate::http::Method;
use crate::ids::MsgId;
use crate::json_input::{wire, Obj};
use crate::limits::PATH_GET_STATUS;
use crate::validate::{check_msg_id, Problems};

/// Ask for the status of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetStatusRequest {
    /// The send's msg_id (positive). Emitted as a number (one seed writes a string).
    #[serde(serialize_with = "MsgId::serialize_as_number")]
    pub msg_id: MsgId,
}

/// The status of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgStatus {
    /// `SEND_SUCCESS`
    SendSuccess,
    /// `SENDING`
    Sending,
    /// `SEND_FAIL`
    SendFail,
    /// `DELETE` (deleted after sending)
    Delete,
    /// A status this crate does not know, kept as sent.
    Other(String),
}

impl MsgStatus {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            MsgStatus::SendSuccess => "SEND_SUCCESS",
            MsgStatus::Sending => "SENDING",
            MsgStatus::SendFail => "SEND_FAIL",
            MsgStatus::Delete => "DELETE",
            MsgStatus::Other(s) => s,
        }
    }
}

impl Serialize for MsgStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MsgStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "SEND_SUCCESS" => MsgStatus::SendSuccess,
            "SENDING" => MsgStatus::Sending,
            "SEND_FAIL" => MsgStatus::SendFail,
            "DELETE" => MsgStatus::Delete,
            _ => MsgStatus::Other(s),
        })
    }
}

/// Reply of `mass/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct GetStatusReply {
    /// The send's msg_id.
    pub msg_id: MsgId,
    /// Its status.
    pub msg_status: MsgStatus,
}

impl GetStatusRequest {
    fn check(&self, p: &mut Problems) {
        check_msg_id(p, "msg_id", self.msg_id);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let msg_id = o.msg_id(wire!("msg_id"), p);
        o.finish(p);
        Some(GetStatusRequest { msg_id: msg_id? })
    }
}

super::json_endpoint! {
    GetStatusRequest {
        NAME: EndpointName::GetStatus,
        PATH: PATH_GET_STATUS,
        METHOD: Method::Post,
        MASS: true,
        Reply: GetStatusReply,
    }
}
