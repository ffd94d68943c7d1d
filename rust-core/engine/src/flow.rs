//! Bidirectional flows keyed by 5-tuple and oriented client → server.

use std::net::SocketAddr;
use std::time::Duration;

use phonehome_model::{FlowKey, Proto, TcpState, Timestamp};
use phonehome_packet::{TcpSegment, Transport};

/// The unordered 5-tuple both directions of a flow share; the flow table's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TupleKey {
    proto: Proto,
    low: SocketAddr,
    high: SocketAddr,
}

impl TupleKey {
    pub(crate) fn new(proto: Proto, a: SocketAddr, b: SocketAddr) -> Self {
        let (low, high) = if (a.ip(), a.port()) <= (b.ip(), b.port()) { (a, b) } else { (b, a) };
        TupleKey { proto, low, high }
    }
}

/// Which way a packet travels within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client → server ("out" in the records: what the phone sent).
    ToServer,
    ToClient,
}

/// Packets and transport payload bytes in one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

/// What the TCP handshake and teardown have shown so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpProgress {
    pub syn: bool,
    pub syn_ack: bool,
    pub fin_from_client: bool,
    pub fin_from_server: bool,
    pub rst: bool,
    /// Data was seen before any handshake: the capture started mid-connection.
    pub midstream: bool,
}

impl TcpProgress {
    /// The `tcp_state` column.
    pub fn state(&self) -> TcpState {
        match self {
            TcpProgress { rst: true, .. } => TcpState::Reset,
            TcpProgress { fin_from_client: true, fin_from_server: true, .. } => TcpState::Closed,
            TcpProgress { fin_from_client: true, .. } | TcpProgress { fin_from_server: true, .. } => {
                TcpState::HalfClosed
            }
            TcpProgress { midstream: true, .. } => TcpState::Midstream,
            TcpProgress { syn_ack: true, .. } => TcpState::Established,
            TcpProgress { syn: true, .. } => TcpState::SynSent,
            _ => TcpState::Unknown,
        }
    }

    /// Nothing more is expected on this connection (its tuple may be reused by a new SYN).
    pub fn finished(&self) -> bool {
        self.rst || (self.fin_from_client && self.fin_from_server)
    }

    pub fn update(&mut self, segment: &TcpSegment<'_>, direction: Direction) {
        let flags = segment.flags;
        match (flags.syn, flags.ack) {
            (true, false) => self.syn = true,
            (true, true) => self.syn_ack = true,
            _ if !self.syn && !self.syn_ack && !segment.payload.is_empty() => self.midstream = true,
            _ => {}
        }
        if flags.fin {
            match direction {
                Direction::ToServer => self.fin_from_client = true,
                Direction::ToClient => self.fin_from_server = true,
            }
        }
        self.rst |= flags.rst;
    }
}

/// Idle time after which a flow is finished, by protocol and state.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub tcp_open: Duration,
    pub tcp_finished: Duration,
    pub udp: Duration,
    pub icmp: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_open: Duration::from_secs(300),
            tcp_finished: Duration::from_secs(10),
            udp: Duration::from_secs(60),
            icmp: Duration::from_secs(30),
        }
    }
}

/// Ports on which the endpoint is a server whatever the other port is (when the handshake was not seen).
fn is_service_port(port: u16) -> bool {
    matches!(
        port,
        20..=23 | 25 | 53 | 67 | 69 | 80 | 88 | 110 | 123 | 137..=139 | 143 | 161 | 389 | 443 | 445 | 465 | 500
            | 514 | 554 | 587 | 636 | 853 | 993 | 995 | 1080 | 1194 | 1433 | 1723 | 1883 | 1900 | 3128 | 3306
            | 3389 | 3478 | 4500 | 5060 | 5061 | 5222 | 5223 | 5228 | 5353 | 5355 | 5432 | 8000 | 8008 | 8080
            | 8443 | 8883 | 8888 | 9001
    )
}

/// Decides which endpoint of a flow's first packet is the client: from the TCP handshake or the ICMP echo
/// direction when seen, else from well-known ports, else the sender of the first packet.
pub fn orient(src: SocketAddr, dst: SocketAddr, transport: &Transport<'_>) -> (SocketAddr, SocketAddr) {
    let sender_is_client = match transport {
        Transport::Tcp(segment) if segment.flags.syn => !segment.flags.ack,
        Transport::Icmp(message) => !matches!((message.v6, message.icmp_type), (false, 0) | (true, 129)),
        _ => match (is_service_port(src.port()), is_service_port(dst.port())) {
            (false, true) => true,
            (true, false) => false,
            _ if src.port() < 1024 && dst.port() >= 1024 => false,
            _ if dst.port() < 1024 && src.port() >= 1024 => true,
            _ => true,
        },
    };
    if sender_is_client {
        (src, dst)
    } else {
        (dst, src)
    }
}

/// Per-flow time bookkeeping and counters; the engine's `Flow` wraps it with inspection state.
#[derive(Clone, Debug)]
pub struct FlowMeter {
    pub key: FlowKey,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub to_server: Counters,
    pub to_client: Counters,
    pub tcp: TcpProgress,
}

impl FlowMeter {
    pub fn new(key: FlowKey, ts: Timestamp) -> Self {
        FlowMeter {
            key,
            first_seen: ts,
            last_seen: ts,
            to_server: Counters::default(),
            to_client: Counters::default(),
            tcp: TcpProgress::default(),
        }
    }

    pub fn direction_of(&self, src: SocketAddr) -> Direction {
        if src == self.key.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    pub fn count(&mut self, ts: Timestamp, direction: Direction, payload_bytes: usize) {
        // Captures are not always in time order: keep the extremes.
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
        let counters = match direction {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        };
        counters.packets += 1;
        counters.bytes += payload_bytes as u64;
    }

    /// Whether the flow has been idle longer than its timeout at `now`.
    pub fn is_idle(&self, now: Timestamp, timeouts: &Timeouts) -> bool {
        let limit = match self.key.proto {
            Proto::Tcp if self.tcp.finished() => timeouts.tcp_finished,
            Proto::Tcp => timeouts.tcp_open,
            Proto::Udp => timeouts.udp,
            Proto::Icmp => timeouts.icmp,
        };
        now.since(self.last_seen) > limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_packet::{TcpFlags, UdpDatagram};

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn tcp(flags: TcpFlags, payload: &[u8]) -> Transport<'_> {
        Transport::Tcp(TcpSegment { src_port: 0, dst_port: 0, seq: 0, ack: 0, flags, window: 0, payload })
    }

    #[test]
    fn tuple_key_is_the_same_both_ways() {
        let (a, b) = (addr("10.0.0.1:40000"), addr("1.2.3.4:443"));
        assert_eq!(TupleKey::new(Proto::Tcp, a, b), TupleKey::new(Proto::Tcp, b, a));
        assert_ne!(TupleKey::new(Proto::Tcp, a, b), TupleKey::new(Proto::Udp, a, b));
    }

    #[test]
    fn orientation_follows_the_handshake_then_the_ports() {
        let (phone, server) = (addr("10.0.0.1:40000"), addr("1.2.3.4:8443"));
        let syn = TcpFlags { syn: true, ..TcpFlags::default() };
        let syn_ack = TcpFlags { syn: true, ack: true, ..TcpFlags::default() };
        let ack = TcpFlags { ack: true, ..TcpFlags::default() };
        assert_eq!(orient(phone, server, &tcp(syn, b"")), (phone, server));
        assert_eq!(orient(server, phone, &tcp(syn_ack, b"")), (phone, server));
        // Mid-stream: the server's data packet comes first, the service port decides.
        assert_eq!(orient(server, phone, &tcp(ack, b"data")), (phone, server));
        // Two unknown high ports: the first sender is the client.
        let (p, q) = (addr("10.0.0.1:50000"), addr("10.0.0.2:50001"));
        let udp = Transport::Udp(UdpDatagram { src_port: 50001, dst_port: 50000, payload: b"" });
        assert_eq!(orient(q, p, &udp), (q, p));
    }

    #[test]
    fn tcp_progress_labels() {
        let mut progress = TcpProgress::default();
        let seg = |flags| TcpSegment { src_port: 1, dst_port: 2, seq: 0, ack: 0, flags, window: 0, payload: b"" };
        progress.update(&seg(TcpFlags { syn: true, ..TcpFlags::default() }), Direction::ToServer);
        assert_eq!(progress.state(), TcpState::SynSent);
        progress.update(&seg(TcpFlags { syn: true, ack: true, ..TcpFlags::default() }), Direction::ToClient);
        assert_eq!(progress.state(), TcpState::Established);
        progress.update(&seg(TcpFlags { fin: true, ack: true, ..TcpFlags::default() }), Direction::ToServer);
        assert_eq!(progress.state(), TcpState::HalfClosed);
        assert!(!progress.finished());
        progress.update(&seg(TcpFlags { fin: true, ack: true, ..TcpFlags::default() }), Direction::ToClient);
        assert_eq!(progress.state(), TcpState::Closed);
        assert!(progress.finished());
        assert_eq!(TcpProgress::default().state(), TcpState::Unknown);
    }
}
