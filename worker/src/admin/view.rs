//! What the admin API answers about jobs, batches and pushes: the npm package's output model
//! (camelCase keys, 64-bit ids as decimal strings; documented once, in npm/README.md's "Output
//! model", and typed there as `AdminJob`, `AdminBatch` and `AdminEvent`).
//!
//! Core's values inside these (a job's plan summary, a batch's progress and result, a push's
//! parsed payload) are stored in D1 as core serializes them, which is already that model, and
//! are passed through as they were stored.

use serde::Serialize;
use serde_json::Value;
use wxmass::plan::JobResult;

use crate::store::{BatchCounts, BatchRow, EventRow, JobListRow, JobRow};

/// `GET /api/jobs/{id}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job<'a> {
    id: &'a str,
    state: &'static str,
    created_at: i64,
    send_at: i64,
    cancelled_at: Option<i64>,
    /// The message as the job was created with it.
    message: Value,
    /// The audience as stored: `{openids: n}`, `{tagId}`, `{everyone: true}` or
    /// `{audienceId, openids: n}`.
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
    fail_reason: Option<&'a str>,
    /// Unix ms: when WeChat accepted the batch (the job's actual start is its first batch's).
    submitted_at: Option<i64>,
    /// Core's `JobResult` from the push, or `{status, source: "mass/get", note}`.
    result: Value,
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
    payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    xml: Option<&'a str>,
}

/// Stored JSON as a value; `null` when absent or unreadable (a view must not fail on one row).
fn parsed(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// A job's state, from how many of its batches are in each state.
pub fn job_state(c: &BatchCounts, cancelled_at: Option<i64>) -> &'static str {
    let n = c.batches;
    if n > 0 && c.cancelled == n {
        "cancelled"
    } else if n > 0 && c.finished + c.failed + c.cancelled == n {
        if c.failed == 0 {
            "finished"
        } else if c.finished == 0 {
            "failed"
        } else {
            "partly_failed"
        }
    } else if c.pending == n && c.attempted == 0 {
        if cancelled_at.is_some() {
            "cancelled"
        } else {
            "planned"
        }
    } else if c.pending + c.sending > 0 {
        "sending"
    } else {
        "submitted"
    }
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

pub fn batch(b: &BatchRow) -> Batch<'_> {
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
        fail_reason: b.fail_reason.as_deref(),
        submitted_at: b.submitted_at,
        result: parsed(b.result_json.as_deref()),
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
        payload: parsed(Some(&e.payload_json)),
        xml: unreadable.then_some(e.xml.as_str()),
    }
}

pub fn job<'a>(j: &'a JobRow, batches: &'a [BatchRow], events: &'a [EventRow]) -> Job<'a> {
    let c = counts_of(batches);
    Job {
        id: &j.id,
        state: job_state(&c, j.cancelled_at),
        created_at: j.created_at,
        send_at: j.send_at,
        cancelled_at: j.cancelled_at,
        message: parsed(Some(&j.message_json)),
        audience: parsed(Some(&j.audience_json)),
        summary: parsed(Some(&j.summary_json)),
        counts: counts(&c),
        results: results(batches, events.len()),
        batches: batches.iter().map(batch).collect(),
        events: events.iter().map(event).collect(),
    }
}

pub fn list_item(j: &JobListRow) -> JobListItem<'_> {
    JobListItem {
        id: &j.id,
        state: job_state(&j.counts, j.cancelled_at),
        created_at: j.created_at,
        send_at: j.send_at,
        cancelled_at: j.cancelled_at,
        message: parsed(Some(&j.message_json)),
        audience: parsed(Some(&j.audience_json)),
        batches: j.counts.batches,
        counts: counts(&j.counts),
    }
}
