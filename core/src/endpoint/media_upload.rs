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
    check_boundary, check_file, derived_boundary, Accepted, MediaFormat, Multipart,
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
}

impl Endpoint for MediaUploadRequest {
    const NAME: EndpointName = EndpointName::MediaUpload;
    const PATH: &'static str = PATH_MEDIA_UPLOAD;
    const METHOD: Method = Method::Post;
    // A material call, not a mass send: it does not count against the 60-a-minute limit.
    const MASS: bool = false;
    type Reply = MediaUploadReply;

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
        if let Some(boundary) = &self.boundary {
            check_boundary(&mut p, boundary, &[&self.bytes, self.filename.as_bytes()]);
        }
        p.into_result()
    }

    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        self.validate()?;
        let mime =
            MediaFormat::sniff(&self.bytes).map_or("application/octet-stream", MediaFormat::mime);
        let boundary = self
            .boundary
            .clone()
            .unwrap_or_else(|| derived_boundary(&[&self.bytes, self.filename.as_bytes()]));
        let (content_type, body) = Multipart::new(boundary, self.bytes.len())
            .file(MEDIA_PART_NAME, &self.filename, mime, &self.bytes)
            .finish();
        Ok(base
            .request(Self::METHOD, Self::PATH, content_type, body)
            .with_query_param("type", self.media_type.as_str()))
    }
}
