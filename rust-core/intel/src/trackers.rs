//! The tracker database: AdGuard companiesdb (CC BY-SA 4.0) as a compact table of tracker domains →
//! tracker, category and company. The bundled table is generated from the companiesdb files by
//! `generate-trackers` (see `data/README.md`) and embedded with `include_bytes!`; a companiesdb file
//! the user imports is converted into the same table at run time ([`build`]).
//!
//! A lookup is a binary search per label suffix of the host, most specific first: an entry covers
//! its domain and every subdomain, never a name that merely ends with the same letters.
//!
//! # Format (little-endian)
//! | part | content |
//! |---|---|
//! | header | magic `PHTRK\x01\0\0`, then u32 counts of domains, trackers, companies and text bytes, then the companiesdb update date as a text reference |
//! | domains | per domain, sorted bytewise: name (text reference), tracker index (u16) |
//! | trackers | per tracker, sorted by id: id, name (text references), company index (u16, `0xffff` = none), category (u8) |
//! | companies | per company, sorted by id: id, name (text references) |
//! | text | UTF-8 strings back to back, each stored once |
//!
//! A text reference is an offset (u32) and a length (u8).

mod build;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::{DefaultHashBuilder, HashTable};

use serde::Serialize;

use crate::lists::{ImportReport, ListError};
use crate::name::suffixes;

pub(crate) use build::build;

const MAGIC: &[u8; 8] = b"PHTRK\x01\0\0";
const HEADER_BYTES: usize = MAGIC.len() + 4 * 4 + TEXT_REF_BYTES;
const TEXT_REF_BYTES: usize = 5;
const DOMAIN_BYTES: usize = TEXT_REF_BYTES + 2;
const TRACKER_BYTES: usize = 2 * TEXT_REF_BYTES + 2 + 1;
const COMPANY_BYTES: usize = 2 * TEXT_REF_BYTES;
/// Company index of a tracker without a company.
const NO_COMPANY: u16 = u16::MAX;

/// The bundled table (see `data/README.md`).
static BUNDLED_BYTES: &[u8] = include_bytes!("../data/trackers.bin");
/// Parsed at compile time: a malformed bundled table is a build error, not a run-time one.
const BUNDLED_LAYOUT: Layout = match Layout::parse(BUNDLED_BYTES) {
    Some(layout) => layout,
    None => panic!("malformed rust-core/intel/data/trackers.bin: rerun generate-trackers"),
};
static BUNDLED: TrackerTable =
    TrackerTable { bytes: Cow::Borrowed(BUNDLED_BYTES), layout: BUNDLED_LAYOUT, index: OnceLock::new() };

/// Credit the CC BY-SA 4.0 licence asks for wherever the bundled table is used or shown.
pub const TRACKER_ATTRIBUTION: &str = "Tracker data: AdGuard companiesdb (https://github.com/AdguardTeam/companiesdb), \
licensed under CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); modified: converted into a lookup table.";

/// The tracker table embedded in the binary.
pub fn bundled_trackers() -> &'static TrackerTable {
    &BUNDLED
}

/// A companiesdb category; the names are companiesdb's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackerCategory {
    /// Ad networks and ad servers.
    Advertising,
    /// Web analytics.
    SiteAnalytics,
    /// App analytics and attribution SDKs.
    MobileAnalytics,
    /// Device telemetry.
    Telemetry,
    /// Adult ad networks and sites.
    Pornvertising,
    /// Video and audio players and their hosts.
    AudioVideoPlayer,
    /// Comment widgets.
    Comments,
    /// Chat, payment, maps, support widgets and similar services.
    CustomerInteraction,
    /// Services sites need to work (consent, certificates, tag managers).
    Essential,
    /// Social networks and their widgets.
    SocialMedia,
    /// Content delivery networks.
    Cdn,
    /// Hosting and cloud platforms.
    Hosting,
    /// E-mail services.
    Email,
    /// Consent management.
    Consent,
    /// Browser extensions.
    Extensions,
    /// Anything else companiesdb lists.
    Misc,
    /// Not categorised, or a category this version does not know.
    Unknown,
}

impl TrackerCategory {
    const ALL: [TrackerCategory; 17] = [
        Self::Advertising,
        Self::SiteAnalytics,
        Self::MobileAnalytics,
        Self::Telemetry,
        Self::Pornvertising,
        Self::AudioVideoPlayer,
        Self::Comments,
        Self::CustomerInteraction,
        Self::Essential,
        Self::SocialMedia,
        Self::Cdn,
        Self::Hosting,
        Self::Email,
        Self::Consent,
        Self::Extensions,
        Self::Misc,
        Self::Unknown,
    ];

    /// companiesdb's name of the category.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Advertising => "advertising",
            Self::SiteAnalytics => "site_analytics",
            Self::MobileAnalytics => "mobile_analytics",
            Self::Telemetry => "telemetry",
            Self::Pornvertising => "pornvertising",
            Self::AudioVideoPlayer => "audio_video_player",
            Self::Comments => "comments",
            Self::CustomerInteraction => "customer_interaction",
            Self::Essential => "essential",
            Self::SocialMedia => "social_media",
            Self::Cdn => "cdn",
            Self::Hosting => "hosting",
            Self::Email => "email",
            Self::Consent => "consent",
            Self::Extensions => "extensions",
            Self::Misc => "misc",
            Self::Unknown => "unknown",
        }
    }

    /// The category of a companiesdb category name (unknown names: `Unknown`).
    pub fn from_name(name: &str) -> Self {
        Self::ALL.into_iter().find(|c| c.as_str() == name).unwrap_or(Self::Unknown)
    }

    /// Whether contacting a host of this category is tracking by itself. The other categories name
    /// services (CDNs, hosting, players, widgets, sites) whose traffic says nothing of tracking.
    pub fn is_tracking(self) -> bool {
        matches!(self, Self::Advertising | Self::SiteAnalytics | Self::MobileAnalytics | Self::Telemetry)
    }

    fn code(self) -> u8 {
        Self::ALL.iter().position(|c| *c == self).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX)
    }

    fn from_code(code: u8) -> Self {
        Self::ALL.get(usize::from(code)).copied().unwrap_or(Self::Unknown)
    }
}

/// One tracker-table entry covering a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrackerEntry<'a> {
    /// The listed domain (the host or one of its parents).
    pub domain: &'a str,
    /// companiesdb's id of the tracker.
    pub tracker_id: &'a str,
    /// The tracker's name.
    pub tracker: &'a str,
    /// What the tracker is.
    pub category: TrackerCategory,
    /// companiesdb's id of the company behind the tracker.
    pub company_id: Option<&'a str>,
    /// The company's name.
    pub company: Option<&'a str>,
}

/// Where each part of a table starts; the parts are checked to fit the bytes when parsed.
#[derive(Debug, Clone, Copy)]
struct Layout {
    domain_count: usize,
    tracker_count: usize,
    company_count: usize,
    domains: usize,
    trackers: usize,
    companies: usize,
    text: usize,
    updated: (usize, usize),
}

/// The little-endian u32 at `at`, at compile time as at run time.
const fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let Some((_, rest)) = bytes.split_at_checked(at) else { return None };
    match rest.first_chunk::<4>() {
        Some(chunk) => Some(u32::from_le_bytes(*chunk)),
        None => None,
    }
}

/// Where a part of `count` records of `size` bytes starting at `start` ends.
const fn part_end(start: usize, count: usize, size: usize) -> Option<usize> {
    match count.checked_mul(size) {
        Some(bytes) => start.checked_add(bytes),
        None => None,
    }
}

/// The text reference at `at`: (offset, length).
const fn read_text_ref(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let Some(offset) = read_u32(bytes, at) else { return None };
    let Some((_, rest)) = bytes.split_at_checked(at + 4) else { return None };
    match rest.first() {
        Some(len) => Some((offset as usize, *len as usize)),
        None => None,
    }
}

impl Layout {
    /// The layout of `bytes`, or `None` if the magic, the counts or the size disagree.
    const fn parse(bytes: &[u8]) -> Option<Layout> {
        let Some((magic, _)) = bytes.split_at_checked(MAGIC.len()) else { return None };
        let mut i = 0;
        while i < MAGIC.len() {
            if magic[i] != MAGIC[i] {
                return None;
            }
            i += 1;
        }
        let counts = MAGIC.len();
        let (Some(domains), Some(trackers), Some(companies), Some(text_len), Some(updated)) = (
            read_u32(bytes, counts),
            read_u32(bytes, counts + 4),
            read_u32(bytes, counts + 8),
            read_u32(bytes, counts + 12),
            read_text_ref(bytes, counts + 16),
        ) else {
            return None;
        };
        let (domain_count, tracker_count, company_count) = (domains as usize, trackers as usize, companies as usize);
        let Some(trackers_at) = part_end(HEADER_BYTES, domain_count, DOMAIN_BYTES) else { return None };
        let Some(companies_at) = part_end(trackers_at, tracker_count, TRACKER_BYTES) else { return None };
        let Some(text_at) = part_end(companies_at, company_count, COMPANY_BYTES) else { return None };
        let Some(end) = text_at.checked_add(text_len as usize) else { return None };
        let updated_fits = match updated.0.checked_add(updated.1) {
            Some(updated_end) => updated_end <= text_len as usize,
            None => false,
        };
        if end != bytes.len() || !updated_fits {
            return None;
        }
        Some(Layout {
            domain_count,
            tracker_count,
            company_count,
            domains: HEADER_BYTES,
            trackers: trackers_at,
            companies: companies_at,
            text: text_at,
            updated,
        })
    }
}

/// A tracker table, bundled or built from an imported companiesdb file.
#[derive(Clone)]
pub struct TrackerTable {
    bytes: Cow<'static, [u8]>,
    layout: Layout,
    /// Domain → record, built at the first lookup: one hash probe per label suffix instead of a
    /// binary search (170 ns instead of 840 per host; 40 KiB of heap, built in 0.2 ms).
    index: OnceLock<DomainIndex>,
}

/// A hash index of a table's domains (record numbers, hashed by their name).
#[derive(Clone, Default)]
struct DomainIndex {
    records: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for TrackerTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackerTable")
            .field("domains", &self.layout.domain_count)
            .field("trackers", &self.layout.tracker_count)
            .field("companies", &self.layout.company_count)
            .field("updated", &self.updated())
            .finish()
    }
}

impl TrackerTable {
    /// A table of encoded bytes (see the module documentation), or `None` if they are malformed.
    fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        let layout = Layout::parse(&bytes)?;
        Some(Self { bytes: Cow::Owned(bytes), layout, index: OnceLock::new() })
    }

    /// The table of companiesdb `trackers.json` and `companies.json`, with what the conversion
    /// skipped (`generate-trackers` makes the bundled table with this).
    pub fn from_companiesdb(
        trackers_json: &str,
        companies_json: Option<&str>,
    ) -> Result<(TrackerTable, ImportReport), ListError> {
        let mut report = ImportReport::default();
        let table = build(trackers_json, companies_json, None, &mut report)?;
        Ok((table, report))
    }

    /// The encoded table, as `generate-trackers` writes it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Tracker domains in the table.
    pub fn domain_count(&self) -> usize {
        self.layout.domain_count
    }

    /// Trackers in the table.
    pub fn tracker_count(&self) -> usize {
        self.layout.tracker_count
    }

    /// Companies in the table.
    pub fn company_count(&self) -> usize {
        self.layout.company_count
    }

    /// When companiesdb was last updated (`YYYY-MM-DD`, as its file says), if it says.
    pub fn updated(&self) -> &str {
        self.text(self.layout.updated).unwrap_or("")
    }

    /// The entry covering a normalised name: the name itself or its most specific listed parent.
    pub(crate) fn lookup(&self, name: &str) -> Option<TrackerEntry<'_>> {
        suffixes(name).find_map(|suffix| self.find(suffix.as_bytes()).and_then(|i| self.entry(i)))
    }

    /// The name of a company by its companiesdb id.
    pub(crate) fn company_name(&self, id: &str) -> Option<&str> {
        let (part, count) = (self.layout.companies, self.layout.company_count);
        let company = self.record(part, COMPANY_BYTES, self.search(part, COMPANY_BYTES, count, id.as_bytes())?)?;
        self.text(read_text_ref(company, TEXT_REF_BYTES)?)
    }

    /// Every entry, in domain order.
    pub fn entries(&self) -> impl Iterator<Item = TrackerEntry<'_>> {
        (0..self.layout.domain_count).filter_map(|i| self.entry(i))
    }

    fn text(&self, (offset, len): (usize, usize)) -> Option<&str> {
        let start = self.layout.text.checked_add(offset)?;
        std::str::from_utf8(self.bytes.get(start..start.checked_add(len)?)?).ok()
    }

    fn text_bytes(&self, (offset, len): (usize, usize)) -> &[u8] {
        let start = self.layout.text.saturating_add(offset);
        self.bytes.get(start..start.saturating_add(len)).unwrap_or(&[])
    }

    fn record(&self, part: usize, size: usize, index: usize) -> Option<&[u8]> {
        let start = part.checked_add(index.checked_mul(size)?)?;
        self.bytes.get(start..start.checked_add(size)?)
    }

    /// The record of an exact domain.
    fn find(&self, domain: &[u8]) -> Option<usize> {
        let index = self.index.get_or_init(|| self.domain_index());
        let name = |record: u32| self.domain_ref(record as usize).map(|r| self.text_bytes(r));
        let found = index.records.find(index.hasher.hash_one(domain), |&record| name(record) == Some(domain))?;
        Some(*found as usize)
    }

    fn domain_index(&self) -> DomainIndex {
        let mut index = DomainIndex::default();
        let DomainIndex { records, hasher } = &mut index;
        for record in 0..u32::try_from(self.layout.domain_count).unwrap_or(u32::MAX) {
            let Some(name) = self.domain_ref(record as usize).map(|r| self.text_bytes(r)) else { continue };
            let rehash = |&r: &u32| self.domain_ref(r as usize).map_or(0, |d| hasher.hash_one(self.text_bytes(d)));
            records.insert_unique(hasher.hash_one(name), record, rehash);
        }
        index
    }

    fn domain_ref(&self, index: usize) -> Option<(usize, usize)> {
        read_text_ref(self.record(self.layout.domains, DOMAIN_BYTES, index)?, 0)
    }

    /// Binary search in a part whose records are sorted by the text their first reference names.
    fn search(&self, part: usize, size: usize, count: usize, key: &[u8]) -> Option<usize> {
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.text_bytes(read_text_ref(self.record(part, size, mid)?, 0)?).cmp(key) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn entry(&self, index: usize) -> Option<TrackerEntry<'_>> {
        let domain = self.record(self.layout.domains, DOMAIN_BYTES, index)?;
        let tracker_index = u16::from_le_bytes(*domain.get(TEXT_REF_BYTES..)?.first_chunk()?);
        let tracker = self.record(self.layout.trackers, TRACKER_BYTES, usize::from(tracker_index))?;
        let company_index = u16::from_le_bytes(*tracker.get(2 * TEXT_REF_BYTES..)?.first_chunk()?);
        let category = TrackerCategory::from_code(*tracker.get(2 * TEXT_REF_BYTES + 2)?);
        let company = match company_index {
            NO_COMPANY => None,
            index => Some(self.record(self.layout.companies, COMPANY_BYTES, usize::from(index))?),
        };
        let company_text = |at: usize| company.and_then(|c| read_text_ref(c, at)).and_then(|r| self.text(r));
        Some(TrackerEntry {
            domain: self.text(read_text_ref(domain, 0)?)?,
            tracker_id: self.text(read_text_ref(tracker, 0)?)?,
            tracker: self.text(read_text_ref(tracker, TEXT_REF_BYTES)?)?,
            category,
            company_id: company_text(0),
            company: company_text(TEXT_REF_BYTES),
        })
    }
}

#[cfg(test)]
mod tests;
