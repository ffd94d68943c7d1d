//! The nDPI corpus for the corpus tests of packet, dns, http, tls, quic and leak (the others include
//! this file by path): where it is, nDPI's truth rows, and each capture's TCP streams and UDP
//! payloads as `phonehome-packet` decodes them (every link type, tunnels opened, fragments joined).

#![allow(dead_code)] // each test crate uses its own part of this module

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use phonehome_packet::{CaptureReader, PacketDecoder, Transport};

/// One direction of a flow: (source, destination).
pub type Direction = (SocketAddr, SocketAddr);

/// Bytes of a TCP stream kept per direction (well beyond any hello or request head).
const STREAM_CAP: usize = 256 * 1024;

/// The nDPI captures' folder; `None` (with the reason printed) when the corpus is absent, a panic
/// under `CI=true`.
pub fn ndpi_dir() -> Option<PathBuf> {
    let root = std::env::var_os("PHONEHOME_CORPUS")
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")), PathBuf::from);
    let dir = root.join("ndpi");
    if dir.is_dir() {
        return Some(dir);
    }
    let reason = format!("corpus not found at {} (set PHONEHOME_CORPUS)", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
    eprintln!("skipped: {reason}");
    None
}

/// Every pcap and pcapng file of the folder, sorted by name.
pub fn captures(ndpi: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(ndpi)
        .expect("corpus folder readable")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "pcap" || ext == "pcapng"))
        .collect();
    files.sort();
    files
}

/// One row of a `NAME.truth.tsv` (l4, ip_a, port_a, ip_b, port_b, host, l7).
#[derive(Clone, Debug)]
pub struct TruthRow {
    pub udp: bool,
    pub a: SocketAddr,
    pub b: SocketAddr,
    pub host: String,
    pub l7: String,
}

impl TruthRow {
    /// Both directions of the flow; nDPI's `a` is usually, not always, the client.
    pub fn directions(&self) -> [Direction; 2] {
        [(self.a, self.b), (self.b, self.a)]
    }
}

/// A capture's file name, for messages.
pub fn file_name(capture: &Path) -> String {
    capture.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The TCP and UDP rows of a capture's truth file (none when it has no truth file).
pub fn truth(capture: &Path) -> Vec<TruthRow> {
    let mut name = capture.as_os_str().to_owned();
    name.push(".truth.tsv");
    let text = std::fs::read_to_string(name).unwrap_or_default();
    let addr = |ip: &str, port: &str| Some(SocketAddr::new(ip.parse::<IpAddr>().ok()?, port.parse().ok()?));
    let row = |line: &str| {
        let [l4, ip_a, port_a, ip_b, port_b, host, l7] = line.split('\t').collect::<Vec<_>>()[..] else { return None };
        Some(TruthRow {
            udp: match l4 {
                "TCP" => false,
                "UDP" => true,
                _ => return None,
            },
            a: addr(ip_a, port_a)?,
            b: addr(ip_b, port_b)?,
            host: host.to_owned(),
            l7: l7.to_owned(),
        })
    };
    text.lines().skip(1).filter_map(row).collect()
}

/// The captures holding rows whose protocol is `l7`, in name order, with those rows.
pub fn truth_by_capture(ndpi: &Path, l7: &str) -> Vec<(PathBuf, Vec<TruthRow>)> {
    let rows_of = |capture: PathBuf| {
        let rows: Vec<TruthRow> = truth(&capture).into_iter().filter(|row| row.l7 == l7).collect();
        (!rows.is_empty()).then_some((capture, rows))
    };
    captures(ndpi).into_iter().filter_map(rows_of).collect()
}

/// A TCP segment or UDP datagram of a capture, in capture order.
#[derive(Clone, Debug)]
pub struct Packet {
    pub udp: bool,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// TCP sequence number (0 for UDP).
    pub seq: u32,
    pub syn: bool,
    pub payload: Vec<u8>,
}

/// Every TCP and UDP packet of a capture, up to its end or its first damaged record.
pub fn read_packets(path: &Path) -> Vec<Packet> {
    let mut reader = CaptureReader::open(path).expect("capture opens");
    let mut decoder = PacketDecoder::new();
    let mut packets = Vec::new();
    while let Some(Ok(frame)) = reader.next_frame() {
        let Ok(Some(ip)) = decoder.decode(frame.ts, frame.link, frame.data) else { continue };
        let (udp, src_port, dst_port, seq, syn, payload) = match ip.transport {
            Transport::Tcp(t) => (false, t.src_port, t.dst_port, t.seq, t.flags.syn, t.payload),
            Transport::Udp(u) => (true, u.src_port, u.dst_port, 0, false, u.payload),
            Transport::Icmp(_) | Transport::Other { .. } => continue,
        };
        let (src, dst) = (SocketAddr::new(ip.src, src_port), SocketAddr::new(ip.dst, dst_port));
        packets.push(Packet { udp, src, dst, seq, syn, payload: payload.to_vec() });
    }
    packets
}

/// The UDP payloads of each direction, in capture order.
pub fn udp_payloads(packets: &[Packet]) -> HashMap<Direction, Vec<&[u8]>> {
    let mut by_direction: HashMap<Direction, Vec<&[u8]>> = HashMap::new();
    for p in packets.iter().filter(|p| p.udp) {
        by_direction.entry((p.src, p.dst)).or_default().push(&p.payload);
    }
    by_direction
}

/// Each direction's TCP bytes in sequence order, from after the SYN (or the first data segment of
/// a capture that starts mid-flow) up to the first gap, at most `STREAM_CAP` bytes. Minimal on
/// purpose: the engine's `StreamCollector` is the full reassembler (per-flow windows, memory caps).
pub fn tcp_streams(packets: &[Packet]) -> HashMap<Direction, Vec<u8>> {
    let mut starts: HashMap<Direction, u32> = HashMap::new();
    let mut pieces: HashMap<Direction, Vec<(u32, &[u8])>> = HashMap::new();
    for p in packets.iter().filter(|p| !p.udp) {
        let key = (p.src, p.dst);
        if p.syn {
            starts.insert(key, p.seq.wrapping_add(1));
        } else if !p.payload.is_empty() {
            starts.entry(key).or_insert(p.seq);
            pieces.entry(key).or_default().push((p.seq, &p.payload));
        }
    }
    let mut streams = HashMap::new();
    for (key, pieces) in pieces {
        let Some(&start) = starts.get(&key) else { continue };
        // Segments before the start wrap to huge offsets and fall outside the cap.
        let mut placed: Vec<(usize, &[u8])> = pieces
            .into_iter()
            .map(|(seq, payload)| (seq.wrapping_sub(start) as usize, payload))
            .filter(|&(offset, _)| offset < STREAM_CAP)
            .collect();
        // At equal offsets the longest segment wins (a 2-byte keep-alive must not hide the data).
        placed.sort_by_key(|&(offset, payload)| (offset, std::cmp::Reverse(payload.len())));
        let mut stream = Vec::new();
        for (offset, payload) in placed {
            if offset > stream.len() {
                break; // a hole: what follows cannot be read in order
            }
            stream.extend_from_slice(payload.get(stream.len() - offset..).unwrap_or_default());
        }
        stream.truncate(STREAM_CAP);
        streams.insert(key, stream);
    }
    streams
}
