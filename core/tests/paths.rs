//! One rule for `Problem.path`: the caller's own naming, so a form can show each problem next to
//! the field the person filled in.
//!
//! - a key present in the input is named exactly as written (`sendIgnoreReprint`, `touser`);
//! - a key absent from the input is named in the body's naming: its camelCase alias when any key
//!   of the body is a camelCase alias, its wire name otherwise;
//! - indexes stay `[n]`, the whole body is `""`;
//! - a typed request built in Rust (no JSON) names fields by their wire names.
//!
//! Each case is read both as a `Value` and as text: the two entry points must agree.

use serde_json::{json, Value};
use wxmass::endpoint::*;
use wxmass::plan::SentRecord;
use wxmass::{Article, Endpoint, MassMessage, ValidationError};

const A: &str = "oR5Gjjl_eiZoUpGozMo7dbBJ362A";
const B: &str = "oR5Gjjo5rXlMUocSEXKT7Q5RQ63Q";

fn listed(e: ValidationError) -> Vec<(String, String)> {
    e.problems
        .into_iter()
        .map(|p| (p.path, p.rule.code().to_owned()))
        .collect()
}

/// (path, rule) of every problem of `body` read as `endpoint`, the same from text as from a value.
fn paths(endpoint: &str, body: Value) -> Vec<(String, String)> {
    let endpoint = EndpointName::parse(endpoint).unwrap();
    let text = body.to_string();
    let from_value = AnyRequest::from_value(endpoint, body).map(|_| ()).err();
    let from_text = AnyRequest::from_json(endpoint, text.as_bytes())
        .map(|_| ())
        .err();
    assert_eq!(from_value, from_text, "from_value and from_json disagree");
    from_value.map(listed).unwrap_or_default()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(p, r)| ((*p).to_owned(), (*r).to_owned()))
        .collect()
}

#[test]
fn article_fields_are_named_as_the_caller_wrote_them() {
    let camel = json!({"articles": [
        {"thumbMediaId": " ", "title": "t", "content": "c", "showCoverPic": 2},
    ]});
    assert_eq!(
        paths("uploadnews", camel),
        pairs(&[
            ("articles[0].showCoverPic", "flag"),
            ("articles[0].thumbMediaId", "required"),
        ])
    );
    let wire = json!({"articles": [
        {"thumb_media_id": " ", "title": "t", "content": "c", "show_cover_pic": 2},
    ]});
    assert_eq!(
        paths("uploadnews", wire),
        pairs(&[
            ("articles[0].show_cover_pic", "flag"),
            ("articles[0].thumb_media_id", "required"),
        ])
    );
    // Built in Rust, a request's naming is its wire names.
    let typed = UploadNewsRequest {
        articles: vec![Article::new(" ", "t", "c")],
    };
    assert_eq!(
        listed(typed.validate().unwrap_err()),
        pairs(&[("articles[0].thumb_media_id", "required")])
    );
}

#[test]
fn send_problems_found_reading_and_checking_share_the_callers_naming() {
    // A bad flag (found while reading), a bad OpenID (found by the rules), and an mpnews object
    // without its media id (an empty object: the body's naming decides).
    let camel = json!({
        "toUser": [A, "bad"], "msgType": "mpnews", "mpnews": {}, "sendIgnoreReprint": 2,
    });
    let expected = pairs(&[
        ("mpnews.mediaId", "required"),
        ("sendIgnoreReprint", "flag"),
        ("toUser[1]", "openid_format"),
    ]);
    // The typed request's own entry points follow the same rule.
    let typed = SendToUsersRequest::from_json(camel.to_string().as_bytes()).unwrap_err();
    assert_eq!(listed(typed), expected);
    let typed = SendToUsersRequest::from_value(camel.clone()).unwrap_err();
    assert_eq!(listed(typed), expected);
    assert_eq!(paths("send", camel), expected);
    let wire = json!({
        "touser": [A, "bad"], "msgtype": "mpnews", "mpnews": {}, "send_ignore_reprint": 2,
    });
    assert_eq!(
        paths("send", wire),
        pairs(&[
            ("mpnews.media_id", "required"),
            ("send_ignore_reprint", "flag"),
            ("touser[1]", "openid_format"),
        ])
    );
    let mut typed = SendToUsersRequest::new(vec![A.into(), "bad".into()], MassMessage::mpnews(""));
    typed.clientmsgid = Some(String::new());
    assert_eq!(
        listed(typed.validate().unwrap_err()),
        pairs(&[
            ("touser[1]", "openid_format"),
            ("mpnews.media_id", "required"),
            ("clientmsgid", "clientmsgid"),
        ])
    );
}

#[test]
fn a_missing_required_field_is_named_in_the_bodys_naming() {
    let text = json!({"text": {"content": "hi"}});
    let camel = json!({"filter": {"isToAll": true}, "text": {"content": "hi"}});
    assert_eq!(paths("sendall", camel), pairs(&[("msgType", "required")]));
    let wire = json!({"filter": {"is_to_all": true}, "text": {"content": "hi"}});
    assert_eq!(paths("sendall", wire), pairs(&[("msgtype", "required")]));
    let camel = json!({"msgType": "text", "text": {"content": "hi"}});
    assert_eq!(paths("preview", camel), pairs(&[("toUser", "required")]));
    let wire = json!({"msgtype": "text", "text": {"content": "hi"}});
    assert_eq!(paths("preview", wire), pairs(&[("touser", "required")]));
    // Nothing says camelCase (`text` and `content` are the same in both): wire names.
    let neither = paths("preview", text);
    assert!(
        neither.contains(&("msgtype".into(), "required".into())),
        "{neither:?}"
    );
    assert!(
        neither.contains(&("touser".into(), "required".into())),
        "{neither:?}"
    );
    // The whole body is `""`, whatever its naming.
    assert_eq!(paths("sendall", json!([1])), pairs(&[("", "type")]));
    let e = AnyRequest::from_json(EndpointName::SendAll, b"{").unwrap_err();
    assert_eq!(listed(e), pairs(&[("", "json")]));
}

#[test]
fn a_present_key_keeps_its_spelling_in_a_camel_case_body() {
    // `touser` as written, though the body's naming (msgType) is camelCase: the missing media id
    // takes the body's naming.
    let mixed = json!({"touser": [A, "bad"], "msgType": "mpnews", "mpnews": {}});
    assert_eq!(
        paths("send", mixed),
        pairs(&[
            ("mpnews.mediaId", "required"),
            ("touser[1]", "openid_format"),
        ])
    );
    // A key given as null is present: it is named as written, and reported as missing (and
    // then as an empty list).
    let null = json!({"toUser": null, "msgtype": "text", "text": {"content": "x"}});
    assert_eq!(
        paths("send", null),
        pairs(&[("toUser", "required"), ("toUser", "count")])
    );
}

#[test]
fn the_legacy_video_key_is_named_as_written() {
    let wire = json!({"touser": [A, B], "msgtype": "mpvideo", "video": {"media_id": " "}});
    assert_eq!(
        paths("send", wire),
        pairs(&[("video.media_id", "required")])
    );
    let camel = json!({"toUser": [A, B], "msgType": "mpvideo", "video": {"mediaId": " "}});
    assert_eq!(
        paths("send", camel),
        pairs(&[("video.mediaId", "required")])
    );
}

#[test]
fn a_planned_message_and_a_ledger_follow_the_same_rule_under_their_prefix() {
    let message = json!({"msgType": "image", "image": {}, "clientMsgId": "x"});
    let from_value = MassMessage::from_value(message.clone(), "message").unwrap_err();
    let from_text = MassMessage::from_json(message.to_string().as_bytes(), "message").unwrap_err();
    assert_eq!(from_value, from_text);
    assert_eq!(
        listed(from_value),
        pairs(&[
            ("message.clientMsgId", "not_allowed"),
            ("message.image.mediaId", "required"),
        ])
    );
    let camel = br#"[{"at":1718000000000,"kind":"sendall","toAll":true,"succeeded":true},
                     {"at":1718000000001,"kind":"sendall","succeeded":true}]"#;
    let e = SentRecord::list_from_json(camel, "ledger").unwrap_err();
    assert_eq!(listed(e), pairs(&[("ledger[1].toAll", "required")]));
    let wire = br#"[{"at":1718000000002,"kind":"sendall","succeeded":true}]"#;
    let e = SentRecord::list_from_json(wire, "ledger").unwrap_err();
    assert_eq!(listed(e), pairs(&[("ledger[0].to_all", "required")]));
}

#[test]
fn a_ledger_time_in_seconds_is_refused_at_its_path() {
    let seconds = br#"[{"at":1718000000000,"kind":"send","toAll":false,"succeeded":true},
                       {"at":1718000000,"kind":"send","toAll":false,"succeeded":true}]"#;
    let e = SentRecord::list_from_json(seconds, "ledger").unwrap_err();
    assert_eq!(listed(e.clone()), pairs(&[("ledger[1].at", "time")]));
    assert!(
        e.problems[0]
            .to_string()
            .contains("looks like Unix seconds"),
        "{e}"
    );
}
