//! Typed JS errors built from core's errors.
//!
//! The JS facade registers its `WxmassError` and `ApiError` classes at load time
//! ([`crate::set_error_classes`]), so every error thrown from here is a real instance of the
//! exported classes (`instanceof` works). Without the facade (the wasm-bindgen tests), a plain
//! `Error` with the same properties and `name` is thrown.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::JsValue;
use wxmass::error_code::{ApiError, ReplyError};
use wxmass::ValidationError;

use crate::to_js::to_js;

thread_local! {
    static CLASSES: RefCell<Option<(Function, Function)>> = const { RefCell::new(None) };
}

pub fn register(wxmass_error: Function, api_error: Function) {
    CLASSES.with(|c| *c.borrow_mut() = Some((wxmass_error, api_error)));
}

/// Sets `key` on `obj`; setting a property on a fresh plain object cannot fail.
pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// `new Class(message, props)` with the registered class, or an `Error` named `name` with `props`
/// copied onto it.
fn make(api: bool, name: &str, message: &str, props: Object) -> JsValue {
    let class = CLASSES.with(|c| {
        c.borrow()
            .as_ref()
            .map(|(wx, ap)| if api { ap.clone() } else { wx.clone() })
    });
    if let Some(class) = class {
        let args = Array::of2(&JsValue::from_str(message), &props);
        if let Ok(err) = Reflect::construct(&class, &args) {
            return err;
        }
    }
    let err = js_sys::Error::new(message);
    err.set_name(name);
    let err: JsValue = err.into();
    let _ = Object::assign(&Object::from(err.clone()), &props);
    err
}

/// Every problem, as an array of core's `{ path, rule, message, value }`.
pub fn problems(e: &ValidationError) -> JsValue {
    to_js(&e.problems).unwrap_or_else(|_| Array::new().into())
}

/// Core's JSON of an error as the properties of the JS error.
fn props_of<T: serde::Serialize>(e: &T) -> Object {
    to_js(e).map_or_else(|_| Object::new(), Object::from)
}

/// A `WxmassError` with any `code`, `path` and `rule` (no problems list beyond itself).
pub fn wxmass_error(code: &str, path: &str, rule: &str, message: &str) -> JsValue {
    let props = Object::new();
    set(&props, "code", code);
    set(&props, "path", path);
    set(&props, "rule", rule);
    set(&props, "problems", Array::new());
    make(false, "WxmassError", message, props)
}

/// A `WxmassError` of code `validation`, with core's JSON of the error (`path` and `rule` of the
/// first problem, all of them in `problems`): what the worker answers in its 400s.
pub fn validation(e: &ValidationError) -> JsValue {
    make(false, "WxmassError", &e.to_string(), props_of(e))
}

/// A `WxmassError` with core's JSON of `e` as its properties.
pub fn from_core<T: serde::Serialize>(e: &T, message: &str) -> JsValue {
    make(false, "WxmassError", message, props_of(e))
}

/// An `ApiError`, with core's JSON of it: `code` (`wechat_rejected` or `wechat_busy`),
/// `errcode`, `errmsg`, `zh`, `en`, `class`, `msgId` (string or null).
pub fn api(e: &ApiError) -> JsValue {
    make(true, "ApiError", &e.to_string(), props_of(e))
}

/// A reply error: an `ApiError`, or a `WxmassError` of code `malformed_reply`.
pub fn reply(e: &ReplyError) -> JsValue {
    match e {
        ReplyError::Api(a) => api(a),
        ReplyError::Malformed { path, .. } => {
            wxmass_error("malformed_reply", path, "reply_shape", &e.to_string())
        }
    }
}
