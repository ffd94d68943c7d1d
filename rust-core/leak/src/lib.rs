//! Finds device and owner identifiers in what a phone sends unencrypted.
//!
//! Declared identifiers ([`Identifiers`]) are searched by [`LeakDetector::scan`] in one
//! Aho-Corasick pass, in their normalised variants and encodings ([`Encoding`]).
//! [`LeakDetector::scan_patterns`] finds identifier-shaped values nobody declared
//! (Luhn-valid IMEIs, MACs, e-mail addresses, coordinates), above all next to telling keys.
//! Evidence is always redacted: it never holds a whole identifier or digest.
//!
//! ```
//! use phonehome_leak::{DetectorConfig, Encoding, IdKind, Identifiers, LeakDetector};
//!
//! let ids = Identifiers::from_toml(r#"
//!     imei = "356938035643809"
//!     location = "48.85837,2.29448"   # matched as 48.858… and 2.294… within 64 bytes
//!     [custom]
//!     account = "u-7734-kilo"
//! "#)?;
//! let detector = LeakDetector::new(&ids, &DetectorConfig::default())?;
//! let found = detector.scan(b"GET /r?imei=356938035643809 HTTP/1.1\r\n\r\n");
//! assert_eq!((found[0].kind, found[0].encoding), (IdKind::Imei, Encoding::Plain));
//! assert_eq!(found[0].key.as_deref(), Some("imei"));
//! assert_eq!(found[0].evidence, "GET /r?imei=35***********09 HTTP/1.1");
//! # Ok::<(), phonehome_leak::LeakError>(())
//! ```
//!
//! Searching is one pass: a q-gram filter probes every few bytes and hands short windows to one
//! Aho-Corasick automaton over all variants × encodings; declared coordinates are found around
//! decimal points. Matching is ASCII case-insensitive except for base64.

mod context;
mod detector;
mod filter;
mod identifiers;
mod patterns;
mod phone;
#[cfg(feature = "scenarios")]
pub mod scenarios;

pub use detector::{is_encrypted_handshake, DetectorConfig, Finding, LeakDetector};
pub use identifiers::{Identifier, Identifiers};
pub use patterns::PatternFinding;

use serde::Serialize;

/// Errors from reading identifiers or building a detector.
#[derive(Debug, thiserror::Error)]
pub enum LeakError {
    /// The identifier file is not valid TOML.
    #[error("identifier file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A key holds something other than a string, an integer or a list of them.
    #[error("identifier `{key}` must be a string, an integer or a list of them")]
    WrongType {
        /// The offending key.
        key: String,
    },
    /// A value does not have the shape its kind requires.
    #[error("identifier `{key}` is invalid: {reason}")]
    InvalidValue {
        /// The offending key.
        key: String,
        /// What is wrong with its value.
        reason: &'static str,
    },
    /// The search automaton could not be built.
    #[error("cannot build the search automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// The kind of a device or owner identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// International Mobile Equipment Identity (15 digits with its Luhn check digit; also found as its
    /// 14 digits without it and as the 16 digits of an IMEISV).
    Imei,
    /// International Mobile Subscriber Identity (up to 15 digits).
    Imsi,
    /// SIM card serial number (18–22 digits, starts with 89).
    Iccid,
    /// Phone number: E.164, national and international-prefix forms, written with or without separators.
    Phone,
    /// Wi-Fi or Bluetooth MAC address of the device.
    Mac,
    /// MAC address of the Wi-Fi access point (reveals location).
    Bssid,
    /// Android ID (SSAID), 16 hex digits.
    AndroidId,
    /// Advertising ID (GAID/OAID), a UUID.
    AdId,
    /// Hardware serial number.
    Serial,
    /// E-mail address.
    Email,
    /// Precise location (latitude and longitude).
    Location,
    /// Any other identifier the user declared.
    Custom,
}

impl IdKind {
    /// Every kind, in declaration order.
    pub const ALL: [IdKind; 12] = [
        IdKind::Imei,
        IdKind::Imsi,
        IdKind::Iccid,
        IdKind::Phone,
        IdKind::Mac,
        IdKind::Bssid,
        IdKind::AndroidId,
        IdKind::AdId,
        IdKind::Serial,
        IdKind::Email,
        IdKind::Location,
        IdKind::Custom,
    ];

    /// The key naming this kind in an identifier file (`custom` for custom ones).
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Imei => "imei",
            IdKind::Imsi => "imsi",
            IdKind::Iccid => "iccid",
            IdKind::Phone => "phone",
            IdKind::Mac => "mac",
            IdKind::Bssid => "bssid",
            IdKind::AndroidId => "android_id",
            IdKind::AdId => "ad_id",
            IdKind::Serial => "serial",
            IdKind::Email => "email",
            IdKind::Location => "location",
            IdKind::Custom => "custom",
        }
    }

    /// The built-in kind named by an identifier-file key, if any.
    pub fn from_key(key: &str) -> Option<IdKind> {
        IdKind::ALL.into_iter().find(|kind| *kind != IdKind::Custom && kind.as_str() == key)
    }
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an identifier appeared in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// As is (ASCII case-insensitive).
    Plain,
    /// Percent-encoded.
    Url,
    /// Standard base64, possibly inside a larger base64 blob.
    Base64,
    /// URL-safe base64 (reported only when it differs from standard base64).
    Base64Url,
    /// Hex of the identifier's bytes.
    Hex,
    /// MD5 hex digest.
    Md5,
    /// SHA-1 hex digest.
    Sha1,
    /// SHA-256 hex digest.
    Sha256,
    /// MD5 digest in base64 (standard or URL-safe, padded or not).
    Md5Base64,
    /// SHA-1 digest in base64.
    Sha1Base64,
    /// SHA-256 digest in base64.
    Sha256Base64,
}

impl Encoding {
    /// Every encoding, in declaration order.
    pub const ALL: [Encoding; 11] = [
        Encoding::Plain,
        Encoding::Url,
        Encoding::Base64,
        Encoding::Base64Url,
        Encoding::Hex,
        Encoding::Md5,
        Encoding::Sha1,
        Encoding::Sha256,
        Encoding::Md5Base64,
        Encoding::Sha1Base64,
        Encoding::Sha256Base64,
    ];

    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Url => "url",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Hex => "hex",
            Encoding::Md5 => "md5",
            Encoding::Sha1 => "sha1",
            Encoding::Sha256 => "sha256",
            Encoding::Md5Base64 => "md5_base64",
            Encoding::Sha1Base64 => "sha1_base64",
            Encoding::Sha256Base64 => "sha256_base64",
        }
    }

    /// How much a match in this encoding says beyond chance; breaks ties between overlapping matches.
    fn specificity(self) -> u8 {
        match self {
            Encoding::Plain => 0,
            Encoding::Url => 1,
            Encoding::Hex => 2,
            Encoding::Base64 => 3,
            Encoding::Base64Url => 4,
            Encoding::Md5 => 5,
            Encoding::Sha1 => 6,
            Encoding::Sha256 => 7,
            Encoding::Md5Base64 => 8,
            Encoding::Sha1Base64 => 9,
            Encoding::Sha256Base64 => 10,
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
