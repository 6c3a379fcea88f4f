//! Arbitrary query and body to the callback entry point, then to the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass::callback::{open_callback, CallbackConfig, CallbackQuery};

fuzz_target!(|data: &[u8]| {
    let Ok(config) = CallbackConfig::new(
        "pamtest",
        Some("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
        "wxb11529c136998cb6",
    ) else {
        return;
    };
    // The first line is the query string, the rest the body.
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (query, body) = data.split_at(split);
    let query = CallbackQuery::from_query_string(&String::from_utf8_lossy(query));
    let body = body.get(1..).unwrap_or_default();
    if let Ok(opened) = open_callback(&config, &query, body, Some(1_409_304_348)) {
        let _ = opened.parse();
    }
});
