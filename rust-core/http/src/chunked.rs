//! `Transfer-Encoding: chunked` (RFC 9112 §7.1), de-framed as the bytes arrive.
//!
//! Lenient where servers are (bare LF, blanks before an extension) and bounded where an attacker
//! would push: a chunk size of more than 16 hex digits, an extension or trailer section past its cap
//! is an error, never a wait for the end of a line that does not come.

/// Hex digits of a chunk size: 16 fill a `u64`, more is an attack or garbage.
const MAX_SIZE_DIGITS: u8 = 16;
/// Bytes of a chunk extension (after `;`) skipped before the line is refused.
const MAX_EXTENSION: usize = 4096;
/// Bytes of the trailer section kept (and allowed).
const MAX_TRAILERS: usize = 8192;

/// Why a chunked body cannot be read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A chunk size of more than 16 hex digits.
    #[error("chunk size longer than 16 hex digits")]
    SizeTooLong,
    /// A chunk-size line that does not start with a hex digit, or holds a stray byte.
    #[error("chunk size is not hexadecimal")]
    BadSize,
    /// A chunk extension longer than the cap.
    #[error("chunk extension longer than 4096 bytes")]
    ExtensionTooLong,
    /// Chunk data not followed by its line end.
    #[error("chunk data not followed by CRLF")]
    MissingLineEnd,
    /// A trailer section longer than the cap.
    #[error("trailer section longer than 8192 bytes")]
    TrailersTooLong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size.
    Size {
        digits: u8,
        value: u64,
    },
    /// Skipping blanks or an extension up to the end of the size line.
    Extension {
        size: u64,
        len: usize,
    },
    Data {
        left: u64,
    },
    /// After chunk data: its CRLF (`seen_cr` once the CR went by).
    DataEnd {
        seen_cr: bool,
    },
    /// Trailer lines after the last chunk; `line_len` bytes of the current line so far.
    Trailers {
        line_len: usize,
    },
    Done,
    Broken(ChunkError),
}

/// De-frames one chunked body.
#[derive(Debug, Clone)]
pub struct Dechunker {
    state: State,
    trailers: Vec<u8>,
}

impl Default for Dechunker {
    fn default() -> Self {
        Self { state: State::Size { digits: 0, value: 0 }, trailers: Vec::new() }
    }
}

impl Dechunker {
    /// A de-framer at the start of a chunked body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads from `input` and hands each piece of chunk data to `data`. Returns the bytes consumed:
    /// all of `input`, or fewer when the body ended in it (the rest is the next message).
    pub fn push(&mut self, input: &[u8], data: &mut dyn FnMut(&[u8])) -> Result<usize, ChunkError> {
        let mut at = 0;
        while at < input.len() {
            let Some(&byte) = input.get(at) else { break };
            self.state = match self.state {
                State::Done => return Ok(at),
                State::Broken(error) => return Err(error),
                State::Data { left } => {
                    let available = input.len() - at;
                    let take = usize::try_from(left).map_or(available, |left| left.min(available));
                    data(input.get(at..at + take).unwrap_or_default());
                    at += take;
                    let left = left - take as u64;
                    if left == 0 {
                        State::DataEnd { seen_cr: false }
                    } else {
                        State::Data { left }
                    }
                }
                state => {
                    at += 1;
                    self.step(state, byte)
                }
            };
        }
        match self.state {
            State::Broken(error) => Err(error),
            _ => Ok(at),
        }
    }

    /// One byte of framing (sizes, line ends, trailers).
    fn step(&mut self, state: State, byte: u8) -> State {
        match state {
            State::Size { digits, value } => match hex_value(byte) {
                Some(_) if digits >= MAX_SIZE_DIGITS => State::Broken(ChunkError::SizeTooLong),
                Some(digit) => State::Size { digits: digits + 1, value: value << 4 | u64::from(digit) },
                None if digits == 0 => State::Broken(ChunkError::BadSize),
                None => Self::size_line(value, 0, byte),
            },
            State::Extension { size, len } => Self::size_line(size, len + 1, byte),
            State::DataEnd { seen_cr } => match byte {
                b'\n' => State::Size { digits: 0, value: 0 },
                b'\r' if !seen_cr => State::DataEnd { seen_cr: true },
                _ => State::Broken(ChunkError::MissingLineEnd),
            },
            State::Trailers { line_len } => match byte {
                b'\n' if line_len == 0 => State::Done,
                b'\n' => {
                    self.trailers.push(b'\n');
                    State::Trailers { line_len: 0 }
                }
                b'\r' => State::Trailers { line_len },
                _ if self.trailers.len() >= MAX_TRAILERS => State::Broken(ChunkError::TrailersTooLong),
                _ => {
                    self.trailers.push(byte);
                    State::Trailers { line_len: line_len + 1 }
                }
            },
            other => other,
        }
    }

    /// The rest of a size line after its digits: blanks, `;extension`, CR, then LF.
    fn size_line(size: u64, len: usize, byte: u8) -> State {
        match byte {
            b'\n' if size == 0 => State::Trailers { line_len: 0 },
            b'\n' => State::Data { left: size },
            _ if len > MAX_EXTENSION => State::Broken(ChunkError::ExtensionTooLong),
            // Only blanks, an extension or CR may follow the digits.
            b';' | b' ' | b'\t' | b'\r' => State::Extension { size, len },
            _ if len > 0 => State::Extension { size, len },
            _ => State::Broken(ChunkError::BadSize),
        }
    }

    /// Whether the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailer fields (lines joined by LF), if any were sent.
    pub fn trailers(&self) -> &[u8] {
        &self.trailers
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The whole body read in one push: (data, consumed, done).
    fn dechunk(input: &[u8]) -> (Vec<u8>, Result<usize, ChunkError>, bool) {
        let mut out = Vec::new();
        let mut d = Dechunker::new();
        let consumed = d.push(input, &mut |piece| out.extend_from_slice(piece));
        (out, consumed, d.is_done())
    }

    /// The example of RFC 9112 §7.1 (from its predecessor RFC 7230's wording): "Wikipedia in chunks."
    #[test]
    fn rfc_example_with_extension_and_trailer() {
        let body =
            b"4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nGET /next";
        let (data, consumed, done) = dechunk(body);
        assert_eq!(data, b"Wikipedia in\r\n\r\nchunks.");
        assert!(done);
        assert_eq!(&body[consumed.expect("valid")..], b"GET /next");
        let mut d = Dechunker::new();
        d.push(body, &mut |_| {}).expect("valid");
        assert_eq!(d.trailers(), b"Expires: never\n");
    }

    #[test]
    fn bare_line_feeds_and_blanks_before_an_extension() {
        let (data, consumed, done) = dechunk(b"3 ;x\nabc\n0\n\n");
        assert_eq!((data.as_slice(), consumed, done), (&b"abc"[..], Ok(12), true));
    }

    #[test]
    fn hostile_framing_is_refused() {
        assert_eq!(dechunk(b"fffffffffffffffff\r\n").1, Err(ChunkError::SizeTooLong));
        assert_eq!(dechunk(&[b'1'; 10_000]).1, Err(ChunkError::SizeTooLong));
        assert_eq!(dechunk(b"\r\n").1, Err(ChunkError::BadSize));
        assert_eq!(dechunk(b"zz\r\n").1, Err(ChunkError::BadSize));
        assert_eq!(dechunk(b"3x\r\n").1, Err(ChunkError::BadSize));
        let mut long_extension = b"3;".to_vec();
        long_extension.resize(10_000, b'a');
        assert_eq!(dechunk(&long_extension).1, Err(ChunkError::ExtensionTooLong));
        assert_eq!(dechunk(b"3\r\nabcX").1, Err(ChunkError::MissingLineEnd));
        let mut trailers = b"0\r\n".to_vec();
        trailers.resize(10_000, b'a');
        assert_eq!(dechunk(&trailers).1, Err(ChunkError::TrailersTooLong));
    }

    #[test]
    fn a_huge_declared_chunk_is_just_counted() {
        let (data, consumed, done) = dechunk(b"ffffffffffffffff\r\nabc");
        assert_eq!((data.as_slice(), consumed, done), (&b"abc"[..], Ok(21), false));
    }

    /// Chunks the body at `cuts`, with a random-looking mix of extensions and line ends.
    fn encode(body: &[u8], cuts: &[usize], lf_only: bool) -> Vec<u8> {
        let eol: &[u8] = if lf_only { b"\n" } else { b"\r\n" };
        let mut out = Vec::new();
        let mut at = 0;
        for (i, cut) in cuts.iter().cycle().enumerate() {
            if at >= body.len() {
                break;
            }
            let end = (at + cut).min(body.len());
            let size = if i % 2 == 0 { format!("{:x}", end - at) } else { format!("{:X};ext=\"v\"", end - at) };
            out.extend_from_slice(size.as_bytes());
            out.extend_from_slice(eol);
            out.extend_from_slice(&body[at..end]);
            out.extend_from_slice(eol);
            at = end;
        }
        out.extend_from_slice(b"0");
        out.extend_from_slice(eol);
        out.extend_from_slice(eol);
        out
    }

    proptest! {
        /// Any body in any chunks, fed in any segments, de-frames to the body.
        #[test]
        fn any_chunking_and_segmentation_decodes_the_same(
            body in prop::collection::vec(any::<u8>(), 0..2000),
            cuts in prop::collection::vec(1usize..300, 1..8),
            segments in prop::collection::vec(1usize..200, 1..8),
            lf_only in any::<bool>(),
        ) {
            let encoded = encode(&body, &cuts, lf_only);
            let mut d = Dechunker::new();
            let mut out = Vec::new();
            let mut at = 0;
            for len in segments.iter().cycle() {
                if at >= encoded.len() { break; }
                let end = (at + len).min(encoded.len());
                let consumed = d.push(&encoded[at..end], &mut |p| out.extend_from_slice(p)).expect("valid");
                prop_assert_eq!(consumed, end - at);
                at = end;
            }
            prop_assert!(d.is_done());
            prop_assert_eq!(out, body);
        }

        /// Truncated or mutated input never panics and never yields more data than it holds.
        #[test]
        fn mutated_input_never_panics(
            body in prop::collection::vec(any::<u8>(), 0..500),
            cuts in prop::collection::vec(1usize..100, 1..4),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut encoded = encode(&body, &cuts, false);
            for (index, byte) in flips {
                let i = index.index(encoded.len());
                encoded[i] = byte;
            }
            encoded.truncate(cut.index(encoded.len() + 1));
            let (out, consumed, _) = dechunk(&encoded);
            prop_assert!(out.len() <= encoded.len());
            if let Ok(consumed) = consumed {
                prop_assert!(consumed <= encoded.len());
            }
        }
    }
}
