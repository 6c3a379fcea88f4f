//! The account's quota is shared by its jobs: a plan's summary lays out the pending batches of
//! earlier jobs first, then its own, and says which batches go on which China day.

use wxmass::plan::{
    AccountKind, ChinaDate, ChunkRef, PendingSend, PlanOptions, PlanSummary, QuotaDecision,
    QuotaRule, ScheduledDay, SendKind, SendPlan, SentRecord, UnixMillis,
};
use wxmass::{Audience, MassMessage};

/// An instant in China time.
fn china(year: i64, month: u32, day: u32, h: i64, m: i64) -> UnixMillis {
    UnixMillis::from_china_date(ChinaDate { year, month, day }).plus_millis((h * 60 + m) * 60_000)
}

/// 2030-03-07 10:00 China time.
fn now() -> UnixMillis {
    china(2030, 3, 7, 10, 0)
}

fn pending(n: usize, not_before: UnixMillis, kind: SendKind, to_all: bool) -> Vec<PendingSend> {
    vec![
        PendingSend {
            not_before,
            kind,
            to_all,
        };
        n
    ]
}

fn batches(n: usize, not_before: UnixMillis) -> Vec<PendingSend> {
    pending(n, not_before, SendKind::SendToUsers, false)
}

/// A service-account job of `n` batches of 10,000 to a sealed audience.
fn job_of(n: usize) -> wxmass::plan::SealedPlan {
    let chunks: Vec<ChunkRef> = (0..n)
        .map(|i| ChunkRef {
            count: 10_000,
            digest: format!("{i:064x}"),
        })
        .collect();
    SendPlan::for_sealed_audience(
        "job-new",
        MassMessage::text("hi"),
        &chunks,
        PlanOptions::new(AccountKind::Service),
    )
    .unwrap()
}

fn day(first_batch: usize, last_batch: usize, starts_at: UnixMillis) -> ScheduledDay {
    ScheduledDay {
        first_batch,
        last_batch,
        day_starts_at: starts_at.china_day_start(),
        starts_at,
    }
}

fn note<'a>(s: &'a PlanSummary, start: &str) -> &'a str {
    s.notes
        .iter()
        .find(|n| n.starts_with(start))
        .unwrap_or_else(|| panic!("no note starting {start:?} in {:#?}", s.notes))
}

#[test]
fn a_full_day_of_earlier_jobs_moves_this_job_to_the_next_china_day() {
    let s = job_of(100).summary_with_pending(&[], &batches(100, now()), now());
    let tomorrow = china(2030, 3, 8, 0, 0);
    assert_eq!(
        s.earliest_start,
        QuotaDecision::NotBefore {
            at: tomorrow,
            rule: QuotaRule::ServiceSendsPerDay
        }
    );
    assert_eq!(s.days_needed, 1);
    assert_eq!(s.schedule, [day(1, 100, tomorrow)]);
    assert_eq!(s.estimated_duration_ms, 60_000); // 100 calls at 60 a minute
    assert_eq!(
        note(&s, "Batches 1–100"),
        "Batches 1–100 start tomorrow, 2030-03-08 00:00 China time: the account's 100 mass sends a day are used up today (100 by earlier jobs)."
    );
}

#[test]
fn forty_pending_leave_batches_1_to_60_today_and_61_to_100_for_tomorrow() {
    let s = job_of(100).summary_with_pending(&[], &batches(40, now()), now());
    let tomorrow = china(2030, 3, 8, 0, 0);
    assert_eq!(s.earliest_start, QuotaDecision::Now);
    assert_eq!(s.days_needed, 2);
    assert_eq!(s.schedule, [day(1, 60, now()), day(61, 100, tomorrow)]);
    assert_eq!(s.estimated_duration_ms, tomorrow.0 - now().0);
    assert_eq!(
        note(&s, "Batches 61–100"),
        "Batches 61–100 start tomorrow, 2030-03-08 00:00 China time: the account's 100 mass sends a day are used up today (40 by earlier jobs, 60 by this job's batches 1–60)."
    );
    assert!(s.notes.iter().all(|n| !n.starts_with("Batches 1–60")));
    assert!(s.notes.iter().any(|n| n.contains("spans 2 China days")));
    let text = s.to_string();
    assert!(
        text.contains("schedule:           batches 1–60 from 2030-03-07 10:00 China time"),
        "{text}"
    );
    assert!(
        text.contains("                    batches 61–100 from 2030-03-08 00:00 China time"),
        "{text}"
    );
}

#[test]
fn a_subscription_accounts_one_sendall_a_day_taken_by_a_pending_job_moves_this_one_to_tomorrow() {
    let plan = SendPlan::new(
        "job-tag",
        MassMessage::mpnews("MEDIA"),
        Audience::Tag(2),
        PlanOptions::new(AccountKind::Subscription),
    )
    .unwrap();
    let earlier = pending(1, china(2030, 3, 7, 8, 0), SendKind::SendAll, false);
    let s = plan.summary_with_pending(&[], &earlier, now());
    let tomorrow = china(2030, 3, 8, 0, 0);
    assert_eq!(
        s.earliest_start,
        QuotaDecision::NotBefore {
            at: tomorrow,
            rule: QuotaRule::SubscriptionSendAllPerDay
        }
    );
    assert_eq!(s.days_needed, 1);
    assert_eq!(s.schedule, [day(1, 1, tomorrow)]);
    assert_eq!(
        note(&s, "Batch 1"),
        "Batch 1 starts tomorrow, 2030-03-08 00:00 China time: the account's 1 sendall a day is used up today (1 by earlier jobs)."
    );
}

#[test]
fn the_ledger_and_pending_jobs_share_the_day() {
    let sent = SentRecord {
        at: china(2030, 3, 7, 8, 0),
        kind: SendKind::SendToUsers,
        to_all: false,
        succeeded: true,
    };
    let s = job_of(100).summary_with_pending(&[sent; 30], &batches(30, now()), now());
    let tomorrow = china(2030, 3, 8, 0, 0);
    assert_eq!(s.schedule, [day(1, 40, now()), day(41, 100, tomorrow)]);
    assert_eq!(
        note(&s, "Batches 41–100"),
        "Batches 41–100 start tomorrow, 2030-03-08 00:00 China time: the account's 100 mass sends a day are used up today (30 already sent, 30 by earlier jobs, 40 by this job's batches 1–40)."
    );
}

#[test]
fn pending_jobs_take_the_days_of_their_not_before() {
    // Another job scheduled for tomorrow takes tomorrow, not today: this job's first 100 go
    // today and the other 50 the day after tomorrow.
    let s = job_of(150).summary_with_pending(&[], &batches(100, china(2030, 3, 8, 9, 0)), now());
    let after = china(2030, 3, 9, 0, 0);
    assert_eq!(s.earliest_start, QuotaDecision::Now);
    assert_eq!(s.days_needed, 3);
    assert_eq!(s.schedule, [day(1, 100, now()), day(101, 150, after)]);
    assert_eq!(
        note(&s, "Batches 101–150"),
        "Batches 101–150 start 2030-03-09 00:00 China time: the account's 100 mass sends a day are used up tomorrow (100 by earlier jobs)."
    );

    // Given in any order, earlier ones first: 250 pending from today fill today, tomorrow and
    // half the day after.
    let mut many = batches(150, china(2030, 3, 8, 0, 0));
    many.extend(batches(100, now()));
    let s = job_of(100).summary_with_pending(&[], &many, now());
    assert_eq!(
        s.schedule,
        [day(1, 50, after), day(51, 100, china(2030, 3, 10, 0, 0))]
    );
    assert!(matches!(s.earliest_start, QuotaDecision::NotBefore { at, .. } if at == after));
}

#[test]
fn a_pending_send_is_placed_from_its_not_before_so_an_overdue_one_is_passed_with_now() {
    // A batch that should have gone yesterday and did not: with yesterday's not_before it is
    // placed on yesterday's free quota and takes none of today's…
    let yesterday = china(2030, 3, 6, 9, 0);
    let s = job_of(100).summary_with_pending(&[], &batches(100, yesterday), now());
    assert_eq!(s.earliest_start, QuotaDecision::Now);
    // …so the caller passes the current time for it, as `PendingSend::not_before` says.
    let s = job_of(100).summary_with_pending(&[], &batches(100, now()), now());
    assert_ne!(s.earliest_start, QuotaDecision::Now);
}

#[test]
fn a_month_of_sends_to_everyone_taken_by_the_ledger_and_a_pending_job_moves_an_everyone_plan_to_next_month(
) {
    let plan = SendPlan::new(
        "job-all",
        MassMessage::mpnews("MEDIA"),
        Audience::Everyone,
        PlanOptions::new(AccountKind::Service),
    )
    .unwrap();
    let sent = SentRecord {
        at: china(2030, 3, 2, 8, 0),
        kind: SendKind::SendAll,
        to_all: true,
        succeeded: true,
    };
    let earlier = pending(1, china(2030, 3, 20, 8, 0), SendKind::SendAll, true);
    let s = plan.summary_with_pending(&[sent; 3], &earlier, now());
    let april = china(2030, 4, 1, 0, 0);
    assert_eq!(
        s.earliest_start,
        QuotaDecision::NotBefore {
            at: april,
            rule: QuotaRule::ServiceToAllPerMonth
        }
    );
    assert_eq!(s.schedule, [day(1, 1, april)]);
    assert!(
        note(&s, "Batch 1 starts 2030-04-01 00:00 China time: a service account may send to everyone 4 times")
            .ends_with("web-console sends included.")
    );
    // Without the pending one, the fourth of the month is still free.
    assert_eq!(
        plan.summary(&[sent; 3], now()).earliest_start,
        QuotaDecision::Now
    );
}

#[test]
fn summary_is_summary_with_no_pending_sends() {
    let plan = job_of(130);
    assert_eq!(
        plan.summary(&[], now()),
        plan.summary_with_pending(&[], &[], now())
    );
    let s = plan.summary(&[], now());
    assert_eq!(
        s.schedule,
        [day(1, 100, now()), day(101, 130, china(2030, 3, 8, 0, 0))]
    );
    assert_eq!(s.days_needed, 2);
}

#[test]
fn a_plan_that_can_never_start_has_no_schedule() {
    // The day at the end of time is full and no later day can be written: never, and the
    // walk over the windows ends.
    let end = UnixMillis(i64::MAX - 1_000);
    let sent = SentRecord {
        at: end,
        kind: SendKind::SendToUsers,
        to_all: false,
        succeeded: true,
    };
    let s = job_of(2).summary_with_pending(&[sent; 100], &batches(5, end), end);
    assert!(
        matches!(s.earliest_start, QuotaDecision::Never { .. }),
        "{:?}",
        s.earliest_start
    );
    assert!(s.schedule.is_empty());
    assert_eq!((s.days_needed, s.estimated_duration_ms), (0, 0));
}

#[test]
fn the_schedule_serializes_for_the_worker_and_the_npm_package() {
    let s = job_of(100).summary_with_pending(&[], &batches(40, now()), now());
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["schedule"],
        serde_json::json!([
            {
                "firstBatch": 1,
                "lastBatch": 60,
                "dayStartsAt": china(2030, 3, 7, 0, 0).0,
                "startsAt": now().0
            },
            {
                "firstBatch": 61,
                "lastBatch": 100,
                "dayStartsAt": china(2030, 3, 8, 0, 0).0,
                "startsAt": china(2030, 3, 8, 0, 0).0
            }
        ])
    );
    assert_eq!(json["daysNeeded"], 2);
    assert_eq!(json["earliestStart"]["decision"], "now");
}

#[test]
fn pending_sends_read_from_json_in_wire_or_camel_case() {
    let list: Vec<PendingSend> = serde_json::from_str(
        r#"[{"not_before":1,"kind":"send","to_all":false},
            {"notBefore":2,"kind":"sendall","toAll":true}]"#,
    )
    .unwrap();
    assert_eq!(
        list,
        [
            PendingSend {
                not_before: UnixMillis(1),
                kind: SendKind::SendToUsers,
                to_all: false
            },
            PendingSend {
                not_before: UnixMillis(2),
                kind: SendKind::SendAll,
                to_all: true
            }
        ]
    );
}

#[test]
fn a_thousand_days_of_pending_sends_lay_out_quickly() {
    // 100,000 pending batches (a thousand full days) and a plan behind them: the layout walks
    // each day once, not once per batch.
    let started = std::time::Instant::now();
    let s = job_of(100).summary_with_pending(&[], &batches(100_000, now()), now());
    let at = china(2030, 3, 7, 0, 0).plus_millis(1_000 * 86_400_000);
    assert_eq!(s.schedule, [day(1, 100, at)]);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}
