//! Who receives a send: everyone, one tag, or a list of OpenIDs; and who receives a preview.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::json_input::Obj;
use crate::validate::{join, require_text, Problems, Rule};

/// The audience of a mass send, as a person plans it. `sendall` takes [`SendAllFilter`] (everyone
/// or a tag); an OpenID list goes through `mass/send` in batches (see [`crate::plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every follower (`is_to_all: true`; the send enters the account's history list).
    Everyone,
    /// Followers with one tag.
    Tag(u64),
    /// An explicit list of OpenIDs.
    OpenIds(Vec<String>),
}

/// The `filter` of a `sendall` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendAllFilter {
    /// `{"is_to_all": true}`
    Everyone,
    /// `{"is_to_all": false, "tag_id": n}`
    Tag(u64),
}

impl Serialize for SendAllFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SendAllFilter::Everyone => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("is_to_all", &true)?;
                m.end()
            }
            SendAllFilter::Tag(id) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("is_to_all", &false)?;
                m.serialize_entry("tag_id", id)?;
                m.end()
            }
        }
    }
}

impl SendAllFilter {
    /// Reads `filter`: `is_to_all` (bool, default false) and `tag_id` (number or numeric string).
    /// The oldest seed's `group_id` is read as `tag_id` (groups became tags in 2016).
    pub(crate) fn read(mut o: Obj, p: &mut Problems) -> Option<SendAllFilter> {
        let to_all = o.opt_bool("is_to_all", "isToAll", p);
        let has_tag = o.has("tag_id", "tagId") || o.has("group_id", "groupId");
        let tag = if o.has("tag_id", "tagId") {
            o.opt_u64("tag_id", "tagId", p)
        } else {
            o.opt_u64("group_id", "groupId", p)
        };
        let tag_path = join(o.path(), "tag_id");
        o.finish(p);
        match (to_all, tag) {
            (Some(true), _) => Some(SendAllFilter::Everyone),
            (_, Some(id)) => Some(SendAllFilter::Tag(id)),
            _ => {
                if !has_tag {
                    p.push(tag_path, Rule::Required, None);
                }
                None
            }
        }
    }
}

/// The recipient of a preview. When a body names both, `towxname` wins (WeChat's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewTarget {
    /// `touser`: a follower's OpenID.
    OpenId(String),
    /// `towxname`: a WeChat id (limited to 100 previews a day).
    WxName(String),
}

impl PreviewTarget {
    pub(crate) fn serialize_entry<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        match self {
            PreviewTarget::OpenId(id) => m.serialize_entry("touser", id),
            PreviewTarget::WxName(name) => m.serialize_entry("towxname", name),
        }
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        match self {
            PreviewTarget::OpenId(id) => {
                if !crate::validate::is_openid(id) {
                    p.push("touser", Rule::OpenIdFormat, Some(id));
                }
            }
            PreviewTarget::WxName(name) => require_text(p, "towxname", name),
        }
    }

    pub(crate) fn read(o: &mut Obj, p: &mut Problems) -> Option<PreviewTarget> {
        let has_openid = o.has("touser", "toUser");
        let openid = o.opt_string("touser", "toUser", p);
        if let Some(name) = o.opt_string("towxname", "toWxName", p) {
            return Some(PreviewTarget::WxName(name));
        }
        if !has_openid {
            p.push(join(o.path(), "touser"), Rule::Required, None);
        }
        openid.map(PreviewTarget::OpenId)
    }
}
