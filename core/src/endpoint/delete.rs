//! `POST cgi-bin/message/mass/delete`: invalidate the article page of a sent mpnews or mpvideo.
//!
//! Only mpnews and mpvideo sends can be deleted; people who already received the message keep
//! the card. Sends that reused one material share one link, so deleting one breaks all of them.

use serde::Serialize;

use super::EndpointName;
use crate::http::Method;
use crate::ids::MsgId;
use crate::json_input::{wire, Obj};
use crate::limits::PATH_DELETE;
use crate::reply::Ack;
use crate::validate::{check_msg_id, Problems};

/// Delete a sent message (all its articles, or one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteRequest {
    /// The send's msg_id (positive).
    #[serde(serialize_with = "MsgId::serialize_as_number")]
    pub msg_id: MsgId,
    /// 1-based article to delete; 0 or absent deletes every article.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_idx: Option<u64>,
    /// The article URL, an alternative way newer docs name the article; optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl DeleteRequest {
    /// Delete every article of the send `msg_id`.
    pub fn new(msg_id: MsgId) -> Self {
        DeleteRequest {
            msg_id,
            article_idx: None,
            url: None,
        }
    }

    fn check(&self, p: &mut Problems) {
        check_msg_id(p, "msg_id", self.msg_id);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let msg_id = o.msg_id(wire!("msg_id"), p);
        let article_idx = o.opt_u64(wire!("article_idx"), p);
        let url = o.opt_string(wire!("url"), p);
        o.finish(p);
        Some(DeleteRequest {
            msg_id: msg_id?,
            article_idx,
            url,
        })
    }
}

super::json_endpoint! {
    DeleteRequest {
        NAME: EndpointName::Delete,
        PATH: PATH_DELETE,
        METHOD: Method::Post,
        MASS: true,
        Reply: Ack,
    }
}
