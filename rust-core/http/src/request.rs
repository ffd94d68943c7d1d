//! Client requests: the early method check and the head parser with its lenient fallback.

use std::fmt;

use crate::lenient;

/// Methods of RFC 9110 and WebDAV (RFC 4918) that real clients send over TCP.
const METHODS: [&[u8]; 16] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"TRACE ",
    b"PATCH ",
    b"PROPFIND ",
    b"PROPPATCH ",
    b"MKCOL ",
    b"COPY ",
    b"MOVE ",
    b"LOCK ",
    b"UNLOCK ",
];
/// Headers `httparse` can hold; a head with more goes to the lenient scanner, which has its own cap.
const HTTPARSE_HEADERS: usize = 96;

/// An HTTP version from the request line (`HTTP/1.1` is major 1, minor 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpVersion {
    /// Major version digit.
    pub major: u8,
    /// Minor version digit.
    pub minor: u8,
}

/// Written as on the wire, `HTTP/1.1`.
impl fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP/{}.{}", self.major, self.minor)
    }
}

/// A request head as the client sent it; text fields are lossy UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, such as `GET`.
    pub method: String,
    /// The request target: a path, an absolute URI (proxies) or an authority (`CONNECT`).
    pub target: String,
    /// The version, absent for a request line without one (HTTP/0.9 style) or an unreadable one.
    pub version: Option<HttpVersion>,
    /// The host without port or IPv6 brackets: from the Host header, else from the target.
    pub host: Option<String>,
    /// The port given with that host, if any.
    pub port: Option<u16>,
    /// The User-Agent header.
    pub user_agent: Option<String>,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The Content-Length header, when it is a number.
    pub content_length: Option<u64>,
    /// All header fields in order, names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Offset of the first body byte (the end of the head) in the parsed buffer.
    pub body_offset: usize,
    /// The head broke the HTTP grammar and was read by the lenient scanner.
    pub lenient: bool,
}

/// The outcome of looking at the first bytes of a client stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestParse {
    /// A whole request head.
    Complete(Request),
    /// It starts like a request, but the head has not ended yet.
    Incomplete,
    /// It does not start with an HTTP method.
    NotHttp,
}

/// Longest method token accepted from outside the known list (the longest registered one has 17 characters).
const MAX_METHOD_LEN: usize = 24;
/// Longest request line waited for when the method is not a known one.
const MAX_REQUEST_LINE: usize = 8192;

/// Whether a client stream starting with `prefix` is HTTP/1.x; `None` until enough bytes have arrived to tell.
///
/// A known method and its space decide at once (at most 10 bytes). Any other token (RFC 9110 §9: any token
/// is a method) counts once the whole request line shows `token SP target SP HTTP/1.d`.
pub fn looks_like_request(prefix: &[u8]) -> Option<bool> {
    if prefix.is_empty() {
        return None;
    }
    let mut could_still_match = false;
    for method in METHODS {
        if prefix.starts_with(method) {
            return Some(true);
        }
        could_still_match |= method.starts_with(prefix);
    }
    if could_still_match {
        return None;
    }
    any_token_request_line(prefix)
}

/// `token SP target SP HTTP/1.d` (CR) LF at the start of `prefix`; `None` while it may still become one.
fn any_token_request_line(prefix: &[u8]) -> Option<bool> {
    let method_len = prefix.iter().position(|b| !is_tchar(*b)).unwrap_or(prefix.len());
    if method_len > MAX_METHOD_LEN || (method_len == 0 && !prefix.is_empty()) {
        return Some(false);
    }
    let &after_method = prefix.get(method_len)?;
    if after_method != b' ' {
        return Some(false);
    }
    let Some(line_end) = memchr::memchr(b'\n', prefix) else {
        return if prefix.len() > MAX_REQUEST_LINE { Some(false) } else { None };
    };
    let line = prefix.get(..line_end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(version_at) = memchr::memrchr(b' ', line) else { return Some(false) };
    let target = line.get(method_len + 1..version_at).unwrap_or_default();
    let version = line.get(version_at + 1..).unwrap_or_default();
    let http1 = matches!(version, [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit());
    Some(http1 && !target.trim_ascii().is_empty())
}

/// RFC 9110 §5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses the request head at the start of `buf`, the first bytes of a client → server stream.
///
/// A head `httparse` rejects is read by a lenient scanner that still finds method, target and
/// headers. A pipelined request that follows starts at `body_offset` + the body's length.
pub fn parse_request(buf: &[u8]) -> RequestParse {
    match looks_like_request(buf) {
        Some(true) => {}
        Some(false) => return RequestParse::NotHttp,
        None => return RequestParse::Incomplete,
    }
    let mut headers = [httparse::EMPTY_HEADER; HTTPARSE_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let strict = httparse::ParserConfig::default()
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .parse_request(&mut request, buf);
    if let Ok(httparse::Status::Complete(head_len)) = strict {
        return RequestParse::Complete(from_httparse(&request, head_len));
    }
    match lenient::head_end(buf) {
        Some(head_len) => RequestParse::Complete(lenient::parse(buf, head_len)),
        None => RequestParse::Incomplete,
    }
}

/// Best effort for a head that will not be completed (the stream ended or the caller's buffer is
/// full): the lines seen so far, without a last line that may be cut. `None` if not HTTP.
pub fn parse_request_truncated(buf: &[u8]) -> Option<Request> {
    match parse_request(buf) {
        RequestParse::Complete(request) => Some(request),
        RequestParse::NotHttp => None,
        RequestParse::Incomplete => {
            let complete_lines = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let mut request = lenient::parse(buf, complete_lines);
            request.body_offset = buf.len();
            (looks_like_request(buf) == Some(true)).then_some(request)
        }
    }
}

fn from_httparse(request: &httparse::Request<'_, '_>, head_len: usize) -> Request {
    let headers = request
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).trim().to_owned()))
        .collect();
    Request::from_parts(
        request.method.unwrap_or_default().to_owned(),
        request.path.unwrap_or_default().to_owned(),
        request.version.map(|minor| HttpVersion { major: 1, minor }),
        headers,
        head_len,
        false,
    )
}

impl Request {
    /// Derives the well-known fields from the headers; shared by both parsers.
    pub(crate) fn from_parts(
        method: String,
        target: String,
        version: Option<HttpVersion>,
        headers: Vec<(String, String)>,
        body_offset: usize,
        lenient: bool,
    ) -> Self {
        let header = |wanted: &str| headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, v)| v);
        let (host, port) = header("host")
            .and_then(|value| split_host_port(value))
            .or_else(|| target_authority(&method, &target).and_then(split_host_port))
            .map_or((None, None), |(host, port)| (Some(host), port));
        Self {
            host,
            port,
            user_agent: header("user-agent").cloned(),
            content_type: header("content-type").cloned(),
            content_length: header("content-length").and_then(|v| v.parse().ok()),
            method,
            target,
            version,
            headers,
            body_offset,
            lenient,
        }
    }
}

/// The authority of an absolute-form target (`http://host:port/path`) or of a `CONNECT` target.
fn target_authority<'a>(method: &str, target: &'a str) -> Option<&'a str> {
    if method == "CONNECT" {
        return Some(target);
    }
    let (_scheme, rest) = target.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    // Userinfo (`user:pass@`) is not part of the host.
    Some(authority.rsplit_once('@').map_or(authority, |(_, host)| host))
}

/// Splits `host[:port]` or `[v6][:port]`. Like the C servers that read it, the value ends at the
/// first control byte (a NUL in a fuzzed Host header ends it there).
pub(crate) fn split_host_port(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.split(|c: char| c.is_control()).next()?.trim();
    let (host, port) = if let Some(bracketed) = value.strip_prefix('[') {
        let (v6, after) = bracketed.split_once(']')?;
        (v6, after.strip_prefix(':'))
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (value, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_owned(), port.and_then(|p| p.parse().ok())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn complete(buf: &[u8]) -> Request {
        match parse_request(buf) {
            RequestParse::Complete(request) => request,
            other => panic!("expected a complete request, got {other:?}"),
        }
    }

    #[test]
    fn method_check_needs_only_the_first_bytes() {
        assert_eq!(looks_like_request(b""), None);
        assert_eq!(looks_like_request(b"G"), None);
        assert_eq!(looks_like_request(b"GET"), None);
        assert_eq!(looks_like_request(b"GET "), Some(true));
        assert_eq!(looks_like_request(b"PROPF"), None);
        assert_eq!(looks_like_request(b"\x16\x03\x01"), Some(false));
        assert_eq!(looks_like_request(b"SSH-2.0-OpenSSH_9.2p1\r\n"), Some(false));
        assert_eq!(looks_like_request(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Some(false));
    }

    /// RFC 9110 §9.1: any token is a method; the request line's version tells it from other text protocols.
    #[test]
    fn any_token_is_a_method_when_the_line_is_http1() {
        assert_eq!(looks_like_request(b"REPORT /cal HTTP/1.1\r\n"), Some(true));
        assert_eq!(looks_like_request(b"X-BEACON /b?id=1 HTTP/1.0\n"), Some(true));
        assert_eq!(looks_like_request(b"GETX"), None);
        assert_eq!(looks_like_request(b"REPORT /cal HTTP/1."), None);
        assert_eq!(looks_like_request(b"OPTIONS rtsp://cam/ RTSP/1.0\r\n"), Some(true)); // a known method decides
        assert_eq!(looks_like_request(b"DESCRIBE rtsp://cam/ RTSP/1.0\r\n"), Some(false));
        assert_eq!(looks_like_request(b"INVITE sip:bob@b.test SIP/2.0\r\n"), Some(false));
        assert_eq!(looks_like_request(b"REG imei=356938035643809\n"), Some(false));
        assert_eq!(looks_like_request(b"REPORT  HTTP/1.1\r\n"), Some(false));
        assert_eq!(looks_like_request(b"A-VERY-LONG-TOKEN-THAT-IS-NOT-A-METHOD "), Some(false));
        assert_eq!(looks_like_request(&[b'a'; 9000]), Some(false));
        let request = complete(b"REPORT /cal HTTP/1.1\r\nHost: dav.test\r\n\r\n");
        assert_eq!((request.method.as_str(), request.host.as_deref()), ("REPORT", Some("dav.test")));
    }

    #[test]
    fn curl_get() {
        let buf =
            b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
        let request = complete(buf);
        assert_eq!((request.method.as_str(), request.target.as_str()), ("GET", "/index.html?q=1"));
        assert_eq!(request.version, Some(HttpVersion { major: 1, minor: 1 }));
        assert_eq!(request.host.as_deref(), Some("example.com"));
        assert_eq!(request.port, None);
        assert_eq!(request.user_agent.as_deref(), Some("curl/7.88.1"));
        assert_eq!(request.headers.len(), 3);
        assert_eq!(request.body_offset, buf.len());
        assert!(!request.lenient);
    }

    #[test]
    fn post_with_body() {
        let buf = b"POST /api HTTP/1.1\r\nHost: api.example.com:8080\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"imei\":\"1\"}\n";
        let request = complete(buf);
        assert_eq!(request.host.as_deref(), Some("api.example.com"));
        assert_eq!(request.port, Some(8080));
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        assert_eq!(request.content_length, Some(13));
        assert_eq!(buf.get(request.body_offset..), Some(&b"{\"imei\":\"1\"}\n"[..]));
    }

    #[test]
    fn absolute_uri_and_connect_give_the_host_when_no_header_does() {
        let proxy = complete(b"GET http://user:pw@zzhc.vnet.cn:80/r?imei=1 HTTP/1.0\r\n\r\n");
        assert_eq!((proxy.host.as_deref(), proxy.port), (Some("zzhc.vnet.cn"), Some(80)));
        let connect = complete(b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n");
        assert_eq!((connect.host.as_deref(), connect.port), (Some("2001:db8::1"), Some(443)));
        // The Host header wins over the target.
        let both = complete(b"GET http://a.test/ HTTP/1.1\r\nHost: b.test\r\n\r\n");
        assert_eq!(both.host.as_deref(), Some("b.test"));
    }

    #[test]
    fn http10_without_host() {
        let request = complete(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(request.version, Some(HttpVersion { major: 1, minor: 0 }));
        assert_eq!(request.host, None);
    }

    #[test]
    fn pipelined_requests_follow_each_other() {
        let buf = b"GET /a HTTP/1.1\r\nHost: x.test\r\n\r\nPOST /b HTTP/1.1\r\nHost: y.test\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: z.test\r\n\r\n";
        let mut offset = 0;
        let mut targets = Vec::new();
        while let Some(rest) = buf.get(offset..).filter(|rest| !rest.is_empty()) {
            let request = complete(rest);
            let body = usize::try_from(request.content_length.unwrap_or(0)).expect("small");
            offset += request.body_offset + body;
            targets.push((request.target, request.host.unwrap_or_default()));
        }
        let expected = [("/a", "x.test"), ("/b", "y.test"), ("/c", "z.test")];
        assert_eq!(targets, expected.map(|(t, h)| (t.to_owned(), h.to_owned())));
    }

    #[test]
    fn incomplete_and_not_http() {
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHost: exa"), RequestParse::Incomplete);
        assert_eq!(parse_request(b"GE"), RequestParse::Incomplete);
        assert_eq!(parse_request(b"\x16\x03\x01\x00\xa5\x01"), RequestParse::NotHttp);
    }

    #[test]
    fn truncated_heads_drop_the_cut_line() {
        let request = parse_request_truncated(b"GET / HTTP/1.1\r\nHost: example.com\r\nCookie: a=").expect("HTTP");
        assert_eq!(request.host.as_deref(), Some("example.com"));
        assert_eq!(request.headers.len(), 1);
        let cut = parse_request_truncated(b"GET / HTTP/1.1\r\nHost: exam").expect("HTTP");
        assert_eq!(cut.host, None);
        assert_eq!(parse_request_truncated(b"\x00\x01"), None);
    }

    #[test]
    fn host_values_are_cleaned() {
        assert_eq!(split_host_port(" Example.COM "), Some(("Example.COM".into(), None)));
        assert_eq!(split_host_port("%s\u{0}2.20.3.5"), Some(("%s".into(), None)));
        assert_eq!(split_host_port("[::1]"), Some(("::1".into(), None)));
        assert_eq!(split_host_port("::1"), Some(("::1".into(), None)));
        assert_eq!(split_host_port("a.test:http"), Some(("a.test".into(), None)));
        assert_eq!(split_host_port(""), None);
        assert_eq!(split_host_port(":80"), None);
    }

    fn token() -> impl Strategy<Value = String> {
        prop::sample::select(METHODS.to_vec()).prop_map(|m| String::from_utf8_lossy(m).trim_end().to_owned())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..400)) {
            check_offsets(&buf);
        }

        #[test]
        fn arbitrary_heads_after_a_method_never_panic(method in token(), rest in prop::collection::vec(any::<u8>(), 0..400)) {
            let mut buf = format!("{method} ").into_bytes();
            buf.extend_from_slice(&rest);
            check_offsets(&buf);
            for cut in 0..buf.len() {
                check_offsets(&buf[..cut]);
            }
        }

        #[test]
        fn built_requests_parse_back(
            method in token(),
            path in "/[a-zA-Z0-9._~%/?=&-]{0,40}",
            host in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,10}){0,3}",
            port in prop::option::of(1u16..),
            agent in "[ -~]{0,40}",
            folded in any::<bool>(),
            bare_lf in any::<bool>(),
        ) {
            let authority = port.map_or(host.clone(), |p| format!("{host}:{p}"));
            let eol = if bare_lf { "\n" } else { "\r\n" };
            // Folding the User-Agent sends the head to the lenient scanner.
            let fold = if folded { format!("{eol} ") } else { " ".to_owned() };
            let head = format!("{method} {path} HTTP/1.1{eol}Host: {authority}{eol}User-Agent:{fold}{agent}{eol}{eol}");
            let request = complete(head.as_bytes());
            prop_assert_eq!(&request.method, &method);
            prop_assert_eq!(&request.target, &path);
            prop_assert_eq!(request.host.as_deref(), Some(host.as_str()));
            prop_assert_eq!(request.port, port);
            prop_assert_eq!(request.user_agent.as_deref().unwrap_or_default(), agent.trim());
            prop_assert_eq!(request.body_offset, head.len());
            prop_assert_eq!(request.lenient, folded);
            // Every cut of the head is incomplete, never a different request.
            for cut in 1..head.len() {
                prop_assert!(!matches!(parse_request(&head.as_bytes()[..cut]), RequestParse::Complete(_) | RequestParse::NotHttp));
            }
        }
    }

    fn check_offsets(buf: &[u8]) {
        if let RequestParse::Complete(request) = parse_request(buf) {
            assert!(request.body_offset <= buf.len());
        }
        if let Some(request) = parse_request_truncated(buf) {
            assert!(request.body_offset <= buf.len());
        }
    }
}
