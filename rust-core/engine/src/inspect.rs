//! Per-flow protocol inspection: decides what a flow speaks from its first bytes and extracts the host
//! (TLS SNI, QUIC SNI, HTTP Host, DNS question) and the details the records carry.
//!
//! The inspectors see byte streams (TCP, reassembled) and datagrams (UDP), never packets, so the live engine
//! and capture analysis share them. A TCP client stream that is neither TLS nor DNS is read whole by the
//! HTTP crate's [`ClientStream`] (every request, decoded bodies, WebSocket, h2c, else raw bytes), which hands
//! out what is to be searched for identifiers.

use std::time::Duration;

use phonehome_dns::NameCache;
use phonehome_http::{ClientStream, Event, Limits};
use phonehome_tls::HelloParse;

use phonehome_model::{HostSource, L7};

/// What inspection found in a flow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inspection {
    pub l7: Option<L7>,
    pub host: Option<String>,
    pub host_source: Option<HostSource>,
    pub tls_version: Option<String>,
    pub alpn: Vec<String>,
    pub ja4: Option<String>,
    pub ech: Option<bool>,
    pub http_method: Option<String>,
    pub http_path: Option<String>,
    pub user_agent: Option<String>,
    /// Every distinct question of a DNS flow, in order (at most [`MAX_DNS_NAMES`]).
    pub dns_names: Vec<String>,
    /// Tags for what could not be decoded (`body_undecodable`, `stream_undecodable`).
    pub flags: Vec<&'static str>,
}

/// Questions of one DNS flow kept for its record; a flow asking more is listed by its first ones.
pub const MAX_DNS_NAMES: usize = 16;

impl Inspection {
    /// Sets the host unless a stronger source already named it.
    fn name(&mut self, host: &str, source: HostSource) {
        if self.host_source.is_none_or(|current| source < current) && !host.is_empty() {
            self.host = Some(host.to_owned());
            self.host_source = Some(source);
        }
    }
}

/// DNS over these ports: unicast DNS, mDNS and LLMNR all use the DNS message format.
fn is_dns_port(port: u16) -> bool {
    matches!(port, 53 | 5353 | 5355)
}

/// Datagrams of a UDP flow inspected before giving up on recognising it.
const MAX_UNRECOGNISED_DATAGRAMS: u32 = 8;

#[derive(Debug)]
enum Stage {
    /// Nothing recognised yet.
    Probing,
    Dns,
    /// A QUIC Initial decrypted; CRYPTO frames are being gathered.
    Quic(Box<phonehome_quic::InitialDecoder>),
    /// Inspection of the client side is over: recognised and extracted, or unrecognisable.
    Done,
}

/// Inspection state of one flow.
#[derive(Debug)]
pub struct FlowInspector {
    client_stage: Stage,
    datagrams_probed: u32,
    /// The reader of a TCP client stream once TLS is ruled out (boxed: most flows are TLS, QUIC or DNS).
    client: Option<Box<ClientStream>>,
    limits: Limits,
    pub found: Inspection,
}

impl FlowInspector {
    pub fn new(client_port: u16, server_port: u16, limits: Limits) -> Self {
        let dns = is_dns_port(server_port) || is_dns_port(client_port);
        let found = Inspection { l7: dns.then_some(L7::Dns), ..Inspection::default() };
        let client_stage = if dns { Stage::Dns } else { Stage::Probing };
        FlowInspector { client_stage, datagrams_probed: 0, client: None, limits, found }
    }

    /// Whether the client's TCP bytes go to the stream reader: TLS is ruled out, it is not DNS, and the
    /// reader still wants them.
    pub fn reads_client_bytes(&self) -> bool {
        matches!(self.client_stage, Stage::Done)
            && !self.is_encrypted()
            && self.client.as_ref().is_none_or(|client| client.wants_more())
    }

    /// Whether nothing more of the client stream is needed (the engine may free its buffers).
    pub fn client_stream_done(&self) -> bool {
        matches!(self.client_stage, Stage::Done) && !self.reads_client_bytes()
    }

    /// The next client bytes of a TCP flow (in order, each once); what is to be searched goes to `search`.
    pub fn on_client_bytes(&mut self, bytes: &[u8], search: &mut dyn FnMut(&[u8])) {
        let limits = self.limits;
        let mut client = self.client.take().unwrap_or_else(|| Box::new(ClientStream::new(limits)));
        client.push(bytes, &mut |event| self.on_client_event(event, search));
        self.client = Some(client);
    }

    /// The TCP flow ended: the reader hands out what it still held.
    pub fn finish_client(&mut self, unread: &[u8], search: &mut dyn FnMut(&[u8])) {
        if !self.reads_client_bytes() {
            return;
        }
        self.on_client_bytes(unread, search);
        if let Some(mut client) = self.client.take() {
            client.finish(&mut |event| self.on_client_event(event, search));
        }
    }

    fn on_client_event(&mut self, event: Event<'_>, search: &mut dyn FnMut(&[u8])) {
        match event {
            Event::Search(bytes) => search(bytes),
            Event::Request(request) => {
                let http2 = request.version.is_some_and(|v| v.major == 2);
                if matches!(self.found.l7, None | Some(L7::Http)) {
                    self.found.l7 = Some(if http2 { L7::Http2 } else { L7::Http });
                }
                self.on_http_request(request);
            }
            Event::Flag(flag) => {
                if !self.found.flags.contains(&flag.as_str()) {
                    self.found.flags.push(flag.as_str());
                }
            }
        }
    }

    /// Whether the server's bytes matter (DNS answers over TCP feed the name cache); other flows keep none.
    pub fn reads_server_stream(&self) -> bool {
        matches!(self.client_stage, Stage::Dns)
    }

    /// Whether the client stream is still of interest to the protocol inspectors.
    pub fn wants_client_stream(&self) -> bool {
        !matches!(self.client_stage, Stage::Done)
    }

    /// The flow carries encrypted application data after a handshake: its payload is not searched for leaks.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.found.l7, Some(L7::Tls | L7::Quic))
    }

    /// The start of the client stream was rewritten: a verdict of "neither TLS nor HTTP" may be wrong now.
    pub fn restart_client_probe(&mut self) {
        if matches!(self.client_stage, Stage::Done) && self.found.l7.is_none() {
            self.client_stage = Stage::Probing;
            self.client = None;
        }
    }

    /// The contiguous client → server bytes of a TCP flow, from its start, grew.
    pub fn on_client_stream(&mut self, stream: &[u8], stream_full: bool) {
        match self.client_stage {
            Stage::Dns => {
                if let Some(query) =
                    phonehome_dns::tcp_messages(stream).find_map(|m| phonehome_dns::parse_message(m).ok())
                {
                    self.on_dns_message(&query);
                }
            }
            Stage::Probing => self.probe_stream(stream, stream_full),
            Stage::Quic(_) | Stage::Done => {}
        }
    }

    /// The contiguous server → client bytes of a TCP flow grew.
    pub fn on_server_stream(&mut self, stream: &[u8], names: &mut NameCache, now: Duration) {
        if matches!(self.found.l7, Some(L7::Dns)) {
            for message in phonehome_dns::tcp_messages(stream) {
                if let Ok(answer) = phonehome_dns::parse_message(message) {
                    names.insert_answers(&answer, now);
                }
            }
        }
    }

    /// A client → server UDP datagram.
    pub fn on_client_datagram(&mut self, payload: &[u8]) {
        self.client_stage = match std::mem::replace(&mut self.client_stage, Stage::Done) {
            Stage::Dns => {
                if let Ok(query) = phonehome_dns::parse_message(payload) {
                    self.on_dns_message(&query);
                }
                Stage::Dns
            }
            Stage::Probing => {
                self.datagrams_probed += 1;
                let decoder = Box::<phonehome_quic::InitialDecoder>::default();
                match self.feed_quic(decoder, payload) {
                    Stage::Probing if self.datagrams_probed >= MAX_UNRECOGNISED_DATAGRAMS => Stage::Done,
                    next => next,
                }
            }
            Stage::Quic(decoder) => self.feed_quic(decoder, payload),
            Stage::Done => Stage::Done,
        };
    }

    /// A server → client UDP datagram: DNS answers feed the name cache.
    pub fn on_server_datagram(&mut self, payload: &[u8], names: &mut NameCache, now: Duration) {
        if matches!(self.found.l7, Some(L7::Dns)) {
            if let Ok(message) = phonehome_dns::parse_message(payload) {
                names.insert_answers(&message, now);
                // A capture that missed the query still names the flow from the answer's question.
                self.on_dns_message(&message);
            }
        }
    }

    /// The flow ended: salvage what a handshake that never completed says (a capture cut short, lost
    /// segments, a one-directional capture).
    pub fn finish(&mut self, client_stream: &[u8]) {
        match std::mem::replace(&mut self.client_stage, Stage::Done) {
            Stage::Quic(decoder) => {
                if let Some(hello) = decoder.partial_hello() {
                    self.on_quic_hello(hello);
                }
            }
            Stage::Probing if self.found.l7 == Some(L7::Tls) => {
                if let Some(hello) = phonehome_tls::parse_client_hello_prefix(client_stream) {
                    self.on_client_hello(&hello);
                }
            }
            _ => {}
        }
    }

    fn on_dns_message(&mut self, message: &phonehome_dns::Message) {
        if let Some(question) = message.questions.first() {
            self.found.name(&question.name, HostSource::Dns);
        }
        for question in &message.questions {
            let names = &mut self.found.dns_names;
            if names.len() < MAX_DNS_NAMES && !question.name.is_empty() && !names.contains(&question.name) {
                names.push(question.name.clone());
            }
        }
    }

    /// Feeds the decoder and says what to do next: go on gathering, done, or not QUIC (yet).
    fn feed_quic(&mut self, mut decoder: Box<phonehome_quic::InitialDecoder>, payload: &[u8]) -> Stage {
        match decoder.on_client_datagram(payload) {
            Ok(Some(hello)) => {
                self.on_quic_hello(hello);
                Stage::Done
            }
            Ok(None) if decoder.is_finished() => Stage::Done,
            Ok(None) => {
                self.found.l7 = Some(L7::Quic);
                Stage::Quic(decoder)
            }
            Err(_) if self.found.l7 == Some(L7::Quic) => Stage::Quic(decoder),
            Err(_) => Stage::Probing,
        }
    }

    fn on_quic_hello(&mut self, hello: phonehome_quic::QuicHello) {
        self.found.l7 = Some(L7::Quic);
        if let Some(sni) = &hello.server_name {
            self.found.name(sni, HostSource::Quic);
        }
        self.found.alpn = hello.alpn;
        self.found.ja4 = hello.ja4;
        if let Some(client_hello) = &hello.client_hello {
            self.found.ech = Some(client_hello.has_ech);
            self.found.tls_version = Some(tls_version_name(client_hello.max_version()));
        }
    }

    fn on_client_hello(&mut self, hello: &phonehome_tls::ClientHello) {
        if let Some(sni) = &hello.server_name {
            self.found.name(sni, HostSource::Sni);
        }
        self.found.tls_version = Some(tls_version_name(hello.max_version()));
        self.found.alpn = hello.alpn.clone();
        // A fingerprint of half a ClientHello would match no one's: only whole ones get a JA4.
        self.found.ja4 = (!hello.truncated).then(|| hello.ja4(phonehome_tls::Ja4Transport::Tcp));
        self.found.ech = Some(hello.has_ech);
    }

    /// The record keeps the first request's method, path and user agent; the first host named wins.
    fn on_http_request(&mut self, request: &phonehome_http::Request) {
        if let Some(host) = &request.host {
            self.found.name(host, HostSource::Http);
        }
        if self.found.http_method.is_none() {
            self.found.http_method = Some(request.method.clone());
            self.found.http_path = Some(request.target.clone());
            self.found.user_agent = request.user_agent.clone();
        }
    }

    /// TLS or not: anything else is the stream reader's.
    fn probe_stream(&mut self, stream: &[u8], stream_full: bool) {
        let tls = phonehome_tls::looks_like_tls(stream);
        if tls == Some(true) {
            self.found.l7 = Some(L7::Tls);
            match phonehome_tls::parse_client_hello_records(stream) {
                HelloParse::Complete(hello) => {
                    self.on_client_hello(&hello);
                    self.client_stage = Stage::Done;
                }
                HelloParse::Incomplete if !stream_full => {}
                HelloParse::Incomplete | HelloParse::NotTls => self.finish(stream),
            }
        } else if tls.is_some() || stream_full {
            self.client_stage = Stage::Done; // not TLS
        }
    }
}

fn tls_version_name(version: u16) -> String {
    match version {
        0x0304 => "1.3".to_owned(),
        0x0303 => "1.2".to_owned(),
        0x0302 => "1.1".to_owned(),
        0x0301 => "1.0".to_owned(),
        0x0300 => "SSL3".to_owned(),
        other => format!("0x{other:04x}"),
    }
}
