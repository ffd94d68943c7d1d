//! What phonehome knows about a destination without any traffic: `phonehome whois`, and the app's
//! "why flagged". One function, [`Intel::explain`], returns a typed [`Explanation`] (owned data,
//! serialisable as JSON) that the CLI prints and the FFI can hand over unchanged.

use std::net::IpAddr;

use serde::Serialize;

use crate::facts::{NameFacts, OwnerVia};
use crate::lists::ListCategory;
use crate::name::NameBuf;
use crate::owners::NetworkOwnerSource;
use crate::trackers::TrackerCategory;
use crate::verdict::Finding;
use crate::{Intel, OWNERS};

/// Everything phonehome knows about a host, an address, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The host name, normalised (lowercase, no trailing dot), if one was given.
    pub host: Option<String>,
    /// The address, if one was given.
    pub ip: Option<IpAddr>,
    /// What the embedded IP tables and the curated ASN table say about the address.
    pub network: Option<NetworkFacts>,
    /// What the domain tables say about the host.
    pub domain: Option<DomainFacts>,
    /// The watched countries the findings were judged against.
    pub watchlist: Vec<String>,
    /// The alerts a connection there would raise now (a DNS lookup alone caps them at low).
    pub findings: Vec<Finding>,
}

/// The address's location and network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkFacts {
    /// Server location (IP geolocation, ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The network announcing the address.
    pub asn: Option<u32>,
    /// The network's organisation as the IP tables name it.
    pub as_org: Option<String>,
    /// The company owning the network and its home country.
    pub owner: Option<OwnerFact>,
    /// Imported lists holding a network that contains the address.
    pub lists: Vec<ListFact>,
}

/// A company, its home country and how phonehome knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerFact {
    /// The company.
    pub company: String,
    /// Its home country (ISO 3166-1 alpha-2).
    pub country: String,
    /// Which table says so, and its source.
    pub source: String,
}

/// What the domain tables say about a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainFacts {
    /// The registrable domain (eTLD+1, by the public suffix list).
    pub registrable_domain: Option<String>,
    /// The company owning the domain and its home country.
    pub owner: Option<OwnerFact>,
    /// The curated rule covering the host.
    pub curated: Option<CuratedFact>,
    /// The state body whose domain covers the host.
    pub state_body: Option<StateBodyFact>,
    /// The government suffix the host falls under.
    pub government_suffix: Option<String>,
    /// The tracker-table entry covering the host.
    pub tracker: Option<TrackerFact>,
    /// Imported lists holding the host.
    pub lists: Vec<ListFact>,
}

/// A curated rule: vendor telemetry, SDK, carrier registration...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CuratedFact {
    /// The rule's domain (the host or a parent).
    pub domain: String,
    /// What the host is known for.
    pub what: String,
    /// The company running it.
    pub company: String,
    /// The study, report or documentation that says so.
    pub source: String,
}

/// A state body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateBodyFact {
    /// The body's domain (the host or a parent).
    pub domain: String,
    /// The body.
    pub body: String,
    /// What it is.
    pub what: String,
    /// Its country.
    pub country: String,
    /// Where that can be checked.
    pub source: String,
}

/// A tracker-table entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackerFact {
    /// The listed domain (the host or a parent).
    pub domain: String,
    /// The tracker.
    pub tracker: String,
    /// companiesdb's id of the tracker.
    pub tracker_id: String,
    /// Its category.
    pub category: TrackerCategory,
    /// The company behind it.
    pub company: Option<String>,
    /// The table: the bundled companiesdb and its date, or the imported list.
    pub table: String,
    /// Whether a flow there raises `tracker` (tracking categories, unless exempt or curated).
    pub alerts: bool,
    /// Why a tracking entry raises nothing: a reviewed general-purpose service.
    pub exemption: Option<String>,
}

/// A hit in an imported list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListFact {
    /// The list's name.
    pub list: String,
    /// Its category (which alert it raises).
    pub category: ListCategory,
    /// What matched: the listed domain, or the address for network lists.
    pub entry: String,
    /// The company the list names, if any.
    pub owner: Option<String>,
}

impl Intel {
    /// What is known about a host and/or an address, looked up in the embedded IP tables and every
    /// domain table, and the alerts a connection there would raise at the current watchlist. A host
    /// that is not a DNS name (or an IP literal) is treated as absent. Nothing is sent anywhere.
    pub fn explain(&self, host: Option<&str>, ip: Option<IpAddr>) -> Explanation {
        let name = host.and_then(NameBuf::new);
        let facts = name.as_ref().map(|n| self.name_facts(n.as_str()));
        let info = ip.map(phonehome_ipdb::lookup).unwrap_or_default();
        let assessment = self.assessment(ip, info.country, info.asn, info.as_org, facts.as_ref());
        let network = ip.map(|ip| NetworkFacts {
            country: info.country.map(str::to_owned),
            asn: info.asn,
            as_org: info.as_org.map(str::to_owned),
            owner: OWNERS.network_owner(info.asn, info.as_org).map(|(owner, source)| OwnerFact {
                company: owner.company.into(),
                country: owner.country.into(),
                source: match source {
                    NetworkOwnerSource::Asn(url) => format!("curated ASN table ({url})"),
                    NetworkOwnerSource::OrgName(pattern) => format!("organisation name matches {pattern:?}"),
                },
            }),
            lists: self
                .lists
                .match_ip(ip)
                .map(|list| ListFact {
                    list: list.name.clone(),
                    category: list.category,
                    entry: ip.to_string(),
                    owner: list.owner.clone(),
                })
                .collect(),
        });
        Explanation {
            host: facts.as_ref().map(|f| f.name.to_owned()),
            ip,
            network,
            domain: facts.as_ref().map(domain_facts),
            watchlist: self.watchlist.countries().map(str::to_owned).collect(),
            findings: assessment.findings,
        }
    }
}

fn domain_facts(facts: &NameFacts<'_>) -> DomainFacts {
    DomainFacts {
        registrable_domain: psl::domain_str(facts.name).map(str::to_owned),
        owner: facts.owner.as_ref().map(|owned| OwnerFact {
            company: owned.owner.company.into(),
            country: owned.owner.country.into(),
            source: match owned.via {
                OwnerVia::Curated => format!("curated domain-owner table ({})", owned.domain),
                OwnerVia::Tracker { tracker, source } => {
                    format!("tracker-table entry {} ({tracker}); home country: {source}", owned.domain)
                }
            },
        }),
        curated: facts.known.map(|k| CuratedFact {
            domain: k.domain.into(),
            what: k.known.label().into(),
            company: k.company.into(),
            source: k.source.into(),
        }),
        state_body: facts.state_body.map(|b| StateBodyFact {
            domain: b.domain.into(),
            body: b.body.into(),
            what: b.what.into(),
            country: b.country.into(),
            source: b.source.into(),
        }),
        government_suffix: facts.government_suffix.map(str::to_owned),
        tracker: facts.tracker.as_ref().map(|hit| TrackerFact {
            domain: hit.entry.domain.into(),
            tracker: hit.entry.tracker.into(),
            tracker_id: hit.entry.tracker_id.into(),
            category: hit.entry.category,
            company: hit.entry.company.map(str::to_owned),
            table: hit.table(),
            alerts: hit.alerts() && facts.known.is_none(),
            exemption: hit.exemption.map(str::to_owned),
        }),
        lists: facts
            .lists
            .clone()
            .map(|hit| ListFact {
                list: hit.list.name.clone(),
                category: hit.list.category,
                entry: hit.domain.into(),
                owner: hit.owner.map(str::to_owned),
            })
            .collect(),
    }
}
