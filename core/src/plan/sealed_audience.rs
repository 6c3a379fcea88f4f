//! An audience too large for one request: uploaded in parts, sealed into chunks once, and sent to
//! by jobs that never read its million OpenIDs again.
//!
//! The worker takes an admin body of at most 4 MiB (~130,000 OpenIDs) and runs in an isolate of
//! 128 MB, so a list of 1,000,000 followers arrives as parts:
//!
//! 1. [`read_audience_part`] reads each part (a JSON array of strings, or one OpenID a line),
//!    counts its entries and reports its invalid ones at their position in the *whole* audience;
//!    it keeps the valid ones as one `\n`-joined text, duplicates included.
//! 2. An [`AudienceSealer`] takes the parts' valid text in part order and drops every repeat of
//!    an OpenID already seen (exactly: the first occurrence is kept, a repeat is only ever
//!    dropped after a full comparison), then [`AudienceSealer::finish`] cuts the unique list into
//!    the same balanced chunks that [`SendPlan::for_openids`] cuts it into batches (⌈N/10,000⌉,
//!    sizes as equal as possible): chunk *i* is batch *i* of any job sent to the audience. Each
//!    chunk carries the SHA-256 of its OpenIDs ([`SealedChunk::digest`]).
//! 3. [`SendPlan::for_sealed_audience`] plans a job from the chunks' counts and digests alone
//!    ([`ChunkRef`]); each batch's `clientmsgid` is derived from its chunk's digest (v2 in
//!    [`super::client_msg_id`]), so a changed chunk or message is a new send and the same one is
//!    always the same send.
//! 4. At send time the caller reads one chunk and builds its body with
//!    [`crate::endpoint::SendToUsersRequest`]: the chunk's OpenIDs, the plan's message and
//!    `send_ignore_reprint`, and the batch's `clientmsgid`. [`chunk_digest`] checks that the
//!    chunk read is the one planned.
//!
//! [`SendPlan::for_openids`]: super::SendPlan::for_openids
//! [`SendPlan::for_sealed_audience`]: super::SendPlan::for_sealed_audience

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::batch::{self, Batch, BatchAudience};
use super::client_msg_id::{self, ChunkPlanDigest};
use super::quota::{AccountKind, PendingSend, QuotaNeed, SentRecord};
use super::recipients::{self, Key, KeyHasher};
use super::summary::{self, PlanSummary};
use super::{InvalidOpenId, PlanError, PlanOptions, UnixMillis};
use crate::limits::{
    MAX_OPENIDS_PER_SEND, MIN_OPENIDS_PER_SEND, OPENID_LEN, PLAN_INVALID_SHOWN_MAX,
    PLAN_MAX_BATCHES,
};
use crate::message::MassMessage;
use crate::validate::{index, is_openid, shorten, Problems, Rule, ValidationError};

/// The path of the audience's entries in problems: `openids[1234]` is the entry at position
/// 1,234 of the whole audience (parts numbered on from one another).
const PATH: &str = "openids";

/// A UTF-8 byte order mark, which editors on Windows put at the start of text files.
const BOM: &[u8] = b"\xEF\xBB\xBF";

// ---- reading a part ----------------------------------------------------------------------------

/// How a part of an audience is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartFormat {
    /// A JSON array of strings: `["oR5G…","oR5H…"]`.
    Json,
    /// UTF-8 text, one OpenID a line (`\n` or `\r\n`); spaces and tabs around an OpenID are
    /// trimmed and blank lines skipped (they are not entries). What a spreadsheet's one-column
    /// export or `cut -f1` gives.
    Lines,
}

/// One part of an audience, read: its counts, its valid OpenIDs and the first invalid ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudiencePart {
    /// Entries in the part (a JSON array's elements; a text's non-blank lines).
    pub received: u64,
    /// Entries that are OpenIDs (duplicates included: they are dropped when sealing, where
    /// repeats across parts are seen).
    pub valid_count: u64,
    /// The valid OpenIDs in order, joined by `\n` (no newline at the end): what
    /// [`AudienceSealer::push`] takes.
    pub valid_text: String,
    /// Entries that are not OpenIDs.
    pub invalid_count: u64,
    /// The first of them (at most [`PLAN_INVALID_SHOWN_MAX`]), each at its position in the
    /// whole audience (`first_position` + its index in the part).
    pub invalid_shown: Vec<InvalidOpenId>,
}

/// Reads one part of an audience whose first entry is at position `first_position` of the whole
/// audience (the sum of the earlier parts' `received`).
///
/// An entry is valid when it is an OpenID by core's one rule ([`is_openid`]); anything else is
/// counted and the first ones are listed with their positions, and the part is still read (the
/// caller decides whether to seal an audience with invalid entries). What refuses the part is
/// what cannot be read as entries at all: text that is not JSON, JSON that is not an array, an
/// element that is not a string (`openids[<position>]` must be a string), or a text part that is
/// not UTF-8. A UTF-8 byte order mark at the start is ignored in both formats.
pub fn read_audience_part(
    bytes: &[u8],
    format: PartFormat,
    first_position: u64,
) -> Result<AudiencePart, ValidationError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut part = PartReader::new(first_position, bytes.len());
    match format {
        PartFormat::Json => read_json(bytes, &mut part)?,
        PartFormat::Lines => read_lines(bytes, &mut part)?,
    }
    Ok(part.done())
}

/// What a part has given so far.
struct PartReader {
    first_position: u64,
    part: AudiencePart,
}

impl PartReader {
    fn new(first_position: u64, bytes: usize) -> Self {
        PartReader {
            first_position,
            part: AudiencePart {
                received: 0,
                valid_count: 0,
                // Most of a part is its OpenIDs: one allocation for the text.
                valid_text: String::with_capacity(bytes),
                invalid_count: 0,
                invalid_shown: Vec::new(),
            },
        }
    }

    /// The position in the whole audience of the next entry.
    fn position(&self) -> u64 {
        self.first_position.saturating_add(self.part.received)
    }

    fn entry(&mut self, id: &str) {
        let position = self.position();
        self.part.received += 1;
        if is_openid(id) {
            if !self.part.valid_text.is_empty() {
                self.part.valid_text.push('\n');
            }
            self.part.valid_text.push_str(id);
            self.part.valid_count += 1;
        } else {
            self.part.invalid_count += 1;
            if self.part.invalid_shown.len() < PLAN_INVALID_SHOWN_MAX {
                self.part.invalid_shown.push(InvalidOpenId {
                    position: as_position(position),
                    value: shorten(id),
                });
            }
        }
    }

    fn done(mut self) -> AudiencePart {
        self.part.valid_text.shrink_to_fit();
        self.part
    }
}

/// A position as [`InvalidOpenId`] holds it (`usize`: 4 billion on wasm32, where no audience of
/// that size fits in memory anyway).
fn as_position(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

fn read_lines(bytes: &[u8], part: &mut PartReader) -> Result<(), ValidationError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // Name the entry that holds the first bad byte, at its position in the audience.
            let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let before = String::from_utf8_lossy(good.get(..line_start).unwrap_or_default());
            for line in before.split('\n') {
                if !trim_line(line).is_empty() {
                    part.part.received += 1;
                }
            }
            let rest = bytes.get(line_start..).unwrap_or_default();
            let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
            let mut p = Problems::default();
            p.push(
                index(PATH, as_position(part.position())),
                Rule::Type {
                    expected: "UTF-8 text (save the list as UTF-8)",
                },
                Some(String::from_utf8_lossy(line).trim()),
            );
            return Err(p.into_error());
        }
    };
    for line in text.split('\n') {
        let id = trim_line(line);
        if !id.is_empty() {
            part.entry(id);
        }
    }
    Ok(())
}

/// A line without the spaces and tabs around it, nor the `\r` of a `\r\n` line end.
fn trim_line(line: &str) -> &str {
    line.trim_matches([' ', '\t', '\r'])
}

/// Reads a JSON array of strings element by element, without building a tree of the part: a
/// 4 MiB part of two million short non-strings would otherwise take tens of MB in a 128 MB
/// isolate. serde_json's streaming reader, which is what the rest of core reads JSON with, so
/// its errors are worded the same (`expected value at line 1 column 6`).
fn read_json(bytes: &[u8], part: &mut PartReader) -> Result<(), ValidationError> {
    let mut p = Problems::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut read = JsonPart {
        part,
        problems: &mut p,
        not_strings: 0,
        not_an_array: None,
    };
    let outcome = DeserializeSeed::deserialize(&mut read, &mut de).and_then(|()| de.end());
    let (not_strings, not_an_array) = (read.not_strings, read.not_an_array);
    if let Err(e) = outcome {
        let mut syntax = Problems::default();
        syntax.push("", Rule::Json, Some(&e.to_string()));
        return Err(syntax.into_error());
    }
    if let Some(shown) = not_an_array {
        p.push(
            PATH,
            Rule::Type {
                expected: "an array of strings",
            },
            Some(&shown),
        );
    }
    if not_strings > PLAN_INVALID_SHOWN_MAX as u64 {
        p.push(
            PATH,
            Rule::Type {
                expected: "an array of strings",
            },
            Some(&format!(
                "{not_strings} elements that are not strings, the first {PLAN_INVALID_SHOWN_MAX} listed"
            )),
        );
    }
    p.into_result()
}

/// The whole JSON text of a part.
struct JsonPart<'r> {
    part: &'r mut PartReader,
    problems: &'r mut Problems,
    not_strings: u64,
    /// What the text holds when it is not an array.
    not_an_array: Option<String>,
}

impl<'de> DeserializeSeed<'de> for &mut JsonPart<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut JsonPart<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Element(&mut *self))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.not_an_array = Some(drain_map(map)?);
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.not_an_array = Some(v.to_owned());
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.not_an_array = Some(v.to_string());
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.not_an_array = Some(v.to_string());
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.not_an_array = Some(v.to_string());
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.not_an_array = Some(show_f64(v));
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.not_an_array = Some("null".to_owned());
        Ok(())
    }
}

/// One element of a part's array.
struct Element<'a, 'r>(&'a mut JsonPart<'r>);

impl Element<'_, '_> {
    /// Records an element that is not a string, listing the first few at their positions.
    fn not_a_string(self, shown: &str) {
        let JsonPart {
            part,
            problems,
            not_strings,
            ..
        } = self.0;
        if *not_strings < PLAN_INVALID_SHOWN_MAX as u64 {
            problems.push(
                index(PATH, as_position(part.position())),
                Rule::Type {
                    expected: "a string",
                },
                Some(shown),
            );
        }
        *not_strings += 1;
        part.part.received += 1;
    }
}

impl<'de> DeserializeSeed<'de> for Element<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.0.part.entry(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        self.not_a_string(&format!("an array of {n} entries"));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let shown = drain_map(map)?;
        self.not_a_string(&shown);
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.not_a_string(&v.to_string());
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.not_a_string(&v.to_string());
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.not_a_string(&v.to_string());
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.not_a_string(&show_f64(v));
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.not_a_string("null");
        Ok(())
    }
}

/// Reads past an object; `an object`, as core's problems show one.
fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<String, A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok("an object".to_owned())
}

/// A float as serde_json writes it (`1e+300`), as core's problems show one.
fn show_f64(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string())
}

// ---- sealing -----------------------------------------------------------------------------------

/// Seals an audience: takes the valid text of its parts in order, keeps the first occurrence of
/// each OpenID, and cuts the unique list into the chunks that are the batches of every job sent
/// to it.
///
/// **Input.** [`AudienceSealer::push`] takes OpenIDs separated by `\n`, as
/// [`AudiencePart::valid_text`] holds them, a part at a time or in pieces cut anywhere: an
/// OpenID is 28 bytes, so one is complete after its 28th byte whether or not a `\n` follows, and
/// parts need no separator between them. Anything else pushed (an entry ended early by a `\n`, a
/// byte outside the OpenID alphabet) is not dropped: [`AudienceSealer::finish`] refuses the
/// audience and names it.
///
/// **Duplicates** are found as planning finds them (`recipients.rs`): the OpenIDs are kept packed
/// in the order pushed, then filed by a keyed hash into partitions small enough to stay in the
/// CPU's cache, and in each the first of equal keys is kept; a repeat is dropped only after its
/// whole key compares equal, never on a hash alone. That runs in `finish`, and also whenever the
/// list held reaches half as much again as its unique OpenIDs (and at least 2²⁰ entries), so
/// that an audience whose parts were uploaded twice is never held twice.
///
/// **Memory**, for 1,000,000 unique OpenIDs: 24 MB while pushing (24 bytes each, packed), plus in
/// `finish` 9 MB of partition entries and 1 MB of flags while it drops the repeats. It then
/// writes the chunks' text (29 MB with the `\n`s) from the last chunk to the first, releasing the
/// packed list behind each, so the text and the packed list are never both held in full.
/// Measured by `core/tests/seal_memory.rs` (8 parts of 125,000 lines, 1% repeated, read and
/// pushed one at a time, natively): a peak resident set of +31.3 MB over the process's start
/// while pushing (the list, and one part's text and `valid_text`) and +34.0 MB while sealing. A
/// list that grows is copied where the allocator cannot extend it in place, as in wasm, briefly
/// holding its old block too (up to 12 MB more at a million): [`AudienceSealer::reserve`] with
/// the parts' summed `valid_count` sizes it once instead. The parts' text is the caller's and can
/// be dropped after each push.
pub struct AudienceSealer {
    hasher: KeyHasher,
    /// The OpenIDs pushed, packed, in order: unique up to `unique`, then as pushed.
    keys: Vec<Key>,
    /// How many of `keys` are known to be unique (the length after the last compaction).
    unique: usize,
    /// Compact when `keys` reaches this length.
    compact_at: usize,
    /// Entries pushed so far (valid or not).
    entries: u64,
    duplicates: u64,
    invalid_count: u64,
    invalid_shown: Vec<InvalidOpenId>,
    /// Invalid entries the parts reported when they were read: the caller keeps only the valid
    /// ones for sealing, and an audience left empty must still say how many were skipped.
    invalid_in_parts: u64,
    /// The start of an entry cut off at the end of the last push.
    carry: [u8; OPENID_LEN],
    carry_len: usize,
}

/// The fewest entries a compaction runs on before `finish`: an audience of up to a million
/// with few repeats is deduplicated once.
const COMPACT_AT_LEAST: usize = 1 << 20;

impl fmt::Debug for AudienceSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudienceSealer")
            .field("entries", &self.entries)
            .field("held", &self.keys.len())
            .field("invalid_count", &self.invalid_count)
            .finish_non_exhaustive()
    }
}

impl AudienceSealer {
    /// A sealer with nothing pushed. `hash_seed`: entropy for the keys of the duplicate finder's
    /// hash, from the caller's random source, as [`super::PlanOptions::hash_seed`] (without it
    /// std's `RandomState`, predictable on `wasm32-unknown-unknown`); it decides only where an
    /// entry is filed, never what the sealed audience holds.
    pub fn new(hash_seed: Option<u64>) -> Self {
        AudienceSealer {
            hasher: KeyHasher::new(hash_seed),
            keys: Vec::new(),
            unique: 0,
            compact_at: COMPACT_AT_LEAST,
            entries: 0,
            duplicates: 0,
            invalid_count: 0,
            invalid_shown: Vec::new(),
            invalid_in_parts: 0,
            carry: [0; OPENID_LEN],
            carry_len: 0,
        }
    }

    /// Counts `count` invalid entries that a part reported when it was read ([`AudiencePart`]'s
    /// `invalid_count`) and that the caller did not keep for sealing. They are not sealed; they
    /// are what an empty audience's refusal reports as skipped, across every part.
    pub fn skipped_invalid(&mut self, count: u64) {
        self.invalid_in_parts = self.invalid_in_parts.saturating_add(count);
    }

    /// Makes room for `entries` more OpenIDs (the sum of the parts' `valid_count` is what the
    /// whole audience needs, duplicates included), so that the list does not grow while
    /// pushing: a growing block is copied where the allocator cannot extend it (in wasm, often),
    /// and for a moment holds its old and new copies. A number too large to reserve is ignored,
    /// and the list grows as it goes.
    pub fn reserve(&mut self, entries: u64) {
        if let Some(n) = usize::try_from(entries)
            .ok()
            .filter(|&n| n <= PLAN_MAX_BATCHES * MAX_OPENIDS_PER_SEND)
        {
            // A failure leaves the list as it was: it grows as it goes.
            let _ = self.keys.try_reserve_exact(n);
        }
    }

    /// Adds `valid_text` (the [`AudiencePart::valid_text`] of the parts, in part order, whole
    /// or in pieces cut anywhere).
    pub fn push(&mut self, valid_text: &str) {
        let mut rest = valid_text.as_bytes();
        // Finish an entry the last push cut off.
        while self.carry_len > 0 {
            let Some((&b, tail)) = rest.split_first() else {
                return;
            };
            self.byte(b);
            rest = tail;
        }
        loop {
            match rest.split_first() {
                None => return,
                Some((b'\n', tail)) => {
                    rest = tail;
                    continue;
                }
                Some(_) => {}
            }
            let Some((id, tail)) = rest.split_at_checked(OPENID_LEN) else {
                break;
            };
            if let Some(key) = recipients::pack_bytes(id) {
                self.add(key);
                rest = tail;
                continue;
            }
            // Not an OpenID: the entry ends at its first `\n` or after 28 bytes.
            match id.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.invalid(id.get(..end).unwrap_or_default());
                    rest = rest.get(end + 1..).unwrap_or_default();
                }
                None => {
                    self.invalid(id);
                    rest = tail;
                }
            }
        }
        // Fewer than 28 bytes left: the start of an entry the next push may finish.
        for &b in rest {
            self.byte(b);
        }
    }

    /// One byte of an entry being carried between pushes.
    fn byte(&mut self, b: u8) {
        if b == b'\n' {
            self.end_carry();
            return;
        }
        if let Some(slot) = self.carry.get_mut(self.carry_len) {
            *slot = b;
            self.carry_len += 1;
        }
        if self.carry_len == OPENID_LEN {
            self.end_carry();
        }
    }

    fn end_carry(&mut self) {
        let len = std::mem::take(&mut self.carry_len);
        if len == 0 {
            return;
        }
        let entry = self.carry;
        let entry = entry.get(..len).unwrap_or_default();
        match recipients::pack_bytes(entry) {
            Some(key) => self.add(key),
            None => self.invalid(entry),
        }
    }

    fn invalid(&mut self, entry: &[u8]) {
        if self.invalid_shown.len() < PLAN_INVALID_SHOWN_MAX {
            self.invalid_shown.push(InvalidOpenId {
                position: as_position(self.entries),
                value: shorten(&String::from_utf8_lossy(entry)),
            });
        }
        self.entries += 1;
        self.invalid_count += 1;
    }

    fn add(&mut self, key: Key) {
        self.entries += 1;
        self.keys.push(key);
        if self.keys.len() >= self.compact_at {
            self.compact();
        }
    }

    /// Drops the repeats among the keys held, keeping first occurrences in order.
    fn compact(&mut self) {
        if self.keys.len() > self.unique {
            let dropped = recipients::dedupe_packed(&mut self.keys, &self.hasher);
            self.duplicates += dropped as u64;
        }
        self.unique = self.keys.len();
        self.compact_at = (self.unique + self.unique / 2).max(COMPACT_AT_LEAST);
    }

    /// Seals the audience: its unique OpenIDs cut into ⌈N/10,000⌉ balanced chunks (the split of
    /// [`super::SendPlan::for_openids`]), each with its content digest.
    ///
    /// Refused: anything pushed that is not an OpenID ([`PlanError::UnsealableText`]), no
    /// OpenID at all ([`PlanError::EmptyAudience`]), a single one (`mass/send` needs 2:
    /// [`PlanError::SingleRecipient`]), more chunks than a plan's batches can number
    /// ([`PlanError::TooManyRecipients`]).
    pub fn finish(mut self) -> Result<SealedAudience, PlanError> {
        self.end_carry();
        if self.invalid_count > 0 {
            return Err(PlanError::UnsealableText {
                count: usize::try_from(self.invalid_count).unwrap_or(usize::MAX),
                shown: self.invalid_shown,
            });
        }
        self.compact();
        let duplicates = self.duplicates;
        let mut keys = self.keys;
        match keys.as_slice() {
            [] => {
                return Err(PlanError::EmptyAudience {
                    duplicates_dropped: usize::try_from(duplicates).unwrap_or(usize::MAX),
                    invalid_skipped: usize::try_from(self.invalid_in_parts).unwrap_or(usize::MAX),
                })
            }
            [only] => {
                return Err(PlanError::SingleRecipient {
                    openid: recipients::unpack(only),
                })
            }
            _ => {}
        }
        let ranges = batch::split_ranges(keys.len());
        if ranges.len() > PLAN_MAX_BATCHES {
            return Err(PlanError::TooManyRecipients {
                recipients: keys.len(),
                batches: ranges.len(),
            });
        }
        let valid = keys.len() as u64;
        let digests = client_msg_id::chunk_digests(
            ranges
                .iter()
                .map(|r| keys.get(r.clone()).unwrap_or_default()),
        );
        // From the last chunk to the first, releasing the packed keys behind each, so the text
        // written never sits beside a full packed copy.
        let mut chunks = Vec::with_capacity(ranges.len());
        for (index, (range, digest)) in ranges.iter().zip(&digests).enumerate().rev() {
            let part = keys.get(range.clone()).unwrap_or_default();
            let mut openids = String::with_capacity(part.len() * (OPENID_LEN + 1));
            for (i, key) in part.iter().enumerate() {
                if i > 0 {
                    openids.push('\n');
                }
                recipients::push_unpacked(&mut openids, key);
            }
            keys.truncate(range.start);
            keys.shrink_to_fit();
            chunks.push(SealedChunk {
                index,
                count: range.len(),
                openids,
                digest: client_msg_id::chunk_digest_hex(digest),
            });
        }
        chunks.reverse();
        Ok(SealedAudience {
            valid,
            duplicates,
            chunks,
        })
    }
}

/// An audience sealed: its unique OpenIDs in balanced chunks, chunk *i* being batch *i* of every
/// job sent to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedAudience {
    /// Unique OpenIDs (the sum of the chunks' counts).
    pub valid: u64,
    /// Entries dropped as repeats of an earlier one (across parts too).
    pub duplicates: u64,
    /// The chunks, in order: ⌈valid / 10,000⌉ of them, sizes as equal as possible, larger first.
    pub chunks: Vec<SealedChunk>,
}

impl SealedAudience {
    /// What a plan needs of each chunk, in order (what the worker keeps per chunk besides its
    /// text).
    pub fn chunk_refs(&self) -> Vec<ChunkRef> {
        self.chunks.iter().map(SealedChunk::to_ref).collect()
    }
}

/// One chunk of a sealed audience: the OpenIDs of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedChunk {
    /// Position among the chunks, from 0 (the batch index).
    pub index: usize,
    /// OpenIDs in the chunk (2 to 10,000).
    pub count: usize,
    /// The OpenIDs in order, joined by `\n` (no newline at the end).
    pub openids: String,
    /// 64 lowercase hex digits: SHA-256 over the chunk's OpenIDs in order, each packed to 24
    /// bytes as `client_msg_id.rs` packs a batch's recipients (28 characters × 6 bits, as three
    /// little-endian `u64`s holding characters 0..10, 10..20 and 20..28), nothing else hashed.
    /// [`chunk_digest`] computes it from the text.
    pub digest: String,
}

impl SealedChunk {
    /// The chunk's count and digest.
    pub fn to_ref(&self) -> ChunkRef {
        ChunkRef {
            count: self.count,
            digest: self.digest.clone(),
        }
    }
}

/// The digest of a chunk's text (OpenIDs joined by `\n`), as [`SealedChunk::digest`]: to check
/// at send time that the chunk read is the one a plan was made from. `None` when the text is
/// empty or a line is not an OpenID.
pub fn chunk_digest(openids: &str) -> Option<String> {
    if openids.is_empty() {
        return None;
    }
    let keys = openids
        .split('\n')
        .map(recipients::pack)
        .collect::<Option<Vec<Key>>>()?;
    let digests = client_msg_id::chunk_digests(std::iter::once(keys.as_slice()));
    digests.first().map(client_msg_id::chunk_digest_hex)
}

// ---- a plan for a sealed audience --------------------------------------------------------------

/// What a plan needs of one chunk of a sealed audience: what the worker keeps per chunk.
/// Serde, as `{"count":10000,"digest":"9f86d0…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChunkRef {
    /// OpenIDs in the chunk.
    pub count: usize,
    /// [`SealedChunk::digest`].
    pub digest: String,
}

/// A validated send to a sealed audience: a batch per chunk, each with a fixed `clientmsgid`
/// derived from its chunk's digest, and no OpenID held.
///
/// A separate type from [`super::SendPlan`], whose batches are built from the OpenIDs it holds
/// ([`super::SendPlan::request`]): this one holds none, so it offers no request that could come
/// out with an empty list. The caller builds batch *i*'s request from chunk *i*:
///
/// ```
/// # use wxmass::plan::{AccountKind, AudienceSealer, PlanOptions, SendPlan};
/// # use wxmass::endpoint::SendToUsersRequest;
/// # use wxmass::{ApiBase, Endpoint, MassMessage};
/// # let mut sealer = AudienceSealer::new(Some(7));
/// # sealer.push("oR5Gjjl_eiZoUpGozMo7dbBJ362A\noR5Gjjl_eiZoUpGozMo7dbBJ362B");
/// # let audience = sealer.finish()?;
/// let plan = SendPlan::for_sealed_audience(
///     "newsletter-06",
///     MassMessage::text("hi"),
///     &audience.chunk_refs(),
///     PlanOptions::new(AccountKind::Service),
/// )?;
/// let batch = &plan.batches()[0];
/// let chunk = &audience.chunks[0]; // read from storage at send time
/// let request = SendToUsersRequest {
///     touser: chunk.openids.split('\n').map(str::to_owned).collect(),
///     message: plan.message().clone(),
///     send_ignore_reprint: plan.send_ignore_reprint(),
///     clientmsgid: Some(batch.clientmsgid.clone()),
/// };
/// let http = request.build(&ApiBase::default())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPlan {
    job_id: String,
    message: MassMessage,
    send_ignore_reprint: Option<bool>,
    account: AccountKind,
    /// A batch per chunk; its range is the chunk's positions in the sealed audience.
    batches: Vec<Batch>,
    recipients: usize,
}

impl SealedPlan {
    /// [`super::SendPlan::for_sealed_audience`].
    pub(crate) fn new(
        job_id: &str,
        message: MassMessage,
        chunks: &[ChunkRef],
        options: PlanOptions,
    ) -> Result<SealedPlan, PlanError> {
        let message = super::check_job(job_id, message)?;
        if options.account == AccountKind::Subscription {
            return Err(PlanError::OpenIdListNeedsServiceAccount);
        }
        let recipients = chunks
            .iter()
            .fold(0usize, |sum, c| sum.saturating_add(c.count));
        if chunks.is_empty() {
            return Err(PlanError::EmptyAudience {
                duplicates_dropped: 0,
                invalid_skipped: 0,
            });
        }
        if chunks.len() > PLAN_MAX_BATCHES {
            return Err(PlanError::TooManyRecipients {
                recipients,
                batches: chunks.len(),
            });
        }
        let mut p = Problems::default();
        let mut digests = Vec::with_capacity(chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            let path = index("chunks", i);
            if !(MIN_OPENIDS_PER_SEND..=MAX_OPENIDS_PER_SEND).contains(&c.count) {
                p.push(
                    format!("{path}.count"),
                    Rule::Range {
                        min: MIN_OPENIDS_PER_SEND as i64,
                        max: MAX_OPENIDS_PER_SEND as i64,
                    },
                    Some(&c.count.to_string()),
                );
            }
            match client_msg_id::parse_chunk_digest(&c.digest) {
                Some(d) => digests.push(d),
                None => p.push(
                    format!("{path}.digest"),
                    Rule::Type {
                        expected: "64 lowercase hex digits (the SHA-256 the sealer gave the chunk)",
                    },
                    Some(&c.digest),
                ),
            }
        }
        p.into_result().map_err(PlanError::InvalidChunks)?;

        let ids = ChunkPlanDigest::new(job_id, &message, options.send_ignore_reprint, chunks.len());
        let mut start = 0usize;
        let batches = chunks
            .iter()
            .zip(&digests)
            .enumerate()
            .map(|(index, (c, digest))| {
                let range = start..start + c.count;
                start = range.end;
                Batch {
                    index,
                    clientmsgid: ids.for_chunk(job_id, index, c.count, digest),
                    recipients: BatchAudience::OpenIds(range),
                }
            })
            .collect();
        Ok(SealedPlan {
            job_id: job_id.to_owned(),
            message,
            send_ignore_reprint: options.send_ignore_reprint,
            account: options.account,
            batches,
            recipients,
        })
    }

    /// The job id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The message.
    pub fn message(&self) -> &MassMessage {
        &self.message
    }

    /// The account planned for.
    pub fn account(&self) -> AccountKind {
        self.account
    }

    /// `send_ignore_reprint` of every batch.
    pub fn send_ignore_reprint(&self) -> Option<bool> {
        self.send_ignore_reprint
    }

    /// The batches, in order: batch *i* sends to chunk *i* (its range: the chunk's positions in
    /// the sealed audience; [`Batch::recipient_count`] its count).
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// How many OpenIDs the plan sends to (the sum of the chunks' counts).
    pub fn recipient_count(&self) -> usize {
        self.recipients
    }

    /// The calls the plan makes, as quotas count them: a `mass/send` per chunk.
    pub fn quota_need(&self) -> QuotaNeed {
        QuotaNeed {
            sendall_calls: 0,
            send_calls: self.batches.len(),
            to_all: false,
        }
    }

    /// The plan for people, as [`super::SendPlan::summary`]. The audience's duplicates and
    /// invalid entries were counted when it was read and sealed, so they show as 0 here.
    pub fn summary(&self, ledger: &[SentRecord], now: UnixMillis) -> PlanSummary {
        self.summary_with_pending(ledger, &[], now)
    }

    /// [`SealedPlan::summary`] after the pending sends of earlier jobs, as
    /// [`super::SendPlan::summary_with_pending`].
    pub fn summary_with_pending(
        &self,
        ledger: &[SentRecord],
        pending: &[PendingSend],
        now: UnixMillis,
    ) -> PlanSummary {
        summary::summarize(
            summary::Facts {
                job_id: &self.job_id,
                message: &self.message,
                account: self.account,
                batches: &self.batches,
                recipients: self.recipients,
                duplicates_dropped: 0,
                invalid_skipped: 0,
                invalid_shown: &[],
                need: self.quota_need(),
            },
            ledger,
            pending,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u32) -> String {
        format!("oR5Gjjl_eiZoUpGozMo7{n:08}")
    }

    #[test]
    fn a_piece_may_end_inside_an_openid_and_parts_need_no_separator() {
        let (a, b, c) = (oid(1), oid(2), oid(3));
        let text = format!("{a}\n{b}{c}");
        for cut in 0..=text.len() {
            let mut s = AudienceSealer::new(Some(1));
            let (x, y) = text.split_at(cut);
            s.push(x);
            s.push(y);
            let sealed = s.finish().unwrap();
            assert_eq!(
                sealed.chunks[0].openids,
                format!("{a}\n{b}\n{c}"),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn text_that_is_not_openids_refuses_the_seal_and_names_the_entry() {
        let mut s = AudienceSealer::new(None);
        s.push(&format!("{}\nshort\n{}", oid(1), oid(2)));
        match s.finish() {
            Err(PlanError::UnsealableText { count, shown }) => {
                assert_eq!(count, 1);
                assert_eq!(shown[0].position, 1);
                assert_eq!(shown[0].value, "short");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_audience_uploaded_again_is_compacted_as_it_is_pushed() {
        // 700,000 unique pushed three times: the list held never passes 1.5 times its unique
        // entries (after the first compaction at 2^20), and the repeats are all counted.
        let text: String = (0..700_000).map(|n| format!("{}\n", oid(n))).collect();
        let mut s = AudienceSealer::new(Some(3));
        let mut most = 0;
        for _ in 0..3 {
            for piece in text.as_bytes().chunks(29 * 10_000) {
                s.push(std::str::from_utf8(piece).unwrap());
                most = most.max(s.keys.len());
            }
        }
        assert!(most <= COMPACT_AT_LEAST.max(700_000 * 3 / 2), "{most}");
        let sealed = s.finish().unwrap();
        assert_eq!((sealed.valid, sealed.duplicates), (700_000, 1_400_000));
        assert_eq!(sealed.chunks.len(), 70);
        assert_eq!(&sealed.chunks[0].openids[..28], oid(0));
    }

    #[test]
    fn chunk_digest_reads_what_the_sealer_wrote() {
        let mut s = AudienceSealer::new(None);
        s.push(&(0..30).map(oid).collect::<Vec<_>>().join("\n"));
        let sealed = s.finish().unwrap();
        let chunk = &sealed.chunks[0];
        assert_eq!(
            chunk_digest(&chunk.openids).as_deref(),
            Some(&*chunk.digest)
        );
        assert_eq!(chunk_digest(""), None);
        assert_eq!(chunk_digest(&format!("{}\nbad", oid(1))), None);
    }
}
