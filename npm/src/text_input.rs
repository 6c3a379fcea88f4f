//! Text for the hot calls (building a request, parsing an event or a reply), written by the
//! facade straight into wasm memory.
//!
//! wasm-bindgen passes a `&str` by copying it into wasm one UTF-16 unit at a time in JS after a
//! `malloc` call, and frees it after: for the 160-character tag sendall of the benchmark that
//! alone took ~290 ns, about half a bare `JSON.stringify` of the body, where `encodeInto` into
//! memory that is already there takes ~60 ns. So the module keeps one input buffer: the facade
//! asks for its address once per size ([`input_buffer`]), encodes each text into it and calls
//! the `…Input` functions with the byte length. Safe Rust throughout: the buffer is an ordinary
//! `Vec` that only the facade writes between calls.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wxmass::endpoint::EndpointName;

use crate::errors;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Makes the input buffer exactly `capacity` bytes (growing it, or giving the rest back to the
/// allocator after a long text) and returns its address. It moves only on such a call; the facade
/// takes a fresh view of `memory.buffer` whenever that has changed.
#[wasm_bindgen(js_name = inputBuffer)]
pub fn input_buffer(capacity: usize) -> usize {
    INPUT.with_borrow_mut(|buffer| {
        buffer.resize(capacity, 0);
        buffer.shrink_to_fit();
        buffer.as_ptr() as usize
    })
}

/// Hands the first `len` bytes the facade wrote to `read`. (The buffer is taken out for the call
/// and put back, so this generic function holds no thread-local access of its own: each of those
/// cost ~300 bytes of wasm per caller.)
pub(crate) fn with_input<T>(
    len: usize,
    read: impl FnOnce(&[u8]) -> Result<T, JsValue>,
) -> Result<T, JsValue> {
    let buffer = INPUT.take();
    let out = match buffer.get(..len) {
        Some(text) => read(text),
        None => Err(beyond_buffer(len, buffer.len())),
    };
    INPUT.set(buffer);
    out
}

fn beyond_buffer(len: usize, capacity: usize) -> JsValue {
    errors::wxmass_error(
        "input",
        "",
        "input_length",
        &format!("{len} bytes of input, but the input buffer holds {capacity}"),
    )
}

/// The number of endpoint `name` for the `…Input` functions: its place in [`EndpointName::ALL`]
/// (the order of `endpoints()`). Throws the `unknown_endpoint` error for any other name. The
/// facade remembers the numbers, saving a string per call.
#[wasm_bindgen(js_name = endpointNumber)]
pub fn endpoint_number(name: &str) -> Result<usize, JsValue> {
    let e = crate::endpoint(name)?;
    Ok(EndpointName::ALL
        .iter()
        .position(|&x| x == e)
        .unwrap_or_default())
}

/// The endpoint numbered `index` (see [`endpoint_number`]).
pub(crate) fn endpoint_at(index: usize) -> Result<EndpointName, JsValue> {
    EndpointName::ALL.get(index).copied().ok_or_else(|| {
        errors::wxmass_error(
            "unknown_endpoint",
            "",
            "endpoint",
            &format!("no endpoint number {index}"),
        )
    })
}
