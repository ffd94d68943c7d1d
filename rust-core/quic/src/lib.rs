//! QUIC Initial decryption (v1, v2, drafts 22–34, mvfst, Google T050/T051/Q050) and ClientHello
//! extraction, plus the SNI of plaintext Google QUIC (Q043/Q046) CHLOs.
//!
//! Sans-IO: [`InitialDecoder`] is fed the client's datagrams of one flow. Crypto is `ring`'s
//! (HKDF, AES-128-GCM, AES header protection); the QUIC framing around it is hand-written because
//! no crate parses a client's Initial packets passively (quinn and quiche are endpoints that need
//! the server's side). Nothing here panics or reads out of bounds on any input.

mod decoder;
mod frames;
mod gquic;
mod keys;
mod reader;
mod version;

pub use decoder::{InitialDecoder, QuicHello, MAX_INITIAL_PACKETS};
pub use frames::MAX_CRYPTO_BYTES;
pub use version::{GOOGLE_Q050, VERSION_1, VERSION_2};

/// Why a datagram yielded nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuicError {
    /// The packet has a short header (1-RTT data): no Initial to read.
    #[error("not a long-header packet")]
    NotLongHeader,
    /// A long header with a version whose Initial protection is unknown (or version negotiation).
    #[error("unsupported QUIC version {0:#010x}")]
    UnsupportedVersion(u32),
    /// A header or frame field is cut short or inconsistent.
    #[error("malformed QUIC packet: {0}")]
    Malformed(&'static str),
    /// The packet failed authentication: not a client Initial for its connection ID, or corrupted.
    #[error("Initial packet failed to decrypt")]
    Decrypt,
    /// Key derivation failed (not expected with valid lengths).
    #[error("key derivation failed")]
    Crypto,
    /// A per-flow bound was reached; the decoder has given up on the flow.
    #[error("per-flow limit reached: {0}")]
    LimitExceeded(&'static str),
    /// The reassembled ClientHello is malformed.
    #[error(transparent)]
    Tls(#[from] phonehome_tls::TlsError),
}

#[cfg(test)]
mod tests;
