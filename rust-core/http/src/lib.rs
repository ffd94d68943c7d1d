//! HTTP/1.x for inspection: the request head a client sends (method, target, Host, User-Agent,
//! headers) and the status line of a response, read from the first bytes of a TCP stream.
//!
//! Well-formed heads go through `httparse`; heads it rejects but real servers accept (obsolete
//! line folding, bare LF, NUL or other bad bytes, odd spacing) go through a lenient line scanner.

mod lenient;
mod request;
mod response;

pub use request::{looks_like_request, parse_request, parse_request_truncated, HttpVersion, Request, RequestParse};
pub use response::{parse_response_head, Response};
