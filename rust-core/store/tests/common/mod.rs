//! Records shared by the store's integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use phonehome_engine::record::AlertRecord;
use phonehome_engine::{FlowRecord, HostSource, Proto, L7};
use phonehome_intel::{AlertKind, Severity};
use phonehome_store::{format_micros, Store, StoreConfig};

/// 2024-03-01T12:00:00Z.
pub const T0: i64 = 1_709_294_400_000_000;

/// A TLS flow of `app` that starts `offset_s` seconds after [`T0`].
pub fn flow(app: &str, uid: u32, host: &str, offset_s: i64) -> FlowRecord {
    let start = T0 + offset_s * 1_000_000;
    FlowRecord {
        first_seen: format_micros(start),
        last_seen: format_micros(start + 1_500_000),
        proto: Proto::Tcp,
        src_ip: "10.0.0.2".parse().unwrap(),
        src_port: 40000 + (offset_s % 20000) as u16,
        dst_ip: "2001:db8::1".parse().unwrap(),
        dst_port: 443,
        uid: Some(uid),
        app: Some(app.to_owned()),
        l7: Some(L7::Tls),
        host: Some(host.to_owned()),
        host_source: Some(HostSource::Sni),
        country: Some("SG".into()),
        asn: Some(45102),
        as_org: Some("Alibaba (US) Technology Co., Ltd.".into()),
        bytes_out: 517,
        packets_out: 3,
        bytes_in: 4000,
        packets_in: 4,
        severity: None,
        flags: String::new(),
        tcp_state: Some("closed"),
        tls_version: Some("1.3".into()),
        alpn: Some("h2;http/1.1".into()),
        ja4: Some("t13d1516h2_8daaf6152771_02713d6af862".into()),
        ech: Some(false),
        http_method: None,
        http_path: None,
        user_agent: None,
        dns_names: None,
    }
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
    cleartext.flags = "cleartext;dns_uncertain".into();
    cleartext.tcp_state = Some("reset");
    let mut dns = flow("小米浏览器 — Ünïcödé", 10200, "sa.api.intl.miui.com", 20);
    dns.proto = Proto::Udp;
    dns.src_ip = "192.168.1.5".parse().unwrap();
    dns.dst_ip = "8.8.8.8".parse().unwrap();
    dns.dst_port = 53;
    dns.l7 = Some(L7::Dns);
    dns.host_source = Some(HostSource::Dns);
    dns.tcp_state = None;
    dns.tls_version = None;
    dns.alpn = None;
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
    bare.alpn = None;
    bare.ja4 = None;
    bare.ech = None;
    bare.bytes_out = u64::from(u32::MAX) + 7;
    vec![cleartext, dns, bare]
}

/// An alert about `flow`.
pub fn alert(flow: &FlowRecord, kind: AlertKind, evidence: &str) -> AlertRecord {
    AlertRecord {
        ts: flow.first_seen.clone(),
        severity: kind.default_severity(),
        kind,
        proto: flow.proto,
        src_ip: flow.src_ip,
        src_port: flow.src_port,
        dst_ip: flow.dst_ip,
        dst_port: flow.dst_port,
        uid: flow.uid,
        app: flow.app.clone(),
        host: flow.host.clone(),
        country: flow.country.clone(),
        asn: flow.asn,
        as_org: flow.as_org.clone(),
        identifier: (kind == AlertKind::IdentifierLeak).then(|| "imei".to_owned()),
        encoding: (kind == AlertKind::IdentifierLeak).then(|| "base64".to_owned()),
        evidence: evidence.to_owned(),
        owner: Some("Xiaomi".into()),
    }
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
