//! HTTP/1.x request and response heads, whole and cut short.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = phonehome_http::looks_like_request(data);
    let _ = format!("{:?}", phonehome_http::parse_request(data));
    let _ = phonehome_http::parse_request_truncated(data);
    let _ = phonehome_http::parse_response_head(data);
});
