//! Callback URL verification and message crypto for plain, compatible and safe mode.
//!
//! WeChat calls the account's callback URL in two ways:
//!
//! - `GET ?signature&timestamp&nonce&echostr` when the URL is configured: answer `echostr` if
//!   `signature = sha1(sort([token, timestamp, nonce]).join(""))` ([`verify_url`]).
//! - `POST` with a message or event. In **plain** mode the body is XML and the query's
//!   `signature` is the only check (it does not cover the body). In **compatible** and **safe**
//!   mode the query says `encrypt_type=aes` and carries `msg_signature =
//!   sha1(sort([token, timestamp, nonce, Encrypt]).join(""))`; the body's `<Encrypt>` is
//!   AES-256-CBC (key = base64(EncodingAESKey + "="), IV = key[0..16], PKCS#7 padding to 32-byte
//!   blocks) over `16 random bytes ‖ u32 big-endian length ‖ XML ‖ AppID`. A compatible-mode body
//!   also carries the plain fields; they are ignored, only the signed ciphertext is trusted.
//!
//! [`open_callback`] is the one entry point a callback handler needs: it picks the mode from
//! `encrypt_type`, checks the signature (in constant time), optionally the timestamp's skew
//! against a caller-supplied `now`, decrypts, and returns the XML for [`crate::event`]. The
//! pieces ([`verify_url`], [`MessageCrypto::decrypt`], [`MessageCrypto::encrypt_reply`]) are
//! public for callers with other needs. Encryption takes its 16 random bytes as a parameter,
//! so it is deterministic and testable; callers pass fresh random bytes in production.
//!
//! The ciphers are RustCrypto's (`aes`, `cbc`, `sha1`) with `subtle` for comparisons; only
//! WeChat's 32-byte padding is done here, because no crate offers it.

use std::fmt;

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::event::{parse_message, read_tree, CallbackMessage, EventError};
use crate::limits::{
    CALLBACK_BODY_MAX_BYTES, CALLBACK_MAX_SKEW_SECS, CALLBACK_PAD_BLOCK,
    CALLBACK_RANDOM_PREFIX_BYTES, ENCODING_AES_KEY_LEN, EVENT_XML_MAX_BYTES,
};
use crate::validate::shorten;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Decodes an EncodingAESKey. WeChat's 43 characters carry 258 bits for a 256-bit key, and the
/// platform does not zero the 2 spare bits (the official sample key ends in `G`), so they must
/// be ignored rather than rejected.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

// ================================================================================================
// Errors
// ================================================================================================

/// Why a callback was refused. Each rejection has its own variant so a log says exactly which
/// check failed; [`CallbackError::code`] gives a stable machine name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// A query parameter the mode needs is absent or empty.
    #[error("missing query parameter {0}")]
    MissingParameter(&'static str),
    /// A parameter has a form WeChat never sends.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter (`timestamp`, `nonce`).
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The EncodingAESKey is not 43 characters of base64.
    #[error("invalid EncodingAESKey: {reason}")]
    InvalidAesKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `encrypt_type=aes` but no EncodingAESKey is configured.
    #[error("the push is encrypted (encrypt_type=aes) but no EncodingAESKey is configured")]
    AesKeyNotConfigured,
    /// `encrypt_type` is neither absent, `raw` nor `aes`.
    #[error("unsupported encrypt_type {0:?} (expected raw or aes)")]
    UnsupportedEncryptType(String),
    /// `signature` or `msg_signature` does not match.
    #[error("signature mismatch: the request was not signed with this account's token")]
    SignatureMismatch,
    /// `timestamp` is further from `now` than allowed.
    #[error("timestamp {timestamp} is {skew} s away from now ({now}); at most {max} s allowed")]
    TimestampSkew {
        /// The request's timestamp.
        timestamp: i64,
        /// The caller's clock.
        now: i64,
        /// The difference in seconds.
        skew: u64,
        /// Largest difference allowed.
        max: i64,
    },
    /// The body is larger than [`CALLBACK_BODY_MAX_BYTES`].
    #[error("callback body is {size} bytes, over the limit of {limit}")]
    BodyTooLarge {
        /// Size of the body.
        size: usize,
        /// Largest size accepted.
        limit: usize,
    },
    /// A plain-mode body is not UTF-8, or a decrypted message is not.
    #[error("message is not valid UTF-8")]
    NotUtf8,
    /// The encrypted body is not readable XML.
    #[error("encrypted body: {0}")]
    Envelope(EventError),
    /// The encrypted body has no `<Encrypt>` element.
    #[error("encrypted body has no <Encrypt> element")]
    MissingEncrypt,
    /// `<Encrypt>` is not base64.
    #[error("<Encrypt> is not valid base64")]
    Base64,
    /// The ciphertext is empty or not a whole number of AES blocks.
    #[error("ciphertext is {len} bytes, not a positive multiple of 16")]
    CiphertextLength {
        /// Its length in bytes.
        len: usize,
    },
    /// The padding is not WeChat's PKCS#7 to 32-byte blocks (a last byte of 0 or over 32, or
    /// pad bytes that differ): wrong key or tampered data.
    #[error("bad padding (pad byte {pad}): wrong EncodingAESKey or tampered ciphertext")]
    BadPadding {
        /// The last byte of the plaintext.
        pad: u8,
    },
    /// The plaintext's length field runs past the end of the buffer.
    #[error("message length field {declared} runs past the {available} bytes available")]
    LengthOutOfBounds {
        /// Length the field declares.
        declared: u64,
        /// Bytes actually left for message and AppID.
        available: usize,
    },
    /// The AppID after the message is not this account's.
    #[error("AppID mismatch: expected {expected}, found {found:?}")]
    AppIdMismatch {
        /// The configured AppID.
        expected: String,
        /// The AppID in the plaintext (shortened, lossy UTF-8).
        found: String,
    },
    /// A message to encrypt is too large for the 32-bit length field.
    #[error("message of {size} bytes is too large to encrypt")]
    MessageTooLarge {
        /// Its size.
        size: usize,
    },
    /// A plain push (no `encrypt_type=aes`, no `msg_signature`) to an account configured for
    /// compatible or safe mode: its `signature` does not cover the body, so anyone holding one
    /// captured query could post any body under it.
    #[error("plain push refused: the account is configured for {} mode, where only a push signed over its <Encrypt> (msg_signature) is trusted", .mode.as_str())]
    PlainPushRefused {
        /// The configured mode.
        mode: SecurityMode,
    },
}

impl CallbackError {
    /// Stable machine-readable name of the error (used by the npm package and the worker).
    pub fn code(&self) -> &'static str {
        match self {
            CallbackError::MissingParameter(_) => "missing_parameter",
            CallbackError::InvalidParameter { .. } => "invalid_parameter",
            CallbackError::InvalidAesKey { .. } => "invalid_aes_key",
            CallbackError::AesKeyNotConfigured => "aes_key_not_configured",
            CallbackError::UnsupportedEncryptType(_) => "unsupported_encrypt_type",
            CallbackError::SignatureMismatch => "signature_mismatch",
            CallbackError::TimestampSkew { .. } => "timestamp_skew",
            CallbackError::BodyTooLarge { .. } => "body_too_large",
            CallbackError::NotUtf8 => "not_utf8",
            CallbackError::Envelope(_) => "envelope",
            CallbackError::MissingEncrypt => "missing_encrypt",
            CallbackError::Base64 => "base64",
            CallbackError::CiphertextLength { .. } => "ciphertext_length",
            CallbackError::BadPadding { .. } => "bad_padding",
            CallbackError::LengthOutOfBounds { .. } => "length_out_of_bounds",
            CallbackError::AppIdMismatch { .. } => "appid_mismatch",
            CallbackError::MessageTooLarge { .. } => "message_too_large",
            CallbackError::PlainPushRefused { .. } => "plain_push_refused",
        }
    }
}

// ================================================================================================
// Query
// ================================================================================================

/// The query parameters WeChat puts on a callback request. Absent parameters are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackQuery {
    /// `signature`: sha1 over token, timestamp, nonce (URL verification and plain mode).
    pub signature: Option<String>,
    /// `timestamp`: Unix seconds, as a decimal string.
    pub timestamp: Option<String>,
    /// `nonce`: a random string.
    pub nonce: Option<String>,
    /// `echostr`: what URL verification must answer.
    pub echostr: Option<String>,
    /// `encrypt_type`: `aes` in compatible and safe mode; absent or `raw` in plain mode.
    pub encrypt_type: Option<String>,
    /// `msg_signature`: sha1 over token, timestamp, nonce and the ciphertext.
    pub msg_signature: Option<String>,
}

impl CallbackQuery {
    /// Reads a raw query string (`a=1&b=2`, with or without a leading `?`), percent-decoding
    /// values (`+` is a space, as in forms). Unknown parameters (`openid`) are ignored; a
    /// repeated parameter keeps its first value.
    pub fn from_query_string(query: &str) -> Self {
        let mut q = CallbackQuery::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match percent_decode(key).as_str() {
                "signature" => &mut q.signature,
                "timestamp" => &mut q.timestamp,
                "nonce" => &mut q.nonce,
                "echostr" => &mut q.echostr,
                "encrypt_type" => &mut q.encrypt_type,
                "msg_signature" => &mut q.msg_signature,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(percent_decode(value));
            }
        }
        q
    }

    /// The query as a string (`signature=…&timestamp=…`), each value percent-encoded; the
    /// inverse of [`CallbackQuery::from_query_string`].
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("signature", &self.signature),
            ("timestamp", &self.timestamp),
            ("nonce", &self.nonce),
            ("echostr", &self.echostr),
            ("encrypt_type", &self.encrypt_type),
            ("msg_signature", &self.msg_signature),
        ];
        let mut out = String::new();
        for (key, value) in pairs {
            if let Some(v) = value {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str(key);
                out.push('=');
                percent_encode_into(v, &mut out);
            }
        }
        out
    }
}

fn required<'a>(v: &'a Option<String>, name: &'static str) -> Result<&'a str, CallbackError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(CallbackError::MissingParameter(name))
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

// ================================================================================================
// Signatures
// ================================================================================================

/// WeChat's signature: lowercase hex of sha1 over the parts sorted bytewise and concatenated.
pub fn sha1_signature(parts: &[&str]) -> String {
    // Three or four parts: an insertion sort (std's sort would link ~3 KB into the npm
    // package's WebAssembly).
    let mut sorted: Vec<&str> = Vec::with_capacity(parts.len());
    for &part in parts {
        let at = sorted.partition_point(|s| *s <= part);
        sorted.insert(at, part);
    }
    let mut sha = Sha1::new();
    for p in sorted {
        sha.update(p.as_bytes());
    }
    hex_lower(&sha.finalize())
}

/// `signature` of URL verification and plain mode: over token, timestamp and nonce.
pub fn plain_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sha1_signature(&[token, timestamp, nonce])
}

/// `msg_signature` of compatible and safe mode: over token, timestamp, nonce and `Encrypt`.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sha1_signature(&[token, timestamp, nonce, encrypt])
}

fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Compares a computed signature with the one received, in constant time (uppercase hex is
/// accepted: the comparison is on the lowercased form).
fn check_signature(expected: &str, given: &str) -> Result<(), CallbackError> {
    let given = given.trim().to_ascii_lowercase();
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(CallbackError::SignatureMismatch)
    }
}

/// Checks `timestamp` is decimal seconds and, when `now` is given, within `max_skew` of it.
fn check_timestamp(timestamp: &str, now: Option<i64>, max_skew: i64) -> Result<i64, CallbackError> {
    let invalid = CallbackError::InvalidParameter {
        name: "timestamp",
        reason: "must be decimal Unix seconds",
    };
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid);
    }
    let ts: i64 = timestamp.parse().map_err(|_| invalid)?;
    if let Some(now) = now {
        let skew = ts.abs_diff(now);
        if skew > max_skew.unsigned_abs() {
            return Err(CallbackError::TimestampSkew {
                timestamp: ts,
                now,
                skew,
                max: max_skew,
            });
        }
    }
    Ok(ts)
}

/// URL verification (`GET` when the callback URL is saved): returns `echostr` when `signature`
/// matches the token, timestamp and nonce. Safe-mode accounts verify the same way.
pub fn verify_url(token: &str, query: &CallbackQuery) -> Result<String, CallbackError> {
    let signature = required(&query.signature, "signature")?;
    let timestamp = required(&query.timestamp, "timestamp")?;
    let nonce = required(&query.nonce, "nonce")?;
    let echostr = required(&query.echostr, "echostr")?;
    check_signature(&plain_signature(token, timestamp, nonce), signature)?;
    Ok(echostr.to_owned())
}

// ================================================================================================
// Message crypto
// ================================================================================================

/// A parsed EncodingAESKey: the 32-byte AES-256 key (its first 16 bytes are the IV).
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 32]);

impl AesKey {
    /// Parses the 43-character EncodingAESKey from the account's settings.
    pub fn parse(encoding_aes_key: &str) -> Result<Self, CallbackError> {
        let k = encoding_aes_key.trim();
        if k.len() != ENCODING_AES_KEY_LEN {
            return Err(CallbackError::InvalidAesKey {
                reason: "must be exactly 43 characters",
            });
        }
        if !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(CallbackError::InvalidAesKey {
                reason: "must be base64 characters (A-Z a-z 0-9 + /)",
            });
        }
        let mut padded = String::with_capacity(44);
        padded.push_str(k);
        padded.push('=');
        let bytes = KEY_ENGINE
            .decode(padded)
            .map_err(|_| CallbackError::InvalidAesKey {
                reason: "is not valid base64",
            })?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CallbackError::InvalidAesKey {
            reason: "does not decode to 32 bytes",
        })?;
        Ok(AesKey(key))
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

/// One account's safe-mode crypto: token, AES key and AppID (the AppID is appended to every
/// plaintext and checked on decryption, so a push meant for another account is refused).
#[derive(Clone, PartialEq, Eq)]
pub struct MessageCrypto {
    token: String,
    key: AesKey,
    app_id: String,
}

impl fmt::Debug for MessageCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageCrypto")
            .field("token", &"<redacted>")
            .field("key", &self.key)
            .field("app_id", &self.app_id)
            .finish()
    }
}

/// A safe-mode push as WeChat sends it (what [`MessageCrypto::encrypt_push`] builds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedPush {
    /// The query WeChat would send with this push (`signature`, `timestamp`, `nonce`,
    /// `encrypt_type=aes`, `msg_signature`).
    pub query: CallbackQuery,
    /// The XML body: `<xml><ToUserName/><Encrypt/></xml>`.
    pub body: String,
}

impl MessageCrypto {
    /// Builds the crypto of one account, parsing the EncodingAESKey once.
    pub fn new(token: &str, encoding_aes_key: &str, app_id: &str) -> Result<Self, CallbackError> {
        Ok(MessageCrypto {
            token: token.to_owned(),
            key: AesKey::parse(encoding_aes_key)?,
            app_id: app_id.to_owned(),
        })
    }

    /// The account's AppID.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// `msg_signature` over this token, `timestamp`, `nonce` and `encrypt`.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        msg_signature(&self.token, timestamp, nonce, encrypt)
    }

    /// Verifies `msg_signature` over `encrypt` (the base64 text of `<Encrypt>`), then decrypts
    /// it and checks the AppID. Returns the message XML.
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<String, CallbackError> {
        check_signature(&self.signature(timestamp, nonce, encrypt), msg_signature)?;
        self.decrypt_unsigned(encrypt)
    }

    /// Decrypts `encrypt` without a signature check (the check is the caller's job): base64,
    /// AES-256-CBC, WeChat's 32-byte padding, the length field and the AppID.
    pub fn decrypt_unsigned(&self, encrypt: &str) -> Result<String, CallbackError> {
        let mut buf = STANDARD
            .decode(encrypt.trim())
            .map_err(|_| CallbackError::Base64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(CallbackError::CiphertextLength { len: buf.len() });
        }
        let plain = Aes256CbcDec::new(self.key.as_bytes().into(), &self.key.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CallbackError::CiphertextLength { len: encrypt.len() })?;
        let content = unpad(plain)?;
        let (xml, app_id) = split_plaintext(content)?;
        if !bool::from(app_id.ct_eq(self.app_id.as_bytes())) {
            return Err(CallbackError::AppIdMismatch {
                expected: self.app_id.clone(),
                found: shorten(&String::from_utf8_lossy(app_id)),
            });
        }
        String::from_utf8(xml.to_vec()).map_err(|_| CallbackError::NotUtf8)
    }

    /// Encrypts `message` with the caller's 16 random bytes: the base64 text of `<Encrypt>`.
    pub fn encrypt(
        &self,
        message: &str,
        random: [u8; CALLBACK_RANDOM_PREFIX_BYTES],
    ) -> Result<String, CallbackError> {
        let len = u32::try_from(message.len()).map_err(|_| CallbackError::MessageTooLarge {
            size: message.len(),
        })?;
        let body_len = CALLBACK_RANDOM_PREFIX_BYTES + 4 + message.len() + self.app_id.len();
        let pad = CALLBACK_PAD_BLOCK - body_len % CALLBACK_PAD_BLOCK;
        let mut buf = Vec::with_capacity(body_len + pad);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(message.as_bytes());
        buf.extend_from_slice(self.app_id.as_bytes());
        // pad is 1..=32, so it fits a byte.
        let pad_byte = u8::try_from(pad).unwrap_or(32);
        buf.resize(body_len + pad, pad_byte);
        let total = buf.len();
        let cipher = Aes256CbcEnc::new(self.key.as_bytes().into(), &self.key.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, total)
            .map_err(|_| CallbackError::MessageTooLarge {
                size: message.len(),
            })?;
        Ok(STANDARD.encode(cipher))
    }

    /// Encrypts and signs a passive reply: the envelope
    /// `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>` to answer a safe-mode push
    /// with. `timestamp` must be decimal seconds and `nonce` 1..=64 of `[A-Za-z0-9_-]`.
    pub fn encrypt_reply(
        &self,
        reply_xml: &str,
        timestamp: &str,
        nonce: &str,
        random: [u8; CALLBACK_RANDOM_PREFIX_BYTES],
    ) -> Result<String, CallbackError> {
        check_timestamp(timestamp, None, CALLBACK_MAX_SKEW_SECS)?;
        check_nonce(nonce)?;
        let encrypt = self.encrypt(reply_xml, random)?;
        let sig = self.signature(timestamp, nonce, &encrypt);
        Ok(format!(
            "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        ))
    }

    /// Builds a push exactly as WeChat sends one in safe mode: the query (with both signatures)
    /// and the `<xml><ToUserName/><Encrypt/></xml>` body. Used by tests, the simulator and the
    /// worker's load script. `ToUserName` is copied from the message when it has one.
    pub fn encrypt_push(
        &self,
        message_xml: &str,
        random: [u8; CALLBACK_RANDOM_PREFIX_BYTES],
        timestamp: &str,
        nonce: &str,
    ) -> Result<EncryptedPush, CallbackError> {
        check_timestamp(timestamp, None, CALLBACK_MAX_SKEW_SECS)?;
        check_nonce(nonce)?;
        let encrypt = self.encrypt(message_xml, random)?;
        let to_user = read_tree(message_xml.as_bytes(), EVENT_XML_MAX_BYTES)
            .ok()
            .and_then(|root| root.child("ToUserName").map(|n| n.text.trim().to_owned()))
            .filter(|s| !s.contains("]]>"));
        let body = match to_user {
            Some(to) => format!(
                "<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            ),
            None => format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
        };
        let query = CallbackQuery {
            signature: Some(plain_signature(&self.token, timestamp, nonce)),
            timestamp: Some(timestamp.to_owned()),
            nonce: Some(nonce.to_owned()),
            echostr: None,
            encrypt_type: Some("aes".into()),
            msg_signature: Some(self.signature(timestamp, nonce, &encrypt)),
        };
        Ok(EncryptedPush { query, body })
    }
}

fn check_nonce(nonce: &str) -> Result<(), CallbackError> {
    let ok = (1..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CallbackError::InvalidParameter {
            name: "nonce",
            reason: "must be 1 to 64 characters of A-Z a-z 0-9 _ -",
        })
    }
}

/// Strips WeChat's padding: the last byte `n` must be 1..=32 and the last `n` bytes all `n`.
/// WeChat's own samples only check the range; the sample vectors are properly padded, so the
/// stricter check costs nothing and refuses more tampering.
fn unpad(plain: &[u8]) -> Result<&[u8], CallbackError> {
    let Some(&pad) = plain.last() else {
        return Err(CallbackError::BadPadding { pad: 0 });
    };
    let n = usize::from(pad);
    if n == 0 || n > CALLBACK_PAD_BLOCK || n > plain.len() {
        return Err(CallbackError::BadPadding { pad });
    }
    let (content, padding) = plain.split_at(plain.len() - n);
    if padding.iter().any(|&b| b != pad) {
        return Err(CallbackError::BadPadding { pad });
    }
    Ok(content)
}

/// Splits `random ‖ len ‖ xml ‖ appid` into `(xml, appid)`.
fn split_plaintext(content: &[u8]) -> Result<(&[u8], &[u8]), CallbackError> {
    let header = CALLBACK_RANDOM_PREFIX_BYTES + 4;
    let rest = content
        .get(header..)
        .ok_or(CallbackError::LengthOutOfBounds {
            declared: 0,
            available: 0,
        })?;
    let mut len_bytes = [0u8; 4];
    if let Some(b) = content.get(CALLBACK_RANDOM_PREFIX_BYTES..header) {
        len_bytes.copy_from_slice(b);
    }
    let declared = u32::from_be_bytes(len_bytes);
    let out_of_bounds = CallbackError::LengthOutOfBounds {
        declared: u64::from(declared),
        available: rest.len(),
    };
    let len = usize::try_from(declared).map_err(|_| out_of_bounds.clone())?;
    if len > rest.len() {
        return Err(out_of_bounds);
    }
    Ok(rest.split_at(len))
}

// ================================================================================================
// The entry point
// ================================================================================================

/// How the account's server configuration protects its pushes (消息加解密方式), as the operator
/// set it on the official account platform. It is configuration, never guessed from a request:
/// a forger picks what the request looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityMode {
    /// 明文模式: plain XML under `signature` = sha1(token, timestamp, nonce), which does not
    /// cover the body. A captured query can carry a forged body until its timestamp leaves the
    /// skew window; [`ReplayGuard`] closes that for a repeated query, nothing closes it for a
    /// fresh one signed by someone who holds the token.
    Plain,
    /// 兼容模式: the plain fields and `<Encrypt>` side by side; only `<Encrypt>` (checked by
    /// `msg_signature`, which covers it) is trusted, and a push without it is refused.
    Compat,
    /// 安全模式: only `<Encrypt>`, checked by `msg_signature`; a push without it is refused.
    Safe,
}

impl SecurityMode {
    /// `plain`, `compat` or `safe`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityMode::Plain => "plain",
            SecurityMode::Compat => "compat",
            SecurityMode::Safe => "safe",
        }
    }

    /// The mode named by [`SecurityMode::as_str`].
    pub fn parse(name: &str) -> Option<SecurityMode> {
        [
            SecurityMode::Plain,
            SecurityMode::Compat,
            SecurityMode::Safe,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }

    /// The mode when none is configured: safe when an EncodingAESKey is set (what the key is
    /// for), plain without one.
    pub fn default_for(has_aes_key: bool) -> SecurityMode {
        if has_aes_key {
            SecurityMode::Safe
        } else {
            SecurityMode::Plain
        }
    }

    /// Whether a push must be signed over its `<Encrypt>` (`msg_signature`).
    pub fn requires_encryption(self) -> bool {
        self != SecurityMode::Plain
    }
}

/// What a callback handler knows of its account. `Debug` hides the token and the key.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackConfig {
    token: String,
    crypto: Option<MessageCrypto>,
    max_skew_secs: i64,
    mode: SecurityMode,
}

impl fmt::Debug for CallbackConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackConfig")
            .field("token", &"<redacted>")
            .field("crypto", &self.crypto)
            .field("max_skew_secs", &self.max_skew_secs)
            .field("mode", &self.mode)
            .finish()
    }
}

impl CallbackConfig {
    /// Plain mode only: pushes with `encrypt_type=aes` are refused.
    pub fn plain(token: &str) -> Self {
        CallbackConfig {
            token: token.to_owned(),
            crypto: None,
            max_skew_secs: CALLBACK_MAX_SKEW_SECS,
            mode: SecurityMode::Plain,
        }
    }

    /// The EncodingAESKey is parsed here, once; `None` is the same as
    /// [`CallbackConfig::plain`]. The mode is [`SecurityMode::default_for`] the key: safe with
    /// one (plain pushes refused), plain without; [`CallbackConfig::with_mode`] sets another.
    pub fn new(
        token: &str,
        encoding_aes_key: Option<&str>,
        app_id: &str,
    ) -> Result<Self, CallbackError> {
        Ok(CallbackConfig {
            token: token.to_owned(),
            crypto: encoding_aes_key
                .map(|k| MessageCrypto::new(token, k, app_id))
                .transpose()?,
            max_skew_secs: CALLBACK_MAX_SKEW_SECS,
            mode: SecurityMode::default_for(encoding_aes_key.is_some()),
        })
    }

    /// The configured mode. Compatible and safe mode need the EncodingAESKey.
    pub fn with_mode(mut self, mode: SecurityMode) -> Result<Self, CallbackError> {
        if mode.requires_encryption() && self.crypto.is_none() {
            return Err(CallbackError::AesKeyNotConfigured);
        }
        self.mode = mode;
        Ok(self)
    }

    /// The mode pushes are held to.
    pub fn mode(&self) -> SecurityMode {
        self.mode
    }

    /// Changes the largest timestamp skew accepted when `now` is given (default
    /// [`CALLBACK_MAX_SKEW_SECS`]).
    pub fn with_max_skew_secs(mut self, secs: i64) -> Self {
        self.max_skew_secs = secs;
        self
    }

    /// The account's message crypto, if an EncodingAESKey is configured.
    pub fn crypto(&self) -> Option<&MessageCrypto> {
        self.crypto.as_ref()
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// How a push arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMode {
    /// Plain XML, checked by `signature`.
    Plain,
    /// Compatible or safe mode: decrypted from `<Encrypt>`, checked by `msg_signature`.
    Aes,
}

/// A verified (and decrypted) push, ready for [`crate::event::parse_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedMessage {
    /// How it arrived.
    pub mode: CallbackMode,
    /// The message XML.
    pub xml: String,
    /// For a plain push: what the caller must remember to refuse the same query with another
    /// body (see [`ReplayGuard`]). `None` for an encrypted push, whose signature covers it.
    pub replay_guard: Option<ReplayGuard>,
}

/// A plain push's `signature` covers token, timestamp and nonce but not the body, so a captured
/// query could carry any body while its timestamp is within the skew window. The caller
/// remembers `key` with `body_digest` until `remember_until` and refuses the same key with
/// another body ([`ReplayGuard::is_forged`]); the same body again is WeChat's retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayGuard {
    /// SHA-256 (hex) of the query's timestamp, nonce and signature.
    pub key: String,
    /// SHA-256 (hex) of the body.
    pub body_digest: String,
    /// Unix seconds after which the query is refused anyway (its timestamp is too old).
    pub remember_until: i64,
}

impl ReplayGuard {
    fn new(timestamp: i64, nonce: &str, signature: &str, body: &[u8], max_skew: i64) -> Self {
        // Core's own SHA-256 (the clientmsgid's), so sha2's block function stays out of the
        // npm package's WebAssembly.
        use crate::plan::sha256_lanes::Sha256;
        let digest = |data: &[u8]| {
            let mut h = Sha256::new();
            h.update(data);
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let query = format!("{timestamp}\n{nonce}\n{}", signature.to_ascii_lowercase());
        ReplayGuard {
            key: digest(query.as_bytes()),
            body_digest: digest(body),
            remember_until: timestamp.saturating_add(max_skew.max(0)),
        }
    }

    /// Whether the body remembered under this key (`remembered_digest`) makes this push a
    /// forgery: the same signed query with another body.
    pub fn is_forged(&self, remembered_digest: &str) -> bool {
        remembered_digest != self.body_digest
    }
}

impl OpenedMessage {
    /// Parses the XML into a typed message.
    pub fn parse(&self) -> Result<CallbackMessage, EventError> {
        parse_message(self.xml.as_bytes())
    }
}

/// Verifies a `POST` push and returns its XML. The mode follows `encrypt_type`: `aes` verifies
/// `msg_signature` and decrypts `<Encrypt>`; absent or `raw` verifies `signature` and takes the
/// body as it is. With `now` (Unix seconds, from the caller's clock), a `timestamp` further
/// away than the configured skew is refused.
pub fn open_callback(
    config: &CallbackConfig,
    query: &CallbackQuery,
    body: &[u8],
    now: Option<i64>,
) -> Result<OpenedMessage, CallbackError> {
    if body.len() > CALLBACK_BODY_MAX_BYTES {
        return Err(CallbackError::BodyTooLarge {
            size: body.len(),
            limit: CALLBACK_BODY_MAX_BYTES,
        });
    }
    let timestamp = required(&query.timestamp, "timestamp")?;
    let nonce = required(&query.nonce, "nonce")?;
    let aes = match query.encrypt_type.as_deref().map(str::trim) {
        None | Some("") | Some("raw") => false,
        Some(t) if t.eq_ignore_ascii_case("aes") => true,
        Some(other) => return Err(CallbackError::UnsupportedEncryptType(shorten(other))),
    };
    if !aes && config.mode.requires_encryption() {
        return Err(CallbackError::PlainPushRefused { mode: config.mode });
    }
    if aes {
        let msg_signature = required(&query.msg_signature, "msg_signature")?;
        let crypto = config
            .crypto
            .as_ref()
            .ok_or(CallbackError::AesKeyNotConfigured)?;
        check_timestamp(timestamp, now, config.max_skew_secs)?;
        let envelope = read_tree(body, CALLBACK_BODY_MAX_BYTES).map_err(CallbackError::Envelope)?;
        let encrypt = envelope
            .child("Encrypt")
            .map(|n| n.text.trim())
            .filter(|s| !s.is_empty())
            .ok_or(CallbackError::MissingEncrypt)?;
        let xml = crypto.decrypt(msg_signature, timestamp, nonce, encrypt)?;
        Ok(OpenedMessage {
            mode: CallbackMode::Aes,
            xml,
            replay_guard: None,
        })
    } else {
        let signature = required(&query.signature, "signature")?;
        let ts = check_timestamp(timestamp, now, config.max_skew_secs)?;
        check_signature(&plain_signature(&config.token, timestamp, nonce), signature)?;
        let xml = std::str::from_utf8(body).map_err(|_| CallbackError::NotUtf8)?;
        Ok(OpenedMessage {
            mode: CallbackMode::Plain,
            xml: xml.to_owned(),
            replay_guard: Some(ReplayGuard::new(
                ts,
                nonce,
                signature,
                body,
                config.max_skew_secs,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_round_trips_and_decodes() {
        let q = CallbackQuery::from_query_string(
            "?signature=ab&timestamp=1&nonce=n&openid=o&echostr=a%2Bb%3D+c&encrypt_type=aes",
        );
        assert_eq!(q.echostr.as_deref(), Some("a+b= c"));
        assert_eq!(q.encrypt_type.as_deref(), Some("aes"));
        assert_eq!(CallbackQuery::from_query_string(&q.to_query_string()), q);
    }

    #[test]
    fn unpad_checks_range_and_bytes() {
        assert!(unpad(&[1, 2, 3, 1]).is_ok());
        assert_eq!(unpad(&[1, 2, 0]), Err(CallbackError::BadPadding { pad: 0 }));
        assert_eq!(unpad(&[33; 64]), Err(CallbackError::BadPadding { pad: 33 }));
        assert_eq!(
            unpad(&[1, 3, 2, 3]),
            Err(CallbackError::BadPadding { pad: 3 })
        );
    }
}
