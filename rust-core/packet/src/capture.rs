//! pcap and pcapng reading. CONTRACT (owned by the packet crate; engine and CLI rely on it):
//!
//! ```ignore
//! let mut reader = CaptureReader::open(path)?;          // or CaptureReader::new(impl Read + Send + 'static)
//! while let Some(item) = reader.next_frame() {          // None at a clean end of file
//!     match item {
//!         Ok(frame) => { /* frame.number (1-based), frame.ts, frame.link, frame.data, frame.orig_len */ }
//!         Err(e) => { /* damaged or truncated: e says which packet; reading stops after an error */ }
//!     }
//! }
//! reader.bytes_read()                                    // for a progress bar
//! ```
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use crate::Timestamp;

/// Link layer of a frame, from the pcap header or the pcapng interface block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II / 802.3 (DLT 1), with VLAN, QinQ, MPLS and PPPoE inside.
    Ethernet,
    /// Bare IP: DLT 101 (raw), 12/14 on some systems; version from the first nibble.
    RawIp,
    /// Bare IPv4 (LINKTYPE_IPV4, 228).
    Ipv4,
    /// Bare IPv6 (LINKTYPE_IPV6, 229).
    Ipv6,
    /// Linux cooked capture v1 (113).
    LinuxSll,
    /// Linux cooked capture v2 (276).
    LinuxSll2,
    /// BSD loopback (DLT 0, family in the capturing host's byte order).
    Null,
    /// OpenBSD loopback (DLT 108); decoded like `Null`, whose family may be in either byte order.
    Loop,
    /// PPP (DLT 9), PPP in HDLC framing (50) and Cisco HDLC (104).
    Ppp,
    /// Any other DLT value: frames are skipped and counted.
    Other(u32),
}

impl LinkType {
    /// Maps a pcap/pcapng link-type number (the FCS bits of the pcap header masked off) to a variant.
    pub fn from_dlt(dlt: u32) -> Self {
        match dlt & 0xFFFF {
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            9 | 50 | 104 => LinkType::Ppp,
            other => LinkType::Other(other),
        }
    }
}

/// One captured frame; `data` borrows the reader's buffer until the next call.
#[derive(Debug)]
pub struct Frame<'a> {
    /// 1-based position in the file, as Wireshark numbers packets.
    pub number: u64,
    /// Capture time (pcapng: with the interface's resolution and offset; zero for a Simple Packet Block).
    pub ts: Timestamp,
    /// Link layer of the interface the frame was captured on.
    pub link: LinkType,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// Length on the wire (data may be shorter when the capture used a snap length).
    pub orig_len: u32,
}

/// Why a capture cannot be read (further).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file or stream failed to read.
    #[error("cannot read capture: {0}")]
    Io(#[from] std::io::Error),
    /// The first bytes are no pcap or pcapng magic number.
    #[error("not a pcap or pcapng file")]
    UnknownFormat,
    /// The file ends inside a record; `last_good` frames were read whole (0: none).
    #[error("capture truncated after packet {last_good}")]
    Truncated { last_good: u64 },
    /// Record `packet` (the 1-based number it would have had; 0: the file header) cannot be parsed.
    #[error("damaged capture at packet {packet}: {reason}")]
    Damaged { packet: u64, reason: String },
}

/// First read buffer; it doubles when a record does not fit, up to `MAX_BUFFER`.
const INITIAL_BUFFER: usize = 256 * 1024;
/// Largest record accepted; anything longer is treated as damage, which bounds memory.
const MAX_BUFFER: usize = 16 * 1024 * 1024;
/// Interfaces per pcapng section; more is treated as damage, which bounds memory.
const MAX_INTERFACES: usize = 4096;

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
/// Obsolete pcapng Packet Block, which pcap-parser only knows as an unknown block.
const OBSOLETE_PB_TYPE: u32 = 2;

/// Reads frames from a pcap or pcapng stream in constant memory.
pub struct CaptureReader {
    inner: Box<dyn PcapReaderIterator + Send>,
    format: Format,
    /// The last I/O error of the underlying reader (pcap-parser only reports that one happened).
    io_error: Arc<Mutex<Option<io::Error>>>,
    /// Frames returned so far, i.e. the number of the last good frame.
    frames: u64,
    /// Bytes consumed before the last frame; the frame's own block is consumed on the next call.
    pending_consume: usize,
    /// Copy of the current frame: pcap-parser's blocks borrow its buffer, which `consume` may shift.
    frame_data: Vec<u8>,
    /// Size of pcap-parser's buffer, which grows for long records.
    capacity: usize,
    done: bool,
}

enum Format {
    Pcap { link: LinkType, nanos: bool },
    PcapNg(Section),
}

/// What a pcapng section's blocks depend on.
#[derive(Default)]
struct Section {
    big_endian: bool,
    interfaces: Vec<Interface>,
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

/// What one block means to the reader.
enum Step {
    Frame { ts: Timestamp, link: LinkType, orig_len: u32 },
    Skip,
}

impl CaptureReader {
    /// Opens a pcap or pcapng file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Self::new(File::open(path)?)
    }

    /// Reads a pcap or pcapng stream (file, pipe, socket); the format is detected from its magic.
    pub fn new(reader: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        let io_error = Arc::new(Mutex::new(None));
        let mut reader = FillReader { inner: reader, error: Arc::clone(&io_error) };
        let mut magic = [0u8; 4];
        let got = reader.read(&mut magic).map_err(|e| take_error(&io_error).unwrap_or(e))?;
        let Some(is_pcapng) = detect(magic.get(..got).unwrap_or_default()) else {
            return Err(CaptureError::UnknownFormat);
        };
        // Put the magic back in front so pcap-parser sees the whole stream.
        let stream = FillReader { inner: io::Cursor::new(magic).chain(reader), error: Arc::clone(&io_error) };
        let header_error = |e: PcapError<&[u8]>| match take_error(&io_error) {
            Some(io) => CaptureError::Io(io),
            None => match e {
                PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
                    CaptureError::Truncated { last_good: 0 }
                }
                other => CaptureError::Damaged { packet: 0, reason: format!("file header: {other}") },
            },
        };
        let (inner, format): (Box<dyn PcapReaderIterator + Send>, Format) = if is_pcapng {
            let r = PcapNGReader::new(INITIAL_BUFFER, stream).map_err(header_error)?;
            (Box::new(r), Format::PcapNg(Section::default()))
        } else {
            let r = LegacyPcapReader::new(INITIAL_BUFFER, stream).map_err(header_error)?;
            (Box::new(r), Format::Pcap { link: LinkType::Other(u32::MAX), nanos: false })
        };
        Ok(CaptureReader {
            inner,
            format,
            io_error,
            frames: 0,
            pending_consume: 0,
            frame_data: Vec::new(),
            capacity: INITIAL_BUFFER,
            done: false,
        })
    }

    /// Bytes of the stream parsed so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        (self.inner.consumed() + self.pending_consume) as u64
    }

    /// The next frame, `None` at a clean end of the stream; after an `Err`, always `None`.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        if self.pending_consume > 0 {
            self.inner.consume(self.pending_consume);
            self.pending_consume = 0;
        }
        match self.advance() {
            Ok(Some((ts, link, orig_len))) => {
                Some(Ok(Frame { number: self.frames, ts, link, data: &self.frame_data, orig_len }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Parses blocks until a frame (copied to `frame_data`) or the end of the stream.
    fn advance(&mut self) -> Result<Option<(Timestamp, LinkType, u32)>, CaptureError> {
        loop {
            let next_packet = self.frames + 1;
            let buffered_before = self.inner.data().len();
            match self.inner.next() {
                Ok((len, block)) => {
                    let step = interpret(&mut self.format, block, &mut self.frame_data)
                        .map_err(|reason| CaptureError::Damaged { packet: next_packet, reason })?;
                    match step {
                        Step::Skip => self.inner.consume(len),
                        Step::Frame { ts, link, orig_len } => {
                            self.pending_consume = len;
                            self.frames = next_packet;
                            return Ok(Some((ts, link, orig_len)));
                        }
                    }
                }
                Err(PcapError::Eof) => return Ok(None),
                Err(PcapError::UnexpectedEof) => return Err(CaptureError::Truncated { last_good: self.frames }),
                Err(PcapError::Incomplete(_)) => {
                    if let Format::PcapNg(section) = &self.format {
                        // pcap-parser asks for more data when a block's content overruns its own length.
                        if declared_block_len(self.inner.data(), section.big_endian)
                            .is_some_and(|len| len <= buffered_before)
                        {
                            return Err(CaptureError::Damaged {
                                packet: next_packet,
                                reason: "block content overruns its length".into(),
                            });
                        }
                    }
                    self.refill()?;
                    if self.inner.data().len() == buffered_before && !self.inner.reader_exhausted() {
                        self.grow(next_packet)?;
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    self.grow(next_packet)?;
                    self.refill()?;
                }
                Err(PcapError::ReadError) => return Err(self.io_failure()),
                Err(other) => {
                    return Err(CaptureError::Damaged { packet: next_packet, reason: other.to_string() });
                }
            }
        }
    }

    fn refill(&mut self) -> Result<(), CaptureError> {
        let failed = self.inner.refill().is_err();
        if failed || self.io_error.lock().is_ok_and(|e| e.is_some()) {
            return Err(self.io_failure());
        }
        Ok(())
    }

    fn grow(&mut self, next_packet: u64) -> Result<(), CaptureError> {
        let capacity = self.capacity.saturating_mul(2);
        if capacity > MAX_BUFFER {
            return Err(CaptureError::Damaged {
                packet: next_packet,
                reason: format!("record longer than {MAX_BUFFER} bytes"),
            });
        }
        self.inner.grow(capacity);
        self.capacity = capacity;
        Ok(())
    }

    fn io_failure(&self) -> CaptureError {
        CaptureError::Io(take_error(&self.io_error).unwrap_or_else(|| io::Error::other("read failed")))
    }
}

/// `Some(true)` for pcapng, `Some(false)` for pcap (either byte order, micro/nanosecond, modified).
fn detect(magic: &[u8]) -> Option<bool> {
    match magic {
        m if m == PCAPNG_MAGIC => Some(true),
        [0xA1, 0xB2, 0xC3, 0xD4]
        | [0xD4, 0xC3, 0xB2, 0xA1]
        | [0xA1, 0xB2, 0x3C, 0x4D]
        | [0x4D, 0x3C, 0xB2, 0xA1]
        | [0xA1, 0xB2, 0xCD, 0x34]
        | [0x34, 0xCD, 0xB2, 0xA1] => Some(false),
        _ => None,
    }
}

/// Applies one block to the reader state; copies a frame's bytes into `frame_data`.
fn interpret(format: &mut Format, block: PcapBlockOwned<'_>, frame_data: &mut Vec<u8>) -> Result<Step, String> {
    match (format, block) {
        (Format::Pcap { link, nanos }, PcapBlockOwned::LegacyHeader(header)) => {
            *link = LinkType::from_dlt(header.network.0 as u32);
            *nanos = header.is_nanosecond_precision();
            Ok(Step::Skip)
        }
        (Format::Pcap { link, nanos }, PcapBlockOwned::Legacy(record)) => {
            let frac = if *nanos { u64::from(record.ts_usec) } else { u64::from(record.ts_usec) * 1000 };
            let ts = Timestamp(Duration::from_secs(u64::from(record.ts_sec)) + Duration::from_nanos(frac));
            copy_frame(frame_data, record.data);
            Ok(Step::Frame { ts, link: *link, orig_len: record.origlen })
        }
        (Format::PcapNg(section), PcapBlockOwned::NG(block)) => interpret_ng(section, block, frame_data),
        _ => Err("block of the wrong file format".into()),
    }
}

fn interpret_ng(section: &mut Section, block: Block<'_>, frame_data: &mut Vec<u8>) -> Result<Step, String> {
    match block {
        Block::SectionHeader(shb) => {
            section.big_endian = shb.big_endian();
            section.interfaces.clear();
            Ok(Step::Skip)
        }
        Block::InterfaceDescription(idb) => {
            if section.interfaces.len() >= MAX_INTERFACES {
                return Err(format!("more than {MAX_INTERFACES} interfaces"));
            }
            section.interfaces.push(Interface {
                link: LinkType::from_dlt(idb.linktype.0 as u32),
                snaplen: idb.snaplen,
                units_per_sec: units_per_sec(idb.if_tsresol),
                offset_secs: idb.if_tsoffset,
            });
            Ok(Step::Skip)
        }
        Block::EnhancedPacket(epb) => {
            let interface = section.interface(epb.if_id)?;
            let ts = interface.timestamp(epb.ts_high, epb.ts_low)?;
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
    let ts = interface.timestamp(ts_high, ts_low)?;
    let data = body.get(20..).unwrap_or_default();
    copy_frame(frame_data, data.get(..caplen as usize).unwrap_or(data));
    Ok(Step::Frame { ts, link: interface.link, orig_len })
}

impl Section {
    fn interface(&self, if_id: u32) -> Result<Interface, String> {
        self.interfaces
            .get(if_id as usize)
            .copied()
            .ok_or_else(|| format!("packet for interface {if_id}, but the section describes {}", self.interfaces.len()))
    }
}

impl Interface {
    fn timestamp(&self, high: u32, low: u32) -> Result<Timestamp, String> {
        let units = self.units_per_sec.ok_or("interface has an invalid if_tsresol")?;
        let raw = (u64::from(high) << 32) | u64::from(low);
        let nanos = (u128::from(raw % units) * 1_000_000_000 / u128::from(units)) as u64;
        let since_offset = Duration::from_secs(raw / units) + Duration::from_nanos(nanos);
        let offset = Duration::from_secs(self.offset_secs.unsigned_abs());
        let ts = if self.offset_secs >= 0 {
            since_offset.saturating_add(offset)
        } else {
            since_offset.saturating_sub(offset)
        };
        Ok(Timestamp(ts))
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

fn u32_in(bytes: [u8; 4], big_endian: bool) -> u32 {
    if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    }
}

/// Length field of the pcapng block at the start of `data`.
fn declared_block_len(data: &[u8], big_endian: bool) -> Option<usize> {
    let bytes = <[u8; 4]>::try_from(data.get(4..8)?).ok()?;
    Some(u32_in(bytes, big_endian) as usize)
}

fn copy_frame(frame_data: &mut Vec<u8>, data: &[u8]) {
    frame_data.clear();
    frame_data.extend_from_slice(data);
}

fn take_error(slot: &Mutex<Option<io::Error>>) -> Option<io::Error> {
    slot.lock().ok().and_then(|mut e| e.take())
}

/// Fills the whole buffer unless the stream ends: pcap-parser reads once per refill and takes a
/// short read (a pipe) for missing data. Keeps the I/O error, which pcap-parser discards.
struct FillReader<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for FillReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let Some(rest) = buf.get_mut(filled..) else { break };
            match self.inner.read(rest) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let kind = e.kind();
                    // The innermost reader's error is the cause; keep it over wrappers' copies.
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(e);
                    }
                    return Err(io::Error::from(kind));
                }
            }
        }
        Ok(filled)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A classic pcap file: little-endian, microseconds, or big-endian, nanoseconds.
    pub(crate) fn pcap(big_endian: bool, nanos: bool, dlt: u32, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
        let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let u16b = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut out = Vec::new();
        out.extend(u32b(if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }));
        out.extend(u16b(2));
        out.extend(u16b(4));
        out.extend(u32b(0));
        out.extend(u32b(0));
        out.extend(u32b(65535));
        out.extend(u32b(dlt));
        for &(secs, frac, data, orig_len) in records {
            out.extend(u32b(secs));
            out.extend(u32b(frac));
            out.extend(u32b(data.len() as u32));
            out.extend(u32b(orig_len));
            out.extend(data);
        }
        out
    }

    /// pcapng block: type, total length, body padded to 4 bytes, total length.
    fn block(big_endian: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
        let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        let mut out = Vec::new();
        out.extend(u32b(block_type));
        out.extend(u32b(total));
        out.extend(body);
        out.resize(8 + padded, 0);
        out.extend(u32b(total));
        out
    }

    struct Ng {
        big_endian: bool,
        out: Vec<u8>,
    }

    impl Ng {
        fn u32b(&self, v: u32) -> [u8; 4] {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn u16b(&self, v: u16) -> [u8; 2] {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn section(mut self, big_endian: bool) -> Self {
            self.big_endian = big_endian;
            let mut body = Vec::new();
            body.extend(self.u32b(0x1A2B_3C4D));
            body.extend(self.u16b(1));
            body.extend(self.u16b(0));
            body.extend([0xFF; 8]);
            let b = block(big_endian, 0x0A0D_0D0A, &body);
            self.out.extend(b);
            self
        }
        /// Interface with optional if_tsresol and if_tsoffset options.
        fn interface(mut self, dlt: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<i64>) -> Self {
            let mut body = Vec::new();
            body.extend(self.u16b(dlt));
            body.extend(self.u16b(0));
            body.extend(self.u32b(snaplen));
            if let Some(r) = tsresol {
                body.extend(self.u16b(9));
                body.extend(self.u16b(1));
                body.extend([r, 0, 0, 0]);
            }
            if let Some(o) = tsoffset {
                body.extend(self.u16b(14));
                body.extend(self.u16b(8));
                body.extend(if self.big_endian { o.to_be_bytes() } else { o.to_le_bytes() });
            }
            if tsresol.is_some() || tsoffset.is_some() {
                body.extend([0; 4]); // opt_endofopt
            }
            let b = block(self.big_endian, 1, &body);
            self.out.extend(b);
            self
        }
        fn epb(mut self, if_id: u32, ts: u64, data: &[u8], orig_len: u32) -> Self {
            let mut body = Vec::new();
            body.extend(self.u32b(if_id));
            body.extend(self.u32b((ts >> 32) as u32));
            body.extend(self.u32b(ts as u32));
            body.extend(self.u32b(data.len() as u32));
            body.extend(self.u32b(orig_len));
            body.extend(data);
            let b = block(self.big_endian, 6, &body);
            self.out.extend(b);
            self
        }
        fn spb(mut self, data: &[u8]) -> Self {
            let mut body = Vec::new();
            body.extend(self.u32b(data.len() as u32));
            body.extend(data);
            let b = block(self.big_endian, 3, &body);
            self.out.extend(b);
            self
        }
        fn obsolete_pb(mut self, if_id: u16, ts: u64, data: &[u8]) -> Self {
            let mut body = Vec::new();
            body.extend(self.u16b(if_id));
            body.extend(self.u16b(0));
            body.extend(self.u32b((ts >> 32) as u32));
            body.extend(self.u32b(ts as u32));
            body.extend(self.u32b(data.len() as u32));
            body.extend(self.u32b(data.len() as u32));
            body.extend(data);
            let b = block(self.big_endian, 2, &body);
            self.out.extend(b);
            self
        }
        /// A name resolution block with only opt_endofopt: carries no packet.
        fn skipped_block(mut self) -> Self {
            let b = block(self.big_endian, 4, &[0; 4]);
            self.out.extend(b);
            self
        }
    }

    fn ng() -> Ng {
        Ng { big_endian: false, out: Vec::new() }
    }

    /// Every interesting pcapng feature in one file: 5 frames.
    pub(crate) fn sample_pcapng() -> Vec<u8> {
        ng().section(false)
            .interface(1, 0, None, None)
            .interface(101, 0, Some(9), Some(100))
            .skipped_block()
            .epb(0, 1_700_000_000_123_456, b"ethernet frame", 14)
            .epb(1, 5_000_000_007, b"raw ip", 60)
            .spb(b"simple")
            .obsolete_pb(1, 1_000_000_000, b"old")
            .section(true)
            .interface(113, 4, Some(0x80 | 10), None)
            .epb(0, 3 * 1024 + 512, b"big endian", 10)
            .out
    }

    /// A frame as owned values: number, time, link, data, original length.
    type OwnedFrame = (u64, Timestamp, LinkType, Vec<u8>, u32);

    fn read_all(bytes: Vec<u8>) -> (Vec<OwnedFrame>, Option<CaptureError>) {
        let mut reader = match CaptureReader::new(io::Cursor::new(bytes)) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut frames = Vec::new();
        while let Some(item) = reader.next_frame() {
            match item {
                Ok(f) => frames.push((f.number, f.ts, f.link, f.data.to_vec(), f.orig_len)),
                Err(e) => return (frames, Some(e)),
            }
        }
        assert!(reader.next_frame().is_none(), "reading stops at the end");
        (frames, None)
    }

    fn ts(secs: u64, nanos: u32) -> Timestamp {
        Timestamp(Duration::new(secs, nanos))
    }

    #[test]
    fn reads_pcap_in_both_byte_orders_and_resolutions() {
        let le = pcap(false, false, 1, &[(1_700_000_000, 123_456, b"abc", 60), (1_700_000_001, 0, b"de", 2)]);
        let (frames, err) = read_all(le);
        assert!(err.is_none());
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], (1, ts(1_700_000_000, 123_456_000), LinkType::Ethernet, b"abc".to_vec(), 60));
        assert_eq!(frames[1].0, 2);

        let be = pcap(true, true, 113, &[(7, 999_999_999, b"xyz", 3)]);
        let (frames, err) = read_all(be);
        assert!(err.is_none());
        assert_eq!(frames, vec![(1, ts(7, 999_999_999), LinkType::LinuxSll, b"xyz".to_vec(), 3)]);
    }

    #[test]
    fn reads_pcapng_sections_interfaces_and_all_packet_blocks() {
        let (frames, err) = read_all(sample_pcapng());
        assert!(err.is_none(), "{err:?}");
        let expected = vec![
            (1, ts(1_700_000_000, 123_456_000), LinkType::Ethernet, b"ethernet frame".to_vec(), 14),
            // if_tsresol 9 (ns) and if_tsoffset 100 s
            (2, ts(105, 7), LinkType::RawIp, b"raw ip".to_vec(), 60),
            // SPB: interface 0, no timestamp
            (3, Timestamp::default(), LinkType::Ethernet, b"simple".to_vec(), 6),
            (4, ts(101, 0), LinkType::RawIp, b"old".to_vec(), 3),
            // second section, big-endian, 2^-10 s resolution, snap length 4 (EPB keeps its caplen)
            (5, ts(3, 500_000_000), LinkType::LinuxSll, b"big endian".to_vec(), 10),
        ];
        assert_eq!(frames, expected);
    }

    #[test]
    fn simple_packet_block_is_cut_to_the_snap_length() {
        let file = ng().section(false).interface(1, 4, None, None).spb(b"0123456789").out;
        let (frames, err) = read_all(file);
        assert!(err.is_none());
        assert_eq!(frames[0].3, b"0123".to_vec());
        assert_eq!(frames[0].4, 10);
    }

    #[test]
    fn packet_for_an_undescribed_interface_is_damage() {
        let file = ng().section(false).interface(1, 0, None, None).epb(0, 0, b"ok", 2).epb(3, 0, b"bad", 3).out;
        let (frames, err) = read_all(file);
        assert_eq!(frames.len(), 1);
        assert!(matches!(err, Some(CaptureError::Damaged { packet: 2, .. })), "{err:?}");
        // A new section forgets the interfaces of the previous one.
        let file = ng().section(false).interface(1, 0, None, None).section(false).epb(0, 0, b"x", 1).out;
        assert!(matches!(read_all(file).1, Some(CaptureError::Damaged { packet: 1, .. })));
    }

    #[test]
    fn block_whose_content_overruns_its_length_is_damage_not_truncation() {
        let mut file = ng().section(false).interface(1, 0, None, None).epb(0, 0, b"abcd", 4).out;
        // caplen (at 20 bytes into the EPB) claims more than the block holds.
        let epb = file.len() - 48;
        file[epb + 20..epb + 24].copy_from_slice(&200u32.to_le_bytes());
        file.extend(ng().section(false).out);
        let (frames, err) = read_all(file);
        assert!(frames.is_empty());
        assert!(matches!(err, Some(CaptureError::Damaged { packet: 1, .. })), "{err:?}");
    }

    #[test]
    fn reader_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<CaptureReader>();
    }

    #[test]
    fn rejects_what_is_not_a_capture() {
        assert!(matches!(read_all(Vec::new()).1, Some(CaptureError::UnknownFormat)));
        assert!(matches!(read_all(b"GET / HTTP/1.1\r\n".to_vec()).1, Some(CaptureError::UnknownFormat)));
        assert!(matches!(CaptureReader::open(Path::new("/nonexistent/capture.pcap")), Err(CaptureError::Io(_))));
    }

    #[test]
    fn reads_records_larger_than_the_initial_buffer() {
        let big = vec![0x5A; INITIAL_BUFFER * 3];
        let (frames, err) =
            read_all(pcap(false, false, 1, &[(1, 0, b"small", 5), (2, 0, &big, 1), (3, 0, b"after", 5)]));
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[1].3.len(), big.len());
        assert_eq!(frames[2].3, b"after".to_vec());
    }

    #[test]
    fn absurd_record_length_is_damage_within_bounded_memory() {
        let mut file = pcap(false, false, 1, &[(1, 0, b"ok", 2)]);
        file.extend(1u32.to_le_bytes());
        file.extend(0u32.to_le_bytes());
        file.extend(0xFFFF_FFF0u32.to_le_bytes());
        file.extend(0xFFFF_FFF0u32.to_le_bytes());
        file.extend(vec![0u8; MAX_BUFFER + 1024]);
        let (frames, err) = read_all(file);
        assert_eq!(frames.len(), 1);
        assert!(matches!(err, Some(CaptureError::Damaged { packet: 2, .. })), "{err:?}");
    }

    /// Returns one byte per read, like a slow pipe.
    struct Trickle(io::Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let one = buf.len().min(1);
            self.0.read(&mut buf[..one])
        }
    }

    #[test]
    fn short_reads_are_not_truncation() {
        let bytes = sample_pcapng();
        let len = bytes.len() as u64;
        let mut reader = CaptureReader::new(Trickle(io::Cursor::new(bytes))).expect("pcapng");
        let mut count = 0;
        while let Some(item) = reader.next_frame() {
            item.expect("frame");
            count += 1;
        }
        assert_eq!(count, 5);
        assert_eq!(reader.bytes_read(), len);
    }

    /// Fails after the header, as a disk error would.
    struct Failing(io::Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.position() >= 24 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(24 - self.0.position() as usize);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn read_errors_are_reported_with_their_cause() {
        let bytes = pcap(false, false, 1, &[(1, 0, b"abc", 3)]);
        let err = match CaptureReader::new(Failing(io::Cursor::new(bytes))) {
            Err(e) => e,
            Ok(mut r) => match r.next_frame() {
                Some(Err(e)) => e,
                other => panic!("expected an error, got {other:?}"),
            },
        };
        assert!(err.to_string().contains("disk on fire"), "{err}");
    }

    /// Cuts a file at every byte: never a panic, the frames before the cut are all returned, and
    /// the error (if the cut is not between records) names the last good one.
    fn check_every_truncation(file: &[u8], clean_ends: &[usize], frame_ends: &[usize]) {
        for cut in 0..=file.len() {
            let (frames, err) = read_all(file[..cut].to_vec());
            let whole = frame_ends.iter().filter(|&&end| end <= cut).count() as u64;
            assert_eq!(frames.len() as u64, whole, "cut at {cut}");
            match err {
                None => assert!(clean_ends.contains(&cut), "cut at {cut} read as a clean end"),
                Some(CaptureError::Truncated { last_good }) => assert_eq!(last_good, whole, "cut at {cut}"),
                Some(CaptureError::UnknownFormat) => assert!(cut < 4, "cut at {cut}"),
                Some(other) => panic!("cut at {cut}: {other}"),
            }
        }
    }

    #[test]
    fn pcap_truncated_at_every_offset_reports_last_good_packet() {
        let file = pcap(false, false, 1, &[(1, 0, b"first", 5), (2, 0, b"second!", 7), (3, 0, b"", 0)]);
        let frame_ends = [24 + 21, 24 + 21 + 23, 24 + 21 + 23 + 16];
        assert_eq!(file.len(), frame_ends[2]);
        check_every_truncation(&file, &[24, frame_ends[0], frame_ends[1], frame_ends[2]], &frame_ends);
    }

    #[test]
    fn pcapng_truncated_at_every_offset_reports_last_good_packet() {
        let file = sample_pcapng();
        let mut block_ends = Vec::new();
        let mut at = 0;
        let mut big_endian = false;
        while at < file.len() {
            if file[at..at + 4] == PCAPNG_MAGIC {
                big_endian = file[at + 8..at + 12] == [0x1A, 0x2B, 0x3C, 0x4D];
            }
            at += declared_block_len(&file[at..], big_endian).expect("length");
            block_ends.push(at);
        }
        // SHB, IDB, IDB, NRB, EPB, EPB, SPB, PB, SHB, IDB, EPB: frames end blocks 5-8 and 11.
        assert_eq!(block_ends.len(), 11);
        let frame_ends = [block_ends[4], block_ends[5], block_ends[6], block_ends[7], block_ends[10]];
        check_every_truncation(&file, &block_ends, &frame_ends);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ng in any::<bool>()) {
            let mut file = if ng { PCAPNG_MAGIC.to_vec() } else { vec![0xD4, 0xC3, 0xB2, 0xA1] };
            file.extend(bytes);
            let _ = read_all(file);
        }

        #[test]
        fn mutated_captures_never_panic(
            ng in any::<bool>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let mut file = if ng {
                sample_pcapng()
            } else {
                pcap(false, true, 1, &[(1, 0, b"first", 5), (2, 0, b"second!", 7)])
            };
            for (at, value) in edits {
                let i = at.index(file.len());
                file[i] = value;
            }
            let _ = read_all(file);
        }
    }
}
