//! An audience uploaded in parts, sealed into chunks, and the plan of a job sent to it.

use std::collections::HashSet;
use std::sync::OnceLock;

use proptest::prelude::*;
use wxmass::endpoint::{Endpoint, SendToUsersRequest};
use wxmass::limits::PLAN_INVALID_SHOWN_MAX;
use wxmass::plan::{
    chunk_digest, read_audience_part, AccountKind, AudienceSealer, ChunkRef, PartFormat, PlanError,
    PlanOptions, SealedAudience, SendPlan,
};
use wxmass::validate::is_client_msg_id;
use wxmass::{ApiBase, MassMessage};

/// A deterministic, valid 28-character OpenID for `n` (distinct for distinct `n`).
fn oid(n: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::from("oWx");
    let mut x = n;
    for _ in 0..25 {
        s.push(ALPHABET[(x % 64) as usize] as char);
        x /= 64;
    }
    s
}

fn service() -> PlanOptions {
    PlanOptions::new(AccountKind::Service)
}

fn seal(parts: &[&str]) -> Result<SealedAudience, PlanError> {
    let mut sealer = AudienceSealer::new(Some(42));
    for part in parts {
        sealer.push(part);
    }
    sealer.finish()
}

fn lines(chunk: &str) -> Vec<String> {
    chunk.split('\n').map(str::to_owned).collect()
}

// ---- reading a part ----------------------------------------------------------------------------

#[test]
fn a_part_reports_invalid_openids_at_their_position_in_the_whole_audience() {
    let text = format!("{}\nOPENID1\n{}\n\n  \n{}x\n", oid(1), oid(2), oid(3));
    let part = read_audience_part(text.as_bytes(), PartFormat::Lines, 1_000).unwrap();
    assert_eq!(part.received, 4); // blank lines are not entries
    assert_eq!(part.valid_count, 2);
    assert_eq!(part.valid_text, format!("{}\n{}", oid(1), oid(2)));
    assert_eq!(part.invalid_count, 2);
    let shown: Vec<(usize, &str)> = part
        .invalid_shown
        .iter()
        .map(|i| (i.position, i.value.as_str()))
        .collect();
    assert_eq!(
        shown,
        [(1_001, "OPENID1"), (1_003, &*format!("{}x", oid(3)))]
    );

    let json = serde_json::json!([oid(1), "OPENID1", oid(2), ""]).to_string();
    let part = read_audience_part(json.as_bytes(), PartFormat::Json, 500).unwrap();
    assert_eq!(
        (part.received, part.valid_count, part.invalid_count),
        (4, 2, 2)
    );
    assert_eq!(part.invalid_shown[0].position, 501);
    assert_eq!(part.invalid_shown[1].position, 503);
}

#[test]
fn a_part_lists_the_first_invalid_openids_and_counts_them_all() {
    let text: String = (0..500).map(|i| format!("bad{i}\n")).collect();
    let part = read_audience_part(text.as_bytes(), PartFormat::Lines, 0).unwrap();
    assert_eq!(part.invalid_count, 500);
    assert_eq!(part.invalid_shown.len(), PLAN_INVALID_SHOWN_MAX);
    assert_eq!(part.valid_text, "");
}

#[test]
fn a_part_keeps_its_duplicates_for_the_sealer_to_drop() {
    let text = format!("{}\n{}\n{}", oid(1), oid(1), oid(2));
    let part = read_audience_part(text.as_bytes(), PartFormat::Lines, 0).unwrap();
    assert_eq!(part.valid_count, 3);
}

#[test]
fn a_lines_part_trims_spaces_and_tabs_reads_crlf_and_ignores_a_bom() {
    let text = format!(
        "\u{feff}{}\r\n \t{}\t \r\n\r\n\t\n{}",
        oid(1),
        oid(2),
        oid(3)
    );
    let part = read_audience_part(text.as_bytes(), PartFormat::Lines, 0).unwrap();
    assert_eq!(part.received, 3);
    assert_eq!(part.invalid_count, 0);
    assert_eq!(lines(&part.valid_text), [oid(1), oid(2), oid(3)]);
    let json = format!("\u{feff}[\"{}\"]", oid(1));
    let part = read_audience_part(json.as_bytes(), PartFormat::Json, 0).unwrap();
    assert_eq!(part.valid_text, oid(1));
}

#[test]
fn a_lines_part_that_is_not_utf8_is_refused_at_its_entry() {
    let mut bytes = format!("{}\n\n{}\n", oid(1), oid(2)).into_bytes();
    bytes.extend_from_slice(b"oWx\xff\xfe\n");
    bytes.extend_from_slice(oid(3).as_bytes());
    let e = read_audience_part(&bytes, PartFormat::Lines, 10).unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.problems[0].path, "openids[12]");
    assert_eq!(e.problems[0].rule.code(), "type");
    assert!(e.to_string().contains("UTF-8"), "{e}");
    // A UTF-16 file (what Notepad once called "Unicode") is refused at its first entry.
    let utf16: Vec<u8> = "\u{feff}x\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let e = read_audience_part(&utf16, PartFormat::Lines, 0).unwrap_err();
    assert_eq!(e.problems[0].path, "openids[0]");
}

#[test]
fn a_json_part_must_be_an_array_of_strings() {
    // Elements that are not strings: each at its position in the whole audience.
    let json = format!(
        r#"["{}", 7, null, ["a"], {{"id":1}}, "{}", -1.5e300]"#,
        oid(1),
        oid(2)
    );
    let e = read_audience_part(json.as_bytes(), PartFormat::Json, 100).unwrap_err();
    let shown: Vec<(&str, &str, Option<&str>)> = e
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.rule.code(), p.value.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("openids[101]", "type", Some("7")),
            ("openids[102]", "type", Some("null")),
            ("openids[103]", "type", Some("an array of 1 entries")),
            ("openids[104]", "type", Some("an object")),
            ("openids[106]", "type", Some("-1.5e+300")),
        ]
    );
    assert!(
        e.to_string().contains("openids[101] must be a string"),
        "{e}"
    );

    // Not an array.
    for (text, got) in [
        (r#"{"openids":[]}"#, "an object"),
        (r#""oWx""#, "oWx"),
        ("12", "12"),
    ] {
        let e = read_audience_part(text.as_bytes(), PartFormat::Json, 0).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{text}");
        assert_eq!(e.problems[0].path, "openids");
        assert_eq!(e.problems[0].value.as_deref(), Some(got));
        assert!(e.to_string().contains("must be an array of strings"), "{e}");
    }

    // Not JSON: serde_json's words, with line and column, as core's parser reports.
    let e = read_audience_part(b"[\"a\",]", PartFormat::Json, 0).unwrap_err();
    assert_eq!(e.problems[0].rule.code(), "json");
    assert_eq!(e.problems[0].path, "");
    assert!(
        e.problems[0]
            .value
            .as_deref()
            .unwrap()
            .contains("line 1 column 6"),
        "{e}"
    );
    let e = read_audience_part(b"[] x", PartFormat::Json, 0).unwrap_err();
    assert_eq!(e.problems[0].rule.code(), "json");
}

#[test]
fn a_json_part_of_many_non_strings_lists_the_first_and_counts_them_all() {
    let json = format!("[{}1]", "1,".repeat(99_999));
    let e = read_audience_part(json.as_bytes(), PartFormat::Json, 0).unwrap_err();
    assert_eq!(e.problems.len(), PLAN_INVALID_SHOWN_MAX + 1);
    let last = e.problems.last().unwrap();
    assert_eq!(last.path, "openids");
    assert!(
        last.value
            .as_deref()
            .unwrap()
            .starts_with("100000 elements"),
        "{last}"
    );
}

// ---- sealing -----------------------------------------------------------------------------------

#[test]
fn sealing_keeps_the_first_of_duplicates_across_parts() {
    let part1 = [oid(3), oid(1), oid(3)].join("\n");
    let part2 = [oid(2), oid(1), oid(4), oid(3)].join("\n");
    let sealed = seal(&[&part1, &part2]).unwrap();
    assert_eq!(sealed.valid, 4);
    assert_eq!(sealed.duplicates, 3);
    assert_eq!(sealed.chunks.len(), 1);
    assert_eq!(
        lines(&sealed.chunks[0].openids),
        [oid(3), oid(1), oid(2), oid(4)]
    );
    assert_eq!(sealed.chunks[0].count, 4);
    assert_eq!(sealed.chunks[0].index, 0);
}

#[test]
fn sealing_refuses_an_empty_audience_and_a_single_recipient() {
    assert!(matches!(
        seal(&[""]),
        Err(PlanError::EmptyAudience {
            duplicates_dropped: 0,
            ..
        })
    ));
    let one = format!("{}\n{}", oid(1), oid(1));
    match seal(&[&one, &oid(1)]) {
        Err(PlanError::SingleRecipient { openid }) => assert_eq!(openid, oid(1)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_audience_whose_parts_were_all_invalid_reports_every_invalid_entry_when_refused() {
    // What the worker does: each part read on upload, only its valid OpenIDs kept for sealing,
    // its invalid count remembered.
    let mut sealer = AudienceSealer::new(Some(7));
    sealer.skipped_invalid(1);
    sealer.skipped_invalid(1);
    let e = sealer.finish().unwrap_err();
    assert!(
        matches!(
            e,
            PlanError::EmptyAudience {
                invalid_skipped: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("2 invalid skipped"), "{e}");
}

#[test]
fn sealed_chunks_are_the_balanced_batches_of_an_inline_plan() {
    // 25,001 unique in 3 parts, with repeats: 8,334 + 8,334 + 8,333, as `for_openids` cuts.
    let list: Vec<String> = (0..25_001).chain(0..100).map(oid).collect();
    let parts: Vec<String> = list.chunks(9_000).map(|c| c.join("\n")).collect();
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let sealed = seal(&refs).unwrap();
    let sizes: Vec<usize> = sealed.chunks.iter().map(|c| c.count).collect();
    assert_eq!(sizes, [8_334, 8_334, 8_333]);
    assert_eq!(sealed.duplicates, 100);
    let ids: Vec<&str> = list.iter().map(String::as_str).collect();
    let plan = SendPlan::for_openids("job", MassMessage::text("hi"), &ids, service()).unwrap();
    for chunk in &sealed.chunks {
        assert_eq!(lines(&chunk.openids), plan.batch_recipients(chunk.index));
        assert_eq!(
            chunk_digest(&chunk.openids).as_deref(),
            Some(&*chunk.digest)
        );
    }
}

/// 1,000,000 unique OpenIDs, as 8 parts of 125,000 lines each.
fn million() -> &'static (Vec<String>, SealedAudience) {
    static SEALED: OnceLock<(Vec<String>, SealedAudience)> = OnceLock::new();
    SEALED.get_or_init(|| {
        let list: Vec<String> = (0..1_000_000).map(oid).collect();
        let mut sealer = AudienceSealer::new(None);
        let mut first_position = 0;
        for part in list.chunks(125_000) {
            let text = part.join("\r\n");
            let part = read_audience_part(text.as_bytes(), PartFormat::Lines, first_position)
                .expect("a part of valid OpenIDs reads");
            first_position += part.received;
            sealer.push(&part.valid_text);
        }
        (
            list,
            sealer.finish().expect("a million unique OpenIDs seal"),
        )
    })
}

#[test]
fn sealing_1_000_000_openids_in_8_parts_gives_100_chunks_that_are_the_inline_plans_batches() {
    let (list, sealed) = million();
    assert_eq!(sealed.valid, 1_000_000);
    assert_eq!(sealed.duplicates, 0);
    assert_eq!(sealed.chunks.len(), 100);
    assert!(sealed.chunks.iter().all(|c| c.count == 10_000));
    let ids: Vec<&str> = list.iter().map(String::as_str).collect();
    let plan = SendPlan::for_openids("job", MassMessage::text("hi"), &ids, service()).unwrap();
    assert_eq!(plan.batches().len(), 100);
    for chunk in &sealed.chunks {
        assert_eq!(lines(&chunk.openids), plan.batch_recipients(chunk.index));
    }
}

#[test]
fn a_sealed_plan_of_1_000_000_has_exactly_100_batches_of_10_000() {
    let (_, sealed) = million();
    let plan = SendPlan::for_sealed_audience(
        "job-1m",
        MassMessage::text("hi"),
        &sealed.chunk_refs(),
        service(),
    )
    .unwrap();
    assert_eq!(plan.recipient_count(), 1_000_000);
    assert_eq!(plan.batches().len(), 100);
    let mut ids = HashSet::new();
    for (i, b) in plan.batches().iter().enumerate() {
        assert_eq!(b.index, i);
        assert_eq!(b.recipient_count(), Some(10_000));
        assert!(is_client_msg_id(&b.clientmsgid), "{}", b.clientmsgid);
        assert!(b.clientmsgid.starts_with(&format!("wxm1-job-1m-{i}-")));
        assert!(ids.insert(b.clientmsgid.clone()));
    }
    assert_eq!(plan.quota_need().send_calls, 100);
    let s = plan.summary(&[], wxmass::plan::UnixMillis(1_710_388_800_000));
    assert_eq!((s.recipients, s.batches), (Some(1_000_000), 100));
    assert_eq!(s.batch_sizes, Some((10_000, 10_000)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any list, split into any parts and pushed in any pieces, seals to the chunks of the list
    /// pushed whole, and those are the batches of the inline plan of the list.
    #[test]
    fn any_list_split_into_any_parts_seals_to_the_same_chunks(
        len in 2usize..25_000,
        pool_per_cent in 1u64..150,
        seed in any::<u64>(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        pieces in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let pool = (len as u64 * pool_per_cent / 100).max(2);
        let mut x = seed;
        let list: Vec<String> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                oid((x >> 33) % pool)
            })
            .collect();
        let whole = seal(&[&list.join("\n")]);

        // Parts cut between entries, each read as a part, its text pushed in pieces cut at any
        // byte.
        let mut bounds: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
        bounds.extend([0, len]);
        bounds.sort_unstable();
        let mut sealer = AudienceSealer::new(Some(seed));
        let mut first_position = 0;
        for w in bounds.windows(2) {
            let text = list[w[0]..w[1]].join("\n");
            let part = read_audience_part(text.as_bytes(), PartFormat::Lines, first_position).unwrap();
            first_position += part.received;
            let t = part.valid_text.as_str();
            let mut at: Vec<usize> = pieces.iter().map(|i| i.index(t.len() + 1)).collect();
            at.extend([0, t.len()]);
            at.sort_unstable();
            for p in at.windows(2) {
                sealer.push(&t[p[0]..p[1]]);
            }
        }
        prop_assert_eq!(first_position, len as u64);
        let split = sealer.finish();
        prop_assert_eq!(&split, &whole);

        let ids: Vec<&str> = list.iter().map(String::as_str).collect();
        match (whole, SendPlan::for_openids("p", MassMessage::text("t"), &ids, service())) {
            (Ok(sealed), Ok(plan)) => {
                prop_assert_eq!(sealed.valid as usize, plan.recipient_count());
                prop_assert_eq!(sealed.duplicates as usize, plan.duplicates_dropped());
                prop_assert_eq!(sealed.chunks.len(), plan.batches().len());
                for chunk in &sealed.chunks {
                    prop_assert_eq!(lines(&chunk.openids), plan.batch_recipients(chunk.index));
                }
            }
            (Err(PlanError::SingleRecipient { openid: a }), Err(PlanError::SingleRecipient { openid: b })) => {
                prop_assert_eq!(a, b);
            }
            (a, b) => prop_assert!(false, "sealed {:?}, planned {:?}", a.map(|s| s.valid), b.map(|p| p.recipient_count())),
        }
    }
}

// ---- a plan for a sealed audience --------------------------------------------------------------

fn small_audience() -> SealedAudience {
    seal(&[&(0..25_001).map(oid).collect::<Vec<_>>().join("\n")]).unwrap()
}

fn ids_of(plan: &wxmass::plan::SealedPlan) -> Vec<String> {
    plan.batches()
        .iter()
        .map(|b| b.clientmsgid.clone())
        .collect()
}

fn sealed_plan(
    message: MassMessage,
    chunks: &[ChunkRef],
) -> Result<wxmass::plan::SealedPlan, PlanError> {
    SendPlan::for_sealed_audience("job-1", message, chunks, service())
}

#[test]
fn the_same_chunks_and_message_always_get_the_same_clientmsgids() {
    let refs = small_audience().chunk_refs();
    let a = sealed_plan(MassMessage::text("hello"), &refs).unwrap();
    let b = sealed_plan(MassMessage::text("hello"), &refs).unwrap();
    assert_eq!(a, b);
    let ids = ids_of(&a);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 3);
    // A sealed audience's batch is named from its chunk, an inline batch from its OpenIDs:
    // two derivations, so the same batch of the same job has two different ids.
    let list: Vec<String> = (0..25_001).map(oid).collect();
    let ids_inline: Vec<&str> = list.iter().map(String::as_str).collect();
    let inline =
        SendPlan::for_openids("job-1", MassMessage::text("hello"), &ids_inline, service()).unwrap();
    for (s, i) in ids.iter().zip(inline.batches()) {
        assert_ne!(*s, i.clientmsgid);
    }
}

/// The worker stores these ids: the same input must give these exact strings in every version.
#[test]
fn sealed_clientmsgids_are_pinned() {
    let refs = small_audience().chunk_refs();
    let opts = PlanOptions {
        send_ignore_reprint: Some(true),
        ..service()
    };
    let plan =
        SendPlan::for_sealed_audience("job-1", MassMessage::text("hello"), &refs, opts).unwrap();
    assert_eq!(
        ids_of(&plan),
        [
            "wxm1-job-1-0-b525221f3bf5f26a",
            "wxm1-job-1-1-ca2ee60300dcd588",
            "wxm1-job-1-2-fbd95bef47e85c06"
        ]
    );
}

/// The digest and the v2 id, computed here from their documentation (`SealedChunk::digest`,
/// `client_msg_id.rs`) with the `sha2` crate: what a person or another tool can re-derive.
#[test]
fn the_chunk_digest_and_the_v2_clientmsgid_are_what_their_docs_say() {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    fn packed(openid: &str) -> Vec<u8> {
        let symbols: Vec<u64> = openid
            .bytes()
            .map(|b| ALPHABET.iter().position(|&a| a == b).unwrap() as u64)
            .collect();
        let mut out = Vec::new();
        for word in [&symbols[0..10], &symbols[10..20], &symbols[20..28]] {
            let w = word.iter().fold(0u64, |w, &s| (w << 6) | s);
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }
    fn put(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();

    let sealed = small_audience();
    let refs = sealed.chunk_refs();
    let opts = PlanOptions {
        send_ignore_reprint: Some(true),
        ..service()
    };
    let plan =
        SendPlan::for_sealed_audience("job-1", MassMessage::text("hello"), &refs, opts).unwrap();
    for chunk in &sealed.chunks {
        let mut h = Sha256::new();
        for id in chunk.openids.split('\n') {
            h.update(packed(id));
        }
        let digest = h.finalize();
        assert_eq!(chunk.digest, hex(&digest));

        let mut h = Sha256::new();
        put(&mut h, b"wxmass/plan/clientmsgid/v2-chunk");
        put(&mut h, b"job-1");
        put(
            &mut h,
            br#"{"text":{"content":"hello"},"msgtype":"text","send_ignore_reprint":1}"#,
        );
        h.update(3u64.to_le_bytes());
        h.update((chunk.index as u64).to_le_bytes());
        put(&mut h, b"chunk");
        h.update((chunk.count as u64).to_le_bytes());
        h.update(digest);
        let id = format!("wxm1-job-1-{}-{}", chunk.index, hex(&h.finalize()[..8]));
        assert_eq!(plan.batches()[chunk.index].clientmsgid, id);
    }
}

#[test]
fn a_changed_chunk_gets_a_new_clientmsgid() {
    let refs = small_audience().chunk_refs();
    let base = ids_of(&sealed_plan(MassMessage::text("hello"), &refs).unwrap());

    // One OpenID of chunk 1 replaced: its digest changes, and only its id.
    let mut list: Vec<String> = (0..25_001).map(oid).collect();
    list[10_000] = oid(99_999_999);
    let other = seal(&[&list.join("\n")]).unwrap().chunk_refs();
    assert_eq!(other[0], refs[0]);
    assert_ne!(other[1].digest, refs[1].digest);
    let changed = ids_of(&sealed_plan(MassMessage::text("hello"), &other).unwrap());
    assert_eq!(changed[0], base[0]);
    assert_ne!(changed[1], base[1]);
    assert_eq!(changed[2], base[2]);

    // The same digest with another count is another chunk.
    let mut recounted = refs.clone();
    recounted[2].count -= 1;
    let recounted = ids_of(&sealed_plan(MassMessage::text("hello"), &recounted).unwrap());
    assert_ne!(recounted[2], base[2]);
}

#[test]
fn a_changed_message_gets_new_clientmsgids() {
    let refs = small_audience().chunk_refs();
    let base = ids_of(&sealed_plan(MassMessage::text("hello"), &refs).unwrap());
    let other = ids_of(&sealed_plan(MassMessage::text("hello!"), &refs).unwrap());
    let reprint = ids_of(
        &SendPlan::for_sealed_audience(
            "job-1",
            MassMessage::text("hello"),
            &refs,
            PlanOptions {
                send_ignore_reprint: Some(false),
                ..service()
            },
        )
        .unwrap(),
    );
    let job = ids_of(
        &SendPlan::for_sealed_audience("job-2", MassMessage::text("hello"), &refs, service())
            .unwrap(),
    );
    for i in 0..3 {
        assert_ne!(other[i], base[i]);
        assert_ne!(reprint[i], base[i]);
        assert_ne!(job[i], base[i]);
    }
}

#[test]
fn a_sealed_plan_checks_what_an_inline_plan_checks() {
    let refs = small_audience().chunk_refs();
    let err = SendPlan::for_sealed_audience("has space", MassMessage::text("hi"), &refs, service())
        .unwrap_err();
    assert_eq!(err.code(), "job_id");
    let err = sealed_plan(MassMessage::text(""), &refs).unwrap_err();
    assert_eq!(err.code(), "message");
    let err = SendPlan::for_sealed_audience(
        "job-1",
        MassMessage::text("hi"),
        &refs,
        PlanOptions::new(AccountKind::Subscription),
    )
    .unwrap_err();
    assert_eq!(err, PlanError::OpenIdListNeedsServiceAccount);
    assert_eq!(
        sealed_plan(MassMessage::text("hi"), &[])
            .unwrap_err()
            .code(),
        "empty_audience"
    );

    // Every bad chunk named: counts outside 2..=10,000, digests that are not 64 lowercase hex.
    let mut bad = refs.clone();
    bad[0].count = 1;
    bad[1].count = 10_001;
    bad[1].digest = bad[1].digest.to_uppercase();
    bad[2].digest = "abc".to_owned();
    let err = sealed_plan(MassMessage::text("hi"), &bad).unwrap_err();
    assert_eq!(err.code(), "chunks");
    let PlanError::InvalidChunks(v) = &err else {
        panic!("{err:?}")
    };
    let shown: Vec<(&str, &str)> = v
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.rule.code()))
        .collect();
    assert_eq!(
        shown,
        [
            ("chunks[0].count", "range"),
            ("chunks[1].count", "range"),
            ("chunks[1].digest", "type"),
            ("chunks[2].digest", "type"),
        ]
    );
    assert!(
        err.to_string()
            .contains("chunks[0].count must be between 2 and 10000 (got \"1\")"),
        "{err}"
    );
}

/// What the worker does at send time: read chunk i, build its body with `SendToUsersRequest`
/// from the chunk's OpenIDs, the message, `send_ignore_reprint` and the batch's clientmsgid.
/// The body is byte for byte what an inline plan of the same list sends, but for the id.
#[test]
fn the_worker_builds_a_sealed_batch_as_an_inline_plan_would_but_for_the_clientmsgid() {
    let list: Vec<String> = (0..25_001).chain(0..10).map(oid).collect();
    let sealed = seal(&[&list.join("\n")]).unwrap();
    let opts = PlanOptions {
        send_ignore_reprint: Some(true),
        ..service()
    };
    let message = MassMessage::mpnews("MEDIA_ID");
    let plan = SendPlan::for_sealed_audience("job-1", message.clone(), &sealed.chunk_refs(), opts)
        .unwrap();
    let ids: Vec<&str> = list.iter().map(String::as_str).collect();
    let inline = SendPlan::for_openids("job-1", message, &ids, opts).unwrap();
    let base = ApiBase::default();
    for (batch, chunk) in plan.batches().iter().zip(&sealed.chunks) {
        // Read back from storage: the text and the digest the plan was made from.
        assert_eq!(
            chunk_digest(&chunk.openids).as_deref(),
            Some(&*chunk.digest)
        );
        let request = SendToUsersRequest {
            touser: chunk.openids.split('\n').map(str::to_owned).collect(),
            message: plan.message().clone(),
            send_ignore_reprint: plan.send_ignore_reprint(),
            clientmsgid: Some(batch.clientmsgid.clone()),
        };
        let http = request.build(&base).unwrap();
        let expected = inline.request(batch.index).unwrap().build(&base).unwrap();
        assert_eq!(http.path, expected.path);
        let mut body: serde_json::Value = serde_json::from_slice(&http.body).unwrap();
        let mut expected_body: serde_json::Value = serde_json::from_slice(&expected.body).unwrap();
        assert_eq!(body["clientmsgid"], batch.clientmsgid.as_str());
        assert_ne!(body["clientmsgid"], expected_body["clientmsgid"]);
        body["clientmsgid"] = serde_json::Value::Null;
        expected_body["clientmsgid"] = serde_json::Value::Null;
        assert_eq!(body, expected_body);
        // Byte for byte: the id is the only difference.
        let text = String::from_utf8(http.body).unwrap();
        let expected_text = String::from_utf8(expected.body).unwrap();
        assert_eq!(
            text.replace(&batch.clientmsgid, "ID"),
            expected_text.replace(&inline.batches()[batch.index].clientmsgid, "ID")
        );
    }
}
