//! HTTP in the clear, for inspection: request heads (HTTP/1.x, any method token), the status line of a
//! response, and — through [`ClientStream`] — everything a client sends on a connection: every request of
//! a persistent or pipelined connection with its body de-chunked and decoded (gzip, deflate, br, stacked;
//! compressed multipart parts), WebSocket messages (unmasked, reassembled, `permessage-deflate`), and
//! h2c (frames, HPACK). Every decoder is sans-IO and bounded.
//!
//! Well-formed heads go through `httparse`; heads it rejects but real servers accept (obsolete
//! line folding, bare LF, NUL or other bad bytes, odd spacing) go through a lenient line scanner.

mod body;
pub mod chunked;
mod client;
pub mod coding;
pub mod h2;
mod inflate;
mod lenient;
pub mod multipart;
mod request;
mod response;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod ws;

pub use client::{ClientStream, Event, Flag, Limits, Protocol, MAX_HEAD};
pub use request::{looks_like_request, parse_request, parse_request_truncated, HttpVersion, Request, RequestParse};
pub use response::{parse_response_head, Response};
