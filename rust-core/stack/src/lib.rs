//! phonehome-stack: the live engine's forwarding core.
//!
//! A tun fd carrying bare IP packets (Android's VpnService format, `IFF_NO_PI` on Linux) is read on one
//! named thread. TCP is terminated in smoltcp (one socket per connection, created when the outbound
//! connection succeeds, so refusals and unreachable servers are reflected as RST / ICMP); UDP and ICMP
//! echo are relayed per flow outside smoltcp. Every outbound socket goes through a [`SocketProtector`]
//! before it connects. Owners are resolved once per new flow on a second thread through an
//! [`OwnerResolver`]; the flow's handshake (TCP) or first datagrams (UDP, ICMP) wait for the answer
//! (at most 0.25–1.25 s if the resolver stalls), so even a connection that lasts a millisecond is
//! attributed while its socket still exists.
//! Inspection plugs in through [`PacketObserver`]; blocking through [`FlowPolicy`] ([`Stack::with_policy`]).
//!
//! ```ignore
//! let stack = Stack::new(config, tun_fd, Box::new(FwmarkProtector::new(0x64)),
//!                        Box::new(ProcNetResolver::default()), Box::new(my_observer))?;
//! let running = stack.spawn()?;   // thread "ph-stack" (+ "ph-owner")
//! /* … */
//! running.stop()?;
//! ```
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::time::Duration;

mod bridge;
mod device;
mod diag;
mod engine;
mod owner;
mod procnet;
mod protect;
mod reply;
mod stats;
mod tun;
mod upstream;

pub use engine::{RunningStack, ShutdownHandle, Stack};
pub use procnet::{find_owner, parse_line, parse_table, ProcNetEntry, ProcNetError, ProcNetResolver};
pub use protect::FwmarkProtector;
pub use stats::StackStats;
pub use tun::open_tun;
pub use upstream::UpstreamDns;

/// IP protocol numbers used in [`OwnerResolver`] and [`PacketObserver::on_owner`].
pub mod proto {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMP (IPv4) echo.
    pub const ICMP: u8 = 1;
    /// ICMPv6 echo.
    pub const ICMPV6: u8 = 58;
}

/// Keeps an outbound socket out of the tun (Android `VpnService.protect`, Linux `SO_MARK`).
pub trait SocketProtector: Send {
    /// Called on every outbound socket before it connects or sends.
    fn protect(&self, fd: RawFd) -> std::io::Result<()>;
}

/// Finds the uid of the app that owns a flow (Android ≥ 10 `getConnectionOwnerUid`, else `/proc/net`).
pub trait OwnerResolver: Send {
    /// `local` is the app's end of the flow, `remote` the server as the app addressed it.
    /// For ICMP echo the port of `local` is the echo identifier and `remote`'s port is 0.
    fn owner(&self, proto: u8, local: SocketAddr, remote: SocketAddr) -> Option<u32>;

    /// Resolves a batch of `(proto, local, remote)` flows; override when one look-up can serve many.
    fn owners(&self, flows: &[(u8, SocketAddr, SocketAddr)]) -> Vec<Option<u32>> {
        flows.iter().map(|&(proto, local, remote)| self.owner(proto, local, remote)).collect()
    }
}

/// Sees what crosses the tun; called on the packet thread, so it must be quick.
pub trait PacketObserver: Send {
    /// Every IP packet read from or written to the tun, as a capture on the tun would see it.
    fn on_packet(&mut self, ts: Duration, ip_packet: &[u8]);
    /// The owner of a new flow, once resolved (never called when it could not be resolved).
    fn on_owner(&mut self, proto: u8, client: SocketAddr, server: SocketAddr, uid: u32);
}

/// Decides whether a new flow may go ahead, on the stack thread (so it must be quick). A refused flow gets a
/// TCP RST, or for UDP and ICMP echo an ICMP "administratively prohibited".
pub trait FlowPolicy: Send {
    /// Asked first, before any outbound socket exists: a refused destination never sees the flow.
    fn allows_destination(&self, proto: u8, client: SocketAddr, server: SocketAddr) -> bool {
        let _ = (proto, client, server);
        true
    }

    /// Asked once per flow when its owner is known (`uid` is `None` when it could not be found in time).
    fn allows(&self, proto: u8, client: SocketAddr, server: SocketAddr, uid: Option<u32>) -> bool;
}

/// Caps that bound the memory and the work of the engine. The engine's own TCP memory is at most
/// `max_tcp_flows × (tcp_rx_buffer + tcp_tx_buffer)` (defaults: 1024 × 192 KiB = 192 MiB, reached only
/// with 1024 connections all stalled): buffers are mapped per flow, cost memory only where written, and
/// give their pages back after a second without traffic, so an idle flow costs about 1 KiB. That much
/// address space is reserved, which matters on 32-bit devices only. Datagram flows hold kernel socket
/// buffers only.
#[derive(Clone, Debug)]
pub struct Limits {
    /// TCP connections held at once; the idlest is reset to admit a new one.
    pub max_tcp_flows: usize,
    /// UDP and ICMP echo flows held at once; the idlest is dropped to admit a new one.
    pub max_datagram_flows: usize,
    /// smoltcp receive buffer per TCP flow (app → server); capped to what the tun queue holds.
    pub tcp_rx_buffer: usize,
    /// smoltcp send buffer per TCP flow (server → app).
    pub tcp_tx_buffer: usize,
    /// Idle time after which a UDP or ICMP flow is dropped.
    pub udp_idle_timeout: Duration,
    /// Idle time after which a DNS (port 53) UDP flow is dropped.
    pub dns_idle_timeout: Duration,
    /// Time allowed for an outbound TCP connect before the app gets "host unreachable".
    pub connect_timeout: Duration,
    /// Packets read from the tun, or datagrams from one socket, per loop turn (fairness bound).
    pub batch: usize,
    /// Owner queries waiting for the resolver thread; more are dropped (owner unknown).
    pub owner_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_tcp_flows: 1024,
            max_datagram_flows: 2048,
            tcp_rx_buffer: 64 * 1024,
            tcp_tx_buffer: 128 * 1024,
            udp_idle_timeout: Duration::from_secs(60),
            dns_idle_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(15),
            batch: 128,
            owner_queue: 1024,
        }
    }
}

/// Everything the engine needs to know, in one record.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// MTU of the tun device (Android peers use up to 10000).
    pub mtu: usize,
    /// Address inside the tun's subnet whose port 53 (UDP and TCP) goes to `upstream_dns`. Its TCP port 853
    /// (DNS over TLS, which Android's automatic Private DNS probes) is refused at once, so the platform falls
    /// back to port 53 and the names stay visible.
    pub virtual_dns: Option<IpAddr>,
    /// The resolver that queries to `virtual_dns` are forwarded to; replaceable while running.
    pub upstream_dns: UpstreamDns,
    /// Memory and work bounds.
    pub limits: Limits,
}

/// Errors of the engine's setup and run loop (per-flow failures are reflected to the app, not returned).
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A system call on the tun, the poller or a thread failed.
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The configuration cannot work.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The engine thread panicked.
    #[error("the stack thread panicked")]
    Panicked,
}

impl StackError {
    pub(crate) fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> StackError {
        move |source| StackError::Io { what, source }
    }
}
