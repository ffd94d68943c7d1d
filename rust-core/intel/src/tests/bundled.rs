//! The bundled tracker table, company homes, state bodies and exemptions through [`Intel::assess`].

use super::*;

fn assess_host(intel: &Intel, host: &str) -> Assessment {
    intel.assess(&Destination { ip: ip("198.51.100.1"), host: Some(host), country: None, asn: None, as_org: None })
}

#[test]
fn a_bundled_tracker_raises_tracker_with_tracker_category_and_company() {
    let a = assess_host(&intel(), "www.google-analytics.com");
    assert_eq!(kinds(&a), [AlertKind::Tracker]);
    let f = finding(&a, AlertKind::Tracker).expect("tracker finding");
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.owner.as_deref(), Some("Google"));
    assert_eq!(
        f.evidence,
        "www.google-analytics.com: tracker Google Analytics (site_analytics) of Google (google-analytics.com; \
         AdGuard companiesdb of 2026-07-20)"
    );
    assert_eq!(a.domain_owner.map(|o| (o.company, o.country)), Some(("Google", "US")));
}

#[test]
fn the_curated_table_wins_where_both_know_a_host() {
    let a = assess_host(&intel(), "alog.umeng.com");
    let trackers: Vec<&Finding> = a.findings.iter().filter(|f| f.kind == AlertKind::Tracker).collect();
    assert_eq!(trackers.len(), 1, "{trackers:?}");
    assert!(trackers
        .iter()
        .all(|f| f.evidence.contains("analytics SDK") && f.evidence.contains("developer.umeng.com")));
    assert_eq!(a.domain_owner.map(|o| o.company), Some("Alibaba"), "curated owner, not companiesdb's Umeng");
}

#[test]
fn general_purpose_services_and_non_tracking_categories_raise_nothing() {
    let intel = intel();
    for host in ["www.bing.com", "www.google.de", "fcm.googleapis.com", "cdnjs.cloudflare.com", "www.ebay.com"] {
        assert!(assess_host(&intel, host).findings.is_empty(), "{host}");
    }
    let uet = assess_host(&intel, "bat.bing.com");
    assert!(finding(&uet, AlertKind::Tracker).is_some_and(|f| f.evidence.contains("Advertising UET")));
    let cloudflare = assess_host(&intel, "cdnjs.cloudflare.com").domain_owner;
    assert_eq!(cloudflare.map(|o| (o.company, o.country)), Some(("Cloudflare", "US")), "owner from the cdn entry");
}

#[test]
fn the_company_behind_a_tracker_feeds_domain_owner_jurisdiction() {
    let a = assess_host(&intel(), "ssp.adriver.ru");
    assert_eq!(kinds(&a), [AlertKind::WatchedDomainOwner, AlertKind::Tracker]);
    let owner = finding(&a, AlertKind::WatchedDomainOwner).map(|f| f.evidence.as_str());
    assert_eq!(owner, Some("domain owner AdRiver (RU): adriver.ru (AdRiver in the tracker table)"));
    // An exempt entry still names its owner: Yandex's Kazakh portal is a Russian company's domain.
    let kz = assess_host(&intel(), "music.yandex.kz");
    assert_eq!(kinds(&kz), [AlertKind::WatchedDomainOwner]);
    // An investor is not a domain owner: companiesdb files taobao.com under SoftBank.
    assert_eq!(crate::domain_owner("world.taobao.com").map(|o| o.company), Some("Alibaba"));
}

#[test]
fn state_bodies_outside_government_suffixes_are_government_domains() {
    let intel = intel();
    let cnnic = assess_host(&intel, "www.cnnic.cn");
    let f = finding(&cnnic, AlertKind::GovernmentDomain).expect("state body");
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.owner.as_deref(), Some("China Internet Network Information Center (CNNIC)"));
    assert!(f.evidence.starts_with("www.cnnic.cn: China Internet Network Information Center (CNNIC), state internet"));
    let mps = assess_host(&intel, "www.mps.gov.cn");
    assert!(finding(&mps, AlertKind::GovernmentDomain).is_some_and(|f| f.evidence.contains("gov.cn")));
    let tass = assess_host(&intel, "tass.com");
    assert!(finding(&tass, AlertKind::GovernmentDomain).is_some_and(|f| f.evidence.contains("TASS, state media (RU")));
    let capped: Vec<Finding> = cnnic.findings.into_iter().map(Finding::for_dns_lookup_only).collect();
    assert!(capped.iter().all(|f| f.severity <= Severity::Low));
}

#[test]
fn an_imported_companiesdb_file_replaces_the_bundled_entries_it_names() {
    let mut lists = ListSet::new();
    let json = r#"{"categories":{"15":"telemetry"},"trackers":{"ga":{"name":"Renamed GA","categoryId":15,"companyId":"google"}},
        "trackerDomains":{"google-analytics.com":"ga","new-tracker.example":"ga"}}"#;
    assert!(lists.import(ListInfo::new("companiesdb.json", ListCategory::Tracker), json).is_ok());
    let intel = Intel::new(IntelConfig { watchlist: Watchlist::default(), lists });
    for host in ["www.google-analytics.com", "x.new-tracker.example"] {
        let a = assess_host(&intel, host);
        assert_eq!(kinds(&a), [AlertKind::Tracker], "{host}");
        let evidence = finding(&a, AlertKind::Tracker).map(|f| f.evidence.clone()).unwrap_or_default();
        assert!(evidence.contains("Renamed GA (telemetry) of Google") && evidence.contains("list companiesdb.json"));
    }
    let bundled = assess_host(&intel, "www.googletagmanager.com"); // not in the import: the bundled table answers
    assert_eq!(bundled.domain_owner.map(|o| o.company), Some("Google"));
}

/// Popular general-purpose hosts: search engines, CDNs, OS update servers, encyclopaedias, news,
/// and the services everyone uses. None may raise anything above info with the default watchlist.
const BENIGN: &[&str] = &[
    "www.google.com",
    "www.google.de",
    "www.google.co.uk",
    "www.gstatic.com",
    "fonts.googleapis.com",
    "www.youtube.com",
    "i.ytimg.com",
    "www.bing.com",
    "th.bing.com",
    "duckduckgo.com",
    "search.brave.com",
    "www.ecosia.org",
    "www.qwant.com",
    "www.startpage.com",
    "search.yahoo.com",
    "www.yahoo.com",
    "cdnjs.cloudflare.com",
    "www.cloudflare.com",
    "cdn.jsdelivr.net",
    "unpkg.com",
    "a248.e.akamai.net",
    "e1234.dscb.akamaiedge.net",
    "media.example.akamaized.net",
    "d1a2b3c4d5e6f7.cloudfront.net",
    "global.ssl.fastly.net",
    "ajax.googleapis.com",
    "code.jquery.com",
    "android.clients.google.com",
    "dl.google.com",
    "update.googleapis.com",
    "redirector.gvt1.com",
    "connectivitycheck.gstatic.com",
    "connectivitycheck.android.com",
    "time.android.com",
    "play.googleapis.com",
    "fcm.googleapis.com",
    "mtalk.google.com",
    "mesu.apple.com",
    "swscan.apple.com",
    "updates.cdn-apple.com",
    "gsp-ssl.ls.apple.com",
    "download.windowsupdate.com",
    "fe2.update.microsoft.com",
    "login.microsoftonline.com",
    "deb.debian.org",
    "security.ubuntu.com",
    "archive.ubuntu.com",
    "fota-cloud-dn.ospserver.net",
    "pool.ntp.org",
    "en.wikipedia.org",
    "upload.wikimedia.org",
    "www.wikipedia.org",
    "www.britannica.com",
    "en.wiktionary.org",
    "www.bbc.co.uk",
    "www.bbc.com",
    "www.nytimes.com",
    "www.theguardian.com",
    "edition.cnn.com",
    "www.reuters.com",
    "apnews.com",
    "www.lemonde.fr",
    "www.spiegel.de",
    "www3.nhk.or.jp",
    "www.amazon.com",
    "www.apple.com",
    "www.microsoft.com",
    "github.com",
    "www.mozilla.org",
    "www.facebook.com",
    "www.instagram.com",
    "web.whatsapp.com",
    "www.linkedin.com",
    "www.ebay.com",
    "i.ebayimg.com",
    "www.tumblr.com",
    "wordpress.com",
    "i0.wp.com",
    "www.salesforce.com",
    "www.weather.com",
    "bit.ly",
];

#[test]
fn popular_general_purpose_hosts_raise_nothing_above_info() {
    let intel = intel();
    for host in BENIGN {
        let a = intel.assess(&Destination {
            ip: ip("93.184.216.34"),
            host: Some(host),
            country: Some("US"),
            asn: Some(15133),
            as_org: Some("EDGECAST"),
        });
        let loud: Vec<&Finding> = a.findings.iter().filter(|f| f.severity > Severity::Info).collect();
        assert!(loud.is_empty(), "{host}: {loud:?}");
    }
}

#[test]
fn search_engines_and_portals_of_watched_countries_are_only_jurisdiction() {
    let intel = Intel::new(IntelConfig { watchlist: Watchlist::empty(), lists: ListSet::new() });
    for host in ["yandex.ru", "ya.ru", "yastatic.net", "www.baidu.com", "www.sina.com.cn", "vk.com", "www.rambler.ru"] {
        assert!(assess_host(&intel, host).findings.is_empty(), "{host}");
    }
}
