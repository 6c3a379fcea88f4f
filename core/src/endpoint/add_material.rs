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
    check_boundary, check_file, derived_boundary, Accepted, FileMeta, FramedUpload, MediaFormat,
    StreamedUpload,
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

    /// The rules of a material of `file` with `video`, its `boundary` checked against the name,
    /// the description and `in_body`.
    fn check(
        file: &FileMeta<'_>,
        video: Option<&VideoDescription>,
        boundary: Option<&str>,
        in_body: &[&[u8]],
    ) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        check_file(&mut p, Self::accepted(file.media_type), file);
        match (video, file.media_type) {
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
        if let Some(boundary) = boundary {
            let description = description_json(video).unwrap_or_default();
            let mut parts = vec![file.filename.as_bytes(), &description];
            parts.extend_from_slice(in_body);
            check_boundary(&mut p, boundary, &parts);
        }
        p.into_result()
    }

    /// Checks a material whose file is still to come by the same rules as [`Self::build`] and
    /// frames its body: `head ++ file ++ tail` is what `build` would send for the same bytes (the
    /// tail carries a video's `description` part).
    pub fn frame_streamed(
        upload: &StreamedUpload,
        video: Option<&VideoDescription>,
        base: &ApiBase,
    ) -> Result<FramedUpload, ValidationError> {
        let file = upload.file();
        Self::check(&file, video, Some(&upload.boundary), &[])?;
        Ok(Self::frame(base, &file, video, &upload.boundary))
    }

    fn frame(
        base: &ApiBase,
        file: &FileMeta<'_>,
        video: Option<&VideoDescription>,
        boundary: &str,
    ) -> FramedUpload {
        let description = description_json(video).filter(|_| file.media_type == MediaType::Video);
        let fields: Vec<(&str, &[u8])> = description
            .iter()
            .map(|d| (MATERIAL_DESCRIPTION_PART_NAME, d.as_slice()))
            .collect();
        FramedUpload::new(base, Self::PATH, file, boundary, MEDIA_PART_NAME, &fields)
    }
}

/// The `description` part's JSON, for a video.
fn description_json(video: Option<&VideoDescription>) -> Option<Vec<u8>> {
    // Cannot fail: two string fields.
    video.map(|v| serde_json::to_vec(v).unwrap_or_default())
}

impl Endpoint for AddMaterialRequest {
    const NAME: EndpointName = EndpointName::AddMaterial;
    const PATH: &'static str = PATH_ADD_MATERIAL;
    const METHOD: Method = Method::Post;
    const MASS: bool = false;
    type Reply = AddMaterialReply;

    fn validate(&self) -> Result<(), ValidationError> {
        Self::check(
            &FileMeta::whole(self.media_type, &self.filename, &self.bytes),
            self.video.as_ref(),
            self.boundary.as_deref(),
            &[&self.bytes],
        )
    }

    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        self.validate()?;
        let description =
            description_json(self.video.as_ref()).filter(|_| self.media_type == MediaType::Video);
        let boundary = self.boundary.clone().unwrap_or_else(|| {
            derived_boundary(&[
                &self.bytes,
                self.filename.as_bytes(),
                description.as_deref().unwrap_or_default(),
            ])
        });
        Ok(Self::frame(
            base,
            &FileMeta::whole(self.media_type, &self.filename, &self.bytes),
            self.video.as_ref(),
            &boundary,
        )
        .with_file(&self.bytes))
    }
}
