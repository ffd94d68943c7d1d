//! The request parser on every TCP stream of the nDPI captures, checked against nDPI's Host.

#[path = "../../packet/tests/support/ndpi.rs"]
mod ndpi;

use ndpi::{captures, file_name, ndpi_dir, read_packets, tcp_streams, truth_by_capture};
use phonehome_http::{
    looks_like_request, parse_request, parse_request_truncated, parse_response_head, Request, RequestParse,
};

/// What an engine does with a client stream: a complete head, or the best of a cut one.
fn request_of(stream: &[u8]) -> Option<Request> {
    match parse_request(stream) {
        RequestParse::Complete(request) => Some(request),
        RequestParse::Incomplete => parse_request_truncated(stream),
        RequestParse::NotHttp => None,
    }
}

/// Measured: every one of 1013 flows (heuristic_tcp_ack_payload.pcap's bare ACK, two NUL bytes at
/// the request's sequence number, is outweighed by the longer request segment at that offset).
const AGREEMENT_PER_MILLE: usize = 1000;

#[test]
fn host_agrees_with_ndpi_truth() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut total, mut agree) = (0, 0);
    let mut disagreements = Vec::new();
    for (capture, rows) in truth_by_capture(&dir, "HTTP") {
        let streams = tcp_streams(&read_packets(&capture));
        for row in rows {
            total += 1;
            // nDPI's client side is usually `a`, not always: take the direction that holds a request.
            let request = row.directions().iter().find_map(|d| request_of(streams.get(d)?));
            let host = request.as_ref().and_then(|r| r.host.clone());
            if host.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&row.host)) {
                agree += 1;
            } else {
                let name = file_name(&capture);
                let what = request.map(|r| (r.method, r.target.chars().take(60).collect::<String>(), r.host));
                disagreements.push(format!("{name} {} ↔ {}: nDPI {:?}, ours {what:?}", row.a, row.b, row.host));
            }
        }
    }
    println!("HTTP host agreement with nDPI: {agree}/{total} flows");
    for line in &disagreements {
        println!("  {line}");
    }
    assert!(total > 100, "expected the corpus to hold HTTP truth rows");
    assert!(agree * 1000 >= total * AGREEMENT_PER_MILLE, "agreement fell below {AGREEMENT_PER_MILLE}‰");
}

/// Every stream of the corpus, whole and cut at every byte of its first 1500, never panics; a head
/// that parses keeps its offsets inside the buffer.
#[test]
fn every_corpus_stream_parses_or_is_rejected_cleanly() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut streams_seen, mut requests, mut lenient, mut incomplete, mut responses) = (0, 0, 0, 0, 0);
    for capture in captures(&dir) {
        for stream in tcp_streams(&read_packets(&capture)).values() {
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

/// The request of the client stream from `client_port` in one capture, `None` (skipped) without the corpus.
fn first_request(name: &str, client_port: u16) -> Option<Request> {
    let streams = tcp_streams(&read_packets(&ndpi_dir()?.join(name)));
    let stream = streams
        .iter()
        .find(|((src, _), _)| src.port() == client_port)
        .map(|(_, stream)| stream)
        .expect("the client stream");
    Some(request_of(stream).expect("a request"))
}

/// http-manipulated.pcap: `hOsT:wwww.lan:8080` without a space, and a request line padded with spaces.
#[test]
fn manipulated_requests() {
    let Some(odd_case) = first_request("http-manipulated.pcap", 33632) else { return };
    assert_eq!((odd_case.host.as_deref(), odd_case.port), (Some("wwww.lan"), Some(8080)));
    let padded = first_request("http-manipulated.pcap", 33684).expect("the corpus");
    assert_eq!(padded.target, "/aaaaaaaaaaaaaaaaaaaaaaaa_very_long_uri");
    assert_eq!(padded.host.as_deref(), Some("www.lan"));
}

/// http_ua_splitted_in_two_pkts.pcapng: a User-Agent split across two segments is whole once the
/// stream is reassembled.
#[test]
fn user_agent_split_in_two_packets() {
    let Some(request) = first_request("http_ua_splitted_in_two_pkts.pcapng", 21359) else { return };
    assert_eq!(request.host.as_deref(), Some("va.origin.startappservice.com"));
    assert!(request.user_agent.as_deref().is_some_and(|ua| ua.starts_with("Mozilla/5.0")), "{:?}", request.user_agent);
}

/// fuzz-2006-09-29-28586.pcap: a Host header with a NUL in it; nDPI (C strings) reads `%s`.
#[test]
fn fuzzed_host_header_ends_at_nul() {
    let Some(request) = first_request("fuzz-2006-09-29-28586.pcap", 53132) else { return };
    assert!(request.lenient);
    assert_eq!(request.host.as_deref(), Some("%s"));
}
