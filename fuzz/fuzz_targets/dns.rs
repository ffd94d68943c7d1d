//! DNS messages over UDP and TCP (length-prefixed), and the DNS detector.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = phonehome_dns::looks_like_dns(data, true);
    let _ = phonehome_dns::looks_like_dns(data, false);
    if let Ok(message) = phonehome_dns::parse_message(data) {
        let _ = format!("{message:?}");
    }
    let mut messages = phonehome_dns::tcp_messages(data);
    for message in messages.by_ref() {
        let _ = phonehome_dns::parse_message(message);
    }
    let _ = messages.remainder();
});
