//! The ClientHello message (RFC 8446 §4.1.2) and the extensions an inspector cares about.

use crate::reader::{u16_list, Reader};
use crate::TlsError;

/// Handshake message type of a ClientHello.
const CLIENT_HELLO: u8 = 1;

/// Extension types read by the parser.
pub mod ext {
    /// server_name (RFC 6066).
    pub const SERVER_NAME: u16 = 0x0000;
    /// supported_groups (RFC 8422).
    pub const SUPPORTED_GROUPS: u16 = 0x000a;
    /// signature_algorithms (RFC 8446).
    pub const SIGNATURE_ALGORITHMS: u16 = 0x000d;
    /// application_layer_protocol_negotiation (RFC 7301).
    pub const ALPN: u16 = 0x0010;
    /// supported_versions (RFC 8446).
    pub const SUPPORTED_VERSIONS: u16 = 0x002b;
    /// encrypted_client_hello (draft-ietf-tls-esni).
    pub const ENCRYPTED_CLIENT_HELLO: u16 = 0xfe0d;
}

/// What a ClientHello says about the client. Lists keep wire order and GREASE values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` of the hello body (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// Versions offered in the supported_versions extension.
    pub supported_versions: Vec<u16>,
    /// Cipher suites, wire order.
    pub cipher_suites: Vec<u16>,
    /// Extension types, wire order.
    pub extensions: Vec<u16>,
    /// The first host_name of the server_name extension.
    pub server_name: Option<String>,
    /// ALPN protocol names, wire order (lossy UTF-8).
    pub alpn: Vec<String>,
    /// Signature algorithms, wire order.
    pub signature_algorithms: Vec<u16>,
    /// Supported groups, wire order.
    pub supported_groups: Vec<u16>,
    /// Whether the encrypted_client_hello extension (0xfe0d) is present: the SNI is then an outer decoy.
    pub has_ech: bool,
    /// Whether the message was cut short: only the fields read before the cut are filled in.
    pub truncated: bool,
    /// First and last byte of the first ALPN value, which JA4 needs raw (lossy UTF-8 would lose them).
    pub(crate) first_alpn_ends: Option<(u8, u8)>,
}

/// True for the reserved GREASE values of RFC 8701 (0x0a0a, 0x1a1a, …, 0xfafa).
pub fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

impl ClientHello {
    /// The highest version offered: supported_versions if present (GREASE ignored), else `legacy_version`.
    pub fn max_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max_by_key(|&v| version_rank(v))
            .unwrap_or(self.legacy_version)
    }

    /// Whether the extension type appears in the hello.
    pub fn has_extension(&self, ext_type: u16) -> bool {
        self.extensions.contains(&ext_type)
    }
}

/// DTLS versions count down (0xfeff is 1.0, 0xfefc is 1.3), so their rank is the complement.
fn version_rank(version: u16) -> u16 {
    if version >= 0xfe00 {
        !version
    } else {
        version
    }
}

/// Parses a bare handshake message (type, 24-bit length, body), e.g. from QUIC CRYPTO frames.
pub fn parse_client_hello_message(msg: &[u8]) -> Result<ClientHello, TlsError> {
    parse_message(msg, Mode::Strict)
}

/// Best effort on a bare handshake message that was cut short: the fields complete before the cut.
pub fn parse_client_hello_message_prefix(msg: &[u8]) -> Option<ClientHello> {
    parse_message(msg, Mode::Prefix).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The whole message must be present.
    Strict,
    /// The message may be cut short; keep what was complete and set `truncated`.
    Prefix,
}

pub(crate) fn parse_message(msg: &[u8], mode: Mode) -> Result<ClientHello, TlsError> {
    let mut r = Reader::new(msg);
    let msg_type = r.u8().ok_or(TlsError::Truncated)?;
    if msg_type != CLIENT_HELLO {
        return Err(TlsError::NotClientHello(msg_type));
    }
    let len = r.u24().ok_or(TlsError::Truncated)?;
    let body = match (r.take(len), mode) {
        (Some(body), _) => body,
        (None, Mode::Prefix) => r.rest(),
        (None, Mode::Strict) => return Err(TlsError::Truncated),
    };
    let mut hello = parse_body(body, mode)?;
    hello.truncated |= body.len() < len;
    Ok(hello)
}

fn parse_body(body: &[u8], mode: Mode) -> Result<ClientHello, TlsError> {
    let mut hello = ClientHello::default();
    let mut r = Reader::new(body);
    // A cut in the fixed fields leaves nothing worth reporting, even in prefix mode.
    hello.legacy_version = r.u16().ok_or(TlsError::Truncated)?;
    r.take(32).ok_or(TlsError::Truncated)?;
    let fixed_fields = (|| {
        let session_id = r.vec8()?;
        let suites = r.vec16()?;
        r.vec8()?; // compression methods
        Some((session_id, suites))
    })();
    let Some((session_id, suites)) = fixed_fields else {
        return cut(hello, mode);
    };
    if session_id.len() > 32 {
        return Err(TlsError::Malformed("session id longer than 32 bytes"));
    }
    hello.cipher_suites = u16_list(suites).ok_or(TlsError::Malformed("odd cipher suites length"))?;
    if r.is_empty() {
        return Ok(hello); // no extensions: a valid (pre-TLS 1.3) hello
    }
    let Some(ext_len) = r.u16() else { return cut(hello, mode) };
    let mut exts = match r.take(usize::from(ext_len)) {
        Some(exts) => Reader::new(exts),
        None if mode == Mode::Prefix => {
            hello.truncated = true;
            Reader::new(r.rest())
        }
        None => return Err(TlsError::Truncated),
    };
    while !exts.is_empty() {
        let parts = (|| Some((exts.u16()?, exts.vec16()?)))();
        let Some((ext_type, data)) = parts else {
            return cut(hello, mode);
        };
        hello.extensions.push(ext_type);
        if let Err(error) = read_extension(&mut hello, ext_type, data) {
            // A damaged extension after the SNI (seen in the wild) still leaves the SNI readable.
            match mode {
                Mode::Strict => return Err(error),
                Mode::Prefix => {
                    hello.truncated = true;
                    return Ok(hello);
                }
            }
        }
    }
    Ok(hello)
}

/// The message ended inside a field: an error unless a prefix was asked for.
fn cut(mut hello: ClientHello, mode: Mode) -> Result<ClientHello, TlsError> {
    match mode {
        Mode::Strict => Err(TlsError::Truncated),
        Mode::Prefix => {
            hello.truncated = true;
            Ok(hello)
        }
    }
}

fn read_extension(hello: &mut ClientHello, ext_type: u16, data: &[u8]) -> Result<(), TlsError> {
    let mut r = Reader::new(data);
    match ext_type {
        ext::SERVER_NAME if hello.server_name.is_none() => {
            hello.server_name = first_host_name(data).ok_or(TlsError::Malformed("server_name"))?;
        }
        ext::ALPN if hello.alpn.is_empty() => {
            let mut list = Reader::new(r.vec16().ok_or(TlsError::Malformed("alpn"))?);
            while !list.is_empty() {
                let name = list.vec8().ok_or(TlsError::Malformed("alpn"))?;
                if hello.alpn.is_empty() {
                    hello.first_alpn_ends = name.first().zip(name.last()).map(|(&a, &b)| (a, b));
                }
                hello.alpn.push(String::from_utf8_lossy(name).into_owned());
            }
        }
        ext::SIGNATURE_ALGORITHMS if hello.signature_algorithms.is_empty() => {
            hello.signature_algorithms =
                r.vec16().and_then(u16_list).ok_or(TlsError::Malformed("signature_algorithms"))?;
        }
        ext::SUPPORTED_GROUPS if hello.supported_groups.is_empty() => {
            hello.supported_groups = r.vec16().and_then(u16_list).ok_or(TlsError::Malformed("supported_groups"))?;
        }
        ext::SUPPORTED_VERSIONS if hello.supported_versions.is_empty() => {
            hello.supported_versions = r.vec8().and_then(u16_list).ok_or(TlsError::Malformed("supported_versions"))?;
        }
        ext::ENCRYPTED_CLIENT_HELLO => hello.has_ech = true,
        _ => {}
    }
    Ok(())
}

/// The first host_name entry of a server_name extension; `Some(None)` for a list without one.
fn first_host_name(data: &[u8]) -> Option<Option<String>> {
    let mut list = Reader::new(Reader::new(data).vec16()?);
    while !list.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            return Some(Some(String::from_utf8_lossy(name).into_owned()));
        }
    }
    Some(None)
}
