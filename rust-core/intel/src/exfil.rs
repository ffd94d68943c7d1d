//! DNS names that carry data: tunnels and exfiltration encode payload in long labels of hex,
//! base32 or raw bytes under a domain the sender controls.

use crate::verdict::{AlertKind, Finding};

/// Labels shorter than this are never counted as encoded (ordinary hostnames, CDN shards).
const MIN_ENCODED_LABEL: usize = 12;
/// More encoded characters than a 128-bit value in hex (32): single UUID/MD5-style IDs are
/// common in legitimate names (e.g. `<32 hex>.baas.nintendo.com`), longer payloads are not.
const MAX_BENIGN_ENCODED: usize = 32;
/// Share of the maximal entropy an alphanumeric label must reach to count as encoded.
const ENTROPY_RATIO: f64 = 0.8;

/// A finding if `name` looks like it carries encoded data (more than 32 characters in labels
/// of hex, base32/base64-like text or non-hostname bytes); `None` for ordinary names.
pub fn dns_exfiltration(name: &str) -> Option<Finding> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    let suffix_len = psl::suffix(lower.as_bytes()).filter(|s| s.is_known()).map_or(0, |s| s.as_bytes().len());
    let body = name.get(..name.len().saturating_sub(suffix_len)).unwrap_or(name);
    let (mut encoded, mut labels, mut longest) = (0usize, 0usize, 0usize);
    for label in body.split('.').filter(|l| looks_encoded(l.as_bytes())) {
        encoded += label.len();
        labels += 1;
        longest = longest.max(label.len());
    }
    if encoded <= MAX_BENIGN_ENCODED {
        return None;
    }
    let under = psl::domain_str(&lower).unwrap_or("an unregistered domain");
    let evidence = format!(
        "{encoded} encoded characters in {labels} label(s), longest {longest}, in a {}-character name under {under}",
        name.len()
    );
    Some(Finding::new(AlertKind::DnsExfiltration, evidence, None))
}

/// Whether a label looks like encoded data rather than words or a CDN shard name.
fn looks_encoded(label: &[u8]) -> bool {
    if label.len() < MIN_ENCODED_LABEL {
        return false;
    }
    if label.iter().any(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')) {
        return true; // raw bytes or base128: never in a hostname
    }
    if label.iter().any(|b| *b == b'-' || *b == b'_') {
        return false; // CDN and cloud names (`r3---sn-4g5e6nez`, `p4-...-if-v6exp3-v4`)
    }
    let digits = label.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = label.len() - digits;
    if label.iter().all(u8::is_ascii_hexdigit) {
        return digits >= 3 && letters >= 1;
    }
    digits >= 2 && letters >= 2 && shannon_entropy(label) >= ENTROPY_RATIO * (label.len().min(36) as f64).log2()
}

/// Bits per character of the label, case-insensitive.
fn shannon_entropy(label: &[u8]) -> f64 {
    let mut counts = [0u16; 256];
    for b in label {
        let slot = &mut counts[usize::from(b.to_ascii_lowercase())];
        *slot = slot.saturating_add(1);
    }
    let total = label.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / total).map(|p| -p * p.log2()).sum()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::verdict::Severity;

    #[test]
    fn dnscat_and_tunnel_names_fire() {
        for name in [
            "dnscat.f97c01f5006c798b8d6e990002e3772bc8",
            "dnscat.546b03f50000000000a6023ed4df184d6ac5c2628b47714fdee584fed739.5a03b5b1e1aa8f8fdb1bbe8d5e04952141f7d4f82c7e3b06dcc8b87fad7a.19e4d098dc8c618f8d81cfeb02",
            "c75900fdf525320021636f6d6d616e64202873697276696d65732900.skullseclabs.org",
            "mzxw6ytboi2dknrxgm4tqojqgezdgnbvgy3tqojqgezdgnbv.t.example.com",
        ] {
            let finding = dns_exfiltration(name);
            assert!(finding.is_some(), "{name}");
            assert_eq!(finding.map(|f| (f.kind, f.severity)), Some((AlertKind::DnsExfiltration, Severity::Medium)));
        }
    }

    #[test]
    fn ordinary_and_cdn_names_do_not_fire() {
        for name in [
            "e1234.dscb.akamaiedge.net",
            "r3---sn-4g5e6nez.googlevideo.com",
            "p4-d7n3ho5vq2h3k-lmq2xkngkpp7pbjq-if-v6exp3-v4.metric.gstatic.com",
            "e0d67c509fb203858ebcb2fe3f88c2aa.baas.nintendo.com",
            "d111111abcdef8.cloudfront.net",
            "firebaseinstallations.googleapis.com",
            "skypedataprdcolneu04.cloudapp.net",
            "wd-prod-cp-eu-north-2-fe.northeurope.cloudapp.azure.com",
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            "",
        ] {
            assert!(dns_exfiltration(name).is_none(), "{name}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(name in "\\PC{0,300}") {
            let _ = dns_exfiltration(&name);
        }

        #[test]
        fn mutated_real_names_never_panic(index in 0usize..3, cut in 0usize..200, at in 0usize..200, flip in any::<u8>()) {
            let real = [
                "dnscat.f97c01f5006c798b8d6e990002e3772bc8",
                "c75900fdf525320021636f6d6d616e64202873697276696d65732900.skullseclabs.org",
                "r3---sn-4g5e6nez.googlevideo.com",
            ];
            let mut bytes = real.get(index).copied().unwrap_or("").as_bytes().to_vec();
            if let Some(b) = bytes.get_mut(at) {
                *b ^= flip;
            }
            bytes.truncate(cut);
            let _ = dns_exfiltration(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn short_labels_never_fire(labels in prop::collection::vec("[a-z0-9]{1,11}", 1..20)) {
            prop_assert!(dns_exfiltration(&labels.join(".")).is_none());
        }
    }
}
