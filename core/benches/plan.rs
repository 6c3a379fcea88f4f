//! Planning speed: one million OpenIDs (1% duplicates) into batches with their clientmsgids;
//! and sealing the same million, uploaded in 8 parts, into the chunks of a sealed audience.
//!
//! Target: under 100 ms native. Run: `cargo bench -p wxmass --bench plan`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use wxmass::plan::{
    read_audience_part, AccountKind, AudienceSealer, PartFormat, PlanOptions, SendPlan,
};
use wxmass::{Audience, MassMessage};

/// A deterministic, valid 28-character OpenID for `n`.
fn oid(n: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Spread consecutive numbers over the whole id, as real OpenIDs look random.
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n;
    let mut s = String::with_capacity(28);
    s.push_str("oR5G");
    for i in 0..24 {
        if i == 10 {
            x = x.rotate_left(29) ^ n;
        }
        s.push(char::from(ALPHABET[(x % 64) as usize]));
        x /= 64;
    }
    s
}

/// 1,000,000 entries: every hundredth repeats an earlier one (1% duplicates).
fn million_with_one_per_cent_duplicates() -> Vec<String> {
    let mut v = Vec::with_capacity(1_000_000);
    let mut next = 0u64;
    for i in 0..1_000_000u64 {
        if i % 100 == 99 {
            v.push(oid(i / 2 / 100 * 100)); // a number already used
        } else {
            v.push(oid(next));
            next += 1;
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let list = million_with_one_per_cent_duplicates();
    let message = MassMessage::text("hello");
    let options = PlanOptions::new(AccountKind::Service);
    let plan = SendPlan::new(
        "bench",
        message.clone(),
        Audience::OpenIds(list.clone()),
        options,
    )
    .expect("the bench list plans");
    println!(
        "plan/1m_openids_1pct_dups: {} recipients, {} duplicates dropped, {} batches",
        plan.recipient_count(),
        plan.duplicates_dropped(),
        plan.batches().len()
    );

    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    group.bench_function("1m_openids_1pct_dups", |b| {
        b.iter_batched(
            || Audience::OpenIds(list.clone()),
            |audience| SendPlan::new("bench", message.clone(), audience, options),
            BatchSize::PerIteration,
        )
    });
    // The npm package's road in: borrowed slices of one buffer, no string per OpenID.
    let borrowed: Vec<&str> = list.iter().map(String::as_str).collect();
    group.bench_function("1m_openids_1pct_dups_borrowed", |b| {
        b.iter(|| SendPlan::for_openids("bench", message.clone(), &borrowed, options))
    });
    group.finish();

    // The worker's road for an audience too large for one request: 8 parts of 125,000 lines,
    // each read once (outside the timing), then their valid text pushed in order and sealed.
    let mut first_position = 0;
    let parts: Vec<String> = list
        .chunks(125_000)
        .map(|part| {
            let text = part.join("\n");
            let part = read_audience_part(text.as_bytes(), PartFormat::Lines, first_position)
                .expect("the bench list reads");
            first_position += part.received;
            part.valid_text
        })
        .collect();
    let seal = || {
        let mut sealer = AudienceSealer::new(Some(1));
        for part in &parts {
            sealer.push(part);
        }
        sealer.finish()
    };
    let sealed = seal().expect("the bench list seals");
    println!(
        "seal/1m_openids_1pct_dups: {} unique, {} duplicates dropped, {} chunks",
        sealed.valid,
        sealed.duplicates,
        sealed.chunks.len()
    );
    drop(sealed);
    let mut group = c.benchmark_group("seal");
    group.sample_size(10);
    // `AudienceSealer::push` of the 8 parts' valid text and `finish` (dedupe, balanced split,
    // each chunk's SHA-256 and text); the sealed audience is freed inside the timed call.
    group.bench_function("1m_openids_1pct_dups", |b| b.iter(seal));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
