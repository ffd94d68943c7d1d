//! QUIC's reads on top of the TLS crate's byte cursor: variable-length integers (RFC 9000 §16)
//! and the 32-bit version field.

use phonehome_tls::reader::Reader;

/// The reads QUIC adds to [`Reader`].
pub(crate) trait QuicReads {
    /// The next four bytes, big-endian.
    fn u32(&mut self) -> Option<u32>;
    /// A variable-length integer: the two high bits of the first byte give its length.
    fn varint(&mut self) -> Option<u64>;
    /// A variable-length integer used as a length or offset within this process's memory.
    fn varint_usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }
}

impl QuicReads for Reader<'_> {
    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_be_bytes)
    }

    fn varint(&mut self) -> Option<u64> {
        let first = *self.rest().first()?;
        let len = 1usize << (first >> 6);
        let bytes = self.take(len)?;
        Some(bytes.iter().skip(1).fold(u64::from(first & 0x3f), |acc, &b| acc << 8 | u64::from(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::{QuicReads, Reader};

    #[test]
    fn varints_of_rfc9000_appendix_a1() {
        for (bytes, value) in [
            (&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c][..], 151_288_809_941_952_652),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
            (&[0x40, 0x25], 37),
        ] {
            let mut r = Reader::new(bytes);
            assert_eq!(r.varint(), Some(value));
            assert!(r.is_empty());
        }
        assert_eq!(Reader::new(&[0x80, 1, 2]).varint(), None);
    }

    #[test]
    fn u32_is_big_endian() {
        let mut r = Reader::new(&[0x6b, 0x33, 0x43, 0xcf, 1]);
        assert_eq!(r.u32(), Some(crate::VERSION_2));
        assert_eq!(r.u32(), None);
    }
}
