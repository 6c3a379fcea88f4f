//! Model test: random sequences of outcomes driven through `decide` (via
//! `BatchProgress::settle`) against a small model of WeChat's clientmsgid dedupe.
//!
//! Checked for every batch: every request carries the planned clientmsgid; no batch is ever
//! delivered twice (even when the driver crashes mid-request, or the job is re-planned after a
//! failure); every batch ends Done or Failed with a reason within a bounded number of steps; a
//! `Done` names the msg_id WeChat assigned; a failure that says "not delivered" is true.

use std::collections::HashMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use wxmass::error_code::ApiError;
use wxmass::limits::BATCH_ATTEMPTS_MAX;
use wxmass::plan::{
    AccountKind, Action, BatchProgress, BatchState, FailReason, Outcome, PlanOptions, SendPlan,
    StateError, UnixMillis,
};
use wxmass::{Audience, MassMessage, MsgId};

const T0: UnixMillis = UnixMillis(1_710_388_800_000);

/// What the network or WeChat does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Normal processing.
    None,
    /// WeChat processes it, the reply is lost (timeout after arrival).
    AcceptedReplyLost,
    /// The request never arrives (timeout before arrival).
    Timeout,
    /// WeChat's gateway answers 502 after processing it.
    BadGatewayAfter,
    /// -1 system busy (not processed).
    Busy,
    /// 40001 token invalid (not processed).
    Token,
    /// 45009 daily quota (not processed).
    Quota,
    /// 45066 spuriously (not processed).
    TooFast,
    /// Normal processing, but a 45065 comes without its msg_id.
    DuplicateWithoutMsgId,
}

const FAULTS: [(Fault, u64); 9] = [
    (Fault::None, 30),
    (Fault::AcceptedReplyLost, 12),
    (Fault::Timeout, 10),
    (Fault::BadGatewayAfter, 5),
    (Fault::Busy, 10),
    (Fault::Token, 10),
    (Fault::Quota, 6),
    (Fault::TooFast, 6),
    (Fault::DuplicateWithoutMsgId, 3),
];

/// WeChat, as far as clientmsgid goes: the first request with an id is delivered; a repeat
/// within a minute of the last is 45066; a later repeat is 45065 with the existing msg_id.
#[derive(Default)]
struct WeChat {
    sends: HashMap<String, MsgId>,
    last_seen: HashMap<String, UnixMillis>,
    deliveries: HashMap<String, u32>,
    next_msg_id: u64,
}

impl WeChat {
    fn call(&mut self, clientmsgid: &str, now: UnixMillis, fault: Fault) -> Outcome {
        match fault {
            Fault::Timeout => return Outcome::ReplyLost,
            Fault::Busy => return Outcome::Api(ApiError::new(-1, "system error")),
            Fault::Token => return Outcome::Api(ApiError::new(40001, "invalid credential")),
            Fault::Quota => {
                return Outcome::Api(ApiError::new(45009, "reach max api daily quota limit"))
            }
            Fault::TooFast => {
                return Outcome::Api(ApiError::new(45066, "clientmsgid retry too fast"))
            }
            _ => {}
        }
        let recent = self
            .last_seen
            .insert(clientmsgid.to_owned(), now)
            .is_some_and(|prev| now.0 - prev.0 < 60_000);
        let outcome = if recent {
            Outcome::Api(ApiError::new(45066, "clientmsgid retry too fast"))
        } else if let Some(&msg_id) = self.sends.get(clientmsgid) {
            let mut e = ApiError::new(45065, "clientmsgid exist");
            if fault != Fault::DuplicateWithoutMsgId {
                e.msg_id = Some(msg_id);
            }
            Outcome::Api(e)
        } else {
            self.next_msg_id += 1;
            let msg_id = MsgId(1_000_000_000_000_000_000 + self.next_msg_id);
            self.sends.insert(clientmsgid.to_owned(), msg_id);
            *self.deliveries.entry(clientmsgid.to_owned()).or_default() += 1;
            Outcome::Accepted(wxmass::endpoint::SendReply {
                msg_id,
                msg_data_id: None,
            })
        };
        match fault {
            Fault::AcceptedReplyLost => Outcome::ReplyLost,
            Fault::BadGatewayAfter => Outcome::HttpStatus(502),
            _ => outcome,
        }
    }

    fn delivered(&self, clientmsgid: &str) -> u32 {
        self.deliveries.get(clientmsgid).copied().unwrap_or(0)
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fault(&mut self, clean_per_cent: u64) -> Fault {
        if self.next() % 100 < clean_per_cent {
            return Fault::None;
        }
        let total: u64 = FAULTS.iter().map(|f| f.1).sum();
        let mut r = self.next() % total;
        for (fault, weight) in FAULTS {
            if r < weight {
                return fault;
            }
            r -= weight;
        }
        Fault::None
    }
}

fn plans() -> &'static [SendPlan] {
    static PLANS: OnceLock<Vec<SendPlan>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let ids: Vec<String> = (0..20_003u64).map(|n| format!("oModel{n:022}")).collect();
        let opts = PlanOptions::new(AccountKind::Service);
        vec![
            SendPlan::new(
                "model",
                MassMessage::text("hi"),
                Audience::OpenIds(ids),
                opts,
            )
            .unwrap(),
            SendPlan::new("model", MassMessage::text("hi"), Audience::Everyone, opts).unwrap(),
        ]
    })
}

/// How a batch ended.
#[derive(Debug)]
enum End {
    Done(MsgId),
    Failed(FailReason, bool),
}

/// Drives one batch to its end; returns the end and the steps taken.
fn drive(
    plan: &SendPlan,
    index: usize,
    wechat: &mut WeChat,
    rng: &mut Rng,
    clean_per_cent: u64,
    now: &mut UnixMillis,
) -> (End, u32) {
    let planned = plan.batches()[index].clientmsgid.clone();
    let mut progress = BatchProgress::new();
    let mut steps = 0u32;
    loop {
        steps += 1;
        assert!(
            steps <= 2 * BATCH_ATTEMPTS_MAX + 2,
            "batch {index} did not end: {progress:?}"
        );
        match progress.begin_attempt(*now) {
            Ok(_) => {}
            Err(StateError::TooEarly { not_before }) => {
                assert!(not_before > *now);
                *now = not_before;
                continue;
            }
            Err(StateError::Settled { .. }) => match progress.state() {
                BatchState::Failed {
                    reason,
                    maybe_delivered,
                } => return (End::Failed(reason.clone(), *maybe_delivered), steps),
                other => panic!("settled as {other:?}"),
            },
            Err(e) => panic!("{e}"),
        }
        // What a worker stores before sending.
        let stored = serde_json::to_string(&progress).unwrap();
        let request = plan.request(index).unwrap();
        assert_eq!(request.clientmsgid(), Some(planned.as_str()));
        let fault = rng.fault(clean_per_cent);
        let outcome = wechat.call(&planned, *now, fault);
        *now = now.plus_millis((rng.next() % 3_000) as i64);
        if rng.next() % 100 < 4 {
            // The driver dies before settling; a new one restores the stored progress.
            progress = serde_json::from_str(&stored).unwrap();
            *now = now.plus_millis((rng.next() % 90_000) as i64);
            continue;
        }
        match progress.settle(&outcome, *now, rng.next() as u32) {
            Action::Done { msg_id } => return (End::Done(msg_id), steps),
            Action::Fail {
                reason,
                maybe_delivered,
            } => return (End::Failed(reason, maybe_delivered), steps),
            Action::RetryAt { at } => assert!(at > *now),
            Action::WaitUntil { until } => assert!(until > *now),
            Action::RefreshTokenThenRetry => {}
        }
    }
}

fn run(seed: u64, clean_per_cent: u64) {
    let mut rng = Rng(seed);
    let mut wechat = WeChat::default();
    let mut now = T0;
    for plan in plans() {
        for b in plan.batches() {
            let id = &b.clientmsgid;
            let (end, steps) = drive(
                plan,
                b.index,
                &mut wechat,
                &mut rng,
                clean_per_cent,
                &mut now,
            );
            assert!(steps <= 2 * BATCH_ATTEMPTS_MAX + 2);
            assert!(wechat.delivered(id) <= 1, "{id} delivered twice");
            match end {
                End::Done(msg_id) => {
                    assert_eq!(wechat.delivered(id), 1);
                    assert_eq!(wechat.sends.get(id), Some(&msg_id));
                }
                End::Failed(reason, maybe_delivered) => {
                    assert!(!reason.explain(maybe_delivered).is_empty());
                    if reason == FailReason::DeliveredWithoutMsgId {
                        assert_eq!(wechat.delivered(id), 1);
                    }
                    if !maybe_delivered {
                        assert_eq!(wechat.delivered(id), 0, "{reason} but it was delivered");
                    }
                    // The operator re-plans the same job later and sends again through a
                    // clean network: the same clientmsgid cannot deliver twice.
                    let replanned = SendPlan::new(
                        plan.job_id(),
                        plan.message().clone(),
                        audience_of(plan),
                        PlanOptions::new(plan.account()),
                    )
                    .unwrap();
                    assert_eq!(replanned.batches()[b.index].clientmsgid, *id);
                    now = now.plus_millis(120_000);
                    let (end, _) = drive(&replanned, b.index, &mut wechat, &mut rng, 100, &mut now);
                    assert_eq!(wechat.delivered(id), 1, "{id}");
                    match end {
                        End::Done(msg_id) => assert_eq!(wechat.sends.get(id), Some(&msg_id)),
                        // A clean network can still say 45065 without msg_id? No: clean means
                        // every reply carries it. Any failure here is a bug.
                        End::Failed(reason, _) => panic!("re-send failed: {reason}"),
                    }
                }
            }
        }
    }
}

fn audience_of(plan: &SendPlan) -> Audience {
    if plan.recipients().is_empty() {
        Audience::Everyone
    } else {
        Audience::OpenIds(plan.recipients())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_batch_is_delivered_twice_and_every_batch_ends(
        seed in any::<u64>(),
        clean_per_cent in 0u64..90,
    ) {
        run(seed, clean_per_cent);
    }
}

#[test]
fn a_hostile_network_still_ends_every_batch() {
    // No clean replies at all: every batch must still end within the bound.
    for seed in 0..64 {
        run(seed, 0);
    }
}
