//! Arbitrary bytes as a JSON request of every endpoint and as every endpoint's reply: reading
//! (the borrowed JSON tree, the field walker, the reply head and the malformed-reply path
//! finder) must return Ok or Err, never panic or hang; what reads and validates must build.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass::endpoint::{parse_any_reply, AnyRequest, EndpointName};
use wxmass::ApiBase;

fuzz_target!(|data: &[u8]| {
    for endpoint in EndpointName::ALL {
        if let Ok(req) = AnyRequest::from_json(endpoint, data) {
            if req.validate().is_ok() {
                assert!(req.build(&ApiBase::default()).is_ok());
            }
        }
        let _ = parse_any_reply(endpoint, data);
    }
    let _ = wxmass::MassMessage::from_json(data, "message");
    let _ = wxmass::Audience::from_json(data, "audience");
    let _ = wxmass::plan::SentRecord::list_from_json(data, "ledger");
});
