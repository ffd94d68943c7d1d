//! `phonehome analyze` run as a user runs it: the real binary on real capture files.

mod support;

use std::path::Path;
use std::process::Command;

use support::{ids, phonehome, sample, text};

#[test]
fn the_bundled_sample_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("sample.pcap");
    let status = Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "phonehome-testdata", "--bin", "make-sample", "--"])
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read(fresh).unwrap(), std::fs::read(sample()).unwrap(), "run make-sample to refresh it");
}

#[test]
fn analyses_the_sample_into_contract_csv_jsonl_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let (csv_path, jsonl_path, alerts_path) =
        (dir.path().join("f.csv"), dir.path().join("f.jsonl"), dir.path().join("a.jsonl"));
    let out = phonehome(&[
        "analyze".as_ref(),
        sample().as_os_str(),
        "--ids".as_ref(),
        ids().as_os_str(),
        "--csv".as_ref(),
        csv_path.as_os_str(),
        "--jsonl".as_ref(),
        jsonl_path.as_os_str(),
        "--alerts".as_ref(),
        alerts_path.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("11 flows"), "{stdout}");
    assert!(stdout.contains("HIGH (5)"), "{stdout}");

    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(&header[..21], phonehome_engine::CONTRACT_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 11);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let registration = rows.iter().find(|r| &r[column("dst_port")] == "9988").expect("registration flow");
    assert_eq!(&registration[column("host")], "zzhc.vnet.cn");
    assert_eq!(&registration[column("host_source")], "http");
    assert_eq!(&registration[column("l7")], "HTTP");
    assert_eq!(&registration[column("country")], "CN");
    assert_eq!(&registration[column("severity")], "high");
    assert!(registration[column("flags")].contains("identifier_leak"));
    let telemetry = rows.iter().find(|r| &r[column("host")] == "tracking.intl.miui.com" && &r[column("l7")] == "TLS");
    let telemetry = telemetry.expect("TLS flow named by SNI");
    assert_eq!(&telemetry[column("host_source")], "sni");
    assert_eq!(&telemetry[column("proto")], "TCP");
    assert!(telemetry[column("first_seen")].ends_with('Z'));

    let flows: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl_path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(flows.len(), 11);
    let alerts: Vec<serde_json::Value> =
        std::fs::read_to_string(&alerts_path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let leak = alerts
        .iter()
        .find(|a| a["kind"] == "identifier_leak" && a["identifier"] == "imei")
        .expect("the IMEI leak is reported");
    for field in ["ts", "severity", "kind", "proto", "src_ip", "src_port", "dst_ip", "dst_port", "host", "country"] {
        assert!(!leak[field].is_null(), "{field} missing in {leak}");
    }
    assert_eq!(leak["severity"], "high");
    assert_eq!(leak["encoding"], "plain");
    assert_eq!(leak["dst_port"], 9988);
    let evidence = leak["evidence"].as_str().unwrap();
    assert!(!evidence.contains("490154203237518"), "evidence must be redacted: {evidence}");
    assert!(alerts.iter().all(|a| !a.to_string().contains("490154203237518")));
    // The government lookup is a DNS lookup alone: at most low.
    let gov = alerts.iter().find(|a| a["kind"] == "government_domain").expect("gov.cn lookup");
    assert_eq!(gov["severity"], "low");
}

#[test]
fn a_truncated_capture_is_analysed_up_to_the_cut_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample()).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let csv_path = dir.path().join("f.csv");
    let out = phonehome(&["analyze".as_ref(), cut.as_os_str(), "--csv".as_ref(), csv_path.as_os_str()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("truncated after packet 33; analysed the 33 packets before it"), "{stderr}");
    // The flows begun in those 33 packets: 3 DNS lookups, 2 HTTP requests and the TLS connection.
    let rows = csv::Reader::from_path(&csv_path).unwrap().records().count();
    assert_eq!(rows, 6);
}

#[test]
fn nothing_readable_exits_1_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture at all, just text").unwrap();
    let out = phonehome(&["analyze".as_ref(), garbage.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not a pcap or pcapng file"), "{stderr}");
    assert!(stderr.contains("no packet could be read"), "{stderr}");

    let missing = dir.path().join("missing.pcap");
    let out = phonehome(&["analyze".as_ref(), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.pcap"));
}

#[test]
fn one_bad_capture_among_good_ones_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pcap");
    std::fs::write(&garbage, b"junk").unwrap();
    let out = phonehome(&["analyze".as_ref(), garbage.as_os_str(), sample().as_os_str()]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("warning"));
    assert!(text(&out.stdout).contains("11 flows"));
}

#[test]
fn wrong_usage_exits_2() {
    let out = phonehome(&["analyze".as_ref(), sample().as_os_str(), "--no-such-flag".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    let out = phonehome(&["analyze".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    let out = phonehome(&["analyze".as_ref(), sample().as_os_str(), "--watch".as_ref(), "China".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("country code"));
}

#[test]
fn a_full_disk_is_a_clear_error() {
    let out = phonehome(&["analyze".as_ref(), sample().as_os_str(), "--csv".as_ref(), "/dev/full".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("/dev/full") && stderr.contains("No space left"), "{stderr}");
}

#[test]
fn a_store_keeps_flows_for_export_and_first_contacts_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (db, alerts, csv_direct, csv_exported) =
        (dir.path().join("h.db"), dir.path().join("a.jsonl"), dir.path().join("d.csv"), dir.path().join("e.csv"));
    let analyze = |alerts: &Path, csv: &Path| {
        let out = phonehome(&[
            "analyze".as_ref(),
            sample().as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
            "--new-destinations".as_ref(),
            "--alerts".as_ref(),
            alerts.as_os_str(),
            "--csv".as_ref(),
            csv.as_os_str(),
            "--quiet".as_ref(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let alerts = std::fs::read_to_string(alerts).unwrap();
        alerts.lines().filter(|l| l.contains("\"kind\":\"new_destination\"")).count()
    };
    // 7 destinations (by host, else address) in the sample, all new the first time, none the second.
    assert_eq!(analyze(&alerts, &csv_direct), 7);
    assert_eq!(analyze(&alerts, &dir.path().join("again.csv")), 0);

    let out =
        phonehome(&["export".as_ref(), "--db".as_ref(), db.as_os_str(), "--csv".as_ref(), csv_exported.as_os_str()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = |path: &Path| -> Vec<csv::StringRecord> {
        csv::Reader::from_path(path).unwrap().records().map(Result::unwrap).collect()
    };
    // Both runs are in the store; the export is the same records as the direct CSV, twice.
    let (direct, exported) = (rows(&csv_direct), rows(&csv_exported));
    assert_eq!(exported.len(), 2 * direct.len());
    for row in &direct {
        assert!(exported.contains(row), "{row:?} missing from the export");
    }
}
