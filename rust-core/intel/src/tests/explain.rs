//! [`Intel::explain`]: what `phonehome whois` and the app's "why flagged" show.

use super::*;

#[test]
fn the_seed_case_explained() {
    let e = intel().explain(Some("Tracking.Intl.MIUI.com."), Some(ip("47.241.1.1")));
    assert_eq!(e.host.as_deref(), Some("tracking.intl.miui.com"));
    let network = e.network.as_ref().expect("an address was given");
    assert_eq!((network.country.as_deref(), network.asn), (Some("US"), Some(45102)), "registered to Alibaba US");
    let owner = network.owner.as_ref().expect("Alibaba's network");
    assert_eq!((owner.company.as_str(), owner.country.as_str()), ("Alibaba", "CN"));
    assert_eq!(owner.source, "curated ASN table (https://bgp.he.net/AS45102)");
    let domain = e.domain.as_ref().expect("a host was given");
    assert_eq!(domain.registrable_domain.as_deref(), Some("miui.com"));
    assert_eq!(domain.owner.as_ref().map(|o| o.source.as_str()), Some("curated domain-owner table (miui.com)"));
    let curated = domain.curated.as_ref().expect("curated telemetry host");
    assert_eq!((curated.what.as_str(), curated.company.as_str()), ("vendor telemetry", "Xiaomi"));
    assert!(curated.source.contains("forbes.com"));
    let tracker = domain.tracker.as_ref().expect("companiesdb lists miui.com");
    assert_eq!((tracker.domain.as_str(), tracker.category, tracker.alerts), ("miui.com", TrackerCategory::Misc, false));
    assert_eq!(e.watchlist, ["CN", "RU"]);
    let kinds: Vec<AlertKind> = e.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [AlertKind::WatchedNetwork, AlertKind::WatchedDomainOwner, AlertKind::VendorTelemetry]);
}

#[test]
fn the_same_findings_as_a_flow() {
    let intel = intel();
    for (host, addr) in [("ssp.adriver.ru", "8.8.8.8"), ("www.cnnic.cn", "1.1.1.1"), ("zzhc.vnet.cn", "42.99.254.162")]
    {
        let e = intel.explain(Some(host), Some(ip(addr)));
        let info = phonehome_ipdb::lookup(ip(addr));
        let a = intel.assess(&Destination {
            ip: ip(addr),
            host: Some(host),
            country: info.country,
            asn: info.asn,
            as_org: info.as_org,
        });
        assert_eq!(e.findings, a.findings, "{host}");
    }
}

#[test]
fn a_host_alone_or_an_address_alone() {
    let intel = intel();
    let host = intel.explain(Some("www.google-analytics.com"), None);
    assert!(host.network.is_none());
    let tracker = host.domain.as_ref().and_then(|d| d.tracker.as_ref()).expect("bundled entry");
    assert!(tracker.alerts && tracker.table == "AdGuard companiesdb of 2026-07-20");
    assert_eq!(host.findings.len(), 1);
    let exempt = intel.explain(Some("www.bing.com"), None);
    let why = exempt.domain.as_ref().and_then(|d| d.tracker.as_ref()).and_then(|t| t.exemption.clone());
    assert_eq!(why.as_deref(), Some("Bing search engine"));
    let address = intel.explain(None, Some(ip("77.88.8.8")));
    assert!(address.domain.is_none() && address.host.is_none());
    let network = address.network.as_ref().expect("address");
    assert_eq!(network.asn, Some(13238));
    let kinds: Vec<AlertKind> = address.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [AlertKind::WatchedCountry, AlertKind::WatchedNetwork]);
    assert!(intel.explain(Some("not a host"), None).domain.is_none());
}

#[test]
fn imported_lists_are_explained() {
    let mut lists = ListSet::new();
    assert!(lists
        .import_text(ListInfo::new("ads", ListCategory::Tracker), "||ads.example^\n198.51.100.0/24\n")
        .is_ok());
    let intel = Intel::new(IntelConfig { watchlist: Watchlist::empty(), lists });
    let e = intel.explain(Some("x.ads.example"), Some(ip("198.51.100.9")));
    let host_lists = e.domain.as_ref().map(|d| d.lists.clone()).unwrap_or_default();
    assert_eq!(
        host_lists.iter().map(|l| (l.list.as_str(), l.entry.as_str())).collect::<Vec<_>>(),
        [("ads", "ads.example")]
    );
    let net_lists = e.network.as_ref().map(|n| n.lists.clone()).unwrap_or_default();
    assert_eq!(net_lists.iter().map(|l| l.entry.as_str()).collect::<Vec<_>>(), ["198.51.100.9"]);
    assert_eq!(e.findings.len(), 2);
    assert!(e.watchlist.is_empty());
}

#[test]
fn the_explanation_serialises_for_the_app() {
    let e = intel().explain(Some("www.cnnic.cn"), Some(ip("1.1.1.1")));
    let json = serde_json::to_value(&e).unwrap_or_default();
    assert_eq!(json["host"], "www.cnnic.cn");
    assert_eq!(json["ip"], "1.1.1.1");
    assert_eq!(json["network"]["asn"], 13335);
    assert_eq!(json["domain"]["state_body"]["country"], "CN");
    assert_eq!(json["findings"][0]["kind"], "government_domain");
    assert_eq!(json["findings"][0]["severity"], "low");
}

proptest! {
    #[test]
    fn explain_never_panics(host in proptest::option::of("\\PC{0,80}"), octets in proptest::option::of(any::<[u8; 16]>())) {
        let e = intel().explain(host.as_deref(), octets.map(IpAddr::from));
        prop_assert!(e.findings.iter().all(|f| !f.evidence.is_empty()));
    }
}
