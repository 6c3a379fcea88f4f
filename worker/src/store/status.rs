//! What `GET /api/status` reads: one round trip across `events`, the access_token and `calls`.

use serde::Deserialize;

use super::calls::{CallCounts, CallRow};
use super::db::{first, n, rows, Store};
use super::events::StateCount;
use crate::error::AppError;

/// What `GET /api/status` reads.
pub struct StatusRead {
    pub events_by_state: Vec<StateCount>,
    pub token_fetched_at: Option<i64>,
    pub token_refresh_at: Option<i64>,
    pub calls: CallCounts,
    /// The sends of the China month so far (core's quota rules count them).
    pub month_sends: Vec<CallRow>,
}

impl Store {
    /// What `GET /api/status` shows: stored pushes by state, when the token was fetched and
    /// when it is refreshed (never the token), and the mass calls since `day_start`,
    /// `month_start` and `minute_start`.
    pub async fn read_status(
        &self,
        minute_start: i64,
        day_start: i64,
        month_start: i64,
    ) -> Result<StatusRead, AppError> {
        #[derive(Deserialize)]
        struct TokenTimes {
            updated_at: i64,
            expires_at: i64,
        }
        let r = self
            .batch(vec![
                self.sql(
                    "SELECT state, count(*) AS n FROM events WHERE account_id = ?1 GROUP BY state",
                    &[self.acc()],
                )?,
                self.sql(
                    "SELECT updated_at, refresh_at AS expires_at FROM access_tokens WHERE account_id = ?1 AND sealed != ''",
                    &[self.acc()],
                )?,
                self.sql(
                    "SELECT coalesce(sum(at >= ?1), 0) AS last_minute, \
                     coalesce(sum(at >= ?2 AND endpoint IN ('sendall', 'send') AND succeeded = 1), 0) AS sends_today, \
                     coalesce(sum(endpoint IN ('sendall', 'send') AND succeeded = 1), 0) AS sends_this_month, \
                     coalesce(sum(at >= ?2 AND to_all = 1 AND succeeded = 1), 0) AS to_all_today, \
                     coalesce(sum(to_all = 1 AND succeeded = 1), 0) AS to_all_this_month \
                     FROM calls WHERE account_id = ?4 AND at >= ?3",
                    &[n(minute_start), n(day_start), n(month_start), self.acc()],
                )?,
                self.sql(
                    "SELECT at, endpoint, to_all, succeeded FROM calls WHERE account_id = ?2 AND endpoint IN ('sendall', 'send') AND succeeded = 1 AND at >= ?1 ORDER BY at",
                    &[n(month_start), self.acc()],
                )?,
            ])
            .await?;
        let token = first::<TokenTimes>(&r, 1)?;
        Ok(StatusRead {
            events_by_state: rows(&r, 0)?,
            token_fetched_at: token.as_ref().map(|t| t.updated_at),
            token_refresh_at: token.map(|t| t.expires_at),
            calls: first(&r, 2)?.unwrap_or_default(),
            month_sends: rows(&r, 3)?,
        })
    }
}
