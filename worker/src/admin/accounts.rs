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
use wxmass::{check_url, ApiBase, AppId};

use super::{reply, Action, Principal};
use crate::account::{is_account_id, Account, Secrets};
use crate::config::{var, DEFAULT_ACCOUNT};
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

/// The settings that decide where an account's calls, and so its credentials, go: only an
/// admin of every account sets them.
const ENDPOINT_FIELDS: [&str; 2] = ["apiBase", "tokenUrl"];

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
    /// `ok`, or `unavailable` when its secrets cannot be opened (`problem` says why): that
    /// account fails alone, every other works on.
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
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
        state: "ok",
        problem: None,
    }
}

/// The AppID of the default account (the `APP_ID` var), in lower case, if it is set.
fn default_app_id(app: &Ctx) -> Option<String> {
    var(&app.env, "APP_ID").map(|id| id.to_ascii_lowercase())
}

/// One official account is one account here: `app_id` (lower case) must be no other account's,
/// the default's included. `rows` are every stored account.
fn check_app_id_free(
    app: &Ctx,
    app_id: &str,
    own_id: &str,
    rows: &[AccountRow],
) -> Result<(), AppError> {
    let holder = if default_app_id(app).as_deref() == Some(app_id) {
        Some(DEFAULT_ACCOUNT.to_owned())
    } else {
        rows.iter()
            .find(|r| r.id != own_id && r.app_id.eq_ignore_ascii_case(app_id))
            .map(|r| r.id.clone())
    };
    match holder {
        Some(holder) => Err(AppError::AppIdTaken {
            app_id: app_id.to_owned(),
            holder,
        }),
        None => Ok(()),
    }
}

/// A URL field: `Err` names the field, the rule and (unless it is a secret) the value.
fn url_error(field: &str, url: &str, reason: &str, secret: bool) -> AppError {
    let message = format!(
        "{field} must be an absolute https URL (http only for localhost or 127.0.0.1): {reason}"
    );
    if secret {
        // May carry credentials: name the field and the rule only.
        AppError::bad("url", field, message)
    } else {
        AppError::bad_value("url", field, url, message)
    }
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
        account.app_id = AppId::parse(app_id)
            .map_err(|rule| AppError::bad_value("app_id", "appId", app_id, rule))?
            .to_string();
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
            Some(url) => {
                ApiBase::parse(url).map_err(|e| url_error("apiBase", url, e.reason, false))?
            }
        };
    }
    if fields.contains_key("tokenUrl") {
        account.token_url = match text(body, "tokenUrl")? {
            None => None,
            Some(url) => {
                ApiBase::parse(url).map_err(|e| url_error("tokenUrl", url, e.reason, false))?;
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
                    Value::String(s) if name == "forwardUrl" => {
                        check_url(s).map_err(|e| url_error(&path, s, e.reason, true))?;
                        Some(s.clone())
                    }
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
        secrets: keys.sealing()?.seal(&a.id, &plain).await?,
        key_id: keys.sealing()?.id().to_owned(),
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
    let keys = Keys::from_env(&app.env).await;
    keys.sealing()?;
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
    let rows = app.store.list_accounts().await?;
    if rows.iter().any(|r| r.id == id) {
        return Err(AppError::Conflict(format!(
            "an account with id {id} exists"
        )));
    }
    check_app_id_free(app, &account.app_id, id, &rows)?;
    let row = sealed_row(&account, &keys, app.now()).await?;
    let r = app
        .store
        .commit(vec![app.store.insert_account(&row)?])
        .await?;
    if !changed(&r, 0) {
        // Created meanwhile by another request (the id, or the AppID's unique index).
        return Err(AppError::Conflict(format!(
            "an account with id {id} or AppID {} was created meanwhile",
            account.app_id
        )));
    }
    reply(201, &view(&account))
}

/// `GET /api/accounts`: the default account (when its vars are set) and every other the caller
/// holds, each with its state: one whose secrets cannot be opened is listed `unavailable`, with
/// the problem, from its row's settings.
pub async fn list(app: &Ctx, who: &Principal) -> Result<Response, AppError> {
    let rows = app.store.list_accounts().await?;
    let mut accounts: Vec<(Account, Option<String>)> = Vec::with_capacity(rows.len() + 1);
    if who.holds(DEFAULT_ACCOUNT) {
        if let Ok(default) = Account::from_env(&app.env) {
            accounts.push((default, None));
        }
    }
    let keys = Keys::from_env(&app.env).await;
    for row in rows.iter().filter(|r| who.holds(&r.id)) {
        match Account::from_row(row, &keys).await {
            Ok(a) => accounts.push((a, None)),
            Err(e) => {
                let settings = Account::settings_of(row).unwrap_or_else(|_| Account {
                    id: row.id.clone(),
                    app_id: row.app_id.clone(),
                    kind: AccountKind::Service,
                    base: ApiBase::default(),
                    token_url: None,
                    callback_mode: None,
                    secrets: Secrets::default(),
                });
                accounts.push((settings, Some(e.to_string())));
            }
        }
    }
    let views: Vec<AccountView<'_>> = accounts
        .iter()
        .map(|(a, problem)| {
            let mut v = view(a);
            if let Some(p) = problem {
                v.state = "unavailable";
                v.problem = Some(p.clone());
            }
            v
        })
        .collect();
    reply(200, &serde_json::json!({ "accounts": views }))
}

/// `GET /api/accounts/{id}`.
pub async fn get(id: &str, app: &Ctx) -> Result<Response, AppError> {
    reply(200, &view(&Account::load(id, &app.env, &app.store).await?))
}

/// `PATCH /api/accounts/{id}`: an admin of the account changes its settings and secrets; where
/// its calls and credentials go (`apiBase`, `tokenUrl`) only an admin of every account.
pub async fn update(
    id: &str,
    body: Value,
    app: &Ctx,
    who: &Principal,
) -> Result<Response, AppError> {
    if id == DEFAULT_ACCOUNT {
        return Err(AppError::Conflict(
            "the default account is the worker's vars and secrets: change them with wrangler"
                .into(),
        ));
    }
    // Where the account's calls go carry its access_token and its token service's secret: a
    // deployment's setting, whatever value is given.
    if ENDPOINT_FIELDS.iter().any(|f| body.get(f).is_some()) {
        who.require(Action::Deployment)?;
    }
    let row = app
        .store
        .read_account(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no account {id}")))?;
    let keys = Keys::from_env(&app.env).await;
    keys.sealing()?;
    // An apiBase stored before the URL rules (plain http to another host) no longer loads, and
    // the account answers account_unavailable; a PATCH that gives a new apiBase must still be
    // able to repair it, so the stored one is not read when the body replaces it.
    let readable = match body.get("apiBase") {
        Some(_) => AccountRow {
            api_base: None,
            ..row.clone()
        },
        None => row.clone(),
    };
    let mut account = Account::from_row(&readable, &keys).await?;
    apply(&mut account, &body, false)?;
    if !account.app_id.eq_ignore_ascii_case(&row.app_id) {
        check_app_id_free(app, &account.app_id, id, &app.store.list_accounts().await?)?;
    }
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
    let keys = Keys::from_env(&app.env).await;
    let key_id = keys.sealing()?.id().to_owned();
    let (rows, total) = app.store.accounts_to_reseal(&key_id, limit).await?;
    let mut resealed = 0i64;
    // An account that does not open is named and left as it is; the others are re-sealed.
    let mut failed = Vec::new();
    for row in &rows {
        match Account::from_row(row, &keys).await {
            Ok(account) => {
                if store_sealed(app, &account, &keys, row).await? {
                    resealed += 1;
                }
            }
            Err(e) => failed.push(serde_json::json!({ "id": row.id, "problem": e.to_string() })),
        }
    }
    reply(
        200,
        &serde_json::json!({
            "keyId": key_id,
            "resealed": resealed,
            "remaining": total - resealed,
            "failed": failed,
        }),
    )
}
