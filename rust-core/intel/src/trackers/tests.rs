use proptest::prelude::*;

use super::*;
use crate::test_corpus::companiesdb;

fn table(json: &str) -> (TrackerTable, ImportReport) {
    TrackerTable::from_companiesdb(json, None).unwrap_or_else(|e| panic!("not a companiesdb file: {e}"))
}

fn lookup<'a>(table: &'a TrackerTable, name: &str) -> Option<TrackerEntry<'a>> {
    table.lookup(name)
}

/// The committed table is what the generator makes of the corpus's companiesdb files: a change
/// to either the data or the encoder without regenerating fails here.
#[test]
fn bundled_table_is_what_the_generator_makes() {
    let Some((trackers, companies)) = companiesdb() else { return };
    let (generated, report) = TrackerTable::from_companiesdb(&trackers, Some(&companies)).expect("corpus converts");
    assert_eq!(report.skipped, 0);
    assert!(
        generated.as_bytes() == BUNDLED_BYTES,
        "rust-core/intel/data/trackers.bin is stale: run `cargo run -p phonehome-intel --bin generate-trackers`"
    );
    let again = TrackerTable::from_companiesdb(&trackers, Some(&companies)).expect("corpus converts").0;
    assert!(again.as_bytes() == generated.as_bytes(), "the conversion is deterministic");
}

#[test]
fn bundled_table_counts_and_date() {
    let t = bundled_trackers();
    assert_eq!((t.domain_count(), t.tracker_count(), t.company_count()), (5125, 3261, 2359));
    assert_eq!(t.updated(), "2026-07-20");
    assert_eq!(t.entries().count(), 5125, "every record decodes");
    let domains: Vec<&str> = t.entries().map(|e| e.domain).collect();
    assert!(domains.windows(2).all(|w| w[0] < w[1]), "sorted and unique, as the binary search needs");
}

#[test]
fn every_bundled_entry_is_found_by_its_own_domain() {
    let t = bundled_trackers();
    for entry in t.entries() {
        assert_eq!(lookup(t, entry.domain), Some(entry));
    }
}

#[test]
fn exact_and_subdomain_matches_without_suffix_accidents() {
    let t = bundled_trackers();
    let appsflyer = lookup(t, "launches.appsflyer.com").expect("AppsFlyer is listed");
    assert_eq!(
        (appsflyer.domain, appsflyer.tracker, appsflyer.category, appsflyer.company),
        ("appsflyer.com", "AppsFlyer", TrackerCategory::MobileAnalytics, Some("AppsFlyer"))
    );
    assert_eq!(lookup(t, "umeng.com").map(|e| e.company_id), Some(Some("umeng")));
    assert_eq!(lookup(t, "alog.umeng.com").map(|e| e.domain), Some("umeng.com"));
    for miss in ["notumeng.com", "umeng.com.example.org", "xappsflyer.com", "com", "example.org", "appsflyer"] {
        assert_eq!(lookup(t, miss), None, "{miss}");
    }
    let metrika = lookup(t, "mc.yandex.ru").expect("Yandex Metrica is listed");
    assert_eq!((metrika.domain, metrika.tracker_id), ("mc.yandex.ru", "yandex_metrika"), "most specific entry");
    assert_eq!(lookup(t, "www.yandex.ru").map(|e| e.tracker_id), Some("yandex"));
}

#[test]
fn categories_round_trip_and_only_four_are_tracking() {
    for category in TrackerCategory::ALL {
        assert_eq!(TrackerCategory::from_name(category.as_str()), category);
        assert_eq!(TrackerCategory::from_code(category.code()), category);
    }
    assert_eq!(TrackerCategory::from_name("something_new"), TrackerCategory::Unknown);
    let tracking: Vec<_> = TrackerCategory::ALL.into_iter().filter(|c| c.is_tracking()).collect();
    assert_eq!(tracking.len(), 4);
    assert!(!TrackerCategory::Cdn.is_tracking() && !TrackerCategory::Essential.is_tracking());
}

#[test]
fn conversion_keeps_what_it_can_and_reports_the_rest() {
    let json = r#"{"timeUpdated":"2030-01-02T03:04:05Z","categories":{"4":"advertising","101":"mobile_analytics"},
        "trackers":{"t":{"name":"T","categoryId":101,"companyId":"co"},"u":{"name":"U","categoryId":"4"}},
        "trackerDomains":{"T.Example.":"t","bad domain":"t","u.example":"u","gone.example":"missing","com":"t"}}"#;
    let (t, report) = table(json);
    assert_eq!((report.domains, report.skipped), (3, 2));
    assert_eq!(t.updated(), "2030-01-02");
    let entry = lookup(&t, "a.t.example").expect("normalised domain");
    assert_eq!(
        (entry.domain, entry.tracker, entry.category, entry.company_id, entry.company),
        ("t.example", "T", TrackerCategory::MobileAnalytics, Some("co"), Some("co")),
        "without companies.json a company is named by its id"
    );
    assert_eq!(lookup(&t, "u.example").map(|e| (e.category, e.company)), Some((TrackerCategory::Advertising, None)));
    let gone = lookup(&t, "gone.example").expect("kept");
    assert_eq!(
        (gone.tracker, gone.category),
        ("missing", TrackerCategory::Unknown),
        "an undescribed tracker is its id"
    );
}

#[test]
fn company_names_come_from_companies_json_then_from_another_table() {
    let trackers =
        r#"{"trackers":{"y":{"name":"Y","categoryId":4,"companyId":"yandex"}},"trackerDomains":{"y.example":"y"}}"#;
    let companies = r#"{"companies":{"yandex":{"name":"Yandex from JSON"}}}"#;
    let mut report = ImportReport::default();
    let named = build(trackers, Some(companies), Some(bundled_trackers()), &mut report).expect("valid");
    assert_eq!(lookup(&named, "y.example").and_then(|e| e.company), Some("Yandex from JSON"));
    let fallback = build(trackers, None, Some(bundled_trackers()), &mut report).expect("valid");
    assert_eq!(lookup(&fallback, "y.example").and_then(|e| e.company), Some("Yandex"));
}

#[test]
fn long_names_are_cut_at_a_character_boundary() {
    let name = "é".repeat(200); // 400 bytes
    let json = format!(r#"{{"trackers":{{"t":{{"name":"{name}"}}}},"trackerDomains":{{"t.example":"t"}}}}"#);
    let (t, _) = table(&json);
    let tracker = lookup(&t, "t.example").map(|e| e.tracker).unwrap_or_default();
    assert_eq!(tracker, "é".repeat(127), "254 bytes: the longest whole-character prefix under 256");
}

#[test]
fn malformed_tables_are_refused() {
    let bytes = bundled_trackers().as_bytes();
    assert!(TrackerTable::from_bytes(bytes.to_vec()).is_some());
    for cut in [0, 7, HEADER_BYTES - 1, HEADER_BYTES, bytes.len() / 2, bytes.len() - 1] {
        assert!(TrackerTable::from_bytes(bytes.get(..cut).unwrap_or_default().to_vec()).is_none(), "{cut}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(TrackerTable::from_bytes(longer).is_none());
    let mut magic = bytes.to_vec();
    magic[5] = 2;
    assert!(TrackerTable::from_bytes(magic).is_none(), "another format version");
}

#[test]
fn json_errors_are_reported() {
    for bad in ["{", "{\"trackers\":{}}", "[]", "{\"trackerDomains\":{\"a.example\":1}}"] {
        assert!(matches!(TrackerTable::from_companiesdb(bad, None), Err(ListError::Json(_))), "{bad}");
    }
}

proptest! {
    /// Arbitrary bytes behind a valid header never panic: parsing refuses them or lookups answer.
    #[test]
    fn arbitrary_tables_never_panic(
        counts in any::<[u16; 3]>(),
        body in prop::collection::vec(any::<u8>(), 0..2000),
        names in prop::collection::vec("[a-z.]{0,20}", 1..10),
    ) {
        let mut bytes = MAGIC.to_vec();
        for count in counts {
            bytes.extend_from_slice(&u32::from(count % 64).to_le_bytes());
        }
        let text_len = body.len().saturating_sub(usize::from(counts[0] % 64) * DOMAIN_BYTES);
        bytes.extend_from_slice(&u32::try_from(text_len).unwrap_or(0).to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&body);
        if let Some(table) = TrackerTable::from_bytes(bytes) {
            for name in &names {
                let _ = table.lookup(name);
            }
            let _ = table.entries().count();
            let _ = table.company_name("x");
        }
    }

    /// Any set of domains converts, and every domain is then found with its tracker.
    #[test]
    fn conversion_round_trip(domains in prop::collection::btree_map("[a-c]{1,3}\\.[a-c]{1,3}", 0..3u8, 1..30)) {
        let entries: Vec<String> = domains.iter().map(|(d, t)| format!("\"{d}\":\"t{t}\"")).collect();
        let json = format!(r#"{{"trackers":{{}},"trackerDomains":{{{}}}}}"#, entries.join(","));
        let (t, report) = table(&json);
        prop_assert_eq!(report.domains, domains.len());
        for (domain, tracker) in &domains {
            let tracker_id = format!("t{tracker}");
            let found = t.lookup(domain).map(|e| (e.domain, e.tracker_id));
            prop_assert_eq!(found, Some((domain.as_str(), tracker_id.as_str())));
            let sub = format!("x.{domain}");
            prop_assert_eq!(t.lookup(&sub).map(|e| e.domain), Some(domain.as_str()));
        }
    }
}
