//! Golden tests: every JSON example of the seeds (after the corrections listed in
//! `../shared/spec.md`, noted per case in `golden/requests.json`) is read into the typed request
//! and built back to the same JSON value; every reply example parses.
//!
//! Reading checks every rule, and the seeds write placeholder OpenIDs (`OPENID1`): the round
//! trip puts well-formed OpenIDs in their place, and a separate test shows that the placeholders
//! are the only thing reading refuses.

use serde_json::Value;
use wxmass::endpoint::{parse_any_reply, AnyReply, AnyRequest, EndpointName};

/// `value` with each placeholder OpenID (`OPENID`, `OPENID1`, …) under `touser` replaced by a
/// well-formed one derived from it, so the same placeholder gets the same OpenID.
fn with_real_openids(mut value: Value) -> Value {
    fn real(v: &mut Value) {
        if let Some(tail) = v.as_str().and_then(|s| s.strip_prefix("OPENID")) {
            let n: u32 = tail.parse().unwrap_or(0);
            *v = Value::String(format!("oR5Gjjl_eiZoUpGozMo7dbBJ{n:04}"));
        }
    }
    if let Some(touser) = value.get_mut("touser") {
        match touser {
            Value::Array(list) => list.iter_mut().for_each(real),
            other => real(other),
        }
    }
    value
}

fn cases(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

#[test]
fn every_seed_request_round_trips_to_the_same_json() {
    let cases = cases("requests.json");
    assert!(
        cases.len() >= 30,
        "expected every seed example, got {}",
        cases.len()
    );
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        let input = with_real_openids(case["input"].clone());
        let expected = case
            .get("expected")
            .cloned()
            .map(with_real_openids)
            .unwrap_or_else(|| input.clone());
        let req = AnyRequest::from_value(endpoint, input.clone())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(req.endpoint(), endpoint);
        let built: Value = serde_json::from_slice(&req.to_body()).unwrap();
        assert_eq!(built, expected, "{name}");
        // And from bytes, through the same rules.
        let again = AnyRequest::from_json(endpoint, &serde_json::to_vec(&input).unwrap()).unwrap();
        assert_eq!(again, req, "{name}");
    }
}

#[test]
fn seed_requests_with_real_values_validate_and_placeholders_are_named() {
    // The seeds use placeholders such as "OPENID1"; reading names each one with its path, and
    // nothing else.
    let mut refused = 0;
    for case in cases("requests.json") {
        let name = case["name"].as_str().unwrap();
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        match AnyRequest::from_value(endpoint, case["input"].clone()) {
            Ok(req) => assert_eq!(req.validate(), Ok(()), "{name}"),
            Err(e) => {
                refused += 1;
                for p in &e.problems {
                    assert!(
                        p.rule.code() == "openid_format" && (p.path.starts_with("touser")),
                        "{name}: unexpected problem {p}"
                    );
                    assert!(
                        p.value.as_deref().unwrap().starts_with("OPENID"),
                        "{name}: {p}"
                    );
                }
            }
        }
    }
    assert!(refused > 0, "the seeds' placeholders are refused");
}

fn camel_case(key: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in key.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[test]
fn every_seed_reply_parses() {
    for case in cases("replies.json") {
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        let body = serde_json::to_vec(&case["body"]).unwrap();
        let reply =
            parse_any_reply(endpoint, &body).unwrap_or_else(|e| panic!("{endpoint:?}: {e}"));
        // The typed reply serializes to the seed's fields (errcode/errmsg aside) in the JS
        // model: camelCase keys, 64-bit ids as decimal strings.
        let mut expected = serde_json::Map::new();
        for (key, value) in case["body"].as_object().unwrap() {
            let keep_errmsg = matches!(reply, AnyReply::Ack(_));
            if key == "errcode" || (key == "errmsg" && !keep_errmsg) {
                continue;
            }
            let value = match (key.as_str(), value) {
                ("msg_id" | "msg_data_id", serde_json::Value::Number(n)) => n.to_string().into(),
                _ => value.clone(),
            };
            expected.insert(camel_case(key), value);
        }
        let expected = serde_json::Value::Object(expected);
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            expected,
            "{endpoint:?}"
        );
    }
}
