//! `phonehome run` end to end, as root: a "phone" network namespace whose default route is a TUN device
//! with phonehome attached, an "internet" namespace with an HTTP server behind a veth, and curl run as
//! another uid in the phone namespace. After SIGTERM the flow must be in the CSV with its host, byte
//! counts and uid, and the identifier in the request must be an alert. Everything is removed at the end.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLIENT_UID: u32 = 4242;
const IMEI: &str = "490154203237518";

fn sh(args: &[&str]) -> std::process::Output {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Two namespaces joined by a veth; removed (with every process in them) when dropped.
struct Lab {
    phone: String,
    internet: String,
    children: Vec<Child>,
}

impl Lab {
    fn up() -> Lab {
        let id = std::process::id();
        let lab = Lab { phone: format!("phr-p{id}"), internet: format!("phr-i{id}"), children: Vec::new() };
        let (p, i) = (lab.phone.as_str(), lab.internet.as_str());
        sh(&["ip", "netns", "add", p]);
        sh(&["ip", "netns", "add", i]);
        for script in [
            format!("ip -n {p} link set lo up"),
            format!("ip -n {i} link set lo up"),
            format!("ip -n {p} link add vp type veth peer name vi netns {i}"),
            format!("ip -n {p} addr add 10.201.1.1/32 dev vp"),
            format!("ip -n {i} addr add 10.201.1.2/24 dev vi"),
            format!("ip -n {p} link set vp up"),
            format!("ip -n {i} link set vi up"),
            // Only sockets marked by phonehome (fwmark 0x64) may leave through the veth.
            format!("ip -n {p} route add 10.201.1.2/32 dev vp table 100"),
            format!("ip -n {p} rule add fwmark 0x64 lookup 100 priority 100"),
            format!("ip -n {i} route add 10.0.0.0/24 via 10.201.1.1"),
            format!("ip -n {p} tuntap add dev tun0 mode tun"),
            format!("ip -n {p} addr add 10.0.0.2/24 dev tun0"),
            format!("ip -n {p} link set tun0 up"),
            format!("ip -n {p} route add default dev tun0"),
        ] {
            let words: Vec<&str> = script.split_whitespace().collect();
            sh(&words);
        }
        lab
    }

    fn spawn(&mut self, namespace: &str, command: &[&str], stderr: Stdio) -> &mut Child {
        let child = Command::new("ip")
            .args(["netns", "exec", namespace])
            .args(command)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        self.children.push(child);
        self.children.last_mut().unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for namespace in [&self.phone, &self.internet] {
            let _ = Command::new("ip").args(["netns", "delete", namespace]).status();
        }
    }
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn listening(namespace: &str, port: &str) -> bool {
    let out = Command::new("ip").args(["netns", "exec", namespace, "ss", "-Hltn"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!(":{port} "))
}

#[test]
fn run_forwards_and_reports_flows_with_uid_and_alerts() {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if !root {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run this test as root");
        eprintln!("skipped: needs root for network namespaces and a TUN device");
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
    let internet = lab.internet.clone();
    let phone = lab.phone.clone();
    let www_dir = www.to_str().unwrap().to_owned();
    lab.spawn(
        &internet,
        &["python3", "-m", "http.server", "8080", "--bind", "10.201.1.2", "--directory", &www_dir],
        Stdio::null(),
    );
    wait_for("the HTTP server", || listening(&internet, "8080"));

    let log = dir.path().join("phonehome.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let engine = lab.spawn(
        &phone,
        &[
            env!("CARGO_BIN_EXE_phonehome"),
            "run",
            "--tun",
            "tun0",
            "--fwmark",
            "100",
            "--ids",
            ids.to_str().unwrap(),
            "--csv",
            csv_path.to_str().unwrap(),
            "--alerts",
            alerts_path.to_str().unwrap(),
            "--quiet",
        ],
        Stdio::from(log_file),
    );
    let engine_pid = engine.id();
    wait_for("phonehome to attach", || std::fs::read_to_string(&log).unwrap_or_default().contains("forwarding"));

    let url = format!("http://10.201.1.2:8080/data.bin?imei={IMEI}");
    let uid = CLIENT_UID.to_string();
    let out = Command::new("ip")
        .args(["netns", "exec", &phone, "setpriv", "--reuid", &uid, "--regid", &uid, "--clear-groups"])
        .args(["curl", "-sS", "--max-time", "20", "-o", "-", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, body, "the download arrives intact through phonehome");

    sh(&["kill", "-TERM", &engine_pid.to_string()]);
    let engine = lab.children.iter_mut().find(|c| c.id() == engine_pid).unwrap();
    let status = engine.wait().unwrap();
    assert!(status.success(), "phonehome run exit: {status}; log: {}", std::fs::read_to_string(&log).unwrap());

    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let flow = rows
        .iter()
        .find(|r| &r[column("dst_ip")] == "10.201.1.2" && &r[column("dst_port")] == "8080")
        .unwrap_or_else(|| panic!("no flow to the server in {rows:?}"));
    assert_eq!(&flow[column("proto")], "TCP");
    assert_eq!(&flow[column("src_ip")], "10.0.0.2");
    assert_eq!(&flow[column("uid")], uid);
    assert_eq!(&flow[column("l7")], "HTTP");
    assert_eq!(&flow[column("host")], "10.201.1.2");
    assert_eq!(&flow[column("host_source")], "http");
    let bytes_in: u64 = flow[column("bytes_in")].parse().unwrap();
    assert!(bytes_in > body.len() as u64 && bytes_in < body.len() as u64 + 1_000, "bytes_in {bytes_in}");
    assert_eq!(&flow[column("severity")], "high");

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
