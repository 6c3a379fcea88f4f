//! `POST cgi-bin/material/add_material?type=image|voice|video|thumb` (multipart, the file in the
//! part named `media`; a video also carries a `description` part holding
//! `{"title","introduction"}` as JSON): a permanent material, kept until deleted, counted against
//! the account's library (100,000 images, 1,000 of each other type).
//!
//! Formats and sizes (docs/spec.md § Media and materials): image BMP, PNG, JPEG or GIF at most
//! 10 MiB; voice MP3, WMA, WAV or AMR at most 2 MiB (and 60 s, which only WeChat checks); video
//! MP4 at most 10 MiB; thumb JPEG at most 64 KiB. The reply carries a `url` for an image.

use serde::{Deserialize, Serialize};

use crate::http::{ApiBase, HttpRequest, Method};
use crate::limits::{MATERIAL_DESCRIPTION_PART_NAME, MEDIA_PART_NAME, PATH_ADD_MATERIAL};
use crate::validate::{Problems, Rule, ValidationError};

use super::media::{
    check_boundary, check_file, derived_boundary, Accepted, MediaFormat, Multipart,
};
use super::{Endpoint, EndpointName, MediaType};

/// A video material's description (the `description` part).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct VideoDescription {
    /// The video's title (required for a video).
    pub title: String,
    /// The video's introduction (may be empty).
    pub introduction: String,
}

/// Add one permanent material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddMaterialRequest {
    /// The `type` of the material.
    pub media_type: MediaType,
    /// File name sent in the part: its extension must be one of the type's formats.
    pub filename: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// A video's title and introduction: required for a video, refused for the other types.
    pub video: Option<VideoDescription>,
    /// The multipart boundary; `None` derives one from the content.
    pub boundary: Option<String>,
}

/// Reply of `add_material`: `{"media_id","url"}` (`url` only for an image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct AddMaterialReply {
    /// The permanent material's media_id.
    pub media_id: String,
    /// An image's URL (usable on Tencent domains only); absent for other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl AddMaterialRequest {
    /// A material of `bytes` named `filename` as `media_type` (a video needs [`Self::video`]).
    pub fn new(media_type: MediaType, filename: impl Into<String>, bytes: Vec<u8>) -> Self {
        AddMaterialRequest {
            media_type,
            filename: filename.into(),
            bytes,
            video: None,
            boundary: None,
        }
    }

    /// The same material with a video's title and introduction.
    pub fn video(mut self, title: impl Into<String>, introduction: impl Into<String>) -> Self {
        self.video = Some(VideoDescription {
            title: title.into(),
            introduction: introduction.into(),
        });
        self
    }

    /// The same material with a boundary of the caller's choosing.
    pub fn with_boundary(mut self, boundary: impl Into<String>) -> Self {
        self.boundary = Some(boundary.into());
        self
    }

    /// The formats a permanent material of `media_type` accepts.
    fn accepted(media_type: MediaType) -> Accepted {
        use MediaFormat::*;
        match media_type {
            MediaType::Image => Accepted {
                formats: &[Bmp, Png, Jpeg, Gif],
                text: "BMP, PNG, JPEG or GIF",
            },
            MediaType::Voice => Accepted {
                formats: &[Mp3, Wma, Wav, Amr],
                text: "MP3, WMA, WAV or AMR",
            },
            MediaType::Video => Accepted {
                formats: &[Mp4],
                text: "MP4",
            },
            MediaType::Thumb => Accepted {
                formats: &[Jpeg],
                text: "JPEG",
            },
        }
    }

    /// The `description` part's JSON, for a video.
    fn description_json(&self) -> Option<Vec<u8>> {
        // Cannot fail: two string fields.
        self.video
            .as_ref()
            .map(|v| serde_json::to_vec(v).unwrap_or_default())
    }
}

impl Endpoint for AddMaterialRequest {
    const NAME: EndpointName = EndpointName::AddMaterial;
    const PATH: &'static str = PATH_ADD_MATERIAL;
    const METHOD: Method = Method::Post;
    const MASS: bool = false;
    type Reply = AddMaterialReply;

    fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        let accepted = Self::accepted(self.media_type);
        check_file(
            &mut p,
            self.media_type,
            accepted,
            &self.filename,
            &self.bytes,
        );
        match (&self.video, self.media_type) {
            (None, MediaType::Video) => p.push("title", Rule::Required, None),
            (Some(v), MediaType::Video) => {
                if v.title.trim().is_empty() {
                    p.push("title", Rule::Required, Some(&v.title));
                }
            }
            (Some(v), _) => {
                let reason = "only a video material has a title and an introduction";
                if !v.title.is_empty() {
                    p.push("title", Rule::NotAllowed { reason }, Some(&v.title));
                }
                if !v.introduction.is_empty() {
                    p.push(
                        "introduction",
                        Rule::NotAllowed { reason },
                        Some(&v.introduction),
                    );
                }
            }
            (None, _) => {}
        }
        if let Some(boundary) = &self.boundary {
            let description = self.description_json().unwrap_or_default();
            check_boundary(
                &mut p,
                boundary,
                &[&self.bytes, self.filename.as_bytes(), &description],
            );
        }
        p.into_result()
    }

    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        self.validate()?;
        let mime =
            MediaFormat::sniff(&self.bytes).map_or("application/octet-stream", MediaFormat::mime);
        let description = self
            .description_json()
            .filter(|_| self.media_type == MediaType::Video);
        let boundary = self.boundary.clone().unwrap_or_else(|| {
            derived_boundary(&[
                &self.bytes,
                self.filename.as_bytes(),
                description.as_deref().unwrap_or_default(),
            ])
        });
        let mut form = Multipart::new(boundary, self.bytes.len()).file(
            MEDIA_PART_NAME,
            &self.filename,
            mime,
            &self.bytes,
        );
        if let Some(description) = &description {
            form = form.field(MATERIAL_DESCRIPTION_PART_NAME, description);
        }
        let (content_type, body) = form.finish();
        Ok(base
            .request(Self::METHOD, Self::PATH, content_type, body)
            .with_query_param("type", self.media_type.as_str()))
    }
}
