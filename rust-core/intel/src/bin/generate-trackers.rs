//! Regenerates the bundled tracker table `rust-core/intel/data/trackers.bin` from AdGuard companiesdb.
//!
//! Usage: `cargo run -p phonehome-intel --bin generate-trackers [-- LISTS_DIR]`, where `LISTS_DIR` holds
//! `adguard-companiesdb-trackers.json` and `adguard-companiesdb-companies.json` (default: the shared
//! corpus, `$PHONEHOME_CORPUS/lists` or `../shared/corpus/lists` beside the project). The output is
//! byte-identical for identical input; a test compares it with the committed table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use phonehome_intel::TrackerTable;

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(default_dir);
    match generate(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("generate-trackers: {error}");
            ExitCode::FAILURE
        }
    }
}

fn default_dir() -> PathBuf {
    std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
        .join("lists")
}

fn generate(dir: &Path) -> Result<(), String> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let trackers = read("adguard-companiesdb-trackers.json")?;
    let companies = read("adguard-companiesdb-companies.json")?;
    let (table, report) = TrackerTable::from_companiesdb(&trackers, Some(&companies))
        .map_err(|e| format!("cannot convert companiesdb: {e}"))?;
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/trackers.bin");
    std::fs::write(&out, table.as_bytes()).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!(
        "{}: companiesdb of {}, {} domains, {} trackers, {} companies, {} bytes ({} entries skipped)",
        out.display(),
        table.updated(),
        table.domain_count(),
        table.tracker_count(),
        table.company_count(),
        table.as_bytes().len(),
        report.skipped
    );
    Ok(())
}
