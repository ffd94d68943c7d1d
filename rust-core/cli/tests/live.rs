//! The live engine through the product (`phonehome run`, with analysis), as root, with real clients in the
//! phone namespace and real servers in the internet namespace (tests/common): 100 MB HTTP and TLS downloads
//! and uploads verified by SHA-256, 1,000 concurrent short connections, DNS over UDP and TCP through the
//! virtual address, a UDP echo, a refused port, IPv4 and IPv6, clients as two uids; then the CSV must name
//! each flow's host (Host, SNI, DNS question), count its bytes within 1% and carry its uid. Server resets,
//! stalled servers and apps, and the flow caps are proven at the stack level in rust-core/stack/tests/live.rs.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test
mod common;

use std::path::Path;
use std::process::Stdio;

use common::{can_run, listening, readable_dir, self_signed_certificate, sh, wait_for, Csv, Lab, SERVER4, SERVER6};

const HTTP_UID: u32 = 4242;
const TLS_UID: u32 = 4343;
const BIG: u64 = 100 * 1024 * 1024;
const BURST: usize = 1000;
/// Body of GET /small (servers.py).
const SMALL_BODY: u64 = 1000;
/// HTTP response headers of servers.py are well under this.
const HEADERS_MAX: u64 = 300;
const VIRTUAL_DNS: &str = "10.0.0.53";
const ECHO_BYTES: u64 = 1200;

fn sha256(path: &Path) -> String {
    let out = sh(&["sha256sum", path.to_str().unwrap()]);
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// Runs `script` with `sh -c` in the phone namespace as `uid`; returns its stdout, panics on failure.
fn client(lab: &Lab, uid: u32, script: &str) -> String {
    let out = lab.run_as(uid, &["sh", "-c", script]);
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn assert_within_1_percent(what: &str, counted: u64, sent: u64) {
    assert!(counted.abs_diff(sent) * 100 <= sent, "{what}: counted {counted} bytes, sent {sent}");
}

#[test]
fn product_forwards_big_transfers_and_bursts_with_hosts_bytes_and_uids() {
    if !can_run() {
        return;
    }
    let dir = readable_dir();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let data = path("data.bin");
    sh(&["sh", "-c", &format!("head -c {BIG} /dev/urandom > {data}")]);
    let data_hash = sha256(Path::new(&data));
    let (cert, key) = self_signed_certificate(dir.path());
    let burst_config = path("burst.curl");
    let burst = "url = http://burst.example:8080/small\noutput = /dev/null\n".repeat(BURST);
    std::fs::write(&burst_config, burst).unwrap();

    let mut lab = Lab::up();
    let internet = lab.internet.clone();
    let servers = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/servers.py");
    lab.spawn(&internet, &["python3", servers, &data, &cert, &key], Stdio::inherit());
    wait_for("the test servers", || listening(&internet, "8080") && listening(&internet, "8443"));
    let csv_path = dir.path().join("flows.csv");
    let upstream_dns = format!("{SERVER4}:53");
    let engine = lab.start_phonehome(
        &dir.path().join("phonehome.log"),
        &["--dns-virtual", VIRTUAL_DNS, "--dns", &upstream_dns, "--csv", csv_path.to_str().unwrap(), "--quiet"],
    );

    let curl = "curl -sS --fail --max-time 60 -H Expect:";
    let http = format!("--resolve files.example:8080:{SERVER4} http://files.example:8080");
    let tls = format!("-k --resolve secure.example:8443:[{SERVER6}] https://secure.example:8443");
    for (uid, base) in [(HTTP_UID, &http), (TLS_UID, &tls)] {
        let downloaded = client(&lab, uid, &format!("{curl} {base}/big | sha256sum"));
        assert!(downloaded.starts_with(&data_hash), "download via {base} corrupted: {downloaded}");
        let uploaded = client(&lab, uid, &format!("{curl} -T {data} {base}/upload"));
        assert_eq!(uploaded, format!("{data_hash} {BIG}"), "upload via {base} corrupted");
    }
    let burst_out = client(
        &lab,
        TLS_UID,
        &format!(
            "{curl} --parallel --parallel-immediate --parallel-max {BURST} --resolve burst.example:8080:{SERVER4} \
             -w '%{{http_code}}\\n' -K {burst_config}"
        ),
    );
    assert_eq!(burst_out.lines().filter(|code| *code == "200").count(), BURST, "every short connection succeeds");
    // Copied where the client's uid can read it, and run by the system python: root's PATH may lead into
    // directories only root can enter (pyenv).
    let datagrams = path("datagrams.py");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/datagrams.py"), &datagrams).unwrap();
    let echo = ECHO_BYTES.to_string();
    let probe = ["env", "PATH=/usr/local/bin:/usr/bin:/bin", "python3", &datagrams, VIRTUAL_DNS];
    let probe = [&probe[..], &["udp-query.example", "tcp-query.example", SERVER6, &echo]].concat();
    let out = lab.run_as(HTTP_UID, &probe);
    assert!(out.status.success(), "DNS and UDP echo: {}", String::from_utf8_lossy(&out.stderr));
    // curl exit code 7 is "connection refused" (28 would be a timeout): the engine reflected the RST.
    let refused = lab.run_as(HTTP_UID, &["curl", "-sS", "--connect-timeout", "10", &format!("http://[{SERVER6}]:9/")]);
    assert_eq!(refused.status.code(), Some(7), "{}", String::from_utf8_lossy(&refused.stderr));
    lab.stop_phonehome(engine);

    let csv = Csv::read(&csv_path);
    let flows = |host: &str| -> Vec<&csv::StringRecord> {
        csv.rows.iter().filter(|r| csv.cell(r, "proto") == "TCP" && csv.cell(r, "host") == host).collect()
    };
    let bytes = |row: &csv::StringRecord, column: &str| -> u64 { csv.cell(row, column).parse().unwrap() };
    for (host, source, uid, server, phone) in [
        ("files.example", "http", HTTP_UID, SERVER4, common::PHONE4),
        ("secure.example", "sni", TLS_UID, SERVER6, common::PHONE6),
    ] {
        let found = flows(host);
        assert_eq!(found.len(), 2, "one download and one upload to {host}: {found:?}");
        for row in &found {
            assert_eq!(csv.cell(row, "host_source"), source, "{row:?}");
            assert_eq!(csv.cell(row, "uid"), uid.to_string(), "{row:?}");
            assert_eq!((csv.cell(row, "dst_ip"), csv.cell(row, "src_ip")), (server, phone), "{row:?}");
        }
        let (down, up) = if bytes(found[0], "bytes_in") > bytes(found[1], "bytes_in") {
            (found[0], found[1])
        } else {
            (found[1], found[0])
        };
        assert_within_1_percent(&format!("download from {host}"), bytes(down, "bytes_in"), BIG);
        assert_within_1_percent(&format!("upload to {host}"), bytes(up, "bytes_out"), BIG);
    }
    let burst_flows = flows("burst.example");
    assert_eq!(burst_flows.len(), BURST, "one flow per short connection");
    let unattributed: Vec<_> = burst_flows.iter().filter(|r| csv.cell(r, "uid") != TLS_UID.to_string()).collect();
    assert!(
        unattributed.is_empty(),
        "{} of {BURST} short flows without their uid: {unattributed:?}",
        unattributed.len()
    );
    for row in burst_flows {
        let received = bytes(row, "bytes_in");
        assert!((SMALL_BODY..SMALL_BODY + HEADERS_MAX).contains(&received), "short flow received {received}: {row:?}");
    }

    for (name, proto) in [("udp-query.example", "UDP"), ("tcp-query.example", "TCP")] {
        let row = csv.rows.iter().find(|r| csv.cell(r, "host") == name).unwrap_or_else(|| panic!("no flow for {name}"));
        assert_eq!((csv.cell(row, "proto"), csv.cell(row, "dst_port")), (proto, "53"), "{row:?}");
        assert_eq!(csv.cell(row, "host_source"), "dns", "{row:?}");
        assert_eq!(csv.cell(row, "uid"), HTTP_UID.to_string(), "{row:?}");
    }
    let echo = csv
        .rows
        .iter()
        .find(|r| csv.cell(r, "proto") == "UDP" && csv.cell(r, "dst_port") == "7")
        .unwrap_or_else(|| panic!("no UDP echo flow in {:?}", csv.rows));
    assert_eq!(csv.cell(echo, "dst_ip"), SERVER6, "{echo:?}");
    assert_eq!(csv.cell(echo, "uid"), HTTP_UID.to_string(), "{echo:?}");
    assert_eq!((bytes(echo, "bytes_out"), bytes(echo, "bytes_in")), (ECHO_BYTES, ECHO_BYTES), "{echo:?}");
}
