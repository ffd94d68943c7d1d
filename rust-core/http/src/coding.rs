//! Content codings (RFC 9110 §8.4): gzip, deflate (zlib or raw, as servers really send it), br, and
//! any stack of them, decoded with a cap on the output and on its ratio to the input.
//!
//! Work is bounded by the caps: a decoder reads at most the raw bytes it is given and writes at most
//! `max_output` bytes, so a decompression bomb costs no more than a body that fills the cap.

use std::io::{BufRead, BufReader, Read};

use crate::inflate::{Gzip, Inflate};

/// A content coding phonehome can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `gzip`, `x-gzip` (members may follow each other).
    Gzip,
    /// `deflate`: zlib as RFC 9110 says, or raw deflate as many servers send.
    Deflate,
    /// `br` (RFC 7932).
    Brotli,
}

/// The codings of `Content-Encoding` (or of `Transfer-Encoding` before `chunked`), in the order they were
/// applied. `identity` is dropped; an unknown coding is returned as the error.
pub fn parse_codings<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Coding>, String> {
    let mut codings = Vec::new();
    for token in values.into_iter().flat_map(|value| value.split(',')) {
        let token = token.trim();
        let coding = match token.to_ascii_lowercase().as_str() {
            "" | "identity" => continue,
            "gzip" | "x-gzip" => Coding::Gzip,
            "deflate" => Coding::Deflate,
            "br" => Coding::Brotli,
            _ => return Err(token.to_owned()),
        };
        codings.push(coding);
    }
    Ok(codings)
}

/// Caps of one decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Decoded bytes kept; decoding stops there.
    pub max_output: usize,
    /// Decoded bytes per raw byte beyond which the body counts as a decompression bomb.
    pub max_ratio: usize,
}

/// How a decoding ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The whole input decoded within the caps.
    Complete,
    /// Stopped at `max_output` (or at the end of a raw body that was itself cut): not an error.
    Truncated,
    /// The output outgrew `max_ratio` times the input.
    Bomb,
    /// The coded stream is broken (the message says where).
    Broken(String),
}

/// Decoded bytes (as far as they went) and how the decoding ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    pub outcome: Outcome,
}

/// Raw bytes read by the innermost decoder at a time: small, so the bytes consumed when the output cap is
/// reached (the bomb ratio's denominator) are known closely.
const RAW_READ: usize = 64;

/// Undoes `codings` (in the order they were applied) on `raw`. `raw_complete` says whether `raw` is the
/// whole body: a cut body's unexpected end is truncation, not damage.
pub fn decode(codings: &[Coding], raw: &[u8], raw_complete: bool, limits: DecodeLimits) -> Decoded {
    let consumed = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let mut reader: Box<dyn Read + '_> = Box::new(Counted { inner: raw, consumed: consumed.clone() });
    for (i, coding) in codings.iter().rev().enumerate() {
        let capacity = if i == 0 { RAW_READ } else { 8 * 1024 };
        let buffered = BufReader::with_capacity(capacity, reader);
        reader = match coding {
            Coding::Gzip => Box::new(Gzip::new(buffered)),
            Coding::Deflate => deflate_reader(buffered),
            Coding::Brotli => Box::new(brotli_decompressor::Decompressor::new(buffered, 4096)),
        };
    }
    let limit = limits.max_output;
    // Sized from the input, not the cap: most bodies are small, and a large untouched buffer costs page faults.
    let mut bytes = Vec::with_capacity(limit.min(raw.len().saturating_mul(4)));
    let read = reader.take(limit as u64 + 1).read_to_end(&mut bytes);
    let outcome = match read {
        _ if bytes.len() > limit => {
            bytes.truncate(limit);
            // Filling the cap from a few bytes is a bomb; from many it is a big body.
            if limit > consumed.get().max(1).saturating_mul(limits.max_ratio) {
                Outcome::Bomb
            } else {
                Outcome::Truncated
            }
        }
        Ok(_) => Outcome::Complete,
        Err(_) if !raw_complete => Outcome::Truncated,
        Err(error) => Outcome::Broken(error.to_string()),
    };
    Decoded { bytes, outcome }
}

/// The raw body, counting what the decoders took from it.
struct Counted<'a> {
    inner: &'a [u8],
    consumed: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n);
        Ok(n)
    }
}

/// zlib when the first two bytes are a zlib header (RFC 1950 §2.2), else raw deflate.
fn deflate_reader<'a, R: Read + 'a>(mut input: BufReader<R>) -> Box<dyn Read + 'a> {
    let zlib = match input.fill_buf() {
        Ok([cmf, flg, ..]) => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    };
    Box::new(Inflate::new(input, zlib))
}

/// Whether `body` starts like a gzip member (a compressed file inside a multipart part, say).
pub fn looks_gzipped(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b, 0x08])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use proptest::prelude::*;
    use std::io::Write;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).expect("in memory");
        e.finish().expect("in memory")
    }

    pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).expect("in memory");
        e.finish().expect("in memory")
    }

    pub(crate) fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).expect("in memory");
        e.finish().expect("in memory")
    }

    pub(crate) fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).expect("in memory");
        drop(w);
        out
    }

    const LIMITS: DecodeLimits = DecodeLimits { max_output: 64 * 1024, max_ratio: 200 };
    const JSON: &[u8] = br#"{"imei":"356938035643809","model":"SM-A536B","events":[{"t":1732190000,"screen":"home"}]}"#;

    #[test]
    fn codings_are_parsed_in_order_and_identity_is_dropped() {
        assert_eq!(parse_codings(["gzip"]), Ok(vec![Coding::Gzip]));
        assert_eq!(parse_codings(["deflate, BR", "identity"]), Ok(vec![Coding::Deflate, Coding::Brotli]));
        assert_eq!(parse_codings(["x-gzip", ""]), Ok(vec![Coding::Gzip]));
        assert_eq!(parse_codings(["gzip, zstd"]), Err("zstd".to_owned()));
    }

    #[test]
    fn each_coding_and_a_stack_decode() {
        for (coding, encoded) in [
            (Coding::Gzip, gzip(JSON)),
            (Coding::Deflate, zlib(JSON)),
            (Coding::Deflate, raw_deflate(JSON)),
            (Coding::Brotli, brotli(JSON)),
        ] {
            let decoded = decode(&[coding], &encoded, true, LIMITS);
            assert_eq!((decoded.bytes.as_slice(), decoded.outcome), (JSON, Outcome::Complete), "{coding:?}");
        }
        // `Content-Encoding: gzip, br`: gzip first, then br over it.
        let stacked = brotli(&gzip(JSON));
        let decoded = decode(&[Coding::Gzip, Coding::Brotli], &stacked, true, LIMITS);
        assert_eq!((decoded.bytes.as_slice(), decoded.outcome), (JSON, Outcome::Complete));
        // Two gzip members one after the other are one body.
        let mut members = gzip(b"first ");
        members.extend_from_slice(&gzip(b"second"));
        assert_eq!(decode(&[Coding::Gzip], &members, true, LIMITS).bytes, b"first second");
    }

    #[test]
    fn a_bomb_stops_at_the_ratio_and_is_called_so() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024);
        let decoded = decode(&[Coding::Gzip], &bomb, true, LIMITS);
        assert_eq!(decoded.outcome, Outcome::Bomb);
        assert_eq!(decoded.bytes.len(), LIMITS.max_output);
        // The same bomb two layers deep.
        let nested = gzip(&bomb);
        let decoded = decode(&[Coding::Gzip, Coding::Gzip], &nested, true, LIMITS);
        assert_eq!(decoded.outcome, Outcome::Bomb);
        assert!(decoded.bytes.len() <= LIMITS.max_output);
    }

    #[test]
    fn a_big_honest_body_is_truncated_at_the_cap() {
        let text: Vec<u8> = (0..200_000u32).flat_map(|i| format!("{i},").into_bytes()).collect();
        let decoded = decode(&[Coding::Gzip], &gzip(&text), true, LIMITS);
        assert_eq!(decoded.outcome, Outcome::Truncated);
        assert_eq!(decoded.bytes, text[..LIMITS.max_output]);
    }

    #[test]
    fn broken_and_cut_streams() {
        let mut broken = gzip(JSON);
        let middle = broken.len() / 2;
        broken[middle] ^= 0xff;
        broken[middle + 1] ^= 0xff;
        assert!(matches!(decode(&[Coding::Gzip], &broken, true, LIMITS).outcome, Outcome::Broken(_)));
        let encoded = gzip(JSON);
        let cut = &encoded[..encoded.len() - 12];
        assert!(matches!(decode(&[Coding::Gzip], cut, true, LIMITS).outcome, Outcome::Broken(_)));
        let cut = decode(&[Coding::Gzip], cut, false, LIMITS);
        assert_eq!(cut.outcome, Outcome::Truncated);
        assert!(JSON.starts_with(&cut.bytes));
        assert!(matches!(decode(&[Coding::Brotli], b"not brotli at all", true, LIMITS).outcome, Outcome::Broken(_)));
    }

    proptest! {
        /// Arbitrary, truncated and mutated coded input never panics and never exceeds the caps.
        #[test]
        fn hostile_input_stays_within_the_caps(
            data in prop::collection::vec(any::<u8>(), 0..3000),
            which in 0usize..4,
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            cut in any::<prop::sample::Index>(),
            max_output in 1usize..5000,
        ) {
            let (coding, mut encoded) = match which {
                0 => (Coding::Gzip, gzip(&data)),
                1 => (Coding::Deflate, zlib(&data)),
                2 => (Coding::Deflate, raw_deflate(&data)),
                _ => (Coding::Brotli, brotli(&data)),
            };
            for (index, byte) in flips {
                let i = index.index(encoded.len());
                encoded[i] = byte;
            }
            encoded.truncate(cut.index(encoded.len() + 1));
            let limits = DecodeLimits { max_output, max_ratio: 50 };
            let decoded = decode(&[coding], &encoded, true, limits);
            prop_assert!(decoded.bytes.len() <= max_output);
        }

        #[test]
        fn round_trips_below_the_cap(data in prop::collection::vec(any::<u8>(), 0..3000), which in 0usize..3) {
            let (coding, encoded) = match which {
                0 => (Coding::Gzip, gzip(&data)),
                1 => (Coding::Deflate, raw_deflate(&data)),
                _ => (Coding::Brotli, brotli(&data)),
            };
            // Runs of one byte compress past any bomb ratio: only the output cap applies here.
            let limits = DecodeLimits { max_ratio: usize::MAX, ..LIMITS };
            let decoded = decode(&[coding], &encoded, true, limits);
            prop_assert_eq!(decoded.outcome, Outcome::Complete);
            prop_assert_eq!(decoded.bytes, data);
        }
    }
}
