//! In-order reassembly of one TCP direction: the first bytes for a ClientHello split over segments or a
//! DNS-over-TCP exchange, whatever the retransmissions and reordering; then, for a reader that follows the
//! whole stream (HTTP, raw bytes), each new byte once.
//!
//! Bounded: at most `cap` contiguous bytes and [`MAX_PENDING_SEGMENTS`] out-of-order segments are kept. The
//! first `cap` bytes stay until the collector is full (a rewrite of the stream's start can still be seen);
//! after that, bytes the reader has read are dropped ([`StreamCollector::compact`]) and the stream goes on.

/// How a segment changed the contiguous prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    None,
    Appended,
    /// Bytes already held were replaced: inspection must look again from the start.
    Rewritten,
}

/// Out-of-order segments held while waiting for a gap to fill; more are dropped (the stream then stalls).
pub const MAX_PENDING_SEGMENTS: usize = 32;

#[derive(Debug)]
pub struct StreamCollector {
    /// Sequence number of `data[0]`; `None` until the first SYN or data segment is seen.
    base: Option<u32>,
    /// Whether `base` came from a SYN (then nothing before it belongs to the stream).
    base_from_syn: bool,
    data: Vec<u8>,
    pending: Vec<(u32, Vec<u8>)>,
    cap: usize,
    /// Bytes of `data` handed to the reader.
    read: usize,
    /// The stream's start was dropped: `data[0]` is somewhere later in it.
    compacted: bool,
    /// A reader follows the whole stream: segments are no longer cut at `cap` (the reader drops what it read).
    follow: bool,
}

/// Sequence-space distance from `from` to `to` (RFC 1982 style, wrapping), negative if `to` is before `from`.
fn seq_delta(from: u32, to: u32) -> i64 {
    i64::from(to.wrapping_sub(from) as i32)
}

impl StreamCollector {
    pub fn new(cap: usize) -> Self {
        StreamCollector {
            base: None,
            base_from_syn: false,
            data: Vec::new(),
            pending: Vec::new(),
            cap,
            read: 0,
            compacted: false,
            follow: false,
        }
    }

    /// A SYN fixes the stream start: data begins at `seq + 1`.
    pub fn on_syn(&mut self, seq: u32) {
        if self.data.is_empty() {
            self.base = Some(seq.wrapping_add(1));
            self.base_from_syn = true;
            self.pending.clear();
        }
    }

    /// Adds a segment and says how the contiguous prefix changed.
    pub fn on_segment(&mut self, seq: u32, payload: &[u8]) -> Change {
        if payload.is_empty() || (self.is_full() && !self.follow) {
            return Change::None;
        }
        let base = *self.base.get_or_insert(seq);
        let offset = seq_delta(base, seq);
        if offset < 0 && !self.base_from_syn && !self.compacted && self.data.len() < self.cap {
            // Mid-stream capture whose first segment arrived late: extend the start backwards.
            return if self.prepend(seq, payload) { Change::Rewritten } else { Change::None };
        }
        let before = self.data.len();
        let rewrote = self.place(offset, payload);
        self.drain_pending();
        match (rewrote, self.data.len() > before) {
            (true, _) => Change::Rewritten,
            (false, true) => Change::Appended,
            (false, false) => Change::None,
        }
    }

    /// The contiguous bytes collected so far.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn is_full(&self) -> bool {
        self.data.len() >= self.cap
    }

    /// The bytes the reader has not read yet.
    pub fn unread(&self) -> &[u8] {
        self.data.get(self.read..).unwrap_or_default()
    }

    /// The reader read everything held.
    pub fn mark_read(&mut self) {
        self.read = self.data.len();
    }

    /// The held bytes changed: the reader starts again from the first one held.
    pub fn rewind(&mut self) {
        self.read = 0;
    }

    /// A reader follows the whole stream from now on: held bytes may exceed `cap` by a segment until it reads.
    pub fn follow(&mut self) {
        self.follow = true;
    }

    /// Once full, drops what the reader read, so the stream can go on past `cap`.
    pub fn compact(&mut self) {
        if !self.is_full() || self.read == 0 {
            return;
        }
        let Some(base) = self.base else { return };
        self.base = Some(base.wrapping_add(self.read as u32));
        self.data.drain(..self.read);
        self.read = 0;
        self.compacted = true;
        self.drain_pending();
    }

    /// Frees the buffers once inspection no longer needs them.
    pub fn release(&mut self) {
        self.data = Vec::new();
        self.pending = Vec::new();
        self.cap = 0;
    }

    /// Moves the stream start back to `seq`; what was held so far waits as a pending segment.
    fn prepend(&mut self, seq: u32, payload: &[u8]) -> bool {
        let Some(base) = self.base else { return false };
        if -seq_delta(base, seq) > self.cap as i64 {
            return false; // too far back to be this stream's start: a stale retransmission
        }
        let held = std::mem::take(&mut self.data);
        if !held.is_empty() && self.pending.len() < MAX_PENDING_SEGMENTS {
            self.pending.push((base, held));
        }
        self.base = Some(seq);
        self.place(0, payload);
        self.drain_pending();
        true
    }

    /// Places a segment at `offset` from the base: appends, trims overlap, or parks it. A segment that
    /// overlaps held bytes with different ones and reaches past them replaces them (the longer, later
    /// segment is the real data: e.g. stray payload on a handshake ACK); returns true when it did.
    fn place(&mut self, offset: i64, payload: &[u8]) -> bool {
        // Bytes before the held ones (before a SYN's base, or already dropped) are not this data.
        let (offset, payload) = match usize::try_from(-offset) {
            Ok(before) if offset < 0 => (0, payload.get(before..).unwrap_or_default()),
            _ => (offset, payload),
        };
        let end = offset + payload.len() as i64;
        let have = self.data.len() as i64;
        if end <= have {
            return false; // retransmission of bytes we already hold
        }
        // A followed stream holds up to twice the cap ahead (the reader drops what it read).
        let horizon = if self.follow { 2 * self.cap as i64 } else { self.cap as i64 };
        if offset > have {
            if offset < horizon && self.pending.len() < MAX_PENDING_SEGMENTS {
                if let Some(base) = self.base {
                    // Only what can fit under the horizon is worth holding (segments may be 64 KiB offloads).
                    let keep = (horizon - offset).min(payload.len() as i64) as usize;
                    self.pending.push((base.wrapping_add(offset as u32), payload[..keep].to_vec()));
                }
            }
            return false;
        }
        let start = usize::try_from(offset).unwrap_or(0);
        let overlap = usize::try_from(have - offset).unwrap_or(0);
        let (old, new) = (&self.data[start..], &payload[..overlap]);
        let rewrote = old != new;
        if rewrote {
            self.data.truncate(start);
            self.data.extend_from_slice(new);
        }
        let room = if self.follow { usize::MAX } else { self.cap.saturating_sub(self.data.len()) };
        let fresh = &payload[overlap..];
        self.data.extend_from_slice(&fresh[..fresh.len().min(room)]);
        rewrote
    }

    fn drain_pending(&mut self) {
        let Some(base) = self.base else { return };
        loop {
            let have = self.data.len() as i64;
            let Some(i) = self.pending.iter().position(|(seq, _)| seq_delta(base, *seq) <= have) else {
                break;
            };
            let (seq, segment) = self.pending.swap_remove(i);
            self.place(seq_delta(base, seq), &segment);
        }
        self.pending.retain(|(seq, seg)| seq_delta(base, *seq) + seg.len() as i64 > self.data.len() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn in_order_segments_concatenate() {
        let mut s = StreamCollector::new(100);
        s.on_syn(999);
        assert_eq!(s.on_segment(1000, b"hello "), Change::Appended);
        assert_eq!(s.on_segment(1006, b"world"), Change::Appended);
        assert_eq!(s.bytes(), b"hello world");
    }

    #[test]
    fn retransmissions_and_overlaps_are_trimmed() {
        let mut s = StreamCollector::new(100);
        s.on_syn(0);
        s.on_segment(1, b"abcdef");
        assert_eq!(s.on_segment(1, b"abc"), Change::None);
        assert_eq!(s.on_segment(4, b"defghi"), Change::Appended);
        assert_eq!(s.bytes(), b"abcdefghi");
    }

    #[test]
    fn reordered_segments_wait_for_the_gap() {
        let mut s = StreamCollector::new(100);
        s.on_syn(u32::MAX - 2); // sequence numbers wrap inside the stream
        assert_eq!(s.on_segment(2, b"world"), Change::None);
        assert_eq!(s.on_segment(u32::MAX - 1, b"hell"), Change::Appended);
        assert_eq!(s.bytes(), b"hellworld");
    }

    #[test]
    fn midstream_start_extends_backwards_when_the_first_segment_comes_late() {
        let mut s = StreamCollector::new(100);
        s.on_segment(106, b"world");
        assert_eq!(s.on_segment(100, b"hello "), Change::Rewritten);
        assert_eq!(s.bytes(), b"hello world");
    }

    #[test]
    fn stops_at_the_cap() {
        let mut s = StreamCollector::new(4);
        s.on_syn(0);
        s.on_segment(1, b"abcdef");
        assert_eq!(s.bytes(), b"abcd");
        assert!(s.is_full());
        assert_eq!(s.on_segment(7, b"gh"), Change::None);
    }

    #[test]
    fn a_full_collector_drops_what_was_read_and_goes_on() {
        let mut s = StreamCollector::new(4);
        s.on_syn(0);
        s.on_segment(1, b"abcdef");
        assert_eq!(s.unread(), b"abcd");
        s.mark_read();
        s.compact();
        assert_eq!((s.bytes(), s.is_full()), (&b""[..], false));
        // The rest of that segment is sent again, then later bytes, one of them early.
        assert_eq!(s.on_segment(9, b"ij"), Change::None);
        assert_eq!(s.on_segment(1, b"abcdefgh"), Change::Appended);
        assert_eq!(s.unread(), b"efgh");
        s.mark_read();
        s.compact();
        assert_eq!(s.on_segment(9, b"ij"), Change::Appended);
        assert_eq!(s.unread(), b"ij");
        // A retransmission of dropped bytes changes nothing.
        assert_eq!(s.on_segment(3, b"cdefghij"), Change::None);
    }

    #[test]
    fn a_followed_stream_is_not_cut_at_the_cap() {
        let mut s = StreamCollector::new(4);
        s.on_syn(0);
        s.follow();
        assert_eq!(s.on_segment(1, b"abcdef"), Change::Appended);
        assert_eq!(s.unread(), b"abcdef");
        s.mark_read();
        s.compact();
        assert_eq!(s.on_segment(7, b"gh"), Change::Appended);
        assert_eq!(s.unread(), b"gh");
    }

    #[test]
    fn a_segment_straddling_the_syn_base_keeps_only_its_stream_bytes() {
        let mut s = StreamCollector::new(100);
        s.on_syn(9);
        s.on_segment(10, b"ab");
        assert_eq!(s.on_segment(8, b"xyabcd"), Change::Appended);
        assert_eq!(s.bytes(), b"abcd");
    }

    /// nDPI's heuristic_tcp_ack_payload.pcap: 2 stray bytes on the handshake's ACK, then the ClientHello at
    /// the same sequence number.
    #[test]
    fn a_longer_segment_with_other_bytes_replaces_stray_payload() {
        let mut s = StreamCollector::new(100);
        s.on_syn(9);
        assert_eq!(s.on_segment(10, b"\0\0"), Change::Appended);
        assert_eq!(s.on_segment(10, b"\x16\x03\x01hello"), Change::Rewritten);
        assert_eq!(s.bytes(), b"\x16\x03\x01hello");
        assert_eq!(s.on_segment(10, b"\x16\x03"), Change::None);
    }

    proptest! {
        /// Any split of a stream into segments, delivered in any order with duplicates, reassembles to the
        /// stream (cut at the cap) — as long as no more segments wait than the collector holds.
        #[test]
        fn any_segmentation_and_order_reassembles(
            stream in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec(1usize..400, 1..20),
            isn in any::<u32>(),
            order_seed in any::<u64>(),
            cap in 1usize..4000,
        ) {
            let mut segments = Vec::new();
            let mut at = 0;
            for cut in cuts.iter().cycle() {
                if at >= stream.len() { break; }
                let end = (at + cut).min(stream.len());
                segments.push((at, end));
                at = end;
            }
            prop_assume!(segments.len() <= MAX_PENDING_SEGMENTS);
            let mut order: Vec<usize> = (0..segments.len()).collect();
            let mut x = order_seed | 1;
            for i in (1..order.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            order.push(order[0]); // a duplicate
            let mut s = StreamCollector::new(cap);
            s.on_syn(isn);
            for i in order {
                let (a, b) = segments[i];
                s.on_segment(isn.wrapping_add(1).wrapping_add(a as u32), &stream[a..b]);
            }
            prop_assert_eq!(s.bytes(), &stream[..stream.len().min(cap)]);
        }

        #[test]
        fn arbitrary_segments_never_panic_and_respect_the_cap(
            segs in proptest::collection::vec((any::<u32>(), proptest::collection::vec(any::<u8>(), 0..200)), 0..60),
            syn in proptest::option::of(any::<u32>()),
            cap in 0usize..1000,
        ) {
            let mut s = StreamCollector::new(cap);
            if let Some(isn) = syn { s.on_syn(isn); }
            for (seq, payload) in &segs { s.on_segment(*seq, payload); }
            prop_assert!(s.bytes().len() <= cap);
            prop_assert!(s.pending.len() <= MAX_PENDING_SEGMENTS);
        }
    }
}
