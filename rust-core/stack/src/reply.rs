//! Packets the stack writes to the tun itself (outside smoltcp): datagram and echo replies, RSTs and
//! ICMP unreachables that reflect what the outbound socket saw.
use std::net::{IpAddr, SocketAddr};

use etherparse::{icmpv4, icmpv6, Icmpv4Type, Icmpv6Type, IpHeaders, PacketBuilder, PacketBuilderStep};

/// Why a destination could not be reached, mapped to the ICMP code of each family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unreachable {
    Net,
    Host,
    Port,
    Prohibited,
}

impl Unreachable {
    /// The reflection of an outbound socket error; `None` when a TCP RST says it better.
    pub fn from_error(err: &std::io::Error) -> Option<Unreachable> {
        match err.raw_os_error() {
            Some(libc::ENETUNREACH) => Some(Unreachable::Net),
            Some(libc::EHOSTUNREACH | libc::ETIMEDOUT | libc::EHOSTDOWN) => Some(Unreachable::Host),
            Some(libc::EACCES | libc::EPERM) => Some(Unreachable::Prohibited),
            _ => None,
        }
    }
}

/// Largest quote of the offending packet: the whole error must fit the minimum MTU (RFC 1812, RFC 4443).
const QUOTE_V4: usize = 576 - 20 - 8;
const QUOTE_V6: usize = 1280 - 40 - 8;

fn ip(src: IpAddr, dst: IpAddr) -> Option<PacketBuilderStep<IpHeaders>> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some(PacketBuilder::ipv4(s.octets(), d.octets(), 64)),
        (IpAddr::V6(s), IpAddr::V6(d)) => Some(PacketBuilder::ipv6(s.octets(), d.octets(), 64)),
        _ => None,
    }
}

/// Builds a UDP datagram `from` → `to` into `out`; false when the families differ.
pub(crate) fn udp(out: &mut Vec<u8>, from: SocketAddr, to: SocketAddr, payload: &[u8]) -> bool {
    out.clear();
    ip(from.ip(), to.ip()).map(|b| b.udp(from.port(), to.port()).write(out, payload).is_ok()).unwrap_or(false)
}

/// Builds a TCP RST `from` → `to`: with `ack` when answering a segment that had no ACK (RFC 9293 3.10.7.1).
pub(crate) fn tcp_rst(out: &mut Vec<u8>, from: SocketAddr, to: SocketAddr, seq: u32, ack: Option<u32>) -> bool {
    out.clear();
    let Some(step) = ip(from.ip(), to.ip()) else { return false };
    let tcp = step.tcp(from.port(), to.port(), seq, 0).rst();
    match ack {
        Some(ack) => tcp.ack(ack).write(out, &[]).is_ok(),
        None => tcp.write(out, &[]).is_ok(),
    }
}

/// Builds an ICMP or ICMPv6 echo reply `from` → `to`.
pub(crate) fn echo_reply(out: &mut Vec<u8>, from: IpAddr, to: IpAddr, id: u16, seq: u16, data: &[u8]) -> bool {
    out.clear();
    match ip(from, to) {
        Some(b) if from.is_ipv4() => b.icmpv4_echo_reply(id, seq).write(out, data).is_ok(),
        Some(b) => b.icmpv6_echo_reply(id, seq).write(out, data).is_ok(),
        None => false,
    }
}

/// Builds a destination-unreachable error `from` → `to` quoting the head of the offending packet.
pub(crate) fn unreachable(out: &mut Vec<u8>, from: IpAddr, to: IpAddr, why: Unreachable, offending: &[u8]) -> bool {
    out.clear();
    let Some(b) = ip(from, to) else { return false };
    if from.is_ipv4() {
        let code = match why {
            Unreachable::Net => icmpv4::DestUnreachableHeader::Network,
            Unreachable::Host => icmpv4::DestUnreachableHeader::Host,
            Unreachable::Port => icmpv4::DestUnreachableHeader::Port,
            Unreachable::Prohibited => icmpv4::DestUnreachableHeader::FilterProhibited,
        };
        let quote = offending.get(..QUOTE_V4).unwrap_or(offending);
        b.icmpv4(Icmpv4Type::DestinationUnreachable(code)).write(out, quote).is_ok()
    } else {
        let code = match why {
            Unreachable::Net => icmpv6::DestUnreachableCode::NoRoute,
            Unreachable::Host => icmpv6::DestUnreachableCode::Address,
            Unreachable::Port => icmpv6::DestUnreachableCode::Port,
            Unreachable::Prohibited => icmpv6::DestUnreachableCode::Prohibited,
        };
        let quote = offending.get(..QUOTE_V6).unwrap_or(offending);
        b.icmpv6(Icmpv6Type::DestinationUnreachable(code)).write(out, quote).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn rst_answers_a_syn_with_ack_of_its_sequence() {
        let mut out = Vec::new();
        assert!(tcp_rst(&mut out, sa("10.200.1.2:80"), sa("10.0.0.2:40000"), 0, Some(1001)));
        let p = SlicedPacket::from_ip(&out).expect("parse");
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not tcp") };
        assert!(tcp.rst() && tcp.ack() && !tcp.syn());
        assert_eq!((tcp.source_port(), tcp.destination_port(), tcp.acknowledgment_number()), (80, 40000, 1001));
        assert!(!tcp_rst(&mut Vec::new(), sa("10.200.1.2:80"), sa("[::1]:1"), 0, None), "mixed families");
    }

    #[test]
    fn unreachable_quotes_the_offending_packet_and_checksums() {
        let mut offending = Vec::new();
        assert!(udp(&mut offending, sa("[fd00:1::2]:5000"), sa("[fd00:200::2]:7"), &[0u8; 2000]));
        let mut out = Vec::new();
        assert!(unreachable(
            &mut out,
            sa("[fd00:200::2]:0").ip(),
            sa("[fd00:1::2]:0").ip(),
            Unreachable::Port,
            &offending
        ));
        assert_eq!(out.len(), 1280);
        let p = SlicedPacket::from_ip(&out).expect("parse");
        let Some(NetSlice::Ipv6(ip)) = &p.net else { panic!("not v6") };
        let Some(TransportSlice::Icmpv6(icmp)) = &p.transport else { panic!("not icmpv6") };
        assert!(icmp.is_checksum_valid(ip.header().source(), ip.header().destination()));
        assert_eq!(icmp.icmp_type(), Icmpv6Type::DestinationUnreachable(icmpv6::DestUnreachableCode::Port));
        assert_eq!(icmp.payload().get(..40), offending.get(..40));
    }

    #[test]
    fn errors_map_to_icmp_codes() {
        let e = |code| std::io::Error::from_raw_os_error(code);
        assert_eq!(Unreachable::from_error(&e(libc::ENETUNREACH)), Some(Unreachable::Net));
        assert_eq!(Unreachable::from_error(&e(libc::ETIMEDOUT)), Some(Unreachable::Host));
        assert_eq!(Unreachable::from_error(&e(libc::EPERM)), Some(Unreachable::Prohibited));
        assert_eq!(Unreachable::from_error(&e(libc::ECONNREFUSED)), None);
    }
}
