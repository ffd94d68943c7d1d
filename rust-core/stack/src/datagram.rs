//! The datagram relay: UDP and ICMP echo flows, each relayed through one connected outbound socket (ping sockets
//! for echo), replies rebuilt as packets to the app, errors reflected as ICMP.
use std::io::{self, ErrorKind, Read};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant as StdInstant};

use mio::{Interest, Token};
use phonehome_model::{FlowKey, Proto};
use socket2::{Protocol, Socket, Type};

use crate::reply::{self, Unreachable};
use crate::stack::Stack;
use crate::stats::Counters;

/// Datagrams of a new flow held while its owner is looked up; more are dropped.
const HELD_DATAGRAMS: usize = 8;

pub(crate) struct DatagramFlow {
    pub key: FlowKey,
    out: Socket,
    idle_timeout: Duration,
    last_active: StdInstant,
    pub created: StdInstant,
    /// The first datagrams wait for the owner look-up, so the app's socket is still open for it.
    pub owner_pending: bool,
    held: Vec<Vec<u8>>,
}

impl Stack {
    /// A datagram from the app (for echo, the whole ICMP message); `packet` is the IP packet it came in.
    pub(crate) fn on_datagram(&mut self, now: StdInstant, key: FlowKey, payload: &[u8], packet: &[u8]) {
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
    pub(crate) fn release_held(&mut self, token: Token) {
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
        let limits = &self.cfg.limits;
        let (target, protocol, idle_timeout) = match key.proto {
            Proto::Udp if key.server.port() == 53 => (self.target(key.server), Protocol::UDP, limits.dns_idle_timeout),
            Proto::Udp => (key.server, Protocol::UDP, limits.udp_idle_timeout),
            // Unprivileged ping sockets: the kernel rewrites the echo identifier and matches replies.
            _ if key.server.is_ipv4() => {
                (SocketAddr::new(key.server.ip(), 0), Protocol::ICMPV4, limits.udp_idle_timeout)
            }
            _ => (SocketAddr::new(key.server.ip(), 0), Protocol::ICMPV6, limits.udp_idle_timeout),
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

    pub(crate) fn remove_datagram(&mut self, token: Token) {
        if let Some(flow) = self.datagrams.remove(&token) {
            self.by_key.remove(&flow.key);
            self.deregister(&flow.out);
        }
    }

    /// Relays up to one batch of datagrams from a server back to the app.
    pub(crate) fn relay_replies(&mut self, now: StdInstant, token: Token) {
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
                Proto::Udp => reply::udp(&mut self.reply, key.server, key.client, data),
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
                self.emit_reply();
            }
        }
    }

    /// An error for a datagram no longer at hand: quote a header of the flow instead of the real one.
    pub(crate) fn reflect_flow_error(&mut self, key: FlowKey, err: &io::Error) {
        let has_quote = key.proto == Proto::Udp && reply::udp(&mut self.quote, key.client, key.server, &[]);
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
            self.emit_reply();
        }
    }

    /// Datagram flows idle past their timeout are dropped.
    pub(crate) fn drop_idle_datagrams(&mut self, now: StdInstant) {
        let idle: Vec<Token> = self
            .datagrams
            .iter()
            .filter(|(_, flow)| now.duration_since(flow.last_active) >= flow.idle_timeout)
            .map(|(token, _)| *token)
            .collect();
        for token in idle {
            self.remove_datagram(token);
        }
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
