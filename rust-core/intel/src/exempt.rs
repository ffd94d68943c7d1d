//! General-purpose services that companiesdb files under a tracking category: reviewed exemptions,
//! so that a search engine, an OS service or a shop raises no `tracker` alert (a benign-host test
//! holds every general-purpose host to that). The entry is still reported (`phonehome whois`), and
//! still names the domain's owner; only the alert is withheld. A curated tracking host below an
//! exempt domain (`bat.bing.com` under `bing.com`) is flagged by the curated table, which wins.

/// companiesdb trackers all of whose domains are general-purpose services.
pub(crate) static EXEMPT_TRACKERS: &[(&str, &str)] = &[
    ("google", "Google's search and service sites (google.*, g.co, 1e100.net server names)"),
    ("android", "Android's OS services and website"),
    ("samsungapps", "Samsung system services: Galaxy Store, Bixby, Find My Mobile, device management"),
    ("samsungmobile", "Samsung system services: firmware updates (ospserver.net), device services"),
    ("oppo", "Oppo, Realme and OnePlus system services (their telemetry hosts are curated)"),
    ("yahoo", "Yahoo's portal, mail, Tumblr and their infrastructure (its ad and analytics hosts are listed apart)"),
    ("ebay", "eBay's shopping sites and images (its partner network is listed apart)"),
];

const FIREBASE: &str = "Firebase infrastructure (push, configuration, links, hosting), not its analytics";
const YANDEX: &str = "Yandex search, portal and static content (its analytics hosts are listed apart)";
const YAHOO_JAPAN: &str = "Yahoo! Japan portal";
const LINE: &str = "LINE messenger";

/// companiesdb tracker domains that are general-purpose services.
pub(crate) static EXEMPT_DOMAINS: &[(&str, &str)] = &[
    ("fcm.googleapis.com", "Firebase Cloud Messaging: the push transport of every Android app"),
    ("firebase.googleapis.com", FIREBASE),
    ("firebaseappcheck.googleapis.com", FIREBASE),
    ("firebaseremoteconfig.googleapis.com", FIREBASE),
    ("firebasedynamiclinks.googleapis.com", FIREBASE),
    ("firebasedynamiclinks-ipv4.googleapis.com", FIREBASE),
    ("firebasedynamiclinks-ipv6.googleapis.com", FIREBASE),
    ("firebaseperusertopics-pa.googleapis.com", FIREBASE),
    ("firebase.com", FIREBASE),
    ("firebase.google.com", FIREBASE),
    ("firebaseapp.com", FIREBASE),
    ("bing.com", "Bing search engine"),
    ("bing.net", "Bing's image and content delivery"),
    ("yandex.ru", YANDEX),
    ("yandex.net", YANDEX),
    ("yandex.com", YANDEX),
    ("yandex.by", YANDEX),
    ("yandex.kz", YANDEX),
    ("yandex.fr", YANDEX),
    ("yandex.com.tr", YANDEX),
    ("ya.ru", YANDEX),
    ("yastatic.net", YANDEX),
    ("baidu.com", "Baidu search engine (its ad and analytics hosts are curated)"),
    ("sina.com.cn", "Sina news portal"),
    ("naver.com", "Naver search portal"),
    ("naver.net", "Naver search portal"),
    ("yahoo.co.jp", YAHOO_JAPAN),
    ("yimg.jp", YAHOO_JAPAN),
    ("yahooapis.jp", YAHOO_JAPAN),
    ("storage-yahoo.jp", YAHOO_JAPAN),
    ("rambler.ru", "Rambler portal"),
    ("aol.com", "AOL portal and mail"),
    ("aolcdn.com", "AOL and Yahoo content delivery"),
    ("szn.cz", "Seznam search engine's content delivery"),
    ("facebook.com", "Facebook itself (its SDK and pixel hosts, graph.facebook.com and facebook.net, stay trackers)"),
    ("line.me", LINE),
    ("line-apps.com", LINE),
    ("line-scdn.net", LINE),
    ("taobao.com", "Taobao shopping"),
    ("mercadolivre.com.br", "Mercado Livre shopping"),
    ("mlstatic.com", "Mercado Livre shopping"),
    ("weather.com", "The Weather Company's site and weather API"),
    ("adobe.com", "Adobe's site and cloud services"),
    ("scene7.com", "Adobe Dynamic Media: product images of shops"),
    ("elasticbeanstalk.com", "AWS application hosting"),
    ("feedburner.com", "RSS feed hosting"),
    ("mailchimp.com", "Mailchimp's site (its click tracking, list-manage.com, stays a tracker)"),
    ("salesforce.com", "Salesforce's site and services"),
    ("snapchat.com", "Snapchat itself (its analytics host is curated)"),
    ("wordpress.com", "WordPress.com blogs (its stats hosts are listed apart)"),
    ("wp.com", "WordPress.com content delivery (its stats hosts are listed apart)"),
    ("algolia.com", "search API"),
    ("algolia.net", "search API"),
    ("bit.ly", "link shortener"),
    ("muscache.com", "Airbnb content delivery"),
    ("pusher.com", "real-time messaging infrastructure"),
    ("pusherapp.com", "real-time messaging infrastructure"),
    ("queue-it.net", "waiting rooms of ticket and shop sites"),
    ("squarespace.com", "website builder and hosting"),
    ("arkoselabs.com", "bot protection (captchas)"),
    ("perimeterx.net", "bot protection"),
    ("beeline.ru", "Beeline, a mobile carrier"),
    ("congstar.de", "congstar, a mobile carrier"),
    ("idealo.com", "price comparison site"),
    ("jsuol.com.br", "UOL portal"),
    ("kataweb.it", "news portal"),
    ("tamedia.ch", "news publisher"),
];

/// Why a tracker-table entry raises no alert, if it is exempt.
pub(crate) fn exemption(domain: &str, tracker_id: &str) -> Option<&'static str> {
    let find = |table: &'static [(&str, &str)], key: &str| table.iter().find(|(k, _)| *k == key).map(|(_, why)| *why);
    find(EXEMPT_DOMAINS, domain).or_else(|| find(EXEMPT_TRACKERS, tracker_id))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::trackers::bundled_trackers;

    #[test]
    fn every_exemption_names_a_bundled_tracking_entry_once() {
        let tracking: Vec<_> = bundled_trackers().entries().filter(|e| e.category.is_tracking()).collect();
        let domains: HashSet<&str> = tracking.iter().map(|e| e.domain).collect();
        let trackers: HashSet<&str> = tracking.iter().map(|e| e.tracker_id).collect();
        for (domain, _) in EXEMPT_DOMAINS {
            assert!(domains.contains(domain), "{domain} is no tracking entry of the bundled table");
        }
        for (tracker, _) in EXEMPT_TRACKERS {
            assert!(trackers.contains(tracker), "{tracker} is no tracking tracker of the bundled table");
        }
        let unique: HashSet<&str> = EXEMPT_DOMAINS.iter().chain(EXEMPT_TRACKERS).map(|(k, _)| *k).collect();
        assert_eq!(unique.len(), EXEMPT_DOMAINS.len() + EXEMPT_TRACKERS.len());
    }

    #[test]
    fn exemption_by_domain_or_tracker() {
        assert!(exemption("bing.com", "bing_ads").is_some());
        assert!(exemption("bat.r.msn.com", "bing_ads").is_none(), "the tracker's other domains stay");
        assert!(exemption("google.de", "google").is_some());
        assert!(exemption("googleadservices.com", "google_adservices").is_none());
    }
}
