use std::collections::BTreeSet;
use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::test_corpus::{companiesdb, corpus_text};

fn import(text: &str) -> (ListSet, ImportReport) {
    let mut set = ListSet::new();
    let report = set.import_text(ListInfo::new("test", ListCategory::Tracker), text);
    (set, report.unwrap_or_else(|e| panic!("import failed: {e}")))
}

fn hits(set: &ListSet, host: &str) -> Vec<(String, String)> {
    set.match_host(host).map(|h| (h.list.name.clone(), h.domain.to_owned())).collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

#[test]
fn hosts_lines_are_exact_with_several_names_and_local_names_skipped() {
    let text = "# hosts\n127.0.0.1 localhost\n0.0.0.0 ads.example.com track.example.com # inline\n::1 ip6-localhost\n\n0.0.0.0 Tracker.Example.NET.\n";
    let (set, report) = import(text);
    assert_eq!(report.domains, 3);
    assert_eq!(report.skipped, 2);
    assert_eq!(
        report.first_skipped.iter().map(|s| (s.line, s.reason)).collect::<Vec<_>>(),
        [(2, SkipReason::LocalName), (4, SkipReason::LocalName)]
    );
    assert_eq!(hits(&set, "ads.example.com").len(), 1);
    assert_eq!(hits(&set, "TRACKER.example.net").len(), 1);
    assert!(hits(&set, "sub.ads.example.com").is_empty(), "hosts entries are exact");
    assert!(hits(&set, "example.com").is_empty());
}

#[test]
fn plain_wildcard_and_adblock_rules_cover_subdomains() {
    let text =
        "plain.example\n*.wild.example\n||block.example^\n||opt.example^$important,third-party\n||pipe.example^|\n";
    let (set, report) = import(text);
    assert_eq!((report.domains, report.skipped), (5, 0));
    for host in [
        "plain.example",
        "a.plain.example",
        "wild.example",
        "x.y.wild.example",
        "block.example",
        "cdn.block.example",
        "opt.example",
        "pipe.example",
    ] {
        assert_eq!(hits(&set, host).len(), 1, "{host}");
    }
    assert!(hits(&set, "notplain.example").is_empty());
    assert_eq!(hits(&set, "deep.a.plain.example"), [("test".to_owned(), "plain.example".to_owned())]);
}

#[test]
fn adblock_rules_that_are_not_domain_rules_are_counted_as_skipped() {
    let text = "[Adblock Plus 2.0]\n! comment\n@@||good.example^\nexample.com##.ad\n##.banner\n/ads[0-9]+/\n$removeparam=utm\n||scoped.example^$domain=x.com\n||path.example/ads\n|https://url.example^\nfoo bar\n||ok.example^\n";
    let (set, report) = import(text);
    let reasons: Vec<(usize, SkipReason)> = report.first_skipped.iter().map(|s| (s.line, s.reason)).collect();
    assert_eq!(
        reasons,
        [
            (3, SkipReason::Exception),
            (4, SkipReason::Cosmetic),
            (6, SkipReason::Regex),
            (7, SkipReason::OptionOnly),
            (8, SkipReason::UnsupportedOptions),
            (9, SkipReason::UrlRule),
            (10, SkipReason::UrlRule),
            (11, SkipReason::Unrecognised),
        ]
    );
    assert_eq!(report.domains, 1);
    assert!(hits(&set, "good.example").is_empty());
    assert_eq!(report.first_skipped.first().map(|s| s.excerpt.as_str()), Some("@@||good.example^"));
}

#[test]
fn byte_order_mark_and_crlf_line_ends_are_tolerated() {
    let (set, report) = import("\u{feff}first.example\r\n0.0.0.0 second.example\r\n");
    assert_eq!((report.domains, report.skipped), (2, 0));
    assert_eq!(set.match_host("first.example").count() + set.match_host("second.example").count(), 2);
}

#[test]
fn report_keeps_only_the_first_skips_but_counts_all() {
    let text = "bad_line with spaces\n".repeat(25);
    let (_, report) = import(&text);
    assert_eq!(report.skipped, 25);
    assert_eq!(report.first_skipped.len(), REPORTED_SKIPS);
    assert_eq!(report.first_skipped.last().map(|s| s.line), Some(REPORTED_SKIPS));
}

#[test]
fn invalid_domains_are_skipped() {
    let (set, report) = import("com\nbücher.de\na..b.com\nexa%mple.com\n-ok-.example\n");
    assert_eq!(report.domains, 1, "hyphen edges are tolerated like resolvers do");
    assert_eq!(report.skipped, 4);
    assert_eq!(set.domain_count(), 1);
}

#[test]
fn cidrs_and_single_addresses() {
    let text = "10.0.0.0/8\n192.0.2.7\n2001:db8::/32\n198.51.100.9/24\n300.0.0.0/8\n10.0.0.0/33\n";
    let (set, report) = import(text);
    assert_eq!((report.cidrs, report.skipped), (4, 2));
    for inside in ["10.1.2.3", "10.255.255.255", "192.0.2.7", "2001:db8::1", "198.51.100.200"] {
        assert_eq!(set.match_ip(ip(inside)).count(), 1, "{inside}");
    }
    for outside in ["11.0.0.0", "9.255.255.255", "192.0.2.8", "2001:db9::1", "::a00:1"] {
        assert_eq!(set.match_ip(ip(outside)).count(), 0, "{outside}");
    }
}

#[test]
fn networks_broader_than_the_documented_prefixes_are_skipped() {
    let (set, report) = import("0.0.0.0/0\n::/0\n1.0.0.0/7\n2000::/3\n10.0.0.0/8\n2001:db8::/16\n");
    assert_eq!((report.cidrs, report.skipped), (2, 4));
    let reasons: Vec<SkipReason> = report.first_skipped.iter().map(|s| s.reason).collect();
    assert_eq!(reasons, [SkipReason::NetworkTooBroad; 4]);
    assert_eq!(set.match_ip(ip("192.0.2.1")).count(), 0, "not every flow is listed");
    assert_eq!(set.match_ip(ip("10.9.9.9")).count(), 1);
    assert_eq!(set.match_ip(ip("2001:ffff::1")).count(), 1);
}

#[test]
fn overlapping_cidrs_of_several_lists() {
    let mut set = ListSet::new();
    set.import_text(ListInfo::new("a", ListCategory::Malware), "10.0.0.0/8\n255.0.0.0/8\n").ok();
    set.import_text(ListInfo::new("b", ListCategory::Tracker), "10.1.0.0/16\n::ffff:0:0/96\n2001:db8::/32\n").ok();
    let names = |addr: &str| set.match_ip(ip(addr)).map(|l| l.name.as_str()).collect::<Vec<_>>();
    assert_eq!(names("10.1.2.3"), ["a", "b"], "IPv4 is mapped into ::ffff:0:0/96 as well");
    assert_eq!(names("10.2.0.0"), ["a", "b"]);
    assert_eq!(names("2001:db8::1"), ["b"]);
    assert_eq!(names("255.255.255.255"), ["a", "b"]);
}

#[test]
fn one_hit_per_list_most_specific_first_and_list_owner_used() {
    let mut set = ListSet::new();
    let mut owned = ListInfo::new("vendor", ListCategory::Telemetry);
    owned.owner = Some("Xiaomi".into());
    set.import_text(owned, "miui.com\ntracking.intl.miui.com\n").ok();
    set.import_text(ListInfo::new("generic", ListCategory::Tracker), "intl.miui.com\n").ok();
    let found: Vec<(&str, &str, Option<&str>)> =
        set.match_host("tracking.intl.miui.com.").map(|h| (h.list.name.as_str(), h.domain, h.owner)).collect();
    assert_eq!(found, [("vendor", "tracking.intl.miui.com", Some("Xiaomi")), ("generic", "intl.miui.com", None)]);
    assert_eq!(set.domain_count(), 3);
    assert_eq!(set.match_host("1.2.3.4").count(), 0);
    assert_eq!(set.match_host("").count(), 0);
}

#[test]
fn list_count_is_capped() {
    let mut set = ListSet::new();
    for i in 0..MAX_LISTS {
        assert!(set.import_text(ListInfo::new(format!("l{i}"), ListCategory::Custom), "a.example\n").is_ok());
    }
    assert!(matches!(
        set.import_text(ListInfo::new("one too many", ListCategory::Custom), ""),
        Err(ListError::TooManyLists)
    ));
    assert_eq!(set.match_host("a.example").count(), MAX_LISTS);
}

#[test]
fn adguard_json_errors_are_reported() {
    let mut set = ListSet::new();
    let info = ListInfo::new("adguard", ListCategory::Tracker);
    assert!(matches!(set.import_adguard(info.clone(), "{", None), Err(ListError::Json(_))));
    assert!(matches!(set.import_adguard(info.clone(), "{\"trackers\":{}}", None), Err(ListError::Json(_))));
    assert!(set.lists().is_empty(), "a failed import takes no list slot");
    let minimal = r#"{"trackers":{"t":{"name":"T","companyId":null}},"trackerDomains":{"t.example":"t","bad domain":"t","u.example":"missing"}}"#;
    let report = set.import_adguard(info, minimal, None).unwrap_or_default();
    assert_eq!((report.domains, report.skipped), (2, 1));
    let hit = set.match_tracker("x.t.example").map(|(list, e)| (list.name.as_str(), e.tracker, e.company));
    assert_eq!(hit, Some(("adguard", "T", None)));
    assert_eq!(set.match_tracker("u.example").map(|(_, e)| e.tracker), Some("missing"));
    assert_eq!(set.match_host("x.t.example").count(), 0, "companiesdb entries are tracker-table entries");
}

#[test]
fn adguard_companiesdb_from_the_corpus() {
    let Some((trackers, companies)) = companiesdb() else { return };
    let mut set = ListSet::new();
    let report = set
        .import_adguard(ListInfo::new("AdGuard companiesdb", ListCategory::Tracker), &trackers, Some(&companies))
        .unwrap_or_default();
    assert_eq!((report.domains, report.skipped), (5125, 0));
    let company = |host: &str| set.match_tracker(host).and_then(|(_, e)| e.company).map(str::to_owned);
    assert_eq!(company("launches.appsflyer.com").as_deref(), Some("AppsFlyer"));
    assert_eq!(company("app-measurement.com").as_deref(), Some("Google"));
    assert_eq!(company("mc.yandex.ru").as_deref(), Some("Yandex"));
    assert_eq!(set.match_tracker("example.org"), None);
    // trackers.json alone (as the app imports it by URL): companies named from the bundled table.
    let mut alone = ListSet::new();
    alone.import(ListInfo::new("trackers.json", ListCategory::Tracker), &trackers).unwrap_or_default();
    assert_eq!(alone.match_tracker("mc.yandex.ru").and_then(|(_, e)| e.company), Some("Yandex"));
}

#[test]
fn the_latest_companiesdb_import_wins() {
    let mut set = ListSet::new();
    let old = r#"{"trackers":{"t":{"name":"Old"}},"trackerDomains":{"t.example":"t"}}"#;
    let new = r#"{"trackers":{"t":{"name":"New"}},"trackerDomains":{"t.example":"t","n.example":"t"}}"#;
    assert!(set.import(ListInfo::new("old", ListCategory::Tracker), old).is_ok());
    assert!(set.import(ListInfo::new("new", ListCategory::Telemetry), new).is_ok());
    let hit = set.match_tracker("a.t.example").map(|(list, e)| (list.name.as_str(), list.category, e.tracker));
    assert_eq!(hit, Some(("new", ListCategory::Telemetry, "New")));
}

#[test]
fn hagezi_light_from_the_corpus() {
    let Some(text) = corpus_text("lists/hagezi-light-2022.txt") else { return };
    let (set, report) = import(&text);
    assert_eq!((report.domains, report.skipped), (122_680, 0));
    assert_eq!(set.domain_count(), 122_680);
    for host in ["0001.best", "www.0001.best", "x.000.gaysexe.free.fr"] {
        assert_eq!(set.match_host(host).count(), 1, "{host}");
    }
    for host in ["free.fr", "best", "example.com"] {
        assert_eq!(set.match_host(host).count(), 0, "{host}");
    }
}

fn naive_matches(rules: &[(usize, String, bool)], host: &str) -> BTreeSet<usize> {
    rules
        .iter()
        .filter(|(_, d, subtree)| host == d || (*subtree && host.ends_with(&format!(".{d}"))))
        .map(|(list, _, _)| *list)
        .collect()
}

fn small_domain() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "ab", "c"]), 2..5).prop_map(|l| l.join("."))
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let mut set = ListSet::new();
        let report = set.import_text(ListInfo::new("x", ListCategory::Custom), &text);
        prop_assert!(report.is_ok());
        let _ = set.match_host(&text).count();
    }

    #[test]
    fn list_like_text_never_panics(lines in prop::collection::vec("[ |@#$*!/.:0-9a-f^a-z]{0,40}", 0..30)) {
        let mut set = ListSet::new();
        let report = set.import_text(ListInfo::new("x", ListCategory::Custom), &lines.join("\n"));
        prop_assert!(report.is_ok());
        for line in &lines {
            let _ = set.match_host(line).count();
        }
    }

    #[test]
    fn arbitrary_hosts_never_panic(host in "\\PC{0,300}") {
        let (set, _) = import("example.com\n0.0.0.0 a.b.example.org\n");
        let _ = set.match_host(&host).count();
    }

    #[test]
    fn matching_equals_a_naive_suffix_check(
        rules in prop::collection::vec((0..3usize, small_domain(), any::<bool>()), 0..12),
        hosts in prop::collection::vec(small_domain(), 1..10),
    ) {
        let mut set = ListSet::new();
        for list in 0..3 {
            let text: String = rules
                .iter()
                .filter(|(l, _, _)| *l == list)
                .map(|(_, d, subtree)| if *subtree { format!("{d}\n") } else { format!("0.0.0.0 {d}\n") })
                .collect();
            prop_assert!(set.import_text(ListInfo::new(list.to_string(), ListCategory::Tracker), &text).is_ok());
        }
        for host in &hosts {
            let got: Vec<usize> = set.match_host(host).filter_map(|h| h.list.name.parse().ok()).collect();
            let unique: BTreeSet<usize> = got.iter().copied().collect();
            prop_assert_eq!(got.len(), unique.len(), "each list at most once");
            prop_assert_eq!(unique, naive_matches(&rules, host));
        }
    }

    #[test]
    fn ip_matching_equals_a_naive_containment_check(
        nets in prop::collection::vec((0..3usize, any::<[u8; 4]>(), MIN_IPV4_PREFIX..=32), 0..10),
        probes in prop::collection::vec(any::<[u8; 4]>(), 1..20),
    ) {
        let mut set = ListSet::new();
        for list in 0..3 {
            let text: String = nets
                .iter()
                .filter(|(l, _, _)| *l == list)
                .map(|(_, a, p)| format!("{}/{p}\n", IpAddr::from(*a)))
                .collect();
            prop_assert!(set.import_text(ListInfo::new(list.to_string(), ListCategory::Malware), &text).is_ok());
        }
        for probe in probes {
            let addr = IpAddr::from(probe);
            let got: BTreeSet<usize> = set.match_ip(addr).filter_map(|l| l.name.parse().ok()).collect();
            let want: BTreeSet<usize> = nets
                .iter()
                .filter(|(_, a, p)| ipnet::Ipv4Net::new((*a).into(), *p).is_ok_and(|n| n.contains(&std::net::Ipv4Addr::from(probe))))
                .map(|(l, _, _)| *l)
                .collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn mutated_real_lines_never_panic(
        index in 0usize..8,
        cut in 0usize..60,
        flip in any::<u8>(),
        at in 0usize..60,
    ) {
        let real = [
            "*.0.0.0.0.beeglivesex.com", "0.0.0.0 sa.api.intl.miui.com", "||tracking.intl.miui.com^$important",
            "2001:db8::/32", "@@||ok.example^", "example.com##.ad", "127.0.0.1 localhost localhost.localdomain",
            "# Title: HaGeZi's Light DNS Blocklist",
        ];
        let mut bytes = real.get(index).copied().unwrap_or("").as_bytes().to_vec();
        if let Some(b) = bytes.get_mut(at) {
            *b ^= flip;
        }
        bytes.truncate(cut);
        let text = String::from_utf8_lossy(&bytes);
        let mut set = ListSet::new();
        prop_assert!(set.import_text(ListInfo::new("m", ListCategory::Custom), &text).is_ok());
        let _ = set.match_host(&text).count();
    }

    #[test]
    fn truncated_or_mutated_companiesdb_json_never_panics(cut in 0usize..400, at in 0usize..400, flip in any::<u8>()) {
        let real = r#"{"timeUpdated":"2026-07-20","categories":{"4":"advertising"},"trackers":{"appsflyer":{"name":"AppsFlyer","categoryId":101,"url":"https://www.appsflyer.com/","companyId":"appsflyer"}},"trackerDomains":{"appsflyer.com":"appsflyer","appsflyersdk.com":"appsflyer"}}"#;
        let mut bytes = real.as_bytes().to_vec();
        if let Some(b) = bytes.get_mut(at) {
            *b ^= flip;
        }
        bytes.truncate(cut);
        let text = String::from_utf8_lossy(&bytes);
        let mut set = ListSet::new();
        let _ = set.import_adguard(ListInfo::new("m", ListCategory::Tracker), &text, Some(&text));
        let _ = set.match_tracker("appsflyer.com");
    }
}

#[test]
fn import_tells_adguard_json_from_text_lists() {
    let mut set = ListSet::new();
    let json = "\u{feff}\n  {\"trackers\":{\"t\":{\"name\":\"T\"}},\"trackerDomains\":{\"t.example\":\"t\"}}";
    let report = set.import(ListInfo::new("adguard", ListCategory::Tracker), json).unwrap_or_default();
    assert_eq!(report.domains, 1);
    assert_eq!(set.match_tracker("a.t.example").map(|(_, e)| e.tracker), Some("T"));
    let report = set.import(ListInfo::new("hosts", ListCategory::Tracker), "0.0.0.0 ads.example\n").unwrap_or_default();
    assert_eq!((report.domains, set.domain_count()), (1, 1));
    assert!(matches!(set.import(ListInfo::new("broken", ListCategory::Custom), " {"), Err(ListError::Json(_))));
}
