//! Link layers and tunnels around an IP packet, byte for byte as their specifications lay them out:
//! to build captures of traffic seen through NFLOG, GRE in UDP, Teredo and AYIYA.

use std::net::Ipv4Addr;

use etherparse::PacketBuilder;

/// Outer addresses of the tunnel packets (documentation prefixes).
const OUTER_CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const OUTER_SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);

/// An NFLOG frame (libpcap `pcap/nflog.h`): family, version 0, resource id (big-endian), then TLVs of
/// length and type in the capturing host's byte order (`big_endian_tlvs`), each padded to 4 bytes:
/// a packet header, a prefix, a uid, and the payload TLV with the IP packet.
pub fn nflog(ip_packet: &[u8], big_endian_tlvs: bool) -> Vec<u8> {
    let family = if ip_packet.first().is_some_and(|b| b >> 4 == 6) { 10 } else { 2 };
    let mut frame = vec![family, 0];
    frame.extend(5u16.to_be_bytes());
    let mut tlv = |tlv_type: u16, value: &[u8]| {
        let len = (4 + value.len()) as u16;
        let (len, tlv_type) = if big_endian_tlvs {
            (len.to_be_bytes(), tlv_type.to_be_bytes())
        } else {
            (len.to_le_bytes(), tlv_type.to_le_bytes())
        };
        frame.extend(len);
        frame.extend(tlv_type);
        frame.extend(value);
        frame.resize(frame.len().next_multiple_of(4), 0);
    };
    let ether_type: u16 = if family == 10 { 0x86DD } else { 0x0800 };
    tlv(1, &[ether_type.to_be_bytes()[0], ether_type.to_be_bytes()[1], 3, 0]); // NFULA_PACKET_HDR
    tlv(10, b"phone-out\0"); // NFULA_PREFIX, 10 bytes: padded
    tlv(11, &10_123u32.to_be_bytes()); // NFULA_UID
    tlv(9, ip_packet); // NFULA_PAYLOAD
    frame
}

/// An IPv4/UDP packet between the tunnel end points with `payload`, on `port` at the server side.
fn outer_udp(port: u16, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv4(OUTER_CLIENT.octets(), OUTER_SERVER.octets(), 64).udp(40_001, port);
    let mut bytes = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut bytes, payload).expect("writing to memory");
    bytes
}

/// GRE in UDP (RFC 8086, port 4754): a GRE header with a key, then the IP packet.
pub fn gre_in_udp(ip_packet: &[u8]) -> Vec<u8> {
    let protocol: u16 = if ip_packet.first().is_some_and(|b| b >> 4 == 6) { 0x86DD } else { 0x0800 };
    let mut gre = vec![0x20, 0]; // key present, version 0
    gre.extend(protocol.to_be_bytes());
    gre.extend(7u32.to_be_bytes());
    gre.extend(ip_packet);
    outer_udp(4754, &gre)
}

/// Teredo (RFC 4380, port 3544): an origin indication (type 0, obfuscated port and address), then
/// the IPv6 packet.
pub fn teredo(ipv6_packet: &[u8]) -> Vec<u8> {
    let mut payload = vec![0, 0];
    payload.extend((!40_001u16).to_be_bytes());
    payload.extend(OUTER_CLIENT.octets().map(|b| !b));
    payload.extend(ipv6_packet);
    outer_udp(3544, &payload)
}

/// AYIYA (port 5072): identity length 2^4 (16 bytes) and type, signature length 20 bytes (5 words)
/// and hash method, authentication method and opcode 1 (forward), next header, epoch; then the
/// identity, the signature and the packet.
pub fn ayiya(ip_packet: &[u8]) -> Vec<u8> {
    let next_header = if ip_packet.first().is_some_and(|b| b >> 4 == 6) { 41 } else { 4 };
    let mut payload = vec![0x41, 0x52, 0x11, next_header];
    payload.extend(1_700_000_000u32.to_be_bytes());
    payload.extend([0x20; 16]); // identity: the client's IPv6 address
    payload.extend([0x5A; 20]); // SHA-1 signature
    payload.extend(ip_packet);
    outer_udp(5072, &payload)
}
