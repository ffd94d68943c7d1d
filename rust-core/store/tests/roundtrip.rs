//! What goes into the store comes back out faithfully: CSV, JSON lines, pcapng, filters, aggregates, retention.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{alert, flow, hostile_flows, open, T0};
use phonehome_engine::record::neutralise_formula;
use phonehome_engine::{CsvWriter, FlowSink};
use phonehome_model::fixtures::at;
use phonehome_model::{AlertKind, FlowRecord, Severity, TcpState, Timestamp};
use phonehome_store::{Filter, History, Store, StoreConfig};
use proptest::prelude::*;

fn direct_csv(records: &[FlowRecord]) -> Vec<u8> {
    let mut writer = CsvWriter::new(Vec::new()).unwrap();
    for record in records {
        writer.write(record).unwrap();
    }
    writer.finish().unwrap()
}

fn store_csv(records: &[FlowRecord]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.db"));
    let mut sink = store.sink().unwrap();
    for record in records {
        sink.flow_ended(record.clone(), Vec::new());
    }
    sink.flush().unwrap();
    let mut out = Vec::new();
    assert_eq!(store.history().unwrap().export_csv(&Filter::default(), &mut out).unwrap(), records.len() as u64);
    out
}

#[test]
fn csv_export_reads_back_into_the_same_records() {
    let records = hostile_flows();
    let exported = store_csv(&records);
    // Byte for byte what the engine's writer makes of the original records.
    assert_eq!(exported, direct_csv(&records));
    let mut reader = csv::Reader::from_reader(exported.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), phonehome_engine::COLUMNS.to_vec());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), records.len());
    for (row, record) in rows.iter().zip(&records) {
        let expected: Vec<String> =
            phonehome_engine::record::cells(record).iter().map(|cell| neutralise_formula(cell).into_owned()).collect();
        assert_eq!(row.iter().collect::<Vec<_>>(), expected);
    }
    let first = rows.first().unwrap();
    assert_eq!(&first[8], "Browser, \"Pro\"\nedition");
    assert_eq!(&first[10], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&rows[1][8], "小米浏览器 — Ünïcödé");
    assert_eq!(&rows[1][14], "'-cmd|' /C calc'!A0");
    assert_eq!(&rows[2][15], (u64::from(u32::MAX) + 7).to_string());
}

#[test]
fn alerts_export_as_the_same_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.db"));
    let mut sink = store.sink().unwrap();
    let flows = hostile_flows();
    let alerts = vec![
        alert(&flows[0], AlertKind::IdentifierLeak, "imei=35…1 (base64) in \"GET /a,b\"\nline two"),
        alert(&flows[1], AlertKind::VendorTelemetry, "sa.api.intl.miui.com: Xiaomi analytics"),
        alert(&flows[2], AlertKind::NewDestination, "first contact"),
    ];
    for alert in &alerts {
        sink.record_alert(alert.clone());
    }
    sink.flush().unwrap();
    let mut out = Vec::new();
    let history = store.history().unwrap();
    assert_eq!(history.export_jsonl(&Filter::default(), &mut out).unwrap(), 3);
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let expected: Vec<serde_json::Value> = alerts.iter().map(|a| serde_json::to_value(a).unwrap()).collect();
    assert_eq!(lines, expected);

    let strong = Filter { min_severity: Some(Severity::Medium), ..Filter::default() };
    let mut out = Vec::new();
    assert_eq!(history.export_jsonl(&strong, &mut out).unwrap(), 2);
    let app = Filter { app: Some("10200".into()), ..Filter::default() };
    assert_eq!(history.export_jsonl(&app, std::io::sink()).unwrap(), 1);
}

#[test]
fn filters_select_by_time_app_and_severity() {
    let records = hostile_flows();
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.db"));
    let mut sink = store.sink().unwrap();
    for record in &records {
        sink.record_flow(record.clone(), &[]);
    }
    sink.flush().unwrap();
    let history = store.history().unwrap();
    let count = |filter: Filter| history.for_each_flow(&filter, |_| Ok(())).unwrap();
    assert_eq!(count(Filter::default()), 3);
    assert_eq!(count(Filter { since: Some(at(15)), ..Filter::default() }), 2);
    assert_eq!(count(Filter { until: Some(at(15)), ..Filter::default() }), 1);
    assert_eq!(
        count(Filter {
            since: Some(at(30)),
            until: Some(Timestamp::from_micros(at(30).as_micros() + 1)),
            ..Filter::default()
        }),
        1
    );
    assert_eq!(count(Filter { app: Some("小米浏览器 — Ünïcödé".into()), ..Filter::default() }), 1);
    assert_eq!(count(Filter { app: Some("10123".into()), ..Filter::default() }), 1);
    assert_eq!(count(Filter { app: Some("nobody".into()), ..Filter::default() }), 0);
    assert_eq!(count(Filter { min_severity: Some(Severity::Low), ..Filter::default() }), 2);
    assert_eq!(count(Filter { min_severity: Some(Severity::High), ..Filter::default() }), 1);
}

#[test]
fn first_seen_destinations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    {
        let store = open(&path);
        let mut sink = store.sink().unwrap();
        assert!(sink.is_new_destination(Some(10123), Some("Browser"), "example.com", T0));
        assert!(!sink.is_new_destination(Some(10123), Some("Browser"), "example.com", at(1)));
        sink.flow_ended(flow("Browser", 10123, "tracker.example", 5), Vec::new());
        sink.flush().unwrap();
        store.close();
    }
    let store = open(&path);
    let mut sink = store.sink().unwrap();
    assert!(!sink.is_new_destination(Some(10123), Some("Browser"), "example.com", at(2)));
    assert!(!sink.is_new_destination(Some(10123), Some("Browser renamed"), "tracker.example", at(2)));
    assert!(sink.is_new_destination(Some(10124), Some("Other"), "example.com", at(2)));
    assert!(sink.is_new_destination(Some(10123), Some("Browser"), "new.example", at(2)));
}

#[test]
fn aggregates_count_flows_bytes_destinations_and_alerts_per_app() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.db"));
    let mut sink = store.sink().unwrap();
    for offset in 0..10 {
        sink.flow_ended(
            flow("Gallery", 10050, if offset % 2 == 0 { "a.example" } else { "b.example" }, offset),
            Vec::new(),
        );
    }
    let mut other = flow("Weather", 10060, "c.example", 3);
    other.country = Some("CN".into());
    other.asn = Some(4134);
    other.as_org = Some("CHINANET-BACKBONE".into());
    sink.flow_ended(other.clone(), Vec::new());
    sink.record_alert(alert(&other, AlertKind::IdentifierLeak, "imei"));
    sink.flush().unwrap();
    let history = store.history().unwrap();
    let apps = history.apps().unwrap();
    assert_eq!(apps.len(), 2);
    let gallery = apps.iter().find(|a| a.app.as_deref() == Some("Gallery")).unwrap();
    assert_eq!((gallery.flows, gallery.bytes_out, gallery.bytes_in), (10, 5170, 40000));
    assert_eq!((gallery.destinations, gallery.alerts, gallery.max_severity), (2, 0, None));
    assert_eq!(gallery.countries, vec!["SG".to_owned()]);
    let weather = apps.iter().find(|a| a.uid == Some(10060)).unwrap();
    assert_eq!((weather.flows, weather.alerts, weather.max_severity), (1, 1, Some(Severity::High)));
    let networks = history.countries_and_networks().unwrap();
    assert_eq!(networks.len(), 2);
    assert_eq!(networks[0].country.as_deref(), Some("SG"));
    assert_eq!((networks[0].destinations, networks[0].flows), (2, 10));
}

#[test]
fn retention_by_age_removes_what_is_older_than_the_newest_by_the_age() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        retention_age: Some(Duration::from_secs(3600)),
        flush_interval: Duration::from_millis(10),
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path().join("store.db"), config).unwrap();
    let mut sink = store.sink().unwrap();
    sink.flow_ended(flow("Old", 1, "old.example", 0), Vec::new());
    sink.flush().unwrap();
    sink.flow_ended(flow("New", 2, "new.example", 2 * 3600), Vec::new());
    sink.flush().unwrap();
    let mut apps = Vec::new();
    store
        .history()
        .unwrap()
        .for_each_flow(&Filter::default(), |r| {
            apps.extend(r.app);
            Ok(())
        })
        .unwrap();
    assert_eq!(apps, vec!["New".to_owned()]);
    assert_eq!(store.stats().removed_by_retention, 1);
}

#[test]
fn retention_by_age_is_not_fooled_by_a_record_dated_far_in_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        retention_age: Some(Duration::from_secs(3600)),
        flush_interval: Duration::from_millis(10),
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path().join("store.db"), config).unwrap();
    let mut sink = store.sink().unwrap();
    sink.flow_ended(flow("Old", 1, "old.example", 0), Vec::new());
    sink.flow_ended(flow("New", 2, "new.example", 2 * 3600), Vec::new());
    sink.flush().unwrap();
    // A corrupt or wrong-clock timestamp in the year 2100.
    let year_2100 = 4_102_444_800;
    let mut future = flow("Future", 3, "future.example", 0);
    future.first_seen = phonehome_model::Timestamp(Duration::from_secs(year_2100));
    future.last_seen = future.first_seen;
    sink.flow_ended(future, Vec::new());
    sink.flush().unwrap();
    let mut apps = Vec::new();
    store
        .history()
        .unwrap()
        .for_each_flow(&Filter::default(), |r| {
            apps.extend(r.app);
            Ok(())
        })
        .unwrap();
    apps.sort();
    assert_eq!(apps, vec!["Future".to_owned(), "New".to_owned()]);
    assert_eq!(store.stats().removed_by_retention, 1);
}

#[test]
fn retention_by_size_keeps_the_newest_and_the_files_under_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let max_bytes = 1024 * 1024;
    let config = StoreConfig {
        retention_age: None,
        max_bytes,
        flush_interval: Duration::from_millis(10),
        batch_size: 500,
        ..StoreConfig::default()
    };
    let store = Store::open(&path, config).unwrap();
    let mut sink = store.sink().unwrap();
    let total = 20_000;
    for offset in 0..total {
        sink.flow_ended(flow("Busy", 10001, &format!("host{offset}.example"), offset), Vec::new());
        if offset % 500 == 499 {
            sink.flush().unwrap();
            let wal = std::fs::metadata(dir.path().join("store.db-wal")).map_or(0, |m| m.len());
            let db = std::fs::metadata(&path).unwrap().len();
            assert!(db + wal <= max_bytes + 64 * 1024, "db {db} + wal {wal} after {offset}");
        }
    }
    let stats = store.stats();
    assert!(stats.failure.is_none(), "{stats:?}");
    assert!(stats.removed_by_retention > 0);
    let history = store.history().unwrap();
    let kept = history.for_each_flow(&Filter::default(), |_| Ok(())).unwrap();
    assert!(kept > 500 && kept < total, "{kept}");
    // Oldest first: what is kept is a contiguous run ending with the newest.
    let newest = Filter { since: Some(at(total - 1)), ..Filter::default() };
    assert_eq!(history.for_each_flow(&newest, |_| Ok(())).unwrap(), 1);
    let tail = Filter { since: Some(at(total - kept)), ..Filter::default() };
    assert_eq!(history.for_each_flow(&tail, |_| Ok(())).unwrap(), kept);
    assert_eq!(history.integrity_check().unwrap(), "ok");
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let config = StoreConfig { queue_capacity: 16, batch_size: 16, ..StoreConfig::default() };
    let store = Store::open(&path, config).unwrap();
    let mut sink = store.sink().unwrap();
    // Another writer holds the database: the store's writer waits, its queue fills.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let sent = 1000;
    for offset in 0..sent {
        sink.flow_ended(flow("Fast", 1, "x.example", offset), Vec::new());
    }
    blocker.execute_batch("ROLLBACK").unwrap();
    sink.flush().unwrap();
    let stats = store.stats();
    assert!(stats.dropped >= sent - 32 - 1, "{stats:?}");
    assert_eq!(stats.flows + stats.dropped, sent);
    assert!(stats.failure.is_none());
}

#[test]
fn pcapng_export_opens_in_tshark_with_every_packet_and_its_app() {
    let tshark = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !common::may_run("pcapng_export_opens_in_tshark", tshark, "tshark is not installed (apt-get install tshark)") {
        return;
    }
    let mut capture = phonehome_testdata::CaptureBuilder::new(T0.0);
    let client: SocketAddr = "10.0.0.2:40001".parse().unwrap();
    let server: SocketAddr = "93.184.216.34:80".parse().unwrap();
    capture.tcp_session(
        client,
        server,
        &[(b"GET /?imei=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n")],
    );
    let packets = capture.packets();
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig { keep_packets: true, ..StoreConfig::default() };
    let store = Store::open(dir.path().join("store.db"), config).unwrap();
    let mut sink = store.sink().unwrap();
    for (index, (ts, data)) in packets.iter().enumerate() {
        let app = if index % 2 == 0 { "Browser, \"Pro\" 小米" } else { "Other" };
        sink.record_packet(Timestamp(*ts), Some(10123), Some(app), data);
    }
    sink.flush().unwrap();
    let out = dir.path().join("out.pcapng");
    let history = store.history().unwrap();
    let written = history.export_pcapng(&Filter::default(), std::fs::File::create(&out).unwrap()).unwrap();
    assert_eq!(written, packets.len() as u64);
    let only_other = Filter { app: Some("Other".into()), ..Filter::default() };
    assert_eq!(history.export_pcapng(&only_other, std::io::sink()).unwrap(), packets.len() as u64 / 2);

    let fields = Command::new("tshark")
        .args(["-r"])
        .arg(&out)
        .args(["-T", "fields", "-e", "frame.time_epoch", "-e", "ip.dst", "-e", "frame.comment"])
        .output()
        .unwrap();
    assert!(fields.status.success(), "{}", String::from_utf8_lossy(&fields.stderr));
    let text = String::from_utf8(fields.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), packets.len(), "{text}");
    assert!(lines[0].starts_with("1709294400."), "{}", lines[0]);
    assert!(lines[0].contains("app: Browser, \"Pro\" 小米 (uid 10123)"), "{}", lines[0]);
    assert!(lines[1].contains("app: Other (uid 10123)"), "{}", lines[1]);
    assert!(text.contains("93.184.216.34"));
}

fn text_field() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[=+@\t\r,\"\n -]{0,3}[a-zA-Z,\"\n ü中]{0,12}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever text an app, a host or a request carries, the store's CSV is the engine's CSV.
    #[test]
    fn any_text_round_trips_through_the_store(
        app in text_field(), host in text_field(), path in text_field(), agent in text_field(),
    ) {
        let mut record = flow("x", 10001, "y", 1);
        record.app = Some(app);
        record.host = Some(host);
        record.http_path = Some(path);
        record.user_agent = Some(agent);
        let records = [record];
        let exported = store_csv(&records);
        prop_assert_eq!(&exported, &direct_csv(&records));
        let mut reader = csv::Reader::from_reader(exported.as_slice());
        let row = reader.records().next().unwrap().unwrap();
        let expected: Vec<String> = phonehome_engine::record::cells(&records[0]).iter().map(|c| neutralise_formula(c).into_owned()).collect();
        prop_assert_eq!(row.iter().collect::<Vec<_>>(), expected);
    }
}

#[test]
fn reading_an_absent_store_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let error = History::open(&missing).err().unwrap();
    assert!(matches!(&error, phonehome_store::StoreError::Missing(path) if *path == missing), "{error}");
    assert!(!missing.exists(), "reading must not create a store");
}

#[test]
fn a_tampered_row_fails_the_export_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = open(&path);
    let mut sink = store.sink().unwrap();
    for record in hostile_flows() {
        sink.flow_ended(record, Vec::new());
    }
    sink.flush().unwrap();
    let history = store.history().unwrap();
    let tamper = rusqlite::Connection::open(&path).unwrap();
    for (column, value) in [("proto", "'SCTP'"), ("src_ip", "'not an ip'"), ("bytes_out", "-5"), ("l7", "x'00ff'")] {
        tamper.execute_batch(&format!("UPDATE flows SET {column} = {value} WHERE id = 2")).unwrap();
        let result = history.export_csv(&Filter::default(), std::io::sink());
        assert!(matches!(result, Err(phonehome_store::StoreError::Sqlite(_))), "{column}: {result:?}");
        tamper.execute_batch("DELETE FROM flows WHERE id = 2").unwrap();
        assert_eq!(history.export_csv(&Filter::default(), std::io::sink()).unwrap(), 2);
        sink.flow_ended(hostile_flows().remove(1), Vec::new());
        sink.flush().unwrap();
        tamper.execute_batch("UPDATE flows SET id = 2 WHERE id = (SELECT max(id) FROM flows)").unwrap();
    }
    tamper.execute_batch("UPDATE flows SET tcp_state = 'from_a_newer_engine' WHERE id = 1").unwrap();
    let mut states = Vec::new();
    history
        .for_each_flow(&Filter::default(), |r| {
            states.push(r.tcp_state);
            Ok(())
        })
        .unwrap();
    assert_eq!(states.first(), Some(&Some(TcpState::Unknown)));
}

#[test]
fn a_flow_is_kept_with_the_evidence_of_its_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.db"));
    let mut sink = store.sink().unwrap();
    let leaky = FlowRecord {
        dns_names: vec!["reg.example".into(), "alias.example".into()],
        ..flow("Reg", 10001, "reg.example", 5)
    };
    let alerts = vec![
        alert(&leaky, AlertKind::IdentifierLeak, "imei [redacted] in the HTTP path"),
        alert(&leaky, AlertKind::CleartextHttp, "GET to reg.example\nin clear"),
    ];
    sink.flow_ended(leaky.clone(), alerts.clone());
    sink.flush().unwrap();
    let history = store.history().unwrap();
    let id = history.flows_page(None, None, 10).unwrap().first().unwrap().id;
    let stored = history.flow(id).unwrap().unwrap();
    assert_eq!(stored.record, leaky, "with its DNS names");
    assert_eq!(stored.evidence, ["imei [redacted] in the HTTP path", "GET to reg.example in clear"]);
    let mut kept = Vec::new();
    history
        .for_each_alert(&Filter::default(), |alert| {
            kept.push(alert);
            Ok(())
        })
        .unwrap();
    assert_eq!(kept, alerts, "the alerts themselves keep their evidence verbatim");
}
