//! Callback hot path: what the worker does for every push before answering `success`.
//!
//! `cargo bench -p wxmass --bench callback` prints ns/op for:
//! - `event/parse_seed_success`: parse the seed's MASSSENDJOBFINISH (plain mode body);
//! - `event/parse_seed_err30003`: the larger seed event with copyright results;
//! - `callback/verify_decrypt_parse`: a safe-mode push of the seed err(30003) event:
//!   signature check, AES decrypt, AppID check, parse.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use wxmass::callback::{open_callback, CallbackConfig, MessageCrypto};
use wxmass::event::parse_message;

const SEED_SUCCESS: &[u8] = include_bytes!("../tests/golden/events/seed001_sendsuccess.xml");
const SEED_ERR: &[u8] = include_bytes!("../tests/golden/events/seed002_err30003.xml");
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const TOKEN: &str = "pamtest";
const APPID: &str = "wxb11529c136998cb6";

fn benches(c: &mut Criterion) {
    c.bench_function("event/parse_seed_success", |b| {
        b.iter(|| parse_message(black_box(SEED_SUCCESS)))
    });
    c.bench_function("event/parse_seed_err30003", |b| {
        b.iter(|| parse_message(black_box(SEED_ERR)))
    });

    let Ok(crypto) = MessageCrypto::new(TOKEN, KEY, APPID) else {
        return;
    };
    let Ok(config) = CallbackConfig::new(TOKEN, Some(KEY), APPID) else {
        return;
    };
    let xml = String::from_utf8_lossy(SEED_ERR);
    let Ok(push) = crypto.encrypt_push(&xml, [7; 16], "1409304348", "xxxxxx") else {
        return;
    };
    c.bench_function("callback/verify_decrypt_parse", |b| {
        b.iter(|| {
            open_callback(
                black_box(&config),
                black_box(&push.query),
                black_box(push.body.as_bytes()),
                Some(1_409_304_348),
            )
            .map(|opened| opened.parse())
        })
    });
}

criterion_group!(callback, benches);
criterion_main!(callback);
