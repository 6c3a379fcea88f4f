//! What the admin API answers about jobs, batches and pushes: the npm package's output model
//! (camelCase keys, 64-bit ids as decimal strings; documented once, in npm/README.md's "Output
//! model", and typed there as `AdminJob`, `AdminBatch` and `AdminEvent`).
//!
//! Core's values inside these (a job's plan summary, a batch's progress and result, a push's
//! parsed payload) are stored in D1 as core serializes them, which is already that model, and
//! are passed through as they were stored.

use serde::Serialize;
use serde_json::Value;
use wxmass::plan::{
    job_reason, job_state, BatchOutcome, BatchTally, Delivery, JobReason, JobResult, JobState,
};

use crate::store::{
    outcome_of_result, AudienceRow, BatchCounts, BatchRow, EventRow, JobListRow, JobRow,
};

/// `GET /api/jobs/{id}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job<'a> {
    id: &'a str,
    state: &'static str,
    created_at: i64,
    send_at: i64,
    cancelled_at: Option<i64>,
    /// Who created it: `{tokenId, label, role}`; `null` for jobs made before migration 0009.
    created_by: Value,
    /// Why a job ended `failed` or `partly_failed` (core's `job_reason`); `null` otherwise.
    reason: Option<JobReason>,
    /// The message as the job was created with it.
    message: Value,
    /// The audience as stored: `{openids: n}`, `{tagId}`, `{everyone: true}` or
    /// `{audienceId, openids: n, name, source}` (`name` and `source` as the audience had them
    /// when the job was made; absent for jobs made before audiences had them).
    audience: Value,
    /// Core's `PlanSummary`, as `planSend(…).summary()` gives it.
    summary: Value,
    counts: Counts,
    results: Results,
    batches: Vec<Batch<'a>>,
    events: Vec<Event<'a>>,
}

/// A job in `GET /api/jobs`: no batches, their number and their counts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobListItem<'a> {
    id: &'a str,
    state: &'static str,
    created_at: i64,
    send_at: i64,
    cancelled_at: Option<i64>,
    /// As [`Job`]'s.
    created_by: Value,
    /// What went out and to whom, so a list tells sends apart.
    message: Value,
    audience: Value,
    batches: i64,
    counts: Counts,
}

/// Batches by state.
#[derive(Serialize)]
pub struct Counts {
    pending: i64,
    sending: i64,
    submitted: i64,
    finished: i64,
    failed: i64,
    cancelled: i64,
}

/// The MASSSENDJOBFINISH counts of every batch, summed.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    /// Pushes stored for the job's batches.
    events: usize,
    total_count: u64,
    filter_count: u64,
    sent_count: u64,
    error_count: u64,
}

/// One batch: the plan's batch (`index`, `clientMsgId`, `endpoint`, `recipients`, `isToAll`, as
/// `planSend(…).batches()` gives it) and how it went.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch<'a> {
    index: i64,
    client_msg_id: &'a str,
    endpoint: &'a str,
    recipients: Option<i64>,
    is_to_all: bool,
    job_id: &'a str,
    state: &'a str,
    attempts: i64,
    lease_until: i64,
    next_attempt_at: i64,
    msg_id: Option<&'a str>,
    msg_data_id: Option<&'a str>,
    last_outcome: Option<&'a str>,
    /// `lastOutcome` in Chinese, made with it; `null` for rows written before migration 0009.
    last_outcome_zh: Option<&'a str>,
    fail_reason: Option<&'a str>,
    /// `failReason` in Chinese, made with it; `null` for rows written before migration 0009.
    fail_reason_zh: Option<&'a str>,
    /// Unix ms: when WeChat accepted the batch (the job's actual start is its first batch's).
    submitted_at: Option<i64>,
    /// Core's `JobResult` from the push, or `{status, source: "mass/get", note}`.
    result: Value,
    /// How it ended, by core's outcome rule; `null` while that is not known.
    outcome: Option<BatchOutcome>,
}

/// A stored push. `payload` is core's parsed event (`parseEvent`'s value without `dedupeKey`,
/// which is here); an unreadable push carries its raw `xml` instead, since that is all there is.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    dedupe_key: &'a str,
    kind: &'a str,
    event: Option<&'a str>,
    msg_id: Option<&'a str>,
    batch_id: Option<&'a str>,
    received_at: i64,
    state: &'a str,
    reason: Option<&'a str>,
    /// `reason` in Chinese; `null` for pushes stored before migration 0009.
    reason_zh: Option<&'a str>,
    payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    xml: Option<&'a str>,
}

/// Stored JSON as a value; `null` when absent or unreadable (a view must not fail on one row).
fn parsed(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Core's tally of a job's batches from their states, with the finished ones counted by their
/// delivery (`delivered`, `partly_delivered`, `refused` of `c`, and each of `unjudged`, the
/// results of finished batches stored before outcomes were).
fn tally(c: &BatchCounts, unjudged: impl Iterator<Item = Option<Delivery>>) -> BatchTally {
    let mut t = BatchTally {
        batches: to_u64(c.batches),
        pending: to_u64(c.pending),
        sending: to_u64(c.sending),
        submitted: to_u64(c.submitted),
        delivered: to_u64(c.delivered),
        partly_delivered: to_u64(c.partly_delivered),
        refused: to_u64(c.refused),
        failed: to_u64(c.failed),
        cancelled: to_u64(c.cancelled),
        attempted: to_u64(c.attempted),
    };
    for delivery in unjudged {
        match delivery {
            // A finished batch whose result core cannot read counts as it always did.
            Some(Delivery::Delivered) | None => t.delivered += 1,
            Some(Delivery::PartlyDelivered) => t.partly_delivered += 1,
            Some(Delivery::Refused) => t.refused += 1,
        }
    }
    t
}

fn counts_of(batches: &[BatchRow]) -> BatchCounts {
    let count = |s: &str| batches.iter().filter(|b| b.state == s).count() as i64;
    BatchCounts {
        batches: batches.len() as i64,
        pending: count("pending"),
        sending: count("sending"),
        submitted: count("submitted"),
        finished: count("finished"),
        failed: count("failed"),
        cancelled: count("cancelled"),
        attempted: batches.iter().filter(|b| b.attempt > 0).count() as i64,
        // Counted with the outcomes (see `job`).
        delivered: 0,
        partly_delivered: 0,
        refused: 0,
    }
}

fn counts(c: &BatchCounts) -> Counts {
    Counts {
        pending: c.pending,
        sending: c.sending,
        submitted: c.submitted,
        finished: c.finished,
        failed: c.failed,
        cancelled: c.cancelled,
    }
}

fn results(batches: &[BatchRow], events: usize) -> Results {
    let mut r = Results {
        events,
        ..Results::default()
    };
    for b in batches {
        let Some(text) = b.result_json.as_deref() else {
            continue;
        };
        // A result found by mass/get has no counts, so it does not read as a JobResult.
        if let Ok(j) = serde_json::from_str::<JobResult>(text) {
            r.total_count += j.total_count;
            r.filter_count += j.filter_count;
            r.sent_count += j.sent_count;
            r.error_count += j.error_count;
        }
    }
    r
}

pub fn batch(b: &BatchRow, outcome: Option<BatchOutcome>) -> Batch<'_> {
    Batch {
        index: b.idx,
        client_msg_id: &b.clientmsgid,
        endpoint: &b.endpoint,
        recipients: b.recipients,
        is_to_all: b.to_all != 0,
        job_id: &b.job_id,
        state: &b.state,
        attempts: b.attempt,
        lease_until: b.lease_until,
        next_attempt_at: b.next_attempt_at,
        msg_id: b.msg_id.as_deref(),
        msg_data_id: b.msg_data_id.as_deref(),
        last_outcome: b.last_outcome.as_deref(),
        last_outcome_zh: b.last_outcome_zh.as_deref(),
        fail_reason: b.fail_reason.as_deref(),
        fail_reason_zh: b.fail_reason_zh.as_deref(),
        submitted_at: b.submitted_at,
        result: parsed(b.result_json.as_deref()),
        outcome,
    }
}

pub fn event(e: &EventRow) -> Event<'_> {
    let unreadable = e.state == "unreadable" || e.kind == "unreadable";
    Event {
        dedupe_key: &e.dedupe_key,
        kind: &e.kind,
        event: e.event.as_deref(),
        msg_id: e.msg_id.as_deref(),
        batch_id: e.batch_id.as_deref(),
        received_at: e.received_at,
        state: &e.state,
        reason: e.reason.as_deref(),
        reason_zh: e.reason_zh.as_deref(),
        payload: parsed(Some(&e.payload_json)),
        xml: unreadable.then_some(e.xml.as_str()),
    }
}

pub fn job<'a>(j: &'a JobRow, batches: &'a [BatchRow], events: &'a [EventRow]) -> Job<'a> {
    let c = counts_of(batches);
    let outcomes: Vec<Option<BatchOutcome>> = batches.iter().map(BatchRow::outcome).collect();
    let finished = batches
        .iter()
        .zip(&outcomes)
        .filter(|(b, _)| b.state == "finished")
        .map(|(_, o)| o.as_ref().map(|o| o.delivery));
    let state = job_state(&tally(&c, finished), j.cancelled_at.is_some());
    let ended: Vec<(usize, BatchOutcome)> = batches
        .iter()
        .zip(&outcomes)
        .filter_map(|(b, o)| Some((usize::try_from(b.idx).ok()?, o.clone()?)))
        .collect();
    let reason = if state.is_final() {
        job_reason(&ended, batches.len())
    } else {
        None
    };
    Job {
        id: &j.id,
        state: state.name(),
        created_at: j.created_at,
        send_at: j.send_at,
        cancelled_at: j.cancelled_at,
        created_by: parsed(j.created_by.as_deref()),
        reason,
        message: parsed(Some(&j.message_json)),
        audience: parsed(Some(&j.audience_json)),
        summary: parsed(Some(&j.summary_json)),
        counts: counts(&c),
        results: results(batches, events.len()),
        batches: batches
            .iter()
            .zip(outcomes)
            .map(|(b, o)| batch(b, o))
            .collect(),
        events: events.iter().map(event).collect(),
    }
}

/// A listed job's state, by core's rule from its batch counts (and the results of rows stored
/// before outcomes were, judged now): what its item shows, and what `?state=` filters on.
pub fn list_state(j: &JobListRow) -> JobState {
    let unjudged: Vec<String> = j
        .unjudged_results
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let finished = unjudged
        .iter()
        .map(|r| outcome_of_result(r).map(|o| o.delivery));
    job_state(&tally(&j.counts, finished), j.cancelled_at.is_some())
}

pub fn list_item(j: &JobListRow) -> JobListItem<'_> {
    JobListItem {
        id: &j.id,
        state: list_state(j).name(),
        created_at: j.created_at,
        send_at: j.send_at,
        cancelled_at: j.cancelled_at,
        created_by: parsed(j.created_by.as_deref()),
        message: parsed(Some(&j.message_json)),
        audience: parsed(Some(&j.audience_json)),
        batches: j.counts.batches,
        counts: counts(&j.counts),
    }
}

/// An audience's source as the API shows it (the audience's own view, and a job's audience):
/// `null` for an uploaded one, `{"tagId": n}` for a tag's followers, `"followers"` for every
/// follower.
pub fn audience_source(a: &AudienceRow) -> Value {
    match (a.source_tag_id, a.source_everyone) {
        (Some(tag), _) => serde_json::json!({ "tagId": tag }),
        (None, 1) => Value::String("followers".into()),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outcome_json;

    fn job_row() -> JobRow {
        JobRow {
            id: "j1".into(),
            idempotency_key: None,
            request_hash: None,
            message_json: "{}".into(),
            audience_json: "{}".into(),
            summary_json: "{}".into(),
            send_at: 0,
            created_at: 0,
            cancelled_at: None,
            audience_id: None,
            send_ignore_reprint: None,
            created_by: None,
        }
    }

    /// A batch ended as `state`, with the result a push or mass/get stored; `outcome_json` as
    /// the row holds it (`None`: written before migration 0008).
    fn batch_row(idx: i64, state: &str, result: Option<&str>) -> BatchRow {
        BatchRow {
            id: format!("j1-{idx}"),
            job_id: "j1".into(),
            idx,
            clientmsgid: format!("c{idx}"),
            endpoint: "sendall".into(),
            to_all: 0,
            recipients: Some(2),
            state: state.into(),
            progress_json: r#"{"state":{"state":"submitted","msgId":"1000"},"attempts":1}"#.into(),
            attempt: 1,
            lease_until: 0,
            next_attempt_at: 0,
            msg_id: Some("1000".into()),
            msg_data_id: None,
            last_outcome: None,
            fail_reason: None,
            last_outcome_zh: None,
            fail_reason_zh: None,
            result_json: result.map(str::to_owned),
            submitted_at: Some(0),
            status_checks: 0,
            version: 3,
            audience_id: None,
            job_message: None,
            job_reprint: None,
            outcome_json: None,
        }
    }

    const REPRINT: &str =
        r#"{"status":"err(30003)","totalCount":2,"filterCount":2,"sentCount":0,"errorCount":0}"#;
    const DELIVERED: &str =
        r#"{"status":"send success","totalCount":2,"filterCount":2,"sentCount":2,"errorCount":0}"#;

    fn state_of(batches: &[BatchRow]) -> &'static str {
        let j = job_row();
        job(&j, batches, &[]).state
    }

    #[test]
    fn a_batch_finished_before_outcomes_were_stored_reads_its_result_through_core() {
        let refused = batch_row(0, "finished", Some(REPRINT));
        let o = refused.outcome().map(|o| o.delivery);
        assert_eq!(o, Some(Delivery::Refused));
        assert_eq!(state_of(&[refused]), "failed");
        assert_eq!(
            state_of(&[batch_row(0, "finished", Some(DELIVERED))]),
            "finished"
        );
        let checked = r#"{"status":"SEND_SUCCESS","source":"mass/get","note":"…"}"#;
        assert_eq!(
            state_of(&[batch_row(0, "finished", Some(checked))]),
            "finished"
        );
    }

    #[test]
    fn a_stored_outcome_is_what_the_batch_and_the_job_tell() {
        let mut b = batch_row(0, "finished", Some(DELIVERED));
        let refused = BatchOutcome::of_failure_text("told so");
        b.outcome_json = Some(outcome_json(&refused));
        let row = job_row();
        let j = job(&row, std::slice::from_ref(&b), &[]);
        assert_eq!(j.state, "failed");
        assert_eq!(j.batches[0].outcome.as_ref(), Some(&refused));
        let reason = j.reason.as_ref().map(|r| r.en.as_str()).unwrap_or("");
        assert!(reason.contains("told so"), "{reason}");
    }

    #[test]
    fn one_batch_refused_of_two_is_partly_failed_with_its_reason() {
        let batches = [
            batch_row(0, "finished", Some(DELIVERED)),
            batch_row(1, "finished", Some(REPRINT)),
        ];
        let row = job_row();
        let j = job(&row, &batches, &[]);
        assert_eq!(j.state, "partly_failed");
        let reason = j.reason.as_ref().map(|r| r.en.as_str()).unwrap_or("");
        assert!(reason.starts_with("1 of 2 batches"), "{reason}");
    }

    #[test]
    fn a_job_still_sending_has_no_reason_and_its_open_batches_no_outcome() {
        let batches = [
            batch_row(0, "finished", Some(REPRINT)),
            batch_row(1, "submitted", None),
        ];
        let row = job_row();
        let j = job(&row, &batches, &[]);
        assert_eq!(j.state, "submitted");
        assert!(j.reason.is_none());
        assert!(j.batches[1].outcome.is_none());
    }

    #[test]
    fn a_failed_batch_without_a_stored_outcome_is_refused_with_its_fail_reason() {
        let mut b = batch_row(0, "failed", None);
        b.fail_reason = Some("gave up".into());
        let o = b.outcome();
        assert_eq!(o.as_ref().map(|o| o.delivery), Some(Delivery::Refused));
        assert!(o.is_some_and(|o| o.en.contains("gave up")));
    }

    #[test]
    fn the_list_judges_results_stored_before_outcomes_with_the_same_rule() {
        let row = |unjudged: &str, finished: i64, delivered: i64| JobListRow {
            id: "j1".into(),
            created_at: 0,
            send_at: 0,
            cancelled_at: None,
            message_json: "{}".into(),
            audience_json: "{}".into(),
            created_by: None,
            counts: BatchCounts {
                batches: 2,
                finished,
                attempted: 2,
                delivered,
                ..BatchCounts::default()
            },
            unjudged_results: Some(unjudged.into()),
        };
        let legacy = serde_json::to_string(&[REPRINT, DELIVERED]).unwrap_or_default();
        let two = row(&legacy, 2, 0);
        assert_eq!(list_item(&two).state, "partly_failed");
        let one = serde_json::to_string(&[DELIVERED]).unwrap_or_default();
        let one_judged = row(&one, 2, 1);
        assert_eq!(list_item(&one_judged).state, "finished");
    }

    #[test]
    fn a_job_made_before_creators_were_recorded_shows_none() {
        let mut row = job_row();
        assert_eq!(job(&row, &[], &[]).created_by, Value::Null);
        row.created_by = Some(r#"{"tokenId":null,"label":"ADMIN_TOKEN","role":"admin"}"#.into());
        assert_eq!(job(&row, &[], &[]).created_by["label"], "ADMIN_TOKEN");
    }
}
