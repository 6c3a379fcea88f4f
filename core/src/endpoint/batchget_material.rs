//! `POST cgi-bin/material/batchget_material`: one page of the account's permanent materials of
//! one type (`image`, `video`, `voice`, `news`), 1 to 20 at a time from `offset`, for a picker.
//! `material/get_materialcount` ([`super::material_count`]) tells how many pages there are.

use serde::{Deserialize, Serialize};

use super::EndpointName;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::{MATERIAL_PAGE_MAX, MATERIAL_PAGE_MIN, PATH_BATCHGET_MATERIAL};
use crate::validate::{Problems, Rule};

/// The material types a list can ask for.
pub const MATERIAL_LIST_TYPES: [&str; 4] = ["image", "video", "voice", "news"];

/// Ask for one page of permanent materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchGetMaterialRequest {
    /// `image`, `video`, `voice` or `news`.
    #[serde(rename = "type")]
    pub material_type: String,
    /// Position of the first material, 0 for the newest.
    pub offset: u64,
    /// How many, 1 to 20.
    pub count: u64,
}

/// One page of materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct BatchGetMaterialReply {
    /// Materials of this type in all.
    #[serde(default)]
    pub total_count: u64,
    /// Materials in this page.
    #[serde(default)]
    pub item_count: u64,
    /// The materials, newest first.
    #[serde(default)]
    pub item: Vec<MaterialItem>,
}

/// One material of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct MaterialItem {
    /// Its media_id.
    pub media_id: String,
    /// File name (not for news).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Last update, Unix seconds.
    #[serde(default)]
    pub update_time: i64,
    /// An image's URL (not for news).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A news material's articles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<NewsContent>,
}

/// The articles of a news material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct NewsContent {
    /// The articles, in order.
    #[serde(default)]
    pub news_item: Vec<NewsItem>,
}

/// One article of a news material (the fields a picker shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct NewsItem {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Cover media_id.
    #[serde(default)]
    pub thumb_media_id: String,
    /// Author.
    #[serde(default)]
    pub author: String,
    /// Summary.
    #[serde(default)]
    pub digest: String,
    /// The article's URL.
    #[serde(default)]
    pub url: String,
}

impl BatchGetMaterialRequest {
    /// A page of `count` materials of `material_type` from `offset`.
    pub fn new(material_type: impl Into<String>, offset: u64, count: u64) -> Self {
        BatchGetMaterialRequest {
            material_type: material_type.into(),
            offset,
            count,
        }
    }

    fn check(&self, p: &mut Problems) {
        if !MATERIAL_LIST_TYPES.contains(&self.material_type.as_str()) {
            p.push(
                "type",
                Rule::Type {
                    expected: "one of image, video, voice, news",
                },
                Some(&self.material_type),
            );
        }
        if !(MATERIAL_PAGE_MIN..=MATERIAL_PAGE_MAX).contains(&self.count) {
            p.push(
                "count",
                Rule::Range {
                    min: MATERIAL_PAGE_MIN as i64,
                    max: MATERIAL_PAGE_MAX as i64,
                },
                Some(&self.count.to_string()),
            );
        }
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let material_type = o.string(wire!("type"), p);
        let offset = o.opt_u64(wire!("offset"), p).unwrap_or(0);
        let count = o.u64(wire!("count"), p);
        o.finish(p);
        Some(BatchGetMaterialRequest {
            material_type,
            offset,
            count: count?,
        })
    }
}

super::json_endpoint! {
    BatchGetMaterialRequest {
        NAME: EndpointName::BatchGetMaterial,
        PATH: PATH_BATCHGET_MATERIAL,
        METHOD: Method::Post,
        MASS: false,
        Reply: BatchGetMaterialReply,
    }
}
