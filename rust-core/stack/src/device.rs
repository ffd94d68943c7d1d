//! The tun as smoltcp sees it: one packet fed at a time on ingress, every egress packet written
//! straight to the tun (and shown to the observer), so smoltcp never queues anything itself.
use std::fs::File;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use smoltcp::phy::{self, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::bridge::tcp_ack;
use crate::stats::Counters;
use crate::PacketObserver;

/// Writes packets to the tun and shows each one to the observer first.
pub(crate) struct TunWriter<'a> {
    pub tun: &'a File,
    pub observer: &'a mut dyn PacketObserver,
    pub counters: &'a Counters,
}

impl TunWriter<'_> {
    pub fn emit(&mut self, packet: &[u8]) {
        self.observer.on_packet(wall_clock(), packet);
        Counters::bump(&self.counters.packets_out);
        // A tun write only fails when the kernel drops the packet; TCP retransmits, datagrams are lossy.
        if let Err(e) = (&*self.tun).write(packet) {
            log::trace!("tun write dropped a packet: {e}");
        }
    }
}

/// Time since the epoch, as the observer's captures need it.
pub(crate) fn wall_clock() -> std::time::Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Capabilities of the tun device for smoltcp.
pub(crate) fn capabilities(mtu: usize) -> DeviceCapabilities {
    let mut caps = DeviceCapabilities::default();
    caps.medium = Medium::Ip;
    caps.max_transmission_unit = mtu;
    // No window clamp: the rx buffer is sized to the tun queue instead (see Engine::new).
    caps.max_burst_size = None;
    // The kernel on the other side of the tun already verified what it sent; verifying again is the
    // top CPU cost. Checksums of what we send are still computed.
    let mut checksum = ChecksumCapabilities::default();
    checksum.ipv4 = Checksum::Tx;
    checksum.tcp = Checksum::Tx;
    checksum.udp = Checksum::Tx;
    checksum.icmpv4 = Checksum::Tx;
    checksum.icmpv6 = Checksum::Tx;
    caps.checksum = checksum;
    caps
}

/// smoltcp device over one optional ingress packet and a [`TunWriter`].
pub(crate) struct SmolDevice<'a> {
    rx: Option<&'a [u8]>,
    writer: TunWriter<'a>,
    buf: &'a mut Vec<u8>,
    mtu: usize,
    /// The acknowledgment number of the last TCP segment sent (a device serves one flow at a time).
    pub acked: Option<u32>,
}

impl<'a> SmolDevice<'a> {
    pub fn new(rx: Option<&'a [u8]>, writer: TunWriter<'a>, buf: &'a mut Vec<u8>, mtu: usize) -> Self {
        SmolDevice { rx, writer, buf, mtu, acked: None }
    }
}

pub(crate) struct RxToken<'a>(&'a [u8]);

pub(crate) struct TxToken<'a, 'b> {
    writer: &'b mut TunWriter<'a>,
    buf: &'b mut Vec<u8>,
    acked: &'b mut Option<u32>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_, '_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.buf.clear();
        self.buf.resize(len, 0);
        let result = f(self.buf);
        if let Some(ack) = tcp_ack(self.buf) {
            *self.acked = Some(ack);
        }
        self.writer.emit(self.buf);
        result
    }
}

impl<'a> phy::Device for SmolDevice<'a> {
    type RxToken<'t>
        = RxToken<'a>
    where
        Self: 't;
    type TxToken<'t>
        = TxToken<'a, 't>
    where
        Self: 't;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let packet = self.rx.take()?;
        Some((RxToken(packet), TxToken { writer: &mut self.writer, buf: self.buf, acked: &mut self.acked }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(TxToken { writer: &mut self.writer, buf: self.buf, acked: &mut self.acked })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        capabilities(self.mtu)
    }
}
