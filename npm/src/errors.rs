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
use wxmass::{Problem, ValidationError};

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

fn opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
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

/// One problem as `{ path, rule, message, zh, value }` (`message` in English, `zh` in Chinese).
pub fn problem(p: &Problem) -> Object {
    let o = Object::new();
    set(&o, "path", p.path.as_str());
    set(&o, "rule", p.rule.code());
    set(&o, "message", p.to_string());
    set(&o, "zh", p.zh());
    set(&o, "value", opt_str(p.value.as_deref()));
    o
}

/// Every problem, as an array.
pub fn problems(e: &ValidationError) -> Array {
    e.problems.iter().map(problem).collect()
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

/// A `WxmassError` of code `validation`: `path` and `rule` of the first problem, all problems
/// in `problems`.
pub fn validation(e: &ValidationError) -> JsValue {
    let props = Object::new();
    let first = e.problems.first();
    set(&props, "code", "validation");
    set(&props, "path", first.map_or("", |p| p.path.as_str()));
    set(&props, "rule", first.map_or("", |p| p.rule.code()));
    set(&props, "problems", problems(e));
    make(false, "WxmassError", &e.to_string(), props)
}

/// An `ApiError`: `code` (errcode), `errmsg`, `zh`, `en`, `class`, `msgId` (string or null).
pub fn api(e: &ApiError) -> JsValue {
    let props = Object::new();
    set(&props, "code", e.code as f64);
    set(&props, "errmsg", e.server_message.as_str());
    set(&props, "zh", opt_str(e.known.map(|k| k.zh)));
    set(&props, "en", opt_str(e.known.map(|k| k.en)));
    set(&props, "class", e.class().as_str());
    set(
        &props,
        "msgId",
        opt_str(e.msg_id.map(|id| id.to_string()).as_deref()),
    );
    make(true, "ApiError", &e.to_string(), props)
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
