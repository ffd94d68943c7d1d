//! What every table knows about one host name, looked up once and shared by [`Intel::assess`]
//! (which turns it into findings) and [`Intel::explain`] (which reports it whole).

use crate::exempt::exemption;
use crate::knowledge::{government_suffix, KnownDomain};
use crate::lists::{HostMatches, ListInfo};
use crate::owners::Owner;
use crate::state::StateBody;
use crate::trackers::{bundled_trackers, TrackerEntry};
use crate::verdict::{AlertKind, Finding};
use crate::{Intel, COMPANIES, OWNERS};

/// The facts of a normalised host name.
pub(crate) struct NameFacts<'a> {
    pub(crate) name: &'a str,
    /// The curated rule covering the name.
    pub(crate) known: Option<&'static KnownDomain>,
    /// The tracker-table entry covering the name (an imported companiesdb file's, else the bundled one's).
    pub(crate) tracker: Option<TrackerHit<'a>>,
    /// The state body whose domain covers the name.
    pub(crate) state_body: Option<&'static StateBody>,
    /// The government suffix the name falls under.
    pub(crate) government_suffix: Option<&'a str>,
    /// Who owns the name's domain, and how that is known.
    pub(crate) owner: Option<DomainOwner<'a>>,
    /// Imported block lists holding the name.
    pub(crate) lists: HostMatches<'a>,
}

/// A tracker-table entry covering a host.
pub(crate) struct TrackerHit<'a> {
    pub(crate) entry: TrackerEntry<'a>,
    /// The imported list the entry comes from; `None` for the bundled table.
    pub(crate) list: Option<&'a ListInfo>,
    /// Why the entry raises no alert although its category is a tracking one.
    pub(crate) exemption: Option<&'static str>,
}

impl TrackerHit<'_> {
    /// Whether a flow to the host raises an alert for this entry.
    pub(crate) fn alerts(&self) -> bool {
        self.entry.category.is_tracking() && self.exemption.is_none()
    }

    /// Which table the entry comes from, for evidence.
    pub(crate) fn table(&self) -> String {
        match self.list {
            Some(list) => format!("list {}", list.name),
            None => format!("AdGuard companiesdb of {}", bundled_trackers().updated()),
        }
    }
}

/// The owner of a host's domain.
pub(crate) struct DomainOwner<'a> {
    /// The domain the owner was found for (the curated eTLD+1 or the tracker-table entry).
    pub(crate) domain: &'a str,
    pub(crate) owner: Owner,
    pub(crate) via: OwnerVia<'a>,
}

/// How a domain's owner is known.
#[derive(Clone, Copy)]
pub(crate) enum OwnerVia<'a> {
    /// The curated domain-owner table.
    Curated,
    /// The company behind the tracker-table entry, with the source of its home country.
    Tracker { tracker: &'a str, source: &'static str },
}

impl Intel {
    /// Looks a normalised name up in every table.
    pub(crate) fn name_facts<'a>(&'a self, name: &'a str) -> NameFacts<'a> {
        let tracker = match self.lists.match_tracker(name) {
            Some((list, entry)) => Some((Some(list), entry)),
            None => bundled_trackers().lookup(name).map(|entry| (None, entry)),
        }
        .map(|(list, entry)| TrackerHit { exemption: exemption(entry.domain, entry.tracker_id), entry, list });
        let owner = match OWNERS.domain_owner(name) {
            Some((domain, owner)) => Some(DomainOwner { domain, owner, via: OwnerVia::Curated }),
            None => tracker.as_ref().and_then(|hit| {
                let home = COMPANIES.get(hit.entry.company_id?)?;
                let via = OwnerVia::Tracker { tracker: hit.entry.tracker, source: home.source };
                Some(DomainOwner { domain: hit.entry.domain, owner: home.owner, via })
            }),
        };
        NameFacts {
            name,
            known: self.knowledge.lookup(name),
            tracker,
            state_body: self.state.lookup(name),
            government_suffix: government_suffix(name),
            owner,
            lists: self.lists.match_host(name),
        }
    }
}

impl NameFacts<'_> {
    /// Reputation findings: the curated rule, else the tracker-table entry (the curated table wins
    /// where both know a host); the state body; the government suffix; the imported lists.
    pub(crate) fn findings(&self, findings: &mut Vec<Finding>) {
        let name = self.name;
        if let Some(known) = self.known {
            let evidence = format!(
                "{name}: {} of {} ({}; source {})",
                known.known.label(),
                known.company,
                known.domain,
                known.source
            );
            findings.push(Finding::new(known.known.alert_kind(), evidence, Some(known.company.into())));
        } else if let Some(hit) = self.tracker.as_ref().filter(|hit| hit.alerts()) {
            let entry = &hit.entry;
            let company = entry.company.map(|c| format!(" of {c}")).unwrap_or_default();
            let evidence = format!(
                "{name}: tracker {} ({}){company} ({}; {})",
                entry.tracker,
                entry.category.as_str(),
                entry.domain,
                hit.table()
            );
            let kind = hit.list.map_or(AlertKind::Tracker, |list| list.category.alert_kind());
            findings.push(Finding::new(kind, evidence, Some(entry.company.unwrap_or(entry.tracker).into())));
        }
        if let Some(body) = self.state_body {
            let evidence = format!("{name}: {}, {} ({}; source {})", body.body, body.what, body.country, body.source);
            findings.push(Finding::new(AlertKind::GovernmentDomain, evidence, Some(body.body.into())));
        }
        if let Some(suffix) = self.government_suffix {
            let evidence = format!("{name} is under the government suffix {suffix}");
            findings.push(Finding::new(AlertKind::GovernmentDomain, evidence, None));
        }
        for hit in self.lists.clone() {
            let evidence = format!("{name} is listed by {} ({})", hit.list.name, hit.domain);
            findings.push(Finding::new(hit.list.category.alert_kind(), evidence, hit.owner.map(str::to_owned)));
        }
    }
}
