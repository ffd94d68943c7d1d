//! Counters shared between the stack thread and its handles.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of the stack's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Packets read from the tun.
    pub packets_in: u64,
    /// Packets written to the tun.
    pub packets_out: u64,
    /// Packets from the tun that were malformed or of no handled kind.
    pub packets_dropped: u64,
    /// TCP connections bridged or being connected now.
    pub tcp_flows: u64,
    /// UDP and ICMP echo flows held now.
    pub datagram_flows: u64,
    /// Flows dropped to make room for new ones.
    pub evictions: u64,
    /// Outbound TCP connects that failed and were reflected to the app.
    pub connect_failures: u64,
    /// Owner queries dropped because the resolver thread was behind.
    pub owner_queries_dropped: u64,
    /// New flows the [`FlowPolicy`](crate::FlowPolicy) refused.
    pub flows_blocked: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub packets_in: AtomicU64,
    pub packets_out: AtomicU64,
    pub packets_dropped: AtomicU64,
    pub tcp_flows: AtomicU64,
    pub datagram_flows: AtomicU64,
    pub evictions: AtomicU64,
    pub connect_failures: AtomicU64,
    pub owner_queries_dropped: AtomicU64,
    pub flows_blocked: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> StackStats {
        StackStats {
            packets_in: self.packets_in.load(Relaxed),
            packets_out: self.packets_out.load(Relaxed),
            packets_dropped: self.packets_dropped.load(Relaxed),
            tcp_flows: self.tcp_flows.load(Relaxed),
            datagram_flows: self.datagram_flows.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            connect_failures: self.connect_failures.load(Relaxed),
            owner_queries_dropped: self.owner_queries_dropped.load(Relaxed),
            flows_blocked: self.flows_blocked.load(Relaxed),
        }
    }
}
