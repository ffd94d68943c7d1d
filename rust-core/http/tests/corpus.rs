//! The request parser on every TCP stream of the nDPI captures, checked against nDPI's Host.

#[path = "../../dns/tests/support/corpus.rs"]
mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use phonehome_http::{
    looks_like_request, parse_request, parse_request_truncated, parse_response_head, Request, RequestParse,
};
use support::{captures, corpus_dir, segments, tcp_streams, truth_rows, Segment};

/// What an engine does with a client stream: a complete head, or the best of a cut one.
fn request_of(stream: &[u8]) -> Option<Request> {
    match parse_request(stream) {
        RequestParse::Complete(request) => Some(request),
        RequestParse::Incomplete => parse_request_truncated(stream),
        RequestParse::NotHttp => None,
    }
}

/// Measured: 1010 of 1013 flows. The rest: two flows inside GTP-U tunnels (this test's reader does
/// not unwrap them) and heuristic_tcp_ack_payload.pcap, whose bare ACK carries two NUL bytes at the
/// request's sequence number: by TCP's rules they are the stream's first bytes, nDPI reads packets.
const AGREEMENT_PER_MILLE: usize = 997;

#[test]
fn host_agrees_with_ndpi_truth() {
    let Some(corpus) = corpus_dir() else { return };
    let rows = truth_rows(&corpus, "HTTP");
    let mut loaded: HashMap<PathBuf, Vec<Segment>> = HashMap::new();
    let mut agree = 0;
    let mut disagreements = Vec::new();
    for row in &rows {
        let segments = loaded.entry(row.capture.clone()).or_insert_with(|| segments(&row.capture));
        let flow: Vec<Segment> = segments
            .iter()
            .filter(|s| s.tcp && ((s.src, s.dst) == (row.a, row.b) || (s.src, s.dst) == (row.b, row.a)))
            .cloned()
            .collect();
        let streams = tcp_streams(&flow);
        // nDPI's client side is usually `a`, not always: take the direction that holds a request.
        let request = [(row.a, row.b), (row.b, row.a)]
            .iter()
            .find_map(|key| streams.get(key).and_then(|stream| request_of(stream)));
        let host = request.as_ref().and_then(|r| r.host.clone());
        if host.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&row.host)) {
            agree += 1;
        } else {
            let what = request.map(|r| (r.method, r.target.chars().take(60).collect::<String>(), r.host));
            disagreements.push(format!(
                "{} {} ↔ {}: nDPI {:?}, ours {what:?}",
                row.capture.display(),
                row.a,
                row.b,
                row.host
            ));
        }
    }
    println!("HTTP host agreement with nDPI: {agree}/{} flows", rows.len());
    for line in &disagreements {
        println!("  {line}");
    }
    assert!(rows.len() > 100, "expected the corpus to hold HTTP truth rows");
    assert!(agree * 1000 >= rows.len() * AGREEMENT_PER_MILLE, "agreement fell below {AGREEMENT_PER_MILLE}‰");
}

/// Every stream of the corpus, whole and cut at every byte of its first 1500, never panics; a head
/// that parses keeps its offsets inside the buffer.
#[test]
fn every_corpus_stream_parses_or_is_rejected_cleanly() {
    let Some(corpus) = corpus_dir() else { return };
    let (mut streams_seen, mut requests, mut lenient, mut incomplete, mut responses) = (0, 0, 0, 0, 0);
    for capture in captures(&corpus) {
        for stream in tcp_streams(&segments(&capture)).values() {
            streams_seen += 1;
            responses += usize::from(parse_response_head(stream).is_some());
            match parse_request(stream) {
                RequestParse::Complete(request) => {
                    requests += 1;
                    lenient += usize::from(request.lenient);
                    assert!(request.body_offset <= stream.len());
                }
                RequestParse::Incomplete => incomplete += 1,
                RequestParse::NotHttp => continue,
            }
            for cut in 0..stream.len().min(1500) {
                let prefix = &stream[..cut];
                let _ = looks_like_request(prefix);
                if let RequestParse::Complete(request) = parse_request(prefix) {
                    assert!(request.body_offset <= cut);
                }
                let _ = parse_request_truncated(prefix);
            }
        }
    }
    println!("TCP streams: {streams_seen}; requests: {requests} complete ({lenient} lenient), {incomplete} incomplete; responses: {responses}");
    assert!(requests > 500);
}

fn first_request(corpus: &std::path::Path, name: &str, client_port: u16) -> Request {
    let streams = tcp_streams(&segments(&corpus.join("ndpi").join(name)));
    let stream = streams
        .iter()
        .find(|((src, _), _)| src.port() == client_port)
        .map(|(_, stream)| stream)
        .expect("the client stream");
    request_of(stream).expect("a request")
}

/// http-manipulated.pcap: `hOsT:wwww.lan:8080` without a space, and a request line padded with spaces.
#[test]
fn manipulated_requests() {
    let Some(corpus) = corpus_dir() else { return };
    let odd_case = first_request(&corpus, "http-manipulated.pcap", 33632);
    assert_eq!((odd_case.host.as_deref(), odd_case.port), (Some("wwww.lan"), Some(8080)));
    let padded = first_request(&corpus, "http-manipulated.pcap", 33684);
    assert_eq!(padded.target, "/aaaaaaaaaaaaaaaaaaaaaaaa_very_long_uri");
    assert_eq!(padded.host.as_deref(), Some("www.lan"));
}

/// http_ua_splitted_in_two_pkts.pcapng: a User-Agent split across two segments is whole once the
/// stream is reassembled.
#[test]
fn user_agent_split_in_two_packets() {
    let Some(corpus) = corpus_dir() else { return };
    let request = first_request(&corpus, "http_ua_splitted_in_two_pkts.pcapng", 21359);
    assert_eq!(request.host.as_deref(), Some("va.origin.startappservice.com"));
    assert!(request.user_agent.as_deref().is_some_and(|ua| ua.starts_with("Mozilla/5.0")), "{:?}", request.user_agent);
}

/// fuzz-2006-09-29-28586.pcap: a Host header with a NUL in it; nDPI (C strings) reads `%s`.
#[test]
fn fuzzed_host_header_ends_at_nul() {
    let Some(corpus) = corpus_dir() else { return };
    let request = first_request(&corpus, "fuzz-2006-09-29-28586.pcap", 53132);
    assert!(request.lenient);
    assert_eq!(request.host.as_deref(), Some("%s"));
}
