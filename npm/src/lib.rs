//! # wxmass-wasm — the wasm-bindgen glue of the `wxmass` npm package
//!
//! The only crate with wasm-bindgen. Every function here moves values between JS and the
//! [`wxmass`] core and nothing more: no WeChat rule, limit, field name or error code is written
//! here. The hand-written ESM facade in `npm/js/` loads the module, registers its error classes
//! ([`set_error_classes`]) and gives the camelCase API its final shape.
//!
//! Conventions at the boundary:
//! - request bodies arrive as JSON text (the facade's `JSON.stringify` of a camelCase object;
//!   core reads both the wire names and their camelCase aliases), and they, replies and callback
//!   XML come through the module's input buffer ([`text_input`]), the endpoint by its number;
//! - values leave through [`to_js`]: camelCase keys, 64-bit ids as decimal strings;
//! - failures are thrown as typed errors built in [`errors`].

use js_sys::{Array, Function, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use wxmass::endpoint::upload_img::UploadImgRequest;
use wxmass::endpoint::{
    parse_any_reply, AddMaterialRequest, AnyRequest, Endpoint, EndpointName, MediaType,
    MediaUploadRequest,
};
use wxmass::error_code::{lookup, KnownCode, CODES};
use wxmass::{ApiBase, HttpRequest};

pub mod errors;
pub mod to_js;

use errors::set;

/// Registers the facade's `WxmassError` and `ApiError` classes; every later error is constructed
/// as `new Class(message, props)`.
#[wasm_bindgen(js_name = setErrorClasses)]
pub fn set_error_classes(wxmass_error: Function, api_error: Function) {
    errors::register(wxmass_error, api_error);
}

pub(crate) fn endpoint(name: &str) -> Result<EndpointName, JsValue> {
    EndpointName::parse(name).ok_or_else(|| {
        errors::wxmass_error(
            "unknown_endpoint",
            "",
            "endpoint",
            &format!("unknown endpoint {name:?}"),
        )
    })
}

pub(crate) fn api_base(url: Option<String>) -> Result<ApiBase, JsValue> {
    match url {
        None => Ok(ApiBase::default()),
        Some(url) => ApiBase::parse(&url)
            .map_err(|e| errors::wxmass_error("api_base", "apiBase", "api_base", &e.to_string())),
    }
}

/// Every endpoint: `[{ name, path, method, mass }]` (`mass`: counts against the per-minute limit).
#[wasm_bindgen]
pub fn endpoints() -> Array {
    EndpointName::ALL
        .iter()
        .map(|e| {
            let o = Object::new();
            set(&o, "name", e.as_str());
            set(&o, "path", e.path());
            set(&o, "method", e.method().as_str());
            set(&o, "mass", e.is_mass_endpoint());
            o
        })
        .collect()
}

/// `{ method, url, host, path, contentType, body }`; `body` is a string for JSON requests and a
/// `Uint8Array` for multipart ones. With `access_token`, `url` carries it (percent-encoded).
pub(crate) fn request_object(req: &HttpRequest, access_token: Option<&str>, text: bool) -> Object {
    let o = Object::new();
    set(&o, "method", req.method.as_str());
    let url = match access_token {
        Some(t) => req.url_with_token(t),
        None => req.url(),
    };
    set(&o, "url", url);
    set(&o, "host", req.host.as_str());
    set(&o, "path", req.path.as_str());
    set(&o, "contentType", req.content_type.as_str());
    match (text, req.body_text()) {
        (true, Some(t)) => set(&o, "body", t),
        _ => set(&o, "body", Uint8Array::from(req.body.as_slice())),
    }
    o
}

/// Validates the JSON request of `endpoint` and builds it; throws a `WxmassError` (code
/// `validation`) listing every problem.
#[wasm_bindgen(js_name = buildRequest)]
pub fn build_request(
    endpoint_name: &str,
    body_json: &str,
    api_base_url: Option<String>,
    access_token: Option<String>,
) -> Result<Object, JsValue> {
    let e = endpoint(endpoint_name)?;
    let base = api_base(api_base_url)?;
    let req = AnyRequest::from_json(e, body_json.as_bytes()).map_err(|e| errors::validation(&e))?;
    let http = req.build(&base).map_err(|e| errors::validation(&e))?;
    Ok(request_object(&http, access_token.as_deref(), true))
}

/// Validates the JSON request of `endpoint` and returns only its body: the facade pairs it with
/// the method, URL and content type of an earlier [`build_request`] for the same endpoint, base
/// and token (they do not depend on the body), which saves building a JS object per call.
/// JS calls [`build_body_input`]; this form is for Rust callers (the tests).
pub fn build_body(endpoint_name: &str, body_json: &str) -> Result<String, JsValue> {
    body_of(endpoint(endpoint_name)?, body_json.as_bytes())
}

/// [`build_body`] of the endpoint numbered `endpoint_index` with the JSON the facade wrote into
/// the input buffer (see [`text_input`]).
#[wasm_bindgen(js_name = buildBodyInput)]
pub fn build_body_input(endpoint_index: usize, len: usize) -> Result<String, JsValue> {
    let e = endpoint_at(endpoint_index)?;
    with_input(len, |json| body_of(e, json))
}

fn body_of(e: EndpointName, json: &[u8]) -> Result<String, JsValue> {
    // Reading checks the rules too: an Ok request is a valid one.
    let req = AnyRequest::from_json(e, json).map_err(|e| errors::validation(&e))?;
    // JSON bodies are always UTF-8.
    String::from_utf8(req.to_body()).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Every problem of the JSON request of `endpoint`, without throwing: `null` when valid,
/// otherwise the array of problems. JS calls [`validate_request_input`].
pub fn validate_request(endpoint_name: &str, body_json: &str) -> Result<JsValue, JsValue> {
    Ok(problems_of(endpoint(endpoint_name)?, body_json.as_bytes()))
}

/// [`validate_request`] with the JSON in the input buffer (see [`text_input`]).
#[wasm_bindgen(js_name = validateRequestInput)]
pub fn validate_request_input(endpoint_index: usize, len: usize) -> Result<JsValue, JsValue> {
    let e = endpoint_at(endpoint_index)?;
    with_input(len, |json| Ok(problems_of(e, json)))
}

fn problems_of(e: EndpointName, json: &[u8]) -> JsValue {
    match AnyRequest::from_json(e, json).and_then(|r| r.validate()) {
        Ok(()) => JsValue::NULL,
        Err(e) => errors::problems(&e),
    }
}

/// Validates and builds the multipart `uploadimg` request (`body` is a `Uint8Array`).
#[wasm_bindgen(js_name = buildUploadImg)]
pub fn build_upload_img(
    filename: String,
    media: Vec<u8>,
    api_base_url: Option<String>,
    access_token: Option<String>,
) -> Result<Object, JsValue> {
    let base = api_base(api_base_url)?;
    let http = UploadImgRequest::new(filename, media)
        .build(&base)
        .map_err(|e| errors::validation(&e))?;
    Ok(request_object(&http, access_token.as_deref(), false))
}

/// Every problem of an `uploadimg` request, without throwing: `null` or the problems.
#[wasm_bindgen(js_name = validateUploadImg)]
pub fn validate_upload_img(filename: String, media: Vec<u8>) -> JsValue {
    match UploadImgRequest::new(filename, media).validate() {
        Ok(()) => JsValue::NULL,
        Err(e) => errors::problems(&e),
    }
}

/// The media type named `name` (`image`, `voice`, `video`, `thumb`), or the validation error a
/// person reads at the field `type`.
fn media_type(name: &str) -> Result<MediaType, JsValue> {
    MediaType::parse(name).ok_or_else(|| {
        let problem = wxmass::Problem::new(
            "type",
            wxmass::Rule::Type {
                expected: "one of image, voice, video, thumb",
            },
            Some(name),
        );
        errors::validation(&wxmass::ValidationError {
            problems: vec![problem],
        })
    })
}

fn media_upload(
    media_type_name: &str,
    filename: String,
    media: Vec<u8>,
    boundary: Option<String>,
) -> Result<MediaUploadRequest, JsValue> {
    let mut req = MediaUploadRequest::new(media_type(media_type_name)?, filename, media);
    req.boundary = boundary;
    Ok(req)
}

/// Validates and builds the multipart `media/upload` request (`body` is a `Uint8Array`).
#[wasm_bindgen(js_name = buildMediaUpload)]
pub fn build_media_upload(
    media_type_name: &str,
    filename: String,
    media: Vec<u8>,
    boundary: Option<String>,
    api_base_url: Option<String>,
    access_token: Option<String>,
) -> Result<Object, JsValue> {
    let base = api_base(api_base_url)?;
    let http = media_upload(media_type_name, filename, media, boundary)?
        .build(&base)
        .map_err(|e| errors::validation(&e))?;
    Ok(request_object(&http, access_token.as_deref(), false))
}

/// Every problem of a `media/upload` request, without throwing: `null` or the problems.
#[wasm_bindgen(js_name = validateMediaUpload)]
pub fn validate_media_upload(
    media_type_name: &str,
    filename: String,
    media: Vec<u8>,
    boundary: Option<String>,
) -> JsValue {
    let checked = media_upload(media_type_name, filename, media, boundary)
        .and_then(|r| r.validate().map_err(|e| errors::problems(&e)));
    match checked {
        Ok(()) => JsValue::NULL,
        Err(problems) => problems_of_error(problems),
    }
}

/// The problems array of a thrown validation error, or the array itself.
fn problems_of_error(value: JsValue) -> JsValue {
    if value.is_array() {
        return value;
    }
    js_sys::Reflect::get(&value, &JsValue::from_str("problems")).unwrap_or(value)
}

fn add_material(
    media_type_name: &str,
    filename: String,
    media: Vec<u8>,
    title: Option<String>,
    introduction: Option<String>,
    boundary: Option<String>,
) -> Result<AddMaterialRequest, JsValue> {
    let mut req = AddMaterialRequest::new(media_type(media_type_name)?, filename, media);
    if title.is_some() || introduction.is_some() {
        req = req.video(title.unwrap_or_default(), introduction.unwrap_or_default());
    }
    req.boundary = boundary;
    Ok(req)
}

/// Validates and builds the multipart `material/add_material` request (`body` is a
/// `Uint8Array`); a video carries `title` and `introduction`.
#[allow(clippy::too_many_arguments)] // one per field of the JS call, as wasm-bindgen passes them
#[wasm_bindgen(js_name = buildAddMaterial)]
pub fn build_add_material(
    media_type_name: &str,
    filename: String,
    media: Vec<u8>,
    title: Option<String>,
    introduction: Option<String>,
    boundary: Option<String>,
    api_base_url: Option<String>,
    access_token: Option<String>,
) -> Result<Object, JsValue> {
    let base = api_base(api_base_url)?;
    let http = add_material(
        media_type_name,
        filename,
        media,
        title,
        introduction,
        boundary,
    )?
    .build(&base)
    .map_err(|e| errors::validation(&e))?;
    Ok(request_object(&http, access_token.as_deref(), false))
}

/// Every problem of an `add_material` request, without throwing: `null` or the problems.
#[wasm_bindgen(js_name = validateAddMaterial)]
pub fn validate_add_material(
    media_type_name: &str,
    filename: String,
    media: Vec<u8>,
    title: Option<String>,
    introduction: Option<String>,
    boundary: Option<String>,
) -> JsValue {
    let checked = add_material(
        media_type_name,
        filename,
        media,
        title,
        introduction,
        boundary,
    )
    .and_then(|r| r.validate().map_err(|e| errors::problems(&e)));
    match checked {
        Ok(()) => JsValue::NULL,
        Err(problems) => problems_of_error(problems),
    }
}

/// Parses the reply body of `endpoint` into its typed value (camelCase, ids as strings); throws
/// an `ApiError` for `errcode != 0` and a `WxmassError` (code `malformed_reply`) otherwise.
/// JS calls [`parse_reply_input`].
pub fn parse_reply(endpoint_name: &str, body: &[u8]) -> Result<JsValue, JsValue> {
    reply_of(endpoint(endpoint_name)?, body)
}

/// [`parse_reply`] for a body already decoded as text (JS calls [`parse_reply_input`]).
pub fn parse_reply_text(endpoint_name: &str, body: &str) -> Result<JsValue, JsValue> {
    parse_reply(endpoint_name, body.as_bytes())
}

/// [`parse_reply`] of a text the facade wrote into the input buffer (see [`text_input`]).
#[wasm_bindgen(js_name = parseReplyInput)]
pub fn parse_reply_input(endpoint_index: usize, len: usize) -> Result<JsValue, JsValue> {
    let e = endpoint_at(endpoint_index)?;
    with_input(len, |body| reply_of(e, body))
}

fn reply_of(e: EndpointName, body: &[u8]) -> Result<JsValue, JsValue> {
    let reply = parse_any_reply(e, body).map_err(|e| errors::reply(&e))?;
    to_js::to_js(&reply)
}

fn known_code(k: &KnownCode) -> Object {
    let o = Object::new();
    set(&o, "code", k.code as f64);
    set(&o, "zh", k.zh);
    set(&o, "en", k.en);
    set(&o, "class", k.class.as_str());
    o
}

/// `{ code, zh, en, class }` of a WeChat error code, or `null` when core does not know it.
#[wasm_bindgen(js_name = errorInfo)]
pub fn error_info(code: f64) -> JsValue {
    if code.fract() != 0.0 || !code.is_finite() {
        return JsValue::NULL;
    }
    lookup(code as i64).map_or(JsValue::NULL, |k| known_code(k).into())
}

/// Every code core knows, sorted by code.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Array {
    CODES.iter().map(known_code).collect()
}

/// When to refresh a token received at `now_ms` that lives `expires_in` seconds (unknown:
/// never, until a token error says so).
#[wasm_bindgen(js_name = tokenRefreshAt)]
pub fn token_refresh_at(now_ms: f64, expires_in: Option<f64>) -> f64 {
    match expires_in {
        Some(secs) => {
            wxmass::endpoint::TokenReply::refresh_at_ms(now_ms as i64, secs as i64) as f64
        }
        None => f64::INFINITY,
    }
}

pub mod callback;
pub mod followers;
pub mod openid_buffer;
pub mod plan;
pub mod text_input;

use text_input::{endpoint_at, with_input};

pub use callback::MessageCrypto;
pub use followers::FollowerPager;
pub use openid_buffer::OpenIdBuffer;
pub use plan::{BatchProgress, Pacer, SendPlan};

/// For a single call (not a plan batch): after the `attempt`-th failure of class `class`
/// (`retry` errors, or `lost` for no usable answer), how long to wait before trying again (core's
/// backoff), or `undefined` when the call should not be retried (another class, or core's retry
/// limit reached).
#[wasm_bindgen(js_name = callRetryDelay)]
pub fn call_retry_delay(attempt: u32, class: &str, jitter: u32) -> Option<f64> {
    let retryable = class == wxmass::ErrorClass::Retry.as_str() || class == "lost";
    (retryable && attempt <= wxmass::limits::RETRY_MAX)
        .then(|| wxmass::plan::backoff_ms(attempt, jitter) as f64)
}
