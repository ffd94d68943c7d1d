//! Unit and property tests on real ClientHellos with known JA4 fingerprints.

use proptest::prelude::*;

use super::*;

/// Chrome's ClientHello to content-autofill.googleapis.com, one record, with its JA4 and JA4_r
/// from the FoxIO specification's example (also CyberChef's `JA4Fingerprint` test).
const CHROME_RECORD: &str = include_str!("testdata/chrome_client_hello.hex");
/// Firefox's ClientHello to contile.services.mozilla.com with its JA4 (CyberChef's test vector).
const FIREFOX_RECORD: &str = include_str!("testdata/firefox_client_hello.hex");

fn bytes(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text.split_whitespace().collect::<String>()).unwrap_or_default()
}

fn complete(stream: &[u8]) -> ClientHello {
    match parse_client_hello_records(stream) {
        HelloParse::Complete(hello) => hello,
        other => panic!("expected a complete ClientHello, got {other:?}"),
    }
}

/// Re-frames a single-record hello into records of at most `sizes[i]` bytes each (cycling).
fn reframe(stream: &[u8], sizes: &[usize]) -> Vec<u8> {
    let payload = &stream[5..];
    let mut out = Vec::new();
    let mut rest = payload;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).clamp(1, rest.len()));
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&u16::try_from(chunk.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(chunk);
        rest = tail;
    }
    out
}

#[test]
fn chrome_hello_fields_and_ja4() {
    let hello = complete(&bytes(CHROME_RECORD));
    assert_eq!(hello.server_name.as_deref(), Some("content-autofill.googleapis.com"));
    assert_eq!(hello.alpn, ["h2", "http/1.1"]);
    assert_eq!(hello.legacy_version, 0x0303);
    assert_eq!(hello.supported_versions, [0x0a0a, 0x0304, 0x0303]);
    assert_eq!(hello.max_version(), 0x0304);
    assert_eq!(hello.cipher_suites.len(), 16, "GREASE suite kept in the wire list");
    assert_eq!(hello.extensions.first(), Some(&0xfafa));
    assert_eq!(hello.supported_groups, [0x3a3a, 0x001d, 0x0017, 0x0018]);
    assert!(!hello.has_ech && !hello.truncated);
    assert_eq!(hello.ja4(Ja4Transport::Tcp), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(
        hello.ja4_raw(Ja4Transport::Tcp),
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
    );
    assert_eq!(hello.ja4(Ja4Transport::Quic), "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

#[test]
fn firefox_hello_ja4() {
    let hello = complete(&bytes(FIREFOX_RECORD));
    assert_eq!(hello.server_name.as_deref(), Some("contile.services.mozilla.com"));
    assert_eq!(hello.ja4(Ja4Transport::Tcp), "t13d1715h2_5b57614c22b0_3d5424432f57");
}

#[test]
fn bare_message_parses_like_the_record() {
    let stream = bytes(CHROME_RECORD);
    assert_eq!(parse_client_hello_message(&stream[5..]), Ok(complete(&stream)));
    assert_eq!(parse_client_hello_message(&stream[5..100]), Err(TlsError::Truncated));
    assert_eq!(parse_client_hello_message(&[2, 0, 0, 0]), Err(TlsError::NotClientHello(2)));
}

#[test]
fn every_prefix_is_incomplete_and_the_sni_survives_a_cut_after_it() {
    let stream = bytes(CHROME_RECORD);
    let sni_end = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 32 + 2 + 2 + 4 + 4 + 0x24;
    for cut in 0..stream.len() {
        assert_eq!(parse_client_hello_records(&stream[..cut]), HelloParse::Incomplete, "cut at {cut}");
        let partial = parse_client_hello_prefix(&stream[..cut]);
        let sni = partial.as_ref().and_then(|h| h.server_name.as_deref());
        let expected = (cut >= sni_end).then_some("content-autofill.googleapis.com");
        assert_eq!(sni, expected, "cut at {cut}");
        assert!(partial.is_none_or(|h| h.truncated), "cut at {cut}");
    }
}

#[test]
fn hello_split_over_many_records() {
    let stream = bytes(CHROME_RECORD);
    let whole = complete(&stream);
    for sizes in [&[1][..], &[3, 700], &[100], &[511]] {
        let split = reframe(&stream, sizes);
        assert_eq!(complete(&split), whole, "record sizes {sizes:?}");
        assert_eq!(parse_client_hello_records(&split[..split.len() - 1]), HelloParse::Incomplete);
    }
}

#[test]
fn rejects_what_is_not_a_client_hello() {
    assert_eq!(parse_client_hello_records(b"GET / HTTP/1.1\r\n\r\n"), HelloParse::NotTls);
    assert_eq!(parse_client_hello_records(b"SSH-2.0-OpenSSH_9.6\r\n"), HelloParse::NotTls);
    // A ServerHello record, an alert record, a zero-length and an oversized record.
    assert_eq!(parse_client_hello_records(&[0x16, 3, 3, 0, 4, 2, 0, 0, 0]), HelloParse::NotTls);
    assert_eq!(parse_client_hello_records(&[0x15, 3, 3, 0, 2, 2, 40]), HelloParse::NotTls);
    assert_eq!(parse_client_hello_records(&[0x16, 3, 1, 0, 0]), HelloParse::NotTls);
    assert_eq!(parse_client_hello_records(&[0x16, 3, 1, 0xff, 0xff, 1]), HelloParse::NotTls);
    // A handshake claiming more than MAX_HELLO_LEN bytes.
    assert_eq!(parse_client_hello_records(&[0x16, 3, 1, 0, 4, 1, 0x10, 0, 0]), HelloParse::NotTls);
    // A second record of another content type inside the hello.
    let mut split = reframe(&bytes(CHROME_RECORD), &[100]);
    split[105] = 0x17;
    assert_eq!(parse_client_hello_records(&split), HelloParse::NotTls);
}

#[test]
fn looks_like_tls_decides_on_six_bytes() {
    let stream = bytes(CHROME_RECORD);
    assert_eq!(looks_like_tls(&[]), None);
    assert_eq!(looks_like_tls(&stream[..5]), None);
    assert_eq!(looks_like_tls(&stream[..6]), Some(true));
    assert_eq!(looks_like_tls(&stream), Some(true));
    assert_eq!(looks_like_tls(b"G"), Some(false));
    assert_eq!(looks_like_tls(&[0x16, 3, 9]), Some(false));
    assert_eq!(looks_like_tls(&[0x16, 3, 1, 2, 0, 2]), Some(false));
}

#[test]
fn ja4_alpn_rules_of_the_specification() {
    let cases: [(&[u8], &str); 8] = [
        (b"h2", "h2"),
        (b"http/1.1", "h1"),
        (b"h", "hh"),
        (&[0xab], "ab"),
        (&[0xab, 0xcd], "ad"),
        (&[0x30, 0xab], "3b"),
        (&[0x30, 0x31, 0xab, 0xcd], "3d"),
        (&[0x30, 0xab, 0xcd, 0x31], "01"),
    ];
    for (alpn, expected) in cases {
        let mut msg = vec![1, 0, 0, 0, 3, 3];
        msg.extend_from_slice(&[0; 32]);
        msg.extend_from_slice(&[0, 0, 2, 0x13, 1, 1, 0]);
        let alpn_ext_len = alpn.len() + 3;
        msg.extend_from_slice(&u16::try_from(alpn_ext_len + 4).unwrap_or(0).to_be_bytes());
        msg.extend_from_slice(&[0, 0x10]);
        msg.extend_from_slice(&u16::try_from(alpn_ext_len).unwrap_or(0).to_be_bytes());
        msg.extend_from_slice(&u16::try_from(alpn.len() + 1).unwrap_or(0).to_be_bytes());
        msg.push(u8::try_from(alpn.len()).unwrap_or(0));
        msg.extend_from_slice(alpn);
        msg[3] = u8::try_from(msg.len() - 4).unwrap_or(0);
        let hello = parse_client_hello_message(&msg).unwrap_or_default();
        // No SNI, one cipher, one extension (ALPN, excluded from the hash), no signature algorithms.
        assert_eq!(hello.ja4(Ja4Transport::Tcp), format!("t12i0101{expected}_0f2cb44170f4_000000000000"), "{alpn:?}");
    }
}

#[test]
fn grease_values() {
    let grease: Vec<u16> = (0..=0xffff).filter(|&v| is_grease(v)).collect();
    assert_eq!(grease.len(), 16);
    assert_eq!(grease.first(), Some(&0x0a0a));
    assert_eq!(grease.last(), Some(&0xfafa));
}

#[test]
fn dtls_versions_rank_by_recency() {
    let hello = ClientHello { supported_versions: vec![0xfefd, 0xfefc, 0xfeff], ..ClientHello::default() };
    assert_eq!(hello.max_version(), 0xfefc);
    assert!(hello.ja4(Ja4Transport::Dtls).starts_with("dd3i0000"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_client_hello_records(&data);
        let _ = parse_client_hello_prefix(&data);
        let _ = looks_like_tls(&data);
        if let Ok(hello) = parse_client_hello_message(&data) {
            let _ = hello.ja4(Ja4Transport::Tcp);
        }
    }

    #[test]
    fn mutated_real_hellos_never_panic(
        which in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut stream = bytes(if which { CHROME_RECORD } else { FIREFOX_RECORD });
        for (at, value) in edits {
            let i = at.index(stream.len());
            stream[i] = value;
        }
        stream.truncate(cut.index(stream.len() + 1));
        if let HelloParse::Complete(hello) = parse_client_hello_records(&stream) {
            let _ = hello.ja4(Ja4Transport::Quic);
        }
        if let Some(hello) = parse_client_hello_prefix(&stream) {
            let _ = hello.ja4_raw(Ja4Transport::Tcp);
        }
        if let Some(msg) = stream.get(5..) {
            let _ = parse_client_hello_message(msg);
        }
    }

    #[test]
    fn record_boundaries_do_not_change_the_hello(sizes in proptest::collection::vec(1usize..600, 1..6)) {
        let stream = bytes(FIREFOX_RECORD);
        prop_assert_eq!(complete(&reframe(&stream, &sizes)), complete(&stream));
    }

    #[test]
    fn a_prefix_agrees_with_the_whole(cut in any::<prop::sample::Index>()) {
        let stream = bytes(CHROME_RECORD);
        let whole = complete(&stream);
        let cut = cut.index(stream.len());
        if let Some(part) = parse_client_hello_prefix(&stream[..cut]) {
            prop_assert!(whole.extensions.starts_with(&part.extensions));
            prop_assert!(part.server_name.is_none() || part.server_name == whole.server_name);
            prop_assert_eq!(part.legacy_version, whole.legacy_version);
        }
    }
}

/// Server hellos of CyberChef's JA4S tests: TLS 1.3 choosing 0x1301, TLS 1.2 choosing 0xcca9 and h2.
const SERVER_HELLO_TLS13: &str = "160303007a020000760303236d214556452c55a0754487e64b1a8b0262c50ba23004c9d504166a6de3439920d0b0099243c9296a0c84153ea4ada7d87ad017f4211c2ea1350b0b3cc5514d5f130100002e00330024001d002099e3cc43a2c9941ae75af1b2c7a629bee3ee7031973cad85c82f2f23677fb244002b00020304";
const SERVER_HELLO_TLS12: &str = "16030300640200006003035f0236c07f47bfb12dc2da706ecb3fe7f9eeac9968cc2ddf444f574e4752440120b89ff1ab695278c69b8a73f76242ef755e0b13dc6d459aaaa784fec9c2dfce34cca900001800000000ff01000100000b00020100001000050003026832";

#[test]
fn server_hellos_give_the_negotiated_parameters() {
    let HelloParse::Complete(tls13) = parse_server_hello_records(&bytes(SERVER_HELLO_TLS13)) else {
        panic!("TLS 1.3 ServerHello");
    };
    assert_eq!((tls13.version(), tls13.cipher_suite, tls13.alpn.as_deref()), (0x0304, 0x1301, None));
    assert_eq!(tls13.extensions, [0x0033, 0x002b]);
    assert!(!tls13.is_hello_retry_request);
    let HelloParse::Complete(tls12) = parse_server_hello_records(&bytes(SERVER_HELLO_TLS12)) else {
        panic!("TLS 1.2 ServerHello");
    };
    assert_eq!((tls12.version(), tls12.cipher_suite, tls12.alpn.as_deref()), (0x0303, 0xcca9, Some("h2")));
    let stream = bytes(SERVER_HELLO_TLS12);
    assert_eq!(parse_server_hello_records(&stream[..stream.len() - 1]), HelloParse::Incomplete);
    assert_eq!(parse_server_hello_records(&bytes(CHROME_RECORD)), HelloParse::NotTls);
    assert_eq!(parse_server_hello_message(&[1, 0, 0, 0]), Err(TlsError::NotServerHello(1)));
}

proptest! {
    #[test]
    fn server_hello_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), cut in any::<prop::sample::Index>()) {
        let _ = parse_server_hello_records(&data);
        let _ = parse_server_hello_message(&data);
        let stream = bytes(SERVER_HELLO_TLS12);
        let _ = parse_server_hello_records(&stream[..cut.index(stream.len())]);
    }
}

/// nDPI's tls_invalid_reads.pcap: a ClientHello whose ALPN extension is garbage after a valid SNI.
#[test]
fn damaged_extension_after_the_sni_still_yields_it_as_a_prefix() {
    let stream = bytes(
        "16030100b2010000ae0303e25f8f7559ed27be965385da1a0aff448e59ae0907c906a053e2a475ebeb3237000028c02bc02c\
         c02fc030009e009fc009c00ac013c01400330039c007c011009c009d002f0035000500ff0100005d000000160014000011652e\
         63726173686c79746963732e636f6d0017000000230000000d0016001406010603050105030401040303010303020102030010\
         000bb889a52f563519e55f943e47e34fc6943577c34438787013cecd7950cb",
    );
    assert_eq!(parse_client_hello_records(&stream), HelloParse::NotTls);
    let hello = parse_client_hello_prefix(&stream).expect("prefix");
    assert_eq!(hello.server_name.as_deref(), Some("e.crashlytics.com"));
    assert!(hello.truncated);
}
