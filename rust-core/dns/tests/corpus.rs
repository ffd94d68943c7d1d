//! The parser and the cache on every DNS message of the nDPI captures, checked against nDPI's truth.

#[path = "../../packet/tests/support/ndpi.rs"]
mod ndpi;

use std::net::SocketAddr;
use std::time::Duration;

use ndpi::{captures, file_name, ndpi_dir, read_packets, tcp_streams, truth_by_capture, udp_payloads, Packet};
use phonehome_dns::{looks_like_dns, parse_message, tcp_messages, NameCache, RecordData};

const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// The DNS port of a flow between `a` and `b`, if it has one.
fn dns_port(a: SocketAddr, b: SocketAddr) -> Option<u16> {
    DNS_PORTS.into_iter().find(|port| *port == a.port() || *port == b.port())
}

/// DNS messages of a capture with their DNS port: UDP payloads on DNS ports and the messages of
/// DNS-over-TCP streams.
fn dns_messages(packets: &[Packet]) -> Vec<(u16, Vec<u8>)> {
    let mut messages: Vec<(u16, Vec<u8>)> =
        packets.iter().filter(|p| p.udp).filter_map(|p| Some((dns_port(p.src, p.dst)?, p.payload.clone()))).collect();
    for ((src, dst), stream) in tcp_streams(packets) {
        if let Some(port) = dns_port(src, dst) {
            messages.extend(tcp_messages(&stream).map(|m| (port, m.to_vec())));
        }
    }
    messages
}

/// nDPI's DNS host is the query name; ours must match it on (almost) every flow.
#[test]
fn query_names_agree_with_ndpi_truth() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut total, mut agree) = (0, 0);
    let mut disagreements = Vec::new();
    for (capture, rows) in truth_by_capture(&dir, "DNS") {
        let packets = read_packets(&capture);
        let (datagrams, streams) = (udp_payloads(&packets), tcp_streams(&packets));
        for row in rows {
            total += 1;
            let mut payloads: Vec<&[u8]> = Vec::new();
            for direction in row.directions() {
                if row.udp {
                    payloads.extend(datagrams.get(&direction).into_iter().flatten());
                } else {
                    payloads.extend(streams.get(&direction).into_iter().flat_map(|s| tcp_messages(s)));
                }
            }
            let names: Vec<String> = payloads
                .iter()
                .filter_map(|p| parse_message(p).ok()?.questions.into_iter().next().map(|q| q.name))
                .collect();
            if names.iter().any(|name| name.eq_ignore_ascii_case(&row.host)) {
                agree += 1;
            } else {
                let name = file_name(&capture);
                let ours = names.first();
                disagreements.push(format!("{name} {} ↔ {}: nDPI {:?}, ours {ours:?}", row.a, row.b, row.host));
            }
        }
    }
    println!("DNS query name agreement with nDPI: {agree}/{total} flows");
    for line in &disagreements {
        println!("  {line}");
    }
    assert!(total > 100, "expected the corpus to hold DNS truth rows");
    assert!(agree * 1000 >= total * AGREEMENT_PER_MILLE, "agreement fell below {AGREEMENT_PER_MILLE}‰");
}

/// Measured: 233 of 235 flows. The rest: `*.teams.microsoft.com` (nDPI rewrites `*` as `_`) and a
/// 200-byte dnscat name that nDPI keeps only the tail of.
const AGREEMENT_PER_MILLE: usize = 991;

/// Every DNS message in the corpus parses or fails cleanly, at full length and cut at every byte;
/// answers feed the cache; the strict off-port check accepts real queries and little else.
#[test]
fn every_corpus_message_parses_cut_anywhere_and_feeds_the_cache() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut total, mut parsed, mut partial, mut cached) = (0, 0, 0, 0);
    let (mut unicast, mut unicast_strict, mut off_port, mut off_port_positive) = (0, 0, 0, 0);
    let mut cache = NameCache::new(4096);
    for capture in captures(&dir) {
        let packets = read_packets(&capture);
        for (port, message) in dns_messages(&packets) {
            total += 1;
            for cut in 0..message.len() {
                let _ = parse_message(&message[..cut]);
                let _ = looks_like_dns(&message[..cut], false);
            }
            let Ok(parsed_message) = parse_message(&message) else { continue };
            parsed += 1;
            partial += usize::from(parsed_message.partial);
            assert!(looks_like_dns(&message, true));
            if port == 53 {
                unicast += 1;
                unicast_strict += usize::from(looks_like_dns(&message, false));
            }
            cached += cache.insert_answers(&parsed_message, Duration::from_secs(1));
        }
        for packet in packets.iter().filter(|p| p.udp && dns_port(p.src, p.dst).is_none()) {
            off_port += 1;
            if looks_like_dns(&packet.payload, false) {
                off_port_positive += 1;
                let netbios = packet.src.port() == 137 || packet.dst.port() == 137;
                assert!(netbios, "DNS-like: {} {} → {}", file_name(&capture), packet.src, packet.dst);
            }
        }
    }
    println!("DNS-port messages: {total}, parsed {parsed} ({partial} partial), addresses cached {cached}");
    println!("strict check: {unicast_strict}/{unicast} port-53 messages pass; {off_port_positive}/{off_port} other UDP payloads pass (NetBIOS name service)");
    assert_eq!(parsed, total, "every DNS-port message in the corpus has a readable header and question");
    assert!(unicast_strict * 100 >= unicast * 99, "the strict check rejects real DNS");
    assert!(off_port_positive * 100 <= off_port, "the strict check accepts too much");
    assert!(cached > 400 && cache.len() <= 4096);
}

/// The packets of one capture of the corpus, `None` (skipped) without the corpus.
fn capture(name: &str) -> Option<Vec<Packet>> {
    Some(read_packets(&ndpi_dir()?.join(name)))
}

/// malformed_dns.pcap: a response whose second question name is 255+ bytes of garbage.
#[test]
fn malformed_second_question_keeps_the_first() {
    let Some(packets) = capture("malformed_dns.pcap") else { return };
    let response = packets.iter().find(|s| s.payload.len() > 1000).expect("the long response");
    let message = parse_message(&response.payload).expect("first question readable");
    assert!(message.partial);
    assert_eq!(message.header.question_count, 2);
    assert_eq!(message.questions.len(), 1);
    assert_eq!(message.questions[0].name, "www.xt.com");
}

/// dns_long_domainname.pcap: a tunnel-like name and the "no such name" answer to it.
#[test]
fn long_domain_names() {
    let Some(packets) = capture("dns_long_domainname.pcap") else { return };
    let messages: Vec<_> = packets.iter().map(|s| parse_message(&s.payload).expect("parses")).collect();
    assert_eq!(messages.len(), 2);
    for message in &messages {
        assert_eq!(message.questions[0].name, "gmr02c.16.0.fhkfhsdkfhsk.tunnel.example.com");
    }
    assert_eq!((messages[1].header.rcode, messages[1].answers.len()), (3, 0));
}

/// bad-dns-traffic.pcap: DNS tunnelling (MX and TXT queries with encoded labels); every message
/// parses and every query name ends in the tunnel's domain.
#[test]
fn tunnel_traffic_parses() {
    let Some(packets) = capture("bad-dns-traffic.pcap") else { return };
    let messages: Vec<_> = packets.iter().map(|s| parse_message(&s.payload)).collect();
    assert!(messages.len() > 300);
    let names: Vec<&str> =
        messages.iter().flatten().flat_map(|m| m.questions.iter()).map(|q| q.name.as_str()).collect();
    assert!(names.len() >= messages.len() * 9 / 10);
    assert!(names.iter().all(|n| n.to_ascii_lowercase().ends_with(".skullseclabs.org")), "{names:?}");
    let txt = messages
        .iter()
        .flatten()
        .flat_map(|m| &m.answers)
        .filter(|r| matches!(r.data, RecordData::Other { .. }))
        .count();
    assert!(txt > 0);
}
