//! The event loop: tun ⇄ smoltcp ⇄ protected outbound sockets, on one thread driven by mio.
//!
//! Every method that depends on time takes `now` from the caller; only [`Stack::run`] reads the clock.
//!
//! One smoltcp `Interface` serves every flow, but each flow has its own one-socket `SocketSet`: smoltcp
//! finds a segment's socket by scanning its set, so a shared set would make every packet and every
//! egress round cost O(flows). Per-flow timers (retransmissions) live in a heap.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant};

use etherparse::defrag::IpDefragPool;
use etherparse::{
    Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, IpNumber, NetSlice, SlicedPacket, TcpSlice, TransportSlice,
    UdpSlice,
};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use smoltcp::iface::{Config as IfaceConfig, Interface, PollResult};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpListenEndpoint};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::bridge::TcpBridge;
use crate::device::{wall_clock, SmolDevice, TunWriter};
use crate::owner::{OwnerLink, OwnerQuery};
use crate::reply::{self, Unreachable};
use crate::stats::{Counters, StackStats};
use crate::{proto, FlowPolicy, OwnerResolver, PacketObserver, SocketProtector, StackConfig, StackError};

const TUN: Token = Token(0);
const WAKE: Token = Token(1);
/// Linux and Android tun queues hold 500 packets: a larger TCP window only makes the kernel drop.
const TUN_QUEUE_PACKETS: usize = 500;
/// Largest IP packet a tun read can return.
const MAX_PACKET: usize = 65535;
/// Egress rounds per flow and turn; each round sends at most one segment.
const EGRESS_ROUNDS: usize = 256;
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// A TCP flow this long without traffic gives its empty buffers' pages back to the kernel.
const BUFFER_RELEASE_IDLE: Duration = Duration::from_secs(1);
/// How long a new flow waits for its owner before it goes ahead unattributed (checked by the sweep).
const OWNER_WAIT: Duration = Duration::from_millis(250);
/// Datagrams of a new flow held while its owner is looked up; more are dropped.
const HELD_DATAGRAMS: usize = 8;
/// Datagrams being reassembled at once (each ≤ 64 KiB); a flood beyond this flushes them all.
const MAX_REASSEMBLIES: usize = 64;
/// DNS over TLS (RFC 7858).
const DOT_PORT: u16 = 853;
const FRAGMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// A flow as the app sees it; ICMP echo uses the echo identifier as the client port and port 0 for the server.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct FlowKey {
    proto: u8,
    client: SocketAddr,
    server: SocketAddr,
}

enum TcpPhase {
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

struct TcpFlow {
    key: FlowKey,
    out: Socket,
    phase: TcpPhase,
    /// The outbound socket reported readable and has not yet returned WouldBlock.
    out_readable: bool,
    out_writable: bool,
    /// The server closed its side; our FIN to the app is queued.
    server_fin: bool,
    /// The app's FIN was passed on with shutdown(Write).
    app_fin: bool,
    /// The outbound socket failed; the app was sent a RST.
    failed: bool,
    owner_pending: bool,
    dirty: bool,
    reaping: bool,
    /// When smoltcp next wants this flow polled (the entry in the timer heap that counts).
    deadline: Option<StdInstant>,
    last_active: StdInstant,
}

struct DatagramFlow {
    key: FlowKey,
    out: Socket,
    idle_timeout: Duration,
    last_active: StdInstant,
    created: StdInstant,
    /// The first datagrams wait for the owner look-up, so the app's socket is still open for it.
    owner_pending: bool,
    held: Vec<Vec<u8>>,
}

/// The engine, built and ready to [`run`](Stack::run) or [`spawn`](Stack::spawn).
pub struct Stack {
    cfg: StackConfig,
    tun: File,
    poll: Poll,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    iface: Interface,
    tcp: HashMap<Token, TcpFlow>,
    datagrams: HashMap<Token, DatagramFlow>,
    by_key: HashMap<FlowKey, Token>,
    dirty: Vec<Token>,
    reap: Vec<Token>,
    /// Flow deadlines; stale entries (no longer the flow's `deadline`) are skipped when popped.
    timers: BinaryHeap<Reverse<(StdInstant, Token)>>,
    next_token: usize,
    protector: Box<dyn SocketProtector>,
    observer: Box<dyn PacketObserver>,
    resolver: Option<Box<dyn OwnerResolver>>,
    /// `None` allows every flow.
    policy: Option<Box<dyn FlowPolicy>>,
    owners: Option<OwnerLink>,
    owner_answers: Vec<(OwnerQuery, Option<u32>)>,
    /// Fragmented UDP and ICMP echo datagrams from the app (TCP never needs it: MSS).
    defrag: IpDefragPool<StdInstant>,
    /// Reused buffers: tun reads, smoltcp egress, our own replies, datagrams from servers.
    packet: Vec<u8>,
    smol_buf: Vec<u8>,
    reply: Vec<u8>,
    quote: Vec<u8>,
    datagram: Vec<u8>,
    clock_origin: StdInstant,
    last_sweep: StdInstant,
}

/// Stops a running [`Stack`] and reads its counters, from any thread.
#[derive(Clone)]
pub struct ShutdownHandle {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    counters: Arc<Counters>,
}

impl ShutdownHandle {
    /// Asks the engine to stop; [`Stack::run`] returns soon after.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            log::warn!("cannot wake the stack to stop it: {e}");
        }
    }

    /// The engine's counters now.
    pub fn stats(&self) -> StackStats {
        self.counters.snapshot()
    }
}

/// A stack running on its own thread ("ph-stack").
pub struct RunningStack {
    handle: ShutdownHandle,
    thread: JoinHandle<Result<(), StackError>>,
}

impl RunningStack {
    /// A handle to stop the stack or read its counters.
    pub fn handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Stops the stack, waits for its threads and returns its final counters.
    pub fn stop(self) -> Result<StackStats, StackError> {
        self.handle.stop();
        self.thread.join().map_err(|_| StackError::Panicked)??;
        Ok(self.handle.stats())
    }
}

macro_rules! writer {
    ($s:ident) => {
        TunWriter { tun: &$s.tun, observer: &mut *$s.observer, counters: &$s.counters }
    };
}

impl Stack {
    /// Takes over `tun` (bare IP packets). Outbound sockets are created in the network namespace of the
    /// thread that runs the stack, and each goes through `protector` before it connects.
    pub fn new(
        config: StackConfig,
        tun: OwnedFd,
        protector: Box<dyn SocketProtector>,
        resolver: Box<dyn OwnerResolver>,
        mut observer: Box<dyn PacketObserver>,
    ) -> Result<Stack, StackError> {
        if !(1280..=MAX_PACKET).contains(&config.mtu) {
            return Err(StackError::Config("mtu must be within 1280..=65535 (IPv6 minimum)"));
        }
        let limits = &config.limits;
        let counts = [limits.batch, limits.owner_queue, limits.max_tcp_flows, limits.max_datagram_flows];
        if counts.contains(&0) || limits.tcp_rx_buffer < 1024 || limits.tcp_tx_buffer < 1024 {
            return Err(StackError::Config("flow caps, batch and owner_queue must be ≥ 1, TCP buffers ≥ 1 KiB"));
        }
        let tun = File::from(tun);
        set_nonblocking(&tun).map_err(StackError::io("set the tun non-blocking"))?;
        let poll = Poll::new().map_err(StackError::io("create the poller"))?;
        poll.registry()
            .register(&mut SourceFd(&tun.as_raw_fd()), TUN, Interest::READABLE)
            .map_err(StackError::io("register the tun"))?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(StackError::io("create the waker"))?);
        let counters = Arc::new(Counters::default());

        let mut iface_config = IfaceConfig::new(HardwareAddress::Ip);
        iface_config.random_seed = wall_clock().as_nanos() as u64;
        let mut smol_buf = Vec::with_capacity(config.mtu);
        let mut device = SmolDevice::new(
            None,
            TunWriter { tun: &tun, observer: &mut *observer, counters: &counters },
            &mut smol_buf,
            config.mtu,
        );
        let mut iface = Interface::new(iface_config, &mut device, Instant::ZERO);
        // smoltcp has no wildcard listen: any_ip accepts every destination, and /0 prefixes make every
        // peer directly reachable, so each socket answers from the address the app dialled.
        iface.set_any_ip(true);
        iface.update_ip_addrs(|addrs| {
            for cidr in
                [IpCidr::new(IpAddress::v4(0, 0, 0, 1), 0), IpCidr::new(IpAddress::v6(0xfe80, 0, 0, 0, 0, 0, 0, 1), 0)]
            {
                if addrs.push(cidr).is_err() {
                    log::error!("smoltcp interface has no room for {cidr}");
                }
            }
        });

        let now = StdInstant::now();
        Ok(Stack {
            cfg: config,
            tun,
            poll,
            waker,
            stop: Arc::new(AtomicBool::new(false)),
            counters,
            iface,
            tcp: HashMap::new(),
            datagrams: HashMap::new(),
            by_key: HashMap::new(),
            dirty: Vec::new(),
            reap: Vec::new(),
            timers: BinaryHeap::new(),
            next_token: 2,
            protector,
            observer,
            resolver: Some(resolver),
            policy: None,
            owners: None,
            owner_answers: Vec::new(),
            defrag: IpDefragPool::new(),
            packet: vec![0; MAX_PACKET],
            smol_buf,
            reply: Vec::with_capacity(MAX_PACKET + 64),
            quote: Vec::with_capacity(128),
            datagram: vec![0; MAX_PACKET],
            clock_origin: now,
            last_sweep: now,
        })
    }

    /// Refuses the new flows `policy` does not allow (by default every flow is allowed).
    pub fn with_policy(mut self, policy: Box<dyn FlowPolicy>) -> Stack {
        self.policy = Some(policy);
        self
    }

    /// A handle that stops the stack from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { stop: self.stop.clone(), waker: self.waker.clone(), counters: self.counters.clone() }
    }

    /// Runs the stack on a new thread named "ph-stack" (in the caller's network namespace).
    pub fn spawn(self) -> Result<RunningStack, StackError> {
        let handle = self.shutdown_handle();
        let thread = std::thread::Builder::new()
            .name("ph-stack".into())
            .spawn(move || self.run())
            .map_err(StackError::io("spawn the stack thread"))?;
        Ok(RunningStack { handle, thread })
    }

    /// Runs the stack on the calling thread until [`ShutdownHandle::stop`]; resets every flow on the way out.
    pub fn run(mut self) -> Result<(), StackError> {
        if let Some(resolver) = self.resolver.take() {
            let link = OwnerLink::spawn(resolver, self.cfg.limits.owner_queue, self.waker.clone())
                .map_err(StackError::io("spawn the owner thread"))?;
            self.owners = Some(link);
        }
        let result = self.event_loop();
        self.reset_all(StdInstant::now());
        if let Some(link) = self.owners.take() {
            link.finish();
        }
        result
    }

    fn event_loop(&mut self) -> Result<(), StackError> {
        let mut events = Events::with_capacity(256);
        let mut tun_pending = false;
        while !self.stop.load(Ordering::Acquire) {
            let now = StdInstant::now();
            let timeout = if tun_pending || !self.dirty.is_empty() { Duration::ZERO } else { self.next_timeout(now) };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => return Err(StackError::Io { what: "poll", source }),
            }
            let now = StdInstant::now();
            for event in events.iter() {
                match event.token() {
                    TUN => tun_pending = true,
                    WAKE => {}
                    token => {
                        self.on_socket_event(now, token, event.is_readable(), event.is_writable() || event.is_error())
                    }
                }
            }
            self.take_owner_answers(now);
            if tun_pending {
                tun_pending = self.read_tun(now)?;
            }
            self.turn(now);
        }
        Ok(())
    }

    /// Everything after the inputs of one loop turn: move data, send, reap, sweep.
    fn turn(&mut self, now: StdInstant) {
        let mut work = std::mem::take(&mut self.dirty);
        for &token in &work {
            self.pump(now, token);
        }
        self.expired_timers(now, &mut work);
        for &token in &work {
            self.egress(now, token);
        }
        work.clear();
        self.dirty = work;
        for token in std::mem::take(&mut self.reap) {
            self.remove_tcp(token);
        }
        if now.duration_since(self.last_sweep) >= SWEEP_EVERY {
            self.sweep(now);
            self.last_sweep = now;
        }
        self.counters.tcp_flows.store(self.tcp.len() as u64, Ordering::Relaxed);
        self.counters.datagram_flows.store(self.datagrams.len() as u64, Ordering::Relaxed);
    }

    fn next_timeout(&self, now: StdInstant) -> Duration {
        let sweep = SWEEP_EVERY.saturating_sub(now.duration_since(self.last_sweep));
        match self.timers.peek() {
            Some(Reverse((at, _))) => sweep.min(at.saturating_duration_since(now)),
            None => sweep,
        }
    }

    /// Adds the flows whose smoltcp deadline has passed to `work`.
    fn expired_timers(&mut self, now: StdInstant, work: &mut Vec<Token>) {
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

    fn smol_now(&self, now: StdInstant) -> Instant {
        Instant::from_micros(now.duration_since(self.clock_origin).as_micros() as i64)
    }

    /// Reads up to one batch of packets; true when more may be waiting.
    fn read_tun(&mut self, now: StdInstant) -> Result<bool, StackError> {
        let mut packet = std::mem::take(&mut self.packet);
        let mut more = true;
        for _ in 0..self.cfg.limits.batch {
            match (&self.tun).read(&mut packet) {
                Ok(len) => self.on_tun_packet(now, packet.get(..len).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    more = false;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    self.packet = packet;
                    return Err(StackError::Io { what: "read the tun", source });
                }
            }
        }
        self.packet = packet;
        Ok(more)
    }

    fn on_tun_packet(&mut self, now: StdInstant, packet: &[u8]) {
        Counters::bump(&self.counters.packets_in);
        self.observer.on_packet(wall_clock(), packet);
        let Ok(sliced) = SlicedPacket::from_ip(packet) else { return self.drop_packet() };
        let (src, dst, fragment) = match &sliced.net {
            Some(NetSlice::Ipv4(ip)) => (
                IpAddr::V4(ip.header().source_addr()),
                IpAddr::V4(ip.header().destination_addr()),
                ip.header().is_fragmenting_payload(),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                IpAddr::V6(ip.header().source_addr()),
                IpAddr::V6(ip.header().destination_addr()),
                ip.is_payload_fragmented(),
            ),
            _ => return self.drop_packet(),
        };
        if fragment {
            return self.on_fragment(now, &sliced, src, dst, packet);
        }
        let flow = |proto, client_port, server_port| FlowKey {
            proto,
            client: SocketAddr::new(src, client_port),
            server: SocketAddr::new(dst, server_port),
        };
        match &sliced.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                self.on_tcp(now, flow(proto::TCP, tcp.source_port(), tcp.destination_port()), tcp, packet)
            }
            Some(TransportSlice::Udp(udp)) => self.on_datagram(
                now,
                flow(proto::UDP, udp.source_port(), udp.destination_port()),
                udp.payload(),
                packet,
            ),
            Some(TransportSlice::Icmpv4(icmp)) => match icmp.icmp_type() {
                Icmpv4Type::EchoRequest(echo) => {
                    self.on_datagram(now, flow(proto::ICMP, echo.id, 0), icmp.slice(), packet)
                }
                _ => self.drop_packet(),
            },
            Some(TransportSlice::Icmpv6(icmp)) => match icmp.icmp_type() {
                Icmpv6Type::EchoRequest(echo) => {
                    self.on_datagram(now, flow(proto::ICMPV6, echo.id, 0), icmp.slice(), packet)
                }
                _ => self.drop_packet(),
            },
            // Other protocols are not forwarded.
            _ => self.drop_packet(),
        }
    }

    /// Collects fragments; a complete UDP or ICMP echo datagram goes on as if it came whole.
    fn on_fragment(&mut self, now: StdInstant, sliced: &SlicedPacket<'_>, src: IpAddr, dst: IpAddr, packet: &[u8]) {
        let pending = std::cell::Cell::new(0usize);
        self.defrag.retain(|_| {
            pending.set(pending.get() + 1);
            true
        });
        if pending.get() >= MAX_REASSEMBLIES {
            self.defrag = IpDefragPool::new();
        }
        let whole = match self.defrag.process_sliced_packet(sliced, now, ()) {
            Ok(Some(whole)) => whole,
            Ok(None) => return, // held until the datagram is complete
            Err(_) => return self.drop_packet(),
        };
        let at = |client_port, server_port| (SocketAddr::new(src, client_port), SocketAddr::new(dst, server_port));
        match whole.ip_number {
            IpNumber::UDP => match UdpSlice::from_slice(&whole.payload) {
                Ok(udp) => {
                    let (client, server) = at(udp.source_port(), udp.destination_port());
                    self.on_datagram(now, FlowKey { proto: proto::UDP, client, server }, udp.payload(), packet);
                }
                Err(_) => self.drop_packet(),
            },
            IpNumber::ICMP => match Icmpv4Slice::from_slice(&whole.payload).map(|icmp| (icmp.icmp_type(), icmp)) {
                Ok((Icmpv4Type::EchoRequest(echo), icmp)) => {
                    let (client, server) = at(echo.id, 0);
                    self.on_datagram(now, FlowKey { proto: proto::ICMP, client, server }, icmp.slice(), packet);
                }
                _ => self.drop_packet(),
            },
            IpNumber::IPV6_ICMP => match Icmpv6Slice::from_slice(&whole.payload).map(|icmp| (icmp.icmp_type(), icmp)) {
                Ok((Icmpv6Type::EchoRequest(echo), icmp)) => {
                    let (client, server) = at(echo.id, 0);
                    self.on_datagram(now, FlowKey { proto: proto::ICMPV6, client, server }, icmp.slice(), packet);
                }
                _ => self.drop_packet(),
            },
            _ => self.drop_packet(),
        }
        self.defrag.return_buf(whole);
    }

    fn drop_packet(&self) {
        Counters::bump(&self.counters.packets_dropped);
    }

    fn on_tcp(&mut self, now: StdInstant, key: FlowKey, tcp: &TcpSlice<'_>, packet: &[u8]) {
        if let Some(&token) = self.by_key.get(&key) {
            let Some(flow) = self.tcp.get_mut(&token) else { return };
            flow.last_active = now;
            match &mut flow.phase {
                // A RST abandons the connect; a retransmitted SYN waits for it, and the latest one
                // (a reused port may bring a new sequence number) is the one smoltcp will see.
                TcpPhase::Connecting { .. } if tcp.rst() => self.remove_tcp(token),
                TcpPhase::Connecting { syn, syn_seq, .. } => {
                    if tcp.syn() && !tcp.ack() {
                        syn.clear();
                        syn.extend_from_slice(packet);
                        *syn_seq = tcp.sequence_number();
                    }
                }
                TcpPhase::Bridged(bridge) => {
                    if !tcp.payload().is_empty() {
                        bridge.note_app_data(tcp.sequence_number().wrapping_add(tcp.payload().len() as u32));
                    }
                    mark_dirty(&mut self.dirty, flow, token);
                    self.smol_ingress(now, token, packet);
                }
            }
        } else if tcp.syn() && !tcp.ack() {
            self.open_tcp(now, key, tcp.sequence_number(), packet);
        } else if !tcp.rst() {
            // No such connection (stale, evicted, or from before we started): say so, as a host would.
            let len = tcp.payload().len() as u32 + u32::from(tcp.syn()) + u32::from(tcp.fin());
            let (seq, ack) = if tcp.ack() {
                (tcp.acknowledgment_number(), None)
            } else {
                (0, Some(tcp.sequence_number().wrapping_add(len)))
            };
            if reply::tcp_rst(&mut self.reply, key.server, key.client, seq, ack) {
                writer!(self).emit(&self.reply);
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
        self.tcp.insert(
            token,
            TcpFlow {
                key,
                out,
                phase: TcpPhase::Connecting { syn: syn.to_vec(), syn_seq, since: now, connected_at: None },
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
            },
        );
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
            writer!(self).emit(&self.reply);
        }
    }

    /// Creates a protected, non-blocking socket and starts connecting it.
    fn outbound(&self, target: SocketAddr, ty: Type, protocol: Protocol) -> io::Result<Socket> {
        let socket = Socket::new(Domain::for_address(target), ty.nonblocking().cloexec(), Some(protocol))?;
        self.protector.protect(socket.as_raw_fd())?;
        match socket.connect(&SockAddr::from(target)) {
            Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => Err(e),
            _ => Ok(socket),
        }
    }

    fn register(&mut self, socket: &Socket, interest: Interest) -> Option<Token> {
        let token = Token(self.next_token);
        self.next_token = self.next_token.wrapping_add(1).max(2);
        match self.poll.registry().register(&mut SourceFd(&socket.as_raw_fd()), token, interest) {
            Ok(()) => Some(token),
            Err(e) => {
                log::warn!("cannot register an outbound socket: {e}");
                None
            }
        }
    }

    fn target(&self, server: SocketAddr) -> SocketAddr {
        if server.port() == 53 && self.cfg.virtual_dns == Some(server.ip()) {
            self.cfg.upstream_dns.get()
        } else {
            server
        }
    }

    /// DNS over TLS to the virtual DNS address: nothing real listens there, and a refusal makes Android's
    /// automatic Private DNS fall back to plain DNS on port 53, where the engine sees the names.
    fn is_virtual_dot(&self, server: SocketAddr) -> bool {
        server.port() == DOT_PORT && self.cfg.virtual_dns == Some(server.ip())
    }

    /// Queues an owner look-up; false when the owner thread is behind (the flow goes unattributed).
    fn ask_owner(&self, key: FlowKey) -> bool {
        let query = OwnerQuery { proto: key.proto, client: key.client, server: key.server };
        let queued = self.owners.as_ref().is_some_and(|link| link.ask(query));
        if !queued {
            Counters::bump(&self.counters.owner_queries_dropped);
        }
        queued
    }

    /// Reports resolved owners and lets the flows that waited for them go ahead.
    fn take_owner_answers(&mut self, now: StdInstant) {
        let Some(link) = &self.owners else { return };
        let mut answers = std::mem::take(&mut self.owner_answers);
        answers.extend(link.answers());
        for (q, uid) in answers.drain(..) {
            if let Some(uid) = uid {
                self.observer.on_owner(q.proto, q.client, q.server, uid);
            }
            let key = FlowKey { proto: q.proto, client: q.client, server: q.server };
            if let Some(&token) = self.by_key.get(&key) {
                self.owner_known(now, token, uid);
            }
        }
        self.owner_answers = answers;
    }

    /// The owner of a waiting flow is known (or given up on): the policy decides, then the flow goes ahead.
    fn owner_known(&mut self, now: StdInstant, token: Token, uid: Option<u32>) {
        let pending = match (self.tcp.get(&token), self.datagrams.get(&token)) {
            (Some(flow), _) => flow.owner_pending,
            (None, Some(flow)) => flow.owner_pending,
            (None, None) => false,
        };
        // A late answer for a flow that already went ahead unattributed changes nothing.
        if !pending || !self.admit(token, uid) {
            return;
        }
        if let Some(flow) = self.tcp.get_mut(&token) {
            flow.owner_pending = false;
            if let TcpPhase::Connecting { connected_at: Some(_), .. } = flow.phase {
                self.bridge(now, token);
            }
        } else {
            self.release_held(token);
        }
    }

    /// Asks the policy about a new flow's destination before anything is sent towards it.
    fn destination_allowed(&self, key: FlowKey) -> bool {
        let allowed = self.policy.as_ref().is_none_or(|p| p.allows_destination(key.proto, key.client, key.server));
        if !allowed {
            Counters::bump(&self.counters.flows_blocked);
            log::debug!("blocked a flow to {}", key.server);
        }
        allowed
    }

    /// Answers the app's SYN with a RST ("connection refused").
    fn reset_syn(&mut self, key: FlowKey, syn_seq: u32) {
        if reply::tcp_rst(&mut self.reply, key.server, key.client, 0, Some(syn_seq.wrapping_add(1))) {
            writer!(self).emit(&self.reply);
        }
    }

    /// Asks the policy about a new flow; a refused one is answered (RST, ICMP prohibited) and dropped.
    fn admit(&mut self, token: Token, uid: Option<u32>) -> bool {
        let Some(policy) = &self.policy else { return true };
        let key = match (self.tcp.get(&token), self.datagrams.get(&token)) {
            (Some(flow), _) => flow.key,
            (None, Some(flow)) => flow.key,
            (None, None) => return false,
        };
        if policy.allows(key.proto, key.client, key.server, uid) {
            return true;
        }
        Counters::bump(&self.counters.flows_blocked);
        log::debug!("blocked a flow to {} (uid {uid:?})", key.server);
        if let Some(flow) = self.tcp.get(&token) {
            // Only a flow still in its handshake is ever admitted, so the app's SYN is the one to answer.
            if let TcpPhase::Connecting { syn_seq, .. } = flow.phase {
                self.reset_syn(key, syn_seq);
            }
            self.remove_tcp(token);
        } else {
            self.reflect_flow_error(key, &io::Error::from_raw_os_error(libc::EACCES));
            self.remove_datagram(token);
        }
        false
    }

    fn on_socket_event(&mut self, now: StdInstant, token: Token, readable: bool, writable: bool) {
        if self.datagrams.contains_key(&token) {
            return self.relay_replies(now, token);
        }
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
    fn bridge(&mut self, now: StdInstant, token: Token) {
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
    fn egress(&mut self, now: StdInstant, token: Token) {
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

    /// Moves what can move between the smoltcp socket and the outbound socket of one flow.
    fn pump(&mut self, now: StdInstant, token: Token) {
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
    fn remove_tcp(&mut self, token: Token) {
        let Some(flow) = self.tcp.remove(&token) else { return };
        self.by_key.remove(&flow.key);
        if let Err(e) = self.poll.registry().deregister(&mut SourceFd(&flow.out.as_raw_fd())) {
            log::debug!("deregister: {e}");
        }
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
    fn abort_tcp(&mut self, now: StdInstant, token: Token) {
        if let Some(TcpFlow { phase: TcpPhase::Bridged(bridge), failed, .. }) = self.tcp.get_mut(&token) {
            bridge.socket().abort();
            *failed = true;
            self.egress(now, token);
        }
        self.remove_tcp(token);
    }

    fn on_datagram(&mut self, now: StdInstant, key: FlowKey, payload: &[u8], packet: &[u8]) {
        let token = match self.by_key.get(&key) {
            Some(&token) => token,
            None => match self.open_datagram(now, key) {
                Ok(token) => token,
                Err(e) => return self.reflect_datagram_error(key, &e, packet),
            },
        };
        let Some(flow) = self.datagrams.get_mut(&token) else { return };
        flow.last_active = now;
        if flow.owner_pending {
            if flow.held.len() < HELD_DATAGRAMS {
                flow.held.push(payload.to_vec());
            } else {
                self.drop_packet();
            }
            return;
        }
        match flow.out.send(payload) {
            Ok(_) => {}
            // A full socket buffer drops the datagram, as a congested link would.
            Err(e) if e.kind() == ErrorKind::WouldBlock => self.drop_packet(),
            Err(e) => self.reflect_datagram_error(key, &e, packet),
        }
    }

    /// Sends the datagrams that waited for the owner look-up.
    fn release_held(&mut self, token: Token) {
        let Some(flow) = self.datagrams.get_mut(&token) else { return };
        flow.owner_pending = false;
        let key = flow.key;
        for payload in std::mem::take(&mut flow.held) {
            match flow.out.send(&payload) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => Counters::bump(&self.counters.packets_dropped),
                Err(e) => return self.reflect_flow_error(key, &e),
            }
        }
    }

    fn open_datagram(&mut self, now: StdInstant, key: FlowKey) -> io::Result<Token> {
        if !self.destination_allowed(key) {
            // Reflected by the caller as "administratively prohibited", quoting the datagram.
            return Err(io::Error::from_raw_os_error(libc::EACCES));
        }
        if self.datagrams.len() >= self.cfg.limits.max_datagram_flows {
            let idlest = self.datagrams.iter().min_by_key(|(_, flow)| flow.last_active).map(|(token, _)| *token);
            if let Some(token) = idlest {
                Counters::bump(&self.counters.evictions);
                self.remove_datagram(token);
            }
        }
        let (target, protocol, idle_timeout) = match key.proto {
            proto::UDP if key.server.port() == 53 => {
                (self.target(key.server), Protocol::UDP, self.cfg.limits.dns_idle_timeout)
            }
            proto::UDP => (key.server, Protocol::UDP, self.cfg.limits.udp_idle_timeout),
            // Unprivileged ping sockets: the kernel rewrites the echo identifier and matches replies.
            proto::ICMP => (key.server, Protocol::ICMPV4, self.cfg.limits.udp_idle_timeout),
            _ => (key.server, Protocol::ICMPV6, self.cfg.limits.udp_idle_timeout),
        };
        let out = self.outbound(target, Type::DGRAM, protocol)?;
        if let Err(e) = set_recv_err(&out, target.is_ipv6()) {
            log::debug!("IP_RECVERR: {e}");
        }
        let token =
            self.register(&out, Interest::READABLE).ok_or_else(|| io::Error::other("cannot register the socket"))?;
        let owner_pending = self.ask_owner(key);
        let flow =
            DatagramFlow { key, out, idle_timeout, last_active: now, created: now, owner_pending, held: Vec::new() };
        self.datagrams.insert(token, flow);
        self.by_key.insert(key, token);
        if !owner_pending {
            // A refused flow is gone: the caller finds no flow for the token and drops the datagram.
            self.admit(token, None);
        }
        Ok(token)
    }

    fn remove_datagram(&mut self, token: Token) {
        if let Some(flow) = self.datagrams.remove(&token) {
            self.by_key.remove(&flow.key);
            if let Err(e) = self.poll.registry().deregister(&mut SourceFd(&flow.out.as_raw_fd())) {
                log::debug!("deregister: {e}");
            }
        }
    }

    /// Relays up to one batch of datagrams from a server back to the app.
    fn relay_replies(&mut self, now: StdInstant, token: Token) {
        for _ in 0..self.cfg.limits.batch {
            let Some(flow) = self.datagrams.get_mut(&token) else { return };
            let key = flow.key;
            let len = match (&flow.out).read(&mut self.datagram) {
                Ok(len) => len,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    drain_error_queue(&flow.out);
                    self.reflect_flow_error(key, &e);
                    continue;
                }
            };
            flow.last_active = now;
            let data = self.datagram.get(..len).unwrap_or_default();
            let built = match key.proto {
                proto::UDP => reply::udp(&mut self.reply, key.server, key.client, data),
                // A ping socket returns the ICMP message: type, code, checksum, identifier, sequence, data.
                _ => match (data.first(), data.get(6..8), data.get(8..)) {
                    (Some(0 | 129), Some(&[hi, lo]), Some(body)) => reply::echo_reply(
                        &mut self.reply,
                        key.server.ip(),
                        key.client.ip(),
                        key.client.port(),
                        u16::from_be_bytes([hi, lo]),
                        body,
                    ),
                    _ => false,
                },
            };
            if built {
                writer!(self).emit(&self.reply);
            }
        }
    }

    /// An error for a datagram no longer at hand: quote a header of the flow instead of the real one.
    fn reflect_flow_error(&mut self, key: FlowKey, err: &io::Error) {
        let has_quote = key.proto == proto::UDP && reply::udp(&mut self.quote, key.client, key.server, &[]);
        let quote = if has_quote { std::mem::take(&mut self.quote) } else { Vec::new() };
        self.reflect_datagram_error(key, err, &quote);
        self.quote = quote;
    }

    /// Tells the app its datagram could not be delivered: port unreachable for a refusal, else the route error.
    fn reflect_datagram_error(&mut self, key: FlowKey, err: &io::Error, offending: &[u8]) {
        log::debug!("datagram flow to {}: {err}", key.server);
        let why = match err.raw_os_error() {
            Some(libc::ECONNREFUSED) => Some(Unreachable::Port),
            _ => Unreachable::from_error(err),
        };
        let Some(why) = why else { return self.drop_packet() };
        if reply::unreachable(&mut self.reply, key.server.ip(), key.client.ip(), why, offending) {
            writer!(self).emit(&self.reply);
        }
    }

    /// Once a second: connect timeouts, idle datagram flows, and a look at every bridged flow.
    fn sweep(&mut self, now: StdInstant) {
        self.defrag.retain(|since| now.duration_since(*since) < FRAGMENT_TIMEOUT);
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
        // Owners that take too long: the flows go ahead unattributed.
        let waited_tcp = self.tcp.iter().filter(|(_, flow)| {
            matches!(flow.phase, TcpPhase::Connecting { connected_at: Some(at), .. } if now.duration_since(at) >= OWNER_WAIT)
        });
        let waited_datagrams = self
            .datagrams
            .iter()
            .filter(|(_, flow)| flow.owner_pending && now.duration_since(flow.created) >= OWNER_WAIT);
        let waited: Vec<Token> = waited_tcp.map(|(t, _)| *t).chain(waited_datagrams.map(|(t, _)| *t)).collect();
        for token in waited {
            self.owner_known(now, token, None);
        }
        let idle: Vec<Token> = self
            .datagrams
            .iter()
            .filter(|(_, flow)| now.duration_since(flow.last_active) >= flow.idle_timeout)
            .map(|(token, _)| *token)
            .collect();
        for token in idle {
            self.remove_datagram(token);
        }
        // smoltcp closes sockets on its own timers (retransmission give-up); pump notices and reaps them.
        for (token, flow) in self.tcp.iter_mut() {
            if let TcpPhase::Bridged(bridge) = &mut flow.phase {
                if now.duration_since(flow.last_active) >= BUFFER_RELEASE_IDLE {
                    bridge.release_idle_buffers();
                }
                mark_dirty(&mut self.dirty, flow, *token);
            }
        }
    }

    /// On stop: every app connection gets a RST, every server socket is closed.
    fn reset_all(&mut self, now: StdInstant) {
        let tokens: Vec<Token> = self.tcp.keys().copied().collect();
        for token in tokens {
            self.abort_tcp(now, token);
        }
        let tokens: Vec<Token> = self.datagrams.keys().copied().collect();
        for token in tokens {
            self.remove_datagram(token);
        }
    }
}

fn mark_dirty(dirty: &mut Vec<Token>, flow: &mut TcpFlow, token: Token) {
    if !flow.dirty {
        flow.dirty = true;
        dirty.push(token);
    }
}

/// Without IP_RECVERR a connected datagram socket hears only "port unreachable"; with it, every ICMP
/// error, which we reflect to the app (whose own socket then decides, by the same rule, what it hears).
fn set_recv_err(socket: &Socket, v6: bool) -> io::Result<()> {
    let (level, name) = if v6 { (libc::SOL_IPV6, libc::IPV6_RECVERR) } else { (libc::SOL_IP, libc::IP_RECVERR) };
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a live local.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Empties the error queue that IP_RECVERR fills, so it holds no receive memory.
fn drain_error_queue(socket: &Socket) {
    let mut buf = [0u8; 64];
    for _ in 0..64 {
        // SAFETY: recv writes at most buf.len() bytes into buf, which outlives the call.
        let n = unsafe {
            libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT)
        };
        if n < 0 {
            break;
        }
    }
}

fn set_nonblocking(file: &File) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
