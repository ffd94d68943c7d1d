//! Per-hello cost of the inspectors: `cargo bench -p phonehome-quic` prints a table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use phonehome_quic::InitialDecoder;
use phonehome_tls::{parse_client_hello_records, HelloParse, Ja4Transport};

fn hex_file(text: &str) -> Vec<u8> {
    hex::decode(text.split_whitespace().collect::<String>()).unwrap_or_default()
}

/// Median time per call over several rounds, each long enough to dwarf the clock's resolution.
fn measure(mut f: impl FnMut()) -> Duration {
    let iterations = 2_000u32;
    let mut rounds: Vec<Duration> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed() / iterations
        })
        .collect();
    rounds.sort();
    rounds[rounds.len() / 2]
}

fn main() {
    let chrome = hex_file(include_str!("../../tls/src/testdata/chrome_client_hello.hex"));
    let initial = hex_file(include_str!("../src/testdata/rfc9001_client_initial.hex"));
    let HelloParse::Complete(hello) = parse_client_hello_records(&chrome) else {
        panic!("the Chrome hello parses");
    };
    let rows: [(&str, Duration); 3] = [
        (
            "TLS record -> ClientHello (Chrome, 517 B)",
            measure(|| {
                black_box(parse_client_hello_records(black_box(&chrome)));
            }),
        ),
        (
            "JA4 of that ClientHello",
            measure(|| {
                black_box(hello.ja4(Ja4Transport::Tcp));
            }),
        ),
        (
            "QUIC v1 Initial -> hello (new flow, RFC 9001 A.2)",
            measure(|| {
                black_box(InitialDecoder::new().on_client_datagram(black_box(&initial)).ok());
            }),
        ),
    ];
    println!("{:<52} {:>10}", "operation", "median");
    for (name, time) in rows {
        println!("{name:<52} {:>8.2} µs", time.as_secs_f64() * 1e6);
    }
}
