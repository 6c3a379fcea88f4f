//! What one batch attempt of the worker's cron costs in core: the decisions between the run's
//! read and its commits, for a service account that has sent 100 batches a day for a month.
//!
//! The worker's CPU time per batch is this plus moving the stored request body (up to ~330 KB
//! for 10,000 OpenIDs) from D1 into WebAssembly and out to `fetch`, which no native bench sees.
//! `cron/turn_decisions_busy_month` is the same attempt driven through [`CronTurn`], the one
//! decision point the worker's cron asks (build the turn from the read, poll, settle), so the
//! two figures side by side are the turn's own cost.
//! Run: `cargo bench -p wxmass --bench cron`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use wxmass::endpoint::EndpointName;
use wxmass::plan::{
    earliest_start, AccountKind, BatchProgress, CallAnswer, CronTurn, DueBatch, Outcome, Pacer,
    QuotaNeed, SendKind, SentRecord, Spend, Step, StepCosts, TurnRead, UnixMillis,
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

/// The worker's costs (D1 queries, subrequests) of each step.
const COSTS: StepCosts = StepCosts {
    send: Spend::new(3, 1),
    check: Spend::new(3, 1),
    result: Spend::new(2, 0),
    token_refresh: Spend::new(2, 1),
};

fn bench_turn(c: &mut Criterion) {
    let sends = busy_month();
    // 59 calls in the last minute: the pacer has room for this one.
    let mut pacer = Pacer::new();
    for i in 0..59 {
        pacer.record(NOW.plus_millis(-60_000 + i * 900));
    }
    let stored = serde_json::to_string(&BatchProgress::new()).expect("progress serializes");
    let body = vec![b'x'; 330_000];
    let reply = br#"{"errcode":0,"errmsg":"send job submission success","msg_id":9007199254753337,"msg_data_id":2247483647}"#;
    let base = ApiBase::default();

    c.bench_function("cron/turn_decisions_busy_month", |b| {
        b.iter_batched(
            // What the worker's read hands over (rows it owns already, so not timed). One input
            // per iteration, made just before it, so the month of sends is as warm in the cache
            // as the first bench's borrowed one.
            || (sends.clone(), pacer.clone()),
            |(sends, pacer)| {
                let progress: BatchProgress =
                    serde_json::from_str(black_box(&stored)).expect("stored progress reads");
                let mut turn = CronTurn::new(TurnRead {
                    account: AccountKind::Service,
                    pending_results: 0,
                    due: vec![DueBatch {
                        progress,
                        kind: SendKind::SendToUsers,
                        to_all: false,
                        extra: Spend::default(),
                    }],
                    overdue: Vec::new(),
                    sends,
                    pacer,
                    token_refresh_at: Some(NOW.plus_millis(3_600_000)),
                    deadline: NOW.plus_millis(25_000),
                    costs: COSTS,
                });
                let Step::Send(step) = turn.poll(NOW, Spend::new(40, 40)) else {
                    unreachable!("the batch is due and the pacer has room")
                };
                let claim = serde_json::to_string(&step.progress).expect("serializes");
                let request = EndpointName::SendToUsers
                    .request_for_built_body(&base, black_box(body.clone()));
                let answer = CallAnswer::Http {
                    status: 200,
                    body: black_box(reply),
                };
                let settled = turn.on_send_outcome(step, answer, NOW, 7);
                let commit = serde_json::to_string(&settled.progress).expect("serializes");
                let next = turn.poll(NOW, Spend::new(37, 39));
                black_box((claim, request, settled.stage, commit, next))
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, bench, bench_turn);
criterion_main!(benches);
