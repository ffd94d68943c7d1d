//! Precision and recall per identifier kind over the labelled scenario corpus, for declared
//! identifiers (`scan`) and for undeclared shapes (`scan_patterns`). Fails below 0.99.

use std::collections::BTreeMap;

use phonehome_http::{ClientStream, Event, Limits};
use phonehome_leak::scenarios::{self, Scenario, Transport};
use phonehome_leak::{is_encrypted_handshake, DetectorConfig, Encoding, IdKind, LeakDetector};

const THRESHOLD: f64 = 0.99;

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    true_positives: usize,
    false_positives: usize,
    false_negatives: usize,
}

impl Counts {
    fn precision(&self) -> Option<f64> {
        let found = self.true_positives + self.false_positives;
        (found > 0).then(|| self.true_positives as f64 / found as f64)
    }
    fn recall(&self) -> Option<f64> {
        let expected = self.true_positives + self.false_negatives;
        (expected > 0).then(|| self.true_positives as f64 / expected as f64)
    }
}

/// Multiset comparison of what was expected and what was reported, per kind.
fn tally<T: Ord + Copy>(
    table: &mut BTreeMap<IdKind, Counts>,
    kind_of: fn(&T) -> IdKind,
    expected: &[T],
    got: &[T],
) -> bool {
    let mut remaining: Vec<T> = expected.to_vec();
    let mut exact = true;
    for item in got {
        let counts = table.entry(kind_of(item)).or_default();
        if let Some(i) = remaining.iter().position(|e| e == item) {
            remaining.swap_remove(i);
            counts.true_positives += 1;
        } else {
            counts.false_positives += 1;
            exact = false;
        }
    }
    for item in &remaining {
        table.entry(kind_of(item)).or_default().false_negatives += 1;
        exact = false;
    }
    exact
}

fn print_table(title: &str, table: &BTreeMap<IdKind, Counts>) {
    println!("\n{title}");
    println!("{:<11} {:>5} {:>5} {:>5} {:>9} {:>7}", "kind", "tp", "fp", "fn", "precision", "recall");
    let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    for (kind, c) in table {
        println!(
            "{:<11} {:>5} {:>5} {:>5} {:>9} {:>7}",
            kind.as_str(),
            c.true_positives,
            c.false_positives,
            c.false_negatives,
            show(c.precision()),
            show(c.recall())
        );
    }
}

fn below_threshold(table: &BTreeMap<IdKind, Counts>) -> Vec<IdKind> {
    table
        .iter()
        .filter(|(_, c)| c.precision().is_some_and(|p| p < THRESHOLD) || c.recall().is_some_and(|r| r < THRESHOLD))
        .map(|(k, _)| *k)
        .collect()
}

/// What the engine would search: nothing of a TLS or QUIC flow; a TCP stream as the HTTP crate's stream
/// reader hands it out (requests, decoded bodies, messages, raw windows); a datagram as it is.
fn searched(scenario: &Scenario) -> Vec<Vec<u8>> {
    if is_encrypted_handshake(&scenario.client_bytes) {
        return Vec::new();
    }
    if !matches!(scenario.transport, Transport::Http | Transport::RawTcp) {
        return vec![scenario.client_bytes.clone()];
    }
    let mut units = Vec::new();
    let mut client = ClientStream::new(Limits::default());
    let mut collect = |event: Event<'_>| {
        if let Event::Search(bytes) = event {
            units.push(bytes.to_vec());
        }
    };
    for segment in scenario.client_bytes.chunks(1460) {
        client.push(segment, &mut collect);
    }
    client.finish(&mut collect);
    units
}

#[test]
fn precision_and_recall_per_kind_reach_the_bar() {
    let corpus = scenarios::all();
    let detector = LeakDetector::new(&scenarios::identifiers(), &DetectorConfig::default()).expect("detector builds");
    let mut declared = BTreeMap::new();
    let mut patterns = BTreeMap::new();
    let mut coverage: BTreeMap<(IdKind, Encoding), usize> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for scenario in &corpus {
        let units = searched(scenario);
        // One finding per identifier and encoding per flow, as the engine alerts.
        let mut got: Vec<(IdKind, Encoding)> =
            units.iter().flat_map(|unit| detector.scan(unit)).map(|f| (f.kind, f.encoding)).collect();
        got.sort();
        got.dedup();
        for cell in &scenario.expected {
            *coverage.entry(*cell).or_default() += 1;
        }
        if !tally(&mut declared, |c: &(IdKind, Encoding)| c.0, &scenario.expected, &got) {
            mismatches.push(format!("{}: expected {:?}, got {:?}", scenario.name, scenario.expected, got));
        }
        if let Some(expected) = &scenario.expected_patterns {
            let got: Vec<IdKind> = units.iter().flat_map(|unit| detector.scan_patterns(unit)).map(|f| f.kind).collect();
            if !tally(&mut patterns, |k: &IdKind| *k, expected, &got) {
                mismatches.push(format!("{} (patterns): expected {expected:?}, got {got:?}", scenario.name));
            }
        }
    }
    println!("{} scenarios", corpus.len());
    print_table("declared identifiers (scan)", &declared);
    print_table("undeclared shapes (scan_patterns)", &patterns);
    println!("\ncoverage: scenarios per kind x reported encoding");
    print!("{:<11}", "kind");
    for e in Encoding::ALL {
        print!(" {:>9}", e.as_str());
    }
    println!();
    for kind in IdKind::ALL {
        print!("{:<11}", kind.as_str());
        for e in Encoding::ALL {
            print!(" {:>9}", coverage.get(&(kind, e)).copied().unwrap_or(0));
        }
        println!();
    }
    for m in &mismatches {
        println!("MISMATCH {m}");
    }
    let failing_declared = below_threshold(&declared);
    let failing_patterns = below_threshold(&patterns);
    assert!(failing_declared.is_empty(), "declared kinds below {THRESHOLD}: {failing_declared:?}");
    assert!(failing_patterns.is_empty(), "pattern kinds below {THRESHOLD}: {failing_patterns:?}");
}

#[test]
fn corpus_covers_every_kind_and_encoding_family() {
    let corpus = scenarios::all();
    for kind in IdKind::ALL {
        for encoding in
            [Encoding::Plain, Encoding::Base64, Encoding::Hex, Encoding::Md5, Encoding::Sha1, Encoding::Sha256]
        {
            assert!(
                corpus.iter().any(|s| s.expected.contains(&(kind, encoding))),
                "no scenario for {kind} in {encoding}"
            );
        }
    }
    let transports: std::collections::HashSet<_> = corpus.iter().map(|s| s.transport).collect();
    assert_eq!(transports.len(), 6, "every transport is used");
    assert!(corpus.iter().any(|s| s.ipv6) && corpus.iter().any(|s| !s.ipv6));
    assert!(corpus.iter().any(|s| s.expected.iter().any(|(_, e)| *e == Encoding::Url)));
    assert!(corpus.iter().any(|s| s.expected.iter().any(|(_, e)| *e == Encoding::Base64Url)));
}

/// Every decoded carrier meets every encoding, and every carrier has look-alikes without identifiers.
#[test]
fn decoded_carriers_cover_every_encoding() {
    let corpus = scenarios::all();
    for carrier in scenarios::decoded::CARRIERS {
        let tag = format!("-{carrier:?}-decoded-");
        for encoding in Encoding::ALL {
            assert!(
                corpus.iter().any(|s| s.name.contains(&tag) && s.name.contains(&format!("-{encoding}-"))),
                "no scenario for {carrier:?} in {encoding}"
            );
        }
    }
    assert!(corpus.iter().filter(|s| s.name.starts_with("benign-decoded-")).count() >= 12);
}

#[test]
fn corpus_is_deterministic() {
    let a = scenarios::all();
    let b = scenarios::all();
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x.name == y.name && x.client_bytes == y.client_bytes));
    let mut names: Vec<&str> = a.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), a.len(), "scenario names are unique");
}
