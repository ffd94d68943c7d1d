//! WebSocket frames (RFC 6455 §5): de-framed, client frames unmasked, fragmented messages reassembled up
//! to a cap, and `permessage-deflate` messages (RFC 7692) inflated with the connection's shared window.
//!
//! A frame's payload streams through: a frame claiming gigabytes costs nothing but the bytes that come.

use flate2::{Decompress, FlushDecompress, Status};

/// What a message was sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

/// One whole message (data) or control frame, as far as the cap kept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsMessage<'a> {
    pub opcode: Opcode,
    /// The unmasked (and inflated) payload, at most the cap.
    pub payload: &'a [u8],
    /// More was sent than the cap kept.
    pub truncated: bool,
}

/// Why a stream is not (or no longer) WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    /// The 64-bit length has its top bit set (RFC 6455 §5.2 forbids it): 2^63 bytes and more.
    #[error("frame length of 2^63 bytes or more")]
    LengthTooLarge,
    #[error("reserved opcode {0}")]
    ReservedOpcode(u8),
    #[error("control frame fragmented or longer than 125 bytes")]
    BadControlFrame,
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    #[error("new message inside a fragmented one")]
    UnfinishedMessage,
    #[error("compressed message cannot be inflated")]
    Inflate,
}

/// A frame being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    /// Payload bytes still to come.
    left: u64,
    /// Payload bytes seen so far (the mask key's phase).
    seen: u64,
}

/// The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask key.
const MAX_HEADER: usize = 14;

/// De-frames one direction of a WebSocket connection.
pub struct WsDecoder {
    cap: usize,
    header: Vec<u8>,
    frame: Option<Frame>,
    /// Opcode of the data message being reassembled, and whether it is compressed.
    message: Option<(Opcode, bool)>,
    buffer: Vec<u8>,
    truncated: bool,
    control: Vec<u8>,
    /// The `permessage-deflate` window, kept across messages (context takeover).
    inflater: Option<Box<Decompress>>,
    /// A compressed message was not inflated to its end: the window is lost.
    inflater_lost: bool,
    broken: Option<WsError>,
}

impl std::fmt::Debug for WsDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsDecoder").field("cap", &self.cap).field("broken", &self.broken).finish_non_exhaustive()
    }
}

impl WsDecoder {
    /// A decoder keeping at most `cap` bytes of each message.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            header: Vec::with_capacity(MAX_HEADER),
            frame: None,
            message: None,
            buffer: Vec::new(),
            truncated: false,
            control: Vec::new(),
            inflater: None,
            inflater_lost: false,
            broken: None,
        }
    }

    /// Reads `input`, handing each complete message or control frame to `out`. After an error the decoder
    /// stays broken: what follows is not WebSocket as far as it can tell.
    pub fn push(&mut self, mut input: &[u8], out: &mut dyn FnMut(WsMessage<'_>)) -> Result<(), WsError> {
        if let Some(error) = self.broken {
            return Err(error);
        }
        // An empty frame ends without input.
        while !input.is_empty() || self.frame.is_some_and(|f| f.left == 0) {
            let result = match self.frame {
                None => self.read_header(&mut input),
                Some(frame) => self.read_payload(frame, &mut input, out),
            };
            if let Err(error) = result {
                self.broken = Some(error);
                return Err(error);
            }
        }
        Ok(())
    }

    /// A partial message at the end of the stream, if any was being reassembled.
    pub fn finish(&mut self, out: &mut dyn FnMut(WsMessage<'_>)) {
        if let Some((opcode, _)) = self.message.take() {
            out(WsMessage { opcode, payload: &self.buffer, truncated: true });
        }
    }

    fn read_header(&mut self, input: &mut &[u8]) -> Result<(), WsError> {
        // Bytes one at a time until the header is whole: it is at most 14 bytes.
        while let Some((&byte, rest)) = input.split_first() {
            self.header.push(byte);
            *input = rest;
            if let Some(frame) = parse_header(&self.header)? {
                self.header.clear();
                return self.start_frame(frame);
            }
        }
        Ok(())
    }

    fn start_frame(&mut self, frame: Frame) -> Result<(), WsError> {
        let compressed = frame.opcode & 0x40 != 0;
        let opcode = frame.opcode & 0x0f;
        match opcode {
            0 if self.message.is_none() => return Err(WsError::UnexpectedContinuation),
            1 | 2 if self.message.is_some() => return Err(WsError::UnfinishedMessage),
            1 | 2 => {
                let kind = if opcode == 1 { Opcode::Text } else { Opcode::Binary };
                self.message = Some((kind, compressed));
                self.buffer.clear();
                self.truncated = false;
            }
            8..=10 if !frame.fin || frame.left > 125 => return Err(WsError::BadControlFrame),
            8..=10 => self.control.clear(),
            0 => {}
            reserved => return Err(WsError::ReservedOpcode(reserved)),
        }
        self.frame = Some(Frame { opcode, ..frame });
        Ok(())
    }

    fn read_payload(
        &mut self,
        frame: Frame,
        input: &mut &[u8],
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), WsError> {
        let take = usize::try_from(frame.left).map_or(input.len(), |left| left.min(input.len()));
        let (chunk, rest) = input.split_at(take);
        *input = rest;
        let mut unmasked = chunk.to_vec();
        if let Some(key) = frame.mask {
            for (i, byte) in unmasked.iter_mut().enumerate() {
                let phase = (frame.seen + i as u64) % 4;
                *byte ^= key[phase as usize];
            }
        }
        let frame = Frame { left: frame.left - take as u64, seen: frame.seen + take as u64, ..frame };
        self.frame = Some(frame);
        if frame.opcode >= 8 {
            self.control.extend_from_slice(&unmasked);
        } else {
            self.append(&unmasked, false)?;
        }
        if frame.left > 0 {
            return Ok(());
        }
        self.frame = None;
        let opcode = match frame.opcode {
            8 => Some(Opcode::Close),
            9 => Some(Opcode::Ping),
            10 => Some(Opcode::Pong),
            _ => None,
        };
        if let Some(opcode) = opcode {
            out(WsMessage { opcode, payload: &self.control, truncated: false });
        } else if frame.fin {
            self.append(&[], true)?;
            if let Some((opcode, _)) = self.message.take() {
                out(WsMessage { opcode, payload: &self.buffer, truncated: self.truncated });
            }
        }
        Ok(())
    }

    /// Adds payload to the message being reassembled (inflating it if compressed); `last` ends it.
    fn append(&mut self, payload: &[u8], last: bool) -> Result<(), WsError> {
        let Some((_, compressed)) = self.message else { return Ok(()) };
        if !compressed {
            let room = self.cap.saturating_sub(self.buffer.len());
            self.buffer.extend_from_slice(payload.get(..room.min(payload.len())).unwrap_or_default());
            self.truncated |= payload.len() > room;
            return Ok(());
        }
        if self.inflater_lost {
            return Err(WsError::Inflate);
        }
        // RFC 7692 §7.2.2: the sender removed the empty stored block that ends each message; put it back.
        let tail: &[u8] = if last { &[0, 0, 0xff, 0xff] } else { &[] };
        for piece in [payload, tail] {
            if !self.inflate(piece) {
                self.inflater_lost = true;
                self.truncated = true;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Inflates `input` into the message up to the cap; false once the window can no longer be followed
    /// (a stream error, or output past the cap that would cost unbounded work to follow).
    fn inflate(&mut self, mut input: &[u8]) -> bool {
        let inflater = self.inflater.get_or_insert_with(|| Box::new(Decompress::new(false)));
        while !input.is_empty() {
            let room = self.cap.saturating_sub(self.buffer.len());
            if room == 0 {
                return false;
            }
            let before_in = inflater.total_in();
            let before_len = self.buffer.len();
            self.buffer.reserve(room.min(16 * 1024));
            let status = inflater.decompress_vec(input, &mut self.buffer, FlushDecompress::Sync);
            let consumed = usize::try_from(inflater.total_in() - before_in).unwrap_or(input.len());
            input = input.get(consumed..).unwrap_or_default();
            self.buffer.truncate(before_len + room.min(self.buffer.len() - before_len));
            match status {
                Ok(Status::Ok | Status::BufError) if consumed > 0 || self.buffer.len() > before_len => {}
                Ok(Status::StreamEnd) => {
                    // A final block (a sender without context takeover may set it): the next message starts afresh.
                    inflater.reset(false);
                    return true;
                }
                _ => return false,
            }
        }
        true
    }
}

/// A whole frame header at the start of `header`, `None` while it is incomplete.
fn parse_header(header: &[u8]) -> Result<Option<Frame>, WsError> {
    let [first, second, rest @ ..] = header else { return Ok(None) };
    let (len_bytes, mask_bytes) = (
        match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        },
        if second & 0x80 != 0 { 4 } else { 0 },
    );
    if rest.len() < len_bytes + mask_bytes {
        return Ok(None);
    }
    let left = match len_bytes {
        0 => u64::from(second & 0x7f),
        n => rest.get(..n).unwrap_or_default().iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)),
    };
    if left >> 63 != 0 {
        return Err(WsError::LengthTooLarge);
    }
    let mask = rest.get(len_bytes..len_bytes + 4).filter(|_| mask_bytes == 4).and_then(|k| k.try_into().ok());
    // Keep RSV1 (0x40) with the opcode: it marks a compressed message.
    Ok(Some(Frame { fin: first & 0x80 != 0, opcode: first & 0x4f, mask, left, seen: 0 }))
}

/// Whether `prefix` can start a client's WebSocket frame: a known opcode and the mask bit set.
pub fn looks_like_client_frame(prefix: &[u8]) -> Option<bool> {
    let [first, second, ..] = prefix else { return None };
    let opcode = first & 0x0f;
    let reserved_bits = first & 0x30;
    Some(matches!(opcode, 0..=2 | 8..=10) && reserved_bits == 0 && second & 0x80 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Messages = Vec<(Opcode, Vec<u8>, bool)>;

    fn messages(decoder: &mut WsDecoder, input: &[u8]) -> (Messages, Result<(), WsError>) {
        let mut out = Vec::new();
        let result = decoder.push(input, &mut |m| out.push((m.opcode, m.payload.to_vec(), m.truncated)));
        (out, result)
    }

    fn one(input: &[u8]) -> Messages {
        let (out, result) = messages(&mut WsDecoder::new(1 << 20), input);
        result.expect("valid frames");
        out
    }

    /// The examples of RFC 6455 §5.7.
    #[test]
    fn rfc_6455_examples() {
        let hello = vec![(Opcode::Text, b"Hello".to_vec(), false)];
        assert_eq!(one(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), hello);
        // A single-frame masked text message.
        assert_eq!(one(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]), hello);
        // A fragmented unmasked text message.
        assert_eq!(one(&[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]), hello);
        // Unmasked ping, masked pong.
        assert_eq!(one(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), [(Opcode::Ping, b"Hello".to_vec(), false)]);
        let pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(one(&pong), [(Opcode::Pong, b"Hello".to_vec(), false)]);
        // 256 bytes and 64 KiB binary messages in single unmasked frames.
        for (header, len) in [(&[0x82, 0x7e, 0x01, 0x00][..], 256), (&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0][..], 65536)]
        {
            let mut frame = header.to_vec();
            frame.extend((0..len).map(|i| (i % 251) as u8));
            let got = one(&frame);
            assert_eq!((got.len(), got[0].1.len()), (1, len));
        }
    }

    #[test]
    fn control_frames_between_fragments_and_empty_frames() {
        let stream = [0x01, 0x02, b'a', b'b', 0x89, 0x00, 0x00, 0x00, 0x80, 0x01, b'c', 0x81, 0x00];
        assert_eq!(
            one(&stream),
            [(Opcode::Ping, vec![], false), (Opcode::Text, b"abc".to_vec(), false), (Opcode::Text, vec![], false)]
        );
    }

    #[test]
    fn hostile_frames_are_refused_or_capped() {
        // A frame claiming 2^63 bytes.
        let claim = [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(messages(&mut WsDecoder::new(100), &claim).1, Err(WsError::LengthTooLarge));
        // 2^63 - 1 is legal: its payload streams through, the message keeps the cap.
        let mut huge = vec![0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        huge.extend_from_slice(&[7u8; 5000]);
        let mut decoder = WsDecoder::new(100);
        let (out, result) = messages(&mut decoder, &huge);
        assert_eq!((out.len(), result), (0, Ok(())));
        let mut partial = Vec::new();
        decoder.finish(&mut |m| partial.push((m.payload.len(), m.truncated)));
        assert_eq!(partial, [(100, true)]);
        assert_eq!(messages(&mut WsDecoder::new(100), &[0x83, 0x80, 0, 0, 0, 0]).1, Err(WsError::ReservedOpcode(3)));
        assert_eq!(messages(&mut WsDecoder::new(100), &[0x09, 0x80, 0, 0, 0, 0]).1, Err(WsError::BadControlFrame));
        assert_eq!(
            messages(&mut WsDecoder::new(100), &[0x80, 0x80, 0, 0, 0, 0]).1,
            Err(WsError::UnexpectedContinuation)
        );
        let mut decoder = WsDecoder::new(100);
        assert_eq!(
            messages(&mut decoder, &[0x01, 0x80, 0, 0, 0, 0, 0x01, 0x80, 0, 0, 0, 0]).1,
            Err(WsError::UnfinishedMessage)
        );
        // Broken stays broken.
        assert_eq!(messages(&mut decoder, &[0x81, 0x00]).1, Err(WsError::UnfinishedMessage));
    }

    /// RFC 7692 §7.2.3.1: "Hello" compressed, then the same again with the shared window.
    #[test]
    fn permessage_deflate_with_context_takeover() {
        let mut decoder = WsDecoder::new(1000);
        let first = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let second = [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00];
        let (out, result) = messages(&mut decoder, &[&first[..], &second[..]].concat());
        result.expect("valid");
        assert_eq!(out, [(Opcode::Text, b"Hello".to_vec(), false), (Opcode::Text, b"Hello".to_vec(), false)]);
    }

    /// Frames of `payload` split into `fragments`, masked with `key` (or not).
    fn frames(payload: &[u8], fragments: &[usize], key: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut first = true;
        loop {
            let end = (at + fragments.get(out.len() % fragments.len().max(1)).copied().unwrap_or(payload.len()))
                .min(payload.len());
            let fin = end == payload.len();
            let opcode = if first { 2 } else { 0 };
            out.push(if fin { 0x80 | opcode } else { opcode });
            let len = end - at;
            let mask_bit = if key.is_some() { 0x80 } else { 0 };
            match len {
                0..=125 => out.push(mask_bit | len as u8),
                126..=65535 => {
                    out.push(mask_bit | 126);
                    out.extend_from_slice(&(len as u16).to_be_bytes());
                }
                _ => {
                    out.push(mask_bit | 127);
                    out.extend_from_slice(&(len as u64).to_be_bytes());
                }
            }
            if let Some(key) = key {
                out.extend_from_slice(&key);
            }
            out.extend(payload[at..end].iter().enumerate().map(|(i, b)| b ^ key.map_or(0, |k| k[i % 4])));
            at = end;
            first = false;
            if fin {
                return out;
            }
        }
    }

    proptest! {
        /// Any message, fragmented and masked any way, fed in any segments, reassembles to itself.
        #[test]
        fn any_fragmentation_masking_and_segmentation(
            payload in prop::collection::vec(any::<u8>(), 0..70_000),
            fragments in prop::collection::vec(1usize..70_000, 1..4),
            key in prop::option::of(any::<[u8; 4]>()),
            segments in prop::collection::vec(1usize..5000, 1..6),
        ) {
            let stream = frames(&payload, &fragments, key);
            let mut decoder = WsDecoder::new(1 << 20);
            let mut out = Vec::new();
            let mut at = 0;
            for len in segments.iter().cycle() {
                if at >= stream.len() { break; }
                let end = (at + len).min(stream.len());
                decoder.push(&stream[at..end], &mut |m| out.push(m.payload.to_vec())).expect("valid");
                at = end;
            }
            prop_assert_eq!(out, vec![payload]);
        }

        #[test]
        fn hostile_input_never_panics_or_exceeds_the_cap(
            input in prop::collection::vec(any::<u8>(), 0..3000),
            cap in 0usize..500,
        ) {
            let mut decoder = WsDecoder::new(cap);
            let mut sizes = Vec::new();
            let _ = decoder.push(&input, &mut |m| sizes.push(m.payload.len().saturating_sub(if m.opcode == Opcode::Text || m.opcode == Opcode::Binary { cap } else { 125 })));
            decoder.finish(&mut |m| sizes.push(m.payload.len().saturating_sub(cap)));
            prop_assert!(sizes.iter().all(|excess| *excess == 0));
        }
    }
}
