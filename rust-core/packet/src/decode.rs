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

    /// Decodes a bare IPv4 or IPv6 packet (as read from a tun device).
    pub fn decode_ip<'a>(&'a mut self, ts: Timestamp, ip: &'a [u8]) -> Result<Option<IpPacket<'a>>, DecodeError> {
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
            if let Some(inner) = tunnel_inner(protocol, payload_bytes) {
                span = shift(&inner, payload.start);
                continue;
            }
            let payload_bytes = held.pick(ip, reassembled).get(payload).unwrap_or_default();
            return Ok(Some(IpPacket {
                src: header.src,
                dst: header.dst,
                ip_len: u32::try_from(ip_len).unwrap_or(u32::MAX),
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
            })
        }
        protocol => Transport::Other { protocol },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use etherparse::PacketBuilder;
    use proptest::prelude::*;
    use std::time::Duration;

    const SRC4: [u8; 4] = [192, 168, 1, 10];
    const DST4: [u8; 4] = [93, 184, 216, 34];
    const SRC6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const DST6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    /// IPv4 header (options appended, IHL set) and payload; `frag` is the flags/offset field.
    pub(crate) fn ipv4(protocol: u8, id: u16, frag: u16, options: &[u8], payload: &[u8]) -> Vec<u8> {
        let header_len = 20 + options.len();
        let total = (header_len + payload.len()) as u16;
        let mut p = vec![0x40 | (header_len / 4) as u8, 0];
        p.extend(total.to_be_bytes());
        p.extend(id.to_be_bytes());
        p.extend(frag.to_be_bytes());
        p.extend([64, protocol, 0, 0]);
        p.extend(SRC4);
        p.extend(DST4);
        p.extend(options);
        p.extend(payload);
        p
    }

    pub(crate) fn ipv6(next_header: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend((payload.len() as u16).to_be_bytes());
        p.extend([next_header, 64]);
        p.extend(SRC6);
        p.extend(DST6);
        p.extend(payload);
        p
    }

    pub(crate) fn udp(src_port: u16, dst_port: u16, data: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend(src_port.to_be_bytes());
        p.extend(dst_port.to_be_bytes());
        p.extend(((8 + data.len()) as u16).to_be_bytes());
        p.extend([0, 0]);
        p.extend(data);
        p
    }

    fn tcp_syn(src_port: u16, dst_port: u16, data: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend(src_port.to_be_bytes());
        p.extend(dst_port.to_be_bytes());
        p.extend(1000u32.to_be_bytes());
        p.extend(0u32.to_be_bytes());
        p.extend([0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0]);
        p.extend(data);
        p
    }

    pub(crate) fn ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        f.extend(ether_type.to_be_bytes());
        f.extend(payload);
        f
    }

    /// Link-layer prefix + IPv4/UDP 10.0.0.1:5353 → … with payload "hello".
    fn udp4() -> Vec<u8> {
        ipv4(17, 1, 0, &[], &udp(5353, 53, b"hello"))
    }

    fn udp6() -> Vec<u8> {
        ipv6(17, &udp(5353, 53, b"hello"))
    }

    fn expect_udp(decoder: &mut PacketDecoder, link: LinkType, frame: &[u8], v6: bool) {
        let packet = decoder.decode(Timestamp::default(), link, frame).expect("decodes").expect("is IP");
        let (src, dst) =
            if v6 { (IpAddr::from(SRC6), IpAddr::from(DST6)) } else { (IpAddr::from(SRC4), IpAddr::from(DST4)) };
        assert_eq!((packet.src, packet.dst), (src, dst), "{link:?}");
        assert_eq!(packet.ip_len, if v6 { 40 + 13 } else { 20 + 13 });
        match packet.transport {
            Transport::Udp(u) => assert_eq!((u.src_port, u.dst_port, u.payload), (5353, 53, &b"hello"[..])),
            other => panic!("{link:?}: {other:?}"),
        }
    }

    fn prefixed(prefix: &[u8], ip: &[u8]) -> Vec<u8> {
        [prefix, ip].concat()
    }

    #[test]
    fn decodes_a_built_tcp_packet_over_ethernet() {
        let builder =
            PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4(SRC4, DST4, 64).tcp(40000, 443, 7, 65000).syn().ack(9);
        let mut frame = Vec::new();
        builder.write(&mut frame, b"client hello").expect("build");
        let mut decoder = PacketDecoder::new();
        let packet = decoder.decode(Timestamp::default(), LinkType::Ethernet, &frame).expect("ok").expect("ip");
        assert_eq!(packet.ip_len as usize, frame.len() - 14);
        let Transport::Tcp(tcp) = packet.transport else { panic!("tcp") };
        assert_eq!((tcp.src_port, tcp.dst_port, tcp.seq, tcp.ack, tcp.window), (40000, 443, 7, 9, 65000));
        assert_eq!(tcp.flags, TcpFlags { syn: true, ack: true, ..TcpFlags::default() });
        assert_eq!(tcp.payload, b"client hello");
    }

    #[test]
    fn decodes_every_ethernet_encapsulation() {
        let mut d = PacketDecoder::new();
        expect_udp(&mut d, LinkType::Ethernet, &ethernet(0x0800, &udp4()), false);
        expect_udp(&mut d, LinkType::Ethernet, &ethernet(0x86DD, &udp6()), true);
        // 802.1Q, QinQ (802.1ad and 0x9100 outer tags)
        expect_udp(&mut d, LinkType::Ethernet, &ethernet(0x8100, &prefixed(&[0, 5, 0x08, 0x00], &udp4())), false);
        expect_udp(
            &mut d,
            LinkType::Ethernet,
            &ethernet(0x88A8, &prefixed(&[0, 5, 0x81, 0x00, 0, 6, 0x86, 0xDD], &udp6())),
            true,
        );
        expect_udp(
            &mut d,
            LinkType::Ethernet,
            &ethernet(0x9100, &prefixed(&[0, 5, 0x81, 0x00, 0, 6, 0x08, 0x00], &udp4())),
            false,
        );
        // MPLS: two labels, bottom of stack on the second
        expect_udp(
            &mut d,
            LinkType::Ethernet,
            &ethernet(0x8847, &prefixed(&[0, 1, 0, 64, 0, 2, 1, 64], &udp4())),
            false,
        );
        // MPLS Ethernet pseudowire with control word
        let inner = ethernet(0x86DD, &udp6());
        expect_udp(&mut d, LinkType::Ethernet, &ethernet(0x8847, &prefixed(&[0, 1, 1, 64, 0, 0, 0, 0], &inner)), true);
        // PPPoE session, PPP IPv6
        expect_udp(
            &mut d,
            LinkType::Ethernet,
            &ethernet(0x8864, &prefixed(&[0x11, 0, 0, 1, 0, 55, 0x00, 0x57], &udp6())),
            true,
        );
        // 802.3 length + LLC/SNAP
        let mut snap = ethernet(8 + 33, &[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]);
        snap.extend(udp4());
        expect_udp(&mut d, LinkType::Ethernet, &snap, false);
    }

    #[test]
    fn decodes_every_other_link_type() {
        let mut d = PacketDecoder::new();
        for link in [LinkType::RawIp, LinkType::Ipv4] {
            expect_udp(&mut d, link, &udp4(), false);
        }
        for link in [LinkType::RawIp, LinkType::Ipv6] {
            expect_udp(&mut d, link, &udp6(), true);
        }
        let sll = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        expect_udp(&mut d, LinkType::LinuxSll, &prefixed(&sll, &udp4()), false);
        let sll2 = [0x86, 0xDD, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        expect_udp(&mut d, LinkType::LinuxSll2, &prefixed(&sll2, &udp6()), true);
        // NULL: host byte order (little-endian here); BSD IPv6 families 24, 28, 30
        expect_udp(&mut d, LinkType::Null, &prefixed(&2u32.to_le_bytes(), &udp4()), false);
        for family in [24u32, 28, 30] {
            expect_udp(&mut d, LinkType::Null, &prefixed(&family.to_le_bytes(), &udp6()), true);
            expect_udp(&mut d, LinkType::Null, &prefixed(&family.to_be_bytes(), &udp6()), true);
        }
        expect_udp(&mut d, LinkType::Loop, &prefixed(&2u32.to_be_bytes(), &udp4()), false);
        // PPP: with HDLC address/control, without, protocol-field compressed, Cisco HDLC
        expect_udp(&mut d, LinkType::Ppp, &prefixed(&[0xFF, 0x03, 0x00, 0x21], &udp4()), false);
        expect_udp(&mut d, LinkType::Ppp, &prefixed(&[0x00, 0x57], &udp6()), true);
        expect_udp(&mut d, LinkType::Ppp, &prefixed(&[0x21], &udp4()), false);
        expect_udp(&mut d, LinkType::Ppp, &prefixed(&[0x0F, 0x00, 0x86, 0xDD], &udp6()), true);
        assert_eq!(LinkType::from_dlt(50), LinkType::Ppp);
        assert_eq!(LinkType::from_dlt(0x1000_0001), LinkType::Ethernet, "FCS bits of the pcap header are ignored");
    }

    #[test]
    fn frames_without_ip_are_none_and_garbage_is_an_error() {
        let mut d = PacketDecoder::new();
        let arp = ethernet(0x0806, &[0; 28]);
        assert!(d.decode(Timestamp::default(), LinkType::Ethernet, &arp).expect("ok").is_none());
        assert!(d.decode(Timestamp::default(), LinkType::Other(147), &udp4()).expect("ok").is_none());
        assert!(d
            .decode(Timestamp::default(), LinkType::Null, &prefixed(&7u32.to_le_bytes(), &udp4()))
            .expect("ok")
            .is_none());
        assert!(d.decode(Timestamp::default(), LinkType::Ethernet, &[1, 2, 3]).is_err());
        assert!(d.decode(Timestamp::default(), LinkType::RawIp, &[0x50; 40]).is_err());
        assert!(d.decode_ip(Timestamp::default(), &[]).is_err());
    }

    #[test]
    fn skips_ipv4_options_and_ipv6_extension_headers() {
        let mut d = PacketDecoder::new();
        // Router alert + NOP padding
        let with_options = ipv4(17, 1, 0, &[0x94, 0x04, 0, 0, 1, 1, 1, 0], &udp(5353, 53, b"hello"));
        let packet = d.decode_ip(Timestamp::default(), &with_options).expect("ok").expect("ip");
        assert_eq!(packet.ip_len, 28 + 13);
        assert!(matches!(packet.transport, Transport::Udp(UdpDatagram { dst_port: 53, .. })));
        // hop-by-hop → routing → destination options → AH → UDP
        let mut chain = vec![43, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop: next routing, PadN
        chain.extend([60, 0, 0, 0, 0, 0, 0, 0]); // routing: next destination options, type 0, segments left 0
        chain.extend([51, 0, 1, 4, 0, 0, 0, 0]); // destination options: next AH
        chain.extend([17, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // AH with 12-byte ICV
        chain.extend(udp(5353, 53, b"hello"));
        let with_extensions = ipv6(0, &chain);
        let packet = d.decode_ip(Timestamp::default(), &with_extensions).expect("ok").expect("ip");
        assert_eq!(packet.ip_len as usize, 40 + chain.len());
        let Transport::Udp(u) = packet.transport else { panic!("udp") };
        assert_eq!(u.payload, b"hello");
    }

    #[test]
    fn truncated_extension_chain_is_an_error() {
        // Hop-by-hop parses; the destination options header after it claims 48 bytes that are missing.
        let mut d = PacketDecoder::new();
        let cut_chain = ipv6(0, &[60, 0, 0, 0, 0, 0, 0, 0, 17, 5]);
        assert!(d.decode_ip(Timestamp::default(), &cut_chain).is_err());
        // The same after an atomic fragment header (offset 0, no more fragments).
        let atomic = ipv6(44, &[0, 0, 0, 0, 0, 0, 0, 1, 60, 0, 0, 0, 0, 0, 0, 0, 17, 5]);
        assert!(d.decode_ip(Timestamp::default(), &atomic).is_err());
    }

    #[test]
    fn decodes_icmp_echo_ids() {
        let mut d = PacketDecoder::new();
        let echo4 = ipv4(1, 1, 0, &[], &[8, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g']);
        let packet = d.decode_ip(Timestamp::default(), &echo4).expect("ok").expect("ip");
        let Transport::Icmp(icmp) = packet.transport else { panic!("icmp") };
        assert_eq!(
            (icmp.v6, icmp.icmp_type, icmp.code, icmp.echo_id, icmp.payload),
            (false, 8, 0, Some(0x1234), &b"ping"[..])
        );
        let echo6 = ipv6(58, &[129, 0, 0, 0, 0xAB, 0xCD, 0, 1]);
        let packet = d.decode_ip(Timestamp::default(), &echo6).expect("ok").expect("ip");
        let Transport::Icmp(icmp) = packet.transport else { panic!("icmpv6") };
        assert_eq!((icmp.v6, icmp.icmp_type, icmp.echo_id), (true, 129, Some(0xABCD)));
        let unreachable = ipv4(1, 1, 0, &[], &[3, 3, 0, 0, 0, 0, 0, 0]);
        let Transport::Icmp(icmp) = d.decode_ip(Timestamp::default(), &unreachable).expect("ok").expect("ip").transport
        else {
            panic!("icmp")
        };
        assert_eq!((icmp.icmp_type, icmp.code, icmp.echo_id), (3, 3, None));
        let gre_other = ipv4(132, 1, 0, &[], &[0; 12]);
        assert!(matches!(
            d.decode_ip(Timestamp::default(), &gre_other).expect("ok").expect("ip").transport,
            Transport::Other { protocol: 132 }
        ));
    }

    #[test]
    fn snap_length_cut_keeps_header_length_and_captured_payload() {
        let mut d = PacketDecoder::new();
        let full = ipv4(6, 1, 0, &[], &tcp_syn(1, 2, &[7; 1000]));
        let cut = &full[..100];
        let packet = d.decode_ip(Timestamp::default(), cut).expect("ok").expect("ip");
        assert_eq!(packet.ip_len, 1040);
        let Transport::Tcp(tcp) = packet.transport else { panic!("tcp") };
        assert_eq!(tcp.payload.len(), 60);
        // TSO captures carry total length 0: the captured length stands in.
        let mut tso = full.clone();
        tso[2..4].copy_from_slice(&[0, 0]);
        assert_eq!(d.decode_ip(Timestamp::default(), &tso).expect("ok").expect("ip").ip_len, 1040);
    }

    /// Splits an IPv4 datagram's payload into fragments at the given 8-byte-aligned cuts.
    fn fragments_v4(id: u16, protocol: u8, payload: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied().filter(|&c| c > 0 && c < payload.len()));
        bounds.push(payload.len());
        bounds
            .windows(2)
            .map(|w| {
                let more = if w[1] < payload.len() { 0x2000 } else { 0 };
                ipv4(protocol, id, more | (w[0] / 8) as u16, &[], &payload[w[0]..w[1]])
            })
            .collect()
    }

    fn fragments_v6(id: u32, next_header: u8, payload: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied().filter(|&c| c > 0 && c < payload.len()));
        bounds.push(payload.len());
        bounds
            .windows(2)
            .map(|w| {
                let more = u16::from(w[1] < payload.len());
                let mut frag = vec![next_header, 0];
                frag.extend((((w[0] / 8) as u16) << 3 | more).to_be_bytes());
                frag.extend(id.to_be_bytes());
                frag.extend(&payload[w[0]..w[1]]);
                ipv6(44, &frag)
            })
            .collect()
    }

    fn udp_payload(packet: Option<IpPacket<'_>>) -> Option<Vec<u8>> {
        match packet?.transport {
            Transport::Udp(u) => Some(u.payload.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn reassembles_ipv4_fragments_out_of_order() {
        let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let datagram = udp(1000, 2000, &data);
        let frags = fragments_v4(77, 17, &datagram, &[1480, 2960]);
        let mut d = PacketDecoder::new();
        assert!(d.decode_ip(Timestamp::default(), &frags[2]).expect("ok").is_none());
        assert!(d.decode_ip(Timestamp::default(), &frags[0]).expect("ok").is_none());
        assert_eq!(d.defrag_stats().pending, 1);
        let packet = d.decode_ip(Timestamp::default(), &frags[1]).expect("ok").expect("complete");
        assert_eq!(packet.ip_len as usize, 20 + datagram.len());
        assert_eq!(udp_payload(Some(packet)).expect("udp"), data);
        assert_eq!(d.defrag_stats(), DefragStats { fragments: 3, reassembled: 1, dropped: 0, pending: 0 });
    }

    #[test]
    fn reassembles_ipv6_fragments_with_extension_headers_in_the_fragmentable_part() {
        let mut fragmentable = vec![17, 0, 1, 4, 0, 0, 0, 0]; // destination options, then UDP
        let datagram = udp(1000, 2000, &[0x42; 2000]);
        fragmentable.extend(&datagram);
        let frags = fragments_v6(0xDEAD_BEEF, 60, &fragmentable, &[1232]);
        let mut d = PacketDecoder::new();
        assert!(d.decode_ip(Timestamp::default(), &frags[1]).expect("ok").is_none());
        let packet = d.decode_ip(Timestamp::default(), &frags[0]).expect("ok").expect("complete");
        assert_eq!(packet.ip_len as usize, 40 + fragmentable.len(), "the datagram before fragmentation");
        assert_eq!(udp_payload(Some(packet)).expect("udp"), vec![0x42; 2000]);
    }

    #[test]
    fn conflicting_fragments_drop_the_datagram() {
        let datagram = udp(1, 2, &[9; 100]);
        let frags = fragments_v4(5, 17, &datagram, &[56]);
        let mut d = PacketDecoder::new();
        assert!(d.decode_ip(Timestamp::default(), &frags[1]).expect("ok").is_none());
        // A last fragment ending elsewhere contradicts the first one.
        let liar = ipv4(17, 5, 64 / 8, &[], &[0; 8]);
        assert!(d.decode_ip(Timestamp::default(), &liar).is_err());
        assert_eq!(d.defrag_stats().pending, 0);
        assert_eq!(d.defrag_stats().dropped, 1);
    }

    #[test]
    fn stale_and_excess_datagrams_are_dropped() {
        let limits = DefragLimits { max_datagrams: 2, max_bytes: 1 << 20, timeout: Duration::from_secs(30) };
        let mut d = PacketDecoder::with_limits(limits);
        let first_half = |id| fragments_v4(id, 17, &udp(1, 2, &[1; 100]), &[56]).remove(0);
        let t0 = Timestamp::from_micros(1_000_000_000);
        let later = |secs| Timestamp(t0.0 + Duration::from_secs(secs));
        d.decode_ip(t0, &first_half(1)).expect("ok");
        d.decode_ip(later(1), &first_half(2)).expect("ok");
        d.decode_ip(later(2), &first_half(3)).expect("ok");
        assert_eq!(d.defrag_stats().pending, 2, "the oldest made room");
        assert_eq!(d.defrag_stats().dropped, 1);
        d.decode_ip(later(40), &first_half(4)).expect("ok");
        assert_eq!(d.defrag_stats().pending, 1, "both others timed out");
        assert_eq!(d.defrag_stats().dropped, 3);
        let tiny = DefragLimits { max_datagrams: 100, max_bytes: 100, timeout: Duration::from_secs(30) };
        let mut d = PacketDecoder::with_limits(tiny);
        d.decode_ip(t0, &fragments_v4(9, 17, &udp(1, 2, &[1; 300]), &[152]).remove(0)).expect("ok");
        assert_eq!(d.defrag_stats().pending, 0, "over the byte cap");
    }

    fn decode_tunnel(link: LinkType, frame: &[u8]) -> (IpAddr, IpAddr, u16, u16) {
        let mut d = PacketDecoder::new();
        let packet = d.decode(Timestamp::default(), link, frame).expect("ok").expect("ip");
        let Transport::Udp(u) = packet.transport else { panic!("inner udp expected, got {:?}", packet.transport) };
        (packet.src, packet.dst, u.src_port, u.dst_port)
    }

    #[test]
    fn unwraps_tunnels_to_the_inner_packet() {
        let inner4 = (IpAddr::from(SRC4), IpAddr::from(DST4), 5353, 53);
        let inner6 = (IpAddr::from(SRC6), IpAddr::from(DST6), 5353, 53);
        // IP-in-IP and 6in4
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(4, 9, 0, &[], &udp4())), inner4);
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(41, 9, 0, &[], &udp6())), inner6);
        // GRE with key carrying IPv4; GRE carrying Ethernet (TEB)
        let gre = prefixed(&[0x20, 0, 0x08, 0x00, 0, 0, 0, 7], &udp4());
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(47, 9, 0, &[], &gre)), inner4);
        let teb = prefixed(&[0, 0, 0x65, 0x58], &ethernet(0x86DD, &udp6()));
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv6(47, &teb)), inner6);
        // PPTP enhanced GRE carrying PPP
        let pptp = prefixed(&[0x30, 0x01, 0x88, 0x0B, 0, 20, 0, 1, 0, 0, 0, 1, 0xFF, 0x03, 0x00, 0x21], &udp4());
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(47, 9, 0, &[], &pptp)), inner4);
        // VXLAN
        let vxlan = udp(40000, 4789, &prefixed(&[0x08, 0, 0, 0, 0, 0, 1, 0], &ethernet(0x0800, &udp4())));
        assert_eq!(decode_tunnel(LinkType::Ethernet, &ethernet(0x0800, &ipv4(17, 9, 0, &[], &vxlan))), inner4);
        // GTP-U with a PDU session container extension header
        let gtp = [0x34, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 0x01, 0];
        let gtp_u = udp(2152, 2152, &prefixed(&gtp, &udp6()));
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(17, 9, 0, &[], &gtp_u)), inner6);
        // CAPWAP data: 802.3 payload, and native 802.11 (normal and Cisco byte-swapped frame control)
        let capwap_eth = udp(5247, 40000, &prefixed(&[0, 0x10, 0x02, 0, 0, 0, 0, 0], &ethernet(0x0800, &udp4())));
        assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(17, 9, 0, &[], &capwap_eth)), inner4);
        for fc in [[0x08, 0x01], [0x01, 0x08], [0x88, 0x01]] {
            let mut wifi = vec![0, 0x10, 0x03, 0x00, 0, 0, 0, 0];
            wifi.extend(fc);
            wifi.extend([0; 22]);
            if fc[0] == 0x88 {
                wifi.extend([0, 0]); // QoS control
            }
            wifi.extend([0xAA, 0xAA, 0x03, 0, 0, 0, 0x86, 0xDD]);
            wifi.extend(udp6());
            let capwap = udp(40000, 5247, &wifi);
            assert_eq!(decode_tunnel(LinkType::RawIp, &ipv4(17, 9, 0, &[], &capwap)), inner6, "fc {fc:?}");
        }
    }

    #[test]
    fn a_tunnel_port_without_a_tunnel_inside_is_the_outer_packet() {
        let not_vxlan = ipv4(17, 9, 0, &[], &udp(40000, 4789, b"plain data"));
        let mut d = PacketDecoder::new();
        let Transport::Udp(u) = d.decode_ip(Timestamp::default(), &not_vxlan).expect("ok").expect("ip").transport
        else {
            panic!("udp")
        };
        assert_eq!(u.payload, b"plain data");
        // IP-in-IP whose inner packet is garbage stays the outer packet.
        let bad = ipv4(4, 9, 0, &[], &[0xFF; 24]);
        assert!(matches!(
            d.decode_ip(Timestamp::default(), &bad).expect("ok").expect("ip").transport,
            Transport::Other { protocol: 4 }
        ));
    }

    #[test]
    fn reassembles_fragments_on_both_sides_of_a_tunnel() {
        let inner = udp(1000, 2000, &[0x33; 1500]);
        let inner_frags = fragments_v4(11, 17, &inner, &[1200]);
        let mut d = PacketDecoder::new();
        // Inner fragments inside GTP-U; the second GTP packet's outer datagram is itself fragmented.
        let gtp = |ip: &[u8]| ipv4(17, 3, 0, &[], &udp(2152, 2152, &prefixed(&[0x30, 0xFF, 0, 0, 0, 0, 0, 1], ip)));
        assert!(d.decode_ip(Timestamp::default(), &gtp(&inner_frags[0])).expect("ok").is_none());
        let outer = gtp(&inner_frags[1]);
        let outer_frags = fragments_v4(12, 17, &outer[20..], &[144]);
        assert!(d.decode_ip(Timestamp::default(), &outer_frags[0]).expect("ok").is_none());
        let packet = d.decode_ip(Timestamp::default(), &outer_frags[1]).expect("ok");
        assert_eq!(udp_payload(packet).expect("inner datagram"), vec![0x33; 1500]);
    }

    fn any_link() -> impl Strategy<Value = LinkType> {
        prop_oneof![
            Just(LinkType::Ethernet),
            Just(LinkType::RawIp),
            Just(LinkType::Ipv4),
            Just(LinkType::Ipv6),
            Just(LinkType::LinuxSll),
            Just(LinkType::LinuxSll2),
            Just(LinkType::Null),
            Just(LinkType::Loop),
            Just(LinkType::Ppp),
            any::<u32>().prop_map(LinkType::Other),
        ]
    }

    /// Real frames of every kind the tests build, to mutate.
    fn sample_frames() -> Vec<(LinkType, Vec<u8>)> {
        let gtp = [0x34, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 0x01, 0];
        vec![
            (LinkType::Ethernet, ethernet(0x8100, &prefixed(&[0, 5, 0x08, 0x00], &udp4()))),
            (LinkType::Ethernet, ethernet(0x8847, &prefixed(&[0, 1, 1, 64, 0, 0, 0, 0], &ethernet(0x86DD, &udp6())))),
            (LinkType::Ethernet, ethernet(0x8864, &prefixed(&[0x11, 0, 0, 1, 0, 55, 0x00, 0x57], &udp6()))),
            (
                LinkType::LinuxSll2,
                prefixed(&[0x86, 0xDD, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0], &udp6()),
            ),
            (
                LinkType::Ppp,
                prefixed(&[0xFF, 0x03, 0x00, 0x21], &ipv4(6, 1, 0, &[1, 1, 1, 0], &tcp_syn(1, 2, b"data"))),
            ),
            (LinkType::RawIp, ipv4(17, 9, 0, &[], &udp(2152, 2152, &prefixed(&gtp, &udp6())))),
            (LinkType::RawIp, ipv6(0, &[60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0, 0, 1, 0, 2, 0, 8, 0, 0])),
            (LinkType::RawIp, fragments_v4(1, 17, &udp(1, 2, &[5; 64]), &[32]).remove(1)),
            (LinkType::RawIp, fragments_v6(1, 17, &udp(1, 2, &[5; 64]), &[32]).remove(0)),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(link in any_link(), bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
            let mut d = PacketDecoder::new();
            let _ = d.decode(Timestamp::default(), link, &bytes);
            let _ = d.decode_ip(Timestamp::default(), &bytes);
        }

        #[test]
        fn mutated_and_truncated_frames_never_panic(
            pick in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            keep in any::<prop::sample::Index>(),
        ) {
            let frames = sample_frames();
            let (link, mut frame) = frames[pick.index(frames.len())].clone();
            for (at, value) in edits {
                let i = at.index(frame.len());
                frame[i] = value;
            }
            frame.truncate(keep.index(frame.len() + 1));
            let mut d = PacketDecoder::new();
            for _ in 0..2 {
                if let Ok(Some(packet)) = d.decode(Timestamp::default(), link, &frame) {
                    let payload_len = match packet.transport {
                        Transport::Tcp(t) => t.payload.len(),
                        Transport::Udp(u) => u.payload.len(),
                        Transport::Icmp(i) => i.payload.len(),
                        Transport::Other { .. } => 0,
                    };
                    prop_assert!(payload_len <= frame.len());
                }
            }
        }

        #[test]
        fn any_fragmentation_reassembles_exactly(
            data in proptest::collection::vec(any::<u8>(), 1..4000),
            cuts in proptest::collection::vec(1usize..500, 0..12),
            order in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            v6 in any::<bool>(),
        ) {
            let datagram = udp(1000, 2000, &data);
            let cuts: Vec<usize> = cuts.iter().scan(0, |at, step| { *at += step * 8; Some(*at) }).collect();
            let frags = if v6 { fragments_v6(42, 17, &datagram, &cuts) } else { fragments_v4(42, 17, &datagram, &cuts) };
            // Fragments in a random order, with duplicates, then all of them once more so the set is complete.
            let sequence: Vec<&Vec<u8>> = order.iter().map(|i| &frags[i.index(frags.len())]).chain(frags.iter()).collect();
            let mut d = PacketDecoder::new();
            let mut completed = 0;
            for fragment in sequence {
                let packet = d.decode_ip(Timestamp::default(), fragment).expect("well-formed fragment");
                if let Some(payload) = udp_payload(packet) {
                    prop_assert_eq!(&payload, &data);
                    completed += 1;
                }
            }
            prop_assert!(completed >= 1);
        }
    }

    #[test]
    fn decodes_without_measuring_anything() {
        // Exercises the hot path over many frames; speed itself is measured by the benchmarks.
        let frames = sample_frames();
        let mut d = PacketDecoder::new();
        let decoded = (0..1000)
            .flat_map(|_| frames.iter())
            .filter(|(link, f)| matches!(d.decode(Timestamp::default(), *link, f), Ok(Some(_))))
            .count();
        assert!(decoded >= 7000, "{decoded}");
    }
}
