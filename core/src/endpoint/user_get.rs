//! `GET cgi-bin/user/get?next_openid=…`: one page of the account's followers, at most 10,000
//! OpenIDs, from the start (no `next_openid`) or after the OpenID a previous page ended with.
//! [`crate::followers::FollowerPager`] drives the pages to the end.

use serde::{Deserialize, Serialize};

use super::EndpointName;
use crate::http::{HttpRequest, Method};
use crate::json_input::{wire, Obj};
use crate::limits::PATH_USER_GET;
use crate::validate::{is_openid, Problems, Rule};

/// Ask for one page of the account's followers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct UserGetRequest {
    /// The last OpenID of the previous page; empty for the first page.
    pub next_openid: String,
}

/// Reply of `user/get` and `user/tag/get`: one page of OpenIDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct FollowerListReply {
    /// Followers of the account in all (`user/get` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// OpenIDs in this page (at most 10,000).
    #[serde(default)]
    pub count: u64,
    /// The page's OpenIDs; WeChat leaves `data` out of an empty page.
    #[serde(default)]
    pub data: FollowerData,
    /// The last OpenID of this page, to ask for the next; empty when the list is done.
    #[serde(default)]
    pub next_openid: String,
}

/// The `data` of a follower page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FollowerData {
    /// The OpenIDs.
    #[serde(default)]
    pub openid: Vec<String>,
}

impl UserGetRequest {
    /// The page after `next_openid` (empty: the first page).
    pub fn after(next_openid: impl Into<String>) -> Self {
        UserGetRequest {
            next_openid: next_openid.into(),
        }
    }

    fn check(&self, p: &mut Problems) {
        check_cursor(p, &self.next_openid);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let next_openid = o.opt_string(wire!("next_openid"), p).unwrap_or_default();
        o.finish(p);
        Some(UserGetRequest { next_openid })
    }

    fn query(&self, http: HttpRequest) -> HttpRequest {
        if self.next_openid.is_empty() {
            http
        } else {
            http.with_query_param("next_openid", &self.next_openid)
        }
    }
}

/// A `next_openid` is empty (from the start) or an OpenID.
pub(crate) fn check_cursor(p: &mut Problems, next_openid: &str) {
    if !next_openid.is_empty() && !is_openid(next_openid) {
        p.push("next_openid", Rule::OpenIdFormat, Some(next_openid));
    }
}

super::json_endpoint! {
    UserGetRequest {
        NAME: EndpointName::UserGet,
        PATH: PATH_USER_GET,
        METHOD: Method::Get,
        MASS: false,
        Reply: FollowerListReply,
        Query: UserGetRequest::query,
    }
}
