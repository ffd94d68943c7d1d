//! Records shared by the store's integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use phonehome_model::fixtures::{self, at};
use phonehome_model::{AlertKind, AlertRecord, FlowRecord, HostSource, Proto, Severity, TcpState, L7};
use phonehome_store::{Store, StoreConfig};

#[allow(unused_imports)] // not every test binary dates its records
pub use phonehome_model::fixtures::T0;

/// A TLS flow of `app` that starts `offset_s` seconds after [`T0`].
pub fn flow(app: &str, uid: u32, host: &str, offset_s: u64) -> FlowRecord {
    fixtures::tls_flow(app, uid, host, at(offset_s))
}

/// Flows whose text fields are what breaks naive exports: commas, quotes, newlines, non-ASCII, formulas.
pub fn hostile_flows() -> Vec<FlowRecord> {
    let mut cleartext = flow("Browser, \"Pro\"\nedition", 10123, "=HYPERLINK(\"http://evil\")", 10);
    cleartext.l7 = Some(L7::Http);
    cleartext.host_source = Some(HostSource::Http);
    cleartext.http_method = Some("GET".into());
    cleartext.http_path = Some("/a,b?q=\"x\"\r\n+1".into());
    cleartext.user_agent = Some("@SUM(A1)".into());
    cleartext.severity = Some(Severity::High);
    cleartext.flags = vec!["cleartext".into(), "dns_uncertain".into()];
    cleartext.tcp_state = Some(TcpState::Reset);
    let mut dns = flow("小米浏览器 — Ünïcödé", 10200, "sa.api.intl.miui.com", 20);
    dns.proto = Proto::Udp;
    dns.src_ip = "192.168.1.5".parse().unwrap();
    dns.dst_ip = "8.8.8.8".parse().unwrap();
    dns.dst_port = 53;
    dns.l7 = Some(L7::Dns);
    dns.host_source = Some(HostSource::Dns);
    dns.tcp_state = None;
    dns.tls_version = None;
    dns.alpn = Vec::new();
    dns.ja4 = None;
    dns.ech = None;
    dns.severity = Some(Severity::Low);
    dns.as_org = Some("-cmd|' /C calc'!A0".into());
    let mut bare = flow("x", 0, "", 30);
    bare.uid = None;
    bare.app = None;
    bare.host = None;
    bare.host_source = None;
    bare.l7 = None;
    bare.country = None;
    bare.asn = None;
    bare.as_org = None;
    bare.proto = Proto::Icmp;
    bare.tcp_state = None;
    bare.tls_version = None;
    bare.alpn = Vec::new();
    bare.ja4 = None;
    bare.ech = None;
    bare.bytes_out = u64::from(u32::MAX) + 7;
    vec![cleartext, dns, bare]
}

/// An alert about `flow`.
pub fn alert(flow: &FlowRecord, kind: AlertKind, evidence: &str) -> AlertRecord {
    fixtures::alert(flow, kind, evidence)
}

/// Severity used by alerts in tests, for readability.
pub const HIGH: Severity = Severity::High;

/// A store that commits quickly, for tests.
pub fn open(path: &Path) -> Store {
    let config = StoreConfig { flush_interval: Duration::from_millis(20), ..StoreConfig::default() };
    Store::open(path, config).unwrap()
}

/// `true` when the test may run; otherwise prints why it is skipped, and fails under `CI=true`.
pub fn may_run(what: &str, ready: bool, why: &str) -> bool {
    if ready {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{what}: {why} (required under CI=true)");
    eprintln!("skipped {what}: {why}");
    false
}
