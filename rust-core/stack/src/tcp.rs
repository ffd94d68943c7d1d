//! The TCP bridge table: each app connection terminated in its own smoltcp socket and bridged to a protected
//! outbound socket, from the app's SYN (held while the outbound connect and the owner look-up run) to the reap.
use std::cmp::Reverse;
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant as StdInstant};

use mio::{Interest, Token};
use phonehome_model::FlowKey;
use phonehome_packet::TcpSegment;
use smoltcp::iface::PollResult;
use smoltcp::socket::tcp;
use smoltcp::wire::IpListenEndpoint;
use socket2::{Protocol, Socket, Type};

use crate::bridge::TcpBridge;
use crate::device::{SmolDevice, TunWriter};
use crate::reply::{self, Unreachable};
use crate::stack::{writer, Stack};
use crate::stats::Counters;

/// Linux and Android tun queues hold 500 packets: a larger TCP window only makes the kernel drop.
const TUN_QUEUE_PACKETS: usize = 500;
/// Egress rounds per flow and turn; each round sends at most one segment.
const EGRESS_ROUNDS: usize = 256;
/// A TCP flow this long without traffic gives its empty buffers' pages back to the kernel.
const BUFFER_RELEASE_IDLE: Duration = Duration::from_secs(1);

/// What the stack reads of an app's TCP segment (copied out of the parse, so the packet can go).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    seq: u32,
    ack_number: u32,
    payload_len: u32,
}

impl Segment {
    pub fn of(segment: &TcpSegment<'_>) -> Segment {
        let flags = segment.flags;
        Segment {
            syn: flags.syn,
            ack: flags.ack,
            fin: flags.fin,
            rst: flags.rst,
            seq: segment.seq,
            ack_number: segment.ack,
            payload_len: u32::try_from(segment.payload.len()).unwrap_or(u32::MAX),
        }
    }

    fn opens(&self) -> bool {
        self.syn && !self.ack
    }
}

pub(crate) enum TcpPhase {
    /// Outbound connect in progress (or done, `connected_at`, and waiting for the owner look-up); the
    /// app's SYN waits here so a failure can be reflected faithfully and the app's socket still exists
    /// when its owner is looked up.
    Connecting {
        syn: Vec<u8>,
        syn_seq: u32,
        since: StdInstant,
        connected_at: Option<StdInstant>,
    },
    Bridged(TcpBridge),
}

pub(crate) struct TcpFlow {
    pub key: FlowKey,
    out: Socket,
    pub phase: TcpPhase,
    /// The outbound socket reported readable and has not yet returned WouldBlock.
    out_readable: bool,
    out_writable: bool,
    /// The server closed its side; our FIN to the app is queued.
    server_fin: bool,
    /// The app's FIN was passed on with shutdown(Write).
    app_fin: bool,
    /// The outbound socket failed; the app was sent a RST.
    failed: bool,
    pub owner_pending: bool,
    dirty: bool,
    reaping: bool,
    /// When smoltcp next wants this flow polled (the entry in the timer heap that counts).
    deadline: Option<StdInstant>,
    last_active: StdInstant,
}

fn mark_dirty(dirty: &mut Vec<Token>, flow: &mut TcpFlow, token: Token) {
    if !flow.dirty {
        flow.dirty = true;
        dirty.push(token);
    }
}

impl Stack {
    pub(crate) fn on_tcp(&mut self, now: StdInstant, key: FlowKey, tcp: &Segment, packet: &[u8]) {
        if let Some(&token) = self.by_key.get(&key) {
            let Some(flow) = self.tcp.get_mut(&token) else { return };
            flow.last_active = now;
            match &mut flow.phase {
                // A RST abandons the connect; a retransmitted SYN waits for it, and the latest one
                // (a reused port may bring a new sequence number) is the one smoltcp will see.
                TcpPhase::Connecting { .. } if tcp.rst => self.remove_tcp(token),
                TcpPhase::Connecting { syn, syn_seq, .. } => {
                    if tcp.opens() {
                        syn.clear();
                        syn.extend_from_slice(packet);
                        *syn_seq = tcp.seq;
                    }
                }
                TcpPhase::Bridged(bridge) => {
                    if tcp.payload_len > 0 {
                        bridge.note_app_data(tcp.seq.wrapping_add(tcp.payload_len));
                    }
                    mark_dirty(&mut self.dirty, flow, token);
                    self.smol_ingress(now, token, packet);
                }
            }
        } else if tcp.opens() {
            self.open_tcp(now, key, tcp.seq, packet);
        } else if !tcp.rst {
            // No such connection (stale, evicted, or from before we started): say so, as a host would.
            let len = tcp.payload_len.wrapping_add(u32::from(tcp.syn) + u32::from(tcp.fin));
            let (seq, ack) = if tcp.ack { (tcp.ack_number, None) } else { (0, Some(tcp.seq.wrapping_add(len))) };
            if reply::tcp_rst(&mut self.reply, key.server, key.client, seq, ack) {
                self.emit_reply();
            }
        }
    }

    fn open_tcp(&mut self, now: StdInstant, key: FlowKey, syn_seq: u32, syn: &[u8]) {
        if self.is_virtual_dot(key.server) {
            log::debug!("refused DNS over TLS to the virtual DNS address");
            return self.reset_syn(key, syn_seq);
        }
        if !self.destination_allowed(key) {
            return self.reset_syn(key, syn_seq);
        }
        if self.tcp.len() >= self.cfg.limits.max_tcp_flows {
            self.evict_idlest_tcp(now);
        }
        let target = self.target(key.server);
        let out = match self.outbound(target, Type::STREAM, Protocol::TCP) {
            Ok(out) => out,
            Err(e) => return self.refuse_tcp(key, syn_seq, syn, &e),
        };
        if let Err(e) = out.set_nodelay(true) {
            log::debug!("TCP_NODELAY: {e}");
        }
        let Some(token) = self.register(&out, Interest::READABLE | Interest::WRITABLE) else { return };
        let phase = TcpPhase::Connecting { syn: syn.to_vec(), syn_seq, since: now, connected_at: None };
        let flow = TcpFlow {
            key,
            out,
            phase,
            out_readable: false,
            out_writable: false,
            server_fin: false,
            app_fin: false,
            failed: false,
            owner_pending: false,
            dirty: false,
            reaping: false,
            deadline: None,
            last_active: now,
        };
        self.tcp.insert(token, flow);
        self.by_key.insert(key, token);
        if self.ask_owner(key) {
            if let Some(flow) = self.tcp.get_mut(&token) {
                flow.owner_pending = true;
            }
        } else {
            self.admit(token, None);
        }
    }

    /// Reflects a failed outbound connect: RST for a refusal, ICMP unreachable for a routing failure.
    fn refuse_tcp(&mut self, key: FlowKey, syn_seq: u32, syn: &[u8], err: &io::Error) {
        Counters::bump(&self.counters.connect_failures);
        log::debug!("connect to {} failed: {err}", key.server);
        let built = match Unreachable::from_error(err) {
            Some(why) => reply::unreachable(&mut self.reply, key.server.ip(), key.client.ip(), why, syn),
            None => reply::tcp_rst(&mut self.reply, key.server, key.client, 0, Some(syn_seq.wrapping_add(1))),
        };
        if built {
            self.emit_reply();
        }
    }

    pub(crate) fn on_tcp_socket_event(&mut self, now: StdInstant, token: Token, readable: bool, writable: bool) {
        let Some(flow) = self.tcp.get_mut(&token) else { return };
        flow.out_readable |= readable;
        flow.out_writable |= writable;
        if let TcpPhase::Connecting { .. } = flow.phase {
            match flow.out.take_error() {
                Ok(None) if flow.out.peer_addr().is_ok() => {
                    if !flow.owner_pending {
                        self.bridge(now, token);
                    } else if let TcpPhase::Connecting { connected_at, .. } = &mut flow.phase {
                        *connected_at = Some(now);
                    }
                }
                Ok(None) => {} // still connecting
                Ok(Some(e)) | Err(e) => self.fail_connect(token, &e),
            }
        } else {
            mark_dirty(&mut self.dirty, flow, token);
        }
    }

    fn fail_connect(&mut self, token: Token, err: &io::Error) {
        if let Some(TcpFlow { key, phase: TcpPhase::Connecting { syn, syn_seq, .. }, .. }) = self.tcp.get(&token) {
            let (key, syn_seq, syn) = (*key, *syn_seq, syn.clone());
            self.refuse_tcp(key, syn_seq, &syn, err);
        }
        self.remove_tcp(token);
    }

    /// The server accepted: give the app's SYN to a fresh smoltcp socket listening on the dialled address.
    pub(crate) fn bridge(&mut self, now: StdInstant, token: Token) {
        let mss = self.cfg.mtu.saturating_sub(60);
        let rx_size = self.cfg.limits.tcp_rx_buffer.min(TUN_QUEUE_PACKETS * mss);
        let mut bridge = match TcpBridge::new(rx_size, self.cfg.limits.tcp_tx_buffer) {
            Ok(bridge) => bridge,
            Err(e) => {
                log::warn!("no memory for a TCP flow's buffers: {e}");
                return self.fail_connect(token, &e);
            }
        };
        let socket = bridge.socket();
        // Delayed ACKs halve throughput through a tun; Nagle would hold back what the server already sent.
        socket.set_ack_delay(None);
        socket.set_nagle_enabled(false);
        let Some(flow) = self.tcp.get_mut(&token) else { return };
        let endpoint = IpListenEndpoint { addr: Some(flow.key.server.ip().into()), port: flow.key.server.port() };
        if let Err(e) = socket.listen(endpoint) {
            log::warn!("smoltcp listen on {endpoint}: {e}");
            return self.remove_tcp(token);
        }
        let TcpPhase::Connecting { syn, .. } = std::mem::replace(&mut flow.phase, TcpPhase::Bridged(bridge)) else {
            return;
        };
        mark_dirty(&mut self.dirty, flow, token);
        self.smol_ingress(now, token, &syn);
    }

    fn smol_ingress(&mut self, now: StdInstant, token: Token, packet: &[u8]) {
        let timestamp = self.smol_now(now);
        let Some(TcpFlow { phase: TcpPhase::Bridged(bridge), .. }) = self.tcp.get_mut(&token) else { return };
        let mut device = SmolDevice::new(Some(packet), writer!(self), &mut self.smol_buf, self.cfg.mtu);
        bridge.poll_ingress(&mut self.iface, timestamp, &mut device);
        if let Some(ack) = device.acked {
            bridge.note_ack(ack);
        }
    }

    /// Sends what one flow's smoltcp socket has to send, then files its next deadline.
    pub(crate) fn egress(&mut self, now: StdInstant, token: Token) {
        let timestamp = self.smol_now(now);
        let Some(flow) = self.tcp.get_mut(&token) else { return };
        let TcpPhase::Bridged(bridge) = &mut flow.phase else { return };
        let mut device = SmolDevice::new(None, writer!(self), &mut self.smol_buf, self.cfg.mtu);
        for _ in 0..EGRESS_ROUNDS {
            if let PollResult::None = bridge.poll_egress(&mut self.iface, timestamp, &mut device) {
                break;
            }
        }
        if let Some(ack) = device.acked {
            bridge.note_ack(ack);
        }
        let next = bridge.poll_at(&mut self.iface, timestamp).map(|at| {
            // smoltcp's clock starts at clock_origin, so its instants are offsets from it.
            self.clock_origin + Duration::from_micros(u64::try_from(at.total_micros()).unwrap_or(0))
        });
        if next != flow.deadline {
            flow.deadline = next;
            if let Some(at) = next {
                self.timers.push(Reverse((at, token)));
            }
        }
    }

    /// Adds the flows whose smoltcp deadline has passed to `work`.
    pub(crate) fn expired_timers(&mut self, now: StdInstant, work: &mut Vec<Token>) {
        while let Some(&Reverse((at, token))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let Some(flow) = self.tcp.get_mut(&token).filter(|flow| flow.deadline == Some(at)) {
                flow.deadline = None;
                work.push(token);
            }
        }
        // Stale entries leave only when due; rebuild if they pile up so the heap stays O(flows).
        if self.timers.len() > 2 * self.tcp.len() + 64 {
            self.timers = self.tcp.iter().filter_map(|(t, f)| f.deadline.map(|at| Reverse((at, *t)))).collect();
        }
    }

    /// Moves what can move between the smoltcp socket and the outbound socket of one flow.
    pub(crate) fn pump(&mut self, now: StdInstant, token: Token) {
        let Some(flow) = self.tcp.get_mut(&token) else { return };
        flow.dirty = false;
        let TcpPhase::Bridged(bridge) = &mut flow.phase else { return };
        let socket = bridge.socket();
        let before = (socket.recv_queue(), socket.send_queue());

        // App → server; a full outbound socket leaves data in smoltcp, whose window then closes.
        while flow.out_writable && !flow.failed && socket.can_recv() {
            match socket.recv(|data| match (&flow.out).write(data) {
                // A zero-length write would loop forever; treat it as a full socket.
                Ok(0) => (0, Err(ErrorKind::WouldBlock.into())),
                Ok(n) => (n, Ok(())),
                Err(e) => (0, Err(e)),
            }) {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.kind() == ErrorKind::WouldBlock => flow.out_writable = false,
                Ok(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Ok(Err(_)) | Err(_) => {
                    flow.failed = true;
                    socket.abort();
                }
            }
        }
        let app_closed = matches!(
            socket.state(),
            tcp::State::CloseWait | tcp::State::LastAck | tcp::State::Closing | tcp::State::TimeWait
        );
        if app_closed && !flow.app_fin && socket.recv_queue() == 0 {
            flow.app_fin = true;
            if let Err(e) = flow.out.shutdown(Shutdown::Write) {
                log::debug!("half-close towards {}: {e}", flow.key.server);
            }
        }

        // Server → app; a full smoltcp send buffer stops reading, so the server's window closes instead.
        // can_send() guarantees `send` a non-empty buffer, so a read of 0 is the server's FIN.
        while flow.out_readable && !flow.server_fin && !flow.failed && socket.can_send() {
            match socket.send(|buf| match (&flow.out).read(buf) {
                Ok(n) => (n, Ok(n)),
                Err(e) => (0, Err(e)),
            }) {
                Ok(Ok(0)) => {
                    flow.server_fin = true;
                    socket.close();
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.kind() == ErrorKind::WouldBlock => flow.out_readable = false,
                Ok(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                // A reset (or any failure) from the server becomes a RST to the app.
                Ok(Err(_)) | Err(_) => {
                    flow.failed = true;
                    socket.abort();
                }
            }
        }

        let moved = (socket.recv_queue(), socket.send_queue()) != before;
        // Still listening after its SYN was fed means smoltcp rejected that SYN: give up on the flow.
        let finished = matches!(socket.state(), tcp::State::Closed | tcp::State::TimeWait | tcp::State::Listen)
            && (socket.recv_queue() == 0 || flow.failed);
        if moved {
            flow.last_active = now;
            bridge.note_data();
        }
        if finished && !flow.reaping {
            flow.reaping = true;
            self.reap.push(token);
        }
    }

    /// Drops a TCP flow; the server gets a RST unless both sides closed cleanly.
    pub(crate) fn remove_tcp(&mut self, token: Token) {
        let Some(flow) = self.tcp.remove(&token) else { return };
        self.by_key.remove(&flow.key);
        self.deregister(&flow.out);
        if !(flow.app_fin && flow.server_fin) {
            // Linger 0 makes close() send a RST, the faithful image of an app reset or a dropped flow.
            if let Err(e) = flow.out.set_linger(Some(Duration::ZERO)) {
                log::debug!("SO_LINGER: {e}");
            }
        }
    }

    /// Resets the least recently active TCP flow (RST to both ends) and drops it.
    fn evict_idlest_tcp(&mut self, now: StdInstant) {
        let victim = self.tcp.iter().min_by_key(|(_, flow)| flow.last_active).map(|(token, _)| *token);
        if let Some(token) = victim {
            Counters::bump(&self.counters.evictions);
            self.abort_tcp(now, token);
        }
    }

    /// Sends the app a RST (if bridged) and drops the flow, which also resets the server side.
    pub(crate) fn abort_tcp(&mut self, now: StdInstant, token: Token) {
        if let Some(TcpFlow { phase: TcpPhase::Bridged(bridge), failed, .. }) = self.tcp.get_mut(&token) {
            bridge.socket().abort();
            *failed = true;
            self.egress(now, token);
        }
        self.remove_tcp(token);
    }

    /// Outbound connects past `connect_timeout`: the app hears "host unreachable".
    pub(crate) fn time_out_connects(&mut self, now: StdInstant) {
        let timeout = self.cfg.limits.connect_timeout;
        let timed_out: Vec<Token> = self
            .tcp
            .iter()
            .filter(|(_, flow)| {
                matches!(flow.phase, TcpPhase::Connecting { since, connected_at: None, .. } if now.duration_since(since) >= timeout)
            })
            .map(|(token, _)| *token)
            .collect();
        for token in timed_out {
            self.fail_connect(token, &io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
    }

    /// smoltcp closes sockets on its own timers (retransmission give-up): a look at every bridged flow notices
    /// and reaps them; idle ones give their buffers' pages back.
    pub(crate) fn look_at_bridges(&mut self, now: StdInstant) {
        for (token, flow) in self.tcp.iter_mut() {
            if let TcpPhase::Bridged(bridge) = &mut flow.phase {
                if now.duration_since(flow.last_active) >= BUFFER_RELEASE_IDLE {
                    bridge.release_idle_buffers();
                }
                mark_dirty(&mut self.dirty, flow, *token);
            }
        }
    }
}
