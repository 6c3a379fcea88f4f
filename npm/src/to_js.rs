//! Core values to JS values.
//!
//! Core's `Serialize` already writes the JS model (camelCase keys, 64-bit ids as decimal
//! strings; see the npm README's "Output model"), the same JSON the worker's admin API answers.
//! The value crosses as JSON text handed to `JSON.parse` in one call, which V8 turns into objects
//! faster than building them property by property across the wasm boundary.

use serde::Serialize;
use wasm_bindgen::JsValue;

/// `value` as a JS value.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(|e| JsValue::from_str(&e.to_string()))?;
    js_sys::JSON::parse(&text)
}
