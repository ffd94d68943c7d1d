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

/// The bytes of a corpus file, or `None` (after printing why) when the corpus is absent.
pub(crate) fn corpus_bytes(relative: &str) -> Option<Vec<u8>> {
    let path = corpus_path(relative)?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The text of a corpus file, or `None` (after printing why) when the corpus is absent.
pub(crate) fn corpus_text(relative: &str) -> Option<String> {
    corpus_bytes(relative).map(|b| String::from_utf8_lossy(&b).into_owned())
}
