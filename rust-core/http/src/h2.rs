//! HTTP/2 in cleartext (h2c, RFC 9113), client → server: frames read as the bytes arrive, header blocks
//! (HEADERS + CONTINUATION) decoded with HPACK (RFC 7541, the `loona-hpack` crate), DATA streamed through.
//!
//! Bounded: a header block is refused past `max_block` bytes, the HPACK dynamic table past
//! [`MAX_TABLE_SIZE`] (the table-size attack), and the decoded fields of one block are kept up to
//! `max_block` bytes (the HPACK bomb: one byte can repeat a 4 KiB table entry). DATA is never held.

use crate::request::{split_host_port, HttpVersion, Request};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Largest HPACK dynamic table a client may ask for: 16 times the protocol's 4096-byte default, for
/// servers that announce a larger one.
pub const MAX_TABLE_SIZE: usize = 64 * 1024;

const FRAME_HEADER_LEN: usize = 9;
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// Why the connection can no longer be followed.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum H2Error {
    #[error("header block larger than the cap")]
    HeaderBlockTooLarge,
    #[error("padding longer than the frame")]
    BadPadding,
    #[error("a header block was interrupted by another frame")]
    ExpectedContinuation,
    #[error("HPACK: {0}")]
    Hpack(loona_hpack::decoder::DecoderError),
}

/// What the client sent, as the frames complete.
#[derive(Debug, PartialEq, Eq)]
pub enum H2Event<'a> {
    /// A decoded header block (request headers or trailers), fields as sent, pseudo-headers included.
    Headers {
        stream: u32,
        fields: &'a [(Vec<u8>, Vec<u8>)],
        /// Fields past the cap were decoded (the table stays in step) but not kept.
        truncated: bool,
    },
    /// A piece of a DATA frame's payload (padding removed).
    Data { stream: u32, data: &'a [u8] },
    /// The stream's last frame from the client (END_STREAM), or its reset.
    StreamEnd { stream: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHeader {
    len: usize,
    kind: u8,
    flags: u8,
    stream: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Gathering the 9-byte frame header.
    Header,
    /// A DATA frame's pad length byte.
    PadLength(FrameHeader),
    /// DATA payload: `left` data bytes, then `pad` bytes of padding.
    Data { frame: FrameHeader, left: usize, pad: usize },
    /// A frame whose payload is held whole (HEADERS, CONTINUATION, RST_STREAM).
    Held { frame: FrameHeader, left: usize },
    /// Payload nobody reads (SETTINGS, PING, WINDOW_UPDATE, PRIORITY, GOAWAY, unknown types).
    Skip { left: usize },
}

/// Reads the client side of an h2c connection after its preface.
pub struct H2Decoder {
    max_block: usize,
    state: State,
    header: Vec<u8>,
    payload: Vec<u8>,
    /// The header block being gathered: its stream, whether END_STREAM came with it, its bytes.
    block: Option<(u32, bool)>,
    block_bytes: Vec<u8>,
    hpack: loona_hpack::Decoder<'static>,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    broken: Option<H2Error>,
}

impl std::fmt::Debug for H2Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Decoder").field("state", &self.state).field("broken", &self.broken).finish_non_exhaustive()
    }
}

impl H2Decoder {
    /// A decoder holding header blocks of at most `max_block` bytes.
    pub fn new(max_block: usize) -> Self {
        let mut hpack = loona_hpack::Decoder::new();
        hpack.set_max_allowed_table_size(MAX_TABLE_SIZE);
        Self {
            max_block,
            state: State::Header,
            header: Vec::with_capacity(FRAME_HEADER_LEN),
            payload: Vec::new(),
            block: None,
            block_bytes: Vec::new(),
            hpack,
            fields: Vec::new(),
            broken: None,
        }
    }

    /// Reads `input`, handing what completes to `out`. After an error the decoder stays broken.
    pub fn push(&mut self, mut input: &[u8], out: &mut dyn FnMut(H2Event<'_>)) -> Result<(), H2Error> {
        if let Some(error) = self.broken {
            return Err(error);
        }
        while !input.is_empty() || self.ends_without_input() {
            if let Err(error) = self.step(&mut input, out) {
                self.broken = Some(error);
                return Err(error);
            }
        }
        Ok(())
    }

    /// A frame whose payload is done (or empty) completes without more input.
    fn ends_without_input(&self) -> bool {
        matches!(
            self.state,
            State::Data { left: 0, pad: 0, .. } | State::Held { left: 0, .. } | State::Skip { left: 0 }
        )
    }

    fn step(&mut self, input: &mut &[u8], out: &mut dyn FnMut(H2Event<'_>)) -> Result<(), H2Error> {
        match self.state {
            State::Header => {
                let take = (FRAME_HEADER_LEN - self.header.len()).min(input.len());
                let (head, rest) = input.split_at(take);
                self.header.extend_from_slice(head);
                *input = rest;
                if let Ok(bytes) = <[u8; FRAME_HEADER_LEN]>::try_from(self.header.as_slice()) {
                    self.header.clear();
                    self.start_frame(parse_frame_header(bytes))?;
                }
            }
            State::PadLength(frame) => {
                let Some((&pad, rest)) = input.split_first() else { return Ok(()) };
                *input = rest;
                let pad = usize::from(pad);
                let left = frame.len.checked_sub(1 + pad).ok_or(H2Error::BadPadding)?;
                self.state = State::Data { frame, left, pad };
            }
            State::Data { frame, left, pad } => {
                let take = left.min(input.len());
                let (data, rest) = input.split_at(take);
                *input = rest;
                if !data.is_empty() {
                    out(H2Event::Data { stream: frame.stream, data });
                }
                let skip = (pad.min(input.len())).min(if take == left { pad } else { 0 });
                *input = input.get(skip..).unwrap_or_default();
                let (left, pad) = (left - take, pad - skip);
                self.state = State::Data { frame, left, pad };
                if left == 0 && pad == 0 {
                    self.state = State::Header;
                    if frame.flags & END_STREAM != 0 {
                        out(H2Event::StreamEnd { stream: frame.stream });
                    }
                }
            }
            State::Held { frame, left } => {
                let take = left.min(input.len());
                let (bytes, rest) = input.split_at(take);
                self.payload.extend_from_slice(bytes);
                *input = rest;
                self.state = State::Held { frame, left: left - take };
                if left == take {
                    self.state = State::Header;
                    let payload = std::mem::take(&mut self.payload);
                    self.end_held_frame(frame, &payload, out)?;
                }
            }
            State::Skip { left } => {
                let take = left.min(input.len());
                *input = input.get(take..).unwrap_or_default();
                self.state = if left == take { State::Header } else { State::Skip { left: left - take } };
            }
        }
        Ok(())
    }

    fn start_frame(&mut self, frame: FrameHeader) -> Result<(), H2Error> {
        if self.block.is_some() && frame.kind != CONTINUATION {
            return Err(H2Error::ExpectedContinuation);
        }
        self.state = match frame.kind {
            DATA if frame.flags & PADDED != 0 && frame.len == 0 => return Err(H2Error::BadPadding),
            DATA if frame.flags & PADDED != 0 => State::PadLength(frame),
            DATA => State::Data { frame, left: frame.len, pad: 0 },
            HEADERS | CONTINUATION if frame.len + self.block_bytes.len() > self.max_block => {
                return Err(H2Error::HeaderBlockTooLarge)
            }
            HEADERS | CONTINUATION | RST_STREAM => State::Held { frame, left: frame.len },
            _ => State::Skip { left: frame.len },
        };
        Ok(())
    }

    fn end_held_frame(
        &mut self,
        frame: FrameHeader,
        payload: &[u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) -> Result<(), H2Error> {
        match frame.kind {
            RST_STREAM => {
                out(H2Event::StreamEnd { stream: frame.stream });
                return Ok(());
            }
            HEADERS => {
                let fragment = headers_fragment(frame.flags, payload).ok_or(H2Error::BadPadding)?;
                self.block = Some((frame.stream, frame.flags & END_STREAM != 0));
                self.block_bytes.extend_from_slice(fragment);
            }
            // CONTINUATION (only reached while a block is open, or stray: then it is ignored).
            _ if self.block.is_some() => self.block_bytes.extend_from_slice(payload),
            _ => return Ok(()),
        }
        if frame.flags & END_HEADERS == 0 {
            return Ok(());
        }
        let Some((stream, end_stream)) = self.block.take() else { return Ok(()) };
        let block = std::mem::take(&mut self.block_bytes);
        let truncated = self.decode_block(&block)?;
        out(H2Event::Headers { stream, fields: &self.fields, truncated });
        if end_stream {
            out(H2Event::StreamEnd { stream });
        }
        Ok(())
    }

    /// Decodes a whole header block into `fields`, keeping at most `max_block` bytes of names and values;
    /// says whether some were left out.
    fn decode_block(&mut self, block: &[u8]) -> Result<bool, H2Error> {
        self.fields.clear();
        let (cap, mut kept, mut truncated) = (self.max_block, 0usize, false);
        let fields = &mut self.fields;
        self.hpack
            .decode_with_cb(block, |name, value| {
                let size = name.len() + value.len();
                if kept + size <= cap {
                    kept += size;
                    fields.push((name.into_owned(), value.into_owned()));
                } else {
                    truncated = true;
                }
            })
            .map_err(H2Error::Hpack)?;
        Ok(truncated)
    }
}

fn parse_frame_header(bytes: [u8; FRAME_HEADER_LEN]) -> FrameHeader {
    let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = bytes;
    FrameHeader {
        len: usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2),
        kind,
        flags,
        stream: u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]),
    }
}

/// The header block fragment of a HEADERS payload, without padding and priority fields.
fn headers_fragment(flags: u8, payload: &[u8]) -> Option<&[u8]> {
    let (pad, payload) = if flags & PADDED != 0 {
        let (&pad, rest) = payload.split_first()?;
        (usize::from(pad), rest)
    } else {
        (0, payload)
    };
    let payload = if flags & PRIORITY != 0 { payload.get(5..)? } else { payload };
    payload.get(..payload.len().checked_sub(pad)?)
}

/// The request a header block describes: `:method`, `:path`, `:authority` (else `host`) and the rest.
pub fn request_of(fields: &[(Vec<u8>, Vec<u8>)]) -> Request {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let pseudo = |name: &[u8]| fields.iter().find(|(n, _)| n.as_slice() == name).map(|(_, v)| text(v));
    let headers: Vec<(String, String)> =
        fields.iter().filter(|(name, _)| !name.starts_with(b":")).map(|(n, v)| (text(n), text(v))).collect();
    let mut request = Request::from_parts(
        pseudo(b":method").unwrap_or_default(),
        pseudo(b":path").unwrap_or_default(),
        Some(HttpVersion { major: 2, minor: 0 }),
        headers,
        0,
        false,
    );
    if let Some((host, port)) = pseudo(b":authority").as_deref().and_then(split_host_port) {
        (request.host, request.port) = (Some(host), port);
    }
    request
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).expect("small").to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex")).collect()
    }

    type Headers = Vec<(u32, Vec<(String, String)>)>;
    type Data = Vec<(u32, Vec<u8>)>;
    type Run = (Headers, Data, Vec<u32>, Result<(), H2Error>);

    fn run(decoder: &mut H2Decoder, input: &[u8]) -> Run {
        let (mut headers, mut data, mut ends) = (Vec::new(), Vec::<(u32, Vec<u8>)>::new(), Vec::new());
        let result = decoder.push(input, &mut |event| match event {
            H2Event::Headers { stream, fields, .. } => headers.push((
                stream,
                fields
                    .iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
                    .collect(),
            )),
            H2Event::Data { stream, data: piece } => match data.last_mut() {
                Some((s, bytes)) if *s == stream => bytes.extend_from_slice(piece),
                _ => data.push((stream, piece.to_vec())),
            },
            H2Event::StreamEnd { stream } => ends.push(stream),
        });
        (headers, data, ends, result)
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    /// RFC 7541 Appendix C.3 (plain literals) and C.4 (Huffman): three requests sharing one dynamic table,
    /// each sent as a HEADERS frame.
    #[test]
    fn rfc_7541_appendix_c_requests() {
        let blocks = [
            ("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
            ("8286 84be 5808 6e6f 2d63 6163 6865", "8286 84be 5886 a8eb 1064 9cbf"),
            (
                "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            ),
        ];
        let base = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];
        let expected = [
            owned(&base),
            owned(&[base[0], base[1], base[2], base[3], ("cache-control", "no-cache")]),
            owned(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value"),
            ]),
        ];
        for huffman in [false, true] {
            let mut decoder = H2Decoder::new(16 * 1024);
            for (i, (plain, coded)) in blocks.iter().enumerate() {
                let stream = 2 * i as u32 + 1;
                let block = hex(if huffman { coded } else { plain });
                let (headers, _, ends, result) =
                    run(&mut decoder, &frame(HEADERS, END_HEADERS | END_STREAM, stream, &block));
                result.expect("valid block");
                assert_eq!(headers, [(stream, expected[i].clone())], "huffman {huffman}, request {i}");
                assert_eq!(ends, [stream]);
            }
        }
        let request = request_of(&[
            (b":authority".to_vec(), b"www.example.com:8080".to_vec()),
            (b":method".to_vec(), b"POST".to_vec()),
        ]);
        assert_eq!(
            (request.host.as_deref(), request.port, request.method.as_str()),
            (Some("www.example.com"), Some(8080), "POST")
        );
    }

    #[test]
    fn continuation_padding_priority_and_padded_data() {
        let block = hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
        let (first, second) = block.split_at(5);
        // HEADERS padded (2 bytes) with priority, then CONTINUATION.
        let mut headers_payload = vec![2];
        headers_payload.extend_from_slice(&[0, 0, 0, 0, 16]);
        headers_payload.extend_from_slice(first);
        headers_payload.extend_from_slice(&[0, 0]);
        let mut stream = frame(HEADERS, PADDED | PRIORITY, 1, &headers_payload);
        stream.extend(frame(CONTINUATION, END_HEADERS, 1, second));
        stream.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0x10, 0])); // SETTINGS between
        stream.extend(frame(DATA, PADDED, 1, &[3, b'a', b'b', 0, 0, 0]));
        stream.extend(frame(DATA, END_STREAM, 1, b"cd"));
        let (headers, data, ends, result) = run(&mut H2Decoder::new(1024), &stream);
        result.expect("valid");
        assert_eq!(headers.len(), 1);
        assert_eq!(data, [(1, b"abcd".to_vec())]);
        assert_eq!(ends, [1]);
    }

    #[test]
    fn hostile_connections_are_capped() {
        // HPACK table-size attack: an update to 2^28.
        let attack = frame(HEADERS, END_HEADERS, 1, &[0x3f, 0xe1, 0xff, 0xff, 0x7f, 0x82]);
        assert!(matches!(run(&mut H2Decoder::new(1024), &attack).3, Err(H2Error::Hpack(_))));
        // A header block over the cap is refused before it is held.
        let big = frame(HEADERS, 0, 1, &[0; 2000]);
        assert_eq!(run(&mut H2Decoder::new(1024), &big[..FRAME_HEADER_LEN]).3, Err(H2Error::HeaderBlockTooLarge));
        // HPACK bomb: one 3000-byte entry, then repeated 4000 times by a one-byte index.
        let mut bomb = vec![0x40, 0x01, b'x', 0x7f, 0xb9, 0x16];
        bomb.extend(std::iter::repeat_n(b'v', 3000));
        bomb.extend(std::iter::repeat_n(0xbe, 4000));
        let mut decoder = H2Decoder::new(16 * 1024);
        let mut sizes = Vec::new();
        decoder
            .push(&frame(HEADERS, END_HEADERS, 1, &bomb), &mut |event| {
                if let H2Event::Headers { fields, truncated, .. } = event {
                    sizes.push((fields.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>(), truncated));
                }
            })
            .expect("a valid block");
        assert_eq!(sizes.len(), 1);
        assert!(sizes[0].0 <= 16 * 1024 && sizes[0].1, "{sizes:?}");
        // A frame interrupting a header block.
        let mut interrupted = frame(HEADERS, 0, 1, &[0x82]);
        interrupted.extend(frame(DATA, 0, 1, b"x"));
        assert_eq!(run(&mut H2Decoder::new(1024), &interrupted).3, Err(H2Error::ExpectedContinuation));
        assert_eq!(run(&mut H2Decoder::new(1024), &frame(DATA, PADDED, 1, &[9, 1])).3, Err(H2Error::BadPadding));
    }

    proptest! {
        /// A connection fed in any segments gives the same events.
        #[test]
        fn any_segmentation_gives_the_same_events(
            bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 1..4),
            segments in prop::collection::vec(1usize..700, 1..6),
        ) {
            let block = hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");
            let mut stream = Vec::new();
            for (i, body) in bodies.iter().enumerate() {
                let id = 2 * i as u32 + 1;
                stream.extend(frame(HEADERS, END_HEADERS, id, if i == 0 { &block } else { &[0x82, 0x86, 0x84, 0xbe] }));
                for piece in body.chunks(1000) {
                    stream.extend(frame(DATA, 0, id, piece));
                }
                stream.extend(frame(DATA, END_STREAM, id, b""));
            }
            let whole = run(&mut H2Decoder::new(4096), &stream);
            let mut decoder = H2Decoder::new(4096);
            let (mut headers, mut data, mut ends) = (Vec::new(), Vec::new(), Vec::new());
            let mut at = 0;
            for len in segments.iter().cycle() {
                if at >= stream.len() { break; }
                let end = (at + len).min(stream.len());
                let (h, d, e, result) = run(&mut decoder, &stream[at..end]);
                prop_assert!(result.is_ok());
                headers.extend(h);
                for (s, bytes) in d {
                    match data.last_mut() {
                        Some((last, all)) if *last == s => Vec::extend_from_slice(all, &bytes),
                        _ => data.push((s, bytes)),
                    }
                }
                ends.extend(e);
                at = end;
            }
            prop_assert_eq!(&headers, &whole.0);
            prop_assert_eq!(&ends, &whole.2);
            let expected: Vec<(u32, Vec<u8>)> =
                bodies.iter().enumerate().filter(|(_, b)| !b.is_empty()).map(|(i, b)| (2 * i as u32 + 1, b.clone())).collect();
            prop_assert_eq!(data, expected);
        }

        #[test]
        fn hostile_input_never_panics(input in prop::collection::vec(any::<u8>(), 0..4000), cap in 0usize..2000) {
            let mut decoder = H2Decoder::new(cap);
            let _ = decoder.push(&input, &mut |event| {
                if let H2Event::Headers { fields, .. } = event {
                    assert!(fields.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>() <= cap);
                }
            });
        }
    }
}
