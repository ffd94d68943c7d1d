//! Bounded IPv4/IPv6 fragment reassembly.
//!
//! etherparse's `IpDefragBuf` merges the byte ranges of one datagram; its `IpDefragPool` is not
//! used because it is unbounded and needs strictly parsed packets, so the pool here adds caps on
//! pending datagrams and bytes and drops stale datagrams by capture time.
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use etherparse::defrag::IpDefragBuf;
use etherparse::{IpFragOffset, IpNumber};

use crate::decode::DecodeError;
use crate::link::malformed;
use crate::Timestamp;

/// Caps on the datagrams held while their fragments arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefragLimits {
    /// Datagrams pending at once; the oldest is dropped to make room.
    pub max_datagrams: usize,
    /// Bytes buffered across pending datagrams; the oldest are dropped to stay below.
    pub max_bytes: usize,
    /// A datagram not completed this long after its first fragment is dropped (Linux: 30 s).
    pub timeout: Duration,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits { max_datagrams: 256, max_bytes: 4 * 1024 * 1024, timeout: Duration::from_secs(30) }
    }
}

/// Identifies a datagram (RFC 791: source, destination, protocol, id; RFC 8200: without protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FragmentKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    /// IPv4 only: IPv6 takes the protocol from the first fragment.
    pub v4_protocol: Option<u8>,
}

/// One fragment as read from its IP header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fragment {
    pub key: FragmentKey,
    pub offset: IpFragOffset,
    pub more: bool,
    /// Protocol of the fragmentable part (IPv6: meaningful in the first fragment only).
    pub protocol: u8,
    /// Bytes of IP header before the fragment data (IPv6: without the fragment header).
    pub header_len: usize,
}

/// A reassembled datagram's payload and what its first fragment said about it.
pub(crate) struct Reassembled {
    pub protocol: u8,
    pub header_len: usize,
    pub payload: Vec<u8>,
}

/// Counters of the fragment reassembly since the decoder was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams completed from fragments.
    pub reassembled: u64,
    /// Datagrams given up: timed out, evicted by a cap, or with conflicting fragments.
    pub dropped: u64,
    /// Datagrams waiting for more fragments now.
    pub pending: usize,
}

struct Pending {
    buf: IpDefragBuf,
    first_seen: Timestamp,
    /// From the fragment at offset 0, once seen.
    first: Option<(u8, usize)>,
}

pub(crate) struct Defrag {
    limits: DefragLimits,
    pending: HashMap<FragmentKey, Pending>,
    bytes: usize,
    /// A buffer returned by the caller, reused for the next datagram.
    spare: Vec<u8>,
    stats: DefragStats,
}

impl Defrag {
    pub fn new(limits: DefragLimits) -> Self {
        Defrag { limits, pending: HashMap::new(), bytes: 0, spare: Vec::new(), stats: DefragStats::default() }
    }

    pub fn stats(&self) -> DefragStats {
        DefragStats { pending: self.pending.len(), ..self.stats }
    }

    /// Gives back a finished payload buffer for reuse.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() > self.spare.capacity() {
            self.spare = buf;
        }
    }

    /// Adds a fragment; returns the datagram when this fragment completes it.
    pub fn add(&mut self, ts: Timestamp, fragment: Fragment, data: &[u8]) -> Result<Option<Reassembled>, DecodeError> {
        self.stats.fragments += 1;
        self.expire(ts);
        if !self.pending.contains_key(&fragment.key) && self.pending.len() >= self.limits.max_datagrams {
            self.evict_oldest();
        }
        let entry = match self.pending.entry(fragment.key) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(Pending {
                buf: IpDefragBuf::new(IpNumber(fragment.protocol), std::mem::take(&mut self.spare), Vec::new()),
                first_seen: ts,
                first: None,
            }),
        };
        let before = entry.buf.data().capacity();
        let added = entry.buf.add(fragment.offset, fragment.more, data);
        let after = entry.buf.data().capacity();
        if fragment.offset.value() == 0 {
            entry.first = Some((fragment.protocol, fragment.header_len));
        }
        let complete = entry.buf.is_complete();
        self.bytes = self.bytes.saturating_add(after).saturating_sub(before);
        if let Err(e) = added {
            // Conflicting or misaligned fragments: the datagram cannot be trusted (RFC 5722).
            self.drop_datagram(&fragment.key);
            return Err(malformed("ip fragment", e));
        }
        if complete {
            self.stats.reassembled += 1;
            return Ok(self.remove(&fragment.key).and_then(|done| {
                let (protocol, header_len) = done.first?;
                Some(Reassembled { protocol, header_len, payload: done.buf.take_bufs().0 })
            }));
        }
        while self.bytes > self.limits.max_bytes && !self.pending.is_empty() {
            self.evict_oldest();
        }
        Ok(None)
    }

    fn expire(&mut self, now: Timestamp) {
        let timeout = self.limits.timeout;
        let (mut freed, mut dropped) = (0, 0);
        self.pending.retain(|_, p| {
            let keep = now.since(p.first_seen) <= timeout;
            if !keep {
                freed += p.buf.data().capacity();
                dropped += 1;
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        self.stats.dropped += dropped;
    }

    fn evict_oldest(&mut self) {
        if let Some(key) = self.pending.iter().min_by_key(|(_, p)| p.first_seen).map(|(k, _)| *k) {
            self.drop_datagram(&key);
        }
    }

    fn drop_datagram(&mut self, key: &FragmentKey) {
        if self.remove(key).is_some() {
            self.stats.dropped += 1;
        }
    }

    fn remove(&mut self, key: &FragmentKey) -> Option<Pending> {
        let removed = self.pending.remove(key)?;
        self.bytes = self.bytes.saturating_sub(removed.buf.data().capacity());
        Some(removed)
    }
}
