//! The worker's files read top-down: each imports only files below it, so none imports the
//! route table and there is no circle. The layers are the numbered lists in the doc comments
//! of `src/lib.rs` (the crate's files and folders), `src/store/mod.rs` and `src/admin/mod.rs`
//! (each folder's files); a list item may name several files of one layer, which must not
//! import each other. A new file must be listed.
//!
//! An import is a path in code (comments and the trailing `#[cfg(test)]` module are skipped):
//! `crate::name` from anywhere, `super::name` and `use super::{…}` inside a folder, and in a
//! folder's `mod.rs` a path through one of its files (`view::…`). `crate::Name` that is no
//! file is an item of `lib.rs`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Each listed file's layer (0 at the top), by its name without `.rs` or `/`.
fn layers(doc_file: &Path) -> BTreeMap<String, usize> {
    let text = fs::read_to_string(doc_file).expect("readable source");
    // Items, with their indented continuation lines joined.
    let mut items: Vec<String> = Vec::new();
    let mut in_item = false;
    for line in text.lines().take_while(|l| l.starts_with("//!")) {
        let line = line.trim_start_matches("//!");
        let item = line.trim_start();
        let numbered = item
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if let Some((_, rest)) = numbered {
            items.push(rest.to_owned());
            in_item = true;
        } else if in_item && line.starts_with("  ") {
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(item);
            }
        } else {
            in_item = false;
        }
    }
    let mut layer_of = BTreeMap::new();
    for (layer, item) in items.iter().enumerate() {
        // The files of an item are the backticked names before its description.
        let names = item.split(':').next().unwrap_or("");
        for name in names.split('`').skip(1).step_by(2) {
            let module = name.trim_end_matches(".rs").trim_end_matches('/');
            layer_of.insert(module.to_owned(), layer);
        }
    }
    assert!(
        !layer_of.is_empty(),
        "{} lists no layers",
        doc_file.display()
    );
    layer_of
}

/// The code of a file: no comments, nothing from `#[cfg(test)]` on.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("readable source");
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names that follow `prefix` in `code` (`crate::` → `store`), and each name of a
/// `prefix{a, b::c}` group (`a`, `b`).
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                let name = part.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() {
                    names.push(name.to_owned());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .expect("a file name")
        .to_owned()
}

/// `from` may import `to` only if `to` is on a lower layer.
fn check(
    problems: &mut Vec<String>,
    layer_of: &BTreeMap<String, usize>,
    file: &str,
    from: &str,
    to: &str,
) {
    if from == to {
        return;
    }
    match (layer_of.get(from), layer_of.get(to)) {
        (Some(a), Some(b)) if b > a => {}
        (Some(_), Some(_)) => {
            problems.push(format!("{file} imports {to}, which is not below {from}"))
        }
        (None, _) => problems.push(format!("{file}: {from} is in no layer list")),
        (_, None) => problems.push(format!("{file} imports {to}, which is in no layer list")),
    }
}

#[test]
fn every_file_imports_only_files_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let crate_layers = layers(&src.join("lib.rs"));
    let mut problems = Vec::new();

    // The crate: a file's module is its name, or its folder's.
    let mut files: Vec<(String, PathBuf)> = rust_files(&src)
        .into_iter()
        .map(|p| (stem(&p), p))
        .collect();
    let folders: Vec<String> = fs::read_dir(&src)
        .expect("readable src")
        .map(|e| e.expect("folder entry").path())
        .filter(|p| p.is_dir())
        .map(|p| stem(&p))
        .collect();
    for folder in &folders {
        for p in rust_files(&src.join(folder)) {
            files.push((folder.clone(), p));
        }
    }
    for (module, path) in &files {
        if !crate_layers.contains_key(module) {
            problems.push(format!("{} is in no layer list", path.display()));
        }
        let shown = path
            .strip_prefix(&src)
            .unwrap_or(path)
            .display()
            .to_string();
        for name in names_after(&code(path), "crate::") {
            let to = if crate_layers.contains_key(&name) {
                name
            } else {
                "lib".to_owned()
            };
            check(&mut problems, &crate_layers, &shown, module, &to);
        }
    }

    // Each folder: `super::` and its mod.rs's own paths, by the folder's list.
    for folder in &folders {
        let dir = src.join(folder);
        let folder_layers = layers(&dir.join("mod.rs"));
        let resolve = |name: &str| {
            if dir.join(format!("{name}.rs")).exists() {
                name.to_owned()
            } else {
                "mod".to_owned()
            }
        };
        for path in rust_files(&dir) {
            let from = stem(&path);
            let shown = format!("{folder}/{from}.rs");
            if !folder_layers.contains_key(&from) {
                problems.push(format!("{shown} is in no layer list"));
            }
            let code = code(&path);
            let mut targets = names_after(&code, "super::");
            targets.extend(names_after(&code, &format!("crate::{folder}::")));
            if from == "mod" {
                // `mod x;` declares a file; a path through it (`x::…`) imports it.
                let declared: Vec<String> = code
                    .lines()
                    .filter_map(|l| {
                        let l = l.trim().trim_start_matches("pub ");
                        l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
                    })
                    .collect();
                for child in &declared {
                    let used = code.contains(&format!(" {child}::"))
                        || code.contains(&format!("({child}::"));
                    if used {
                        check(&mut problems, &folder_layers, &shown, &from, child);
                    }
                }
                continue;
            }
            for name in targets {
                check(
                    &mut problems,
                    &folder_layers,
                    &shown,
                    &from,
                    &resolve(&name),
                );
            }
        }
    }

    assert!(
        problems.is_empty(),
        "imports that do not run down:\n{}",
        problems.join("\n")
    );
}
