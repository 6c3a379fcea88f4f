//! Arbitrary bytes to the event parser: it must return Ok or Err, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = wxmass::event::parse_message(data) {
        // The dedupe key and the JSON form must be total on every parsed message.
        let _ = message.dedupe_key();
        let _ = serde_json::to_string(&message);
    }
});
