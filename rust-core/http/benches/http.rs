//! Per-operation costs of the HTTP crate: `cargo bench -p phonehome-http`.
//! Prints a table; compare rows of one run, not runs on different machines.

#[path = "../../dns/benches/support/timing.rs"]
mod timing;

use std::hint::black_box;

use phonehome_http::{looks_like_request, parse_request, parse_response_head};

/// A browser request as captured in nDPI's http-manipulated.pcap (Firefox 81).
const BROWSER: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: www.lan:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:81.0) Gecko/20100101 Firefox/81.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nDNT: 1\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n";
/// The same request with its User-Agent folded over two lines: the lenient path.
const FOLDED: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: www.lan:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:81.0)\r\n Gecko/20100101 Firefox/81.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nDNT: 1\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n";
const TLS_HELLO: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

fn main() {
    let rows: [(&str, f64); 5] = [
        ("parse_request browser GET (httparse)", timing::ns_per_op(|| parse_request(black_box(BROWSER)))),
        ("parse_request folded header (lenient)", timing::ns_per_op(|| parse_request(black_box(FOLDED)))),
        ("parse_request TLS ClientHello (not HTTP)", timing::ns_per_op(|| parse_request(black_box(TLS_HELLO)))),
        ("looks_like_request 8 bytes", timing::ns_per_op(|| looks_like_request(black_box(&BROWSER[..8])))),
        ("parse_response_head", timing::ns_per_op(|| parse_response_head(black_box(b"HTTP/1.1 200 OK\r\n")))),
    ];
    timing::print_table(&rows);
}
