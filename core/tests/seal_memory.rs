//! What sealing 1,000,000 OpenIDs costs in memory: the worker's isolate has 128 MB.
//!
//! Measured as the growth of the process's peak resident set (Linux `VmHWM`, reset between the
//! phases through `/proc/self/clear_refs`), in a test binary of its own so that no other test
//! runs beside it. The workspace forbids `unsafe`, so no counting allocator: these are the pages
//! glibc's allocator touched. Run with `--nocapture` to see the figures.

#![cfg(target_os = "linux")]

use wxmass::plan::{read_audience_part, AudienceSealer, PartFormat};

/// Appends a deterministic, valid 28-character OpenID for `n` to `out`.
fn push_oid(out: &mut String, n: u64) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    out.push_str("oWx");
    let mut x = n;
    for _ in 0..25 {
        out.push(ALPHABET[(x % 64) as usize] as char);
        x /= 64;
    }
}

/// A `VmHWM` / `VmRSS` line of `/proc/self/status`, in bytes.
fn status(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak to the current resident set; `false` where the kernel does not allow it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

const MB: f64 = 1_000_000.0;

/// Part `i` of 8: 125,000 OpenIDs, one a line, every hundredth repeating an earlier one. One
/// string, as a request body arrives, so that the figures are the sealer's and not a
/// generator's.
fn part_text(i: u64) -> String {
    let mut text = String::with_capacity(125_000 * 29);
    for j in 0..125_000u64 {
        let n = i * 125_000 + j;
        push_oid(&mut text, if j % 100 == 99 { n / 2 } else { n });
        text.push('\n');
    }
    text
}

/// Pushes 8 parts read one at a time (each part's text dropped after its push), then seals.
/// Returns the peak resident set while pushing and while sealing, over the process's resident
/// set before the sealer was made (a fresh process: glibc keeps freed pages resident, so a
/// second measurement in one process would reuse the first one's pages).
fn seal_million(reserve: bool) -> Option<(f64, f64, usize)> {
    let start = status("VmRSS:")?;
    let mut sealer = AudienceSealer::new(Some(1));
    if reserve {
        // What the worker knows before sealing: the parts' valid_count, summed.
        sealer.reserve(1_000_000);
    }
    let mut first_position = 0;
    for i in 0..8 {
        let text = part_text(i);
        let part = read_audience_part(text.as_bytes(), PartFormat::Lines, first_position).ok()?;
        drop(text);
        first_position += part.received;
        sealer.push(&part.valid_text);
    }
    let pushing = status("VmHWM:")?.saturating_sub(start) as f64 / MB;
    if !reset_peak() {
        return None;
    }
    let sealed = sealer.finish().ok()?;
    let sealing = status("VmHWM:")?.saturating_sub(start) as f64 / MB;
    Some((pushing, sealing, sealed.chunks.len()))
}

/// The measurement, in the process the test below starts for each configuration.
#[test]
fn measure_in_a_fresh_process() {
    let Some(config) = std::env::var_os("WXMASS_SEAL_MEMORY") else {
        return;
    };
    let reserve = config == "reserve";
    match seal_million(reserve) {
        Some((pushing, sealing, chunks)) => {
            println!("MEASURED {pushing:.1} {sealing:.1} {chunks}")
        }
        None => println!("UNMEASURABLE"),
    }
}

#[test]
fn sealing_a_million_openids_stays_far_under_the_isolates_128_mb() {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    for config in ["grow", "reserve"] {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "measure_in_a_fresh_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("WXMASS_SEAL_MEMORY", config)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text
            .lines()
            .find_map(|l| l.split_once("MEASURED ").map(|(_, m)| m))
        else {
            eprintln!("peak resident set not measurable here ({text}); skipped");
            return;
        };
        let figures: Vec<f64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        let (pushing, sealing, chunks) = (figures[0], figures[1], figures[2]);
        println!(
            "seal 1,000,000 OpenIDs (1% duplicates, 8 parts), {config}: peak resident set \
             +{pushing:.1} MB while pushing, +{sealing:.1} MB while sealing, {chunks} chunks"
        );
        assert_eq!(chunks, 100.0);
        // The packed list (24 MB), the index (16.8 MB), one part's text and valid_text (~7 MB)
        // and the growth of the list and the index.
        assert!(pushing < 64.0, "{pushing} MB");
        // finish frees the index, then writes the chunks' 29 MB of text while it releases the
        // packed list: never both in full.
        assert!(sealing < 64.0, "{sealing} MB");
    }
}
