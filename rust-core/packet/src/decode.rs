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
use std::ops::Range;

use etherparse::{
    IcmpEchoHeader, Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, IpAuthHeaderSlice, IpNumber, Ipv6ExtensionSlice,
    Ipv6ExtensionsSlice, LaxIpSlice, TcpSlice, UdpSlice,
};

use crate::capture::LinkType;
use crate::defrag::{Defrag, DefragLimits, DefragStats, Fragment, FragmentKey};
use crate::link::{self, find_ip, malformed, Encap};
use crate::Timestamp;

/// One IP datagram (reassembled if it was fragmented), decoded down to the transport header.
#[derive(Debug)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Length of the whole IP datagram (header included).
    pub ip_len: u32,
    /// Joined from fragments: the transport lies in the decoder's buffer, not in the bytes handed in.
    pub reassembled: bool,
    /// The transport header and its payload (as captured: a snap length may cut it).
    pub transport: Transport<'a>,
}

/// The transport layer of an [`IpPacket`].
#[derive(Debug)]
pub enum Transport<'a> {
    /// TCP segment.
    Tcp(TcpSegment<'a>),
    /// UDP datagram (length field trusted only when consistent with the capture).
    Udp(UdpDatagram<'a>),
    /// ICMP (IPv4) or ICMPv6 message.
    Icmp(IcmpMessage<'a>),
    /// Any other IP protocol number (GRE, ESP, SCTP…), not decoded further.
    Other { protocol: u8 },
}

/// The TCP flags a flow table needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// A TCP header's fields and the segment's payload.
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

/// A UDP header's ports and the datagram's payload.
#[derive(Debug)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

/// An ICMP or ICMPv6 message; `payload` follows the 8-byte header.
#[derive(Debug)]
pub struct IcmpMessage<'a> {
    /// ICMPv6 rather than ICMP.
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// Identifier of an echo request or reply, which pairs them like a port.
    pub echo_id: Option<u16>,
    pub payload: &'a [u8],
    /// The whole message, header included (what a ping socket sends).
    pub message: &'a [u8],
}

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A header is truncated or inconsistent; `layer` names it.
    #[error("malformed {layer} header: {reason}")]
    Malformed { layer: &'static str, reason: String },
}

/// Tunnels unwrapped inside one another before the packet is taken as it is.
const MAX_TUNNEL_DEPTH: usize = 4;

const PROTO_IPIP: u8 = 4;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_IPV6_IN_IP: u8 = 41;
const PROTO_GRE: u8 = 47;
const PROTO_ICMP: u8 = 1;
const PROTO_ICMPV6: u8 = 58;

/// Decodes frames to IP packets, holding fragments until their datagram is complete.
///
/// Tunnels (IP-in-IP, GRE, VXLAN, GTP-U, CAPWAP data) are unwrapped: the inner packet is returned.
/// No allocation on the path of unfragmented packets.
pub struct PacketDecoder {
    defrag: Defrag,
    /// Payload of the last reassembled datagram; packets returned from it borrow it.
    reassembled: Vec<u8>,
}

impl Default for PacketDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Which buffer the current datagram lies in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    Input,
    Reassembled,
}

impl Held {
    fn pick<'b>(self, input: &'b [u8], reassembled: &'b [u8]) -> &'b [u8] {
        match self {
            Held::Input => input,
            Held::Reassembled => reassembled,
        }
    }
}

/// An IP header read down to its payload, as offsets into the bytes it was read from.
struct IpHeader {
    src: IpAddr,
    dst: IpAddr,
    ip_len: usize,
    v6: bool,
    protocol: u8,
    payload: Range<usize>,
    fragment: Option<Fragment>,
}

impl PacketDecoder {
    /// A decoder with the default fragment limits ([`DefragLimits::default`]).
    pub fn new() -> Self {
        Self::with_limits(DefragLimits::default())
    }

    /// A decoder with the given caps on pending fragments.
    pub fn with_limits(limits: DefragLimits) -> Self {
        PacketDecoder { defrag: Defrag::new(limits), reassembled: Vec::new() }
    }

    /// Counters of fragment reassembly, including the datagrams pending now.
    pub fn defrag_stats(&self) -> DefragStats {
        self.defrag.stats()
    }

    /// Decodes a captured frame of the given link type.
    pub fn decode<'a>(
        &'a mut self,
        ts: Timestamp,
        link: LinkType,
        frame: &'a [u8],
    ) -> Result<Option<IpPacket<'a>>, DecodeError> {
        let encap = match link {
            LinkType::Ethernet => Encap::Ethernet,
            LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => Encap::Ip,
            LinkType::LinuxSll => Encap::LinuxSll,
            LinkType::LinuxSll2 => Encap::LinuxSll2,
            LinkType::Null | LinkType::Loop => Encap::Null,
            LinkType::Ppp => Encap::Ppp,
            LinkType::Nflog => Encap::Nflog,
            LinkType::Other(_) => return Ok(None),
        };
        match find_ip(encap, frame)? {
            Some(at) => self.decode_ip(ts, frame.get(at..).unwrap_or_default()),
            None => Ok(None),
        }
    }

    /// Decodes a bare IPv4 or IPv6 packet of a capture, opening tunnels.
    pub fn decode_ip<'a>(&'a mut self, ts: Timestamp, ip: &'a [u8]) -> Result<Option<IpPacket<'a>>, DecodeError> {
        self.decode_layers(ts, ip, true)
    }

    /// Decodes a packet read from (or written to) a tun device: the packet as the app sent it, tunnels left
    /// closed (an app's GRE or VXLAN is its own flow, to forward as it is).
    pub fn decode_tun<'a>(&'a mut self, ts: Timestamp, ip: &'a [u8]) -> Result<Option<IpPacket<'a>>, DecodeError> {
        self.decode_layers(ts, ip, false)
    }

    fn decode_layers<'a>(
        &'a mut self,
        ts: Timestamp,
        ip: &'a [u8],
        open_tunnels: bool,
    ) -> Result<Option<IpPacket<'a>>, DecodeError> {
        let PacketDecoder { defrag, reassembled } = self;
        let mut held = Held::Input;
        let mut span = 0..ip.len();
        for _ in 0..=MAX_TUNNEL_DEPTH {
            let bytes = held.pick(ip, reassembled).get(span.clone()).unwrap_or_default();
            let header = parse_ip(bytes)?;
            let (protocol, payload, ip_len) = match header.fragment {
                None => (header.protocol, shift(&header.payload, span.start), header.ip_len),
                Some(fragment) => {
                    let data = bytes.get(header.payload.clone()).unwrap_or_default();
                    let Some(done) = defrag.add(ts, fragment, data)? else { return Ok(None) };
                    defrag.recycle(std::mem::replace(reassembled, done.payload));
                    held = Held::Reassembled;
                    let (protocol, payload) = skip_extensions(header.v6, done.protocol, reassembled)?;
                    (protocol, payload, done.header_len.saturating_add(reassembled.len()))
                }
            };
            let payload_bytes = held.pick(ip, reassembled).get(payload.clone()).unwrap_or_default();
            if let Some(inner) = tunnel_inner(protocol, payload_bytes).filter(|_| open_tunnels) {
                span = shift(&inner, payload.start);
                continue;
            }
            let payload_bytes = held.pick(ip, reassembled).get(payload).unwrap_or_default();
            return Ok(Some(IpPacket {
                src: header.src,
                dst: header.dst,
                ip_len: u32::try_from(ip_len).unwrap_or(u32::MAX),
                reassembled: held == Held::Reassembled,
                transport: transport(protocol, header.v6, payload_bytes)?,
            }));
        }
        Err(malformed("tunnel", "too many nested tunnels"))
    }
}

fn shift(range: &Range<usize>, by: usize) -> Range<usize> {
    range.start.saturating_add(by)..range.end.saturating_add(by)
}

/// Where `inner`, a subslice handed out by etherparse, lies within `outer`.
fn range_within(outer: &[u8], inner: &[u8]) -> Range<usize> {
    let start = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize).min(outer.len());
    start..start.saturating_add(inner.len()).min(outer.len())
}

fn parse_ip(bytes: &[u8]) -> Result<IpHeader, DecodeError> {
    let (ip, stop) = LaxIpSlice::from_slice(bytes).map_err(|e| malformed("ip", e))?;
    let (src, dst) = (ip.source_addr(), ip.destination_addr());
    // Each version gives its datagram length, its fragment (with where the fragment's data lies) if
    // it is one, and the layer to blame when its headers stopped early.
    let (v6, ip_len, fragment, stop_layer) = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let header = v4.header();
            let header_len = header.slice().len();
            let total_len = usize::from(header.total_len());
            // A total length below the header length is what TSO captures show: use the capture.
            let ip_len = if total_len >= header_len { total_len } else { bytes.len() };
            // The raw payload: an AH header belongs to the first fragment's data.
            let fragment = header.is_fragmenting_payload().then(|| {
                let fragment = Fragment {
                    key: FragmentKey {
                        src,
                        dst,
                        id: u32::from(header.identification()),
                        v4_protocol: Some(header.protocol().0),
                    },
                    offset: header.fragments_offset(),
                    more: header.more_fragments(),
                    protocol: header.protocol().0,
                    header_len,
                };
                (fragment, header_len..ip_len.min(bytes.len()).max(header_len))
            });
            (false, ip_len, fragment, "ip auth")
        }
        LaxIpSlice::Ipv6(v6) => {
            let payload_length = usize::from(v6.header().payload_length());
            // Payload length 0 is a jumbogram or a TSO capture: use the capture.
            let ip_len = if payload_length == 0 { bytes.len() } else { 40 + payload_length };
            let end = ip_len.min(bytes.len());
            // etherparse's extension iterator reads past a header that failed to parse (UB in
            // 0.21), so it is only walked when a fragmenting fragment header was parsed.
            let extensions =
                if v6.is_payload_fragmented() { v6.extensions().clone() } else { Ipv6ExtensionsSlice::default() };
            let fragment = extensions.into_iter().find_map(|extension| {
                let Ipv6ExtensionSlice::Fragment(frag) = extension else { return None };
                if !frag.is_fragmenting_payload() {
                    return None;
                }
                let frag_header = range_within(bytes, frag.slice());
                let fragment = Fragment {
                    key: FragmentKey { src, dst, id: frag.identification(), v4_protocol: None },
                    offset: frag.fragment_offset(),
                    more: frag.more_fragments(),
                    protocol: frag.next_header().0,
                    header_len: frag_header.start,
                };
                Some((fragment, frag_header.end..end.max(frag_header.end)))
            });
            (true, ip_len, fragment, "ipv6 extension")
        }
    };
    if let Some((fragment, payload)) = fragment {
        return Ok(IpHeader { src, dst, ip_len, v6, protocol: fragment.protocol, payload, fragment: Some(fragment) });
    }
    if let Some((e, _)) = stop {
        return Err(malformed(stop_layer, e));
    }
    let payload = ip.payload();
    Ok(IpHeader {
        src,
        dst,
        ip_len,
        v6,
        protocol: payload.ip_number.0,
        payload: range_within(bytes, payload.payload),
        fragment: None,
    })
}

/// Headers at the start of a reassembled payload: IPv6 extensions after the fragment header, or AH.
fn skip_extensions(v6: bool, protocol: u8, payload: &[u8]) -> Result<(u8, Range<usize>), DecodeError> {
    if v6 {
        let (_, next, rest, stop) = Ipv6ExtensionsSlice::from_slice_lax(IpNumber(protocol), payload);
        if let Some((e, _)) = stop {
            return Err(malformed("ipv6 extension", e));
        }
        return Ok((next.0, range_within(payload, rest)));
    }
    if protocol == IpNumber::AUTHENTICATION_HEADER.0 {
        let auth = IpAuthHeaderSlice::from_slice(payload).map_err(|e| malformed("ip auth", e))?;
        return Ok((auth.next_header().0, auth.slice().len()..payload.len()));
    }
    Ok((protocol, 0..payload.len()))
}

/// The inner IP packet of a tunnel, as a range of `payload`, if this is one and it holds IP.
fn tunnel_inner(protocol: u8, payload: &[u8]) -> Option<Range<usize>> {
    let (encap, offset) = match protocol {
        PROTO_IPIP | PROTO_IPV6_IN_IP => (Encap::Ip, 0),
        PROTO_GRE => link::gre(payload)?,
        PROTO_UDP => {
            let udp = UdpSlice::from_slice_lax(payload).ok()?;
            let (encap, offset) = link::udp_tunnel(udp.source_port(), udp.destination_port(), udp.payload())?;
            (encap, offset.checked_add(8)?)
        }
        _ => return None,
    };
    let rest = payload.get(offset..)?;
    let at = offset.checked_add(find_ip(encap, rest).ok()??)?;
    let inner = payload.get(at..)?;
    // Only a well-formed inner packet makes this a tunnel; otherwise the outer packet stands.
    let (ip, _) = LaxIpSlice::from_slice(inner).ok()?;
    let version_mismatch =
        matches!((protocol, &ip), (PROTO_IPIP, LaxIpSlice::Ipv6(_)) | (PROTO_IPV6_IN_IP, LaxIpSlice::Ipv4(_)));
    (!version_mismatch).then_some(at..payload.len())
}

fn transport(protocol: u8, v6: bool, payload: &[u8]) -> Result<Transport<'_>, DecodeError> {
    Ok(match protocol {
        PROTO_TCP => {
            let tcp = TcpSlice::from_slice(payload).map_err(|e| malformed("tcp", e))?;
            Transport::Tcp(TcpSegment {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: TcpFlags { syn: tcp.syn(), ack: tcp.ack(), fin: tcp.fin(), rst: tcp.rst(), psh: tcp.psh() },
                window: tcp.window_size(),
                payload: tcp.payload(),
            })
        }
        PROTO_UDP => {
            let udp = UdpSlice::from_slice_lax(payload).map_err(|e| malformed("udp", e))?;
            Transport::Udp(UdpDatagram {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                payload: udp.payload(),
            })
        }
        PROTO_ICMP if !v6 => {
            let icmp = Icmpv4Slice::from_slice(payload).map_err(|e| malformed("icmp", e))?;
            let echo_id = match icmp.icmp_type() {
                Icmpv4Type::EchoRequest(IcmpEchoHeader { id, .. })
                | Icmpv4Type::EchoReply(IcmpEchoHeader { id, .. }) => Some(id),
                _ => None,
            };
            Transport::Icmp(IcmpMessage {
                v6: false,
                icmp_type: icmp.type_u8(),
                code: icmp.code_u8(),
                echo_id,
                payload: icmp.payload(),
                message: icmp.slice(),
            })
        }
        PROTO_ICMPV6 if v6 => {
            let icmp = Icmpv6Slice::from_slice(payload).map_err(|e| malformed("icmpv6", e))?;
            let echo_id = match icmp.icmp_type() {
                Icmpv6Type::EchoRequest(IcmpEchoHeader { id, .. })
                | Icmpv6Type::EchoReply(IcmpEchoHeader { id, .. }) => Some(id),
                _ => None,
            };
            Transport::Icmp(IcmpMessage {
                v6: true,
                icmp_type: icmp.type_u8(),
                code: icmp.code_u8(),
                echo_id,
                payload: icmp.payload(),
                message: icmp.slice(),
            })
        }
        protocol => Transport::Other { protocol },
    })
}

#[cfg(test)]
pub(crate) mod tests;
