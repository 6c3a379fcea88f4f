//! Paging through followers: the account's (`user/get`) or one tag's (`user/tag/get`), as a
//! state machine the caller drives. Ask it for the next request, send it, feed it the reply
//! bytes; it answers with the page's OpenIDs and whether the list is done. No IO, no clock.
//!
//! ```
//! use wxmass::followers::{FollowerPager, PageStep};
//! use wxmass::ApiBase;
//!
//! let mut pager = FollowerPager::tag(134);
//! let mut all = Vec::new();
//! while let Some(request) = pager.next_request(&ApiBase::default()).unwrap() {
//!     // Send `request` with the access_token; here, WeChat's own example reply.
//!     let _ = request;
//!     let reply = br#"{"count":2,"data":{"openid":["ocYxcuAEy30bX0NXmGn4ypqx3tI0","ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"]},"next_openid":""}"#;
//!     let step: PageStep = pager.feed(reply).unwrap();
//!     all.extend(step.openids);
//! }
//! assert_eq!(all.len(), 2);
//! ```
//!
//! When the list ends (docs/spec.md § Tags and followers): a page whose `next_openid` is empty is
//! the last (the documented end); a page with no OpenIDs ends it too (WeChat answers
//! `{"count":0,"next_openid":""}`, without `data`, after a last page that was exactly full). A
//! page that names the cursor it was asked from as its `next_openid` again, while carrying
//! OpenIDs, would repeat forever: that is an error, never a silent loop.

use crate::endpoint::user_get::FollowerListReply;
use crate::endpoint::{Endpoint, EndpointName, UserGetRequest, UserTagGetRequest};
use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest};
use crate::json_input::{read_value, show, wire, Json, Obj};
use crate::validate::{Problems, Rule, ValidationError};

/// Whose followers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowerSource {
    /// Every follower of the account (`user/get`).
    Everyone,
    /// The followers carrying one tag (`user/tag/get`).
    Tag(u64),
}

impl FollowerSource {
    /// Reads whose followers from caller JSON (the worker's `POST /api/audiences` `source`):
    /// `"followers"` for every follower, or `{"tagId": n}` (or `tagid`/`tag_id`) for one tag,
    /// `n` what [`UserTagGetRequest`] takes (a non-negative integer, or one as a numeric
    /// string). Problems are reported at `path` (`source`, `source.tagId`).
    pub fn from_value(value: &serde_json::Value, path: &str) -> Result<Self, ValidationError> {
        read_value(value, path, |json| Self::from_tree(json, path))
    }

    fn from_tree(json: Json<'_>, path: &str) -> Result<Self, ValidationError> {
        let mut p = Problems::default();
        if let Some(text) = json.as_str() {
            if text == "followers" {
                return Ok(FollowerSource::Everyone);
            }
            p.push(
                path,
                Rule::OneOf {
                    fields: "\"followers\" (every follower) or {\"tagId\": n} (one tag's)",
                },
                Some(&show(&json)),
            );
            return Err(p.into_error());
        }
        let Some(mut o) = Obj::new(json, path, &mut p) else {
            return Err(p.into_error());
        };
        // A missing id is named as the caller names it (the admin API's camelCase).
        if !o.has(wire!("tagid")) {
            p.push(o.field_path("tagId"), Rule::Required, None);
        }
        let tag = o.opt_u64(wire!("tagid"), &mut p);
        o.finish(&mut p);
        match tag {
            Some(id) if p.is_empty() => Ok(FollowerSource::Tag(id)),
            _ => Err(p.into_error()),
        }
    }
}

/// Where the paging stands; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerPager {
    source: FollowerSource,
    cursor: String,
    pages: u64,
    fetched: u64,
    total: Option<u64>,
    done: bool,
}

/// What one page gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStep {
    /// The page's OpenIDs, in WeChat's order.
    pub openids: Vec<String>,
    /// Followers of the account in all, as `user/get` reports it (not for a tag).
    pub total: Option<u64>,
    /// Whether the list is done (no further request).
    pub done: bool,
}

/// Why a page could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagerError {
    /// WeChat refused the call (errcode), or the reply was not a follower page.
    #[error(transparent)]
    Reply(#[from] ReplyError),
    /// A reply was fed after the list was done.
    #[error("the follower list is already done; no request was pending (关注者列表已拉取完毕，没有待处理的请求)")]
    Finished,
    /// WeChat answered with the cursor it was asked from and more OpenIDs: asking again would
    /// repeat the same page forever.
    #[error(
        "user list paging made no progress: next_openid {next_openid:?} is the cursor this page was asked from \
         (关注者列表翻页没有前进：next_openid 与本次请求的相同)"
    )]
    NoProgress {
        /// The repeated cursor.
        next_openid: String,
    },
}

impl FollowerPager {
    /// Every follower of the account, from the start.
    pub fn everyone() -> Self {
        Self::new(FollowerSource::Everyone)
    }

    /// The followers of tag `tagid`, from the start.
    pub fn tag(tagid: u64) -> Self {
        Self::new(FollowerSource::Tag(tagid))
    }

    /// The followers of `source`, from the start.
    pub fn new(source: FollowerSource) -> Self {
        FollowerPager {
            source,
            cursor: String::new(),
            pages: 0,
            fetched: 0,
            total: None,
            done: false,
        }
    }

    /// Resumes after `next_openid` (a cursor a previous run stored), e.g. across runs.
    pub fn resume(source: FollowerSource, next_openid: impl Into<String>) -> Self {
        FollowerPager {
            cursor: next_openid.into(),
            ..Self::new(source)
        }
    }

    /// Whose followers.
    pub fn source(&self) -> FollowerSource {
        self.source
    }

    /// The endpoint each request goes to.
    pub fn endpoint(&self) -> EndpointName {
        match self.source {
            FollowerSource::Everyone => EndpointName::UserGet,
            FollowerSource::Tag(_) => EndpointName::UserTagGet,
        }
    }

    /// The cursor of the next request (empty: from the start); store it to resume later.
    pub fn cursor(&self) -> &str {
        &self.cursor
    }

    /// Pages taken so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// OpenIDs taken so far.
    pub fn fetched(&self) -> u64 {
        self.fetched
    }

    /// The account's follower count, once a `user/get` page said it.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Whether the list is done.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next request to send, or `None` when the list is done. Fails only for a resumed
    /// cursor that is not an OpenID.
    pub fn next_request(&self, base: &ApiBase) -> Result<Option<HttpRequest>, ValidationError> {
        if self.done {
            return Ok(None);
        }
        let request = match self.source {
            FollowerSource::Everyone => UserGetRequest::after(self.cursor.clone()).build(base)?,
            FollowerSource::Tag(tagid) => {
                UserTagGetRequest::new(tagid, self.cursor.clone()).build(base)?
            }
        };
        Ok(Some(request))
    }

    /// Takes the reply (body bytes) of the request [`Self::next_request`] gave. On an error the
    /// pager is unchanged, so the same request can be sent again (after a token refresh, say).
    pub fn feed(&mut self, body: &[u8]) -> Result<PageStep, PagerError> {
        if self.done {
            return Err(PagerError::Finished);
        }
        let reply: FollowerListReply = UserGetRequest::parse_reply(body)?;
        let openids = reply.data.openid;
        let next = reply.next_openid;
        if !openids.is_empty() && !next.is_empty() && next == self.cursor {
            return Err(PagerError::NoProgress { next_openid: next });
        }
        self.pages += 1;
        self.fetched += openids.len() as u64;
        if reply.total.is_some() {
            self.total = reply.total;
        }
        self.done = next.is_empty() || openids.is_empty();
        if !self.done {
            self.cursor = next;
        }
        Ok(PageStep {
            openids,
            total: self.total,
            done: self.done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_source_as_followers_or_one_tag() {
        let read = |v| FollowerSource::from_value(&v, "source");
        assert_eq!(read(json!("followers")), Ok(FollowerSource::Everyone));
        assert_eq!(read(json!({"tagId": 134})), Ok(FollowerSource::Tag(134)));
        assert_eq!(read(json!({"tagid": "2"})), Ok(FollowerSource::Tag(2)));
    }

    #[test]
    fn refuses_a_source_at_its_field() {
        let problem = |v| {
            let e = FollowerSource::from_value(&v, "source").unwrap_err();
            let p = &e.problems[0];
            (p.path.clone(), p.rule.code())
        };
        assert_eq!(
            problem(json!({"tagId": -1})),
            ("source.tagId".into(), "non_negative_integer")
        );
        assert_eq!(
            problem(json!({"tagId": 1.5})),
            ("source.tagId".into(), "non_negative_integer")
        );
        assert_eq!(problem(json!({})), ("source.tagId".into(), "required"));
        assert_eq!(
            problem(json!({"tagId": 2, "x": 1})),
            ("source.x".into(), "unknown_field")
        );
        assert_eq!(problem(json!("everyone")), ("source".into(), "one_of"));
        assert_eq!(problem(json!(7)), ("source".into(), "type"));
    }
}
