//! Official accounts as data (`admin` role only).
//!
//! - `POST /api/accounts` `{"id", "appId", "kind", "callbackMode"?, "apiBase"?, "tokenUrl"?,
//!   "secrets": {"appSecret", "callbackToken", "encodingAesKey"?, "forwardUrl"?,
//!   "tokenUrlSecret"?}}` → 201.
//! - `GET /api/accounts`, `GET /api/accounts/{id}`.
//! - `PATCH /api/accounts/{id}` with any of those fields; a secret given replaces the stored
//!   one, `null` removes it, one not given is kept.
//! - `POST /api/master-key/rotate?limit=N`: re-seals, under the current `ACCOUNTS_MASTER_KEY`,
//!   the accounts another key sealed (set the old one as `ACCOUNTS_MASTER_KEY_PREVIOUS` first).
//!
//! Secrets are write-only: an answer shows at most their last 4 characters (`…abcd`), and only
//! of a secret of 16 characters or more. The account `default` is the vars and secrets; it is
//! listed, and cannot be created or changed here.

use serde::Serialize;
use serde_json::{Map, Value};
use worker::{Request, Response};
use wxmass::callback::{CallbackConfig, SecurityMode};
use wxmass::plan::AccountKind;
use wxmass::ApiBase;

use super::reply;
use crate::account::{is_account_id, Account, Secrets};
use crate::config::DEFAULT_ACCOUNT;
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::secrets::Keys;
use crate::store::{changed, AccountRow};

const FIELDS: [&str; 7] = [
    "id",
    "appId",
    "kind",
    "callbackMode",
    "apiBase",
    "tokenUrl",
    "secrets",
];

/// An account as answered.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountView<'a> {
    id: &'a str,
    app_id: &'a str,
    kind: &'static str,
    callback_mode: Option<&'static str>,
    api_base: Option<String>,
    token_url: Option<&'a str>,
    /// Each secret's hint (`…abcd`), `null` when not set.
    secrets: Map<String, Value>,
    /// Where WeChat must push this account's events.
    callback_path: String,
    /// Whether it is the vars-and-secrets account.
    from_vars: bool,
}

fn view(a: &Account) -> AccountView<'_> {
    let secrets = Secrets::NAMES
        .iter()
        .map(|name| {
            let hint = Secrets::hint(a.secrets.get(name)).map_or(Value::Null, Value::String);
            ((*name).to_owned(), hint)
        })
        .collect();
    let default = a.id == DEFAULT_ACCOUNT;
    AccountView {
        id: &a.id,
        app_id: &a.app_id,
        kind: a.kind.as_str(),
        callback_mode: a.callback_mode.map(|m| m.as_str()),
        api_base: (a.base != ApiBase::default()).then(|| a.base.url()),
        token_url: a.token_url.as_deref(),
        secrets,
        callback_path: if default {
            "/wechat/callback".to_owned()
        } else {
            format!("/wechat/callback/{}", a.id)
        },
        from_vars: default,
    }
}

async fn keys(app: &Ctx) -> Result<Keys, AppError> {
    Keys::from_env(&app.env).await?.ok_or_else(|| {
        AppError::Config(
            "ACCOUNTS_MASTER_KEY is not set: set it (wrangler secret put ACCOUNTS_MASTER_KEY, 32 random bytes in base64) before creating accounts".into(),
        )
    })
}

fn text<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, AppError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(AppError::bad_value(
            "type",
            field,
            &other.to_string(),
            format!("{field} must be a string"),
        )),
    }
}

/// Applies the fields of `body` to `account` (a new one starts from blanks), checking each
/// with core's readers; `Err` names the field, the rule and the value.
fn apply(account: &mut Account, body: &Value, creating: bool) -> Result<(), AppError> {
    let fields = known_fields(body, creating)?;
    apply_app_id(account, body, creating)?;
    apply_settings(account, body, fields)?;
    apply_secrets(account, body)?;
    check_complete(account)
}

/// The body's fields, if it is an object of [`FIELDS`] (and, for an update, no `id`).
fn known_fields(body: &Value, creating: bool) -> Result<&Map<String, Value>, AppError> {
    let Value::Object(fields) = body else {
        return Err(AppError::bad("type", "", "the body must be a JSON object"));
    };
    if let Some(name) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(AppError::bad_value(
            "unknown_field",
            name,
            name,
            format!("an account takes {}", FIELDS.join(", ")),
        ));
    }
    if !creating && fields.contains_key("id") {
        return Err(AppError::bad(
            "not_allowed",
            "id",
            "an account's id cannot change",
        ));
    }
    Ok(fields)
}

fn apply_app_id(account: &mut Account, body: &Value, creating: bool) -> Result<(), AppError> {
    if let Some(app_id) = text(body, "appId")? {
        if app_id.is_empty() || app_id.len() > 64 || !app_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::bad_value(
                "app_id",
                "appId",
                app_id,
                "appId must be the account's AppID (visible ASCII, e.g. wx0123456789abcdef)",
            ));
        }
        account.app_id = app_id.to_owned();
    } else if creating {
        return Err(AppError::bad("required", "appId", "appId is required"));
    }
    Ok(())
}

/// `kind`, `callbackMode`, `apiBase`, `tokenUrl`: each given one is checked and set (`null`
/// clears the last three).
fn apply_settings(
    account: &mut Account,
    body: &Value,
    fields: &Map<String, Value>,
) -> Result<(), AppError> {
    if let Some(kind) = text(body, "kind")? {
        account.kind = AccountKind::parse(kind).ok_or_else(|| {
            AppError::bad_value(
                "one_of",
                "kind",
                kind,
                "kind must be service or subscription",
            )
        })?;
    }
    if fields.contains_key("callbackMode") {
        account.callback_mode = match text(body, "callbackMode")? {
            None => None,
            Some(m) => Some(SecurityMode::parse(m).ok_or_else(|| {
                AppError::bad_value(
                    "one_of",
                    "callbackMode",
                    m,
                    "callbackMode must be plain, compat or safe",
                )
            })?),
        };
    }
    if fields.contains_key("apiBase") {
        account.base = match text(body, "apiBase")? {
            None => ApiBase::default(),
            Some(url) => ApiBase::parse(url)
                .map_err(|e| AppError::bad_value("url", "apiBase", url, e.to_string()))?,
        };
    }
    if fields.contains_key("tokenUrl") {
        account.token_url = match text(body, "tokenUrl")? {
            None => None,
            Some(url) => {
                ApiBase::parse(url)
                    .map_err(|e| AppError::bad_value("url", "tokenUrl", url, e.to_string()))?;
                Some(url.to_owned())
            }
        };
    }
    Ok(())
}

/// `secrets`: each named one is set, or removed with `null`.
fn apply_secrets(account: &mut Account, body: &Value) -> Result<(), AppError> {
    match body.get("secrets") {
        None => {}
        Some(Value::Object(given)) => {
            for (name, value) in given {
                let path = format!("secrets.{name}");
                let slot = account.secrets.slot(name).ok_or_else(|| {
                    AppError::bad_value(
                        "unknown_field",
                        &path,
                        name,
                        format!("secrets takes {}", Secrets::NAMES.join(", ")),
                    )
                })?;
                *slot = match value {
                    Value::Null => None,
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    // Never echo what looks like a secret: name the field and the rule only.
                    _ => {
                        return Err(AppError::bad(
                            "type",
                            &path,
                            format!("{path} must be a non-empty string, or null to remove it"),
                        ))
                    }
                };
            }
        }
        Some(_) => {
            return Err(AppError::bad(
                "type",
                "secrets",
                "secrets must be an object of strings",
            ))
        }
    }
    Ok(())
}

/// What an account needs whatever was changed: a way to get its access_token, the callback
/// token, and a key and mode that core accepts together.
fn check_complete(account: &Account) -> Result<(), AppError> {
    let token_source_ok = account.token_url.is_some() || account.secrets.app_secret.is_some();
    if !token_source_ok {
        return Err(AppError::bad(
            "required",
            "secrets.appSecret",
            "an account needs secrets.appSecret, or a tokenUrl to get its access_token from",
        ));
    }
    let token = account.secrets.callback_token.as_deref().ok_or_else(|| {
        AppError::bad(
            "required",
            "secrets.callbackToken",
            "secrets.callbackToken is required: WeChat signs every push with it",
        )
    })?;
    // Core checks the key and the mode together (safe mode needs a key).
    let config = CallbackConfig::new(
        token,
        account.secrets.encoding_aes_key.as_deref(),
        &account.app_id,
    )
    .map_err(|e| AppError::bad("encoding_aes_key", "secrets.encodingAesKey", e.to_string()))?;
    if let Some(mode) = account.callback_mode {
        config
            .with_mode(mode)
            .map_err(|e| AppError::bad("callback_mode", "callbackMode", e.to_string()))?;
    }
    Ok(())
}

/// The row of an account, its secrets sealed with the current key.
async fn sealed_row(a: &Account, keys: &Keys, created_at: i64) -> Result<AccountRow, AppError> {
    let plain =
        serde_json::to_vec(&a.secrets).map_err(|e| AppError::Internal(format!("secrets: {e}")))?;
    Ok(AccountRow {
        id: a.id.clone(),
        app_id: a.app_id.clone(),
        kind: a.kind.as_str().to_owned(),
        callback_mode: a.callback_mode.map(|m| m.as_str().to_owned()),
        api_base: (a.base != ApiBase::default()).then(|| a.base.url()),
        token_url: a.token_url.clone(),
        secrets: keys.current.seal(&a.id, &plain).await?,
        key_id: keys.current.id().to_owned(),
        created_at,
        version: 0,
    })
}

/// Writes `account` over the `row` it was read from, its secrets sealed with the current key,
/// in a commit of its own; `false` when the row changed meanwhile (nothing written).
async fn store_sealed(
    app: &Ctx,
    account: &Account,
    keys: &Keys,
    row: &AccountRow,
) -> Result<bool, AppError> {
    let new = sealed_row(account, keys, row.created_at).await?;
    let r = app
        .store
        .commit(vec![app.store.update_account(
            &new,
            row.version,
            app.now(),
        )?])
        .await?;
    Ok(changed(&r, 0))
}

/// `POST /api/accounts`.
pub async fn create(body: Value, app: &Ctx) -> Result<Response, AppError> {
    let id = text(&body, "id")?.unwrap_or("");
    if !is_account_id(id) || id == DEFAULT_ACCOUNT {
        return Err(AppError::bad_value(
            "account_id",
            "id",
            id,
            "id must be 1 to 32 of a-z 0-9 - (not starting with -), and not \"default\"",
        ));
    }
    let keys = keys(app).await?;
    let mut account = Account {
        id: id.to_owned(),
        app_id: String::new(),
        kind: AccountKind::Service,
        base: ApiBase::default(),
        token_url: None,
        callback_mode: None,
        secrets: Secrets::default(),
    };
    apply(&mut account, &body, true)?;
    let row = sealed_row(&account, &keys, app.now()).await?;
    let r = app
        .store
        .commit(vec![app.store.insert_account(&row)?])
        .await?;
    if !changed(&r, 0) {
        return Err(AppError::Conflict(format!(
            "an account with id {id} or AppID {} exists",
            account.app_id
        )));
    }
    reply(201, &view(&account))
}

/// `GET /api/accounts`: the default account (when its vars are set) and every other.
pub async fn list(app: &Ctx) -> Result<Response, AppError> {
    let rows = app.store.list_accounts().await?;
    let mut accounts = Vec::with_capacity(rows.len() + 1);
    if let Ok(default) = Account::from_env(&app.env) {
        accounts.push(default);
    }
    if !rows.is_empty() {
        let keys = keys(app).await?;
        for row in &rows {
            accounts.push(Account::from_row(row, &keys).await?);
        }
    }
    reply(
        200,
        &serde_json::json!({ "accounts": accounts.iter().map(view).collect::<Vec<_>>() }),
    )
}

/// `GET /api/accounts/{id}`.
pub async fn get(id: &str, app: &Ctx) -> Result<Response, AppError> {
    reply(200, &view(&Account::load(id, &app.env, &app.store).await?))
}

/// `PATCH /api/accounts/{id}`.
pub async fn update(id: &str, body: Value, app: &Ctx) -> Result<Response, AppError> {
    if id == DEFAULT_ACCOUNT {
        return Err(AppError::Conflict(
            "the default account is the worker's vars and secrets: change them with wrangler"
                .into(),
        ));
    }
    let row = app
        .store
        .read_account(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no account {id}")))?;
    let keys = keys(app).await?;
    let mut account = Account::from_row(&row, &keys).await?;
    apply(&mut account, &body, false)?;
    if !store_sealed(app, &account, &keys, &row).await? {
        return Err(AppError::Stale(format!(
            "account {id} changed meanwhile; read it again and retry"
        )));
    }
    reply(200, &view(&account))
}

/// Accounts one rotation call re-seals at most, unless `limit` says fewer.
const ROTATE_MAX: u32 = 10;

/// `POST /api/master-key/rotate?limit=N`: each account is re-sealed in a commit of its own, so a
/// call that stops (or a `limit`) leaves every account readable; call again until `remaining`
/// is 0, then remove `ACCOUNTS_MASTER_KEY_PREVIOUS`.
pub async fn rotate(req: &Request, app: &Ctx) -> Result<Response, AppError> {
    let mut limit = ROTATE_MAX;
    for (k, v) in req.url()?.query_pairs() {
        match k.as_ref() {
            "limit" => {
                limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=ROTATE_MAX).contains(n))
                    .ok_or_else(|| {
                        AppError::bad_value(
                            "range",
                            "limit",
                            &v,
                            format!("limit must be a whole number from 1 to {ROTATE_MAX}"),
                        )
                    })?
            }
            other => {
                return Err(AppError::bad_value(
                    "unknown_field",
                    other,
                    other,
                    "POST /api/master-key/rotate takes limit",
                ))
            }
        }
    }
    let keys = keys(app).await?;
    let (rows, total) = app
        .store
        .accounts_to_reseal(keys.current.id(), limit)
        .await?;
    let mut resealed = 0i64;
    for row in &rows {
        let account = Account::from_row(row, &keys).await?;
        if store_sealed(app, &account, &keys, row).await? {
            resealed += 1;
        }
    }
    reply(
        200,
        &serde_json::json!({
            "keyId": keys.current.id(),
            "resealed": resealed,
            "remaining": total - resealed,
        }),
    )
}
