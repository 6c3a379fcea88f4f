//! The bindings, tested inside wasm under Node (`wasm-bindgen-test-runner`): the JS values they
//! build (typed errors, problem arrays, id strings) are checked with `js-sys`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use wxmass_wasm::callback::*;
use wxmass_wasm::plan::*;
use wxmass_wasm::*;

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn text(v: &JsValue, key: &str) -> String {
    get(v, key)
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

#[wasm_bindgen_test]
fn build_request_gives_method_url_and_wire_body() {
    let body = r#"{"filter":{"isToAll":false,"tagId":"2"},"msgType":"text","text":{"content":"hi"},"clientMsgId":"c-1"}"#;
    let req: JsValue = build_request("sendall", body, None, Some("t+k".into()))
        .unwrap()
        .into();
    assert_eq!(text(&req, "method"), "POST");
    assert_eq!(
        text(&req, "url"),
        "https://api.weixin.qq.com/cgi-bin/message/mass/sendall?access_token=t%2Bk"
    );
    assert_eq!(
        text(&req, "body"),
        r#"{"filter":{"is_to_all":false,"tag_id":2},"text":{"content":"hi"},"msgtype":"text","clientmsgid":"c-1"}"#
    );
    assert_eq!(build_body("sendall", body).unwrap(), text(&req, "body"));
}

#[wasm_bindgen_test]
fn validation_error_is_an_error_with_code_path_rule_and_problems() {
    let err = build_request(
        "send",
        r#"{"toUser":["x","x"],"msgType":"text","text":{"content":""}}"#,
        None,
        None,
    )
    .unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(text(&err, "name"), "WxmassError");
    assert_eq!(text(&err, "code"), "validation");
    assert_eq!(text(&err, "path"), "toUser[0]");
    assert_eq!(text(&err, "rule"), "openid_format");
    let problems: Array = get(&err, "problems").dyn_into().unwrap();
    let rules: Vec<String> = problems.iter().map(|p| text(&p, "rule")).collect();
    assert_eq!(
        rules,
        ["openid_format", "openid_format", "duplicate", "required"]
    );
}

#[wasm_bindgen_test]
fn validate_request_returns_null_or_every_problem() {
    assert!(validate_request("speed/set", r#"{"speed":2}"#)
        .unwrap()
        .is_null());
    let problems: Array = validate_request("speed/set", r#"{"speed":7,"x":1}"#)
        .unwrap()
        .dyn_into()
        .unwrap();
    let found: Vec<(String, String)> = problems
        .iter()
        .map(|p| (text(&p, "path"), text(&p, "rule")))
        .collect();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&("x".into(), "unknown_field".into())));
    let speed = problems
        .iter()
        .find(|p| text(p, "path") == "speed")
        .unwrap();
    assert_eq!(text(&speed, "rule"), "range");
    assert_eq!(text(&speed, "value"), "7");
    assert!(text(&speed, "message").starts_with("speed must be between"));
}

#[wasm_bindgen_test]
fn ids_above_2_pow_53_reach_js_as_strings() {
    let reply = parse_reply_text(
        "sendall",
        r#"{"errcode":0,"errmsg":"ok","msg_id":9007199254740993,"msg_data_id":18446744073709551615}"#,
    )
    .unwrap();
    assert_eq!(
        JSON::stringify(&reply).unwrap().as_string().unwrap(),
        r#"{"msgId":"9007199254740993","msgDataId":"18446744073709551615"}"#
    );
    assert!(get(&reply, "msgId").is_string());
}

#[wasm_bindgen_test]
fn api_errors_carry_class_texts_and_existing_msg_id() {
    let err = parse_reply(
        "send",
        br#"{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":9007199254740993}"#,
    )
    .unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(text(&err, "name"), "ApiError");
    assert_eq!(text(&err, "code"), "wechat_rejected");
    assert_eq!(get(&err, "errcode").as_f64(), Some(45065.0));
    assert_eq!(text(&err, "class"), "duplicate");
    assert_eq!(text(&err, "msgId"), "9007199254740993");
    assert!(text(&err, "zh").contains("clientmsgid"));
    let busy = parse_reply_text("get", r#"{"errcode":-1,"errmsg":"system error"}"#).unwrap_err();
    assert_eq!(text(&busy, "class"), "retry");
    assert_eq!(text(&busy, "code"), "wechat_busy");
    assert!(get(&busy, "msgId").is_null());
}

#[wasm_bindgen_test]
fn malformed_reply_names_its_path() {
    let err = parse_reply_text("get", r#"{"msg_id":"x","msg_status":"SENDING"}"#).unwrap_err();
    assert_eq!(text(&err, "code"), "malformed_reply");
    assert_eq!(text(&err, "path"), "msg_id");
}

#[wasm_bindgen_test]
fn error_info_and_codes() {
    let info = error_info(40164.0);
    assert_eq!(text(&info, "class"), "fatal");
    assert!(text(&info, "zh").contains("白名单"));
    assert!(error_info(7.0).is_null());
    assert!(error_info(0.5).is_null());
    assert!(error_codes().length() > 40);
}

fn png_bytes() -> Vec<u8> {
    vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]
}

#[wasm_bindgen_test]
fn endpoints_and_upload_img() {
    let list = endpoints();
    // The eleven mass-send calls, then issue 27's media, material, tag and follower calls.
    assert_eq!(list.length(), 18);
    assert_eq!(text(&list.get(3), "name"), "sendall");
    assert_eq!(text(&list.get(3), "method"), "POST");
    assert_eq!(text(&list.get(17), "name"), "user/get");
    assert_eq!(text(&list.get(17), "method"), "GET");
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0];
    let upload: JsValue = build_media_upload(
        "thumb",
        "c.jpg".into(),
        jpeg.to_vec(),
        Some("B".into()),
        None,
        None,
    )
    .unwrap()
    .into();
    assert_eq!(
        text(&upload, "url"),
        "https://api.weixin.qq.com/cgi-bin/media/upload?type=thumb"
    );
    assert_eq!(
        text(&upload, "contentType"),
        "multipart/form-data; boundary=B"
    );
    let refused: Array = validate_media_upload("thumb", "c.png".into(), png_bytes(), None)
        .dyn_into()
        .unwrap();
    assert_eq!(text(&refused.get(0), "rule"), "media_format");
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0];
    let req: JsValue = build_upload_img("a.png".into(), png.to_vec(), None, None)
        .unwrap()
        .into();
    assert!(get(&req, "body").is_instance_of::<js_sys::Uint8Array>());
    let problems: Array = validate_upload_img("a.gif".into(), b"GIF89a".to_vec())
        .dyn_into()
        .unwrap();
    assert_eq!(text(&problems.get(0), "rule"), "image_format");
}

/// Writes `bytes` into the module's input buffer as the facade does (a view of the memory).
fn write_input(bytes: &[u8]) -> usize {
    let ptr = text_input::input_buffer(bytes.len());
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().dyn_into().unwrap();
    js_sys::Uint8Array::new_with_byte_offset_and_length(
        &memory.buffer(),
        ptr as u32,
        bytes.len() as u32,
    )
    .copy_from(bytes);
    bytes.len()
}

#[wasm_bindgen_test]
fn input_buffer_calls_read_what_the_facade_wrote() {
    let sendall = text_input::endpoint_number("sendall").unwrap();
    let body = r#"{"filter":{"isToAll":true},"msgType":"text","text":{"content":"嗨"}}"#;
    let len = write_input(body.as_bytes());
    assert_eq!(
        build_body_input(sendall, len).unwrap(),
        build_body("sendall", body).unwrap()
    );
    let len = write_input(br#"{"filter":{"isToAll":true}}"#);
    let problems: Array = validate_request_input(sendall, len)
        .unwrap()
        .dyn_into()
        .unwrap();
    // Missing, so named in the body's naming (it writes `isToAll`).
    assert_eq!(text(&problems.get(0), "path"), "msgType");
    let get = text_input::endpoint_number("get").unwrap();
    let len = write_input(br#"{"msg_id":"201053012","msg_status":"SEND_SUCCESS"}"#);
    assert_eq!(
        text(&parse_reply_input(get, len).unwrap(), "msgId"),
        "201053012"
    );
    // A length beyond the buffer, an endpoint number or name core does not know: errors.
    let err = build_body_input(sendall, 1 << 30).unwrap_err();
    assert_eq!(text(&err, "code"), "input");
    // The buffer is exactly what was last asked for: a long text's room is given back.
    text_input::input_buffer(1 << 20);
    text_input::input_buffer(16);
    let err = build_body_input(sendall, 17).unwrap_err();
    assert_eq!(text(&err, "code"), "input");
    let err = build_body_input(999, 0).unwrap_err();
    assert_eq!(text(&err, "code"), "unknown_endpoint");
    let err = text_input::endpoint_number("nope").unwrap_err();
    assert_eq!(text(&err, "code"), "unknown_endpoint");
}

#[wasm_bindgen_test]
fn unknown_endpoint_and_bad_base() {
    let err = build_request("nope", "{}", None, None).unwrap_err();
    assert_eq!(text(&err, "code"), "unknown_endpoint");
    let err = build_request("speed/get", "{}", Some("api.weixin.qq.com".into()), None).unwrap_err();
    assert_eq!(text(&err, "code"), "api_base");
}

#[wasm_bindgen_test]
fn plan_send_batches_and_core_decisions() {
    let ids: Vec<String> = (0..10_001)
        .map(|i| format!("oR5Gjjl_eiZoUpGozMo7{i:08}"))
        .collect();
    let joined = OpenIdBuffer::from(ids.join("\n").into_bytes());
    let plan = plan_send(
        "job-1",
        r#"{"msgType":"text","text":{"content":"hi"}}"#,
        r#"{"openIds":[]}"#,
        Some(joined),
        Some(10_001),
        "service",
        false,
        None,
    )
    .unwrap_or_else(|_| panic!("plan"));
    assert_eq!(plan.batch_count(), 2);
    let batches = js_sys::Array::from(&plan.batches().unwrap());
    let a = text(&batches.get(0), "clientMsgId");
    let b = text(&batches.get(1), "clientMsgId");
    assert_eq!(
        get(&batches.get(1), "endpoint").as_string().as_deref(),
        Some("send")
    );
    assert_ne!(a, b);
    let req: JsValue = plan.request(1, None, Some("T".into())).unwrap().into();
    assert!(text(&req, "body").contains(&format!(r#""clientmsgid":"{b}""#)));
    let summary = plan.summary(None, 1_700_000_000_000.0).unwrap();
    assert_eq!(get(&summary, "recipients").as_f64(), Some(10_001.0));

    // a lost reply → retry later with the same batch; 45065 with the msg_id → done
    let mut progress = BatchProgress::new();
    progress.begin_attempt(1_000.0).unwrap();
    let retry = progress.settle_lost(1_000.0, 7).unwrap();
    assert_eq!(text(&retry, "action"), "retry_at");
    let at = get(&retry, "at").as_f64().unwrap();
    progress.begin_attempt(at).unwrap();
    let done = progress
        .settle_http(
            200,
            br#"{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":9007199254740993}"#,
            at,
            7,
        )
        .unwrap();
    assert_eq!(text(&done, "action"), "done");
    assert_eq!(text(&done, "msgId"), "9007199254740993");

    let mut pacer = Pacer::new();
    for i in 0..60 {
        pacer.record(f64::from(i));
    }
    assert!(pacer.next_slot(60.0) >= 60_000.0);
}

#[wasm_bindgen_test]
fn progress_and_pacer_snapshots_survive_a_restart() {
    let json = |v: &JsValue| JSON::stringify(v).unwrap().as_string().unwrap();
    // An attempt begun and never settled (the process died mid-request): the snapshot keeps
    // it, and the restored batch waits for WeChat's clientmsgid window before the same send.
    let mut progress = BatchProgress::new();
    progress.begin_attempt(1_000.0).unwrap();
    let snapshot = progress.to_json().unwrap();
    assert!(
        json(&snapshot).contains(r#""awaitingOutcome":true"#),
        "{}",
        json(&snapshot)
    );
    let mut restored = BatchProgress::from_json(&json(&snapshot)).unwrap();
    assert_eq!(json(&restored.to_json().unwrap()), json(&snapshot));
    assert!(
        restored.begin_attempt(2_000.0).is_err(),
        "too early: WeChat would answer 45066"
    );
    assert!(restored.maybe_delivered());
    let at = restored.not_before().unwrap();
    assert!(at >= 61_000.0, "{at}");
    assert_eq!(restored.begin_attempt(at).unwrap(), 2);
    let done = restored
        .settle_http(
            200,
            br#"{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":9007199254740993}"#,
            at,
            0,
        )
        .unwrap();
    assert_eq!(text(&done, "msgId"), "9007199254740993");
    assert!(restored.settled());
    // The msg_id above 2^53 stays exact through the snapshot (a string, never a number).
    let submitted = json(&restored.to_json().unwrap());
    assert!(
        submitted.contains(r#""msgId":"9007199254740993""#),
        "{submitted}"
    );
    let again = BatchProgress::from_json(&submitted).unwrap();
    assert!(again.settled());
    assert_eq!(text(&again.state().unwrap(), "msgId"), "9007199254740993");
    // A snapshot that is not one: a validation error at `progress`.
    let err = BatchProgress::from_json(r#"{"state":{"state":"flying"}}"#)
        .err()
        .unwrap();
    assert_eq!(text(&err, "path"), "progress.state.state");
    assert_eq!(text(&err, "rule"), "one_of");

    let mut pacer = Pacer::new();
    for i in 0..60 {
        pacer.record(f64::from(i));
    }
    let snapshot = pacer.to_json().unwrap();
    assert_eq!(get(&snapshot, "limit").as_f64(), Some(60.0));
    let recent: Vec<f64> = Array::from(&get(&snapshot, "recent"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let kept = Pacer::restore(60, recent);
    assert_eq!(kept.next_slot(60.0), pacer.next_slot(60.0));
    assert!(kept.next_slot(60.0) >= 60_000.0);
}

#[wasm_bindgen_test]
fn problems_carry_the_chinese_text_beside_the_english() {
    let problems = validate_request(
        "send",
        r#"{"touser":["x"],"msgtype":"text","text":{"content":"hi"}}"#,
    )
    .unwrap();
    let first = Array::from(&problems).get(0);
    assert_eq!(text(&first, "rule"), "count");
    assert!(text(&first, "message").starts_with("touser must have"));
    assert!(
        text(&first, "zh").starts_with("touser 须有"),
        "{}",
        text(&first, "zh")
    );
}

#[wasm_bindgen_test]
fn openid_buffer_entries_split_at_every_line_break() {
    let id = "oR5Gjjl_eiZoUpGozMo7dbBJ362A";
    let entries = |text: &str, count: usize| {
        OpenIdBuffer::from(text.as_bytes().to_vec())
            .entries(count)
            .map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    };
    // 28-byte entries (the fast shape) mixed with others, at the start, middle and end
    let list = [
        id,
        "",
        "short",
        id,
        "oR5Gjjl_eiZoUpGozMo7dbBJ362A+",
        "群发",
        id,
        id,
    ];
    let joined = list.join("\n");
    assert_eq!(
        entries(&joined, list.len()),
        Ok(list.map(str::to_owned).to_vec())
    );
    assert_eq!(entries("", 0), Ok(vec![]));
    assert_eq!(entries("", 1), Ok(vec![String::new()]));
    assert_eq!(entries(id, 1), Ok(vec![id.to_owned()]));
    assert_eq!(
        entries(&format!("{id}\n"), 2),
        Ok(vec![id.to_owned(), String::new()])
    );
    // a line break inside what would be a 28-byte entry, at each of its bytes
    for at in 0..28 {
        let mut broken = id.to_owned();
        broken.replace_range(at..=at, "\n");
        let text = format!("{broken}\n{id}");
        let want: Vec<String> = text.split('\n').map(str::to_owned).collect();
        assert_eq!(entries(&text, want.len()), Ok(want), "{at}");
        assert_eq!(
            entries(&text, 2),
            Err("an entry holds a line break".to_owned())
        );
    }
    assert!(entries("\u{FFFD}", 1).is_ok());
    assert!(OpenIdBuffer::from(vec![0xFF]).entries(1).is_err());
}

#[wasm_bindgen_test]
fn plan_errors_are_typed() {
    let err = plan_send(
        "bad id",
        r#"{"msgType":"text","text":{"content":"hi"}}"#,
        r#"{"everyone":true}"#,
        None,
        None,
        "service",
        false,
        None,
    )
    .err()
    .unwrap();
    assert_eq!(text(&err, "code"), "plan");
    assert_eq!(text(&err, "rule"), "job_id");
    assert_eq!(text(&err, "path"), "jobId");
}

#[wasm_bindgen_test]
fn crypto_sample_vector_and_event_ids() {
    let c = MessageCrypto::new(
        "pamtest",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wxb11529c136998cb6",
    )
    .unwrap_or_else(|_| panic!("key"));
    let cipher = c.encrypt("我是中文abcd123", b"aaaabbbbccccdddd").unwrap();
    assert_eq!(
        cipher,
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    );
    assert_eq!(c.decrypt_unsigned(&cipher).unwrap(), "我是中文abcd123");
    let bad = c.decrypt(&"0".repeat(40), "1", "n", &cipher).unwrap_err();
    assert_eq!(text(&bad, "rule"), "signature_mismatch");
    let ev = parse_event_text(
        "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>9007199254740993</MsgID><Status>send success</Status><TotalCount>2</TotalCount><FilterCount>2</FilterCount><SentCount>2</SentCount><ErrorCount>0</ErrorCount></xml>",
    )
    .unwrap();
    assert_eq!(text(&ev, "msgId"), "9007199254740993");
    assert_eq!(text(&ev, "dedupeKey"), "mass:9007199254740993:send success");
    let missing = parse_event_text("<xml><MsgType>event</MsgType></xml>").unwrap_err();
    assert_eq!(text(&missing, "code"), "event");
    assert!(verify_url("t", "signature=x&timestamp=1&nonce=n&echostr=e").is_err());
}

/// The clientmsgid digests run four at a time in wasm SIMD lanes (core's `sha256_lanes`); they
/// must be plain SHA-256, as `sha2` computes it, for every length, prefix and group size.
#[wasm_bindgen_test]
fn simd_sha256_lanes_equal_sha2() {
    use sha2::{Digest, Sha256};
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let check = |pairs: Vec<(Vec<u8>, Vec<u8>)>| {
        let prefixes: Vec<&[u8]> = pairs.iter().map(|(p, _)| p.as_slice()).collect();
        let messages: Vec<&[u8]> = pairs.iter().map(|(_, m)| m.as_slice()).collect();
        let got = wxmass::plan::sha256_lane_digests(&prefixes, &messages);
        let want: Vec<[u8; 32]> = pairs
            .iter()
            .map(|(p, m)| {
                Sha256::new()
                    .chain_update(p)
                    .chain_update(m)
                    .finalize()
                    .into()
            })
            .collect();
        assert_eq!(
            got,
            want,
            "lengths {:?}",
            pairs
                .iter()
                .map(|(p, m)| (p.len(), m.len()))
                .collect::<Vec<_>>()
        );
    };
    for round in 0..300 {
        let count = (round % 9) + 1;
        let pairs = (0..count)
            .map(|_| {
                let (p, m) = (next() % 200, next() % 1000);
                let mut fill = |n: u64| (0..n).map(|_| next() as u8).collect::<Vec<u8>>();
                (fill(p), fill(m))
            })
            .collect();
        check(pairs);
    }
    // Plan-sized: long messages of nearly equal length, so nearly all blocks run in the lanes.
    let long = (0..5u64)
        .map(|i| {
            let header: Vec<u8> = (0..100 + i).map(|b| b as u8).collect();
            let body: Vec<u8> = (0..240_000 + 24 * (i % 2))
                .map(|b| (b * 31 + i) as u8)
                .collect();
            (header, body)
        })
        .collect();
    check(long);
}
