//! `POST cgi-bin/user/tag/get`: one page of the followers carrying tag `tagid`, from the start
//! (`next_openid` empty) or after the OpenID a previous page ended with. The reply has the shape
//! of `user/get`'s without `total`. [`crate::followers::FollowerPager`] drives the pages.

use serde::Serialize;

use super::user_get::{check_cursor, FollowerListReply};
use super::EndpointName;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::PATH_USER_TAG_GET;
use crate::validate::Problems;

/// Ask for one page of a tag's followers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserTagGetRequest {
    /// The tag's id (from `tags/get`).
    pub tagid: u64,
    /// The last OpenID of the previous page; empty (sent as `""`) for the first page.
    pub next_openid: String,
}

impl UserTagGetRequest {
    /// The page of tag `tagid` after `next_openid` (empty: the first page).
    pub fn new(tagid: u64, next_openid: impl Into<String>) -> Self {
        UserTagGetRequest {
            tagid,
            next_openid: next_openid.into(),
        }
    }

    fn check(&self, p: &mut Problems) {
        check_cursor(p, &self.next_openid);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let tagid = o.u64(wire!("tagid"), p);
        let next_openid = o.opt_string(wire!("next_openid"), p).unwrap_or_default();
        o.finish(p);
        Some(UserTagGetRequest {
            tagid: tagid?,
            next_openid,
        })
    }
}

super::json_endpoint! {
    UserTagGetRequest {
        NAME: EndpointName::UserTagGet,
        PATH: PATH_USER_TAG_GET,
        METHOD: Method::Post,
        MASS: false,
        Reply: FollowerListReply,
    }
}
