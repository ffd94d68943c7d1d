//! Client bytes built for tests and for the labelled leak corpus (feature `testing`): HPACK literals with
//! or without Huffman coding, HTTP/2 frames, masked WebSocket frames. Not used to read traffic.

/// Code lengths of the HPACK Huffman code (RFC 7541 Appendix B), symbols 0–256; the code is canonical, so
/// the lengths define it.
const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12,
    10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6,
    5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22,
    22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20,
    22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28,
    27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28,
    27, 27, 27, 27, 27, 26, 30,
];

/// The Huffman code of each symbol: (code, length), assigned canonically (by length, then symbol).
fn huffman_codes() -> Vec<(u32, u8)> {
    let mut symbols: Vec<usize> = (0..HUFFMAN_LENGTHS.len()).collect();
    symbols.sort_by_key(|&s| (HUFFMAN_LENGTHS[s], s));
    let mut codes = vec![(0u32, 0u8); HUFFMAN_LENGTHS.len()];
    let (mut code, mut previous) = (0u32, 0u8);
    for (i, &symbol) in symbols.iter().enumerate() {
        let length = HUFFMAN_LENGTHS[symbol];
        if i > 0 {
            code = (code + 1) << (length - previous);
        }
        previous = length;
        codes[symbol] = (code, length);
    }
    codes
}

/// `bytes` Huffman-coded (RFC 7541 §5.2), padded with the EOS prefix.
pub fn huffman(bytes: &[u8]) -> Vec<u8> {
    let codes = huffman_codes();
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for &b in bytes {
        let (code, length) = codes[usize::from(b)];
        acc = (acc << length) | u64::from(code);
        bits += u32::from(length);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | (0xff >> bits)) as u8);
    }
    out
}

/// An HPACK integer with an `n`-bit prefix whose other bits are `flags`.
fn integer(value: usize, n: u32, flags: u8, out: &mut Vec<u8>) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

fn string(text: &[u8], huffman_coded: bool, out: &mut Vec<u8>) {
    if huffman_coded {
        let coded = huffman(text);
        integer(coded.len(), 7, 0x80, out);
        out.extend_from_slice(&coded);
    } else {
        integer(text.len(), 7, 0, out);
        out.extend_from_slice(text);
    }
}

/// A header field as an HPACK literal with incremental indexing and a literal name (RFC 7541 §6.2.1).
pub fn hpack_literal(name: &[u8], value: &[u8], huffman_coded: bool) -> Vec<u8> {
    let mut out = vec![0x40];
    string(name, huffman_coded, &mut out);
    string(value, huffman_coded, &mut out);
    out
}

/// An HTTP/2 frame.
pub fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An h2c request on `stream`: HEADERS (every field a literal, Huffman-coded or not), then the body in DATA
/// frames of at most `frame` bytes, the last with END_STREAM.
pub fn h2_request(stream: u32, fields: &[(&str, &str)], body: &[u8], huffman_coded: bool, frame: usize) -> Vec<u8> {
    let block: Vec<u8> =
        fields.iter().flat_map(|(n, v)| hpack_literal(n.as_bytes(), v.as_bytes(), huffman_coded)).collect();
    let end_stream = if body.is_empty() { 0x1 } else { 0 };
    let mut out = h2_frame(0x1, 0x4 | end_stream, stream, &block);
    let pieces: Vec<&[u8]> = body.chunks(frame.max(1)).collect();
    for (i, piece) in pieces.iter().enumerate() {
        out.extend(h2_frame(0x0, if i + 1 == pieces.len() { 0x1 } else { 0 }, stream, piece));
    }
    out
}

/// A client's WebSocket frame: `first` is the FIN/RSV/opcode byte; the payload masked with `key`.
pub fn ws_frame(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=65535 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7541 C.4.1: "www.example.com" Huffman-coded.
    #[test]
    fn huffman_matches_the_rfc_and_round_trips_through_the_decoder() {
        assert_eq!(
            huffman(b"www.example.com"),
            [0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]
        );
        let every_byte: Vec<u8> = (0..=255).collect();
        let mut decoder = loona_hpack::Decoder::new();
        let decoded = decoder.decode(&hpack_literal(b"x", &every_byte, true)).expect("valid");
        assert_eq!(decoded, [(b"x".to_vec(), every_byte)]);
    }
}
