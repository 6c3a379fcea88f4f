//! One test per validation rule: a bad value, and the error names its path and rule.

use serde_json::{json, Value};
use wxmass::endpoint::*;
use wxmass::{ApiBase, Article, Endpoint, MassMessage, Method, MsgId, SendAllFilter};

const A: &str = "oR5Gjjl_eiZoUpGozMo7dbBJ362A";
const B: &str = "oR5Gjjo5rXlMUocSEXKT7Q5RQ63Q";

/// (path, rule code) of every problem of `body` read as `endpoint` and then validated.
fn problems(endpoint: &str, body: Value) -> Vec<(String, String)> {
    let endpoint = EndpointName::parse(endpoint).unwrap();
    let result = AnyRequest::from_value(endpoint, body).and_then(|r| r.validate());
    match result {
        Ok(()) => vec![],
        Err(e) => e
            .problems
            .into_iter()
            .map(|p| (p.path, p.rule.code().to_owned()))
            .collect(),
    }
}

fn has(found: &[(String, String)], path: &str, rule: &str) -> bool {
    found.iter().any(|(p, r)| p == path && r == rule)
}

macro_rules! assert_problem {
    ($endpoint:expr, $body:expr, $path:expr, $rule:expr) => {{
        let found = problems($endpoint, $body);
        assert!(
            has(&found, $path, $rule),
            "expected {} {} in {:?}",
            $path,
            $rule,
            found
        );
    }};
}

fn article() -> Value {
    json!({"thumb_media_id": "m1", "title": "t", "content": "c"})
}

fn text_send(touser: Value) -> Value {
    json!({"touser": touser, "msgtype": "text", "text": {"content": "hi"}})
}

#[test]
fn accepts_a_valid_send() {
    assert_eq!(problems("send", text_send(json!([A, B]))), vec![]);
}

#[test]
fn rejects_nine_articles() {
    let body = json!({"articles": vec![article(); 9]});
    assert_problem!("uploadnews", body, "articles", "count");
}

#[test]
fn rejects_zero_articles() {
    assert_problem!("uploadnews", json!({"articles": []}), "articles", "count");
    assert_problem!("uploadnews", json!({}), "articles", "required");
}

#[test]
fn rejects_blank_required_article_fields() {
    let mut articles = vec![article(); 4];
    articles[3]["title"] = json!("  ");
    articles[1]["thumb_media_id"] = json!("");
    let found = problems("uploadnews", json!({ "articles": articles }));
    assert!(has(&found, "articles[3].title", "required"), "{found:?}");
    assert!(
        has(&found, "articles[1].thumb_media_id", "required"),
        "{found:?}"
    );
    let mut missing = article();
    missing.as_object_mut().unwrap().remove("content");
    assert_problem!(
        "uploadnews",
        json!({"articles": [missing]}),
        "articles[0].content",
        "required"
    );
}

#[test]
fn rejects_flags_other_than_0_or_1() {
    let mut a = article();
    a["show_cover_pic"] = json!(2);
    a["need_open_comment"] = json!("1");
    let found = problems("uploadnews", json!({ "articles": [a] }));
    assert!(
        has(&found, "articles[0].show_cover_pic", "flag"),
        "{found:?}"
    );
    assert!(
        has(&found, "articles[0].need_open_comment", "flag"),
        "{found:?}"
    );
    let mut body = text_send(json!([A, B]));
    body["send_ignore_reprint"] = json!(3);
    assert_problem!("send", body, "send_ignore_reprint", "flag");
}

#[test]
fn rejects_one_openid_and_10001() {
    assert_problem!("send", text_send(json!([A])), "touser", "count");
    let many: Vec<String> = (0..10_001)
        .map(|i| format!("oR5Gjjl_eiZoUpGozMo7d{i:07}"))
        .collect();
    assert_problem!("send", text_send(json!(many)), "touser", "count");
    let ok: Vec<String> = many[..10_000].to_vec();
    assert_eq!(problems("send", text_send(json!(ok))), vec![]);
}

#[test]
fn rejects_malformed_openids() {
    let found = problems(
        "send",
        text_send(json!([A, "OPENID2", "oR5Gjjl_eiZoUpGozMo7dbBJ36!A", B])),
    );
    assert!(has(&found, "touser[1]", "openid_format"), "{found:?}");
    assert!(has(&found, "touser[2]", "openid_format"), "{found:?}");
    assert_problem!("send", text_send(json!([A, 5])), "touser[1]", "type");
}

#[test]
fn rejects_duplicate_openids_naming_both_positions() {
    let req = SendToUsersRequest::new(
        vec![A.into(), B.into(), A.into(), B.into()],
        MassMessage::text("hi"),
    );
    let err = req.validate().unwrap_err();
    let dups: Vec<_> = err
        .problems
        .iter()
        .filter(|p| p.rule.code() == "duplicate")
        .collect();
    assert_eq!(dups.len(), 2);
    assert_eq!(dups[0].path, "touser[2]");
    assert_eq!(dups[0].rule, wxmass::Rule::Duplicate { first: 0 });
    assert_eq!(dups[1].path, "touser[3]");
    assert!(err
        .to_string()
        .contains("duplicates the entry at position 1"));
}

#[test]
fn rejects_clientmsgid_over_64_bytes_or_not_printable_ascii() {
    for bad in [
        "x".repeat(65),
        "tab\there".into(),
        "中文".into(),
        String::new(),
    ] {
        let mut body = text_send(json!([A, B]));
        body["clientmsgid"] = json!(bad);
        assert_problem!("send", body, "clientmsgid", "clientmsgid");
    }
    let mut body = text_send(json!([A, B]));
    body["clientmsgid"] = json!("x".repeat(64));
    assert_eq!(problems("send", body), vec![]);
}

#[test]
fn rejects_tag_ids_that_are_not_non_negative_integers() {
    for bad in [json!(-1), json!(1.5), json!("2a"), json!(""), json!(true)] {
        let body = json!({"filter": {"is_to_all": false, "tag_id": bad}, "msgtype": "text", "text": {"content": "x"}});
        assert_problem!("sendall", body, "filter.tag_id", "non_negative_integer");
    }
    let body = json!({"filter": {"is_to_all": false}, "msgtype": "text", "text": {"content": "x"}});
    assert_problem!("sendall", body, "filter.tag_id", "required");
}

#[test]
fn accepts_numeric_string_tag_id_and_emits_a_number() {
    let body = json!({"filter": {"is_to_all": false, "tag_id": "18446744073709551615"}, "msgtype": "text", "text": {"content": "x"}});
    let req = SendAllRequest::from_value(body).unwrap();
    assert_eq!(req.filter, SendAllFilter::Tag(u64::MAX));
    let out: Value = serde_json::from_slice(&req.to_body()).unwrap();
    assert_eq!(out["filter"]["tag_id"], json!(u64::MAX));
}

#[test]
fn rejects_speed_outside_0_to_4() {
    assert_problem!("speed/set", json!({"speed": 5}), "speed", "range");
    assert_problem!(
        "speed/set",
        json!({"speed": -1}),
        "speed",
        "non_negative_integer"
    );
    assert_problem!("speed/set", json!({}), "speed", "required");
    assert_eq!(problems("speed/set", json!({"speed": 4})), vec![]);
}

#[test]
fn rejects_card_ext_outside_preview() {
    let body = json!({"filter": {"is_to_all": true}, "msgtype": "wxcard", "wxcard": {"card_id": "c", "card_ext": "{}"}});
    assert_problem!("sendall", body, "wxcard.card_ext", "not_allowed");
}

#[test]
fn rejects_card_ext_that_is_not_a_json_object_string() {
    for bad in ["[1,2]", "not json", "\"s\""] {
        let body =
            json!({"touser": A, "msgtype": "wxcard", "wxcard": {"card_id": "c", "card_ext": bad}});
        assert_problem!("preview", body, "wxcard.card_ext", "json_object_string");
    }
    let ok = json!({"touser": A, "msgtype": "wxcard", "wxcard": {"card_id": "c", "card_ext": "{\"code\":\"\"}"}});
    assert_eq!(problems("preview", ok), vec![]);
}

#[test]
fn rejects_msg_id_that_is_not_positive() {
    assert_problem!("delete", json!({"msg_id": 0}), "msg_id", "positive_integer");
    assert_problem!(
        "delete",
        json!({"msg_id": -5}),
        "msg_id",
        "positive_integer"
    );
    assert_problem!(
        "get",
        json!({"msg_id": "12x"}),
        "msg_id",
        "positive_integer"
    );
    assert_problem!(
        "get",
        json!({"msg_id": "18446744073709551616"}),
        "msg_id",
        "positive_integer"
    );
    assert_problem!("get", json!({}), "msg_id", "required");
}

#[test]
fn keeps_msg_ids_above_2_pow_53_exactly() {
    let req =
        DeleteRequest::from_json(br#"{"msg_id":"9007199254740993","article_idx":2}"#).unwrap();
    assert_eq!(req.msg_id, MsgId(9_007_199_254_740_993));
    assert_eq!(
        req.to_body(),
        br#"{"msg_id":9007199254740993,"article_idx":2}"#
    );
}

#[test]
fn rejects_negative_article_idx() {
    assert_problem!(
        "delete",
        json!({"msg_id": 1, "article_idx": -1}),
        "article_idx",
        "non_negative_integer"
    );
}

#[test]
fn rejects_unknown_fields_with_their_path() {
    let mut a = article();
    a["titel"] = json!("typo");
    let found = problems("uploadnews", json!({"articles": [a], "extra": 1}));
    assert!(
        has(&found, "articles[0].titel", "unknown_field"),
        "{found:?}"
    );
    assert!(has(&found, "extra", "unknown_field"), "{found:?}");
    let body =
        json!({"touser": [A, B], "msgtype": "text", "text": {"content": "x", "color": "red"}});
    assert_problem!("send", body, "text.color", "unknown_field");
}

/// Every problem of a body, as displayed.
fn messages(endpoint: &str, body: Value) -> Vec<String> {
    let name = EndpointName::parse(endpoint).expect("endpoint");
    match AnyRequest::from_value(name, body) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_mismatched_message_object_is_explained_by_msgtype() {
    // The wrong object and the missing one, each said once, naming the msgtype.
    assert_eq!(
        messages(
            "sendall",
            json!({"filter": {"is_to_all": true}, "msgtype": "mpnews", "text": {"content": "x"}})
        ),
        [
            "text must not be here: msgtype is \"mpnews\" and a body carries only that one \
             message object",
            "mpnews is required: msgtype is \"mpnews\", and the message goes under that key",
        ]
    );
    // Present but not an object: that is the one problem, not "missing" as well.
    assert_eq!(
        messages(
            "sendall",
            json!({"filter": {"is_to_all": true}, "msgtype": "text", "text": "hello"})
        ),
        ["text must be an object (got \"hello\")"]
    );
}

#[test]
fn rejects_unknown_msgtype_and_mismatched_message_objects() {
    assert_problem!(
        "send",
        json!({"touser": [A, B], "msgtype": "music", "music": {}}),
        "msgtype",
        "msgtype"
    );
    assert_problem!(
        "send",
        json!({"touser": [A, B], "msgtype": "text"}),
        "text",
        "message_shape"
    );
    assert_problem!(
        "send",
        json!({"touser": [A, B], "msgtype": "text", "text": {"content": "x"}, "image": {"media_id": "m"}}),
        "image",
        "message_shape"
    );
    assert_problem!(
        "send",
        json!({"touser": [A, B], "text": {"content": "x"}}),
        "msgtype",
        "required"
    );
}

#[test]
fn rejects_empty_message_content_and_media_ids() {
    assert_problem!(
        "send",
        text_send(json!([A, B])).tap(|b| b["text"]["content"] = json!("")),
        "text.content",
        "required"
    );
    let body = json!({"touser": [A, B], "msgtype": "mpvideo", "mpvideo": {"media_id": " "}});
    assert_problem!("send", body, "mpvideo.media_id", "required");
}

#[test]
fn reading_refuses_a_well_formed_body_that_breaks_a_rule() {
    // Structure is fine (one OpenID, a blank text), but the rules are not: reading answers with
    // the rules' problems, so an `Ok` from reading is always a request that builds.
    let body = json!({"touser": [A], "msgtype": "text", "text": {"content": " "}});
    let err = SendToUsersRequest::from_value(body.clone()).unwrap_err();
    let found: Vec<_> = err
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.rule.code()))
        .collect();
    assert_eq!(found, [("touser", "count"), ("text.content", "required")]);
    let bytes = body.to_string();
    assert_eq!(
        SendToUsersRequest::from_json(bytes.as_bytes()),
        Err(err.clone())
    );
    let send = EndpointName::SendToUsers;
    assert_eq!(AnyRequest::from_value(send, body), Err(err.clone()));
    assert_eq!(AnyRequest::from_json(send, bytes.as_bytes()), Err(err));
}

#[test]
fn rejects_non_json_and_non_objects() {
    let err = SendAllRequest::from_json(b"{not json").unwrap_err();
    assert_eq!(err.problems[0].rule.code(), "json");
    assert_problem!("send", json!([1, 2]), "", "type");
}

#[test]
fn reports_all_problems_at_once() {
    let mut a = article();
    a["title"] = json!("");
    a["show_cover_pic"] = json!(7);
    let mut articles = vec![a; 9];
    articles[8]["bogus"] = json!(true);
    let found = problems("uploadnews", json!({ "articles": articles }));
    // Structure problems (flags, the unknown field) and rules (count, blank titles) together.
    assert!(has(&found, "articles", "count"), "{found:?}");
    assert!(
        has(&found, "articles[8].bogus", "unknown_field"),
        "{found:?}"
    );
    assert_eq!(found.iter().filter(|(_, r)| r == "flag").count(), 9);
    assert_eq!(found.iter().filter(|(_, r)| r == "required").count(), 9);
    assert_eq!(found.len(), 1 + 1 + 9 + 9, "{found:?}");
    let req = UploadNewsRequest {
        articles: vec![Article::new("", "", ""); 9],
    };
    let err = req.validate().unwrap_err();
    assert_eq!(err.problems.len(), 1 + 9 * 3);
}

#[test]
fn preview_towxname_wins_over_touser() {
    let req = PreviewRequest::from_value(
        json!({"touser": A, "towxname": "someone", "msgtype": "text", "text": {"content": "x"}}),
    )
    .unwrap();
    assert_eq!(req.target, wxmass::PreviewTarget::WxName("someone".into()));
    assert_problem!(
        "preview",
        json!({"touser": "bad", "msgtype": "text", "text": {"content": "x"}}),
        "touser",
        "openid_format"
    );
    assert_problem!(
        "preview",
        json!({"msgtype": "text", "text": {"content": "x"}}),
        "touser",
        "required"
    );
}

#[test]
fn accepts_camel_case_aliases_and_emits_wire_names() {
    let body = json!({
        "toUser": [A, B], "msgType": "mpnews", "mpnews": {"mediaId": "m"},
        "sendIgnoreReprint": true, "clientMsgId": "job-1"
    });
    let req = SendToUsersRequest::from_value(body).unwrap();
    let out: Value = serde_json::from_slice(&req.to_body()).unwrap();
    assert_eq!(
        out,
        json!({"touser": [A, B], "mpnews": {"media_id": "m"}, "msgtype": "mpnews", "send_ignore_reprint": 1, "clientmsgid": "job-1"})
    );
}

#[test]
fn build_uses_the_configured_base_and_refuses_invalid_requests() {
    let base = ApiBase::parse("http://127.0.0.1:9000/wx").unwrap();
    let req = SendAllRequest::new(SendAllFilter::Tag(2), MassMessage::mpnews("m"));
    let http = req.build(&base).unwrap();
    assert_eq!(http.method, Method::Post);
    assert_eq!(
        http.url(),
        "http://127.0.0.1:9000/wx/cgi-bin/message/mass/sendall"
    );
    assert_eq!(http.content_type, "application/json; charset=utf-8");
    assert_eq!(
        http.body_text().unwrap(),
        r#"{"filter":{"is_to_all":false,"tag_id":2},"mpnews":{"media_id":"m"},"msgtype":"mpnews"}"#
    );
    let default = req.build(&ApiBase::default()).unwrap();
    assert_eq!(default.host, "api.weixin.qq.com");
    let bad = SendAllRequest::new(SendAllFilter::Everyone, MassMessage::text(""));
    assert!(bad.build(&base).is_err());
}

#[test]
fn everyone_filter_has_no_tag() {
    let req = SendAllRequest::new(SendAllFilter::Everyone, MassMessage::text("x"));
    assert_eq!(
        req.to_body(),
        br#"{"filter":{"is_to_all":true},"text":{"content":"x"},"msgtype":"text"}"#
    );
}

// ---- uploadimg -------------------------------------------------------------------------------

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];

fn img_problems(req: &UploadImgRequest) -> Vec<(String, String)> {
    match req.validate() {
        Ok(()) => vec![],
        Err(e) => e
            .problems
            .into_iter()
            .map(|p| (p.path, p.rule.code().to_owned()))
            .collect(),
    }
}

#[test]
fn uploadimg_accepts_jpeg_and_png_by_magic_bytes() {
    assert_eq!(
        img_problems(&UploadImgRequest::new("a.png", PNG.to_vec())),
        vec![]
    );
    assert_eq!(
        img_problems(&UploadImgRequest::new("named-wrong.png", JPEG.to_vec())),
        vec![]
    );
}

#[test]
fn uploadimg_rejects_other_formats() {
    let gif = b"GIF89a....".to_vec();
    assert!(has(
        &img_problems(&UploadImgRequest::new("a.gif", gif)),
        "media",
        "image_format"
    ));
    assert!(has(
        &img_problems(&UploadImgRequest::new("a.png", vec![])),
        "media",
        "required"
    ));
}

#[test]
fn uploadimg_rejects_1mb_and_more() {
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024, 0);
    assert!(has(
        &img_problems(&UploadImgRequest::new("a.png", big.clone())),
        "media",
        "max_bytes"
    ));
    big.pop();
    assert_eq!(img_problems(&UploadImgRequest::new("a.png", big)), vec![]);
}

#[test]
fn uploadimg_rejects_file_names_that_break_the_header() {
    assert!(has(
        &img_problems(&UploadImgRequest::new("a\".png", PNG.to_vec())),
        "filename",
        "characters"
    ));
    assert!(has(
        &img_problems(&UploadImgRequest::new("x\r\ny", PNG.to_vec())),
        "filename",
        "characters"
    ));
    assert!(has(
        &img_problems(&UploadImgRequest::new("", PNG.to_vec())),
        "filename",
        "required"
    ));
}

#[test]
fn uploadimg_builds_a_multipart_body_with_part_media() {
    let req = UploadImgRequest::new("cover.jpg", JPEG.to_vec());
    let http = req.build(&ApiBase::default()).unwrap();
    let boundary = http
        .content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let mut expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"cover.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(JPEG);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(http.body, expected);
    assert_eq!(http.path, "/cgi-bin/media/uploadimg");
    // Deterministic: the same image gives the same body.
    assert_eq!(req.build(&ApiBase::default()).unwrap(), http);
}

#[test]
fn replies_with_errcode_become_api_errors_with_class_and_texts() {
    let e = SendAllRequest::parse_reply(
        br#"{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 1"}"#,
    )
    .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(api.code, 45009);
    assert_eq!(api.class(), wxmass::ErrorClass::Quota);
    assert_eq!(api.known.unwrap().zh, "接口调用超过限制");
    let unknown = SendAllRequest::parse_reply(br#"{"errcode":61451,"errmsg":"invalid parameter"}"#)
        .unwrap_err();
    assert!(unknown.api().unwrap().known.is_none());
    let reply = SendAllRequest::parse_reply(
        br#"{"errcode":0,"errmsg":"send job submission success","msg_id":"9223372036854775809"}"#,
    )
    .unwrap();
    assert_eq!(reply.msg_id, MsgId(9_223_372_036_854_775_809));
    assert!(
        SendAllRequest::parse_reply(br#"{"errcode":0}"#).is_err(),
        "msg_id is required"
    );
}

trait Tap {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}
impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

#[test]
fn rejects_null_tag_id_instead_of_sending_to_everyone() {
    // A null tag must never read as "no tag, so everyone": that would mass-send to every follower.
    for filter in [
        json!({"is_to_all": false, "tag_id": null}),
        json!({"tag_id": null}),
        json!({"is_to_all": null, "tag_id": null}),
        json!({}),
    ] {
        let body = json!({"filter": filter, "msgtype": "text", "text": {"content": "x"}});
        assert_problem!("sendall", body, "filter.tag_id", "required");
    }
    assert_problem!(
        "sendall",
        json!({"filter": null, "msgtype": "text", "text": {"content": "x"}}),
        "filter",
        "required"
    );
}

#[test]
fn null_required_fields_are_reported_as_missing() {
    assert_problem!("delete", json!({"msg_id": null}), "msg_id", "required");
    assert_problem!("speed/set", json!({"speed": null}), "speed", "required");
    assert_problem!(
        "send",
        json!({"touser": null, "msgtype": "text", "text": {"content": "x"}}),
        "touser",
        "required"
    );
    assert_problem!(
        "uploadnews",
        json!({"articles": null}),
        "articles",
        "required"
    );
}

#[test]
fn planned_audience_names_exactly_one_of_everyone_tag_or_list() {
    use wxmass::Audience;
    let read = |v: Value| Audience::from_value(v, "audience");
    assert_eq!(read(json!({"everyone": true})).unwrap(), Audience::Everyone);
    assert_eq!(read(json!({"tagId": "7"})).unwrap(), Audience::Tag(7));
    assert_eq!(read(json!({"tag_id": 7})).unwrap(), Audience::Tag(7));
    assert_eq!(
        read(json!({"openIds": [A, B]})).unwrap(),
        Audience::OpenIds(vec![A.into(), B.into()])
    );
    let codes = |v: Value| -> Vec<(String, String)> {
        read(v)
            .unwrap_err()
            .problems
            .into_iter()
            .map(|p| (p.path, p.rule.code().to_owned()))
            .collect()
    };
    // A stray "everyone" beside a list must not widen the send.
    assert!(has(
        &codes(json!({"everyone": true, "openIds": [A, B]})),
        "audience",
        "one_of"
    ));
    assert!(has(
        &codes(json!({"tagId": 2, "openIds": [A, B]})),
        "audience",
        "one_of"
    ));
    assert!(has(&codes(json!({"tagId": null})), "audience", "one_of"));
    assert!(has(&codes(json!({})), "audience", "one_of"));
    assert!(has(
        &codes(json!({"everyone": false})),
        "audience.everyone",
        "not_allowed"
    ));
    assert!(has(
        &codes(json!({"tagId": -1})),
        "audience.tagId",
        "non_negative_integer"
    ));
    assert!(has(
        &codes(json!({"openIds": [A, 3]})),
        "audience.openIds[1]",
        "type"
    ));
    assert!(has(
        &codes(json!({"openIds": [A], "extra": 1})),
        "audience.extra",
        "unknown_field"
    ));
    assert!(has(&codes(json!("everyone")), "audience", "type"));
}

#[test]
fn a_planned_message_refuses_send_options_and_reads_text_and_values_alike() {
    let body = json!({
        "msgType": "text",
        "text": { "content": "" },
        "clientMsgId": "x",
        "send_ignore_reprint": 1,
    });
    let from_value = MassMessage::from_value(body.clone(), "message").unwrap_err();
    let from_json = MassMessage::from_json(body.to_string().as_bytes(), "message").unwrap_err();
    assert_eq!(from_value, from_json);
    let found: Vec<(&str, &str)> = from_json
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.rule.code()))
        .collect();
    assert_eq!(
        found,
        [
            // Each key as written.
            ("message.send_ignore_reprint", "not_allowed"),
            ("message.clientMsgId", "not_allowed"),
            ("message.text.content", "required"),
        ]
    );
    let ok = MassMessage::from_json(br#"{"msgtype":"text","text":{"content":"hi"}}"#, "m");
    assert_eq!(
        ok.unwrap(),
        MassMessage::Text {
            content: "hi".into()
        }
    );
}
