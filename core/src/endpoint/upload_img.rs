//! `POST cgi-bin/media/uploadimg` (multipart): an image for article bodies. JPEG or PNG only,
//! under 1 MB; it does not count against the 5,000-image material library. The reply's `url` is
//! what goes into an article's `content`.

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest, Method};
use crate::limits::{
    JPEG_MAGIC, PATH_UPLOAD_IMG, PNG_MAGIC, UPLOAD_IMG_MAX_BYTES, UPLOAD_IMG_PART_NAME,
};
use crate::validate::{Problems, Rule, ValidationError};

use super::{Endpoint, EndpointName};

/// Upload one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadImgRequest {
    /// File name sent in the multipart part (no quotes or line breaks).
    pub filename: String,
    /// The image bytes.
    pub bytes: Vec<u8>,
}

/// Reply of `uploadimg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct UploadImgReply {
    /// URL of the image, for use inside article content.
    pub url: String,
}

/// The image format, told by the file's first bytes (never by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

impl ImageFormat {
    /// Sniffs the format from magic bytes.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(JPEG_MAGIC) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(PNG_MAGIC) {
            Some(ImageFormat::Png)
        } else {
            None
        }
    }

    /// The MIME type sent in the part.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }
}

impl UploadImgRequest {
    /// An upload of `bytes` named `filename`.
    pub fn new(filename: impl Into<String>, bytes: Vec<u8>) -> Self {
        UploadImgRequest {
            filename: filename.into(),
            bytes,
        }
    }

    /// The multipart boundary: derived from the content so the body is deterministic (no
    /// randomness in core), and lengthened in the unlikely case it occurs in the bytes.
    fn boundary(&self) -> String {
        let digest = Sha1::digest(&self.bytes);
        let mut boundary = String::from("wxmass-");
        for b in digest.iter() {
            boundary.push_str(&format!("{b:02x}"));
        }
        while contains(&self.bytes, boundary.as_bytes()) {
            boundary.push('x');
        }
        boundary
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Endpoint for UploadImgRequest {
    const NAME: EndpointName = EndpointName::UploadImg;
    const PATH: &'static str = PATH_UPLOAD_IMG;
    const METHOD: Method = Method::Post;
    const MASS: bool = true;
    type Reply = UploadImgReply;

    fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        if self.filename.trim().is_empty() {
            p.push("filename", Rule::Required, Some(&self.filename));
        } else if self.filename.contains(['"', '\r', '\n', '\\']) {
            p.push("filename", Rule::Characters, Some(&self.filename));
        }
        if self.bytes.is_empty() {
            p.push("media", Rule::Required, None);
        } else if ImageFormat::sniff(&self.bytes).is_none() {
            let head: String = self
                .bytes
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            p.push("media", Rule::ImageFormat, Some(&head));
        }
        if self.bytes.len() >= UPLOAD_IMG_MAX_BYTES {
            p.push(
                "media",
                Rule::MaxBytes {
                    limit: UPLOAD_IMG_MAX_BYTES,
                },
                Some(&self.bytes.len().to_string()),
            );
        }
        p.into_result()
    }

    fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        self.validate()?;
        let mime =
            ImageFormat::sniff(&self.bytes).map_or("application/octet-stream", ImageFormat::mime);
        let boundary = self.boundary();
        let mut body = Vec::with_capacity(self.bytes.len() + 256);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{UPLOAD_IMG_PART_NAME}\"; filename=\"{}\"\r\nContent-Type: {mime}\r\n\r\n",
                self.filename
            )
            .as_bytes(),
        );
        body.extend_from_slice(&self.bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Ok(base.request(
            Self::METHOD,
            Self::PATH,
            format!("multipart/form-data; boundary={boundary}"),
            body,
        ))
    }

    fn parse_reply(body: &[u8]) -> Result<UploadImgReply, ReplyError> {
        crate::reply::parse(body)
    }
}
