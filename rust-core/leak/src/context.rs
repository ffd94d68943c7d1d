//! What surrounds a match: the key naming the value, and the redacted evidence snippet.

use std::ops::Range;

/// Longest key read backwards from a value.
const MAX_KEY_LEN: usize = 40;
/// Context shown before and after a match in evidence.
const EVIDENCE_BEFORE: usize = 24;
const EVIDENCE_AFTER: usize = 12;
/// Characters of a match left visible at each end, when the match is long enough.
const VISIBLE_ENDS: usize = 2;
/// Matches shorter than this are fully masked.
const MIN_LEN_FOR_VISIBLE_ENDS: usize = 10;
/// At most this many mask characters are shown for one match.
const MAX_STARS: usize = 12;
/// How far back a multipart part header is looked for.
const MAX_PART_HEADER: usize = 256;

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']')
}

/// Steps back over quotes and blanks, plain or percent-encoded (`%22`, `%20`), at most 4 of them.
fn skip_back_quotes(payload: &[u8], mut at: usize) -> usize {
    for _ in 0..4 {
        match at.checked_sub(1).and_then(|i| payload.get(i)) {
            Some(b'"' | b'\'' | b' ' | b'\t') => at -= 1,
            Some(b'2') if at >= 3 && payload.get(at - 3..at - 1) == Some(b"%2") => at -= 3,
            _ => break,
        }
    }
    at
}

/// The key right before a value at `start`: `key=`, `"key": "`, `Key: `, percent-encoded JSON
/// (`%22key%22%3A%22`), or a multipart part `name="key"` followed by a blank line.
pub(crate) fn key_before(payload: &[u8], start: usize) -> Option<&[u8]> {
    if start >= 4 && payload.get(start - 4..start) == Some(b"\r\n\r\n") {
        return multipart_name(payload, start - 4);
    }
    let mut at = skip_back_quotes(payload, start);
    let sep_len = match at.checked_sub(1).and_then(|i| payload.get(i)) {
        Some(b'=' | b':') => 1,
        Some(b'D' | b'd' | b'A' | b'a') if at >= 3 && payload.get(at - 3..at - 1) == Some(b"%3") => 3,
        _ => return None,
    };
    at = skip_back_quotes(payload, at - sep_len);
    let end = at;
    let floor = end.saturating_sub(MAX_KEY_LEN);
    while at > floor && payload.get(at - 1).copied().is_some_and(is_key_byte) {
        at -= 1;
    }
    // A key after a percent-encoded byte (`%22imei`, `%26imei`) starts after that byte.
    if at > 0
        && payload.get(at - 1) == Some(&b'%')
        && payload.get(at..at + 2).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    {
        at += 2;
    }
    let key = payload.get(at..end)?;
    (!key.is_empty()).then_some(key)
}

/// The `name="..."` of the multipart part whose headers end at `headers_end`.
fn multipart_name(payload: &[u8], headers_end: usize) -> Option<&[u8]> {
    let window = payload.get(headers_end.saturating_sub(MAX_PART_HEADER)..headers_end)?;
    let line_start = memchr::memmem::rfind(window, b"\r\n\r\n").map_or(0, |i| i + 4);
    let headers = window.get(line_start..)?;
    let name_at = memchr::memmem::rfind(headers, b"name=\"")? + 6;
    let rest = headers.get(name_at..)?;
    let len = memchr::memchr(b'"', rest)?;
    rest.get(..len).filter(|k| !k.is_empty())
}

/// Printable ASCII of a key, for reports.
pub(crate) fn key_text(key: &[u8]) -> String {
    key.iter().map(|&b| if b.is_ascii_graphic() { char::from(b) } else { '.' }).collect()
}

/// A short snippet around `span` with the match masked (both ends kept when long enough) and
/// every other sensitive span in `masks` fully masked. Never holds a whole identifier.
pub(crate) fn evidence(payload: &[u8], span: &Range<usize>, masks: &[Range<usize>]) -> String {
    let line_break = |b: &u8| matches!(b, b'\r' | b'\n' | 0);
    let mut from = span.start.saturating_sub(EVIDENCE_BEFORE);
    if let Some(before) = payload.get(from..span.start) {
        if let Some(i) = before.iter().rposition(line_break) {
            from += i + 1;
        }
    }
    let mut to = span.end.saturating_add(EVIDENCE_AFTER).min(payload.len());
    if let Some(after) = payload.get(span.end..to) {
        if let Some(i) = after.iter().position(line_break) {
            to = span.end + i;
        }
    }
    let mut out = String::with_capacity(to.saturating_sub(from) + 4);
    push_context(&mut out, payload, from..span.start, masks);
    push_masked(&mut out, payload, span);
    push_context(&mut out, payload, span.end..to, masks);
    out
}

fn push_masked(out: &mut String, payload: &[u8], span: &Range<usize>) {
    let text = payload.get(span.clone()).unwrap_or_default();
    let visible = if text.len() >= MIN_LEN_FOR_VISIBLE_ENDS { VISIBLE_ENDS } else { 0 };
    let printable = |b: &u8| if b.is_ascii_graphic() { char::from(*b) } else { '.' };
    out.extend(text.iter().take(visible).map(printable));
    let hidden = text.len().saturating_sub(2 * visible).min(MAX_STARS);
    out.extend(std::iter::repeat_n('*', hidden));
    out.extend(text.iter().skip(text.len().saturating_sub(visible)).map(printable));
}

fn push_context(out: &mut String, payload: &[u8], range: Range<usize>, masks: &[Range<usize>]) {
    let mut in_mask = false;
    for i in range {
        let masked = masks.iter().any(|m| m.contains(&i));
        if masked {
            // One run of stars per masked run: reveals neither content nor exact length.
            if !in_mask {
                out.push_str("***");
            }
        } else if let Some(&b) = payload.get(i) {
            out.push(if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '.' });
        }
        in_mask = masked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(payload: &[u8], value: &[u8]) -> Option<String> {
        let start = memchr::memmem::find(payload, value).expect("value present");
        key_before(payload, start).map(key_text)
    }

    #[test]
    fn finds_keys_in_common_syntaxes() {
        let v = b"356938035643809";
        assert_eq!(key_of(b"GET /a?imei=356938035643809&x=1", v).as_deref(), Some("imei"));
        assert_eq!(key_of(b"{\"device_id\": \"356938035643809\"}", v).as_deref(), Some("device_id"));
        assert_eq!(key_of(b"{\"imei\":356938035643809}", v).as_deref(), Some("imei"));
        assert_eq!(key_of(b"X-Device-Id: 356938035643809\r\n", v).as_deref(), Some("X-Device-Id"));
        assert_eq!(key_of(b"Cookie: a=b; did=356938035643809", v).as_deref(), Some("did"));
        assert_eq!(key_of(b"d=%7B%22imei%22%3A%22356938035643809%22%7D", v).as_deref(), Some("imei"));
        let multipart = b"--b\r\nContent-Disposition: form-data; name=\"imei\"\r\n\r\n356938035643809\r\n--b--";
        assert_eq!(key_of(multipart, v).as_deref(), Some("imei"));
        assert_eq!(key_of(b"\x0f356938035643809\x03com", v), None);
        assert_eq!(key_of(b"356938035643809", v), None);
        assert_eq!(key_of(b"=356938035643809", v), None);
    }

    #[test]
    fn evidence_masks_the_match_and_other_spans() {
        let payload = b"GET /r?imei=356938035643809&imsi=208150123456789 HTTP/1.1\r\nHost: x";
        let imei = 12..27;
        let imsi = 33..48;
        let ev = evidence(payload, &imei, &[imei.clone(), imsi.clone()]);
        assert_eq!(ev, "GET /r?imei=35***********09&imsi=***");
        assert!(!ev.contains("356938035643809"));
        let short = evidence(b"id=abcd1234;", &(3..11), &[]);
        assert_eq!(short, "id=********;");
    }
}
