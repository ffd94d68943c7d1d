//! The output contract pinned byte for byte: `phonehome analyze` on the bundled sample must write exactly the
//! committed CSV, flow JSON lines and alert JSON lines, and the store must give the same CSV back; on every
//! capture of the nDPI corpus, the SHA-256 of each output must match the committed digest. Refactors must
//! leave all of them unchanged. After an intended change of the output, regenerate with
//! `PHONEHOME_UPDATE_GOLDEN=1 cargo test -p phonehome --test golden` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

#[path = "../../packet/tests/support/ndpi.rs"]
mod ndpi;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

fn updating() -> bool {
    std::env::var_os("PHONEHOME_UPDATE_GOLDEN").is_some()
}

/// Runs the binary; panics with its stderr when it fails.
fn phonehome<S: AsRef<std::ffi::OsStr>>(args: &[S]) {
    let out = Command::new(env!("CARGO_BIN_EXE_phonehome")).args(args).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The three outputs of `analyze` on `captures` with `extra` arguments: (flows CSV, flows JSONL, alerts JSONL).
fn analyze(captures: &[&Path], extra: &[&str], dir: &Path) -> [Vec<u8>; 3] {
    let paths = ["flows.csv", "flows.jsonl", "alerts.jsonl"].map(|name| dir.join(name));
    let mut args: Vec<std::ffi::OsString> = vec!["analyze".into(), "--quiet".into()];
    args.extend(captures.iter().map(|path| path.as_os_str().to_owned()));
    for (flag, path) in ["--csv", "--jsonl", "--alerts"].iter().zip(&paths) {
        args.push(flag.into());
        args.push(path.as_os_str().to_owned());
    }
    args.extend(extra.iter().map(Into::into));
    phonehome(&args);
    paths.map(|path| std::fs::read(path).expect("output written"))
}

fn assert_same(name: &str, actual: &[u8]) {
    let path = golden(name);
    if updating() {
        std::fs::write(&path, actual).expect("golden written");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        actual == expected.as_slice(),
        "{name} differs from the golden file:\n--- expected\n{}\n--- actual\n{}",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn the_sample_outputs_are_byte_identical_to_the_golden_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ids = repo("samples/ids.toml");
    let extra = ["--ids", ids.to_str().expect("utf-8 path"), "--new-destinations"];
    let [csv, jsonl, alerts] = analyze(&[&repo("samples/phone-session.pcap")], &extra, dir.path());
    assert_same("phone-session.csv", &csv);
    assert_same("phone-session.jsonl", &jsonl);
    assert_same("phone-session.alerts.jsonl", &alerts);
}

#[test]
fn the_store_exports_the_sample_as_analyze_wrote_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("history.db");
    let ids = repo("samples/ids.toml");
    let extra = ["--ids", ids.to_str().expect("utf-8 path"), "--new-destinations", "--db", db.to_str().expect("path")];
    let [csv, _, _] = analyze(&[&repo("samples/phone-session.pcap")], &extra, dir.path());
    let exported = dir.path().join("exported.csv");
    phonehome(&["export".as_ref(), "--db".as_ref(), db.as_os_str(), "--csv".as_ref(), exported.as_os_str()]);
    let rows = |bytes: &[u8]| {
        let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        lines.sort();
        lines
    };
    // The store orders by start time, analyze by end: the same rows, byte for byte.
    assert_eq!(rows(&std::fs::read(&exported).expect("exported")), rows(&csv));
    let alerts = dir.path().join("exported.jsonl");
    phonehome(&["export".as_ref(), "--db".as_ref(), db.as_os_str(), "--jsonl".as_ref(), alerts.as_os_str()]);
    let golden_alerts = std::fs::read(golden("phone-session.alerts.jsonl")).expect("golden alerts");
    assert_eq!(rows(&std::fs::read(&alerts).expect("exported")), rows(&golden_alerts));
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_ndpi_corpus_outputs_match_their_digests() {
    let Some(ndpi) = ndpi::ndpi_dir() else { return };
    let captures = ndpi::captures(&ndpi);
    assert!(!captures.is_empty(), "no capture in {}", ndpi.display());
    let dir = tempfile::tempdir().expect("tempdir");
    // One line per capture: name, then the digests of the flows CSV, the flows JSON lines and the alerts.
    let mut digests = String::new();
    for capture in &captures {
        let [csv, jsonl, alerts] = analyze(&[capture], &["--new-destinations"], dir.path());
        let name = capture.file_name().and_then(|n| n.to_str()).expect("utf-8 name");
        digests.push_str(&format!("{name} {} {} {}\n", hex(&csv), hex(&jsonl), hex(&alerts)));
    }
    if updating() {
        std::fs::write(golden("ndpi.sha256"), &digests).expect("golden written");
        return;
    }
    let expected = std::fs::read_to_string(golden("ndpi.sha256")).expect("golden digests");
    let differing: Vec<&str> = digests
        .lines()
        .zip(expected.lines())
        .filter(|(actual, expected)| actual != expected)
        .map(|(actual, _)| actual.split(' ').next().unwrap_or(actual))
        .collect();
    assert!(differing.is_empty(), "outputs changed for {} capture(s): {differing:?}", differing.len());
    assert_eq!(digests.lines().count(), expected.lines().count(), "the corpus has other captures than the digests");
}
