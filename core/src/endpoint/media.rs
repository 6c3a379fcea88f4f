//! What the two file uploads (`media/upload`, `material/add_material`) share: the media types,
//! the file formats told by their first bytes, the per-type limits, and the multipart body.
//!
//! The limits and formats are WeChat's (docs/spec.md § Media and materials, with sources); the
//! numbers are in [`crate::limits`]. A file is refused here, before upload, when its bytes are not
//! a format its type allows, when it is over its type's size, or when its name's extension is not
//! one of the type's: WeChat answers those with 40004/40005/40006/45001 only after the bytes went
//! up.

use sha1::{Digest, Sha1};

use crate::http::{ApiBase, HttpRequest, Method};
use crate::limits::{
    AMR_MAGIC, BMP_MAGIC, GIF_MAGIC, JPEG_MAGIC, MEDIA_IMAGE_MAX_BYTES, MEDIA_SNIFF_BYTES,
    MEDIA_THUMB_MAX_BYTES, MEDIA_VIDEO_MAX_BYTES, MEDIA_VOICE_MAX_BYTES, MP3_ID3_MAGIC, MP4_FTYP,
    MULTIPART_BOUNDARY_MAX_CHARS, PNG_MAGIC, WAV_MAGIC, WMA_MAGIC,
};
use crate::validate::{Problems, Rule, ValidationError};

/// The `type` of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `image`
    Image,
    /// `voice`
    Voice,
    /// `video`
    Video,
    /// `thumb`: a small JPEG, the cover of a video or music message.
    Thumb,
}

impl MediaType {
    /// Every type.
    pub const ALL: [MediaType; 4] = [
        MediaType::Image,
        MediaType::Voice,
        MediaType::Video,
        MediaType::Thumb,
    ];

    /// The wire form (`type=` of the query).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::Thumb => "thumb",
        }
    }

    /// Reads the wire form.
    pub fn parse(s: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The largest file of this type, inclusive (the same for temporary and permanent uploads).
    pub fn max_bytes(self) -> usize {
        match self {
            MediaType::Image => MEDIA_IMAGE_MAX_BYTES,
            MediaType::Voice => MEDIA_VOICE_MAX_BYTES,
            MediaType::Video => MEDIA_VIDEO_MAX_BYTES,
            MediaType::Thumb => MEDIA_THUMB_MAX_BYTES,
        }
    }

    /// Refuses a file of `len` bytes over this type's limit, as the upload's own check does
    /// (path `media`): what a caller that knows the size before it has the bytes (an HTTP
    /// `Content-Length`) asks before reading them.
    pub fn check_size(self, len: usize) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        check_size(&mut p, self, len);
        p.into_result()
    }
}

/// A file format, told by the file's first bytes (never by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG.
    Png,
    /// GIF (`GIF8`).
    Gif,
    /// BMP (`BM`).
    Bmp,
    /// MP3 (an ID3v2 tag or an MPEG audio frame sync).
    Mp3,
    /// AMR (`#!AMR`).
    Amr,
    /// WMA (an ASF header).
    Wma,
    /// WAV (`RIFF….WAVE`).
    Wav,
    /// MP4 (an `ftyp` box first).
    Mp4,
}

impl MediaFormat {
    /// Sniffs the format from the first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<MediaFormat> {
        let at = |from: usize, magic: &[u8]| {
            bytes
                .get(from..from + magic.len())
                .is_some_and(|b| b == magic)
        };
        if at(0, JPEG_MAGIC) {
            Some(MediaFormat::Jpeg)
        } else if at(0, PNG_MAGIC) {
            Some(MediaFormat::Png)
        } else if at(0, GIF_MAGIC) {
            Some(MediaFormat::Gif)
        } else if at(0, AMR_MAGIC) {
            Some(MediaFormat::Amr)
        } else if at(0, WMA_MAGIC) {
            Some(MediaFormat::Wma)
        } else if at(0, WAV_MAGIC.0) && at(8, WAV_MAGIC.1) {
            Some(MediaFormat::Wav)
        } else if at(4, MP4_FTYP) {
            Some(MediaFormat::Mp4)
        } else if at(0, MP3_ID3_MAGIC) || is_mpeg_audio_frame(bytes) {
            Some(MediaFormat::Mp3)
        } else if at(0, BMP_MAGIC) {
            Some(MediaFormat::Bmp)
        } else {
            None
        }
    }

    /// The MIME type sent in the part.
    pub fn mime(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "image/jpeg",
            MediaFormat::Png => "image/png",
            MediaFormat::Gif => "image/gif",
            MediaFormat::Bmp => "image/bmp",
            MediaFormat::Mp3 => "audio/mpeg",
            MediaFormat::Amr => "audio/amr",
            MediaFormat::Wma => "audio/x-ms-wma",
            MediaFormat::Wav => "audio/wav",
            MediaFormat::Mp4 => "video/mp4",
        }
    }

    /// File name extensions of this format (lower case, without the dot).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaFormat::Jpeg => &["jpg", "jpeg"],
            MediaFormat::Png => &["png"],
            MediaFormat::Gif => &["gif"],
            MediaFormat::Bmp => &["bmp"],
            MediaFormat::Mp3 => &["mp3"],
            MediaFormat::Amr => &["amr"],
            MediaFormat::Wma => &["wma"],
            MediaFormat::Wav => &["wav"],
            MediaFormat::Mp4 => &["mp4"],
        }
    }
}

/// An MPEG audio frame header: 11 sync bits, a valid version, layer III (the bytes of an MP3
/// without an ID3 tag).
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    match bytes {
        [0xFF, b1, ..] => {
            let sync = b1 & 0xE0 == 0xE0;
            let version_ok = (b1 >> 3) & 0b11 != 0b01;
            let layer3 = (b1 >> 1) & 0b11 == 0b01;
            sync && version_ok && layer3
        }
        _ => false,
    }
}

/// Which formats an upload of one type accepts, and how a person reads the list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accepted {
    pub(crate) formats: &'static [MediaFormat],
    pub(crate) text: &'static str,
}

/// What core knows of an upload's file before (or without) holding it whole: its name, its
/// length, and its first bytes (at least [`MEDIA_SNIFF_BYTES`] of them, or the whole file when
/// it is shorter; more are ignored). The whole-bytes builders pass the whole file as `first`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileMeta<'a> {
    pub(crate) media_type: MediaType,
    pub(crate) filename: &'a str,
    pub(crate) len: usize,
    first: &'a [u8],
}

impl<'a> FileMeta<'a> {
    pub(crate) fn new(
        media_type: MediaType,
        filename: &'a str,
        len: usize,
        first: &'a [u8],
    ) -> Self {
        let first = &first[..first.len().min(MEDIA_SNIFF_BYTES).min(len)];
        FileMeta {
            media_type,
            filename,
            len,
            first,
        }
    }

    /// A whole file's: its bytes are its first bytes.
    pub(crate) fn whole(media_type: MediaType, filename: &'a str, bytes: &'a [u8]) -> Self {
        FileMeta::new(media_type, filename, bytes.len(), bytes)
    }

    /// The MIME type sent in the file's part (by the first bytes).
    pub(crate) fn mime(&self) -> &'static str {
        MediaFormat::sniff(self.first).map_or("application/octet-stream", MediaFormat::mime)
    }
}

/// Checks the file of an upload that accepts `accepted`: the name (present, quotable in a
/// multipart header, an extension of an accepted format), the bytes (present, an accepted
/// format by their first bytes) and the size (at most the type's limit).
pub(crate) fn check_file(p: &mut Problems, accepted: Accepted, file: &FileMeta<'_>) {
    let rule = || Rule::MediaFormat {
        media_type: file.media_type.as_str(),
        allowed: accepted.text,
    };
    let filename = file.filename;
    if filename.trim().is_empty() {
        p.push("filename", Rule::Required, Some(filename));
    } else if filename.contains(['"', '\r', '\n', '\\']) {
        p.push("filename", Rule::Characters, Some(filename));
    } else {
        // WeChat reads the type from the name as well (40005 for `photo` without `.jpg`).
        let ext = filename
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        let known = accepted
            .formats
            .iter()
            .any(|f| f.extensions().contains(&ext.as_str()));
        if !known {
            p.push("filename", rule(), Some(filename));
        }
    }
    if file.len == 0 {
        p.push("media", Rule::Required, None);
    } else {
        let format = MediaFormat::sniff(file.first);
        if !format.is_some_and(|f| accepted.formats.contains(&f)) {
            p.push("media", rule(), Some(&head_hex(file.first)));
        }
    }
    check_size(p, file.media_type, file.len);
}

/// A file of `len` bytes is at most its type's limit.
fn check_size(p: &mut Problems, media_type: MediaType, len: usize) {
    let max = media_type.max_bytes();
    if len > max {
        p.push("media", Rule::AtMostBytes { max }, Some(&len.to_string()));
    }
}

/// The first bytes in hex: what a person compares with a format's magic number.
fn head_hex(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Checks a caller-given multipart boundary: 1 to 70 characters of RFC 2046's `bchars` without
/// the space (so it never needs quoting), not ending the body early by occurring in a part.
pub(crate) fn check_boundary(p: &mut Problems, boundary: &str, parts: &[&[u8]]) {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=?".contains(c);
    let n = boundary.chars().count();
    if n == 0 || n > MULTIPART_BOUNDARY_MAX_CHARS || !boundary.chars().all(allowed) {
        p.push("boundary", Rule::Characters, Some(boundary));
    } else if parts.iter().any(|part| contains(part, boundary.as_bytes())) {
        p.push(
            "boundary",
            Rule::NotAllowed {
                reason: "it occurs in the file; choose another",
            },
            Some(boundary),
        );
    }
}

/// A boundary derived from the content, so the body is deterministic without randomness in
/// core; lengthened in the unlikely case it occurs in a part.
pub(crate) fn derived_boundary(parts: &[&[u8]]) -> String {
    let mut h = Sha1::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let mut boundary = String::from("wxmass-");
    for b in h.finalize().iter() {
        boundary.push_str(&format!("{b:02x}"));
    }
    while boundary.len() < MULTIPART_BOUNDARY_MAX_CHARS
        && parts.iter().any(|part| contains(part, boundary.as_bytes()))
    {
        boundary.push('x');
    }
    boundary
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// An upload whose file is still to come (an HTTP body being read): what is known before its
/// bytes flow. [`super::MediaUploadRequest::frame_streamed`] and
/// [`super::add_material::AddMaterialRequest::frame_streamed`] check it by the same rules as the
/// whole file (the size from `declared_len`, the format from `first_bytes`, the name's extension)
/// and frame the body around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedUpload {
    /// The `type` of the upload.
    pub media_type: MediaType,
    /// File name sent in the part.
    pub filename: String,
    /// The file's length as declared (an HTTP `Content-Length`): the sender must then send
    /// exactly this many bytes.
    pub declared_len: u64,
    /// The file's first bytes: at least [`MEDIA_SNIFF_BYTES`], or the whole file when it is
    /// shorter (more are ignored).
    pub first_bytes: Vec<u8>,
    /// The multipart boundary (the caller's, random: the file's bytes cannot be searched for it
    /// before they flow, so it must be unguessable; its characters are checked).
    pub boundary: String,
}

impl StreamedUpload {
    pub(crate) fn file(&self) -> FileMeta<'_> {
        let len = usize::try_from(self.declared_len).unwrap_or(usize::MAX);
        FileMeta::new(self.media_type, &self.filename, len, &self.first_bytes)
    }
}

/// An upload's request framed around its file: the body is `head ++ file ++ tail`, so a caller
/// may stream the file between them without holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedUpload {
    /// Method, URL (path and query) and the multipart `Content-Type`; its `body` is empty.
    pub request: HttpRequest,
    /// The multipart bytes before the file (its part's headers).
    pub head: Vec<u8>,
    /// The multipart bytes after the file (the part's end, any further part, the closing
    /// boundary).
    pub tail: Vec<u8>,
    /// The whole body's length: head, file and tail (the outgoing `Content-Length`).
    pub content_length: u64,
}

impl FramedUpload {
    /// Frames a file of `file.len` bytes as the part `name`, followed by the text `fields`.
    pub(crate) fn new(
        base: &ApiBase,
        path: &str,
        file: &FileMeta<'_>,
        boundary: &str,
        name: &str,
        fields: &[(&str, &[u8])],
    ) -> Self {
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            file.filename,
            file.mime()
        )
        .into_bytes();
        let mut tail = b"\r\n".to_vec();
        for (field, value) in fields {
            tail.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n")
                    .as_bytes(),
            );
            tail.extend_from_slice(value);
            tail.extend_from_slice(b"\r\n");
        }
        tail.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_length = (head.len() + file.len + tail.len()) as u64;
        let request = base
            .request(
                Method::Post,
                path,
                format!("multipart/form-data; boundary={boundary}"),
                Vec::new(),
            )
            .with_query_param("type", file.media_type.as_str());
        FramedUpload {
            request,
            head,
            tail,
            content_length,
        }
    }

    /// The whole request with `bytes` as the file.
    pub(crate) fn with_file(self, bytes: &[u8]) -> HttpRequest {
        let mut body = Vec::with_capacity(self.head.len() + bytes.len() + self.tail.len());
        body.extend_from_slice(&self.head);
        body.extend_from_slice(bytes);
        body.extend_from_slice(&self.tail);
        HttpRequest {
            body,
            ..self.request
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_size_over_the_type_limit_is_refused_at_media_as_the_bytes_would_be() {
        assert!(MediaType::Thumb.check_size(MEDIA_THUMB_MAX_BYTES).is_ok());
        let e = MediaType::Thumb
            .check_size(MEDIA_THUMB_MAX_BYTES + 1)
            .unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].path, "media");
        assert_eq!(
            e.problems[0].rule,
            Rule::AtMostBytes {
                max: MEDIA_THUMB_MAX_BYTES
            }
        );
        assert_eq!(
            e.problems[0].value.as_deref(),
            Some((MEDIA_THUMB_MAX_BYTES + 1).to_string().as_str())
        );
    }

    #[test]
    fn sniffs_each_format_by_its_first_bytes() {
        let cases: [(&[u8], MediaFormat); 10] = [
            (&[0xFF, 0xD8, 0xFF, 0xE0], MediaFormat::Jpeg),
            (PNG_MAGIC, MediaFormat::Png),
            (b"GIF89a..", MediaFormat::Gif),
            (b"BM\x00\x00", MediaFormat::Bmp),
            (b"ID3\x04", MediaFormat::Mp3),
            (&[0xFF, 0xFB, 0x90, 0x64], MediaFormat::Mp3),
            (b"#!AMR\n", MediaFormat::Amr),
            (WMA_MAGIC, MediaFormat::Wma),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", MediaFormat::Wav),
            (b"\x00\x00\x00\x18ftypmp42", MediaFormat::Mp4),
        ];
        for (bytes, format) in cases {
            assert_eq!(MediaFormat::sniff(bytes), Some(format), "{bytes:?}");
        }
        assert_eq!(MediaFormat::sniff(b"hello"), None);
        assert_eq!(MediaFormat::sniff(b""), None);
        // A cut JPEG (FF D8) is not a frame sync.
        assert_eq!(MediaFormat::sniff(&[0xFF, 0xD8]), None);
    }

    #[test]
    fn derived_boundary_avoids_the_content() {
        let b = derived_boundary(&[b"abc"]);
        assert!(b.starts_with("wxmass-") && b.len() == 47);
        let tricky = format!("x{b}x");
        let b2 = derived_boundary(&[tricky.as_bytes()]);
        assert!(!tricky.contains(&b2));
    }

    #[test]
    fn boundary_rules() {
        let mut p = Problems::default();
        check_boundary(&mut p, "ok-Boundary_1", &[b"data"]);
        assert!(p.is_empty());
        check_boundary(&mut p, "has space", &[b"data"]);
        check_boundary(&mut p, "", &[b"data"]);
        check_boundary(&mut p, &"a".repeat(71), &[b"data"]);
        check_boundary(&mut p, "ata", &[b"data"]);
        let e = p.into_result().unwrap_err();
        let rules: Vec<_> = e.problems.iter().map(|p| p.rule.code()).collect();
        assert_eq!(
            rules,
            ["characters", "characters", "characters", "not_allowed"]
        );
    }
}
