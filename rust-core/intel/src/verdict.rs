//! The verdict vocabulary: what kind of flag, how strong, and the evidence behind it.
//!
//! Severity measures the strength of the *evidence*, not how alarming a destination sounds (MISSION: a DNS lookup
//! alone is weak evidence, an identifier leak is strong evidence); the policy, kind by kind, is documented on
//! [`AlertKind`] (phonehome-model) beside [`AlertKind::default_severity`].
//!
//! When the only evidence for a destination finding is a DNS lookup (no connection followed),
//! [`Finding::for_dns_lookup_only`] caps it at low. It must not be applied to findings about
//! the content of the name itself (`identifier_leak` in a name, `dns_exfiltration`).

use serde::{Deserialize, Serialize};

pub use phonehome_model::{AlertKind, Severity};

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
