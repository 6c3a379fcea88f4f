//! Callbacks and events for JS: URL verification, safe-mode message crypto, opening a push, and
//! parsing the pushed XML (MASSSENDJOBFINISH and any other message) into camelCase values with
//! 64-bit ids as strings.

use js_sys::Object;
use wasm_bindgen::prelude::*;
use wxmass::callback::{
    self, CallbackConfig, CallbackError, CallbackMode, CallbackQuery, SecurityMode,
};
use wxmass::event::{self, EventError};

use crate::errors::{self, set};
use crate::to_js::to_js;

fn callback_error(e: &CallbackError) -> JsValue {
    let path = match e {
        CallbackError::MissingParameter(name) | CallbackError::InvalidParameter { name, .. } => {
            format!("query.{name}")
        }
        CallbackError::InvalidAesKey { .. } => "encodingAesKey".to_owned(),
        _ => String::new(),
    };
    errors::wxmass_error("callback", &path, e.code(), &e.to_string())
}

fn event_error(e: &EventError) -> JsValue {
    let path = match e {
        EventError::Missing { element }
        | EventError::Duplicate { element }
        | EventError::Number { element, .. } => (*element).to_owned(),
        _ => String::new(),
    };
    errors::wxmass_error("event", &path, e.code(), &e.to_string())
}

fn random16(random: &[u8]) -> Result<[u8; 16], JsValue> {
    random.try_into().map_err(|_| {
        errors::wxmass_error(
            "callback",
            "random",
            "random_bytes",
            "random must be exactly 16 bytes",
        )
    })
}

/// URL verification: the `echostr` to answer when `signature` matches; throws otherwise.
/// `query` is the raw query string of the `GET`.
#[wasm_bindgen(js_name = verifyUrl)]
pub fn verify_url(token: &str, query: &str) -> Result<String, JsValue> {
    callback::verify_url(token, &CallbackQuery::from_query_string(query))
        .map_err(|e| callback_error(&e))
}

/// One account's safe-mode crypto (token, EncodingAESKey, AppID).
#[wasm_bindgen]
pub struct MessageCrypto {
    inner: callback::MessageCrypto,
}

#[wasm_bindgen]
impl MessageCrypto {
    /// Parses the EncodingAESKey once; throws a `WxmassError` (rule `invalid_aes_key`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        token: &str,
        encoding_aes_key: &str,
        app_id: &str,
    ) -> Result<MessageCrypto, JsValue> {
        callback::MessageCrypto::new(token, encoding_aes_key, app_id)
            .map(|inner| MessageCrypto { inner })
            .map_err(|e| callback_error(&e))
    }

    /// Verifies `msg_signature`, decrypts `encrypt` and checks the AppID: the message XML.
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<String, JsValue> {
        self.inner
            .decrypt(msg_signature, timestamp, nonce, encrypt)
            .map_err(|e| callback_error(&e))
    }

    /// Decrypts without the signature check (the caller checked it).
    #[wasm_bindgen(js_name = decryptUnsigned)]
    pub fn decrypt_unsigned(&self, encrypt: &str) -> Result<String, JsValue> {
        self.inner
            .decrypt_unsigned(encrypt)
            .map_err(|e| callback_error(&e))
    }

    /// Encrypts `message` with 16 caller-supplied random bytes: the base64 `<Encrypt>` text.
    pub fn encrypt(&self, message: &str, random: &[u8]) -> Result<String, JsValue> {
        self.inner
            .encrypt(message, random16(random)?)
            .map_err(|e| callback_error(&e))
    }

    /// The signed, encrypted envelope that answers a safe-mode push with `reply_xml`.
    #[wasm_bindgen(js_name = encryptReply)]
    pub fn encrypt_reply(
        &self,
        reply_xml: &str,
        timestamp: &str,
        nonce: &str,
        random: &[u8],
    ) -> Result<String, JsValue> {
        self.inner
            .encrypt_reply(reply_xml, timestamp, nonce, random16(random)?)
            .map_err(|e| callback_error(&e))
    }

    /// `msg_signature` over the token, `timestamp`, `nonce` and `encrypt`.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        self.inner.signature(timestamp, nonce, encrypt)
    }

    /// The AppID.
    #[wasm_bindgen(getter, js_name = appId)]
    pub fn app_id(&self) -> String {
        self.inner.app_id().to_owned()
    }
}

/// Verifies (and in safe mode decrypts) a `POST` push: `{ mode: 'plain' | 'aes', xml }`.
/// `now` (Unix milliseconds, as every time in JS) turns on the timestamp-skew check (WeChat's
/// `timestamp` is in seconds; core compares whole seconds). `security` is the account's
/// configured mode (`plain`, `compat`, `safe`); absent, core's default for the key.
#[wasm_bindgen(js_name = openCallback)]
pub fn open_callback(
    token: &str,
    encoding_aes_key: Option<String>,
    app_id: &str,
    query: &str,
    body: &[u8],
    now: Option<f64>,
    security: Option<String>,
) -> Result<Object, JsValue> {
    let mut config = CallbackConfig::new(token, encoding_aes_key.as_deref(), app_id)
        .map_err(|e| callback_error(&e))?;
    if let Some(name) = security {
        let mode = SecurityMode::parse(&name).ok_or_else(|| {
            errors::wxmass_error(
                "callback",
                "mode",
                "security_mode",
                &format!("mode must be plain, compat or safe, not {name:?}"),
            )
        })?;
        config = config.with_mode(mode).map_err(|e| callback_error(&e))?;
    }
    let opened = callback::open_callback(
        &config,
        &CallbackQuery::from_query_string(query),
        body,
        now.map(|ms| (ms / 1000.0).floor() as i64),
    )
    .map_err(|e| callback_error(&e))?;
    let o = Object::new();
    let mode = match opened.mode {
        CallbackMode::Plain => "plain",
        CallbackMode::Aes => "aes",
    };
    set(&o, "mode", mode);
    set(&o, "xml", opened.xml);
    if let Some(g) = opened.replay_guard {
        let guard = Object::new();
        set(&guard, "key", g.key);
        set(&guard, "bodyDigest", g.body_digest);
        // Milliseconds, as every time in JS.
        set(&guard, "rememberUntil", (g.remember_until as f64) * 1000.0);
        set(&o, "replayGuard", guard);
    }
    Ok(o)
}

/// Parses a pushed message or event: `{ kind: 'mass_send_job_finish', msgId, status, … ,
/// dedupeKey }` or `{ kind: 'other', … , dedupeKey }`.
/// JS calls [`parse_event_input`].
pub fn parse_event(xml: &[u8]) -> Result<JsValue, JsValue> {
    let message = event::parse_message(xml).map_err(|e| event_error(&e))?;
    let v = to_js(&message)?;
    set(&Object::from(v.clone()), "dedupeKey", message.dedupe_key());
    Ok(v)
}

/// [`parse_event`] for XML already decoded as text (JS calls [`parse_event_input`]).
pub fn parse_event_text(xml: &str) -> Result<JsValue, JsValue> {
    parse_event(xml.as_bytes())
}

/// [`parse_event`] of XML the facade wrote into the input buffer (see [`crate::text_input`]).
#[wasm_bindgen(js_name = parseEventInput)]
pub fn parse_event_input(len: usize) -> Result<JsValue, JsValue> {
    crate::text_input::with_input(len, parse_event)
}
