//! User lists: import of hosts, plain-domain, `*.wildcard`, adblock `||domain^`, CIDR and
//! AdGuard companiesdb files, and matching of hosts and addresses against all of them at once.
//! A companiesdb file becomes a tracker table like the bundled one (see [`crate::trackers`]), so
//! its entries keep their tracker, category and company and take precedence over the bundled ones.
//!
//! Matching semantics: a hosts-file entry matches that exact name (hosts-file semantics); a
//! plain domain, a `*.domain` wildcard and an adblock `||domain^` rule match the domain and all
//! its subdomains (the wildcard includes the domain itself, as the DNS-filter lists that use
//! this syntax intend). Names without a dot are rejected: they would cover a whole TLD.

use std::hash::BuildHasher;
use std::net::IpAddr;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::name::NameBuf;
use crate::trackers::{self, bundled_trackers, TrackerEntry, TrackerTable};
use crate::verdict::AlertKind;

mod read;
pub use read::{read_list, ListReadError, ListText, MAX_LIST_BYTES};

/// Most lists one [`ListSet`] holds (list membership is a bit mask).
pub const MAX_LISTS: usize = 32;
/// Most distinct domains one [`ListSet`] holds (bounds memory to a few hundred MB at worst).
pub const MAX_DOMAINS: usize = 4_000_000;
/// Most CIDR entries one [`ListSet`] holds.
pub const MAX_CIDRS: usize = 1_000_000;
/// Shortest IPv4 prefix a list may hold: a broader network (`0.0.0.0/0`) would flag every flow.
pub const MIN_IPV4_PREFIX: u8 = 8;
/// Shortest IPv6 prefix a list may hold (`::/0` would flag every flow; regional registries hold /12s).
pub const MIN_IPV6_PREFIX: u8 = 16;
/// How many skipped lines an [`ImportReport`] keeps verbatim.
pub const REPORTED_SKIPS: usize = 10;
/// Longest skipped-line excerpt kept in a report.
const EXCERPT_CHARS: usize = 80;
/// Adblock options that do not narrow a domain rule for a network monitor.
const HARMLESS_OPTIONS: &[&str] = &["important", "third-party", "3p", "all", "document", "doc"];
/// Names that every stock hosts file maps and that are not destinations.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
];

/// What a list is about; decides the alert kind of its matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListCategory {
    /// Advertising, analytics, tracking.
    Tracker,
    /// Malware, phishing, command and control.
    Malware,
    /// Vendor telemetry.
    Telemetry,
    /// The user's own list (reported as `tracker`).
    Custom,
}

impl ListCategory {
    /// The alert kind a match on a list of this category raises.
    pub fn alert_kind(self) -> AlertKind {
        match self {
            Self::Tracker | Self::Custom => AlertKind::Tracker,
            Self::Malware => AlertKind::Malware,
            Self::Telemetry => AlertKind::VendorTelemetry,
        }
    }
}

/// A list's name, category and optional owning company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    /// Display name (e.g. "HaGeZi Light").
    pub name: String,
    /// What the list is about.
    pub category: ListCategory,
    /// The company behind every entry, if the whole list is about one company.
    pub owner: Option<String>,
}

impl ListInfo {
    /// A list without an owner.
    pub fn new(name: impl Into<String>, category: ListCategory) -> Self {
        Self { name: name.into(), category, owner: None }
    }
}

/// Why a line was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Adblock exception `@@...`.
    Exception,
    /// Adblock cosmetic rule (`##`, `#@#`, `#?#`, ...).
    Cosmetic,
    /// Adblock regular expression `/.../`.
    Regex,
    /// Adblock rule made of options only (`$...`).
    OptionOnly,
    /// Adblock domain rule with options that narrow it (e.g. `$domain=`, `$script`).
    UnsupportedOptions,
    /// Adblock rule on URLs or paths rather than a domain.
    UrlRule,
    /// Not a valid domain name.
    InvalidDomain,
    /// Malformed address or CIDR.
    InvalidAddress,
    /// A network broader than [`MIN_IPV4_PREFIX`] / [`MIN_IPV6_PREFIX`].
    NetworkTooBroad,
    /// A loopback or local name of a stock hosts file.
    LocalName,
    /// No known syntax.
    Unrecognised,
}

/// One skipped line: 1-based line number (0 for JSON entries), reason and an excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedLine {
    /// 1-based line number; 0 for entries of a JSON file.
    pub line: usize,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// The start of the line.
    pub excerpt: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Domain rules imported (duplicates within the list included).
    pub domains: usize,
    /// CIDR (or single address) entries imported.
    pub cidrs: usize,
    /// Lines or entries skipped.
    pub skipped: usize,
    /// The first [`REPORTED_SKIPS`] skipped lines.
    pub first_skipped: Vec<SkippedLine>,
}

impl ImportReport {
    pub(crate) fn skip(&mut self, line: usize, reason: SkipReason, text: &str) {
        self.skipped += 1;
        if self.first_skipped.len() < REPORTED_SKIPS {
            let excerpt = text.chars().take(EXCERPT_CHARS).collect();
            self.first_skipped.push(SkippedLine { line, reason, excerpt });
        }
    }
}

/// Why an import failed as a whole (malformed lines are skipped, never errors).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The set already holds [`MAX_LISTS`] lists.
    #[error("at most {MAX_LISTS} lists can be loaded")]
    TooManyLists,
    /// The set would exceed [`MAX_DOMAINS`] domains or [`MAX_CIDRS`] CIDRs.
    #[error("list too large: more than {0} entries")]
    TooManyEntries(usize),
    /// The AdGuard companiesdb JSON did not parse.
    #[error("invalid companiesdb JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One list hit of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListHit<'a> {
    /// The list that matched.
    pub list: &'a ListInfo,
    /// The listed domain that matched (the host or one of its parents).
    pub domain: &'a str,
    /// The owning company the list names, if any.
    pub owner: Option<&'a str>,
}

/// A distinct listed domain and which lists hold it, exactly or with subdomains.
#[derive(Debug, Clone, Copy)]
struct DomainEntry {
    start: u32,
    len: u8,
    exact_lists: u32,
    subtree_lists: u32,
}

/// A parsed rule of a text list.
#[allow(clippy::large_enum_variant)] // lives one line on the stack; boxing would allocate per line
enum Rule {
    Domain { name: NameBuf, subtree: bool },
    Cidr(IpNet),
}

/// Every imported list, matched together: one hash probe per label suffix of a host (no
/// allocation), one binary search per address.
#[derive(Debug, Default)]
pub struct ListSet {
    lists: Vec<ListInfo>,
    /// All listed names, concatenated (one allocation instead of one per name).
    arena: String,
    entries: Vec<DomainEntry>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Imported companiesdb files, as tracker tables, with their list.
    companiesdb: Vec<(u8, TrackerTable)>,
    /// Inclusive ranges in IPv6 space (IPv4 as mapped addresses) with their list.
    cidrs: Vec<(u128, u128, u8)>,
    /// Elementary intervals: from each start up to the next, the mask of lists covering it.
    intervals: Vec<(u128, u32)>,
}

fn key_of<'a>(arena: &'a str, entry: &DomainEntry) -> &'a str {
    let start = entry.start as usize;
    arena.get(start..start.saturating_add(usize::from(entry.len))).unwrap_or("")
}

fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl ListSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The imported lists, in import order.
    pub fn lists(&self) -> &[ListInfo] {
        &self.lists
    }

    /// Distinct domains of the text lists (an imported companiesdb file reports its own count).
    pub fn domain_count(&self) -> usize {
        self.entries.len()
    }

    /// CIDR entries.
    pub fn cidr_count(&self) -> usize {
        self.cidrs.len()
    }

    /// Imports a list in any supported format: AdGuard companiesdb JSON is told from text lists by its
    /// first character (`{`), which no text list syntax starts with.
    pub fn import(&mut self, info: ListInfo, text: &str) -> Result<ImportReport, ListError> {
        let body = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        if body.starts_with('{') {
            self.import_adguard(info, body, None)
        } else {
            self.import_text(info, text)
        }
    }

    /// Imports a text list; the syntax is recognised per line (hosts, plain domains,
    /// `*.domain`, adblock `||domain^`, CIDR or single addresses, `#`/`!` comments).
    /// On error the entries read so far stay in the set.
    pub fn import_text(&mut self, info: ListInfo, text: &str) -> Result<ImportReport, ListError> {
        let list = self.add_list(info)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut report = ImportReport::default();
        let mut failure = None;
        for (number, line) in text.lines().enumerate() {
            parse_line(line, &mut |parsed| {
                let added = match parsed {
                    Ok(Rule::Domain { name, subtree }) => {
                        report.domains += 1;
                        self.add_domain(name.as_str(), list, subtree)
                    }
                    Ok(Rule::Cidr(net)) => {
                        report.cidrs += 1;
                        self.add_cidr(net, list)
                    }
                    Err(reason) => {
                        report.skip(number + 1, reason, line);
                        Ok(())
                    }
                };
                if let Err(e) = added {
                    failure.get_or_insert(e);
                }
            });
            if let Some(e) = failure {
                self.rebuild_intervals();
                return Err(e);
            }
        }
        if report.cidrs > 0 {
            self.rebuild_intervals();
        }
        self.shrink();
        Ok(report)
    }

    /// Imports AdGuard companiesdb `trackers.json` (its `trackerDomains`, trackers, categories and
    /// companies) as a tracker table; company names come from `companies.json` when given, else
    /// from the bundled table. Its entries are found by [`ListSet::match_tracker`], not by
    /// [`ListSet::match_host`].
    pub fn import_adguard(
        &mut self,
        info: ListInfo,
        trackers_json: &str,
        companies_json: Option<&str>,
    ) -> Result<ImportReport, ListError> {
        let mut report = ImportReport::default();
        let table = trackers::build(trackers_json, companies_json, Some(bundled_trackers()), &mut report)?;
        let list = self.add_list(info)?;
        self.companiesdb.push((list, table));
        Ok(report)
    }

    /// Every list that matches `host` (the name or a parent domain), at most once per list,
    /// most specific domain first. Hosts that are not DNS names match nothing.
    pub fn match_host<'a>(&'a self, host: &str) -> HostMatches<'a> {
        let name = NameBuf::new(host);
        HostMatches { set: self, next: name.as_ref().map(|_| 0), name, current: None, pending: 0, seen: 0 }
    }

    /// The entry of the latest imported companiesdb file that covers `host` (the name or its most
    /// specific listed parent), with its list.
    pub fn match_tracker(&self, host: &str) -> Option<(&ListInfo, TrackerEntry<'_>)> {
        let name = NameBuf::new(host)?;
        self.companiesdb.iter().rev().find_map(|(list, table)| {
            let entry = table.lookup(name.as_str())?;
            Some((self.lists.get(usize::from(*list))?, entry))
        })
    }

    /// Every list whose CIDRs contain `ip`.
    pub fn match_ip(&self, ip: IpAddr) -> impl Iterator<Item = &ListInfo> {
        let key = ip_key(ip);
        let after = self.intervals.partition_point(|(start, _)| *start <= key);
        let mask = after.checked_sub(1).and_then(|i| self.intervals.get(i)).map_or(0, |(_, m)| *m);
        self.lists.iter().enumerate().filter(move |(i, _)| mask & (1 << i) != 0).map(|(_, l)| l)
    }

    fn add_list(&mut self, info: ListInfo) -> Result<u8, ListError> {
        let id = u8::try_from(self.lists.len()).ok().filter(|&id| usize::from(id) < MAX_LISTS);
        let id = id.ok_or(ListError::TooManyLists)?;
        self.lists.push(info);
        Ok(id)
    }

    fn add_cidr(&mut self, net: IpNet, list: u8) -> Result<(), ListError> {
        if self.cidrs.len() >= MAX_CIDRS {
            return Err(ListError::TooManyEntries(MAX_CIDRS));
        }
        self.cidrs.push((ip_key(net.network()), ip_key(net.broadcast()), list));
        Ok(())
    }

    /// Returns the growth slack of the tables (lists are loaded once, matched for long).
    fn shrink(&mut self) {
        let Self { arena, entries, index, hasher, .. } = self;
        arena.shrink_to_fit();
        entries.shrink_to_fit();
        index.shrink_to_fit(|&i| entries.get(i as usize).map_or(0, |e| hasher.hash_one(key_of(arena, e))));
        self.cidrs.shrink_to_fit();
        self.intervals.shrink_to_fit();
    }

    /// Records `name` (already normalised) as held by `list`.
    fn add_domain(&mut self, name: &str, list: u8, subtree: bool) -> Result<(), ListError> {
        let hash = self.hasher.hash_one(name);
        let Self { arena, entries, index, hasher, .. } = self;
        let slot = match index.entry(
            hash,
            |&i| entries.get(i as usize).is_some_and(|e| key_of(arena, e) == name),
            |&i| entries.get(i as usize).map_or(0, |e| hasher.hash_one(key_of(arena, e))),
        ) {
            Entry::Occupied(found) => *found.get() as usize,
            Entry::Vacant(vacant) => {
                let (Ok(start), Ok(len), true) =
                    (u32::try_from(arena.len()), u8::try_from(name.len()), entries.len() < MAX_DOMAINS)
                else {
                    return Err(ListError::TooManyEntries(MAX_DOMAINS));
                };
                arena.push_str(name);
                let id = entries.len();
                entries.push(DomainEntry { start, len, exact_lists: 0, subtree_lists: 0 });
                vacant.insert(id as u32);
                id
            }
        };
        if let Some(entry) = entries.get_mut(slot) {
            let bit = 1u32 << list;
            if subtree {
                entry.subtree_lists |= bit;
            } else {
                entry.exact_lists |= bit;
            }
        }
        Ok(())
    }

    fn find(&self, name: &str) -> Option<&DomainEntry> {
        let hash = self.hasher.hash_one(name);
        let id =
            self.index.find(hash, |&i| self.entries.get(i as usize).is_some_and(|e| key_of(&self.arena, e) == name))?;
        self.entries.get(*id as usize)
    }

    /// Recomputes the elementary intervals from all CIDRs (a sweep over range boundaries).
    fn rebuild_intervals(&mut self) {
        let mut events: Vec<(u128, u8, bool)> = Vec::with_capacity(self.cidrs.len() * 2);
        for &(start, end, list) in &self.cidrs {
            events.push((start, list, true));
            if let Some(after) = end.checked_add(1) {
                events.push((after, list, false));
            }
        }
        events.sort_unstable();
        let mut cover = [0u32; MAX_LISTS];
        let mut last_mask = 0u32;
        self.intervals.clear();
        let mut rest = events.as_slice();
        while let Some(&(position, _, _)) = rest.first() {
            let same = rest.iter().take_while(|(p, _, _)| *p == position).count();
            let (group, tail) = rest.split_at(same);
            for &(_, list, opens) in group {
                if let Some(count) = cover.get_mut(usize::from(list)) {
                    *count = if opens { count.saturating_add(1) } else { count.saturating_sub(1) };
                }
            }
            let mask = cover.iter().enumerate().fold(0u32, |m, (i, &c)| if c > 0 { m | 1 << i } else { m });
            if mask != last_mask {
                self.intervals.push((position, mask));
                last_mask = mask;
            }
            rest = tail;
        }
    }
}

/// Iterator over the list hits of one host (see [`ListSet::match_host`]).
#[derive(Clone)]
pub struct HostMatches<'a> {
    set: &'a ListSet,
    name: Option<NameBuf>,
    /// Byte offset of the next suffix to probe.
    next: Option<usize>,
    current: Option<&'a DomainEntry>,
    pending: u32,
    seen: u32,
}

impl<'a> Iterator for HostMatches<'a> {
    type Item = ListHit<'a>;

    fn next(&mut self) -> Option<ListHit<'a>> {
        loop {
            if self.pending != 0 {
                let list = self.pending.trailing_zeros();
                self.pending &= self.pending - 1;
                let entry = self.current?;
                let info = self.set.lists.get(list as usize)?;
                return Some(ListHit {
                    list: info,
                    domain: key_of(&self.set.arena, entry),
                    owner: info.owner.as_deref(),
                });
            }
            let start = self.next?;
            let name = self.name.as_ref()?.as_str();
            let suffix = name.get(start..)?;
            self.next = suffix.find('.').map(|dot| start + dot + 1);
            if let Some(entry) = self.set.find(suffix) {
                let mask = entry.subtree_lists | if start == 0 { entry.exact_lists } else { 0 };
                self.pending = mask & !self.seen;
                self.seen |= mask;
                self.current = Some(entry);
            }
        }
    }
}

/// A normalised list entry, or `None` if it is not a usable domain (IP literal, no dot,
/// label over 63 bytes, bad characters).
pub(crate) fn valid_domain(raw: &str) -> Option<NameBuf> {
    let name = NameBuf::new(raw)?;
    let text = name.as_str();
    (text.contains('.') && text.split('.').all(|label| label.len() <= 63)).then_some(name)
}

/// Parses one line and reports each rule or skip to `emit` (hosts lines can carry several).
fn parse_line(line: &str, emit: &mut impl FnMut(Result<Rule, SkipReason>)) {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
        return;
    }
    if line.starts_with('[') && line.ends_with(']') {
        return; // "[Adblock Plus 2.0]" header
    }
    if line.starts_with("@@") {
        return emit(Err(SkipReason::Exception));
    }
    if ["##", "#@#", "#?#", "#$#", "#%#"].iter().any(|m| line.contains(m)) {
        return emit(Err(SkipReason::Cosmetic));
    }
    if line.len() > 1 && line.starts_with('/') && line.ends_with('/') {
        return emit(Err(SkipReason::Regex));
    }
    if line.starts_with('$') {
        return emit(Err(SkipReason::OptionOnly));
    }
    if let Some(rule) = line.strip_prefix("||") {
        return emit(parse_adblock(rule));
    }
    if line.starts_with('|') {
        return emit(Err(SkipReason::UrlRule));
    }
    let content = line.split('#').next().unwrap_or("");
    let mut tokens = content.split_whitespace();
    let Some(first) = tokens.next() else { return };
    if first.parse::<IpAddr>().is_ok() {
        let mut any = false;
        for name in tokens {
            any = true;
            emit(parse_hosts_name(name));
        }
        if !any {
            emit(first.parse::<IpAddr>().map(|ip| Rule::Cidr(IpNet::from(ip))).map_err(|_| SkipReason::InvalidAddress));
        }
        return;
    }
    if tokens.next().is_some() {
        return emit(Err(SkipReason::Unrecognised));
    }
    if first.contains('/') {
        return emit(first.parse::<IpNet>().map_err(|_| SkipReason::InvalidAddress).and_then(network_rule));
    }
    let domain = first.strip_prefix("*.").unwrap_or(first);
    emit(domain_rule(domain, true));
}

fn parse_hosts_name(name: &str) -> Result<Rule, SkipReason> {
    if LOCAL_NAMES.iter().any(|local| local.eq_ignore_ascii_case(name)) {
        return Err(SkipReason::LocalName);
    }
    domain_rule(name, false)
}

fn domain_rule(raw: &str, subtree: bool) -> Result<Rule, SkipReason> {
    valid_domain(raw).map(|name| Rule::Domain { name, subtree }).ok_or(SkipReason::InvalidDomain)
}

fn parse_adblock(rule: &str) -> Result<Rule, SkipReason> {
    let (pattern, options) = match rule.split_once('$') {
        Some((pattern, options)) => (pattern, Some(options)),
        None => (rule, None),
    };
    if let Some(options) = options {
        if !options.split(',').all(|o| HARMLESS_OPTIONS.contains(&o.trim())) {
            return Err(SkipReason::UnsupportedOptions);
        }
    }
    let domain = pattern.strip_suffix('|').unwrap_or(pattern);
    let domain = domain.strip_suffix('^').unwrap_or(domain);
    if domain.contains(['/', '^', '*', '|', ':', '?', '=']) {
        return Err(SkipReason::UrlRule);
    }
    domain_rule(domain, true)
}

fn network_rule(net: IpNet) -> Result<Rule, SkipReason> {
    let shortest = match net {
        IpNet::V4(_) => MIN_IPV4_PREFIX,
        IpNet::V6(_) => MIN_IPV6_PREFIX,
    };
    if net.prefix_len() < shortest {
        return Err(SkipReason::NetworkTooBroad);
    }
    Ok(Rule::Cidr(net.trunc()))
}

#[cfg(test)]
mod tests;
