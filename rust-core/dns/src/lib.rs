//! DNS for inspection: a lenient message parser, DNS-over-TCP framing, a cheap "is this DNS?" check
//! and a bounded IP → name cache fed from answers.
//!
//! The parser is hand-written rather than built on `simple-dns` or `hickory-proto`: both reject the
//! whole message when one record is damaged, which loses the query name an analyzer needs most.

mod cache;
mod detect;
mod message;
mod svcb;
mod tcp;
mod wire;

pub use cache::{CachedName, NameCache};
pub use detect::looks_like_dns;
pub use message::{parse_message, Header, Message, Question, Record, RecordData, RecordType};
pub use svcb::SvcbData;
pub use tcp::{tcp_messages, TcpMessages};

/// Why a DNS message (or a part of it) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// Fewer than the 12 bytes of a DNS header.
    #[error("message of {len} bytes is shorter than a DNS header")]
    TooShort {
        /// Length of the input.
        len: usize,
    },
    /// A field runs past the end of the message or of its record data.
    #[error("truncated at offset {offset}")]
    Truncated {
        /// Where the missing bytes were expected.
        offset: usize,
    },
    /// A name longer than 255 octets on the wire (RFC 1035 §2.3.4).
    #[error("name at offset {offset} is longer than 255 octets")]
    NameTooLong {
        /// Where the name starts.
        offset: usize,
    },
    /// A compression pointer that does not point strictly backwards, or too many of them.
    #[error("bad compression pointer at offset {offset}")]
    BadPointer {
        /// Where the pointer is.
        offset: usize,
    },
    /// A label type other than a plain label or a pointer (RFC 6891 §5 retired the others).
    #[error("unsupported label type {byte:#04x} at offset {offset}")]
    BadLabelType {
        /// Where the label starts.
        offset: usize,
        /// The label's first byte.
        byte: u8,
    },
    /// Record data whose length or layout does not fit its type.
    #[error("malformed {rtype} record data at offset {offset}")]
    BadRecordData {
        /// The record's type.
        rtype: RecordType,
        /// Where the record data starts.
        offset: usize,
    },
}
