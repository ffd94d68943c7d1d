//! The labelled leak scenarios of the leak crate, sent as real packets through the whole pipeline: each
//! scenario's client bytes travel in their protocol (HTTP and raw TCP sessions with handshakes, DNS and raw
//! UDP datagrams, TLS over TCP 443, QUIC over UDP 443; IPv4 or IPv6) in one capture, and the alerts the
//! engine raises are scored against the labels. Precision and recall per identifier kind must reach 0.99;
//! TLS and QUIC flows must raise no leak (they are not searched past their handshake).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use phonehome_engine::{Analyzer, AnalyzerConfig, Judge};
use phonehome_intel::{AlertKind, Intel, IntelConfig};
use phonehome_leak::scenarios::{self, Transport};
use phonehome_leak::{DetectorConfig, Encoding, IdKind, LeakDetector};
use phonehome_packet::{LinkType, Timestamp};
use phonehome_testdata::CaptureBuilder;

mod common;

const BAR: f64 = 0.99;

#[test]
fn leaks_are_found_in_real_packets_with_precision_and_recall_per_kind() {
    let corpus = scenarios::all();
    let identifiers = scenarios::identifiers();
    let kind_of_label: HashMap<String, IdKind> = identifiers.iter().map(|i| (i.label.clone(), i.kind)).collect();

    let mut capture = CaptureBuilder::new(Duration::from_secs(1_700_000_000));
    let mut by_port = HashMap::new();
    for (i, scenario) in corpus.iter().enumerate() {
        let (phone, server): (IpAddr, IpAddr) = if scenario.ipv6 {
            ("fd00::2".parse().unwrap(), "2001:db8::10".parse().unwrap())
        } else {
            ("10.0.0.2".parse().unwrap(), "198.51.100.10".parse().unwrap())
        };
        let port = 20_000 + u16::try_from(i).unwrap();
        let client = SocketAddr::new(phone, port);
        let at = |server_port| SocketAddr::new(server, server_port);
        let bytes = scenario.client_bytes.as_slice();
        match scenario.transport {
            Transport::Http => capture.tcp_session(client, at(80), &[(bytes, b"HTTP/1.1 204 No Content\r\n\r\n")]),
            Transport::RawTcp => capture.tcp_session(client, at(7000), &[(bytes, b"")]),
            Transport::Tls => capture.tcp_session(client, at(443), &[(bytes, b"")]),
            Transport::Dns => capture.udp(client, at(53), bytes),
            Transport::RawUdp => capture.udp(client, at(9000), bytes),
            Transport::Quic => capture.udp(client, at(443), bytes),
        }
        by_port.insert(port, scenario);
    }

    let leaks = LeakDetector::new(&identifiers, &DetectorConfig::default()).unwrap();
    let judge = Judge::new(Intel::new(IntelConfig::default()), leaks, false);
    let mut analyzer = Analyzer::with_judge(AnalyzerConfig::default(), judge);
    let mut collected = common::Collected::default();
    for (ts, packet) in capture.packets() {
        analyzer.process_frame(Timestamp(*ts), LinkType::RawIp, packet, &mut collected);
    }
    analyzer.finish(&mut collected);

    let mut found: HashMap<u16, BTreeSet<(IdKind, Encoding)>> = HashMap::new();
    for alert in collected.alerts.iter().filter(|a| a.kind == AlertKind::IdentifierLeak) {
        let label = alert.identifier.as_deref().unwrap();
        let encoding = Encoding::ALL.into_iter().find(|e| Some(e.as_str()) == alert.encoding.as_deref()).unwrap();
        found.entry(alert.src_port).or_default().insert((kind_of_label[label], encoding));
    }

    // per kind: (true positives, false positives, false negatives)
    let mut score: BTreeMap<IdKind, (usize, usize, usize)> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for (port, scenario) in &by_port {
        let expected: BTreeSet<(IdKind, Encoding)> = scenario.expected.iter().copied().collect();
        let got = found.remove(port).unwrap_or_default();
        if matches!(scenario.transport, Transport::Tls | Transport::Quic) {
            assert!(got.is_empty(), "{}: an encrypted flow was searched: {got:?}", scenario.name);
        }
        for cell in expected.union(&got) {
            let entry = score.entry(cell.0).or_default();
            match (expected.contains(cell), got.contains(cell)) {
                (true, true) => entry.0 += 1,
                (false, true) => entry.1 += 1,
                _ => entry.2 += 1,
            }
        }
        if expected != got {
            mismatches.push(format!("{}: expected {expected:?}, got {got:?}", scenario.name));
        }
    }
    println!("{} scenarios in {} packets", corpus.len(), capture.packets().len());
    println!("{:<11} {:>5} {:>4} {:>4} {:>9} {:>7}", "kind", "tp", "fp", "fn", "precision", "recall");
    let mut failing = Vec::new();
    for (kind, (tp, fp, fneg)) in &score {
        let precision = *tp as f64 / (tp + fp).max(1) as f64;
        let recall = *tp as f64 / (tp + fneg).max(1) as f64;
        println!("{:<11} {tp:>5} {fp:>4} {fneg:>4} {precision:>9.3} {recall:>7.3}", kind.as_str());
        if precision < BAR || recall < BAR {
            failing.push(kind.as_str());
        }
    }
    for line in &mismatches {
        println!("MISMATCH {line}");
    }
    assert!(score.len() >= 11, "every declared kind is exercised: {:?}", score.keys());
    assert!(failing.is_empty(), "below {BAR}: {failing:?}");
}
