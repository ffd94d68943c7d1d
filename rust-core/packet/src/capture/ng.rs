//! What pcapng blocks mean to the reader: sections, interfaces, packet blocks and their timestamps.
use std::time::Duration;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;

use super::{copy_frame, LinkType};
use crate::Timestamp;

pub(super) const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
pub(super) const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 1;
/// Obsolete pcapng Packet Block, which pcap-parser only knows as an unknown block.
const OBSOLETE_PB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
/// Interfaces per pcapng section; more is treated as damage, which bounds memory.
const MAX_INTERFACES: usize = 4096;

/// What one block means to the reader.
pub(super) enum Step {
    Frame {
        ts: Timestamp,
        link: LinkType,
        orig_len: u32,
    },
    Skip,
    /// Read with a fallback; the notice says which.
    Notice(String),
}

/// What a pcapng section's blocks depend on.
#[derive(Default)]
pub(super) struct Section {
    pub(super) big_endian: bool,
    /// In order of their blocks; `None` for a damaged interface block (its packets cannot be decoded).
    interfaces: Vec<Option<Interface>>,
}

#[derive(Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second (`if_tsresol`), `None` when the option is out of range.
    units_per_sec: Option<u64>,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_secs: i64,
}

pub(super) fn interpret(section: &mut Section, block: Block<'_>, frame_data: &mut Vec<u8>) -> Result<Step, String> {
    match block {
        Block::SectionHeader(shb) => {
            section.big_endian = shb.big_endian();
            section.interfaces.clear();
            Ok(Step::Skip)
        }
        Block::InterfaceDescription(idb) => {
            let interface = Interface {
                link: LinkType::from_dlt(idb.linktype.0 as u32),
                snaplen: idb.snaplen,
                units_per_sec: units_per_sec(idb.if_tsresol),
                offset_secs: idb.if_tsoffset,
            };
            section.add(Some(interface))?;
            Ok(match interface.units_per_sec {
                Some(_) => Step::Skip,
                None => Step::Notice(format!(
                    "interface {} has if_tsresol {:#04x}, out of range: its packets are read with time 0",
                    section.interfaces.len() - 1,
                    idb.if_tsresol
                )),
            })
        }
        Block::EnhancedPacket(epb) => {
            let interface = section.interface(epb.if_id)?;
            let ts = interface.timestamp(epb.ts_high, epb.ts_low);
            copy_frame(frame_data, epb.packet_data());
            Ok(Step::Frame { ts, link: interface.link, orig_len: epb.origlen })
        }
        Block::SimplePacket(spb) => {
            let interface = section.interface(0)?;
            // An SPB's data is padded: the packet is the original length, capped by the snap length.
            let mut len = spb.origlen as usize;
            if interface.snaplen > 0 {
                len = len.min(interface.snaplen as usize);
            }
            copy_frame(frame_data, spb.data.get(..len).unwrap_or(spb.data));
            Ok(Step::Frame { ts: Timestamp::default(), link: interface.link, orig_len: spb.origlen })
        }
        Block::Unknown(unknown) if u32_in(unknown.block_type.to_le_bytes(), section.big_endian) == OBSOLETE_PB_TYPE => {
            obsolete_packet(section, unknown.data, frame_data)
        }
        _ => Ok(Step::Skip),
    }
}

/// The pre-EPB Packet Block: if_id u16, drops u16, ts high, ts low, caplen, origlen, data.
fn obsolete_packet(section: &Section, body: &[u8], frame_data: &mut Vec<u8>) -> Result<Step, String> {
    let field = |at: usize| {
        body.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(|b| u32_in(b, section.big_endian))
    };
    let (Some(head), Some(ts_high), Some(ts_low), Some(caplen), Some(orig_len)) =
        (field(0), field(4), field(8), field(12), field(16))
    else {
        return Err("packet block too short".into());
    };
    let if_id = if section.big_endian { head >> 16 } else { head & 0xFFFF };
    let interface = section.interface(if_id)?;
    let ts = interface.timestamp(ts_high, ts_low);
    let data = body.get(20..).unwrap_or_default();
    copy_frame(frame_data, data.get(..caplen as usize).unwrap_or(data));
    Ok(Step::Frame { ts, link: interface.link, orig_len })
}

impl Section {
    fn interface(&self, if_id: u32) -> Result<Interface, String> {
        match self.interfaces.get(if_id as usize) {
            Some(Some(interface)) => Ok(*interface),
            Some(None) => Err(format!("packet for interface {if_id}, whose description block was damaged")),
            None => Err(format!("packet for interface {if_id}, but the section describes {}", self.interfaces.len())),
        }
    }

    fn add(&mut self, interface: Option<Interface>) -> Result<(), String> {
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(format!("more than {MAX_INTERFACES} interfaces"));
        }
        self.interfaces.push(interface);
        Ok(())
    }

    /// A damaged block of this type was skipped: a lost interface keeps its number, so the packets of
    /// the interfaces after it still find theirs.
    pub(super) fn skipped(&mut self, block_type: u32) {
        if block_type == IDB_TYPE {
            let _ = self.add(None);
        }
    }
}

impl Interface {
    /// The packet's time; 0 when the interface's resolution is out of range.
    fn timestamp(&self, high: u32, low: u32) -> Timestamp {
        let Some(units) = self.units_per_sec else { return Timestamp::default() };
        let raw = (u64::from(high) << 32) | u64::from(low);
        let nanos = (u128::from(raw % units) * 1_000_000_000 / u128::from(units)) as u64;
        let since_offset = Duration::from_secs(raw / units) + Duration::from_nanos(nanos);
        let offset = Duration::from_secs(self.offset_secs.unsigned_abs());
        Timestamp(if self.offset_secs >= 0 {
            since_offset.saturating_add(offset)
        } else {
            since_offset.saturating_sub(offset)
        })
    }
}

/// `if_tsresol`: 10^-n seconds, or 2^-n when the high bit is set (pcap-parser 0.17 rejects the latter).
fn units_per_sec(tsresol: u8) -> Option<u64> {
    let exponent = u32::from(tsresol & 0x7F);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent)
    }
}

/// Whether blocks of this type carry a packet (and so a packet number).
pub(super) fn is_packet_block(block_type: u32) -> bool {
    matches!(block_type, OBSOLETE_PB_TYPE | SPB_TYPE | EPB_TYPE)
}

/// A block type's name, for notices.
pub(super) fn block_name(block_type: u32) -> String {
    match block_type {
        SHB_TYPE => "section header".into(),
        IDB_TYPE => "interface description".into(),
        OBSOLETE_PB_TYPE => "packet".into(),
        SPB_TYPE => "simple packet".into(),
        4 => "name resolution".into(),
        5 => "interface statistics".into(),
        EPB_TYPE => "enhanced packet".into(),
        0x0000_0BAD | 0x4000_0BAD => "custom".into(),
        10 => "decryption secrets".into(),
        other => format!("type {other:#010x}"),
    }
}

pub(super) fn u32_in(bytes: [u8; 4], big_endian: bool) -> u32 {
    if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    }
}

/// Length field of the pcapng block at the start of `data`.
pub(super) fn declared_block_len(data: &[u8], big_endian: bool) -> Option<usize> {
    let bytes = <[u8; 4]>::try_from(data.get(4..8)?).ok()?;
    Some(u32_in(bytes, big_endian) as usize)
}
