//! The server side: just the status line, enough to confirm a flow is HTTP and see its outcome.

use crate::HttpVersion;

/// A response's status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The three-digit status code.
    pub status: u16,
    /// The version the server answered with.
    pub version: HttpVersion,
}

/// Reads `HTTP/d.d ddd` at the start of a server → client stream; needs only its first 12 bytes.
/// Hand-written because `httparse` wants the whole head before it reports the status.
pub fn parse_response_head(buf: &[u8]) -> Option<Response> {
    let line: [u8; 12] = buf.get(..12)?.try_into().ok()?;
    let [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, b' ', hundreds, tens, units] = line else {
        return None;
    };
    let digits = [major, minor, hundreds, tens, units];
    if !digits.iter().all(u8::is_ascii_digit) || buf.get(12).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let [major, minor, hundreds, tens, units] = digits.map(|d| d - b'0');
    Some(Response {
        status: u16::from(hundreds) * 100 + u16::from(tens) * 10 + u16::from(units),
        version: HttpVersion { major, minor },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_lines() {
        let ok = parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").expect("response");
        assert_eq!((ok.status, ok.version), (200, HttpVersion { major: 1, minor: 1 }));
        assert_eq!(parse_response_head(b"HTTP/1.0 404").map(|r| r.status), Some(404));
        assert_eq!(parse_response_head(b"HTTP/1.1 20"), None);
        assert_eq!(parse_response_head(b"HTTP/1.1 2000 x"), None);
        assert_eq!(parse_response_head(b"HTTP/1.1 OK 200"), None);
        assert_eq!(parse_response_head(b"GET / HTTP/1.1\r\n"), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_formats_back(buf in prop::collection::vec(any::<u8>(), 0..40), status in 100u16..1000, minor in 0u8..10) {
            let _ = parse_response_head(&buf);
            let line = format!("HTTP/1.{minor} {status} Whatever\r\n");
            let response = parse_response_head(line.as_bytes());
            prop_assert_eq!(response, Some(Response { status, version: HttpVersion { major: 1, minor } }));
        }
    }
}
