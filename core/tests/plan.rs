//! Send plans: batching, what is dropped and reported, and the clientmsgid of each batch.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use wxmass::endpoint::Endpoint;
use wxmass::limits::{MAX_OPENIDS_PER_SEND, MIN_OPENIDS_PER_SEND, PLAN_INVALID_SHOWN_MAX};
use wxmass::plan::{
    AccountKind, BatchAudience, BatchRequest, PlanError, PlanOptions, QuotaDecision, SendPlan,
    UnixMillis,
};
use wxmass::validate::is_client_msg_id;
use wxmass::{ApiBase, Audience, MassMessage, SendAllFilter};

/// A deterministic, valid 28-character OpenID for `n` (distinct for distinct `n`).
fn oid(n: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::from("oWx");
    let mut x = n;
    for _ in 0..25 {
        s.push(ALPHABET[(x % 64) as usize] as char);
        x /= 64;
    }
    s
}

fn ids(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(oid).collect()
}

fn service() -> PlanOptions {
    PlanOptions::new(AccountKind::Service)
}

fn skip_invalid() -> PlanOptions {
    PlanOptions {
        skip_invalid: true,
        ..service()
    }
}

fn plan_list(list: Vec<String>) -> Result<SendPlan, PlanError> {
    SendPlan::new(
        "job-1",
        MassMessage::text("hello"),
        Audience::OpenIds(list),
        service(),
    )
}

fn sizes(plan: &SendPlan) -> Vec<usize> {
    plan.batches()
        .iter()
        .map(|b| b.recipient_count().unwrap())
        .collect()
}

#[test]
fn splits_10001_into_5001_and_5000() {
    let plan = plan_list(ids(0..10_001)).unwrap();
    assert_eq!(sizes(&plan), vec![5_001, 5_000]);
    assert_eq!(sizes(&plan_list(ids(0..20_001)).unwrap()), vec![6_667; 3]);
    assert_eq!(
        sizes(&plan_list(ids(0..25_001)).unwrap()),
        vec![8_334, 8_334, 8_333]
    );
    assert_eq!(sizes(&plan_list(ids(0..2)).unwrap()), vec![2]);
}

#[test]
fn drops_duplicates_keeping_first_order_and_counts_them() {
    let list = vec![oid(3), oid(1), oid(3), oid(2), oid(1), oid(1)];
    let plan = plan_list(list).unwrap();
    assert_eq!(plan.recipients(), &[oid(3), oid(1), oid(2)]);
    assert_eq!(plan.duplicates_dropped(), 3);
    assert_eq!(plan.batch_recipients(0), plan.recipients());
}

#[test]
fn refuses_invalid_openids_with_positions_unless_skipping() {
    let mut list = ids(0..5);
    list.insert(1, "OPENID1".into());
    list.push(" ".into());
    match plan_list(list.clone()) {
        Err(PlanError::InvalidOpenIds { count, shown }) => {
            assert_eq!(count, 2);
            assert_eq!(shown[0].position, 1);
            assert_eq!(shown[0].value, "OPENID1");
            assert_eq!(shown[1].position, 6);
        }
        other => panic!("{other:?}"),
    }
    let plan = SendPlan::new(
        "job-1",
        MassMessage::text("hello"),
        Audience::OpenIds(list),
        skip_invalid(),
    )
    .unwrap();
    assert_eq!(plan.invalid_skipped(), 2);
    assert_eq!(plan.recipients().len(), 5);
    assert_eq!(plan.invalid_shown()[0].position, 1);
}

#[test]
fn invalid_list_is_capped_but_counted() {
    let list: Vec<String> = (0..500).map(|i| format!("bad{i}")).collect();
    let err = plan_list(list).unwrap_err();
    let PlanError::InvalidOpenIds { count, shown } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*count, 500);
    assert_eq!(shown.len(), PLAN_INVALID_SHOWN_MAX);
    let text = err.to_string();
    assert!(
        text.starts_with("500 of the OpenIDs are not valid"),
        "{text}"
    );
    assert!(text.contains("and 480 more"), "{text}");
    assert!(text.contains("skip_invalid"), "{text}");
}

#[test]
fn one_recipient_says_use_preview() {
    let err = plan_list(vec![oid(1), oid(1)]).unwrap_err();
    assert!(matches!(err, PlanError::SingleRecipient { .. }));
    assert!(err.to_string().contains("preview"), "{err}");
}

#[test]
fn empty_audience_is_an_error() {
    assert!(matches!(
        plan_list(vec![]),
        Err(PlanError::EmptyAudience { .. })
    ));
    let err = SendPlan::new(
        "job-1",
        MassMessage::text("hello"),
        Audience::OpenIds(vec!["x".into(), "y".into()]),
        skip_invalid(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanError::EmptyAudience {
            duplicates_dropped: 0,
            invalid_skipped: 2
        }
    );
}

#[test]
fn subscription_accounts_cannot_send_to_openid_lists() {
    let err = SendPlan::new(
        "job-1",
        MassMessage::text("hello"),
        Audience::OpenIds(ids(0..3)),
        PlanOptions::new(AccountKind::Subscription),
    )
    .unwrap_err();
    assert_eq!(err, PlanError::OpenIdListNeedsServiceAccount);
    assert!(err.to_string().contains("service account"), "{err}");
}

#[test]
fn refuses_a_job_id_that_cannot_fit_a_clientmsgid() {
    for bad in ["", "with space", "群发", &"x".repeat(37)] {
        let err =
            SendPlan::new(bad, MassMessage::text("hi"), Audience::Everyone, service()).unwrap_err();
        assert!(matches!(err, PlanError::InvalidJobId { .. }), "{bad:?}");
    }
}

#[test]
fn refuses_an_invalid_message_with_the_validation_problems() {
    let err = SendPlan::new(
        "job-1",
        MassMessage::text("  "),
        Audience::Everyone,
        service(),
    )
    .unwrap_err();
    let PlanError::InvalidMessage(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(v.problems[0].path, "text.content");
    let card = MassMessage::Wxcard {
        card_id: "c".into(),
        card_ext: Some("{}".into()),
    };
    assert!(matches!(
        SendPlan::new("job-1", card, Audience::Tag(2), service()),
        Err(PlanError::InvalidMessage(_))
    ));
}

#[test]
fn a_tag_or_everyone_is_one_sendall_batch() {
    for (audience, filter) in [
        (Audience::Everyone, SendAllFilter::Everyone),
        (Audience::Tag(7), SendAllFilter::Tag(7)),
    ] {
        let plan = SendPlan::new(
            "job-1",
            MassMessage::mpnews("MEDIA"),
            audience,
            PlanOptions::new(AccountKind::Subscription),
        )
        .unwrap();
        assert_eq!(plan.batches().len(), 1);
        assert_eq!(plan.batches()[0].recipients, BatchAudience::Filter(filter));
        let Some(BatchRequest::SendAll(req)) = plan.request(0) else {
            panic!()
        };
        assert_eq!(req.filter, filter);
        assert_eq!(
            req.clientmsgid.as_deref(),
            Some(&*plan.batches()[0].clientmsgid)
        );
    }
}

#[test]
fn each_batch_builds_its_exact_request() {
    let opts = PlanOptions {
        send_ignore_reprint: Some(true),
        ..service()
    };
    let plan = SendPlan::new(
        "job-1",
        MassMessage::text("hello"),
        Audience::OpenIds(ids(0..10_001)),
        opts,
    )
    .unwrap();
    let req = plan.request(1).unwrap();
    let http = req.build(&ApiBase::default()).unwrap();
    assert_eq!(http.path, "/cgi-bin/message/mass/send");
    let body: serde_json::Value = serde_json::from_slice(&http.body).unwrap();
    assert_eq!(body["touser"].as_array().unwrap().len(), 5_000);
    assert_eq!(body["touser"][0], oid(5_001));
    assert_eq!(body["msgtype"], "text");
    assert_eq!(body["send_ignore_reprint"], 1);
    assert_eq!(body["clientmsgid"], plan.batches()[1].clientmsgid);
    assert!(plan.request(2).is_none());
    // The reply parser of the batch's endpoint.
    let reply = req
        .parse_reply(br#"{"errcode":0,"errmsg":"send job submission success","msg_id":34182,"msg_data_id":206227730}"#)
        .unwrap();
    assert_eq!(reply.msg_id.0, 34182);
    let BatchRequest::SendToUsers(inner) = req else {
        panic!()
    };
    assert!(inner.validate().is_ok());
}

// ---- clientmsgid -------------------------------------------------------------------------------

fn ids_of(plan: &SendPlan) -> Vec<String> {
    plan.batches()
        .iter()
        .map(|b| b.clientmsgid.clone())
        .collect()
}

#[test]
fn clientmsgids_are_deterministic_valid_and_unique() {
    let a = plan_list(ids(0..30_000)).unwrap();
    let b = plan_list(ids(0..30_000)).unwrap();
    assert_eq!(ids_of(&a), ids_of(&b));
    assert_eq!(a, b);
    let all = ids_of(&a);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());
    for id in &all {
        assert!(is_client_msg_id(id), "{id}");
        assert!(id.starts_with("wxm1-job-1-"), "{id}");
    }
    assert!(all[2].starts_with("wxm1-job-1-2-"));
}

/// Users store these ids: the same input must give these exact strings in every version, or
/// a re-planned retry would be a new send to WeChat instead of a 45065.
#[test]
fn clientmsgids_are_pinned() {
    let mut list = ids(0..10_001);
    list.push(oid(7)); // a duplicate: dropped, so in no id
    let opts = PlanOptions {
        send_ignore_reprint: Some(true),
        ..service()
    };
    let plan = SendPlan::new(
        "job-1",
        MassMessage::text("hello"),
        Audience::OpenIds(list),
        opts,
    )
    .unwrap();
    assert_eq!(
        ids_of(&plan),
        [
            "wxm1-job-1-0-a18785be2376f619",
            "wxm1-job-1-1-2acb30ccfc47eff6"
        ]
    );
    let tag = SendPlan::new(
        "job-1",
        MassMessage::mpnews("MEDIA"),
        Audience::Tag(2),
        service(),
    )
    .unwrap();
    assert_eq!(ids_of(&tag), ["wxm1-job-1-0-c98d6d56eaf753d8"]);
}

#[test]
fn any_change_of_input_changes_the_affected_ids() {
    let base = ids_of(&plan_list(ids(0..30_000)).unwrap());

    // A different message: every id changes.
    let other_text = SendPlan::new(
        "job-1",
        MassMessage::text("hello!"),
        Audience::OpenIds(ids(0..30_000)),
        service(),
    )
    .unwrap();
    for (a, b) in base.iter().zip(ids_of(&other_text)) {
        assert_ne!(*a, b);
    }

    // One recipient replaced (same count, same batch boundaries): only its batch changes.
    let mut list = ids(0..30_000);
    list[15_000] = oid(99_999_999);
    let one = ids_of(&plan_list(list).unwrap());
    assert_eq!(one[0], base[0]);
    assert_ne!(one[1], base[1]);
    assert_eq!(one[2], base[2]);

    // Another job id: every id changes.
    let other_job = SendPlan::new(
        "job-2",
        MassMessage::text("hello"),
        Audience::OpenIds(ids(0..30_000)),
        service(),
    )
    .unwrap();
    for (a, b) in base.iter().zip(ids_of(&other_job)) {
        assert_ne!(*a, b);
    }

    // The same list in another order is another send (recipients per batch differ).
    let mut rev = ids(0..30_000);
    rev.reverse();
    assert_ne!(ids_of(&plan_list(rev).unwrap()), base);
}

#[test]
fn a_uuid_job_id_fits() {
    let plan = SendPlan::new(
        "5f0c8e4e-2a8b-4c1e-9a55-1c7f0e6b9d11",
        MassMessage::text("hi"),
        Audience::OpenIds(ids(0..100_000)),
        service(),
    )
    .unwrap();
    for b in plan.batches() {
        assert!(is_client_msg_id(&b.clientmsgid), "{}", b.clientmsgid);
    }
}

// ---- summary -----------------------------------------------------------------------------------

#[test]
fn summary_reports_counts_start_duration_quota_and_notes() {
    let mut list = ids(0..25_001);
    list.push(oid(0));
    list.push("bad".into());
    let plan = SendPlan::new(
        "job-1",
        MassMessage::mpnews("MEDIA"),
        Audience::OpenIds(list),
        skip_invalid(),
    )
    .unwrap();
    let now = UnixMillis(1_710_388_800_000); // 2024-03-14 12:00 China time
    let s = plan.summary(&[], now);
    assert_eq!(s.recipients, Some(25_001));
    assert_eq!(s.duplicates_dropped, 1);
    assert_eq!(s.invalid_skipped, 1);
    assert_eq!(s.batches, 3);
    assert_eq!(s.batch_sizes, Some((8_334, 8_333)));
    assert_eq!(s.earliest_start, QuotaDecision::Now);
    assert_eq!(s.days_needed, 1);
    assert_eq!(s.estimated_duration_ms, 0);
    assert_eq!(s.quota_used.send_calls, 3);
    assert!(s.notes.iter().any(|n| n.contains("FilterCount")));
    let text = s.to_string();
    assert!(text.contains("recipients:         25001"), "{text}");
    assert!(
        text.contains("invalid skipped:    1 [25002] \"bad\""),
        "{text}"
    );
    let json = serde_json::to_value(&s).unwrap();
    // The JS model: camelCase keys, `msgType` as the input names it.
    assert_eq!(json["earliestStart"]["decision"], "now");
    assert_eq!(json["quotaUsed"]["sendCalls"], 3);
    assert_eq!(json["msgType"], "mpnews");
    assert_eq!(json["recipients"], 25001);
}

#[test]
fn summary_of_a_service_plan_beyond_the_day_spans_days() {
    use wxmass::plan::{SendKind, SentRecord};
    // 200,000 recipients = 20 batches; 90 of today's 100 sends are used: 10 today, 10 tomorrow.
    let plan = plan_list(ids(0..200_000)).unwrap();
    let now = UnixMillis(1_710_388_800_000); // 2024-03-14 12:00 China time
    let used = SentRecord {
        at: now.plus_millis(-3_600_000),
        kind: SendKind::SendToUsers,
        to_all: false,
        succeeded: true,
    };
    let s = plan.summary(&[used; 90], now);
    assert_eq!(s.batches, 20);
    assert_eq!(s.earliest_start, QuotaDecision::Now);
    assert_eq!(s.days_needed, 2);
    // The last call: tomorrow 00:00 China time (ten calls fit in the first minute).
    assert_eq!(
        s.estimated_duration_ms,
        now.next_china_day().0 - now.0,
        "{s}"
    );
    assert!(s.notes.iter().any(|n| n.contains("spans 2 China days")));
    assert!(s.to_string().contains("12 h of calls"), "{s}");
}

// ---- properties --------------------------------------------------------------------------------

/// A small deterministic generator (splitmix64), so a case is its seed and sizes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A list of `len` entries drawing from `pool` distinct OpenIDs (so duplicates are likely when
/// `pool` is small) with about `invalid_per_mille` malformed entries.
fn messy_list(len: usize, pool: u64, invalid_per_mille: u64, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..len)
        .map(|_| {
            let r = rng.next();
            if r % 1000 < invalid_per_mille {
                match r % 5 {
                    0 => String::new(),
                    1 => "OPENID1".to_owned(),
                    2 => format!("{}!", &oid(r)[..27]),
                    3 => format!("{}x", oid(r)),
                    _ => format!("o群{}", r),
                }
            } else {
                oid(rng.next() % pool.max(1))
            }
        })
        .collect()
}

fn check_plan(list: Vec<String>) {
    let mut expected: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    let mut invalid = 0;
    for id in &list {
        if !wxmass::validate::is_openid(id) {
            invalid += 1;
        } else if seen.insert(id.as_str()) {
            expected.push(id);
        }
    }
    let plan = SendPlan::new(
        "prop",
        MassMessage::text("t"),
        Audience::OpenIds(list.clone()),
        skip_invalid(),
    );
    let plan = match (expected.len(), plan) {
        (0, Err(PlanError::EmptyAudience { .. })) => return,
        (1, Err(PlanError::SingleRecipient { openid })) => {
            assert_eq!(openid, expected[0]);
            return;
        }
        (_, Ok(plan)) => plan,
        (n, Err(e)) => panic!("{n} recipients: {e}"),
    };
    assert_eq!(plan.invalid_skipped(), invalid);
    assert_eq!(
        plan.duplicates_dropped(),
        list.len() - invalid - expected.len()
    );
    // Every valid unique OpenID in exactly one batch, in first-seen order.
    let mut count: HashMap<String, usize> = HashMap::new();
    let mut concatenated = Vec::new();
    for b in plan.batches() {
        let members = plan.batch_recipients(b.index);
        assert!(
            (MIN_OPENIDS_PER_SEND..=MAX_OPENIDS_PER_SEND).contains(&members.len()),
            "batch {} has {}",
            b.index,
            members.len()
        );
        for id in members {
            *count.entry(id.clone()).or_default() += 1;
            concatenated.push(id);
        }
    }
    assert_eq!(concatenated, expected);
    assert!(count.values().all(|&c| c == 1));
    // The fewest batches.
    assert_eq!(
        plan.batches().len(),
        expected.len().div_ceil(MAX_OPENIDS_PER_SEND)
    );
    // Deterministic.
    let again = SendPlan::new(
        "prop",
        MassMessage::text("t"),
        Audience::OpenIds(list),
        skip_invalid(),
    )
    .unwrap();
    assert_eq!(again, plan);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn every_valid_unique_openid_is_in_exactly_one_batch(
        len in 0usize..50_000,
        pool_per_cent in 1u64..150,
        invalid_per_mille in 0u64..50,
        seed in any::<u64>(),
    ) {
        let pool = (len as u64 * pool_per_cent / 100).max(1);
        check_plan(messy_list(len, pool, invalid_per_mille, seed));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Small lists reach the edges (0, 1, 2 recipients) often.
    #[test]
    fn small_lists_plan_or_refuse_correctly(
        len in 0usize..12,
        pool in 1u64..6,
        invalid_per_mille in 0u64..400,
        seed in any::<u64>(),
    ) {
        check_plan(messy_list(len, pool, invalid_per_mille, seed));
    }
}

#[test]
fn the_hash_seed_changes_nothing_in_the_plan() {
    // 30,000 OpenIDs with repeats: the seed only decides where the duplicate finder files
    // entries, so batches, recipients, clientmsgids and counts are the same for every seed.
    let ids: Vec<String> = (0..30_000)
        .map(|i| format!("oR5Gjjl_eiZoUpGozMo7{:08}", (i * 7) % 25_000))
        .collect();
    let plan = |seed: Option<u64>| {
        SendPlan::new(
            "job-seed",
            MassMessage::text("hello"),
            Audience::OpenIds(ids.clone()),
            PlanOptions {
                hash_seed: seed,
                ..service()
            },
        )
        .unwrap()
    };
    let unseeded = plan(None);
    assert_eq!(unseeded.duplicates_dropped(), 5_000);
    for seed in [0, 1, u64::MAX, 0x5eed_5eed_5eed_5eed] {
        assert_eq!(plan(Some(seed)), unseeded, "seed {seed}");
    }
}
