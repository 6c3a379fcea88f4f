//! What one batch attempt of the worker's cron costs in core: the decisions between the run's
//! read and its commits, for a service account that has sent 100 batches a day for a month.
//!
//! The worker's CPU time per batch is this plus moving the stored request body (up to ~330 KB
//! for 10,000 OpenIDs) from D1 into WebAssembly and out to `fetch`, which no native bench sees.
//! Run: `cargo bench -p wxmass --bench cron`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use wxmass::endpoint::EndpointName;
use wxmass::plan::{
    earliest_start, AccountKind, BatchProgress, Outcome, Pacer, QuotaNeed, SendKind, SentRecord,
    UnixMillis,
};
use wxmass::ApiBase;

const NOW: UnixMillis = UnixMillis(1_718_000_000_000);
const DAY: i64 = 86_400_000;

/// A month of a busy service account: 100 sends a day for 31 days before `NOW`.
fn busy_month() -> Vec<SentRecord> {
    (0..31 * 100)
        .map(|i| SentRecord {
            at: NOW.plus_millis(-31 * DAY + i * (DAY / 100)),
            kind: SendKind::SendToUsers,
            to_all: false,
            succeeded: true,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let sends = busy_month();
    let mut pacer = Pacer::new();
    for i in 0..60 {
        pacer.record(NOW.plus_millis(-60_000 + i * 900));
    }
    let stored = serde_json::to_string(&BatchProgress::new()).expect("progress serializes");
    let body = vec![b'x'; 330_000];
    let reply = br#"{"errcode":0,"errmsg":"send job submission success","msg_id":9007199254753337,"msg_data_id":2247483647}"#;
    let need = QuotaNeed {
        sendall_calls: 0,
        send_calls: 1,
        to_all: false,
    };
    let base = ApiBase::default();

    c.bench_function("cron/attempt_decisions_busy_month", |b| {
        b.iter(|| {
            // Read: the batch's stored progress; the pacer and the month's sends.
            let mut progress: BatchProgress =
                serde_json::from_str(black_box(&stored)).expect("stored progress reads");
            let quota = earliest_start(AccountKind::Service, black_box(&sends), &need, NOW);
            let slot = pacer.next_slot(NOW);
            // Decide and claim.
            progress.begin_attempt(NOW).expect("due");
            let claim = serde_json::to_string(&progress).expect("serializes");
            let request =
                EndpointName::SendToUsers.request_for_built_body(&base, black_box(body.clone()));
            // The answer, and the commit.
            let action = progress.settle(&Outcome::from_http(200, black_box(reply)), NOW, 7);
            let commit = serde_json::to_string(&progress).expect("serializes");
            black_box((quota, slot, claim, request, action, commit))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
