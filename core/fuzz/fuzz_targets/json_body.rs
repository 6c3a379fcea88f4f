//! Arbitrary bytes as a JSON request of every endpoint and as every endpoint's reply: reading
//! (core's JSON parser, the field walker, the reply head and the malformed-reply path finder)
//! must return Ok or Err, never panic or hang; what reads and validates must build; and core's
//! parser must accept exactly what serde_json accepts (which reads the worker's bodies), with the
//! same reading of what it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass::endpoint::{parse_any_reply, AnyRequest, EndpointName};
use wxmass::{ApiBase, ValidationError};

/// Problems as a sorted list: serde_json's map sorts keys, core keeps document order.
fn sorted(r: Result<AnyRequest, ValidationError>) -> Result<AnyRequest, Vec<String>> {
    r.map_err(|e| {
        let mut list: Vec<String> = e.problems.iter().map(|p| format!("{p:?}")).collect();
        list.sort();
        list
    })
}

fuzz_target!(|data: &[u8]| {
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    for endpoint in EndpointName::ALL {
        let ours = AnyRequest::from_json(endpoint, data);
        if let Ok(req) = &ours {
            if req.validate().is_ok() {
                assert!(req.build(&ApiBase::default()).is_ok());
            }
        }
        match &theirs {
            Ok(value) => assert_eq!(
                sorted(ours),
                sorted(AnyRequest::from_value(endpoint, value.clone()))
            ),
            Err(_) => {
                let problems = ours.map(|_| ()).unwrap_err().problems;
                assert_eq!(problems.len(), 1);
                assert_eq!(problems[0].rule.code(), "json");
            }
        }
        let _ = parse_any_reply(endpoint, data);
    }
    let _ = wxmass::MassMessage::from_json(data, "message");
    let _ = wxmass::Audience::from_json(data, "audience");
    let _ = wxmass::plan::SentRecord::list_from_json(data, "ledger");
});
