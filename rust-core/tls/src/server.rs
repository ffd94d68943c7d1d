//! The ServerHello message (RFC 8446 §4.1.3): what the server chose.

use crate::hello::ext;
use crate::reader::Reader;
use crate::TlsError;

/// The `random` of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11,
    0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What a ServerHello says about the negotiated connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` of the hello body.
    pub legacy_version: u16,
    /// The version chosen through supported_versions (TLS 1.3), if any.
    pub selected_version: Option<u16>,
    /// The cipher suite chosen.
    pub cipher_suite: u16,
    /// The ALPN protocol chosen (lossy UTF-8).
    pub alpn: Option<String>,
    /// Extension types, wire order.
    pub extensions: Vec<u16>,
    /// Whether this is a HelloRetryRequest rather than a real ServerHello.
    pub is_hello_retry_request: bool,
}

impl ServerHello {
    /// The negotiated version: supported_versions if present, else `legacy_version`.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// Parses a bare ServerHello handshake message (type, 24-bit length, body).
pub fn parse_server_hello_message(msg: &[u8]) -> Result<ServerHello, TlsError> {
    let mut r = Reader::new(msg);
    match r.u8().ok_or(TlsError::Truncated)? {
        2 => {}
        other => return Err(TlsError::NotServerHello(other)),
    }
    let len = r.u24().ok_or(TlsError::Truncated)?;
    let mut body = Reader::new(r.take(len).ok_or(TlsError::Truncated)?);
    let mut hello = ServerHello { legacy_version: body.u16().ok_or(TlsError::Truncated)?, ..ServerHello::default() };
    hello.is_hello_retry_request = body.take(32).ok_or(TlsError::Truncated)? == HELLO_RETRY_RANDOM;
    body.vec8().ok_or(TlsError::Truncated)?; // session id
    hello.cipher_suite = body.u16().ok_or(TlsError::Truncated)?;
    body.u8().ok_or(TlsError::Truncated)?; // compression method
    if body.is_empty() {
        return Ok(hello);
    }
    let mut exts = Reader::new(body.vec16().ok_or(TlsError::Truncated)?);
    while !exts.is_empty() {
        let ext_type = exts.u16().ok_or(TlsError::Truncated)?;
        let mut data = Reader::new(exts.vec16().ok_or(TlsError::Truncated)?);
        hello.extensions.push(ext_type);
        match ext_type {
            ext::SUPPORTED_VERSIONS => hello.selected_version = data.u16(),
            ext::ALPN => {
                let name = data.vec16().and_then(|list| Reader::new(list).vec8()).ok_or(TlsError::Malformed("alpn"))?;
                hello.alpn = Some(String::from_utf8_lossy(name).into_owned());
            }
            _ => {}
        }
    }
    Ok(hello)
}
