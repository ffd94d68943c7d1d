//! `phonehome whois` and `phonehome --version` run as a user runs them: the real binary.

use std::process::{Command, Output};

fn phonehome(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phonehome")).args(args).output().expect("runs")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn explains_the_seed_case_with_owners_knowledge_and_alerts() {
    let text = stdout(&phonehome(&["whois", "tracking.intl.miui.com@47.241.1.1"]));
    for expected in [
        "tracking.intl.miui.com @ 47.241.1.1",
        "network owner   Alibaba (CN): curated ASN table (https://bgp.he.net/AS45102)",
        "domain owner    Xiaomi (CN): curated domain-owner table (miui.com)",
        "known           vendor telemetry of Xiaomi",
        "tracker table   miui.com: Xiaomi (misc)",
        "alerts at --watch CN,RU",
        "medium watched_network",
        "medium vendor_telemetry",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    assert!(!text.contains("watched_country"), "the server is registered in the US:\n{text}");
}

#[test]
fn json_lines_carry_the_typed_explanation() {
    let text = stdout(&phonehome(&["whois", "--json", "www.cnnic.cn", "77.88.8.8", "[2a02:6b8::2:242]"]));
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["domain"]["state_body"]["body"], "China Internet Network Information Center (CNNIC)");
    assert_eq!(lines[0]["findings"][0]["kind"], "government_domain");
    assert_eq!(lines[1]["network"]["asn"], 13238);
    assert_eq!(lines[1]["network"]["owner"]["company"], "Yandex");
    assert!(lines[1]["domain"].is_null());
    assert_eq!(lines[2]["network"]["country"], "RU");
}

#[test]
fn the_watchlist_and_imported_lists_change_the_answer() {
    let quiet = stdout(&phonehome(&["whois", "--watch", "none", "77.88.8.8"]));
    assert!(quiet.contains("alerts at --watch none") && quiet.contains("    none"), "{quiet}");
    let dir = tempfile::tempdir().expect("dir");
    let list = dir.path().join("mine.txt");
    std::fs::write(&list, "||example.org^\n").expect("list");
    let spec = format!("malware={}", list.display());
    let text = stdout(&phonehome(&["whois", "--list", &spec, "cdn.example.org"]));
    assert!(text.contains("lists           mine.txt (malware): example.org"), "{text}");
    assert!(text.contains("high   malware"), "{text}");
}

#[test]
fn what_is_neither_a_host_nor_an_address_is_refused() {
    for bad in ["not a host", "host@999.1.1.1"] {
        let out = phonehome(&["whois", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("phonehome: error:"), "{bad}");
    }
    assert_eq!(phonehome(&["whois"]).status.code(), Some(2), "a target is required");
}

#[test]
fn version_dates_and_credits_the_embedded_data() {
    let text = stdout(&phonehome(&["--version"]));
    for expected in [
        "IP data of 2026-06-17",
        "ip-location-db by sapics",
        "Tracker data of 2026-07-20 (5125 domains",
        "AdGuard companiesdb",
        "CC BY-SA 4.0",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
}
