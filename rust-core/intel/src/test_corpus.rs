//! Access to the shared test corpus (`PHONEHOME_CORPUS`, default `../shared/corpus` beside the
//! project): absent corpus means skip, except under `CI=true` where it is a failure.

use std::path::PathBuf;

/// The path of a corpus file or folder, or `None` (after printing why) when it is absent.
pub(crate) fn corpus_path(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")));
    let path = root.join(relative);
    if path.exists() {
        return Some(path);
    }
    let why = format!("corpus path {} not found (set PHONEHOME_CORPUS)", path.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("skipped: {why}");
    None
}

/// The text of a corpus file, or `None` (after printing why) when the corpus is absent.
pub(crate) fn corpus_text(relative: &str) -> Option<String> {
    let path = corpus_path(relative)?;
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// AdGuard companiesdb's `trackers.json` and `companies.json` of the corpus, or `None` when absent.
pub(crate) fn companiesdb() -> Option<(String, String)> {
    Some((
        corpus_text("lists/adguard-companiesdb-trackers.json")?,
        corpus_text("lists/adguard-companiesdb-companies.json")?,
    ))
}
