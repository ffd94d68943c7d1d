//! QUIC client datagrams through the Initial decoder (header protection, decryption, CRYPTO
//! reassembly, ClientHello). Input: datagrams, each a 2-byte length and the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = phonehome_quic::InitialDecoder::new();
    let mut rest = data;
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (datagram, after) = tail.split_at(len);
        rest = after;
        let _ = decoder.on_client_datagram(datagram);
        if decoder.is_finished() {
            break;
        }
    }
    let _ = decoder.partial_hello();
});
