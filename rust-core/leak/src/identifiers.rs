//! Declared identifiers: reading, validating and normalising them.

use std::collections::HashSet;

use crate::{IdKind, LeakError};

/// One declared identifier, normalised (separators removed, canonical case).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    /// Its kind.
    pub kind: IdKind,
    /// Its name: the kind's key, or the custom key.
    pub label: String,
    /// The canonical value (MAC `aa:bb:cc:dd:ee:ff`, location `lat,lon`, digits for numbers).
    pub value: String,
}

// The value is a secret of the user: never print it whole.
impl std::fmt::Debug for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identifier")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .finish()
    }
}

/// The set of identifiers a user declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    items: Vec<Identifier>,
    /// The items again, so a repeated declaration is found in constant time.
    seen: HashSet<Identifier>,
}

/// Shortest serial or custom value accepted: shorter ones would match by chance (and would
/// shorten the search filter's stride).
const MIN_CUSTOM_LEN: usize = 6;
/// Longest value accepted (bounds the automaton).
const MAX_VALUE_LEN: usize = 256;

impl Identifiers {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a TOML identifier file: built-in keys (`imei`, `mac`, ...), any other key or a
    /// `[custom]` table for custom identifiers; each value a string, an integer or a list of them.
    ///
    /// `location` is `"lat,lon"` in decimal degrees with at least 3 decimals; it is matched as
    /// both numbers truncated (or rounded) to 3 decimals (about 100 m), within 64 bytes of each other.
    pub fn from_toml(text: &str) -> Result<Self, LeakError> {
        let table: toml::Table = toml::from_str(text)?;
        let mut ids = Identifiers::new();
        for (key, value) in &table {
            match (key.as_str(), value) {
                ("custom", toml::Value::Table(custom)) => {
                    for (name, value) in custom {
                        ids.push_values(IdKind::Custom, name, value)?;
                    }
                }
                _ => {
                    let kind = IdKind::from_key(key).unwrap_or(IdKind::Custom);
                    ids.push_values(kind, key, value)?;
                }
            }
        }
        Ok(ids)
    }

    fn push_values(&mut self, kind: IdKind, key: &str, value: &toml::Value) -> Result<(), LeakError> {
        let wrong_type = || LeakError::WrongType { key: key.to_owned() };
        let scalar = |value: &toml::Value| match value {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            _ => Err(wrong_type()),
        };
        match value {
            toml::Value::Array(values) => {
                for value in values {
                    self.push(kind, key, &scalar(value)?)?;
                }
                Ok(())
            }
            value => self.push(kind, key, &scalar(value)?),
        }
    }

    /// Adds one identifier after validating and normalising its value.
    pub fn push(&mut self, kind: IdKind, label: &str, value: &str) -> Result<(), LeakError> {
        let invalid = |reason| LeakError::InvalidValue { key: label.to_owned(), reason };
        let value = value.trim();
        if value.len() > MAX_VALUE_LEN {
            return Err(invalid("longer than 256 bytes"));
        }
        let value = normalise(kind, value).map_err(invalid)?;
        let identifier = Identifier { kind, label: label.to_owned(), value };
        if self.seen.insert(identifier.clone()) {
            self.items.push(identifier);
        }
        Ok(())
    }

    /// The identifiers, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &Identifier> {
        self.items.iter()
    }

    /// How many identifiers are declared.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none is declared.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

fn digits_only(value: &str, separators: &[char]) -> Result<String, &'static str> {
    let mut digits = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !separators.contains(&c) {
            return Err("unexpected character in a number");
        }
    }
    Ok(digits)
}

fn hex_only(value: &str, separators: &[char]) -> Result<String, &'static str> {
    let mut hex = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_hexdigit() {
            hex.push(c.to_ascii_lowercase());
        } else if !separators.contains(&c) {
            return Err("unexpected character in a hex value");
        }
    }
    Ok(hex)
}

/// Luhn checksum over ASCII digits (IMEI check digit).
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// An IMEI's searched forms from its 14, 15 or 16 declared digits: the 15 digits with the Luhn check digit,
/// and the 14 without it (which, followed by 2 digits, is also the IMEISV).
fn imei_forms(digits: &str) -> Vec<String> {
    let body = digits.get(..14).unwrap_or(digits);
    let check = (0..10u8).map(|d| format!("{body}{d}")).find(|full| luhn_valid(full.as_bytes()));
    let mut forms: Vec<String> = check.into_iter().collect();
    forms.push(body.to_owned());
    forms
}

/// `aa:bb:cc:dd:ee:ff` from 12 hex digits.
pub(crate) fn mac_with_colons(hex12: &str) -> String {
    let mut out = String::with_capacity(17);
    for (i, c) in hex12.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(':');
        }
        out.push(c);
    }
    out
}

fn normalise(kind: IdKind, value: &str) -> Result<String, &'static str> {
    const SEPARATORS: &[char] = &[' ', '-', '.', '(', ')', '/'];
    match kind {
        IdKind::Imei => {
            let digits = digits_only(value, SEPARATORS)?;
            match digits.len() {
                15 if luhn_valid(digits.as_bytes()) => Ok(digits),
                15 => Err("IMEI check digit (Luhn) is wrong"),
                14 | 16 => Ok(digits), // IMEI without check digit, or IMEISV
                _ => Err("IMEI must have 14 to 16 digits"),
            }
        }
        IdKind::Imsi => {
            let digits = digits_only(value, SEPARATORS)?;
            if (6..=15).contains(&digits.len()) {
                Ok(digits)
            } else {
                Err("IMSI must have 6 to 15 digits")
            }
        }
        IdKind::Iccid => {
            let digits = digits_only(value.trim_end_matches(['f', 'F']), SEPARATORS)?;
            if (18..=22).contains(&digits.len()) {
                Ok(digits)
            } else {
                Err("ICCID must have 18 to 22 digits")
            }
        }
        IdKind::Phone => {
            let plus = value.starts_with('+');
            let digits = digits_only(value.trim_start_matches('+'), SEPARATORS)?;
            if !(6..=15).contains(&digits.len()) {
                return Err("phone number must have 6 to 15 digits");
            }
            Ok(if plus { format!("+{digits}") } else { digits })
        }
        IdKind::Mac | IdKind::Bssid => {
            let hex = hex_only(value, &[':', '-', '.'])?;
            let seps: Vec<char> = value.chars().filter(|c| !c.is_ascii_hexdigit()).collect();
            if hex.len() != 12 || seps.windows(2).any(|w| w.first() != w.get(1)) {
                return Err("MAC must be 12 hex digits with consistent separators");
            }
            if hex == "000000000000" || hex == "ffffffffffff" {
                return Err("MAC is all-zero or broadcast");
            }
            Ok(mac_with_colons(&hex))
        }
        IdKind::AndroidId => {
            let hex = hex_only(value, &[])?;
            if (8..=16).contains(&hex.len()) {
                Ok(hex)
            } else {
                Err("Android ID must have 8 to 16 hex digits")
            }
        }
        IdKind::AdId => {
            let hex = hex_only(value, &['-'])?;
            if hex.len() != 32 {
                return Err("advertising ID must be a UUID");
            }
            let (a, rest) = hex.split_at(8);
            let (b, rest) = rest.split_at(4);
            let (c, rest) = rest.split_at(4);
            let (d, e) = rest.split_at(4);
            Ok(format!("{a}-{b}-{c}-{d}-{e}"))
        }
        IdKind::Serial => {
            if value.len() >= MIN_CUSTOM_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(value.to_owned())
            } else {
                Err("serial must be at least 6 letters or digits")
            }
        }
        IdKind::Email => {
            let (local, domain) = value.split_once('@').ok_or("e-mail needs an @")?;
            let plausible = !local.is_empty()
                && domain.contains('.')
                && !value.bytes().any(|b| b.is_ascii_whitespace() || !b.is_ascii_graphic());
            if plausible {
                Ok(value.to_ascii_lowercase())
            } else {
                Err("not an e-mail address")
            }
        }
        IdKind::Location => {
            let (lat, lon) = value.split_once(',').ok_or("location must be \"lat,lon\"")?;
            let (lat, lon) = (lat.trim(), lon.trim());
            let in_range = |text: &str, limit: f64| {
                text.parse::<f64>().is_ok_and(|v| v.abs() <= limit) && decimals(text).is_some_and(|d| d >= 3)
            };
            if in_range(lat, 90.0) && in_range(lon, 180.0) {
                Ok(format!("{lat},{lon}"))
            } else {
                Err("location must be \"lat,lon\" in degrees with at least 3 decimals")
            }
        }
        IdKind::Custom => {
            if value.len() >= MIN_CUSTOM_LEN {
                Ok(value.to_owned())
            } else {
                Err("custom identifier must be at least 6 bytes")
            }
        }
    }
}

/// Number of digits after the decimal point of a plain decimal number, if it is one.
fn decimals(text: &str) -> Option<usize> {
    let (int, frac) = text.trim_start_matches(['-', '+']).split_once('.')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (all_digits(int) && all_digits(frac)).then_some(frac.len())
}

/// The forms a coordinate is searched as: truncated and rounded to 3 decimals (deduplicated).
pub(crate) fn coordinate_prefixes(text: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    if let Some((int, frac)) = text.split_once('.') {
        out.push(format!("{int}.{}", frac.get(..3).unwrap_or(frac)));
    }
    if let Ok(v) = text.parse::<f64>() {
        let rounded = format!("{v:.3}");
        if !out.contains(&rounded) {
            out.push(rounded);
        }
    }
    out
}

impl Identifier {
    /// The normalised textual variants searched for (case and separator forms), deduplicated.
    pub(crate) fn variants(&self) -> Vec<String> {
        let v = &self.value;
        let mut out: Vec<String> = match self.kind {
            IdKind::Imei => imei_forms(v),
            IdKind::Imsi | IdKind::Iccid => vec![v.clone()],
            IdKind::Phone => {
                let digits = v.trim_start_matches('+').to_owned();
                let mut forms = vec![format!("+{digits}"), digits];
                if v.starts_with('+') {
                    forms.extend(crate::phone::compact_forms(v));
                }
                forms
            }
            IdKind::Mac | IdKind::Bssid => {
                let bare: String = v.chars().filter(|c| *c != ':').collect();
                let forms = [v.clone(), v.replace(':', "-"), bare];
                forms.iter().flat_map(|f| [f.clone(), f.to_ascii_uppercase()]).collect()
            }
            IdKind::AndroidId => vec![v.clone(), v.to_ascii_uppercase()],
            IdKind::AdId => {
                let bare = v.replace('-', "");
                vec![v.clone(), v.to_ascii_uppercase(), bare.clone(), bare.to_ascii_uppercase()]
            }
            IdKind::Serial | IdKind::Custom => {
                vec![v.clone(), v.to_ascii_uppercase(), v.to_ascii_lowercase()]
            }
            IdKind::Email | IdKind::Location => vec![v.clone()],
        };
        let mut seen = std::collections::HashSet::new();
        out.retain(|s| seen.insert(s.clone()));
        out
    }
}

impl Identifier {
    /// Forms written with separators for people, searched as they are and URL-encoded only: a phone number
    /// grouped as its country groups it (the country from the declared E.164 number), a MAC in Cisco's
    /// dotted form.
    pub(crate) fn written_variants(&self) -> Vec<String> {
        match self.kind {
            IdKind::Phone if self.value.starts_with('+') => crate::phone::written_forms(&self.value),
            IdKind::Mac | IdKind::Bssid => {
                let bare: String = self.value.chars().filter(|c| *c != ':').collect();
                let dotted = bare.as_bytes().chunks(4).map(String::from_utf8_lossy).collect::<Vec<_>>().join(".");
                vec![dotted]
            }
            _ => Vec::new(),
        }
    }

    /// The binary form of hex-valued identifiers (MAC, Android ID, advertising ID), which apps
    /// pack into binary messages before base64-encoding or hashing them.
    pub(crate) fn raw_bytes(&self) -> Option<Vec<u8>> {
        let hex: Vec<u8> = match self.kind {
            IdKind::Mac | IdKind::Bssid | IdKind::AdId | IdKind::AndroidId => {
                self.value.bytes().filter(u8::is_ascii_hexdigit).collect()
            }
            _ => return None,
        };
        // Fewer than 6 bytes give base64 needles short enough to match by chance.
        if hex.len() < 12 {
            return None;
        }
        // Hand-written: two lines, and the hex crate is not otherwise needed.
        let nibble = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
        hex.chunks_exact(2)
            .map(|pair| Some(nibble(*pair.first()?)? << 4 | nibble(*pair.get(1)?)?))
            .collect::<Option<Vec<u8>>>()
            .filter(|raw| raw.len() * 2 == hex.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_kind_and_lists() {
        let ids = Identifiers::from_toml(
            r#"
            imei = ["35-693803-564380-9", 490154203237518]
            imsi = "208150123456789"
            iccid = "8933150319123456789F"
            phone = "+33 6 12 34 56 78"
            mac = "3C-5A-B4-12-9E-7F"
            bssid = "f4:f2:6d:8a:10:c3"
            android_id = "9774D56D682E549C"
            ad_id = "38400000-8CF0-11BD-B23E-10B96E40000D"
            serial = "R58M12ABCDE"
            email = "Jane.Doe@Example.org"
            location = "48.85837, 2.29448"
            account = "u-7734-kilo"
            [custom]
            token = "tok_5f2a9c"
            "#,
        )
        .expect("valid file");
        let got: Vec<(IdKind, &str, &str)> = ids.iter().map(|i| (i.kind, i.label.as_str(), i.value.as_str())).collect();
        assert!(got.contains(&(IdKind::Imei, "imei", "356938035643809")));
        assert!(got.contains(&(IdKind::Imei, "imei", "490154203237518")));
        assert!(got.contains(&(IdKind::Iccid, "iccid", "8933150319123456789")));
        assert!(got.contains(&(IdKind::Phone, "phone", "+33612345678")));
        assert!(got.contains(&(IdKind::Mac, "mac", "3c:5a:b4:12:9e:7f")));
        assert!(got.contains(&(IdKind::AndroidId, "android_id", "9774d56d682e549c")));
        assert!(got.contains(&(IdKind::AdId, "ad_id", "38400000-8cf0-11bd-b23e-10b96e40000d")));
        assert!(got.contains(&(IdKind::Email, "email", "jane.doe@example.org")));
        assert!(got.contains(&(IdKind::Location, "location", "48.85837,2.29448")));
        assert!(got.contains(&(IdKind::Custom, "account", "u-7734-kilo")));
        assert!(got.contains(&(IdKind::Custom, "token", "tok_5f2a9c")));
        assert_eq!(ids.len(), 14);
    }

    #[test]
    fn rejects_bad_shapes_and_types() {
        for bad in [
            "imei = \"356938035643808\"",
            "mac = \"3c:5a-b4:12:9e:7f\"",
            "mac = \"ff:ff:ff:ff:ff:ff\"",
            "email = \"nobody\"",
            "location = \"48.8,2.2\"",
            "location = \"98.85837,2.29448\"",
            "imsi = 1.5",
            "custom_x = \"ab\"",
            "ad_id = \"not-a-uuid\"",
            "imei = [[1]]",
            "= broken",
        ] {
            assert!(Identifiers::from_toml(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn luhn_matches_known_imeis() {
        assert!(luhn_valid(b"356938035643809"));
        assert!(luhn_valid(b"490154203237518"));
        assert!(!luhn_valid(b"490154203237519"));
        assert!(!luhn_valid(b"49015420323751x"));
    }

    #[test]
    fn coordinates_truncate_and_round() {
        assert_eq!(coordinate_prefixes("48.85837"), ["48.858"]);
        assert_eq!(coordinate_prefixes("2.29468"), ["2.294", "2.295"]);
        assert_eq!(coordinate_prefixes("-33.8679"), ["-33.867", "-33.868"]);
    }

    #[test]
    fn raw_bytes_of_hex_identifiers() {
        let mut ids = Identifiers::new();
        ids.push(IdKind::Mac, "mac", "3c:5a:b4:12:9e:7f").expect("valid");
        ids.push(IdKind::AndroidId, "android_id", "774d56d682e549c").expect("valid");
        let raw: Vec<Option<Vec<u8>>> = ids.iter().map(Identifier::raw_bytes).collect();
        assert_eq!(raw, [Some(vec![0x3c, 0x5a, 0xb4, 0x12, 0x9e, 0x7f]), None]);
    }

    #[test]
    fn debug_never_prints_the_value() {
        let mut ids = Identifiers::new();
        ids.push(IdKind::Imei, "imei", "356938035643809").expect("valid");
        assert!(!format!("{ids:?}").contains("3569380"));
    }
}
