//! `GET cgi-bin/material/get_materialcount`: how many permanent materials of each type the
//! account has (the pages of [`super::batchget_material`]).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::EndpointName;
use crate::http::Method;
use crate::json_input::Obj;
use crate::limits::PATH_GET_MATERIAL_COUNT;
use crate::validate::Problems;

/// Ask for the material counts (no fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaterialCountRequest;

impl Serialize for MaterialCountRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// Reply of `get_materialcount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct MaterialCountReply {
    /// Voice materials.
    #[serde(default)]
    pub voice_count: u64,
    /// Video materials.
    #[serde(default)]
    pub video_count: u64,
    /// Image materials.
    #[serde(default)]
    pub image_count: u64,
    /// News materials.
    #[serde(default)]
    pub news_count: u64,
}

impl MaterialCountRequest {
    fn check(&self, _p: &mut Problems) {}

    fn read(o: Obj, p: &mut Problems) -> Option<Self> {
        o.finish(p);
        Some(MaterialCountRequest)
    }
}

super::json_endpoint! {
    MaterialCountRequest {
        NAME: EndpointName::MaterialCount,
        PATH: PATH_GET_MATERIAL_COUNT,
        METHOD: Method::Get,
        MASS: false,
        Reply: MaterialCountReply,
    }
}
