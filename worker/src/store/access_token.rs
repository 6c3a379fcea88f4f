//! `access_tokens`: each account's cached access_token, sealed (`secrets::access_token_key`),
//! the time to refresh it, and the refresh lock.

use serde::Deserialize;

use super::db::{changed, n, s, Store};
use crate::error::AppError;

/// An account's cached access_token, sealed, and when to fetch a new one; `sealed` is empty
/// while a refresh holds only the lock.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenRow {
    pub sealed: String,
    pub refresh_at: i64,
}

/// The store's account's token (?1 the account).
pub(super) const TOKEN_SELECT: &str =
    "SELECT sealed, refresh_at FROM access_tokens WHERE account_id = ?1";

impl Store {
    /// The cached token alone (a non-mass call: no pacing).
    pub async fn read_token(&self) -> Result<Option<TokenRow>, AppError> {
        self.one(TOKEN_SELECT, &[self.acc()]).await
    }

    /// Takes the token's refresh lock until `until` if nobody holds it (one of many wins).
    pub async fn lock_token(&self, now: i64, until: i64) -> Result<bool, AppError> {
        let r = self
            .batch(vec![self.sql(
                "INSERT INTO access_tokens (account_id, sealed, refresh_at, lock_until, updated_at) VALUES (?1, '', 0, ?3, ?2) ON CONFLICT(account_id) DO UPDATE SET lock_until = excluded.lock_until WHERE access_tokens.lock_until < ?2",
                &[self.acc(), n(now), n(until)],
            )?])
            .await?;
        Ok(changed(&r, 0))
    }

    /// Stores a fresh token, sealed, and releases the lock.
    pub async fn put_token(&self, sealed: &str, refresh_at: i64, now: i64) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "INSERT INTO access_tokens (account_id, sealed, refresh_at, lock_until, updated_at) VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT(account_id) DO UPDATE SET sealed = excluded.sealed, refresh_at = excluded.refresh_at, lock_until = 0, updated_at = excluded.updated_at",
            &[self.acc(), s(sealed), n(refresh_at), n(now)],
        )?])
        .await?;
        Ok(())
    }

    /// Releases the token's refresh lock after a failed fetch.
    pub async fn unlock_token(&self) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "UPDATE access_tokens SET lock_until = 0 WHERE account_id = ?1",
            &[self.acc()],
        )?])
        .await?;
        Ok(())
    }

    /// Marks the cached token due for a refresh (WeChat refused it and the call cannot be made
    /// again now): the next call fetches a new one. Not while a refresh holds the lock (that
    /// refresh replaces it anyway); a token another request refreshed just before may be
    /// fetched once more, which harms nothing (`stable_token` keeps other holders' tokens).
    pub async fn expire_token(&self, now: i64) -> Result<(), AppError> {
        self.batch(vec![self.sql(
            "UPDATE access_tokens SET refresh_at = 0 WHERE account_id = ?1 AND lock_until < ?2",
            &[self.acc(), n(now)],
        )?])
        .await?;
        Ok(())
    }
}
