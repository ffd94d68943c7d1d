//! State bodies whose domains sit outside a government suffix: agencies, state-run internet and
//! information centres, state media and state service portals of the watched countries. A flow to
//! one raises `government_domain` (low: a lookup is weak evidence) naming the body.
//!
//! The seed case of MISSION.md: a phone looked up China's Ministry of Public Security (under
//! `gov.cn`, caught by the suffix rules) and a state internet information centre (`cnnic.cn`,
//! `china.org.cn`: no government suffix, caught only by this table). Each rule matches the domain
//! and its subdomains; none lies under a government suffix (a test checks).

use crate::name::SuffixIndex;

/// One state body: its domain, name, what it is, its country and the source.
#[derive(Debug, Clone, Copy)]
pub struct StateBody {
    /// The domain the rule covers, with its subdomains.
    pub domain: &'static str,
    /// The body's name.
    pub body: &'static str,
    /// What the body is.
    pub what: &'static str,
    /// Its country (ISO 3166-1 alpha-2).
    pub country: &'static str,
    /// Where the attribution can be checked.
    pub source: &'static str,
}

const fn body(
    domain: &'static str,
    body: &'static str,
    what: &'static str,
    country: &'static str,
    source: &'static str,
) -> StateBody {
    StateBody { domain, body, what, country, source }
}

const CNNIC: &str = "https://en.wikipedia.org/wiki/China_Internet_Network_Information_Center";
const CIIC: &str = "https://en.wikipedia.org/wiki/China.org.cn";
const XINHUA: &str = "https://en.wikipedia.org/wiki/Xinhua_News_Agency";
const PEOPLES_DAILY: &str = "https://en.wikipedia.org/wiki/People%27s_Daily";
const CCTV: &str = "https://en.wikipedia.org/wiki/China_Central_Television";
const CHINA_NEWS: &str = "https://en.wikipedia.org/wiki/China_News_Service";
const TASS: &str = "https://en.wikipedia.org/wiki/TASS";
const ROSSIYA_SEGODNYA: &str = "https://en.wikipedia.org/wiki/Rossiya_Segodnya";
const VGTRK: &str = "https://en.wikipedia.org/wiki/All-Russia_State_Television_and_Radio_Broadcasting_Company";
const MVD: &str = "https://en.wikipedia.org/wiki/Ministry_of_Internal_Affairs_(Russia)";

const STATE_CENTRE: &str = "state internet information centre";
const STATE_MEDIA: &str = "state media";
const AGENCY: &str = "state agency";

/// The curated state bodies.
pub static STATE_BODIES: &[StateBody] = &[
    // China
    body("cnnic.cn", "China Internet Network Information Center (CNNIC)", STATE_CENTRE, "CN", CNNIC),
    body("cnnic.net.cn", "China Internet Network Information Center (CNNIC)", STATE_CENTRE, "CN", CNNIC),
    body(
        "china.org.cn",
        "China Internet Information Center (State Council Information Office)",
        STATE_CENTRE,
        "CN",
        CIIC,
    ),
    body(
        "china.com.cn",
        "China Internet Information Center (State Council Information Office)",
        STATE_CENTRE,
        "CN",
        CIIC,
    ),
    body(
        "12377.cn",
        "Illegal and Harmful Information Reporting Center (Cyberspace Administration of China)",
        AGENCY,
        "CN",
        "https://www.12377.cn/",
    ),
    body(
        "cyberpolice.cn",
        "Cybercrime reporting site of the Ministry of Public Security",
        AGENCY,
        "CN",
        "https://www.cyberpolice.cn/",
    ),
    body(
        "cert.org.cn",
        "National Computer Network Emergency Response Technical Team (CNCERT/CC)",
        AGENCY,
        "CN",
        "https://en.wikipedia.org/wiki/CNCERT/CC",
    ),
    body(
        "cnnvd.org.cn",
        "China Information Technology Security Evaluation Center (Ministry of State Security)",
        AGENCY,
        "CN",
        "https://en.wikipedia.org/wiki/China_Information_Technology_Security_Evaluation_Center",
    ),
    body("xinhuanet.com", "Xinhua News Agency", STATE_MEDIA, "CN", XINHUA),
    body("news.cn", "Xinhua News Agency", STATE_MEDIA, "CN", XINHUA),
    body("people.com.cn", "People's Daily", STATE_MEDIA, "CN", PEOPLES_DAILY),
    body("people.cn", "People's Daily", STATE_MEDIA, "CN", PEOPLES_DAILY),
    body(
        "globaltimes.cn",
        "Global Times (People's Daily)",
        STATE_MEDIA,
        "CN",
        "https://en.wikipedia.org/wiki/Global_Times",
    ),
    body("cctv.com", "China Central Television", STATE_MEDIA, "CN", CCTV),
    body("cctv.cn", "China Central Television", STATE_MEDIA, "CN", CCTV),
    body("cntv.cn", "China Central Television", STATE_MEDIA, "CN", CCTV),
    body("cgtn.com", "China Global Television Network", STATE_MEDIA, "CN", "https://en.wikipedia.org/wiki/CGTN"),
    body(
        "cri.cn",
        "China Radio International",
        STATE_MEDIA,
        "CN",
        "https://en.wikipedia.org/wiki/China_Radio_International",
    ),
    body("chinadaily.com.cn", "China Daily", STATE_MEDIA, "CN", "https://en.wikipedia.org/wiki/China_Daily"),
    body("chinanews.com.cn", "China News Service", STATE_MEDIA, "CN", CHINA_NEWS),
    body("chinanews.com", "China News Service", STATE_MEDIA, "CN", CHINA_NEWS),
    body("gmw.cn", "Guangming Daily", STATE_MEDIA, "CN", "https://en.wikipedia.org/wiki/Guangming_Daily"),
    body("qstheory.cn", "Qiushi", STATE_MEDIA, "CN", "https://en.wikipedia.org/wiki/Qiushi"),
    // Russia
    body(
        "fsb.ru",
        "Federal Security Service (FSB)",
        AGENCY,
        "RU",
        "https://en.wikipedia.org/wiki/Federal_Security_Service",
    ),
    body("mvd.ru", "Ministry of Internal Affairs", AGENCY, "RU", MVD),
    body("xn--b1aew.xn--p1ai", "Ministry of Internal Affairs (мвд.рф)", AGENCY, "RU", MVD),
    body(
        "mid.ru",
        "Ministry of Foreign Affairs",
        AGENCY,
        "RU",
        "https://en.wikipedia.org/wiki/Ministry_of_Foreign_Affairs_(Russia)",
    ),
    body("cbr.ru", "Central Bank of Russia", AGENCY, "RU", "https://en.wikipedia.org/wiki/Central_Bank_of_Russia"),
    body("nalog.ru", "Federal Tax Service", AGENCY, "RU", "https://en.wikipedia.org/wiki/Federal_Tax_Service_(Russia)"),
    body(
        "mos.ru",
        "Government of Moscow",
        "state service portal",
        "RU",
        "https://en.wikipedia.org/wiki/Government_of_Moscow",
    ),
    body("tass.ru", "TASS", STATE_MEDIA, "RU", TASS),
    body("tass.com", "TASS", STATE_MEDIA, "RU", TASS),
    body("ria.ru", "RIA Novosti (Rossiya Segodnya)", STATE_MEDIA, "RU", ROSSIYA_SEGODNYA),
    body("sputniknews.com", "Sputnik (Rossiya Segodnya)", STATE_MEDIA, "RU", ROSSIYA_SEGODNYA),
    body("rt.com", "RT", STATE_MEDIA, "RU", "https://en.wikipedia.org/wiki/RT_(TV_network)"),
    body(
        "rg.ru",
        "Rossiyskaya Gazeta (government newspaper)",
        STATE_MEDIA,
        "RU",
        "https://en.wikipedia.org/wiki/Rossiyskaya_Gazeta",
    ),
    body("vesti.ru", "VGTRK", STATE_MEDIA, "RU", VGTRK),
    body("smotrim.ru", "VGTRK", STATE_MEDIA, "RU", VGTRK),
    body("1tv.ru", "Channel One Russia", STATE_MEDIA, "RU", "https://en.wikipedia.org/wiki/Channel_One_Russia"),
];

/// The state bodies indexed for per-flow lookups (built once).
pub(crate) fn state_bodies() -> SuffixIndex<StateBody> {
    SuffixIndex::new(STATE_BODIES, |b| b.domain)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::knowledge::government_suffix;

    #[test]
    fn every_body_is_unique_normalised_sourced_and_outside_government_suffixes() {
        crate::name::assert_curated(STATE_BODIES, |b| b.domain, |b| b.source);
        for b in STATE_BODIES {
            assert!(government_suffix(b.domain).is_none(), "{} is already a government suffix", b.domain);
            assert!(["CN", "RU"].contains(&b.country), "{}", b.domain);
        }
    }

    #[test]
    fn lookup_takes_subdomains_without_suffix_accidents() {
        let t = state_bodies();
        assert_eq!(t.lookup("www.cnnic.cn").map(|b| b.domain), Some("cnnic.cn"));
        assert!(t.lookup("english.www.gov.cn").is_none(), "gov.cn is the suffix rules' job");
        assert_eq!(t.lookup("russian.china.org.cn").map(|b| b.what), Some(STATE_CENTRE));
        assert_eq!(t.lookup("www.xn--b1aew.xn--p1ai").map(|b| b.country), Some("RU"));
        for name in ["notcnnic.cn", "rt.ru", "art.com", "cnnic.cn.example.com", "people.com", "tass.org"] {
            assert!(t.lookup(name).is_none(), "{name}");
        }
    }
}
