//! Quota rules at their edges: 23:59:59 / 00:00:00 China time (15:59:59 / 16:00:00 UTC) and
//! month ends (Jan 31 → Feb 1, Feb 28/29, Dec 31 → Jan 1).

use wxmass::plan::{
    days_needed, earliest_start, AccountKind, ChinaDate, Pacer, QuotaDecision, QuotaNeed,
    QuotaRule, SendKind, SentRecord, UnixMillis,
};

/// An instant in China time.
fn china(year: i64, month: u32, day: u32, h: i64, m: i64, s: i64) -> UnixMillis {
    UnixMillis::from_china_date(ChinaDate { year, month, day })
        .plus_millis(((h * 60 + m) * 60 + s) * 1000)
}

fn sent(at: UnixMillis, kind: SendKind, to_all: bool) -> SentRecord {
    SentRecord {
        at,
        kind,
        to_all,
        succeeded: true,
    }
}

const TAG: QuotaNeed = QuotaNeed {
    sendall_calls: 1,
    send_calls: 0,
    to_all: false,
};
const EVERYONE: QuotaNeed = QuotaNeed {
    sendall_calls: 1,
    send_calls: 0,
    to_all: true,
};
const ONE_BATCH: QuotaNeed = QuotaNeed {
    sendall_calls: 0,
    send_calls: 1,
    to_all: false,
};

#[test]
fn china_time_is_utc_plus_8() {
    let t = china(2024, 3, 14, 23, 59, 59);
    assert_eq!(t.to_string(), "2024-03-14T15:59:59Z");
    assert_eq!(
        china(2024, 3, 15, 0, 0, 0).to_string(),
        "2024-03-14T16:00:00Z"
    );
}

// ---- subscription ------------------------------------------------------------------------------

#[test]
fn subscription_one_sendall_a_day_turns_at_china_midnight() {
    let ledger = [sent(china(2024, 3, 14, 0, 0, 0), SendKind::SendAll, false)];
    let last_second = china(2024, 3, 14, 23, 59, 59);
    assert_eq!(
        earliest_start(AccountKind::Subscription, &ledger, &TAG, last_second),
        QuotaDecision::NotBefore {
            at: china(2024, 3, 15, 0, 0, 0),
            rule: QuotaRule::SubscriptionSendAllPerDay
        }
    );
    assert_eq!(
        earliest_start(
            AccountKind::Subscription,
            &ledger,
            &TAG,
            china(2024, 3, 15, 0, 0, 0)
        ),
        QuotaDecision::Now
    );
}

#[test]
fn subscription_send_at_23_59_59_does_not_block_the_next_day() {
    let ledger = [sent(
        china(2024, 3, 14, 23, 59, 59),
        SendKind::SendAll,
        true,
    )];
    assert!(matches!(
        earliest_start(
            AccountKind::Subscription,
            &ledger,
            &EVERYONE,
            china(2024, 3, 14, 23, 59, 59)
        ),
        QuotaDecision::NotBefore { .. }
    ));
    assert_eq!(
        earliest_start(
            AccountKind::Subscription,
            &ledger,
            &EVERYONE,
            china(2024, 3, 15, 0, 0, 0)
        ),
        QuotaDecision::Now
    );
}

#[test]
fn refused_sends_do_not_use_the_quota() {
    let mut failed = sent(china(2024, 3, 14, 9, 0, 0), SendKind::SendAll, false);
    failed.succeeded = false;
    assert_eq!(
        earliest_start(
            AccountKind::Subscription,
            &[failed],
            &TAG,
            china(2024, 3, 14, 10, 0, 0)
        ),
        QuotaDecision::Now
    );
}

#[test]
fn subscription_never_sends_to_openid_lists() {
    let d = earliest_start(
        AccountKind::Subscription,
        &[],
        &ONE_BATCH,
        china(2024, 3, 14, 10, 0, 0),
    );
    assert!(matches!(d, QuotaDecision::Never { .. }), "{d:?}");
    assert_eq!(d.start_at(UnixMillis(0)), None);
    // The console's Chinese page shows why in Chinese: `reasonZh` beside `reason`.
    let json = serde_json::to_value(&d).unwrap_or_default();
    let zh = json["reasonZh"].as_str().unwrap_or_default();
    assert!(zh.contains("订阅号不可用"), "{json}");
    assert_ne!(Some(zh), json["reason"].as_str());
}

// ---- service, daily ----------------------------------------------------------------------------

#[test]
fn service_100_sends_a_day_turn_at_china_midnight() {
    let day = china(2024, 3, 14, 0, 0, 0);
    let mut ledger: Vec<SentRecord> = (0..99)
        .map(|i| sent(day.plus_millis(i * 60_000), SendKind::SendToUsers, false))
        .collect();
    let last_second = china(2024, 3, 14, 23, 59, 59);
    assert_eq!(
        earliest_start(AccountKind::Service, &ledger, &ONE_BATCH, last_second),
        QuotaDecision::Now
    );
    ledger.push(sent(last_second, SendKind::SendAll, false));
    assert_eq!(
        earliest_start(AccountKind::Service, &ledger, &ONE_BATCH, last_second),
        QuotaDecision::NotBefore {
            at: china(2024, 3, 15, 0, 0, 0),
            rule: QuotaRule::ServiceSendsPerDay
        }
    );
    assert_eq!(
        earliest_start(
            AccountKind::Service,
            &ledger,
            &ONE_BATCH,
            china(2024, 3, 15, 0, 0, 0)
        ),
        QuotaDecision::Now
    );
}

#[test]
fn service_plan_beyond_the_day_starts_now_and_needs_more_days() {
    let now = china(2024, 3, 14, 20, 0, 0);
    let ledger: Vec<SentRecord> = (0..60)
        .map(|_| sent(now.plus_millis(-1_000), SendKind::SendToUsers, false))
        .collect();
    let need = QuotaNeed {
        sendall_calls: 0,
        send_calls: 141,
        to_all: false,
    };
    assert_eq!(
        earliest_start(AccountKind::Service, &ledger, &need, now),
        QuotaDecision::Now
    );
    // 40 today, 100 tomorrow, 1 the day after.
    assert_eq!(days_needed(AccountKind::Service, &ledger, &need, now), 3);
    let need = QuotaNeed {
        send_calls: 40,
        ..need
    };
    assert_eq!(days_needed(AccountKind::Service, &ledger, &need, now), 1);
}

// ---- service, is_to_all per natural month ------------------------------------------------------

fn four_to_all_ending(last: UnixMillis) -> Vec<SentRecord> {
    let month_start = last.china_month_start();
    let mut v: Vec<SentRecord> = (0..3)
        .map(|i| sent(month_start.plus_millis(i * 1000), SendKind::SendAll, true))
        .collect();
    v.push(sent(last, SendKind::SendAll, true));
    v
}

fn assert_month_edge(last_second: UnixMillis, next_month: UnixMillis) {
    let ledger = four_to_all_ending(last_second);
    assert_eq!(
        earliest_start(AccountKind::Service, &ledger, &EVERYONE, last_second),
        QuotaDecision::NotBefore {
            at: next_month,
            rule: QuotaRule::ServiceToAllPerMonth
        },
        "at {last_second}"
    );
    assert_eq!(
        earliest_start(AccountKind::Service, &ledger, &EVERYONE, next_month),
        QuotaDecision::Now
    );
    // A tag send is not held back by the to-all limit.
    assert_eq!(
        earliest_start(AccountKind::Service, &ledger, &TAG, last_second),
        QuotaDecision::Now
    );
}

#[test]
fn service_to_all_four_a_month_january_to_february() {
    assert_month_edge(china(2024, 1, 31, 23, 59, 59), china(2024, 2, 1, 0, 0, 0));
}

#[test]
fn service_to_all_four_a_month_leap_february() {
    // Feb 28 of a leap year is not the month end: Feb 29 still counts to February.
    let ledger = four_to_all_ending(china(2024, 2, 28, 23, 59, 59));
    assert_eq!(
        earliest_start(
            AccountKind::Service,
            &ledger,
            &EVERYONE,
            china(2024, 2, 29, 0, 0, 0)
        ),
        QuotaDecision::NotBefore {
            at: china(2024, 3, 1, 0, 0, 0),
            rule: QuotaRule::ServiceToAllPerMonth
        }
    );
    assert_month_edge(china(2024, 2, 29, 23, 59, 59), china(2024, 3, 1, 0, 0, 0));
}

#[test]
fn service_to_all_four_a_month_common_february() {
    assert_month_edge(china(2023, 2, 28, 23, 59, 59), china(2023, 3, 1, 0, 0, 0));
}

#[test]
fn service_to_all_four_a_month_december_to_january() {
    assert_month_edge(china(2024, 12, 31, 23, 59, 59), china(2025, 1, 1, 0, 0, 0));
    // 2024-12-31 16:00 UTC is already January in China.
    assert_eq!(
        china(2025, 1, 1, 0, 0, 0).to_string(),
        "2024-12-31T16:00:00Z"
    );
}

#[test]
fn rules_combine_a_full_month_then_a_full_first_day() {
    // Four to-all sends in January, and the 1st of February already has 100 sends recorded
    // (future-dated records from another tool): the earliest start is February 2.
    let mut ledger = four_to_all_ending(china(2024, 1, 20, 12, 0, 0));
    let feb1 = china(2024, 2, 1, 0, 0, 0);
    ledger.extend((0..100).map(|i| sent(feb1.plus_millis(i), SendKind::SendToUsers, false)));
    assert_eq!(
        earliest_start(
            AccountKind::Service,
            &ledger,
            &EVERYONE,
            china(2024, 1, 25, 9, 0, 0)
        ),
        QuotaDecision::NotBefore {
            at: china(2024, 2, 2, 0, 0, 0),
            rule: QuotaRule::ServiceSendsPerDay
        }
    );
}

// ---- pacing ------------------------------------------------------------------------------------

#[test]
fn pacer_spaces_calls_to_60_a_minute_across_endpoints() {
    let mut pacer = Pacer::new();
    let t0 = china(2024, 3, 14, 23, 59, 30);
    let mut now = t0;
    let mut calls = Vec::new();
    for _ in 0..150 {
        now = pacer.next_slot(now);
        pacer.record(now);
        calls.push(now);
    }
    // 60 at once, 60 a minute later, 30 two minutes later: pacing ignores the day boundary.
    assert_eq!(calls[59], t0);
    assert_eq!(calls[60], t0.plus_millis(60_000));
    assert_eq!(calls[149], t0.plus_millis(120_000));
    let stored = serde_json::to_string(&pacer).unwrap();
    let back: Pacer = serde_json::from_str(&stored).unwrap();
    assert_eq!(back.next_slot(now), pacer.next_slot(now));
}

#[test]
fn ledger_json_reads_wire_and_camel_names_and_names_every_problem() {
    let ok = SentRecord::list_from_json(
        br#"[{"at":1700000000000,"kind":"sendall","toAll":true,"succeeded":true},
             {"at":1700000001000,"kind":"send","to_all":false,"succeeded":false}]"#,
        "ledger",
    )
    .unwrap();
    assert_eq!(
        ok,
        [
            SentRecord {
                at: UnixMillis(1_700_000_000_000),
                kind: SendKind::SendAll,
                to_all: true,
                succeeded: true
            },
            SentRecord {
                at: UnixMillis(1_700_000_001_000),
                kind: SendKind::SendToUsers,
                to_all: false,
                succeeded: false
            },
        ]
    );
    let e = SentRecord::list_from_json(
        br#"[{"at":-1,"kind":"send_all","toAll":true,"succeeded":true,"x":1},{"at":1}]"#,
        "ledger",
    )
    .unwrap_err();
    let found: Vec<(&str, &str)> = e
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.rule.code()))
        .collect();
    assert_eq!(
        found,
        [
            ("ledger[0].at", "non_negative_integer"),
            ("ledger[0].kind", "one_of"),
            ("ledger[0].x", "unknown_field"),
            // 1 ms after 1970 is a time in seconds given as ms: refused, not read as 1970.
            ("ledger[1].at", "time"),
            ("ledger[1].kind", "required"),
            // The ledger writes `toAll`: the missing one is named so too.
            ("ledger[1].toAll", "required"),
            ("ledger[1].succeeded", "required"),
        ]
    );
    let not_a_list = SentRecord::list_from_json(br#"{"at":1}"#, "ledger").unwrap_err();
    assert_eq!(not_a_list.problems[0].rule.code(), "type");
}

#[test]
fn quota_usage_counts_the_current_china_day_and_month() {
    use wxmass::plan::{quota_usage, QuotaWindow};
    // 2030-03-07 10:00 China time: two sends today (one to everyone), one yesterday at 23:59:59
    // (to everyone, same month), one refused today, one to everyone last month.
    let now = china(2030, 3, 7, 10, 0, 0);
    let mut ledger = vec![
        sent(china(2030, 3, 7, 0, 0, 0), SendKind::SendToUsers, false),
        sent(china(2030, 3, 7, 9, 0, 0), SendKind::SendAll, true),
        sent(china(2030, 3, 6, 23, 59, 59), SendKind::SendAll, true),
        sent(china(2030, 2, 28, 12, 0, 0), SendKind::SendAll, true),
    ];
    ledger.push(SentRecord {
        succeeded: false,
        ..sent(china(2030, 3, 7, 9, 30, 0), SendKind::SendToUsers, false)
    });
    let service = quota_usage(AccountKind::Service, &ledger, now);
    let row = |u: &[wxmass::plan::QuotaUsage], rule| {
        let r = u.iter().find(|r| r.rule == rule).expect("rule listed");
        (r.window, r.limit, r.used, r.left, r.resets_at)
    };
    assert_eq!(service.len(), 2);
    assert_eq!(
        row(&service, QuotaRule::ServiceSendsPerDay),
        (QuotaWindow::Day, 100, 2, 98, china(2030, 3, 8, 0, 0, 0))
    );
    assert_eq!(
        row(&service, QuotaRule::ServiceToAllPerMonth),
        (QuotaWindow::Month, 4, 2, 2, china(2030, 4, 1, 0, 0, 0))
    );
    let subscription = quota_usage(AccountKind::Subscription, &ledger, now);
    assert_eq!(
        row(&subscription, QuotaRule::SubscriptionSendAllPerDay),
        (QuotaWindow::Day, 1, 1, 0, china(2030, 3, 8, 0, 0, 0))
    );
    assert_eq!(
        row(&subscription, QuotaRule::SubscriptionToAllPerDay),
        (QuotaWindow::Day, 1, 1, 0, china(2030, 3, 8, 0, 0, 0))
    );
    // Used beyond the limit (sends the ledger learnt of late) leaves nothing, not a negative.
    let full: Vec<SentRecord> = (0..3)
        .map(|i| sent(now.plus_millis(-i), SendKind::SendAll, false))
        .collect();
    let u = quota_usage(AccountKind::Subscription, &full, now);
    assert_eq!(row(&u, QuotaRule::SubscriptionSendAllPerDay).3, 0);
    assert_eq!(
        serde_json::to_value(&service[1]).unwrap(),
        serde_json::json!({
            "rule": "service_sends_per_day", "window": "day", "limit": 100, "used": 2, "left": 98,
            "resetsAt": china(2030, 3, 8, 0, 0, 0).0,
            "text": "a service account may make 100 API mass sends a day (China time)",
            "textZh": "服务号每天（北京时间）可进行 100 次 API 群发"
        })
    );
}
