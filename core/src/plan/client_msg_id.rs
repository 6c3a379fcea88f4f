//! The `clientmsgid` of each batch: a deterministic function of the job, the batch and what the
//! batch sends.
//!
//! WeChat answers a repeated `clientmsgid` with 45065 and the msg_id of the send that exists, so
//! a retry that reuses the id cannot deliver twice. The id must therefore be the same every time
//! the same batch is planned (a worker that crashed re-plans from the stored input and gets the
//! same ids), and different whenever what the batch sends differs (a corrected message or a
//! changed recipient list is a new send, not a duplicate to suppress).
//!
//! Format: `wxm1-<job id>-<batch index>-<16 hex>`, where the hex is the first 64 bits of
//! SHA-256 over, in order, with every variable field length-prefixed:
//!
//! 1. the tag `wxmass/plan/clientmsgid/v1`,
//! 2. the job id,
//! 3. the message's canonical body entries (`"<kind>":{…},"msgtype":…` plus
//!    `send_ignore_reprint`), exactly as the request will carry them,
//! 4. the number of batches in the plan and this batch's index,
//! 5. the recipients: `all`, `tag` + id, or `openids` + count + each OpenID in order, packed
//!    losslessly to 168 bits (28 characters × 6 bits, as three little-endian `u64`s holding
//!    characters 0..10, 10..20 and 20..28; see `recipients.rs`).
//!
//! **v2, a batch of a sealed audience** ([`super::SendPlan::for_sealed_audience`]). A job sent
//! to an audience sealed in the worker must not read a million OpenIDs again to name its
//! batches, so each batch is named by its chunk's content digest instead of its OpenIDs. Same
//! format, `wxm1-<job id>-<batch index>-<16 hex>`, where the hex is the first 64 bits of SHA-256
//! over, in order, with every variable field length-prefixed:
//!
//! 1. the tag `wxmass/plan/clientmsgid/v2-chunk`,
//! 2. the job id,
//! 3. the message's canonical body entries plus `send_ignore_reprint` (as in v1),
//! 4. the number of batches in the plan and this batch's index (as in v1),
//! 5. the tag `chunk`, the chunk's OpenID count (a little-endian `u64`) and its digest (the 32
//!    bytes of the 64 hex digits). The digest ([`super::SealedChunk::digest`]) is plain SHA-256
//!    over the chunk's OpenIDs in order, each packed to 24 bytes exactly as v1 packs them in
//!    step 5, nothing else hashed.
//!
//! A changed chunk (another digest or count) or a changed message gives another id; the same
//! inputs always give the same id. The prefix stays `wxm1` because the id's shape, which a person
//! reads in WeChat's records and which bounds its length, is unchanged; the tags in step 1 keep
//! the two derivations apart (v1 and v2 hash different byte strings from their first field on).
//!
//! The job id is written verbatim (at most [`PLAN_JOB_ID_MAX_BYTES`] bytes of visible ASCII) so
//! a person reading WeChat's records can tell which job a send belongs to; with five digits of
//! index the id is at most 64 bytes.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::audience::SendAllFilter;
use crate::limits::{
    PLAN_CLIENT_MSG_ID_DIGEST_HEX, PLAN_CLIENT_MSG_ID_PREFIX, PLAN_JOB_ID_MAX_BYTES,
};
use crate::message::MassMessage;

use super::recipients::Key;
use super::sha256_lanes::{self, Sha256};

const DOMAIN_TAG: &[u8] = b"wxmass/plan/clientmsgid/v1";
const DOMAIN_TAG_V2_CHUNK: &[u8] = b"wxmass/plan/clientmsgid/v2-chunk";

/// Whether `job_id` can name a plan: 1 to [`PLAN_JOB_ID_MAX_BYTES`] bytes of visible ASCII
/// (`!` to `~`; no spaces or control characters).
pub fn is_job_id(job_id: &str) -> bool {
    !job_id.is_empty()
        && job_id.len() <= PLAN_JOB_ID_MAX_BYTES
        && job_id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The message entries exactly as a send body carries them.
struct MessageEntries<'a> {
    message: &'a MassMessage,
    send_ignore_reprint: Option<bool>,
}

impl Serialize for MessageEntries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.message.serialize_entries(&mut m)?;
        crate::endpoint::send_all::serialize_send_options(&mut m, self.send_ignore_reprint, None)?;
        m.end()
    }
}

/// The hash state shared by every batch of one plan (job id, message, batch count), so that
/// each batch only hashes its own index and recipients.
#[derive(Clone)]
pub(crate) struct PlanDigest {
    prefix: Sha256,
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

impl PlanDigest {
    pub(crate) fn new(
        job_id: &str,
        message: &MassMessage,
        send_ignore_reprint: Option<bool>,
        batch_count: usize,
    ) -> Self {
        PlanDigest::tagged(
            DOMAIN_TAG,
            job_id,
            message,
            send_ignore_reprint,
            batch_count,
        )
    }

    /// Steps 1 to 4 of either derivation, under `tag`.
    fn tagged(
        tag: &[u8],
        job_id: &str,
        message: &MassMessage,
        send_ignore_reprint: Option<bool>,
        batch_count: usize,
    ) -> Self {
        let mut h = Sha256::new();
        put(&mut h, tag);
        put(&mut h, job_id.as_bytes());
        // Cannot fail: string keys only, and no Serialize impl here returns an error.
        let body = serde_json::to_vec(&MessageEntries {
            message,
            send_ignore_reprint,
        })
        .unwrap_or_default();
        put(&mut h, &body);
        h.update((batch_count as u64).to_le_bytes());
        PlanDigest { prefix: h }
    }

    fn batch_hasher(&self, index: usize) -> Sha256 {
        let mut h = self.prefix.clone();
        h.update((index as u64).to_le_bytes());
        h
    }

    /// The id of a `sendall` batch.
    pub(crate) fn for_filter(&self, job_id: &str, index: usize, filter: SendAllFilter) -> String {
        let mut h = self.batch_hasher(index);
        match filter {
            SendAllFilter::Everyone => put(&mut h, b"all"),
            SendAllFilter::Tag(id) => {
                put(&mut h, b"tag");
                h.update(id.to_le_bytes());
            }
        }
        format_id(job_id, index, h.finalize())
    }

    /// The ids of the `mass/send` batches `batches` (index, that batch's packed OpenIDs), in
    /// order. All of a plan's batches in one call, so that their digests can share the SIMD
    /// lanes (see `sha256_lanes`); what each digest covers is unchanged.
    pub(crate) fn for_openid_batches<'k>(
        &self,
        job_id: &str,
        batches: impl ExactSizeIterator<Item = (usize, &'k [Key])>,
    ) -> Vec<String> {
        let batches: Vec<(usize, &[Key])> = batches.collect();
        let digests = digest_keys(batches.iter().map(|&(index, keys)| {
            let mut h = self.batch_hasher(index);
            put(&mut h, b"openids");
            h.update((keys.len() as u64).to_le_bytes());
            (h, keys)
        }));
        batches
            .iter()
            .zip(digests)
            .map(|(&(index, _), digest)| format_id(job_id, index, digest))
            .collect()
    }
}

/// The hash state shared by every batch of one plan of a sealed audience (v2 steps 1 to 4).
#[derive(Clone)]
pub(crate) struct ChunkPlanDigest(PlanDigest);

impl ChunkPlanDigest {
    pub(crate) fn new(
        job_id: &str,
        message: &MassMessage,
        send_ignore_reprint: Option<bool>,
        batch_count: usize,
    ) -> Self {
        ChunkPlanDigest(PlanDigest::tagged(
            DOMAIN_TAG_V2_CHUNK,
            job_id,
            message,
            send_ignore_reprint,
            batch_count,
        ))
    }

    /// The id of batch `index`, whose chunk holds `count` OpenIDs with content digest `digest`.
    pub(crate) fn for_chunk(
        &self,
        job_id: &str,
        index: usize,
        count: usize,
        digest: &[u8; 32],
    ) -> String {
        let mut h = self.0.batch_hasher(index);
        put(&mut h, b"chunk");
        h.update((count as u64).to_le_bytes());
        h.update(digest);
        format_id(job_id, index, h.finalize())
    }
}

/// SHA-256 over each key list after its state, in order: the lists packed a group as wide as
/// the SIMD lanes at a time into one reused buffer (packing a whole plan at once would grow the
/// wasm memory by 24 bytes an OpenID for good). Without the lanes, one list at a time (a 240 KB
/// buffer stays in cache between packing and hashing).
fn digest_keys<'k>(lists: impl Iterator<Item = (Sha256, &'k [Key])>) -> Vec<[u8; 32]> {
    const GROUP: usize = if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        4
    } else {
        1
    };
    let lists: Vec<(Sha256, &[Key])> = lists.collect();
    let mut out = Vec::with_capacity(lists.len());
    let mut bytes = Vec::new();
    // An opaque function pointer, so that wasm-opt cannot inline it (see `write_keys`).
    let write_keys: fn(&mut [u8], &[Key]) = std::hint::black_box(write_keys);
    for group in lists.chunks(GROUP) {
        bytes.clear();
        bytes.resize(group.iter().map(|(_, k)| k.len() * 24).sum(), 0);
        let mut at = 0;
        let mut ends = Vec::with_capacity(GROUP);
        for (_, keys) in group {
            write_keys(
                bytes.get_mut(at..at + keys.len() * 24).unwrap_or_default(),
                keys,
            );
            at += keys.len() * 24;
            ends.push(at);
        }
        let mut start = 0;
        let messages: Vec<&[u8]> = ends
            .iter()
            .map(|&end| {
                let m = bytes.get(start..end).unwrap_or_default();
                start = end;
                m
            })
            .collect();
        let states: Vec<Sha256> = group.iter().map(|(h, _)| h.clone()).collect();
        out.extend(sha256_lanes::digest_many(&states, &messages));
    }
    out
}

/// The content digest of each chunk (v2 step 5): plain SHA-256 over its packed OpenIDs.
pub(crate) fn chunk_digests<'k>(chunks: impl Iterator<Item = &'k [Key]>) -> Vec<[u8; 32]> {
    digest_keys(chunks.map(|keys| (Sha256::new(), keys)))
}

/// A digest as the 64 lowercase hex digits a [`super::SealedChunk`] carries.
pub(crate) fn chunk_digest_hex(digest: &[u8; 32]) -> String {
    hex(digest)
}

/// The 32 bytes of a chunk digest written as 64 lowercase hex digits; `None` for anything else
/// (upper case too: one chunk must have one spelling, or one chunk could get two ids).
pub(crate) fn parse_chunk_digest(text: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = (pair.first().copied()?, pair.get(1).copied()?);
        *o = (nibble(hi)? << 4) | nibble(lo)?;
    }
    Some(out)
}

/// Writes `keys` into `out` (24 bytes a key). The byte order is fixed (little-endian), so ids do
/// not depend on the host. Written into a zeroed buffer as `[u8; 8]` values: one 8-byte store a
/// word, where `extend_from_slice` or `copy_from_slice` per word cost a call each in wasm (20-30
/// ms of a million-entry plan). A function called once a batch, not inlined: V8 runs a wasm
/// function's first calls in baseline code and only later calls optimized (a running call never
/// switches), so a loop over the whole plan inside the one planning call would run unoptimized
/// throughout a process's first plan. wasm-opt inlines every function with a single caller
/// whatever `#[inline(never)]` says, hence the caller's opaque function pointer.
#[inline(never)]
fn write_keys(out: &mut [u8], keys: &[Key]) {
    for (out, word) in out.chunks_exact_mut(8).zip(keys.iter().flatten()) {
        if let Ok(out) = <&mut [u8; 8]>::try_from(out) {
            *out = word.to_le_bytes();
        }
    }
}

fn format_id(job_id: &str, index: usize, digest: [u8; 32]) -> String {
    let hex = hex(digest
        .get(..PLAN_CLIENT_MSG_ID_DIGEST_HEX / 2)
        .unwrap_or_default());
    format!("{PLAN_CLIENT_MSG_ID_PREFIX}-{job_id}-{index}-{hex}")
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{CLIENT_MSG_ID_MAX_BYTES, PLAN_MAX_BATCHES};
    use crate::validate::is_client_msg_id;

    #[test]
    fn longest_id_fits_in_64_bytes() {
        let job = "j".repeat(PLAN_JOB_ID_MAX_BYTES);
        let d = PlanDigest::new(&job, &MassMessage::text("hi"), Some(true), PLAN_MAX_BATCHES);
        let id = d.for_filter(&job, PLAN_MAX_BATCHES - 1, SendAllFilter::Everyone);
        assert_eq!(id.len(), CLIENT_MSG_ID_MAX_BYTES);
        assert!(is_client_msg_id(&id), "{id}");
    }

    #[test]
    fn job_id_shape() {
        assert!(is_job_id("2024-06-01/newsletter"));
        assert!(is_job_id("5f0c8e4e-2a8b-4c1e-9a55-1c7f0e6b9d11"));
        assert!(!is_job_id(""));
        assert!(!is_job_id("has space"));
        assert!(!is_job_id("群发"));
        assert!(!is_job_id(&"x".repeat(PLAN_JOB_ID_MAX_BYTES + 1)));
    }

    #[test]
    fn tag_and_everyone_differ() {
        let d = PlanDigest::new("job", &MassMessage::text("hi"), None, 1);
        let all = d.for_filter("job", 0, SendAllFilter::Everyone);
        let tag = d.for_filter("job", 0, SendAllFilter::Tag(2));
        assert_ne!(all, tag);
        assert!(all.starts_with("wxm1-job-0-"));
    }

    #[test]
    fn send_ignore_reprint_is_part_of_the_content() {
        let m = MassMessage::mpnews("MEDIA");
        let a = PlanDigest::new("job", &m, None, 1).for_filter("job", 0, SendAllFilter::Tag(1));
        let b =
            PlanDigest::new("job", &m, Some(true), 1).for_filter("job", 0, SendAllFilter::Tag(1));
        assert_ne!(a, b);
    }
}
