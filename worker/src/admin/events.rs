//! `GET /api/events?state=&limit=&cursor=`: the stored pushes, newest first, and how many are
//! stored (in that state). States: `applied`, `pending`, `ignored`, `conflicting`, `stored`,
//! `unreadable`, `forward_failed`.

use serde_json::json;
use worker::{Request, Response};

use super::{reply, view, Page};
use crate::ctx::Ctx;
use crate::error::AppError;

const STATES: [&str; 7] = [
    "applied",
    "pending",
    "ignored",
    "conflicting",
    "stored",
    "unreadable",
    "forward_failed",
];

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
            "events": events.iter().map(view::event).collect::<Vec<_>>(),
            "nextCursor": next,
        }),
    )
}
