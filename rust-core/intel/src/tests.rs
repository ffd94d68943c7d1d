//! The MISSION seed cases and corpus checks through the public entry point.

use std::net::IpAddr;

use phonehome_dns::parse_message;
use phonehome_packet::{CaptureReader, PacketDecoder, Transport};
use proptest::prelude::*;

use super::*;
use crate::test_corpus::corpus_path;

mod bundled;
mod explain;

fn intel() -> Intel {
    Intel::new(IntelConfig::default())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn kinds(a: &Assessment) -> Vec<AlertKind> {
    a.findings.iter().map(|f| f.kind).collect()
}

fn finding(a: &Assessment, kind: AlertKind) -> Option<&Finding> {
    a.findings.iter().find(|f| f.kind == kind)
}

/// A Chinese vendor's telemetry on a watched server: every watch fires, in this order.
const EVERY_WATCH_AND_TELEMETRY: [AlertKind; 4] =
    [AlertKind::WatchedCountry, AlertKind::WatchedNetwork, AlertKind::WatchedDomainOwner, AlertKind::VendorTelemetry];

/// Xiaomi browser telemetry on Alibaba Cloud Singapore (Forbes 2020): the server country is
/// not watched, the network owner and the domain owner are Chinese.
#[test]
fn xiaomi_telemetry_on_alibaba_singapore() {
    let a = intel().assess(&Destination {
        ip: ip("47.241.1.1"),
        host: Some("tracking.intl.miui.com"),
        country: Some("SG"),
        asn: Some(45102),
        as_org: Some("ALIBABA-CN-NET"),
    });
    assert_eq!(a.network_owner.map(|o| (o.company, o.country)), Some(("Alibaba", "CN")));
    assert_eq!(a.domain_owner.map(|o| (o.company, o.country)), Some(("Xiaomi", "CN")));
    assert_eq!(kinds(&a), [AlertKind::WatchedNetwork, AlertKind::WatchedDomainOwner, AlertKind::VendorTelemetry]);
    let network = finding(&a, AlertKind::WatchedNetwork).map(|f| f.evidence.as_str());
    assert_eq!(network, Some("network owner Alibaba (CN): AS45102 ALIBABA-CN-NET"));
    let domain = finding(&a, AlertKind::WatchedDomainOwner).map(|f| f.evidence.as_str());
    assert_eq!(domain, Some("domain owner Xiaomi (CN): miui.com"));
    let telemetry = finding(&a, AlertKind::VendorTelemetry);
    assert_eq!(telemetry.map(|f| f.severity), Some(Severity::Medium));
    assert_eq!(telemetry.and_then(|f| f.owner.as_deref()), Some("Xiaomi"));
    assert!(telemetry.is_some_and(|f| f.evidence.contains("forbes.com")));
}

#[test]
fn xiaomi_telemetry_on_a_russian_server_adds_the_server_country() {
    let a = intel().assess(&Destination {
        ip: ip("8.209.64.1"),
        host: Some("data.mistat.intl.xiaomi.com"),
        country: Some("ru"),
        asn: None,
        as_org: Some("Alibaba US Technology Co., Ltd."),
    });
    assert_eq!(kinds(&a), EVERY_WATCH_AND_TELEMETRY);
    assert_eq!(
        finding(&a, AlertKind::WatchedCountry).map(|f| f.evidence.as_str()),
        Some("server country RU (IP geolocation of 8.209.64.1)")
    );
    assert_eq!(finding(&a, AlertKind::WatchedCountry).map(|f| f.severity), Some(Severity::Low));
}

/// The China Telecom self-registration host (Nokia 7 Plus, 2019).
#[test]
fn china_telecom_self_registration() {
    let a = intel().assess(&Destination {
        ip: ip("42.99.254.162"),
        host: Some("ZZHC.vnet.cn."),
        country: Some("CN"),
        asn: Some(4134),
        as_org: Some("CHINANET-BACKBONE"),
    });
    assert_eq!(kinds(&a), EVERY_WATCH_AND_TELEMETRY);
    assert!(finding(&a, AlertKind::VendorTelemetry).is_some_and(|f| f.evidence.contains("carrier self-registration")));
}

#[test]
fn adups_firmware_update_service() {
    let a = intel().assess(&Destination {
        ip: ip("203.0.113.5"),
        host: Some("fota4hw.adsunflower.com"),
        country: Some("US"),
        asn: None,
        as_org: None,
    });
    assert_eq!(kinds(&a), [AlertKind::WatchedDomainOwner, AlertKind::VendorTelemetry]);
    assert_eq!(a.domain_owner.map(|o| o.company), Some("Adups Technology"));
}

/// The false alarm: a DNS lookup of government domains. Low, and capped at low when it was a
/// lookup only, whatever else matched.
#[test]
fn government_lookup_is_weak_evidence() {
    let a = intel().assess(&Destination {
        ip: ip("180.149.132.47"),
        host: Some("www.gov.cn"),
        country: Some("CN"),
        asn: Some(4134),
        as_org: None,
    });
    assert_eq!(finding(&a, AlertKind::GovernmentDomain).map(|f| f.severity), Some(Severity::Low));
    let capped: Vec<Finding> = a.findings.into_iter().map(Finding::for_dns_lookup_only).collect();
    assert!(capped.iter().all(|f| f.severity <= Severity::Low));
    assert_eq!(capped.len(), 3, "watched_country, watched_network, government_domain");
}

#[test]
fn samsung_telemetry_is_reported_without_jurisdiction_findings() {
    let a = intel().assess(&Destination {
        ip: ip("52.1.1.1"),
        host: Some("dc.di.atlas.samsung.com"),
        country: Some("US"),
        asn: Some(16509),
        as_org: Some("AMAZON-02"),
    });
    assert_eq!(kinds(&a), [AlertKind::VendorTelemetry]);
    assert_eq!(a.domain_owner.map(|o| o.country), Some("KR"));
    assert_eq!(a.network_owner, None);
}

#[test]
fn editing_the_watchlist_changes_the_findings() {
    let mut intel = intel();
    let dest = Destination {
        ip: ip("47.241.1.1"),
        host: Some("tracking.intl.miui.com"),
        country: Some("SG"),
        asn: Some(45102),
        as_org: None,
    };
    assert!(intel.watchlist_mut().insert("sg").is_ok_and(|new| new));
    assert!(kinds(&intel.assess(&dest)).contains(&AlertKind::WatchedCountry));
    *intel.watchlist_mut() = Watchlist::empty();
    assert_eq!(kinds(&intel.assess(&dest)), [AlertKind::VendorTelemetry]);
}

#[test]
fn org_name_fallback_and_ip_literal_hosts() {
    let a = intel().assess(&Destination {
        ip: ip("43.134.1.1"),
        host: Some("43.134.1.1"),
        country: Some("SG"),
        asn: Some(999_999),
        as_org: Some("TENCENT-NET-AP-CN Tencent Building, Kejizhongyi Avenue"),
    });
    assert_eq!(kinds(&a), [AlertKind::WatchedNetwork]);
    assert_eq!(a.domain_owner, None);
    assert_eq!(crate::domain_owner("[2001:db8::1]"), None);
    assert_eq!(crate::domain_owner("Open.OnePlus.net").map(|o| o.company), Some("Oppo / Realme / OnePlus (BBK)"));
}

#[test]
fn user_lists_raise_tracker_and_malware_findings() {
    let mut lists = ListSet::new();
    let mut ads = ListInfo::new("ads", ListCategory::Tracker);
    ads.owner = Some("Ad Co".into());
    assert!(lists.import_text(ads, "||ads.example^\n").is_ok());
    assert!(lists.import_text(ListInfo::new("c2", ListCategory::Malware), "198.51.100.0/24\nevil.example\n").is_ok());
    let intel = Intel::new(IntelConfig { watchlist: Watchlist::default(), lists });
    let a = intel.assess(&Destination {
        ip: ip("198.51.100.7"),
        host: Some("x.ads.example"),
        country: None,
        asn: None,
        as_org: None,
    });
    assert_eq!(kinds(&a), [AlertKind::Tracker, AlertKind::Malware]);
    assert_eq!(finding(&a, AlertKind::Tracker).and_then(|f| f.owner.as_deref()), Some("Ad Co"));
    assert_eq!(finding(&a, AlertKind::Malware).map(|f| f.severity), Some(Severity::High));
    assert_eq!(
        finding(&a, AlertKind::Tracker).map(|f| f.evidence.as_str()),
        Some("x.ads.example is listed by ads (ads.example)")
    );
}

#[test]
fn assessment_serialises_with_the_export_vocabulary() {
    let a = intel().assess(&Destination {
        ip: ip("47.241.1.1"),
        host: Some("tracking.intl.miui.com"),
        country: Some("SG"),
        asn: Some(45102),
        as_org: None,
    });
    let json = serde_json::to_string(&a).unwrap_or_default();
    assert!(json.contains("\"kind\":\"watched_network\""), "{json}");
    assert!(json.contains("\"severity\":\"medium\""), "{json}");
    assert!(json.contains("\"network_owner\":{\"company\":\"Alibaba\",\"country\":\"CN\"}"), "{json}");
}

/// The first question's name of every UDP DNS message of a capture.
fn dns_query_names(capture: &std::path::Path) -> Vec<String> {
    let Ok(mut reader) = CaptureReader::open(capture) else { return Vec::new() };
    let mut decoder = PacketDecoder::new();
    let mut names = Vec::new();
    while let Some(Ok(frame)) = reader.next_frame() {
        let Ok(Some(packet)) = decoder.decode(frame.ts, frame.link, frame.data) else { continue };
        let Transport::Udp(udp) = packet.transport else { continue };
        let question = parse_message(udp.payload).ok().and_then(|m| m.questions.into_iter().next());
        names.extend(question.map(|q| q.name));
    }
    names
}

#[test]
fn dns_exfiltration_pcap_names_all_fire() {
    let Some(capture) = corpus_path("ndpi/dns_exfiltration.pcap") else { return };
    let names = dns_query_names(&capture);
    assert_eq!(names.len(), 300);
    let missed: Vec<&String> = names.iter().filter(|n| dns_exfiltration(n).is_none()).collect();
    assert!(missed.is_empty(), "{missed:?}");
}

/// Every DNS name nDPI saw in the corpus: only the dnscat2 ones may fire.
#[test]
fn corpus_dns_names_do_not_fire_except_tunnels() {
    let Some(dir) = corpus_path("ndpi") else { return };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().ends_with(".truth.tsv") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            names.extend(text.lines().filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                (cols.get(6) == Some(&"DNS")).then(|| cols.get(5).map(|s| s.to_string())).flatten()
            }));
        }
    }
    assert!(names.len() > 150, "{}", names.len());
    let fired: Vec<&String> = names.iter().filter(|n| dns_exfiltration(n).is_some()).collect();
    let tunnels = |n: &&String| n.ends_with("skullseclabs.org") || n.starts_with("e1aa8f8f");
    assert!(fired.iter().all(tunnels), "{fired:?}");
    assert_eq!(fired.len(), names.iter().filter(|n| tunnels(n)).count());
}

proptest! {
    #[test]
    fn assess_never_panics(
        host in proptest::option::of("\\PC{0,80}"),
        country in proptest::option::of("\\PC{0,4}"),
        asn in proptest::option::of(any::<u32>()),
        as_org in proptest::option::of("\\PC{0,40}"),
        octets in any::<[u8; 16]>(),
    ) {
        let intel = intel();
        let a = intel.assess(&Destination {
            ip: IpAddr::from(octets),
            host: host.as_deref(),
            country: country.as_deref(),
            asn,
            as_org: as_org.as_deref(),
        });
        prop_assert!(a.findings.iter().all(|f| !f.evidence.is_empty()));
    }
}
