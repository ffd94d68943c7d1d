//! A cheap check for DNS on ports where it is not expected.

use crate::message::{Header, HEADER_LEN, MIN_QUESTION_LEN, MIN_RECORD_LEN};
use crate::wire::Cursor;

const OPCODE_QUERY: u8 = 0;
const OPCODE_NOTIFY: u8 = 4;
const OPCODE_UPDATE: u8 = 5;
/// Classes seen in real traffic: IN, CH, HS, NONE (updates), ANY.
const PLAUSIBLE_CLASSES: [u16; 5] = [1, 3, 4, 254, 255];

/// Whether a UDP payload (or one TCP message) is plausibly a DNS message, without allocating.
///
/// On a DNS port (53, 5353, 5355) a readable header and first question suffice. Elsewhere the
/// check is strict, so other binary protocols are unlikely to pass: one question, reserved bit
/// clear, a known opcode and class, section counts that fit, and a query has no answers. On the
/// corpus every unicast DNS message passes it, most mDNS ones do not, and NetBIOS name service
/// (port 137, DNS wire format) does.
pub fn looks_like_dns(payload: &[u8], on_dns_port: bool) -> bool {
    let Ok(header) = Header::parse(payload) else {
        return false;
    };
    let mut cursor = Cursor::new(payload, HEADER_LEN);
    let first_question = cursor.name(None).and_then(|()| Ok((cursor.u16()?, cursor.u16()?)));
    if on_dns_port {
        // mDNS announcements are responses without questions.
        return (header.question_count == 0 && header.is_response) || first_question.is_ok();
    }
    let Ok((qtype, qclass)) = first_question else {
        return false;
    };
    let reserved_bit = payload.get(3).is_some_and(|flags| flags & 0x40 != 0);
    let records =
        usize::from(header.answer_count) + usize::from(header.authority_count) + usize::from(header.additional_count);
    let fits = MIN_QUESTION_LEN + records * MIN_RECORD_LEN <= payload.len().saturating_sub(HEADER_LEN);
    header.question_count == 1
        && !reserved_bit
        && matches!(header.opcode, OPCODE_QUERY | OPCODE_NOTIFY | OPCODE_UPDATE)
        && qtype != 0
        && PLAUSIBLE_CLASSES.contains(&qclass)
        && fits
        && (header.is_response || (header.answer_count == 0 && header.authority_count <= 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn query() -> Vec<u8> {
        phonehome_testdata::proto::dns_query(0xfba6, "captive.apple.com", 1)
    }

    #[test]
    fn a_real_query_passes_on_any_port() {
        assert!(looks_like_dns(&query(), false));
        assert!(looks_like_dns(&query(), true));
    }

    #[test]
    fn other_protocols_fail_off_port() {
        assert!(!looks_like_dns(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", false));
        assert!(!looks_like_dns(&[0u8; 40], false));
        // A TLS ClientHello record header.
        assert!(!looks_like_dns(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00\x00", false));
        assert!(!looks_like_dns(&query()[..20], true));
        let answer = phonehome_testdata::proto::dns_response(
            0xfba6,
            "captive.apple.com",
            1,
            Some("captive.g.aaplimg.com"),
            &["17.253.53.201".parse().unwrap()],
        );
        assert!(looks_like_dns(&answer, false));
    }

    proptest! {
        #[test]
        fn a_positive_always_parses(payload in prop::collection::vec(any::<u8>(), 0..512)) {
            for on_dns_port in [false, true] {
                if looks_like_dns(&payload, on_dns_port) {
                    let message = crate::parse_message(&payload);
                    prop_assert!(message.is_ok_and(|m| on_dns_port || m.questions.len() == 1));
                }
            }
        }
    }
}
