//! The SNI of every TLS flow in the nDPI captures, against nDPI's truth.

mod support {
    pub mod capture;
}

use phonehome_tls::{parse_client_hello_prefix, parse_client_hello_records, ClientHello, HelloParse, Ja4Transport};
use support::capture::{by_flow, ndpi_dir, read_packets, truth_by_capture, Packet};

/// Bytes of a stream kept by this test, like the engine's per-flow inspection window.
const WINDOW: usize = 1 << 16;

/// The contiguous start of one direction of a TCP flow, from the SYN (or the first data segment).
fn stream_prefix(segments: &[Packet]) -> Vec<u8> {
    let base = segments
        .iter()
        .find(|p| p.syn)
        .map(|p| p.tcp_seq.wrapping_add(1))
        .or_else(|| segments.iter().find(|p| !p.payload.is_empty()).map(|p| p.tcp_seq));
    let Some(base) = base else { return Vec::new() };
    let mut placed: Vec<(usize, &[u8])> = segments
        .iter()
        .filter(|p| !p.payload.is_empty())
        .map(|p| (p.tcp_seq.wrapping_sub(base) as usize, p.payload.as_slice()))
        .filter(|&(offset, _)| offset < WINDOW)
        .collect();
    // At equal offsets the longest segment wins (a 2-byte keep-alive must not hide the data).
    placed.sort_by_key(|&(offset, payload)| (offset, std::cmp::Reverse(payload.len())));
    let mut out = Vec::new();
    for (offset, payload) in placed {
        if offset > out.len() {
            break; // a hole: what follows cannot be read in order
        }
        out.extend_from_slice(payload.get(out.len() - offset..).unwrap_or_default());
    }
    out
}

/// The ClientHello of a stream, complete or, for a stream that ends early, what precedes the cut.
fn hello_of(stream: &[u8]) -> Option<ClientHello> {
    match parse_client_hello_records(stream) {
        HelloParse::Complete(hello) => Some(hello),
        HelloParse::Incomplete => parse_client_hello_prefix(stream),
        HelloParse::NotTls => None,
    }
}

#[test]
fn sni_agrees_with_ndpi() {
    let Some(dir) = ndpi_dir() else { return };
    let (mut total, mut agree, mut truncated_ok) = (0usize, 0usize, 0usize);
    let mut disagreements = Vec::new();
    for (capture, rows) in truth_by_capture(&dir, "TLS") {
        let flows = by_flow(read_packets(&capture));
        for row in rows {
            total += 1;
            let hello = flows
                .get(&row.key())
                .and_then(|directions| directions.values().find_map(|segments| hello_of(&stream_prefix(segments))));
            let sni = hello.as_ref().and_then(|h| h.server_name.as_deref());
            if sni == Some(row.host.as_str()) {
                agree += 1;
                truncated_ok += usize::from(hello.is_some_and(|h| h.truncated));
            } else {
                let name = capture.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                disagreements.push(format!("{name} {} {} -> {sni:?}, nDPI {}", row.a, row.b, row.host));
            }
        }
    }
    println!("TLS SNI agreement with nDPI: {agree}/{total} ({truncated_ok} from cut-short hellos)");
    for d in &disagreements {
        println!("  {d}");
    }
    // The 7 rows missed (capwap_data, vxlan, tls_invalid_reads, ja3_lots_of_cipher_suites_2_anon)
    // are inside CAPWAP, VXLAN or GTP-U tunnels, which this test's plain walk does not open.
    assert!(total >= 444, "expected the corpus's TLS rows, found {total}");
    assert!(agree >= 437, "agreement fell to {agree}/{total}");
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
        let flows = by_flow(read_packets(&dir.join(file)));
        let snis: Vec<String> = flows
            .values()
            .flat_map(|directions| directions.values())
            .filter_map(|segments| hello_of(&stream_prefix(segments))?.server_name)
            .collect();
        assert!(snis.iter().any(|s| s == host), "{file}: {snis:?}");
    }
}

#[test]
fn ech_hello_is_flagged_and_fingerprinted_like_ndpi() {
    let Some(dir) = ndpi_dir() else { return };
    let flows = by_flow(read_packets(&dir.join("tls_ech.pcapng")));
    let hellos: Vec<ClientHello> =
        flows.values().flat_map(|d| d.values()).filter_map(|segments| hello_of(&stream_prefix(segments))).collect();
    // nDPI's JA4 for this Chrome hello (tests/cfgs/default/result/tls_ech.pcapng.out).
    let chrome = hellos.iter().find(|h| h.has_ech).map(|h| h.ja4(Ja4Transport::Tcp));
    assert_eq!(chrome.as_deref(), Some("t13d1516h2_8daaf6152771_02713d6af862"), "{hellos:?}");
}
