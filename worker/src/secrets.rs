//! Account secrets at rest: AES-256-GCM (Web Crypto) under the worker secret
//! `ACCOUNTS_MASTER_KEY` (32 random bytes, base64: `openssl rand -base64 32`).
//!
//! A sealed box is `base64(nonce ‖ ciphertext+tag)` with a fresh 12-byte nonce, and the account
//! id as additional data, so a box copied onto another account's row does not open. Each box is
//! stored with the id of the key that sealed it ([`MasterKey::id`]): during a rotation
//! (`ACCOUNTS_MASTER_KEY_PREVIOUS` set to the old key) a row opens with whichever key sealed it,
//! and `POST /api/accounts/rotate-key` re-seals row by row, so a rotation that stops half-way
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
        // A short public name of the key: which key sealed a row, without revealing the key.
        let digest = Sha256::digest([b"wxmass key id\0".as_slice(), &raw].concat());
        let id: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let algorithm = Object::new();
        Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into())
            .map_err(js_err("AES-GCM algorithm"))?;
        let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
        let promise = subtle()?
            .import_key_with_object(
                "raw",
                &Uint8Array::from(raw.as_slice()),
                &algorithm,
                false,
                &usages,
            )
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
        let bytes = STANDARD.decode(sealed).map_err(|_| {
            AppError::Internal(format!(
                "the secrets of account {account_id} are not base64"
            ))
        })?;
        if bytes.len() <= NONCE_BYTES {
            return Err(AppError::Internal(format!(
                "the secrets of account {account_id} are truncated"
            )));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let promise = subtle()?
            .decrypt_with_object_and_u8_array(&aes_gcm(nonce, account_id)?, &self.key, ciphertext)
            .map_err(js_err("decrypt"))?;
        let plain = JsFuture::from(promise).await.map_err(|_| {
            AppError::Internal(format!(
                "the secrets of account {account_id} do not open with key {}",
                self.id
            ))
        })?;
        Ok(Uint8Array::new(&plain).to_vec())
    }
}

/// The master keys this invocation has: the current one, and the previous one during a
/// rotation.
pub struct Keys {
    pub current: MasterKey,
    pub previous: Option<MasterKey>,
}

impl Keys {
    /// From `ACCOUNTS_MASTER_KEY` (and `ACCOUNTS_MASTER_KEY_PREVIOUS`); `None` when the first is
    /// not set (then only the `default` account, from vars and secrets, exists).
    pub async fn from_env(env: &worker::Env) -> Result<Option<Keys>, AppError> {
        let Some(current) = crate::config::optional_secret(env, "ACCOUNTS_MASTER_KEY") else {
            return Ok(None);
        };
        let current = MasterKey::import("ACCOUNTS_MASTER_KEY", &current).await?;
        let previous = match crate::config::optional_secret(env, "ACCOUNTS_MASTER_KEY_PREVIOUS") {
            Some(k) => Some(MasterKey::import("ACCOUNTS_MASTER_KEY_PREVIOUS", &k).await?),
            None => None,
        };
        Ok(Some(Keys { current, previous }))
    }

    /// The key that sealed a box with `key_id`.
    pub fn by_id(&self, key_id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.id() == key_id)
    }
}
