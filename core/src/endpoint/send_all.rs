//! `POST cgi-bin/message/mass/sendall`: a message to everyone or to one tag.
//!
//! A verified subscription account may do this once a day; `is_to_all: true` enters the
//! account's history list (subscription 1/day, service 4/month). See [`crate::plan`] for how
//! sends are scheduled within those quotas.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::EndpointName;
use crate::audience::SendAllFilter;
use crate::http::Method;
use crate::ids::MsgId;
use crate::json_input::{wire, Obj};
use crate::limits::PATH_SEND_ALL;
use crate::message::{MassMessage, Use};
use crate::validate::{is_client_msg_id, Problems, Rule};

/// Send a message to everyone or to one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAllRequest {
    /// Everyone or one tag.
    pub filter: SendAllFilter,
    /// The message.
    pub message: MassMessage,
    /// 1 = go on when an article is judged a reprint, 0 = stop. Omitted when `None`.
    pub send_ignore_reprint: Option<bool>,
    /// Idempotency key (≤ 64 bytes of printable ASCII): a repeat of the same id is answered with
    /// 45065 and the msg_id of the existing send instead of sending twice.
    pub clientmsgid: Option<String>,
}

/// Reply of `sendall` and `send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct SendReply {
    /// The send job's id.
    pub msg_id: MsgId,
    /// The message data id (mpnews only), used by the article analytics API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_data_id: Option<MsgId>,
}

impl Serialize for SendAllRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("filter", &self.filter)?;
        self.message.serialize_entries(&mut m)?;
        serialize_send_options(
            &mut m,
            self.send_ignore_reprint,
            self.clientmsgid.as_deref(),
        )?;
        m.end()
    }
}

/// Writes `send_ignore_reprint` and `clientmsgid` (shared by sendall and send).
pub(crate) fn serialize_send_options<M: SerializeMap>(
    m: &mut M,
    send_ignore_reprint: Option<bool>,
    clientmsgid: Option<&str>,
) -> Result<(), M::Error> {
    if let Some(flag) = send_ignore_reprint {
        m.serialize_entry("send_ignore_reprint", &u8::from(flag))?;
    }
    if let Some(id) = clientmsgid {
        m.serialize_entry("clientmsgid", id)?;
    }
    Ok(())
}

/// Checks `clientmsgid` (shared by sendall and send).
pub(crate) fn check_client_msg_id(p: &mut Problems, clientmsgid: Option<&str>) {
    if let Some(id) = clientmsgid {
        if !is_client_msg_id(id) {
            p.push("clientmsgid", Rule::ClientMsgId, Some(id));
        }
    }
}

/// Reads `send_ignore_reprint` and `clientmsgid` (shared by sendall and send).
pub(crate) fn read_send_options(o: &mut Obj, p: &mut Problems) -> (Option<bool>, Option<String>) {
    (
        o.opt_flag(wire!("send_ignore_reprint"), p),
        o.opt_string(wire!("clientmsgid"), p),
    )
}

impl SendAllRequest {
    /// A send of `message` through `filter` with no options set.
    pub fn new(filter: SendAllFilter, message: MassMessage) -> Self {
        SendAllRequest {
            filter,
            message,
            send_ignore_reprint: None,
            clientmsgid: None,
        }
    }

    fn check(&self, p: &mut Problems) {
        self.message.check(Use::Send, p);
        check_client_msg_id(p, self.clientmsgid.as_deref());
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let filter = match o.opt_obj(wire!("filter"), p) {
            Some(f) => SendAllFilter::read(f, p),
            None => {
                p.push("filter", Rule::Required, None);
                None
            }
        };
        let message = MassMessage::read(&mut o, p);
        let (send_ignore_reprint, clientmsgid) = read_send_options(&mut o, p);
        o.finish(p);
        let filter = match filter {
            Some(f) => f,
            None => {
                // Never let a broken filter fall through unreported: the stand-in below only lets
                // the message's rules run too, and a request with a problem is never returned.
                if p.is_empty() {
                    p.push("filter", Rule::Required, None);
                }
                SendAllFilter::Tag(0)
            }
        };
        Some(SendAllRequest {
            filter,
            message: message?,
            send_ignore_reprint,
            clientmsgid,
        })
    }
}

super::json_endpoint! {
    SendAllRequest {
        NAME: EndpointName::SendAll,
        PATH: PATH_SEND_ALL,
        METHOD: Method::Post,
        MASS: true,
        Reply: SendReply,
    }
}
