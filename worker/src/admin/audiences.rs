//! Audiences: a list of OpenIDs too large for one request (an admin body is at most 4 MiB, about
//! 130,000 OpenIDs), uploaded in numbered parts and sealed once, or collected from WeChat by the
//! cron (a tag's followers, or every follower: `crate::collect`); then `POST /api/jobs` with
//! `"audience": {"audienceId": "a…"}` sends to it.
//!
//! States: `open` (takes parts) → `sealed`; or `collecting` (the cron pages through WeChat
//! across runs) → `sealed`, or `failed` (`failReason`, `failReasonZh`: a tag WeChat does not
//! know, say). Only a sealed audience can be sent to.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/audiences` | body `{}` or `{"name"?: "≤ 200 chars", "source"?: {"tagId": n} \| "followers"}`: without a source an open audience for uploaded parts, with one a `collecting` audience → 201 `{id, state, name, source, …}` |
//! | `POST /api/audiences/{id}/openids?part=N` | part N (1, 2, … in order): a JSON array, or `text/plain` with one OpenID per line; core checks each and reports the invalid ones at their position in the whole audience. The same part again with the same body answers the same (a retry never counts twice); another body is 422 `part_reused` |
//! | `POST /api/audiences/{id}/seal` | duplicates across parts removed (the first kept), split by core into ⌈N/10,000⌉ balanced chunks → `{received, valid, invalid, duplicates, batches}` |
//! | `GET /api/audiences/{id}`, `DELETE /api/audiences/{id}` | the audience (with `name`, `source`, and while collecting `collected`, `pages`, `total`); deleting it while a job still sends to it is 409 |

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use worker::{Request, Response};
use wxmass::followers::FollowerSource;
use wxmass::plan::{read_audience_part, PartFormat};

use super::reply;
use super::view::audience_source;
use crate::collect;
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{self, AudienceRow, NewSource, PartRow};

/// OpenIDs in one stored row of an upload: 50,000 × 28 bytes is 1.4 MB, under D1's 2 MB a row.
const RAW_ROW_OPENIDS: usize = 50_000;
/// Characters of an audience's name, at most.
const NAME_MAX_CHARS: usize = 200;

fn new_audience_id() -> String {
    std::iter::once("a".to_owned())
        .chain(
            crate::random::bytes::<12>()
                .iter()
                .map(|b| format!("{b:02x}")),
        )
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn view(a: &AudienceRow, parts: &[PartRow], in_flight: i64) -> Value {
    json!({
        "id": a.id,
        "state": a.state,
        "name": a.name,
        "source": audience_source(a),
        "collected": a.collected,
        "pages": a.pages,
        "total": a.total,
        "failReason": a.fail_reason,
        "failReasonZh": a.fail_reason_zh,
        "parts": a.parts,
        "received": a.received,
        "invalid": a.invalid,
        "valid": a.valid,
        "duplicates": a.duplicates,
        "batches": a.batches,
        "createdAt": a.created_at,
        "sealedAt": a.sealed_at,
        "batchesInFlight": in_flight,
        "partList": parts.iter().map(|p| json!({
            "part": p.part, "firstPosition": p.first_position, "received": p.received,
            "valid": p.valid, "invalid": p.invalid,
        })).collect::<Vec<_>>(),
    })
}

async fn read(id: &str, app: &Ctx) -> Result<(AudienceRow, Vec<PartRow>, i64), AppError> {
    app.store
        .read_audience(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no audience {id}")))
}

/// `POST /api/audiences`: checks the whole body before storing anything.
pub async fn create(body: Value, app: &Ctx) -> Result<Response, AppError> {
    let (name, source) = read_new(&body)?;
    let id = new_audience_id();
    let now = app.now();
    app.store
        .commit(vec![app.store.insert_audience(
            &id,
            now,
            name.as_deref(),
            source,
        )?])
        .await?;
    let (a, parts, in_flight) = read(&id, app).await?;
    reply(201, &view(&a, &parts, in_flight))
}

/// The body of `POST /api/audiences`: an optional name and an optional source (core reads it:
/// a tag id is what `user/tag/get` takes).
fn read_new(body: &Value) -> Result<(Option<String>, NewSource), AppError> {
    let Some(fields) = body.as_object() else {
        return Err(AppError::bad(
            "type",
            "",
            "the body is a JSON object: {} or {\"name\", \"source\"}",
        ));
    };
    if let Some(other) = fields
        .keys()
        .find(|k| !["name", "source"].contains(&k.as_str()))
    {
        return Err(AppError::bad_value(
            "unknown_field",
            other,
            other,
            "an audience takes `name` and `source` only",
        ));
    }
    let name = match fields.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() <= NAME_MAX_CHARS => Some(n.clone()),
        Some(other) => {
            return Err(AppError::bad_value(
                "name",
                "name",
                &other.to_string(),
                format!("`name` is a text of at most {NAME_MAX_CHARS} characters"),
            ))
        }
    };
    let source = match fields.get("source") {
        None | Some(Value::Null) => NewSource::Upload,
        Some(v) => match FollowerSource::from_value(v, "source").map_err(AppError::Invalid)? {
            FollowerSource::Everyone => NewSource::Everyone,
            FollowerSource::Tag(t) => NewSource::Tag(i64::try_from(t).map_err(|_| {
                AppError::bad_value(
                    "range",
                    "source.tagId",
                    &t.to_string(),
                    "a tag id is at most 2^63 - 1",
                )
            })?),
        },
    };
    Ok((name, source))
}

/// `GET /api/audiences/{id}`.
pub async fn get(id: &str, app: &Ctx) -> Result<Response, AppError> {
    let (a, parts, in_flight) = read(id, app).await?;
    reply(200, &view(&a, &parts, in_flight))
}

/// `DELETE /api/audiences/{id}`: refused while a job still sends to it.
pub async fn delete(id: &str, app: &Ctx) -> Result<Response, AppError> {
    let (_, _, in_flight) = read(id, app).await?;
    if in_flight > 0 {
        return Err(AppError::Conflict(format!(
            "audience {id} is in use: {in_flight} batches of its jobs are not settled yet; cancel those jobs or wait for them"
        )));
    }
    app.store.commit(app.store.delete_audience(id)?).await?;
    Ok(Response::empty()?.with_status(204))
}

/// `POST /api/audiences/{id}/openids?part=N`.
pub async fn add_part(
    req: &Request,
    id: &str,
    body: Vec<u8>,
    app: &Ctx,
) -> Result<Response, AppError> {
    let part = part_number(req)?;
    let format = part_format(req)?;
    let body_hash = hex(&Sha256::digest(&body));
    let (audience, this_part, previous) = app.store.read_for_part(id, part).await?;
    let audience = audience.ok_or_else(|| AppError::NotFound(format!("no audience {id}")))?;
    if let Some(earlier) = this_part {
        return retried_part(&earlier, &body_hash, part);
    }
    check_next_part(&audience, part)?;
    let first_position = previous.map_or(0, |p| p.first_position + p.received);
    let read = read_audience_part(&body, format, first_position.max(0) as u64)
        .map_err(AppError::Invalid)?;
    let raw: Vec<&str> = split_rows(&read.valid_text, RAW_ROW_OPENIDS);
    let answer = json!({
        "audienceId": id,
        "part": part,
        "firstPosition": first_position,
        "received": read.received,
        "valid": read.valid_count,
        "invalid": read.invalid_count,
        "invalidShown": read.invalid_shown.iter().map(|i| json!({ "position": i.position, "value": i.value })).collect::<Vec<_>>(),
        "totalReceived": audience.received + read.received as i64,
    });
    let row = PartRow {
        part,
        first_position,
        received: read.received as i64,
        valid: read.valid_count as i64,
        invalid: read.invalid_count as i64,
        body_hash,
        answer_json: answer.to_string(),
    };
    let r = app
        .store
        .commit(app.store.add_part(&audience, &row, &raw)?)
        .await?;
    if !store::changed(&r, 0) {
        return Err(AppError::Stale(format!(
            "audience {id} changed while part {part} was stored; send the part again"
        )));
    }
    reply(201, &answer)
}

/// `?part=N`: 1, 2, …
fn part_number(req: &Request) -> Result<i64, AppError> {
    let url = req.url()?;
    let part_param = url
        .query_pairs()
        .find(|(k, _)| k == "part")
        .map(|(_, v)| v.into_owned());
    let part = part_param
        .as_deref()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            AppError::bad_value(
                "required",
                "part",
                part_param.as_deref().unwrap_or(""),
                "?part= must be the part's number: 1, 2, … in order",
            )
        })?;
    Ok(part)
}

fn part_format(req: &Request) -> Result<PartFormat, AppError> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let format = if content_type.starts_with("text/plain") {
        PartFormat::Lines
    } else if content_type.is_empty() || content_type.starts_with("application/json") {
        PartFormat::Json
    } else {
        return Err(AppError::bad_value(
            "content_type",
            "Content-Type",
            &content_type,
            "a part is application/json (an array of OpenIDs) or text/plain (one OpenID a line)",
        ));
    };
    Ok(format)
}

/// A part that came before: the same body is a retry (the same answer); another body under
/// the same number is a mistake.
fn retried_part(earlier: &PartRow, body_hash: &str, part: i64) -> Result<Response, AppError> {
    if earlier.body_hash == body_hash {
        let answer: Value = serde_json::from_str(&earlier.answer_json).unwrap_or(Value::Null);
        return reply(200, &answer);
    }
    Err(AppError::PartReused { part })
}

/// A new part goes to an open audience, next in order.
fn check_next_part(audience: &AudienceRow, part: i64) -> Result<(), AppError> {
    if audience.state != "open" {
        return Err(AppError::Conflict(format!(
            "audience {} is {}: only an open audience (made without a source) takes parts; create a new one to send to other OpenIDs",
            audience.id, audience.state
        )));
    }
    let expected = audience.parts + 1;
    if part != expected {
        return Err(AppError::PartOutOfOrder {
            part,
            expected_part: expected,
        });
    }
    Ok(())
}

/// Cuts `'\n'`-joined OpenIDs into pieces of at most `per_row` lines, without copying.
fn split_rows(text: &str, per_row: usize) -> Vec<&str> {
    let mut rows = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest
            .match_indices('\n')
            .nth(per_row.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        let (head, tail) = rest.split_at(cut);
        rows.push(head);
        rest = tail.strip_prefix('\n').unwrap_or(tail);
    }
    rows
}

/// `POST /api/audiences/{id}/seal`: read the uploads a few rows at a time, let core dedupe and
/// split them, commit the chunks and the counts at once (`crate::collect::seal`). Sealing again
/// answers the same. An audience collecting from WeChat is sealed by the cron.
pub async fn seal(id: &str, app: &Ctx) -> Result<Response, AppError> {
    let (audience, parts, in_flight) = read(id, app).await?;
    if audience.state == "sealed" {
        return reply(200, &view(&audience, &parts, in_flight));
    }
    if audience.state != "open" {
        return Err(AppError::Conflict(format!(
            "audience {id} is {}: the cron seals an audience collected from WeChat once its list is done",
            audience.state
        )));
    }
    if audience.parts == 0 {
        return Err(AppError::Conflict(format!(
            "audience {id} has no parts yet: upload OpenIDs with POST /api/audiences/{id}/openids?part=1"
        )));
    }
    let rows = app.store.raw_row_count(id).await?;
    let invalid = parts.iter().map(|p| p.invalid.max(0)).sum();
    let valid = parts.iter().map(|p| p.valid.max(0)).sum();
    let per_read = collect::UPLOAD_ROWS_PER_READ;
    if !collect::seal(app, &audience, (rows, per_read), (invalid, valid)).await? {
        return Err(AppError::Stale(format!(
            "audience {id} changed while it was sealed; seal it again"
        )));
    }
    let (audience, parts, in_flight) = read(id, app).await?;
    reply(200, &view(&audience, &parts, in_flight))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hold_at_most_the_limit_and_lose_no_line() {
        let text = (0..7)
            .map(|i| format!("o{i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let rows = split_rows(&text, 3);
        assert_eq!(rows, vec!["o0\no1\no2", "o3\no4\no5", "o6"]);
        assert_eq!(split_rows("", 3), Vec::<&str>::new());
        assert_eq!(split_rows("a\nb\nc", 3), vec!["a\nb\nc"]);
    }
}
