//! `POST cgi-bin/message/mass/send`: a message to 2..10,000 OpenIDs (service accounts).
//!
//! One call takes at most 10,000 OpenIDs and at least 2 (WeChat rejects one; a single recipient
//! goes through preview). Larger lists are split by [`crate::plan`].

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::send_all::{check_client_msg_id, read_send_options, serialize_send_options, SendReply};
use super::EndpointName;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::{MAX_OPENIDS_PER_SEND, MIN_OPENIDS_PER_SEND, PATH_SEND_TO_USERS};
use crate::message::{MassMessage, Use};
use crate::validate::{check_openid_list, Problems, Rule};

/// Send a message to a list of OpenIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendToUsersRequest {
    /// 2 to 10,000 distinct OpenIDs.
    pub touser: Vec<String>,
    /// The message.
    pub message: MassMessage,
    /// 1 = go on when an article is judged a reprint, 0 = stop. Omitted when `None`.
    pub send_ignore_reprint: Option<bool>,
    /// Idempotency key; see [`super::SendAllRequest::clientmsgid`].
    pub clientmsgid: Option<String>,
}

impl Serialize for SendToUsersRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("touser", &self.touser)?;
        self.message.serialize_entries(&mut m)?;
        serialize_send_options(
            &mut m,
            self.send_ignore_reprint,
            self.clientmsgid.as_deref(),
        )?;
        m.end()
    }
}

impl SendToUsersRequest {
    /// A send of `message` to `touser` with no options set.
    pub fn new(touser: Vec<String>, message: MassMessage) -> Self {
        SendToUsersRequest {
            touser,
            message,
            send_ignore_reprint: None,
            clientmsgid: None,
        }
    }

    fn check(&self, p: &mut Problems) {
        check_openid_list(
            p,
            "touser",
            &self.touser,
            MIN_OPENIDS_PER_SEND,
            MAX_OPENIDS_PER_SEND,
        );
        self.message.check(Use::Send, p);
        check_client_msg_id(p, self.clientmsgid.as_deref());
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let touser = o.opt_string_list(wire!("touser"), p);
        if touser.is_none() && !o.has(wire!("touser")) {
            p.push("touser", Rule::Required, None);
        }
        let message = MassMessage::read(&mut o, p);
        let (send_ignore_reprint, clientmsgid) = read_send_options(&mut o, p);
        o.finish(p);
        Some(SendToUsersRequest {
            touser: touser.unwrap_or_default(),
            message: message?,
            send_ignore_reprint,
            clientmsgid,
        })
    }
}

super::json_endpoint! {
    SendToUsersRequest {
        NAME: EndpointName::SendToUsers,
        PATH: PATH_SEND_TO_USERS,
        METHOD: Method::Post,
        MASS: true,
        Reply: SendReply,
    }
}
