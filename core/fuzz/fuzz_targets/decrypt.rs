//! Arbitrary `<Encrypt>` text to the decryptor (signature check skipped so the fuzzer reaches
//! base64, AES, unpadding, the length field and the AppID check). Half the inputs are valid
//! base64 of the fuzzed bytes, so the stages after base64 are reached often.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use wxmass::callback::MessageCrypto;

fuzz_target!(|data: &[u8]| {
    let Ok(crypto) = MessageCrypto::new(
        "pamtest",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wxb11529c136998cb6",
    ) else {
        return;
    };
    match data.split_first() {
        Some((&flag, rest)) if flag & 1 == 1 => {
            let text = base64::engine::general_purpose::STANDARD.encode(rest);
            let _ = crypto.decrypt_unsigned(&text);
        }
        _ => {
            let text = String::from_utf8_lossy(data);
            let _ = crypto.decrypt_unsigned(&text);
            let _ = crypto.decrypt("0", "1409304348", "xxxxxx", &text);
        }
    }
});
