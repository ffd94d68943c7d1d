//! Copies of a capture that look like other devices: every IP address moved by a per-copy key, with the IP
//! header and TCP/UDP checksums kept valid (RFC 1624 incremental update). Used to build benchmark captures
//! of many distinct flows from a small corpus.
use etherparse::{NetSlice, SlicedPacket, TransportSlice};

/// How a copy moves addresses: IPv4 bytes 2–3 and IPv6 bytes 12–13 are XORed with `key`, so each copy's
/// addresses are distinct from every other copy's (same address, different key) while prefixes — and so
/// most countries and networks — stay as they were.
#[derive(Clone, Copy, Debug)]
pub struct AddressKey(pub u16);

impl AddressKey {
    /// The key of copy `n` (copy 0 keeps the original addresses).
    pub fn of_copy(n: u16) -> AddressKey {
        AddressKey(n.wrapping_mul(0x9e37) | u16::from(n != 0))
    }
}

/// Rewrites the outer IP addresses of an Ethernet frame in place; returns false when it carries no IP
/// packet (left as it was).
pub fn remap_ethernet(frame: &mut [u8], key: AddressKey) -> bool {
    let Some(at) = locate(frame) else { return false };
    let v4 = frame[at.ip] >> 4 == 4;
    let (src, dst, len) = if v4 { (at.ip + 12, at.ip + 16, 4) } else { (at.ip + 8, at.ip + 24, 16) };
    let word = if v4 { 2 } else { 12 };
    let mut old = [0u8; 32];
    old[..len].copy_from_slice(&frame[src..src + len]);
    old[16..16 + len].copy_from_slice(&frame[dst..dst + len]);
    for address in [src, dst] {
        let bytes = &mut frame[address + word..address + word + 2];
        let moved = u16::from_be_bytes([bytes[0], bytes[1]]) ^ key.0;
        bytes.copy_from_slice(&moved.to_be_bytes());
    }
    let mut new = [0u8; 32];
    new[..len].copy_from_slice(&frame[src..src + len]);
    new[16..16 + len].copy_from_slice(&frame[dst..dst + len]);
    let (old, new) = ([&old[..len], &old[16..16 + len]].concat(), [&new[..len], &new[16..16 + len]].concat());
    if v4 {
        patch_checksum(frame, at.ip + 10, &old, &new, false);
    }
    if let Some((offset, udp)) = at.transport_checksum {
        patch_checksum(frame, offset, &old, &new, udp && v4);
    }
    true
}

/// Where the IP header and the transport checksum (offset, is UDP) of a frame are.
struct Offsets {
    ip: usize,
    transport_checksum: Option<(usize, bool)>,
}

fn locate(frame: &[u8]) -> Option<Offsets> {
    let sliced = SlicedPacket::from_ethernet(frame).ok()?;
    let base = frame.as_ptr() as usize;
    let ip = match sliced.net.as_ref()? {
        NetSlice::Ipv4(v4) => v4.header().slice().as_ptr() as usize - base,
        NetSlice::Ipv6(v6) => v6.header().slice().as_ptr() as usize - base,
        NetSlice::Arp(_) => return None,
    };
    let transport_checksum = match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => Some((tcp.slice().as_ptr() as usize - base + 16, false)),
        Some(TransportSlice::Udp(udp)) => Some((udp.slice().as_ptr() as usize - base + 6, true)),
        _ => None,
    };
    Some(Offsets { ip, transport_checksum })
}

/// RFC 1624: HC' = ~(~HC + ~m + m'), over every 16-bit word that changed. An IPv4 UDP checksum of zero
/// means "none" and stays zero; a computed zero is sent as 0xffff.
fn patch_checksum(frame: &mut [u8], at: usize, old: &[u8], new: &[u8], zero_means_none: bool) {
    let Some(field) = frame.get_mut(at..at + 2) else { return };
    let checksum = u16::from_be_bytes([field[0], field[1]]);
    if zero_means_none && checksum == 0 {
        return;
    }
    let mut sum = u32::from(!checksum);
    for (o, n) in old.chunks(2).zip(new.chunks(2)) {
        sum += u32::from(!u16::from_be_bytes([o[0], o[1]])) + u32::from(u16::from_be_bytes([n[0], n[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut patched = !(sum as u16);
    if zero_means_none && patched == 0 {
        patched = 0xffff;
    }
    field.copy_from_slice(&patched.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn frame(v6: bool, udp: bool) -> Vec<u8> {
        let eth = PacketBuilder::ethernet2([1; 6], [2; 6]);
        let ip = if v6 {
            eth.ipv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 1], [0x20; 16], 64)
        } else {
            eth.ipv4([192, 0, 2, 1], [198, 51, 100, 7], 64)
        };
        let payload = b"checksums must survive";
        let mut out = Vec::new();
        if udp {
            ip.udp(40000, 53).write(&mut out, payload).unwrap();
        } else {
            ip.tcp(40000, 443, 7, 1000).syn().write(&mut out, payload).unwrap();
        }
        out
    }

    /// Recomputes every checksum from scratch and compares it with the patched one.
    fn checksums_valid(frame: &[u8]) -> bool {
        let sliced = SlicedPacket::from_ethernet(frame).unwrap();
        let ok_ip = match &sliced.net {
            Some(NetSlice::Ipv4(v4)) => v4.header().to_header().calc_header_checksum() == v4.header().header_checksum(),
            _ => true,
        };
        let ok_transport = match (&sliced.net, &sliced.transport) {
            (Some(NetSlice::Ipv4(v4)), Some(TransportSlice::Tcp(tcp))) => {
                tcp.calc_checksum_ipv4(v4.header().source(), v4.header().destination()).unwrap() == tcp.checksum()
            }
            (Some(NetSlice::Ipv6(v6)), Some(TransportSlice::Tcp(tcp))) => {
                tcp.calc_checksum_ipv6(v6.header().source(), v6.header().destination()).unwrap() == tcp.checksum()
            }
            (Some(NetSlice::Ipv4(v4)), Some(TransportSlice::Udp(udp))) => {
                udp.to_header().calc_checksum_ipv4(&v4.header().to_header(), udp.payload()).unwrap() == udp.checksum()
            }
            (Some(NetSlice::Ipv6(v6)), Some(TransportSlice::Udp(udp))) => {
                udp.to_header().calc_checksum_ipv6(&v6.header().to_header(), udp.payload()).unwrap() == udp.checksum()
            }
            _ => false,
        };
        ok_ip && ok_transport
    }

    #[test]
    fn copies_move_addresses_and_keep_checksums_valid() {
        for (v6, udp) in [(false, false), (false, true), (true, false), (true, true)] {
            let original = frame(v6, udp);
            assert!(checksums_valid(&original));
            for copy in 1..50u16 {
                let mut moved = original.clone();
                assert!(remap_ethernet(&mut moved, AddressKey::of_copy(copy)));
                assert_ne!(moved, original);
                assert!(checksums_valid(&moved), "copy {copy} v6={v6} udp={udp}");
                // Undone by the same key: a bijection.
                assert!(remap_ethernet(&mut moved, AddressKey::of_copy(copy)));
                assert_eq!(moved, original);
            }
        }
    }

    #[test]
    fn copy_keys_differ() {
        let keys: std::collections::HashSet<u16> = (0..1000).map(|n| AddressKey::of_copy(n).0).collect();
        assert_eq!(keys.len(), 1000);
        assert_eq!(AddressKey::of_copy(0).0, 0);
    }

    #[test]
    fn non_ip_frames_are_left_alone() {
        let mut arp = vec![0xff; 14 + 28];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let before = arp.clone();
        assert!(!remap_ethernet(&mut arp, AddressKey::of_copy(3)));
        assert_eq!(arp, before);
    }
}
