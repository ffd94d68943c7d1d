//! The SNI of every QUIC flow in the nDPI captures, against nDPI's truth.

#[path = "../../packet/tests/support/ndpi.rs"]
mod ndpi;

use std::path::Path;

use ndpi::{file_name, ndpi_dir, read_packets, truth_by_capture, udp_payloads};
use phonehome_quic::{InitialDecoder, QuicHello};

/// The hello of one direction of a flow, fed datagram by datagram like the engine does; a hello
/// that never completed gives what arrived before its first gap (with `true`).
fn hello_of(datagrams: &[&[u8]]) -> Option<(QuicHello, bool)> {
    let mut decoder = InitialDecoder::new();
    let complete = datagrams.iter().find_map(|d| decoder.on_client_datagram(d).ok().flatten());
    complete.map(|h| (h, false)).or_else(|| decoder.partial_hello().map(|h| (h, true)))
}

/// The client side's hello of the flow between `a` and `b` in a capture.
fn flow_hello(dir: &Path, file: &str, a: &str, b: &str) -> Option<(QuicHello, bool)> {
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    let packets = read_packets(&dir.join(file));
    let datagrams = udp_payloads(&packets);
    [(a, b), (b, a)].iter().find_map(|d| hello_of(datagrams.get(d)?))
}

#[test]
fn sni_agrees_with_ndpi() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut total, mut agree, mut from_partial) = (0usize, 0usize, 0usize);
    let mut disagreements = Vec::new();
    for (capture, rows) in truth_by_capture(&dir, "QUIC") {
        let packets = read_packets(&capture);
        let datagrams = udp_payloads(&packets);
        let name = file_name(&capture);
        for row in rows {
            total += 1;
            let found = row.directions().iter().find_map(|d| hello_of(datagrams.get(d)?));
            let (hello, partial) = found.map_or((None, false), |(h, partial)| (Some(h), partial));
            let sni = hello.as_ref().and_then(|h| h.server_name.as_deref());
            if sni == Some(row.host.as_str()) {
                agree += 1;
                from_partial += usize::from(partial);
            } else {
                let version = hello.as_ref().map(|h| format!("{:#010x}", h.version));
                disagreements.push(format!("{name} {} {} -> {sni:?} ({version:?}), nDPI {}", row.a, row.b, row.host));
            }
        }
    }
    println!("QUIC SNI agreement with nDPI: {agree}/{total} ({from_partial} from hellos that never completed)");
    for d in &disagreements {
        println!("  {d}");
    }
    assert!(total >= 148, "expected the corpus's QUIC rows, found {total}");
    assert!(agree >= total, "agreement fell to {agree}/{total}");
    assert!(from_partial == 0, "{from_partial} hellos no longer complete");
}

#[test]
fn ja4_agrees_with_ndpi() {
    let Some(dir) = ndpi_dir() else { return };
    // JA4 strings from nDPI's results for these captures (tests/cfgs/default/result/*.out).
    for (file, client, server, ja4) in [
        ("quic-v2.pcapng", "[::1]:42086", "[::1]:4443", "q13d0310h3_55b375c5d22e_0a3b52e28cea"),
        ("quic_t51.pcap", "187.227.136.152:55356", "211.247.147.90:443", "q13d0308h1_55b375c5d22e_e7bc1e4f333e"),
        ("quic-29.pcap", "10.9.0.1:36588", "10.9.0.2:443", "q13d0512h9_d55e91d5c3b2_cd318bf3b157"),
        // The client changes its DCID to the server's between the two halves of its ClientHello.
        (
            "quic_frags_different_dcid.pcapng",
            "129.21.84.33:37229",
            "73.185.34.172:443",
            "q13d0311h3_55b375c5d22e_5a1f323ef56d",
        ),
    ] {
        let (hello, partial) = flow_hello(&dir, file, client, server).unwrap_or_else(|| panic!("{file}: no hello"));
        assert!(!partial, "{file}: hello incomplete");
        assert_eq!(hello.ja4.as_deref(), Some(ja4), "{file}");
    }
}
