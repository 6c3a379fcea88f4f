//! Who receives a send: everyone, one tag, or a list of OpenIDs; and who receives a preview.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::json_input::{read_bytes, read_value, wire, Json, Obj};
use crate::validate::{join, require_text, Problems, Rule, ValidationError};

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

impl Audience {
    /// Reads the audience of a planned send from user JSON (the worker's admin API, the npm
    /// package): exactly one of `{"everyone": true}`, `{"tagId": n}` (or `tag_id`, a number or a
    /// numeric string) and `{"openIds": [...]}` (or `openids`). Anything ambiguous is refused:
    /// a stray `"everyone": true` beside a list must never turn a targeted send into one to every
    /// follower, and a `null` tag is a missing tag, not "everyone".
    pub fn from_value(value: serde_json::Value, path: &str) -> Result<Audience, ValidationError> {
        read_value(&value, path, |json| Self::from_tree(json, path))
    }

    /// [`Audience::from_value`] from JSON text (the npm package's input).
    pub fn from_json(bytes: &[u8], path: &str) -> Result<Audience, ValidationError> {
        read_bytes(bytes, path, |json| Self::from_tree(json, path))
    }

    fn from_tree(json: Json<'_>, path: &str) -> Result<Audience, ValidationError> {
        const FIELDS: &str = "everyone (true), tagId, openIds";
        let mut p = Problems::default();
        let Some(mut o) = Obj::new(json, path, &mut p) else {
            return Err(p.into_error());
        };
        let named = [
            o.has(wire!("everyone")),
            o.has(wire!("tag_id")),
            o.has(wire!("openids")),
        ];
        let everyone_path = join(path, "everyone");
        let everyone = o.opt_bool(wire!("everyone"), &mut p);
        let tag = o.opt_u64(wire!("tag_id"), &mut p);
        let ids = o.opt_string_list(wire!("openids"), &mut p);
        o.finish(&mut p);
        if named.iter().filter(|n| **n).count() != 1 {
            p.push(path, Rule::OneOf { fields: FIELDS }, None);
        }
        if everyone == Some(false) {
            p.push(
                everyone_path,
                Rule::NotAllowed {
                    reason: "everyone must be true when given; name a tag or a list instead",
                },
                Some("false"),
            );
        }
        let audience = match (everyone, tag, ids) {
            (Some(true), None, None) => Some(Audience::Everyone),
            (None, Some(id), None) => Some(Audience::Tag(id)),
            (None, None, Some(list)) => Some(Audience::OpenIds(list)),
            _ => None,
        };
        match audience {
            Some(a) if p.is_empty() => Ok(a),
            _ => Err(p.into_error()),
        }
    }
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
        let to_all = o.opt_bool(wire!("is_to_all"), p);
        let has_tag = o.has(wire!("tag_id")) || o.has(wire!("group_id"));
        let tag = if o.has(wire!("tag_id")) {
            o.opt_u64(wire!("tag_id"), p)
        } else {
            o.opt_u64(wire!("group_id"), p)
        };
        let missing_tag_path = (!has_tag).then(|| o.field_path("tag_id"));
        o.finish(p);
        match (to_all, tag) {
            (Some(true), _) => Some(SendAllFilter::Everyone),
            (_, Some(id)) => Some(SendAllFilter::Tag(id)),
            _ => {
                if let Some(path) = missing_tag_path {
                    p.push(path, Rule::Required, None);
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
            PreviewTarget::WxName(name) => require_text(p, "", "towxname", name),
        }
    }

    pub(crate) fn read(o: &mut Obj, p: &mut Problems) -> Option<PreviewTarget> {
        let has_openid = o.has(wire!("touser"));
        let openid = o.opt_string(wire!("touser"), p);
        if let Some(name) = o.opt_string(wire!("towxname"), p) {
            return Some(PreviewTarget::WxName(name));
        }
        if !has_openid {
            p.push(join(o.path(), "touser"), Rule::Required, None);
        }
        openid.map(PreviewTarget::OpenId)
    }
}
