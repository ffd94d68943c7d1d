//! The verdict vocabulary: what kind of flag, how strong, and the evidence behind it.
//!
//! # Severity policy
//! Severity measures the strength of the *evidence*, not how alarming a destination sounds
//! (MISSION: a DNS lookup alone is weak evidence, an identifier leak is strong evidence).
//!
//! | kind | severity | why |
//! |---|---|---|
//! | `identifier_leak` | high | a known identifier of this device or owner was seen leaving it |
//! | `malware` | high | a host or network on a malware / command-and-control list was contacted |
//! | `identifier_pattern` | medium | an identifier-shaped value with a key hint, not confirmed as ours |
//! | `vendor_telemetry` | medium | a documented telemetry or self-registration endpoint of a maker or carrier |
//! | `watched_network` | medium | the network that hosts the server belongs to a company of a watched country |
//! | `watched_domain_owner` | medium | the domain belongs to a company of a watched country |
//! | `dns_exfiltration` | medium | the name itself carries encoded data, whatever the answer |
//! | `watched_country` | low | geolocation of the server only: edges and CDNs often sit abroad |
//! | `tracker` | low | an advertising or analytics host: common, says nothing of what was sent |
//! | `government_domain` | low | the MISSION false alarm: browsers prefetch such links |
//! | `cleartext_http` | low | readable on path; an identifier inside makes it an `identifier_leak` |
//! | `tls_without_sni` | low | many legitimate apps connect to bare addresses |
//! | `new_destination` | info | first contact is context, not evidence |
//!
//! When the only evidence for a destination finding is a DNS lookup (no connection followed),
//! [`Finding::for_dns_lookup_only`] caps it at low. It must not be applied to findings about
//! the content of the name itself (`identifier_leak` in a name, `dns_exfiltration`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How strong the evidence of a finding is; ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only.
    Info,
    /// Weak evidence.
    Low,
    /// Documented collection or an owner in a watched jurisdiction.
    Medium,
    /// Strong evidence: an identifier left the device, or a known malicious host.
    High,
}

impl Severity {
    /// Every severity, weakest first.
    pub const ALL: [Severity; 4] = [Severity::Info, Severity::Low, Severity::Medium, Severity::High];

    /// The lowercase name used in exports and serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about; the snake_case names are the stable export vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A known identifier of the device or owner was sent (plain, encoded or hashed).
    IdentifierLeak,
    /// An identifier-shaped value with a key hint (e.g. a Luhn-valid `imei=`).
    IdentifierPattern,
    /// The server's IP geolocates to a watched country.
    WatchedCountry,
    /// The network (ASN) owning the server belongs to a company of a watched country.
    WatchedNetwork,
    /// The domain (eTLD+1) belongs to a company of a watched country.
    WatchedDomainOwner,
    /// A documented telemetry, firmware-update or self-registration endpoint.
    VendorTelemetry,
    /// An advertising, analytics or tracking host.
    Tracker,
    /// A government or military domain.
    GovernmentDomain,
    /// A host or network on a malware or command-and-control list.
    Malware,
    /// HTTP without TLS.
    CleartextHttp,
    /// TLS to a bare address without a server name.
    TlsWithoutSni,
    /// A DNS name that carries encoded data.
    DnsExfiltration,
    /// First contact with a destination.
    NewDestination,
}

impl AlertKind {
    /// Every kind, in declaration order.
    pub const ALL: [AlertKind; 13] = [
        Self::IdentifierLeak,
        Self::IdentifierPattern,
        Self::WatchedCountry,
        Self::WatchedNetwork,
        Self::WatchedDomainOwner,
        Self::VendorTelemetry,
        Self::Tracker,
        Self::GovernmentDomain,
        Self::Malware,
        Self::CleartextHttp,
        Self::TlsWithoutSni,
        Self::DnsExfiltration,
        Self::NewDestination,
    ];

    /// The snake_case export name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdentifierLeak => "identifier_leak",
            Self::IdentifierPattern => "identifier_pattern",
            Self::WatchedCountry => "watched_country",
            Self::WatchedNetwork => "watched_network",
            Self::WatchedDomainOwner => "watched_domain_owner",
            Self::VendorTelemetry => "vendor_telemetry",
            Self::Tracker => "tracker",
            Self::GovernmentDomain => "government_domain",
            Self::Malware => "malware",
            Self::CleartextHttp => "cleartext_http",
            Self::TlsWithoutSni => "tls_without_sni",
            Self::DnsExfiltration => "dns_exfiltration",
            Self::NewDestination => "new_destination",
        }
    }

    /// The severity this kind gets under the policy documented in this module.
    pub fn default_severity(self) -> Severity {
        match self {
            Self::IdentifierLeak | Self::Malware => Severity::High,
            Self::IdentifierPattern
            | Self::VendorTelemetry
            | Self::WatchedNetwork
            | Self::WatchedDomainOwner
            | Self::DnsExfiltration => Severity::Medium,
            Self::WatchedCountry
            | Self::Tracker
            | Self::GovernmentDomain
            | Self::CleartextHttp
            | Self::TlsWithoutSni => Severity::Low,
            Self::NewDestination => Severity::Info,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One flag: its kind, severity, the evidence a reader can judge, and the owning company if known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What the finding is about.
    pub kind: AlertKind,
    /// How strong the evidence is.
    pub severity: Severity,
    /// Human-readable evidence (which rule, list or table matched, and on what value).
    pub evidence: String,
    /// The company behind the destination, when known.
    pub owner: Option<String>,
}

impl Finding {
    /// A finding with the kind's default severity.
    pub fn new(kind: AlertKind, evidence: impl Into<String>, owner: Option<String>) -> Self {
        Self { kind, severity: kind.default_severity(), evidence: evidence.into(), owner }
    }

    /// Caps the severity at low: the destination was only looked up in DNS, never contacted.
    pub fn for_dns_lookup_only(mut self) -> Self {
        self.severity = self.severity.min(Severity::Low);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_ordered() {
        assert!(Severity::Info < Severity::Low);
        assert!(Severity::Low < Severity::Medium);
        assert!(Severity::Medium < Severity::High);
    }

    #[test]
    fn serde_names_match_the_vocabulary() {
        for kind in AlertKind::ALL {
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(serde_json::to_string(&Severity::High).unwrap_or_default(), "\"high\"");
        let back: Severity = serde_json::from_str("\"medium\"").unwrap_or(Severity::Info);
        assert_eq!(back, Severity::Medium);
    }

    #[test]
    fn policy_identifier_leak_is_high_and_dns_only_is_at_most_low() {
        assert_eq!(AlertKind::IdentifierLeak.default_severity(), Severity::High);
        for kind in AlertKind::ALL {
            let f = Finding::new(kind, "x", None).for_dns_lookup_only();
            assert!(f.severity <= Severity::Low, "{kind}");
        }
        let info = Finding::new(AlertKind::NewDestination, "x", None).for_dns_lookup_only();
        assert_eq!(info.severity, Severity::Info, "capping never raises");
    }
}
