//! Property tests: no input panics the parsers or the detectors, evidence never holds a declared
//! identifier, and an identifier inserted anywhere in any encoding is found in that encoding.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use md5::Md5;
use phonehome_leak::{scenarios, DetectorConfig, Encoding, IdKind, Identifiers, LeakDetector};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The values of [`scenarios::IDENTIFIERS_TOML`] as sent (one variant each), with their kinds.
const VALUES: [(IdKind, &str); 12] = [
    (IdKind::Imei, "356938035643809"),
    (IdKind::Imsi, "208150123456789"),
    (IdKind::Iccid, "8933150319123456789"),
    (IdKind::Phone, "+33612345678"),
    (IdKind::Mac, "3C:5A:B4:12:9E:7F"),
    (IdKind::Bssid, "f4f26d8a10c3"),
    (IdKind::AndroidId, "9774d56d682e549c"),
    (IdKind::AdId, "38400000-8CF0-11BD-B23E-10B96E40000D"),
    (IdKind::Serial, "R58M12ABCDE"),
    (IdKind::Email, "jane.doe@example.org"),
    (IdKind::Location, "48.85837,2.29448"),
    (IdKind::Custom, "tok-5f2a9c-7734"),
];

fn detector() -> &'static LeakDetector {
    static DETECTOR: std::sync::OnceLock<LeakDetector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| {
        LeakDetector::new(&scenarios::identifiers(), &DetectorConfig::default()).expect("detector builds")
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A realistic request carrying several identifiers, to mutate and truncate.
const REAL_REQUEST: &[u8] = b"POST /v1/events?imei=356938035643809&mac=3c%3A5a%3Ab4%3A12%3A9e%3A7f HTTP/1.1\r\n\
Host: log.telemetry-example.com\r\nCookie: gaid=38400000-8cf0-11bd-b23e-10b96e40000d; lat=48.8584\r\n\
Content-Type: application/json\r\nContent-Length: 120\r\n\r\n\
{\"lat\":48.85837,\"lng\":2.29448,\"email\":\"jane.doe@example.org\",\"d\":\"eyJpbWVpIjoiMzU2OTM4MDM1NjQzODA5In0=\"}";

fn assert_well_formed(d: &LeakDetector, payload: &[u8]) {
    for f in d.scan(payload) {
        assert!(f.offset + f.len <= payload.len());
        for (_, value) in VALUES {
            assert!(!f.evidence.contains(value), "evidence leaks {value}: {}", f.evidence);
        }
    }
    for f in d.scan_patterns(payload) {
        assert!(f.offset + f.len <= payload.len());
        assert!(f.evidence.len() <= 128);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Relative to the crate directory, where cargo runs tests.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/proptests.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..2048)) {
        assert_well_formed(detector(), &payload);
    }

    #[test]
    fn identifier_like_text_never_panics(payload in "[0-9a-fA-F:=&\"%@.,{} -]{0,600}") {
        assert_well_formed(detector(), payload.as_bytes());
    }

    #[test]
    fn mutated_and_truncated_real_requests_never_panic(
        cut in 0..REAL_REQUEST.len(),
        flips in proptest::collection::vec((0..REAL_REQUEST.len(), any::<u8>()), 0..8),
    ) {
        let mut payload = REAL_REQUEST.to_vec();
        for (at, byte) in flips {
            if let Some(b) = payload.get_mut(at) {
                *b = byte;
            }
        }
        payload.truncate(cut);
        assert_well_formed(detector(), &payload);
    }

    #[test]
    fn inserted_identifier_is_found_in_its_encoding(
        which in 0..VALUES.len(),
        encoding in proptest::sample::select(Encoding::ALL.to_vec()),
        before in "[ -~]{0,40}",
        after in "[ -~]{0,40}",
        binary_prefix in proptest::collection::vec(any::<u8>(), 0..7),
    ) {
        let (kind, value) = VALUES[which];
        let v = value.as_bytes();
        // Text encodings are separated from the surrounding text by a space: `before` may end
        // in a digit that would legitimately extend a number.
        let guarded = |text: String| format!("{before} {text} {after}").into_bytes();
        let (payload, expected): (Vec<u8>, Vec<Encoding>) = match encoding {
            Encoding::Plain if kind == IdKind::Location => (guarded("48.8584,2.2945".into()), vec![Encoding::Plain]),
            Encoding::Plain => (guarded(value.into()), vec![Encoding::Plain]),
            // Percent-encoding leaves digits-only values unchanged: then they are plain.
            Encoding::Url => (guarded(percent(v)), vec![Encoding::Url, Encoding::Plain]),
            Encoding::Base64 | Encoding::Base64Url => {
                let mut blob = binary_prefix.clone();
                blob.extend_from_slice(v);
                blob.extend_from_slice(after.as_bytes());
                let text = if encoding == Encoding::Base64 { STANDARD.encode(&blob) } else { URL_SAFE.encode(&blob) };
                (guarded(text), vec![encoding, Encoding::Base64])
            }
            Encoding::Hex => (guarded(hex(v)), vec![Encoding::Hex]),
            Encoding::Md5 => (guarded(hex(&Md5::digest(v))), vec![Encoding::Md5]),
            Encoding::Sha1 => (guarded(hex(&Sha1::digest(v))), vec![Encoding::Sha1]),
            Encoding::Sha256 => (guarded(hex(&Sha256::digest(v))), vec![Encoding::Sha256]),
            Encoding::Md5Base64 => (guarded(STANDARD.encode(Md5::digest(v))), vec![encoding]),
            Encoding::Sha1Base64 => (guarded(URL_SAFE.encode(Sha1::digest(v))), vec![encoding]),
            Encoding::Sha256Base64 => (guarded(STANDARD.encode(Sha256::digest(v))), vec![encoding]),
        };
        let findings = detector().scan(&payload);
        let hit = findings.iter().find(|f| f.kind == kind && expected.contains(&f.encoding));
        prop_assert!(hit.is_some(), "{kind} in {encoding} not found in {:?}: {findings:?}", String::from_utf8_lossy(&payload));
        if let Some(hit) = hit {
            let text = &payload[hit.offset..hit.offset + hit.len];
            // URL-safe base64 is reported as such exactly when it differs from the standard alphabet.
            if hit.encoding == Encoding::Base64Url || encoding == Encoding::Base64Url {
                let distinct = text.iter().any(|b| *b == b'-' || *b == b'_');
                prop_assert_eq!(hit.encoding == Encoding::Base64Url, distinct);
            }
        }
    }

    #[test]
    fn arbitrary_toml_never_panics(text in "([a-z_]{1,8} = (\"[ -~]{0,24}\"|[0-9]{1,20}|\\[\"[0-9a-f:.,-]{0,20}\"\\]|[a-z]{1,5})\n|\\[custom\\]\n){0,6}") {
        if let Ok(ids) = Identifiers::from_toml(&text) {
            let d = LeakDetector::new(&ids, &DetectorConfig::default());
            prop_assert!(d.is_ok());
        }
    }

    #[test]
    fn arbitrary_text_as_toml_never_panics(text in "\\PC{0,200}") {
        let _ = Identifiers::from_toml(&text);
    }
}
