//! phonehome-intel: what a destination is. Pure knowledge: given facts about a destination
//! (IP, its country and ASN as looked up elsewhere, host name) it returns owners and findings.
//! It knows nothing of packets, flows or platforms.
//!
//! Three jurisdictions are reported separately (the Xiaomi case: a Singapore server on a
//! Chinese-owned network for a Chinese-owned domain): the server's country (geolocation), the
//! network owner's home country (ASN → company) and the domain owner's home country
//! (eTLD+1 → company).

mod exfil;
mod knowledge;
mod lists;
mod name;
mod owners;
mod verdict;

use std::net::IpAddr;

use serde::Serialize;

pub use exfil::dns_exfiltration;
pub use knowledge::{Known, KnownDomain, KNOWN_DOMAINS};
pub use lists::{
    read_list, HostMatches, ImportReport, ListCategory, ListError, ListHit, ListInfo, ListReadError, ListSet, ListText,
    SkipReason, SkippedLine, MAX_CIDRS, MAX_DOMAINS, MAX_LISTS, MAX_LIST_BYTES, MIN_IPV4_PREFIX, MIN_IPV6_PREFIX,
    REPORTED_SKIPS,
};
pub use owners::{AsnRow, InvalidCountry, Owner, Watchlist, ASN_OWNERS, DOMAIN_OWNERS, ORG_PATTERNS};
pub use verdict::{AlertKind, Finding, Severity};

use knowledge::{government_suffix, KnowledgeTables};
use name::NameBuf;
use owners::OwnerTables;

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

/// The owner tables, indexed once per process: the engine's [`Intel`] and readers of a history (who own a
/// network, a domain) share them, so reading needs no knowledge base of its own.
static OWNERS: std::sync::LazyLock<OwnerTables> = std::sync::LazyLock::new(OwnerTables::new);

/// The owner of a network: curated ASN table first, then organisation-name patterns.
pub fn network_owner(asn: Option<u32>, as_org: Option<&str>) -> Option<Owner> {
    OWNERS.network_owner(asn, as_org)
}

/// The owner of a host's registrable domain (IP literals and unknown domains: `None`).
pub fn domain_owner(host: &str) -> Option<Owner> {
    let name = NameBuf::new(host)?;
    OWNERS.domain_owner(name.as_str()).map(|(_, owner)| owner)
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
    knowledge: KnowledgeTables,
}

impl Intel {
    /// Indexes the built-in tables and takes the user's configuration.
    pub fn new(config: IntelConfig) -> Self {
        Self { watchlist: config.watchlist, lists: config.lists, knowledge: KnowledgeTables::new() }
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
        let mut findings = Vec::new();
        if let Some(country) = dest.country.filter(|c| self.watchlist.contains(c)) {
            let evidence = format!("server country {} (IP geolocation of {})", country.to_ascii_uppercase(), dest.ip);
            findings.push(Finding::new(AlertKind::WatchedCountry, evidence, None));
        }
        let network_owner = network_owner(dest.asn, dest.as_org);
        if let Some(owner) = network_owner.filter(|o| self.watchlist.contains(o.country)) {
            let asn = dest.asn.map(|n| format!("AS{n} ")).unwrap_or_default();
            let evidence =
                format!("network owner {} ({}): {asn}{}", owner.company, owner.country, dest.as_org.unwrap_or(""));
            findings.push(Finding::new(AlertKind::WatchedNetwork, evidence.trim_end(), Some(owner.company.into())));
        }
        let name = dest.host.and_then(NameBuf::new);
        let name = name.as_ref().map(NameBuf::as_str);
        let owned_domain = name.and_then(|n| OWNERS.domain_owner(n));
        let domain_owner = owned_domain.map(|(_, owner)| owner);
        if let Some((domain, owner)) = owned_domain {
            if self.watchlist.contains(owner.country) {
                let evidence = format!("domain owner {} ({}): {domain}", owner.company, owner.country);
                findings.push(Finding::new(AlertKind::WatchedDomainOwner, evidence, Some(owner.company.into())));
            }
        }
        if let Some(name) = name {
            self.name_findings(name, &mut findings);
        }
        for list in self.lists.match_ip(dest.ip) {
            let evidence = format!("{} is in a network listed by {}", dest.ip, list.name);
            findings.push(Finding::new(list.category.alert_kind(), evidence, list.owner.clone()));
        }
        Assessment { network_owner, domain_owner, findings }
    }

    /// Reputation findings of a normalised host name: curated knowledge, government, lists.
    fn name_findings(&self, name: &str, findings: &mut Vec<Finding>) {
        if let Some(known) = self.knowledge.lookup(name) {
            let evidence = format!(
                "{name}: {} of {} ({}; source {})",
                known.known.label(),
                known.company,
                known.domain,
                known.source
            );
            findings.push(Finding::new(known.known.alert_kind(), evidence, Some(known.company.into())));
        }
        if let Some(suffix) = government_suffix(name) {
            let evidence = format!("{name} is under the government suffix {suffix}");
            findings.push(Finding::new(AlertKind::GovernmentDomain, evidence, None));
        }
        for hit in self.lists.match_host(name) {
            let evidence = format!("{name} is listed by {} ({})", hit.list.name, hit.domain);
            findings.push(Finding::new(hit.list.category.alert_kind(), evidence, hit.owner.map(str::to_owned)));
        }
    }
}

#[cfg(test)]
mod test_corpus;
#[cfg(test)]
mod tests;
