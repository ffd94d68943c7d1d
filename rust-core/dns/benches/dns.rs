//! Per-operation costs of the DNS crate on real messages: `cargo bench -p phonehome-dns`.
//! Prints a table; compare rows of one run, not runs on different machines.

#[path = "support/timing.rs"]
mod timing;

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use phonehome_dns::{looks_like_dns, parse_message, NameCache};

fn main() {
    // `captive.apple.com A` and its answer through three CNAMEs to two addresses, as in nDPI's android.pcap.
    let query = phonehome_testdata::proto::dns_query(0xfba6, "captive.apple.com", 1);
    let answer = phonehome_testdata::proto::dns_response(
        0xfba6,
        "captive.apple.com",
        1,
        Some("captive.g.aaplimg.com"),
        &[IpAddr::V4(Ipv4Addr::new(17, 253, 53, 201)), IpAddr::V4(Ipv4Addr::new(17, 253, 53, 208))],
    );
    let response = parse_message(&answer).expect("sample parses");
    let mut cache = NameCache::new(8192);
    // A full cache, so inserts also evict.
    for i in 0..8192u32 {
        let mut message = response.clone();
        message.answers.retain(|r| matches!(r.data, phonehome_dns::RecordData::Cname(_)));
        message.answers.push(phonehome_dns::Record {
            name: "captive.g.aaplimg.com".into(),
            rtype: phonehome_dns::RecordType::A,
            class: 1,
            ttl: 60,
            data: phonehome_dns::RecordData::A(Ipv4Addr::from(0x0a00_0000 + i)),
        });
        cache.insert_answers(&message, Duration::ZERO);
    }
    let hit = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));

    let rows: [(&str, f64); 6] = [
        ("parse_message query (35 B)", timing::ns_per_op(|| parse_message(black_box(query.as_slice())))),
        ("parse_message response (CNAME + 2 A)", timing::ns_per_op(|| parse_message(black_box(answer.as_slice())))),
        (
            "looks_like_dns response, off port",
            timing::ns_per_op(|| looks_like_dns(black_box(answer.as_slice()), false)),
        ),
        (
            "NameCache::insert_answers (full cache of 8192)",
            timing::ns_per_op(|| cache.insert_answers(&response, Duration::ZERO)),
        ),
        ("NameCache::lookup hit", timing::ns_per_op(|| cache.lookup(black_box(hit), Duration::ZERO))),
        (
            "NameCache::lookup miss",
            timing::ns_per_op(|| cache.lookup(black_box(IpAddr::from([1, 1, 1, 1])), Duration::ZERO)),
        ),
    ];
    timing::print_table(&rows);
}
