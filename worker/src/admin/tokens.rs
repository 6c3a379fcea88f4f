//! Scoped admin tokens (`admin` role only): `POST /api/tokens {"role", "accounts", "label"}`
//! answers the token once; `GET /api/tokens` lists them without it (with `lastUsedAt`);
//! `DELETE /api/tokens/{id}` revokes one. Only a SHA-256 hash of each token is stored.
//!
//! A token acts within its own scope here too: it makes tokens of no higher role and for no
//! account it does not hold, lists the tokens within its accounts, and revokes only those.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use worker::Response;

use super::{reply, Action, Principal, Role, EVERY_ACCOUNT};
use crate::account::is_account_id;
use crate::config::DEFAULT_ACCOUNT;
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::AdminTokenRow;

/// Longest label accepted.
const LABEL_MAX_CHARS: usize = 100;

/// The hash a token is stored and looked up by.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex<const N: usize>() -> String {
    crate::random::bytes::<N>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A token as listed: never the token or its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView<'a> {
    id: &'a str,
    role: &'a str,
    accounts: Value,
    label: &'a str,
    created_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

fn view(t: &AdminTokenRow) -> TokenView<'_> {
    TokenView {
        id: &t.id,
        role: &t.role,
        accounts: serde_json::from_str(&t.accounts).unwrap_or(Value::Null),
        label: &t.label,
        created_at: t.created_at,
        revoked_at: t.revoked_at,
        last_used_at: t.last_used_at,
    }
}

/// The accounts a stored token holds. A list that cannot be read counts as every account: only
/// an admin of every account lists or revokes such a token.
fn accounts_of(t: &AdminTokenRow) -> Vec<String> {
    serde_json::from_str(&t.accounts).unwrap_or_else(|_| vec![EVERY_ACCOUNT.to_owned()])
}

/// Refuses (422 `unknown_account` at `accounts[i]`) an account the worker does not serve: a
/// token for it would hold nothing today and, unnoticed, whatever account later takes that id.
/// Checked after the caller's scope, so a refusal never tells an outsider which ids exist.
async fn check_accounts_exist(accounts: &[String], app: &Ctx) -> Result<(), AppError> {
    let named: Vec<(usize, &String)> = accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.as_str() != EVERY_ACCOUNT && a.as_str() != DEFAULT_ACCOUNT)
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let known = app.store.list_accounts().await?;
    match named
        .into_iter()
        .find(|(_, a)| !known.iter().any(|k| &k.id == *a))
    {
        None => Ok(()),
        Some((i, a)) => Err(AppError::Refused {
            code: "unknown_account",
            path: format!("accounts[{i}]"),
            value: a.clone(),
            message: format!(
                "there is no account {a}: create it first (POST /api/accounts), then its tokens"
            ),
            message_zh: format!(
                "没有账号 {a}：请先创建该账号（POST /api/accounts），再为它创建令牌"
            ),
        }),
    }
}

/// `POST /api/tokens`.
pub async fn create(body: Value, app: &Ctx, who: &Principal) -> Result<Response, AppError> {
    let Value::Object(fields) = &body else {
        return Err(AppError::bad("type", "", "the body must be a JSON object"));
    };
    if let Some(name) = fields
        .keys()
        .find(|k| !["role", "accounts", "label"].contains(&k.as_str()))
    {
        return Err(AppError::bad_value(
            "unknown_field",
            name,
            name,
            "a token takes role, accounts and label",
        ));
    }
    let role_name = body.get("role").and_then(Value::as_str).unwrap_or("");
    let role = Role::parse(role_name).ok_or_else(|| {
        AppError::bad_value(
            "one_of",
            "role",
            role_name,
            format!("role must be one of {}", Role::NAMES),
        )
    })?;
    let accounts = token_accounts(&body, role)?;
    let label = body.get("label").and_then(Value::as_str).unwrap_or("");
    if label.chars().count() > LABEL_MAX_CHARS {
        return Err(AppError::bad_value(
            "length",
            "label",
            label,
            format!("label is at most {LABEL_MAX_CHARS} characters"),
        ));
    }
    who.require(Action::GrantToken {
        role,
        accounts: &accounts,
    })?;
    check_accounts_exist(&accounts, app).await?;
    let token = format!("wxm_{}", hex::<24>());
    let row = AdminTokenRow {
        id: format!("t{}", hex::<6>()),
        token_hash: hash(&token),
        role: role_name.to_owned(),
        accounts: serde_json::to_string(&accounts).unwrap_or_default(),
        label: label.to_owned(),
        created_at: app.now(),
        revoked_at: None,
        last_used_at: None,
    };
    app.store
        .commit(vec![app.store.insert_admin_token(&row)?])
        .await?;
    let mut answer = serde_json::to_value(view(&row))
        .map_err(|e| AppError::Internal(format!("token view: {e}")))?;
    // Shown this once; only its hash is kept.
    answer["token"] = Value::String(token);
    reply(201, &answer)
}

/// The accounts a new token may act for: a list of ids or `["*"]`; an admin token without a
/// list acts for every account.
fn token_accounts(body: &Value, role: Role) -> Result<Vec<String>, AppError> {
    Ok(match body.get("accounts") {
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, v)| match v.as_str() {
                Some(id) if id == "*" || is_account_id(id) => Ok(id.to_owned()),
                _ => Err(AppError::bad_value(
                    "account_id",
                    &format!("accounts[{i}]"),
                    &v.to_string(),
                    "an account id (1 to 32 of a-z 0-9 -) or \"*\" for every account",
                )),
            })
            .collect::<Result<_, _>>()?,
        _ if role == Role::Admin => vec!["*".to_owned()],
        other => {
            return Err(AppError::bad_value(
                "required",
                "accounts",
                &other.map(Value::to_string).unwrap_or_default(),
                "accounts must list the account ids the token may act for (or [\"*\"])",
            ))
        }
    })
}

/// `GET /api/tokens`: the tokens within the caller's accounts.
pub async fn list(app: &Ctx, who: &Principal) -> Result<Response, AppError> {
    let rows = app.store.list_admin_tokens().await?;
    let within = rows.iter().filter(|t| {
        who.check(Action::RevokeToken {
            accounts: &accounts_of(t),
        })
        .is_ok()
    });
    reply(
        200,
        &serde_json::json!({ "tokens": within.map(view).collect::<Vec<_>>() }),
    )
}

/// `DELETE /api/tokens/{id}`: a token within the caller's accounts.
pub async fn revoke(id: &str, app: &Ctx, who: &Principal) -> Result<Response, AppError> {
    // Tokens are few: the list is one query, like a read of one.
    let rows = app.store.list_admin_tokens().await?;
    let target = rows
        .iter()
        .find(|t| t.id == id && t.revoked_at.is_none())
        .ok_or_else(|| AppError::NotFound(format!("no live token {id}")))?;
    who.require(Action::RevokeToken {
        accounts: &accounts_of(target),
    })?;
    let r = app
        .store
        .commit(vec![app.store.revoke_admin_token(id, app.now())?])
        .await?;
    if !crate::store::changed(&r, 0) {
        return Err(AppError::NotFound(format!("no live token {id}")));
    }
    reply(200, &serde_json::json!({ "id": id, "revoked": true }))
}
