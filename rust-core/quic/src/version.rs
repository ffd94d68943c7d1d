//! What each QUIC version changes in Initial packet protection: the salt, the HKDF labels and the
//! long-header type bits of an Initial packet.

/// QUIC version 1 (RFC 9000).
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const VERSION_2: u32 = 0x6b33_43cf;
/// Google QUIC Q050: IETF-style Initial protection around a gQUIC CHLO instead of a TLS ClientHello.
pub const GOOGLE_Q050: u32 = 0x5130_3530;

const SALT_V1: [u8; 20] = hex20(*b"38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
const SALT_V2: [u8; 20] = hex20(*b"0dede3def700a6db819381be6e269dcbf9bd2ed9");
const SALT_DRAFT_22: [u8; 20] = hex20(*b"7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a");
const SALT_DRAFT_23: [u8; 20] = hex20(*b"c3eef712c72ebb5a11a7d2432bb46365bef9f502");
const SALT_DRAFT_29: [u8; 20] = hex20(*b"afbfec289993d24c9e9786f19c6111e04390a899");
const SALT_Q050: [u8; 20] = hex20(*b"504574efd066fe2f9d945cfcdbd3a7f0d3b56b45");
const SALT_T050: [u8; 20] = hex20(*b"7ff579e5acd072915580304c43a2367c60488310");
const SALT_T051: [u8; 20] = hex20(*b"7a4edef4e7ccee5fa4506c19124fc8ccda6e033d");

/// Per-version parameters of Initial packet protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InitialParams {
    pub salt: &'static [u8; 20],
    pub key_label: &'static [u8],
    pub iv_label: &'static [u8],
    pub hp_label: &'static [u8],
    /// The two type bits (0x30 of the first byte, shifted down) of an Initial packet.
    pub initial_type: u8,
    /// The type bits of a Retry packet, which has no Length field.
    pub retry_type: u8,
    /// Whether Initial payloads use Google's frame encoding (CRYPTO is type 0x08) instead of the IETF's.
    pub google_frames: bool,
}

const V1_LABELS: (&[u8], &[u8], &[u8]) = (b"quic key", b"quic iv", b"quic hp");

const fn v1_style(salt: &'static [u8; 20]) -> InitialParams {
    InitialParams {
        salt,
        key_label: V1_LABELS.0,
        iv_label: V1_LABELS.1,
        hp_label: V1_LABELS.2,
        initial_type: 0,
        retry_type: 3,
        google_frames: false,
    }
}

const fn google(salt: &'static [u8; 20]) -> InitialParams {
    InitialParams { google_frames: true, ..v1_style(salt) }
}

/// Initial protection of a version, `None` for versions this crate cannot open.
pub(crate) fn initial_params(version: u32) -> Option<InitialParams> {
    let draft = |n: u32| 0xff00_0000 | n;
    Some(match version {
        VERSION_1 => v1_style(&SALT_V1),
        VERSION_2 => InitialParams {
            salt: &SALT_V2,
            key_label: b"quicv2 key",
            iv_label: b"quicv2 iv",
            hp_label: b"quicv2 hp",
            initial_type: 1,
            retry_type: 0,
            google_frames: false,
        },
        v if v == draft(22) || v == 0xface_b001 => v1_style(&SALT_DRAFT_22),
        v if (draft(23)..=draft(28)).contains(&v) || v == 0xface_b002 || v == 0xface_b00e => v1_style(&SALT_DRAFT_23),
        v if (draft(29)..=draft(32)).contains(&v) => v1_style(&SALT_DRAFT_29),
        v if (draft(33)..=draft(34)).contains(&v) => v1_style(&SALT_V1),
        GOOGLE_Q050 => google(&SALT_Q050),
        0x5430_3530 => google(&SALT_T050),
        0x5430_3531 => google(&SALT_T051),
        _ => return None,
    })
}

/// Decodes 40 hex digits at compile time (spaces are not allowed: a typo fails the build).
const fn hex20(text: [u8; 40]) -> [u8; 20] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lower-case hex digit"),
        }
    }
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]);
        i += 1;
    }
    out
}
