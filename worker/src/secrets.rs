//! Account secrets at rest: AES-256-GCM (Web Crypto) under the worker secret
//! `ACCOUNTS_MASTER_KEY` (32 random bytes, base64: `openssl rand -base64 32`).
//!
//! A sealed box is `base64(nonce ‖ ciphertext+tag)` with a fresh 12-byte nonce, and the account
//! id as additional data, so a box copied onto another account's row does not open. Each box is
//! stored with the id of the key that sealed it ([`MasterKey::id`]): during a rotation
//! (`ACCOUNTS_MASTER_KEY_PREVIOUS` set to the old key) a row opens with whichever key sealed it,
//! and `POST /api/master-key/rotate` re-seals row by row, so a rotation that stops half-way
//! loses nothing.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use js_sys::{Array, Object, Reflect, Uint8Array};
use sha2::{Digest, Sha256};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{CryptoKey, SubtleCrypto};

use crate::error::AppError;

const NONCE_BYTES: usize = 12;
const KEY_BYTES: usize = 32;

/// One master key, imported for AES-GCM.
pub struct MasterKey {
    key: CryptoKey,
    id: String,
}

fn subtle() -> Result<SubtleCrypto, AppError> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| AppError::Internal("no crypto in this runtime".into()))?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .map_err(|_| AppError::Internal("no crypto.subtle in this runtime".into()))?;
    Ok(subtle.unchecked_into())
}

fn js_err(what: &str) -> impl Fn(JsValue) -> AppError + '_ {
    move |e| AppError::Internal(format!("{what}: {e:?}"))
}

fn aes_gcm(nonce: &[u8], account_id: &str) -> Result<Object, AppError> {
    let params = Object::new();
    let set = |k: &str, v: &JsValue| {
        Reflect::set(&params, &JsValue::from_str(k), v)
            .map(|_| ())
            .map_err(js_err("AES-GCM parameters"))
    };
    set("name", &JsValue::from_str("AES-GCM"))?;
    set("iv", &Uint8Array::from(nonce).into())?;
    set(
        "additionalData",
        &Uint8Array::from(account_id.as_bytes()).into(),
    )?;
    Ok(params)
}

impl MasterKey {
    /// Imports a key given as base64 of 32 bytes. `name` is the secret's name, for the error.
    pub async fn import(name: &str, base64: &str) -> Result<MasterKey, AppError> {
        let raw = STANDARD
            .decode(base64.trim())
            .ok()
            .filter(|k| k.len() == KEY_BYTES)
            .ok_or_else(|| {
                AppError::Config(format!(
                    "{name} must be 32 random bytes in base64 (openssl rand -base64 32)"
                ))
            })?;
        MasterKey::from_raw(&raw).await
    }

    /// Imports 32 raw bytes as an AES-256-GCM key.
    async fn from_raw(raw: &[u8]) -> Result<MasterKey, AppError> {
        // A short public name of the key: which key sealed a row, without revealing the key.
        let digest = Sha256::digest([b"wxmass key id\0".as_slice(), raw].concat());
        let id: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let algorithm = Object::new();
        Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into())
            .map_err(js_err("AES-GCM algorithm"))?;
        let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
        let promise = subtle()?
            .import_key_with_object("raw", &Uint8Array::from(raw), &algorithm, false, &usages)
            .map_err(js_err("importKey"))?;
        let key = JsFuture::from(promise)
            .await
            .map_err(js_err("importKey"))?
            .unchecked_into::<CryptoKey>();
        Ok(MasterKey { key, id })
    }

    /// The key's public id, stored beside every box it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `plain` sealed for `account_id`.
    pub async fn seal(&self, account_id: &str, plain: &[u8]) -> Result<String, AppError> {
        let nonce = crate::random::bytes::<NONCE_BYTES>();
        let promise = subtle()?
            .encrypt_with_object_and_u8_array(&aes_gcm(&nonce, account_id)?, &self.key, plain)
            .map_err(js_err("encrypt"))?;
        let sealed = JsFuture::from(promise).await.map_err(js_err("encrypt"))?;
        let mut out = nonce.to_vec();
        out.extend(Uint8Array::new(&sealed).to_vec());
        Ok(STANDARD.encode(out))
    }

    /// Opens a box sealed for `account_id`; a wrong key, account or a changed box is an error.
    pub async fn open(&self, account_id: &str, sealed: &str) -> Result<Vec<u8>, AppError> {
        let unavailable = |problem: String| AppError::AccountUnavailable {
            account: account_id.to_owned(),
            problem,
        };
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| unavailable("its sealed secrets in D1 are not base64".into()))?;
        if bytes.len() <= NONCE_BYTES {
            return Err(unavailable("its sealed secrets in D1 are cut short".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let promise = subtle()?
            .decrypt_with_object_and_u8_array(&aes_gcm(nonce, account_id)?, &self.key, ciphertext)
            .map_err(js_err("decrypt"))?;
        let plain = JsFuture::from(promise).await.map_err(|_| {
            unavailable(format!(
                "its sealed secrets do not open with key {} (changed in D1, or sealed for another account)",
                self.id
            ))
        })?;
        Ok(Uint8Array::new(&plain).to_vec())
    }
}

/// The key an account's access_token is sealed with in D1 (`access_tokens`): derived from the
/// account's own secrets, so it is kept as they are (sealed under the master key, or the
/// worker's secrets for the default account) and a D1 dump alone opens nothing. It changes when
/// they change: a token sealed under the old ones no longer opens, and is fetched again.
pub async fn access_token_key<'a>(
    account_id: &str,
    secrets: impl IntoIterator<Item = Option<&'a str>>,
) -> Result<MasterKey, AppError> {
    let mut material = Sha256::new();
    material.update(b"wxmass access_token key\0");
    material.update(account_id.as_bytes());
    let mut any = false;
    for secret in secrets {
        match secret {
            // Length first, so no two lists of secrets give the same bytes.
            Some(value) => {
                any = true;
                material.update((value.len() as u64).to_be_bytes());
                material.update(value.as_bytes());
            }
            None => material.update(u64::MAX.to_be_bytes()),
        }
    }
    if !any {
        return Err(AppError::Config(format!(
            "account {account_id}: no secret is set to seal its access_token with (set its AppSecret or callback Token)"
        )));
    }
    MasterKey::from_raw(&material.finalize()).await
}

/// Which variable holds a master key.
pub const CURRENT_KEY_VAR: &str = "ACCOUNTS_MASTER_KEY";
pub const PREVIOUS_KEY_VAR: &str = "ACCOUNTS_MASTER_KEY_PREVIOUS";

/// One master-key variable as this invocation found it: not set, set but not a key (the problem,
/// never the value), or a key.
pub enum KeySlot {
    Unset,
    Invalid(String),
    Ready(MasterKey),
}

impl KeySlot {
    async fn from_env(env: &worker::Env, variable: &str) -> KeySlot {
        match crate::config::optional_secret(env, variable) {
            None => KeySlot::Unset,
            Some(value) => match MasterKey::import(variable, &value).await {
                Ok(key) => KeySlot::Ready(key),
                Err(e) => KeySlot::Invalid(e.to_string()),
            },
        }
    }

    fn key(&self) -> Option<&MasterKey> {
        match self {
            KeySlot::Ready(k) => Some(k),
            _ => None,
        }
    }

    /// What an operator reads about it in `GET /api/status` and in an error.
    fn describe(&self) -> String {
        match self {
            KeySlot::Unset => "not set".into(),
            KeySlot::Invalid(_) => "set, but not a key".into(),
            KeySlot::Ready(k) => format!("key {}", k.id()),
        }
    }
}

/// The master keys this invocation has: the current one, and the previous one during a
/// rotation. A variable that is set but is not a key fails only what needs it: the accounts
/// that one sealed, and sealing anything new when it is the current one; every other account
/// opens as usual.
pub struct Keys {
    pub current: KeySlot,
    pub previous: KeySlot,
}

/// A configuration problem with the master keys, as `GET /api/status` lists it.
pub struct KeyProblem {
    pub variable: &'static str,
    pub problem: String,
}

impl Keys {
    /// From `ACCOUNTS_MASTER_KEY` and `ACCOUNTS_MASTER_KEY_PREVIOUS`; never fails (see
    /// [`Keys::problems`]).
    pub async fn from_env(env: &worker::Env) -> Keys {
        Keys {
            current: KeySlot::from_env(env, CURRENT_KEY_VAR).await,
            previous: KeySlot::from_env(env, PREVIOUS_KEY_VAR).await,
        }
    }

    /// The variables that are set but hold no usable key.
    pub fn problems(&self) -> Vec<KeyProblem> {
        [
            (CURRENT_KEY_VAR, &self.current),
            (PREVIOUS_KEY_VAR, &self.previous),
        ]
        .into_iter()
        .filter_map(|(variable, slot)| match slot {
            KeySlot::Invalid(problem) => Some(KeyProblem {
                variable,
                problem: problem.clone(),
            }),
            _ => None,
        })
        .collect()
    }

    /// The key new boxes are sealed with: the current one, or why there is none.
    pub fn sealing(&self) -> Result<&MasterKey, AppError> {
        match &self.current {
            KeySlot::Ready(k) => Ok(k),
            KeySlot::Invalid(problem) => Err(AppError::MasterKeyInvalid {
                variable: CURRENT_KEY_VAR,
                problem: problem.clone(),
            }),
            KeySlot::Unset => Err(AppError::MasterKeyMissing {
                variable: CURRENT_KEY_VAR,
            }),
        }
    }

    /// The key that sealed a box with `key_id`, or why it cannot be had: a variable that is set
    /// but not a key may be the one (`master_key_invalid`, naming it); otherwise neither key is
    /// the one (`account_unavailable`, naming the account and both key ids).
    pub fn opening(&self, account_id: &str, key_id: &str) -> Result<&MasterKey, AppError> {
        let found = [&self.current, &self.previous]
            .into_iter()
            .filter_map(KeySlot::key)
            .find(|k| k.id() == key_id);
        if let Some(k) = found {
            return Ok(k);
        }
        for (variable, slot) in [
            (CURRENT_KEY_VAR, &self.current),
            (PREVIOUS_KEY_VAR, &self.previous),
        ] {
            if let KeySlot::Invalid(problem) = slot {
                return Err(AppError::MasterKeyInvalid {
                    variable,
                    problem: problem.clone(),
                });
            }
        }
        Err(AppError::AccountUnavailable {
            account: account_id.to_owned(),
            problem: format!(
                "its secrets were sealed by key {key_id}, which is neither {CURRENT_KEY_VAR} ({}) nor {PREVIOUS_KEY_VAR} ({}); set {PREVIOUS_KEY_VAR} to the key that sealed them",
                self.current.describe(),
                self.previous.describe()
            ),
        })
    }
}
