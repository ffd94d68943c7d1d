//! The SNI of every TLS flow in the nDPI captures, against nDPI's truth.

#[path = "../../packet/tests/support/ndpi.rs"]
mod ndpi;

use ndpi::{file_name, ndpi_dir, read_packets, tcp_streams, truth_by_capture};
use phonehome_tls::{parse_client_hello_prefix, parse_client_hello_records, ClientHello, HelloParse, Ja4Transport};

/// The ClientHello of a stream, complete or, like the engine salvages at a flow's end, what
/// precedes the cut or the damage of one that is not.
fn hello_of(stream: &[u8]) -> Option<ClientHello> {
    match parse_client_hello_records(stream) {
        HelloParse::Complete(hello) => Some(hello),
        HelloParse::Incomplete | HelloParse::NotTls => parse_client_hello_prefix(stream),
    }
}

#[test]
fn sni_agrees_with_ndpi() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut total, mut agree, mut truncated_ok) = (0usize, 0usize, 0usize);
    let mut disagreements = Vec::new();
    for (capture, rows) in truth_by_capture(&dir, "TLS") {
        let streams = tcp_streams(&read_packets(&capture));
        for row in rows {
            total += 1;
            let hello = row.directions().iter().find_map(|d| hello_of(streams.get(d)?));
            let sni = hello.as_ref().and_then(|h| h.server_name.as_deref());
            if sni == Some(row.host.as_str()) {
                agree += 1;
                truncated_ok += usize::from(hello.is_some_and(|h| h.truncated));
            } else {
                disagreements.push(format!(
                    "{} {} {} -> {sni:?}, nDPI {}",
                    file_name(&capture),
                    row.a,
                    row.b,
                    row.host
                ));
            }
        }
    }
    println!("TLS SNI agreement with nDPI: {agree}/{total} ({truncated_ok} from cut-short hellos)");
    for d in &disagreements {
        println!("  {d}");
    }
    // Every row, tunnelled ones included; tls_invalid_reads.pcap's hello (a damaged ALPN after the
    // SNI) is the one read as a prefix.
    assert!(total >= 444, "expected the corpus's TLS rows, found {total}");
    assert!(agree >= total, "agreement fell to {agree}/{total}");
}

#[test]
fn one_directional_captures_give_the_sni() {
    let Some(dir) = ndpi_dir() else { return };
    // Client-side-only captures (no SYN-ACK, no server bytes), and a hello with ECH.
    for (file, host) in [
        ("tls_1.2_unidirectional_client.pcapng", "notifications-pa.googleapis.com"),
        ("tls_1.3_unidirectional_client.pcapng", "www.google.com"),
        ("tls_ech.pcapng", "performance.radar.cloudflare.com"),
    ] {
        let snis: Vec<String> =
            tcp_streams(&read_packets(&dir.join(file))).values().filter_map(|s| hello_of(s)?.server_name).collect();
        assert!(snis.iter().any(|s| s == host), "{file}: {snis:?}");
    }
}

#[test]
fn ech_hello_is_flagged_and_fingerprinted_like_ndpi() {
    let Some(dir) = ndpi_dir() else { return };
    let hellos: Vec<ClientHello> =
        tcp_streams(&read_packets(&dir.join("tls_ech.pcapng"))).values().filter_map(|s| hello_of(s)).collect();
    // nDPI's JA4 for this Chrome hello (tests/cfgs/default/result/tls_ech.pcapng.out).
    let chrome = hellos.iter().find(|h| h.has_ech).map(|h| h.ja4(Ja4Transport::Tcp));
    assert_eq!(chrome.as_deref(), Some("t13d1516h2_8daaf6152771_02713d6af862"), "{hellos:?}");
}
