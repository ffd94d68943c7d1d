//! Capture formats end to end: link layers and tunnels, standard input, damaged blocks, bad timestamps and
//! hostile names, each in a capture of real protocol bytes (rust-core/testdata) read by the real binary.

mod support;

use std::path::Path;

use phonehome_testdata::{encap, DataLink};
use support::{ids, leaky_session, phonehome, phonehome_fed, text, write, IMEI};

/// Flows (host, destination address, flags) of `capture`, analysed with the sample identifiers; with stderr.
fn analyse(dir: &Path, capture: &Path) -> (Vec<(String, String, String)>, String) {
    let csv = dir.join("flows.csv");
    let out = phonehome(&[
        "analyze".as_ref(),
        capture.as_ref(),
        "--ids".as_ref(),
        ids().as_ref(),
        "--csv".as_ref(),
        csv.as_ref(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (flows(&csv), text(&out.stderr))
}

fn flows(csv: &Path) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (host, dst, flags) = (column("host"), column("dst_ip"), column("flags"));
    reader.records().map(Result::unwrap).map(|r| (r[host].to_owned(), r[dst].to_owned(), r[flags].to_owned())).collect()
}

/// The leak of the inner session is found, on the inner addresses.
fn assert_inner_leak(flows: &[(String, String, String)], server: &str) {
    let leak =
        flows.iter().find(|(host, ..)| host == "zzhc.vnet.cn").unwrap_or_else(|| panic!("no inner flow in {flows:?}"));
    assert_eq!(leak.1, server);
    assert!(leak.2.contains("identifier_leak"), "{flows:?}");
}

#[test]
fn nflog_frames_are_decoded_in_either_tlv_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    for server in ["61.160.224.10:80", "[2408:8000::10]:80"] {
        for big_endian in [false, true] {
            let session = leaky_session(server, "zzhc.vnet.cn");
            let bytes = session.to_pcap_bytes_as(DataLink::NFLOG, |ip| encap::nflog(ip, big_endian));
            let (flows, stderr) = analyse(dir.path(), &write(dir.path(), "nflog.pcap", &bytes));
            assert_inner_leak(&flows, server.rsplit_once(':').unwrap().0.trim_matches(['[', ']']));
            assert!(!stderr.contains("link type"), "{stderr}");
        }
    }
}

#[test]
fn gre_in_udp_teredo_and_ayiya_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    type Tunnel = fn(&[u8]) -> Vec<u8>;
    let tunnels: [(&str, &str, Tunnel); 5] = [
        ("GRE in UDP, IPv4", "61.160.224.10:80", encap::gre_in_udp),
        ("GRE in UDP, IPv6", "[2408:8000::10]:80", encap::gre_in_udp),
        ("Teredo", "[2408:8000::10]:80", encap::teredo),
        ("AYIYA, IPv4", "61.160.224.10:80", encap::ayiya),
        ("AYIYA, IPv6", "[2408:8000::10]:80", encap::ayiya),
    ];
    for (name, server, tunnel) in tunnels {
        let bytes = leaky_session(server, "zzhc.vnet.cn").to_pcap_bytes_as(DataLink::RAW, tunnel);
        let (flows, _) = analyse(dir.path(), &write(dir.path(), "tunnel.pcap", &bytes));
        assert_eq!(flows.len(), 1, "{name}: only the inner flow, not the tunnel's: {flows:?}");
        assert_inner_leak(&flows, server.rsplit_once(':').unwrap().0.trim_matches(['[', ']']));
    }
}

#[test]
fn an_unsupported_link_type_is_a_warning_with_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let session = leaky_session("61.160.224.10:80", "zzhc.vnet.cn");
    let packets = session.packets().len();
    let bytes = session.to_pcap_bytes_as(DataLink::Unknown(147), |ip| ip.to_vec());
    let (flows, stderr) = analyse(dir.path(), &write(dir.path(), "user0.pcap", &bytes));
    assert!(flows.is_empty());
    assert!(stderr.contains(&format!("{packets} packets of link type 147 skipped")), "{stderr}");
}

#[test]
fn a_capture_streams_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("flows.csv");
    let bytes = leaky_session("61.160.224.10:80", "zzhc.vnet.cn").to_pcap_bytes();
    let out = phonehome_fed(
        &["analyze".as_ref(), "-".as_ref(), "--ids".as_ref(), ids().as_ref(), "--csv".as_ref(), csv.as_ref()],
        &bytes,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_inner_leak(&flows(&csv), "61.160.224.10");
    assert!(text(&out.stdout).contains("1 capture(s)"));
    // Nothing on standard input is an empty capture, said as for a file.
    let out = phonehome_fed(&["analyze".as_ref(), "-".as_ref()], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("standard input: not a pcap or pcapng file"), "{}", text(&out.stderr));
}

/// A little-endian pcapng block: type, length, body padded to 4 bytes, length.
fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().next_multiple_of(4);
    let total = (12 + padded) as u32;
    let mut out = [block_type.to_le_bytes(), total.to_le_bytes()].concat();
    out.extend(body);
    out.resize(8 + padded, 0);
    out.extend(total.to_le_bytes());
    out
}

/// A pcapng of `packets` (raw IP) after a section header, an interface (with `if_tsresol`), then `middle`.
fn pcapng(tsresol: u8, middle: &[u8], packets: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend([1, 0, 0, 0]);
    shb.extend([0xFF; 8]);
    let mut idb = vec![101, 0, 0, 0, 0, 0, 0, 0];
    idb.extend([9, 0, 1, 0, tsresol, 0, 0, 0, 0, 0, 0, 0]);
    let mut out = [block(0x0A0D_0D0A, &shb), block(1, &idb), middle.to_vec()].concat();
    for (ts, packet) in packets {
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend(((ts >> 32) as u32).to_le_bytes());
        epb.extend((*ts as u32).to_le_bytes());
        epb.extend((packet.len() as u32).to_le_bytes());
        epb.extend((packet.len() as u32).to_le_bytes());
        epb.extend(packet);
        out.extend(block(6, &epb));
    }
    out
}

#[test]
fn a_damaged_statistics_block_is_one_short_warning_and_every_packet_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let session = leaky_session("61.160.224.10:80", "zzhc.vnet.cn");
    let packets: Vec<(u64, Vec<u8>)> =
        session.packets().iter().map(|(ts, p)| (ts.as_micros() as u64, p.clone())).collect();
    // An interface statistics block with no body (its interface id and time are missing), at offset 60.
    let bytes = pcapng(6, &block(5, &[]), &packets);
    let (flows, stderr) = analyse(dir.path(), &write(dir.path(), "isb.pcapng", &bytes));
    assert_inner_leak(&flows, "61.160.224.10");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("offset 60: skipped damaged interface statistics block (12 bytes)"), "{stderr}");
    assert!(warnings[0].len() < 200, "one short line: {}", warnings[0]);
}

#[test]
fn timestamps_past_year_9999_do_not_stop_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let session = leaky_session("61.160.224.10:80", "zzhc.vnet.cn");
    // One bit flipped in the high word of the first packet's time, and a resolution of whole seconds
    // for microsecond values: both far past year 9999.
    let mut packets: Vec<(u64, Vec<u8>)> =
        session.packets().iter().map(|(ts, p)| (ts.as_micros() as u64, p.clone())).collect();
    packets[0].0 |= 1 << 62;
    for tsresol in [6, 0] {
        let capture = write(dir.path(), "future.pcapng", &pcapng(tsresol, &[], &packets));
        let csv = dir.path().join("f.csv");
        let out = phonehome(&["analyze".as_ref(), capture.as_ref(), "--csv".as_ref(), csv.as_ref()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let times: Vec<String> = csv::Reader::from_path(&csv)
            .unwrap()
            .records()
            .flat_map(|r| {
                let r = r.unwrap();
                [r[0].to_owned(), r[1].to_owned()]
            })
            .collect();
        // An expanded ISO 8601 year, which the CSV guards like any cell starting with `+`.
        assert!(times.iter().any(|t| t.starts_with("'+")), "{times:?}");
    }
}

#[test]
fn names_that_spoof_the_terminal_are_neutralised_there_and_kept_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let spoof = "invoice\u{202e}gpj.exe.example";
    let long = format!("{}.example", "a".repeat(300));
    let mut bytes = Vec::new();
    for (host, name) in [(spoof, "spoof.pcap"), (long.as_str(), "long.pcap")] {
        bytes.push(write(dir.path(), name, &leaky_session("61.160.224.10:80", host).to_pcap_bytes()));
    }
    let csv = dir.path().join("f.csv");
    let out = phonehome(&[
        "analyze".as_ref(),
        bytes[0].as_ref(),
        bytes[1].as_ref(),
        "--ids".as_ref(),
        ids().as_ref(),
        "--csv".as_ref(),
        csv.as_ref(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\u{202e}'), "{stdout}");
    assert!(stdout.contains("invoice\u{fffd}gpj.exe.example"), "{stdout}");
    assert!(!stdout.contains(&long) && stdout.contains(&format!("{}…", "a".repeat(79))), "{stdout}");
    assert!(stdout.lines().all(|line| line.chars().count() < 400), "{stdout}");
    let hosts: Vec<String> = flows(&csv).into_iter().map(|f| f.0).collect();
    assert!(hosts.contains(&spoof.to_owned()) && hosts.contains(&long), "the files keep names whole: {hosts:?}");
    assert!(!text(&out.stdout).contains(IMEI), "never the identifier itself");
}
