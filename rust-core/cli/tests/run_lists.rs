//! `phonehome run --list` end to end, as root (the lab of `common`): a request to a host on an imported
//! tracker hosts file, served from an address on an imported malware CIDR list, raises one alert of each
//! list's kind, with the list named in the evidence.

mod common;

use common::{can_run, Lab, SERVER4};

const CLIENT_UID: u32 = 4242;
const LISTED_HOST: &str = "ads.tracker.example";

#[test]
fn run_raises_alerts_for_hosts_and_networks_on_imported_lists() {
    if !can_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("pixel"), b"GIF89a").unwrap();
    let hosts = dir.path().join("trackers.hosts");
    std::fs::write(&hosts, "# a hosts file\n127.0.0.1 localhost\n0.0.0.0 ads.tracker.example\n").unwrap();
    let networks = dir.path().join("c2.txt");
    std::fs::write(&networks, format!("! adblock-style comment\n{SERVER4}/32\n")).unwrap();
    let alerts_path = dir.path().join("alerts.jsonl");
    let log = dir.path().join("phonehome.log");

    let mut lab = Lab::up();
    lab.serve_directory(&www);
    let tracker_list = format!("tracker={}", hosts.display());
    let malware_list = format!("malware={}", networks.display());
    let engine = lab.start_phonehome(
        &log,
        &[
            "--list",
            &tracker_list,
            "--list",
            &malware_list,
            "--watch",
            "none",
            "--alerts",
            alerts_path.to_str().unwrap(),
            "--quiet",
        ],
    );
    let pin = format!("{LISTED_HOST}:8080:{SERVER4}");
    let url = format!("http://{LISTED_HOST}:8080/pixel");
    let out = lab.run_as(CLIENT_UID, &["curl", "-sS", "--max-time", "20", "--resolve", &pin, "-o", "-", &url]);
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"GIF89a");
    lab.stop_phonehome(engine);

    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("trackers.hosts: 1 domains, 0 networks, 1 lines skipped"), "{log}");
    assert!(log.contains("c2.txt: 0 domains, 1 networks, 0 lines skipped"), "{log}");
    let alerts: Vec<serde_json::Value> = std::fs::read_to_string(&alerts_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let of_kind = |kind: &str| {
        alerts.iter().find(|a| a["kind"] == kind).unwrap_or_else(|| panic!("no {kind} alert in {alerts:?}"))
    };
    let tracker = of_kind("tracker");
    assert_eq!(tracker["host"], LISTED_HOST);
    assert_eq!(tracker["uid"], CLIENT_UID);
    let evidence = tracker["evidence"].as_str().unwrap();
    assert!(evidence.contains("trackers.hosts") && evidence.contains(LISTED_HOST), "{evidence}");
    let malware = of_kind("malware");
    assert_eq!(malware["dst_ip"], SERVER4);
    assert!(malware["evidence"].as_str().unwrap().contains("c2.txt"), "{malware}");
}
