//! Running the real `phonehome` binary on files, and captures built of real protocol bytes.
#![allow(dead_code)] // each test binary uses a different part
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test

use std::ffi::OsStr;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use phonehome_testdata::proto::{http_request, http_response};
use phonehome_testdata::CaptureBuilder;

/// The IMEI of `samples/ids.toml`, which the leaky sessions send.
pub const IMEI: &str = "490154203237518";

pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/phone-session.pcap")
}

pub fn ids() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/ids.toml")
}

pub fn phonehome(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phonehome")).args(args).output().expect("runs")
}

/// `phonehome` with `input` on its standard input.
pub fn phonehome_fed(args: &[&OsStr], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Fed from another thread, like a capture tool writing into a pipe, while phonehome reads.
    let feeder = std::thread::spawn(move || {
        for chunk in input.chunks(1000) {
            stdin.write_all(chunk).unwrap();
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A cleartext HTTP POST of the sample IMEI to `server`, named `host`, from a phone of the same IP version.
pub fn leaky_session(server: &str, host: &str) -> CaptureBuilder {
    let server: SocketAddr = server.parse().unwrap();
    let phone: SocketAddr = if server.is_ipv4() { "10.215.173.1:40001" } else { "[fd00:2::1]:40001" }.parse().unwrap();
    let mut capture = CaptureBuilder::new(Duration::from_secs(1_732_190_400));
    let body = format!("{{\"imei\":\"{IMEI}\",\"model\":\"Phone X\"}}");
    let request = http_request("POST", host, "/register", &[("Content-Type", "application/json")], body.as_bytes());
    capture.tcp_session(phone, server, &[(&request, &http_response(200, b"ok"))]);
    capture
}

/// Writes `bytes` to `name` in `dir`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
