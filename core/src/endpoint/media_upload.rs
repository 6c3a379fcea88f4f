//! `POST cgi-bin/media/upload?type=image|voice|video|thumb` (multipart, the file in the part
//! named `media`): a temporary media file, kept three days. Its `media_id` is what an image or
//! voice mass message sends, what `uploadvideo` turns into an mpvideo, and (type `thumb` or
//! `image`) an article's cover in `uploadnews`.
//!
//! Formats and sizes (docs/spec.md § Media and materials): image JPEG, PNG or GIF at most 10 MiB;
//! voice AMR or MP3 at most 2 MiB (and 60 s, which only WeChat checks); video MP4 at most 10 MiB;
//! thumb JPEG at most 64 KiB. The reply of a thumb names its id `thumb_media_id`.

use crate::http::{ApiBase, HttpRequest, Method};
use crate::limits::{MEDIA_PART_NAME, PATH_MEDIA_UPLOAD};
use crate::validate::{Problems, ValidationError};

use super::media::{
    check_boundary, check_file, derived_boundary, Accepted, FileMeta, FramedUpload, MediaFormat,
    StreamedUpload,
};
use super::upload_news::MediaUploadReply;
use super::{Endpoint, EndpointName, MediaType};

/// Upload one temporary media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUploadRequest {
    /// The `type` of the upload.
    pub media_type: MediaType,
    /// File name sent in the part: its extension must be one of the type's formats (WeChat
    /// reads it), with no quotes or line breaks.
    pub filename: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// The multipart boundary; `None` derives one from the content (deterministic, no
    /// randomness in core).
    pub boundary: Option<String>,
}

impl MediaUploadRequest {
    /// An upload of `bytes` named `filename` as `media_type`.
    pub fn new(media_type: MediaType, filename: impl Into<String>, bytes: Vec<u8>) -> Self {
        MediaUploadRequest {
            media_type,
            filename: filename.into(),
            bytes,
            boundary: None,
        }
    }

    /// The same upload with a boundary of the caller's choosing.
    pub fn with_boundary(mut self, boundary: impl Into<String>) -> Self {
        self.boundary = Some(boundary.into());
        self
    }

    /// The formats a temporary upload of `media_type` accepts.
    pub(crate) fn accepted(media_type: MediaType) -> Accepted {
        use MediaFormat::*;
        match media_type {
            MediaType::Image => Accepted {
                formats: &[Jpeg, Png, Gif],
                text: "JPEG, PNG or GIF",
            },
            MediaType::Voice => Accepted {
                formats: &[Amr, Mp3],
                text: "AMR or MP3",
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

    /// The rules of an upload of `file`, its `boundary` checked against the name and `in_body`.
    fn check(
        file: &FileMeta<'_>,
        boundary: Option<&str>,
        in_body: &[&[u8]],
    ) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        check_file(&mut p, Self::accepted(file.media_type), file);
        if let Some(boundary) = boundary {
            let mut parts = vec![file.filename.as_bytes()];
            parts.extend_from_slice(in_body);
            check_boundary(&mut p, boundary, &parts);
        }
        p.into_result()
    }

    /// Checks an upload whose file is still to come by the same rules as [`Self::build`] and
    /// frames its body: `head ++ file ++ tail` is what `build` would send for the same bytes.
    pub fn frame_streamed(
        upload: &StreamedUpload,
        base: &ApiBase,
    ) -> Result<FramedUpload, ValidationError> {
        let file = upload.file();
        Self::check(&file, Some(&upload.boundary), &[])?;
        Ok(Self::frame(base, &file, &upload.boundary))
    }

    fn frame(base: &ApiBase, file: &FileMeta<'_>, boundary: &str) -> FramedUpload {
        FramedUpload::new(base, Self::PATH, file, boundary, MEDIA_PART_NAME, &[])
    }
}

impl Endpoint for MediaUploadRequest {
    const NAME: EndpointName = EndpointName::MediaUpload;
    const PATH: &'static str = PATH_MEDIA_UPLOAD;
    const METHOD: Method = Method::Post;
    // A material call, not a mass send: it does not count against the 60-a-minute limit.
    const MASS: bool = false;
    type Reply = MediaUploadReply;

    fn validate(&self) -> Result<(), ValidationError> {
        Self::check(
            &FileMeta::whole(self.media_type, &self.filename, &self.bytes),
            self.boundary.as_deref(),
            &[&self.bytes],
        )
    }

    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        self.validate()?;
        let boundary = self
            .boundary
            .clone()
            .unwrap_or_else(|| derived_boundary(&[&self.bytes, self.filename.as_bytes()]));
        Ok(Self::frame(
            base,
            &FileMeta::whole(self.media_type, &self.filename, &self.bytes),
            &boundary,
        )
        .with_file(&self.bytes))
    }
}
