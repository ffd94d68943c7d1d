//! phonehome-intel: what a destination is. Pure knowledge: given facts about a destination
//! (IP, its country and ASN as looked up elsewhere, host name) it returns owners and findings.
//! It knows nothing of packets, flows or platforms.
//!
//! Three jurisdictions are reported separately (the Xiaomi case: a Singapore server on a
//! Chinese-owned network for a Chinese-owned domain): the server's country (geolocation), the
//! network owner's home country (ASN → company) and the domain owner's home country
//! (eTLD+1 → company, else the company behind the host's tracker-table entry).
//!
//! Knowledge, most trusted first: the curated tables (each row with its source), then the
//! tracker tables (companiesdb files the user imported, then the bundled one), then imported
//! block lists. [`Intel::explain`] reports all of it for one destination, as `phonehome whois`
//! and the app's "why flagged" show it.

mod companies;
mod exempt;
mod exfil;
mod explain;
mod facts;
mod knowledge;
mod lists;
mod name;
mod owners;
mod state;
mod trackers;
mod verdict;

use std::net::IpAddr;

use serde::Serialize;

pub use companies::{CompanyHome, COMPANY_HOMES};
pub use exfil::dns_exfiltration;
pub use explain::{
    CuratedFact, DomainFacts, Explanation, ListFact, NetworkFacts, OwnerFact, StateBodyFact, TrackerFact,
};
pub use knowledge::{Known, KnownDomain, KNOWN_DOMAINS};
pub use lists::{
    read_list, HostMatches, ImportReport, ListCategory, ListError, ListHit, ListInfo, ListReadError, ListSet, ListText,
    SkipReason, SkippedLine, MAX_CIDRS, MAX_DOMAINS, MAX_LISTS, MAX_LIST_BYTES, MIN_IPV4_PREFIX, MIN_IPV6_PREFIX,
    REPORTED_SKIPS,
};
pub use owners::{AsnRow, InvalidCountry, Owner, Watchlist, ASN_OWNERS, DOMAIN_OWNERS, ORG_PATTERNS};
pub use state::{StateBody, STATE_BODIES};
pub use trackers::{bundled_trackers, TrackerCategory, TrackerEntry, TrackerTable, TRACKER_ATTRIBUTION};
pub use verdict::{AlertKind, Finding, Severity};

use companies::CompanyHomes;
use facts::{NameFacts, OwnerVia};
use knowledge::known_domains;
use name::NameBuf;
use name::SuffixIndex;
use owners::OwnerTables;
use state::state_bodies;

/// The data credits and versions, one per line, for `--version` and the app's about screen: the
/// embedded IP tables and tracker table with their dates, and the attributions their licences ask.
pub fn data_notice() -> String {
    let trackers = bundled_trackers();
    format!(
        "IP data of {} ({}, {})\n{}\nTracker data of {} ({} domains, {} trackers, {} companies)\n{}",
        phonehome_ipdb::DATA_DATE,
        phonehome_ipdb::COUNTRY_DATA_VERSION,
        phonehome_ipdb::ASN_DATA_VERSION,
        phonehome_ipdb::ATTRIBUTION,
        trackers.updated(),
        trackers.domain_count(),
        trackers.tracker_count(),
        trackers.company_count(),
        TRACKER_ATTRIBUTION
    )
}

/// What the user chose: the watched countries and the imported lists.
#[derive(Debug, Default)]
pub struct IntelConfig {
    /// Watched jurisdictions.
    pub watchlist: Watchlist,
    /// Imported tracker, malware, telemetry and custom lists.
    pub lists: ListSet,
}

/// The facts known about one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination<'a> {
    /// Server address.
    pub ip: IpAddr,
    /// Host name (SNI, HTTP Host, QUIC SNI or DNS name), if known.
    pub host: Option<&'a str>,
    /// Geolocated country of `ip` (ISO 3166-1 alpha-2).
    pub country: Option<&'a str>,
    /// Origin ASN of `ip`.
    pub asn: Option<u32>,
    /// Organisation name of the ASN as the IP tables spell it.
    pub as_org: Option<&'a str>,
}

/// What a destination is: its owners and the findings they and the lists raise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// The company owning the network (ASN) of the server.
    pub network_owner: Option<Owner>,
    /// The company owning the domain (eTLD+1) of the host name.
    pub domain_owner: Option<Owner>,
    /// Jurisdiction, reputation and list findings.
    pub findings: Vec<Finding>,
}

/// The owner tables and company homes, indexed once per process: the engine's [`Intel`] and readers of a
/// history (who own a network, a domain) share them, so reading needs no knowledge base of its own.
static OWNERS: std::sync::LazyLock<OwnerTables> = std::sync::LazyLock::new(OwnerTables::new);
static COMPANIES: std::sync::LazyLock<CompanyHomes> = std::sync::LazyLock::new(CompanyHomes::new);

/// The owner of a network: curated ASN table first, then organisation-name patterns.
pub fn network_owner(asn: Option<u32>, as_org: Option<&str>) -> Option<Owner> {
    OWNERS.network_owner(asn, as_org).map(|(owner, _)| owner)
}

/// The owner of a host's registrable domain: the curated table, else the company behind its bundled
/// tracker-table entry where that company's home is known (IP literals and unknown domains: `None`).
/// [`Intel`] answers the same, and also knows the user's imported companiesdb lists.
pub fn domain_owner(host: &str) -> Option<Owner> {
    let name = NameBuf::new(host)?;
    let name = name.as_str();
    OWNERS.domain_owner(name).map(|(_, owner)| owner).or_else(|| {
        let entry = bundled_trackers().lookup(name)?;
        COMPANIES.get(entry.company_id?).map(|home| home.owner)
    })
}

/// An owner as the records and the app show it.
impl From<Owner> for phonehome_model::Company {
    fn from(owner: Owner) -> Self {
        phonehome_model::Company { name: owner.company.to_owned(), country: owner.country.to_owned() }
    }
}

/// The knowledge base; build once, then [`Intel::assess`] each new flow.
pub struct Intel {
    watchlist: Watchlist,
    lists: ListSet,
    knowledge: SuffixIndex<KnownDomain>,
    state: SuffixIndex<StateBody>,
}

impl Intel {
    /// Indexes the built-in tables and takes the user's configuration.
    pub fn new(config: IntelConfig) -> Self {
        Self { watchlist: config.watchlist, lists: config.lists, knowledge: known_domains(), state: state_bodies() }
    }

    /// The watched countries.
    pub fn watchlist(&self) -> &Watchlist {
        &self.watchlist
    }

    /// The watched countries, for editing.
    pub fn watchlist_mut(&mut self) -> &mut Watchlist {
        &mut self.watchlist
    }

    /// The imported lists.
    pub fn lists(&self) -> &ListSet {
        &self.lists
    }

    /// The imported lists, for importing more.
    pub fn lists_mut(&mut self) -> &mut ListSet {
        &mut self.lists
    }

    /// Owners and findings for one destination: watched_country, watched_network,
    /// watched_domain_owner, vendor_telemetry, tracker, government_domain, malware.
    pub fn assess(&self, dest: &Destination<'_>) -> Assessment {
        let name = dest.host.and_then(NameBuf::new);
        let facts = name.as_ref().map(|n| self.name_facts(n.as_str()));
        self.assessment(Some(dest.ip), dest.country, dest.asn, dest.as_org, facts.as_ref())
    }

    /// The assessment of what is known: an address (with its country and network) and the facts
    /// of a host name, either of which may be missing.
    fn assessment(
        &self,
        ip: Option<IpAddr>,
        country: Option<&str>,
        asn: Option<u32>,
        as_org: Option<&str>,
        facts: Option<&NameFacts<'_>>,
    ) -> Assessment {
        let mut findings = Vec::new();
        if let (Some(ip), Some(country)) = (ip, country.filter(|c| self.watchlist.contains(c))) {
            let evidence = format!("server country {} (IP geolocation of {ip})", country.to_ascii_uppercase());
            findings.push(Finding::new(AlertKind::WatchedCountry, evidence, None));
        }
        let network_owner = network_owner(asn, as_org);
        if let Some(owner) = network_owner.filter(|o| self.watchlist.contains(o.country)) {
            let asn = asn.map(|n| format!("AS{n} ")).unwrap_or_default();
            let evidence =
                format!("network owner {} ({}): {asn}{}", owner.company, owner.country, as_org.unwrap_or(""));
            findings.push(Finding::new(AlertKind::WatchedNetwork, evidence.trim_end(), Some(owner.company.into())));
        }
        let domain_owner = facts.and_then(|f| f.owner.as_ref());
        if let Some(owned) = domain_owner.filter(|o| self.watchlist.contains(o.owner.country)) {
            let via = match owned.via {
                OwnerVia::Curated => String::new(),
                OwnerVia::Tracker { tracker, .. } => format!(" ({tracker} in the tracker table)"),
            };
            let evidence =
                format!("domain owner {} ({}): {}{via}", owned.owner.company, owned.owner.country, owned.domain);
            findings.push(Finding::new(AlertKind::WatchedDomainOwner, evidence, Some(owned.owner.company.into())));
        }
        if let Some(facts) = facts {
            facts.findings(&mut findings);
        }
        for (ip, list) in ip.into_iter().flat_map(|ip| self.lists.match_ip(ip).map(move |list| (ip, list))) {
            let evidence = format!("{ip} is in a network listed by {}", list.name);
            findings.push(Finding::new(list.category.alert_kind(), evidence, list.owner.clone()));
        }
        Assessment { network_owner, domain_owner: domain_owner.map(|o| o.owner), findings }
    }
}

#[cfg(test)]
mod test_corpus;
#[cfg(test)]
mod tests;
