//! Test support shared by the tls and quic corpus tests (the quic crate includes this file by path):
//! the corpus location, nDPI's truth files and a minimal pcap/pcapng walk down to TCP/UDP payloads.

#![allow(dead_code)] // each test crate uses its own part of this module

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::data::{get_packetdata, PacketData};
use pcap_parser::{create_reader, Linktype, PcapBlockOwned, PcapError};

/// The nDPI captures, or `None` (with the reason printed) when the corpus is absent outside CI.
pub fn ndpi_dir() -> Option<PathBuf> {
    let root = std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")));
    let dir = root.join("ndpi");
    if dir.is_dir() {
        return Some(dir);
    }
    let reason = format!("corpus not found at {} (set PHONEHOME_CORPUS)", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
    eprintln!("skipped: {reason}");
    None
}

/// One row of a `NAME.truth.tsv`.
#[derive(Clone, Debug)]
pub struct TruthRow {
    pub udp: bool,
    pub a: SocketAddr,
    pub b: SocketAddr,
    pub host: String,
    pub l7: String,
}

impl TruthRow {
    /// The flow key, the same whichever side nDPI took for the client.
    pub fn key(&self) -> FlowKey {
        FlowKey::new(self.udp, self.a, self.b)
    }
}

/// A 5-tuple with the two endpoints ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub udp: bool,
    pub low: SocketAddr,
    pub high: SocketAddr,
}

impl FlowKey {
    pub fn new(udp: bool, x: SocketAddr, y: SocketAddr) -> Self {
        FlowKey { udp, low: x.min(y), high: x.max(y) }
    }
}

/// Truth rows of every capture in `dir` with the given l7, grouped by capture file.
pub fn truth_by_capture(dir: &Path, l7: &str) -> Vec<(PathBuf, Vec<TruthRow>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|truth| {
            let capture = PathBuf::from(truth.to_str()?.strip_suffix(".truth.tsv")?);
            let text = std::fs::read_to_string(&truth).ok()?;
            let rows: Vec<TruthRow> =
                text.lines().skip(1).filter_map(parse_truth_line).filter(|r| r.l7 == l7).collect();
            (!rows.is_empty()).then_some((capture, rows))
        })
        .collect()
}

fn parse_truth_line(line: &str) -> Option<TruthRow> {
    let f: Vec<&str> = line.split('\t').collect();
    let addr = |ip: &str, port: &str| Some(SocketAddr::new(ip.parse::<IpAddr>().ok()?, port.parse().ok()?));
    Some(TruthRow {
        udp: *f.first()? == "UDP",
        a: addr(f.get(1)?, f.get(2)?)?,
        b: addr(f.get(3)?, f.get(4)?)?,
        host: (*f.get(5)?).to_owned(),
        l7: (*f.get(6)?).to_owned(),
    })
}

/// A TCP segment or UDP datagram of a capture, in capture order.
#[derive(Clone, Debug)]
pub struct Packet {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub udp: bool,
    pub tcp_seq: u32,
    pub syn: bool,
    pub payload: Vec<u8>,
}

/// Every TCP/UDP packet of a pcap or pcapng file that decodes, payloads cut by the snap length
/// included (IP fragments are skipped).
pub fn read_packets(path: &Path) -> Vec<Packet> {
    let Ok(file) = std::fs::File::open(path) else { return Vec::new() };
    let Ok(mut reader) = create_reader(1 << 20, file) else { return Vec::new() };
    let mut linktypes: Vec<Linktype> = Vec::new();
    let mut packets = Vec::new();
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                let frame = match block {
                    PcapBlockOwned::LegacyHeader(header) => {
                        linktypes = vec![header.network];
                        None
                    }
                    PcapBlockOwned::Legacy(b) => linktypes.first().map(|&lt| (lt, b.data, b.caplen)),
                    PcapBlockOwned::NG(pcap_parser::Block::InterfaceDescription(idb)) => {
                        linktypes.push(idb.linktype);
                        None
                    }
                    PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(epb)) => {
                        linktypes.get(epb.if_id as usize).map(|&lt| (lt, epb.data, epb.caplen))
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((linktype, data, caplen)) = frame {
                    packets.extend(decode(linktype, data, caplen as usize));
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
    packets
}

fn decode(linktype: Linktype, data: &[u8], caplen: usize) -> Option<Packet> {
    if linktype == Linktype(9) {
        // PPP, which pcap-parser does not strip: optional address/control bytes, then the protocol.
        let frame = data.strip_prefix(&[0xff, 0x03]).unwrap_or(data);
        let ip = frame.strip_prefix(&[0x00, 0x21]).or_else(|| frame.strip_prefix(&[0x00, 0x57]))?;
        return transport_packet(LaxSlicedPacket::from_ip(ip).ok()?);
    }
    let sliced = match get_packetdata(data, linktype, caplen)? {
        PacketData::L2(frame) => LaxSlicedPacket::from_ethernet(frame).ok()?,
        PacketData::L3(_, ip) => LaxSlicedPacket::from_ip(ip).ok()?,
        _ => return None,
    };
    transport_packet(sliced)
}

fn transport_packet(sliced: LaxSlicedPacket<'_>) -> Option<Packet> {
    let (src_ip, dst_ip, fragmented) = match sliced.net? {
        LaxNetSlice::Ipv4(v4) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.is_payload_fragmented(),
        ),
        LaxNetSlice::Ipv6(v6) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.is_payload_fragmented(),
        ),
        LaxNetSlice::Arp(_) => return None,
    };
    if fragmented {
        return None;
    }
    let (src_port, dst_port, udp, tcp_seq, syn, payload) = match sliced.transport? {
        TransportSlice::Udp(u) => (u.source_port(), u.destination_port(), true, 0, false, u.payload()),
        TransportSlice::Tcp(t) => {
            (t.source_port(), t.destination_port(), false, t.sequence_number(), t.syn(), t.payload())
        }
        _ => return None,
    };
    Some(Packet {
        src: SocketAddr::new(src_ip, src_port),
        dst: SocketAddr::new(dst_ip, dst_port),
        udp,
        tcp_seq,
        syn,
        payload: payload.to_vec(),
    })
}

/// Packets grouped by flow, then by sending endpoint, in capture order.
pub fn by_flow(packets: Vec<Packet>) -> HashMap<FlowKey, HashMap<SocketAddr, Vec<Packet>>> {
    let mut flows: HashMap<FlowKey, HashMap<SocketAddr, Vec<Packet>>> = HashMap::new();
    for p in packets {
        flows.entry(FlowKey::new(p.udp, p.src, p.dst)).or_default().entry(p.src).or_default().push(p);
    }
    flows
}
