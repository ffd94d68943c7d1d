//! The TLS record layer (RFC 8446 §5.1) on the first bytes of a client→server stream: gathers the
//! handshake fragments that carry the ClientHello, which may span several records and segments.

use std::borrow::Cow;

use crate::hello::{parse_message, ClientHello, Mode};
use crate::reader::Reader;
use crate::server::{parse_server_hello_message, ServerHello};

const RECORD_HANDSHAKE: u8 = 0x16;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;
const RECORD_HEADER_LEN: usize = 5;
const HANDSHAKE_HEADER_LEN: usize = 4;
/// Largest record payload a peer may send (2^14 plus the allowed expansion of RFC 5246 §6.2.3).
const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Largest ClientHello accepted; real ones are well under 8 KiB even with post-quantum key shares.
pub const MAX_HELLO_LEN: usize = 1 << 16;

/// The outcome of reading a hello (a ClientHello unless said otherwise) from the start of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelloParse<Hello = ClientHello> {
    /// The whole hello was present and well-formed.
    Complete(Hello),
    /// Plausible TLS so far; call again with more bytes of the stream.
    Incomplete,
    /// Not a TLS hello of the expected kind (or a malformed one).
    NotTls,
}

/// Parses the ClientHello at the start of a client→server TCP stream (records, possibly several).
pub fn parse_client_hello_records(stream: &[u8]) -> HelloParse {
    parse_records(stream, HANDSHAKE_CLIENT_HELLO, |msg| parse_message(msg, Mode::Strict).ok())
}

/// Parses the ServerHello at the start of a server→client TCP stream: the negotiated version,
/// cipher suite and ALPN protocol.
pub fn parse_server_hello_records(stream: &[u8]) -> HelloParse<ServerHello> {
    parse_records(stream, HANDSHAKE_SERVER_HELLO, |msg| parse_server_hello_message(msg).ok())
}

fn parse_records<Hello>(
    stream: &[u8],
    handshake_type: u8,
    parse: impl Fn(&[u8]) -> Option<Hello>,
) -> HelloParse<Hello> {
    match gather(stream, handshake_type) {
        Gathered::Complete(msg) => parse(&msg).map_or(HelloParse::NotTls, HelloParse::Complete),
        Gathered::Partial(_) => HelloParse::Incomplete,
        Gathered::NotTls => HelloParse::NotTls,
    }
}

/// Best effort on a stream that will not grow (snap length, lost segments, flow ended): the fields
/// that were complete before the cut, e.g. the SNI. `None` if not TLS or too short to say anything.
pub fn parse_client_hello_prefix(stream: &[u8]) -> Option<ClientHello> {
    match gather(stream, HANDSHAKE_CLIENT_HELLO) {
        Gathered::Complete(msg) | Gathered::Partial(msg) => parse_message(&msg, Mode::Prefix).ok(),
        Gathered::NotTls => None,
    }
}

/// Early labelling from the first bytes: `Some(true)` for a TLS handshake record carrying a
/// ClientHello, `Some(false)` when a byte rules it out, `None` while too few bytes decide.
pub fn looks_like_tls(prefix: &[u8]) -> Option<bool> {
    match gather(prefix.get(..RECORD_HEADER_LEN + 1).unwrap_or(prefix), HANDSHAKE_CLIENT_HELLO) {
        Gathered::NotTls => Some(false),
        _ if prefix.len() > RECORD_HEADER_LEN => Some(true),
        _ => None,
    }
}

enum Gathered<'a> {
    /// The handshake message, complete (header included).
    Complete(Cow<'a, [u8]>),
    /// The start of the handshake message; more bytes may follow.
    Partial(Cow<'a, [u8]>),
    NotTls,
}

/// The handshake message of `handshake_type` that starts the stream, gathered across records.
fn gather(stream: &[u8], handshake_type: u8) -> Gathered<'_> {
    let mut records = Reader::new(stream);
    let mut msg: Cow<'_, [u8]> = Cow::Borrowed(&[]);
    loop {
        let Some(header) = records.take(RECORD_HEADER_LEN) else {
            // A cut header still has to look like one.
            return if plausible_header_prefix(records.rest()) { Gathered::Partial(msg) } else { Gathered::NotTls };
        };
        let Some(len) = record_len(header) else { return Gathered::NotTls };
        let (fragment, cut) = match records.take(len) {
            Some(fragment) => (fragment, false),
            None => (std::mem::replace(&mut records, Reader::new(&[])).rest(), true),
        };
        if msg.is_empty() {
            msg = Cow::Borrowed(fragment);
        } else {
            msg.to_mut().extend_from_slice(fragment);
        }
        let mut hs = Reader::new(&msg);
        if hs.u8().is_some_and(|t| t != handshake_type) {
            return Gathered::NotTls;
        }
        if let Some(body_len) = hs.u24() {
            if body_len > MAX_HELLO_LEN {
                return Gathered::NotTls;
            }
            let total = HANDSHAKE_HEADER_LEN + body_len;
            if msg.len() >= total {
                return Gathered::Complete(match msg {
                    Cow::Borrowed(b) => Cow::Borrowed(b.get(..total).unwrap_or(b)),
                    Cow::Owned(mut v) => {
                        v.truncate(total);
                        Cow::Owned(v)
                    }
                });
            }
        }
        if cut {
            return Gathered::Partial(msg);
        }
    }
}

/// Payload length of a handshake record header, `None` if the header is not one.
fn record_len(header: &[u8]) -> Option<usize> {
    let mut r = Reader::new(header);
    let (content_type, version, len) = (r.u8()?, r.u16()?, usize::from(r.u16()?));
    let valid =
        content_type == RECORD_HANDSHAKE && (0x0300..=0x0304).contains(&version) && (1..=MAX_RECORD_LEN).contains(&len);
    valid.then_some(len)
}

/// Whether the bytes can begin a handshake record header.
fn plausible_header_prefix(bytes: &[u8]) -> bool {
    let expected: [fn(u8) -> bool; 3] = [|b| b == RECORD_HANDSHAKE, |b| b == 3, |b| b <= 4];
    bytes.iter().zip(expected).all(|(&b, ok)| ok(b))
}
