//! `GET cgi-bin/tags/get`: the account's tags, each with its id (what a send to a tag names as
//! `tag_id`), its name and how many followers carry it. Ids 0, 1 and 2 are WeChat's own (2 is
//! 星标组, starred).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::EndpointName;
use crate::http::Method;
use crate::json_input::Obj;
use crate::limits::PATH_TAGS_GET;
use crate::validate::Problems;

/// Ask for the account's tags (no fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TagsGetRequest;

impl Serialize for TagsGetRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// Reply of `tags/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsReply {
    /// Every tag of the account.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag's id, given by WeChat.
    pub id: u64,
    /// Its name (UTF-8).
    #[serde(default)]
    pub name: String,
    /// Followers carrying it.
    #[serde(default)]
    pub count: u64,
}

impl TagsGetRequest {
    fn check(&self, _p: &mut Problems) {}

    fn read(o: Obj, p: &mut Problems) -> Option<Self> {
        o.finish(p);
        Some(TagsGetRequest)
    }
}

super::json_endpoint! {
    TagsGetRequest {
        NAME: EndpointName::TagsGet,
        PATH: PATH_TAGS_GET,
        METHOD: Method::Get,
        MASS: false,
        Reply: TagsReply,
    }
}
