//! The smoltcp side of one bridged TCP flow, with its buffers in an anonymous mapping of their own.
//!
//! Why a mapping: a page of it costs memory only once written, and an idle flow hands its pages back to
//! the kernel (`MADV_DONTNEED`), so 10,000 open idle connections cost a few KiB each instead of their
//! full buffer sizes. Heap buffers would not: the allocator zeroes, hence touches, a reused block, and
//! keeps the pages of freed ones.
use std::io;

use memmap2::{MmapMut, MmapRaw, UncheckedAdvice};
use smoltcp::iface::{Interface, PollResult, SocketHandle, SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::tcp;
use smoltcp::time::Instant;

/// One smoltcp TCP socket, its socket set, and the mapping its buffers live in.
///
/// Invariant (what makes the `'static` buffers sound): the socket never leaves `sockets` (this module never
/// hands out the set; callers of [`socket`](TcpBridge::socket) must not move the socket out), and `sockets`
/// is dropped before `map` (field order), so no buffer outlives the mapping.
pub(crate) struct TcpBridge {
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    /// Raw: a reference to the whole mapping would alias what smoltcp holds of it.
    map: MmapRaw,
    /// Offset of the tx buffer in `map` (the rx buffer's length rounded up to whole pages).
    tx_offset: usize,
    /// Pages may hold data since the last release.
    touched: bool,
    /// End (next sequence number) of the app's data that reached smoltcp, once some did.
    app_data_end: Option<u32>,
    /// Latest acknowledgment smoltcp sent the app.
    acked: Option<u32>,
}

impl TcpBridge {
    /// A socket with `rx` and `tx` bytes of buffer (each rounded up to whole pages in the mapping).
    pub fn new(rx: usize, tx: usize) -> io::Result<TcpBridge> {
        let page = page_size();
        let tx_offset = rx.div_ceil(page) * page;
        let map = MmapRaw::from(MmapMut::map_anon(tx_offset + tx.div_ceil(page) * page)?);
        let base = map.as_mut_ptr();
        // SAFETY: both ranges lie inside the mapping and do not overlap; the mapping stays at this address
        // (moving an MmapMut moves a pointer, not the pages) and outlives the socket (type invariant).
        let (rx_buf, tx_buf) = unsafe {
            (std::slice::from_raw_parts_mut(base, rx), std::slice::from_raw_parts_mut(base.add(tx_offset), tx))
        };
        let socket = tcp::Socket::new(tcp::SocketBuffer::new(rx_buf), tcp::SocketBuffer::new(tx_buf));
        let mut sockets = SocketSet::new(Vec::<SocketStorage<'static>>::with_capacity(1));
        let handle = sockets.add(socket);
        Ok(TcpBridge { sockets, handle, map, tx_offset, touched: false, app_data_end: None, acked: None })
    }

    /// Feeds the one packet `device` holds to this flow's socket.
    pub fn poll_ingress(&mut self, iface: &mut Interface, now: Instant, device: &mut impl Device) {
        iface.poll_ingress_single(now, device, &mut self.sockets);
    }

    /// Lets the socket send one round of what it has to send.
    pub fn poll_egress(&mut self, iface: &mut Interface, now: Instant, device: &mut impl Device) -> PollResult {
        iface.poll_egress(now, device, &mut self.sockets)
    }

    /// When the socket next wants polling (retransmission, timers).
    pub fn poll_at(&mut self, iface: &mut Interface, now: Instant) -> Option<Instant> {
        iface.poll_at(now, &self.sockets)
    }

    pub fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.handle)
    }

    /// Data moved through the buffers.
    pub fn note_data(&mut self) {
        self.touched = true;
    }

    /// The app sent data ending before sequence number `end`.
    pub fn note_app_data(&mut self, end: u32) {
        self.touched = true;
        if self.app_data_end.is_none_or(|known| seq_after(end, known)) {
            self.app_data_end = Some(end);
        }
    }

    /// smoltcp acknowledged the app's data up to `ack`.
    pub fn note_ack(&mut self, ack: u32) {
        self.acked = Some(ack);
    }

    /// Gives the pages of the empty buffers back to the kernel; they read as zeros when written again.
    pub fn release_idle_buffers(&mut self) {
        if !self.touched {
            return;
        }
        let socket = self.sockets.get::<tcp::Socket>(self.handle);
        // Out-of-order data waits in the rx buffer's free space, unacknowledged: keep the pages then.
        let rx_idle = socket.recv_queue() == 0
            && match (self.app_data_end, self.acked) {
                (None, _) => true,
                (Some(end), Some(ack)) => !seq_after(end, ack),
                (Some(_), None) => false,
            };
        // An empty tx buffer holds nothing unacknowledged, so nothing to retransmit either.
        let tx_idle = socket.send_queue() == 0;
        if rx_idle {
            self.advise_free(0, self.tx_offset);
        }
        if tx_idle {
            self.advise_free(self.tx_offset, self.map.len() - self.tx_offset);
        }
        self.touched = !(rx_idle && tx_idle);
    }

    fn advise_free(&self, offset: usize, len: usize) {
        // SAFETY: the caller checked that the ring in this range is empty and holds no out-of-order data,
        // so smoltcp reads none of these bytes before writing them again; nothing accesses them during
        // the call (one thread owns the bridge).
        if let Err(e) = unsafe { self.map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) } {
            log::debug!("madvise(DONTNEED) of an idle flow's buffers: {e}");
        }
    }
}

/// `a` comes after `b` in sequence space (RFC 1982 comparison).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|&size| size > 0).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use phonehome_packet::PacketDecoder;

    use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};
    use smoltcp::iface::{Config, Interface};
    use smoltcp::time::Instant;
    use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpListenEndpoint};

    use super::*;
    use crate::device::tests::Sent;
    use crate::device::{SmolDevice, TunWriter};
    use crate::stats::Counters;

    const APP: [u8; 4] = [10, 0, 0, 2];
    const SERVER: [u8; 4] = [10, 0, 0, 9];

    /// One bridged connection driven by hand-made segments from the "app", as the stack drives it.
    struct Harness {
        iface: Interface,
        bridge: TcpBridge,
        sent: Sent,
        sink: File,
        counters: Counters,
        decoder: PacketDecoder,
        buf: Vec<u8>,
        server_seq: u32,
    }

    impl Harness {
        fn connect() -> Harness {
            let sink = File::options().write(true).open("/dev/null").unwrap();
            let counters = Counters::default();
            let mut sent = Sent::default();
            let mut decoder = PacketDecoder::new();
            let mut buf = Vec::new();
            let mut device = SmolDevice::new(
                None,
                TunWriter { tun: &sink, observer: &mut sent, counters: &counters, decoder: &mut decoder },
                &mut buf,
                1500,
            );
            let mut iface = Interface::new(Config::new(HardwareAddress::Ip), &mut device, Instant::ZERO);
            iface.set_any_ip(true);
            iface.update_ip_addrs(|addrs| addrs.push(IpCidr::new(IpAddress::v4(0, 0, 0, 1), 0)).unwrap());
            let mut bridge = TcpBridge::new(64 * 1024, 128 * 1024).unwrap();
            bridge.socket().set_ack_delay(None);
            bridge.socket().listen(IpListenEndpoint { addr: Some(IpAddress::v4(10, 0, 0, 9)), port: 80 }).unwrap();
            let mut harness = Harness { iface, bridge, sent, sink, counters, decoder, buf, server_seq: 0 };
            harness.app_sends(1000, None, &[]);
            let syn_ack = harness.sent.0.last().unwrap().clone();
            let Some(TransportSlice::Tcp(tcp)) = SlicedPacket::from_ip(&syn_ack).unwrap().transport else { panic!() };
            harness.server_seq = tcp.sequence_number().wrapping_add(1);
            harness.app_sends(1001, Some(harness.server_seq), &[]);
            harness
        }

        /// Feeds one segment from the app (a SYN without `ack`), then lets smoltcp send what it wants to.
        fn app_sends(&mut self, seq: u32, ack: Option<u32>, payload: &[u8]) {
            let tcp = PacketBuilder::ipv4(APP, SERVER, 64).tcp(40000, 80, seq, 65535);
            let tcp = match ack {
                Some(ack) => tcp.ack(ack).psh(),
                None => tcp.syn(),
            };
            let mut packet = Vec::new();
            tcp.write(&mut packet, payload).unwrap();
            if !payload.is_empty() {
                self.bridge.note_app_data(seq.wrapping_add(payload.len() as u32));
            }
            let writer = TunWriter {
                tun: &self.sink,
                observer: &mut self.sent,
                counters: &self.counters,
                decoder: &mut self.decoder,
            };
            let mut device = SmolDevice::new(Some(&packet), writer, &mut self.buf, 1500);
            self.bridge.poll_ingress(&mut self.iface, Instant::ZERO, &mut device);
            while self.bridge.poll_egress(&mut self.iface, Instant::ZERO, &mut device)
                != smoltcp::iface::PollResult::None
            {}
            if let Some(ack) = device.acked {
                self.bridge.note_ack(ack);
            }
        }

        fn received(&mut self) -> Vec<u8> {
            let mut data = vec![0; 64 * 1024];
            let n = self.bridge.socket().recv_slice(&mut data).unwrap();
            data.truncate(n);
            self.bridge.note_data();
            data
        }

        fn resident_pages(&self) -> (usize, usize) {
            let page = page_size();
            let mut pages = vec![0u8; self.bridge.map.len().div_ceil(page)];
            // SAFETY: the range is the mapping; `pages` has one byte per page.
            let rc = unsafe {
                libc::mincore(self.bridge.map.as_ptr() as *mut libc::c_void, self.bridge.map.len(), pages.as_mut_ptr())
            };
            assert_eq!(rc, 0, "mincore: {}", io::Error::last_os_error());
            let (rx, tx) = pages.split_at(self.bridge.tx_offset / page);
            (rx.iter().filter(|&&p| p & 1 != 0).count(), tx.iter().filter(|&&p| p & 1 != 0).count())
        }
    }

    #[test]
    fn fresh_buffers_cost_no_memory_and_idle_ones_go_back() {
        let mut h = Harness::connect();
        assert_eq!(h.resident_pages(), (0, 0));
        let ack = h.server_seq;
        h.app_sends(1001, Some(ack), &[1; 3000]);
        assert_eq!(h.received(), vec![1; 3000]);
        assert_eq!(h.bridge.socket().send_slice(&[2; 20_000]).unwrap(), 20_000);
        h.bridge.note_data();
        h.app_sends(4001, Some(ack), &[]); // smoltcp sends the 20,000 bytes
        assert!(h.resident_pages().0 >= 1 && h.resident_pages().1 >= 5, "{:?}", h.resident_pages());
        h.bridge.release_idle_buffers();
        assert!(h.resident_pages().1 >= 5, "unacknowledged data to the app stays: {:?}", h.resident_pages());
        let all_acked = h.server_seq.wrapping_add(20_000);
        h.app_sends(4001, Some(all_acked), &[]);
        assert_eq!(h.bridge.socket().send_queue(), 0);
        h.bridge.release_idle_buffers();
        assert_eq!(h.resident_pages(), (0, 0));
        // The connection goes on over fresh zero pages.
        h.app_sends(4001, Some(all_acked), b"again");
        assert_eq!(h.received(), b"again");
    }

    #[test]
    fn out_of_order_data_keeps_its_pages_until_the_gap_fills() {
        let mut h = Harness::connect();
        let ack = h.server_seq;
        // 500 bytes missing before these 100: smoltcp keeps them in the rx buffer's free space.
        h.app_sends(1501, Some(ack), &[9; 100]);
        assert_eq!(h.bridge.socket().recv_queue(), 0);
        h.bridge.release_idle_buffers();
        assert_eq!(h.resident_pages().0, 1, "the out-of-order bytes stay resident");
        h.app_sends(1001, Some(ack), &[8; 500]);
        let data = h.received();
        assert_eq!(data.len(), 600);
        assert!(data[..500].iter().all(|&b| b == 8) && data[500..].iter().all(|&b| b == 9), "no byte lost");
        h.bridge.release_idle_buffers();
        assert_eq!(h.resident_pages(), (0, 0));
    }

    #[test]
    fn sequence_comparison_wraps() {
        assert!(seq_after(5, u32::MAX - 5));
        assert!(!seq_after(u32::MAX - 5, 5));
        assert!(!seq_after(7, 7));
    }
}
