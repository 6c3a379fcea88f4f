//! The access_token in `kv`: the cached token, the time to refresh it, and the refresh lock.

use serde::Deserialize;

use super::db::{changed, n, s, Store};
use crate::error::AppError;

/// A small shared value: the access_token (with its refresh lock) or the test clock.
#[derive(Debug, Clone, Deserialize)]
pub struct KvRow {
    pub value: String,
    pub expires_at: i64,
}

pub(super) const TOKEN_KEY: &str = "access_token";

pub(super) const TOKEN_SELECT: &str = "SELECT value, expires_at FROM kv WHERE key = ?1";

impl Store {
    /// The cached token alone (a non-mass call: no pacing).
    pub async fn read_token(&self) -> Result<Option<KvRow>, AppError> {
        self.one(TOKEN_SELECT, &[self.key(TOKEN_KEY)]).await
    }

    /// Takes the token's refresh lock until `until` if nobody holds it (one of many wins).
    pub async fn lock_token(&self, now: i64, until: i64) -> Result<bool, AppError> {
        let r = self
            .batch(vec![self.sql(
                "INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, '', 0, ?3, ?2) ON CONFLICT(key) DO UPDATE SET lock_until = excluded.lock_until WHERE kv.lock_until < ?2",
                &[self.key(TOKEN_KEY), n(now), n(until)],
            )?])
            .await?;
        Ok(changed(&r, 0))
    }

    /// Stores a fresh token (and releases the lock), or with `value` empty just the lock.
    pub async fn put_token(&self, value: &str, refresh_at: i64, now: i64) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, lock_until = 0, updated_at = excluded.updated_at",
            &[self.key(TOKEN_KEY), s(value), n(refresh_at), n(now)],
        )?])
        .await?;
        Ok(())
    }

    /// Releases the token's refresh lock after a failed fetch.
    pub async fn unlock_token(&self) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "UPDATE kv SET lock_until = 0 WHERE key = ?1",
            &[self.key(TOKEN_KEY)],
        )?])
        .await?;
        Ok(())
    }
}
