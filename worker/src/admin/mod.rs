//! The admin API under `/api`: every route behind `Authorization: Bearer <ADMIN_TOKEN>`.
//!
//! ## Layers
//!
//! Each file imports only files below it (checked by `worker/tests/layers.rs`):
//!
//! 1. `accounts.rs`, `audiences.rs`, `events.rs`, `jobs.rs`, `material.rs`, `messages.rs`,
//!    `status.rs`, `tokens.rs`: the routes' handlers, a file per resource
//! 2. `media.rs`, `reads.rs`: media uploads (each id recorded), and the pass-through
//!    `messages.rs` uses too; WeChat reads answered from D1 for a minute
//! 3. `view.rs`: how stored rows are shown
//! 4. `mod.rs`: who the caller is and what they may do, pages, the JSON answer

use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use worker::{Request, Response};

use crate::ctx::Ctx;
use crate::error::{AppError, Missing};

pub mod accounts;
pub mod audiences;
pub mod events;
pub mod jobs;
pub mod material;
pub mod media;
pub mod messages;
pub mod reads;
pub mod status;
pub mod tokens;
pub mod view;

/// What a caller may do. The static `ADMIN_TOKEN` is an `admin` of every account; scoped
/// tokens (`POST /api/tokens`) name their role and accounts. Each role may do what the ones
/// below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read only, for the accounts it names.
    Viewer,
    /// Create, cancel and delete sends (and read) for the accounts it names.
    Operator,
    /// Everything for the accounts it names: their settings, the send speed, tokens within
    /// them. With every account (`*`): also creating accounts, the master key, and where an
    /// account's calls go (`apiBase`, `tokenUrl`).
    Admin,
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

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }
}

/// The accounts a token acts for, as stored: `["*"]` for every account.
pub const EVERY_ACCOUNT: &str = "*";

/// How the deployment's `ADMIN_TOKEN` secret is named where a caller is shown (it has no id).
pub const ADMIN_TOKEN_LABEL: &str = "ADMIN_TOKEN";

/// The caller of an admin route.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    /// Account ids, or `*` for every account.
    pub accounts: Vec<String>,
    /// The scoped token's id; `None` for the deployment's `ADMIN_TOKEN`.
    pub token_id: Option<String>,
    /// The scoped token's label, or `ADMIN_TOKEN`.
    pub label: String,
}

/// What a request asks to do, as authorization sees it. Every `/api` route is one of these
/// (`lib.rs`), and the account and token routes add theirs once they know the body.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// One account's routes: at least `need`, for `account`.
    OnAccount { need: Role, account: &'a str },
    /// What concerns every account: creating one, rotating the master key, moving where an
    /// account's calls and credentials go (`apiBase`, `tokenUrl`), the test clock.
    Deployment,
    /// Listing accounts or tokens: an admin; the answer shows only what it holds.
    ListAsAdmin,
    /// Making a token with `role` for `accounts`: no higher role, no account it does not hold.
    GrantToken { role: Role, accounts: &'a [String] },
    /// Revoking a token that holds `accounts`: an admin of all of them.
    RevokeToken { accounts: &'a [String] },
}

/// Why a caller may not: what it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Its role is below `need`.
    Role { has: Role, need: Role },
    /// It does not hold `account` (`*`: every account).
    Account { account: String },
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Role { has, need } => write!(
                f,
                "this token's role is {}; this needs {} (or above)",
                has.as_str(),
                need.as_str()
            ),
            Denied::Account { account } if account == EVERY_ACCOUNT => write!(
                f,
                "only a token for every account (\"*\") may do this; this token holds only some"
            ),
            Denied::Account { account } => {
                write!(f, "this token does not hold account {account}")
            }
        }
    }
}

impl Principal {
    /// Who made something, as stored and shown (`createdBy` of a job): `{"tokenId": id | null,
    /// "label", "role"}`.
    pub fn creator(&self) -> Value {
        json!({ "tokenId": self.token_id, "label": self.label, "role": self.role.as_str() })
    }

    /// Whether it acts for every account.
    pub fn holds_every_account(&self) -> bool {
        self.accounts.iter().any(|a| a == EVERY_ACCOUNT)
    }

    /// Whether it acts for `account`.
    pub fn holds(&self, account: &str) -> bool {
        self.holds_every_account() || self.accounts.iter().any(|a| a == account)
    }

    /// The first of `accounts` it does not hold (`*` when they name every account and it does
    /// not), if any.
    fn first_not_held(&self, accounts: &[String]) -> Option<String> {
        if self.holds_every_account() {
            return None;
        }
        accounts.iter().find(|a| !self.holds(a)).cloned()
    }

    fn at_least(&self, need: Role) -> Result<(), Denied> {
        if self.role >= need {
            Ok(())
        } else {
            Err(Denied::Role {
                has: self.role,
                need,
            })
        }
    }

    /// Whether the caller may do `action`: the one place every route's authorization is decided.
    /// The role is checked before the accounts, so a refusal names the first thing missing.
    pub fn check(&self, action: Action<'_>) -> Result<(), Denied> {
        match action {
            Action::OnAccount { need, account } => {
                self.at_least(need)?;
                if self.holds(account) {
                    Ok(())
                } else {
                    Err(Denied::Account {
                        account: account.to_owned(),
                    })
                }
            }
            Action::Deployment => {
                self.at_least(Role::Admin)?;
                if self.holds_every_account() {
                    Ok(())
                } else {
                    Err(Denied::Account {
                        account: EVERY_ACCOUNT.to_owned(),
                    })
                }
            }
            Action::ListAsAdmin => self.at_least(Role::Admin),
            Action::GrantToken { role, accounts } => {
                self.at_least(Role::Admin)?;
                self.at_least(role)?;
                match self.first_not_held(accounts) {
                    None => Ok(()),
                    Some(account) => Err(Denied::Account { account }),
                }
            }
            Action::RevokeToken { accounts } => {
                self.at_least(Role::Admin)?;
                match self.first_not_held(accounts) {
                    None => Ok(()),
                    Some(account) => Err(Denied::Account { account }),
                }
            }
        }
    }

    /// [`Principal::check`] as the route's error: 403 `forbidden`, naming what was missing.
    pub fn require(&self, action: Action<'_>) -> Result<(), AppError> {
        self.check(action).map_err(|denied| AppError::Forbidden {
            message: denied.to_string(),
            missing: match denied {
                Denied::Role { has, need } => Missing::Role {
                    has: has.as_str(),
                    need: need.as_str(),
                },
                Denied::Account { account } => Missing::Account(account),
            },
        })
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
                accounts: vec![EVERY_ACCOUNT.into()],
                token_id: None,
                label: ADMIN_TOKEN_LABEL.into(),
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
        // A row whose accounts cannot be read holds none: it is refused, never widened.
        accounts: serde_json::from_str(&row.accounts).unwrap_or_default(),
        token_id: Some(row.id),
        label: row.label,
    })
}

/// The request of a JSON endpoint, read by core from an admin body (wire names or camelCase),
/// checked and built for the account: a malformed one is 400 before any call.
pub fn build(
    endpoint: wxmass::endpoint::EndpointName,
    body: Value,
    app: &Ctx,
) -> Result<wxmass::HttpRequest, AppError> {
    let base = &app.acct()?.base;
    wxmass::endpoint::AnyRequest::from_value(endpoint, body)
        .and_then(|r| r.build(base))
        .map_err(AppError::Invalid)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, accounts: &[&str]) -> Principal {
        Principal {
            role,
            accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
            token_id: Some("t1".into()),
            label: "test".into(),
        }
    }
    fn ids(accounts: &[&str]) -> Vec<String> {
        accounts.iter().map(|a| (*a).to_owned()).collect()
    }
    fn on(need: Role, account: &str) -> Action<'_> {
        Action::OnAccount { need, account }
    }
    fn missing_account(a: &str) -> Result<(), Denied> {
        Err(Denied::Account { account: a.into() })
    }

    #[test]
    fn a_role_does_what_the_roles_below_it_do_for_its_accounts_only() {
        let op = who(Role::Operator, &["a"]);
        assert_eq!(op.check(on(Role::Viewer, "a")), Ok(()));
        assert_eq!(op.check(on(Role::Operator, "a")), Ok(()));
        assert_eq!(
            op.check(on(Role::Admin, "a")),
            Err(Denied::Role {
                has: Role::Operator,
                need: Role::Admin
            })
        );
        assert_eq!(op.check(on(Role::Viewer, "b")), missing_account("b"));
        assert_eq!(
            who(Role::Viewer, &["*"]).check(on(Role::Viewer, "b")),
            Ok(())
        );
    }

    #[test]
    fn the_role_is_named_before_the_account() {
        let viewer = who(Role::Viewer, &["a"]);
        assert!(matches!(
            viewer.check(on(Role::Operator, "b")),
            Err(Denied::Role { .. })
        ));
    }

    #[test]
    fn only_an_admin_of_every_account_acts_for_the_deployment() {
        assert_eq!(who(Role::Admin, &["*"]).check(Action::Deployment), Ok(()));
        assert_eq!(
            who(Role::Admin, &["a", "b"]).check(Action::Deployment),
            missing_account("*")
        );
        assert!(matches!(
            who(Role::Operator, &["*"]).check(Action::Deployment),
            Err(Denied::Role { .. })
        ));
    }

    #[test]
    fn a_token_grants_no_higher_role_and_no_account_it_does_not_hold() {
        let admin_b = who(Role::Admin, &["b"]);
        let grant = |role, accounts: &[&str]| {
            let accounts = ids(accounts);
            admin_b.check(Action::GrantToken {
                role,
                accounts: &accounts,
            })
        };
        assert_eq!(grant(Role::Viewer, &["b"]), Ok(()));
        assert_eq!(grant(Role::Admin, &["b"]), Ok(()));
        assert_eq!(grant(Role::Operator, &["*"]), missing_account("*"));
        assert_eq!(grant(Role::Admin, &["a"]), missing_account("a"));
        assert_eq!(grant(Role::Viewer, &["b", "a"]), missing_account("a"));
        let all = ids(&["*"]);
        assert_eq!(
            who(Role::Admin, &["*"]).check(Action::GrantToken {
                role: Role::Admin,
                accounts: &all
            }),
            Ok(())
        );
        // An operator grants nothing: tokens are an admin's.
        let b = ids(&["b"]);
        assert!(matches!(
            who(Role::Operator, &["b"]).check(Action::GrantToken {
                role: Role::Viewer,
                accounts: &b
            }),
            Err(Denied::Role { .. })
        ));
    }

    #[test]
    fn a_token_revokes_only_tokens_within_its_accounts() {
        let admin_b = who(Role::Admin, &["b"]);
        let revoke = |accounts: &[&str]| {
            let accounts = ids(accounts);
            admin_b.check(Action::RevokeToken {
                accounts: &accounts,
            })
        };
        assert_eq!(revoke(&["b"]), Ok(()));
        assert_eq!(revoke(&["a"]), missing_account("a"));
        assert_eq!(revoke(&["b", "a"]), missing_account("a"));
        assert_eq!(revoke(&["*"]), missing_account("*"));
        // A list that names no account is within any admin's (tokens.rs reads a stored list it
        // cannot parse as `["*"]`, so only an admin of every account revokes that one).
        assert_eq!(revoke(&[]), Ok(()));
    }

    #[test]
    fn a_token_that_holds_nothing_may_do_nothing() {
        let nobody = who(Role::Admin, &[]);
        assert_eq!(nobody.check(on(Role::Viewer, "a")), missing_account("a"));
        assert_eq!(nobody.check(Action::Deployment), missing_account("*"));
    }
}
