//! What a careless user does: outputs over inputs, endless or odd input files, a full standard output.

mod support;

use std::process::{Command, Stdio};

use support::{ids, phonehome, sample, text, write};

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let capture = write(dir.path(), "c.pcap", &std::fs::read(sample()).unwrap());
    let before = std::fs::read(&capture).unwrap();
    let out = phonehome(&["analyze".as_ref(), capture.as_ref(), "--csv".as_ref(), capture.as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is also an input (capture)"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&capture).unwrap(), before, "the capture is untouched");

    let both = dir.path().join("both.out");
    let out = phonehome(&[
        "analyze".as_ref(),
        capture.as_ref(),
        "--csv".as_ref(),
        both.as_ref(),
        "--jsonl".as_ref(),
        both.as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--csv and --jsonl name the same file"), "{}", text(&out.stderr));
    assert!(!both.exists());

    let out = phonehome(&[
        "analyze".as_ref(),
        capture.as_ref(),
        "--alerts".as_ref(),
        ids().as_ref(),
        "--ids".as_ref(),
        ids().as_ref(),
    ]);
    assert!(text(&out.stderr).contains("is also an input (--ids)"), "{}", text(&out.stderr));

    let db = dir.path().join("h.db");
    let out = phonehome(&["analyze".as_ref(), capture.as_ref(), "--db".as_ref(), db.as_ref(), "-q".as_ref()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = std::fs::read(&db).unwrap();
    let out = phonehome(&["export".as_ref(), "--db".as_ref(), db.as_ref(), "--csv".as_ref(), db.as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&db).unwrap(), store, "the store is untouched");
}

#[test]
fn a_full_standard_output_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .args(["analyze".as_ref(), sample().as_os_str()])
        .stdout(Stdio::from(std::fs::File::create("/dev/full").unwrap()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot write to standard output: No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn endless_inputs_are_refused_within_their_caps() {
    for option in ["--ids", "--list"] {
        let value = if option == "--ids" { "/dev/zero" } else { "tracker=/dev/zero" };
        let out = phonehome(&["analyze".as_ref(), sample().as_os_str(), option.as_ref(), value.as_ref()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("larger than 67108864 bytes"), "{option}: {}", text(&out.stderr));
    }
}

#[test]
fn a_latin1_list_is_read_and_a_network_covering_everything_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let list =
        write(dir.path(), "fr.txt", b"# Liste \xe9tablie \xe0 la main\ntracking.intl.miui.com\n0.0.0.0/0\n::/0\n");
    let alerts = dir.path().join("a.jsonl");
    let spec = format!("tracker={}", list.display());
    let out = phonehome(&[
        "analyze".as_ref(),
        sample().as_os_str(),
        "--list".as_ref(),
        spec.as_ref(),
        "--alerts".as_ref(),
        alerts.as_ref(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("1 domains, 0 networks, 2 lines skipped (1 with bytes that are not UTF-8, replaced)"),
        "{stderr}"
    );
    let alerts = std::fs::read_to_string(&alerts).unwrap();
    let tracker_alerts = alerts.lines().filter(|l| l.contains("\"kind\":\"tracker\"")).count();
    let miui =
        alerts.lines().filter(|l| l.contains("\"kind\":\"tracker\"") && l.contains("tracking.intl.miui.com")).count();
    assert!(miui >= 1 && tracker_alerts == miui, "only the listed host, not every flow: {alerts}");
}

#[test]
fn an_invalid_identifier_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "ids.toml", b"imei = \"12\"\n");
    let out = phonehome(&["analyze".as_ref(), sample().as_os_str(), "--ids".as_ref(), bad.as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("is invalid").count(), 1, "{stderr}");
    assert!(stderr.contains("identifier `imei` is invalid"), "{stderr}");
}
