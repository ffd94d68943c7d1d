//! The fallback for heads `httparse` rejects. Hand-written because no crate parses HTTP the way
//! permissive servers do (bare LF, obsolete folding, NUL and other bad bytes, stray spacing).

use crate::request::{HttpVersion, Request};

/// Header lines kept; the rest of a larger head is ignored.
const MAX_HEADERS: usize = 256;

/// Length of the head (through its blank line) if `buf` holds a whole one; lines may end in LF.
pub(crate) fn head_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for newline in memchr::memchr_iter(b'\n', buf) {
        let line = buf.get(line_start..newline)?;
        if line_start > 0 && (line.is_empty() || line == b"\r") {
            return Some(newline + 1);
        }
        line_start = newline + 1;
    }
    None
}

/// Reads the lines of `buf[..head_len]`: the request line, then `name: value` header lines.
pub(crate) fn parse(buf: &[u8], head_len: usize) -> Request {
    let head = buf.get(..head_len).unwrap_or(buf);
    let mut lines = head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let mut request_line = lines.next().unwrap_or_default().split(|b| *b == b' ' || *b == b'\t');
    let mut words = request_line.by_ref().filter(|word| !word.is_empty());
    let method = lossy(words.next().unwrap_or_default());
    let target = lossy(words.next().unwrap_or_default());
    let version = words.next().and_then(parse_version);

    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if folded {
            // Obsolete line folding (RFC 9112 §5.2): the line continues the previous value.
            let continuation = lossy(line);
            if let Some((_, value)) = headers.last_mut().filter(|_| !continuation.trim().is_empty()) {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(continuation.trim());
            }
        } else if headers.len() >= MAX_HEADERS {
            break;
        } else if let Some(colon) = memchr::memchr(b':', line) {
            let (name, value) = line.split_at(colon);
            let value = value.get(1..).unwrap_or_default();
            headers.push((lossy(name).trim().to_owned(), lossy(value).trim().to_owned()));
        }
    }
    Request::from_parts(method, target, version, headers, head.len(), true)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `HTTP/d.d`, the only form HTTP/1 allows.
fn parse_version(word: &[u8]) -> Option<HttpVersion> {
    match word {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] if major.is_ascii_digit() && minor.is_ascii_digit() => {
            Some(HttpVersion { major: major - b'0', minor: minor - b'0' })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_request, RequestParse};

    fn lenient(buf: &[u8]) -> Request {
        match parse_request(buf) {
            RequestParse::Complete(request) => {
                assert!(request.lenient, "httparse was expected to reject this head");
                request
            }
            other => panic!("expected a complete request, got {other:?}"),
        }
    }

    #[test]
    fn head_end_accepts_crlf_and_bare_lf() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
    }

    #[test]
    fn obsolete_folding_continues_the_value() {
        let request =
            lenient(b"GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\n  (Linux; Android 10)\r\nHost: a.test\r\n\r\n");
        assert_eq!(request.user_agent.as_deref(), Some("Mozilla/5.0 (Linux; Android 10)"));
        assert_eq!(request.host.as_deref(), Some("a.test"));
    }

    #[test]
    fn nul_and_bad_bytes_in_headers() {
        // From nDPI's fuzz-2006-09-29-28586.pcap: a fuzzed MMS relay request.
        let request = lenient(b"POST /ppgctrl/ppgcontrollogic.dll HTTP/1.1\r\nContent-Type: multipart/related; typ%s\x00application/xml\"\r\nAcceqt: application/zml\r\nHost:%s\x002.20.3.5\r\nContent-length: 840\r\n\r\n");
        assert_eq!(request.host.as_deref(), Some("%s"));
        assert_eq!(request.content_length, Some(840));
        assert_eq!(request.method, "POST");
    }

    #[test]
    fn space_before_colon_and_lines_without_colon() {
        let request = lenient(b"GET  /x HTTP/1.1\r\nHost : spaced.test\r\nno colon line\r\n\r\n");
        assert_eq!(request.target, "/x");
        assert_eq!(request.host.as_deref(), Some("spaced.test"));
        assert_eq!(request.headers.len(), 1);
    }

    #[test]
    fn request_line_without_version() {
        let request = lenient(b"GET /old\n\n");
        assert_eq!((request.target.as_str(), request.version), ("/old", None));
    }
}
