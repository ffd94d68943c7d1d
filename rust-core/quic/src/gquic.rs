//! Google QUIC's CHLO handshake message (the pre-TLS crypto of Q043–Q050): a tag/value map whose
//! `SNI` tag names the server. Plaintext before Q050; inside an IETF-protected Initial in Q050.

use phonehome_tls::reader::Reader;

const CHLO: &[u8; 4] = b"CHLO";
const TAG_SNI: &[u8; 4] = b"SNI\0";

/// Whether the datagram starts with a plaintext gQUIC packet of a Q0xx version below Q050.
pub(crate) fn is_plaintext_gquic(datagram: &[u8]) -> bool {
    let Some(&flags) = datagram.first() else { return false };
    // Q046 uses the IETF long-header form, Q043 and earlier a public header (version flag 0x01,
    // 8-byte connection ID flag 0x08) with the version after the connection ID.
    let version = if flags & 0x80 != 0 {
        datagram.get(1..5)
    } else if flags & 0x09 == 0x09 {
        datagram.get(9..13)
    } else {
        None
    };
    matches!(version, Some([b'Q', b'0', tens, _]) if (b'0'..b'5').contains(tens))
}

/// The SNI of the first CHLO in `bytes`: `None` without a CHLO, `Some(None)` for a CHLO without
/// (or with a cut) SNI value.
pub(crate) fn chlo_server_name(bytes: &[u8]) -> Option<Option<String>> {
    let start = bytes.windows(CHLO.len()).position(|w| w == CHLO)?;
    let mut r = Reader::new(bytes.get(start + CHLO.len()..)?);
    let entries = usize::from(r.take(2)?.try_into().ok().map(u16::from_le_bytes)?);
    r.take(2)?; // padding
    let table = r.take(entries.checked_mul(8)?)?;
    let values = r.rest();
    let mut value_start = 0usize;
    for entry in table.chunks_exact(8) {
        let (tag, end) = entry.split_at(4);
        let end = usize::try_from(u32::from_le_bytes(end.try_into().ok()?)).ok()?;
        if tag == TAG_SNI {
            let name = values.get(value_start..end).map(|v| String::from_utf8_lossy(v).into_owned());
            return Some(name);
        }
        value_start = end;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn arbitrary_chlo_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = b"\xc3Q046CHLO".to_vec();
            bytes.extend_from_slice(&body);
            prop_assert!(is_plaintext_gquic(&bytes));
            if let Some(Some(name)) = chlo_server_name(&bytes) {
                prop_assert!(name.chars().count() <= body.len());
            }
        }
    }

    #[test]
    fn reads_the_sni_tag() {
        let mut chlo = b"xxCHLO\x02\x00\x00\x00PAD\x00\x03\x00\x00\x00SNI\x00\x0e\x00\x00\x00---www.example".to_vec();
        assert_eq!(chlo_server_name(&chlo), Some(Some("www.example".to_owned())));
        chlo.truncate(chlo.len() - 1);
        assert_eq!(chlo_server_name(&chlo), Some(None));
        assert_eq!(chlo_server_name(b"no handshake here"), None);
    }

    #[test]
    fn recognises_plaintext_versions() {
        assert!(is_plaintext_gquic(b"\xc3Q046"));
        assert!(is_plaintext_gquic(b"\x0d12345678Q043"));
        assert!(!is_plaintext_gquic(b"\xc3Q050"));
        assert!(!is_plaintext_gquic(b"\xc0\x00\x00\x00\x01"));
    }
}
