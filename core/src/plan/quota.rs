//! Account quotas: may a plan start now, and if not, when.
//!
//! WeChat counts mass sends per account in China days and China natural months (UTC+8), so a
//! quota used at 23:59 China time is free again one second later, whatever the caller's zone.
//! Core keeps no record of its own: the caller passes the ledger of past sends it knows of.
//!
//! | account | rule | limit | window |
//! |---|---|---|---|
//! | subscription | successful `sendall` (everyone or tag) | 1 | China day |
//! | subscription | `is_to_all: true` | 1 | China day |
//! | subscription | `mass/send` to OpenIDs | not available | — |
//! | service | API mass sends (`sendall` and `mass/send`; each batch is one) | 100 | China day |
//! | service | `is_to_all: true` (web-console sends count too) | 4 | China natural month |
//!
//! Only records with `succeeded: true` count: a call WeChat refused did not use the quota. The
//! ledger is the caller's knowledge, which can be incomplete (sends from the web console or
//! another tool); WeChat's own answer (45009, 45028) is the backstop, and
//! [`super::decide()`] turns it into a wait for the next window.
//!
//! Not checkable here: each follower receives at most 4 mass sends a natural month
//! ([`FOLLOWER_RECEIVES_PER_MONTH`]); WeChat silently drops the rest for that follower and the
//! MASSSENDJOBFINISH event's `FilterCount` shows how many. The plan summary says so.
//!
//! [`FOLLOWER_RECEIVES_PER_MONTH`]: crate::limits::FOLLOWER_RECEIVES_PER_MONTH

use std::fmt;

use serde::{Deserialize, Serialize};

use super::china_time::UnixMillis;
use crate::endpoint::EndpointName;
use crate::json_input::{parse_bytes, show, Json, Obj};
use crate::limits::{
    SERVICE_SENDS_PER_DAY, SERVICE_TO_ALL_PER_MONTH, SUBSCRIPTION_SENDALL_PER_DAY,
    SUBSCRIPTION_TO_ALL_PER_DAY,
};
use crate::validate::{index, Problems, Rule, ValidationError};

/// The kind of Official Account, which decides its quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// 订阅号 (verified): one `sendall` a day; no `mass/send` to OpenID lists.
    Subscription,
    /// 服务号 (verified): 100 API mass sends a day, `is_to_all` 4 times a month.
    Service,
}

impl AccountKind {
    /// `subscription` or `service`, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Subscription => "subscription",
            AccountKind::Service => "service",
        }
    }

    /// The kind named by [`AccountKind::as_str`].
    pub fn parse(name: &str) -> Option<AccountKind> {
        [AccountKind::Subscription, AccountKind::Service]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// Which endpoint a send used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendKind {
    /// `mass/sendall` (everyone or a tag).
    SendAll,
    /// `mass/send` (a list of OpenIDs).
    SendToUsers,
}

impl SendKind {
    /// `send_all` or `send_to_users`, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::SendAll => "send_all",
            SendKind::SendToUsers => "send_to_users",
        }
    }

    /// The kind named by [`SendKind::as_str`].
    pub fn parse(name: &str) -> Option<SendKind> {
        [SendKind::SendAll, SendKind::SendToUsers]
            .into_iter()
            .find(|k| k.as_str() == name)
    }

    /// The endpoint a send of this kind calls.
    pub fn endpoint(self) -> EndpointName {
        match self {
            SendKind::SendAll => EndpointName::SendAll,
            SendKind::SendToUsers => EndpointName::SendToUsers,
        }
    }

    /// The kind of a call to `endpoint`, if it is a send (what the quota rules count).
    pub fn of_endpoint(endpoint: EndpointName) -> Option<SendKind> {
        [SendKind::SendAll, SendKind::SendToUsers]
            .into_iter()
            .find(|k| k.endpoint() == endpoint)
    }
}

/// One past send of the account, as the caller recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentRecord {
    /// When the call was made.
    pub at: UnixMillis,
    /// The endpoint.
    pub kind: SendKind,
    /// Whether it was `is_to_all: true` (`toAll` is read too, for JS callers).
    #[serde(alias = "toAll")]
    pub to_all: bool,
    /// Whether WeChat accepted it (returned a msg_id, or 45065 with one). Refused calls do not
    /// count against a quota.
    pub succeeded: bool,
}

impl SentRecord {
    /// Reads a ledger of past sends from user JSON (the npm package's `summary({ ledger })`):
    /// an array of `{at, kind, to_all | toAll, succeeded}`, every problem with its path under
    /// `path` (`ledger[3].kind`).
    pub fn list_from_json(bytes: &[u8], path: &str) -> Result<Vec<SentRecord>, ValidationError> {
        const KINDS: &str = "send_all, send_to_users";
        let mut p = Problems::default();
        let items = match parse_bytes(bytes, &mut p) {
            Some(Json::Array(items)) => items,
            Some(other) => {
                p.push(
                    path,
                    Rule::Type {
                        expected: "an array",
                    },
                    Some(&show(&other)),
                );
                return Err(p.into_error());
            }
            None => return Err(p.into_error()),
        };
        let mut records = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Some(mut o) = Obj::new(item, &index(path, i), &mut p) else {
                continue;
            };
            let at = o.u64("at", "", &mut p);
            let kind_name = o.string("kind", "", &mut p);
            let kind = SendKind::parse(&kind_name);
            if kind.is_none() && !kind_name.is_empty() {
                p.push(
                    o.field_path("kind"),
                    Rule::OneOf { fields: KINDS },
                    Some(&kind_name),
                );
            }
            let to_all = o.bool("to_all", "toAll", &mut p);
            let succeeded = o.bool("succeeded", "", &mut p);
            o.finish(&mut p);
            if let (Some(at), Some(kind), Some(to_all), Some(succeeded)) = (
                at.and_then(|a| i64::try_from(a).ok()),
                kind,
                to_all,
                succeeded,
            ) {
                records.push(SentRecord {
                    at: UnixMillis(at),
                    kind,
                    to_all,
                    succeeded,
                });
            }
        }
        p.into_result().map(|()| records)
    }
}

/// The calls a plan makes, as quotas count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QuotaNeed {
    /// `sendall` calls (0 or 1).
    pub sendall_calls: usize,
    /// `mass/send` calls (one per batch).
    pub send_calls: usize,
    /// Whether the plan sends `is_to_all: true`.
    pub to_all: bool,
}

impl QuotaNeed {
    /// Every call of the plan.
    pub fn calls(&self) -> usize {
        self.sendall_calls.saturating_add(self.send_calls)
    }
}

/// A quota rule that can hold a plan back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaRule {
    /// Subscription: one successful `sendall` a China day.
    SubscriptionSendAllPerDay,
    /// Subscription: one `is_to_all` send a China day.
    SubscriptionToAllPerDay,
    /// Service: 100 API mass sends a China day.
    ServiceSendsPerDay,
    /// Service: 4 `is_to_all` sends a China natural month.
    ServiceToAllPerMonth,
}

impl fmt::Display for QuotaRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaRule::SubscriptionSendAllPerDay => write!(
                f,
                "a subscription account may make {SUBSCRIPTION_SENDALL_PER_DAY} successful sendall a day (China time)"
            ),
            QuotaRule::SubscriptionToAllPerDay => write!(
                f,
                "a subscription account may send to everyone {SUBSCRIPTION_TO_ALL_PER_DAY} time a day (China time)"
            ),
            QuotaRule::ServiceSendsPerDay => write!(
                f,
                "a service account may make {SERVICE_SENDS_PER_DAY} API mass sends a day (China time)"
            ),
            QuotaRule::ServiceToAllPerMonth => write!(
                f,
                "a service account may send to everyone {SERVICE_TO_ALL_PER_MONTH} times a natural month (China time), web-console sends included"
            ),
        }
    }
}

/// Whether a plan's next call may be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum QuotaDecision {
    /// It may start now.
    Now,
    /// Not before `at` (the start of the next China day or month), because of `rule`.
    NotBefore {
        /// Earliest start, in UTC.
        at: UnixMillis,
        /// The rule that holds it back (the latest-ending one).
        rule: QuotaRule,
    },
    /// Never on this account.
    Never {
        /// Why, for a person.
        reason: String,
    },
}

impl QuotaDecision {
    /// The earliest start given `now`, or `None` for never.
    pub fn start_at(&self, now: UnixMillis) -> Option<UnixMillis> {
        match self {
            QuotaDecision::Now => Some(now),
            QuotaDecision::NotBefore { at, .. } => Some(*at),
            QuotaDecision::Never { .. } => None,
        }
    }
}

impl fmt::Display for QuotaDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaDecision::Now => f.write_str("now"),
            QuotaDecision::NotBefore { at, rule } => {
                write!(f, "{} ({at}), because {rule}", at.china_display())
            }
            QuotaDecision::Never { reason } => write!(f, "never: {reason}"),
        }
    }
}

/// Why a subscription account can never carry an OpenID-list plan.
pub(crate) const SUBSCRIPTION_NO_OPENID_LIST: &str = "mass/send to a list of OpenIDs is only available to verified service accounts (订阅号不可用,服务号认证后可用); send to everyone or to a tag instead";

/// Counts of successful sends in one window.
fn count(
    ledger: &[SentRecord],
    from: UnixMillis,
    to: UnixMillis,
    pick: fn(&SentRecord) -> bool,
) -> usize {
    ledger
        .iter()
        .filter(|r| r.succeeded && r.at >= from && r.at < to && pick(r))
        .count()
}

/// The first rule that blocks one more call at `t`, with the window end that frees it.
fn blocked_at(
    account: AccountKind,
    ledger: &[SentRecord],
    need: &QuotaNeed,
    t: UnixMillis,
) -> Option<(UnixMillis, QuotaRule)> {
    let (day, next_day) = (t.china_day_start(), t.next_china_day());
    match account {
        AccountKind::Subscription => {
            let sendall = |r: &SentRecord| r.kind == SendKind::SendAll;
            let to_all = |r: &SentRecord| r.to_all;
            if need.sendall_calls > 0
                && count(ledger, day, next_day, sendall) >= SUBSCRIPTION_SENDALL_PER_DAY as usize
            {
                return Some((next_day, QuotaRule::SubscriptionSendAllPerDay));
            }
            if need.to_all
                && count(ledger, day, next_day, to_all) >= SUBSCRIPTION_TO_ALL_PER_DAY as usize
            {
                return Some((next_day, QuotaRule::SubscriptionToAllPerDay));
            }
            None
        }
        AccountKind::Service => {
            if need.to_all {
                let (month, next_month) = (t.china_month_start(), t.next_china_month());
                if count(ledger, month, next_month, |r| r.to_all)
                    >= SERVICE_TO_ALL_PER_MONTH as usize
                {
                    return Some((next_month, QuotaRule::ServiceToAllPerMonth));
                }
            }
            if count(ledger, day, next_day, |_| true) >= SERVICE_SENDS_PER_DAY as usize {
                return Some((next_day, QuotaRule::ServiceSendsPerDay));
            }
            None
        }
    }
}

/// Whether the next call of a plan needing `need` may be made at `now`, and if not, when.
///
/// The answer is for the plan's *next* call: a service-account plan of more batches than the
/// day has left may start now and continue on later days ([`days_needed`] says how many;
/// call this again before each batch, or let [`super::decide()`] handle WeChat's 45009).
pub fn earliest_start(
    account: AccountKind,
    ledger: &[SentRecord],
    need: &QuotaNeed,
    now: UnixMillis,
) -> QuotaDecision {
    if account == AccountKind::Subscription && need.send_calls > 0 {
        return QuotaDecision::Never {
            reason: SUBSCRIPTION_NO_OPENID_LIST.to_owned(),
        };
    }
    if need.calls() == 0 {
        return QuotaDecision::Now;
    }
    let mut t = now;
    let mut last_rule = None;
    // Each step moves to the end of a full window; a ledger can only fill finitely many
    // windows, but it can hold future-dated records, so bound the walk (a year of days).
    for _ in 0..400 {
        match blocked_at(account, ledger, need, t) {
            None => {
                return match last_rule {
                    None => QuotaDecision::Now,
                    Some(rule) => QuotaDecision::NotBefore { at: t, rule },
                }
            }
            Some((free_at, rule)) => {
                t = free_at;
                last_rule = Some(rule);
            }
        }
    }
    QuotaDecision::Never {
        reason: "the ledger fills every quota window for the next year".to_owned(),
    }
}

/// A plan's calls laid out over China days at the pacing limit, from its earliest start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// China days the calls span (0 when the plan cannot start).
    pub days: u32,
    /// When the last call goes out.
    pub last_call_at: Option<UnixMillis>,
}

/// Lays out `need`'s calls from `start`: per China day no more than the day has left, within a
/// day at most [`crate::limits::MAX_CALLS_PER_MINUTE`] a minute.
pub(crate) fn schedule(
    account: AccountKind,
    ledger: &[SentRecord],
    need: &QuotaNeed,
    start: UnixMillis,
) -> Schedule {
    use crate::limits::{MAX_CALLS_PER_MINUTE, PACER_WINDOW_MS};
    let calls = need.calls();
    if calls == 0 {
        return Schedule {
            days: 0,
            last_call_at: None,
        };
    }
    let per_day = match account {
        AccountKind::Subscription => SUBSCRIPTION_SENDALL_PER_DAY as usize,
        AccountKind::Service => SERVICE_SENDS_PER_DAY as usize,
    };
    let per_minute = MAX_CALLS_PER_MINUTE as usize;
    let used = |day: UnixMillis| count(ledger, day, day.next_china_day(), |_| true);
    let mut left = calls;
    let mut days = 0u32;
    let mut segment_start = start;
    let mut last = start;
    // At most `calls` days (each day carries at least one call after the first).
    while left > 0 && days as usize <= calls {
        let room = per_day.saturating_sub(used(segment_start.china_day_start()));
        let today = room.min(left);
        if today > 0 {
            let minutes = (today - 1) / per_minute;
            last = segment_start.plus_millis((minutes as i64).saturating_mul(PACER_WINDOW_MS));
            left -= today;
        }
        days += 1;
        segment_start = segment_start.next_china_day();
    }
    Schedule {
        days,
        last_call_at: Some(last),
    }
}

/// China days a plan needing `need` spans on `account`, starting at `start` (1 for a plan
/// that fits in what is left of the day).
pub fn days_needed(
    account: AccountKind,
    ledger: &[SentRecord],
    need: &QuotaNeed,
    start: UnixMillis,
) -> u32 {
    schedule(account, ledger, need, start).days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_kind_and_its_endpoint_name_the_same_call() {
        for kind in [SendKind::SendAll, SendKind::SendToUsers] {
            assert_eq!(SendKind::of_endpoint(kind.endpoint()), Some(kind));
            // What a ledger stores (the endpoint's short name) reads back as the kind.
            let stored = kind.endpoint().as_str();
            assert_eq!(
                EndpointName::parse(stored).and_then(SendKind::of_endpoint),
                Some(kind)
            );
        }
        assert_eq!(SendKind::of_endpoint(EndpointName::Preview), None);
    }

    #[test]
    fn service_plan_of_250_batches_spans_three_days() {
        let need = QuotaNeed {
            sendall_calls: 0,
            send_calls: 250,
            to_all: false,
        };
        // Midday China time, nothing used: 100 + 100 + 50.
        let noon = UnixMillis::from_secs(1_710_388_800); // 2024-03-14T04:00:00Z
        assert_eq!(days_needed(AccountKind::Service, &[], &need, noon), 3);
        let s = schedule(AccountKind::Service, &[], &need, noon);
        // Last call: two days later at 00:00 China time, plus 49 calls at 60 a minute (0 min).
        assert_eq!(s.last_call_at, Some(noon.next_china_day().next_china_day()));
    }

    #[test]
    fn empty_need_is_now() {
        let now = UnixMillis(0);
        assert_eq!(
            earliest_start(AccountKind::Subscription, &[], &QuotaNeed::default(), now),
            QuotaDecision::Now
        );
    }
}
