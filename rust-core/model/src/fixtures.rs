//! Records for tests and benchmarks of the crates that store, export and show them (feature `fixtures`): one
//! complete flow and alert each test adjusts, instead of a literal per crate.

use std::time::Duration;

use crate::{AlertKind, AlertRecord, FlowRecord, HostSource, Proto, TcpState, Timestamp, L7};

/// 2024-03-01T12:00:00Z.
pub const T0: Timestamp = Timestamp(Duration::from_secs(1_709_294_400));

/// `seconds` after [`T0`].
pub fn at(seconds: u64) -> Timestamp {
    Timestamp(T0.0 + Duration::from_secs(seconds))
}

/// A closed TLS 1.3 flow of `app` (uid `uid`) from 10.0.0.2 to `host` at 2001:db8::1:443 (Alibaba, Singapore),
/// 1.5 s long from `start`; the client port follows the start so flows of one test differ.
pub fn tls_flow(app: &str, uid: u32, host: &str, start: Timestamp) -> FlowRecord {
    FlowRecord {
        first_seen: start,
        last_seen: Timestamp(start.0 + Duration::from_millis(1500)),
        proto: Proto::Tcp,
        src_ip: [10, 0, 0, 2].into(),
        src_port: 40_000 + (start.since(T0).as_secs() % 20_000) as u16,
        dst_ip: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1].into(),
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
        flags: Vec::new(),
        tcp_state: Some(TcpState::Closed),
        tls_version: Some("1.3".into()),
        alpn: vec!["h2".into(), "http/1.1".into()],
        ja4: Some("t13d1516h2_8daaf6152771_02713d6af862".into()),
        ech: Some(false),
        http_method: None,
        http_path: None,
        user_agent: None,
        dns_names: Vec::new(),
    }
}

/// A closed cleartext HTTP `GET /` of app `app{uid}` from 10.0.0.2 to `host` at 203.0.113.7:80 (China Telecom),
/// 100 bytes out and 300 in, 2 s long from `start_s` seconds after [`T0`].
pub fn http_flow(uid: u32, host: &str, src_port: u16, start_s: u64) -> FlowRecord {
    FlowRecord {
        last_seen: at(start_s + 2),
        src_port,
        dst_ip: [203, 0, 113, 7].into(),
        dst_port: 80,
        l7: Some(L7::Http),
        host_source: Some(HostSource::Http),
        country: Some("CN".into()),
        asn: Some(4134),
        as_org: Some("CHINANET-BACKBONE".into()),
        bytes_out: 100,
        bytes_in: 300,
        tls_version: None,
        alpn: Vec::new(),
        ja4: None,
        ech: None,
        http_method: Some("GET".into()),
        http_path: Some("/".into()),
        ..tls_flow(&format!("app{uid}"), uid, host, at(start_s))
    }
}

/// An alert of `kind` (at its default severity) about `flow`, at its start; leaks name an IMEI sent in base64.
pub fn alert(flow: &FlowRecord, kind: AlertKind, evidence: &str) -> AlertRecord {
    let leak = kind == AlertKind::IdentifierLeak;
    AlertRecord {
        identifier: leak.then(|| "imei".to_owned()),
        encoding: leak.then(|| "base64".to_owned()),
        owner: Some("Xiaomi".into()),
        ..AlertRecord::about(flow, kind, kind.default_severity(), evidence.to_owned())
    }
}
