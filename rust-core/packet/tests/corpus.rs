//! Reads every nDPI capture end to end: each file must parse to its end and ≥ 95% of its frames
//! must decode to IP (fragments held for reassembly count as decoded).
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use phonehome_packet::{CaptureReader, PacketDecoder, Transport};

/// A flow as nDPI's truth names it, sides in a canonical order: (l4, lower end, higher end).
type FlowKey = (&'static str, (IpAddr, u16), (IpAddr, u16));

fn flow_key(l4: &'static str, a: (IpAddr, u16), b: (IpAddr, u16)) -> FlowKey {
    if a <= b {
        (l4, a, b)
    } else {
        (l4, b, a)
    }
}

/// The flows of `NAME.truth.tsv` (l4, ip_a, port_a, ip_b, port_b, host, l7).
fn truth_flows(capture: &Path) -> HashSet<FlowKey> {
    let mut name = capture.as_os_str().to_owned();
    name.push(".truth.tsv");
    let text = std::fs::read_to_string(name).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let l4 = match *f.first()? {
                "TCP" => "TCP",
                "UDP" => "UDP",
                _ => return None,
            };
            let a = (f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?);
            let b = (f.get(3)?.parse().ok()?, f.get(4)?.parse().ok()?);
            Some(flow_key(l4, a, b))
        })
        .collect()
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")));
    if dir.join("ndpi").is_dir() {
        return Some(dir);
    }
    let why = format!("corpus not found at {} (set PHONEHOME_CORPUS)", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("skipped: {why}");
    None
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
    let Some(corpus) = corpus() else { return };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus.join("ndpi"))
        .expect("list corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    paths.sort();
    assert!(paths.len() > 100, "expected the nDPI captures, found {}", paths.len());
    let mut failures = Vec::new();
    let mut total = Counts::default();
    for path in &paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
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
                        Transport::Tcp(tcp) => Some(("TCP", tcp.src_port, tcp.dst_port)),
                        Transport::Udp(udp) => Some(("UDP", udp.src_port, udp.dst_port)),
                        _ => None,
                    };
                    if let Some((l4, src_port, dst_port)) = ends {
                        missing.remove(&flow_key(l4, (packet.src, src_port), (packet.dst, dst_port)));
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
