//! Issue 27: media/upload, add_material, material lists, tags and followers. Golden tests of
//! every new body and reply against WeChat's documentation examples (`golden/media_tags.json`,
//! each case with its source), the refusals before upload, and the follower pager.

use serde_json::{json, Value};
use wxmass::endpoint::*;
use wxmass::error_code::ReplyError;
use wxmass::followers::{FollowerPager, PagerError};
use wxmass::{limits, ApiBase, Endpoint, Method};

fn golden() -> Value {
    let path = format!(
        "{}/tests/golden/media_tags.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn documented_request_bodies_round_trip() {
    for case in golden()["requests"].as_array().unwrap() {
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        let req = AnyRequest::from_value(endpoint, case["body"].clone())
            .unwrap_or_else(|e| panic!("{endpoint:?}: {e}"));
        let built = req.build(&ApiBase::default()).unwrap();
        let body: Value = serde_json::from_slice(&built.body).unwrap();
        assert_eq!(body, case["body"], "{endpoint:?}");
    }
}

#[test]
fn documented_replies_parse_into_the_js_model() {
    for case in golden()["replies"].as_array().unwrap() {
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        let body = serde_json::to_vec(&case["body"]).unwrap();
        let reply =
            parse_any_reply(endpoint, &body).unwrap_or_else(|e| panic!("{endpoint:?}: {e}"));
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            case["expected"],
            "{endpoint:?} ({})",
            case["source"]
        );
    }
}

#[test]
fn reads_are_gets_with_their_query_and_no_body() {
    let base = ApiBase::default();
    let tags = TagsGetRequest.build(&base).unwrap();
    assert_eq!(
        (
            tags.method,
            tags.url_with_token("ACCESS_TOKEN"),
            tags.body.len()
        ),
        (
            Method::Get,
            "https://api.weixin.qq.com/cgi-bin/tags/get?access_token=ACCESS_TOKEN".into(),
            0
        )
    );
    let count = MaterialCountRequest.build(&base).unwrap();
    assert_eq!(
        count.url_with_token("T"),
        "https://api.weixin.qq.com/cgi-bin/material/get_materialcount?access_token=T"
    );
    let first = UserGetRequest::after("").build(&base).unwrap();
    assert_eq!(first.url(), "https://api.weixin.qq.com/cgi-bin/user/get");
    let next = UserGetRequest::after("ocYxcuBt0mRugKZ7tGAHPnUaOW7Y")
        .build(&base)
        .unwrap();
    assert_eq!(
        next.url_with_token("T"),
        "https://api.weixin.qq.com/cgi-bin/user/get?next_openid=ocYxcuBt0mRugKZ7tGAHPnUaOW7Y&access_token=T"
    );
    // Read from JSON in either naming, as every other endpoint.
    let any = AnyRequest::from_value(
        EndpointName::UserGet,
        json!({"nextOpenid": "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"}),
    )
    .unwrap();
    assert_eq!(any.build(&base).unwrap(), next);
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.resize(len, 7);
    b
}

#[test]
fn media_upload_body_is_curl_f_media_with_the_callers_boundary() {
    // `curl -F media=@test.jpg ".../media/upload?access_token=ACCESS_TOKEN&type=TYPE"` (the
    // temporary-media page): the file in a part named `media`, the type in the query.
    let req = MediaUploadRequest::new(MediaType::Image, "test.jpg", jpeg(6)).with_boundary("b0und");
    let http = req.build(&ApiBase::default()).unwrap();
    assert_eq!(
        http.url_with_token("ACCESS_TOKEN"),
        "https://api.weixin.qq.com/cgi-bin/media/upload?type=image&access_token=ACCESS_TOKEN"
    );
    assert_eq!(http.content_type, "multipart/form-data; boundary=b0und");
    let mut expected = b"--b0und\r\nContent-Disposition: form-data; name=\"media\"; filename=\"test.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    expected.extend(jpeg(6));
    expected.extend(b"\r\n--b0und--\r\n");
    assert_eq!(http.body, expected);
    // Without a boundary one is derived from the content: the same bytes, the same body.
    let a = MediaUploadRequest::new(MediaType::Image, "test.jpg", jpeg(6))
        .build(&ApiBase::default())
        .unwrap();
    let b = MediaUploadRequest::new(MediaType::Image, "test.jpg", jpeg(6))
        .build(&ApiBase::default())
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn video_material_carries_its_description_part() {
    let mp4 = b"\0\0\0\x18ftypmp42....".to_vec();
    let req = AddMaterialRequest::new(MediaType::Video, "clip.mp4", mp4.clone())
        .video("VIDEO_TITLE", "INTRODUCTION \"quoted\"")
        .with_boundary("BB");
    let http = req.build(&ApiBase::default()).unwrap();
    assert!(http
        .url()
        .ends_with("/cgi-bin/material/add_material?type=video"));
    let text = String::from_utf8_lossy(&http.body).into_owned();
    assert!(text.contains("--BB\r\nContent-Disposition: form-data; name=\"media\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"));
    assert!(text.contains(
        "--BB\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n{\"title\":\"VIDEO_TITLE\",\"introduction\":\"INTRODUCTION \\\"quoted\\\"\"}\r\n--BB--\r\n"
    ));
}

fn problems<E: Endpoint>(req: &E) -> Vec<(String, String)> {
    req.validate()
        .err()
        .map(|e| {
            e.problems
                .into_iter()
                .map(|p| (p.path, p.rule.code().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn rejects_a_thumb_over_64_kib_and_takes_one_of_exactly_64_kib() {
    let ok = MediaUploadRequest::new(
        MediaType::Thumb,
        "c.jpg",
        jpeg(limits::MEDIA_THUMB_MAX_BYTES),
    );
    assert_eq!(problems(&ok), []);
    let big = MediaUploadRequest::new(
        MediaType::Thumb,
        "c.jpg",
        jpeg(limits::MEDIA_THUMB_MAX_BYTES + 1),
    );
    assert_eq!(problems(&big), pairs(&[("media", "max_bytes")]));
    let e = big.validate().unwrap_err();
    assert_eq!(
        e.problems[0].to_string(),
        "media must be at most 65536 bytes (64 KiB) (got \"65537\")"
    );
    assert_eq!(
        e.problems[0].zh(),
        "media 不能超过 65536 字节（64 KiB）（实际值 \"65537\"）"
    );
}

#[test]
fn rejects_a_voice_over_2_mib_and_an_image_over_10_mib() {
    let mut mp3 = b"ID3\x04".to_vec();
    mp3.resize(limits::MEDIA_VOICE_MAX_BYTES + 1, 0);
    assert_eq!(
        problems(&MediaUploadRequest::new(MediaType::Voice, "a.mp3", mp3)),
        pairs(&[("media", "max_bytes")])
    );
    assert_eq!(
        problems(&AddMaterialRequest::new(
            MediaType::Image,
            "a.jpg",
            jpeg(limits::MEDIA_IMAGE_MAX_BYTES + 1)
        )),
        pairs(&[("media", "max_bytes")])
    );
}

#[test]
fn rejects_formats_by_their_bytes_and_names_by_their_extension() {
    let png = [limits::PNG_MAGIC, b"...."].concat();
    // A PNG is no thumb (JPEG only), by its bytes and by its name.
    let e = MediaUploadRequest::new(MediaType::Thumb, "c.png", png.clone())
        .validate()
        .unwrap_err();
    let found: Vec<_> = e
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.rule.code()))
        .collect();
    assert_eq!(
        found,
        [("filename", "media_format"), ("media", "media_format")]
    );
    assert_eq!(
        e.problems[1].to_string(),
        "media must be JPEG for an upload of type thumb (got \"89504e470d0a1a0a\")"
    );
    assert_eq!(
        e.problems[1].zh(),
        "media 类型为 thumb 的上传须是 JPEG（实际值 \"89504e470d0a1a0a\"）"
    );
    // A temporary image may be a GIF; a BMP only as a permanent material.
    let bmp = b"BM......".to_vec();
    assert_eq!(
        problems(&MediaUploadRequest::new(
            MediaType::Image,
            "a.bmp",
            bmp.clone()
        ))
        .len(),
        2
    );
    assert_eq!(
        problems(&AddMaterialRequest::new(MediaType::Image, "a.bmp", bmp)),
        []
    );
    assert_eq!(
        problems(&MediaUploadRequest::new(
            MediaType::Image,
            "a.GIF",
            b"GIF89a..".to_vec()
        )),
        []
    );
    // WAV and WMA voices are permanent-only too.
    let wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    assert_eq!(
        problems(&AddMaterialRequest::new(
            MediaType::Voice,
            "v.wav",
            wav.clone()
        )),
        []
    );
    assert_eq!(
        problems(&MediaUploadRequest::new(MediaType::Voice, "v.wav", wav)).len(),
        2
    );
    // No extension, an empty file, a quote in the name.
    assert_eq!(
        problems(&MediaUploadRequest::new(
            MediaType::Video,
            "clip",
            Vec::new()
        )),
        pairs(&[("filename", "media_format"), ("media", "required")])
    );
    assert_eq!(
        problems(&MediaUploadRequest::new(
            MediaType::Image,
            "a\".jpg",
            jpeg(8)
        )),
        pairs(&[("filename", "characters")])
    );
}

#[test]
fn a_video_material_needs_a_title_and_only_a_video_takes_one() {
    let mp4 = b"\0\0\0\x18ftypisom".to_vec();
    assert_eq!(
        problems(&AddMaterialRequest::new(
            MediaType::Video,
            "v.mp4",
            mp4.clone()
        )),
        pairs(&[("title", "required")])
    );
    assert_eq!(
        problems(&AddMaterialRequest::new(MediaType::Video, "v.mp4", mp4).video(" ", "")),
        pairs(&[("title", "required")])
    );
    assert_eq!(
        problems(&AddMaterialRequest::new(MediaType::Image, "a.jpg", jpeg(8)).video("T", "I")),
        pairs(&[("title", "not_allowed"), ("introduction", "not_allowed")])
    );
}

#[test]
fn the_file_uploads_are_not_read_from_json() {
    for e in [EndpointName::MediaUpload, EndpointName::AddMaterial] {
        let err = AnyRequest::from_json(e, b"{}").unwrap_err();
        assert_eq!(err.problems[0].rule.code(), "not_allowed");
    }
}

#[test]
fn material_pages_hold_1_to_20_of_a_known_type() {
    let paths = |v: Value| {
        AnyRequest::from_value(EndpointName::BatchGetMaterial, v)
            .err()
            .map(|e| {
                e.problems
                    .into_iter()
                    .map(|p| (p.path, p.rule.code().to_owned()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(paths(json!({"type": "news", "count": 20})), []);
    assert_eq!(
        paths(json!({"type": "thumb", "offset": 0, "count": 21})),
        pairs(&[("type", "type"), ("count", "range")])
    );
    assert_eq!(
        paths(json!({"type": "image"})),
        pairs(&[("count", "required")])
    );
    assert_eq!(
        paths(json!({"tagid": 2})),
        pairs(&[
            ("type", "required"),
            ("count", "required"),
            ("tagid", "unknown_field")
        ])
    );
}

#[test]
fn a_tag_page_needs_a_tag_and_an_openid_cursor() {
    let paths = |v: Value| {
        AnyRequest::from_value(EndpointName::UserTagGet, v)
            .err()
            .map(|e| {
                e.problems
                    .into_iter()
                    .map(|p| (p.path, p.rule.code().to_owned()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(paths(json!({"tagId": "134"})), []);
    assert_eq!(paths(json!({})), pairs(&[("tagid", "required")]));
    assert_eq!(
        paths(json!({"tagid": 2, "nextOpenid": "NEXT_OPENID"})),
        pairs(&[("nextOpenid", "openid_format")])
    );
}

fn openid(i: usize) -> String {
    format!("o{:027}", i)
}

fn page(total: Option<u64>, ids: std::ops::Range<usize>, next: &str) -> Vec<u8> {
    let ids: Vec<String> = ids.map(openid).collect();
    let mut v = json!({"count": ids.len(), "data": {"openid": ids}, "next_openid": next});
    if let Some(t) = total {
        v["total"] = json!(t);
    }
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn pages_23000_followers_as_the_documentation_does() {
    // The user/get page's example: 23,000 followers in pages of 10,000, 10,000 and 3,000, the
    // last with an empty next_openid.
    let base = ApiBase::default();
    let mut pager = FollowerPager::everyone();
    let r1 = pager.next_request(&base).unwrap().unwrap();
    assert_eq!(r1.url(), "https://api.weixin.qq.com/cgi-bin/user/get");
    let s1 = pager
        .feed(&page(Some(23_000), 0..10_000, &openid(9_999)))
        .unwrap();
    assert_eq!(
        (s1.openids.len(), s1.total, s1.done),
        (10_000, Some(23_000), false)
    );
    let r2 = pager.next_request(&base).unwrap().unwrap();
    assert!(r2
        .url()
        .ends_with(&format!("?next_openid={}", openid(9_999))));
    pager
        .feed(&page(Some(23_000), 10_000..20_000, &openid(19_999)))
        .unwrap();
    let s3 = pager.feed(&page(Some(23_000), 20_000..23_000, "")).unwrap();
    assert!(s3.done);
    assert_eq!((pager.pages(), pager.fetched()), (3, 23_000));
    assert_eq!(pager.next_request(&base).unwrap(), None);
    assert_eq!(pager.feed(b"{}"), Err(PagerError::Finished));
}

#[test]
fn a_list_of_exactly_full_pages_ends_on_the_empty_page_after_it() {
    let base = ApiBase::default();
    let mut pager = FollowerPager::tag(2);
    let r1 = pager.next_request(&base).unwrap().unwrap();
    assert_eq!(r1.body, br#"{"tagid":2,"next_openid":""}"#);
    assert!(
        !pager
            .feed(&page(None, 0..10_000, &openid(9_999)))
            .unwrap()
            .done
    );
    let r2 = pager.next_request(&base).unwrap().unwrap();
    assert_eq!(
        String::from_utf8(r2.body).unwrap(),
        format!(r#"{{"tagid":2,"next_openid":"{}"}}"#, openid(9_999))
    );
    // WeChat's answer after the last full page: no data, count 0.
    let last = pager.feed(br#"{"count":0,"next_openid":""}"#).unwrap();
    assert!(last.done && last.openids.is_empty());
    assert_eq!(pager.fetched(), 10_000);
}

#[test]
fn a_page_that_does_not_move_the_cursor_is_an_error_not_a_loop() {
    let mut pager = FollowerPager::resume(wxmass::followers::FollowerSource::Everyone, openid(5));
    let e = pager.feed(&page(Some(9), 6..9, &openid(5))).unwrap_err();
    assert!(matches!(e, PagerError::NoProgress { .. }));
    assert!(e.to_string().contains("翻页没有前进"));
    // An empty page naming the same cursor simply ends the list.
    assert!(pager.feed(&page(Some(9), 0..0, &openid(5))).unwrap().done);
}

#[test]
fn an_error_reply_leaves_the_pager_where_it_was() {
    let mut pager = FollowerPager::tag(999);
    let before = pager.clone();
    match pager.feed(br#"{"errcode":45159,"errmsg":"invalid tag id"}"#) {
        Err(PagerError::Reply(ReplyError::Api(e))) => assert_eq!(e.code, 45159),
        other => panic!("{other:?}"),
    }
    assert_eq!(pager, before);
    let malformed = pager
        .feed(br#"{"count":1,"data":{"openid":[1]}}"#)
        .unwrap_err();
    assert!(matches!(
        malformed,
        PagerError::Reply(ReplyError::Malformed { .. })
    ));
}
