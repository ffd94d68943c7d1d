//! Host-name normalisation shared by every domain lookup.

use std::net::IpAddr;

use hashbrown::HashMap;

/// Longest textual DNS name (RFC 1035: 255 octets on the wire, 253 as text without the root dot).
pub(crate) const MAX_NAME: usize = 253;

/// A lowercased, trailing-dot-free copy of a host name on the stack (lookups never allocate).
#[derive(Clone)]
pub(crate) struct NameBuf {
    bytes: [u8; MAX_NAME],
    len: usize,
}

impl NameBuf {
    /// Normalises `host`; `None` for names that cannot be DNS names (empty, too long, empty
    /// labels, bytes other than letters, digits, `-` and `_`) or that are IP literals.
    pub(crate) fn new(host: &str) -> Option<Self> {
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() || host.len() > MAX_NAME || is_ip_literal(host) {
            return None;
        }
        let mut bytes = [0u8; MAX_NAME];
        let mut previous = b'.';
        for (slot, &b) in bytes.iter_mut().zip(host.as_bytes()) {
            let b = b.to_ascii_lowercase();
            let ok = b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
            if !(ok || (b == b'.' && previous != b'.')) {
                return None;
            }
            *slot = b;
            previous = b;
        }
        (previous != b'.').then_some(Self { bytes, len: host.len() })
    }

    /// The normalised name.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this never fails.
        self.bytes.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }
}

/// True for IPv4 or IPv6 literals, bracketed or not (they have no domain owner).
pub(crate) fn is_ip_literal(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse::<IpAddr>().is_ok()
}

/// The name and each parent domain, longest first: `a.b.c`, `b.c`, `c`.
pub(crate) fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::once(name).chain(name.match_indices('.').filter_map(|(i, _)| name.get(i + 1..)))
}

/// Curated rows keyed by domain, found by a name's most specific listed suffix (the name or a parent).
pub(crate) struct SuffixIndex<T: 'static> {
    rows: HashMap<&'static str, &'static T>,
}

impl<T> SuffixIndex<T> {
    /// Indexes `rows` by the domain `domain` names of each (built once).
    pub(crate) fn new(rows: &'static [T], domain: fn(&T) -> &'static str) -> Self {
        Self { rows: rows.iter().map(|row| (domain(row), row)).collect() }
    }

    /// The row whose domain is the normalised `name` or its most specific listed parent.
    pub(crate) fn lookup(&self, name: &str) -> Option<&'static T> {
        suffixes(name).find_map(|s| self.rows.get(s).copied())
    }
}

/// Checks curated rows: unique domains, each a normalised DNS name, each with an https source.
#[cfg(test)]
pub(crate) fn assert_curated<T>(rows: &[T], domain: fn(&T) -> &str, source: fn(&T) -> &str) {
    let unique: std::collections::HashSet<&str> = rows.iter().map(domain).collect();
    assert_eq!(unique.len(), rows.len(), "a domain listed twice");
    for row in rows {
        assert!(source(row).starts_with("https://"), "{}", domain(row));
        assert_eq!(NameBuf::new(domain(row)).map(|n| n.as_str().to_owned()).as_deref(), Some(domain(row)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_trailing_dot() {
        assert_eq!(
            NameBuf::new("Tracking.Intl.MIUI.com.").map(|n| n.as_str().to_owned()).as_deref(),
            Some("tracking.intl.miui.com")
        );
        for bad in ["", ".", "a..b", ".a", "a b", "bücher.de", "1.2.3.4", "::1", "[2001:db8::1]"] {
            assert!(NameBuf::new(bad).is_none(), "{bad:?}");
        }
        assert!(NameBuf::new(&"a.".repeat(127)).is_some());
        assert!(NameBuf::new(&"a.".repeat(128)).is_none());
    }

    #[test]
    fn suffixes_walk_parents() {
        let all: Vec<&str> = suffixes("a.b.example.com").collect();
        assert_eq!(all, ["a.b.example.com", "b.example.com", "example.com", "com"]);
    }
}
