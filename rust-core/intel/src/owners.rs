//! Jurisdictions: the watchlist, and who owns a network (ASN) or a domain (eTLD+1).
//!
//! The tables are Rust statics rather than an embedded data file: they are small, reviewed
//! like code, checked by the compiler, and cost nothing to load.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use hashbrown::HashMap;
use serde::Serialize;

use crate::name::SuffixIndex;

/// A company and its home country (ISO 3166-1 alpha-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Owner {
    /// Company name.
    pub company: &'static str,
    /// Home country of the company (not of the server).
    pub country: &'static str,
}

/// Countries whose jurisdiction the user watches; defaults to CN and RU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchlist {
    countries: Vec<[u8; 2]>,
}

/// A country code that is not two ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 3166-1 alpha-2 country code: {0:?}")]
pub struct InvalidCountry(pub String);

fn country_key(code: &str) -> Option<[u8; 2]> {
    match code.as_bytes() {
        &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

impl Default for Watchlist {
    fn default() -> Self {
        Self { countries: vec![*b"CN", *b"RU"] }
    }
}

impl Watchlist {
    /// An empty watchlist.
    pub fn empty() -> Self {
        Self { countries: Vec::new() }
    }

    /// Adds a country (case-insensitive); returns whether it was new.
    pub fn insert(&mut self, code: &str) -> Result<bool, InvalidCountry> {
        let key = country_key(code).ok_or_else(|| InvalidCountry(code.to_owned()))?;
        if self.countries.contains(&key) {
            return Ok(false);
        }
        self.countries.push(key);
        Ok(true)
    }

    /// Removes a country; returns whether it was present.
    pub fn remove(&mut self, code: &str) -> bool {
        let before = self.countries.len();
        if let Some(key) = country_key(code) {
            self.countries.retain(|c| *c != key);
        }
        before != self.countries.len()
    }

    /// Whether the country (case-insensitive) is watched.
    pub fn contains(&self, code: &str) -> bool {
        country_key(code).is_some_and(|key| self.countries.contains(&key))
    }

    /// The watched countries, uppercase.
    pub fn countries(&self) -> impl Iterator<Item = &str> {
        self.countries.iter().filter_map(|c| std::str::from_utf8(c).ok())
    }
}

pub(crate) const ALIBABA: Owner = Owner { company: "Alibaba", country: "CN" };
pub(crate) const ANT: Owner = Owner { company: "Ant Group", country: "CN" };
pub(crate) const TENCENT: Owner = Owner { company: "Tencent", country: "CN" };
pub(crate) const HUAWEI: Owner = Owner { company: "Huawei", country: "CN" };
pub(crate) const HONOR: Owner = Owner { company: "Honor", country: "CN" };
pub(crate) const BAIDU: Owner = Owner { company: "Baidu", country: "CN" };
// TikTok Pte. Ltd. and BytePlus are Singapore subsidiaries of ByteDance, headquartered in Beijing.
pub(crate) const BYTEDANCE: Owner = Owner { company: "ByteDance", country: "CN" };
pub(crate) const CHINA_TELECOM: Owner = Owner { company: "China Telecom", country: "CN" };
pub(crate) const CHINA_UNICOM: Owner = Owner { company: "China Unicom", country: "CN" };
pub(crate) const CHINA_MOBILE: Owner = Owner { company: "China Mobile", country: "CN" };
pub(crate) const KINGSOFT: Owner = Owner { company: "Kingsoft", country: "CN" };
pub(crate) const UCLOUD: Owner = Owner { company: "UCloud", country: "CN" };
pub(crate) const NETEASE: Owner = Owner { company: "NetEase", country: "CN" };
pub(crate) const XIAOMI: Owner = Owner { company: "Xiaomi", country: "CN" };
// Oppo, Realme and OnePlus share the HeyTap cloud (BBK Electronics group).
pub(crate) const BBK_OPPO: Owner = Owner { company: "Oppo / Realme / OnePlus (BBK)", country: "CN" };
pub(crate) const VIVO: Owner = Owner { company: "Vivo (BBK)", country: "CN" };
pub(crate) const TRANSSION: Owner = Owner { company: "Transsion", country: "CN" };
pub(crate) const ZTE: Owner = Owner { company: "ZTE", country: "CN" };
pub(crate) const LENOVO: Owner = Owner { company: "Lenovo", country: "CN" };
// Motorola Mobility is Lenovo's subsidiary but a US company (Chicago) controlling motorola.com.
pub(crate) const MOTOROLA: Owner = Owner { company: "Motorola Mobility (Lenovo)", country: "US" };
pub(crate) const ADUPS: Owner = Owner { company: "Adups Technology", country: "CN" };
pub(crate) const TCL: Owner = Owner { company: "TCL", country: "CN" };
// SDK makers of the Chinese app ecosystem (push, analytics, ads), per v2fly domain-list-community's
// company lists (which cite each domain's ICP licence).
pub(crate) const AURORA: Owner = Owner { company: "Aurora Mobile (JPush)", country: "CN" };
pub(crate) const GETUI: Owner = Owner { company: "Getui", country: "CN" };
pub(crate) const TALKINGDATA: Owner = Owner { company: "TalkingData", country: "CN" };
pub(crate) const REYUN: Owner = Owner { company: "Reyun", country: "CN" };
pub(crate) const ZHUGE: Owner = Owner { company: "Zhuge", country: "CN" };
pub(crate) const SHUZILM: Owner = Owner { company: "Shuzilm", country: "CN" };
pub(crate) const MOBVISTA: Owner = Owner { company: "Mobvista (Mintegral)", country: "CN" };
pub(crate) const KUAISHOU: Owner = Owner { company: "Kuaishou", country: "CN" };
pub(crate) const QIHOO: Owner = Owner { company: "Qihoo 360", country: "CN" };
pub(crate) const YANDEX: Owner = Owner { company: "Yandex", country: "RU" };
pub(crate) const VK: Owner = Owner { company: "VK (Mail.ru)", country: "RU" };
pub(crate) const ROSTELECOM: Owner = Owner { company: "Rostelecom", country: "RU" };
pub(crate) const MTS: Owner = Owner { company: "MTS", country: "RU" };
pub(crate) const MEGAFON: Owner = Owner { company: "MegaFon", country: "RU" };
pub(crate) const BEELINE: Owner = Owner { company: "Beeline (VimpelCom)", country: "RU" };
pub(crate) const SELECTEL: Owner = Owner { company: "Selectel", country: "RU" };
pub(crate) const KASPERSKY: Owner = Owner { company: "Kaspersky", country: "RU" };
pub(crate) const SAMSUNG: Owner = Owner { company: "Samsung", country: "KR" };
pub(crate) const GOOGLE: Owner = Owner { company: "Google", country: "US" };
pub(crate) const META: Owner = Owner { company: "Meta", country: "US" };
pub(crate) const MICROSOFT: Owner = Owner { company: "Microsoft", country: "US" };
pub(crate) const APPSFLYER: Owner = Owner { company: "AppsFlyer", country: "IL" };

/// One curated network: ASN, owner, and where the attribution can be checked.
#[derive(Debug, Clone, Copy)]
pub struct AsnRow {
    /// Autonomous system number.
    pub asn: u32,
    /// The company operating it.
    pub owner: Owner,
    /// Where the attribution can be checked.
    pub source: &'static str,
}

const fn asn(asn: u32, owner: Owner, source: &'static str) -> AsnRow {
    AsnRow { asn, owner, source }
}

/// ASN → owner for the big clouds and carriers of China and Russia, including their overseas
/// networks (the seed case: Chinese-owned Alibaba Cloud serving from Singapore).
pub static ASN_OWNERS: &[AsnRow] = &[
    asn(37963, ALIBABA, "https://bgp.he.net/AS37963"), // CNNIC-ALIBABA-CN-NET-AP Hangzhou Alibaba Advertising
    asn(45102, ALIBABA, "https://bgp.he.net/AS45102"), // ALIBABA-CN-NET Alibaba US Technology (overseas Alibaba Cloud)
    asn(134963, ALIBABA, "https://bgp.he.net/AS134963"), // ASEPL-AS-AP Alibaba.com Singapore E-Commerce
    asn(24429, ALIBABA, "https://bgp.he.net/AS24429"), // TAOBAO Zhejiang Taobao Network
    asn(45090, TENCENT, "https://bgp.he.net/AS45090"), // TENCENT-NET-AP Shenzhen Tencent Computer Systems
    asn(132203, TENCENT, "https://bgp.he.net/AS132203"), // TENCENT-NET-AP-CN Tencent Building (overseas Tencent Cloud)
    asn(133478, TENCENT, "https://bgp.he.net/AS133478"), // Tencent Cloud Computing (Beijing)
    asn(55990, HUAWEI, "https://bgp.he.net/AS55990"),  // HWCSNET Huawei Cloud Service data center
    asn(136907, HUAWEI, "https://bgp.he.net/AS136907"), // HWCLOUDS-AS-AP Huawei Clouds (overseas)
    asn(38365, BAIDU, "https://bgp.he.net/AS38365"),   // BAIDU Beijing Baidu Netcom
    asn(55967, BAIDU, "https://bgp.he.net/AS55967"),   // Beijing Baidu Netcom Science and Technology
    asn(396986, BYTEDANCE, "https://bgp.he.net/AS396986"), // BYTEDANCE (US)
    asn(138699, BYTEDANCE, "https://bgp.he.net/AS138699"), // TIKTOK-AS-AP TikTok Pte. Ltd.
    asn(137718, BYTEDANCE, "https://bgp.he.net/AS137718"), // Beijing Volcano Engine Technology
    asn(150436, BYTEDANCE, "https://bgp.he.net/AS150436"), // BYTEPLUS-AS-AP Byteplus Pte. Ltd.
    asn(4134, CHINA_TELECOM, "https://bgp.he.net/AS4134"), // CHINANET-BACKBONE
    asn(4809, CHINA_TELECOM, "https://bgp.he.net/AS4809"), // CN2, China Telecom Next Carrier Network
    asn(4812, CHINA_TELECOM, "https://bgp.he.net/AS4812"), // CHINANET-SH-AP China Telecom Shanghai
    asn(23724, CHINA_TELECOM, "https://bgp.he.net/AS23724"), // CHINANET-IDC-BJ-AP
    asn(23764, CHINA_TELECOM, "https://bgp.he.net/AS23764"), // CTGNET China Telecom Global (overseas)
    asn(4837, CHINA_UNICOM, "https://bgp.he.net/AS4837"), // CHINA169-BACKBONE
    asn(4808, CHINA_UNICOM, "https://bgp.he.net/AS4808"), // CHINA169-BJ China Unicom Beijing
    asn(9929, CHINA_UNICOM, "https://bgp.he.net/AS9929"), // CNCGROUP China Unicom Industrial Internet backbone
    asn(17621, CHINA_UNICOM, "https://bgp.he.net/AS17621"), // CNCGROUP-SH China Unicom Shanghai
    asn(17816, CHINA_UNICOM, "https://bgp.he.net/AS17816"), // CHINA169-GZ China Unicom Guangdong
    asn(10099, CHINA_UNICOM, "https://bgp.he.net/AS10099"), // CUG China Unicom Global (overseas)
    asn(9808, CHINA_MOBILE, "https://bgp.he.net/AS9808"), // CMNET-GD Guangdong Mobile
    asn(56040, CHINA_MOBILE, "https://bgp.he.net/AS56040"), // CMNET-V4GUANGDONG
    asn(56041, CHINA_MOBILE, "https://bgp.he.net/AS56041"), // CMNET-V4ZHEJIANG
    asn(56042, CHINA_MOBILE, "https://bgp.he.net/AS56042"), // CMNET-V4SHANXI
    asn(56044, CHINA_MOBILE, "https://bgp.he.net/AS56044"), // CMNET-V4LIAONING
    asn(56046, CHINA_MOBILE, "https://bgp.he.net/AS56046"), // CMNET-V4JIANGXI
    asn(56047, CHINA_MOBILE, "https://bgp.he.net/AS56047"), // CMNET-V4HUNAN
    asn(56048, CHINA_MOBILE, "https://bgp.he.net/AS56048"), // CMNET-V4BEIJING
    asn(58453, CHINA_MOBILE, "https://bgp.he.net/AS58453"), // CMI China Mobile International (overseas)
    asn(9231, CHINA_MOBILE, "https://bgp.he.net/AS9231"), // China Mobile Hong Kong
    asn(59019, KINGSOFT, "https://bgp.he.net/AS59019"), // Beijing Kingsoft Cloud
    asn(137280, KINGSOFT, "https://bgp.he.net/AS137280"), // Kingsoft Cloud (overseas)
    asn(59077, UCLOUD, "https://bgp.he.net/AS59077"),  // Shanghai UCloud Information Technology
    asn(135377, UCLOUD, "https://bgp.he.net/AS135377"), // UCLOUD-HK-AS-AP UCloud Information Technology HK
    asn(45062, NETEASE, "https://bgp.he.net/AS45062"), // NETEASE-AS-AP
    asn(13238, YANDEX, "https://bgp.he.net/AS13238"),  // YANDEX
    asn(200350, YANDEX, "https://bgp.he.net/AS200350"), // YANDEXCLOUD Yandex.Cloud
    asn(47764, VK, "https://bgp.he.net/AS47764"),      // VK-AS / MAILRU-AS
    asn(47541, VK, "https://bgp.he.net/AS47541"),      // VKONTAKTE-SPB-AS
    asn(12389, ROSTELECOM, "https://bgp.he.net/AS12389"), // ROSTELECOM-AS
    asn(8342, ROSTELECOM, "https://bgp.he.net/AS8342"), // RTCOMM-AS (Rostelecom group)
    asn(8359, MTS, "https://bgp.he.net/AS8359"),       // MTS PJSC
    asn(31133, MEGAFON, "https://bgp.he.net/AS31133"), // MF-MGSM-AS PJSC MegaFon
    asn(25159, MEGAFON, "https://bgp.he.net/AS25159"), // SONICDUO-AS MegaFon Moscow
    asn(3216, BEELINE, "https://bgp.he.net/AS3216"),   // SOVAM-AS PJSC VimpelCom
    asn(8402, BEELINE, "https://bgp.he.net/AS8402"),   // CORBINA-AS (VimpelCom)
    asn(16345, BEELINE, "https://bgp.he.net/AS16345"), // BEELINE-AS (VimpelCom mobile)
    asn(49505, SELECTEL, "https://bgp.he.net/AS49505"), // SELECTEL
];

/// Fallback on organisation names as the IP tables spell them ("ALIBABA-CN-NET",
/// "TENCENT-NET-AP", "CHINANET-BACKBONE", "PJSC Rostelecom", ...); matched case-insensitively.
pub static ORG_PATTERNS: &[(&str, Owner)] = &[
    ("ALIBABA", ALIBABA),
    ("ALIYUN", ALIBABA),
    ("TAOBAO", ALIBABA),
    ("TENCENT", TENCENT),
    ("HUAWEI", HUAWEI),
    ("HWCLOUDS", HUAWEI),
    ("HWCSNET", HUAWEI),
    ("BAIDU", BAIDU),
    ("BYTEDANCE", BYTEDANCE),
    ("BYTEPLUS", BYTEDANCE),
    ("VOLCANO ENGINE", BYTEDANCE),
    ("TIKTOK", BYTEDANCE),
    ("CHINANET", CHINA_TELECOM),
    ("CHINATELECOM", CHINA_TELECOM),
    ("CHINA TELECOM", CHINA_TELECOM),
    ("CTGNET", CHINA_TELECOM),
    ("CHINA169", CHINA_UNICOM),
    ("CHINAUNICOM", CHINA_UNICOM),
    ("CHINA UNICOM", CHINA_UNICOM),
    ("CNCGROUP", CHINA_UNICOM),
    ("CMNET", CHINA_MOBILE),
    ("CHINAMOBILE", CHINA_MOBILE),
    ("CHINA MOBILE", CHINA_MOBILE),
    ("KINGSOFT", KINGSOFT),
    ("UCLOUD INFORMATION", UCLOUD),
    ("NETEASE", NETEASE),
    ("YANDEX", YANDEX),
    ("MAILRU", VK),
    ("MAIL.RU", VK),
    ("VKONTAKTE", VK),
    ("ROSTELECOM", ROSTELECOM),
    ("MOBILE TELESYSTEMS", MTS),
    ("MTS PJSC", MTS),
    ("MEGAFON", MEGAFON),
    ("VIMPELCOM", BEELINE),
    ("BEELINE", BEELINE),
    ("SELECTEL", SELECTEL),
];

/// Registrable domain (eTLD+1) → owner, for phone makers, SDK owners and big platforms.
pub static DOMAIN_OWNERS: &[(&str, Owner)] = &[
    ("xiaomi.com", XIAOMI),
    ("xiaomi.net", XIAOMI),
    ("xiaomi.cn", XIAOMI),
    ("miui.com", XIAOMI),
    ("mi.com", XIAOMI),
    ("mi-img.com", XIAOMI),
    ("mifile.cn", XIAOMI),
    ("huawei.com", HUAWEI),
    ("hicloud.com", HUAWEI),
    ("huaweicloud.com", HUAWEI),
    ("dbankcloud.com", HUAWEI),
    ("dbankcloud.cn", HUAWEI),
    ("dbankcdn.com", HUAWEI),
    ("dbankcloud.ru", HUAWEI),
    ("dbankedge.cn", HUAWEI),
    ("myhuaweicloud.com", HUAWEI),
    ("vmall.com", HUAWEI),
    ("hihonor.com", HONOR),
    ("honor.com", HONOR),
    ("hihonorcloud.com", HONOR),
    ("oppo.com", BBK_OPPO),
    ("oppomobile.com", BBK_OPPO),
    ("coloros.com", BBK_OPPO),
    ("heytap.com", BBK_OPPO),
    ("heytapmobi.com", BBK_OPPO),
    ("heytapmobile.com", BBK_OPPO),
    ("allawnos.com", BBK_OPPO),
    ("allawntech.com", BBK_OPPO),
    ("heytapimage.com", BBK_OPPO),
    ("heytapdl.com", BBK_OPPO),
    ("heytapdownload.com", BBK_OPPO),
    ("nearme.com.cn", BBK_OPPO),
    ("realme.com", BBK_OPPO),
    ("realmemobile.com", BBK_OPPO),
    ("oneplus.com", BBK_OPPO),
    ("oneplus.net", BBK_OPPO),
    ("vivo.com", VIVO),
    ("vivo.com.cn", VIVO),
    ("vivoglobal.com", VIVO),
    ("transsion.com", TRANSSION),
    ("shalltry.com", TRANSSION),
    ("tecno-mobile.com", TRANSSION),
    ("infinixmobility.com", TRANSSION),
    ("itel-mobile.com", TRANSSION),
    ("zte.com.cn", ZTE),
    ("ztedevices.com", ZTE),
    ("nubia.com", ZTE),
    ("lenovo.com", LENOVO),
    ("lenovo.com.cn", LENOVO),
    ("lenovomm.com", LENOVO),
    ("motorola.com", MOTOROLA),
    ("tcl.com", TCL),
    ("leiniao.com", TCL),
    ("my7v.com", TCL),
    ("samsung.com", SAMSUNG),
    ("samsungcloud.com", SAMSUNG),
    ("samsungapps.com", SAMSUNG),
    ("samsungdm.com", SAMSUNG),
    ("samsungosp.com", SAMSUNG),
    ("samsungqbe.com", SAMSUNG),
    ("samsungads.com", SAMSUNG),
    ("samsungelectronics.com", SAMSUNG),
    ("baidu.com", BAIDU),
    ("bdstatic.com", BAIDU),
    ("bdimg.com", BAIDU),
    ("baidubce.com", BAIDU),
    ("bcebos.com", BAIDU),
    ("alibaba.com", ALIBABA),
    ("alicdn.com", ALIBABA),
    ("aliyun.com", ALIBABA),
    ("aliyuncs.com", ALIBABA),
    ("alibabacloud.com", ALIBABA),
    ("taobao.com", ALIBABA),
    ("tmall.com", ALIBABA),
    ("umeng.com", ALIBABA),
    ("umengcloud.com", ALIBABA),
    ("umsns.com", ALIBABA),
    ("amap.com", ALIBABA),
    ("autonavi.com", ALIBABA),
    ("ucweb.com", ALIBABA),
    ("alipay.com", ANT),
    ("qq.com", TENCENT),
    ("tencent.com", TENCENT),
    ("gtimg.com", TENCENT),
    ("gtimg.cn", TENCENT),
    ("qpic.cn", TENCENT),
    ("wechat.com", TENCENT),
    ("myqcloud.com", TENCENT),
    ("qcloud.com", TENCENT),
    ("tencentcloud.com", TENCENT),
    ("tencent-cloud.net", TENCENT),
    ("bytedance.com", BYTEDANCE),
    ("byteoversea.com", BYTEDANCE),
    ("byteimg.com", BYTEDANCE),
    ("ibytedtos.com", BYTEDANCE),
    ("pangle.io", BYTEDANCE),
    ("pangleglobal.com", BYTEDANCE),
    ("pglstatp-toutiao.com", BYTEDANCE),
    ("toutiao.com", BYTEDANCE),
    ("snssdk.com", BYTEDANCE),
    ("tiktok.com", BYTEDANCE),
    ("tiktokv.com", BYTEDANCE),
    ("tiktokcdn.com", BYTEDANCE),
    ("jpush.cn", AURORA),
    ("jpush.io", AURORA),
    ("jiguang.cn", AURORA),
    ("igexin.com", GETUI),
    ("getui.com", GETUI),
    ("getui.net", GETUI),
    ("gepush.com", GETUI),
    ("talkingdata.com", TALKINGDATA),
    ("tendcloud.com", TALKINGDATA),
    ("talkinggame.com", TALKINGDATA),
    ("cpatrk.net", TALKINGDATA),
    ("reyun.com", REYUN),
    ("zhugeapi.com", ZHUGE),
    ("zhugeio.com", ZHUGE),
    ("shuzilm.cn", SHUZILM),
    ("rayjump.com", MOBVISTA),
    ("mintegral.com", MOBVISTA),
    ("kuaishou.com", KUAISHOU),
    ("gifshow.com", KUAISHOU),
    ("adkwai.com", KUAISHOU),
    ("adukwai.com", KUAISHOU),
    ("adbkwai.com", KUAISHOU),
    ("adups.com", ADUPS),
    ("adups.cn", ADUPS),
    ("adsunflower.com", ADUPS),
    ("vnet.cn", CHINA_TELECOM),
    ("189.cn", CHINA_TELECOM),
    ("ctyun.cn", CHINA_TELECOM),
    ("chinatelecom.com.cn", CHINA_TELECOM),
    ("10010.com", CHINA_UNICOM),
    ("chinaunicom.cn", CHINA_UNICOM),
    ("10086.cn", CHINA_MOBILE),
    ("chinamobile.com", CHINA_MOBILE),
    ("cmpassport.com", CHINA_MOBILE),
    ("ksyun.com", KINGSOFT),
    ("ucloud.cn", UCLOUD),
    ("163.com", NETEASE),
    ("126.net", NETEASE),
    ("netease.com", NETEASE),
    ("360.cn", QIHOO),
    ("qhimg.com", QIHOO),
    ("yandex.ru", YANDEX),
    ("yandex.net", YANDEX),
    ("yandex.com", YANDEX),
    ("ya.ru", YANDEX),
    ("yastatic.net", YANDEX),
    ("yandexadexchange.net", YANDEX),
    ("adfox.ru", YANDEX),
    ("vk.com", VK),
    ("vk.ru", VK),
    ("userapi.com", VK),
    ("vkontakte.ru", VK),
    ("vk-analytics.ru", VK),
    ("mail.ru", VK),
    ("my.com", VK),
    ("mycdn.me", VK),
    ("ok.ru", VK),
    ("mradx.net", VK),
    ("imgsmail.ru", VK),
    ("rt.ru", ROSTELECOM),
    ("mts.ru", MTS),
    ("megafon.ru", MEGAFON),
    ("beeline.ru", BEELINE),
    ("selectel.ru", SELECTEL),
    ("kaspersky.com", KASPERSKY),
    ("kaspersky-labs.com", KASPERSKY),
    ("google.com", GOOGLE),
    ("googleapis.com", GOOGLE),
    ("gstatic.com", GOOGLE),
    ("googlevideo.com", GOOGLE),
    ("googleusercontent.com", GOOGLE),
    ("googlesyndication.com", GOOGLE),
    ("googleadservices.com", GOOGLE),
    ("google-analytics.com", GOOGLE),
    ("googletagmanager.com", GOOGLE),
    ("doubleclick.net", GOOGLE),
    ("app-measurement.com", GOOGLE),
    ("crashlytics.com", GOOGLE),
    ("firebaseio.com", GOOGLE),
    ("youtube.com", GOOGLE),
    ("ytimg.com", GOOGLE),
    ("android.com", GOOGLE),
    ("gvt1.com", GOOGLE),
    ("gvt2.com", GOOGLE),
    ("ggpht.com", GOOGLE),
    ("1e100.net", GOOGLE),
    ("facebook.com", META),
    ("facebook.net", META),
    ("fbcdn.net", META),
    ("fb.com", META),
    ("fbsbx.com", META),
    ("instagram.com", META),
    ("cdninstagram.com", META),
    ("whatsapp.com", META),
    ("whatsapp.net", META),
    ("meta.com", META),
    ("microsoft.com", MICROSOFT),
    ("live.com", MICROSOFT),
    ("bing.com", MICROSOFT),
    ("appcenter.ms", MICROSOFT),
    ("appsflyer.com", APPSFLYER),
    ("appsflyersdk.com", APPSFLYER),
];

/// Why a network has its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetworkOwnerSource {
    /// A row of [`ASN_OWNERS`], with its source.
    Asn(&'static str),
    /// An organisation-name pattern of [`ORG_PATTERNS`].
    OrgName(&'static str),
}

/// The owner tables indexed for per-flow lookups (built once).
pub(crate) struct OwnerTables {
    by_asn: HashMap<u32, &'static AsnRow>,
    by_domain: SuffixIndex<(&'static str, Owner)>,
    org_matcher: Option<AhoCorasick>,
}

impl OwnerTables {
    pub(crate) fn new() -> Self {
        let org_matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(ORG_PATTERNS.iter().map(|(pattern, _)| pattern))
            .map_err(|e| log::error!("org patterns rejected: {e}"))
            .ok();
        Self {
            by_asn: ASN_OWNERS.iter().map(|row| (row.asn, row)).collect(),
            by_domain: SuffixIndex::new(DOMAIN_OWNERS, |(domain, _)| domain),
            org_matcher,
        }
    }

    /// The network owner and why: the curated ASN table first (its row's source), then the
    /// organisation-name patterns (the pattern that matched).
    pub(crate) fn network_owner(&self, asn: Option<u32>, as_org: Option<&str>) -> Option<(Owner, NetworkOwnerSource)> {
        asn.and_then(|n| self.by_asn.get(&n)).map(|row| (row.owner, NetworkOwnerSource::Asn(row.source))).or_else(
            || {
                let m = self.org_matcher.as_ref()?.find(as_org?)?;
                ORG_PATTERNS
                    .get(m.pattern().as_usize())
                    .map(|(pattern, owner)| (*owner, NetworkOwnerSource::OrgName(pattern)))
            },
        )
    }

    /// The owner of a normalised name and the table's eTLD+1 it falls under. A suffix walk
    /// rather than `psl::domain_str`, which stops at private suffixes such as `googleapis.com`.
    pub(crate) fn domain_owner(&self, name: &str) -> Option<(&'static str, Owner)> {
        self.by_domain.lookup(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn watchlist_defaults_and_edits() {
        let mut w = Watchlist::default();
        assert!(w.contains("cn") && w.contains("RU") && !w.contains("SG"));
        assert_eq!(w.insert("sg"), Ok(true));
        assert_eq!(w.insert("SG"), Ok(false));
        assert!(w.contains("Sg"));
        assert!(w.remove("cn") && !w.contains("CN") && !w.remove("CN"));
        assert!(w.insert("CHN").is_err() && w.insert("1x").is_err() && w.insert("é").is_err());
        assert_eq!(w.countries().collect::<Vec<_>>(), ["RU", "SG"]);
        assert!(!Watchlist::empty().contains("CN"));
    }

    #[test]
    fn tables_have_no_duplicates_and_every_asn_row_a_source() {
        let asns: HashSet<u32> = ASN_OWNERS.iter().map(|r| r.asn).collect();
        assert_eq!(asns.len(), ASN_OWNERS.len());
        assert!(ASN_OWNERS.iter().all(|r| r.source.starts_with("https://")));
        let domains: HashSet<&str> = DOMAIN_OWNERS.iter().map(|(d, _)| *d).collect();
        assert_eq!(domains.len(), DOMAIN_OWNERS.len());
        for (domain, _) in DOMAIN_OWNERS {
            let private_suffix = psl::suffix(domain.as_bytes())
                .is_some_and(|s| s.typ() == Some(psl::Type::Private) && s.as_bytes() == domain.as_bytes());
            assert!(psl::domain_str(domain) == Some(*domain) || private_suffix, "{domain} must be an eTLD+1");
        }
        for owner in ASN_OWNERS.iter().map(|r| r.owner).chain(DOMAIN_OWNERS.iter().map(|(_, o)| *o)) {
            assert!(country_key(owner.country).is_some(), "{owner:?}");
        }
    }

    #[test]
    fn network_owner_by_asn_then_org_name() {
        let t = OwnerTables::new();
        let owner = |asn, org| t.network_owner(asn, org).map(|(owner, _)| owner);
        assert_eq!(
            t.network_owner(Some(45102), None),
            Some((ALIBABA, NetworkOwnerSource::Asn("https://bgp.he.net/AS45102")))
        );
        assert_eq!(owner(Some(45102), Some("ANYTHING")), Some(ALIBABA));
        assert_eq!(
            t.network_owner(None, Some("ALIBABA-CN-NET")),
            Some((ALIBABA, NetworkOwnerSource::OrgName("ALIBABA")))
        );
        assert_eq!(owner(Some(1), Some("TENCENT-NET-AP")), Some(TENCENT));
        assert_eq!(owner(None, Some("chinanet-backbone No.31,Jin-rong Street")), Some(CHINA_TELECOM));
        assert_eq!(owner(None, Some("PJSC Rostelecom")), Some(ROSTELECOM));
        assert_eq!(owner(Some(15169), Some("GOOGLE")), None);
        assert_eq!(owner(None, None), None);
    }

    #[test]
    fn domain_owner_walks_to_the_listed_etld_plus_one() {
        let t = OwnerTables::new();
        assert_eq!(t.domain_owner("tracking.intl.miui.com"), Some(("miui.com", XIAOMI)));
        assert_eq!(t.domain_owner("fcm.googleapis.com"), Some(("googleapis.com", GOOGLE)));
        assert_eq!(t.domain_owner("a.b.zte.com.cn"), Some(("zte.com.cn", ZTE)));
        assert_eq!(t.domain_owner("notmiui.com"), None);
        assert_eq!(t.domain_owner("com"), None);
    }
}
