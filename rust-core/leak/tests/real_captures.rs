//! Pattern detection over the real captures of the nDPI corpus (each TCP stream and UDP payload, in
//! chunks of the default scan length): what it finds was reviewed by hand and is pinned here, so a new
//! false positive (or a lost true one) fails the test.
//! Reviewed: 1kxun.pcap sends a real Android ID and advertising ID over HTTP; anyconnect-vpn,
//! telegram and tls_certificate_too_long carry MACs (Bonjour `rpBA=`, `WAKEUP: MAC=`);
//! emotet.pcap has SMTP e-mail addresses; the fuzzed WAP capture has e-mail-shaped push ids.

#[path = "../../packet/tests/support/ndpi.rs"]
mod ndpi;

use std::collections::BTreeSet;

use ndpi::{captures, file_name, ndpi_dir, read_packets, tcp_streams};
use phonehome_leak::{DetectorConfig, Encoding, IdKind, Identifiers, LeakDetector};

/// What the engine hands the detector from a capture: each TCP stream and each UDP payload.
fn payloads(capture: &std::path::Path) -> Vec<Vec<u8>> {
    let packets = read_packets(capture);
    let udp = packets.iter().filter(|p| p.udp).map(|p| p.payload.clone());
    tcp_streams(&packets).into_values().chain(udp).collect()
}

#[test]
fn pattern_findings_in_real_captures_are_the_reviewed_ones() {
    let Some(dir) = ndpi_dir() else { return };
    let config = DetectorConfig::default();
    let detector = LeakDetector::new(&Identifiers::new(), &config).expect("detector builds");
    let files = captures(&dir);
    let mut found = BTreeSet::new();
    let mut bytes = 0;
    for path in &files {
        let name = file_name(path);
        for payload in payloads(path) {
            bytes += payload.len();
            for chunk in payload.chunks(config.max_scan_bytes) {
                for f in detector.scan_patterns(chunk) {
                    found.insert((name.clone(), f.kind, f.key_hint));
                }
            }
        }
    }
    println!("{} captures, {:.1} MB; findings (file, kind, telling key):", files.len(), bytes as f64 / 1e6);
    for f in &found {
        println!("  {f:?}");
    }
    let reviewed: BTreeSet<(String, IdKind, bool)> = [
        ("1kxun.pcap", IdKind::AdId, true),
        ("1kxun.pcap", IdKind::AndroidId, true),
        ("anyconnect-vpn.pcap", IdKind::Mac, false),
        ("anyconnect-vpn.pcap", IdKind::Mac, true),
        ("emotet.pcap", IdKind::Email, false),
        ("fuzz-2006-09-29-28586.pcap", IdKind::Email, false),
        ("telegram.pcap", IdKind::Mac, false),
        ("tls_certificate_too_long.pcap", IdKind::Mac, false),
    ]
    .into_iter()
    .map(|(f, k, h)| (f.to_owned(), k, h))
    .collect();
    assert_eq!(found, reviewed);
}

/// 1kxun.pcap (an Android app over HTTP) sends its Android ID plain, as MD5 and as SHA-1, and
/// its advertising ID plain and as SHA-1; counts are from an independent Python count over the
/// raw capture, which the streams give again.
#[test]
fn declared_ids_of_a_real_app_are_found_plain_and_hashed() {
    let Some(dir) = ndpi_dir() else { return };
    let payloads = payloads(&dir.join("1kxun.pcap"));
    let ids =
        Identifiers::from_toml("android_id = \"b9e28776354d259e\"\nad_id = \"5ac6a0ff-8d18-47bc-a902-2812cf0c251e\"")
            .expect("valid identifiers");
    let longest = payloads.iter().map(Vec::len).max().unwrap_or_default();
    let config = DetectorConfig { max_scan_bytes: longest, max_findings: 1000, ..DetectorConfig::default() };
    let detector = LeakDetector::new(&ids, &config).expect("detector builds");
    let mut counts = std::collections::BTreeMap::new();
    for f in payloads.iter().flat_map(|p| detector.scan(p)) {
        *counts.entry((f.kind, f.encoding)).or_insert(0) += 1;
    }
    println!("{counts:?}");
    let expected = [
        ((IdKind::AndroidId, Encoding::Plain), 17),
        ((IdKind::AndroidId, Encoding::Md5), 4),
        ((IdKind::AndroidId, Encoding::Sha1), 4),
        ((IdKind::AdId, Encoding::Plain), 21),
        ((IdKind::AdId, Encoding::Sha1), 1),
    ];
    assert_eq!(counts, expected.into_iter().collect());
}
