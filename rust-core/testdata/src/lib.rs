//! Captures of real protocol bytes, built in code: the sample capture of the README, end-to-end test inputs
//! and benchmark inputs. Every packet is a well-formed IP packet (etherparse builds the headers).

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

pub mod encap;
pub mod proto;
pub mod remap;

pub use pcap_file::DataLink;

/// Maximum TCP payload per segment in built sessions.
const MSS: usize = 1400;

/// Packets with timestamps, written as a raw-IP pcap (LINKTYPE_RAW).
#[derive(Debug, Default)]
pub struct CaptureBuilder {
    packets: Vec<(Duration, Vec<u8>)>,
    clock: Duration,
    next_port: u16,
}

impl CaptureBuilder {
    /// Starts the capture clock at `start` (time since the Unix epoch).
    pub fn new(start: Duration) -> Self {
        CaptureBuilder { packets: Vec::new(), clock: start, next_port: 40000 }
    }

    pub fn packets(&self) -> &[(Duration, Vec<u8>)] {
        &self.packets
    }

    /// A fresh ephemeral client port.
    pub fn ephemeral_port(&mut self) -> u16 {
        self.next_port = self.next_port.wrapping_add(1).max(40000);
        self.next_port
    }

    /// Advances the clock without traffic (idle time between exchanges).
    pub fn wait(&mut self, pause: Duration) {
        self.clock += pause;
    }

    /// A whole TCP connection: handshake, each (request, response) exchange in MSS-sized segments with ACKs,
    /// and a FIN from each side.
    pub fn tcp_session(&mut self, client: SocketAddr, server: SocketAddr, exchanges: &[(&[u8], &[u8])]) {
        let (mut c_seq, mut s_seq) = (1_000_000u32, 5_000_000u32);
        self.tcp(client, server, c_seq, 0, TcpKind::Syn, b"");
        self.tcp(server, client, s_seq, c_seq + 1, TcpKind::SynAck, b"");
        c_seq += 1;
        s_seq += 1;
        self.tcp(client, server, c_seq, s_seq, TcpKind::Ack, b"");
        for (request, response) in exchanges {
            for chunk in request.chunks(MSS) {
                self.tcp(client, server, c_seq, s_seq, TcpKind::Data, chunk);
                c_seq = c_seq.wrapping_add(chunk.len() as u32);
            }
            self.tcp(server, client, s_seq, c_seq, TcpKind::Ack, b"");
            for chunk in response.chunks(MSS) {
                self.tcp(server, client, s_seq, c_seq, TcpKind::Data, chunk);
                s_seq = s_seq.wrapping_add(chunk.len() as u32);
            }
            if !response.is_empty() {
                self.tcp(client, server, c_seq, s_seq, TcpKind::Ack, b"");
            }
        }
        self.tcp(client, server, c_seq, s_seq, TcpKind::Fin, b"");
        self.tcp(server, client, s_seq, c_seq + 1, TcpKind::Fin, b"");
        self.tcp(client, server, c_seq + 1, s_seq + 1, TcpKind::Ack, b"");
    }

    /// One UDP datagram each way (no answer when `response` is empty).
    pub fn udp_exchange(&mut self, client: SocketAddr, server: SocketAddr, request: &[u8], response: &[u8]) {
        self.udp(client, server, request);
        if !response.is_empty() {
            self.udp(server, client, response);
        }
    }

    /// One UDP datagram.
    pub fn udp(&mut self, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        let packet = ip_builder(from.ip(), to.ip()).udp(from.port(), to.port());
        let mut bytes = Vec::with_capacity(packet.size(payload.len()));
        // Writing into a Vec cannot fail; a mixed v4/v6 pair is a bug in the caller's test.
        packet.write(&mut bytes, payload).expect("consistent IP versions");
        self.push(bytes);
    }

    fn tcp(&mut self, from: SocketAddr, to: SocketAddr, seq: u32, ack: u32, kind: TcpKind, payload: &[u8]) {
        let builder = ip_builder(from.ip(), to.ip()).tcp(from.port(), to.port(), seq, 64_240);
        let builder = match kind {
            TcpKind::Syn => builder.syn(),
            TcpKind::SynAck => builder.syn().ack(ack),
            TcpKind::Ack => builder.ack(ack),
            TcpKind::Data => builder.ack(ack).psh(),
            TcpKind::Fin => builder.fin().ack(ack),
        };
        let mut bytes = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut bytes, payload).expect("consistent IP versions");
        self.push(bytes);
    }

    fn push(&mut self, packet: Vec<u8>) {
        self.clock += Duration::from_micros(250);
        self.packets.push((self.clock, packet));
    }

    /// The capture as a raw-IP pcap file.
    pub fn write_pcap(&self, out: impl Write) -> Result<(), pcap_file::PcapError> {
        self.write_pcap_as(out, DataLink::RAW, |packet| packet.to_vec())
    }

    /// The capture with each IP packet wrapped by `frame` (a link layer or a tunnel) in a pcap file of
    /// link type `datalink`.
    pub fn write_pcap_as(
        &self,
        out: impl Write,
        datalink: DataLink,
        frame: impl Fn(&[u8]) -> Vec<u8>,
    ) -> Result<(), pcap_file::PcapError> {
        let header = PcapHeader { datalink, ..PcapHeader::default() };
        let mut writer = PcapWriter::with_header(out, header)?;
        for (ts, packet) in &self.packets {
            let frame = frame(packet);
            writer.write_packet(&PcapPacket::new(*ts, frame.len() as u32, &frame))?;
        }
        Ok(())
    }

    pub fn to_pcap_bytes(&self) -> Vec<u8> {
        self.to_pcap_bytes_as(DataLink::RAW, |packet| packet.to_vec())
    }

    /// [`Self::write_pcap_as`] into memory.
    pub fn to_pcap_bytes_as(&self, datalink: DataLink, frame: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_pcap_as(&mut out, datalink, frame).expect("writing to memory");
        out
    }
}

enum TcpKind {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
}

fn ip_builder(src: IpAddr, dst: IpAddr) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
        _ => panic!("test capture mixes IPv4 and IPv6 in one packet: {src} → {dst}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_well_formed_ip() {
        let mut capture = CaptureBuilder::new(Duration::from_secs(1_700_000_000));
        let client: SocketAddr = "10.0.0.2:40001".parse().unwrap();
        let server: SocketAddr = "[2001:db8::1]:80".parse().unwrap();
        let server4: SocketAddr = "192.0.2.1:80".parse().unwrap();
        capture.tcp_session(client, server4, &[(b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n")]);
        capture.udp("[2001:db8::2]:5000".parse().unwrap(), server, b"x");
        for (_, packet) in capture.packets() {
            assert!(etherparse::SlicedPacket::from_ip(packet).is_ok());
        }
        assert_eq!(capture.packets().len(), 3 + 1 + 1 + 1 + 1 + 3 + 1);
        let bytes = capture.to_pcap_bytes();
        // The pcap magic, in the writer's byte order (pcap-file writes big-endian).
        assert!(matches!(&bytes[..4], [0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1]), "{:x?}", &bytes[..4]);
    }
}
