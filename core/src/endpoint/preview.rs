//! `POST cgi-bin/message/mass/preview`: send a message to one follower (OpenID) or one WeChat id
//! to check it on a phone. By WeChat id (`towxname`) is limited to 100 a day. `card_ext` of a
//! wxcard is only accepted here.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::EndpointName;
use crate::audience::PreviewTarget;
use crate::http::Method;
use crate::ids::MsgId;
use crate::json_input::Obj;
use crate::limits::PATH_PREVIEW;
use crate::message::{MassMessage, Use};
use crate::validate::Problems;

/// Preview a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRequest {
    /// Who receives the preview.
    pub target: PreviewTarget,
    /// The message.
    pub message: MassMessage,
}

/// Reply of `preview`: `{"errcode":0,"errmsg":"preview success","msg_id":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct PreviewReply {
    /// The preview's msg_id, when WeChat sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<MsgId>,
}

impl Serialize for PreviewRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        self.target.serialize_entry(&mut m)?;
        self.message.serialize_entries(&mut m)?;
        m.end()
    }
}

impl PreviewRequest {
    fn check(&self, p: &mut Problems) {
        self.target.check(p);
        self.message.check(Use::Preview, p);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let target = PreviewTarget::read(&mut o, p);
        let message = MassMessage::read(&mut o, p);
        o.finish(p);
        Some(PreviewRequest {
            target: target?,
            message: message?,
        })
    }
}

super::json_endpoint! {
    PreviewRequest {
        NAME: EndpointName::Preview,
        PATH: PATH_PREVIEW,
        METHOD: Method::Post,
        MASS: true,
        Reply: PreviewReply,
    }
}
