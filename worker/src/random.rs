//! Random bytes from the runtime (`crypto.getRandomValues`): retry jitter, ids, nonces.

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // It does not fail in Workers; a failure would leave zeros, which only weakens jitter.
    let _ = getrandom::getrandom(&mut b);
    b
}

/// `N` random bytes in lower-case hex.
pub fn hex<const N: usize>() -> String {
    bytes::<N>().iter().map(|b| format!("{b:02x}")).collect()
}
