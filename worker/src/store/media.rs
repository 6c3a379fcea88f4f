//! `media`: every media id the worker made for the account (uploadimg's url, uploadnews with its
//! articles, uploadvideo, media/upload, add_material), so a job shows what its media is and a
//! job whose temporary media will have expired is refused before it is stored.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::db::{n, opt, opt_n, s, Store};
use crate::error::AppError;

/// One upload, as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaRow {
    pub media_id: Option<String>,
    pub source: String,
    pub kind: String,
    pub name: Option<String>,
    pub url: Option<String>,
    /// `[{"title", "thumbMediaId"}]`, for uploadnews.
    pub articles_json: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

const MEDIA_COLUMNS: &str =
    "m.media_id, m.source, m.kind, m.name, m.url, m.articles_json, m.created_at, m.expires_at";

/// The media a job's message names (?1 the job, ?2 the account): its media id (any `media_id` or
/// `mediaId` string in the stored message) and, for news, the covers of its articles.
pub(super) fn media_of_job_select() -> String {
    format!(
        "WITH msg(id) AS (SELECT t.value FROM jobs j, json_tree(j.message_json) t WHERE j.id = ?1 AND j.account_id = ?2 AND t.key IN ('media_id', 'mediaId') AND t.type = 'text'), \
         ids(id) AS (SELECT id FROM msg UNION SELECT json_extract(a.value, '$.thumbMediaId') FROM media n, json_each(n.articles_json) a WHERE n.account_id = ?2 AND n.media_id IN (SELECT id FROM msg)) \
         SELECT {MEDIA_COLUMNS} FROM media m WHERE m.account_id = ?2 AND m.media_id IN (SELECT id FROM ids)"
    )
}

impl Store {
    /// Records an upload WeChat answered (a media id already recorded is kept as it was).
    pub fn insert_media(&self, m: &MediaRow) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT INTO media (account_id, media_id, source, kind, name, url, articles_json, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(account_id, media_id) DO NOTHING",
            &[
                self.acc(),
                opt(m.media_id.as_deref()),
                s(&m.source),
                s(&m.kind),
                opt(m.name.as_deref()),
                opt(m.url.as_deref()),
                opt(m.articles_json.as_deref()),
                n(m.created_at),
                opt_n(m.expires_at),
            ],
        )
    }

    /// The upload that made `media_id`, if the worker made it.
    pub async fn media(&self, media_id: &str) -> Result<Option<MediaRow>, AppError> {
        self.one(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media m WHERE m.account_id = ?1 AND m.media_id = ?2"
            ),
            &[self.acc(), s(media_id)],
        )
        .await
    }
}
