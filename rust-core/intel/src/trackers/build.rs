//! companiesdb JSON → tracker table (the format of the parent module). Deterministic: the same
//! input gives the same bytes (every order is sorted, every string stored once in first-use order).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use super::{TrackerCategory, TrackerTable, HEADER_BYTES, MAGIC, NO_COMPANY};
use crate::lists::{valid_domain, ImportReport, ListError, SkipReason, MAX_DOMAINS};

/// Longest string a text reference holds; longer names are cut at a character boundary.
const MAX_TEXT: usize = u8::MAX as usize;
/// Most trackers or companies one table indexes (`u16::MAX` means "no company").
const MAX_INDEX: usize = NO_COMPANY as usize;

#[derive(Deserialize)]
struct TrackersFile {
    #[serde(rename = "timeUpdated")]
    time_updated: Option<String>,
    #[serde(default)]
    categories: HashMap<String, String>,
    #[serde(default)]
    trackers: HashMap<String, TrackerRecord>,
    #[serde(rename = "trackerDomains")]
    tracker_domains: HashMap<String, String>,
}

#[derive(Deserialize)]
struct TrackerRecord {
    name: String,
    #[serde(rename = "categoryId")]
    category_id: Option<serde_json::Value>,
    #[serde(rename = "companyId")]
    company_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct CompaniesFile {
    companies: HashMap<String, CompanyRecord>,
}

#[derive(Deserialize)]
struct CompanyRecord {
    name: String,
}

/// Builds a table from companiesdb `trackers.json` and, if given, `companies.json`. Company names
/// come from `companies.json`, else from `names` (the bundled table knows most companies), else
/// are the company's id. Invalid domains are skipped and reported; a domain naming a tracker the
/// file does not describe is kept, its tracker named by its id.
pub(crate) fn build(
    trackers_json: &str,
    companies_json: Option<&str>,
    names: Option<&TrackerTable>,
    report: &mut ImportReport,
) -> Result<TrackerTable, ListError> {
    let file: TrackersFile = serde_json::from_str(trackers_json)?;
    let companies: CompaniesFile = match companies_json {
        Some(text) => serde_json::from_str(text)?,
        None => CompaniesFile::default(),
    };
    let mut domains: Vec<(String, &str)> = Vec::with_capacity(file.tracker_domains.len());
    for (raw, tracker) in &file.tracker_domains {
        match valid_domain(raw) {
            Some(name) => domains.push((name.as_str().to_owned(), tracker)),
            None => report.skip(0, SkipReason::InvalidDomain, raw),
        }
    }
    report.domains += domains.len();
    domains.sort_unstable();
    domains.dedup_by(|later, first| later.0 == first.0);
    if domains.len() > MAX_DOMAINS {
        return Err(ListError::TooManyEntries(MAX_DOMAINS));
    }

    let tracker_ids: BTreeSet<&str> = domains.iter().map(|(_, tracker)| *tracker).collect();
    let trackers: BTreeMap<&str, (&str, TrackerCategory, Option<&str>)> = tracker_ids
        .into_iter()
        .map(|id| {
            let record = file.trackers.get(id);
            let category = record
                .and_then(|r| r.category_id.as_ref())
                .and_then(|key| file.categories.get(&category_key(key)))
                .map_or(TrackerCategory::Unknown, |name| TrackerCategory::from_name(name));
            (id, (record.map_or(id, |r| r.name.as_str()), category, record.and_then(|r| r.company_id.as_deref())))
        })
        .collect();
    let company_ids: BTreeSet<&str> = trackers.values().filter_map(|(_, _, company)| *company).collect();
    if trackers.len() >= MAX_INDEX || company_ids.len() >= MAX_INDEX {
        return Err(ListError::TooManyEntries(MAX_INDEX - 1));
    }
    let company_index: HashMap<&str, usize> = company_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let tracker_index: HashMap<&str, usize> = trackers.keys().enumerate().map(|(i, id)| (*id, i)).collect();

    let mut out = Writer::default();
    for (name, tracker) in &domains {
        out.text_ref(name);
        out.index(tracker_index.get(tracker).copied());
    }
    for (id, (name, category, company)) in &trackers {
        out.text_ref(id);
        out.text_ref(name);
        out.index(company.and_then(|c| company_index.get(c).copied()));
        out.records.push(category.code());
    }
    for id in &company_ids {
        let name = companies
            .companies
            .get(*id)
            .map(|c| c.name.as_str())
            .or_else(|| names.and_then(|table| table.company_name(id)))
            .unwrap_or(id);
        out.text_ref(id);
        out.text_ref(name);
    }
    let updated = file.time_updated.as_deref().map_or("", |t| t.split('T').next().unwrap_or(t));
    let bytes = out.finish([domains.len(), trackers.len(), company_ids.len()], updated);
    TrackerTable::from_bytes(bytes).ok_or(ListError::TooManyEntries(MAX_DOMAINS))
}

/// companiesdb numbers its categories (`"categoryId": 4`) and keys the category names by the
/// number as a string.
fn category_key(id: &serde_json::Value) -> String {
    match id {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Records and the text they refer to, each string stored once.
#[derive(Default)]
struct Writer {
    records: Vec<u8>,
    text: String,
    interned: HashMap<String, (u32, u8)>,
}

impl Writer {
    fn text_ref(&mut self, text: &str) {
        let (offset, len) = self.intern(text);
        self.records.extend_from_slice(&offset.to_le_bytes());
        self.records.push(len);
    }

    fn intern(&mut self, text: &str) -> (u32, u8) {
        let mut end = text.len().min(MAX_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = text.get(..end).unwrap_or("");
        if let Some(&found) = self.interned.get(text) {
            return found;
        }
        // Offsets beyond u32 make the table fail its size check, reported as too large.
        let at = (u32::try_from(self.text.len()).unwrap_or(u32::MAX), u8::try_from(text.len()).unwrap_or(u8::MAX));
        self.text.push_str(text);
        self.interned.insert(text.to_owned(), at);
        at
    }

    fn index(&mut self, index: Option<usize>) {
        let index = index.and_then(|i| u16::try_from(i).ok()).unwrap_or(NO_COMPANY);
        self.records.extend_from_slice(&index.to_le_bytes());
    }

    fn finish(mut self, counts: [usize; 3], updated: &str) -> Vec<u8> {
        let updated = self.intern(updated);
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.records.len() + self.text.len());
        bytes.extend_from_slice(MAGIC);
        for count in counts.into_iter().chain([self.text.len()]) {
            bytes.extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_le_bytes());
        }
        bytes.extend_from_slice(&updated.0.to_le_bytes());
        bytes.push(updated.1);
        debug_assert_eq!(bytes.len(), HEADER_BYTES);
        bytes.extend_from_slice(&self.records);
        bytes.extend_from_slice(self.text.as_bytes());
        bytes
    }
}
