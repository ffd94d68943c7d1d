//! Company → home country for the companies behind the most common trackers and SDKs, keyed by
//! AdGuard companiesdb's company id, so that a tracker-table entry names its domain's owner and
//! `watched_domain_owner` works for it.
//!
//! Curated like `owners.rs`: every row names the operating company and a public source for its
//! home country. companiesdb sometimes files a tracker under an investor or holding (SoftBank for
//! Taobao, Apollo for Flurry, Blackstone for Vungle); those ids are left out on purpose, since the
//! investor's country is not the domain owner's.

use hashbrown::HashMap;

use crate::knowledge::XRAY;

use crate::owners::{
    Owner, ALIBABA, APPSFLYER, BAIDU, BBK_OPPO, BYTEDANCE, GOOGLE, KASPERSKY, MEGAFON, META, MICROSOFT, NETEASE, QIHOO,
    ROSTELECOM, SAMSUNG, TENCENT, VK, XIAOMI, YANDEX,
};

/// One curated company: companiesdb id, the company and its home country, and the source.
#[derive(Debug, Clone, Copy)]
pub struct CompanyHome {
    /// AdGuard companiesdb's id of the company.
    pub id: &'static str,
    /// The operating company and its home country.
    pub owner: Owner,
    /// Where the home country can be checked.
    pub source: &'static str,
}

const fn home(id: &'static str, company: &'static str, country: &'static str, source: &'static str) -> CompanyHome {
    CompanyHome { id, owner: Owner { company, country }, source }
}

const fn same(id: &'static str, owner: Owner, source: &'static str) -> CompanyHome {
    CompanyHome { id, owner, source }
}

/// The curated companies.
pub static COMPANY_HOMES: &[CompanyHome] = &[
    // China
    same("baidu", BAIDU, "https://en.wikipedia.org/wiki/Baidu"),
    same("tencent", TENCENT, "https://en.wikipedia.org/wiki/Tencent"),
    same("umeng", ALIBABA, XRAY),
    same("tanx", ALIBABA, XRAY),
    same("linezing", ALIBABA, XRAY),
    same("163", NETEASE, "https://en.wikipedia.org/wiki/NetEase"),
    same("qihoo_360_technology", QIHOO, "https://en.wikipedia.org/wiki/Qihoo_360"),
    same("xiaomi", XIAOMI, "https://en.wikipedia.org/wiki/Xiaomi"),
    same("bytedance_inc", BYTEDANCE, "https://en.wikipedia.org/wiki/ByteDance"),
    same("bbk", BBK_OPPO, "https://en.wikipedia.org/wiki/BBK_Electronics"),
    home("sina", "Sina", "CN", "https://en.wikipedia.org/wiki/Sina_Corporation"),
    home("sohu", "Sohu", "CN", "https://en.wikipedia.org/wiki/Sohu"),
    home("iqiyi", "iQiyi (Baidu)", "CN", "https://en.wikipedia.org/wiki/IQIYI"),
    home("mobvista", "Mobvista (Mintegral)", "CN", XRAY),
    home("admaster", "AdMaster", "CN", XRAY),
    home("allyes", "Allyes", "CN", XRAY),
    home("adsame", "AdSame", "CN", XRAY),
    home("dratio", "Dratio", "CN", XRAY),
    home("menlotechnologies", "Menlo Technologies", "CN", XRAY),
    home("optaim", "OptAim", "CN", XRAY),
    home("terren", "Terren", "CN", XRAY),
    home("miaozhen", "Miaozhen Systems", "CN", XRAY),
    home("sungrow", "Sungrow Power Supply", "CN", "https://en.wikipedia.org/wiki/Sungrow"),
    // Russia
    same("yandex", YANDEX, "https://en.wikipedia.org/wiki/Yandex"),
    same("vk", VK, "https://en.wikipedia.org/wiki/VK_(company)"),
    same("megafon", MEGAFON, "https://en.wikipedia.org/wiki/MegaFon"),
    same("AO Kaspersky Lab", KASPERSKY, "https://en.wikipedia.org/wiki/Kaspersky_Lab"),
    same("sputnik", ROSTELECOM, "https://en.wikipedia.org/wiki/Sputnik_(search_engine)"),
    home("rambler", "Rambler&Co", "RU", XRAY),
    home("ad_river", "AdRiver", "RU", XRAY),
    home("liveinternet", "LiveInternet", "RU", XRAY),
    home("mediascope", "Mediascope", "RU", XRAY),
    home("gazprom-media_digital", "Gazprom-Media", "RU", XRAY),
    home("rbc_group", "RBC", "RU", "https://en.wikipedia.org/wiki/RBC_Information_Systems"),
    home("head_hunter", "HeadHunter", "RU", "https://en.wikipedia.org/wiki/HeadHunter_Group"),
    // Elsewhere: the SDK and ad companies most apps embed, for users who watch these countries.
    same("google", GOOGLE, "https://en.wikipedia.org/wiki/Google"),
    same("microsoft", MICROSOFT, "https://en.wikipedia.org/wiki/Microsoft"),
    same("meta", META, "https://en.wikipedia.org/wiki/Meta_Platforms"),
    same("facebook", META, "https://en.wikipedia.org/wiki/Meta_Platforms"),
    same("samsung", SAMSUNG, "https://en.wikipedia.org/wiki/Samsung_Electronics"),
    same("appsflyer", APPSFLYER, "https://en.wikipedia.org/wiki/AppsFlyer"),
    home("amazon_associates", "Amazon", "US", "https://en.wikipedia.org/wiki/Amazon_(company)"),
    home("apple", "Apple", "US", "https://en.wikipedia.org/wiki/Apple_Inc."),
    home("verizon", "Verizon", "US", "https://en.wikipedia.org/wiki/Verizon"),
    home("oracle", "Oracle", "US", "https://en.wikipedia.org/wiki/Oracle_Corporation"),
    home("adobe", "Adobe", "US", "https://en.wikipedia.org/wiki/Adobe_Inc."),
    home("salesforce", "Salesforce", "US", "https://en.wikipedia.org/wiki/Salesforce"),
    home("hubspot", "HubSpot", "US", "https://en.wikipedia.org/wiki/HubSpot"),
    home("twitter", "X Corp.", "US", "https://en.wikipedia.org/wiki/X_Corp."),
    home("snap_technologies", "Snap", "US", "https://en.wikipedia.org/wiki/Snap_Inc."),
    home("pinterest", "Pinterest", "US", "https://en.wikipedia.org/wiki/Pinterest"),
    home("comscore", "Comscore", "US", "https://en.wikipedia.org/wiki/Comscore"),
    home("nielsen", "Nielsen", "US", "https://en.wikipedia.org/wiki/Nielsen_Holdings"),
    home("quantcast", "Quantcast", "US", "https://en.wikipedia.org/wiki/Quantcast"),
    home("openx", "OpenX", "US", "https://en.wikipedia.org/wiki/OpenX"),
    home("pubmatic", "PubMatic", "US", "https://en.wikipedia.org/wiki/PubMatic"),
    home("rubicon_project", "Magnite (Rubicon Project)", "US", "https://en.wikipedia.org/wiki/Magnite"),
    home("the_trade_desk", "The Trade Desk", "US", "https://en.wikipedia.org/wiki/The_Trade_Desk"),
    home("outbrain", "Outbrain", "US", "https://en.wikipedia.org/wiki/Outbrain"),
    home("unity", "Unity Technologies", "US", "https://en.wikipedia.org/wiki/Unity_Technologies"),
    home("applovin", "AppLovin", "US", "https://en.wikipedia.org/wiki/AppLovin"),
    home("branch_metrics_inc", "Branch Metrics", "US", XRAY),
    home("mixpanel", "Mixpanel", "US", "https://en.wikipedia.org/wiki/Mixpanel"),
    home("amplitude", "Amplitude", "US", XRAY),
    home("segment", "Segment (Twilio)", "US", "https://en.wikipedia.org/wiki/Segment_(company)"),
    home("braze", "Braze", "US", XRAY),
    home("onesignal", "OneSignal", "US", XRAY),
    home("sentry", "Functional Software (Sentry)", "US", XRAY),
    home("new_relic", "New Relic", "US", "https://en.wikipedia.org/wiki/New_Relic"),
    home("bugsnag", "Bugsnag (SmartBear)", "US", XRAY),
    home("digital_turbine", "Digital Turbine", "US", "https://en.wikipedia.org/wiki/Digital_Turbine"),
    home("cloudflare", "Cloudflare", "US", "https://en.wikipedia.org/wiki/Cloudflare"),
    home("akamai", "Akamai", "US", "https://en.wikipedia.org/wiki/Akamai_Technologies"),
    home("fastly", "Fastly", "US", "https://en.wikipedia.org/wiki/Fastly"),
    home("netflix", "Netflix", "US", "https://en.wikipedia.org/wiki/Netflix"),
    home("ibm", "IBM", "US", "https://en.wikipedia.org/wiki/IBM"),
    home("criteo", "Criteo", "FR", "https://en.wikipedia.org/wiki/Criteo"),
    home("sap", "SAP", "DE", "https://en.wikipedia.org/wiki/SAP"),
    home("spotify", "Spotify", "SE", "https://en.wikipedia.org/wiki/Spotify"),
    home("adform", "Adform", "DK", XRAY),
    home("index_exchange", "Index Exchange", "CA", XRAY),
    home("lgcorp", "LG", "KR", "https://en.wikipedia.org/wiki/LG_Corporation"),
    home("naver", "Naver", "KR", "https://en.wikipedia.org/wiki/Naver_Corporation"),
    home("yahoo_japan", "LY Corporation (Yahoo! Japan)", "JP", "https://en.wikipedia.org/wiki/LY_Corporation"),
];

/// The curated companies indexed by companiesdb id (built once).
pub(crate) struct CompanyHomes {
    by_id: HashMap<&'static str, &'static CompanyHome>,
}

impl CompanyHomes {
    pub(crate) fn new() -> Self {
        Self { by_id: COMPANY_HOMES.iter().map(|home| (home.id, home)).collect() }
    }

    /// The curated home of a companiesdb company id.
    pub(crate) fn get(&self, id: &str) -> Option<&'static CompanyHome> {
        self.by_id.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::trackers::bundled_trackers;

    #[test]
    fn every_company_is_unique_sourced_and_in_the_bundled_table() {
        let ids: HashSet<&str> = COMPANY_HOMES.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), COMPANY_HOMES.len());
        let bundled: HashSet<&str> = bundled_trackers().entries().filter_map(|e| e.company_id).collect();
        for company in COMPANY_HOMES {
            assert!(company.source.starts_with("https://"), "{}", company.id);
            let country = company.owner.country;
            assert!(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()), "{}", company.id);
            assert!(bundled.contains(company.id), "{} names no company of the bundled table", company.id);
        }
    }

    #[test]
    fn lookup_by_companiesdb_id() {
        let homes = CompanyHomes::new();
        assert_eq!(homes.get("yandex").map(|h| h.owner), Some(YANDEX));
        assert_eq!(homes.get("sina").map(|h| (h.owner.company, h.owner.country)), Some(("Sina", "CN")));
        assert!(homes.get("softbank").is_none(), "an investor is not the domain owner");
        assert!(homes.get("Yandex").is_none(), "ids are exact");
    }
}
