//! The per-flow decoder: client datagrams in, the ClientHello out once its CRYPTO bytes are all in.

use phonehome_tls::reader::Reader;
use phonehome_tls::{
    parse_client_hello_message, parse_client_hello_message_prefix, ClientHello, Ja4Transport, MAX_HELLO_LEN,
};

use crate::frames::{for_each_crypto_frame, CryptoStream, MAX_CRYPTO_BYTES};
use crate::gquic::{chlo_server_name, is_plaintext_gquic};
use crate::keys::{InitialKeys, KeyMaterial, Opened};
use crate::reader::QuicReads;
use crate::version::{initial_params, GOOGLE_Q050};
use crate::QuicError;

/// Most Initial packets decrypted per flow before the decoder gives up on it.
pub const MAX_INITIAL_PACKETS: usize = 64;
/// Longest connection ID of QUIC v1 and v2 (RFC 9000 §17.2).
const MAX_CID_LEN: usize = 20;

/// What the client's first flight says about the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicHello {
    /// The QUIC version of the Initial packets (e.g. 1, 0x6b3343cf, 0xff00001d, `Q046`).
    pub version: u32,
    /// The SNI of the ClientHello (or of a gQUIC CHLO).
    pub server_name: Option<String>,
    /// ALPN protocols offered (empty for gQUIC).
    pub alpn: Vec<String>,
    /// JA4 with the QUIC transport; `None` for gQUIC (no TLS ClientHello) and for a partial hello.
    pub ja4: Option<String>,
    /// The parsed ClientHello; `None` for gQUIC.
    pub client_hello: Option<ClientHello>,
}

impl QuicHello {
    fn from_client_hello(version: u32, hello: ClientHello) -> Self {
        QuicHello {
            version,
            server_name: hello.server_name.clone(),
            alpn: hello.alpn.clone(),
            ja4: (!hello.truncated).then(|| hello.ja4(Ja4Transport::Quic)),
            client_hello: Some(hello),
        }
    }

    fn from_chlo(version: u32, server_name: Option<String>) -> Self {
        QuicHello { version, server_name, alpn: Vec::new(), ja4: None, client_hello: None }
    }
}

/// The Initial keys that last opened a packet, with the DCID and version they were derived for.
struct CachedKeys {
    dcid: Vec<u8>,
    version: u32,
    keys: InitialKeys,
}

/// Decrypts the client's Initial packets of one flow and reassembles its ClientHello.
///
/// Feed it the client→server datagrams in order of arrival. Memory is bounded by
/// [`MAX_CRYPTO_BYTES`] and work by [`MAX_INITIAL_PACKETS`].
#[derive(Default)]
pub struct InitialDecoder {
    keys: Option<CachedKeys>,
    crypto: CryptoStream,
    largest_pn: Option<u64>,
    version: Option<u32>,
    packets: usize,
    finished: bool,
    /// A reused copy of the packet being decrypted in place.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for InitialDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialDecoder")
            .field("version", &self.version)
            .field("packets", &self.packets)
            .field("crypto_bytes", &self.crypto.received())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl InitialDecoder {
    /// A decoder for a new flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the hello was returned or the flow given up on: later datagrams are ignored.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Feeds one client datagram (coalesced packets allowed). Returns the hello once, when its
    /// last byte arrives. An error concerns this datagram only; the decoder stays usable.
    pub fn on_client_datagram(&mut self, datagram: &[u8]) -> Result<Option<QuicHello>, QuicError> {
        if self.finished {
            return Ok(None);
        }
        if is_plaintext_gquic(datagram) {
            return Ok(self.chlo_hello(datagram, gquic_version(datagram)));
        }
        let mut rest = datagram;
        let mut first_packet = true;
        while !rest.is_empty() {
            match self.on_packet(rest) {
                Ok((_, Some(hello))) => {
                    self.finished = true;
                    return Ok(Some(hello));
                }
                Ok((consumed, None)) => rest = rest.get(consumed..).unwrap_or_default(),
                Err(e) => {
                    let e = self.note_error(e);
                    if first_packet {
                        return Err(e);
                    }
                    break; // later bytes of a datagram are often padding or junk after the Initial
                }
            }
            first_packet = false;
        }
        Ok(None)
    }

    /// What was read of a ClientHello that never completed (lost packets, flow ended): the fields
    /// that arrived before the first gap, e.g. the SNI.
    pub fn partial_hello(&self) -> Option<QuicHello> {
        let hello = parse_client_hello_message_prefix(self.crypto.contiguous())?;
        Some(QuicHello::from_client_hello(self.version?, hello))
    }

    /// Gives up on the flow after errors that later datagrams cannot mend.
    fn note_error(&mut self, error: QuicError) -> QuicError {
        if matches!(error, QuicError::LimitExceeded(_) | QuicError::Tls(_)) {
            self.finished = true;
        }
        error
    }

    fn chlo_hello(&mut self, bytes: &[u8], version: u32) -> Option<QuicHello> {
        let server_name = chlo_server_name(bytes)?;
        self.finished = true;
        Some(QuicHello::from_chlo(version, server_name))
    }

    /// Handles the packet at the start of `bytes`; returns how many bytes it took.
    fn on_packet(&mut self, bytes: &[u8]) -> Result<(usize, Option<QuicHello>), QuicError> {
        let header = LongHeader::parse(bytes)?;
        let Some(pn_offset) = header.initial_pn_offset else {
            return Ok((header.end, None)); // 0-RTT or Handshake: nothing to read
        };
        self.packets += 1;
        if self.packets > MAX_INITIAL_PACKETS {
            return Err(QuicError::LimitExceeded("Initial packets"));
        }
        let packet = bytes.get(..header.end).unwrap_or_default();
        let opened = self.open(packet, header.version, header.dcid, pn_offset)?;
        self.largest_pn = self.largest_pn.max(Some(opened.packet_number));
        self.version = Some(header.version);
        let payload_end = opened.payload_start + opened.payload_len;
        let payload = self.scratch.get(opened.payload_start..payload_end).unwrap_or_default();
        if header.version == GOOGLE_Q050 {
            // Q050 wraps gQUIC frames, not CRYPTO frames, around its CHLO.
            let hello = chlo_server_name(payload).map(|name| QuicHello::from_chlo(header.version, name));
            return Ok((header.end, hello));
        }
        let crypto = &mut self.crypto;
        for_each_crypto_frame(payload, header.google_frames, |offset, data| crypto.insert(offset, data))?;
        Ok((header.end, self.complete_hello(header.version)?))
    }

    /// Decrypts `packet` into the scratch buffer. Keys come from the DCID of the client's first
    /// Initial and stay when the client adopts the server's connection ID; only when they fail on
    /// a packet with another DCID (after a Retry) are keys derived from that DCID.
    fn open(&mut self, packet: &[u8], version: u32, dcid: &[u8], pn_offset: usize) -> Result<Opened, QuicError> {
        let cached = self.keys.as_ref().filter(|k| k.version == version);
        if let Some(cached) = cached {
            self.scratch.clear();
            self.scratch.extend_from_slice(packet);
            match cached.keys.open(&mut self.scratch, pn_offset, self.largest_pn) {
                Err(QuicError::Decrypt) if cached.dcid != dcid => {}
                result => return result,
            }
        }
        let params = initial_params(version).ok_or(QuicError::UnsupportedVersion(version))?;
        let keys = InitialKeys::new(&KeyMaterial::client_initial(&params, dcid)?)?;
        self.scratch.clear();
        self.scratch.extend_from_slice(packet);
        let opened = keys.open(&mut self.scratch, pn_offset, self.largest_pn)?;
        self.keys = Some(CachedKeys { dcid: dcid.to_vec(), version, keys });
        Ok(opened)
    }

    fn complete_hello(&self, version: u32) -> Result<Option<QuicHello>, QuicError> {
        let stream = self.crypto.contiguous();
        let Some([_, a, b, c]) = stream.get(..4).and_then(|h| <[u8; 4]>::try_from(h).ok()) else {
            return Ok(None);
        };
        let body_len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        if body_len > MAX_HELLO_LEN.min(MAX_CRYPTO_BYTES) {
            return Err(QuicError::LimitExceeded("ClientHello length"));
        }
        match stream.get(..4 + body_len) {
            Some(message) => Ok(Some(QuicHello::from_client_hello(version, parse_client_hello_message(message)?))),
            None => Ok(None),
        }
    }
}

/// The fields of a long-header packet (RFC 9000 §17.2) that the decoder needs.
struct LongHeader<'a> {
    version: u32,
    dcid: &'a [u8],
    /// For an Initial packet, the offset of its packet number.
    initial_pn_offset: Option<usize>,
    /// Offset of the end of this packet in the datagram.
    end: usize,
    /// Whether the payload uses Google's frame encoding (T050, T051).
    google_frames: bool,
}

impl<'a> LongHeader<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, QuicError> {
        let mut r = Reader::new(bytes);
        let malformed = QuicError::Malformed;
        let first = r.u8().ok_or(malformed("empty packet"))?;
        if first & 0x80 == 0 {
            return Err(QuicError::NotLongHeader);
        }
        let version = r.u32().ok_or(malformed("version"))?;
        let params = initial_params(version).ok_or(QuicError::UnsupportedVersion(version))?;
        let dcid = r.u8().and_then(|len| r.take(usize::from(len))).ok_or(malformed("connection ID"))?;
        let scid = r.u8().and_then(|len| r.take(usize::from(len))).ok_or(malformed("connection ID"))?;
        if dcid.len() > MAX_CID_LEN || scid.len() > MAX_CID_LEN {
            return Err(malformed("connection ID longer than 20 bytes"));
        }
        let packet_type = (first >> 4) & 0x03;
        let is_initial = packet_type == params.initial_type;
        if is_initial {
            let token_len = r.varint_usize().ok_or(malformed("token length"))?;
            r.take(token_len).ok_or(malformed("token"))?;
        } else if packet_type == params.retry_type {
            return Ok(LongHeader { version, dcid, initial_pn_offset: None, end: bytes.len(), google_frames: false });
            // Retry
        }
        let length = r.varint_usize().ok_or(malformed("length"))?;
        let pn_offset = bytes.len() - r.rest().len();
        let end = pn_offset
            .checked_add(length)
            .filter(|&end| end <= bytes.len())
            .ok_or(malformed("length beyond datagram"))?;
        Ok(LongHeader {
            version,
            dcid,
            initial_pn_offset: is_initial.then_some(pn_offset),
            end,
            google_frames: params.google_frames,
        })
    }
}

/// The version tag of a plaintext gQUIC packet, as a number like the IETF versions.
fn gquic_version(datagram: &[u8]) -> u32 {
    let tag = if datagram.first().is_some_and(|f| f & 0x80 != 0) { datagram.get(1..5) } else { datagram.get(9..13) };
    tag.and_then(|t| t.try_into().ok()).map_or(0, u32::from_be_bytes)
}
