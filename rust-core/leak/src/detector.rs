//! Declared-identifier search: every variant in every encoding, in one Aho-Corasick pass.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::context::{evidence, key_before, key_text};
use crate::filter::GramFilter;
use crate::identifiers::coordinate_prefixes;
use crate::{Encoding, IdKind, Identifiers, LeakError};

/// Tuning of a [`LeakDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    /// Bytes searched per payload (per flow direction); the rest is ignored.
    pub max_scan_bytes: usize,
    /// Findings reported per payload at most.
    pub max_findings: usize,
    /// Latitude and longitude must be this close (bytes) to count as a location.
    pub location_window: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self { max_scan_bytes: 64 * 1024, max_findings: 64, location_window: 64 }
    }
}

/// A declared identifier found in a payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Kind of the identifier.
    pub kind: IdKind,
    /// Its label: the kind's key or the custom name.
    pub label: String,
    /// How it was encoded.
    pub encoding: Encoding,
    /// The parameter, JSON or header key right before it, if any.
    pub key: Option<String>,
    /// Byte offset of the match in the payload.
    pub offset: usize,
    /// Length of the match in bytes.
    pub len: usize,
    /// Context with the identifier masked, e.g. `imei=35***********09&`.
    pub evidence: String,
}

/// One identifier variant in one encoding.
#[derive(Debug)]
struct Needle {
    ident: usize,
    encoding: Encoding,
    bytes: Box<[u8]>,
    case_sensitive: bool,
    /// Plain numbers must not be part of a longer number: a needle starting (ending) with a digit must
    /// not have one before (after) it.
    digit_bounded: bool,
    /// The 14 digits of an IMEI, which 2 more digits (the software version) make an IMEISV.
    imei_body: bool,
}

/// A latitude or longitude of a declared location, truncated or rounded to 3 decimals.
/// Found around decimal points rather than by the automaton: these are its shortest needles
/// and would shorten the filter's stride for every payload.
#[derive(Debug)]
struct Coordinate {
    ident: usize,
    latitude: bool,
    text: Box<[u8]>,
    /// Index of the decimal point in `text`.
    dot: usize,
}

/// Automaton patterns are needle prefixes of at most this length (the rest is verified):
/// long digests would otherwise bloat the DFA and its cache footprint.
const PREFIX_LEN: usize = 16;
/// Verified matches kept per payload before deduplication (bounds memory on adversarial input).
const MAX_HITS: usize = 1024;

/// Searches payloads for declared identifiers.
pub struct LeakDetector {
    automaton: AhoCorasick,
    /// Needles behind automaton pattern `p`: `needle_ids[needle_starts[p]..needle_starts[p + 1]]`.
    needle_starts: Vec<usize>,
    needle_ids: Vec<usize>,
    needles: Vec<Needle>,
    /// Skips most of each payload; `None` when some pattern is too short (then the automaton reads all).
    filter: Option<GramFilter>,
    coordinates: Vec<Coordinate>,
    idents: Vec<(IdKind, String)>,
    config: DetectorConfig,
}

// Needles hold the identifiers: Debug shows only sizes.
impl std::fmt::Debug for LeakDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakDetector")
            .field("identifiers", &self.idents.len())
            .field("needles", &self.needles.len())
            .field("patterns", &self.automaton.patterns_len())
            .field("filter_stride", &self.filter_stride())
            .field("config", &self.config)
            .finish()
    }
}

/// What one scan gathers before deduplication.
#[derive(Debug, Default)]
struct Gathered {
    hits: Vec<Hit>,
    /// Coordinates (latitude?, hit): a location needs both within the window.
    coordinates: Vec<(bool, Hit)>,
    /// Every occurrence of a needle, even one rejected (inside a longer number, a lone
    /// coordinate): evidence must not show it in the context of another finding.
    sensitive: Vec<Range<usize>>,
}

impl Gathered {
    fn full(&self) -> bool {
        self.sensitive.len() >= MAX_HITS
    }
}

#[derive(Debug, Clone)]
struct Hit {
    span: Range<usize>,
    ident: usize,
    encoding: Encoding,
}

impl LeakDetector {
    /// Builds the automaton over all variants × encodings of the declared identifiers.
    pub fn new(identifiers: &Identifiers, config: &DetectorConfig) -> Result<Self, LeakError> {
        let mut needles = Vec::new();
        let mut coordinates = Vec::new();
        let mut idents = Vec::new();
        for (ident, id) in identifiers.iter().enumerate() {
            idents.push((id.kind, id.label.clone()));
            if id.kind == IdKind::Location {
                push_coordinates(&mut coordinates, ident, &id.value);
            }
            for variant in id.variants() {
                push_encodings(&mut needles, ident, id.kind, variant.as_bytes(), Forms::All);
            }
            for written in id.written_variants() {
                push_encodings(&mut needles, ident, id.kind, written.as_bytes(), Forms::Written);
            }
            if let Some(raw) = id.raw_bytes() {
                push_encodings(&mut needles, ident, id.kind, &raw, Forms::Binary);
            }
        }
        // Group needles by case-folded prefix: one automaton pattern each.
        let mut order: Vec<usize> = (0..needles.len()).collect();
        let folded_prefix = |n: &Needle| {
            let end = n.bytes.len().min(PREFIX_LEN);
            n.bytes.get(..end).unwrap_or_default().to_ascii_lowercase()
        };
        let prefixes: Vec<Vec<u8>> = needles.iter().map(folded_prefix).collect();
        order.sort_by(|&a, &b| prefixes.get(a).cmp(&prefixes.get(b)));
        let mut patterns: Vec<&[u8]> = Vec::new();
        let mut needle_starts = Vec::new();
        let mut needle_ids = Vec::with_capacity(order.len());
        for &n in &order {
            let Some(prefix) = prefixes.get(n) else { continue };
            if patterns.last() != Some(&prefix.as_slice()) {
                patterns.push(prefix);
                needle_starts.push(needle_ids.len());
            }
            needle_ids.push(n);
        }
        needle_starts.push(needle_ids.len());
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(automaton_kind(patterns.len())))
            .prefilter(false)
            .build(&patterns)?;
        let filter = GramFilter::new(&patterns);
        Ok(Self { automaton, needle_starts, needle_ids, needles, filter, coordinates, idents, config: config.clone() })
    }

    /// The configuration this detector was built with.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Bytes between two probes of the skip filter (`None`: the automaton reads every byte).
    pub fn filter_stride(&self) -> Option<usize> {
        self.filter.as_ref().map(GramFilter::stride)
    }

    /// Number of distinct automaton patterns (a measure of the search cost).
    pub fn pattern_count(&self) -> usize {
        self.automaton.patterns_len()
    }

    /// All declared identifiers in the first `max_scan_bytes` of `payload`, overlapping matches
    /// reduced to the longest and most specific, in payload order.
    pub fn scan(&self, payload: &[u8]) -> Vec<Finding> {
        let hay = payload.get(..self.config.max_scan_bytes).unwrap_or(payload);
        let mut found = Gathered::default();
        match &self.filter {
            Some(filter) => filter.candidates(hay, |first, last| {
                // Patterns are at most PREFIX_LEN long: the window needs no more.
                let input = Input::new(hay).span(first..hay.len().min(last + PREFIX_LEN));
                for m in self.automaton.find_overlapping_iter(input) {
                    if m.start() <= last {
                        self.verify(hay, m, &mut found);
                    }
                }
            }),
            None => {
                for m in self.automaton.find_overlapping_iter(hay) {
                    self.verify(hay, m, &mut found);
                }
            }
        }
        self.find_coordinates(hay, &mut found);
        let Gathered { mut hits, coordinates, sensitive } = found;
        pair_locations(&coordinates, self.config.location_window, &mut hits);
        let kept = dedupe(hits);
        let mut masks = sensitive;
        masks.extend(kept.iter().map(|h| h.span.clone()));
        kept.into_iter()
            .take(self.config.max_findings)
            .filter_map(|hit| {
                let (kind, label) = self.idents.get(hit.ident)?;
                Some(Finding {
                    kind: *kind,
                    label: label.clone(),
                    encoding: hit.encoding,
                    key: key_before(hay, hit.span.start).map(key_text),
                    offset: hit.span.start,
                    len: hit.span.len(),
                    evidence: evidence(hay, &hit.span, &masks),
                })
            })
            .collect()
    }

    /// Verifies the needles behind an automaton match (it matched only a folded prefix).
    fn verify(&self, hay: &[u8], m: aho_corasick::Match, found: &mut Gathered) {
        let pattern = m.pattern().as_usize();
        let first = self.needle_starts.get(pattern).copied().unwrap_or(0);
        let last = self.needle_starts.get(pattern + 1).copied().unwrap_or(first);
        for &n in self.needle_ids.get(first..last).unwrap_or_default() {
            let Some(needle) = self.needles.get(n) else { continue };
            let Some(occurrence) = occurrence_at(hay, m.start(), needle) else { continue };
            if found.full() {
                return;
            }
            found.sensitive.push(occurrence.clone());
            if let Some(span) = accept(hay, occurrence, needle) {
                found.hits.push(Hit { span, ident: needle.ident, encoding: needle.encoding });
            }
        }
    }

    /// Declared coordinates starting a number (`48.858` in `48.85837` but not in `148.858`).
    fn find_coordinates(&self, hay: &[u8], found: &mut Gathered) {
        if self.coordinates.is_empty() {
            return;
        }
        for dot in memchr::memchr_iter(b'.', hay) {
            for c in &self.coordinates {
                let Some(start) = dot.checked_sub(c.dot) else { continue };
                let mut end = start + c.text.len();
                if hay.get(start..end) != Some(&c.text[..]) || found.full() {
                    continue;
                }
                found.sensitive.push(start..end);
                let before = start.checked_sub(1).and_then(|i| hay.get(i));
                if before.is_some_and(|b| b.is_ascii_digit() || *b == b'.' || *b == b'-') {
                    continue;
                }
                // Further decimals belong to the coordinate.
                while hay.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                let hit = Hit { span: start..end, ident: c.ident, encoding: Encoding::Plain };
                found.coordinates.push((c.latitude, hit));
            }
        }
    }

    /// Identifier-shaped values nobody declared (IMEI, MAC, e-mail, coordinates, keyed IDs).
    pub fn scan_patterns(&self, payload: &[u8]) -> Vec<crate::PatternFinding> {
        let hay = payload.get(..self.config.max_scan_bytes).unwrap_or(payload);
        crate::patterns::scan(hay, self.config.max_findings)
    }
}

/// The span of `needle` if it really occurs at `start` (the automaton matched only a folded prefix).
fn occurrence_at(hay: &[u8], start: usize, needle: &Needle) -> Option<Range<usize>> {
    let end = start + needle.bytes.len();
    let text = hay.get(start..end)?;
    let equal = if needle.case_sensitive { text == &*needle.bytes } else { text.eq_ignore_ascii_case(&needle.bytes) };
    equal.then_some(start..end)
}

/// The span an occurrence counts for, if its surroundings let it count: plain numbers must not
/// be part of longer ones, except an IMEI's 14 digits followed by the 2 of an IMEISV.
fn accept(hay: &[u8], occurrence: Range<usize>, needle: &Needle) -> Option<Range<usize>> {
    if !needle.digit_bounded {
        return Some(occurrence);
    }
    let digit = |i: Option<usize>| i.and_then(|i| hay.get(i)).is_some_and(u8::is_ascii_digit);
    let starts_with_digit = needle.bytes.first().is_some_and(u8::is_ascii_digit);
    let ends_with_digit = needle.bytes.last().is_some_and(u8::is_ascii_digit);
    if starts_with_digit && digit(occurrence.start.checked_sub(1)) {
        return None;
    }
    if ends_with_digit && digit(Some(occurrence.end)) {
        let imeisv = needle.imei_body && digit(Some(occurrence.end + 1)) && !digit(Some(occurrence.end + 2));
        return imeisv.then_some(occurrence.start..occurrence.end + 2);
    }
    Some(occurrence)
}

/// A location is found when its latitude and longitude occur within `window` bytes.
fn pair_locations(coordinates: &[(bool, Hit)], window: usize, hits: &mut Vec<Hit>) {
    for (_, lat) in coordinates.iter().filter(|(latitude, _)| *latitude) {
        let near = coordinates.iter().find(|(latitude, lon)| {
            !*latitude
                && lon.ident == lat.ident
                && lon.span.start.abs_diff(lat.span.end).min(lat.span.start.abs_diff(lon.span.end)) <= window
        });
        if let Some((_, lon)) = near {
            let span = lat.span.start.min(lon.span.start)..lat.span.end.max(lon.span.end);
            hits.push(Hit { span, ident: lat.ident, encoding: Encoding::Plain });
        }
    }
}

/// Keeps, among overlapping hits, the longest and then the most specific encoding.
fn dedupe(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by(|a, b| {
        b.span
            .len()
            .cmp(&a.span.len())
            .then(b.encoding.specificity().cmp(&a.encoding.specificity()))
            .then(a.span.start.cmp(&b.span.start))
    });
    let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
    for hit in hits {
        let overlaps = kept.iter().any(|k| k.span.start < hit.span.end && hit.span.start < k.span.end);
        if !overlaps {
            kept.push(hit);
        }
    }
    kept.sort_by_key(|h| h.span.start);
    kept
}

fn push_coordinates(coordinates: &mut Vec<Coordinate>, ident: usize, value: &str) {
    let Some((lat, lon)) = value.split_once(',') else { return };
    for (latitude, coordinate) in [(true, lat), (false, lon)] {
        for text in coordinate_prefixes(coordinate) {
            let Some(dot) = text.find('.') else { continue };
            coordinates.push(Coordinate { ident, latitude, text: text.into_bytes().into(), dot });
        }
    }
}

/// Patterns up to which the search runs on a DFA (fastest; 20 identifiers make ≈430 patterns). A DFA
/// costs ≈100 KB per identifier, so thousands of identifiers use the contiguous NFA (a few bytes per
/// state, slower per byte) to keep the set-up linear and its memory small.
const MAX_DFA_PATTERNS: usize = 8192;

fn automaton_kind(patterns: usize) -> AhoCorasickKind {
    if patterns <= MAX_DFA_PATTERNS {
        AhoCorasickKind::DFA
    } else {
        AhoCorasickKind::ContiguousNFA
    }
}

/// Which encodings of a variant are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forms {
    /// A compact textual form: every encoding.
    All,
    /// A form written with separators for people (`06 12 34 56 78`): as is and URL-encoded.
    Written,
    /// The binary form of a hex identifier: base64 and digests.
    Binary,
}

/// Adds the needles of one variant in the encodings of its `forms` (skipping forms equal to a simpler one).
fn push_encodings(needles: &mut Vec<Needle>, ident: usize, kind: IdKind, variant: &[u8], forms: Forms) {
    let textual = forms != Forms::Binary;
    let mut push = |encoding, bytes: Vec<u8>, case_sensitive| {
        // Needles are pushed identifier by identifier: only this one's, at the tail, can repeat (a scan of
        // every needle made setting up thousands of identifiers quadratic).
        let duplicate = needles
            .iter()
            .rev()
            .take_while(|n| n.ident == ident)
            .any(|n: &Needle| n.case_sensitive == case_sensitive && *n.bytes == *bytes);
        if bytes.is_empty() || duplicate {
            return;
        }
        let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
        let numeric = bytes.iter().all(|b| b.is_ascii_digit()) || (kind == IdKind::Phone && digits >= 6);
        let digit_bounded = encoding == Encoding::Plain && numeric;
        let imei_body = kind == IdKind::Imei && digit_bounded && bytes.len() == 14;
        needles.push(Needle { ident, encoding, bytes: bytes.into(), case_sensitive, digit_bounded, imei_body });
    };
    // The plain form of a location is matched coordinate by coordinate (see push_coordinates).
    if textual && kind != IdKind::Location {
        push(Encoding::Plain, variant.to_vec(), false);
    }
    if textual {
        push(Encoding::Url, percent_encode(variant), false);
    }
    if forms == Forms::Written {
        return;
    }
    for shift in 0..3 {
        let (standard, url_safe) = base64_stable_middles(variant, shift);
        push(Encoding::Base64, standard, true);
        push(Encoding::Base64Url, url_safe, true);
    }
    if textual {
        push(Encoding::Hex, hex_lower(variant).into_bytes(), false);
    }
    push(Encoding::Md5, hex_lower(&Md5::digest(variant)).into_bytes(), false);
    push(Encoding::Sha1, hex_lower(&Sha1::digest(variant)).into_bytes(), false);
    push(Encoding::Sha256, hex_lower(&Sha256::digest(variant)).into_bytes(), false);
    // Digests sent as base64 of their bytes (`Base64.encode(sha256(x))`): both alphabets, padding ignored.
    let digests: [(Encoding, &[u8]); 3] = [
        (Encoding::Md5Base64, &Md5::digest(variant)),
        (Encoding::Sha1Base64, &Sha1::digest(variant)),
        (Encoding::Sha256Base64, &Sha256::digest(variant)),
    ];
    for (encoding, digest) in digests {
        push(encoding, STANDARD_NO_PAD.encode(digest).into_bytes(), true);
        push(encoding, URL_SAFE_NO_PAD.encode(digest).into_bytes(), true);
    }
}

/// The base64 characters (standard, URL-safe) that depend only on `value` when it starts at
/// byte offset `shift` (0..3) of a larger encoded blob: stable whatever surrounds it.
pub(crate) fn base64_stable_middles(value: &[u8], shift: usize) -> (Vec<u8>, Vec<u8>) {
    let mut shifted = vec![0u8; shift];
    shifted.extend_from_slice(value);
    let first = (8 * shift).div_ceil(6);
    let end = 8 * (shift + value.len()) / 6;
    let cut = |encoded: String| encoded.into_bytes().get(first..end).map(<[u8]>::to_vec).unwrap_or_default();
    (cut(STANDARD_NO_PAD.encode(&shifted)), cut(URL_SAFE_NO_PAD.encode(&shifted)))
}

// Both are a few lines; a crate would add a dependency for no gain in correctness.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub(crate) fn percent_encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

/// Whether a payload starts a TLS or QUIC handshake: such flows are encrypted past it and the
/// engine must not search them for identifiers.
pub fn is_encrypted_handshake(payload: &[u8]) -> bool {
    match payload {
        // TLS record: handshake (22), version 3.x.
        [0x16, 0x03, minor, ..] => *minor <= 0x04,
        // QUIC long header with the fixed bit, and a known version (v1, v2, drafts).
        [first, v0, v1, v2, v3, ..] if first & 0xc0 == 0xc0 => {
            let version = u32::from_be_bytes([*v0, *v1, *v2, *v3]);
            matches!(version, 0x0000_0001 | 0x6b33_43cf) || version >> 8 == 0x00ff_0000
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(toml: &str) -> LeakDetector {
        let ids = Identifiers::from_toml(toml).expect("valid identifiers");
        LeakDetector::new(&ids, &DetectorConfig::default()).expect("detector builds")
    }

    fn found(d: &LeakDetector, payload: &[u8]) -> Vec<(IdKind, Encoding)> {
        d.scan(payload).iter().map(|f| (f.kind, f.encoding)).collect()
    }

    #[test]
    fn base64_middles_match_real_encodings_at_every_alignment() {
        let value = b"356938035643809";
        for prefix_len in 0..6 {
            let mut blob = vec![b'x'; prefix_len];
            blob.extend_from_slice(value);
            blob.extend_from_slice(b"&tail");
            let encoded = STANDARD_NO_PAD.encode(&blob);
            let (middle, _) = base64_stable_middles(value, prefix_len % 3);
            assert!(middle.len() >= 18);
            assert!(memchr::memmem::find(encoded.as_bytes(), &middle).is_some(), "shift {prefix_len}");
        }
    }

    #[test]
    fn finds_imei_in_every_encoding() {
        let d = detector("imei = \"356938035643809\"");
        let imei = b"356938035643809";
        // Expected texts from coreutils md5sum/sha1sum/sha256sum, xxd and base64.
        let cases: [(Encoding, &[u8]); 6] = [
            (Encoding::Plain, imei),
            (Encoding::Base64, b"eyJpbWVpIjoiMzU2OTM4MDM1NjQzODA5In0="),
            (Encoding::Hex, b"333536393338303335363433383039"),
            (Encoding::Md5, b"AF2D48F2495881AED1737BB21017F9B6"),
            (Encoding::Sha1, b"31f455635a12252f8cedb39cd7533fc58a064bff"),
            (Encoding::Sha256, b"a1b575e0d3dabdc93f3c6190a239b5420f65d13601dcf1eee2bbd4f6a6168111"),
        ];
        for (encoding, text) in cases {
            let mut payload = b"POST /r HTTP/1.1\r\n\r\nd=".to_vec();
            payload.extend_from_slice(text);
            assert_eq!(found(&d, &payload), [(IdKind::Imei, encoding)], "{encoding}");
        }
    }

    #[test]
    fn url_encoding_wins_over_the_plain_part_inside_it() {
        let d = detector("phone = \"+33612345678\"\nemail = \"jane.doe@example.org\"");
        assert_eq!(found(&d, b"p=%2B33612345678"), [(IdKind::Phone, Encoding::Url)]);
        assert_eq!(found(&d, b"p=+33612345678"), [(IdKind::Phone, Encoding::Plain)]);
        assert_eq!(found(&d, b"m=Jane.Doe%40Example.org"), [(IdKind::Email, Encoding::Url)]);
    }

    #[test]
    fn plain_digits_inside_longer_numbers_do_not_count() {
        let d = detector("imei = \"356938035643809\"");
        assert!(found(&d, b"n=13569380356438091").is_empty());
        assert_eq!(found(&d, b"n=a356938035643809b"), [(IdKind::Imei, Encoding::Plain)]);
    }

    #[test]
    fn mac_in_any_separator_and_case() {
        let d = detector("mac = \"3c:5a:b4:12:9e:7f\"");
        for text in [&b"3C-5A-B4-12-9E-7F"[..], b"3c5ab4129e7f", b"3C:5a:B4:12:9e:7F"] {
            assert_eq!(found(&d, text), [(IdKind::Mac, Encoding::Plain)]);
        }
        assert_eq!(found(&d, b"m=3c%3A5a%3Ab4%3A12%3A9e%3A7f"), [(IdKind::Mac, Encoding::Url)]);
    }

    #[test]
    fn location_needs_both_coordinates_nearby() {
        let d = detector("location = \"48.85837,2.29448\"");
        assert_eq!(found(&d, b"lat=48.8584&lon=2.2945"), [(IdKind::Location, Encoding::Plain)]);
        assert_eq!(found(&d, b"{\"lng\":2.294481,\"lat\":48.858372}"), [(IdKind::Location, Encoding::Plain)]);
        assert!(found(&d, b"lat=48.8584").is_empty());
        assert!(found(&d, b"lat=148.8584&lon=12.2945").is_empty());
        let far = format!("lat=48.8584{}lon=2.2945", " ".repeat(100));
        assert!(found(&d, far.as_bytes()).is_empty());
    }

    #[test]
    fn finding_has_key_and_redacted_evidence() {
        let d = detector("imei = \"356938035643809\"\nimsi = \"208150123456789\"");
        let findings = d.scan(b"GET /a?imei=356938035643809&imsi=208150123456789 HTTP/1.1\r\n");
        assert_eq!(findings.len(), 2);
        let imei = &findings[0];
        assert_eq!(imei.key.as_deref(), Some("imei"));
        assert_eq!(imei.offset, 12);
        assert!(imei.evidence.starts_with("GET /a?imei=35*"), "{}", imei.evidence);
        for f in &findings {
            assert!(!f.evidence.contains("356938035643809") && !f.evidence.contains("208150123456789"));
        }
    }

    #[test]
    fn evidence_masks_occurrences_that_did_not_count() {
        // Found by proptest: an IMEI inside a longer number is no finding, but must not be shown.
        let d = detector("imei = \"356938035643809\"\nmac = \"3c:5a:b4:12:9e:7f\"");
        let findings = d.scan(b"GET /a?imei=35693803564380945mac=3c%3A5a%3Ab4%3A12%3A9e%3A7f HTTP/1.1");
        assert_eq!(findings.len(), 1);
        assert!(!findings[0].evidence.contains("356938035643809"), "{}", findings[0].evidence);
    }

    #[test]
    fn phone_numbers_in_the_forms_of_their_country() {
        let d = detector("phone = \"+33612345678\"");
        for text in [
            &b"tel=+33612345678&"[..],
            b"tel=33612345678&",
            b"tel=0612345678&",
            b"tel=0033612345678&",
            b"{\"tel\":\"06 12 34 56 78\"}",
            b"tel=06-12-34-56-78;",
            b"tel=06.12.34.56.78;",
            b"tel=+33 6 12 34 56 78;",
            b"tel=+33 (0)6 12 34 56 78;",
            b"tel=00 33 6 12 34 56 78;",
        ] {
            assert_eq!(found(&d, text), [(IdKind::Phone, Encoding::Plain)], "{}", String::from_utf8_lossy(text));
        }
        assert_eq!(found(&d, b"tel=06%2012%2034%2056%2078"), [(IdKind::Phone, Encoding::Url)]);
        assert!(found(&d, b"n=06 12 34 56 789").is_empty());
        assert!(found(&d, b"n=106 12 34 56 78").is_empty());
        let us = detector("phone = \"+14155550123\"");
        for text in [&b"p=(415) 555-0123;"[..], b"p=415.555.0123;", b"p=+1 415-555-0123;", b"p=011 1 415 555 0123;"] {
            assert_eq!(found(&us, text), [(IdKind::Phone, Encoding::Plain)], "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn imei_without_check_digit_and_as_imeisv() {
        let d = detector("imei = \"356938035643809\"");
        assert_eq!(found(&d, b"imei=35693803564380&"), [(IdKind::Imei, Encoding::Plain)]);
        let imeisv = d.scan(b"imeisv=3569380356438012&");
        assert_eq!((imeisv.len(), imeisv[0].len), (1, 16));
        assert!(found(&d, b"n=356938035643801234").is_empty());
        // Declared as an IMEISV, found as the IMEI.
        let sv = detector("imei = \"3569380356438012\"");
        assert_eq!(found(&sv, b"imei=356938035643809"), [(IdKind::Imei, Encoding::Plain)]);
    }

    #[test]
    fn mac_dotted_and_digests_in_base64_and_upper_case() {
        let d = detector("mac = \"3c:5a:b4:12:9e:7f\"\nandroid_id = \"9774d56d682e549c\"");
        assert_eq!(found(&d, b"m=3C5A.B412.9E7F"), [(IdKind::Mac, Encoding::Plain)]);
        // SHA-256 of the Android ID: upper-case hex, base64, URL-safe base64 without padding.
        let digest = Sha256::digest(b"9774d56d682e549c");
        let upper = hex_lower(&digest).to_ascii_uppercase();
        assert_eq!(found(&d, format!("h={upper}").as_bytes()), [(IdKind::AndroidId, Encoding::Sha256)]);
        let standard = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(found(&d, format!("h={standard}").as_bytes()), [(IdKind::AndroidId, Encoding::Sha256Base64)]);
        let md5 = URL_SAFE_NO_PAD.encode(Md5::digest(b"3c:5a:b4:12:9e:7f"));
        assert_eq!(found(&d, format!("h={md5}").as_bytes()), [(IdKind::Mac, Encoding::Md5Base64)]);
    }

    #[test]
    fn debug_never_prints_identifiers() {
        let d = detector("imei = \"356938035643809\"");
        assert!(!format!("{d:?}").contains("3569380"));
    }

    #[test]
    fn no_identifiers_find_nothing() {
        let d = LeakDetector::new(&Identifiers::new(), &DetectorConfig::default()).expect("builds");
        assert!(d.filter_stride().is_none());
        assert!(d.scan(b"imei=356938035643809").is_empty());
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The skip filter changes the cost, never the result.
        #[test]
        fn filter_never_changes_findings(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        "356938035643809", "3C:5A:B4:12:9E:7F", "3c5ab4129e7f", "jane.doe%40example.org",
                        "af2d48f2495881aed1737bb21017f9b6", "MzU2OTM4MDM1NjQzODA5", "48.8584", "2.2945", "imei=",
                    ]).prop_map(String::from),
                    "[ -~]{0,12}",
                ],
                0..24,
            )
        ) {
            let toml = "imei = \"356938035643809\"\nmac = \"3c:5a:b4:12:9e:7f\"\nemail = \"jane.doe@example.org\"\nlocation = \"48.85837,2.29448\"";
            let filtered = detector(toml);
            let mut unfiltered = detector(toml);
            unfiltered.filter = None;
            let payload = pieces.concat();
            proptest::prop_assert!(filtered.filter_stride().is_some());
            proptest::prop_assert_eq!(filtered.scan(payload.as_bytes()), unfiltered.scan(payload.as_bytes()));
        }
    }

    #[test]
    fn scan_stops_at_the_configured_length() {
        let ids = Identifiers::from_toml("imei = \"356938035643809\"").expect("valid");
        let config = DetectorConfig { max_scan_bytes: 10, ..DetectorConfig::default() };
        let d = LeakDetector::new(&ids, &config).expect("builds");
        assert!(d.scan(b"0123456789 356938035643809").is_empty());
    }

    #[test]
    fn recognises_tls_and_quic_handshakes() {
        assert!(is_encrypted_handshake(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        assert!(is_encrypted_handshake(&[0xc3, 0, 0, 0, 1, 8]));
        assert!(!is_encrypted_handshake(b"GET / HTTP/1.1"));
        assert!(!is_encrypted_handshake(&[0xc3, 1, 2, 3, 4]));
        assert!(!is_encrypted_handshake(&[]));
    }
}
