//! Curated domain knowledge: vendor telemetry, analytics and ad SDKs, firmware-update services
//! with a record, carrier self-registration hosts, and government domains.
//!
//! A Rust static table, not a data file: every row is reviewed like code, carries its source,
//! and needs no parsing or error path at run time. Each rule matches the domain and its
//! subdomains. Public lists (AdGuard companiesdb, HaGeZi) barely cover Chinese SDKs and maker
//! telemetry, which is why the project keeps this table.

use hashbrown::HashMap;

use crate::name::suffixes;
use crate::verdict::AlertKind;

/// What a curated domain is known for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Telemetry or analytics backend of a phone maker's system software.
    VendorTelemetry,
    /// Firmware-update (FOTA) service with a documented record of collecting personal data.
    FirmwareUpdate,
    /// Carrier self-registration endpoint fed with device and SIM identifiers.
    CarrierRegistration,
    /// Analytics or crash-reporting SDK embedded in third-party apps.
    AnalyticsSdk,
    /// Advertising SDK or ad network.
    AdSdk,
}

impl Known {
    /// The alert kind this knowledge raises.
    pub fn alert_kind(self) -> AlertKind {
        match self {
            Self::VendorTelemetry | Self::FirmwareUpdate | Self::CarrierRegistration => AlertKind::VendorTelemetry,
            Self::AnalyticsSdk | Self::AdSdk => AlertKind::Tracker,
        }
    }

    /// A short label for evidence text.
    pub fn label(self) -> &'static str {
        match self {
            Self::VendorTelemetry => "vendor telemetry",
            Self::FirmwareUpdate => "firmware-update service with a record",
            Self::CarrierRegistration => "carrier self-registration",
            Self::AnalyticsSdk => "analytics SDK",
            Self::AdSdk => "advertising SDK",
        }
    }
}

/// One curated rule: a domain (and its subdomains), what it is, who runs it, and the source.
#[derive(Debug, Clone, Copy)]
pub struct KnownDomain {
    /// The domain the rule covers, with its subdomains.
    pub domain: &'static str,
    /// What it is known for.
    pub known: Known,
    /// The company running it.
    pub company: &'static str,
    /// URL of the study, report or vendor documentation.
    pub source: &'static str,
}

/// Forbes 2020 (T. Brewster) on Xiaomi browser telemetry sent to Alibaba Cloud in Singapore/Russia.
const FORBES_2020: &str = "https://www.forbes.com/sites/thomasbrewster/2020/04/30/exclusive-warning-over-chinese-mobile-giant-xiaomi-recording-millions-of-peoples-private-web-and-phone-use/";
/// W. Palant 2020, code analysis of Mint Browser's analytics confirming the Forbes report.
const PALANT_2020: &str = "https://palant.info/2020/05/04/are-xiaomi-browsers-spyware-yes-they-are.../";
/// H. Liu, P. Patras, D. Leith, "On the data privacy practices of Android OEMs" (PLOS ONE 2023; 2021 preprint).
const LIU_LEITH_OEM: &str = "https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0279942";
/// H. Liu, D. Leith, P. Patras, "Android OS Privacy Under the Loupe – A Tale from the East" (2023).
const LIU_LEITH_LOUPE: &str = "https://arxiv.org/abs/2302.01890";
/// Kryptowire 2016 on Adups FOTA sending SMS bodies, call logs and contacts.
const KRYPTOWIRE_2016: &str = "https://www.kryptowire.com/kryptowire-discovers-mobile-phone-firmware-transmitted-personally-identifiable-information-pii-without-user-consent-disclosure/";
/// Android Authority 2019: Nokia 7 Plus sent IMEI, ICCID, cell ID in clear to China Telecom.
const NOKIA_ZZHC_2019: &str = "https://www.androidauthority.com/nokia-7-plus-user-info-967901/";
/// C. Moore 2017: OnePlus OxygenOS analytics with serial number, IMEI, phone number.
const ONEPLUS_2017: &str = "https://www.chrisdcmoore.co.uk/post/oneplus-analytics/";
/// AdGuard Mobile Spyware filter (ByteDance SDK log endpoints).
const ADGUARD_SPYWARE: &str = "https://github.com/AdguardTeam/AdguardFilters/tree/master/SpywareFilter";
/// HaGeZi native tracker lists, compiled from observed maker traffic.
const HAGEZI_NATIVE: &str = "https://github.com/hagezi/dns-blocklists#native";

const fn known(domain: &'static str, known: Known, company: &'static str, source: &'static str) -> KnownDomain {
    KnownDomain { domain, known, company, source }
}

use Known::{AdSdk, AnalyticsSdk, CarrierRegistration, FirmwareUpdate, VendorTelemetry};

/// The curated rules.
pub static KNOWN_DOMAINS: &[KnownDomain] = &[
    known("sa.api.intl.miui.com", VendorTelemetry, "Xiaomi", FORBES_2020),
    known("tracking.intl.miui.com", VendorTelemetry, "Xiaomi", FORBES_2020),
    known("data.mistat.intl.xiaomi.com", VendorTelemetry, "Xiaomi", FORBES_2020),
    known("tracking.miui.com", VendorTelemetry, "Xiaomi", PALANT_2020),
    known("data.mistat.xiaomi.com", VendorTelemetry, "Xiaomi", LIU_LEITH_OEM),
    known("data.mistat.india.xiaomi.com", VendorTelemetry, "Xiaomi", LIU_LEITH_OEM),
    known("data.hicloud.com", VendorTelemetry, "Huawei", LIU_LEITH_OEM),
    known("dt.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_NATIVE),
    known("dt.dbankcloud.cn", VendorTelemetry, "Huawei", HAGEZI_NATIVE),
    known("dt.dbankcloud.com", VendorTelemetry, "Huawei", HAGEZI_NATIVE),
    known("logservice.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_NATIVE),
    known("logservice1.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_NATIVE),
    known("open.oneplus.net", VendorTelemetry, "OnePlus", ONEPLUS_2017),
    known("ads.heytapmobi.com", AdSdk, "Oppo / Realme / OnePlus (HeyTap)", HAGEZI_NATIVE),
    known("ads.heytapmobile.com", AdSdk, "Oppo / Realme / OnePlus (HeyTap)", HAGEZI_NATIVE),
    known("ads.oppomobile.com", AdSdk, "Oppo / Realme / OnePlus (HeyTap)", HAGEZI_NATIVE),
    known("asia-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_NATIVE),
    known("asia-exstsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_NATIVE),
    known("asia-comonrt-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_NATIVE),
    known("asia-adlog.vivoglobal.com", AdSdk, "Vivo", HAGEZI_NATIVE),
    known("di.atlas.samsung.com", VendorTelemetry, "Samsung", LIU_LEITH_OEM),
    known("samsungads.com", AdSdk, "Samsung", "https://www.samsung.com/us/business/samsungads/"),
    known("adups.com", FirmwareUpdate, "Adups Technology", KRYPTOWIRE_2016),
    known("adups.cn", FirmwareUpdate, "Adups Technology", KRYPTOWIRE_2016),
    known("adsunflower.com", FirmwareUpdate, "Adups Technology", KRYPTOWIRE_2016),
    known("zzhc.vnet.cn", CarrierRegistration, "China Telecom", NOKIA_ZZHC_2019),
    known("umeng.com", AnalyticsSdk, "Alibaba (Umeng)", "https://developer.umeng.com/"),
    known("umengcloud.com", AnalyticsSdk, "Alibaba (Umeng)", "https://developer.umeng.com/"),
    known("bugly.qq.com", AnalyticsSdk, "Tencent (Bugly)", "https://bugly.qq.com/docs/"),
    known("beacon.qq.com", AnalyticsSdk, "Tencent (Beacon)", LIU_LEITH_LOUPE),
    known("mobstat.baidu.com", AnalyticsSdk, "Baidu (Mobstat)", "https://mtj.baidu.com/"),
    known("hmma.baidu.com", AnalyticsSdk, "Baidu (Mobstat)", "https://mtj.baidu.com/"),
    known("log.snssdk.com", AnalyticsSdk, "ByteDance", ADGUARD_SPYWARE),
    known("mon.snssdk.com", AnalyticsSdk, "ByteDance", ADGUARD_SPYWARE),
    known("pangle.io", AdSdk, "ByteDance (Pangle)", "https://www.pangleglobal.com/"),
    known("pangleglobal.com", AdSdk, "ByteDance (Pangle)", "https://www.pangleglobal.com/"),
    known("pangolin-sdk-toutiao.com", AdSdk, "ByteDance (Pangle)", "https://www.pangleglobal.com/"),
    known("appsflyer.com", AnalyticsSdk, "AppsFlyer", "https://support.appsflyer.com/"),
    known("appsflyersdk.com", AnalyticsSdk, "AppsFlyer", "https://support.appsflyer.com/"),
    known("appmetrica.yandex.com", AnalyticsSdk, "Yandex (AppMetrica)", "https://appmetrica.yandex.com/docs/"),
    known(
        "app-measurement.com",
        AnalyticsSdk,
        "Google (Firebase Analytics)",
        "https://firebase.google.com/docs/analytics",
    ),
    known("crashlytics.com", AnalyticsSdk, "Google (Crashlytics)", "https://firebase.google.com/docs/crashlytics"),
];

/// Government and military suffixes that are not of the generic `gov.<cc>` shape.
static GOVERNMENT_SUFFIXES: &[&str] = &[
    "gov",
    "mil",
    "gouv.fr",
    "gc.ca",
    "canada.ca",
    "bund.de",
    "gv.at",
    "admin.ch",
    "gob.es",
    "gob.mx",
    "govt.nz",
    "gov.uk",
    "europa.eu",
    "kremlin.ru",
    "government.ru",
    "gosuslugi.ru",
];

/// Second-level labels that mean "government" under a two-letter country code (`gov.cn`,
/// `gov.ru`, `gob.ar`, `gouv.ci`, `go.jp`, `govt.nz`, `mil.ru`, ...).
static GOVERNMENT_SECOND_LEVEL: &[&str] = &["gov", "gob", "gouv", "govt", "go", "mil"];

/// The curated tables indexed for per-flow lookups (built once).
pub(crate) struct KnowledgeTables {
    known: HashMap<&'static str, &'static KnownDomain>,
}

impl KnowledgeTables {
    pub(crate) fn new() -> Self {
        Self { known: KNOWN_DOMAINS.iter().map(|k| (k.domain, k)).collect() }
    }

    /// The most specific curated rule covering a normalised name.
    pub(crate) fn lookup(&self, name: &str) -> Option<&'static KnownDomain> {
        suffixes(name).find_map(|s| self.known.get(s).copied())
    }
}

/// The government suffix a normalised name falls under, if any.
pub(crate) fn government_suffix(name: &str) -> Option<&str> {
    suffixes(name).find(|s| GOVERNMENT_SUFFIXES.contains(s) || is_generic_government(s))
}

fn is_generic_government(suffix: &str) -> bool {
    match suffix.split_once('.') {
        Some((second, cc)) => {
            GOVERNMENT_SECOND_LEVEL.contains(&second) && cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_rule_is_unique_normalised_and_sourced() {
        let domains: HashSet<&str> = KNOWN_DOMAINS.iter().map(|k| k.domain).collect();
        assert_eq!(domains.len(), KNOWN_DOMAINS.len());
        for k in KNOWN_DOMAINS {
            assert!(k.source.starts_with("https://"), "{}", k.domain);
            let normalised = crate::name::NameBuf::new(k.domain);
            assert_eq!(normalised.as_ref().map(|n| n.as_str()), Some(k.domain));
        }
    }

    #[test]
    fn lookup_takes_subdomains_and_the_most_specific_rule() {
        let t = KnowledgeTables::new();
        let hit = t.lookup("tracking.intl.miui.com").map(|k| (k.known, k.company));
        assert_eq!(hit, Some((VendorTelemetry, "Xiaomi")));
        assert_eq!(t.lookup("metrics1.data.hicloud.com").map(|k| k.domain), Some("data.hicloud.com"));
        assert_eq!(t.lookup("zzhc.vnet.cn").map(|k| k.known), Some(CarrierRegistration));
        assert_eq!(t.lookup("fota4hw.adsunflower.com").map(|k| k.known), Some(FirmwareUpdate));
        assert!(t.lookup("intl.miui.com").is_none());
        assert!(t.lookup("www.xiaomi.com").is_none());
        assert!(t.lookup("notumeng.com").is_none());
    }

    #[test]
    fn government_rules() {
        for name in
            ["www.gov.cn", "gov.ru", "data.gov", "army.mil", "www.gouv.fr", "e-gov.go.jp", "x.gob.ar", "kremlin.ru"]
        {
            assert!(government_suffix(name).is_some(), "{name}");
        }
        for name in ["gov.com", "governor.com", "mygov.cn", "government.com", "example.com", "go.com"] {
            assert!(government_suffix(name).is_none(), "{name}");
        }
        assert_eq!(government_suffix("www.gov.cn"), Some("gov.cn"));
    }
}
