//! Everything a client sends on one TCP connection, read as it arrives and handed out for searching:
//! every HTTP/1.x request of a persistent or pipelined connection (head, then its body de-chunked and
//! decoded), WebSocket messages after an `Upgrade: websocket`, h2c after its preface (prior knowledge or
//! `Upgrade: h2c`), and any other stream as raw bytes in overlapping windows up to a stream budget.
//!
//! Sans-IO: bytes in, [`Event`]s out. Memory is bounded whatever the peer sends (see [`Limits`]).

use crate::body::Body;
use crate::chunked::Dechunker;
use crate::coding::{self, Coding};
use crate::h2::{self, H2Decoder, H2Event};
use crate::request::{looks_like_request, parse_request, parse_request_truncated, Request, RequestParse};
use crate::ws::{self, WsDecoder};

/// Longest request head (or HTTP/2 header block) followed; past it the rest of the connection is
/// searched as raw bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// HTTP/2 streams whose bodies are gathered at once; a further one finishes the oldest first.
const MAX_H2_STREAMS: usize = 8;
/// Bytes a raw window shares with the next, so an identifier cut by the window's end is found whole
/// (the longest needle: a 256-byte custom identifier, URL-encoded).
const RAW_OVERLAP: usize = 1024;

/// The caps of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Decoded body bytes searched per message (HTTP/1.x message, HTTP/2 stream, WebSocket message);
    /// also the size of a raw search window.
    pub message_bytes: usize,
    /// Bytes of a stream that is not HTTP (or no longer readable as such) searched in all.
    pub stream_bytes: usize,
    /// Decoded bytes per compressed byte beyond which a body is a decompression bomb.
    pub max_ratio: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { message_bytes: 16 * 1024, stream_bytes: 1024 * 1024, max_ratio: 200 }
    }
}

impl Limits {
    /// The limits for a per-message budget of `message_bytes`: raw streams get 64 times as much.
    pub fn for_message_bytes(message_bytes: usize) -> Self {
        Self { message_bytes, stream_bytes: message_bytes.saturating_mul(64), ..Self::default() }
    }
}

/// What reading the stream produced.
#[derive(Debug)]
pub enum Event<'a> {
    /// A request head (HTTP/1.x, or an HTTP/2 request's header block).
    Request(&'a Request),
    /// Bytes to search for identifiers: a head, a decoded body, a message, a raw window.
    Search(&'a [u8]),
    /// Something could not be decoded; what it held was searched as sent.
    Flag(Flag),
}

/// Why part of a stream was searched as sent rather than decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// A body's transfer framing or content coding is broken, unknown, or a decompression bomb.
    BodyUndecodable,
    /// The stream stopped following its protocol (HTTP/1 framing, WebSocket or HTTP/2 frames, HPACK).
    StreamUndecodable,
}

impl Flag {
    /// The tag written in a flow's `flags`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::BodyUndecodable => "body_undecodable",
            Flag::StreamUndecodable => "stream_undecodable",
        }
    }
}

/// The HTTP version a stream was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    /// h2c, by prior knowledge or after an `Upgrade: h2c`.
    Http2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    WebSocket,
    H2c,
}

/// What follows a request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Request,
    Upgrade(Upgrade),
    /// `CONNECT`: the tunnel's own protocol.
    Tunnel,
}

#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked(Dechunker),
    /// A request with a transfer coding but not `chunked` last: the body runs to the end.
    UntilClose,
}

#[derive(Debug)]
struct H2Connection {
    decoder: H2Decoder,
    bodies: Vec<(u32, Body)>,
    rendered: Vec<u8>,
}

#[derive(Debug)]
enum Mode {
    /// The stream's first bytes (or a tunnel's): h2c preface, HTTP/1 request, TLS, or anything else.
    Detect {
        tunnel: bool,
    },
    Head,
    Body {
        body: Body,
        framing: Framing,
        next: Next,
    },
    /// After an upgrade request: the new protocol's first bytes, or another request (refused).
    Upgraded(Upgrade),
    WebSocket(Box<WsDecoder>),
    H2(Box<H2Connection>),
    Raw,
    /// Encrypted (TLS in a tunnel) or past the stream budget: nothing more is searched.
    Ignored,
}

/// The client side of one TCP connection.
#[derive(Debug)]
pub struct ClientStream {
    limits: Limits,
    mode: Mode,
    /// Received bytes the mode could not use yet (a partial head or frame header; at most [`MAX_HEAD`]).
    pending: Vec<u8>,
    raw: RawWindow,
    protocol: Option<Protocol>,
}

impl ClientStream {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            mode: Mode::Detect { tunnel: false },
            pending: Vec::new(),
            raw: RawWindow::new(limits),
            protocol: None,
        }
    }

    /// The HTTP version the stream was recognised as, if any.
    pub fn protocol(&self) -> Option<Protocol> {
        self.protocol
    }

    /// Whether more bytes can still produce anything (false once the stream is encrypted or past its budget).
    pub fn wants_more(&self) -> bool {
        !matches!(self.mode, Mode::Ignored)
    }

    /// The next bytes of the stream, in order.
    pub fn push(&mut self, bytes: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        if self.pending.is_empty() {
            let used = self.run(bytes, out);
            self.pending.extend_from_slice(bytes.get(used..).unwrap_or_default());
        } else {
            let mut pending = std::mem::take(&mut self.pending);
            pending.extend_from_slice(bytes);
            let used = self.run(&pending, out);
            pending.drain(..used.min(pending.len()));
            self.pending = pending;
        }
    }

    /// The stream ended: whatever was gathered is handed out.
    pub fn finish(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        let pending = std::mem::take(&mut self.pending);
        match std::mem::replace(&mut self.mode, Mode::Ignored) {
            Mode::Head if !pending.is_empty() => {
                if let Some(request) = parse_request_truncated(&pending) {
                    out(Event::Request(&request));
                }
                out(Event::Search(&pending));
            }
            Mode::Body { body, .. } => body.finish(false, self.limits.max_ratio, out),
            Mode::WebSocket(mut decoder) => decoder.finish(&mut |message| out(Event::Search(message.payload))),
            Mode::H2(mut connection) => {
                for (_, body) in connection.bodies.drain(..) {
                    body.finish(false, self.limits.max_ratio, out);
                }
            }
            Mode::Detect { .. } | Mode::Upgraded(_) | Mode::Raw => {
                self.raw.push(&pending, out);
            }
            Mode::Head | Mode::Ignored => {}
        }
        self.raw.flush(out);
    }

    /// Runs the modes over `input` as far as they go; returns the bytes used.
    fn run(&mut self, input: &[u8], out: &mut dyn FnMut(Event<'_>)) -> usize {
        let mut at = 0;
        while let Some(used) = self.step(input.get(at..).unwrap_or_default(), out) {
            at += used;
        }
        at
    }

    /// One step of the current mode: `Some(bytes used)` (0 when only the mode changed) or `None` when it
    /// needs more bytes than `rest` holds.
    fn step(&mut self, rest: &[u8], out: &mut dyn FnMut(Event<'_>)) -> Option<usize> {
        if rest.is_empty() && !matches!(self.mode, Mode::Body { framing: Framing::Length(0), .. }) {
            return None;
        }
        match &mut self.mode {
            Mode::Detect { tunnel } => {
                let tunnel = *tunnel;
                self.detect(rest, tunnel)
            }
            Mode::Head => self.head(rest, out),
            Mode::Body { .. } => Some(self.body(rest, out)),
            Mode::Upgraded(upgrade) => {
                let upgrade = *upgrade;
                self.upgraded(rest, upgrade)
            }
            Mode::WebSocket(decoder) => match decoder.push(rest, &mut |message| out(Event::Search(message.payload))) {
                Ok(()) => Some(rest.len()),
                Err(_) => Some(self.lose_sync(out)),
            },
            Mode::H2(connection) => {
                let limits = self.limits;
                match h2_push(connection, rest, limits, out) {
                    Ok(()) => Some(rest.len()),
                    Err(_) => {
                        for (_, body) in connection.bodies.drain(..) {
                            body.finish(false, limits.max_ratio, out);
                        }
                        Some(self.lose_sync(out))
                    }
                }
            }
            Mode::Raw => {
                if !self.raw.push(rest, out) {
                    self.mode = Mode::Ignored;
                }
                Some(rest.len())
            }
            Mode::Ignored => Some(rest.len()),
        }
    }

    /// The protocol stopped making sense: flag it and search the rest as raw bytes.
    fn lose_sync(&mut self, out: &mut dyn FnMut(Event<'_>)) -> usize {
        out(Event::Flag(Flag::StreamUndecodable));
        self.mode = Mode::Raw;
        0
    }

    fn detect(&mut self, rest: &[u8], tunnel: bool) -> Option<usize> {
        if let Some(used) = self.preface(rest) {
            return used;
        }
        let tls = matches!(rest, [0x16, 0x03, minor, ..] if *minor <= 4);
        if tunnel && tls {
            self.mode = Mode::Ignored;
            return Some(0);
        }
        match looks_like_request(rest) {
            Some(true) => self.mode = Mode::Head,
            None if rest.len() < MAX_HEAD => return None,
            _ => self.mode = Mode::Raw,
        }
        Some(0)
    }

    /// The h2c preface: `Some(Some(len))` once whole (the mode is then HTTP/2), `Some(None)` while `rest`
    /// is a part of it, `None` when it is not.
    fn preface(&mut self, rest: &[u8]) -> Option<Option<usize>> {
        if rest.starts_with(h2::PREFACE) {
            self.protocol = Some(Protocol::Http2);
            self.mode = Mode::H2(Box::new(H2Connection {
                decoder: H2Decoder::new(MAX_HEAD.min(self.limits.message_bytes.max(4096))),
                bodies: Vec::new(),
                rendered: Vec::new(),
            }));
            Some(Some(h2::PREFACE.len()))
        } else if h2::PREFACE.starts_with(rest) {
            Some(None)
        } else {
            None
        }
    }

    fn upgraded(&mut self, rest: &[u8], upgrade: Upgrade) -> Option<usize> {
        if upgrade == Upgrade::H2c {
            if let Some(used) = self.preface(rest) {
                return used;
            }
        }
        if upgrade == Upgrade::WebSocket && ws::looks_like_client_frame(rest)? {
            self.mode = Mode::WebSocket(Box::new(WsDecoder::new(self.limits.message_bytes)));
            return Some(0);
        }
        // The server refused: the client goes on with requests, or with something else.
        self.detect(rest, false)
    }

    fn head(&mut self, rest: &[u8], out: &mut dyn FnMut(Event<'_>)) -> Option<usize> {
        // RFC 9112 §2.2: empty lines before a request line are ignored (some clients send CRLF after a body).
        let blank = rest.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        if blank > 0 {
            return Some(blank);
        }
        let request = match parse_request(rest) {
            RequestParse::Complete(request) => request,
            RequestParse::Incomplete if rest.len() < MAX_HEAD => return None,
            RequestParse::Incomplete => {
                // A head longer than any server takes: search what there is, then the rest raw.
                let head = rest.get(..MAX_HEAD).unwrap_or(rest);
                if let Some(request) = parse_request_truncated(head) {
                    out(Event::Request(&request));
                }
                out(Event::Search(head));
                self.mode = Mode::Raw;
                return Some(head.len());
            }
            RequestParse::NotHttp => return Some(self.lose_sync(out)),
        };
        self.protocol.get_or_insert(Protocol::Http1);
        out(Event::Request(&request));
        out(Event::Search(rest.get(..request.body_offset).unwrap_or(rest)));
        let Some((framing, transfer_codings)) = framing_of(&request) else {
            // Conflicting lengths: where the next request starts is unknown.
            return Some(request.body_offset + self.lose_sync(out));
        };
        let next = next_of(&request);
        let body = Body::new(&request.headers, transfer_codings, self.limits.message_bytes);
        self.mode = Mode::Body { body, framing, next };
        Some(request.body_offset)
    }

    fn body(&mut self, rest: &[u8], out: &mut dyn FnMut(Event<'_>)) -> usize {
        let Mode::Body { body, framing, next } = &mut self.mode else { return 0 };
        let (used, ended) = match framing {
            Framing::Length(left) => {
                let take = usize::try_from(*left).map_or(rest.len(), |left| left.min(rest.len()));
                body.push(rest.get(..take).unwrap_or_default());
                *left -= take as u64;
                (take, *left == 0)
            }
            Framing::UntilClose => {
                body.push(rest);
                (rest.len(), false)
            }
            Framing::Chunked(dechunker) => match dechunker.push(rest, &mut |data| body.push(data)) {
                Ok(used) => {
                    if !dechunker.trailers().is_empty() && dechunker.is_done() {
                        out(Event::Search(dechunker.trailers()));
                    }
                    (used, dechunker.is_done())
                }
                Err(_) => {
                    out(Event::Flag(Flag::BodyUndecodable));
                    let Mode::Body { body, .. } = std::mem::replace(&mut self.mode, Mode::Raw) else { return 0 };
                    body.finish(false, self.limits.max_ratio, out);
                    return self.lose_sync(out);
                }
            },
        };
        if ended {
            let next = *next;
            if let Mode::Body { body, .. } = std::mem::replace(&mut self.mode, Mode::Head) {
                body.finish(true, self.limits.max_ratio, out);
            }
            self.mode = match next {
                Next::Request => Mode::Head,
                Next::Upgrade(upgrade) => Mode::Upgraded(upgrade),
                Next::Tunnel => Mode::Detect { tunnel: true },
            };
        }
        used
    }
}

/// How a request's body is delimited (RFC 9112 §6.3), with the transfer codings applied before `chunked`;
/// `None` when its lengths conflict.
fn framing_of(request: &Request) -> Option<(Framing, Vec<Coding>)> {
    let values = |wanted: &str| -> Vec<&str> {
        request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    };
    if request.method.eq_ignore_ascii_case("CONNECT") {
        return Some((Framing::Length(0), Vec::new()));
    }
    let transfer = values("transfer-encoding");
    if let Some((last, before)) = transfer.split_last() {
        if !last.eq_ignore_ascii_case("chunked") {
            return Some((Framing::UntilClose, Vec::new()));
        }
        // A transfer coding phonehome cannot undo leaves the body searched as sent.
        let codings = coding::parse_codings(before.iter().copied()).unwrap_or_default();
        return Some((Framing::Chunked(Dechunker::new()), codings));
    }
    let lengths = values("content-length");
    let Some(first) = lengths.first() else { return Some((Framing::Length(0), Vec::new())) };
    let length: u64 = first.parse().ok()?;
    lengths.iter().all(|l| l.parse() == Ok(length)).then_some((Framing::Length(length), Vec::new()))
}

/// What follows a request: another one, the protocol it asks to upgrade to, or a tunnel.
fn next_of(request: &Request) -> Next {
    if request.method.eq_ignore_ascii_case("CONNECT") {
        return Next::Tunnel;
    }
    let upgrade = request.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("upgrade")).map(|(_, v)| v);
    let asks = |token: &str| upgrade.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)));
    if asks("websocket") {
        Next::Upgrade(Upgrade::WebSocket)
    } else if asks("h2c") {
        Next::Upgrade(Upgrade::H2c)
    } else {
        Next::Request
    }
}

/// Feeds an h2c connection: each header block is a request (searched as `name: value` lines), each
/// stream's DATA a body.
fn h2_push(
    connection: &mut H2Connection,
    input: &[u8],
    limits: Limits,
    out: &mut dyn FnMut(Event<'_>),
) -> Result<(), h2::H2Error> {
    let H2Connection { decoder, bodies, rendered } = connection;
    decoder.push(input, &mut |event| match event {
        H2Event::Headers { stream, fields, truncated } => {
            if truncated {
                out(Event::Flag(Flag::StreamUndecodable));
            }
            rendered.clear();
            for (name, value) in fields {
                rendered.extend_from_slice(name);
                rendered.extend_from_slice(b": ");
                rendered.extend_from_slice(value);
                rendered.extend_from_slice(b"\r\n");
            }
            let is_request = fields.iter().any(|(name, _)| name.as_slice() == b":method");
            if is_request {
                let request = h2::request_of(fields);
                out(Event::Request(&request));
                if !bodies.iter().any(|(id, _)| *id == stream) {
                    if bodies.len() >= MAX_H2_STREAMS {
                        let (_, oldest) = bodies.remove(0);
                        oldest.finish(false, limits.max_ratio, out);
                    }
                    bodies.push((stream, Body::new(&request.headers, Vec::new(), limits.message_bytes)));
                }
            }
            out(Event::Search(rendered));
        }
        H2Event::Data { stream, data } => {
            if let Some((_, body)) = bodies.iter_mut().find(|(id, _)| *id == stream) {
                body.push(data);
            }
        }
        H2Event::StreamEnd { stream } => {
            if let Some(i) = bodies.iter().position(|(id, _)| *id == stream) {
                let (_, body) = bodies.remove(i);
                body.finish(true, limits.max_ratio, out);
            }
        }
    })
}

/// Raw bytes searched in windows of `message_bytes` that overlap by [`RAW_OVERLAP`], up to the stream budget.
#[derive(Debug)]
struct RawWindow {
    window: Vec<u8>,
    size: usize,
    /// Bytes at the end of the window not searched yet.
    fresh: usize,
    /// Stream bytes still allowed.
    budget: usize,
}

impl RawWindow {
    fn new(limits: Limits) -> Self {
        let size = limits.message_bytes.max(2 * RAW_OVERLAP);
        Self { window: Vec::new(), size, fresh: 0, budget: limits.stream_bytes }
    }

    /// Adds bytes, searching each window as it fills; false once the budget is spent.
    fn push(&mut self, mut bytes: &[u8], out: &mut dyn FnMut(Event<'_>)) -> bool {
        while !bytes.is_empty() && self.budget > 0 {
            let take = bytes.len().min(self.budget).min(self.size - self.window.len());
            let (now, later) = bytes.split_at(take);
            self.window.extend_from_slice(now);
            self.fresh += take;
            self.budget -= take;
            bytes = later;
            if self.window.len() >= self.size {
                out(Event::Search(&self.window));
                self.window.drain(..self.window.len() - RAW_OVERLAP);
                self.fresh = 0;
            }
        }
        if self.budget == 0 {
            self.flush(out);
        }
        self.budget > 0
    }

    fn flush(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        if self.fresh > 0 {
            out(Event::Search(&self.window));
            self.fresh = 0;
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
