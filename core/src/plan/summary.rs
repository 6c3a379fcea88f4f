//! A plan in terms a person checks before pressing "send": who, how many calls, when, how long,
//! which quota it spends, and the limits nobody can check in advance.

use std::fmt;

use serde::Serialize;

use super::china_time::UnixMillis;
use super::quota::{self, AccountKind, QuotaDecision, QuotaNeed, SentRecord};
use super::{Batch, InvalidOpenId, SendPlan};
use crate::audience::SendAllFilter;
use crate::limits::{
    FOLLOWER_RECEIVES_PER_MONTH, MAX_CALLS_PER_MINUTE, SERVICE_SENDS_PER_DAY,
    SERVICE_TO_ALL_PER_MONTH, SUBSCRIPTION_SENDALL_PER_DAY,
};

/// What a plan will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    /// The job id.
    pub job_id: String,
    /// The message kind (`mpnews`, `text`, …).
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
    /// Limits and warnings for a person.
    pub notes: Vec<String>,
}

pub(crate) fn summarize(plan: &SendPlan, ledger: &[SentRecord], now: UnixMillis) -> PlanSummary {
    let need = plan.quota_need();
    let account = plan.account();
    let earliest_start = quota::earliest_start(account, ledger, &need, now);
    let (days_needed, estimated_duration_ms) = match earliest_start.start_at(now) {
        Some(start) => {
            let s = quota::schedule(account, ledger, &need, start);
            let duration = s
                .last_call_at
                .map_or(0, |last| last.0.saturating_sub(start.0));
            (s.days, duration)
        }
        None => (0, 0),
    };
    let batches = plan.batches();
    let sizes = batches.iter().filter_map(Batch::recipient_count);
    let batch_sizes = sizes.clone().max().zip(sizes.min());
    let audience = match batches.first().map(|b| &b.recipients) {
        Some(super::BatchAudience::Filter(SendAllFilter::Everyone)) => "everyone".to_owned(),
        Some(super::BatchAudience::Filter(SendAllFilter::Tag(id))) => format!("tag {id}"),
        _ => "openids".to_owned(),
    };
    let recipients = (batch_sizes.is_some()).then(|| plan.recipient_count());

    let mut notes = Vec::new();
    notes.push(format!(
        "Each follower receives at most {FOLLOWER_RECEIVES_PER_MONTH} mass sends a natural month; WeChat silently drops the rest for that follower. This cannot be checked in advance: the MASSSENDJOBFINISH event's FilterCount shows its effect."
    ));
    match account {
        AccountKind::Subscription => notes.push(format!(
            "A subscription account may make {SUBSCRIPTION_SENDALL_PER_DAY} successful sendall a day (China time, UTC+8)."
        )),
        AccountKind::Service => notes.push(format!(
            "A service account may make {SERVICE_SENDS_PER_DAY} API mass sends a day (China time, UTC+8); each batch is one."
        )),
    }
    if need.to_all {
        notes.push(match account {
            AccountKind::Subscription => "Sending to everyone enters the account's history list (once a day).".to_owned(),
            AccountKind::Service => format!("Sending to everyone enters the account's history list: {SERVICE_TO_ALL_PER_MONTH} a natural month, sends from the web console included (they are not in the ledger)."),
        });
    }
    if days_needed > 1 {
        notes.push(format!(
            "The plan spans {days_needed} China days: the daily quota cannot carry all {} calls in one day.",
            batches.len()
        ));
    }
    if plan.duplicates_dropped() > 0 {
        notes.push(format!(
            "{} dropped; each follower is sent to once.",
            count_of(
                plan.duplicates_dropped(),
                "duplicate OpenID was",
                "duplicate OpenIDs were"
            )
        ));
    }
    if plan.invalid_skipped() > 0 {
        notes.push(format!(
            "{} skipped and will not receive this send.",
            count_of(
                plan.invalid_skipped(),
                "invalid OpenID was",
                "invalid OpenIDs were"
            )
        ));
    }
    if plan.message().msg_type().deletable() {
        notes.push("A sent mpnews/mpvideo can be deleted later; deleting one send breaks the article link for every send that reused the same material.".to_owned());
    }

    PlanSummary {
        job_id: plan.job_id().to_owned(),
        msgtype: plan.message().msg_type().as_str(),
        audience,
        recipients,
        duplicates_dropped: plan.duplicates_dropped(),
        invalid_skipped: plan.invalid_skipped(),
        invalid_shown: plan.invalid_shown().to_vec(),
        batches: batches.len(),
        batch_sizes,
        earliest_start,
        days_needed,
        estimated_duration_ms,
        quota_used: need,
        notes,
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
