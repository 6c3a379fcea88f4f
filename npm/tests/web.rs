//! The bindings, tested inside wasm under Node (`wasm-bindgen-test-runner`): the JS values they
//! build (typed errors, problem arrays, id strings) are checked with `js-sys`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
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
    assert_eq!(text(&err, "path"), "touser[0]");
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
    assert_eq!(get(&err, "code").as_f64(), Some(45065.0));
    assert_eq!(text(&err, "class"), "duplicate");
    assert_eq!(text(&err, "msgId"), "9007199254740993");
    assert!(text(&err, "zh").contains("clientmsgid"));
    let busy = parse_reply_text("get", r#"{"errcode":-1,"errmsg":"system error"}"#).unwrap_err();
    assert_eq!(text(&busy, "class"), "retry");
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

#[wasm_bindgen_test]
fn endpoints_and_upload_img() {
    let list = endpoints();
    assert_eq!(list.length(), 11);
    assert_eq!(text(&list.get(3), "name"), "sendall");
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0];
    let req: JsValue = build_upload_img("a.png".into(), png.to_vec(), None, None)
        .unwrap()
        .into();
    assert!(get(&req, "body").is_instance_of::<js_sys::Uint8Array>());
    let problems: Array = validate_upload_img("a.gif".into(), b"GIF89a".to_vec())
        .dyn_into()
        .unwrap();
    assert_eq!(text(&problems.get(0), "rule"), "image_format");
    assert!(is_mass_endpoint("send").unwrap());
    assert!(!is_mass_endpoint("stable_token").unwrap());
    assert!(is_mass_endpoint("nope").is_err());
}

#[wasm_bindgen_test]
fn unknown_endpoint_and_bad_base() {
    let err = build_request("nope", "{}", None, None).unwrap_err();
    assert_eq!(text(&err, "code"), "unknown_endpoint");
    let err = build_request("speed/get", "{}", Some("api.weixin.qq.com".into()), None).unwrap_err();
    assert_eq!(text(&err, "code"), "api_base");
}
