//! `accounts`: each official account's settings and sealed secrets. Not scoped to the store's
//! account: accounts are the scopes.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::db::{first, n, opt, rows, s, Store};
use crate::error::AppError;

/// An account's row: its settings, and its secrets sealed (`secrets.rs`).
#[derive(Debug, Clone, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub app_id: String,
    pub kind: String,
    pub callback_mode: Option<String>,
    pub api_base: Option<String>,
    pub token_url: Option<String>,
    pub secrets: String,
    pub key_id: String,
    pub created_at: i64,
    pub version: i64,
}

/// An account with due work.
#[derive(Debug, Clone, Deserialize)]
pub struct DueAccount {
    pub account_id: String,
    /// 1 when it has audiences collecting from WeChat (its turn reads them).
    pub collecting: i64,
}

impl Store {
    /// An account's row.
    pub async fn read_account(&self, id: &str) -> Result<Option<AccountRow>, AppError> {
        self.one("SELECT * FROM accounts WHERE id = ?1", &[s(id)])
            .await
    }

    /// Every account's row, by id.
    pub async fn list_accounts(&self) -> Result<Vec<AccountRow>, AppError> {
        self.all("SELECT * FROM accounts ORDER BY id", &[]).await
    }

    /// A new account; changes nothing when the id or the AppID is taken (see [`changed`]).
    pub fn insert_account(&self, a: &AccountRow) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "INSERT OR IGNORE INTO accounts (id, app_id, kind, callback_mode, api_base, token_url, secrets, key_id, created_at, updated_at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 0)",
            &[
                s(&a.id),
                s(&a.app_id),
                s(&a.kind),
                opt(a.callback_mode.as_deref()),
                opt(a.api_base.as_deref()),
                opt(a.token_url.as_deref()),
                s(&a.secrets),
                s(&a.key_id),
                n(a.created_at),
            ],
        )
    }

    /// An account's new values, if nobody changed it since it was read at `read_version`.
    pub fn update_account(
        &self,
        a: &AccountRow,
        read_version: i64,
        now: i64,
    ) -> Result<D1PreparedStatement, AppError> {
        self.sql(
            "UPDATE accounts SET app_id = ?3, kind = ?4, callback_mode = ?5, api_base = ?6, token_url = ?7, secrets = ?8, key_id = ?9, updated_at = ?10, version = version + 1 WHERE id = ?1 AND version = ?2",
            &[
                s(&a.id),
                n(read_version),
                s(&a.app_id),
                s(&a.kind),
                opt(a.callback_mode.as_deref()),
                opt(a.api_base.as_deref()),
                opt(a.token_url.as_deref()),
                s(&a.secrets),
                s(&a.key_id),
                n(now),
            ],
        )
    }

    /// At most `limit` accounts whose secrets another key than `key_id` sealed (a rotation's
    /// work), and how many there are in all.
    pub async fn accounts_to_reseal(
        &self,
        key_id: &str,
        limit: u32,
    ) -> Result<(Vec<AccountRow>, i64), AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT * FROM accounts WHERE key_id != ?1 ORDER BY id LIMIT ?2",
                    &[s(key_id), n(i64::from(limit))],
                )?,
                self.sql(
                    "SELECT count(*) AS n FROM accounts WHERE key_id != ?1",
                    &[s(key_id)],
                )?,
            ])
            .await?;
        Ok((rows(&r, 0)?, first::<Count>(&r, 1)?.map_or(0, |c| c.n)))
    }

    /// The accounts with work due at `now` (batches to send or check, results to apply,
    /// audiences collecting from WeChat), by id. A pending result counts only when a batch of
    /// its account now carries its msg_id and can take it (the cron's read applies no other):
    /// one that matches no batch would otherwise keep its account due, and spend its turn,
    /// every minute until it expires.
    pub async fn accounts_with_due_work(&self, now: i64) -> Result<Vec<DueAccount>, AppError> {
        self.all(
            "SELECT account_id, max(collecting) AS collecting FROM ( \
               SELECT account_id, 0 AS collecting FROM batches WHERE next_attempt_at <= ?1 AND (state IN ('pending', 'submitted') OR (state = 'sending' AND lease_until < ?1)) \
               UNION ALL SELECT e.account_id, 0 FROM events e JOIN batches b ON b.msg_id = e.msg_id AND b.account_id = e.account_id \
                 WHERE e.state = 'pending' AND b.state IN ('submitted', 'finished') \
               UNION ALL SELECT account_id, 1 FROM audiences WHERE state = 'collecting' \
             ) GROUP BY account_id ORDER BY account_id",
            &[n(now)],
        )
        .await
    }
}
