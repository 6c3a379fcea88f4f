//! `admin_tokens`: scoped admin tokens, by the hash of the token. Not scoped to the store's
//! account: a token names its accounts.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::db::{n, s, Store};
use crate::error::AppError;

/// A scoped admin token (its hash only).
#[derive(Debug, Clone, Deserialize)]
pub struct AdminTokenRow {
    pub id: String,
    pub token_hash: String,
    pub role: String,
    /// JSON array of account ids, or `["*"]`.
    pub accounts: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl Store {
    /// The admin token whose hash is `hash`, unless revoked; records its use at `now`. One
    /// query: the update returns the row.
    pub async fn use_admin_token(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<AdminTokenRow>, AppError> {
        self.one(
            "UPDATE admin_tokens SET last_used_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL RETURNING *",
            &[s(hash), n(now)],
        )
        .await
    }

    pub fn insert_admin_token(&self, t: &AdminTokenRow) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT INTO admin_tokens (id, token_hash, role, accounts, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                s(&t.id),
                s(&t.token_hash),
                s(&t.role),
                s(&t.accounts),
                s(&t.label),
                n(t.created_at),
            ],
        )
    }

    pub async fn list_admin_tokens(&self) -> Result<Vec<AdminTokenRow>, AppError> {
        self.all("SELECT * FROM admin_tokens ORDER BY created_at, id", &[])
            .await
    }

    /// Revokes a token (the first revocation's time is kept).
    pub fn revoke_admin_token(&self, id: &str, now: i64) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "UPDATE admin_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            &[s(id), n(now)],
        )
    }
}
