//! Link layer → IP → transport. CONTRACT (owned by the packet crate; engine and stack rely on it):
//!
//! ```ignore
//! let mut decoder = PacketDecoder::new();
//! match decoder.decode(frame.ts, frame.link, frame.data) {   // or decoder.decode_ip(ts, ip_bytes) for a tun
//!     Ok(Some(packet)) => { /* IpPacket: src, dst, ip_len, transport */ }
//!     Ok(None) => { /* not IP (ARP, LLDP…), or a fragment held until its datagram is complete */ }
//!     Err(e) => { /* malformed: count it, go on */ }
//! }
//! ```
use std::net::IpAddr;

/// One IP datagram (reassembled if it was fragmented), decoded down to the transport header.
#[derive(Debug)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Length of the whole IP datagram (header included).
    pub ip_len: u32,
    pub transport: Transport<'a>,
}

#[derive(Debug)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Icmp(IcmpMessage<'a>),
    /// Any other IP protocol number (GRE, ESP, SCTP…), not decoded further.
    Other { protocol: u8 },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

#[derive(Debug)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub payload: &'a [u8],
}

#[derive(Debug)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

#[derive(Debug)]
pub struct IcmpMessage<'a> {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// Identifier of an echo request or reply, which pairs them like a port.
    pub echo_id: Option<u16>,
    pub payload: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed {layer} header: {reason}")]
    Malformed { layer: &'static str, reason: String },
}

/// Decodes frames to IP packets, holding fragments until their datagram is complete (placeholder).
#[derive(Default)]
pub struct PacketDecoder {
    _private: (),
}
