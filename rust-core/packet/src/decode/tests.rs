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
    let builder = PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4(SRC4, DST4, 64).tcp(40000, 443, 7, 65000).syn().ack(9);
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
    expect_udp(&mut d, LinkType::Ethernet, &ethernet(0x8847, &prefixed(&[0, 1, 0, 64, 0, 2, 1, 64], &udp4())), false);
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
    let Transport::Udp(u) = d.decode_ip(Timestamp::default(), &not_vxlan).expect("ok").expect("ip").transport else {
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
        Just(LinkType::Nflog),
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
        (LinkType::LinuxSll2, prefixed(&[0x86, 0xDD, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0], &udp6())),
        (LinkType::Ppp, prefixed(&[0xFF, 0x03, 0x00, 0x21], &ipv4(6, 1, 0, &[1, 1, 1, 0], &tcp_syn(1, 2, b"data")))),
        (LinkType::RawIp, ipv4(17, 9, 0, &[], &udp(2152, 2152, &prefixed(&gtp, &udp6())))),
        (LinkType::RawIp, ipv6(0, &[60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0, 0, 1, 0, 2, 0, 8, 0, 0])),
        (LinkType::RawIp, fragments_v4(1, 17, &udp(1, 2, &[5; 64]), &[32]).remove(1)),
        (LinkType::RawIp, fragments_v6(1, 17, &udp(1, 2, &[5; 64]), &[32]).remove(0)),
        (LinkType::Nflog, nflog(&udp6(), false)),
        (LinkType::Nflog, nflog(&udp4(), true)),
        (LinkType::RawIp, ipv4(17, 9, 0, &[], &udp(40000, 3544, &teredo_with_auth(&udp6())))),
        (LinkType::RawIp, ipv4(17, 9, 0, &[], &udp(40000, 5072, &ayiya(41, 1, &udp6())))),
        (LinkType::RawIp, ipv4(17, 9, 0, &[], &udp(40000, 4754, &prefixed(&[0x20, 0, 0x08, 0, 0, 0, 0, 7], &udp4())))),
    ]
}

/// An NFLOG frame: header, a packet-header TLV, a prefix TLV needing padding, then the payload TLV.
fn nflog(ip: &[u8], big_endian: bool) -> Vec<u8> {
    let mut frame = vec![2, 0, 0, 5];
    for (tlv_type, value) in [(1u16, &[8, 0, 3, 0][..]), (10, b"drop"), (10, b"phone"), (9, ip)] {
        let len = (4 + value.len()) as u16;
        let fields = if big_endian {
            [len.to_be_bytes(), tlv_type.to_be_bytes()]
        } else {
            [len.to_le_bytes(), tlv_type.to_le_bytes()]
        };
        frame.extend(fields.concat());
        frame.extend(value);
        frame.resize(frame.len().next_multiple_of(4), 0);
    }
    frame
}

/// Teredo with an authentication indicator (client id 2 bytes, value 3 bytes) and an origin indication.
fn teredo_with_auth(ipv6: &[u8]) -> Vec<u8> {
    let mut payload = vec![0, 1, 2, 3, 0xC1, 0xC2, 0xA1, 0xA2, 0xA3];
    payload.extend([0x4E; 8]); // nonce
    payload.push(0); // confirmation
    payload.extend([0, 0, 0x63, 0x5E, 0x39, 0xCC, 0x9B, 0xF8]); // origin indication
    payload.extend(ipv6);
    payload
}

/// AYIYA: identity 16 bytes, signature 20 bytes, the given next header and opcode.
fn ayiya(next_header: u8, opcode: u8, ip: &[u8]) -> Vec<u8> {
    let mut payload = vec![0x41, 0x52, 0x10 | opcode, next_header, 0x65, 0x53, 0xF1, 0x00];
    payload.extend([0x20; 16]);
    payload.extend([0x5A; 20]);
    payload.extend(ip);
    payload
}

#[test]
fn nflog_payload_is_found_in_either_byte_order() {
    let inner4 = (IpAddr::from(SRC4), IpAddr::from(DST4), 5353, 53);
    let inner6 = (IpAddr::from(SRC6), IpAddr::from(DST6), 5353, 53);
    for big_endian in [false, true] {
        assert_eq!(decode_tunnel(LinkType::Nflog, &nflog(&udp4(), big_endian)), inner4);
        assert_eq!(decode_tunnel(LinkType::Nflog, &nflog(&udp6(), big_endian)), inner6);
    }
    let mut d = PacketDecoder::new();
    // Without a payload TLV (a packet logged with --nflog-size 0): nothing to decode.
    let header_only = nflog(&udp4(), false)[..20].to_vec();
    assert!(d.decode(Timestamp::default(), LinkType::Nflog, &header_only).expect("ok").is_none());
    // A TLV claiming more than the frame holds is malformed, not read past.
    let mut overrun = nflog(&udp4(), false);
    overrun[4] = 0xF0;
    assert!(d.decode(Timestamp::default(), LinkType::Nflog, &overrun).is_err());
    // A payload cut by the snap length is decoded as far as it was captured.
    let full = nflog(&udp4(), false);
    let cut = &full[..full.len() - 2];
    let packet = d.decode(Timestamp::default(), LinkType::Nflog, cut).expect("ok").expect("ip");
    assert_eq!(packet.src, IpAddr::from(SRC4));
    assert_eq!(LinkType::from_dlt(239), LinkType::Nflog);
}

#[test]
fn gre_in_udp_teredo_and_ayiya_are_unwrapped() {
    let inner4 = (IpAddr::from(SRC4), IpAddr::from(DST4), 5353, 53);
    let inner6 = (IpAddr::from(SRC6), IpAddr::from(DST6), 5353, 53);
    let outer = |port, payload: &[u8]| ipv4(17, 9, 0, &[], &udp(40000, port, payload));
    let gre = |ether_type: u16, ip: &[u8]| prefixed(&[0, 0, (ether_type >> 8) as u8, ether_type as u8], ip);
    assert_eq!(decode_tunnel(LinkType::RawIp, &outer(4754, &gre(0x0800, &udp4()))), inner4);
    assert_eq!(decode_tunnel(LinkType::RawIp, &outer(4754, &gre(0x86DD, &udp6()))), inner6);
    assert_eq!(decode_tunnel(LinkType::RawIp, &outer(3544, &udp6())), inner6, "Teredo, bare");
    assert_eq!(decode_tunnel(LinkType::RawIp, &outer(3544, &teredo_with_auth(&udp6()))), inner6);
    assert_eq!(decode_tunnel(LinkType::RawIp, &outer(5072, &ayiya(41, 1, &udp6()))), inner6);
    assert_eq!(decode_tunnel(LinkType::RawIp, &outer(5072, &ayiya(4, 1, &udp4()))), inner4);
    // What is not a forwarded packet stays the outer datagram: an AYIYA echo, Teredo carrying IPv4.
    for not_tunnel in [outer(5072, &ayiya(41, 2, &udp6())), outer(3544, &udp4())] {
        let (src, ..) = decode_tunnel(LinkType::RawIp, &not_tunnel);
        assert_eq!(src, IpAddr::from(SRC4));
        let mut d = PacketDecoder::new();
        let packet = d.decode(Timestamp::default(), LinkType::RawIp, &not_tunnel).expect("ok").expect("ip");
        assert!(matches!(packet.transport, Transport::Udp(UdpDatagram { dst_port: 5072 | 3544, .. })));
    }
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

#[test]
fn a_tun_decode_leaves_tunnels_closed_and_says_what_was_reassembled() {
    let mut d = PacketDecoder::new();
    let vxlan = udp(40000, 4789, &prefixed(&[0x08, 0, 0, 0, 0, 0, 1, 0], &ethernet(0x0800, &udp4())));
    let outer = ipv4(17, 9, 0, &[], &vxlan);
    let packet = d.decode_tun(Timestamp::default(), &outer).expect("ok").expect("ip");
    assert!(matches!(packet.transport, Transport::Udp(UdpDatagram { dst_port: 4789, .. })), "the outer flow");
    assert!(!packet.reassembled);
    let ipip = ipv4(4, 9, 0, &[], &udp4());
    let packet = d.decode_tun(Timestamp::default(), &ipip).expect("ok").expect("ip");
    assert!(matches!(packet.transport, Transport::Other { protocol: 4 }), "IP-in-IP forwarded as it is");
    let frags = fragments_v4(78, 17, &udp(1000, 2000, &[7; 3000]), &[1480]);
    assert!(d.decode_tun(Timestamp::default(), &frags[0]).expect("ok").is_none());
    let whole = d.decode_tun(Timestamp::default(), &frags[1]).expect("ok").expect("complete");
    assert!(whole.reassembled);
}
