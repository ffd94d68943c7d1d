//! Test support shared by the dns and http crates (the http tests include this file by path):
//! the corpus location, nDPI's truth rows, and transport payloads and TCP streams of a capture.
//! Deliberately simple (no IP defragmentation, streams end at the first gap): enough for tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{Block, Linktype, PcapBlockOwned, PcapError};

/// A direction of a TCP connection: (source, destination).
pub type Direction = (SocketAddr, SocketAddr);

/// Bytes of a TCP stream kept per direction.
const STREAM_CAP: usize = 256 * 1024;

/// The corpus folder; `None` (with a note) when absent, a panic under `CI=true`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PHONEHOME_CORPUS")
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")), PathBuf::from);
    if dir.join("ndpi").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "corpus not found at {} (set PHONEHOME_CORPUS)",
        dir.display()
    );
    eprintln!("skipped: corpus not found at {} (set PHONEHOME_CORPUS)", dir.display());
    None
}

/// One row of an nDPI `*.truth.tsv`.
#[derive(Debug, Clone)]
pub struct TruthRow {
    /// The capture file the row describes.
    pub capture: PathBuf,
    pub tcp: bool,
    pub a: SocketAddr,
    pub b: SocketAddr,
    pub host: String,
    pub l7: String,
}

/// Every truth row of the nDPI captures whose protocol is `l7`.
pub fn truth_rows(corpus: &std::path::Path, l7: &str) -> Vec<TruthRow> {
    let mut rows = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("ndpi"))
        .expect("corpus ndpi folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".truth.tsv"))
        .collect();
    files.sort();
    for path in files {
        let capture = PathBuf::from(path.to_string_lossy().trim_end_matches(".truth.tsv"));
        let text = std::fs::read_to_string(&path).expect("truth file");
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [l4, ip_a, port_a, ip_b, port_b, host, row_l7] = fields[..] else { continue };
            if row_l7 != l7 {
                continue;
            }
            let addr = |ip: &str, port: &str| -> Option<SocketAddr> {
                Some(SocketAddr::new(ip.parse().ok()?, port.parse().ok()?))
            };
            let (Some(a), Some(b)) = (addr(ip_a, port_a), addr(ip_b, port_b)) else { continue };
            rows.push(TruthRow {
                capture: capture.clone(),
                tcp: l4 == "TCP",
                a,
                b,
                host: host.to_owned(),
                l7: row_l7.to_owned(),
            });
        }
    }
    rows
}

/// Every capture file of the nDPI folder, sorted.
pub fn captures(corpus: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("ndpi"))
        .expect("corpus ndpi folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "pcap" || ext == "pcapng"))
        .collect();
    files.sort();
    files
}

/// A TCP segment or UDP datagram with its payload.
#[derive(Debug, Clone)]
pub struct Segment {
    pub tcp: bool,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub syn: bool,
    pub payload: Vec<u8>,
}

/// The TCP and UDP packets of a pcap or pcapng file, in capture order.
pub fn segments(path: &std::path::Path) -> Vec<Segment> {
    let file = File::open(path).expect("capture file");
    let mut reader = pcap_parser::create_reader(1 << 20, file).expect("pcap or pcapng");
    let mut link_types: Vec<Linktype> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(header) => link_types = vec![header.network],
                    PcapBlockOwned::Legacy(packet) => {
                        out.extend(link_types.first().and_then(|lt| decode(*lt, packet.data)));
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => link_types.push(idb.linktype),
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        // Some corpus files name interfaces they never describe: use the last one.
                        let link = usize::try_from(epb.if_id).ok().and_then(|i| link_types.get(i));
                        let link = link.or(link_types.last());
                        out.extend(link.and_then(|lt| decode(*lt, epb.packet_data())));
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        out.extend(link_types.first().and_then(|lt| decode(*lt, spb.packet_data())));
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    out
}

fn decode(link_type: Linktype, frame: &[u8]) -> Option<Segment> {
    let packet = match link_type {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(frame).ok()?,
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 | Linktype(12) | Linktype(14) => {
            SlicedPacket::from_ip(frame).ok()?
        }
        // Cooked captures, read by hand: etherparse rejects some of their hardware types.
        Linktype::LINUX_SLL => {
            let ether_type = u16::from_be_bytes(frame.get(14..16)?.try_into().ok()?);
            SlicedPacket::from_ether_type(EtherType(ether_type), frame.get(16..)?).ok()?
        }
        Linktype::LINUX_SLL2 => {
            let ether_type = u16::from_be_bytes(frame.get(..2)?.try_into().ok()?);
            SlicedPacket::from_ether_type(EtherType(ether_type), frame.get(20..)?).ok()?
        }
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(frame.get(4..)?).ok()?,
        _ => return None,
    };
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match packet.net? {
        NetSlice::Ipv4(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        NetSlice::Ipv6(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        NetSlice::Arp(_) => return None,
    };
    match packet.transport? {
        TransportSlice::Tcp(tcp) => Some(Segment {
            tcp: true,
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            seq: tcp.sequence_number(),
            syn: tcp.syn(),
            payload: tcp.payload().to_vec(),
        }),
        TransportSlice::Udp(udp) => Some(Segment {
            tcp: false,
            src: SocketAddr::new(src_ip, udp.source_port()),
            dst: SocketAddr::new(dst_ip, udp.destination_port()),
            seq: 0,
            syn: false,
            payload: udp.payload().to_vec(),
        }),
        _ => None,
    }
}

/// Per direction (source, destination), the TCP payload bytes in sequence order up to the first
/// gap; the stream starts after the SYN, or at the first data segment of a mid-flow capture.
pub fn tcp_streams(segments: &[Segment]) -> HashMap<Direction, Vec<u8>> {
    let mut starts: HashMap<Direction, u32> = HashMap::new();
    let mut pieces: HashMap<Direction, Vec<(u32, &[u8])>> = HashMap::new();
    for segment in segments.iter().filter(|s| s.tcp) {
        let key = (segment.src, segment.dst);
        if segment.syn {
            starts.insert(key, segment.seq.wrapping_add(1));
        } else if !segment.payload.is_empty() {
            starts.entry(key).or_insert(segment.seq);
            pieces.entry(key).or_default().push((segment.seq, &segment.payload));
        }
    }
    let mut streams = HashMap::new();
    for (key, mut pieces) in pieces {
        let start = starts[&key];
        // Segments before the start wrap to huge offsets and are dropped by the cap.
        pieces.sort_by_key(|(seq, _)| seq.wrapping_sub(start));
        let mut stream: Vec<u8> = Vec::new();
        for (seq, payload) in pieces {
            let offset = seq.wrapping_sub(start) as usize;
            if offset > stream.len() || stream.len() >= STREAM_CAP {
                break;
            }
            let new = payload.get(stream.len() - offset..).unwrap_or_default();
            stream.extend_from_slice(new);
        }
        stream.truncate(STREAM_CAP);
        streams.insert(key, stream);
    }
    streams
}
