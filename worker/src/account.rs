//! The official account a request or a cron step acts for: its settings and its secrets.
//!
//! Accounts are data (the `accounts` table), their secrets sealed under `ACCOUNTS_MASTER_KEY`
//! (`secrets.rs`). The single-account configuration of vars and secrets (`APP_ID`,
//! `APP_SECRET`, `CALLBACK_TOKEN`, …) is the account `default`, which needs no row: a deployment
//! that never creates an account works as before.

use serde::{Deserialize, Serialize};
use worker::Env;
use wxmass::callback::SecurityMode;
use wxmass::plan::AccountKind;
use wxmass::ApiBase;

use crate::config::{optional_secret, var, DEFAULT_ACCOUNT};
use crate::error::AppError;
use crate::secrets::Keys;
use crate::store::{AccountRow, Store};

/// An account's secrets: write-only through the API, sealed at rest.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_aes_key: Option<String>,
    /// The account's own server for the pushes that are not mass-send results; a secret because
    /// it may carry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url_secret: Option<String>,
}

impl Secrets {
    /// The names of the secrets, as the API and the box name them.
    pub const NAMES: [&'static str; 5] = [
        "appSecret",
        "callbackToken",
        "encodingAesKey",
        "forwardUrl",
        "tokenUrlSecret",
    ];

    pub fn get(&self, name: &str) -> Option<&str> {
        match name {
            "appSecret" => self.app_secret.as_deref(),
            "callbackToken" => self.callback_token.as_deref(),
            "encodingAesKey" => self.encoding_aes_key.as_deref(),
            "forwardUrl" => self.forward_url.as_deref(),
            "tokenUrlSecret" => self.token_url_secret.as_deref(),
            _ => None,
        }
    }

    pub fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "appSecret" => Some(&mut self.app_secret),
            "callbackToken" => Some(&mut self.callback_token),
            "encodingAesKey" => Some(&mut self.encoding_aes_key),
            "forwardUrl" => Some(&mut self.forward_url),
            "tokenUrlSecret" => Some(&mut self.token_url_secret),
            _ => None,
        }
    }

    /// What an answer may show of a secret: that it is set, and its last 4 characters when it
    /// is long enough that they give nothing useful away.
    pub fn hint(value: Option<&str>) -> Option<String> {
        let v = value?;
        let n = v.chars().count();
        Some(if n >= 16 {
            format!("…{}", v.chars().skip(n - 4).collect::<String>())
        } else {
            "…".to_owned()
        })
    }
}

/// One official account, as an invocation uses it.
pub struct Account {
    pub id: String,
    pub app_id: String,
    pub kind: AccountKind,
    /// Where API calls go (a fixed-IP proxy for WeChat's IP whitelist).
    pub base: ApiBase,
    /// An operator's token service, instead of calling stable_token.
    pub token_url: Option<String>,
    /// `plain`, `compat` or `safe`; absent: core's default for the key.
    pub callback_mode: Option<SecurityMode>,
    pub secrets: Secrets,
}

impl Account {
    /// The `default` account from `[vars]` and secrets.
    pub fn from_env(env: &Env) -> Result<Account, AppError> {
        let base = match var(env, "WECHAT_API_BASE") {
            Some(url) => ApiBase::parse(&url).map_err(|e| AppError::Config(e.to_string()))?,
            None => ApiBase::default(),
        };
        let kind = match var(env, "ACCOUNT_KIND") {
            None => AccountKind::Service,
            Some(name) => AccountKind::parse(&name).ok_or_else(|| {
                AppError::Config(format!(
                    "ACCOUNT_KIND must be service or subscription, not {name:?}"
                ))
            })?,
        };
        let callback_mode = match var(env, "CALLBACK_MODE") {
            None => None,
            Some(name) => Some(SecurityMode::parse(name.trim()).ok_or_else(|| {
                AppError::Config(format!(
                    "CALLBACK_MODE must be plain, compat or safe, not {name:?}"
                ))
            })?),
        };
        Ok(Account {
            id: DEFAULT_ACCOUNT.to_owned(),
            app_id: var(env, "APP_ID").ok_or_else(|| {
                AppError::NotFound(
                    "the default account is not configured (APP_ID is not set); use /api/accounts/{id}/… for the accounts created through the API".into(),
                )
            })?,
            kind,
            base,
            token_url: var(env, "TOKEN_URL"),
            callback_mode,
            secrets: Secrets {
                app_secret: optional_secret(env, "APP_SECRET"),
                callback_token: optional_secret(env, "CALLBACK_TOKEN"),
                encoding_aes_key: optional_secret(env, "ENCODING_AES_KEY"),
                forward_url: optional_secret(env, "FORWARD_URL"),
                token_url_secret: optional_secret(env, "TOKEN_URL_SECRET"),
            },
        })
    }

    /// A secret that must be set for what is being done.
    pub fn secret(&self, name: &str) -> Result<&str, AppError> {
        self.secrets.get(name).ok_or_else(|| {
            AppError::Config(if self.id == DEFAULT_ACCOUNT {
                format!("the secret behind {name} is not set (wrangler secret put)")
            } else {
                format!("account {}: secret {name} is not set", self.id)
            })
        })
    }
}

/// Whether `id` can name an account: 1 to 32 of `a-z`, `0-9` and `-`, not starting with `-`.
pub fn is_account_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Account {
    /// Account `id`: the default one from vars and secrets, any other from its row, its secrets
    /// opened with the master key that sealed them. An unknown id is 404; one whose secrets
    /// cannot be opened is 503 naming it (or the master-key variable at fault), and fails alone.
    pub async fn load(id: &str, env: &Env, store: &Store) -> Result<Account, AppError> {
        if id == DEFAULT_ACCOUNT {
            return Account::from_env(env);
        }
        let row = store
            .read_account(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no account {id}")))?;
        let keys = Keys::from_env(env).await;
        Account::from_row(&row, &keys).await
    }

    /// An account from its row, its secrets opened.
    pub async fn from_row(row: &AccountRow, keys: &Keys) -> Result<Account, AppError> {
        let key = keys.opening(&row.id, &row.key_id)?;
        let plain = key.open(&row.id, &row.secrets).await?;
        let secrets: Secrets =
            serde_json::from_slice(&plain).map_err(|e| AppError::AccountUnavailable {
                account: row.id.clone(),
                problem: format!("its opened secrets are not readable: {e}"),
            })?;
        let mut account = Account::settings_of(row)?;
        account.secrets = secrets;
        Ok(account)
    }

    /// An account's settings from its row, without its secrets: what `GET /api/accounts` shows
    /// of an account whose secrets cannot be opened.
    pub fn settings_of(row: &AccountRow) -> Result<Account, AppError> {
        let stored = |what: &str, e: String| AppError::AccountUnavailable {
            account: row.id.clone(),
            problem: format!("its stored {what} is not readable: {e}"),
        };
        Ok(Account {
            id: row.id.clone(),
            app_id: row.app_id.clone(),
            kind: AccountKind::parse(&row.kind).ok_or_else(|| stored("kind", row.kind.clone()))?,
            base: match &row.api_base {
                Some(url) => ApiBase::parse(url).map_err(|e| stored("api_base", e.to_string()))?,
                None => ApiBase::default(),
            },
            token_url: row.token_url.clone(),
            callback_mode: match &row.callback_mode {
                Some(m) => {
                    Some(SecurityMode::parse(m).ok_or_else(|| stored("callback_mode", m.clone()))?)
                }
                None => None,
            },
            secrets: Secrets::default(),
        })
    }
}
