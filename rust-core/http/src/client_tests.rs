//! The client stream end to end: HTTP/1 persistence and pipelining, bodies, upgrades, h2c, raw streams,
//! hostile input.

use super::*;
use crate::coding::tests::{brotli, gzip, raw_deflate, zlib};
use crate::h2::tests::frame;
use proptest::prelude::*;

/// What came out, in order, as comparable text.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    requests: Vec<String>,
    searched: Vec<Vec<u8>>,
    flags: Vec<Flag>,
}

impl Seen {
    fn found(&self, needle: &[u8]) -> bool {
        self.searched.iter().any(|s| memchr::memmem::find(s, needle).is_some())
    }
}

fn record(seen: &mut Seen) -> impl FnMut(Event<'_>) + '_ {
    move |event| match event {
        Event::Request(r) => seen.requests.push(format!("{} {} {:?} {:?}", r.method, r.target, r.host, r.version)),
        Event::Search(bytes) => seen.searched.push(bytes.to_vec()),
        Event::Flag(flag) => seen.flags.push(flag),
    }
}

fn read_in(stream: &[u8], segments: &[usize], limits: Limits) -> Seen {
    let mut seen = Seen::default();
    let mut client = ClientStream::new(limits);
    let mut at = 0;
    for len in segments.iter().cycle() {
        if at >= stream.len() {
            break;
        }
        let end = at.saturating_add(*len.max(&1)).min(stream.len());
        client.push(&stream[at..end], &mut record(&mut seen));
        assert!(client.pending.len() <= MAX_HEAD.saturating_add(*len), "pending grew to {}", client.pending.len());
        at = end;
    }
    client.finish(&mut record(&mut seen));
    seen
}

fn read(stream: &[u8]) -> Seen {
    read_in(stream, &[usize::MAX], Limits::default())
}

fn post(target: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("POST {target} HTTP/1.1\r\nHost: t.test\r\n{headers}Content-Length: {}\r\n\r\n", body.len())
        .into_bytes();
    out.extend_from_slice(body);
    out
}

fn chunked(target: &str, headers: &str, body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out =
        format!("POST {target} HTTP/1.1\r\nHost: t.test\r\n{headers}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    for piece in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const IMEI: &[u8] = b"356938035643809";

/// A keep-alive connection of several requests, each body in another coding.
fn keep_alive_connection() -> Vec<u8> {
    let mut stream = b"GET /first HTTP/1.1\r\nHost: t.test\r\n\r\n".to_vec();
    stream.extend(post("/plain", "", b"{\"imei\":\"356938035643809\"}"));
    stream.extend(post("/gzip", "Content-Encoding: gzip\r\n", &gzip(b"gz-imei=356938035643809")));
    stream.extend(post("/zlib", "Content-Encoding: deflate\r\n", &zlib(b"zlib-imei=356938035643809")));
    stream.extend(post("/raw-deflate", "Content-Encoding: deflate\r\n", &raw_deflate(b"rd-imei=356938035643809")));
    stream.extend(post("/br", "Content-Encoding: br\r\n", &brotli(b"br-imei=356938035643809")));
    stream.extend(post("/stacked", "Content-Encoding: gzip, br\r\n", &brotli(&gzip(b"st-imei=356938035643809"))));
    stream.extend(chunked("/chunked-gzip", "Content-Encoding: gzip\r\n", &gzip(b"ch-imei=356938035643809"), 7));
    stream.extend(b"\r\nREPORT /any-token HTTP/1.1\r\nHost: dav.test\r\n\r\n");
    stream
}

#[test]
fn every_request_of_a_keep_alive_connection_and_every_coding() {
    let seen = read(&keep_alive_connection());
    let targets: Vec<&str> = seen.requests.iter().map(|r| r.split(' ').nth(1).unwrap_or_default()).collect();
    assert_eq!(
        targets,
        ["/first", "/plain", "/gzip", "/zlib", "/raw-deflate", "/br", "/stacked", "/chunked-gzip", "/any-token"]
    );
    for decoded in [&b"gz-imei="[..], b"zlib-imei=", b"rd-imei=", b"br-imei=", b"st-imei=", b"ch-imei="] {
        let mut needle = decoded.to_vec();
        needle.extend_from_slice(IMEI);
        assert!(seen.found(&needle), "{}", String::from_utf8_lossy(decoded));
    }
    assert!(seen.flags.is_empty(), "{:?}", seen.flags);
}

#[test]
fn a_later_request_is_searched_whatever_came_before() {
    // A 1 MiB upload first, then an hourly beacon on the same connection.
    let mut stream = post("/upload", "", &vec![b'x'; 1 << 20]);
    stream.extend(b"GET /beacon?imei=356938035643809 HTTP/1.1\r\nHost: t.test\r\n\r\n");
    let seen = read_in(&stream, &[1460], Limits::default());
    assert!(seen.found(b"imei=356938035643809"));
    assert!(seen.searched.iter().all(|s| s.len() <= MAX_HEAD));
}

#[test]
fn websocket_after_upgrade_is_unmasked() {
    let mut stream = b"GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".to_vec();
    let text = b"{\"imei\":\"356938035643809\"}";
    let key = [0x37, 0xfa, 0x21, 0x3d];
    // Fragmented in two masked frames.
    for (opcode, piece) in [(0x01u8, &text[..10]), (0x80, &text[10..])] {
        stream.extend_from_slice(&[opcode, 0x80 | piece.len() as u8]);
        stream.extend_from_slice(&key);
        stream.extend(piece.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    }
    let seen = read(&stream);
    assert!(seen.found(text));
    // The masked bytes themselves do not hold it.
    assert!(memchr::memmem::find(&stream, IMEI).is_none());
}

#[test]
fn a_refused_upgrade_goes_on_with_requests() {
    let mut stream = b"GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\n\r\n".to_vec();
    stream.extend(b"GET /after?imei=356938035643809 HTTP/1.1\r\nHost: ws.test\r\n\r\n");
    let seen = read(&stream);
    assert_eq!(seen.requests.len(), 2);
    assert!(seen.found(b"after?imei=356938035643809"));
}

/// An HPACK literal field without indexing, name and value as plain strings.
fn literal(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00, name.len() as u8];
    out.extend_from_slice(name);
    out.push(value.len() as u8);
    out.extend_from_slice(value);
    out
}

fn h2c_requests(upgrade: bool) -> Vec<u8> {
    let mut stream = if upgrade {
        b"GET / HTTP/1.1\r\nHost: h2.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n".to_vec()
    } else {
        Vec::new()
    };
    stream.extend_from_slice(h2::PREFACE);
    stream.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100]));
    // RFC 7541 C.4.1 (Huffman-coded :authority www.example.com) plus a Huffman-free header with the IMEI.
    let mut block =
        vec![0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff];
    block.extend(literal(b"x-device", IMEI));
    stream.extend(frame(0x1, 0x4 | 0x1, 3, &block));
    let mut post = vec![0x83, 0x86, 0x84, 0xbe];
    post.extend(literal(b"content-encoding", b"gzip"));
    stream.extend(frame(0x1, 0x4, 5, &post));
    let body = gzip(b"{\"gaid\":\"38400000-8cf0-11bd-b23e-10b96e40000d\"}");
    let (a, b) = body.split_at(body.len() / 2);
    stream.extend(frame(0x0, 0, 5, a));
    stream.extend(frame(0x0, 0x1, 5, b));
    stream
}

#[test]
fn h2c_by_prior_knowledge_and_by_upgrade() {
    for upgrade in [false, true] {
        let mut client = ClientStream::new(Limits::default());
        let mut seen = Seen::default();
        client.push(&h2c_requests(upgrade), &mut record(&mut seen));
        client.finish(&mut record(&mut seen));
        assert_eq!(client.protocol(), Some(Protocol::Http2));
        let h2_requests: Vec<&String> = seen.requests.iter().filter(|r| r.contains("major: 2")).collect();
        assert_eq!(h2_requests.len(), 2, "{:?}", seen.requests);
        assert!(h2_requests[0].contains("Some(\"www.example.com\")"), "{h2_requests:?}");
        assert!(seen.found(b"x-device: 356938035643809"));
        assert!(seen.found(b"38400000-8cf0-11bd-b23e-10b96e40000d"));
        assert!(seen.flags.is_empty());
    }
}

#[test]
fn raw_streams_are_searched_late_and_across_window_edges_up_to_the_budget() {
    let limits = Limits { message_bytes: 4096, stream_bytes: 64 * 1024, max_ratio: 200 };
    for at in [100, 4090, 40_000] {
        let mut stream = vec![0x01u8; at];
        stream.extend_from_slice(b"imei=356938035643809");
        stream.resize(50_000, 0x02);
        let seen = read_in(&stream, &[1000], limits);
        assert!(seen.found(b"imei=356938035643809"), "at {at}");
        assert!(seen.requests.is_empty());
    }
    let mut late = vec![0x01u8; 70_000];
    late.extend_from_slice(IMEI);
    assert!(!read_in(&late, &[1000], limits).found(IMEI));
}

#[test]
fn hostile_streams_are_flagged_and_the_rest_is_searched_raw() {
    // An endless chunk size.
    let mut endless = b"POST /c HTTP/1.1\r\nHost: t.test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    endless.extend(std::iter::repeat_n(b'f', 100_000));
    endless.extend_from_slice(b"imei=356938035643809");
    let seen = read_in(&endless, &[1460], Limits::default());
    assert_eq!(seen.flags, [Flag::BodyUndecodable, Flag::StreamUndecodable]);
    assert!(seen.found(b"imei=356938035643809"));
    // A WebSocket frame claiming 2^63 bytes.
    let mut ws = b"GET / HTTP/1.1\r\nHost: t.test\r\nUpgrade: websocket\r\n\r\n".to_vec();
    ws.extend_from_slice(&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    ws.extend_from_slice(b"imei=356938035643809");
    let seen = read(&ws);
    assert_eq!(seen.flags, [Flag::StreamUndecodable]);
    assert!(seen.found(b"imei=356938035643809"));
    // An HPACK table-size attack.
    let mut hpack = h2::PREFACE.to_vec();
    hpack.extend(frame(0x1, 0x4, 1, &[0x3f, 0xe1, 0xff, 0xff, 0x7f, 0x82]));
    hpack.extend_from_slice(b"imei=356938035643809");
    let seen = read(&hpack);
    assert_eq!(seen.flags, [Flag::StreamUndecodable]);
    assert!(seen.found(b"imei=356938035643809"));
    // A decompression bomb.
    let seen = read(&post("/bomb", "Content-Encoding: gzip\r\n", &gzip(&vec![0; 50 << 20])));
    assert_eq!(seen.flags, [Flag::BodyUndecodable]);
    assert!(seen.searched.iter().all(|s| s.len() <= MAX_HEAD));
}

#[test]
fn connect_tunnels_tls_is_not_searched_plain_http_is() {
    let mut tls = b"CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n".to_vec();
    tls.extend_from_slice(&[0x16, 0x03, 0x01, 0x00, 0x20]);
    tls.extend_from_slice(IMEI);
    assert!(!read(&tls).found(IMEI));
    let mut plain = b"CONNECT a.test:80 HTTP/1.1\r\nHost: a.test:80\r\n\r\n".to_vec();
    plain.extend_from_slice(b"GET /r?imei=356938035643809 HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let seen = read(&plain);
    assert_eq!(seen.requests.len(), 2);
    assert!(seen.found(IMEI));
}

#[test]
fn conflicting_lengths_lose_sync_and_a_cut_head_is_still_read() {
    let seen = read(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nimei=356938035643809");
    assert_eq!(seen.flags, [Flag::StreamUndecodable]);
    assert!(seen.found(IMEI));
    let seen = read(b"GET /r?imei=356938035643809 HTTP/1.1\r\nHost: cut.test\r\nCook");
    assert_eq!(seen.requests.len(), 1);
    assert!(seen.found(IMEI));
}

proptest! {
    /// The whole connection, fed in any segments, gives the same events in the same order.
    #[test]
    fn any_segmentation_gives_the_same_events(segments in prop::collection::vec(1usize..3000, 1..8)) {
        let mut stream = keep_alive_connection();
        stream.extend(h2c_requests(true));
        let whole = read(&stream);
        prop_assert_eq!(read_in(&stream, &segments, Limits::default()), whole);
    }

    /// Arbitrary, truncated and mutated streams never panic, keep pending bytes bounded and never search
    /// more than a head or a body at once.
    #[test]
    fn hostile_streams_stay_bounded(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        segments in prop::collection::vec(1usize..2000, 1..4),
        prefix in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut stream = prefix;
        stream.extend(keep_alive_connection());
        stream.extend(h2c_requests(true));
        for (index, byte) in flips {
            let i = index.index(stream.len());
            stream[i] = byte;
        }
        stream.truncate(cut.index(stream.len() + 1));
        let limits = Limits { message_bytes: 2048, stream_bytes: 16 * 1024, max_ratio: 50 };
        let seen = read_in(&stream, &segments, limits);
        prop_assert!(seen.searched.iter().all(|s| s.len() <= MAX_HEAD), "searched {:?}", seen.searched.iter().map(Vec::len).max());
    }
}

/// Later requests name their unchanged fields by dynamic-table index, as encoders do; each is still whole.
#[test]
fn h2c_requests_with_indexed_fields_keep_their_host_and_path() {
    use crate::testing::{h2_request, huffman};
    let mut stream = h2::PREFACE.to_vec();
    let fields = [
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "log.telemetry-example.com"),
        (":path", "/v1/events?seq=0"),
        ("user-agent", "okhttp/4.12.0"),
        ("content-type", "application/json"),
    ];
    stream.extend(h2_request(1, &fields, b"{}", true, 100));
    for i in 1..4u32 {
        let path = huffman(format!("/v1/events?seq={i}").as_bytes());
        let mut block = vec![0x80 | 67, 0x80 | 66, 0x80 | 65, 0x04, 0x80 | path.len() as u8];
        block.extend_from_slice(&path);
        block.extend_from_slice(&[0x80 | 63, 0x80 | 62]);
        stream.extend(frame(0x1, 0x4 | 0x1, 1 + 2 * i, &block));
    }
    let seen = read(&stream);
    let expected: Vec<String> = (0..4)
        .map(|i| format!("POST /v1/events?seq={i} Some(\"log.telemetry-example.com\") Some(HttpVersion {{ major: 2, minor: 0 }})"))
        .collect();
    assert_eq!(seen.requests, expected);
    assert!(seen.found(b"user-agent: okhttp/4.12.0\r\ncontent-type: application/json"));
}
