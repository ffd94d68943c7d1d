//! The frames a client Initial may carry (RFC 9000 §17.2.2): PADDING, PING, ACK, CRYPTO and
//! CONNECTION_CLOSE; CRYPTO data is reassembled by offset into a bounded buffer.

use std::ops::Range;

use phonehome_tls::reader::Reader;

use crate::reader::QuicReads;
use crate::QuicError;

/// CRYPTO frame type of the IETF versions.
const CRYPTO: u64 = 0x06;
/// CRYPTO frame type of Google's T050/T051/Q050 frame encoding (same fields as the IETF's).
const GOOGLE_CRYPTO: u64 = 0x08;

/// Calls `on_crypto(offset, data)` for each CRYPTO frame of a decrypted Initial payload. Stops
/// quietly at a frame type an Initial may not carry, since nothing after it can be parsed.
/// With `google_frames`, only PADDING and Google's CRYPTO frame are understood.
pub(crate) fn for_each_crypto_frame(
    payload: &[u8],
    google_frames: bool,
    mut on_crypto: impl FnMut(u64, &[u8]) -> Result<(), QuicError>,
) -> Result<(), QuicError> {
    let mut r = Reader::new(payload);
    let malformed = |what| move || QuicError::Malformed(what);
    let crypto_type = if google_frames { GOOGLE_CRYPTO } else { CRYPTO };
    while !r.is_empty() {
        match r.varint().ok_or_else(malformed("frame type"))? {
            0x00 => {} // PADDING
            t if t == crypto_type => {
                let offset = r.varint().ok_or_else(malformed("CRYPTO offset"))?;
                let len = r.varint_usize().ok_or_else(malformed("CRYPTO length"))?;
                on_crypto(offset, r.take(len).ok_or_else(malformed("CRYPTO data"))?)?;
            }
            _ if google_frames => break,
            0x01 => {} // PING
            ack @ (0x02 | 0x03) => {
                let _largest = r.varint();
                let _delay = r.varint();
                let ranges = r.varint().ok_or_else(malformed("ACK"))?;
                r.varint().ok_or_else(malformed("ACK"))?; // first range
                for _ in 0..ranges {
                    r.varint().zip(r.varint()).ok_or_else(malformed("ACK range"))?;
                }
                if ack == 0x03 {
                    for _ in 0..3 {
                        r.varint().ok_or_else(malformed("ACK ECN counts"))?;
                    }
                }
            }
            _ => break, // CONNECTION_CLOSE ends the connection; anything else is not allowed here
        }
    }
    Ok(())
}

/// Most CRYPTO bytes buffered per flow: a ClientHello with post-quantum key shares is under 4 KiB.
pub const MAX_CRYPTO_BYTES: usize = 16 * 1024;
/// Most disjoint byte ranges buffered per flow (frames are merged as they arrive).
const MAX_RANGES: usize = 64;

/// The start of the client's Initial CRYPTO stream, filled in from frames in any order.
#[derive(Debug, Default)]
pub(crate) struct CryptoStream {
    data: Vec<u8>,
    /// Received ranges, sorted, disjoint and not adjacent.
    ranges: Vec<Range<usize>>,
}

impl CryptoStream {
    pub(crate) fn insert(&mut self, offset: u64, bytes: &[u8]) -> Result<(), QuicError> {
        let start = usize::try_from(offset).map_err(|_| QuicError::LimitExceeded("CRYPTO offset"))?;
        let end = start.checked_add(bytes.len()).filter(|&e| e <= MAX_CRYPTO_BYTES);
        let end = end.ok_or(QuicError::LimitExceeded("CRYPTO bytes"))?;
        if bytes.is_empty() {
            return Ok(());
        }
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        if let Some(slot) = self.data.get_mut(start..end) {
            slot.copy_from_slice(bytes);
        }
        // Merge with every range that overlaps or touches [start, end).
        let first = self.ranges.partition_point(|r| r.end < start);
        let last = self.ranges.partition_point(|r| r.start <= end);
        let last = last.max(first);
        let overlapping = self.ranges.get(first..last).unwrap_or_default();
        let merged = match (overlapping.first(), overlapping.last()) {
            (Some(head), Some(tail)) => head.start.min(start)..tail.end.max(end),
            _ => start..end,
        };
        self.ranges.splice(first..last, [merged]);
        if self.ranges.len() > MAX_RANGES {
            return Err(QuicError::LimitExceeded("CRYPTO fragments"));
        }
        Ok(())
    }

    /// The bytes received without a gap from offset 0.
    pub(crate) fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(r) if r.start == 0 => self.data.get(..r.end).unwrap_or_default(),
            _ => &[],
        }
    }

    /// Number of bytes received, wherever they are.
    pub(crate) fn received(&self) -> usize {
        self.ranges.iter().map(|r| r.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_out_of_order_overlapping_and_duplicated() {
        let mut s = CryptoStream::default();
        s.insert(6, b"ghij").ok();
        assert_eq!(s.contiguous(), b"");
        s.insert(0, b"abc").ok();
        assert_eq!(s.contiguous(), b"abc");
        s.insert(2, b"cdef").ok();
        s.insert(2, b"cdef").ok();
        assert_eq!(s.contiguous(), b"abcdefghij");
        assert_eq!((s.ranges.len(), s.ranges.first()), (1, Some(&(0..10))));
        assert_eq!(s.received(), 10);
    }

    #[test]
    fn bounds_bytes_and_fragments() {
        let mut s = CryptoStream::default();
        assert_eq!(s.insert(MAX_CRYPTO_BYTES as u64, b"x"), Err(QuicError::LimitExceeded("CRYPTO bytes")));
        assert_eq!(s.insert(u64::MAX, b"x"), Err(QuicError::LimitExceeded("CRYPTO bytes")));
        let mut result = Ok(());
        for i in 0..=MAX_RANGES as u64 {
            result = s.insert(i * 2, b"x");
        }
        assert_eq!(result, Err(QuicError::LimitExceeded("CRYPTO fragments")));
    }

    #[test]
    fn frames_of_an_initial() {
        // PADDING, PING, ACK with one range, ACK-ECN, CRYPTO "hi" at 5, CONNECTION_CLOSE, junk.
        let payload = [0, 1, 2, 5, 0, 1, 0, 1, 1, 3, 5, 0, 0, 0, 1, 1, 1, 6, 5, 2, b'h', b'i', 0x1c, 0xff, 0xff];
        let mut seen = Vec::new();
        let result = for_each_crypto_frame(&payload, false, |offset, data| {
            seen.push((offset, data.to_vec()));
            Ok(())
        });
        assert_eq!(result, Ok(()));
        assert_eq!(seen, [(5, b"hi".to_vec())]);
        assert!(for_each_crypto_frame(&[6, 0, 9, 1], false, |_, _| Ok(())).is_err());
        // Google's encoding: PADDING, CRYPTO (0x08) "hi" at 0, then an ACK it does not read.
        let mut seen = Vec::new();
        let google = [0, 8, 0, 2, b'h', b'i', 0x40, 1, 2];
        let result = for_each_crypto_frame(&google, true, |offset, data| {
            seen.push((offset, data.to_vec()));
            Ok(())
        });
        assert_eq!((result, seen), (Ok(()), vec![(0, b"hi".to_vec())]));
    }
}
