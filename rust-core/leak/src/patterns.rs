//! Identifier-shaped values nobody declared: Luhn-valid IMEIs, MACs, e-mail addresses,
//! coordinates, and values of telling keys (`imsi=`, `gaid=`, ...). Without a key the rules are
//! strict (IMEI needs a known reporting body, coordinates 5 decimals) to keep false positives low.

use std::ops::Range;

use memchr::{memchr2_iter, memchr_iter, memmem};
use serde::Serialize;

use crate::context::{evidence, key_before, key_text};
use crate::identifiers::luhn_valid;
use crate::IdKind;

/// An identifier-shaped value found without a declared identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternFinding {
    /// The kind its shape (and key) suggests.
    pub kind: IdKind,
    /// The key right before it, if any.
    pub key: Option<String>,
    /// Whether that key is a telling one (`imei`, `deviceid`, `mac`, `lat`, ...).
    pub key_hint: bool,
    /// Byte offset in the payload.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// Context with the value masked.
    pub evidence: String,
}

/// What a telling key announces: one kind, or what only the value's shape can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Kind(IdKind),
    /// An IMEI or an Android ID.
    DeviceId,
    Latitude,
    Longitude,
}

/// Hints found anywhere in a normalised key, checked in order (`simserial` before `serial`).
const CONTAINED_HINTS: &[(&str, Hint)] = &[
    ("imei", Hint::Kind(IdKind::Imei)),
    ("meid", Hint::Kind(IdKind::Imei)),
    ("androidid", Hint::Kind(IdKind::AndroidId)),
    ("ssaid", Hint::Kind(IdKind::AndroidId)),
    ("deviceid", Hint::DeviceId),
    ("imsi", Hint::Kind(IdKind::Imsi)),
    ("iccid", Hint::Kind(IdKind::Iccid)),
    ("simserial", Hint::Kind(IdKind::Iccid)),
    ("msisdn", Hint::Kind(IdKind::Phone)),
    ("phone", Hint::Kind(IdKind::Phone)),
    ("mobile", Hint::Kind(IdKind::Phone)),
    ("bssid", Hint::Kind(IdKind::Bssid)),
    ("wifimac", Hint::Kind(IdKind::Mac)),
    ("macaddr", Hint::Kind(IdKind::Mac)),
    ("advertisingid", Hint::Kind(IdKind::AdId)),
    ("adid", Hint::Kind(IdKind::AdId)),
    ("gaid", Hint::Kind(IdKind::AdId)),
    ("oaid", Hint::Kind(IdKind::AdId)),
    ("idfa", Hint::Kind(IdKind::AdId)),
    ("serial", Hint::Kind(IdKind::Serial)),
    ("email", Hint::Kind(IdKind::Email)),
    ("latitude", Hint::Latitude),
    ("longitude", Hint::Longitude),
];

/// Short hints, matched only as the whole key or its suffix (`mac` but not `machine`).
const SUFFIX_HINTS: &[(&str, Hint)] = &[
    ("mac", Hint::Kind(IdKind::Mac)),
    ("lat", Hint::Latitude),
    ("lng", Hint::Longitude),
    ("lon", Hint::Longitude),
    ("sn", Hint::Kind(IdKind::Serial)),
    ("mail", Hint::Kind(IdKind::Email)),
    ("tel", Hint::Kind(IdKind::Phone)),
];

/// Keys longer than this are not telling (and are not normalised: this runs at every `=` and `:`).
const MAX_HINT_KEY_LEN: usize = 40;

fn hint_of(key: &[u8]) -> Option<Hint> {
    if key.len() > MAX_HINT_KEY_LEN || !key.iter().any(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut buffer = [0u8; MAX_HINT_KEY_LEN];
    let mut len = 0;
    for b in key.iter().filter(|b| b.is_ascii_alphanumeric()) {
        if let Some(slot) = buffer.get_mut(len) {
            *slot = b.to_ascii_lowercase();
            len += 1;
        }
    }
    let key = buffer.get(..len)?;
    // The earliest hint in CONTAINED_HINTS wins, wherever it is in the key.
    let contained = CONTAINED_HINT_AUTOMATON
        .as_ref()
        .and_then(|automaton| automaton.find_overlapping_iter(key).map(|m| m.pattern().as_usize()).min())
        .and_then(|i| CONTAINED_HINTS.get(i));
    let suffix = || SUFFIX_HINTS.iter().find(|(h, _)| key.ends_with(h.as_bytes()));
    contained.or_else(suffix).map(|(_, hint)| *hint)
}

/// One automaton over the contained hints, so a key is read once rather than once per hint.
static CONTAINED_HINT_AUTOMATON: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| aho_corasick::AhoCorasick::new(CONTAINED_HINTS.iter().map(|(h, _)| h)).ok());

/// IMEI reporting-body prefixes in use (GSMA); a keyless 15-digit number must start with one.
const IMEI_REPORTING_BODIES: &[&[u8]] = &[
    b"01", b"10", b"30", b"33", b"35", b"44", b"45", b"49", b"50", b"51", b"52", b"53", b"54", b"86", b"91", b"98",
    b"99",
];

/// Decimals a coordinate needs: with a telling key, and without one.
const KEYED_DECIMALS: usize = 3;
const KEYLESS_DECIMALS: usize = 5;
/// Keyed latitude and longitude must be this close (bytes).
const KEYED_PAIR_WINDOW: usize = 96;
/// Shortest and longest value read after a key (the shortest: a longitude like `2.294`).
const MIN_VALUE_LEN: usize = 5;
const MAX_VALUE_LEN: usize = 80;
/// Candidates kept per payload (bounds memory on adversarial input).
const MAX_CANDIDATES: usize = 1024;

#[derive(Debug, Clone)]
struct Candidate {
    kind: IdKind,
    span: Range<usize>,
    keyed: bool,
}

/// A decimal number seen after a latitude or longitude key.
#[derive(Debug, Clone)]
struct Coordinate {
    span: Range<usize>,
    latitude: bool,
}

/// All pattern findings in `hay`, overlapping ones reduced to the keyed and longest.
pub(crate) fn scan(hay: &[u8], max_findings: usize) -> Vec<PatternFinding> {
    let mut found = Vec::new();
    keyed_values(hay, &mut found);
    keyless_imeis(hay, &mut found);
    keyless_macs(hay, &mut found);
    emails(hay, &mut found);
    keyless_coordinate_pairs(hay, &mut found);
    found.truncate(MAX_CANDIDATES);

    found.sort_by(|a, b| {
        b.keyed.cmp(&a.keyed).then(b.span.len().cmp(&a.span.len())).then(a.span.start.cmp(&b.span.start))
    });
    let mut kept: Vec<Candidate> = Vec::new();
    for c in found {
        if !kept.iter().any(|k| k.span.start < c.span.end && c.span.start < k.span.end) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.span.start);
    let masks: Vec<Range<usize>> = kept.iter().map(|c| c.span.clone()).collect();
    kept.into_iter()
        .take(max_findings)
        .map(|c| {
            let key = key_before(hay, c.span.start);
            PatternFinding {
                kind: c.kind,
                key: key.map(key_text),
                key_hint: key.and_then(hint_of).is_some(),
                offset: c.span.start,
                len: c.span.len(),
                evidence: evidence(hay, &c.span, &masks),
            }
        })
        .collect()
}

fn push(found: &mut Vec<Candidate>, kind: IdKind, span: Range<usize>, keyed: bool) {
    if found.len() < MAX_CANDIDATES {
        found.push(Candidate { kind, span, keyed });
    }
}

/// Where a value starts after the separator at `sep`: past blanks and quotes (plain or `%22`).
fn value_start(hay: &[u8], sep: usize) -> usize {
    let mut at = sep + 1;
    for _ in 0..4 {
        match hay.get(at) {
            Some(b'"' | b'\'' | b' ' | b'\t') => at += 1,
            Some(b'%') if hay.get(at..at + 3) == Some(b"%22") => at += 3,
            _ => break,
        }
    }
    at
}

fn is_value_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'_' | b':' | b'@' | b'%' | b'-')
}

/// Values after telling keys (`key=`, `"key":`, `Key:` and multipart parts).
fn keyed_values(hay: &[u8], found: &mut Vec<Candidate>) {
    let mut coordinates = Vec::new();
    let separators = memchr2_iter(b'=', b':', hay).map(|sep| value_start(hay, sep));
    let part_bodies = memmem::find_iter(hay, b"\r\n\r\n").map(|at| at + 4);
    for start in separators.chain(part_bodies) {
        let rest = hay.get(start..).unwrap_or_default();
        let len = rest.iter().take(MAX_VALUE_LEN + 1).take_while(|b| is_value_byte(**b)).count();
        if !(MIN_VALUE_LEN..=MAX_VALUE_LEN).contains(&len) {
            continue;
        }
        let Some(token) = rest.get(..len) else { continue };
        let token = token.strip_suffix(b".").unwrap_or(token);
        // Every identifier shape has a digit or an e-mail's `@`: skip the key lookup for words.
        if !token.iter().any(|b| b.is_ascii_digit() || *b == b'@') {
            continue;
        }
        let Some(hint) = key_before(hay, start).and_then(hint_of) else { continue };
        let span = start..start + token.len();
        match hint {
            Hint::Latitude | Hint::Longitude => {
                if let Some(number) = number_at(hay, start, KEYED_DECIMALS) {
                    let latitude = hint == Hint::Latitude;
                    if number.value.abs() <= if latitude { 90.0 } else { 180.0 } && coordinates.len() < MAX_CANDIDATES {
                        coordinates.push(Coordinate { span: number.span, latitude });
                    }
                }
            }
            hint => {
                if let Some(kind) = classify(hint, token) {
                    push(found, kind, span, true);
                }
            }
        }
    }
    for lat in coordinates.iter().filter(|c| c.latitude) {
        let near = coordinates.iter().find(|lon| {
            !lon.latitude
                && lon.span.start.abs_diff(lat.span.end).min(lat.span.start.abs_diff(lon.span.end)) <= KEYED_PAIR_WINDOW
        });
        if let Some(lon) = near {
            let span = lat.span.start.min(lon.span.start)..lat.span.end.max(lon.span.end);
            push(found, IdKind::Location, span, true);
        }
    }
}

fn all_digits(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(u8::is_ascii_digit)
}

fn all_same(token: &[u8]) -> bool {
    token.windows(2).all(|w| w.first() == w.get(1))
}

fn is_imei(digits: &[u8]) -> bool {
    digits.len() == 15 && all_digits(digits) && !all_same(digits) && luhn_valid(digits)
}

/// The kind of a value after a key announcing `hint`, if its shape fits.
fn classify(hint: Hint, token: &[u8]) -> Option<IdKind> {
    let kind = match hint {
        Hint::Kind(kind) => kind,
        Hint::DeviceId if is_imei(token) => IdKind::Imei,
        Hint::DeviceId => IdKind::AndroidId,
        Hint::Latitude | Hint::Longitude => return None,
    };
    let fits = match kind {
        IdKind::Imei => is_imei(token),
        IdKind::AndroidId => {
            (15..=16).contains(&token.len()) && token.iter().all(u8::is_ascii_hexdigit) && !all_same(token)
        }
        IdKind::Imsi => (14..=15).contains(&token.len()) && all_digits(token),
        IdKind::Iccid => {
            let digits = token.strip_suffix(b"F").or_else(|| token.strip_suffix(b"f")).unwrap_or(token);
            (18..=22).contains(&digits.len()) && all_digits(digits) && digits.starts_with(b"89")
        }
        IdKind::Phone => {
            let digits = token
                .strip_prefix(b"+")
                .or_else(|| token.strip_prefix(b"%2B"))
                .or_else(|| token.strip_prefix(b"%2b"))
                .unwrap_or(token);
            (8..=15).contains(&digits.len()) && all_digits(digits) && !all_same(digits)
        }
        IdKind::Mac | IdKind::Bssid => mac_shaped(token, true),
        IdKind::AdId => uuid_shaped(token),
        IdKind::Serial => {
            (6..=20).contains(&token.len())
                && token.iter().all(u8::is_ascii_alphanumeric)
                && token.iter().any(u8::is_ascii_digit)
                && token.iter().any(u8::is_ascii_alphabetic)
        }
        IdKind::Email => email_shaped(token),
        // No key announces them: coordinates are paired by their own hints, custom values are declared.
        IdKind::Location | IdKind::Custom => false,
    };
    fits.then_some(kind)
}

/// A MAC: six hex pairs with one consistent separator (`:` or `-`), or twelve hex digits when
/// `allow_bare`; never all-zero or broadcast.
fn mac_shaped(token: &[u8], allow_bare: bool) -> bool {
    let separated = token.len() == 17;
    if !(separated || (allow_bare && token.len() == 12)) {
        return false;
    }
    let sep = token.get(2).copied().filter(|_| separated);
    if separated && sep != Some(b':') && sep != Some(b'-') {
        return false;
    }
    let mut digits = token.iter().enumerate().filter(|(i, _)| !separated || i % 3 != 2).map(|(_, b)| *b);
    let shaped =
        token
            .iter()
            .enumerate()
            .all(|(i, b)| if separated && i % 3 == 2 { Some(*b) == sep } else { b.is_ascii_hexdigit() });
    shaped && !digits.clone().all(|b| b == b'0') && !digits.all(|b| b == b'f' || b == b'F')
}

fn uuid_shaped(token: &[u8]) -> bool {
    token.len() == 36
        && token.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
        && token.iter().any(|b| *b != b'0' && *b != b'-')
}

/// Top-level domains that are really file extensions (`icon@2x.png`).
const FILE_EXTENSIONS: &[&[u8]] = &[b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"js", b"css", b"html", b"json"];

fn email_shaped(token: &[u8]) -> bool {
    let (local, domain) = match memchr::memchr(b'@', token) {
        Some(at) => (token.get(..at), token.get(at + 1..)),
        None => match memmem::find(&token.to_ascii_lowercase(), b"%40") {
            Some(at) => (token.get(..at), token.get(at + 3..)),
            None => return false,
        },
    };
    let (Some(local), Some(domain)) = (local, domain) else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
        && !local.starts_with(b".")
        && !local.ends_with(b".");
    let labels: Vec<&[u8]> = domain.split(|b| *b == b'.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| !l.is_empty() && l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'));
    let tld_ok = labels.last().is_some_and(|tld| {
        tld.len() >= 2
            && tld.iter().all(u8::is_ascii_alphabetic)
            && !FILE_EXTENSIONS.iter().any(|ext| tld.eq_ignore_ascii_case(ext))
    });
    local_ok && domain_ok && tld_ok
}

/// Keyless 15-digit runs that are Luhn-valid and start with a known reporting body.
fn keyless_imeis(hay: &[u8], found: &mut Vec<Candidate>) {
    const LEN: usize = 15;
    let is_digit = |i: usize| hay.get(i).is_some_and(u8::is_ascii_digit);
    // Every run of 15 digits covers one of the probed positions, 15 bytes apart.
    let mut probe = LEN - 1;
    while probe < hay.len() {
        if !is_digit(probe) {
            probe += LEN;
            continue;
        }
        let mut start = probe;
        while start > 0 && is_digit(start - 1) {
            start -= 1;
        }
        let mut end = probe + 1;
        while is_digit(end) {
            end += 1;
        }
        probe = end + LEN;
        let Some(digits) = hay.get(start..end) else { break };
        // Not a decimal part, nor a phone number.
        let before = start.checked_sub(1).and_then(|j| hay.get(j)).copied();
        let decimal = before == Some(b'.') || (hay.get(end) == Some(&b'.') && is_digit(end + 1));
        if !decimal
            && before != Some(b'+')
            && is_imei(digits)
            && IMEI_REPORTING_BODIES.iter().any(|rb| digits.starts_with(rb))
        {
            push(found, IdKind::Imei, start..end, false);
        }
    }
}

/// Keyless MACs with separators, not part of a longer run of hex groups.
fn keyless_macs(hay: &[u8], found: &mut Vec<Candidate>) {
    let mut next = 0;
    for sep in memchr2_iter(b':', b'-', hay) {
        let Some(start) = sep.checked_sub(2).filter(|s| *s >= next) else { continue };
        let Some(token) = hay.get(start..start + 17) else { continue };
        if !mac_shaped(token, false) {
            continue;
        }
        let sep_byte = hay.get(sep).copied();
        let joined = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_hexdigit() || Some(b) == sep_byte);
        let before = start.checked_sub(1).and_then(|j| hay.get(j)).copied();
        let after = hay.get(start + 17).copied();
        if !joined(before) && !joined(after) {
            push(found, IdKind::Mac, start..start + 17, false);
            next = start + 17;
        }
    }
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// E-mail addresses around `@` or a percent-encoded `%40`.
fn emails(hay: &[u8], found: &mut Vec<Candidate>) {
    let plain = memchr_iter(b'@', hay).map(|at| (at, at + 1));
    let encoded = memmem::find_iter(hay, b"%40").map(|at| (at, at + 3));
    for (at, domain_start) in plain.chain(encoded) {
        let mut start = at;
        while start > at.saturating_sub(64) && hay.get(start - 1).copied().is_some_and(is_local_byte) {
            start -= 1;
        }
        let mut end = domain_start;
        while end < domain_start + 253 && hay.get(end).copied().is_some_and(is_domain_byte) {
            end += 1;
        }
        // A sentence may end right after the address.
        while end > domain_start && hay.get(end - 1) == Some(&b'.') {
            end -= 1;
        }
        if hay.get(start..end).is_some_and(email_shaped) {
            push(found, IdKind::Email, start..end, false);
        }
    }
}

#[derive(Debug, Clone)]
struct Number {
    span: Range<usize>,
    value: f64,
}

/// The decimal number (`-12.34567`) with at least `min_decimals` starting at `start`, if one
/// does and it stands alone.
fn number_at(hay: &[u8], start: usize, min_decimals: usize) -> Option<Number> {
    let before = start.checked_sub(1).and_then(|i| hay.get(i)).copied();
    if before.is_some_and(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return None;
    }
    let digits_from = |at: usize| hay.get(at..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
    let sign = usize::from(hay.get(start) == Some(&b'-'));
    let int_len = digits_from(start + sign);
    if !(1..=3).contains(&int_len) || hay.get(start + sign + int_len) != Some(&b'.') {
        return None;
    }
    let decimals = digits_from(start + sign + int_len + 1);
    let end = start + sign + int_len + 1 + decimals;
    if decimals < min_decimals.max(1) || hay.get(end) == Some(&b'.') {
        return None;
    }
    let text = std::str::from_utf8(hay.get(start..end)?).ok()?;
    Some(Number { span: start..end, value: text.parse().ok()? })
}

/// `lat,lon` pairs without keys: both with 5+ decimals and in range.
fn keyless_coordinate_pairs(hay: &[u8], found: &mut Vec<Candidate>) {
    for dot in memchr_iter(b'.', hay) {
        // Find the number whose decimal point this is.
        let int_start = (dot.saturating_sub(3)..dot).find(|&s| hay.get(s..dot).is_some_and(all_digits)).unwrap_or(dot);
        let start = if int_start > 0 && hay.get(int_start - 1) == Some(&b'-') { int_start - 1 } else { int_start };
        let Some(lat) = number_at(hay, start, KEYLESS_DECIMALS) else { continue };
        if lat.value.abs() > 90.0 {
            continue;
        }
        let after = lat.span.end;
        let separator = [&b", "[..], b",", b"%2C", b"%2c"]
            .iter()
            .find(|s| hay.get(after..after + s.len()) == Some(**s))
            .map_or(0, |s| s.len());
        if separator == 0 {
            continue;
        }
        let Some(lon) = number_at(hay, after + separator, KEYLESS_DECIMALS) else { continue };
        if lon.value.abs() <= 180.0 && (lat.value != 0.0 || lon.value != 0.0) {
            push(found, IdKind::Location, lat.span.start..lon.span.end, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(payload: &[u8]) -> Vec<(IdKind, bool)> {
        scan(payload, 64).iter().map(|f| (f.kind, f.key_hint)).collect()
    }

    #[test]
    fn hints_ignore_case_and_separators_but_not_longer_words() {
        assert_eq!(hint_of(b"X-Device-Id"), Some(Hint::DeviceId));
        assert_eq!(hint_of(b"wifi_MAC"), Some(Hint::Kind(IdKind::Mac)));
        assert_eq!(hint_of(b"sim_serial"), Some(Hint::Kind(IdKind::Iccid)));
        assert_eq!(hint_of(b"machine"), None);
        assert_eq!(hint_of(b"12345"), None);
    }

    #[test]
    fn keyed_imei_needs_luhn() {
        assert_eq!(kinds(b"GET /a?imei=490154203237518&v=2"), [(IdKind::Imei, true)]);
        assert!(kinds(b"GET /a?imei=490154203237519&v=2").is_empty());
        assert_eq!(kinds(b"{\"device_id\":\"490154203237518\"}"), [(IdKind::Imei, true)]);
    }

    #[test]
    fn keyless_imei_needs_reporting_body_and_boundaries() {
        assert_eq!(kinds(b"x 490154203237518 y"), [(IdKind::Imei, false)]);
        // Luhn-valid but reporting body 12 is not in use.
        assert!(kinds(b"x 120000000000005 y").is_empty());
        assert!(kinds(b"x 4901542032375189 y").is_empty());
        assert!(kinds(b"x 3.490154203237518 y").is_empty());
    }

    #[test]
    fn macs_with_consistent_separators_only() {
        assert_eq!(kinds(b"bssid=f4:f2:6d:8a:10:c3&"), [(IdKind::Bssid, true)]);
        assert_eq!(kinds(b"wifi_mac=F4F26D8A10C3&"), [(IdKind::Mac, true)]);
        assert_eq!(kinds(b"seen 3c-5a-b4-12-9e-7f here"), [(IdKind::Mac, false)]);
        for benign in [
            &b"t 3c:5a-b4:12:9e:7f"[..],
            b"00:00:00:00:00:00",
            b"ff:ff:ff:ff:ff:ff",
            b"a 12:34:56:78:90:12:34 b",
            b"fe80::3c5a:b4ff:fe12:9e7f",
            b"machine=3c5ab4129e7f",
        ] {
            assert!(kinds(benign).is_empty(), "{}", String::from_utf8_lossy(benign));
        }
    }

    #[test]
    fn emails_plain_and_encoded_not_file_names() {
        assert_eq!(kinds(b"to: jane.doe@example.org."), [(IdKind::Email, false)]);
        assert_eq!(kinds(b"email=jane.doe%40example.org&x"), [(IdKind::Email, true)]);
        assert!(kinds(b"src=\"icon@2x.png\"").is_empty());
        assert!(kinds(b"a @ b").is_empty());
    }

    #[test]
    fn coordinates_keyed_and_keyless() {
        assert_eq!(kinds(b"lat=48.858&lng=2.294"), [(IdKind::Location, true)]);
        assert_eq!(kinds(b"{\"latitude\": -33.8679, \"longitude\": 151.2073}"), [(IdKind::Location, true)]);
        assert_eq!(kinds(b"loc=48.85837,2.29448;"), [(IdKind::Location, false)]);
        assert!(kinds(b"v=1.2345,6.7890").is_empty());
        assert!(kinds(b"lat=48.858").is_empty());
        assert!(kinds(b"p=148.858370,2.294480").is_empty());
    }

    #[test]
    fn keyed_subscriber_and_ad_identifiers() {
        assert_eq!(kinds(b"imsi=208150123456789"), [(IdKind::Imsi, true)]);
        assert_eq!(kinds(b"iccid=8933150319123456789F"), [(IdKind::Iccid, true)]);
        assert_eq!(kinds(b"msisdn=%2B33612345678"), [(IdKind::Phone, true)]);
        assert_eq!(kinds(b"\"androidId\":\"9774d56d682e549c\""), [(IdKind::AndroidId, true)]);
        assert_eq!(kinds(b"gaid=38400000-8cf0-11bd-b23e-10b96e40000d"), [(IdKind::AdId, true)]);
        assert!(kinds(b"gaid=00000000-0000-0000-0000-000000000000").is_empty());
        assert_eq!(kinds(b"X-Serial: R58M12ABCDE\r\n"), [(IdKind::Serial, true)]);
        assert!(kinds(b"serial=unknown").is_empty());
    }

    #[test]
    fn evidence_is_redacted() {
        let found = scan(b"GET /a?imei=490154203237518&mac=3c:5a:b4:12:9e:7f HTTP/1.1", 64);
        assert_eq!(found.len(), 2);
        for f in &found {
            assert!(
                !f.evidence.contains("490154203237518") && !f.evidence.contains("3c:5a:b4:12:9e:7f"),
                "{}",
                f.evidence
            );
        }
    }
}
