//! Event parsing: golden fixtures (the seed samples verbatim and the variations other SDKs
//! show), every hostile-input rejection, and never-panic properties.

use proptest::prelude::*;
use wxmass::event::{
    parse_mass_send_job_finish, parse_message, ArticleUrl, AuditReason, CallbackMessage,
    CopyrightCheck, CopyrightCheckItem, EventError, MassSendJobFinish, MassSendStatus,
    ReportedStatus,
};
use wxmass::MsgId;

fn golden(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn mass(name: &str) -> MassSendJobFinish {
    match parse_message(&golden(name)).unwrap() {
        CallbackMessage::MassSendJobFinish(e) => e,
        other => panic!("{name}: not a MASSSENDJOBFINISH: {other:?}"),
    }
}

#[test]
fn golden_seed002_err30003() {
    let e = mass("seed002_err30003.xml");
    let item = |idx, url: &str| CopyrightCheckItem {
        article_idx: idx,
        user_declare_state: Some(0),
        audit_state: Some(2),
        original_article_url: Some(url.into()),
        original_article_type: Some(1),
        can_reprint: Some(1),
        need_replace_content: Some(1),
        need_show_reprint_source: Some(1),
    };
    assert_eq!(
        e,
        MassSendJobFinish {
            to_user: "gh_4d00ed8d6399".into(),
            from_user: "oV5CrjpxgaGXNHIQigzNlgLTnwic".into(),
            create_time: 1_481_013_459,
            msg_id: MsgId(1_000_001_625),
            status: ReportedStatus {
                meaning: MassSendStatus::Rejected(AuditReason::ReprintNotAllowed),
                wire: "err(30003)".into(),
            },
            total_count: 0,
            filter_count: 0,
            sent_count: 0,
            error_count: 0,
            copyright_check: Some(CopyrightCheck {
                count: 2,
                check_state: Some(2),
                items: vec![item(1, "Url_1"), item(2, "Url_2")],
            }),
            article_urls: vec![ArticleUrl {
                idx: 1,
                url: "Url".into()
            }],
        }
    );
    assert_eq!(e.dedupe_key(), "mass:1000001625:err(30003)");
    assert_eq!(e.status.meaning.as_wire(), "err(30003)");
    let AuditReason::ReprintNotAllowed = AuditReason::from_code(30003) else {
        panic!()
    };
}

#[test]
fn golden_seed001_sendsuccess() {
    let e = mass("seed001_sendsuccess.xml");
    assert_eq!(e.to_user, "gh_3e8adccde292");
    assert_eq!(e.from_user, "oR5Gjjl_eiZoUpGozMo7dbBJ362A");
    assert_eq!(e.create_time, 1_394_524_295);
    assert_eq!(e.msg_id, MsgId(1988));
    assert_eq!(e.status.meaning, MassSendStatus::Success);
    // The oldest seed's spelling is kept as sent; `kind` says what it means.
    assert_eq!(e.status.wire, "sendsuccess");
    let status = serde_json::to_value(&e.status).unwrap();
    assert_eq!(
        status,
        serde_json::json!({"kind": "success", "wire": "sendsuccess"})
    );
    assert_eq!(
        (e.total_count, e.filter_count, e.sent_count, e.error_count),
        (100, 80, 75, 5)
    );
    assert_eq!(e.copyright_check, None);
    assert!(e.article_urls.is_empty());
    // The old spelling and the current one give the same key, so retries across both collapse.
    assert_eq!(e.dedupe_key(), "mass:1988:send success");
}

#[test]
fn golden_send_success_with_results_and_big_msgid() {
    let e = mass("send_success_full.xml");
    assert_eq!(e.status.meaning, MassSendStatus::Success);
    assert_eq!(e.msg_id, MsgId(9_007_199_254_740_993));
    assert_eq!(e.copyright_check.as_ref().map(|c| c.items.len()), Some(1));
    assert_eq!(
        e.article_urls,
        vec![
            ArticleUrl {
                idx: 1,
                url: "http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1".into()
            },
            ArticleUrl {
                idx: 2,
                url: "http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=2".into()
            },
        ]
    );
    // JSON is the JS model: camelCase keys, the 64-bit id an exact decimal string, and the
    // status's `wire` exactly as sent beside its `kind`.
    let json = serde_json::to_value(CallbackMessage::MassSendJobFinish(e)).unwrap();
    assert_eq!(json["kind"], "mass_send_job_finish");
    assert_eq!(json["msgId"], "9007199254740993");
    assert_eq!(json["totalCount"], 120);
    assert_eq!(json["status"]["kind"], "success");
    assert_eq!(json["status"]["wire"], "send success");
    assert!(json.get("msg_id").is_none());
}

#[test]
fn golden_plain_text_without_cdata() {
    let e = mass("plain_text_no_cdata.xml");
    assert_eq!(e.status.meaning, MassSendStatus::Fail);
    assert_eq!(e.to_user, "gh_3e8adccde292");
    assert_eq!(e.error_count, 80);
}

#[test]
fn golden_reordered_elements() {
    let e = mass("reordered.xml");
    assert_eq!(e.msg_id, MsgId(u64::MAX));
    assert_eq!(
        e.status.meaning,
        MassSendStatus::Rejected(AuditReason::Advertising)
    );
    assert_eq!(e.from_user, "oR5Gjjl_eiZoUpGozMo7dbBJ362A");
    assert_eq!(e.sent_count, 75);
}

#[test]
fn golden_extra_elements_and_unknown_code() {
    let e = mass("extra_elements.xml");
    assert_eq!(
        e.status.meaning,
        MassSendStatus::Rejected(AuditReason::Unknown(99999))
    );
    assert_eq!(e.msg_id, MsgId(1988));
    let json = serde_json::to_value(&e.status).unwrap();
    assert_eq!(json["code"], 99999);
    assert_eq!(json["reason"], "unknown");
}

#[test]
fn golden_generic_event_and_message() {
    let CallbackMessage::Other(m) = parse_message(&golden("generic_subscribe.xml")).unwrap() else {
        panic!("generic")
    };
    assert_eq!(m.msg_type, "event");
    assert_eq!(m.event.as_deref(), Some("subscribe"));
    assert_eq!(m.field("EventKey"), Some("qrscene_123"));
    assert_eq!(
        m.fields,
        vec![
            ("EventKey".to_string(), "qrscene_123".to_string()),
            ("Ticket".to_string(), "TICKET".to_string())
        ]
    );
    assert_eq!(
        m.dedupe_key(),
        "event:oR5Gjjl_eiZoUpGozMo7dbBJ362A:1394524300:subscribe"
    );

    let CallbackMessage::Other(t) = parse_message(&golden("generic_text.xml")).unwrap() else {
        panic!("generic")
    };
    assert_eq!(t.msg_type, "text");
    assert_eq!(t.event, None);
    // CDATA content is kept exactly, spaces and markup characters included.
    assert_eq!(t.field("Content"), Some(" hello & <world> "));
    assert_eq!(t.dedupe_key(), "msg:6054768590064713728");
}

#[test]
fn nested_generic_fields_are_flattened_with_paths() {
    let xml = b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>scancode_push</Event><ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo></xml>";
    let CallbackMessage::Other(m) = parse_message(xml).unwrap() else {
        panic!()
    };
    assert_eq!(m.field("ScanCodeInfo.ScanType"), Some("qrcode"));
}

#[test]
fn accepts_all_status_spellings() {
    for (raw, want) in [
        ("send success", MassSendStatus::Success),
        ("sendsuccess", MassSendStatus::Success),
        ("SEND SUCCESS", MassSendStatus::Success),
        ("send fail", MassSendStatus::Fail),
        ("sendfail", MassSendStatus::Fail),
        (
            "err(20013)",
            MassSendStatus::Rejected(AuditReason::Copyright),
        ),
        (
            "err(22000)",
            MassSendStatus::Rejected(AuditReason::MutualPromotion),
        ),
        (
            "something new",
            MassSendStatus::Other("something new".into()),
        ),
    ] {
        let xml = format!("<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>1</MsgID><Status>{raw}</Status><TotalCount>1</TotalCount><FilterCount>1</FilterCount><SentCount>1</SentCount><ErrorCount>0</ErrorCount></xml>");
        assert_eq!(
            parse_mass_send_job_finish(xml.as_bytes()).unwrap().status,
            ReportedStatus {
                meaning: want,
                wire: raw.to_owned()
            },
            "{raw}"
        );
    }
}

// ---- Rejections ---------------------------------------------------------------------------------

fn seed001_with(from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(golden("seed001_sendsuccess.xml"))
        .unwrap()
        .replacen(from, to, 1)
        .into_bytes()
}

#[test]
fn rejects_doctype() {
    let xml = [
        b"<!DOCTYPE xml>".as_slice(),
        &golden("seed001_sendsuccess.xml"),
    ]
    .concat();
    assert_eq!(parse_message(&xml), Err(EventError::DocType));
}

#[test]
fn rejects_entity_declaration() {
    // XXE and billion laughs both need an entity declaration, which needs a DOCTYPE.
    let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><ToUserName>&xxe;</ToUserName></xml>";
    assert_eq!(parse_message(xxe), Err(EventError::DocType));
    let lol = b"<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><xml>&lol2;</xml>";
    assert_eq!(parse_message(lol), Err(EventError::DocType));
    // A declaration outside a DOCTYPE is not XML at all.
    assert!(parse_message(b"<xml><!ENTITY a \"b\"></xml>").is_err());
}

#[test]
fn rejects_unknown_entity_reference() {
    let xml = seed001_with("gh_3e8adccde292]]>", "gh]]>&xxe;");
    assert_eq!(
        parse_message(&xml),
        Err(EventError::UnknownEntity { name: "xxe".into() })
    );
    // The five predefined entities and character references are fine.
    let ok = seed001_with("<![CDATA[gh_3e8adccde292]]>", "gh&amp;&lt;&#x41;&#66;");
    assert_eq!(parse_mass_send_job_finish(&ok).unwrap().to_user, "gh&<AB");
}

#[test]
fn rejects_body_over_64k() {
    let mut xml = golden("seed001_sendsuccess.xml");
    xml.extend(std::iter::repeat(b' ').take(wxmass::limits::EVENT_XML_MAX_BYTES));
    assert!(matches!(
        parse_message(&xml),
        Err(EventError::TooLarge { .. })
    ));
}

#[test]
fn rejects_nesting_deeper_than_8() {
    let xml = format!("<xml>{}{}</xml>", "<a>".repeat(8), "</a>".repeat(8));
    assert_eq!(
        parse_message(xml.as_bytes()),
        Err(EventError::TooDeep { limit: 8 })
    );
    let xml = format!("<xml>{}</xml>", "<a>".repeat(10_000));
    assert_eq!(
        parse_message(xml.as_bytes()),
        Err(EventError::TooDeep { limit: 8 })
    );
}

#[test]
fn rejects_too_many_elements() {
    let xml = format!("<xml>{}</xml>", "<a/>".repeat(5000));
    assert!(matches!(
        parse_message(xml.as_bytes()),
        Err(EventError::TooManyElements { .. })
    ));
}

#[test]
fn rejects_msgid_over_u64() {
    let xml = seed001_with("<MsgID>1988</MsgID>", "<MsgID>18446744073709551616</MsgID>");
    assert_eq!(
        parse_message(&xml),
        Err(EventError::Number {
            element: "MsgID",
            expected: "an unsigned 64-bit integer",
            value: "18446744073709551616".into()
        })
    );
}

#[test]
fn rejects_negative_or_non_numeric_counts() {
    for (from, to, element) in [
        (
            "<TotalCount>100</TotalCount>",
            "<TotalCount>-1</TotalCount>",
            "TotalCount",
        ),
        (
            "<SentCount>75</SentCount>",
            "<SentCount>7.5</SentCount>",
            "SentCount",
        ),
        (
            "<ErrorCount>5</ErrorCount>",
            "<ErrorCount>+5</ErrorCount>",
            "ErrorCount",
        ),
        (
            "<FilterCount>80</FilterCount>",
            "<FilterCount>99999999999999999999</FilterCount>",
            "FilterCount",
        ),
        ("<MsgID>1988</MsgID>", "<MsgID></MsgID>", "MsgID"),
        (
            "<CreateTime>1394524295</CreateTime>",
            "<CreateTime>99999999999999999999</CreateTime>",
            "CreateTime",
        ),
    ] {
        match parse_message(&seed001_with(from, to)) {
            Err(EventError::Number { element: e, .. }) => assert_eq!(e, element),
            other => panic!("{to}: {other:?}"),
        }
    }
}

#[test]
fn rejects_copyright_numbers_that_do_not_fit() {
    let xml = String::from_utf8(golden("seed002_err30003.xml"))
        .unwrap()
        .replacen(
            "<ArticleIdx>1</ArticleIdx>",
            "<ArticleIdx>4294967296</ArticleIdx>",
            1,
        );
    assert!(matches!(
        parse_message(xml.as_bytes()),
        Err(EventError::Number {
            element: "CopyrightCheckResult.item.ArticleIdx",
            ..
        })
    ));
}

#[test]
fn rejects_missing_required_element() {
    let xml = seed001_with("<MsgID>1988</MsgID>", "");
    assert_eq!(
        parse_message(&xml),
        Err(EventError::Missing { element: "MsgID" })
    );
    assert_eq!(
        parse_message(b"<xml><ToUserName>a</ToUserName></xml>"),
        Err(EventError::Missing { element: "MsgType" })
    );
}

#[test]
fn rejects_duplicate_typed_element() {
    let xml = seed001_with(
        "<MsgID>1988</MsgID>",
        "<MsgID>1988</MsgID><MsgID>1989</MsgID>",
    );
    assert_eq!(
        parse_message(&xml),
        Err(EventError::Duplicate { element: "MsgID" })
    );
}

#[test]
fn rejects_malformed_xml() {
    for bad in [
        &b""[..],
        b"not xml",
        b"<xml><a></b></xml>",
        b"<xml><a>",
        b"<xml></xml><xml></xml>",
        b"<xml></xml>trailing",
        b"<xml>a & b</xml>",
        b"<xml><!-- -- --></xml>",
    ] {
        assert!(
            parse_message(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(matches!(
        parse_message(b"<root><MsgType>x</MsgType></root>"),
        Err(EventError::Root { .. })
    ));
    assert_eq!(parse_message(b"<xml>\xff</xml>"), Err(EventError::NotUtf8));
}

#[test]
fn error_codes_are_stable_and_messages_english() {
    let e = EventError::Number {
        element: "MsgID",
        expected: "an unsigned 64-bit integer",
        value: "x".into(),
    };
    assert_eq!(e.code(), "invalid_number");
    assert!(e.to_string().contains("MsgID"));
}

// ---- Properties ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(m) = parse_message(&data) {
            let _ = m.dedupe_key();
        }
    }

    #[test]
    fn parser_never_panics_on_xmlish_text(data in "[<>/!?&;#x\\[\\]CDATAxml a=\"'\\-0-9]{0,400}") {
        let _ = parse_message(data.as_bytes());
        let wrapped = format!("<xml>{data}</xml>");
        let _ = parse_message(wrapped.as_bytes());
    }

    #[test]
    fn any_u64_msgid_is_kept_exactly(id in any::<u64>(), total in any::<u64>()) {
        let xml = seed001_with("<MsgID>1988</MsgID>", &format!("<MsgID>{id}</MsgID>"));
        let xml = String::from_utf8(xml).unwrap().replacen(
            "<TotalCount>100</TotalCount>", &format!("<TotalCount>{total}</TotalCount>"), 1);
        let e = parse_mass_send_job_finish(xml.as_bytes()).unwrap();
        prop_assert_eq!(e.msg_id, MsgId(id));
        prop_assert_eq!(e.total_count, total);
    }

    #[test]
    fn mutated_seed_never_panics(pos in 0usize..2000, byte in any::<u8>()) {
        let mut xml = golden("seed002_err30003.xml");
        let n = xml.len();
        xml[pos % n] = byte;
        let _ = parse_message(&xml);
    }
}
