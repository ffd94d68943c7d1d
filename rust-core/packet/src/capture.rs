//! pcap and pcapng reading. CONTRACT (owned by the packet crate; engine and CLI rely on it):
//!
//! ```ignore
//! let mut reader = CaptureReader::open(path)?;          // or CaptureReader::new(impl Read + Send + 'static)
//! while let Some(item) = reader.next_frame() {          // None at a clean end of file
//!     match item {
//!         Ok(frame) => { /* frame.number (1-based), frame.ts, frame.link, frame.data, frame.orig_len */ }
//!         Err(e) => { /* damaged or truncated: e says which packet; reading stops after an error */ }
//!     }
//!     for notice in reader.take_notices() { /* a damaged block skipped, reading went on */ }
//! }
//! for notice in reader.take_notices() { /* those met on the way to the end */ }
//! reader.bytes_read()                                    // for a progress bar
//! ```
//!
//! A damaged pcapng block whose framing is intact (its two length fields agree) is skipped with a
//! [`Notice`] and reading goes on; only damage that loses the framing (or a section header, which sets
//! the byte order) ends the capture.
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use crate::Timestamp;

mod ng;
#[cfg(test)]
pub(crate) mod tests;

use ng::{block_name, declared_block_len, Section, Step, PCAPNG_MAGIC};

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
    /// Linux netfilter log (LINKTYPE_NFLOG, 239): a header, then TLVs, one of which is the IP packet.
    Nflog,
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
            239 => LinkType::Nflog,
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
    /// Record `packet` (the 1-based number it would have had; 0: the file header), at byte `offset`,
    /// cannot be parsed and its end cannot be found.
    #[error("damaged capture at packet {packet} (offset {offset}): {reason}")]
    Damaged { packet: u64, offset: u64, reason: String },
}

/// A damaged block that was skipped (or read with a fallback); reading went on after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Byte offset of the block in the stream.
    pub offset: u64,
    /// What was wrong and what was done, in a few words.
    pub message: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.message)
    }
}

/// First read buffer; it doubles when a record does not fit, up to `MAX_BUFFER`.
const INITIAL_BUFFER: usize = 256 * 1024;
/// Largest record accepted; anything longer is treated as damage, which bounds memory.
const MAX_BUFFER: usize = 16 * 1024 * 1024;
/// Notices held until taken; past it they are only counted ([`CaptureReader::notice_count`]).
const MAX_PENDING_NOTICES: usize = 64;

/// Reads frames from a pcap or pcapng stream in constant memory.
pub struct CaptureReader {
    inner: Box<dyn PcapReaderIterator + Send>,
    format: Format,
    /// The last I/O error of the underlying reader (pcap-parser only reports that one happened).
    io_error: Arc<Mutex<Option<io::Error>>>,
    /// Packets met so far (returned, or skipped as damaged): the number of the last one.
    frames: u64,
    /// Bytes consumed before the last frame; the frame's own block is consumed on the next call.
    pending_consume: usize,
    /// Copy of the current frame: pcap-parser's blocks borrow its buffer, which `consume` may shift.
    frame_data: Vec<u8>,
    /// Size of pcap-parser's buffer, which grows for long records.
    capacity: usize,
    notices: Vec<Notice>,
    notice_count: u64,
    done: bool,
}

enum Format {
    Pcap { link: LinkType, nanos: bool },
    PcapNg(Section),
}

/// Whether the pcapng block at the start of the buffer can be stepped over.
enum Framing {
    /// Both length fields agree on this length, and the whole block is buffered.
    Intact(usize),
    /// The declared length is plausible but the block is not all buffered yet.
    NeedMore,
    /// No trustworthy length: the next block cannot be found.
    Lost,
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
                other => {
                    CaptureError::Damaged { packet: 0, offset: 0, reason: format!("file header: {}", describe(&other)) }
                }
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
            notices: Vec::new(),
            notice_count: 0,
            done: false,
        })
    }

    /// Bytes of the stream parsed so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        (self.inner.consumed() + self.pending_consume) as u64
    }

    /// The notices (damaged blocks skipped) since the last call, at most 64; the rest are only counted.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Notices raised so far, taken or not.
    pub fn notice_count(&self) -> u64 {
        self.notice_count
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
            let offset = self.inner.consumed() as u64;
            let buffered_before = self.inner.data().len();
            let block_type = self.peek_block_type();
            match self.inner.next() {
                Ok((len, block)) => match interpret(&mut self.format, block, &mut self.frame_data) {
                    Ok(Step::Skip) => self.inner.consume(len),
                    Ok(Step::Frame { ts, link, orig_len }) => {
                        self.pending_consume = len;
                        self.frames = next_packet;
                        return Ok(Some((ts, link, orig_len)));
                    }
                    Ok(Step::Notice(message)) => {
                        self.notice(offset, message);
                        self.inner.consume(len);
                    }
                    Err(reason) => {
                        if matches!(self.format, Format::Pcap { .. }) {
                            return Err(CaptureError::Damaged { packet: next_packet, offset, reason });
                        }
                        self.skip_block(offset, block_type, len, &reason);
                    }
                },
                Err(PcapError::Eof) => return Ok(None),
                Err(PcapError::UnexpectedEof) => return Err(CaptureError::Truncated { last_good: self.frames }),
                Err(PcapError::Incomplete(_)) => {
                    // pcap-parser also asks for more data when a block's content overruns its own length.
                    if let Some(big_endian) = self.pcapng_byte_order() {
                        if declared_block_len(self.inner.data(), big_endian).is_some_and(|len| len <= buffered_before) {
                            self.skip_damaged(offset, next_packet, "block content overruns its length".into())?;
                            continue;
                        }
                    }
                    self.refill()?;
                    if self.inner.data().len() == buffered_before && !self.inner.reader_exhausted() {
                        self.grow(next_packet, offset)?;
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    self.grow(next_packet, offset)?;
                    self.refill()?;
                }
                Err(PcapError::ReadError) => return Err(self.io_failure()),
                Err(other) => {
                    let reason = describe(&other);
                    if self.pcapng_byte_order().is_none() {
                        return Err(CaptureError::Damaged { packet: next_packet, offset, reason });
                    }
                    self.skip_damaged(offset, next_packet, reason)?;
                }
            }
        }
    }

    /// Steps over the damaged pcapng block at the start of the buffer if its framing is intact (reading
    /// more of it first if needed); otherwise the capture cannot go on.
    fn skip_damaged(&mut self, offset: u64, next_packet: u64, reason: String) -> Result<(), CaptureError> {
        let damaged = |reason| CaptureError::Damaged { packet: next_packet, offset, reason };
        loop {
            let big_endian = self.pcapng_byte_order().unwrap_or_default();
            let block_type = self.peek_block_type();
            match framing(self.inner.data(), big_endian) {
                // A section header sets the byte order of what follows: past a damaged one nothing is sure.
                Framing::Intact(_) if block_type == ng::SHB_TYPE => return Err(damaged(reason)),
                Framing::Intact(len) => {
                    self.skip_block(offset, block_type, len, &reason);
                    return Ok(());
                }
                Framing::NeedMore if !self.inner.reader_exhausted() => {
                    let before = self.inner.data().len();
                    self.refill()?;
                    if self.inner.data().len() == before {
                        self.grow(next_packet, offset)?;
                    }
                }
                Framing::NeedMore => return Err(CaptureError::Truncated { last_good: self.frames }),
                Framing::Lost => return Err(damaged(reason)),
            }
        }
    }

    /// Consumes one damaged pcapng block of intact framing and says so.
    fn skip_block(&mut self, offset: u64, block_type: u32, len: usize, reason: &str) {
        self.inner.consume(len);
        if let Format::PcapNg(section) = &mut self.format {
            section.skipped(block_type);
        }
        let what = if ng::is_packet_block(block_type) {
            // The damaged packet keeps its number, so later ones are numbered as Wireshark does.
            self.frames += 1;
            format!("packet {} ({} block, {len} bytes)", self.frames, block_name(block_type))
        } else {
            format!("{} block ({len} bytes)", block_name(block_type))
        };
        self.notice(offset, format!("skipped damaged {what}: {reason}"));
    }

    fn notice(&mut self, offset: u64, message: String) {
        self.notice_count += 1;
        if self.notices.len() < MAX_PENDING_NOTICES {
            self.notices.push(Notice { offset, message });
        }
    }

    /// The type of the pcapng block at the start of the buffer (0 when unknown or not pcapng).
    fn peek_block_type(&self) -> u32 {
        let raw = self.inner.data().get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok());
        match (raw, self.pcapng_byte_order()) {
            (Some(raw), Some(big_endian)) => ng::u32_in(raw, big_endian),
            _ => 0,
        }
    }

    /// The byte order of the current pcapng section, `None` for a pcap file.
    fn pcapng_byte_order(&self) -> Option<bool> {
        match &self.format {
            Format::PcapNg(section) => Some(section.big_endian),
            Format::Pcap { .. } => None,
        }
    }

    fn refill(&mut self) -> Result<(), CaptureError> {
        let failed = self.inner.refill().is_err();
        if failed || self.io_error.lock().is_ok_and(|e| e.is_some()) {
            return Err(self.io_failure());
        }
        Ok(())
    }

    fn grow(&mut self, next_packet: u64, offset: u64) -> Result<(), CaptureError> {
        let capacity = self.capacity.saturating_mul(2);
        if capacity > MAX_BUFFER {
            return Err(CaptureError::Damaged {
                packet: next_packet,
                offset,
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

/// Whether the pcapng block at the start of `data` has a length both of its length fields agree on.
fn framing(data: &[u8], big_endian: bool) -> Framing {
    let Some(len) = declared_block_len(data, big_endian) else { return Framing::NeedMore };
    if len < 12 || len % 4 != 0 || len > MAX_BUFFER {
        return Framing::Lost;
    }
    let Some(trailer) = data.get(len - 4..len).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
        return Framing::NeedMore;
    };
    if ng::u32_in(trailer, big_endian) as usize == len {
        Framing::Intact(len)
    } else {
        Framing::Lost
    }
}

/// pcap-parser's error in a few words: its own message carries the whole input buffer.
fn describe(error: &PcapError<&[u8]>) -> String {
    match error {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("malformed content ({})", kind.description())
        }
        PcapError::HeaderNotRecognized => "header not recognised".into(),
        other => other.to_string(),
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
        (Format::PcapNg(section), PcapBlockOwned::NG(block)) => ng::interpret(section, block, frame_data),
        _ => Err("block of the wrong file format".into()),
    }
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
