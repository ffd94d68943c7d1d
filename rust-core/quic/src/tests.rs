//! RFC 9001 and RFC 9369 test vectors, reassembly of split ClientHellos, and property tests.

use std::iter::once;

use proptest::prelude::*;
use ring::aead::quic::{HeaderProtectionKey, AES_128};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};

use super::*;
use crate::keys::{InitialKeys, KeyMaterial};
use crate::version::initial_params;

/// The Destination Connection ID of the RFCs' examples.
const RFC_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

fn hex_file(text: &str) -> Vec<u8> {
    hex::decode(text.split_whitespace().collect::<String>()).unwrap_or_default()
}

fn rfc9001_packet() -> Vec<u8> {
    hex_file(include_str!("testdata/rfc9001_client_initial.hex"))
}

fn rfc9369_packet() -> Vec<u8> {
    hex_file(include_str!("testdata/rfc9369_client_initial.hex"))
}

/// The client's Initial payload of both RFCs: one CRYPTO frame, then PADDING to 1162 bytes.
fn rfc_plaintext() -> Vec<u8> {
    let mut payload = hex_file(include_str!("testdata/rfc9001_client_crypto_frame.hex"));
    payload.resize(1162, 0);
    payload
}

fn material(version: u32, dcid: &[u8]) -> KeyMaterial {
    let params = initial_params(version).unwrap_or_else(|| panic!("version {version:#x} has parameters"));
    KeyMaterial::client_initial(&params, dcid).unwrap_or_else(|e| panic!("keys derive: {e}"))
}

/// Protects an Initial packet the way a client does (4-byte packet number, empty SCID and token).
fn seal(version: u32, dcid: &[u8], pn: u32, payload: &[u8]) -> Vec<u8> {
    seal_with_keys_of(dcid, version, dcid, pn, payload)
}

/// Like [`seal`], with keys derived from `key_dcid`: after the server's first Initial the client
/// sends to the server's connection ID but keeps the keys of its first one.
fn seal_with_keys_of(key_dcid: &[u8], version: u32, dcid: &[u8], pn: u32, payload: &[u8]) -> Vec<u8> {
    let params = initial_params(version).unwrap_or_else(|| panic!("version {version:#x} has parameters"));
    let m = material(version, key_dcid);
    let length = u16::try_from(4 + payload.len() + 16).unwrap_or(0) | 0x4000;
    let mut packet = vec![0xc3 | params.initial_type << 4];
    packet.extend_from_slice(&version.to_be_bytes());
    packet.push(u8::try_from(dcid.len()).unwrap_or(0));
    packet.extend_from_slice(dcid);
    packet.extend_from_slice(&[0, 0]); // SCID length, token length
    packet.extend_from_slice(&length.to_be_bytes());
    let pn_offset = packet.len();
    packet.extend_from_slice(&pn.to_be_bytes());
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &m.key).unwrap_or_else(|_| panic!("key")));
    let mut nonce = m.iv;
    for (n, p) in nonce.iter_mut().skip(8).zip(pn.to_be_bytes()) {
        *n ^= p;
    }
    let mut body = payload.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&packet[..]), &mut body)
        .unwrap_or_else(|_| panic!("seal"));
    packet.extend_from_slice(&body);
    let hp = HeaderProtectionKey::new(&AES_128, &m.hp).unwrap_or_else(|_| panic!("hp key"));
    let mask = hp.new_mask(&packet[pn_offset + 4..pn_offset + 20]).unwrap_or_else(|_| panic!("mask"));
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    packet
}

/// CRYPTO frames carrying `chunks` of `message` at their offsets, padded to a full Initial.
fn crypto_payload(message: &[u8], chunks: impl IntoIterator<Item = std::ops::Range<usize>>) -> Vec<u8> {
    let mut payload = Vec::new();
    for range in chunks {
        payload.push(0x06);
        payload.extend_from_slice(&(0x8000_0000u32 | u32::try_from(range.start).unwrap_or(0)).to_be_bytes());
        payload.extend_from_slice(&(0x4000u16 | u16::try_from(range.len()).unwrap_or(0)).to_be_bytes());
        payload.extend_from_slice(&message[range]);
    }
    payload.resize(payload.len().max(1100), 0);
    payload
}

/// The ClientHello message of the RFCs' example (inside the CRYPTO frame header `06 00 40f1`).
fn rfc_client_hello() -> Vec<u8> {
    rfc_plaintext()[4..4 + 0xf1].to_vec()
}

fn decode_all(datagrams: &[Vec<u8>]) -> Option<QuicHello> {
    let mut decoder = InitialDecoder::new();
    datagrams.iter().find_map(|d| decoder.on_client_datagram(d).ok().flatten())
}

#[test]
fn rfc9001_a1_keys() {
    let m = material(VERSION_1, &RFC_DCID);
    assert_eq!(hex::encode(m.secret), "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
    assert_eq!(hex::encode(m.key), "1f369613dd76d5467730efcbe3b1a22d");
    assert_eq!(hex::encode(m.iv), "fa044b2f42a3fd3b46fb255c");
    assert_eq!(hex::encode(m.hp), "9f50449e04a0e810283a1e9933adedd2");
}

#[test]
fn rfc9369_a1_keys() {
    let m = material(VERSION_2, &RFC_DCID);
    assert_eq!(hex::encode(m.secret), "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
    assert_eq!(hex::encode(m.key), "8b1a0bc121284290a29e0971b5cd045d");
    assert_eq!(hex::encode(m.iv), "91f73e2351d8fa91660e909f");
    assert_eq!(hex::encode(m.hp), "45b95e15235d6f45a6b19cbcb0294ba9");
}

#[test]
fn rfc_a2_client_initials_open_to_the_exact_plaintext() {
    for (version, packet, header) in [
        (VERSION_1, rfc9001_packet(), "c300000001088394c8f03e5157080000449e00000002"),
        (VERSION_2, rfc9369_packet(), "d36b3343cf088394c8f03e5157080000449e00000002"),
    ] {
        let keys = InitialKeys::new(&material(version, &RFC_DCID)).unwrap_or_else(|e| panic!("{e}"));
        let mut opened = packet.clone();
        let result = keys.open(&mut opened, 18, None).unwrap_or_else(|e| panic!("{version:#x}: {e}"));
        assert_eq!(result.packet_number, 2);
        assert_eq!(hex::encode(&opened[..22]), header, "unprotected header of {version:#x}");
        assert_eq!(&opened[22..22 + result.payload_len], &rfc_plaintext()[..], "plaintext of {version:#x}");
        // And sealing that plaintext here gives the RFC's packet byte for byte.
        assert_eq!(seal(version, &RFC_DCID, 2, &rfc_plaintext()), packet, "protected packet of {version:#x}");
    }
}

#[test]
fn rfc_client_initials_give_the_hello() {
    for (version, packet) in [(VERSION_1, rfc9001_packet()), (VERSION_2, rfc9369_packet())] {
        let hello = decode_all(&[packet]).unwrap_or_else(|| panic!("no hello for {version:#x}"));
        assert_eq!(hello.version, version);
        assert_eq!(hello.server_name.as_deref(), Some("example.com"));
        assert_eq!(hello.alpn, ["alpn"]);
        // Hashes checked independently: sha256("1301,1302") and sha256 of
        // "0005,000a,000d,001c,002b,002d,0033,0039,ff01_0403,0503,0603,0203,0804,0805,0806".
        assert_eq!(hello.ja4.as_deref(), Some("q13d0211an_62ed6f6ca7ad_4d634acda6c0"));
    }
}

#[test]
fn errors_leave_the_decoder_usable() {
    let mut decoder = InitialDecoder::new();
    let mut corrupted = rfc9001_packet();
    corrupted[500] ^= 1;
    assert_eq!(decoder.on_client_datagram(&corrupted), Err(QuicError::Decrypt));
    assert_eq!(decoder.on_client_datagram(&[0x40, 1, 2, 3]), Err(QuicError::NotLongHeader));
    assert_eq!(decoder.on_client_datagram(&[0xc0, 0, 0, 0, 0, 0, 0]), Err(QuicError::UnsupportedVersion(0)));
    assert_eq!(decoder.on_client_datagram(&[0xc0, 0, 0, 0, 1, 30]), Err(QuicError::Malformed("connection ID")));
    assert!(decoder.on_client_datagram(&rfc9001_packet()).is_ok_and(|h| h.is_some()));
    assert!(decoder.is_finished());
    assert_eq!(decoder.on_client_datagram(&rfc9001_packet()), Ok(None));
}

#[test]
fn a_malformed_hello_ends_the_flow() {
    let mut decoder = InitialDecoder::new();
    let bad = seal(VERSION_1, &RFC_DCID, 0, &crypto_payload(&[1, 0, 0, 2, 3, 3], once(0..6)));
    assert_eq!(decoder.on_client_datagram(&bad), Err(QuicError::Tls(phonehome_tls::TlsError::Truncated)));
    assert!(decoder.is_finished());
}

#[test]
fn coalesced_packets_and_trailing_padding() {
    let message = rfc_client_hello();
    let dcid = [7u8; 12];
    // A 0-RTT packet (type 1, Length 3) after two Initials carrying the two halves, then zeros.
    let mut datagram = seal(VERSION_1, &dcid, 0, &crypto_payload(&message, once(100..message.len())));
    datagram.extend_from_slice(&seal(VERSION_1, &dcid, 1, &crypto_payload(&message, once(0..100))));
    datagram.extend_from_slice(&[0xd0, 0, 0, 0, 1, 0, 0, 3, 1, 2, 3]);
    datagram.extend_from_slice(&[0; 40]);
    let hello = decode_all(&[datagram]).unwrap_or_else(|| panic!("no hello"));
    assert_eq!(hello.server_name.as_deref(), Some("example.com"));
}

#[test]
fn keys_of_the_first_dcid_survive_a_change_of_dcid() {
    let message = rfc_client_hello();
    let server_cid = [9u8; 20];
    let first = seal(VERSION_1, &RFC_DCID, 0, &crypto_payload(&message, once(0..150)));
    let second = seal_with_keys_of(&RFC_DCID, VERSION_1, &server_cid, 1, &crypto_payload(&message, once(150..241)));
    let hello = decode_all(&[first, second]).unwrap_or_else(|| panic!("no hello"));
    assert_eq!(hello.server_name.as_deref(), Some("example.com"));
}

#[test]
fn partial_hello_after_a_lost_packet() {
    let message = rfc_client_hello();
    let mut decoder = InitialDecoder::new();
    let first = seal(VERSION_1, &RFC_DCID, 0, &crypto_payload(&message, once(0..120)));
    assert_eq!(decoder.on_client_datagram(&first), Ok(None));
    let partial = decoder.partial_hello().unwrap_or_else(|| panic!("a partial hello"));
    assert_eq!(partial.server_name.as_deref(), Some("example.com"));
    assert!(partial.client_hello.is_some_and(|h| h.truncated));
}

#[test]
fn gives_up_after_the_packet_limit() {
    let mut decoder = InitialDecoder::new();
    let padding_only = seal(VERSION_1, &RFC_DCID, 0, &[0; 1100]);
    let results: Vec<_> = (0..=MAX_INITIAL_PACKETS).map(|_| decoder.on_client_datagram(&padding_only)).collect();
    assert_eq!(results.last(), Some(&Err(QuicError::LimitExceeded("Initial packets"))));
    assert!(decoder.is_finished());
}

#[test]
fn draft_and_google_versions_open() {
    for version in [0xff00_0016, 0xff00_001b, 0xff00_001d, 0xff00_0022, 0xface_b002, 0x5430_3530, 0x5430_3531] {
        let mut payload = rfc_plaintext();
        if version >> 8 == 0x54_3035 {
            payload[0] = 0x08; // Google's CRYPTO frame type
        }
        let packet = seal(version, &RFC_DCID, 0, &payload);
        let hello = decode_all(&[packet]).unwrap_or_else(|| panic!("no hello for {version:#x}"));
        assert_eq!((hello.version, hello.server_name.as_deref()), (version, Some("example.com")));
    }
}

proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..1300), 1..4)) {
        let mut decoder = InitialDecoder::new();
        for d in &datagrams {
            let _ = decoder.on_client_datagram(d);
        }
        let _ = decoder.partial_hello();
    }

    #[test]
    fn mutated_real_initials_never_panic(
        v2 in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut packet = if v2 { rfc9369_packet() } else { rfc9001_packet() };
        for (at, value) in edits {
            let i = at.index(packet.len());
            packet[i] = value;
        }
        packet.truncate(cut.index(packet.len() + 1));
        let mut decoder = InitialDecoder::new();
        let _ = decoder.on_client_datagram(&packet);
        let _ = decoder.partial_hello();
    }

    #[test]
    fn split_hello_reassembles_in_any_order(
        cuts in proptest::collection::btree_set(1usize..240, 0..12),
        order in any::<prop::sample::Index>(),
        packets in 1usize..5,
        duplicate in any::<bool>(),
        new_dcid_per_packet in any::<bool>(),
    ) {
        let message = rfc_client_hello();
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts).chain(std::iter::once(message.len())).collect();
        let mut chunks: Vec<std::ops::Range<usize>> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
        let shift = order.index(chunks.len());
        chunks.rotate_left(shift);
        chunks.reverse();
        if duplicate {
            chunks.push(chunks[0].clone());
        }
        let per_packet = chunks.len().div_ceil(packets);
        let datagrams: Vec<Vec<u8>> = chunks
            .chunks(per_packet)
            .enumerate()
            .map(|(i, group)| {
                let dcid = if new_dcid_per_packet { vec![u8::try_from(i).unwrap_or(0); 8] } else { RFC_DCID.to_vec() };
                seal(VERSION_1, &dcid, u32::try_from(i).unwrap_or(0), &crypto_payload(&message, group.iter().cloned()))
            })
            .collect();
        let expected = decode_all(&[rfc9001_packet()]);
        prop_assert!(expected.is_some());
        prop_assert_eq!(decode_all(&datagrams), expected);
    }
}
