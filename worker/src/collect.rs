//! Audiences built from WeChat, and the seal every audience goes through.
//!
//! `POST /api/audiences` with a `source` (a tag's followers, or every follower) makes an
//! audience `collecting`. The cron's turn for its account asks core's [`CronTurn`] what to do
//! with what the account's share of the run leaves after its sends and checks; this file
//! performs it:
//!
//! - **a page** ([`page`]): the request core's `FollowerPager` gives (resumed at the stored
//!   cursor), one WeChat call, and core's reading of the answer committed at once: the page's
//!   OpenIDs as one `audience_raw` row with the new cursor and counts, guarded by the
//!   audience's version. A run that stops between the call and the commit stored nothing and
//!   moved no cursor, so the next run asks the same page again: nothing lost, nothing counted
//!   twice. A final error ends the audience `failed` with core's reason in English and Chinese;
//!   a passing one (busy, a rate limit) leaves it for the next run.
//! - **the seal** ([`seal`]): once WeChat's list is done, in a run whose budget holds it: the
//!   stored pages read a few at a time into core's `AudienceSealer` (duplicates dropped, the
//!   first kept), its chunks and counts committed at once, the pages deleted. The admin's
//!   `POST /api/audiences/{id}/seal` seals an uploaded audience the same way.

use wxmass::followers::FollowerSource;
use wxmass::plan::turn::{CallAnswer, Spend};
use wxmass::plan::{AudienceSealer, CollectCosts, CollectStep, Collected, Collecting, CronTurn};

use crate::calls;
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{self, AudienceRow, NewChunk, NewPage};
use crate::token::Token;
use crate::wechat::{Exchange, NoAnswer};

/// Rows of an upload one read of the seal brings (50,000 OpenIDs each): ~5.6 MB at a time.
pub const UPLOAD_ROWS_PER_READ: i64 = 4;
/// Pages of a collected audience one read of the seal brings (10,000 OpenIDs each): as much.
const PAGE_ROWS_PER_READ: u32 = 20;
/// Chunks one statement of the seal stores (see `store::seal_audience`).
const CHUNKS_PER_INSERT: u32 = 5;
/// Audiences a turn reads to collect, at most (the rest wait for their turn in later runs).
pub const AUDIENCES_PER_TURN: u32 = 10;

/// What collecting costs, for core's turn: a page is the call and a commit of two statements
/// (the audience, its page); a seal is its reads, its chunk inserts and two more statements
/// (the audience sealed, its pages deleted), and may take at most what a run has left once
/// `before_seal` queries are spent (finding the accounts, the turn's read, a token refresh).
pub fn costs(app: &Ctx, before_seal: u32) -> CollectCosts {
    CollectCosts {
        page: Spend::new(2, 1),
        seal_fixed: Spend::new(2, 0),
        seal_pages_per_read: PAGE_ROWS_PER_READ,
        seal_chunks_per_insert: CHUNKS_PER_INSERT,
        seal_max: Spend::new(
            app.budget.max_queries().saturating_sub(before_seal),
            app.budget.max_subrequests(),
        ),
    }
}

/// A collecting audience as core's turn reads it; `None` for a row with no source.
pub fn collecting(row: &AudienceRow) -> Option<Collecting> {
    let source = match (row.source_tag_id, row.source_everyone) {
        (Some(tag), _) => FollowerSource::Tag(u64::try_from(tag).ok()?),
        (None, 1) => FollowerSource::Everyone,
        _ => return None,
    };
    Some(Collecting {
        source,
        cursor: row.cursor.clone(),
        listed: row.listed != 0,
        pages: u64::try_from(row.pages).unwrap_or(0),
        collected: u64::try_from(row.collected).unwrap_or(0),
    })
}

/// A call's result as core reads it.
pub fn answer_of(answer: &Result<Exchange, NoAnswer>) -> CallAnswer<'_> {
    match answer {
        Ok(ex) => CallAnswer::Http {
            status: ex.status,
            body: &ex.body,
        },
        Err(e) => CallAnswer::NoAnswer(&e.0),
    }
}

/// Asks WeChat for the page core named and commits what core made of the answer. Returns
/// whether a page was stored.
pub async fn page(
    app: &Ctx,
    turn: &mut CronTurn,
    rows: &mut [AudienceRow],
    step: CollectStep,
    token: &mut Token,
    now: i64,
) -> Result<bool, AppError> {
    let index = step.audience;
    let row = rows
        .get(index)
        .cloned()
        .ok_or_else(|| AppError::Internal(format!("cron: no audience {index} in the read")))?;
    let request = match step.pager.next_request(&app.acct()?.base) {
        Ok(Some(r)) => r,
        // A stored cursor WeChat gave that is not an OpenID: no request can go on from it.
        Ok(None) | Err(_) => {
            let why = format!("the stored cursor {:?} cannot be asked from", row.cursor);
            let zh = format!("已保存的翻页位置 {:?} 无法继续请求", row.cursor);
            app.store
                .commit(app.store.fail_collecting(&row, &why, &zh)?)
                .await?;
            turn.leave_collecting(index);
            return Ok(false);
        }
    };
    let tok = token.get(app).await?;
    let made = calls::make(app, step.pager.endpoint(), &request, &tok, now).await?;
    let stmts = match turn.on_collect_outcome(step, answer_of(&made.answer)) {
        Collected::Page {
            openids,
            cursor,
            pages,
            collected,
            total,
            listed,
        } => {
            let text = openids.join("\n");
            let page = NewPage {
                page: to_i64(pages),
                openids: &text,
                cursor: &cursor,
                collected: to_i64(collected),
                total: total.map(to_i64),
                listed,
            };
            let r = app.store.commit(app.store.store_page(&row, &page)?).await?;
            if !store::changed(&r, 0) {
                turn.leave_collecting(index); // another run moved it on first
                return Ok(false);
            }
            if let Some(slot) = rows.get_mut(index) {
                slot.version += 1;
                slot.pages = page.page;
                slot.collected = page.collected;
                slot.cursor = cursor;
            }
            return Ok(true);
        }
        Collected::Again { why } => {
            worker::console_log!("cron: audience {}: next run: {why}", row.id);
            return Ok(false);
        }
        Collected::Failed { reason, reason_zh } => {
            app.store.fail_collecting(&row, &reason, &reason_zh)?
        }
    };
    app.store.commit(stmts).await?;
    Ok(false)
}

/// Seals a collected audience whose list is done. Returns whether this run sealed it.
/// An audience with no OpenIDs at all (a tag nobody carries) cannot be sent to: it ends
/// `failed` with core's reason.
pub async fn seal_collected(app: &Ctx, row: &AudienceRow) -> Result<bool, AppError> {
    let reads = i64::from(PAGE_ROWS_PER_READ);
    match seal(app, row, (row.pages, reads), (0, row.collected)).await {
        Ok(sealed) => Ok(sealed),
        Err(AppError::Plan(e)) => {
            let (why, zh) = (e.to_string(), format!("无法封存受众：{e}"));
            app.store
                .commit(app.store.fail_collecting(row, &why, &zh)?)
                .await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Seals `audience`: its `rows` stored rows of OpenIDs (an upper bound), `per_read` at a time,
/// into core's sealer, then the chunks and counts in one guarded commit and the rows deleted.
/// `invalid` entries were skipped before storing (uploads), `expected` OpenIDs are stored (to
/// size the sealer once). Returns whether the commit matched (another seal may have come
/// first).
pub async fn seal(
    app: &Ctx,
    audience: &AudienceRow,
    (rows, per_read): (i64, i64),
    (invalid, expected): (i64, i64),
) -> Result<bool, AppError> {
    let mut sealer = AudienceSealer::new(Some(u64::from_le_bytes(crate::random::bytes::<8>())));
    // In WebAssembly a growing list is copied at each doubling: size it once.
    sealer.reserve(u64::try_from(expected).unwrap_or(0));
    // An audience left empty says how many entries were skipped as invalid before storing.
    sealer.skipped_invalid(u64::try_from(invalid).unwrap_or(0));
    let mut offset = 0;
    while offset < rows {
        for text in app.store.raw_rows(&audience.id, offset, per_read).await? {
            sealer.push(&text);
        }
        offset += per_read;
    }
    let sealed = sealer.finish().map_err(AppError::Plan)?;
    let chunks: Vec<NewChunk<'_>> = sealed
        .chunks
        .iter()
        .map(|c| NewChunk {
            idx: c.index as i64,
            count: c.count as i64,
            digest: &c.digest,
            openids: &c.openids,
        })
        .collect();
    let counts = (
        sealed.valid as i64,
        sealed.duplicates as i64,
        sealed.chunks.len() as i64,
    );
    let r = app
        .store
        .commit(
            app.store
                .seal_audience(audience, counts, &chunks, app.now())?,
        )
        .await?;
    Ok(store::changed(&r, 0))
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
