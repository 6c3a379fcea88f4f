//! An OpenID list made into recipients: validated, deduplicated in first-seen order, in one
//! pass that a million-entry list gets through in tens of milliseconds.
//!
//! A valid OpenID is 28 characters from a 64-symbol alphabet, so it packs losslessly into 168
//! bits ([`Key`]): validation and packing are one table lookup per byte, the duplicate check
//! compares integers instead of heap strings, and the batch digests read the packed keys from
//! one contiguous array. Duplicates are found per hash partition, each small enough to stay in
//! the CPU cache (see [`dedupe`]). The hash is keyed by the caller's seed or std's per-process
//! random `RandomState`, so a crafted list cannot force collisions; that randomness only decides
//! where an entry is filed, never what the plan contains, so planning stays deterministic.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::limits::OPENID_LEN;

/// A valid OpenID packed at 6 bits a character: characters 0..10, 10..20 and 20..28.
pub(crate) type Key = [u64; 3];

const INVALID: u8 = 0xFF;

/// Byte → 6-bit symbol for `[A-Za-z0-9_-]`, [`INVALID`] for every other byte.
const SYMBOL: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// 6-bit symbol → byte: the inverse of [`SYMBOL`] on valid bytes.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Characters per word of a [`Key`]: 10 + 10 + 8 = [`OPENID_LEN`].
const WORD_CHARS: usize = 10;

/// Packs `s` if it is an OpenID (the same rule as [`crate::validate::is_openid`]).
pub(crate) fn pack(s: &str) -> Option<Key> {
    pack_bytes(s.as_bytes())
}

/// [`pack`] of raw bytes: the audience sealer reads text pieces that may end inside an OpenID,
/// so it holds a partial one as bytes.
pub(crate) fn pack_bytes(b: &[u8]) -> Option<Key> {
    if b.len() != OPENID_LEN {
        return None;
    }
    let mut key = [0u64; 3];
    let mut bad = 0u8;
    for (word, chunk) in key.iter_mut().zip(b.chunks(WORD_CHARS)) {
        for &byte in chunk {
            let v = SYMBOL[usize::from(byte)];
            bad |= v & 0xC0;
            *word = (*word << 6) | u64::from(v & 0x3F);
        }
    }
    (bad == 0).then_some(key)
}

/// The OpenID packed as `key` (the inverse of [`pack`]). A plan stores its recipients as keys,
/// 24 bytes each in one array, instead of a heap string per OpenID; the strings are only made
/// again for the batch being sent.
pub(crate) fn unpack(key: &Key) -> String {
    let mut s = String::with_capacity(OPENID_LEN);
    push_unpacked(&mut s, key);
    s
}

/// Appends the OpenID packed as `key` to `out` (a sealed chunk's text is written this way, with
/// no string per OpenID).
pub(crate) fn push_unpacked(out: &mut String, key: &Key) {
    // Into bytes first, then one `push_str`: a `push` per character checks capacity and
    // encodes UTF-8 28 times, which is most of writing a sealed audience's 28 MB of text.
    let mut bytes = [0u8; OPENID_LEN];
    let mut at = bytes.iter_mut();
    for (i, &word) in key.iter().enumerate() {
        let chars = (OPENID_LEN - i * WORD_CHARS).min(WORD_CHARS);
        for c in (0..chars).rev() {
            let symbol = (word >> (6 * c)) & 0x3F;
            if let Some(b) = at.next() {
                *b = ALPHABET[symbol as usize];
            }
        }
    }
    // Always ASCII: every byte comes from the alphabet.
    out.push_str(std::str::from_utf8(&bytes).unwrap_or_default());
}

/// What [`dedupe`] found.
pub(crate) struct Deduped {
    /// The kept OpenIDs' keys, in first-seen order.
    pub keys: Vec<Key>,
    /// Positions of the first invalid entries (at most `shown_max`).
    pub invalid_positions: Vec<usize>,
    /// Invalid entries.
    pub invalid_count: usize,
    /// Repeats of an earlier valid entry.
    pub duplicates: usize,
}

/// One valid entry, filed in a partition by its hash. 8 bytes: a million entries are touched
/// twice, and on a process's first plan every fresh page of wasm memory costs a fault.
#[derive(Clone, Copy)]
struct Entry {
    /// The hash's low bits (the partition is chosen by its top bits): the slot in the
    /// partition's table, and a quick inequality check before the keys are compared.
    hash: u32,
    /// Position among the valid entries (index into the packed keys).
    ordinal: u32,
}

/// A keyed 64-bit hash of a packed OpenID (folded multiplies, as in foldhash). The keys come
/// from the caller's seed (see [`crate::plan::PlanOptions::hash_seed`]) or std's per-process
/// random `RandomState`, so a crafted list cannot aim for collisions.
pub(crate) struct KeyHasher([u64; 3]);

impl KeyHasher {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        match seed {
            // splitmix64: three well-mixed keys from one seed.
            Some(seed) => {
                let mut state = seed;
                let mut next = || {
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^ (z >> 31)
                };
                KeyHasher([next(), next(), next()])
            }
            None => {
                let rs = RandomState::new();
                KeyHasher([rs.hash_one(1u8), rs.hash_one(2u8), rs.hash_one(3u8)])
            }
        }
    }

    pub(crate) fn hash(&self, k: &Key) -> u64 {
        fn fold(a: u64, b: u64) -> u64 {
            let p = u128::from(a) * u128::from(b);
            (p as u64) ^ ((p >> 64) as u64)
        }
        let [s0, s1, s2] = self.0;
        fold(fold(k[0] ^ s0, k[1] ^ s1) ^ k[2], s2 | 1)
    }
}

/// Entries a partition aims at: its dedupe table and entries then stay in the CPU's cache.
const PARTITION_TARGET: usize = 4_096;

/// Entries per call of [`file_chunk`] and [`compact_chunk`].
///
/// V8 runs a wasm function in baseline code until it has run enough to be optimized, and a
/// call that is running never switches to the optimized code (there is no on-stack
/// replacement for wasm). A loop over a whole million-entry list in one call therefore runs
/// unoptimized on the first plan of a process; in chunks, the later calls get optimized code.
const CHUNK: usize = 16_384;

/// Validates and deduplicates `ids`, keeping the first occurrence of each OpenID.
///
/// A single hash table over a million entries costs a cache miss per entry (most of the time
/// of a naive plan). Instead the valid entries are filed by hash into partitions small enough
/// to stay in cache, in input order, and each partition is deduplicated on its own: the first
/// entry of a key in its partition is its first occurrence in the list.
pub(crate) fn dedupe(ids: &[&str], shown_max: usize, seed: Option<u64>) -> Deduped {
    let n = ids.len();
    let mut out = Deduped {
        keys: Vec::with_capacity(n),
        invalid_positions: Vec::new(),
        invalid_count: 0,
        duplicates: 0,
    };
    let hasher = KeyHasher::new(seed);
    let mut parts = partitions_for(n);

    // The passes run as repeated calls so V8 can tier them up during a process's first plan
    // (it runs a wasm function's first calls in baseline code and never switches a running
    // call). Through opaque function pointers: wasm-opt inlines every function with a single
    // caller whatever `#[inline(never)]` says, which had put all three back into one call.
    let file_chunk: FileChunk = std::hint::black_box(file_chunk);

    // Pass 1 (input order): validate, pack, file by the hash's top bits.
    for (i, chunk) in ids.chunks(CHUNK).enumerate() {
        file_chunk(chunk, i * CHUNK, &hasher, &mut parts, &mut out, shown_max);
    }
    out.duplicates = keep_first(parts, &mut out.keys);
    out
}

/// Drops every repeat from `keys`, an OpenID list already packed (the audience sealer's), keeping
/// the first occurrence of each in order, and returns how many were dropped: [`dedupe`] without
/// its validation, filing the packed keys by hash in a pass of their own.
pub(crate) fn dedupe_packed(keys: &mut Vec<Key>, hasher: &KeyHasher) -> usize {
    let mut parts = partitions_for(keys.len());
    let file_keys: FileKeys = std::hint::black_box(file_keys);
    for (i, chunk) in keys.chunks(CHUNK).enumerate() {
        file_keys(chunk, i * CHUNK, hasher, &mut parts);
    }
    keep_first(parts, keys)
}

/// Empty partitions for `n` entries: a power of two of them, each aiming at
/// [`PARTITION_TARGET`] entries.
fn partitions_for(n: usize) -> Vec<Vec<Entry>> {
    let partitions = (n / PARTITION_TARGET).clamp(1, 1 << 10).next_power_of_two();
    let expected = n / partitions;
    (0..partitions)
        .map(|_| Vec::with_capacity(expected + expected / 8 + 16))
        .collect()
}

/// Passes 2 and 3 of [`dedupe`]: given `keys` filed in `parts`, keeps the first occurrence of
/// each key in order and returns how many repeats were dropped.
fn keep_first(parts: Vec<Vec<Entry>>, keys: &mut Vec<Key>) -> usize {
    let dedupe_partition: DedupePartition = std::hint::black_box(dedupe_partition);
    let compact_chunk: CompactChunk = std::hint::black_box(compact_chunk);

    // Pass 2 (per partition): the first entry of each key is kept.
    let mut duplicates = 0;
    let mut kept = vec![false; keys.len()];
    let mut slots: Vec<u32> = Vec::new();
    for part in &parts {
        duplicates += dedupe_partition(part, keys, &mut kept, &mut slots);
    }
    drop(parts);

    // Pass 3 (input order): keep the keys of the first occurrences.
    let mut len = 0;
    for (i, flags) in kept.chunks(CHUNK).enumerate() {
        len = compact_chunk(keys, i * CHUNK, flags, len);
    }
    keys.truncate(len);
    duplicates
}

type FileChunk = fn(&[&str], usize, &KeyHasher, &mut [Vec<Entry>], &mut Deduped, usize);
type FileKeys = fn(&[Key], usize, &KeyHasher, &mut [Vec<Entry>]);
type DedupePartition = fn(&[Entry], &[Key], &mut [bool], &mut Vec<u32>) -> usize;
type CompactChunk = fn(&mut [Key], usize, &[bool], usize) -> usize;

/// Pass 1 of [`dedupe`] over `chunk`, the entries from position `first` on: invalid ones are
/// counted, valid ones packed into `out.keys` and filed in `parts` by their hash's top bits.
#[inline(never)]
fn file_chunk(
    chunk: &[&str],
    first: usize,
    hasher: &KeyHasher,
    parts: &mut [Vec<Entry>],
    out: &mut Deduped,
    shown_max: usize,
) {
    // With one partition the shift is 64: `checked_shr` gives partition 0.
    let shift = 64 - parts.len().trailing_zeros();
    for (i, id) in chunk.iter().enumerate() {
        let Some(key) = pack(id) else {
            if out.invalid_positions.len() < shown_max {
                out.invalid_positions.push(first + i);
            }
            out.invalid_count += 1;
            continue;
        };
        let hash = hasher.hash(&key);
        let part = hash.checked_shr(shift).unwrap_or(0) as usize;
        if let Some(p) = parts.get_mut(part) {
            p.push(Entry {
                hash: hash as u32,
                // A list of more than 4 billion entries would not fit in memory.
                ordinal: out.keys.len() as u32,
            });
        }
        out.keys.push(key);
    }
}

/// Pass 1 of [`dedupe_packed`] over `chunk`, the keys from position `first` on: each filed in
/// `parts` by its hash's top bits.
#[inline(never)]
fn file_keys(chunk: &[Key], first: usize, hasher: &KeyHasher, parts: &mut [Vec<Entry>]) {
    // With one partition the shift is 64: `checked_shr` gives partition 0.
    let shift = 64 - parts.len().trailing_zeros();
    for (i, key) in chunk.iter().enumerate() {
        let hash = hasher.hash(key);
        let part = hash.checked_shr(shift).unwrap_or(0) as usize;
        if let Some(p) = parts.get_mut(part) {
            p.push(Entry {
                hash: hash as u32,
                // A list of more than 4 billion entries would not fit in memory.
                ordinal: (first + i) as u32,
            });
        }
    }
}

/// Pass 2 of [`dedupe`] over one partition: marks the first entry of each key in `kept`
/// (indexed by ordinal) and returns how many entries repeat an earlier one. `slots` is
/// scratch, reused between partitions.
#[inline(never)]
fn dedupe_partition(
    part: &[Entry],
    keys: &[Key],
    kept: &mut [bool],
    slots: &mut Vec<u32>,
) -> usize {
    let len = (part.len() * 2).max(16).next_power_of_two();
    let mask = len - 1;
    slots.clear();
    slots.resize(len, 0);
    let mut duplicates = 0;
    for (i, e) in part.iter().enumerate() {
        let mut slot = e.hash as usize & mask;
        loop {
            match slots.get(slot).copied() {
                Some(0) | None => {
                    if let Some(s) = slots.get_mut(slot) {
                        *s = i as u32 + 1;
                    }
                    if let Some(k) = kept.get_mut(e.ordinal as usize) {
                        *k = true;
                    }
                    break;
                }
                Some(taken) => {
                    let same = part.get(taken as usize - 1).is_some_and(|other| {
                        other.hash == e.hash
                            && keys.get(other.ordinal as usize) == keys.get(e.ordinal as usize)
                    });
                    if same {
                        duplicates += 1;
                        break;
                    }
                    slot = (slot + 1) & mask;
                }
            }
        }
    }
    duplicates
}

/// Pass 3 of [`dedupe`] over the keys from `first` on, whose `kept` flags are `flags`: moves
/// the kept ones down to `len` onwards, in order, and returns the new length.
#[inline(never)]
fn compact_chunk(keys: &mut [Key], first: usize, flags: &[bool], mut len: usize) -> usize {
    for (i, &keep) in flags.iter().enumerate() {
        if keep {
            if let Some(&key) = keys.get(first + i) {
                if let Some(slot) = keys.get_mut(len) {
                    *slot = key;
                }
            }
            len += 1;
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::is_openid;

    #[test]
    fn packing_agrees_with_is_openid_and_is_lossless() {
        let samples = [
            "oR5Gjjl_eiZoUpGozMo7dbBJ362A",
            "oR5Gjjl_eiZoUpGozMo7dbBJ362B",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "____________________________",
            "--------------------------a-",
            "oR5Gjjl_eiZoUpGozMo7dbBJ362!",
            "oR5Gjjl_eiZoUpGozMo7dbBJ362",
            "oR5Gjjl_eiZoUpGozMo7dbBJ362AA",
            "oR5Gjjl_eiZoUpGozMo7dbBJ36群",
            "",
        ];
        let mut keys = Vec::new();
        for s in samples {
            assert_eq!(pack(s).is_some(), is_openid(s), "{s:?}");
            if let Some(k) = pack(s) {
                assert_eq!(unpack(&k), s);
            }
            keys.extend(pack(s));
        }
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
        for b in 0..=255u8 {
            let s = format!("{}{}", "a".repeat(27), char::from(b));
            if s.len() == 28 {
                assert_eq!(pack(&s).is_some(), is_openid(&s), "{b}");
            }
        }
    }

    #[test]
    fn keeps_first_occurrences_and_counts_the_rest() {
        let a = "oR5Gjjl_eiZoUpGozMo7dbBJ362A";
        let b = "oR5Gjjl_eiZoUpGozMo7dbBJ362B";
        let d = dedupe(&[a, "bad", b, a, b, "x", a], 1, None);
        assert_eq!(d.keys, [pack(a), pack(b)].map(Option::unwrap));
        assert_eq!(d.duplicates, 3);
        assert_eq!(d.invalid_count, 2);
        assert_eq!(d.invalid_positions, [1]);
    }

    #[test]
    fn packed_keys_keep_first_occurrences_as_a_list_does() {
        let ids: Vec<String> = (0..20_000u32)
            .map(|i| format!("oR5Gjjl_eiZoUpGozMo7{:08}", (i * 7) % 15_000))
            .collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let from_list = dedupe(&refs, 0, Some(5));
        let mut keys: Vec<Key> = refs.iter().filter_map(|s| pack(s)).collect();
        let dropped = dedupe_packed(&mut keys, &KeyHasher::new(Some(9)));
        assert_eq!(keys, from_list.keys);
        assert_eq!((dropped, from_list.duplicates), (5_000, 5_000));
    }

    proptest::proptest! {
        #[test]
        fn unpack_inverts_pack(s in "[A-Za-z0-9_-]{28}") {
            let key = pack(&s);
            proptest::prop_assert!(key.is_some());
            proptest::prop_assert_eq!(key.map(|k| unpack(&k)), Some(s));
        }
    }
}
