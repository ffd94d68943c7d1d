//! Per-flow protocol inspection: decides what a flow speaks from its first bytes and extracts the host
//! (TLS SNI, QUIC SNI, HTTP Host, DNS question) and the details the records carry.
//!
//! The inspectors see byte streams (TCP, reassembled) and datagrams (UDP), never packets, so the live engine
//! and capture analysis share them.

use std::time::Duration;

use phonehome_dns::NameCache;
use phonehome_http::RequestParse;
use phonehome_tls::HelloParse;

use crate::record::{HostSource, L7};

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
}

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
    /// A QUIC Initial was seen; CRYPTO frames are being gathered.
    Quic(Box<phonehome_quic::InitialDecoder>),
    /// Inspection of this direction is over: recognised and extracted, or unrecognisable.
    Done,
}

/// Inspection state of one flow.
#[derive(Debug)]
pub struct FlowInspector {
    client_stage: Stage,
    datagrams_probed: u32,
    pub found: Inspection,
}

impl FlowInspector {
    pub fn new(client_port: u16, server_port: u16) -> Self {
        let client_stage =
            if is_dns_port(server_port) || is_dns_port(client_port) { Stage::Dns } else { Stage::Probing };
        let mut found = Inspection::default();
        if matches!(client_stage, Stage::Dns) {
            found.l7 = Some(L7::Dns);
        }
        FlowInspector { client_stage, datagrams_probed: 0, found }
    }

    /// Whether the client stream is still of interest to the protocol inspectors.
    pub fn wants_client_stream(&self) -> bool {
        !matches!(self.client_stage, Stage::Done)
    }

    /// The flow carries encrypted application data after a handshake: its payload is not searched for leaks.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.found.l7, Some(L7::Tls | L7::Quic))
    }

    /// The contiguous client → server bytes of a TCP flow, from its start, grew.
    pub fn on_client_stream(&mut self, stream: &[u8], stream_full: bool) {
        match self.client_stage {
            Stage::Dns => {
                for message in phonehome_dns::tcp_messages(stream) {
                    if self.on_dns_query(message) {
                        break;
                    }
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
        match &mut self.client_stage {
            Stage::Dns => {
                self.on_dns_query(payload);
            }
            Stage::Probing => {
                self.datagrams_probed += 1;
                if phonehome_quic::looks_like_initial(payload) {
                    let mut decoder = Box::<phonehome_quic::InitialDecoder>::default();
                    let done = self.feed_quic(&mut decoder, payload);
                    self.client_stage = if done { Stage::Done } else { Stage::Quic(decoder) };
                } else if self.datagrams_probed >= MAX_UNRECOGNISED_DATAGRAMS {
                    self.client_stage = Stage::Done;
                }
            }
            Stage::Quic(decoder) => {
                let mut decoder = std::mem::take(decoder);
                let done = self.feed_quic(&mut decoder, payload);
                self.client_stage = if done { Stage::Done } else { Stage::Quic(decoder) };
            }
            Stage::Done => {}
        }
    }

    /// A server → client UDP datagram: DNS answers feed the name cache.
    pub fn on_server_datagram(&mut self, payload: &[u8], names: &mut NameCache, now: Duration) {
        if matches!(self.found.l7, Some(L7::Dns)) {
            if let Ok(message) = phonehome_dns::parse_message(payload) {
                names.insert_answers(&message, now);
                // A capture that missed the query still names the flow from the answer's question.
                if let Some(question) = message.questions.first() {
                    self.found.name(&question.name, HostSource::Dns);
                }
            }
        }
    }

    /// Returns true once the flow is named.
    fn on_dns_query(&mut self, message: &[u8]) -> bool {
        let Ok(query) = phonehome_dns::parse_message(message) else { return false };
        match query.questions.first() {
            Some(question) => {
                self.found.name(&question.name, HostSource::Dns);
                true
            }
            None => false,
        }
    }

    /// Returns true when the decoder is finished (hello found, or not QUIC after all).
    fn feed_quic(&mut self, decoder: &mut phonehome_quic::InitialDecoder, payload: &[u8]) -> bool {
        match decoder.on_client_datagram(payload) {
            Ok(Some(hello)) => {
                self.found.l7 = Some(L7::Quic);
                if let Some(sni) = &hello.server_name {
                    self.found.name(sni, HostSource::Quic);
                }
                self.found.alpn = hello.alpn.clone();
                self.found.ja4 = Some(hello.ja4.clone());
                self.found.ech = Some(hello.client_hello.has_ech);
                self.found.tls_version = Some("1.3".to_owned());
                true
            }
            Ok(None) => {
                self.found.l7 = Some(L7::Quic);
                false
            }
            Err(_) => self.found.l7.is_none(),
        }
    }

    fn probe_stream(&mut self, stream: &[u8], stream_full: bool) {
        if phonehome_tls::looks_like_tls(stream) == Some(true) {
            self.found.l7 = Some(L7::Tls);
            match phonehome_tls::parse_client_hello_records(stream) {
                HelloParse::Complete(hello) => {
                    if let Some(sni) = &hello.server_name {
                        self.found.name(sni, HostSource::Sni);
                    }
                    self.found.tls_version = Some(tls_version_name(hello.max_version()));
                    self.found.alpn = hello.alpn.clone();
                    self.found.ja4 = Some(hello.ja4(phonehome_tls::Ja4Transport::Tcp));
                    self.found.ech = Some(hello.has_ech);
                    self.client_stage = Stage::Done;
                }
                HelloParse::Incomplete if !stream_full => {}
                HelloParse::Incomplete | HelloParse::NotTls => self.client_stage = Stage::Done,
            }
            return;
        }
        if phonehome_http::looks_like_request(stream) == Some(true) {
            self.found.l7 = Some(L7::Http);
            match phonehome_http::parse_request(stream) {
                RequestParse::Complete(request) => {
                    if let Some(host) = &request.host {
                        self.found.name(host, HostSource::Http);
                    }
                    self.found.http_method = Some(request.method.clone());
                    self.found.http_path = Some(request.target.clone());
                    self.found.user_agent = request.user_agent.clone();
                    self.client_stage = Stage::Done;
                }
                RequestParse::Incomplete if !stream_full => {}
                RequestParse::Incomplete | RequestParse::NotHttp => self.client_stage = Stage::Done,
            }
            return;
        }
        let undecidable = phonehome_tls::looks_like_tls(stream).is_none()
            || phonehome_http::looks_like_request(stream).is_none();
        if !undecidable || stream_full {
            self.client_stage = Stage::Done;
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
