//! `audiences`, `audience_parts`, `audience_raw`, `audience_chunks`: an audience uploaded in parts
//! or collected from WeChat a page at a time, then sealed into chunks of at most 10,000 OpenIDs
//! that batches are sent to.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::db::{first, n, opt, opt_n, rows, s, Store};
use crate::error::AppError;

/// An audience.
#[derive(Debug, Clone, Deserialize)]
pub struct AudienceRow {
    pub id: String,
    pub state: String,
    pub parts: i64,
    pub received: i64,
    pub invalid: i64,
    pub valid: Option<i64>,
    pub duplicates: Option<i64>,
    pub batches: Option<i64>,
    pub created_at: i64,
    pub sealed_at: Option<i64>,
    pub version: i64,
    /// The operator's name for it.
    pub name: Option<String>,
    /// Collected from a tag's followers.
    pub source_tag_id: Option<i64>,
    /// Collected from every follower (1).
    pub source_everyone: i64,
    /// Collecting: the `next_openid` to resume from.
    pub cursor: String,
    /// Collecting: 1 once WeChat's list is done.
    pub listed: i64,
    /// Collecting: pages stored.
    pub pages: i64,
    /// Collecting: OpenIDs stored, repeats included.
    pub collected: i64,
    /// Followers in all, when `user/get` said.
    pub total: Option<i64>,
    pub fail_reason: Option<String>,
    pub fail_reason_zh: Option<String>,
}

/// Where a new audience's OpenIDs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewSource {
    /// Uploaded in parts (`open`).
    Upload,
    /// A tag's followers (`collecting`).
    Tag(i64),
    /// Every follower (`collecting`).
    Everyone,
}

/// A page collected from WeChat, to store with the cursor after it.
pub struct NewPage<'a> {
    /// The page's number (its `audience_raw` part): the pages stored before it, plus one.
    pub page: i64,
    /// Its OpenIDs, `'\n'`-joined ('' for the empty page that ends a list: no row).
    pub openids: &'a str,
    pub cursor: &'a str,
    pub collected: i64,
    pub total: Option<i64>,
    pub listed: bool,
}

/// One uploaded part of an audience.
#[derive(Debug, Clone, Deserialize)]
pub struct PartRow {
    pub part: i64,
    pub first_position: i64,
    pub received: i64,
    pub valid: i64,
    pub invalid: i64,
    pub body_hash: String,
    pub answer_json: String,
}

/// A chunk of a sealed audience, without its OpenIDs.
#[derive(Debug, Clone, Deserialize)]
pub struct ChunkMeta {
    pub idx: i64,
    pub count: i64,
    pub digest: String,
}

/// A chunk to store at sealing.
pub struct NewChunk<'a> {
    pub idx: i64,
    pub count: i64,
    pub digest: &'a str,
    pub openids: &'a str,
}

/// Chunks one INSERT carries: at most 1.4 MB of OpenIDs a statement, well inside what D1 takes
/// in one query (a string of at most 2 MB, 100 bound parameters: 5 a chunk).
const CHUNKS_PER_INSERT: usize = 5;

/// An audience of the store's account (?1 its id, ?2 the account).
const AUDIENCE_SELECT: &str = "SELECT * FROM audiences WHERE id = ?1 AND account_id = ?2";

impl Store {
    /// A new audience: `open` for uploads, `collecting` from WeChat.
    pub fn insert_audience(
        &self,
        id: &str,
        now: i64,
        name: Option<&str>,
        source: NewSource,
    ) -> Result<D1PreparedStatement, AppError> {
        let (state, tag, everyone) = match source {
            NewSource::Upload => ("open", None, 0),
            NewSource::Tag(t) => ("collecting", Some(t), 0),
            NewSource::Everyone => ("collecting", None, 1),
        };
        self.sql(
            "INSERT INTO audiences (id, state, created_at, account_id, name, source_tag_id, source_everyone) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[s(id), s(state), n(now), self.acc(), opt(name), opt_n(tag), n(everyone)],
        )
    }

    /// The account's audiences still collecting from WeChat, oldest first (a statement of the
    /// cron's read).
    pub fn collecting_select(&self, limit: u32) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "SELECT * FROM audiences WHERE account_id = ?1 AND state = 'collecting' ORDER BY created_at, id LIMIT ?2",
            &[self.acc(), n(i64::from(limit))],
        )
    }

    /// A page's commit: the cursor and counts moved on (guarded by the version the page was
    /// asked at, collecting only), then its OpenIDs only if that matched. A page committed
    /// twice cannot happen: the second's guard no longer matches, and the raw row's key
    /// (audience, page) is taken.
    pub fn store_page(
        &self,
        audience: &AudienceRow,
        page: &NewPage<'_>,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let mut stmts = vec![self.sql(
            "UPDATE audiences SET cursor = ?3, pages = ?4, collected = ?5, total = coalesce(?6, total), listed = ?7, version = version + 1 WHERE id = ?1 AND version = ?2 AND state = 'collecting' AND account_id = ?8",
            &[s(&audience.id), n(audience.version), s(page.cursor), n(page.page), n(page.collected), opt_n(page.total), n(i64::from(page.listed)), self.acc()],
        )?];
        if !page.openids.is_empty() {
            stmts.push(self.sql(
                "INSERT INTO audience_raw (audience_id, part, seq, openids) SELECT ?1, ?2, 0, ?3 WHERE changes() = 1",
                &[s(&audience.id), n(page.page), s(page.openids)],
            )?);
        }
        Ok(stmts)
    }

    /// Ends a collecting audience `failed`, with why in English and Chinese; its pages go.
    pub fn fail_collecting(
        &self,
        audience: &AudienceRow,
        reason: &str,
        reason_zh: &str,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        Ok(vec![
            self.sql(
                "UPDATE audiences SET state = 'failed', fail_reason = ?3, fail_reason_zh = ?4, version = version + 1 WHERE id = ?1 AND version = ?2 AND state = 'collecting' AND account_id = ?5",
                &[s(&audience.id), n(audience.version), s(reason), s(reason_zh), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audience_raw WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND state = 'failed' AND account_id = ?2)",
                &[s(&audience.id), self.acc()],
            )?,
        ])
    }

    /// An audience with its parts.
    pub async fn read_audience(
        &self,
        id: &str,
    ) -> Result<Option<(AudienceRow, Vec<PartRow>, i64)>, AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let r = self
            .batch(vec![
                self.sql(AUDIENCE_SELECT, &[s(id), self.acc()])?,
                self.sql(
                    "SELECT part, first_position, received, valid, invalid, body_hash, answer_json FROM audience_parts WHERE audience_id = ?1 ORDER BY part",
                    &[s(id)],
                )?,
                self.sql(
                    "SELECT count(*) AS n FROM batches WHERE audience_id = ?1 AND state IN ('pending', 'sending', 'submitted')",
                    &[s(id)],
                )?,
            ])
            .await?;
        match first::<AudienceRow>(&r, 0)? {
            Some(a) => Ok(Some((
                a,
                rows(&r, 1)?,
                first::<Count>(&r, 2)?.map_or(0, |c| c.n),
            ))),
            None => Ok(None),
        }
    }

    /// What a part upload decides from: the audience, this part if it came before, and the part
    /// before it (whose end is this part's first position).
    pub async fn read_for_part(
        &self,
        id: &str,
        part: i64,
    ) -> Result<(Option<AudienceRow>, Option<PartRow>, Option<PartRow>), AppError> {
        let part_sql = "SELECT part, first_position, received, valid, invalid, body_hash, answer_json FROM audience_parts WHERE audience_id = ?1 AND part = ?2";
        let r = self
            .batch(vec![
                self.sql(AUDIENCE_SELECT, &[s(id), self.acc()])?,
                self.sql(part_sql, &[s(id), n(part)])?,
                self.sql(part_sql, &[s(id), n(part - 1)])?,
            ])
            .await?;
        Ok((first(&r, 0)?, first(&r, 1)?, first(&r, 2)?))
    }

    /// A part's commit: the audience's counters (guarded by its version, open only), then the
    /// part and its OpenIDs only if that matched.
    pub fn add_part(
        &self,
        audience: &AudienceRow,
        part: &PartRow,
        raw: &[&str],
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let mut stmts = vec![
            self.sql(
                "UPDATE audiences SET parts = ?3, received = received + ?4, invalid = invalid + ?5, version = version + 1 WHERE id = ?1 AND version = ?2 AND state = 'open' AND account_id = ?6",
                &[s(&audience.id), n(audience.version), n(part.part), n(part.received), n(part.invalid), self.acc()],
            )?,
            self.sql(
                "INSERT INTO audience_parts (audience_id, part, first_position, received, valid, invalid, body_hash, answer_json) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE changes() = 1",
                &[s(&audience.id), n(part.part), n(part.first_position), n(part.received), n(part.valid), n(part.invalid), s(&part.body_hash), s(&part.answer_json)],
            )?,
        ];
        for (seq, text) in raw.iter().enumerate() {
            stmts.push(self.sql(
                "INSERT INTO audience_raw (audience_id, part, seq, openids) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND version = ?5 AND account_id = ?6)",
                &[s(&audience.id), n(part.part), n(seq as i64), s(text), n(audience.version + 1), self.acc()],
            )?);
        }
        Ok(stmts)
    }

    /// The uploaded OpenIDs of an open audience, `limit` rows from `offset`, in upload order.
    pub async fn raw_rows(
        &self,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<String>, AppError> {
        #[derive(Deserialize)]
        struct Raw {
            openids: String,
        }
        let rows: Vec<Raw> = self
            .all(
                "SELECT openids FROM audience_raw WHERE audience_id = ?1 ORDER BY part, seq LIMIT ?2 OFFSET ?3",
                &[s(id), n(limit), n(offset)],
            )
            .await?;
        Ok(rows.into_iter().map(|x| x.openids).collect())
    }

    /// How many rows of uploaded OpenIDs an open audience has.
    pub async fn raw_row_count(&self, id: &str) -> Result<i64, AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let count: Option<Count> = self
            .one(
                "SELECT count(*) AS n FROM audience_raw WHERE audience_id = ?1",
                &[s(id)],
            )
            .await?;
        Ok(count.map_or(0, |c| c.n))
    }

    /// The seal's commit: the audience sealed with its counts (guarded), its chunks only if
    /// that matched (a few per statement: D1 binds at most 100 parameters), the uploads deleted.
    pub fn seal_audience(
        &self,
        audience: &AudienceRow,
        counts: (i64, i64, i64),
        chunks: &[NewChunk<'_>],
        now: i64,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let (valid, duplicates, batches) = counts;
        let mut stmts = vec![self.sql(
            "UPDATE audiences SET state = 'sealed', valid = ?3, duplicates = ?4, batches = ?5, sealed_at = ?6, version = version + 1 WHERE id = ?1 AND version = ?2 AND state IN ('open', 'collecting') AND account_id = ?7",
            &[s(&audience.id), n(audience.version), n(valid), n(duplicates), n(batches), n(now), self.acc()],
        )?];
        for group in chunks.chunks(CHUNKS_PER_INSERT) {
            let values = vec!["(?, ?, ?, ?, ?)"; group.len()].join(", ");
            let mut args = Vec::with_capacity(group.len() * 5 + 2);
            for c in group {
                args.extend([
                    s(&audience.id),
                    n(c.idx),
                    n(c.count),
                    s(c.digest),
                    s(c.openids),
                ]);
            }
            args.extend([s(&audience.id), n(audience.version + 1), self.acc()]);
            stmts.push(self.sql(
                &format!("INSERT INTO audience_chunks (audience_id, idx, count, digest, openids) SELECT column1, column2, column3, column4, column5 FROM (VALUES {values}) WHERE EXISTS (SELECT 1 FROM audiences WHERE id = ? AND version = ? AND state = 'sealed' AND account_id = ?)"),
                &args,
            )?);
        }
        stmts.push(self.sql(
            "DELETE FROM audience_raw WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND state = 'sealed' AND account_id = ?2)",
            &[s(&audience.id), self.acc()],
        )?);
        Ok(stmts)
    }

    /// Deletes an audience and everything of it.
    pub fn delete_audience(&self, id: &str) -> Result<Vec<D1PreparedStatement>, AppError> {
        Ok(vec![
            self.sql(
                "DELETE FROM audience_chunks WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND account_id = ?2)",
                &[s(id), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audience_raw WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND account_id = ?2)",
                &[s(id), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audience_parts WHERE audience_id = ?1 AND EXISTS (SELECT 1 FROM audiences WHERE id = ?1 AND account_id = ?2)",
                &[s(id), self.acc()],
            )?,
            self.sql(
                "DELETE FROM audiences WHERE id = ?1 AND account_id = ?2",
                &[s(id), self.acc()],
            )?,
        ])
    }

    /// A sealed audience's chunks without their OpenIDs: what a job plans from.
    pub async fn chunk_refs(
        &self,
        id: &str,
    ) -> Result<(Option<AudienceRow>, Vec<ChunkMeta>), AppError> {
        let r = self
            .batch(vec![
                self.sql(AUDIENCE_SELECT, &[s(id), self.acc()])?,
                self.sql(
                    "SELECT idx, count, digest FROM audience_chunks WHERE audience_id = ?1 ORDER BY idx",
                    &[s(id)],
                )?,
            ])
            .await?;
        Ok((first(&r, 0)?, rows(&r, 1)?))
    }
}
