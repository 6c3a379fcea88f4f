//! How a batch's send ended, by WeChat's own account of it — one rule for every path.
//!
//! WeChat tells the end of a send two ways: the MASSSENDJOBFINISH push (a `Status` and four
//! counts) and, when the push never came, `mass/get` (a `msg_status` without counts). Before this
//! rule, a push saying `send fail` or `err(30003)` left a batch "finished" while `mass/get`'s
//! `SEND_FAIL` made it "failed": two paths, two answers. Every caller (the worker's push
//! handler, its status checks, its views) asks this module instead.
//!
//! | WeChat says | recipients reached | outcome |
//! |---|---|---|
//! | `send success`, `ErrorCount` 0 | any, or an empty tag | [`Delivery::Delivered`] (followers WeChat filtered out — the four-a-month cap, refusals — are its rule, not a failure of the send: the text counts them) |
//! | `send success`, `ErrorCount` > 0 | `SentCount` > 0 | [`Delivery::PartlyDelivered`] |
//! | `send success` | `SentCount` 0 of `TotalCount` > 0 | [`Delivery::Refused`]: it reached no one |
//! | `send fail`, `err(N)`, an unknown status | `SentCount` 0 | [`Delivery::Refused`], with `err(N)`'s meaning from the audit table and what to do (30003: the originality check judged an article a reprint and the send was set to stop; send again with `sendIgnoreReprint`, or replace the article) |
//! | `send fail`, `err(N)`, an unknown status | `SentCount` > 0 | [`Delivery::PartlyDelivered`] |
//! | mass/get `SEND_SUCCESS`, `DELETE` | unknown (no counts) | [`Delivery::Delivered`] |
//! | mass/get `SEND_FAIL` | unknown | [`Delivery::Refused`] |
//! | a batch that never reached WeChat (core's [`FailReason`]) | none | [`Delivery::Refused`] |
//!
//! A job's state follows from its batches' ([`job_state`]): `finished` only when every batch not
//! cancelled was delivered, `failed` when none was delivered even in part, `partly_failed`
//! otherwise.

use std::fmt::Write as _;

use serde::Serialize;

use super::decide::{FailReason, JobResult};
use crate::endpoint::MsgStatus;
use crate::event::{AuditReason, MassSendStatus};

/// Whether a batch reached its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// WeChat delivered it.
    Delivered,
    /// WeChat delivered it to some recipients and not to others.
    PartlyDelivered,
    /// It reached no one: WeChat refused or failed it, or it was never sent.
    Refused,
}

impl Delivery {
    /// Stable machine name: `delivered`, `partly_delivered`, `refused`.
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::PartlyDelivered => "partly_delivered",
            Delivery::Refused => "refused",
        }
    }

    /// Reads [`Delivery::name`] back (a stored column); `None` for anything else.
    pub fn parse(name: &str) -> Option<Delivery> {
        [
            Delivery::Delivered,
            Delivery::PartlyDelivered,
            Delivery::Refused,
        ]
        .into_iter()
        .find(|d| d.name() == name)
    }
}

/// How one batch ended: [`Delivery`] and why, in English and Chinese, for a person.
///
/// JSON (the JS model): `{"delivery":"refused","en":"…","zh":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    /// Delivered, partly delivered or refused.
    pub delivery: Delivery,
    /// What happened, in English.
    pub en: String,
    /// What happened, in Chinese.
    pub zh: String,
}

/// The four counts of a MASSSENDJOBFINISH push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResultCounts {
    /// `TotalCount`: followers of the tag, or OpenIDs of the list.
    pub total: u64,
    /// `FilterCount`: left after WeChat's filters.
    pub filter: u64,
    /// `SentCount`: delivered.
    pub sent: u64,
    /// `ErrorCount`: not delivered.
    pub error: u64,
}

/// 25001 → `25,001`: the counts a person compares with WeChat's console.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// ` (F after WeChat's filters, E errors)` — what the counts say beyond sent and total.
fn count_details(c: &ResultCounts) -> (String, String) {
    let mut en = String::new();
    let mut zh = String::new();
    if c.filter < c.total {
        let _ = write!(
            en,
            "; {} left out by WeChat's filters (the four-sends-a-month cap per follower, refusals)",
            grouped(c.total - c.filter)
        );
        let _ = write!(
            zh,
            "；{} 人被微信过滤（每位粉丝每月最多收 4 次群发、拒收等）",
            grouped(c.total - c.filter)
        );
    }
    if c.error > 0 {
        let _ = write!(en, "; {} could not be reached", grouped(c.error));
        let _ = write!(zh, "；{} 人发送失败", grouped(c.error));
    }
    (en, zh)
}

/// What a person can do about an `err(N)` refusal.
fn audit_advice(reason: AuditReason) -> (&'static str, &'static str) {
    match reason {
        AuditReason::ReprintNotAllowed => (
            "to send it as a reprint anyway, create the job again with sendIgnoreReprint; or replace the article with an original one",
            "如仍要以转载形式群发，请带 sendIgnoreReprint（转载时继续群发）重新创建任务；或换成原创文章",
        ),
        AuditReason::OriginalityBlocked => (
            "the check itself failed: send again later, or with sendIgnoreReprint so a reprint verdict does not stop it",
            "原创校验本身出错：请稍后重发，或带 sendIgnoreReprint 重发，使转载判定不会中止群发",
        ),
        AuditReason::OriginalityFailed => (
            "WeChat will not mass-send this article: replace it",
            "微信不会群发这篇文章：请更换文章",
        ),
        AuditReason::Unknown(_) => (
            "wxmass does not know this code: look it up in WeChat's console before sending again",
            "wxmass 不认识此代码：重发前请在微信公众平台查明原因",
        ),
        _ => (
            "the content audit refused it: change the content; it cannot be sent as it is",
            "内容审核未通过：请修改内容，原样无法群发",
        ),
    }
}

impl BatchOutcome {
    fn new(delivery: Delivery, en: String, zh: String) -> Self {
        BatchOutcome { delivery, en, zh }
    }

    /// The outcome a MASSSENDJOBFINISH push reports: its `Status` and its counts (see the
    /// module's table).
    pub fn of_event(status: &MassSendStatus, c: &ResultCounts) -> BatchOutcome {
        let (more_en, more_zh) = count_details(c);
        let sent = format!("sent to {} of {}", grouped(c.sent), grouped(c.total));
        let sent_zh = format!("已送达 {} / {} 人", grouped(c.sent), grouped(c.total));
        // What WeChat said when it was not success, in words.
        let (said_en, said_zh, advice) = match status {
            MassSendStatus::Success => {
                return if c.sent == 0 && c.total > 0 {
                    BatchOutcome::new(
                        Delivery::Refused,
                        format!("WeChat reported send success but reached no one: {sent}{more_en}"),
                        format!("微信报告发送成功，但无人收到：{sent_zh}{more_zh}"),
                    )
                } else if c.error > 0 {
                    BatchOutcome::new(
                        Delivery::PartlyDelivered,
                        format!("partly delivered: {sent}{more_en}"),
                        format!("部分送达：{sent_zh}{more_zh}"),
                    )
                } else {
                    BatchOutcome::new(
                        Delivery::Delivered,
                        format!("delivered: {sent}{more_en}"),
                        format!("已送达：{sent_zh}{more_zh}"),
                    )
                };
            }
            MassSendStatus::Fail => (
                "WeChat reports send fail".to_owned(),
                "微信报告群发失败（send fail）".to_owned(),
                None,
            ),
            MassSendStatus::Rejected(r) => (
                format!("WeChat refused the send, err({}): {}", r.code(), r.en()),
                format!("微信拒绝了群发，err({})：{}", r.code(), r.zh()),
                Some(audit_advice(*r)),
            ),
            MassSendStatus::Other(text) => (
                format!("WeChat reports the status {text:?}, which wxmass does not know"),
                format!("微信报告的状态 {text:?} 不在 wxmass 的已知列表中"),
                None,
            ),
        };
        let (advice_en, advice_zh) = advice.map_or((String::new(), String::new()), |(en, zh)| {
            (format!("; {en}"), format!("；{zh}"))
        });
        if c.sent > 0 {
            BatchOutcome::new(
                Delivery::PartlyDelivered,
                format!("partly delivered: {said_en}, after it {sent}{more_en}{advice_en}"),
                format!("部分送达：{said_zh}，此前{sent_zh}{more_zh}{advice_zh}"),
            )
        } else {
            BatchOutcome::new(
                Delivery::Refused,
                format!("not delivered: {said_en}; {sent}{more_en}{advice_en}"),
                format!("未送达：{said_zh}；{sent_zh}{more_zh}{advice_zh}"),
            )
        }
    }

    /// The outcome core keeps of a push ([`JobResult`]: the status as WeChat wrote it and the
    /// counts), read with the same rule as the push itself.
    pub fn of_result(result: &JobResult) -> BatchOutcome {
        BatchOutcome::of_event(
            &MassSendStatus::parse(&result.status),
            &ResultCounts {
                total: result.total_count,
                filter: result.filter_count,
                sent: result.sent_count,
                error: result.error_count,
            },
        )
    }

    /// The outcome `mass/get` tells when no push came; `None` while the send has not ended
    /// (`SENDING`, or a status wxmass does not know: asked again later).
    pub fn of_status(status: &MsgStatus) -> Option<BatchOutcome> {
        const UNKNOWN_EN: &str = "no MASSSENDJOBFINISH push arrived, so the counts are unknown";
        const UNKNOWN_ZH: &str = "未收到 MASSSENDJOBFINISH 推送，送达人数未知";
        match status {
            MsgStatus::SendSuccess => Some(BatchOutcome::new(
                Delivery::Delivered,
                format!("delivered: mass/get says SEND_SUCCESS; {UNKNOWN_EN}"),
                format!("已送达：mass/get 返回 SEND_SUCCESS；{UNKNOWN_ZH}"),
            )),
            MsgStatus::Delete => Some(BatchOutcome::new(
                Delivery::Delivered,
                format!("delivered, then deleted: mass/get says DELETE; {UNKNOWN_EN}"),
                format!("已送达后被删除：mass/get 返回 DELETE；{UNKNOWN_ZH}"),
            )),
            MsgStatus::SendFail => Some(BatchOutcome::new(
                Delivery::Refused,
                "not delivered: mass/get says SEND_FAIL (no MASSSENDJOBFINISH push arrived to say why)"
                    .to_owned(),
                "未送达：mass/get 返回 SEND_FAIL（未收到 MASSSENDJOBFINISH 推送，原因未知）"
                    .to_owned(),
            )),
            MsgStatus::Sending | MsgStatus::Other(_) => None,
        }
    }

    /// A batch that failed before WeChat took it, or whose end never became known: it reached
    /// no one that wxmass knows of. `maybe_delivered` adds the warning that the send may exist.
    pub fn of_failure(reason: &FailReason, maybe_delivered: bool) -> BatchOutcome {
        BatchOutcome::new(
            Delivery::Refused,
            format!("not delivered: {}", reason.explain(maybe_delivered)),
            format!("未送达：{}", reason.explain_zh(maybe_delivered)),
        )
    }

    /// A batch that failed for a reason only known as text (a row stored before core kept a
    /// [`FailReason`]).
    pub fn of_failure_text(reason: &str) -> BatchOutcome {
        BatchOutcome::new(
            Delivery::Refused,
            format!("not delivered: {reason}"),
            format!("未送达：{reason}"),
        )
    }

    /// A batch that failed for a reason known in both languages (a status check that gave up).
    pub fn of_failure_said(reason: &Text) -> BatchOutcome {
        BatchOutcome::new(
            Delivery::Refused,
            format!("not delivered: {}", reason.en),
            format!("未送达：{}", reason.zh),
        )
    }
}

/// A text for a person, in English and in Chinese, made together where the facts are known (a
/// batch's last outcome, why it failed). JSON: `{"en":"…","zh":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    /// In English.
    pub en: String,
    /// In Chinese.
    pub zh: String,
}

impl Text {
    /// A text from its two languages.
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// Why a job did not end delivered, for a person: the batches not delivered in full, each with
/// its reason. JSON: `{"en":"…","zh":"…"}`.
pub type JobReason = Text;

/// Batches named one by one in a [`JobReason`]; the rest are counted.
const REASON_BATCHES_SHOWN: usize = 3;

/// The reason of a job whose batches `outcomes` (index from 0, outcome) ended as they did, out
/// of `batches` in all; `None` when every one was delivered (or none has ended).
pub fn job_reason(outcomes: &[(usize, BatchOutcome)], batches: usize) -> Option<JobReason> {
    let short: Vec<&(usize, BatchOutcome)> = outcomes
        .iter()
        .filter(|(_, o)| o.delivery != Delivery::Delivered)
        .collect();
    if short.is_empty() {
        return None;
    }
    let mut en = format!(
        "{} of {} batches not delivered in full",
        short.len(),
        batches
    );
    let mut zh = format!("{batches} 批中有 {} 批未完全送达", short.len());
    for (i, (index, o)) in short.iter().take(REASON_BATCHES_SHOWN).enumerate() {
        let _ = write!(
            en,
            "{}batch {}: {}",
            if i == 0 { ": " } else { "; " },
            index + 1,
            o.en
        );
        let _ = write!(
            zh,
            "{}第 {} 批：{}",
            if i == 0 { "：" } else { "；" },
            index + 1,
            o.zh
        );
    }
    if short.len() > REASON_BATCHES_SHOWN {
        let more = short.len() - REASON_BATCHES_SHOWN;
        let _ = write!(en, "; and {more} more");
        let _ = write!(zh, "；另有 {more} 批");
    }
    Some(JobReason { en, zh })
}

/// A job's batches, counted by where they stand. Batches WeChat reported on count by their
/// [`Delivery`]; `failed` are batches that never reached WeChat or whose end never became known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchTally {
    /// Every batch of the job.
    pub batches: u64,
    /// Not attempted yet, or waiting for another attempt.
    pub pending: u64,
    /// An attempt is in flight.
    pub sending: u64,
    /// WeChat took it; its end is not known yet.
    pub submitted: u64,
    /// Ended, [`Delivery::Delivered`].
    pub delivered: u64,
    /// Ended, [`Delivery::PartlyDelivered`].
    pub partly_delivered: u64,
    /// Ended, [`Delivery::Refused`] by WeChat.
    pub refused: u64,
    /// Failed before WeChat took it, or its end never became known.
    pub failed: u64,
    /// Cancelled before it was sent.
    pub cancelled: u64,
    /// Batches with at least one attempt.
    pub attempted: u64,
}

/// A job's state, from its batches'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Nothing attempted yet.
    Planned,
    /// Batches are being sent.
    Sending,
    /// Every batch is with WeChat or ended; some ends are not known yet.
    Submitted,
    /// Every batch not cancelled was delivered.
    Finished,
    /// Every batch ended, some delivered (or partly) and some not, or some only partly.
    PartlyFailed,
    /// Every batch ended and none was delivered, even in part.
    Failed,
    /// Cancelled before anything was sent.
    Cancelled,
}

impl JobState {
    /// Every state, in the order a job goes through them.
    pub const ALL: [JobState; 7] = [
        JobState::Planned,
        JobState::Sending,
        JobState::Submitted,
        JobState::Finished,
        JobState::PartlyFailed,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// Reads [`JobState::name`] back; `None` for anything else.
    pub fn parse(name: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Stable machine name (the worker's `state`).
    pub fn name(self) -> &'static str {
        match self {
            JobState::Planned => "planned",
            JobState::Sending => "sending",
            JobState::Submitted => "submitted",
            JobState::Finished => "finished",
            JobState::PartlyFailed => "partly_failed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Whether nothing changes any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Finished | JobState::PartlyFailed | JobState::Failed | JobState::Cancelled
        )
    }
}

/// The state of a job with these batches; `cancelled` says the job itself was cancelled.
pub fn job_state(t: &BatchTally, cancelled: bool) -> JobState {
    let n = t.batches;
    let reached = t.delivered + t.partly_delivered;
    let not_delivered = t.refused + t.failed;
    let ended = reached + not_delivered + t.cancelled;
    if n > 0 && t.cancelled == n {
        JobState::Cancelled
    } else if n > 0 && ended == n {
        if not_delivered == 0 && t.partly_delivered == 0 {
            JobState::Finished
        } else if reached == 0 {
            JobState::Failed
        } else {
            JobState::PartlyFailed
        }
    } else if t.pending == n && t.attempted == 0 {
        if cancelled {
            JobState::Cancelled
        } else {
            JobState::Planned
        }
    } else if t.pending + t.sending > 0 {
        JobState::Sending
    } else {
        JobState::Submitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_state_reads_back_from_its_name() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.name()), Some(s));
        }
        assert_eq!(JobState::parse("pending"), None);
    }

    fn counts(total: u64, filter: u64, sent: u64, error: u64) -> ResultCounts {
        ResultCounts {
            total,
            filter,
            sent,
            error,
        }
    }

    fn event(status: &str, c: ResultCounts) -> BatchOutcome {
        BatchOutcome::of_event(&MassSendStatus::parse(status), &c)
    }

    #[test]
    fn send_success_to_everyone_is_delivered() {
        let o = event("send success", counts(8334, 8334, 8334, 0));
        assert_eq!(o.delivery, Delivery::Delivered);
        assert_eq!(o.en, "delivered: sent to 8,334 of 8,334");
        assert_eq!(o.zh, "已送达：已送达 8,334 / 8,334 人");
    }

    #[test]
    fn the_oldest_seeds_sendsuccess_reads_the_same() {
        assert_eq!(
            event("sendsuccess", counts(2, 2, 2, 0)).delivery,
            Delivery::Delivered
        );
    }

    #[test]
    fn followers_filtered_by_wechat_do_not_make_a_send_partial() {
        let o = event("send success", counts(100, 90, 90, 0));
        assert_eq!(o.delivery, Delivery::Delivered);
        assert!(o.en.contains("10 left out by WeChat's filters"), "{}", o.en);
        assert!(o.zh.contains("10 人被微信过滤"), "{}", o.zh);
    }

    #[test]
    fn send_success_with_errors_is_partly_delivered() {
        let o = event("send success", counts(100, 100, 97, 3));
        assert_eq!(o.delivery, Delivery::PartlyDelivered);
        assert!(o.en.contains("3 could not be reached"), "{}", o.en);
    }

    #[test]
    fn send_success_that_reached_no_one_is_refused() {
        let o = event("send success", counts(100, 100, 0, 100));
        assert_eq!(o.delivery, Delivery::Refused);
        assert!(o.en.contains("reached no one"), "{}", o.en);
    }

    #[test]
    fn send_success_to_an_empty_tag_is_delivered() {
        assert_eq!(
            event("send success", counts(0, 0, 0, 0)).delivery,
            Delivery::Delivered
        );
    }

    #[test]
    fn send_fail_with_nothing_sent_is_refused() {
        let o = event("send fail", counts(2, 2, 0, 2));
        assert_eq!(o.delivery, Delivery::Refused);
        assert!(
            o.en.starts_with("not delivered: WeChat reports send fail"),
            "{}",
            o.en
        );
        assert!(o.zh.contains("send fail"), "{}", o.zh);
    }

    #[test]
    fn send_fail_after_some_were_sent_is_partly_delivered() {
        let o = event("send fail", counts(10, 10, 4, 6));
        assert_eq!(o.delivery, Delivery::PartlyDelivered);
        assert!(o.en.contains("sent to 4 of 10"), "{}", o.en);
    }

    #[test]
    fn an_audit_refusal_names_its_reason_from_the_table() {
        let o = event("err(10001)", counts(2, 2, 0, 0));
        assert_eq!(o.delivery, Delivery::Refused);
        assert!(
            o.en.contains("err(10001): suspected advertising"),
            "{}",
            o.en
        );
        assert!(o.zh.contains("涉嫌广告"), "{}", o.zh);
        assert!(o.en.contains("change the content"), "{}", o.en);
    }

    #[test]
    fn a_reprint_refusal_says_how_to_send_it_anyway() {
        let o = event("err(30003)", counts(2, 2, 0, 0));
        assert_eq!(o.delivery, Delivery::Refused);
        assert!(o.en.contains("judged a reprint"), "{}", o.en);
        assert!(o.en.contains("sendIgnoreReprint"), "{}", o.en);
        assert!(o.zh.contains("转载"), "{}", o.zh);
        assert!(o.zh.contains("sendIgnoreReprint"), "{}", o.zh);
    }

    #[test]
    fn an_unknown_status_is_not_taken_for_success() {
        assert_eq!(
            event("paused", counts(2, 2, 0, 0)).delivery,
            Delivery::Refused
        );
        assert_eq!(
            event("paused", counts(2, 2, 1, 0)).delivery,
            Delivery::PartlyDelivered
        );
        assert_eq!(
            event("err(99999)", counts(2, 2, 0, 0)).delivery,
            Delivery::Refused
        );
    }

    #[test]
    fn a_stored_result_reads_with_the_same_rule() {
        let r = JobResult {
            status: "err(30003)".into(),
            total_count: 2,
            filter_count: 2,
            sent_count: 0,
            error_count: 0,
        };
        assert_eq!(
            BatchOutcome::of_result(&r),
            event("err(30003)", counts(2, 2, 0, 0))
        );
    }

    #[test]
    fn mass_get_statuses_follow_the_same_rule() {
        let of = |s| BatchOutcome::of_status(&s).map(|o| o.delivery);
        assert_eq!(of(MsgStatus::SendSuccess), Some(Delivery::Delivered));
        assert_eq!(of(MsgStatus::Delete), Some(Delivery::Delivered));
        assert_eq!(of(MsgStatus::SendFail), Some(Delivery::Refused));
        assert_eq!(of(MsgStatus::Sending), None);
        assert_eq!(of(MsgStatus::Other("X".into())), None);
    }

    #[test]
    fn a_failure_before_wechat_took_it_is_refused_in_both_languages() {
        let o = BatchOutcome::of_failure(&FailReason::QuotaWaitsExhausted { waits: 3 }, false);
        assert_eq!(o.delivery, Delivery::Refused);
        assert!(o.en.contains("3 waits"), "{}", o.en);
        assert!(o.zh.contains("等待 3 次"), "{}", o.zh);
        let maybe = BatchOutcome::of_failure(
            &FailReason::RetriesExhausted {
                attempts: 5,
                last: "HTTP 502".into(),
            },
            true,
        );
        assert!(maybe.zh.contains("可能已到达微信"), "{}", maybe.zh);
    }

    #[test]
    fn serializes_as_the_js_model() {
        let o = event("send fail", counts(2, 2, 0, 2));
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["delivery"], "refused");
        assert!(v["en"].is_string() && v["zh"].is_string());
        assert_eq!(
            Delivery::parse("partly_delivered"),
            Some(Delivery::PartlyDelivered)
        );
        assert_eq!(Delivery::parse("finished"), None);
    }

    fn tally(f: impl FnOnce(&mut BatchTally)) -> BatchTally {
        let mut t = BatchTally::default();
        f(&mut t);
        t
    }

    #[test]
    fn a_job_is_finished_only_when_every_batch_was_delivered() {
        let all = tally(|t| {
            t.batches = 3;
            t.delivered = 3;
            t.attempted = 3;
        });
        assert_eq!(job_state(&all, false), JobState::Finished);
        let one_refused = tally(|t| {
            t.batches = 3;
            t.delivered = 2;
            t.refused = 1;
            t.attempted = 3;
        });
        assert_eq!(job_state(&one_refused, false), JobState::PartlyFailed);
        let one_partly = tally(|t| {
            t.batches = 1;
            t.partly_delivered = 1;
            t.attempted = 1;
        });
        assert_eq!(job_state(&one_partly, false), JobState::PartlyFailed);
    }

    #[test]
    fn a_job_none_of_whose_batches_was_delivered_failed() {
        let refused = tally(|t| {
            t.batches = 2;
            t.refused = 1;
            t.failed = 1;
            t.attempted = 2;
        });
        assert_eq!(job_state(&refused, false), JobState::Failed);
        assert_eq!(JobState::Failed.name(), "failed");
        assert!(JobState::Failed.is_final());
    }

    #[test]
    fn cancelled_batches_do_not_fail_a_job() {
        let t = tally(|t| {
            t.batches = 3;
            t.delivered = 1;
            t.cancelled = 2;
            t.attempted = 1;
        });
        assert_eq!(job_state(&t, true), JobState::Finished);
        let all = tally(|t| {
            t.batches = 2;
            t.cancelled = 2;
        });
        assert_eq!(job_state(&all, true), JobState::Cancelled);
    }

    #[test]
    fn a_job_reason_names_the_batches_not_delivered() {
        let refused = event("err(30003)", counts(2, 2, 0, 0));
        let delivered = event("send success", counts(2, 2, 2, 0));
        assert_eq!(job_reason(&[(0, delivered.clone())], 1), None);
        let r = job_reason(&[(0, delivered), (1, refused.clone())], 2).unwrap();
        assert!(r.en.starts_with("1 of 2 batches not delivered in full: batch 2: not delivered: WeChat refused the send, err(30003)"), "{}", r.en);
        assert!(
            r.zh.starts_with("2 批中有 1 批未完全送达：第 2 批：未送达"),
            "{}",
            r.zh
        );
        let many: Vec<_> = (0..5).map(|i| (i, refused.clone())).collect();
        let r = job_reason(&many, 5).unwrap();
        assert!(r.en.ends_with("; and 2 more"), "{}", r.en);
        assert!(r.zh.ends_with("；另有 2 批"), "{}", r.zh);
    }

    #[test]
    fn unfinished_jobs_keep_their_states() {
        let planned = tally(|t| {
            t.batches = 2;
            t.pending = 2;
        });
        assert_eq!(job_state(&planned, false), JobState::Planned);
        assert_eq!(job_state(&planned, true), JobState::Cancelled);
        let sending = tally(|t| {
            t.batches = 2;
            t.pending = 1;
            t.submitted = 1;
            t.attempted = 1;
        });
        assert_eq!(job_state(&sending, false), JobState::Sending);
        let submitted = tally(|t| {
            t.batches = 2;
            t.submitted = 1;
            t.delivered = 1;
            t.attempted = 2;
        });
        assert_eq!(job_state(&submitted, false), JobState::Submitted);
    }
}
