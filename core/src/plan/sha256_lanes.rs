//! SHA-256 for the `clientmsgid` digests, able to hash four independent messages at once with
//! WebAssembly SIMD.
//!
//! A million-OpenID plan hashes ~24 MB (24 bytes an OpenID, one digest per batch); in wasm the
//! scalar `sha2` crate does ~320 MB/s, the largest part of planning. The batches are
//! independent, so [`digest_many`] runs groups of four through one compression function whose
//! `i32x4` lanes are the four messages (~2.5-3× the scalar rate). The digests are plain SHA-256,
//! byte for byte what `sha2::Sha256` gives: ids are persisted by users, and a changed id would
//! make a retried batch look like a new send.
//!
//! The state is ours ([`Sha256`]: chaining value, block buffer, length) because the lanes need
//! to take over a half-hashed message at a block boundary, which `sha2` does not expose.
//! Natively every block goes through `sha2::compress256`, so the native speed is `sha2`'s (its
//! SHA-NI or AVX path included); under wasm the few blocks outside the lanes (headers, tails)
//! go through the lanes too, with one message, so `sha2`'s block function is not linked there.
//! The SIMD path exists only when compiled for `wasm32` with `simd128` (see
//! `.cargo/config.toml`); elsewhere [`digest_many`] is the scalar loop.

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use sha2::digest::generic_array::GenericArray;

const BLOCK: usize = 64;

const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A streaming SHA-256 state.
#[derive(Clone)]
pub(crate) struct Sha256 {
    h: [u32; 8],
    /// Bytes of an unfinished block; `buf_len` < 64 between calls.
    buf: [u8; BLOCK],
    buf_len: usize,
    /// Bytes hashed so far, including the buffered ones.
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

/// Compresses `blocks` (a whole number of 64-byte blocks) into `h`. With the wasm lanes this
/// only sees headers and tails (a few blocks a batch), so they go through the SIMD compression
/// with the message in lane 0 and the other lanes' work thrown away: `sha2`'s own block
/// function (~8 KB, unrolled) then is not linked into the npm package, kept under 150 KB gzip.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn compress_blocks(h: &mut [u32; 8], blocks: &[u8]) {
    let mut lanes = [*h; LANES];
    simd::compress_lanes(&mut lanes, &[blocks, &[], &[], &[]], blocks.len() / BLOCK);
    *h = lanes[0];
}

/// Compresses `blocks` (a whole number of 64-byte blocks) into `h` with `sha2`'s block function.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn compress_blocks(h: &mut [u32; 8], blocks: &[u8]) {
    // `sha2` takes blocks as `&[GenericArray]`, which safe code cannot borrow from a byte slice
    // more than one block at a time; a call a block cost ~5% of a native plan, so runs of up to
    // 16 blocks are copied into an array of them (the copy is cheaper than the calls).
    const RUN: usize = 16;
    let mut run = [GenericArray::<u8, sha2::digest::consts::U64>::default(); RUN];
    for chunk in blocks.chunks(RUN * BLOCK) {
        let mut n = 0;
        for (dst, src) in run.iter_mut().zip(chunk.chunks_exact(BLOCK)) {
            dst.copy_from_slice(src);
            n += 1;
        }
        sha2::compress256(h, run.get(..n).unwrap_or_default());
    }
}

impl Sha256 {
    pub(crate) fn new() -> Self {
        Sha256 {
            h: H0,
            buf: [0; BLOCK],
            buf_len: 0,
            len: 0,
        }
    }

    pub(crate) fn update(&mut self, data: impl AsRef<[u8]>) {
        let rest = self.fill_buffer(data.as_ref());
        let whole = rest.len() - rest.len() % BLOCK;
        let (blocks, tail) = rest.split_at(whole);
        compress_blocks(&mut self.h, blocks);
        self.buffer_tail(tail);
    }

    /// Adds the front of `data` to the buffer (compressing it when it fills) and returns the
    /// rest, which then starts on a block boundary (or is empty).
    fn fill_buffer<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.buf_len == 0 {
            return data;
        }
        let take = (BLOCK - self.buf_len).min(data.len());
        let (front, rest) = data.split_at(take);
        if let Some(dst) = self.buf.get_mut(self.buf_len..self.buf_len + take) {
            dst.copy_from_slice(front);
        }
        self.buf_len += take;
        if self.buf_len == BLOCK {
            let block = self.buf;
            compress_blocks(&mut self.h, &block);
            self.buf_len = 0;
        }
        rest
    }

    /// Buffers `tail`, what is left after the whole blocks of [`Sha256::fill_buffer`]'s rest:
    /// fewer than 64 bytes into an empty buffer, or nothing (the rest was empty because the
    /// data did not fill the buffer).
    fn buffer_tail(&mut self, tail: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.buf_len..self.buf_len + tail.len()) {
            dst.copy_from_slice(tail);
        }
        self.buf_len += tail.len();
    }

    pub(crate) fn finalize(mut self) -> [u8; 32] {
        let bit_len = self.len.wrapping_mul(8);
        let mut pad = [0u8; 2 * BLOCK];
        pad[0] = 0x80;
        // 0x80, zeros, then the 64-bit big-endian bit length, ending on a block boundary.
        let pad_len = if self.buf_len < BLOCK - 8 {
            BLOCK
        } else {
            2 * BLOCK
        } - self.buf_len;
        if let Some(end) = pad.get_mut(pad_len - 8..pad_len) {
            end.copy_from_slice(&bit_len.to_be_bytes());
        }
        self.update(pad.get(..pad_len).unwrap_or_default());
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.h) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// Messages hashed together by the lanes of [`digest_in_groups`].
const LANES: usize = 4;

/// Hashes `messages[i]` after whatever `states[i]` has already hashed, for every `i`, and
/// returns the digests in order. Both slices have the same length (extra entries of the longer
/// one are ignored). Under wasm with `simd128` this is [`digest_in_groups`]; elsewhere one
/// message after the other (`sha2`'s block function is already as fast as it gets there).
pub(crate) fn digest_many(states: &[Sha256], messages: &[&[u8]]) -> Vec<[u8; 32]> {
    if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        return digest_in_groups(states, messages);
    }
    states
        .iter()
        .zip(messages)
        .map(|(s, m)| {
            let mut s = s.clone();
            s.update(m);
            s.finalize()
        })
        .collect()
}

/// [`digest_many`] four messages at a time: each first completes its state's buffered block on
/// its own, then the lanes run as many whole blocks as all four have (the batches of one plan
/// differ by at most one OpenID, so that is nearly all of them), and each finishes its remaining
/// blocks and tail on its own. A last group of one is hashed alone; a group of two or three
/// repeats its first message in the idle lanes and drops their results.
///
/// Outside wasm SIMD the lanes are four scalar compressions, so that this bookkeeping is tested
/// natively too.
fn digest_in_groups(states: &[Sha256], messages: &[&[u8]]) -> Vec<[u8; 32]> {
    let mut out = Vec::with_capacity(states.len().min(messages.len()));
    let pairs: Vec<(&Sha256, &[u8])> = states.iter().zip(messages.iter().copied()).collect();
    for group in pairs.chunks(LANES) {
        if let [(s, m)] = group {
            let mut s = (*s).clone();
            s.update(m);
            out.push(s.finalize());
            continue;
        }
        let mut states = Vec::with_capacity(LANES);
        // Each message from the block boundary its state's buffer reaches.
        let mut rests = Vec::with_capacity(LANES);
        for (s, m) in group {
            let mut s = (*s).clone();
            rests.push(s.fill_buffer(m));
            states.push(s);
        }
        let first = rests.first().copied().unwrap_or_default();
        let lanes: [&[u8]; LANES] =
            core::array::from_fn(|j| rests.get(j).copied().unwrap_or(first));
        let shared = lanes.iter().map(|m| m.len() / BLOCK).min().unwrap_or(0);
        let mut h: [[u32; 8]; LANES] =
            core::array::from_fn(|j| states.get(j).or_else(|| states.first()).map_or(H0, |s| s.h));
        compress_lanes(&mut h, &lanes, shared);
        for ((mut s, rest), hj) in states.into_iter().zip(rests).zip(h) {
            s.h = hj;
            // The rest continues as an ordinary update (`len` already counts it).
            let rest = rest.get(shared * BLOCK..).unwrap_or_default();
            let whole = rest.len() - rest.len() % BLOCK;
            let (blocks, tail) = rest.split_at(whole);
            compress_blocks(&mut s.h, blocks);
            s.buffer_tail(tail);
            out.push(s.finalize());
        }
    }
    out
}

/// Compresses the first `count` blocks of each lane's message into its state.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn compress_lanes(h: &mut [[u32; 8]; LANES], lanes: &[&[u8]; LANES], count: usize) {
    for (hj, m) in h.iter_mut().zip(lanes) {
        compress_blocks(hj, m.get(..count * BLOCK).unwrap_or_default());
    }
}

/// Compresses the first `count` blocks of each lane's message into its state, four at once.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn compress_lanes(h: &mut [[u32; 8]; LANES], lanes: &[&[u8]; LANES], count: usize) {
    simd::compress_lanes(h, lanes, count);
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    //! The four-lane compression. The intrinsics are safe functions when `simd128` is enabled
    //! at compile time; vectors are built from scalar loads (`v128_load` is `unsafe`), and the
    //! big-endian message words are byte-swapped in the vector by one shuffle.

    use core::arch::wasm32::*;

    use super::{BLOCK, LANES};

    const K: [u32; 64] = [
        0x428a_2f98,
        0x7137_4491,
        0xb5c0_fbcf,
        0xe9b5_dba5,
        0x3956_c25b,
        0x59f1_11f1,
        0x923f_82a4,
        0xab1c_5ed5,
        0xd807_aa98,
        0x1283_5b01,
        0x2431_85be,
        0x550c_7dc3,
        0x72be_5d74,
        0x80de_b1fe,
        0x9bdc_06a7,
        0xc19b_f174,
        0xe49b_69c1,
        0xefbe_4786,
        0x0fc1_9dc6,
        0x240c_a1cc,
        0x2de9_2c6f,
        0x4a74_84aa,
        0x5cb0_a9dc,
        0x76f9_88da,
        0x983e_5152,
        0xa831_c66d,
        0xb003_27c8,
        0xbf59_7fc7,
        0xc6e0_0bf3,
        0xd5a7_9147,
        0x06ca_6351,
        0x1429_2967,
        0x27b7_0a85,
        0x2e1b_2138,
        0x4d2c_6dfc,
        0x5338_0d13,
        0x650a_7354,
        0x766a_0abb,
        0x81c2_c92e,
        0x9272_2c85,
        0xa2bf_e8a1,
        0xa81a_664b,
        0xc24b_8b70,
        0xc76c_51a3,
        0xd192_e819,
        0xd699_0624,
        0xf40e_3585,
        0x106a_a070,
        0x19a4_c116,
        0x1e37_6c08,
        0x2748_774c,
        0x34b0_bcb5,
        0x391c_0cb3,
        0x4ed8_aa4a,
        0x5b9c_ca4f,
        0x682e_6ff3,
        0x748f_82ee,
        0x78a5_636f,
        0x84c8_7814,
        0x8cc7_0208,
        0x90be_fffa,
        0xa450_6ceb,
        0xbef9_a3f7,
        0xc671_78f2,
    ];

    #[inline(always)]
    fn rotr<const N: u32, const M: u32>(x: v128) -> v128 {
        // M = 32 - N (const generic expressions are not stable).
        v128_or(u32x4_shr(x, N), u32x4_shl(x, M))
    }

    /// Word `i` of each lane's block, as a vector (lane j = block j's word, big-endian).
    #[inline(always)]
    fn word(blocks: &[&[u8; BLOCK]; LANES], i: usize) -> v128 {
        let le = |b: &[u8; BLOCK]| {
            let at = 4 * i;
            u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
        };
        let v = u32x4(le(blocks[0]), le(blocks[1]), le(blocks[2]), le(blocks[3]));
        // Little-endian loads (one `i32.load` each; wasm has no byte swap), swapped here.
        i8x16_shuffle::<3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12>(v, v)
    }

    /// One SHA-256 compression of four blocks into four states held lane-wise.
    ///
    /// Not inlined (see [`compress_lanes`]).
    #[inline(never)]
    fn compress4(s: &mut [v128; 8], blocks: &[&[u8; BLOCK]; LANES]) {
        let mut w = [u32x4_splat(0); 16];
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = word(blocks, i);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *s;
        for (t, &k) in K.iter().enumerate() {
            let wt = if t < 16 {
                w[t]
            } else {
                // The schedule kept as a ring of 16: w[t] = σ1(w[t-2]) + w[t-7] + σ0(w[t-15]) + w[t-16].
                let w15 = w[(t + 1) % 16];
                let w2 = w[(t + 14) % 16];
                let s0 = v128_xor(
                    v128_xor(rotr::<7, 25>(w15), rotr::<18, 14>(w15)),
                    u32x4_shr(w15, 3),
                );
                let s1 = v128_xor(
                    v128_xor(rotr::<17, 15>(w2), rotr::<19, 13>(w2)),
                    u32x4_shr(w2, 10),
                );
                let new = i32x4_add(i32x4_add(w[t % 16], s0), i32x4_add(w[(t + 9) % 16], s1));
                w[t % 16] = new;
                new
            };
            let big_s1 = v128_xor(
                v128_xor(rotr::<6, 26>(e), rotr::<11, 21>(e)),
                rotr::<25, 7>(e),
            );
            // Ch(e, f, g): f where e is set, else g.
            let ch = v128_bitselect(f, g, e);
            let t1 = i32x4_add(
                i32x4_add(h, big_s1),
                i32x4_add(ch, i32x4_add(u32x4_splat(k), wt)),
            );
            let big_s0 = v128_xor(
                v128_xor(rotr::<2, 30>(a), rotr::<13, 19>(a)),
                rotr::<22, 10>(a),
            );
            // Maj(a, b, c): where a and b agree, that bit; else c's.
            let maj = v128_bitselect(c, a, v128_xor(a, b));
            let t2 = i32x4_add(big_s0, maj);
            h = g;
            g = f;
            f = e;
            e = i32x4_add(d, t1);
            d = c;
            c = b;
            b = a;
            a = i32x4_add(t1, t2);
        }
        for (si, x) in s.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *si = i32x4_add(*si, x);
        }
    }

    pub(super) fn compress_lanes(h: &mut [[u32; 8]; LANES], lanes: &[&[u8]; LANES], count: usize) {
        let mut v: [v128; 8] = core::array::from_fn(|i| u32x4(h[0][i], h[1][i], h[2][i], h[3][i]));
        // V8 runs a wasm function's first calls in its baseline compiler (slow, slower still for
        // SIMD) and only later calls in optimized code; a running call never switches. So the
        // compression must stay a function called once a block: inlined into the plan (wasm-opt
        // inlines every function that has one caller) it ran unoptimized for a process's whole
        // first plan. Called through an opaque function pointer, it stays a function of its own.
        let compress4: fn(&mut [v128; 8], &[&[u8; BLOCK]; LANES]) =
            core::hint::black_box(compress4);
        for k in 0..count {
            let block = |j: usize| {
                lanes[j]
                    .get(k * BLOCK..(k + 1) * BLOCK)
                    .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
                    .unwrap_or(&[0; BLOCK])
            };
            compress4(&mut v, &[block(0), block(1), block(2), block(3)]);
        }
        for (i, vi) in v.iter().enumerate() {
            h[0][i] = u32x4_extract_lane::<0>(*vi);
            h[1][i] = u32x4_extract_lane::<1>(*vi);
            h[2][i] = u32x4_extract_lane::<2>(*vi);
            h[3][i] = u32x4_extract_lane::<3>(*vi);
        }
    }
}

/// SHA-256 of `prefixes[i]` then `messages[i]` for every `i`, through the lane path (SIMD under
/// wasm with `simd128`, four scalar lanes elsewhere), for tests that compare it with `sha2` on
/// each target.
#[doc(hidden)]
pub fn digest_pairs(prefixes: &[&[u8]], messages: &[&[u8]]) -> Vec<[u8; 32]> {
    digest_in_groups(&states_after(prefixes), messages)
}

/// A state per prefix, having hashed it.
fn states_after(prefixes: &[&[u8]]) -> Vec<Sha256> {
    prefixes
        .iter()
        .map(|p| {
            let mut s = Sha256::new();
            s.update(p);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::Digest;

    fn reference(prefix: &[u8], message: &[u8]) -> [u8; 32] {
        let mut h = sha2::Sha256::new();
        h.update(prefix);
        h.update(message);
        h.finalize().into()
    }

    #[test]
    fn known_answers() {
        let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mut s = Sha256::new();
        s.update(b"abc");
        assert_eq!(
            hex(s.finalize()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(Sha256::new().finalize()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn every_length_around_the_padding_boundaries() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            for split in [0, 1, n / 2, n.saturating_sub(1), n] {
                let split = split.min(n);
                let mut s = Sha256::new();
                s.update(&data[..split]);
                s.update(&data[split..n]);
                assert_eq!(
                    s.finalize(),
                    reference(&data[..n], &[]),
                    "n={n} split={split}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn scalar_and_lanes_equal_sha2(
            pairs in prop::collection::vec(
                (prop::collection::vec(any::<u8>(), 0..200), prop::collection::vec(any::<u8>(), 0..1000)),
                0..9,
            )
        ) {
            let prefixes: Vec<&[u8]> = pairs.iter().map(|(p, _)| p.as_slice()).collect();
            let messages: Vec<&[u8]> = pairs.iter().map(|(_, m)| m.as_slice()).collect();
            let want: Vec<[u8; 32]> = pairs.iter().map(|(p, m)| reference(p, m)).collect();
            prop_assert_eq!(digest_pairs(&prefixes, &messages), want.clone());
            let states = states_after(&prefixes);
            prop_assert_eq!(digest_many(&states, &messages), want.clone());
            let scalar: Vec<[u8; 32]> = pairs
                .iter()
                .map(|(p, m)| {
                    let mut s = Sha256::new();
                    s.update(p);
                    s.update(m);
                    s.finalize()
                })
                .collect();
            prop_assert_eq!(scalar, want);
        }
    }
}
