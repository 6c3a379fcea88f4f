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

/// Why the buffer's entries cannot be read.
#[derive(Debug)]
pub enum EntriesError {
    /// The bytes are not UTF-8.
    Utf8(std::str::Utf8Error),
    /// More lines than the facade counted entries: an entry holds a line break (it must not
    /// split into two OpenIDs).
    LineBreak,
}

impl std::fmt::Display for EntriesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntriesError::Utf8(e) => e.fmt(f),
            EntriesError::LineBreak => f.write_str("an entry holds a line break"),
        }
    }
}

impl OpenIdBuffer {
    /// The `\n`-separated entries, borrowed from the buffer, checked to be the `count` the
    /// facade joined (an empty buffer holds one empty entry, unless `count` is 0).
    pub fn entries(&self, count: usize) -> Result<Vec<&str>, EntriesError> {
        let text = std::str::from_utf8(&self.bytes).map_err(EntriesError::Utf8)?;
        if text.is_empty() && count == 0 {
            return Ok(Vec::new());
        }
        // `count` comes from JS: no more room than the bytes can hold entries.
        let mut entries = Vec::with_capacity(count.min(text.len() + 1));
        let bytes = text.as_bytes();
        let mut start = 0;
        loop {
            let end = next_newline(bytes, start).unwrap_or(bytes.len());
            // `\n` is ASCII, so both ends are char boundaries and `get` always succeeds.
            entries.push(text.get(start..end).unwrap_or_default());
            if end >= bytes.len() {
                break;
            }
            start = end + 1;
        }
        if entries.len() != count {
            return Err(EntriesError::LineBreak);
        }
        Ok(entries)
    }
}

/// The position of the first `\n` at or after `start`.
///
/// Almost every entry is a 28-byte OpenID, so that shape is tried first: a line break (or the
/// end) at `start + 28` and none in the 28 bytes before it, checked 8 bytes at a time (the last
/// word overlaps the third). `str::split`'s search, made for long haystacks, spent more time
/// per entry than the rest of reading the list in wasm.
fn next_newline(bytes: &[u8], start: usize) -> Option<usize> {
    const OPENID: usize = 28;
    let end = start + OPENID;
    if let Some(entry) = bytes.get(start..end) {
        if matches!(bytes.get(end), Some(b'\n') | None) {
            let word = |at: usize| {
                entry
                    .get(at..at + 8)
                    .and_then(|w| <[u8; 8]>::try_from(w).ok())
                    .map_or(true, |w| has_newline(u64::from_le_bytes(w)))
            };
            if !(word(0) || word(8) || word(16) || word(20)) {
                return Some(end);
            }
        }
    }
    bytes
        .get(start..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| start + i)
}

/// Whether any byte of `w` is `\n` (the classic zero-byte test on `w ^ 0x0A0A…`).
fn has_newline(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let x = w ^ (LO * u64::from(b'\n'));
    x.wrapping_sub(LO) & !x & HI != 0
}
