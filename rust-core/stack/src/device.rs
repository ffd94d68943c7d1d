//! The tun as smoltcp sees it: one packet fed at a time on ingress, every egress packet written
//! straight to the tun (and shown to the observer), so smoltcp never queues anything itself.
use std::fs::File;
use std::io::Write;

use phonehome_model::Timestamp;
use phonehome_packet::{PacketDecoder, Transport};
use smoltcp::phy::{self, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::stats::Counters;
use crate::PacketObserver;

/// Writes packets to the tun and shows each one, decoded once, to the observer first.
pub(crate) struct TunWriter<'a> {
    pub tun: &'a File,
    pub observer: &'a mut dyn PacketObserver,
    pub counters: &'a Counters,
    /// Decodes what the stack writes (never fragments: no reassembly state is ever held).
    pub decoder: &'a mut PacketDecoder,
}

impl TunWriter<'_> {
    /// Writes one packet; returns the acknowledgment number it carries when it is a TCP segment with ACK.
    pub fn emit(&mut self, packet: &[u8]) -> Option<u32> {
        let ts = Timestamp::now();
        let decoded = self.decoder.decode_tun(ts, packet).ok().flatten();
        let ack = match &decoded {
            Some(ip) => match &ip.transport {
                Transport::Tcp(segment) if segment.flags.ack => Some(segment.ack),
                _ => None,
            },
            None => None,
        };
        self.observer.on_packet(ts, decoded.as_ref(), packet);
        Counters::bump(&self.counters.packets_out);
        // A tun write only fails when the kernel drops the packet; TCP retransmits, datagrams are lossy.
        if let Err(e) = (&*self.tun).write(packet) {
            log::trace!("tun write dropped a packet: {e}");
        }
        ack
    }
}

/// Capabilities of the tun device for smoltcp.
pub(crate) fn capabilities(mtu: usize) -> DeviceCapabilities {
    let mut caps = DeviceCapabilities::default();
    caps.medium = Medium::Ip;
    caps.max_transmission_unit = mtu;
    // No window clamp: the rx buffer is sized to the tun queue instead (see `Stack::bridge`).
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
        if let Some(ack) = self.writer.emit(self.buf) {
            *self.acked = Some(ack);
        }
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

#[cfg(test)]
pub(crate) mod tests {
    use etherparse::PacketBuilder;
    use phonehome_model::{FlowKey, Timestamp};
    use phonehome_packet::{IpPacket, PacketDecoder};

    use super::*;

    /// What the stack wrote, as the observer saw it.
    #[derive(Default)]
    pub(crate) struct Sent(pub Vec<Vec<u8>>);

    impl PacketObserver for Sent {
        fn on_packet(&mut self, _ts: Timestamp, _packet: Option<&IpPacket<'_>>, raw: &[u8]) {
            self.0.push(raw.to_vec());
        }
        fn on_owner(&mut self, _flow: &FlowKey, _uid: u32) {}
    }

    fn ack_of(packet: &[u8]) -> Option<u32> {
        let sink = File::options().write(true).open("/dev/null").expect("/dev/null");
        let (counters, mut sent, mut decoder) = (Counters::default(), Sent::default(), PacketDecoder::new());
        let mut writer = TunWriter { tun: &sink, observer: &mut sent, counters: &counters, decoder: &mut decoder };
        let ack = writer.emit(packet);
        assert_eq!(sent.0, [packet.to_vec()], "shown to the observer as written");
        ack
    }

    #[test]
    fn emitting_reads_the_acknowledgment_of_both_ip_versions() {
        let (app, server) = ([10, 0, 0, 2], [10, 0, 0, 9]);
        let mut v4 = Vec::new();
        PacketBuilder::ipv4(app, server, 64).tcp(1, 2, 3, 100).ack(0xdead_beef).write(&mut v4, b"x").expect("v4");
        assert_eq!(ack_of(&v4), Some(0xdead_beef));
        let mut v6 = Vec::new();
        PacketBuilder::ipv6([1; 16], [2; 16], 64).tcp(1, 2, 3, 100).ack(7).write(&mut v6, &[]).expect("v6");
        assert_eq!(ack_of(&v6), Some(7));
        let mut syn = Vec::new();
        PacketBuilder::ipv6([1; 16], [2; 16], 64).tcp(1, 2, 3, 100).syn().write(&mut syn, &[]).expect("syn");
        assert_eq!(ack_of(&syn), None);
        let mut udp = Vec::new();
        PacketBuilder::ipv4(app, server, 64).udp(1, 2).write(&mut udp, &[0; 20]).expect("udp");
        assert_eq!(ack_of(&udp), None);
        // Cut before the end of the acknowledgment field: nothing read out of bounds, no number.
        for cut in 0..20 + 12 {
            assert_eq!(ack_of(&v4[..cut]), None, "cut at {cut}");
        }
    }
}
