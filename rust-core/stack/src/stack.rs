//! The device and poll loop: tun ⇄ smoltcp ⇄ protected outbound sockets, on one thread driven by mio.
//!
//! Every method that depends on time takes `now` from the caller; only [`Stack::run`] reads the clock.
//!
//! One smoltcp `Interface` serves every flow, but each flow has its own one-socket `SocketSet`: smoltcp
//! finds a segment's socket by scanning its set, so a shared set would make every packet and every
//! egress round cost O(flows). Per-flow timers (retransmissions) live in a heap.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, ErrorKind, Read};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use phonehome_model::{FlowKey, Proto, Timestamp};
use phonehome_packet::{PacketDecoder, Transport};
use smoltcp::iface::{Config as IfaceConfig, Interface};
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::datagram::DatagramFlow;
use crate::device::{SmolDevice, TunWriter};
use crate::owner::OwnerLink;
use crate::stats::{Counters, StackStats};
use crate::tcp::{Segment, TcpFlow};
use crate::{OwnerResolver, PacketObserver, SocketProtector, StackConfig, StackError};

const TUN: Token = Token(0);
const WAKE: Token = Token(1);
/// Largest IP packet a tun read can return.
pub(crate) const MAX_PACKET: usize = 65535;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The stack, built and ready to [`run`](Stack::run) or [`spawn`](Stack::spawn).
pub struct Stack {
    pub(crate) cfg: StackConfig,
    pub(crate) tun: File,
    pub(crate) poll: Poll,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) iface: Interface,
    pub(crate) tcp: HashMap<Token, TcpFlow>,
    pub(crate) datagrams: HashMap<Token, DatagramFlow>,
    /// The one flow key: the app's view of the flow, as the analysis above the stack keys it too.
    pub(crate) by_key: HashMap<FlowKey, Token>,
    pub(crate) dirty: Vec<Token>,
    pub(crate) reap: Vec<Token>,
    /// Flow deadlines; stale entries (no longer the flow's `deadline`) are skipped when popped.
    pub(crate) timers: BinaryHeap<Reverse<(StdInstant, Token)>>,
    next_token: usize,
    protector: Box<dyn SocketProtector>,
    pub(crate) observer: Box<dyn PacketObserver>,
    resolver: Option<Box<dyn OwnerResolver>>,
    pub(crate) owners: Option<OwnerLink>,
    /// Decodes (and reassembles) what the app sends: the one parse of each packet.
    ingress: PacketDecoder,
    /// Decodes what the stack writes (never fragmented), for the observer and the ACK bookkeeping.
    pub(crate) egress: PacketDecoder,
    /// Reused buffers: tun reads, smoltcp egress, our own replies, datagrams from servers.
    packet: Vec<u8>,
    pub(crate) smol_buf: Vec<u8>,
    pub(crate) reply: Vec<u8>,
    pub(crate) quote: Vec<u8>,
    pub(crate) datagram: Vec<u8>,
    pub(crate) clock_origin: StdInstant,
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
    /// Asks the stack to stop; [`Stack::run`] returns soon after.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            log::warn!("cannot wake the stack to stop it: {e}");
        }
    }

    /// The stack's counters now.
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

/// A writer to the tun out of the stack's fields (a macro, so the borrows stay per field).
macro_rules! writer {
    ($s:ident) => {
        TunWriter { tun: &$s.tun, observer: &mut *$s.observer, counters: &$s.counters, decoder: &mut $s.egress }
    };
}
pub(crate) use writer;

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
        iface_config.random_seed = Timestamp::now().0.as_nanos() as u64;
        let mut smol_buf = Vec::with_capacity(config.mtu);
        let mut egress = PacketDecoder::new();
        let writer = TunWriter { tun: &tun, observer: &mut *observer, counters: &counters, decoder: &mut egress };
        let mut device = SmolDevice::new(None, writer, &mut smol_buf, config.mtu);
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
            owners: None,
            ingress: PacketDecoder::new(),
            egress,
            packet: vec![0; MAX_PACKET],
            smol_buf,
            reply: Vec::with_capacity(MAX_PACKET + 64),
            quote: Vec::with_capacity(128),
            datagram: vec![0; MAX_PACKET],
            clock_origin: now,
            last_sweep: now,
        })
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

    /// Runs the stack on the calling thread until [`ShutdownHandle::stop`]; resets every flow on the way out,
    /// then tells the observer it stopped.
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
        self.observer.on_stop();
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

    pub(crate) fn smol_now(&self, now: StdInstant) -> Instant {
        Instant::from_micros(now.duration_since(self.clock_origin).as_micros() as i64)
    }

    /// Reads up to one batch of packets; true when more may be waiting.
    fn read_tun(&mut self, now: StdInstant) -> Result<bool, StackError> {
        // Both leave `self` for the batch, so a decoded packet may borrow them while the flows are updated.
        let mut packet = std::mem::take(&mut self.packet);
        let mut ingress = std::mem::take(&mut self.ingress);
        let mut result = Ok(true);
        for _ in 0..self.cfg.limits.batch {
            match (&self.tun).read(&mut packet) {
                Ok(len) => self.on_tun_packet(now, &mut ingress, packet.get(..len).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    result = Ok(false);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    result = Err(StackError::Io { what: "read the tun", source });
                    break;
                }
            }
        }
        self.packet = packet;
        self.ingress = ingress;
        result
    }

    /// Decodes one packet from the app (the only parse it gets), shows it to the observer, then forwards it.
    fn on_tun_packet(&mut self, now: StdInstant, ingress: &mut PacketDecoder, raw: &[u8]) {
        Counters::bump(&self.counters.packets_in);
        let ts = Timestamp::now();
        let Ok(decoded) = ingress.decode_tun(ts, raw) else {
            self.observer.on_packet(ts, None, raw);
            return self.drop_packet();
        };
        self.observer.on_packet(ts, decoded.as_ref(), raw);
        // A fragment waits for the rest of its datagram.
        let Some(packet) = decoded else { return };
        let flow = |proto, client_port, server_port| FlowKey {
            proto,
            client: SocketAddr::new(packet.src, client_port),
            server: SocketAddr::new(packet.dst, server_port),
        };
        match &packet.transport {
            // TCP never needs reassembly (MSS); smoltcp takes whole packets only.
            Transport::Tcp(segment) if !packet.reassembled => {
                let key = flow(Proto::Tcp, segment.src_port, segment.dst_port);
                self.on_tcp(now, key, &Segment::of(segment), raw);
            }
            Transport::Udp(datagram) => {
                self.on_datagram(now, flow(Proto::Udp, datagram.src_port, datagram.dst_port), datagram.payload, raw)
            }
            // Echo requests only (type 8, ICMPv6 128); the echo identifier stands for both ports.
            Transport::Icmp(message) if matches!((message.v6, message.icmp_type), (false, 8) | (true, 128)) => {
                let id = message.echo_id.unwrap_or(0);
                self.on_datagram(now, flow(Proto::Icmp, id, id), message.message, raw);
            }
            // Other protocols are not forwarded.
            _ => self.drop_packet(),
        }
    }

    pub(crate) fn drop_packet(&self) {
        Counters::bump(&self.counters.packets_dropped);
    }

    /// Writes the reply built in `self.reply` to the tun.
    pub(crate) fn emit_reply(&mut self) {
        writer!(self).emit(&self.reply);
    }

    /// Creates a protected, non-blocking socket and starts connecting it.
    pub(crate) fn outbound(&self, target: SocketAddr, ty: Type, protocol: Protocol) -> io::Result<Socket> {
        let socket = Socket::new(Domain::for_address(target), ty.nonblocking().cloexec(), Some(protocol))?;
        self.protector.protect(socket.as_raw_fd())?;
        match socket.connect(&SockAddr::from(target)) {
            Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => Err(e),
            _ => Ok(socket),
        }
    }

    pub(crate) fn register(&mut self, socket: &Socket, interest: Interest) -> Option<Token> {
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

    pub(crate) fn deregister(&self, socket: &Socket) {
        if let Err(e) = self.poll.registry().deregister(&mut SourceFd(&socket.as_raw_fd())) {
            log::debug!("deregister: {e}");
        }
    }

    /// Where a flow's outbound socket goes: the upstream resolver for the virtual DNS address.
    pub(crate) fn target(&self, server: SocketAddr) -> SocketAddr {
        if server.port() == 53 && self.cfg.virtual_dns == Some(server.ip()) {
            self.cfg.upstream_dns.get()
        } else {
            server
        }
    }

    fn on_socket_event(&mut self, now: StdInstant, token: Token, readable: bool, writable: bool) {
        if self.datagrams.contains_key(&token) {
            self.relay_replies(now, token);
        } else {
            self.on_tcp_socket_event(now, token, readable, writable);
        }
    }

    /// Once a second: connect timeouts, owners that take too long, idle datagram flows, a look at every bridged
    /// flow, and the observer's own sweep.
    fn sweep(&mut self, now: StdInstant) {
        self.time_out_connects(now);
        self.give_up_waiting(now);
        self.drop_idle_datagrams(now);
        self.look_at_bridges(now);
        self.observer.on_tick(Timestamp::now());
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
