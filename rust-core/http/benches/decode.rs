//! Cost of reading what a client sends, per MB on the wire: `cargo bench -p phonehome-http --features testing
//! --bench decode`. Each row feeds one connection's bytes through a `ClientStream` in 1460-byte segments, as
//! the engine does, and counts the bytes handed out for searching. Compare rows of one run.

// Only its timer: this bench prints figures per MB, not the shared per-operation table.
#[allow(dead_code)]
#[path = "../../dns/benches/support/timing.rs"]
mod timing;

use std::hint::black_box;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use phonehome_http::testing::{h2_frame, h2_request, huffman, ws_frame};
use phonehome_http::{ClientStream, Event, Limits};

/// A telemetry event batch like an analytics SDK's: JSON, about 2 KB.
fn event_batch(i: usize) -> Vec<u8> {
    let events: Vec<String> = (0..20)
        .map(|e| {
            format!(
                "{{\"t\":{},\"screen\":\"home-{}\",\"dur\":{},\"net\":\"wifi\"}}",
                1_732_190_000 + i * 20 + e,
                e % 7,
                (i * 31 + e) % 900
            )
        })
        .collect();
    format!("{{\"app\":\"com.example.launcher\",\"ver\":\"4.2.1\",\"events\":[{}]}}", events.join(",")).into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

fn post(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /v1/events HTTP/1.1\r\nHost: log.telemetry-example.com\r\nUser-Agent: okhttp/4.12.0\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out =
        b"POST /v1/events HTTP/1.1\r\nHost: log.telemetry-example.com\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(256) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// About `size` bytes of one connection, built message by message.
fn connection(size: usize, start: &[u8], message: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let mut out = start.to_vec();
    let mut i = 0;
    while out.len() < size {
        out.extend(message(i));
        i += 1;
    }
    out
}

/// Nanoseconds per wire MB to read `stream` as the engine does.
fn ns_per_mb(stream: &[u8]) -> f64 {
    let ns = timing::ns_per_op(|| {
        let mut client = ClientStream::new(Limits::default());
        let mut searched = 0usize;
        let mut count = |event: Event<'_>| {
            if let Event::Search(bytes) = event {
                searched += black_box(bytes).len();
            }
        };
        for segment in stream.chunks(1460) {
            client.push(segment, &mut count);
        }
        client.finish(&mut count);
        searched
    });
    ns * 1e6 / stream.len() as f64
}

fn main() {
    const SIZE: usize = 4 << 20;
    let upgrade =
        b"GET /socket HTTP/1.1\r\nHost: push.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let mut h2c_start = phonehome_http::h2::PREFACE.to_vec();
    h2c_start.extend(h2_frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100]));
    let fields = |i: usize| {
        vec![
            (":method".to_owned(), "POST".to_owned()),
            (":scheme".to_owned(), "http".to_owned()),
            (":authority".to_owned(), "log.telemetry-example.com".to_owned()),
            (":path".to_owned(), format!("/v1/events?seq={i}")),
            ("user-agent".to_owned(), "okhttp/4.12.0".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ]
    };
    let streams: Vec<(&str, Vec<u8>)> = vec![
        ("raw bytes (not HTTP)", (0..SIZE).map(|i| (i * 7 % 251) as u8 | 0x80).collect()),
        ("HTTP/1.1 keep-alive, identity JSON bodies", connection(SIZE, b"", |i| post("", &event_batch(i)))),
        ("HTTP/1.1 chunked JSON bodies", connection(SIZE, b"", |i| chunked(&event_batch(i)))),
        (
            "HTTP/1.1 gzip JSON bodies",
            connection(SIZE, b"", |i| post("Content-Encoding: gzip\r\n", &gzip(&event_batch(i)))),
        ),
        (
            "WebSocket masked text messages",
            connection(SIZE, upgrade, |i| ws_frame(0x81, &event_batch(i), [0x37, 0xfa, 0x21, 0x3d])),
        ),
        (
            "h2c requests (fields indexed after the first)",
            connection(SIZE, &h2c_start, |i| {
                let stream = 1 + 2 * i as u32;
                if i == 0 {
                    let f = fields(i);
                    let refs: Vec<(&str, &str)> = f.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                    return h2_request(stream, &refs, &event_batch(i), true, 16_384);
                }
                // As encoders do: the unchanged fields by their dynamic-table index, the path Huffman-coded
                // without indexing (:path is static entry 4).
                let path = huffman(format!("/v1/events?seq={i}").as_bytes());
                let mut block = vec![0x80 | 67, 0x80 | 66, 0x80 | 65, 0x04, 0x80 | path.len() as u8];
                block.extend_from_slice(&path);
                block.extend_from_slice(&[0x80 | 63, 0x80 | 62]);
                let mut out = h2_frame(0x1, 0x4, stream, &block);
                out.extend(h2_frame(0x0, 0x1, stream, &event_batch(i)));
                out
            }),
        ),
        (
            "h2c requests (every field a new Huffman literal)",
            connection(SIZE, &h2c_start, |i| {
                let f = fields(i);
                let refs: Vec<(&str, &str)> = f.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                h2_request(1 + 2 * i as u32, &refs, &event_batch(i), true, 16_384)
            }),
        ),
    ];
    // `cargo bench … -- gzip` runs the rows whose name holds `gzip` (for profiling one of them).
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!("{:<46} {:>12} {:>10}", "stream (4 MiB, 1460-byte segments)", "ms per MB", "MB/s");
    for (name, stream) in streams.iter().filter(|(name, _)| only.as_ref().is_none_or(|o| name.contains(o.as_str()))) {
        let ns = ns_per_mb(stream);
        println!("{name:<46} {:>12.2} {:>10.0}", ns / 1e6, 1e9 / ns);
    }
}
