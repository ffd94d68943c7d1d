//! Link layers and tunnel headers down to the IP header.
//!
//! Hand-written: etherparse 0.21 knows Ethernet, VLAN and SLL (v1) only, not MPLS, PPPoE, SLL2,
//! NULL/LOOP, PPP, 802.11 or the tunnels nDPI decapsulates; every one of these is a few fixed-offset
//! fields, walked by one bounded loop. IP and transport headers are left to etherparse.
use crate::decode::DecodeError;

/// A header kind whose length and successor can be read from the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encap {
    /// An IPv4 or IPv6 header starts here.
    Ip,
    Ethernet,
    /// The payload of an Ethernet-like header carrying this EtherType.
    EtherType(u16),
    /// PPP with optional HDLC address/control, or Cisco HDLC.
    Ppp,
    /// BSD NULL / OpenBSD LOOP: a 4-byte address family in either byte order.
    Null,
    LinuxSll,
    LinuxSll2,
    /// IEEE 802.11 data frame with LLC/SNAP (CAPWAP's native binding).
    Wifi,
    /// Linux NFLOG: header, then TLVs; the payload TLV holds the IP packet.
    Nflog,
}

/// Headers walked before giving up (VLAN stacks, MPLS labels and nested encapsulations).
const MAX_LINK_HEADERS: usize = 16;
/// MPLS labels read before giving up.
const MAX_MPLS_LABELS: usize = 8;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_TEB: u16 = 0x6558;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_PPP: u16 = 0x880B;

/// Offset of the IP header inside `data`, or `None` when the frame carries no IP (ARP, LLDP, STP…).
pub(crate) fn find_ip(mut encap: Encap, data: &[u8]) -> Result<Option<usize>, DecodeError> {
    let mut at = 0usize;
    for _ in 0..MAX_LINK_HEADERS {
        let rest = data.get(at..).unwrap_or_default();
        let (next, len) = match encap {
            Encap::Ip => return Ok(Some(at)),
            Encap::Ethernet => match ethernet(rest)? {
                Some(step) => step,
                None => return Ok(None),
            },
            Encap::EtherType(ether_type) => match ether_type_step(ether_type, rest)? {
                Some(step) => step,
                None => return Ok(None),
            },
            Encap::Ppp => match ppp(rest)? {
                Some(step) => step,
                None => return Ok(None),
            },
            Encap::Null => match null_family(rest)? {
                Some(step) => step,
                None => return Ok(None),
            },
            // SLL: packet type, ARPHRD, address length, 8 address bytes, protocol.
            Encap::LinuxSll => (Encap::EtherType(be16(rest, 14, "linux sll")?), 16),
            // SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes.
            Encap::LinuxSll2 => (Encap::EtherType(be16(rest, 0, "linux sll2")?), 20),
            Encap::Wifi => match wifi(rest)? {
                Some(step) => step,
                None => return Ok(None),
            },
            Encap::Nflog => match nflog_payload(rest)? {
                Some(at) => (Encap::Ip, at),
                None => return Ok(None),
            },
        };
        encap = next;
        at = at.saturating_add(len);
        if at > data.len() {
            return Err(malformed("link", "header longer than the frame"));
        }
    }
    Err(malformed("link", "too many nested link headers"))
}

/// One step: the next header kind and the length of the current one.
type Step = (Encap, usize);

fn ethernet(rest: &[u8]) -> Result<Option<Step>, DecodeError> {
    let ether_type = be16(rest, 12, "ethernet")?;
    if ether_type > 1500 {
        return Ok(Some((Encap::EtherType(ether_type), 14)));
    }
    // 802.3 length field: only LLC/SNAP carries an EtherType.
    Ok(snap(rest.get(14..).unwrap_or_default()).map(|t| (Encap::EtherType(t), 14 + 8)))
}

/// EtherType of an LLC/SNAP header (AA AA 03, OUI 0 or 00-00-F8), if that is what `llc` starts with.
fn snap(llc: &[u8]) -> Option<u16> {
    match llc {
        [0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00 | 0xF8, hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

fn ether_type_step(ether_type: u16, rest: &[u8]) -> Result<Option<Step>, DecodeError> {
    Ok(Some(match ether_type {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => (Encap::Ip, 0),
        // 802.1Q, 802.1ad, and the pre-standard QinQ values: TCI then the inner EtherType.
        0x8100 | 0x88A8 | 0x9100 | 0x9200 => (Encap::EtherType(be16(rest, 2, "vlan")?), 4),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => return mpls(rest),
        // PPPoE session: version/type, code, session id, length, then PPP.
        ETHERTYPE_PPPOE_SESSION => {
            be16(rest, 4, "pppoe")?;
            (Encap::Ppp, 6)
        }
        ETHERTYPE_PPP => (Encap::Ppp, 0),
        ETHERTYPE_TEB => (Encap::Ethernet, 0),
        _ => return Ok(None),
    }))
}

/// MPLS label stack; after the bottom label, IP by its version nibble or a pseudowire (Ethernet).
fn mpls(rest: &[u8]) -> Result<Option<Step>, DecodeError> {
    for label in 0..MAX_MPLS_LABELS {
        let at = label * 4;
        let bottom = byte(rest, at + 2, "mpls")? & 0x01 != 0;
        if bottom {
            let after = at + 4;
            return Ok(match byte(rest, after, "mpls")? >> 4 {
                4 | 6 => Some((Encap::Ip, after)),
                // Ethernet pseudowire with its 4-byte control word (RFC 4448).
                0 => Some((Encap::Ethernet, after + 4)),
                _ => None,
            });
        }
    }
    Err(malformed("mpls", "label stack too deep"))
}

fn ppp(rest: &[u8]) -> Result<Option<Step>, DecodeError> {
    let first = byte(rest, 0, "ppp")?;
    // Cisco HDLC: address 0x0F/0x8F, control 0, EtherType.
    if first == 0x0F || first == 0x8F {
        return Ok(Some((Encap::EtherType(be16(rest, 2, "cisco hdlc")?), 4)));
    }
    let at = if first == 0xFF && byte(rest, 1, "ppp")? == 0x03 { 2 } else { 0 };
    // Protocol-field compression: an odd first byte is a one-byte protocol.
    let (protocol, len) = if byte(rest, at, "ppp")? & 1 == 1 {
        (u16::from(byte(rest, at, "ppp")?), 1)
    } else {
        (be16(rest, at, "ppp")?, 2)
    };
    Ok(match protocol {
        0x0021 => Some((Encap::EtherType(ETHERTYPE_IPV4), at + len)),
        0x0057 => Some((Encap::EtherType(ETHERTYPE_IPV6), at + len)),
        0x0281 => Some((Encap::EtherType(ETHERTYPE_MPLS), at + len)),
        _ => None,
    })
}

fn null_family(rest: &[u8]) -> Result<Option<Step>, DecodeError> {
    let bytes: [u8; 4] =
        rest.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(|| malformed("null", "shorter than 4 bytes"))?;
    // Host byte order of the capturing machine, unknown here: families are small numbers.
    let le = u32::from_le_bytes(bytes);
    let family = if le <= 0xFFFF { le } else { u32::from_be_bytes(bytes) };
    Ok(match family {
        2 => Some((Encap::EtherType(ETHERTYPE_IPV4), 4)),
        // AF_INET6 is 10 on Linux, 23 on Windows, 24/28/30 on the BSDs and macOS.
        10 | 23 | 24 | 28 | 30 => Some((Encap::EtherType(ETHERTYPE_IPV6), 4)),
        _ => None,
    })
}

/// 802.11 data frame header, then LLC/SNAP.
fn wifi(rest: &[u8]) -> Result<Option<Step>, DecodeError> {
    let (mut control, mut flags) = (byte(rest, 0, "802.11")?, byte(rest, 1, "802.11")?);
    // Cisco access points send the frame control byte-swapped (Wireshark: capwap.swap_frame_control).
    if (control >> 2) & 0x03 != 2 && (flags >> 2) & 0x03 == 2 {
        (control, flags) = (flags, control);
    }
    let frame_type = (control >> 2) & 0x03;
    let subtype = control >> 4;
    let protected = flags & 0x40 != 0;
    // Only data frames with a body (not the "null" subtypes) and not encrypted carry IP.
    if frame_type != 2 || subtype & 0x04 != 0 || protected {
        return Ok(None);
    }
    let mut len = 24;
    if flags & 0x03 == 0x03 {
        len += 6; // fourth address (WDS)
    }
    let qos = subtype & 0x08 != 0;
    if qos {
        len += 2;
        if flags & 0x80 != 0 {
            len += 4; // HT control
        }
    }
    Ok(snap(rest.get(len..).unwrap_or_default()).map(|t| (Encap::EtherType(t), len + 8)))
}

/// TLVs of an NFLOG frame walked before giving up (the kernel writes about 15).
const MAX_NFLOG_TLVS: usize = 64;
/// NFULA_PAYLOAD: the packet, from its network header on.
const NFULA_PAYLOAD: u16 = 9;

/// Offset of the payload TLV's value in an NFLOG frame (libpcap's `pcap/nflog.h`): family, version,
/// resource id, then TLVs of length (header included, padded to 4) and type, in the capturing host's
/// byte order — unknown here, so taken from the first TLV (types are small numbers).
fn nflog_payload(rest: &[u8]) -> Result<Option<usize>, DecodeError> {
    if byte(rest, 1, "nflog")? != 0 {
        return Err(malformed("nflog", "unknown version"));
    }
    let tlv = |at: usize, big_endian: bool| -> Option<(usize, u16)> {
        let field = |at: usize| -> Option<u16> {
            let bytes = [*rest.get(at)?, *rest.get(at + 1)?];
            Some(if big_endian { u16::from_be_bytes(bytes) } else { u16::from_le_bytes(bytes) })
        };
        Some((usize::from(field(at)?), field(at + 2)?))
    };
    let Some((_, first_type)) = tlv(4, false) else { return Ok(None) };
    let big_endian = first_type > 0xFF;
    let mut at = 4usize;
    for _ in 0..MAX_NFLOG_TLVS {
        let Some((len, tlv_type)) = tlv(at, big_endian) else { return Ok(None) };
        if len < 4 {
            return Err(malformed("nflog", "TLV shorter than its header"));
        }
        // A snap length may cut the payload: what was captured of the packet is still decoded.
        if tlv_type == NFULA_PAYLOAD {
            return Ok(Some(at + 4));
        }
        if at + len > rest.len() {
            return Err(malformed("nflog", "TLV longer than the frame"));
        }
        at += len.next_multiple_of(4);
    }
    Err(malformed("nflog", "too many TLVs"))
}

/// UDP tunnels: VXLAN (4789), GTP-U (2152), CAPWAP data (5247), GRE in UDP (4754, RFC 8086), Teredo
/// (3544, RFC 4380) and AYIYA (5072).
pub(crate) fn udp_tunnel(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Step> {
    let port = |p: u16| src_port == p || dst_port == p;
    if port(4789) {
        // Flags with the I bit, reserved, VNI, reserved; then Ethernet.
        (payload.first()? & 0x08 != 0 && payload.len() >= 8).then_some((Encap::Ethernet, 8))
    } else if port(2152) {
        gtp_u(payload)
    } else if port(5247) {
        capwap(payload)
    } else if port(4754) {
        gre(payload)
    } else if port(3544) {
        teredo(payload)
    } else if port(5072) {
        ayiya(payload)
    } else {
        None
    }
}

/// Teredo: an IPv6 packet, after an optional authentication indicator and an optional origin indication.
fn teredo(data: &[u8]) -> Option<Step> {
    let mut at = 0usize;
    if data.get(..2)? == [0, 1] {
        // Type, client id length, authentication value length, both values, nonce (8), confirmation (1).
        at = 4 + usize::from(*data.get(2)?) + usize::from(*data.get(3)?) + 8 + 1;
    }
    if data.get(at..at + 2)? == [0, 0] {
        at += 8; // type, obfuscated origin port and address
    }
    (*data.get(at)? >> 4 == 6).then_some((Encap::Ip, at))
}

/// AYIYA ("anything in anything"): identity of 2^n bytes and a signature of 4·m bytes follow 8 bytes of
/// header; only a forward (opcode 1) of IPv4 or IPv6 carries a packet.
fn ayiya(data: &[u8]) -> Option<Step> {
    let id_len = 1usize << (*data.first()? >> 4);
    let signature_len = usize::from(*data.get(1)? >> 4) * 4;
    let opcode = *data.get(2)? & 0x0F;
    let next_header = *data.get(3)?;
    let at = 8 + id_len + signature_len;
    (opcode == 1 && matches!(next_header, 4 | 41) && data.len() > at).then_some((Encap::Ip, at))
}

/// GTPv1-U G-PDU (3GPP TS 29.281): 8 bytes, 4 more with E/S/PN, then extension headers.
fn gtp_u(data: &[u8]) -> Option<Step> {
    let flags = *data.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || *data.get(1)? != 0xFF {
        return None;
    }
    if flags & 0x07 == 0 {
        return Some((Encap::Ip, 8));
    }
    let mut next_type = *data.get(11)?;
    let mut at = 12usize;
    for _ in 0..MAX_LINK_HEADERS {
        if next_type == 0 {
            return Some((Encap::Ip, at));
        }
        let len = usize::from(*data.get(at)?) * 4;
        if len == 0 {
            return None;
        }
        next_type = *data.get(at + len - 1)?;
        at += len;
    }
    None
}

/// CAPWAP data channel (RFC 5415): HLEN in 4-byte words; T flag: native (802.11) or 802.3 frame.
fn capwap(data: &[u8]) -> Option<Step> {
    let word = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
    let preamble_type = word >> 24;
    let header_len = ((word >> 19) & 0x1F) as usize * 4;
    let wireless_binding = (word >> 9) & 0x1F;
    let native = (word >> 8) & 1 == 1;
    let fragment = (word >> 7) & 1 == 1;
    if preamble_type != 0 || fragment || header_len < 8 {
        return None;
    }
    match (native, wireless_binding) {
        (true, 1) => Some((Encap::Wifi, header_len)),
        (false, _) => Some((Encap::Ethernet, header_len)),
        _ => None,
    }
}

/// GRE (RFC 2784/2890, and PPTP's enhanced GRE, RFC 2637).
pub(crate) fn gre(data: &[u8]) -> Option<Step> {
    let flags = *data.first()?;
    let version_flags = *data.get(1)?;
    let protocol = u16::from_be_bytes([*data.get(2)?, *data.get(3)?]);
    let (checksum, routing, key, sequence) =
        (flags & 0x80 != 0, flags & 0x40 != 0, flags & 0x20 != 0, flags & 0x10 != 0);
    let len = match version_flags & 0x07 {
        0 if !routing => 4 + 4 * usize::from(checksum) + 4 * usize::from(key) + 4 * usize::from(sequence),
        1 if key && protocol == ETHERTYPE_PPP => {
            8 + 4 * usize::from(sequence) + 4 * usize::from(version_flags & 0x80 != 0)
        }
        _ => return None,
    };
    (data.len() >= len).then_some((Encap::EtherType(protocol), len))
}

fn byte(data: &[u8], at: usize, layer: &'static str) -> Result<u8, DecodeError> {
    data.get(at).copied().ok_or_else(|| malformed(layer, "truncated"))
}

fn be16(data: &[u8], at: usize, layer: &'static str) -> Result<u16, DecodeError> {
    Ok(u16::from_be_bytes([byte(data, at, layer)?, byte(data, at + 1, layer)?]))
}

pub(crate) fn malformed(layer: &'static str, reason: impl ToString) -> DecodeError {
    DecodeError::Malformed { layer, reason: reason.to_string() }
}
