//! Client Initial keys (RFC 9001 §5.2) and the removal of Initial packet protection (§5.3, §5.4).

use ring::aead::quic::{HeaderProtectionKey, AES_128};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::hkdf::{KeyType, Prk, Salt, HKDF_SHA256};

use crate::version::InitialParams;
use crate::QuicError;

/// The client's Initial secret and the key material expanded from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyMaterial {
    pub secret: [u8; 32],
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

impl KeyMaterial {
    /// HKDF-Extract with the version's salt over the client's first Destination Connection ID.
    pub(crate) fn client_initial(params: &InitialParams, dcid: &[u8]) -> Result<Self, QuicError> {
        let initial = Salt::new(HKDF_SHA256, params.salt).extract(dcid);
        let mut secret = [0u8; 32];
        expand_label(&initial, b"client in", &mut secret)?;
        let client = Prk::new_less_safe(HKDF_SHA256, &secret);
        let mut material = KeyMaterial { secret, key: [0; 16], iv: [0; 12], hp: [0; 16] };
        expand_label(&client, params.key_label, &mut material.key)?;
        expand_label(&client, params.iv_label, &mut material.iv)?;
        expand_label(&client, params.hp_label, &mut material.hp)?;
        Ok(material)
    }
}

/// Ring's length parameter for HKDF-Expand.
struct OutputLen(usize);

impl KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context.
fn expand_label(prk: &Prk, label: &[u8], out: &mut [u8]) -> Result<(), QuicError> {
    let out_len = u16::try_from(out.len()).map_err(|_| QuicError::Crypto)?.to_be_bytes();
    let label_len = [u8::try_from(b"tls13 ".len() + label.len()).map_err(|_| QuicError::Crypto)?];
    let info: [&[u8]; 5] = [&out_len, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, OutputLen(out.len())).and_then(|okm| okm.fill(out)).map_err(|_| QuicError::Crypto)
}

/// Ready-to-use keys for opening the client's Initial packets of one connection ID.
pub(crate) struct InitialKeys {
    aead: LessSafeKey,
    iv: [u8; 12],
    hp: HeaderProtectionKey,
}

/// What remains of a packet after protection is removed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Opened {
    pub packet_number: u64,
    /// Length of the plaintext payload, which starts right after the packet number.
    pub payload_len: usize,
    /// Offset of the payload in the packet.
    pub payload_start: usize,
}

impl InitialKeys {
    pub(crate) fn new(material: &KeyMaterial) -> Result<Self, QuicError> {
        let aead = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &material.key).map_err(|_| QuicError::Crypto)?);
        let hp = HeaderProtectionKey::new(&AES_128, &material.hp).map_err(|_| QuicError::Crypto)?;
        Ok(InitialKeys { aead, iv: material.iv, hp })
    }

    /// Removes header protection and decrypts `packet` (one long-header packet, from its first
    /// byte to the end of its Length) in place.
    pub(crate) fn open(
        &self,
        packet: &mut [u8],
        pn_offset: usize,
        largest_pn: Option<u64>,
    ) -> Result<Opened, QuicError> {
        let sample_start = pn_offset.checked_add(4).ok_or(QuicError::Malformed("packet number offset"))?;
        let sample =
            packet.get(sample_start..sample_start + 16).ok_or(QuicError::Malformed("packet too short to sample"))?;
        let mask = self.hp.new_mask(sample).map_err(|_| QuicError::Crypto)?;
        let [mask_first, mask_pn @ ..] = mask;
        let first = packet.first_mut().ok_or(QuicError::Malformed("empty packet"))?;
        *first ^= mask_first & 0x0f;
        let pn_len = usize::from(*first & 0x03) + 1;
        let pn_bytes = packet.get_mut(pn_offset..pn_offset + pn_len).ok_or(QuicError::Malformed("packet number"))?;
        let mut truncated = 0u64;
        for (b, m) in pn_bytes.iter_mut().zip(mask_pn) {
            *b ^= m;
            truncated = truncated << 8 | u64::from(*b);
        }
        let packet_number = decode_packet_number(largest_pn, truncated, pn_len);
        let mut nonce = self.iv;
        for (n, p) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
            *n ^= p;
        }
        let payload_start = pn_offset + pn_len;
        let (header, payload) = packet.split_at_mut_checked(payload_start).ok_or(QuicError::Malformed("header"))?;
        let plaintext = self
            .aead
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(&*header), payload)
            .map_err(|_| QuicError::Decrypt)?;
        Ok(Opened { packet_number, payload_len: plaintext.len(), payload_start })
    }
}

/// The full packet number closest to the next expected one (RFC 9000 Appendix A.3).
fn decode_packet_number(largest: Option<u64>, truncated: u64, pn_len: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << (8 * pn_len);
    let half = win / 2;
    let candidate = (expected & !(win - 1)) | truncated;
    if candidate.saturating_add(half) <= expected && candidate < (1 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(half) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::decode_packet_number;

    #[test]
    fn packet_number_decoding_of_rfc9000_appendix_a3() {
        assert_eq!(decode_packet_number(Some(0xa82f30ea), 0x9b32, 2), 0xa82f9b32);
        assert_eq!(decode_packet_number(None, 2, 4), 2);
        assert_eq!(decode_packet_number(Some(254), 0, 1), 256);
        assert_eq!(decode_packet_number(Some(3), 0xff, 1), 0xff);
    }
}
