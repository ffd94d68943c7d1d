//! `phonehome run --block-*` end to end, as root (the lab of `common`): connections to a blocked domain
//! (its name learnt from the answer of the virtual DNS), network or app are refused at once with a RST,
//! so curl fails with exit code 7 ("connection refused") instead of timing out, while others go through.

mod common;

use std::process::Stdio;

use common::{can_run, listening, readable_dir, self_signed_certificate, wait_for, Lab, SERVER4, SERVER6};

const VIRTUAL_DNS: &str = "10.0.0.53";
const ALLOWED_UID: u32 = 4242;
const BLOCKED_UID: u32 = 4343;

/// One DNS query over UDP: `python3 -c QUERY SERVER NAME` prints the answer's last four bytes (the A record).
const QUERY: &str = r#"
import socket, struct, sys
server, name = sys.argv[1:3]
labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(5)
    s.sendto(struct.pack(">6H", 7, 0x0100, 1, 0, 0, 0) + labels + b"\0\0\1\0\1", (server, 53))
    print(socket.inet_ntoa(s.recv(512)[-4:]))
"#;

/// Resolves `name` through the virtual DNS, so the engine learns which name the server's address has.
fn resolve(lab: &Lab, name: &str) {
    let probe = ["env", "PATH=/usr/local/bin:/usr/bin:/bin", "python3", "-c", QUERY, VIRTUAL_DNS, name];
    let out = lab.run_as(ALLOWED_UID, &probe);
    assert!(out.status.success(), "resolving {name}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), SERVER4);
}

/// curl's exit code for `http://{host}:8080/small` as `uid`, `host` pinned to the lab's server.
fn curl(lab: &Lab, uid: u32, host: &str) -> Option<i32> {
    let url = format!("http://{host}:8080/small");
    let pin = format!("{host}:8080:{SERVER4}");
    let out = lab.run_as(uid, &["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "10", "--resolve", &pin, &url]);
    out.status.code()
}

#[test]
fn blocked_domains_networks_and_apps_are_refused_and_others_pass() {
    if !can_run() {
        return;
    }
    let dir = readable_dir();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let data = path("data.bin");
    std::fs::write(&data, b"data").unwrap();
    let (cert, key) = self_signed_certificate(dir.path());

    let mut lab = Lab::up();
    let internet = lab.internet.clone();
    let servers = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/servers.py");
    lab.spawn(&internet, &["python3", servers, &data, &cert, &key], Stdio::null());
    wait_for("the test servers", || listening(&internet, "8080"));
    let upstream_dns = format!("{SERVER4}:53");
    let blocked_uid = BLOCKED_UID.to_string();
    let engine = lab.start_phonehome(
        &dir.path().join("phonehome.log"),
        &[
            "--dns-virtual",
            VIRTUAL_DNS,
            "--dns",
            &upstream_dns,
            "--block-domain",
            "tracker.example",
            "--block-app",
            &blocked_uid,
            "--block-net",
            "fd00:201::/64",
            "--quiet",
        ],
    );

    // The lab's DNS answers every name with SERVER4: the latest answer names the server.
    resolve(&lab, "ads.tracker.example");
    assert_eq!(curl(&lab, ALLOWED_UID, "ads.tracker.example"), Some(7), "a subdomain of a blocked domain");
    resolve(&lab, "files.example");
    assert_eq!(curl(&lab, ALLOWED_UID, "files.example"), Some(0), "an unblocked domain");
    assert_eq!(curl(&lab, BLOCKED_UID, "files.example"), Some(7), "a blocked app");
    let v6 = format!("http://[{SERVER6}]:8080/small");
    let out = lab.run_as(ALLOWED_UID, &["curl", "-sS", "-o", "/dev/null", "--connect-timeout", "10", &v6]);
    assert_eq!(out.status.code(), Some(7), "a blocked network: {}", String::from_utf8_lossy(&out.stderr));
    lab.stop_phonehome(engine);
}
