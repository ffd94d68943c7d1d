//! Curated domain knowledge: vendor telemetry, analytics and ad SDKs, firmware-update services
//! with a record, carrier self-registration hosts, and government domains.
//!
//! A Rust static table, not a data file: every row is reviewed like code, carries its source,
//! and needs no parsing or error path at run time. Each rule matches the domain and its
//! subdomains. Public lists (AdGuard companiesdb, HaGeZi) barely cover Chinese SDKs and maker
//! telemetry, which is why the project keeps this table.

use crate::name::{suffixes, SuffixIndex};
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
    /// Push service of a phone maker (also embedded in third-party apps where Google's is absent).
    VendorPush,
    /// Third-party push SDK embedded in apps.
    PushSdk,
    /// Location SDK that resolves the phone's position from nearby cells and Wi-Fi networks.
    LocationSdk,
}

impl Known {
    /// The alert kind this knowledge raises.
    pub fn alert_kind(self) -> AlertKind {
        match self {
            Self::VendorTelemetry | Self::FirmwareUpdate | Self::CarrierRegistration | Self::VendorPush => {
                AlertKind::VendorTelemetry
            }
            Self::AnalyticsSdk | Self::AdSdk | Self::PushSdk | Self::LocationSdk => AlertKind::Tracker,
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
            Self::VendorPush => "phone-maker push service",
            Self::PushSdk => "push SDK",
            Self::LocationSdk => "location SDK",
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
/// HaGeZi native tracker lists, compiled from observed maker traffic, one per maker.
const HAGEZI_NATIVE: &str = "https://github.com/hagezi/dns-blocklists#native";
const HAGEZI_XIAOMI: &str = "https://github.com/hagezi/dns-blocklists/blob/main/adblock/native.xiaomi.txt";
const HAGEZI_HUAWEI: &str = "https://github.com/hagezi/dns-blocklists/blob/main/adblock/native.huawei.txt";
const HAGEZI_OPPO: &str = "https://github.com/hagezi/dns-blocklists/blob/main/adblock/native.oppo-realme.txt";
const HAGEZI_VIVO: &str = "https://github.com/hagezi/dns-blocklists/blob/main/adblock/native.vivo.txt";
const HAGEZI_SAMSUNG: &str = "https://github.com/hagezi/dns-blocklists/blob/main/adblock/native.samsung.txt";
/// v2fly domain-list-community: per-company domain lists, tracking and ad hosts tagged `@ads`.
const V2FLY_HUAWEI: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/huawei";
const V2FLY_TCL: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/tcl";
const V2FLY_TENCENT: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/tencent-ads";
const V2FLY_BAIDU: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/baidu-ads";
const V2FLY_KUAISHOU: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/kuaishou";
const V2FLY_JIGUANG: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/jiguang";
const V2FLY_GETUI: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/getui";
const V2FLY_TALKINGDATA: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/tendcloud";
const V2FLY_ADS: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/category-ads";
const V2FLY_MAILRU: &str = "https://github.com/v2fly/domain-list-community/blob/master/data/mailru-group";
/// TrackHAR (tweaselORG): tracker endpoints and the data each receives, from recorded app traffic.
const TRACKHAR_YANDEX: &str = "https://github.com/tweaselORG/TrackHAR/blob/main/src/adapters/yandex.ts";
const TRACKHAR_RAYJUMP: &str = "https://github.com/tweaselORG/TrackHAR/blob/main/src/adapters/rayjump.ts";
/// X-Ray's tracker and company dataset (Oxford, shipped by TrackerControl): hosts, owners, countries.
pub(crate) const XRAY: &str =
    "https://github.com/TrackerControl/tracker-control-android/blob/master/app/src/main/assets/xray-blacklist.json";
/// Alibaba Cloud's list of the hosts its mobile push SDK uses (long connection, daily-active reports).
const ALIYUN_PUSH: &str = "https://help.aliyun.com/document_detail/254911.html";
/// A traffic analysis of Xiaomi's Mi Fit app: AMap location lookups and Umeng logs.
const MIFIT_2015: &str = "https://medium.com/@cirku17/some-mifit-app-analysis-b7fbb7451059";

/// Oppo, Realme and OnePlus share HeyTap's cloud.
const HEYTAP: &str = "Oppo / Realme / OnePlus (HeyTap)";

const fn known(domain: &'static str, known: Known, company: &'static str, source: &'static str) -> KnownDomain {
    KnownDomain { domain, known, company, source }
}

use Known::{
    AdSdk, AnalyticsSdk, CarrierRegistration, FirmwareUpdate, LocationSdk, PushSdk, VendorPush, VendorTelemetry,
};

/// The curated rules.
pub static KNOWN_DOMAINS: &[KnownDomain] = &[
    known("sa.api.intl.miui.com", VendorTelemetry, "Xiaomi", FORBES_2020),
    known("tracking.intl.miui.com", VendorTelemetry, "Xiaomi", FORBES_2020),
    known("data.mistat.intl.xiaomi.com", VendorTelemetry, "Xiaomi", FORBES_2020),
    known("tracking.miui.com", VendorTelemetry, "Xiaomi", PALANT_2020),
    known("data.mistat.xiaomi.com", VendorTelemetry, "Xiaomi", LIU_LEITH_OEM),
    known("data.mistat.india.xiaomi.com", VendorTelemetry, "Xiaomi", LIU_LEITH_OEM),
    known("data.hicloud.com", VendorTelemetry, "Huawei", LIU_LEITH_OEM),
    known("dt.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("dt.dbankcloud.cn", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("dt.dbankcloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logservice.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logservice1.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("open.oneplus.net", VendorTelemetry, "OnePlus", ONEPLUS_2017),
    known("ads.heytapmobi.com", AdSdk, HEYTAP, HAGEZI_OPPO),
    known("ads.heytapmobile.com", AdSdk, HEYTAP, HAGEZI_OPPO),
    known("ads.oppomobile.com", AdSdk, HEYTAP, HAGEZI_NATIVE),
    known("asia-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("asia-exstsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("asia-comonrt-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("asia-adlog.vivoglobal.com", AdSdk, "Vivo", HAGEZI_VIVO),
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
    // Xiaomi
    known("tracking.eu.miui.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("stat.miui.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("api.collect.data.intl.miui.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("mistat.intl.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("mistat.rus.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("mistat.india.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("tracker.ai.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("stat.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("logs.n.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("report.n.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("log.pt.xiaomi.com", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("bugreport.xiaomi.net", VendorTelemetry, "Xiaomi", HAGEZI_XIAOMI),
    known("ad.xiaomi.com", AdSdk, "Xiaomi", HAGEZI_XIAOMI),
    known("ad.intl.xiaomi.com", AdSdk, "Xiaomi", HAGEZI_XIAOMI),
    known("ad.mi.com", AdSdk, "Xiaomi", HAGEZI_XIAOMI),
    known("xmpush.xiaomi.com", VendorPush, "Xiaomi (Mi Push)", HAGEZI_XIAOMI),
    known("xmpush.global.xiaomi.com", VendorPush, "Xiaomi (Mi Push)", HAGEZI_XIAOMI),
    // Huawei and Honor
    known("data.dbankcloud.cn", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("dt.dbankcloud.ru", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logservice1.dbankcloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logservice1.dbankcloud.cn", VendorTelemetry, "Huawei", V2FLY_HUAWEI),
    known("ubacollect-drcn.cloud.dbankcloud.cn", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logbak.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logservice-dra.platform.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("logservice-dre.platform.hicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("stats.hicloud.com", VendorTelemetry, "Huawei", V2FLY_HUAWEI),
    known("log.hicloud.com", VendorTelemetry, "Huawei", V2FLY_HUAWEI),
    known("logservice.vmall.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("uba.huaweicloud.com", VendorTelemetry, "Huawei", HAGEZI_HUAWEI),
    known("ads.hicloud.com", AdSdk, "Huawei (Petal Ads)", V2FLY_HUAWEI),
    known("ads.cloud.huawei.com", AdSdk, "Huawei (Petal Ads)", HAGEZI_HUAWEI),
    known("adx-dra.op.hicloud.com", AdSdk, "Huawei (Petal Ads)", HAGEZI_HUAWEI),
    known("adx-dre.op.hicloud.com", AdSdk, "Huawei (Petal Ads)", HAGEZI_HUAWEI),
    known("events-dra.op.hicloud.com", AdSdk, "Huawei (Petal Ads)", HAGEZI_HUAWEI),
    known("events-dre.op.hicloud.com", AdSdk, "Huawei (Petal Ads)", HAGEZI_HUAWEI),
    known("dt.hihonorcloud.com", VendorTelemetry, "Honor", HAGEZI_HUAWEI),
    known("log-dra.platform.hihonorcloud.com", VendorTelemetry, "Honor", HAGEZI_HUAWEI),
    known("log-drcn.platform.hihonorcloud.com", VendorTelemetry, "Honor", HAGEZI_HUAWEI),
    known("log-dre.platform.hihonorcloud.com", VendorTelemetry, "Honor", HAGEZI_HUAWEI),
    known("log-drru.platform.hihonorcloud.com", VendorTelemetry, "Honor", HAGEZI_HUAWEI),
    known("ads-drcn.platform.hihonorcloud.com", AdSdk, "Honor", HAGEZI_HUAWEI),
    // Oppo, Realme and OnePlus (HeyTap, ColorOS)
    known("ums-telemetry-cn.heytapmobi.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("mdp-usertrace-cn.heytapmobi.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("mdp-usertrace-in.heytapmobile.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("mdp-usertrace-sg.heytapmobile.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("dc-stat-in.heytapmobile.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("stat.browser.heytapmobi.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("logforward.browser.heytapmobi.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("ums-rum-cn.heytapimage.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("ums-rum-global.heytapimage.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("log-eap.coloros.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("log-eap-in.coloros.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("log-eap-sg.coloros.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("eap-log-in.allawnos.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("eap-log-sg.allawnos.com", VendorTelemetry, HEYTAP, HAGEZI_OPPO),
    known("push.heytapmobi.com", VendorPush, HEYTAP, HAGEZI_OPPO),
    known("push.heytapmobile.com", VendorPush, HEYTAP, HAGEZI_OPPO),
    known("adx-op-in.heytapmobile.com", AdSdk, HEYTAP, HAGEZI_OPPO),
    known("adx-op-sg.heytapmobile.com", AdSdk, HEYTAP, HAGEZI_OPPO),
    known("adx-op-ru.heytapmobile.com", AdSdk, HEYTAP, HAGEZI_OPPO),
    known("adx-op-fr.heytapmobile.com", AdSdk, HEYTAP, HAGEZI_OPPO),
    // Vivo and iQOO: one statistics host per region
    known("stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("eu-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("ru-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("ru-exstsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("mx-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("tr-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("kz-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("co-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("zasc-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("cn-zh-stsdk.vivoglobal.com", VendorTelemetry, "Vivo", HAGEZI_VIVO),
    known("in-adlog.vivoglobal.com", AdSdk, "Vivo", HAGEZI_VIVO),
    known("adlog.vivo.com.cn", AdSdk, "Vivo", HAGEZI_VIVO),
    known("adlog.vivo.com", AdSdk, "Vivo", HAGEZI_VIVO),
    known("adsdk.vivo.com.cn", AdSdk, "Vivo", HAGEZI_VIVO),
    known("tracking-adnet.vivo.com.cn", AdSdk, "Vivo", HAGEZI_VIVO),
    // Samsung
    known("diagmon-policy.samsungdm.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("diagmon-serviceapi.samsungdm.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("report.gras.samsungdm.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("analytics.bigdata.samsung.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("bigdata.ssp.samsung.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("dc.dqa.samsung.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("nmetrics.samsung.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("nmetrics.samsungmobile.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("analytics.samsungknox.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("stats.samsungpass.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    known("shealth-analytics-api.samsunghealth.com", VendorTelemetry, "Samsung", HAGEZI_SAMSUNG),
    // TCL
    known("ads-uo.api.leiniao.com", AdSdk, "TCL", V2FLY_TCL),
    known("ads-ut.api.leiniao.com", AdSdk, "TCL", V2FLY_TCL),
    known("euads-o.api.leiniao.com", AdSdk, "TCL", V2FLY_TCL),
    known("ads.api.my7v.com", AdSdk, "TCL", V2FLY_TCL),
    // Chinese SDKs: analytics, crash, push, location, ads
    known("sngmta.qq.com", AnalyticsSdk, "Tencent (MTA)", V2FLY_TENCENT),
    known("rmonitor.qq.com", AnalyticsSdk, "Tencent (RMonitor)", V2FLY_TENCENT),
    known("tpstelemetry.tencent.com", AnalyticsSdk, "Tencent", V2FLY_TENCENT),
    known("gdt.qq.com", AdSdk, "Tencent (GDT)", V2FLY_TENCENT),
    known("e.qq.com", AdSdk, "Tencent (GDT)", V2FLY_TENCENT),
    known("ugdtimg.com", AdSdk, "Tencent (GDT)", V2FLY_TENCENT),
    known("hm.baidu.com", AnalyticsSdk, "Baidu (Tongji)", V2FLY_BAIDU),
    known("mobads.baidu.com", AdSdk, "Baidu (Mobile Ads)", V2FLY_BAIDU),
    known("mobads-logs.baidu.com", AdSdk, "Baidu (Mobile Ads)", V2FLY_BAIDU),
    known("pos.baidu.com", AdSdk, "Baidu (Union)", V2FLY_BAIDU),
    known("cpro.baidu.com", AdSdk, "Baidu (Union)", V2FLY_BAIDU),
    known("cpro.baidustatic.com", AdSdk, "Baidu (Union)", V2FLY_BAIDU),
    known("api.tuisong.baidu.com", PushSdk, "Baidu (Cloud Push)", V2FLY_BAIDU),
    known("sa.tuisong.baidu.com", PushSdk, "Baidu (Cloud Push)", V2FLY_BAIDU),
    known("apilocate.amap.com", LocationSdk, "Alibaba (AMap)", MIFIT_2015),
    known("adash-emas.cn-hangzhou.aliyuncs.com", AnalyticsSdk, "Alibaba (EMAS push)", ALIYUN_PUSH),
    known("mpush-api.aliyun.com", PushSdk, "Alibaba (EMAS push)", ALIYUN_PUSH),
    known("msgacs.cn-zhangjiakou.aliyuncs.com", PushSdk, "Alibaba (EMAS push)", ALIYUN_PUSH),
    known("jmacs.cn-zhangjiakou.aliyuncs.com", PushSdk, "Alibaba (EMAS push)", ALIYUN_PUSH),
    known("acs4public.m.taobao.com", PushSdk, "Alibaba (EMAS push)", ALIYUN_PUSH),
    known("jpush.cn", PushSdk, "Aurora Mobile (JPush)", V2FLY_JIGUANG),
    known("jpush.io", PushSdk, "Aurora Mobile (JPush)", V2FLY_JIGUANG),
    known("jiguang.cn", PushSdk, "Aurora Mobile (JPush)", V2FLY_JIGUANG),
    known("igexin.com", PushSdk, "Getui", V2FLY_GETUI),
    known("getui.com", PushSdk, "Getui", V2FLY_GETUI),
    known("getui.net", PushSdk, "Getui", V2FLY_GETUI),
    known("gepush.com", PushSdk, "Getui", V2FLY_GETUI),
    known("talkingdata.com", AnalyticsSdk, "TalkingData", V2FLY_TALKINGDATA),
    known("tendcloud.com", AnalyticsSdk, "TalkingData", V2FLY_TALKINGDATA),
    known("talkinggame.com", AnalyticsSdk, "TalkingData", V2FLY_TALKINGDATA),
    known("cpatrk.net", AnalyticsSdk, "TalkingData", V2FLY_TALKINGDATA),
    known("reyun.com", AnalyticsSdk, "Reyun", V2FLY_ADS),
    known("zhugeapi.com", AnalyticsSdk, "Zhuge", V2FLY_ADS),
    known("zhugeio.com", AnalyticsSdk, "Zhuge", V2FLY_ADS),
    known("shuzilm.cn", AnalyticsSdk, "Shuzilm (device ID)", V2FLY_ADS),
    known("rayjump.com", AdSdk, "Mobvista (Mintegral)", TRACKHAR_RAYJUMP),
    known("adkwai.com", AdSdk, "Kuaishou", V2FLY_KUAISHOU),
    known("adukwai.com", AdSdk, "Kuaishou", V2FLY_KUAISHOU),
    known("adbkwai.com", AdSdk, "Kuaishou", V2FLY_KUAISHOU),
    known("log-sdk.gifshow.com", AnalyticsSdk, "Kuaishou", V2FLY_KUAISHOU),
    // Russian SDKs
    known("startup.mobile.yandex.net", AnalyticsSdk, "Yandex (AppMetrica)", TRACKHAR_YANDEX),
    known("report.appmetrica.yandex.net", AnalyticsSdk, "Yandex (AppMetrica)", TRACKHAR_YANDEX),
    known("tracker-api.my.com", AnalyticsSdk, "VK (MyTracker)", V2FLY_MAILRU),
    known("vk-analytics.ru", AnalyticsSdk, "VK (MyTracker)", V2FLY_MAILRU),
    known("top-fwz1.mail.ru", AnalyticsSdk, "VK (Top@Mail.ru)", V2FLY_MAILRU),
    // Snapchat's SDK analytics: snapchat.com itself is the app's service (see exempt.rs)
    known("app-analytics-v2.snapchat.com", AnalyticsSdk, "Snap", XRAY),
    // Microsoft Advertising's conversion tag: bing.com itself is a search engine (see exempt.rs)
    known(
        "bat.bing.com",
        AdSdk,
        "Microsoft (Advertising UET)",
        "https://learn.microsoft.com/en-us/advertising/guides/universal-event-tracking",
    ),
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

/// The curated rules indexed for per-flow lookups (built once).
pub(crate) fn known_domains() -> SuffixIndex<KnownDomain> {
    SuffixIndex::new(KNOWN_DOMAINS, |k| k.domain)
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

    use super::*;

    #[test]
    fn every_rule_is_unique_normalised_and_sourced() {
        crate::name::assert_curated(KNOWN_DOMAINS, |k| k.domain, |k| k.source);
    }

    #[test]
    fn lookup_takes_subdomains_and_the_most_specific_rule() {
        let t = known_domains();
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
