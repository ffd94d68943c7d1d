//! Deflate-based content codings as readers: raw deflate, zlib (RFC 1950) and gzip members (RFC 1952).
//!
//! Written over `flate2::Decompress` rather than with flate2's own readers so a decompressor (a 32 KiB window
//! and its tables, ≈ 43 KiB) is taken from a per-thread pool instead of being allocated, zeroed and freed for
//! every body: that was most of the cost of a small gzip body.

use std::cell::RefCell;
use std::io::{self, BufRead, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

/// Decompressors kept per thread: one per layer of the deepest stack decoded at once is enough.
const POOLED: usize = 4;

thread_local! {
    static POOL: RefCell<Vec<Decompress>> = const { RefCell::new(Vec::new()) };
}

/// A decompressor from the pool, given back when dropped.
struct Pooled(Option<Decompress>);

impl Pooled {
    fn take(zlib: bool) -> Self {
        let mut state = POOL.with(|pool| pool.borrow_mut().pop()).unwrap_or_else(|| Decompress::new(zlib));
        state.reset(zlib);
        Self(Some(state))
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            POOL.with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < POOLED {
                    pool.push(state);
                }
            });
        }
    }
}

/// Inflates from `input` into `buf` until some output, the stream's end or an error: (bytes written, ended).
fn inflate<R: BufRead>(state: &mut Decompress, input: &mut R, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    loop {
        let available = input.fill_buf()?;
        let at_end = available.is_empty();
        let (before_in, before_out) = (state.total_in(), state.total_out());
        let flush = if at_end { FlushDecompress::Finish } else { FlushDecompress::None };
        let status =
            state.decompress(available, buf, flush).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let consumed = usize::try_from(state.total_in() - before_in).unwrap_or(0);
        let produced = usize::try_from(state.total_out() - before_out).unwrap_or(0);
        input.consume(consumed);
        let ended = status == Status::StreamEnd;
        if produced > 0 || ended || buf.is_empty() {
            return Ok((produced, ended));
        }
        if consumed == 0 {
            let kind = if at_end { io::ErrorKind::UnexpectedEof } else { io::ErrorKind::InvalidData };
            return Err(io::Error::new(kind, "deflate stream ends early"));
        }
    }
}

/// One raw deflate or zlib stream.
pub(crate) struct Inflate<R> {
    input: R,
    state: Pooled,
    ended: bool,
}

impl<R: BufRead> Inflate<R> {
    pub(crate) fn new(input: R, zlib: bool) -> Self {
        Self { input, state: Pooled::take(zlib), ended: false }
    }
}

impl<R: BufRead> Read for Inflate<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(state) = self.state.0.as_mut() else { return Ok(0) };
        if self.ended {
            return Ok(0);
        }
        let (produced, ended) = inflate(state, &mut self.input, buf)?;
        self.ended = ended;
        Ok(produced)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before a member's header; `first` for the body's first member (which must be one).
    Header {
        first: bool,
    },
    Member,
    Done,
}

/// gzip: members one after the other, each a header, a raw deflate stream and a CRC-32 + size trailer.
/// Bytes after the last member that do not start another are ignored, as browsers do.
pub(crate) struct Gzip<R> {
    input: R,
    state: Pooled,
    crc: Crc,
    phase: Phase,
}

impl<R: BufRead> Gzip<R> {
    pub(crate) fn new(input: R) -> Self {
        Self { input, state: Pooled::take(false), crc: Crc::new(), phase: Phase::Header { first: true } }
    }
}

impl<R: BufRead> Read for Gzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.phase {
                Phase::Done => return Ok(0),
                Phase::Header { first } => {
                    if !member_header(&mut self.input, first)? {
                        self.phase = Phase::Done;
                        continue;
                    }
                    let Some(state) = self.state.0.as_mut() else { return Ok(0) };
                    state.reset(false);
                    self.crc.reset();
                    self.phase = Phase::Member;
                }
                Phase::Member => {
                    let Some(state) = self.state.0.as_mut() else { return Ok(0) };
                    let (produced, ended) = inflate(state, &mut self.input, buf)?;
                    self.crc.update(buf.get(..produced).unwrap_or_default());
                    if ended {
                        let mut trailer = [0u8; 8];
                        self.input.read_exact(&mut trailer)?;
                        let [c0, c1, c2, c3, ..] = trailer;
                        if u32::from_le_bytes([c0, c1, c2, c3]) != self.crc.sum() {
                            return Err(io::Error::new(io::ErrorKind::InvalidData, "gzip CRC-32 mismatch"));
                        }
                        self.phase = Phase::Header { first: false };
                    }
                    if produced > 0 || buf.is_empty() {
                        return Ok(produced);
                    }
                }
            }
        }
    }
}

/// Reads a gzip member header (RFC 1952 §2.3). `Ok(false)` when no member starts here (after the first).
fn member_header<R: BufRead>(input: &mut R, first: bool) -> io::Result<bool> {
    let starts_member = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if !starts_member {
        return if first { Err(io::Error::new(io::ErrorKind::InvalidData, "not gzip")) } else { Ok(false) };
    }
    let mut fixed = [0u8; 10];
    input.read_exact(&mut fixed)?;
    let [_, _, method, flags, ..] = fixed;
    if method != 8 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "gzip method is not deflate"));
    }
    if flags & 0x04 != 0 {
        let mut len = [0u8; 2];
        input.read_exact(&mut len)?;
        skip(input, usize::from(u16::from_le_bytes(len)))?;
    }
    for flag in [0x08, 0x10] {
        // File name, comment: zero-terminated.
        if flags & flag != 0 {
            skip_until_nul(input)?;
        }
    }
    if flags & 0x02 != 0 {
        skip(input, 2)?;
    }
    Ok(true)
}

fn skip<R: BufRead>(input: &mut R, count: usize) -> io::Result<()> {
    let skipped = io::copy(&mut input.take(count as u64), &mut io::sink())?;
    if skipped < count as u64 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "gzip header cut short"));
    }
    Ok(())
}

fn skip_until_nul<R: BufRead>(input: &mut R) -> io::Result<()> {
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "gzip header cut short"));
        }
        match memchr::memchr(0, available) {
            Some(at) => {
                input.consume(at + 1);
                return Ok(());
            }
            None => {
                let len = available.len();
                input.consume(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::{Compression, GzBuilder};
    use std::io::Write;

    #[test]
    fn gzip_header_fields_are_skipped_and_the_crc_checked() {
        let mut e = GzBuilder::new()
            .filename("events.json")
            .comment("batch")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::default());
        e.write_all(b"imei=356938035643809").expect("in memory");
        let mut member = e.finish().expect("in memory");
        let mut out = Vec::new();
        Gzip::new(member.as_slice()).read_to_end(&mut out).expect("valid");
        assert_eq!(out, b"imei=356938035643809");
        let crc_at = member.len() - 8;
        member[crc_at] ^= 1;
        assert!(Gzip::new(member.as_slice()).read_to_end(&mut Vec::new()).is_err());
        let mut plain = GzEncoder::new(Vec::new(), Compression::fast());
        plain.write_all(b"x").expect("in memory");
        let mut trailing = plain.finish().expect("in memory");
        trailing.extend_from_slice(b"\0\0\0garbage");
        let mut out = Vec::new();
        Gzip::new(trailing.as_slice()).read_to_end(&mut out).expect("trailing bytes ignored");
        assert_eq!(out, b"x");
    }
}
