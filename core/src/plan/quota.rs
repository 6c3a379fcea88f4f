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

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::china_time::UnixMillis;
use crate::endpoint::EndpointName;
use crate::json_input::{read_bytes, show, wire, Json, Obj};
use crate::limits::{
    MAX_CALLS_PER_MINUTE, PACER_WINDOW_MS, SERVICE_SENDS_PER_DAY, SERVICE_TO_ALL_PER_MONTH,
    SUBSCRIPTION_SENDALL_PER_DAY, SUBSCRIPTION_TO_ALL_PER_DAY,
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

/// Which endpoint a send used. Named as the endpoint is everywhere (`sendall`, `send`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SendKind {
    /// `mass/sendall` (everyone or a tag).
    #[serde(rename = "sendall")]
    SendAll,
    /// `mass/send` (a list of OpenIDs).
    #[serde(rename = "send")]
    SendToUsers,
}

impl SendKind {
    /// `sendall` or `send`: the endpoint's name, as serialized.
    pub fn as_str(self) -> &'static str {
        self.endpoint().as_str()
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
#[serde(rename_all = "camelCase")]
pub struct SentRecord {
    /// When the call was made.
    pub at: UnixMillis,
    /// The endpoint.
    pub kind: SendKind,
    /// Whether it was `is_to_all: true`.
    pub to_all: bool,
    /// Whether WeChat accepted it (returned a msg_id, or 45065 with one). Refused calls do not
    /// count against a quota.
    pub succeeded: bool,
}

impl SentRecord {
    /// Reads a ledger of past sends from user JSON (the npm package's `summary({ ledger })`):
    /// an array of `{at, kind, to_all | toAll, succeeded}`, every problem with its path under
    /// `path` (`ledger[3].kind`), in the caller's naming (`ledger[3].toAll`).
    pub fn list_from_json(bytes: &[u8], path: &str) -> Result<Vec<SentRecord>, ValidationError> {
        read_bytes(bytes, path, |json| Self::list_from_tree(json, path))
    }

    fn list_from_tree(json: Json<'_>, path: &str) -> Result<Vec<SentRecord>, ValidationError> {
        const KINDS: &str = "sendall, send";
        let mut p = Problems::default();
        let items = match json {
            Json::Array(items) => items,
            other => {
                p.push(
                    path,
                    Rule::Type {
                        expected: "an array",
                    },
                    Some(&show(&other)),
                );
                return Err(p.into_error());
            }
        };
        let mut records = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Some(mut o) = Obj::new(item, &index(path, i), &mut p) else {
                continue;
            };
            let at = o.u64(wire!("at"), &mut p);
            // Unix seconds read as milliseconds would be a send in 1970 that no window counts,
            // and the plan would promise a start the quota does not allow.
            let at = at.and_then(|a| match super::send_at::ledger_millis(a) {
                Ok(ms) => Some(ms.0),
                Err(e) => {
                    p.push(
                        o.field_path("at"),
                        Rule::Time { reason: e.reason() },
                        Some(&a.to_string()),
                    );
                    None
                }
            });
            let kind_name = o.string(wire!("kind"), &mut p);
            let kind = SendKind::parse(&kind_name);
            if kind.is_none() && !kind_name.is_empty() {
                p.push(
                    o.field_path("kind"),
                    Rule::OneOf { fields: KINDS },
                    Some(&kind_name),
                );
            }
            let to_all = o.bool(wire!("to_all"), &mut p);
            let succeeded = o.bool(wire!("succeeded"), &mut p);
            o.finish(&mut p);
            if let (Some(at), Some(kind), Some(to_all), Some(succeeded)) =
                (at, kind, to_all, succeeded)
            {
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
#[serde(rename_all = "camelCase")]
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

impl QuotaRule {
    /// The rule in Chinese words, as its `Display` says it in English (the admin console's
    /// Chinese page shows this one).
    pub fn zh(&self) -> String {
        match self {
            QuotaRule::SubscriptionSendAllPerDay => format!(
                "订阅号每天（北京时间）可成功调用 sendall {SUBSCRIPTION_SENDALL_PER_DAY} 次"
            ),
            QuotaRule::SubscriptionToAllPerDay => format!(
                "订阅号每天（北京时间）可发送给全部粉丝 {SUBSCRIPTION_TO_ALL_PER_DAY} 次"
            ),
            QuotaRule::ServiceSendsPerDay => format!(
                "服务号每天（北京时间）可进行 {SERVICE_SENDS_PER_DAY} 次 API 群发"
            ),
            QuotaRule::ServiceToAllPerMonth => format!(
                "服务号每个自然月（北京时间）可发送给全部粉丝 {SERVICE_TO_ALL_PER_MONTH} 次，含公众平台网页上的群发"
            ),
        }
    }
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
#[serde(rename_all_fields = "camelCase")]
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
        /// The same in Chinese (`reasonZh`).
        reason_zh: String,
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
            QuotaDecision::Never { reason, .. } => write!(f, "never: {reason}"),
        }
    }
}

/// Why a subscription account can never carry an OpenID-list plan.
pub(crate) const SUBSCRIPTION_NO_OPENID_LIST: &str = "mass/send to a list of OpenIDs is only available to verified service accounts (订阅号不可用,服务号认证后可用); send to everyone or to a tag instead";
/// The same in Chinese.
const SUBSCRIPTION_NO_OPENID_LIST_ZH: &str =
    "按 OpenID 列表群发（mass/send）仅认证服务号可用，订阅号不可用；请改为发给全部粉丝或按标签群发";

impl QuotaDecision {
    /// Never, for the reason `en` (`zh` in Chinese).
    fn never(en: &str, zh: &str) -> QuotaDecision {
        QuotaDecision::Never {
            reason: en.to_owned(),
            reason_zh: zh.to_owned(),
        }
    }

    /// A subscription account and a list of OpenIDs.
    fn subscription_no_openid_list() -> QuotaDecision {
        QuotaDecision::never(SUBSCRIPTION_NO_OPENID_LIST, SUBSCRIPTION_NO_OPENID_LIST_ZH)
    }
}

/// The successful sends a quota rule counts: of which kind, in which window around an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// `sendall` calls in the China day.
    SendAllInDay,
    /// `is_to_all` calls in the China day.
    ToAllInDay,
    /// Calls of any kind in the China day.
    AnyInDay,
    /// `is_to_all` calls in the China natural month.
    ToAllInMonth,
}

/// One quota rule as it applies to one more call at an instant.
#[derive(Debug, Clone, Copy)]
struct Limit {
    rule: QuotaRule,
    /// Calls the window allows.
    limit: usize,
    /// What the window's calls are counted from.
    counted: Counted,
    /// When the window ends (and the quota is free again).
    window_end: UnixMillis,
}

/// The rules that apply to one more call (`sendall`: a `mass/sendall`; `to_all`: with
/// `is_to_all`) on `account` at `t`: the table of the module doc, in the order a blocked call
/// reports them. The one statement of the rules; the ledger check ([`earliest_start`]) and the
/// layout of several jobs ([`layout`]) both read it, each counting only the windows it names
/// (the cron checks a month's ledger before every batch).
fn limits(account: AccountKind, sendall: bool, to_all: bool, t: UnixMillis) -> [Option<Limit>; 2] {
    let day = |rule, limit: u32, counted| Limit {
        rule,
        limit: limit as usize,
        counted,
        window_end: t.next_china_day(),
    };
    match account {
        AccountKind::Subscription => [
            sendall.then(|| {
                day(
                    QuotaRule::SubscriptionSendAllPerDay,
                    SUBSCRIPTION_SENDALL_PER_DAY,
                    Counted::SendAllInDay,
                )
            }),
            to_all.then(|| {
                day(
                    QuotaRule::SubscriptionToAllPerDay,
                    SUBSCRIPTION_TO_ALL_PER_DAY,
                    Counted::ToAllInDay,
                )
            }),
        ],
        AccountKind::Service => [
            to_all.then(|| Limit {
                rule: QuotaRule::ServiceToAllPerMonth,
                limit: SERVICE_TO_ALL_PER_MONTH as usize,
                counted: Counted::ToAllInMonth,
                window_end: t.next_china_month(),
            }),
            Some(day(
                QuotaRule::ServiceSendsPerDay,
                SERVICE_SENDS_PER_DAY,
                Counted::AnyInDay,
            )),
        ],
    }
}

/// The first rule of `limits` whose window is full by `used`, with the window end that frees it.
fn first_blocking(
    limits: &[Option<Limit>; 2],
    used: impl Fn(Counted) -> usize,
) -> Option<(UnixMillis, QuotaRule)> {
    limits
        .iter()
        .flatten()
        .find(|l| used(l.counted) >= l.limit)
        .map(|l| (l.window_end, l.rule))
}

/// Successful sends of `ledger` that `counted` counts in its window around `t`.
fn count_in_ledger(ledger: &[SentRecord], t: UnixMillis, counted: Counted) -> usize {
    let (from, to) = match counted {
        Counted::ToAllInMonth => (t.china_month_start(), t.next_china_month()),
        _ => (t.china_day_start(), t.next_china_day()),
    };
    let pick: fn(&SentRecord) -> bool = match counted {
        Counted::SendAllInDay => |r| r.kind == SendKind::SendAll,
        Counted::ToAllInDay | Counted::ToAllInMonth => |r| r.to_all,
        Counted::AnyInDay => |_| true,
    };
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
    let rules = limits(account, need.sendall_calls > 0, need.to_all, t);
    first_blocking(&rules, |counted| count_in_ledger(ledger, t, counted))
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
        return QuotaDecision::subscription_no_openid_list();
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
    QuotaDecision::never(
        "the ledger fills every quota window for the next year",
        "发送记录已占满未来一年的每个额度窗口",
    )
}

/// The window a quota rule counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaWindow {
    /// The China day (00:00 to 24:00, UTC+8).
    Day,
    /// The China natural month.
    Month,
}

/// One quota rule of an account as it stands at an instant: how much of its current window the
/// ledger has used and what is left, for a person (the worker's `GET /api/status`, the admin
/// console). JSON: `{"rule":"service_sends_per_day","window":"day","limit":100,"used":3,
/// "left":97,"resetsAt":…,"text":"a service account may make 100 API mass sends a day (China time)"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// The rule.
    pub rule: QuotaRule,
    /// The window it counts in.
    pub window: QuotaWindow,
    /// Successful calls the window allows.
    pub limit: usize,
    /// Successful calls of the ledger that the rule counts in the current window.
    pub used: usize,
    /// `limit - used`, never below 0.
    pub left: usize,
    /// When the current window ends and the quota is whole again.
    pub resets_at: UnixMillis,
    /// The rule in words (its `Display`).
    pub text: String,
    /// The rule in Chinese words ([`QuotaRule::zh`]).
    pub text_zh: String,
}

/// Every quota rule of `account` at `now` (the table of the module doc), with what `ledger` has
/// used of its current window. Only successful sends count, as for [`earliest_start`]; sends the
/// ledger does not know of (the web console's) are not in it, which `text` of the monthly
/// to-everyone rule says.
pub fn usage(account: AccountKind, ledger: &[SentRecord], now: UnixMillis) -> Vec<QuotaUsage> {
    limits(account, true, true, now)
        .into_iter()
        .flatten()
        .map(|l| {
            let used = count_in_ledger(ledger, now, l.counted);
            QuotaUsage {
                rule: l.rule,
                window: match l.counted {
                    Counted::ToAllInMonth => QuotaWindow::Month,
                    _ => QuotaWindow::Day,
                },
                limit: l.limit,
                used,
                left: l.limit.saturating_sub(used),
                resets_at: l.window_end,
                text: l.rule.to_string(),
                text_zh: l.rule.zh(),
            }
        })
        .collect()
}

/// A call of another job that is planned but not made yet (a batch of a pending or scheduled
/// job). The account's quota is shared, so these go before a new plan's calls: see
/// [`super::SendPlan::summary_with_pending`]. Serde (`notBefore` or `not_before`, `kind`
/// (`sendall` or `send`), `toAll` or `to_all`), so the worker and the npm package can pass them
/// as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSend {
    /// The earliest the call can go out: its job's send time. A call not made yet cannot go out
    /// in the past, so for an overdue one pass the current time (the caller's clock; core has
    /// none): a past `not_before` puts it on a past day, where it takes no quota.
    #[serde(alias = "not_before")]
    pub not_before: UnixMillis,
    /// The endpoint it will call.
    pub kind: SendKind,
    /// Whether it is `is_to_all: true`.
    #[serde(alias = "to_all")]
    pub to_all: bool,
}

/// Who spent the quota of a day (for the summary's notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A send in the ledger.
    Sent = 0,
    /// A pending send of another job.
    Earlier = 1,
    /// A call of the plan being laid out.
    This = 2,
}

/// The calls of one China day in a [`Layout`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DayUse {
    sendall: usize,
    to_all: usize,
    /// Calls of any kind, by [`Origin`].
    pub by: [usize; 3],
}

/// Calls per China day and `is_to_all` calls per China month, from the ledger and from what a
/// layout has placed: the windows' counts, kept by window start so that placing the calls of
/// many jobs costs a lookup per window rather than a scan of the ledger.
#[derive(Debug)]
struct Book {
    account: AccountKind,
    days: BTreeMap<i64, DayUse>,
    months_to_all: BTreeMap<i64, usize>,
    /// The longest walk over full windows one placement can take (see [`Book::place`]).
    steps_max: usize,
}

impl Book {
    fn new(account: AccountKind, ledger: &[SentRecord], steps_max: usize) -> Book {
        let mut book = Book {
            account,
            days: BTreeMap::new(),
            months_to_all: BTreeMap::new(),
            steps_max,
        };
        for r in ledger.iter().filter(|r| r.succeeded) {
            book.record(r.at, r.kind, r.to_all, 1, Origin::Sent);
        }
        book
    }

    /// What `counted` counts in its window around `t`.
    fn count(&self, t: UnixMillis, counted: Counted) -> usize {
        let day = self.day(t.china_day_start());
        match counted {
            Counted::SendAllInDay => day.sendall,
            Counted::ToAllInDay => day.to_all,
            Counted::AnyInDay => day.by.iter().sum(),
            Counted::ToAllInMonth => self
                .months_to_all
                .get(&t.china_month_start().0)
                .copied()
                .unwrap_or(0),
        }
    }

    fn day(&self, day_start: UnixMillis) -> DayUse {
        self.days.get(&day_start.0).copied().unwrap_or_default()
    }

    fn record(&mut self, t: UnixMillis, kind: SendKind, to_all: bool, n: usize, origin: Origin) {
        let day = self.days.entry(t.china_day_start().0).or_default();
        if kind == SendKind::SendAll {
            day.sendall += n;
        }
        if to_all {
            day.to_all += n;
            *self
                .months_to_all
                .entry(t.china_month_start().0)
                .or_default() += n;
        }
        if let Some(by) = day.by.get_mut(origin as usize) {
            *by += n;
        }
    }

    /// Places `count` calls of one kind at the earliest instants from `from` that the rules
    /// allow, as many in each window as it has room for, and records them. Calls `run(at, n,
    /// held_by)` for each group placed at one instant (`held_by`: the rule that moved it past
    /// `from` or past the previous group). `false` when the calls cannot be placed at all.
    fn place(
        &mut self,
        (kind, to_all): (SendKind, bool),
        from: UnixMillis,
        mut count: usize,
        origin: Origin,
        mut run: impl FnMut(UnixMillis, usize, Option<QuotaRule>),
    ) -> bool {
        let mut t = from;
        let mut held_by = None;
        let mut steps = 0usize;
        while count > 0 {
            let rules = limits(self.account, kind == SendKind::SendAll, to_all, t);
            if let Some((free_at, rule)) = first_blocking(&rules, |c| self.count(t, c)) {
                // A window end at the end of time cannot move on; see `steps_max`.
                steps += 1;
                if free_at <= t || steps > self.steps_max {
                    return false;
                }
                t = free_at;
                held_by = Some(rule);
                continue;
            }
            // No rule (a subscription account's mass/send, refused before it is laid out):
            // nothing limits the window.
            let room = rules
                .iter()
                .flatten()
                .map(|l| l.limit.saturating_sub(self.count(t, l.counted)))
                .min()
                .unwrap_or(count);
            let n = room.min(count);
            self.record(t, kind, to_all, n, origin);
            run(t, n, held_by.take());
            count -= n;
        }
        true
    }
}

/// Calls of a plan placed at one instant: the whole of its China day's share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    /// The first call's position in the plan (from 0).
    pub first: usize,
    /// Calls.
    pub len: usize,
    /// When the first of them may go out: the plan's start, or the start of a China day (or
    /// month) whose quota is free.
    pub at: UnixMillis,
    /// The rule that moved it here from the plan's start or from the previous run.
    pub held_by: Option<QuotaRule>,
}

/// A plan's calls laid out over China days after the pending calls of earlier jobs.
#[derive(Debug)]
pub(crate) struct Layout {
    /// When the plan's first call may go out.
    pub start: QuotaDecision,
    /// The plan's calls, a run per China day, in order (empty when it can never start).
    pub runs: Vec<Run>,
    book: Book,
}

impl Layout {
    /// China days from the first call to the last (0 when the plan cannot start).
    pub fn days(&self) -> u32 {
        match (self.runs.first(), self.runs.last()) {
            (Some(first), Some(last)) => {
                let days = first.at.china_days_until(last.at).saturating_add(1);
                u32::try_from(days).unwrap_or(u32::MAX)
            }
            _ => 0,
        }
    }

    /// The last call, at the pacing limit within its day.
    pub fn last_call_at(&self) -> Option<UnixMillis> {
        let last = self.runs.last()?;
        let minutes = last.len.saturating_sub(1) / MAX_CALLS_PER_MINUTE as usize;
        Some(
            last.at
                .plus_millis((minutes as i64).saturating_mul(PACER_WINDOW_MS)),
        )
    }

    /// The calls the layout has on the China day starting at `day_start`, by origin.
    pub fn day_use(&self, day_start: UnixMillis) -> DayUse {
        self.book.day(day_start)
    }
}

/// Lays out a plan needing `need` from `now`, after the `pending` calls of earlier jobs.
///
/// The pending calls go first, in order of `not_before` (earlier jobs were created first), each
/// at the earliest instant from its `not_before` that the rules allow given the ledger and the
/// calls placed before it; then the plan's calls (its `sendall`, then its `mass/send` batches),
/// each China day taking as many as the day has room for. Within a day, calls go at the pacing
/// limit from the day's first; the pending calls' pacing is not counted (at most a minute or two
/// a day).
pub(crate) fn layout(
    account: AccountKind,
    ledger: &[SentRecord],
    pending: &[PendingSend],
    need: &QuotaNeed,
    now: UnixMillis,
) -> Layout {
    // Every full window holds a ledger record or a placed call, and a walk visits each window
    // once, so no placement walks further than this.
    let steps_max = ledger
        .len()
        .saturating_add(pending.len())
        .saturating_add(need.calls())
        .saturating_mul(2)
        .saturating_add(2);
    let mut out = Layout {
        start: QuotaDecision::Now,
        runs: Vec::new(),
        book: Book::new(account, ledger, steps_max),
    };
    if account == AccountKind::Subscription && need.send_calls > 0 {
        out.start = QuotaDecision::subscription_no_openid_list();
        return out;
    }

    let mut order: Vec<&PendingSend> = pending.iter().collect();
    order.sort_by_key(|p| p.not_before);
    // Calls of one kind are placed in order of `not_before`, and windows only fill, so each
    // starts its walk where the previous one of its kind was placed: the walk over the days
    // that earlier calls filled is not repeated for every call.
    let mut placed_up_to: [Option<UnixMillis>; 4] = [None; 4];
    for group in
        order.chunk_by(|a, b| (a.not_before, a.kind, a.to_all) == (b.not_before, b.kind, b.to_all))
    {
        let Some(&&first) = group.first() else {
            continue;
        };
        let class = usize::from(first.kind == SendKind::SendAll) * 2 + usize::from(first.to_all);
        let Some(cursor) = placed_up_to.get_mut(class) else {
            continue;
        };
        let from = cursor.map_or(first.not_before, |c| c.max(first.not_before));
        let mut last = from;
        // A pending call that can never be placed takes no quota.
        out.book.place(
            (first.kind, first.to_all),
            from,
            group.len(),
            Origin::Earlier,
            |at, _, _| last = at,
        );
        *cursor = Some(last);
    }

    let mut runs = Vec::new();
    let mut next = 0usize;
    let mut from = now;
    for (kind, to_all, count) in [
        (SendKind::SendAll, need.to_all, need.sendall_calls),
        (SendKind::SendToUsers, false, need.send_calls),
    ] {
        if count == 0 {
            continue;
        }
        let placed = out.book.place(
            (kind, to_all),
            from,
            count,
            Origin::This,
            |at, len, held_by| {
                runs.push(Run {
                    first: next,
                    len,
                    at,
                    held_by,
                });
                next += len;
                from = at;
            },
        );
        if !placed {
            break;
        }
    }
    out.start = match runs.first() {
        Some(Run {
            at,
            held_by: Some(rule),
            ..
        }) => QuotaDecision::NotBefore {
            at: *at,
            rule: *rule,
        },
        Some(_) => QuotaDecision::Now,
        None if need.calls() == 0 => QuotaDecision::Now,
        None => QuotaDecision::never(
            "every quota window is full as far as time can be counted",
            "在可计算的时间范围内，每个额度窗口都已占满",
        ),
    };
    out.runs = runs;
    out
}

/// China days a plan needing `need` spans on `account`, starting at `start` (1 for a plan
/// that fits in what is left of the day; 0 for one that can never start).
pub fn days_needed(
    account: AccountKind,
    ledger: &[SentRecord],
    need: &QuotaNeed,
    start: UnixMillis,
) -> u32 {
    layout(account, ledger, &[], need, start).days()
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
        let l = layout(AccountKind::Service, &[], &[], &need, noon);
        // Last call: two days later at 00:00 China time, plus 49 calls at 60 a minute (0 min).
        assert_eq!(
            l.last_call_at(),
            Some(noon.next_china_day().next_china_day())
        );
        let runs: Vec<(usize, usize)> = l.runs.iter().map(|r| (r.first, r.len)).collect();
        assert_eq!(runs, [(0, 100), (100, 100), (200, 50)]);
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
