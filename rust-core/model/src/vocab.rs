//! The closed vocabularies of the records: each value with the one text name exports, SQL and the CLI use.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum's text names once: `as_str`, `ALL` (declaration order), `FromStr`, `Display`.
macro_rules! vocabulary {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The name exports write.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            /// The value exports wrote as `text` (exactly as written).
            fn from_str(text: &str) -> Result<Self, UnknownName> {
                $name::ALL.into_iter().find(|value| value.as_str() == text).ok_or_else(|| UnknownName(text.to_owned()))
            }
        }
    };
}

/// A name that is not in a vocabulary (a damaged store, or one from a newer phonehome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

/// Transport protocol of a flow. ICMP stands for ICMP and ICMPv6 echo alike (the address family tells them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Proto {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "ICMP")]
    Icmp,
}

vocabulary!(Proto { Tcp => "TCP", Udp => "UDP", Icmp => "ICMP" });

impl Proto {
    /// IANA protocol number (ICMP counts as 1 whatever the IP version).
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
        }
    }
}

/// Application protocol recognised in a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "UPPERCASE")]
pub enum L7 {
    Dns,
    Tls,
    Http,
    Quic,
    /// HTTP/2 in cleartext (h2c).
    #[serde(rename = "HTTP2")]
    Http2,
}

vocabulary!(L7 { Dns => "DNS", Tls => "TLS", Http => "HTTP", Quic => "QUIC", Http2 => "HTTP2" });

/// Where a flow's `host` came from, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum HostSource {
    /// TLS server_name of the ClientHello.
    Sni,
    /// server_name of the ClientHello inside a QUIC Initial.
    Quic,
    /// HTTP Host header.
    Http,
    /// The question of a DNS flow, or a DNS answer that resolved to this flow's server address.
    Dns,
}

vocabulary!(HostSource { Sni => "sni", Quic => "quic", Http => "http", Dns => "dns" });

/// How a TCP flow ended, as far as its packets showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum TcpState {
    Reset,
    Closed,
    HalfClosed,
    /// Data was seen before any handshake: the capture started mid-connection.
    Midstream,
    Established,
    SynSent,
    Unknown,
}

vocabulary!(TcpState {
    Reset => "reset",
    Closed => "closed",
    HalfClosed => "half_closed",
    Midstream => "midstream",
    Established => "established",
    SynSent => "syn_sent",
    Unknown => "unknown",
});

/// How strong the evidence of a finding is; ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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

vocabulary!(Severity { Info => "info", Low => "low", Medium => "medium", High => "high" });

impl Severity {
    /// The severity a user typed (`info`, `Low`, ` high `…).
    pub fn parse_loose(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|severity| severity.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// What a finding is about; the snake_case names are the stable export vocabulary.
///
/// # Severity policy
/// Severity measures the strength of the *evidence*, not how alarming a destination sounds (a DNS lookup alone
/// is weak evidence, an identifier leak is strong evidence); [`AlertKind::default_severity`]:
///
/// | kind | severity | why |
/// |---|---|---|
/// | `identifier_leak` | high | a known identifier of this device or owner was seen leaving it |
/// | `malware` | high | a host or network on a malware / command-and-control list was contacted |
/// | `identifier_pattern` | medium | an identifier-shaped value with a key hint, not confirmed as ours |
/// | `vendor_telemetry` | medium | a documented telemetry or self-registration endpoint of a maker or carrier |
/// | `watched_network` | medium | the network that hosts the server belongs to a company of a watched country |
/// | `watched_domain_owner` | medium | the domain belongs to a company of a watched country |
/// | `dns_exfiltration` | medium | the name itself carries encoded data, whatever the answer |
/// | `watched_country` | low | geolocation of the server only: edges and CDNs often sit abroad |
/// | `tracker` | low | an advertising or analytics host: common, says nothing of what was sent |
/// | `government_domain` | low | browsers prefetch such links |
/// | `cleartext_http` | low | readable on path; an identifier inside makes it an `identifier_leak` |
/// | `tls_without_sni` | low | many legitimate apps connect to bare addresses |
/// | `new_destination` | info | first contact is context, not evidence |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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

vocabulary!(AlertKind {
    IdentifierLeak => "identifier_leak",
    IdentifierPattern => "identifier_pattern",
    WatchedCountry => "watched_country",
    WatchedNetwork => "watched_network",
    WatchedDomainOwner => "watched_domain_owner",
    VendorTelemetry => "vendor_telemetry",
    Tracker => "tracker",
    GovernmentDomain => "government_domain",
    Malware => "malware",
    CleartextHttp => "cleartext_http",
    TlsWithoutSni => "tls_without_sni",
    DnsExfiltration => "dns_exfiltration",
    NewDestination => "new_destination",
});

impl AlertKind {
    /// The severity this kind gets under the policy documented on [`AlertKind`].
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

#[cfg(test)]
mod tests {
    use super::*;

    /// serde's names and the vocabulary's are one and the same, and every name parses back.
    fn same_names<
        T: Serialize + std::str::FromStr<Err = UnknownName> + fmt::Display + PartialEq + fmt::Debug + Copy,
    >(
        all: &[T],
    ) {
        for value in all {
            assert_eq!(serde_json::to_string(value).unwrap(), format!("\"{value}\""));
            assert_eq!(value.to_string().parse::<T>(), Ok(*value));
        }
    }

    #[test]
    fn serde_names_are_the_vocabulary() {
        same_names(&Proto::ALL);
        same_names(&L7::ALL);
        same_names(&HostSource::ALL);
        same_names(&TcpState::ALL);
        same_names(&Severity::ALL);
        same_names(&AlertKind::ALL);
        assert_eq!("tcp".parse::<Proto>(), Err(UnknownName("tcp".into())), "exact names only");
        assert_eq!(Severity::parse_loose(" High "), Some(Severity::High));
        assert_eq!(Severity::parse_loose("severe"), None);
    }

    #[test]
    fn severities_are_ordered_and_the_policy_holds() {
        assert!(
            Severity::Info < Severity::Low && Severity::Low < Severity::Medium && Severity::Medium < Severity::High
        );
        assert_eq!(AlertKind::IdentifierLeak.default_severity(), Severity::High);
        assert_eq!(AlertKind::NewDestination.default_severity(), Severity::Info);
        assert_eq!(AlertKind::ALL.len(), 13);
    }
}
