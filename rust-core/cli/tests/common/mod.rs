//! The lab for `phonehome run` end to end, as root: a "phone" network namespace whose default routes
//! (IPv4 and IPv6) are a TUN device with phonehome attached, and an "internet" namespace reached through a
//! veth that only phonehome's marked sockets may use. Everything is removed (processes too) when dropped.
#![allow(dead_code)] // each test binary uses a different part of the scaffolding
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The internet namespace's address, as clients in the phone namespace dial it.
pub const SERVER4: &str = "10.201.1.2";
pub const SERVER6: &str = "fd00:201::2";
/// The phone's own address on the tun.
pub const PHONE4: &str = "10.0.0.2";
pub const PHONE6: &str = "fd00:1::2";
/// phonehome's `--fwmark`, which policy routing sends out through the veth.
pub const MARK: &str = "100";

/// Whether the lab can run here: it needs root. Under CI=true it must, so the test fails instead.
pub fn can_run() -> bool {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if !root {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run this test as root");
        eprintln!("skipped: needs root for network namespaces and a TUN device");
    }
    root
}

/// A self-signed P-256 certificate for `secure.example`, valid one day: (certificate, key) paths in `dir`.
pub fn self_signed_certificate(dir: &Path) -> (String, String) {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (cert, key) = (path("cert.pem"), path("key.pem"));
    sh(&["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        .into_iter()
        .chain(["-days", "1", "-subj", "/CN=secure.example", "-keyout", &key, "-out", &cert])
        .collect::<Vec<_>>());
    (cert, key)
}

/// A temporary folder the lab's clients, which run as other uids, can read (upload files, certificates).
pub fn readable_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sh(&["chmod", "755", dir.path().to_str().unwrap()]);
    dir
}

/// Runs a command to completion; panics with its stderr when it fails.
pub fn sh(args: &[&str]) -> std::process::Output {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Two namespaces joined by a veth; removed (with every process in them) when dropped.
pub struct Lab {
    pub phone: String,
    pub internet: String,
    children: Vec<Child>,
}

impl Lab {
    pub fn up() -> Lab {
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
            format!("ip -n {p} -6 addr add fd00:201::1/128 dev vp nodad"),
            format!("ip -n {i} addr add {SERVER4}/24 dev vi"),
            format!("ip -n {i} -6 addr add {SERVER6}/64 dev vi nodad"),
            format!("ip -n {p} link set vp up"),
            format!("ip -n {i} link set vi up"),
            // Only sockets marked by phonehome may leave through the veth.
            format!("ip -n {p} route add {SERVER4}/32 dev vp table {MARK}"),
            format!("ip -n {p} -6 route add {SERVER6}/128 dev vp table {MARK}"),
            format!("ip -n {p} rule add fwmark {MARK} lookup {MARK} priority 100"),
            format!("ip -n {p} -6 rule add fwmark {MARK} lookup {MARK} priority 100"),
            format!("ip -n {i} route add 10.0.0.0/24 via 10.201.1.1"),
            format!("ip -n {p} tuntap add dev tun0 mode tun"),
            format!("ip -n {p} addr add {PHONE4}/24 dev tun0"),
            format!("ip -n {p} -6 addr add {PHONE6}/64 dev tun0 nodad"),
            format!("ip -n {p} link set tun0 up"),
            format!("ip -n {p} route add default dev tun0"),
            format!("ip -n {p} -6 route add default dev tun0"),
        ] {
            let words: Vec<&str> = script.split_whitespace().collect();
            sh(&words);
        }
        lab
    }

    /// Serves `dir` over HTTP on SERVER4:8080 in the internet namespace; returns once it listens.
    pub fn serve_directory(&mut self, dir: &Path) {
        let internet = self.internet.clone();
        let dir = dir.to_str().unwrap().to_owned();
        self.spawn(
            &internet,
            &["python3", "-m", "http.server", "8080", "--bind", SERVER4, "--directory", &dir],
            Stdio::null(),
        );
        wait_for("the HTTP server", || listening(&internet, "8080"));
    }

    /// Starts `command` in `namespace`; it is killed when the lab is dropped.
    pub fn spawn(&mut self, namespace: &str, command: &[&str], stderr: Stdio) -> &mut Child {
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

    /// Starts `phonehome run` on tun0 with `args` added, logging to `log`; returns once it forwards.
    pub fn start_phonehome(&mut self, log: &Path, args: &[&str]) -> Engine {
        let phone = self.phone.clone();
        let mut command = vec![env!("CARGO_BIN_EXE_phonehome"), "run", "--tun", "tun0", "--fwmark", MARK];
        command.extend_from_slice(args);
        let pid = self.spawn(&phone, &command, Stdio::from(std::fs::File::create(log).unwrap())).id();
        wait_for("phonehome to attach", || std::fs::read_to_string(log).unwrap_or_default().contains("forwarding"));
        Engine { pid, log: log.to_owned() }
    }

    /// Sends SIGTERM to phonehome and waits for it to write its outputs and exit successfully.
    pub fn stop_phonehome(&mut self, engine: Engine) {
        sh(&["kill", "-TERM", &engine.pid.to_string()]);
        let child = self.children.iter_mut().find(|c| c.id() == engine.pid).unwrap();
        let status = child.wait().unwrap();
        let log = std::fs::read_to_string(&engine.log).unwrap();
        assert!(status.success(), "phonehome run exit: {status}; log: {log}");
    }

    /// `command` run to completion in the phone namespace as `uid` (and gid), as an app would.
    pub fn run_as(&self, uid: u32, command: &[&str]) -> std::process::Output {
        let uid = uid.to_string();
        Command::new("ip")
            .args(["netns", "exec", &self.phone, "setpriv", "--reuid", &uid, "--regid", &uid, "--clear-groups"])
            .args(command)
            .output()
            .unwrap()
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

/// A running `phonehome run`.
pub struct Engine {
    pub pid: u32,
    log: PathBuf,
}

pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something listens on TCP `port` in `namespace`.
pub fn listening(namespace: &str, port: &str) -> bool {
    let out = Command::new("ip").args(["netns", "exec", namespace, "ss", "-Hltn"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!(":{port} "))
}

/// The rows of a CSV file, with a lookup from column name to index.
pub struct Csv {
    header: csv::StringRecord,
    pub rows: Vec<csv::StringRecord>,
}

impl Csv {
    pub fn read(path: &Path) -> Csv {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let header = reader.headers().unwrap().clone();
        Csv { header, rows: reader.records().map(Result::unwrap).collect() }
    }

    /// Index of the column `name`; panics when the CSV has none.
    pub fn column(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// `row`'s cell in column `name`.
    pub fn cell<'a>(&self, row: &'a csv::StringRecord, name: &str) -> &'a str {
        &row[self.column(name)]
    }
}
