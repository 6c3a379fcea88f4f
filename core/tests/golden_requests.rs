//! Golden tests: every JSON example of the seeds (after the corrections listed in
//! `../shared/spec.md`, noted per case in `golden/requests.json`) is read into the typed request
//! and built back to the same JSON value; every reply example parses.

use serde_json::Value;
use wxmass::endpoint::{parse_any_reply, AnyReply, AnyRequest, EndpointName};

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
        let input = case["input"].clone();
        let expected = case
            .get("expected")
            .cloned()
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
    // The seeds use placeholders such as "OPENID1"; validation names each one with its path.
    for case in cases("requests.json") {
        let name = case["name"].as_str().unwrap();
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        let req = AnyRequest::from_value(endpoint, case["input"].clone()).unwrap();
        match req.validate() {
            Ok(()) => {}
            Err(e) => {
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
}

#[test]
fn every_seed_reply_parses() {
    for case in cases("replies.json") {
        let endpoint = EndpointName::parse(case["endpoint"].as_str().unwrap()).unwrap();
        let body = serde_json::to_vec(&case["body"]).unwrap();
        let reply =
            parse_any_reply(endpoint, &body).unwrap_or_else(|e| panic!("{endpoint:?}: {e}"));
        // The typed reply serializes back to the seed's fields (errcode/errmsg aside).
        let mut expected = case["body"].clone();
        let obj = expected.as_object_mut().unwrap();
        obj.remove("errcode");
        if !matches!(reply, AnyReply::Ack(_)) {
            obj.remove("errmsg");
        }
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            expected,
            "{endpoint:?}"
        );
    }
}
