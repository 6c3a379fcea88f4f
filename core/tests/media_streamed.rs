//! A streamed upload (the worker's `POST /api/media/upload` and `/api/material`): core checks and
//! frames it from what is known before the file's bytes flow (type, name, declared length, first
//! bytes, boundary, a video's description). Its head, the file and its tail are byte for byte the
//! whole-bytes builder's body, and it refuses with the same problems.

use wxmass::endpoint::add_material::{AddMaterialRequest, VideoDescription};
use wxmass::endpoint::*;
use wxmass::limits::{self, MEDIA_SNIFF_BYTES};
use wxmass::validate::ValidationError;
use wxmass::{ApiBase, Endpoint, HttpRequest};

const BOUNDARY: &str = "wxmass-0123456789abcdef0123456789abcdef";

fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.resize(len, 0x11);
    b
}

/// One file of each type that both uploads accept.
fn files() -> Vec<(MediaType, &'static str, Vec<u8>)> {
    let mut mp3 = b"ID3\x04".to_vec();
    mp3.resize(3000, 0x22);
    let mut mp4 = b"\x00\x00\x00\x18ftypmp42".to_vec();
    mp4.resize(70_000, 0x33);
    vec![
        (MediaType::Image, "a.jpg", jpeg(5000)),
        (MediaType::Voice, "a.mp3", mp3),
        (MediaType::Video, "a.mp4", mp4),
        (
            MediaType::Thumb,
            "c.jpg",
            jpeg(limits::MEDIA_THUMB_MAX_BYTES),
        ),
        // Shorter than the sniffed prefix: the whole file is its first bytes.
        (MediaType::Image, "tiny.jpg", jpeg(5)),
    ]
}

fn streamed(t: MediaType, name: &str, len: u64, first: &[u8]) -> StreamedUpload {
    StreamedUpload {
        media_type: t,
        filename: name.to_owned(),
        declared_len: len,
        first_bytes: first[..first.len().min(MEDIA_SNIFF_BYTES)].to_vec(),
        boundary: BOUNDARY.to_owned(),
    }
}

fn joined(f: &FramedUpload, bytes: &[u8]) -> HttpRequest {
    let mut body = f.head.clone();
    body.extend_from_slice(bytes);
    body.extend_from_slice(&f.tail);
    assert_eq!(f.content_length, body.len() as u64);
    assert!(f.request.body.is_empty());
    HttpRequest {
        body,
        ..f.request.clone()
    }
}

fn video() -> VideoDescription {
    VideoDescription {
        title: "标题 \"quoted\"".into(),
        introduction: "intro".into(),
    }
}

#[test]
fn head_file_and_tail_are_the_whole_builders_body_for_each_type() {
    let base = ApiBase::default();
    for (t, name, bytes) in files() {
        let s = streamed(t, name, bytes.len() as u64, &bytes);
        let whole = MediaUploadRequest::new(t, name, bytes.clone())
            .with_boundary(BOUNDARY)
            .build(&base)
            .unwrap();
        let f = MediaUploadRequest::frame_streamed(&s, &base).unwrap();
        assert_eq!(joined(&f, &bytes), whole, "media/upload {t:?}");

        let video = (t == MediaType::Video).then(video);
        let mut m = AddMaterialRequest::new(t, name, bytes.clone()).with_boundary(BOUNDARY);
        if let Some(v) = &video {
            m = m.video(v.title.clone(), v.introduction.clone());
        }
        let whole = m.build(&base).unwrap();
        let f = AddMaterialRequest::frame_streamed(&s, video.as_ref(), &base).unwrap();
        assert_eq!(joined(&f, &bytes), whole, "add_material {t:?}");
        if t == MediaType::Video {
            assert!(String::from_utf8_lossy(&f.tail).contains("name=\"description\""));
        }
    }
}

fn refusal(e: ValidationError) -> Vec<(String, String, Option<String>)> {
    e.problems
        .iter()
        .map(|p| (p.path.clone(), p.to_string(), p.value.clone()))
        .collect()
}

#[test]
fn refusals_are_the_whole_bytes_paths_problems() {
    let base = ApiBase::default();
    let png = [limits::PNG_MAGIC, b"...."].concat();
    let mut big_mp4 = b"\x00\x00\x00\x18ftypmp42".to_vec();
    big_mp4.resize(limits::MEDIA_VIDEO_MAX_BYTES + 1, 0);
    let cases: Vec<(MediaType, &str, Vec<u8>)> = vec![
        // Size (from the declared length), format (from the first bytes), extension.
        (MediaType::Video, "v.mp4", big_mp4),
        (MediaType::Thumb, "c.jpg", png.clone()),
        (MediaType::Thumb, "c.png", png),
        (MediaType::Image, "photo", jpeg(100)),
        (MediaType::Image, "bad\".jpg", jpeg(100)),
        (MediaType::Voice, "a.mp3", Vec::new()),
    ];
    for (t, name, bytes) in cases {
        let s = streamed(t, name, bytes.len() as u64, &bytes);
        let whole = MediaUploadRequest::new(t, name, bytes.clone())
            .with_boundary(BOUNDARY)
            .build(&base)
            .unwrap_err();
        let e = MediaUploadRequest::frame_streamed(&s, &base).unwrap_err();
        assert!(!e.problems.is_empty());
        assert_eq!(refusal(e), refusal(whole), "media/upload {t:?} {name}");

        let whole = AddMaterialRequest::new(t, name, bytes.clone())
            .with_boundary(BOUNDARY)
            .build(&base)
            .unwrap_err();
        let e = AddMaterialRequest::frame_streamed(&s, None, &base).unwrap_err();
        assert_eq!(refusal(e), refusal(whole), "add_material {t:?} {name}");
    }
}

#[test]
fn a_declared_length_over_the_limit_is_refused_from_the_first_bytes_alone() {
    let base = ApiBase::default();
    let s = streamed(
        MediaType::Image,
        "a.jpg",
        limits::MEDIA_IMAGE_MAX_BYTES as u64 + 1,
        &jpeg(MEDIA_SNIFF_BYTES),
    );
    let e = MediaUploadRequest::frame_streamed(&s, &base).unwrap_err();
    assert_eq!(
        e.problems[0].to_string(),
        "media must be at most 10485760 bytes (10 MiB) (got \"10485761\")"
    );
    // Beyond what a usize holds on a 32-bit target (wasm): still the size rule.
    let s = streamed(
        MediaType::Image,
        "a.jpg",
        u64::MAX,
        &jpeg(MEDIA_SNIFF_BYTES),
    );
    let e = MediaUploadRequest::frame_streamed(&s, &base).unwrap_err();
    assert_eq!(e.problems[0].path, "media");
    assert_eq!(e.problems[0].rule.code(), "max_bytes");
}

#[test]
fn a_video_material_needs_its_title_and_others_refuse_one_as_the_whole_path_does() {
    let base = ApiBase::default();
    let mut mp4 = b"\x00\x00\x00\x18ftypmp42".to_vec();
    mp4.resize(100, 0);
    let s = streamed(MediaType::Video, "v.mp4", 100, &mp4);
    let e = AddMaterialRequest::frame_streamed(&s, None, &base).unwrap_err();
    let whole = AddMaterialRequest::new(MediaType::Video, "v.mp4", mp4)
        .with_boundary(BOUNDARY)
        .build(&base)
        .unwrap_err();
    assert_eq!(refusal(e), refusal(whole));

    let img = jpeg(100);
    let s = streamed(MediaType::Image, "a.jpg", 100, &img);
    let e = AddMaterialRequest::frame_streamed(&s, Some(&video()), &base).unwrap_err();
    let whole = AddMaterialRequest::new(MediaType::Image, "a.jpg", img)
        .with_boundary(BOUNDARY)
        .video(video().title, video().introduction)
        .build(&base)
        .unwrap_err();
    assert_eq!(refusal(e), refusal(whole));
}

#[test]
fn a_boundary_of_bad_characters_is_refused_as_on_the_whole_path() {
    let base = ApiBase::default();
    let bytes = jpeg(100);
    let mut s = streamed(MediaType::Image, "a.jpg", 100, &bytes);
    s.boundary = "has space".into();
    let e = MediaUploadRequest::frame_streamed(&s, &base).unwrap_err();
    let whole = MediaUploadRequest::new(MediaType::Image, "a.jpg", bytes)
        .with_boundary("has space")
        .build(&base)
        .unwrap_err();
    assert_eq!(refusal(e), refusal(whole));
}
