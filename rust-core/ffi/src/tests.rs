use std::io::Read;
use std::os::fd::AsRawFd;

use phonehome_engine::{HostSource, Proto, L7};
use phonehome_intel::{AlertKind, Severity as IntelSeverity};

use super::*;

/// An HTTP flow of `app` to a Chinese carrier's address, `bytes` out and twice that in.
pub(crate) fn flow(uid: Option<u32>, app: &str, bytes: u64, severity: Option<IntelSeverity>) -> FlowRecord {
    FlowRecord {
        first_seen: "2026-11-21T12:00:00.000000Z".into(),
        last_seen: "2026-11-21T12:00:01.000000Z".into(),
        proto: Proto::Tcp,
        src_ip: "10.0.0.2".parse().expect("ip"),
        src_port: 40000,
        dst_ip: "203.0.113.7".parse().expect("ip"),
        dst_port: 80,
        uid,
        app: Some(app.into()),
        l7: Some(L7::Http),
        host: Some("zzhc.vnet.cn".into()),
        host_source: Some(HostSource::Http),
        country: Some("CN".into()),
        asn: Some(4134),
        as_org: Some("=cmd|' /C calc'!A0, \"quoted\"".into()),
        bytes_out: bytes,
        packets_out: 3,
        bytes_in: bytes * 2,
        packets_in: 4,
        severity,
        flags: "cleartext".into(),
        tcp_state: Some("closed"),
        tls_version: None,
        alpn: None,
        ja4: None,
        ech: None,
        http_method: Some("GET".into()),
        http_path: Some("/reg?imei=[redacted]".into()),
        user_agent: None,
        dns_names: None,
    }
}

/// An IMEI leak on `on`, at its start.
pub(crate) fn alert(on: &FlowRecord, severity: IntelSeverity) -> AlertRecord {
    AlertRecord {
        ts: on.first_seen.clone(),
        severity,
        kind: AlertKind::IdentifierLeak,
        proto: on.proto,
        src_ip: on.src_ip,
        src_port: on.src_port,
        dst_ip: on.dst_ip,
        dst_port: on.dst_port,
        uid: on.uid,
        app: on.app.clone(),
        host: on.host.clone(),
        country: on.country.clone(),
        asn: on.asn,
        as_org: on.as_org.clone(),
        identifier: Some("imei".into()),
        encoding: Some("plain".into()),
        evidence: "imei=35…01 in the URL".into(),
        owner: Some("China Telecom".into()),
    }
}

fn stopped(flows: Vec<FlowRecord>, alerts: Vec<AlertRecord>) -> Engine {
    Engine { state: Mutex::new(State::Stopped { flows, alerts, stats: MonitorStats::default() }), virtual_dns: None }
}

pub(crate) fn config() -> EngineConfig {
    EngineConfig {
        mtu: 9000,
        virtual_dns: Some("10.111.222.3".into()),
        upstream_dns: "[2001:db8::53]:5353".into(),
        owner_source: OwnerSource::ProcNet,
        identifiers_toml: None,
        watched_countries: vec!["CN".into()],
        alert_new_destinations: true,
        flow_idle_seconds: Some(0),
        history_path: Some("/data/user/0/org.phonehome/files/history.sqlite".into()),
        keep_packets: false,
        block_apps: vec![10123],
        block_domains: vec!["tracker.example".into()],
        block_countries: vec!["RU".into()],
        block_networks: vec!["192.0.2.0/24".into()],
        lists: Vec::new(),
    }
}

#[test]
fn config_translates_every_field() {
    let translated = monitor_config(&config()).expect("valid");
    assert_eq!(translated.stack.mtu, 9000);
    assert_eq!(translated.stack.virtual_dns, Some("10.111.222.3".parse().expect("ip")));
    assert_eq!(translated.stack.upstream_dns.get(), "[2001:db8::53]:5353".parse().expect("addr"));
    assert_eq!(translated.watchlist, ["CN"]);
    assert!(translated.alert_new_destinations);
    // Zero would finish flows on every sweep: it is raised to one second.
    assert_eq!(translated.analyzer.timeouts.udp, Duration::from_secs(1));
    assert_eq!(translated.analyzer.timeouts.tcp_open, Timeouts::default().tcp_open);
    assert_eq!(translated.block.apps, [10123]);
    assert_eq!(translated.block.domains, ["tracker.example"]);
    assert_eq!(translated.block.countries, ["RU"]);
    assert_eq!(translated.block.networks, ["192.0.2.0/24"]);
}

#[test]
fn config_rejects_bad_addresses() {
    for (virtual_dns, upstream) in [(Some("10.0.0"), "1.1.1.1"), (None, "dns.example"), (None, "1.1.1.1:99999")] {
        let bad =
            EngineConfig { virtual_dns: virtual_dns.map(str::to_owned), upstream_dns: upstream.into(), ..config() };
        assert!(matches!(monitor_config(&bad), Err(EngineError::Config { .. })), "{virtual_dns:?} {upstream}");
    }
}

#[test]
fn resolver_defaults_to_port_53() {
    assert_eq!(parse_resolver("9.9.9.9"), Some("9.9.9.9:53".parse().expect("addr")));
    assert_eq!(parse_resolver("2001:db8::1"), Some("[2001:db8::1]:53".parse().expect("addr")));
    assert_eq!(parse_resolver("9.9.9.9:5300"), Some("9.9.9.9:5300".parse().expect("addr")));
}

#[test]
fn usable_resolver_skips_link_local_unspecified_and_the_virtual_address() {
    let servers = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let virtual_dns = Some("10.111.222.3".parse().expect("ip"));
    let chosen = usable_resolver(
        &servers(&[
            "fe80::1",
            "169.254.0.53",
            "0.0.0.0",
            "10.111.222.3",
            "not an address",
            "2001:db8::53",
            "192.0.2.53",
        ]),
        virtual_dns,
    );
    assert_eq!(chosen, Some("[2001:db8::53]:53".parse().expect("addr")));
    assert_eq!(usable_resolver(&servers(&["fe80::1", "169.254.1.1"]), virtual_dns), None);
    assert_eq!(usable_resolver(&[], virtual_dns), None);
}

#[test]
fn a_stopped_engine_refuses_a_new_resolver() {
    let engine = stopped(Vec::new(), Vec::new());
    assert!(matches!(engine.set_upstream_dns(vec!["192.0.2.53".into()]), Err(EngineError::Stopped)));
}

#[test]
fn start_rejects_a_negative_fd_before_taking_it() {
    struct Nothing;
    impl Protector for Nothing {
        fn protect(&self, _fd: i32) -> Result<(), PlatformError> {
            Ok(())
        }
    }
    impl OwnerLookup for Nothing {
        fn owner_uid(&self, _connection: Connection) -> Result<Option<u32>, PlatformError> {
            Ok(None)
        }
        fn app_name(&self, _uid: u32) -> Result<Option<String>, PlatformError> {
            Ok(None)
        }
    }
    impl EngineListener for Nothing {
        fn on_flow(&self, _flow: Flow) -> Result<(), PlatformError> {
            Ok(())
        }
        fn on_alert(&self, _alert: Alert) -> Result<(), PlatformError> {
            Ok(())
        }
    }
    let nothing = Arc::new(Nothing);
    let result = Engine::start(config(), -1, nothing.clone(), nothing.clone(), nothing);
    assert!(matches!(result, Err(EngineError::Config { .. })));
}

#[test]
fn records_keep_every_field() {
    let record = flow(Some(10123), "Browser, \"beta\"", 100, Some(IntelSeverity::High));
    let converted = Flow::from(&record);
    assert_eq!(
        (
            converted.proto.as_str(),
            converted.dst_ip.as_str(),
            converted.l7.as_deref(),
            converted.host_source.as_deref()
        ),
        ("TCP", "203.0.113.7", Some("HTTP"), Some("http"))
    );
    assert_eq!((converted.severity, converted.tcp_state.as_deref()), (Some(Severity::High), Some("closed")));
    let converted = Alert::from(&alert(&record, IntelSeverity::Medium));
    assert_eq!((converted.kind.as_str(), converted.severity), ("identifier_leak", Severity::Medium));
}

#[test]
fn apps_sort_by_severity_then_traffic() {
    let quiet_bad = flow(Some(1), "a", 10, Some(IntelSeverity::Medium));
    let loud = flow(Some(2), "b", 10_000, None);
    let flows =
        vec![loud.clone(), quiet_bad.clone(), flow(Some(2), "b", 5, Some(IntelSeverity::Low)), flow(None, "", 1, None)];
    let rows = records::apps(&flows, &[alert(&loud, IntelSeverity::High)]);
    let order: Vec<_> = rows.iter().map(|row| row.uid).collect();
    assert_eq!(order, [Some(2), Some(1), None]);
    let first = rows.first().expect("rows");
    assert_eq!((first.flows, first.bytes_out, first.alerts, first.worst), (2, 10_005, 1, Some(Severity::High)));
}

fn read_back(export: impl FnOnce(i32) -> Result<u64, EngineError>) -> (u64, String) {
    let mut file = tempfile_in_memory();
    let rows = export(file.as_raw_fd()).expect("export");
    let mut text = String::new();
    std::io::Seek::rewind(&mut file).expect("rewind");
    file.read_to_string(&mut text).expect("read");
    (rows, text)
}

fn tempfile_in_memory() -> File {
    // SAFETY: memfd_create with a valid C string; the fd is owned by the returned File.
    let fd = unsafe { libc::memfd_create(c"export".as_ptr(), 0) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: fd was just created and is owned by nobody else.
    unsafe { File::from_raw_fd(fd) }
}

#[test]
fn flows_export_as_rfc4180_csv_with_formulas_neutralised() {
    let records = vec![flow(Some(10123), "Browser, \"beta\"", 100, Some(IntelSeverity::High))];
    let engine = stopped(records, Vec::new());
    let (rows, text) = read_back(|fd| engine.export_flows_csv(fd));
    assert_eq!(rows, 1);
    let mut lines = text.split("\r\n");
    assert_eq!(lines.next().map(|header| header.split(',').count()), Some(phonehome_engine::COLUMNS.len()));
    let row = lines.next().expect("row");
    assert!(row.contains(",\"Browser, \"\"beta\"\"\","), "{row}");
    assert!(row.contains("\"'=cmd|' /C calc'!A0, \"\"quoted\"\"\""), "{row}");
}

#[test]
fn alerts_export_as_json_lines() {
    let leak = alert(&flow(Some(10123), "Carrier", 1, None), IntelSeverity::High);
    let engine = stopped(Vec::new(), vec![leak.clone(), leak]);
    let (lines, text) = read_back(|fd| engine.export_alerts_jsonl(fd));
    assert_eq!((lines, text.lines().count()), (2, 2));
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or_default()).expect("json");
    assert_eq!((first["kind"].as_str(), first["uid"].as_u64()), (Some("identifier_leak"), Some(10123)));
}

#[test]
fn exports_reject_bad_fds_and_a_stopped_engine_stays_stopped() {
    let engine = stopped(Vec::new(), Vec::new());
    assert!(matches!(engine.export_flows_csv(-1), Err(EngineError::Config { .. })));
    assert!(matches!(engine.export_alerts_jsonl(i32::MAX), Err(EngineError::Export { .. })));
    assert!(matches!(engine.stop(), Err(EngineError::Stopped)));
    let rules = engine.set_block_rules(vec![1], Vec::new(), Vec::new(), vec!["192.0.2.0/24".into()]);
    assert!(matches!(rules, Err(EngineError::Stopped)));
    assert!(!engine.is_running());
    assert_eq!(engine.stats(), EngineStats::default());
    assert!(engine.recent_flows(10).is_empty());
}

#[test]
fn recent_queries_are_newest_first_and_capped() {
    let records: Vec<_> = (1..=5).map(|uid| flow(Some(uid), "x", 1, None)).collect();
    let engine = stopped(records, Vec::new());
    let uids: Vec<_> = engine.recent_flows(2).iter().map(|f| f.uid).collect();
    assert_eq!(uids, [Some(5), Some(4)]);
}
