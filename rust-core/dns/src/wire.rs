//! Reading the wire format: a bounds-checked cursor and domain names with compression
//! (RFC 1035 §3.1 and §4.1.4), rendered as text with RFC 4343 escapes.

use crate::DnsError;

/// Longest name on the wire, length octets and root included (RFC 1035 §2.3.4). It also caps the
/// label count at 127, since every label takes at least two octets.
const MAX_NAME_WIRE_LEN: usize = 255;
/// A real name needs at most one pointer per label; more means a crafted chain.
const MAX_POINTERS: usize = 127;

/// A forward-only reader over a byte slice whose offsets are those of the slice.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        Self { buf, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], DnsError> {
        let truncated = DnsError::Truncated { offset: self.pos };
        let end = self.pos.checked_add(len).ok_or(truncated.clone())?;
        let bytes = self.buf.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DnsError> {
        let offset = self.pos;
        self.take(N)?.try_into().map_err(|_| DnsError::Truncated { offset })
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DnsError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DnsError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DnsError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a possibly compressed name; pointers may reach anywhere earlier in `buf`.
    pub(crate) fn name(&mut self, out: Option<&mut String>) -> Result<(), DnsError> {
        self.pos = read_name(self.buf, self.pos, out)?;
        Ok(())
    }
}

/// Decodes the name at `start` of `msg` into `out` (when given) and returns the offset just past
/// it. Every pointer must point before itself, so chains end; the 255-octet bound ends label loops.
/// The root name is written as `.`, other names without the trailing dot.
pub(crate) fn read_name(msg: &[u8], start: usize, mut out: Option<&mut String>) -> Result<usize, DnsError> {
    let mut pos = start;
    let mut end_of_name = None;
    let mut wire_len = 0usize;
    let mut pointers = 0usize;
    loop {
        let first = *msg.get(pos).ok_or(DnsError::Truncated { offset: pos })?;
        match first >> 6 {
            0b00 => {
                let len = usize::from(first);
                wire_len += 1 + len;
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(DnsError::NameTooLong { offset: start });
                }
                if len == 0 {
                    if let Some(out) = out {
                        if out.is_empty() {
                            out.push('.');
                        }
                    }
                    return Ok(end_of_name.unwrap_or(pos + 1));
                }
                let label = msg.get(pos + 1..pos + 1 + len).ok_or(DnsError::Truncated { offset: pos + 1 })?;
                if let Some(out) = out.as_deref_mut() {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    push_escaped(label, out);
                }
                pos += 1 + len;
            }
            0b11 => {
                let second = *msg.get(pos + 1).ok_or(DnsError::Truncated { offset: pos + 1 })?;
                let target = usize::from(u16::from_be_bytes([first & 0x3f, second]));
                pointers += 1;
                if target >= pos || pointers > MAX_POINTERS {
                    return Err(DnsError::BadPointer { offset: pos });
                }
                end_of_name.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(DnsError::BadLabelType { offset: pos, byte: first }),
        }
    }
}

/// Appends `bytes` as presentation text (RFC 4343 §2.1): printable ASCII as is, `.` and `\`
/// backslash-escaped, every other byte as `\DDD`, so the text is safe to print and unambiguous.
pub(crate) fn push_escaped(bytes: &[u8], out: &mut String) {
    for &byte in bytes {
        match byte {
            b'.' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x21..=0x7e => out.push(char::from(byte)),
            _ => {
                out.push('\\');
                for digit in [byte / 100, byte / 10 % 10, byte % 10] {
                    out.push(char::from(b'0' + digit));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_at(msg: &[u8], start: usize) -> Result<(String, usize), DnsError> {
        let mut out = String::new();
        let end = read_name(msg, start, Some(&mut out))?;
        Ok((out, end))
    }

    #[test]
    fn plain_and_root_names() {
        let msg = b"\x03www\x07Example\x03com\x00";
        assert_eq!(name_at(msg, 0), Ok(("www.Example.com".to_owned(), msg.len())));
        assert_eq!(name_at(b"\x00", 0), Ok((".".to_owned(), 1)));
    }

    #[test]
    fn compressed_name_ends_after_the_pointer() {
        // "example.com" at 0, then "www" + pointer to 0 at 13.
        let msg = b"\x07example\x03com\x00\x03www\xc0\x00";
        assert_eq!(name_at(msg, 13), Ok(("www.example.com".to_owned(), 19)));
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_rejected() {
        assert_eq!(name_at(b"\xc0\x00", 0), Err(DnsError::BadPointer { offset: 0 }));
        assert_eq!(name_at(b"\xc0\x02\x00", 0), Err(DnsError::BadPointer { offset: 0 }));
    }

    #[test]
    fn label_loops_through_backward_pointers_end() {
        // 0: label "a", 2: pointer to 0, a backward pointer that loops: cut by a bound either way.
        for start in [0, 2] {
            let result = name_at(b"\x01a\xc0\x00", start);
            assert!(matches!(result, Err(DnsError::NameTooLong { .. } | DnsError::BadPointer { .. })));
        }
    }

    #[test]
    fn long_pointer_chains_are_cut() {
        // Offset 0 holds the root; the pointer at offset 2i points to offset 2(i - 1).
        let mut msg = vec![0u8; 400];
        for i in 1..200u16 {
            let [hi, lo] = (2 * (i - 1)).to_be_bytes();
            msg[usize::from(2 * i)] = 0xc0 | hi;
            msg[usize::from(2 * i) + 1] = lo;
        }
        assert_eq!(name_at(&msg, 2 * 100), Ok((".".to_owned(), 202)));
        assert!(matches!(name_at(&msg, 2 * 199), Err(DnsError::BadPointer { .. })));
    }

    #[test]
    fn names_longer_than_255_octets_are_rejected() {
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        assert_eq!(name_at(&msg, 0), Err(DnsError::NameTooLong { offset: 0 }));
        // 3 × 64 + 62 + 1 = 255 octets is still legal.
        let mut ok = msg[..3 * 64].to_vec();
        ok.push(61);
        ok.extend_from_slice(&[b'b'; 61]);
        ok.push(0);
        assert_eq!(ok.len(), 255);
        assert!(name_at(&ok, 0).is_ok());
    }

    #[test]
    fn extended_label_types_are_rejected() {
        assert_eq!(name_at(b"\x41", 0), Err(DnsError::BadLabelType { offset: 0, byte: 0x41 }));
    }

    #[test]
    fn truncated_names_are_errors() {
        assert_eq!(name_at(b"\x03ww", 0), Err(DnsError::Truncated { offset: 1 }));
        assert_eq!(name_at(b"\x03www", 0), Err(DnsError::Truncated { offset: 4 }));
        assert_eq!(name_at(b"\xc0", 0), Err(DnsError::Truncated { offset: 1 }));
    }

    #[test]
    fn escapes_follow_rfc_4343() {
        let mut out = String::new();
        push_escaped(b"a.b\\c d\x00\xff~", &mut out);
        assert_eq!(out, "a\\.b\\\\c\\032d\\000\\255~");
    }
}
