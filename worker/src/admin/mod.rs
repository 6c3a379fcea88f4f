//! The admin API under `/api`: every route behind `Authorization: Bearer <ADMIN_TOKEN>`.
//!
//! ## Layers
//!
//! Each file imports only files below it (checked by `worker/tests/layers.rs`):
//!
//! 1. `accounts.rs`, `audiences.rs`, `events.rs`, `jobs.rs`, `messages.rs`, `status.rs`,
//!    `tokens.rs`: the routes' handlers, a file per resource
//! 2. `media.rs`: media uploads, and the pass-through `messages.rs` uses too
//! 3. `view.rs`: how stored rows are shown
//! 4. `mod.rs`: who the caller is and what they may do, pages, the JSON answer

use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use worker::{Request, Response};

use crate::ctx::Ctx;
use crate::error::AppError;

pub mod accounts;
pub mod audiences;
pub mod events;
pub mod jobs;
pub mod media;
pub mod messages;
pub mod status;
pub mod tokens;
pub mod view;

/// What a caller may do. The static `ADMIN_TOKEN` is an `admin` of every account; scoped
/// tokens (`POST /api/tokens`) name their role and accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, accounts and tokens included.
    Admin,
    /// Create, cancel and delete sends (and read) for the accounts it names.
    Operator,
    /// Read only, for the accounts it names.
    Viewer,
}

impl Role {
    pub const NAMES: &'static str = "admin, operator, viewer";

    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reading an account's jobs, events, status.
    Read,
    /// Creating, cancelling or deleting sends, uploading media and audiences.
    Send,
    /// Accounts, tokens, the send speed, the master key.
    Admin,
}

/// The caller of an admin route.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    /// Account ids, or `*` for every account.
    pub accounts: Vec<String>,
}

impl Principal {
    /// Whether the caller may do what `need` names, for `account` (`None`: no account's data,
    /// as managing accounts and tokens).
    pub fn allows(&self, need: Need, account: Option<&str>) -> bool {
        let role_ok = match self.role {
            Role::Admin => true,
            Role::Operator => need != Need::Admin,
            Role::Viewer => need == Need::Read,
        };
        let account_ok = match account {
            None => self.role == Role::Admin,
            Some(id) => self.accounts.iter().any(|a| a == "*" || a == id),
        };
        role_ok && account_ok
    }
}

/// Who the bearer token is: the static `ADMIN_TOKEN` (compared in constant time) or a scoped
/// token, found by its hash (its use recorded in the same query). The scheme name is
/// case-insensitive (RFC 7235).
pub async fn authorize(req: &Request, app: &Ctx) -> Result<Principal, AppError> {
    let header = req.headers().get("authorization")?.unwrap_or_default();
    let given = match header.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => "",
    };
    if given.is_empty() {
        return Err(AppError::Unauthorized);
    }
    if let Some(expected) = crate::config::optional_secret(&app.env, "ADMIN_TOKEN") {
        if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(Principal {
                role: Role::Admin,
                accounts: vec!["*".into()],
            });
        }
    }
    let row = app
        .store
        .use_admin_token(&tokens::hash(given), app.now())
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Principal {
        role: Role::parse(&row.role).ok_or(AppError::Unauthorized)?,
        accounts: serde_json::from_str(&row.accounts).unwrap_or_default(),
    })
}

/// A JSON answer with a status.
pub fn reply(status: u16, body: &impl serde::Serialize) -> Result<Response, AppError> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// Most entries a page holds, and how many when `limit` is not given.
const PAGE_MAX: u32 = 100;
const PAGE_DEFAULT: u32 = 50;

/// A page request: `?limit=1..100&cursor=<nextCursor of the previous page>`.
pub struct Page {
    pub limit: u32,
    /// The last entry of the previous page: its time and key.
    pub after: Option<(i64, String)>,
    /// Other query parameters.
    pub params: Vec<(String, String)>,
}

impl Page {
    pub fn from_request(req: &Request) -> Result<Page, AppError> {
        let mut page = Page {
            limit: PAGE_DEFAULT,
            after: None,
            params: Vec::new(),
        };
        for (k, v) in req.url()?.query_pairs() {
            match k.as_ref() {
                "limit" => {
                    page.limit = v
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=PAGE_MAX).contains(n))
                        .ok_or_else(|| {
                            AppError::bad_value(
                                "range",
                                "limit",
                                &v,
                                format!("limit must be a whole number from 1 to {PAGE_MAX}"),
                            )
                        })?
                }
                "cursor" => page.after = Some(decode_cursor(&v)?),
                _ => page.params.push((k.into_owned(), v.into_owned())),
            }
        }
        Ok(page)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The cursor of the page after one whose last entry is `(at, key)`, if this page is full.
    pub fn next_cursor(&self, len: usize, last: Option<(i64, &str)>) -> Value {
        match last {
            Some((at, key)) if len == self.limit as usize => json!(encode_cursor(at, key)),
            _ => Value::Null,
        }
    }
}

fn encode_cursor(at: i64, key: &str) -> String {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{at}.{hex}")
}

fn decode_cursor(cursor: &str) -> Result<(i64, String), AppError> {
    let bad = || {
        AppError::bad_value(
            "cursor",
            "cursor",
            cursor,
            "cursor must be the nextCursor of an earlier page, as given",
        )
    };
    let (at, hex) = cursor.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    let key = String::from_utf8(bytes).map_err(|_| bad())?;
    Ok((at, key))
}

/// `POST /api/test/clock {"advanceMs": n}` (only with `TEST_CLOCK=1`): moves the clock.
pub async fn test_clock(body: Value, app: &Ctx) -> Result<Response, AppError> {
    let advance = body
        .get("advanceMs")
        .and_then(Value::as_i64)
        .ok_or_else(|| AppError::bad("required", "advanceMs", "advanceMs must be an integer"))?;
    let offset = app.store.test_clock_offset().await + advance;
    app.store
        .put_test_value(crate::store::Store::TEST_CLOCK_KEY, &offset.to_string())
        .await?;
    reply(200, &json!({ "offsetMs": offset }))
}
