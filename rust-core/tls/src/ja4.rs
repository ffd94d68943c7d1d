//! JA4 client fingerprints, per FoxIO's specification (`technical_details/JA4.md` of FoxIO-LLC/ja4).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::hello::{ext, is_grease, ClientHello};

/// The transport that carried the ClientHello: the first character of the fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ja4Transport {
    /// TLS over TCP (`t`).
    Tcp,
    /// QUIC (`q`).
    Quic,
    /// DTLS (`d`).
    Dtls,
}

/// Written for an empty list instead of the hash of nothing.
const EMPTY_HASH: &str = "000000000000";

impl ClientHello {
    /// The JA4 fingerprint, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1` (meaningless if `truncated`).
    pub fn ja4(&self, transport: Ja4Transport) -> String {
        let parts = self.ja4_parts(transport);
        format!("{}_{}_{}", parts.prefix, truncated_sha256(&parts.ciphers), truncated_sha256(&parts.extensions))
    }

    /// The raw JA4 (`JA4_r`): the same fields with the sorted lists in clear instead of hashed.
    pub fn ja4_raw(&self, transport: Ja4Transport) -> String {
        let parts = self.ja4_parts(transport);
        format!("{}_{}_{}", parts.prefix, parts.ciphers, parts.extensions)
    }

    fn ja4_parts(&self, transport: Ja4Transport) -> Ja4Parts {
        let ciphers = sorted_without_grease(&self.cipher_suites, |_| true);
        let extensions = sorted_without_grease(&self.extensions, |e| e != ext::SERVER_NAME && e != ext::ALPN);
        let mut prefix = String::with_capacity(10);
        prefix.push(match transport {
            Ja4Transport::Tcp => 't',
            Ja4Transport::Quic => 'q',
            Ja4Transport::Dtls => 'd',
        });
        prefix.push_str(version_code(self.max_version()));
        prefix.push(if self.has_extension(ext::SERVER_NAME) { 'd' } else { 'i' });
        let count = |list: &[u16]| list.iter().filter(|&&v| !is_grease(v)).count().min(99);
        let _ = write!(prefix, "{:02}{:02}", count(&self.cipher_suites), count(&self.extensions));
        prefix.push_str(&self.ja4_alpn());
        let mut extension_field = hex_list(&extensions);
        let signature_algorithms: Vec<u16> =
            self.signature_algorithms.iter().copied().filter(|&v| !is_grease(v)).collect();
        if !extensions.is_empty() && !signature_algorithms.is_empty() {
            extension_field.push('_');
            extension_field.push_str(&hex_list(&signature_algorithms));
        }
        Ja4Parts { prefix, ciphers: hex_list(&ciphers), extensions: extension_field }
    }

    /// First and last character of the first ALPN value; hex digits when either end is not alphanumeric.
    fn ja4_alpn(&self) -> String {
        match self.first_alpn_ends {
            None => "00".to_owned(),
            Some((first, last)) if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => {
                [char::from(first), char::from(last)].iter().collect()
            }
            Some((first, last)) => format!("{:x}{:x}", first >> 4, last & 0x0f),
        }
    }
}

struct Ja4Parts {
    prefix: String,
    ciphers: String,
    extensions: String,
}

fn version_code(version: u16) -> &'static str {
    match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn sorted_without_grease(values: &[u16], keep: impl Fn(u16) -> bool) -> Vec<u16> {
    let mut kept: Vec<u16> = values.iter().copied().filter(|&v| !is_grease(v) && keep(v)).collect();
    kept.sort_unstable();
    kept
}

/// `0005,000a,...`: four lower-case hex digits per value, comma separated.
fn hex_list(values: &[u16]) -> String {
    let mut out = String::with_capacity(values.len() * 5);
    for (i, v) in values.iter().enumerate() {
        let separator = if i == 0 { "" } else { "," };
        let _ = write!(out, "{separator}{v:04x}");
    }
    out
}

/// The first 12 hex digits of the SHA-256 of `field`, or zeros when the field is empty.
fn truncated_sha256(field: &str) -> String {
    if field.is_empty() {
        return EMPTY_HASH.to_owned();
    }
    Sha256::digest(field.as_bytes()).iter().take(6).fold(String::with_capacity(12), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
