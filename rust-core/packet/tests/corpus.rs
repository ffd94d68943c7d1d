//! Reads every nDPI capture end to end: each file must parse to its end and ≥ 95% of its frames
//! must decode to IP (fragments held for reassembly count as decoded).

#[path = "support/ndpi.rs"]
mod ndpi;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;

use ndpi::{captures, file_name, ndpi_dir, truth};
use phonehome_packet::{CaptureReader, PacketDecoder, Transport};

/// A flow as nDPI's truth names it, sides in a canonical order: (udp, lower end, higher end).
type FlowKey = (bool, SocketAddr, SocketAddr);

fn flow_key(udp: bool, a: SocketAddr, b: SocketAddr) -> FlowKey {
    (udp, a.min(b), a.max(b))
}

/// The TCP and UDP flows of a capture's truth file.
fn truth_flows(capture: &Path) -> HashSet<FlowKey> {
    truth(capture).into_iter().map(|row| flow_key(row.udp, row.a, row.b)).collect()
}

#[derive(Default, Debug)]
struct Counts {
    frames: u64,
    ip: u64,
    held: u64,
    non_ip: u64,
    errors: u64,
}

/// Captures where fewer than 95% of frames are IP, for a reason: (file, minimum share, why).
const LOW_IP_SHARE: &[(&str, f64, &str)] = &[
    ("fuzz-2006-09-29-28586.pcap", 0.85, "deliberately damaged frames"),
    ("nest_log_sink.pcap", 0.75, "23% of frames are ARP"),
    ("tor.pcap", 0.65, "32% of frames are 802.3 STP and ARP"),
    ("capwap.pcap", 0.90, "6% of frames are 802.3 LLC and ARP"),
];

#[test]
fn every_ndpi_capture_decodes_to_ip() {
    let Some(dir) = ndpi_dir() else { return };
    let paths = captures(&dir);
    assert!(paths.len() > 100, "expected the nDPI captures, found {}", paths.len());
    let mut failures = Vec::new();
    let mut total = Counts::default();
    for path in &paths {
        let name = file_name(path);
        let mut reader = CaptureReader::open(path).expect("open capture");
        let mut decoder = PacketDecoder::new();
        let mut counts = Counts::default();
        let mut read_error = None;
        let mut missing = truth_flows(path);
        let truth_count = missing.len();
        while let Some(item) = reader.next_frame() {
            let frame = match item {
                Ok(frame) => frame,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            };
            counts.frames += 1;
            let fragments_before = decoder.defrag_stats().fragments;
            let decoded = match decoder.decode(frame.ts, frame.link, frame.data) {
                Ok(Some(packet)) => {
                    counts.ip += 1;
                    assert!(packet.ip_len as usize >= 20, "{name} frame {}: ip_len {}", frame.number, packet.ip_len);
                    let ends = match &packet.transport {
                        Transport::Tcp(tcp) => Some((false, tcp.src_port, tcp.dst_port)),
                        Transport::Udp(udp) => Some((true, udp.src_port, udp.dst_port)),
                        _ => None,
                    };
                    if let Some((udp, src_port, dst_port)) = ends {
                        let (src, dst) = (SocketAddr::new(packet.src, src_port), SocketAddr::new(packet.dst, dst_port));
                        missing.remove(&flow_key(udp, src, dst));
                    }
                    true
                }
                Ok(None) => false,
                Err(_) => {
                    counts.errors += 1;
                    true
                }
            };
            if !decoded {
                if decoder.defrag_stats().fragments > fragments_before {
                    counts.held += 1;
                } else {
                    counts.non_ip += 1;
                }
            }
        }
        let share = (counts.ip + counts.held) as f64 / counts.frames.max(1) as f64;
        println!(
            "{name:60} frames {:6} ip {:6} held {:4} non-ip {:4} errors {:4} {:6.1}%{}",
            counts.frames,
            counts.ip,
            counts.held,
            counts.non_ip,
            counts.errors,
            share * 100.0,
            read_error.as_ref().map(|e| format!("  read error: {e}")).unwrap_or_default()
        );
        if !missing.is_empty() {
            failures.push(format!("{name}: {} of {truth_count} truth flows never decoded: {missing:?}", missing.len()));
        }
        if let Some(e) = read_error {
            failures.push(format!("{name}: {e}"));
        }
        let min_share = LOW_IP_SHARE.iter().find(|(file, ..)| *file == name).map_or(0.95, |(_, min, _)| *min);
        if share < min_share {
            failures.push(format!("{name}: only {:.1}% of {} frames decode to IP", share * 100.0, counts.frames));
        }
        total.frames += counts.frames;
        total.ip += counts.ip;
        total.held += counts.held;
        total.non_ip += counts.non_ip;
        total.errors += counts.errors;
    }
    println!("total: {total:?}");
    assert!(failures.is_empty(), "{failures:#?}");
}
