//! TLS records and handshake messages: ClientHello (whole, cut short), ServerHello, JA4.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_tls::Ja4Transport;

fuzz_target!(|data: &[u8]| {
    let _ = phonehome_tls::looks_like_tls(data);
    let _ = format!("{:?}", phonehome_tls::parse_client_hello_records(data));
    let _ = format!("{:?}", phonehome_tls::parse_server_hello_records(data));
    if let Some(hello) = phonehome_tls::parse_client_hello_prefix(data) {
        let _ = hello.ja4(Ja4Transport::Tcp);
    }
    if let Ok(hello) = phonehome_tls::parse_client_hello_message(data) {
        let _ = hello.ja4(Ja4Transport::Quic);
        let _ = hello.ja4_raw(Ja4Transport::Tcp);
    }
    let _ = phonehome_tls::parse_client_hello_message_prefix(data);
    let _ = phonehome_tls::parse_server_hello_message(data);
});
