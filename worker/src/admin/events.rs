//! `GET /api/events?state=&limit=&cursor=`: the stored pushes, newest first, and how many are
//! stored (in that state). States: `applied`, `pending`, `ignored`, `stored`, `unreadable`,
//! `forward_failed`.

use serde_json::{json, Value};
use worker::{Request, Response};

use super::{jobs::ids_as_strings, reply, Page};
use crate::error::AppError;
use crate::store::EventRow;
use crate::Ctx;

const STATES: [&str; 6] = [
    "applied",
    "pending",
    "ignored",
    "stored",
    "unreadable",
    "forward_failed",
];

/// A stored push as answered. An unreadable one carries its raw XML, since that is all there is.
pub fn event_json(e: &EventRow) -> Value {
    let payload: Value = serde_json::from_str(&e.payload_json).unwrap_or(Value::Null);
    let mut v = json!({
        "dedupeKey": e.dedupe_key,
        "kind": e.kind,
        "event": e.event,
        "msgId": e.msg_id,
        "batchId": e.batch_id,
        "receivedAt": e.received_at,
        "state": e.state,
        "reason": e.reason,
        "payload": ids_as_strings(payload),
    });
    if e.state == "unreadable" || e.kind == "unreadable" {
        v["xml"] = json!(e.xml);
    }
    v
}

pub async fn list(req: &Request, app: &Ctx) -> Result<Response, AppError> {
    let page = Page::from_request(req)?;
    if let Some((name, _)) = page.params.iter().find(|(k, _)| k != "state") {
        return Err(AppError::bad_value(
            "unknown_field",
            name,
            name,
            "GET /api/events takes state, limit and cursor",
        ));
    }
    let state = page.param("state");
    if let Some(s) = state {
        if !STATES.contains(&s) {
            return Err(AppError::bad_value(
                "one_of",
                "state",
                s,
                format!("state must be one of {}", STATES.join(", ")),
            ));
        }
    }
    let after = page.after.as_ref().map(|(t, k)| (*t, k.as_str()));
    let (events, total) = app.store.list_events(state, page.limit, after).await?;
    let next = page.next_cursor(
        events.len(),
        events
            .last()
            .map(|e| (e.received_at, e.dedupe_key.as_str())),
    );
    reply(
        200,
        &json!({
            "total": total,
            "events": events.iter().map(event_json).collect::<Vec<_>>(),
            "nextCursor": next,
        }),
    )
}
