//! `phonehome run` end to end, as root: a "phone" network namespace whose default route is a TUN device
//! with phonehome attached, an "internet" namespace with an HTTP server behind a veth, and curl run as
//! another uid in the phone namespace. After SIGTERM the flow must be in the CSV with its host, byte
//! counts and uid, and the identifier in the request must be an alert. Everything is removed at the end.

mod common;

use std::path::Path;

use common::{can_run, Csv, Lab, SERVER4};

const CLIENT_UID: u32 = 4242;
const IMEI: &str = "490154203237518";

#[test]
fn run_forwards_and_reports_flows_with_uid_and_alerts() {
    if !can_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(www.join("data.bin"), &body).unwrap();
    let ids = dir.path().join("ids.toml");
    std::fs::write(&ids, format!("imei = \"{IMEI}\"\n")).unwrap();
    let (csv_path, alerts_path) = (dir.path().join("flows.csv"), dir.path().join("alerts.jsonl"));

    let mut lab = Lab::up();
    lab.serve_directory(&www);

    let engine = lab.start_phonehome(
        &dir.path().join("phonehome.log"),
        &[
            "--ids",
            ids.to_str().unwrap(),
            "--csv",
            csv_path.to_str().unwrap(),
            "--alerts",
            alerts_path.to_str().unwrap(),
            "--quiet",
        ],
    );

    let url = format!("http://{SERVER4}:8080/data.bin?imei={IMEI}");
    let out = lab.run_as(CLIENT_UID, &["curl", "-sS", "--max-time", "20", "-o", "-", &url]);
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, body, "the download arrives intact through phonehome");
    lab.stop_phonehome(engine);

    let csv = Csv::read(&csv_path);
    let flow = csv
        .rows
        .iter()
        .find(|r| csv.cell(r, "dst_ip") == SERVER4 && csv.cell(r, "dst_port") == "8080")
        .unwrap_or_else(|| panic!("no flow to the server in {:?}", csv.rows));
    assert_eq!(csv.cell(flow, "proto"), "TCP");
    assert_eq!(csv.cell(flow, "src_ip"), "10.0.0.2");
    assert_eq!(csv.cell(flow, "uid"), CLIENT_UID.to_string());
    assert_eq!(csv.cell(flow, "l7"), "HTTP");
    assert_eq!(csv.cell(flow, "host"), SERVER4);
    assert_eq!(csv.cell(flow, "host_source"), "http");
    let bytes_in: u64 = csv.cell(flow, "bytes_in").parse().unwrap();
    assert!(bytes_in > body.len() as u64 && bytes_in < body.len() as u64 + 1_000, "bytes_in {bytes_in}");
    assert_eq!(csv.cell(flow, "severity"), "high");

    let alerts = std::fs::read_to_string(&alerts_path).unwrap();
    let leak = alerts
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|a| a["kind"] == "identifier_leak")
        .expect("the IMEI in the URL is an alert");
    assert_eq!(leak["identifier"], "imei");
    assert_eq!(leak["uid"], CLIENT_UID);
    assert!(!alerts.contains(IMEI), "identifiers are redacted in alerts");
    drop(lab);
    assert!(!Path::new(&format!("/run/netns/phr-p{}", std::process::id())).exists());
}
