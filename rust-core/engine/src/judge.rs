//! Verdicts: what each finished flow means. Looks the destination up (IP tables, domain knowledge, lists,
//! watchlist), searches what the phone sent in cleartext for identifiers, and judges behaviour. Every
//! finding becomes an alert with its evidence; the worst one sets the flow's severity.

use std::collections::HashSet;
use std::net::IpAddr;

use phonehome_intel::{AlertKind, Destination, Finding, Intel, Severity};
use phonehome_leak::{DetectorConfig, Identifiers, LeakDetector};

use phonehome_model::Timestamp;

use phonehome_model::L7;

/// Distinct (app, destination) pairs remembered in memory for first-contact alerts; past it the set starts over.
const MAX_REMEMBERED_DESTINATIONS: usize = 100_000;

/// Remembers which destinations each app has contacted: in memory for one run, or in a store across restarts.
pub trait DestinationMemory: Send {
    /// Whether `app` (with its uid when known; for captures, the client address) never contacted `destination`
    /// before; remembers it from now on.
    fn first_contact(&mut self, uid: Option<u32>, app: &str, destination: &str, ts: Timestamp) -> bool;
}

/// First contacts of one run.
#[derive(Default)]
pub struct RunMemory(HashSet<(Option<u32>, String, String)>);

impl DestinationMemory for RunMemory {
    fn first_contact(&mut self, uid: Option<u32>, app: &str, destination: &str, _ts: Timestamp) -> bool {
        if self.0.len() >= MAX_REMEMBERED_DESTINATIONS {
            self.0.clear();
        }
        self.0.insert((uid, app.to_owned(), destination.to_owned()))
    }
}

/// How flows are judged; built once per engine.
pub struct Judge {
    intel: Intel,
    /// Declared identifiers (possibly none) and identifier-shaped patterns.
    leaks: LeakDetector,
    /// `Some` when first contacts with a destination raise `new_destination` alerts.
    destinations: Option<Box<dyn DestinationMemory>>,
}

impl Default for Judge {
    /// Built-in knowledge, default watchlist, no declared identifier (patterns are still found).
    fn default() -> Self {
        let leaks = LeakDetector::new(&Identifiers::new(), &DetectorConfig::default())
            .unwrap_or_else(|e| unreachable!("an empty identifier set always builds: {e}"));
        Judge::new(Intel::new(phonehome_intel::IntelConfig::default()), leaks, false)
    }
}

/// A finding with what the alert record needs beyond the intel crate's finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub finding: Finding,
    pub identifier: Option<String>,
    pub encoding: Option<String>,
}

impl From<Finding> for Verdict {
    fn from(finding: Finding) -> Self {
        Verdict { finding, identifier: None, encoding: None }
    }
}

/// What is known of a finished flow when it is judged.
pub struct FlowFacts<'a> {
    pub server: IpAddr,
    pub server_port: u16,
    pub l7: Option<L7>,
    pub host: Option<&'a str>,
    /// The flow's own name for its server came from its handshake (SNI), not from DNS.
    pub named_by_handshake: bool,
    pub http_method: Option<&'a str>,
    /// Who the flow belongs to, for first-contact alerts: the app (name, else `uid N`), else the client address.
    pub party: String,
    pub uid: Option<u32>,
    pub ts: Timestamp,
}

/// Destination facts from the embedded IP tables.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpFacts {
    pub country: Option<&'static str>,
    pub asn: Option<u32>,
    pub as_org: Option<&'static str>,
}

/// What the user configures for judging: every front end builds its judge from these.
#[derive(Clone, Debug, Default)]
pub struct JudgeSettings {
    /// Watched countries (ISO 3166 alpha-2).
    pub watchlist: Vec<String>,
    /// Identifiers to search for, in the TOML of `phonehome analyze --ids`.
    pub identifiers_toml: Option<String>,
    /// Client bytes searched per flow direction.
    pub scan_bytes: usize,
    pub alert_new_destinations: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("invalid identifiers: {0}")]
    Identifiers(#[from] phonehome_leak::LeakError),
    #[error("{0:?} is not an ISO 3166 alpha-2 country code")]
    Country(String),
}

impl Judge {
    /// The judge for a user's settings and imported lists.
    pub fn from_settings(settings: &JudgeSettings, lists: phonehome_intel::ListSet) -> Result<Judge, JudgeError> {
        let mut watchlist = phonehome_intel::Watchlist::empty();
        for code in &settings.watchlist {
            watchlist.insert(code).map_err(|_| JudgeError::Country(code.clone()))?;
        }
        let identifiers = match &settings.identifiers_toml {
            Some(text) => Identifiers::from_toml(text)?,
            None => Identifiers::new(),
        };
        let config = DetectorConfig { max_scan_bytes: settings.scan_bytes, ..DetectorConfig::default() };
        let leaks = LeakDetector::new(&identifiers, &config)?;
        let intel = Intel::new(phonehome_intel::IntelConfig { watchlist, lists });
        Ok(Judge::new(intel, leaks, settings.alert_new_destinations))
    }

    pub fn new(intel: Intel, leaks: LeakDetector, alert_new_destinations: bool) -> Self {
        let destinations = alert_new_destinations.then(|| Box::new(RunMemory::default()) as Box<dyn DestinationMemory>);
        Judge { intel, leaks, destinations }
    }

    /// First contacts are remembered in `memory` (e.g. a store, so they survive restarts), if they raise alerts.
    pub fn remember_destinations_in(&mut self, memory: Box<dyn DestinationMemory>) {
        if self.destinations.is_some() {
            self.destinations = Some(memory);
        }
    }

    pub fn ip_facts(ip: IpAddr) -> IpFacts {
        let info = phonehome_ipdb::lookup(ip);
        IpFacts { country: info.country, asn: info.asn, as_org: info.as_org }
    }

    /// Destination and behaviour findings of a flow.
    pub fn judge_flow(&mut self, facts: &FlowFacts<'_>, ip: &IpFacts) -> Vec<Verdict> {
        let destination =
            Destination { ip: facts.server, host: facts.host, country: ip.country, asn: ip.asn, as_org: ip.as_org };
        let mut findings = self.intel.assess(&destination).findings;
        if facts.l7 == Some(L7::Dns) {
            // The flow is a lookup: what the name is says little until something is sent to it.
            findings = findings.into_iter().map(Finding::for_dns_lookup_only).collect();
            // Multicast name resolution (mDNS, LLMNR) stays on the local link: nothing leaves by it.
            if !facts.server.is_multicast() {
                findings.extend(facts.host.and_then(phonehome_intel::dns_exfiltration));
            }
        }
        if let (Some(L7::Http | L7::Http2), Some(method)) = (facts.l7, facts.http_method) {
            // No path: paths and query strings may carry identifiers, and evidence never repeats them whole
            // (the flow record keeps the path for whoever exports it).
            let evidence = format!("cleartext HTTP {method} request to {}", facts.host.unwrap_or("its server"));
            findings.push(Finding::new(AlertKind::CleartextHttp, evidence, None));
        }
        if facts.l7 == Some(L7::Tls) && !facts.named_by_handshake {
            let evidence = format!("TLS ClientHello without server name to {}:{}", facts.server, facts.server_port);
            findings.push(Finding::new(AlertKind::TlsWithoutSni, evidence, None));
        }
        if let Some(memory) = &mut self.destinations {
            let destination = facts.host.map_or_else(|| facts.server.to_string(), str::to_ascii_lowercase);
            if memory.first_contact(facts.uid, &facts.party, &destination, facts.ts) {
                let evidence = format!("first contact of {} with {destination}", facts.party);
                findings.push(Finding::new(AlertKind::NewDestination, evidence, None));
            }
        }
        findings.into_iter().map(Verdict::from).collect()
    }

    /// Identifier findings in bytes the phone sent in cleartext. A value that is a declared identifier is
    /// reported as a leak only, not again as an identifier-shaped pattern.
    pub fn search_payload(&self, payload: &[u8], verdicts: &mut Vec<Verdict>) {
        let leaks = self.leaks.scan(payload);
        let declared =
            |offset: usize, len: usize| leaks.iter().any(|l| offset < l.offset + l.len && l.offset < offset + len);
        for pattern in self.leaks.scan_patterns(payload) {
            if declared(pattern.offset, pattern.len) {
                continue;
            }
            let key = pattern.key.as_deref().map(|k| format!(" after key `{k}`")).unwrap_or_default();
            let evidence = format!("{}-shaped value{key}: {}", pattern.kind.as_str(), pattern.evidence);
            let mut finding = Finding::new(AlertKind::IdentifierPattern, evidence, None);
            if !pattern.key_hint {
                finding.severity = Severity::Low; // a shape alone, with nothing naming it
            }
            push_unique(
                verdicts,
                Verdict { finding, identifier: Some(pattern.kind.as_str().to_owned()), encoding: None },
            );
        }
        for leak in leaks {
            let key = leak.key.as_deref().map(|k| format!(" after key `{k}`")).unwrap_or_default();
            let evidence = format!("{} sent {}{key}: {}", leak.label, leak.encoding.as_str(), leak.evidence);
            let finding = Finding::new(AlertKind::IdentifierLeak, evidence, None);
            let encoding = Some(leak.encoding.as_str().to_owned());
            push_unique(verdicts, Verdict { finding, identifier: Some(leak.label), encoding });
        }
    }
}

/// One alert per identifier and encoding per flow, however often it was sent.
fn push_unique(verdicts: &mut Vec<Verdict>, verdict: Verdict) {
    let duplicate = verdicts.iter().any(|v| {
        v.finding.kind == verdict.finding.kind && v.identifier == verdict.identifier && v.encoding == verdict.encoding
    });
    if !duplicate {
        verdicts.push(verdict);
    }
}

/// `text` cut to `max_chars` characters, with an ellipsis when cut (evidence stays readable in one line).
pub fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
