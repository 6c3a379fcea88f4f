//! A plan in terms a person checks before pressing "send": who, how many calls, when, how long,
//! which quota it spends, and the limits nobody can check in advance.

use std::fmt;

use serde::Serialize;

use super::china_time::UnixMillis;
use super::quota::{
    self, AccountKind, PendingSend, QuotaDecision, QuotaNeed, QuotaRule, Run, SentRecord,
};
use super::{Batch, InvalidOpenId};
use crate::audience::SendAllFilter;
use crate::limits::{
    FOLLOWER_RECEIVES_PER_MONTH, MAX_CALLS_PER_MINUTE, SERVICE_SENDS_PER_DAY,
    SERVICE_TO_ALL_PER_MONTH, SUBSCRIPTION_SENDALL_PER_DAY,
};
use crate::message::MassMessage;

/// What a plan will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// The job id.
    pub job_id: String,
    /// The message kind (`mpnews`, `text`, …); `msgType` in JSON, as the input names it.
    #[serde(rename = "msgType")]
    pub msgtype: &'static str,
    /// `everyone`, `tag <id>` or `openids`.
    pub audience: String,
    /// Recipients of an OpenID plan (valid and unique); `None` for a tag or everyone, whose size
    /// only WeChat knows.
    pub recipients: Option<usize>,
    /// Duplicate OpenIDs dropped.
    pub duplicates_dropped: usize,
    /// Invalid OpenIDs skipped.
    pub invalid_skipped: usize,
    /// The first skipped ones, with positions.
    pub invalid_shown: Vec<InvalidOpenId>,
    /// Calls (batches).
    pub batches: usize,
    /// Largest and smallest batch (OpenID plans).
    pub batch_sizes: Option<(usize, usize)>,
    /// When the first call may go out, given the ledger.
    pub earliest_start: QuotaDecision,
    /// China days the calls span at the account's daily quota (0 if it can never start).
    pub days_needed: u32,
    /// From the first call to the last at the pacing limit (60 calls a minute) and the daily
    /// quota, in milliseconds. WeChat's delivery after the last call is not included (it runs at
    /// the account's speed level, see `speed/get`).
    pub estimated_duration_ms: i64,
    /// The quota the plan spends.
    pub quota_used: QuotaNeed,
    /// Which batches go out on which China day, after the pending sends of earlier jobs (one
    /// entry a day, in order; empty when the plan can never start), so a person sees "batches
    /// 61–100 start 2030-03-08 00:00 China time" before pressing send.
    pub schedule: Vec<ScheduledDay>,
    /// Limits and warnings for a person.
    pub notes: Vec<String>,
    /// The same notes in Chinese, one for one (`notes_zh[i]` says `notes[i]`).
    pub notes_zh: Vec<String>,
}

/// The batches of a plan that go out on one China day.
///
/// JSON: `{"firstBatch":61,"lastBatch":100,"dayStartsAt":1899129600000,"startsAt":1899129600000}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledDay {
    /// The day's first batch, numbered from 1 (batch index + 1), as a person counts them.
    pub first_batch: usize,
    /// The day's last batch, numbered from 1.
    pub last_batch: usize,
    /// 00:00 China time (UTC+8) of the day, in Unix milliseconds: the day's name.
    pub day_starts_at: UnixMillis,
    /// When the first of these batches may go out: the plan's start on its first day, the
    /// day's start (or the start of the month whose quota frees it) on later days.
    pub starts_at: UnixMillis,
}

/// What a summary needs of a plan: an inline [`super::SendPlan`] and a
/// [`super::SealedPlan`] both give it.
pub(crate) struct Facts<'a> {
    pub job_id: &'a str,
    pub message: &'a MassMessage,
    pub account: AccountKind,
    pub batches: &'a [Batch],
    pub recipients: usize,
    pub duplicates_dropped: usize,
    pub invalid_skipped: usize,
    pub invalid_shown: &'a [InvalidOpenId],
    pub need: QuotaNeed,
}

pub(crate) fn summarize(
    plan: Facts<'_>,
    ledger: &[SentRecord],
    pending: &[PendingSend],
    now: UnixMillis,
) -> PlanSummary {
    let need = plan.need;
    let account = plan.account;
    let layout = quota::layout(account, ledger, pending, &need, now);
    let earliest_start = layout.start.clone();
    let days_needed = layout.days();
    let estimated_duration_ms = match (layout.runs.first(), layout.last_call_at()) {
        (Some(first), Some(last)) => last.0.saturating_sub(first.at.0),
        _ => 0,
    };
    let schedule: Vec<ScheduledDay> = layout
        .runs
        .iter()
        .map(|r| ScheduledDay {
            first_batch: r.first + 1,
            last_batch: r.first + r.len,
            day_starts_at: r.at.china_day_start(),
            starts_at: r.at,
        })
        .collect();
    let batches = plan.batches;
    let sizes = batches.iter().filter_map(Batch::recipient_count);
    let batch_sizes = sizes.clone().max().zip(sizes.min());
    let audience = match batches.first().map(|b| &b.recipients) {
        Some(super::BatchAudience::Filter(SendAllFilter::Everyone)) => "everyone".to_owned(),
        Some(super::BatchAudience::Filter(SendAllFilter::Tag(id))) => format!("tag {id}"),
        _ => "openids".to_owned(),
    };
    let recipients = (batch_sizes.is_some()).then_some(plan.recipients);

    // Each note in English and in Chinese, pushed together so the two lists stay one for one.
    let mut notes = Vec::new();
    let mut notes_zh = Vec::new();
    let mut note = |en: String, zh: String| {
        notes.push(en);
        notes_zh.push(zh);
    };
    note(
        format!("Each follower receives at most {FOLLOWER_RECEIVES_PER_MONTH} mass sends a natural month; WeChat silently drops the rest for that follower. This cannot be checked in advance: the MASSSENDJOBFINISH event's FilterCount shows its effect."),
        format!("每位粉丝每个自然月最多收到 {FOLLOWER_RECEIVES_PER_MONTH} 条群发，超出的部分微信会静默丢弃。这无法预先检查：MASSSENDJOBFINISH 推送的 FilterCount 反映其影响。"),
    );
    match account {
        AccountKind::Subscription => note(
            format!("A subscription account may make {SUBSCRIPTION_SENDALL_PER_DAY} successful sendall a day (China time, UTC+8)."),
            format!("订阅号每天（北京时间，UTC+8）可成功调用 sendall {SUBSCRIPTION_SENDALL_PER_DAY} 次。"),
        ),
        AccountKind::Service => note(
            format!("A service account may make {SERVICE_SENDS_PER_DAY} API mass sends a day (China time, UTC+8); each batch is one."),
            format!("服务号每天（北京时间，UTC+8）可进行 {SERVICE_SENDS_PER_DAY} 次 API 群发，每个批次算一次。"),
        ),
    }
    if need.to_all {
        match account {
            AccountKind::Subscription => note(
                "Sending to everyone enters the account's history list (once a day).".to_owned(),
                "发送给全部粉丝会进入公众号的历史消息列表（每天一次）。".to_owned(),
            ),
            AccountKind::Service => note(
                format!("Sending to everyone enters the account's history list: {SERVICE_TO_ALL_PER_MONTH} a natural month, sends from the web console included (they are not in the ledger)."),
                format!("发送给全部粉丝会进入公众号的历史消息列表：每个自然月 {SERVICE_TO_ALL_PER_MONTH} 次，含公众平台网页上的群发（它们不在记录中）。"),
            ),
        }
    }
    if days_needed > 1 {
        note(
            format!(
                "The plan spans {days_needed} China days: what the daily quota has left cannot carry all {} calls in one day.",
                batches.len()
            ),
            format!(
                "此计划跨 {days_needed} 个北京时间日：每日额度剩余的次数不够在一天内完成全部 {} 次调用。",
                batches.len()
            ),
        );
    }
    for (i, run) in layout.runs.iter().enumerate() {
        // The first day's batches need no note when they start at once.
        if i > 0 || run.at != now {
            let (en, zh) = held_note(run, &layout, now);
            note(en, zh);
        }
    }
    if plan.duplicates_dropped > 0 {
        note(
            format!(
                "{} dropped; each follower is sent to once.",
                count_of(
                    plan.duplicates_dropped,
                    "duplicate OpenID was",
                    "duplicate OpenIDs were"
                )
            ),
            format!(
                "已去除 {} 个重复的 OpenID，每位粉丝只发送一次。",
                plan.duplicates_dropped
            ),
        );
    }
    if plan.invalid_skipped > 0 {
        note(
            format!(
                "{} skipped and will not receive this send.",
                count_of(
                    plan.invalid_skipped,
                    "invalid OpenID was",
                    "invalid OpenIDs were"
                )
            ),
            format!(
                "已跳过 {} 个无效的 OpenID，它们不会收到这次群发。",
                plan.invalid_skipped
            ),
        );
    }
    if plan.message.msg_type().deletable() {
        note(
            "A sent mpnews/mpvideo can be deleted later; deleting one send breaks the article link for every send that reused the same material.".to_owned(),
            "已发送的图文或视频之后可以删除；删除一次群发会使复用同一素材的每次群发的文章链接都失效。".to_owned(),
        );
    }

    PlanSummary {
        job_id: plan.job_id.to_owned(),
        msgtype: plan.message.msg_type().as_str(),
        audience,
        recipients,
        duplicates_dropped: plan.duplicates_dropped,
        invalid_skipped: plan.invalid_skipped,
        invalid_shown: plan.invalid_shown.to_vec(),
        batches: batches.len(),
        batch_sizes,
        earliest_start,
        days_needed,
        estimated_duration_ms,
        quota_used: need,
        schedule,
        notes,
        notes_zh,
    }
}

/// `batches 61–100` / `batch 3` (numbered from 1).
fn batch_range(first: usize, last: usize) -> String {
    if first == last {
        format!("batch {first}")
    } else {
        format!("batches {first}–{last}")
    }
}

/// An instant as a person in China reads it, to the minute: `2030-03-08 00:00 China time`.
fn china_minute(t: UnixMillis) -> String {
    let d = t.china_date();
    let minutes = t.0.saturating_sub(t.china_day_start().0) / 60_000;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} China time",
        d.year,
        d.month,
        d.day,
        minutes / 60,
        minutes % 60
    )
}

/// The China day of `day` seen from `now`'s: `today`, `tomorrow` or `on 2030-03-09`.
fn day_word(day: UnixMillis, now: UnixMillis) -> String {
    match now.china_days_until(day) {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        _ => {
            let d = day.china_date();
            format!("on {:04}-{:02}-{:02}", d.year, d.month, d.day)
        }
    }
}

/// Why the batches of `run` start where they do, in English and in Chinese: e.g. `Batches
/// 61–100 start tomorrow, 2030-03-08 00:00 China time: the account's 100 mass sends a day are used
/// up today (40 by earlier jobs, 60 by this job's batches 1–60).`
fn held_note(run: &Run, layout: &quota::Layout, now: UnixMillis) -> (String, String) {
    let first = run.first + 1;
    let last = run.first + run.len;
    let what = batch_range(first, last);
    let what_zh = batch_range_zh(first, last);
    let verb = if first == last { "starts" } else { "start" };
    let at = china_minute(run.at);
    let at_zh = china_minute_zh(run.at);
    let (head, head_zh) = match now.china_days_until(run.at) {
        0 => (
            format!("{what} {verb} today, {at}"),
            format!("{what_zh}于今天 {at_zh} 开始"),
        ),
        1 => (
            format!("{what} {verb} tomorrow, {at}"),
            format!("{what_zh}于明天 {at_zh} 开始"),
        ),
        _ => (
            format!("{what} {verb} {at}"),
            format!("{what_zh}于 {at_zh} 开始"),
        ),
    };
    let head = capital(&head);
    let Some(rule) = run.held_by else {
        return (format!("{head}."), format!("{head_zh}。"));
    };
    // A held run starts at a window's start: the day before it is the last one found full.
    let full_day = run.at.plus_millis(-1).china_day_start();
    let use_ = layout.day_use(full_day);
    let mut by = Vec::new();
    let mut by_zh = Vec::new();
    let [sent, earlier, this] = use_.by;
    if sent > 0 {
        by.push(format!("{sent} already sent"));
        by_zh.push(format!("已发送 {sent} 次"));
    }
    if earlier > 0 {
        by.push(format!("{earlier} by earlier jobs"));
        by_zh.push(format!("之前的任务 {earlier} 次"));
    }
    if this > 0 {
        let ours = layout
            .runs
            .iter()
            .find(|r| r.at.china_day_start() == full_day);
        by.push(format!(
            "{this} by this job{}",
            ours.map(|r| format!("'s {}", batch_range(r.first + 1, r.first + r.len)))
                .unwrap_or_default()
        ));
        by_zh.push(format!(
            "本任务{} {this} 次",
            ours.map(|r| batch_range_zh(r.first + 1, r.first + r.len))
                .unwrap_or_default()
        ));
    }
    let (by, by_zh) = if by.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!(" ({})", by.join(", ")),
            format!("（{}）", by_zh.join("，")),
        )
    };
    let full = day_word(full_day, now);
    let full_zh = day_word_zh(full_day, now);
    let (why, why_zh) = match rule {
        QuotaRule::ServiceSendsPerDay => (
            format!(
                "the account's {SERVICE_SENDS_PER_DAY} mass sends a day are used up {full}{by}"
            ),
            format!("账号每天 {SERVICE_SENDS_PER_DAY} 次群发{full_zh}已用完{by_zh}"),
        ),
        QuotaRule::SubscriptionSendAllPerDay => (
            format!(
                "the account's {SUBSCRIPTION_SENDALL_PER_DAY} sendall a day is used up {full}{by}"
            ),
            format!("账号每天 {SUBSCRIPTION_SENDALL_PER_DAY} 次 sendall {full_zh}已用完{by_zh}"),
        ),
        // The monthly and to-everyone rules: the rule itself says it.
        rule => (rule.to_string(), rule.zh()),
    };
    (format!("{head}: {why}."), format!("{head_zh}：{why_zh}。"))
}

/// `第 61–100 批` / `第 3 批` (numbered from 1).
fn batch_range_zh(first: usize, last: usize) -> String {
    if first == last {
        format!("第 {first} 批")
    } else {
        format!("第 {first}–{last} 批")
    }
}

/// An instant to the minute in China time, in Chinese: `2030-03-08 00:00 北京时间`.
fn china_minute_zh(t: UnixMillis) -> String {
    china_minute(t).replace("China time", "北京时间")
}

/// The China day of `day` seen from `now`'s, in Chinese: `今天`, `明天` or `于 2030-03-09`.
fn day_word_zh(day: UnixMillis, now: UnixMillis) -> String {
    match now.china_days_until(day) {
        0 => "今天".to_owned(),
        1 => "明天".to_owned(),
        _ => {
            let d = day.china_date();
            format!("在 {:04}-{:02}-{:02} ", d.year, d.month, d.day)
        }
    }
}

/// `batches …` → `Batches …`.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `1 thing was` / `2 things were`.
fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Milliseconds as `1 d 2 h 3 min 4 s` (zero parts left out; `0 s` for nothing).
fn human_duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "min"),
        (secs % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if text.is_empty() {
        "0 s".to_owned()
    } else {
        text.join(" ")
    }
}

impl fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Send plan {:?}: {} to {}",
            self.job_id, self.msgtype, self.audience
        )?;
        match self.recipients {
            Some(n) => writeln!(f, "  recipients:         {n}")?,
            None => writeln!(
                f,
                "  recipients:         all followers in the audience (WeChat counts them)"
            )?,
        }
        writeln!(f, "  duplicates dropped: {}", self.duplicates_dropped)?;
        write!(f, "  invalid skipped:    {}", self.invalid_skipped)?;
        for bad in &self.invalid_shown {
            write!(f, " {bad}")?;
        }
        if self.invalid_skipped > self.invalid_shown.len() {
            write!(f, " …")?;
        }
        writeln!(f)?;
        write!(f, "  batches:            {}", self.batches)?;
        if let Some((max, min)) = self.batch_sizes {
            write!(f, " ({min} to {max} OpenIDs each)")?;
        }
        writeln!(f)?;
        writeln!(f, "  earliest start:     {}", self.earliest_start)?;
        writeln!(
            f,
            "  estimated duration: {} of calls at {MAX_CALLS_PER_MINUTE} a minute over {} China day(s)",
            human_duration(self.estimated_duration_ms),
            self.days_needed
        )?;
        writeln!(
            f,
            "  quota used:         {} sendall, {} send{}",
            self.quota_used.sendall_calls,
            self.quota_used.send_calls,
            if self.quota_used.to_all {
                ", 1 to everyone"
            } else {
                ""
            }
        )?;
        for (i, day) in self.schedule.iter().enumerate() {
            writeln!(
                f,
                "  {:<20}{} from {}",
                if i == 0 { "schedule:" } else { "" },
                batch_range(day.first_batch, day.last_batch),
                china_minute(day.starts_at)
            )?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(61_000), "1 min 1 s");
        assert_eq!(human_duration(86_400_000 + 3_600_000), "1 d 1 h");
    }
}
