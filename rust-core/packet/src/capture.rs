//! pcap and pcapng reading. CONTRACT (owned by the packet crate; engine and CLI rely on it):
//!
//! ```ignore
//! let mut reader = CaptureReader::open(path)?;          // or CaptureReader::new(impl Read + 'static)
//! while let Some(item) = reader.next_frame() {          // None at a clean end of file
//!     match item {
//!         Ok(frame) => { /* frame.number (1-based), frame.ts, frame.link, frame.data, frame.orig_len */ }
//!         Err(e) => { /* damaged or truncated: e says which packet; reading stops after an error */ }
//!     }
//! }
//! reader.bytes_read()                                    // for a progress bar
//! ```
use crate::Timestamp;

/// Link layer of a frame, from the pcap header or the pcapng interface block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    Ethernet,
    /// Bare IP: DLT 101 (raw), 12/14 on some systems; version from the first nibble.
    RawIp,
    Ipv4,
    Ipv6,
    LinuxSll,
    LinuxSll2,
    /// BSD loopback (DLT 0, host-order family) and OpenBSD loop (DLT 108, network order).
    Null,
    Loop,
    Ppp,
    /// Any other DLT value: frames are skipped and counted.
    Other(u32),
}

/// One captured frame; `data` borrows the reader's buffer until the next call.
#[derive(Debug)]
pub struct Frame<'a> {
    /// 1-based position in the file, as Wireshark numbers packets.
    pub number: u64,
    pub ts: Timestamp,
    pub link: LinkType,
    pub data: &'a [u8],
    /// Length on the wire (data may be shorter when the capture used a snap length).
    pub orig_len: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read capture: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng file")]
    UnknownFormat,
    #[error("capture truncated after packet {last_good}")]
    Truncated { last_good: u64 },
    #[error("damaged capture at packet {packet}: {reason}")]
    Damaged { packet: u64, reason: String },
}

/// Reads frames from a pcap or pcapng stream (placeholder: implemented by the packet crate's owner).
pub struct CaptureReader {
    _private: (),
}
