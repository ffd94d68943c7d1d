//! TLS ClientHello parsing (SNI, ALPN, versions, ECH), JA4 fingerprints, and the ServerHello's
//! negotiated version, cipher suite and ALPN.
//!
//! Hand-written rather than on `tls-parser`: an inspector needs GREASE and the raw extension order
//! kept, records spanning segments gathered without copying in the common case, and the fields of
//! a ClientHello that was cut short (snap length, lost segments), which a strict parser rejects.
//! Nothing here panics or reads out of bounds on any input (see the property tests).

mod hello;
mod ja4;
pub mod reader;
mod record;
mod server;

pub use hello::{ext, is_grease, parse_client_hello_message, parse_client_hello_message_prefix, ClientHello};
pub use ja4::Ja4Transport;
pub use record::{
    looks_like_tls, parse_client_hello_prefix, parse_client_hello_records, parse_server_hello_records, HelloParse,
    MAX_HELLO_LEN,
};
pub use server::{parse_server_hello_message, ServerHello};

/// Why a handshake message is not a usable hello.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// The message ends before its declared length or inside a field.
    #[error("handshake message truncated")]
    Truncated,
    /// The handshake message is of another type.
    #[error("handshake message type {0} is not a ClientHello")]
    NotClientHello(u8),
    /// The handshake message is of another type.
    #[error("handshake message type {0} is not a ServerHello")]
    NotServerHello(u8),
    /// A field is inconsistent with its length or its definition.
    #[error("malformed ClientHello: {0}")]
    Malformed(&'static str),
}

#[cfg(test)]
mod tests;
