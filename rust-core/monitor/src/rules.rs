//! Blocking rules: apps, domains, countries and networks whose new flows the stack refuses. ("Lists" raise
//! alerts; only block rules block.)

use std::net::IpAddr;
use std::sync::Arc;

use crate::MonitorError;

/// What to block: a new flow is refused when any rule matches it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockRules {
    /// Apps, by uid (a flow whose owner is not found in time is not blocked by these).
    pub apps: Vec<u32>,
    /// Domains and their subdomains, matched against the name the server's address was resolved from.
    pub domains: Vec<String>,
    /// Countries of the server's address (ISO 3166 alpha-2).
    pub countries: Vec<String>,
    /// Server networks as CIDR (`192.0.2.0/24`, `2001:db8::/32`) or single addresses.
    pub networks: Vec<String>,
}

impl BlockRules {
    /// True when nothing is blocked.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty() && self.domains.is_empty() && self.countries.is_empty() && self.networks.is_empty()
    }
}

/// [`BlockRules`] in the form checked once per new flow: normalised names, parsed networks.
#[derive(Debug)]
pub(crate) struct CompiledRules {
    apps: Vec<u32>,
    /// Lower case, without a trailing dot.
    domains: Vec<String>,
    /// Upper case.
    countries: Vec<String>,
    networks: Vec<ipnet::IpNet>,
}

/// A network rule: CIDR or a single address.
fn network_rule(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

/// A domain rule, lower case without a trailing dot; `None` when nothing is left.
fn domain_rule(text: &str) -> Option<String> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// A country rule: two letters, upper case.
fn country_rule(text: &str) -> Option<String> {
    let country = text.trim().to_ascii_uppercase();
    (country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())).then_some(country)
}

/// Every rule of `texts` through `rule`, or the first that does not parse as an error.
fn compile<T>(texts: &[String], rule: fn(&str) -> Option<T>) -> Result<Vec<T>, MonitorError> {
    texts.iter().map(|text| rule(text).ok_or_else(|| MonitorError::BlockRule(text.clone()))).collect()
}

impl BlockRules {
    /// These rules without the ones that cannot work, which come back apart (to be reported): for rules saved
    /// by an app, where one bad entry must not disable the others or keep the monitor from starting.
    pub fn split_invalid(&self) -> (BlockRules, Vec<String>) {
        let mut invalid = Vec::new();
        let mut keep = |texts: &[String], valid: fn(&str) -> bool| -> Vec<String> {
            let (good, bad): (Vec<String>, Vec<String>) = texts.iter().cloned().partition(|text| valid(text));
            invalid.extend(bad);
            good
        };
        let networks = keep(&self.networks, |text| network_rule(text).is_some());
        let domains = keep(&self.domains, |text| domain_rule(text).is_some());
        let countries = keep(&self.countries, |text| country_rule(text).is_some());
        (BlockRules { apps: self.apps.clone(), domains, countries, networks }, invalid)
    }
}

impl CompiledRules {
    pub(crate) fn new(rules: &BlockRules) -> Result<CompiledRules, MonitorError> {
        Ok(CompiledRules {
            apps: rules.apps.clone(),
            domains: compile(&rules.domains, domain_rule)?,
            countries: compile(&rules.countries, country_rule)?,
            networks: compile(&rules.networks, network_rule)?,
        })
    }

    /// Whether flows to `server` are refused; `name` (the server's DNS name) is asked only for domain rules.
    pub(crate) fn refuses_destination(&self, server: IpAddr, name: impl FnOnce() -> Option<Arc<str>>) -> bool {
        self.networks.iter().any(|net| net.contains(&server))
            || (!self.countries.is_empty()
                && phonehome_ipdb::lookup(server).country.is_some_and(|cc| self.countries.iter().any(|c| c == cc)))
            || (!self.domains.is_empty() && name().is_some_and(|name| self.domains.iter().any(|d| in_domain(&name, d))))
    }

    /// Whether the flows of app `uid` are refused.
    pub(crate) fn refuses_app(&self, uid: Option<u32>) -> bool {
        uid.is_some_and(|uid| self.apps.contains(&uid))
    }
}

/// `name` is `domain` or one of its subdomains; `domain` is lower case without a trailing dot.
fn in_domain(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.');
    let Some(cut) = name.len().checked_sub(domain.len()) else { return false };
    let (head, tail) = (name.get(..cut), name.get(cut..));
    tail.is_some_and(|tail| tail.eq_ignore_ascii_case(domain)) && head.is_some_and(|h| h.is_empty() || h.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(domains: &[&str], countries: &[&str], networks: &[&str], apps: &[u32]) -> CompiledRules {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let rules = BlockRules {
            apps: apps.to_vec(),
            domains: owned(domains),
            countries: owned(countries),
            networks: owned(networks),
        };
        CompiledRules::new(&rules).expect("valid rules")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn domains_match_the_name_and_its_subdomains_only() {
        assert!(in_domain("tracker.example", "tracker.example"));
        assert!(in_domain("A.Tracker.Example.", "tracker.example"));
        assert!(!in_domain("eviltracker.example", "tracker.example"));
        assert!(!in_domain("example", "tracker.example"));
        assert!(!in_domain("", "tracker.example"));
        assert!(!in_domain("ä.tracker.examplé", "tracker.example"), "non-ASCII never panics nor matches");
    }

    #[test]
    fn each_kind_of_rule_refuses_what_it_names() {
        let r = rules(&["Tracker.Example."], &["de"], &["192.0.2.0/24", "2001:db8::1"], &[10123]);
        let no_name = || None;
        assert!(r.refuses_app(Some(10123)), "blocked app");
        assert!(!r.refuses_app(Some(10124)), "another app");
        assert!(!r.refuses_app(None), "unknown owner");
        assert!(r.refuses_destination(ip("192.0.2.200"), no_name), "blocked network");
        assert!(r.refuses_destination(ip("2001:db8::1"), no_name), "a single address");
        assert!(!r.refuses_destination(ip("2001:db8::2"), no_name));
        assert!(r.refuses_destination(ip("198.51.100.7"), || Some(Arc::from("cdn.tracker.example"))), "blocked domain");
        assert!(!r.refuses_destination(ip("198.51.100.7"), || Some(Arc::from("tracker.example.org"))));
        assert!(!r.refuses_destination(ip("198.51.100.7"), no_name), "no name, no domain rule");
        let de = (0..=255u8)
            .map(|b| IpAddr::from([b, 1, 1, 1]))
            .find(|&a| phonehome_ipdb::lookup(a).country == Some("DE"))
            .expect("some x.1.1.1 is German");
        assert!(r.refuses_destination(de, no_name), "blocked country");
    }

    #[test]
    fn names_are_not_looked_up_without_domain_rules() {
        let r = rules(&[], &[], &["10.0.0.0/8"], &[]);
        assert!(!r.refuses_destination(ip("198.51.100.7"), || panic!("name asked for")));
    }

    proptest::proptest! {
        /// Any name and rule (non-ASCII, dots anywhere) is judged without a panic, and a name is in its own domain.
        #[test]
        fn domain_matching_never_panics(name in "\\PC{0,40}", domain in "[a-zé.]{0,12}") {
            let _ = in_domain(&name, &domain);
            let lower = name.trim_end_matches('.').to_ascii_lowercase();
            proptest::prop_assert!(in_domain(&name, &lower));
            let subdomain = format!("a.{lower}");
            proptest::prop_assert!(in_domain(&subdomain, &lower) || lower.is_empty());
        }
    }

    #[test]
    fn malformed_rules_are_rejected() {
        for bad in [
            BlockRules { networks: vec!["10.0.0.0/33".into()], ..BlockRules::default() },
            BlockRules { networks: vec!["example.com".into()], ..BlockRules::default() },
            BlockRules { countries: vec!["DEU".into()], ..BlockRules::default() },
            BlockRules { domains: vec![".".into()], ..BlockRules::default() },
        ] {
            assert!(matches!(CompiledRules::new(&bad), Err(MonitorError::BlockRule(_))), "{bad:?}");
            let (valid, invalid) = bad.split_invalid();
            assert!(valid.is_empty() && invalid.len() == 1, "{valid:?} {invalid:?}");
        }
        assert!(BlockRules::default().is_empty());
    }

    #[test]
    fn invalid_rules_are_set_apart_and_the_others_kept() {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let saved = BlockRules {
            apps: vec![10_123],
            domains: owned(&["Tracker.Example.", "."]),
            countries: owned(&["cn", "C1"]),
            networks: owned(&["192.0.2.0/24", "2001:db8::/129"]),
        };
        let (valid, invalid) = saved.split_invalid();
        assert_eq!(invalid, owned(&["2001:db8::/129", ".", "C1"]));
        assert_eq!(valid.domains, owned(&["Tracker.Example."]));
        let compiled = CompiledRules::new(&valid).expect("the rest compiles");
        assert_eq!((compiled.domains, compiled.countries), (owned(&["tracker.example"]), owned(&["CN"])));
        assert_eq!(compiled.apps, [10_123]);
    }
}
