//! A bounds-checked big-endian byte cursor: every read returns `None` instead of panicking past the end.
//! Public so that parsers of protocols carrying TLS (QUIC) extend it rather than repeat it.

/// A cursor over a byte slice that only moves forward.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes not read yet (the cursor does not move).
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// The next `n` bytes, or `None` (the cursor unmoved) when fewer remain.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.buf.split_at_checked(n)?;
        self.buf = tail;
        Some(head)
    }

    /// The next byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.buf.split_first()?;
        self.buf = tail;
        Some(b)
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2)?.try_into().ok().map(u16::from_be_bytes)
    }

    /// The next three bytes, big-endian (TLS handshake lengths).
    pub fn u24(&mut self) -> Option<usize> {
        let [a, b, c]: [u8; 3] = self.take(3)?.try_into().ok()?;
        Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    /// A vector with a one-byte length prefix.
    pub fn vec8(&mut self) -> Option<&'a [u8]> {
        let len = self.u8()?;
        self.take(usize::from(len))
    }

    /// A vector with a two-byte length prefix.
    pub fn vec16(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }
}

/// Big-endian u16 values of a list whose byte length must be even.
pub(crate) fn u16_list(bytes: &[u8]) -> Option<Vec<u16>> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    Some(bytes.chunks_exact(2).filter_map(|p| p.try_into().ok().map(u16::from_be_bytes)).collect())
}

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn reads_big_endian_and_stops_at_the_end() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2, 12, 13]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u16(), Some(0x0203));
        assert_eq!(r.u24(), Some(0x04_0506));
        assert_eq!(r.take(4), Some(&[7, 8, 9, 10][..]));
        assert_eq!(r.vec8(), Some(&[12, 13][..]));
        assert!(r.is_empty());
        assert_eq!((r.u8(), r.u16(), r.u24()), (None, None, None));
    }

    #[test]
    fn a_short_read_leaves_the_cursor_where_it_was() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!((r.take(3), r.u24()), (None, None));
        assert_eq!(r.rest(), &[1, 2]);
        assert_eq!(Reader::new(&[0, 3, 1, 2]).vec16(), None);
    }
}
