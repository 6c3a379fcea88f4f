//! A large OpenID list on its way into a plan, written by the facade straight into wasm memory.
//!
//! Passing the list as a `Uint8Array` cost an encode into a fresh JS buffer (29 MB for a million
//! OpenIDs, whose allocation alone can trigger a GC) and then wasm-bindgen's copy of it into
//! wasm. Instead the facade asks for an [`OpenIdBuffer`] of the exact size, writes the
//! `\n`-joined UTF-8 into it in place with `TextEncoder.encodeInto`, and hands it to `planSend`,
//! which owns it from then on: one write, no intermediate copy, no unsafe code.

use wasm_bindgen::prelude::*;

/// Bytes in wasm memory for the facade to fill (see the module docs).
#[wasm_bindgen]
pub struct OpenIdBuffer {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl OpenIdBuffer {
    /// `len` zero bytes. The facade writes exactly `len` bytes (the list's UTF-16 length plus
    /// separators, which is its UTF-8 length when it is ASCII, as OpenIDs are).
    #[wasm_bindgen(constructor)]
    pub fn new(len: usize) -> OpenIdBuffer {
        OpenIdBuffer {
            bytes: vec![0; len],
        }
    }

    /// A buffer holding a copy of `bytes`: the facade's road for a list that is not ASCII
    /// (the in-place buffer is sized for ASCII).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: Vec<u8>) -> OpenIdBuffer {
        OpenIdBuffer { bytes }
    }

    /// Where the bytes start in the module's memory. The buffer never moves (it is never
    /// resized); the facade takes a fresh view of `memory.buffer` after creating it, since any
    /// allocation may have grown (and so detached) the previous one.
    #[wasm_bindgen(getter)]
    pub fn ptr(&self) -> usize {
        self.bytes.as_ptr() as usize
    }
}

impl OpenIdBuffer {
    /// The bytes the facade wrote.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl From<Vec<u8>> for OpenIdBuffer {
    fn from(bytes: Vec<u8>) -> Self {
        OpenIdBuffer::from_bytes(bytes)
    }
}
