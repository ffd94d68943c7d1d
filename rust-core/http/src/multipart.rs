//! `multipart/*` bodies (RFC 2046 §5.1, RFC 7578): the parts between the boundary delimiters, each
//! with its header lines, so a compressed part (a gzip log file in an upload form) can be decoded.

/// Parts read from one body at most.
pub const MAX_PARTS: usize = 64;

/// The `boundary` parameter of a `multipart/*` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (media, params) = content_type.split_once(';')?;
    if !media.trim().to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        let value = value.trim().trim_matches('"');
        (name.trim().eq_ignore_ascii_case("boundary") && !value.is_empty()).then_some(value)
    })
}

/// One part: its header lines and its body (without the line end before the next delimiter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'a> {
    pub headers: &'a [u8],
    pub body: &'a [u8],
}

impl Part<'_> {
    /// The value of header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.split(|&b| b == b'\n').find_map(|line| {
            let colon = memchr::memchr(b':', line)?;
            let (key, value) = line.split_at(colon);
            let value = value.get(1..)?;
            key.trim_ascii()
                .eq_ignore_ascii_case(name.as_bytes())
                .then(|| String::from_utf8_lossy(value.trim_ascii()).into_owned())
        })
    }
}

/// The parts of `body` (at most [`MAX_PARTS`]); a body cut short ends with a part cut short.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<Part<'a>> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut out = Vec::new();
    let Some(first) = finder.find(body) else { return out };
    let mut at = first + delimiter.len();
    while out.len() < MAX_PARTS {
        let rest = body.get(at..).unwrap_or_default();
        // `--` after a delimiter closes the body.
        if rest.starts_with(b"--") {
            break;
        }
        // The rest of the delimiter line (transport padding), then the part.
        let Some(line_end) = memchr::memchr(b'\n', rest) else { break };
        let part = rest.get(line_end + 1..).unwrap_or_default();
        let next = finder.find(part);
        let whole = part.get(..next.unwrap_or(part.len())).unwrap_or_default();
        // The line end before a delimiter belongs to it.
        let whole = whole.strip_suffix(b"\n").map_or(whole, |w| w.strip_suffix(b"\r").unwrap_or(w));
        let (headers, body) = split_headers(whole);
        out.push(Part { headers, body });
        match next {
            Some(next) => at += line_end + 1 + next + delimiter.len(),
            None => break,
        }
    }
    out
}

/// Header lines end at the first empty line (CRLF or bare LF); a part without one is all body.
fn split_headers(part: &[u8]) -> (&[u8], &[u8]) {
    if part.starts_with(b"\r\n") || part.starts_with(b"\n") {
        let skip = if part.starts_with(b"\r\n") { 2 } else { 1 };
        return (&[], part.get(skip..).unwrap_or_default());
    }
    for (pattern, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(i) = memchr::memmem::find(part, pattern) {
            return (part.get(..i).unwrap_or_default(), part.get(i + len..).unwrap_or_default());
        }
    }
    (&[], part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn boundary_parameter() {
        assert_eq!(boundary("multipart/form-data; boundary=----x7MA4"), Some("----x7MA4"));
        assert_eq!(boundary("Multipart/Mixed; charset=utf-8; BOUNDARY=\"a b\""), Some("a b"));
        assert_eq!(boundary("application/json; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    /// RFC 7578 §4.1's shape: a text field and a file, with a preamble.
    #[test]
    fn form_data_parts() {
        let body = b"preamble\r\n--AaB03x\r\nContent-Disposition: form-data; name=\"imei\"\r\n\r\n356938035643809\r\n--AaB03x\r\nContent-Disposition: form-data; name=\"log\"; filename=\"a.gz\"\r\nContent-Type: application/gzip\r\n\r\n\x1f\x8b\x08rest\r\n--AaB03x--\r\nepilogue";
        let parts = parts(body, "AaB03x");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body, b"356938035643809");
        assert_eq!(parts[1].body, b"\x1f\x8b\x08rest");
        assert_eq!(parts[1].header("content-type").as_deref(), Some("application/gzip"));
        assert_eq!(parts[0].header("Content-Disposition").as_deref(), Some("form-data; name=\"imei\""));
    }

    #[test]
    fn cut_bodies_and_bare_line_feeds() {
        let parts = parts(b"--b\nX: 1\n\nabc\n--b\n\ndef", "b");
        assert_eq!(parts, [Part { headers: b"X: 1", body: b"abc" }, Part { headers: b"", body: b"def" }]);
        assert!(super::parts(b"no delimiter here", "b").is_empty());
    }

    proptest! {
        #[test]
        fn built_bodies_split_back_and_hostile_ones_never_panic(
            values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..10),
            garbage in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let boundary = "q7MA4YWxkTrZu0gW";
            let mut body = Vec::new();
            for (i, value) in values.iter().enumerate() {
                body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n").as_bytes());
                body.extend_from_slice(value);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            let found: Vec<&[u8]> = parts(&body, boundary).iter().map(|p| p.body).collect();
            // A value holding the delimiter itself would split: random bytes practically never do.
            prop_assume!(values.iter().all(|v| memchr::memmem::find(v, boundary.as_bytes()).is_none()));
            prop_assert_eq!(found, values.iter().map(Vec::as_slice).collect::<Vec<_>>());
            let _ = parts(&garbage, "b");
            for cut in 0..body.len() {
                prop_assert!(parts(&body[..cut], boundary).len() <= values.len());
            }
        }
    }
}
