//! Settings from `[vars]` (wrangler.toml) and secrets (`wrangler secret put`), read on each
//! invocation: the worker's own. An official account's settings are in `account.rs` (the vars
//! `APP_ID`, `ACCOUNT_KIND`, `WECHAT_API_BASE`, `TOKEN_URL`, `CALLBACK_MODE` and the secrets are
//! the `default` account's).

use worker::Env;

use crate::budget::{FREE_D1_QUERIES, FREE_SUBREQUESTS};
use crate::error::AppError;

/// The account of the vars and secrets, and of the paths without `/accounts/{id}`: it needs no
/// row (`account.rs`).
pub const DEFAULT_ACCOUNT: &str = "default";

#[derive(Clone)]
pub struct Config {
    /// `D1_QUERIES_PER_INVOCATION` (default 50, the Free plan).
    pub max_queries: u32,
    /// `SUBREQUESTS_PER_INVOCATION` (default 50, the Free plan).
    pub max_subrequests: u32,
    /// `FORWARD_ALL=true`: mass-send results are forwarded too (after they are stored here).
    pub forward_all: bool,
    /// `STORE_ALL_PUSHES=true`: pushes that are not mass-send results are stored too.
    pub store_all_pushes: bool,
    /// `EVENT_RETENTION_DAYS` (default 30): stored pushes not linked to a batch are deleted
    /// after this.
    pub event_retention_days: u32,
    /// `TEST_CLOCK=1`: the clock can be moved forward through `/api/test/clock` (local tests
    /// only; a retry WeChat wants a minute later need not take a minute).
    pub test_clock: bool,
    /// `TEST_COUNTERS=1`: answers carry the invocation's D1 queries and subrequests in headers,
    /// and `/__test/last-cron` tells the last cron run's (local tests only).
    pub test_counters: bool,
}

pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A secret (`wrangler secret put`), or a var of the same name in local development.
pub fn optional_secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| var(env, name))
        .filter(|v| !v.is_empty())
}

fn limit(env: &Env, name: &str, default: u32) -> Result<u32, AppError> {
    match var(env, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                AppError::Config(format!("{name} must be a positive whole number, not {v:?}"))
            }),
    }
}

/// How long stored pushes not linked to a batch are kept, unless `EVENT_RETENTION_DAYS` says.
const DEFAULT_RETENTION_DAYS: u32 = 30;

fn flag(env: &Env, name: &str) -> Result<bool, AppError> {
    match var(env, name).as_deref().map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(AppError::Config(format!(
            "{name} must be true or false, not {other:?}"
        ))),
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, AppError> {
        Ok(Config {
            max_queries: limit(env, "D1_QUERIES_PER_INVOCATION", FREE_D1_QUERIES)?,
            max_subrequests: limit(env, "SUBREQUESTS_PER_INVOCATION", FREE_SUBREQUESTS)?,
            forward_all: flag(env, "FORWARD_ALL")?,
            store_all_pushes: flag(env, "STORE_ALL_PUSHES")?,
            event_retention_days: limit(env, "EVENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)?,
            test_clock: var(env, "TEST_CLOCK").as_deref() == Some("1"),
            test_counters: var(env, "TEST_COUNTERS").as_deref() == Some("1"),
        })
    }
}
