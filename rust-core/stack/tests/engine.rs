//! The engine over a datagram socketpair standing in for the tun (no root needed). The protector
//! refuses every socket, so nothing ever leaves this host: each flow must be answered in the tun;
//! the one test that lets sockets connect runs in a namespace that has only `lo`.
mod common;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use etherparse::{icmpv4, icmpv6, Icmpv4Type, Icmpv6Type, PacketBuilder, SlicedPacket, TransportSlice};
use phonehome_stack::{
    FlowPolicy, Limits, OwnerResolver, PacketObserver, RunningStack, SocketProtector, Stack, StackConfig, StackError,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

struct Refuse;
impl SocketProtector for Refuse {
    fn protect(&self, _fd: RawFd) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::EPERM))
    }
}

struct Nobody;
impl OwnerResolver for Nobody {
    fn owner(&self, _proto: u8, _local: SocketAddr, _remote: SocketAddr) -> Option<u32> {
        None
    }
}

struct Quiet;
impl PacketObserver for Quiet {
    fn on_packet(&mut self, _ts: Duration, _ip_packet: &[u8]) {}
    fn on_owner(&mut self, _proto: u8, _client: SocketAddr, _server: SocketAddr, _uid: u32) {}
}

fn config() -> StackConfig {
    StackConfig {
        mtu: 1500,
        virtual_dns: "10.0.0.53".parse().ok(),
        upstream_dns: "10.200.1.2:53".parse::<std::net::SocketAddr>().expect("addr").into(),
        limits: Limits::default(),
    }
}

struct Allow;
impl SocketProtector for Allow {
    fn protect(&self, _fd: RawFd) -> io::Result<()> {
        Ok(())
    }
}

fn start() -> (RunningStack, UnixDatagram) {
    start_with(Box::new(Refuse))
}

fn start_with(protector: Box<dyn SocketProtector>) -> (RunningStack, UnixDatagram) {
    let (tun, phone) = UnixDatagram::pair().expect("socketpair");
    let stack = Stack::new(config(), OwnedFd::from(tun), protector, Box::new(Nobody), Box::new(Quiet)).expect("stack");
    phone.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    (stack.spawn().expect("spawn"), phone)
}

fn syn(src: &str, dst: &str) -> Vec<u8> {
    let (src, dst): (SocketAddr, SocketAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    let mut out = Vec::new();
    let builder = match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => PacketBuilder::ipv4(s.ip().octets(), d.ip().octets(), 64),
        (SocketAddr::V6(s), SocketAddr::V6(d)) => PacketBuilder::ipv6(s.ip().octets(), d.ip().octets(), 64),
        _ => panic!("mixed families"),
    };
    builder.tcp(src.port(), dst.port(), 1000, 65535).syn().write(&mut out, &[]).expect("build");
    out
}

fn stray_ack(ack: u32) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 9, 9, 9], [10, 9, 9, 8], 64)
        .tcp(1234, 4321, 5, 65535)
        .ack(ack)
        .write(&mut out, b"data")
        .expect("build");
    out
}

fn udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(
        [0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        [0xfd, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        64,
    )
    .udp(40000, 53)
    .write(&mut out, payload)
    .expect("build");
    out
}

/// The first fragment of an IPv4 UDP datagram (more-fragments flag set).
fn first_fragment() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 2], [10, 200, 1, 2], 64).udp(40000, 7).write(&mut out, &[5; 64]).expect("build");
    out[6] |= 0x20;
    out
}

fn echo_request() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 2], [10, 200, 1, 2], 64)
        .icmpv4_echo_request(7, 1)
        .write(&mut out, b"ping")
        .expect("build");
    out
}

fn recv(phone: &UnixDatagram) -> Vec<u8> {
    let mut buf = vec![0u8; 65536];
    let n = phone.recv(&mut buf).expect("a reply from the stack");
    buf.truncate(n);
    buf
}

#[test]
fn refused_protection_is_reflected_as_prohibited() {
    let (stack, phone) = start();
    let request = syn("10.0.0.2:40000", "10.200.1.2:80");
    phone.send(&request).expect("send");
    let reply = recv(&phone);
    let p = SlicedPacket::from_ip(&reply).expect("parse");
    let Some(TransportSlice::Icmpv4(icmp)) = p.transport else { panic!("not ICMP: {reply:?}") };
    assert_eq!(icmp.icmp_type(), Icmpv4Type::DestinationUnreachable(icmpv4::DestUnreachableHeader::FilterProhibited));
    assert_eq!(icmp.payload(), &request[..], "the SYN is quoted whole");

    phone.send(&udp(b"query")).expect("send");
    let reply = recv(&phone);
    let p = SlicedPacket::from_ip(&reply).expect("parse");
    let Some(TransportSlice::Icmpv6(icmp)) = p.transport else { panic!("not ICMPv6: {reply:?}") };
    assert_eq!(icmp.icmp_type(), Icmpv6Type::DestinationUnreachable(icmpv6::DestUnreachableCode::Prohibited));

    let stats = stack.stop().expect("stop");
    assert_eq!(stats.packets_in, 2);
    assert_eq!(stats.packets_out, 2);
    assert_eq!(stats.connect_failures, 1);
}

#[test]
fn segment_of_unknown_connection_gets_rst() {
    let (stack, phone) = start();
    phone.send(&stray_ack(777)).expect("send");
    let reply = recv(&phone);
    let p = SlicedPacket::from_ip(&reply).expect("parse");
    let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
    assert!(tcp.rst() && !tcp.ack());
    assert_eq!((tcp.source_port(), tcp.destination_port(), tcp.sequence_number()), (4321, 1234, 777));
    stack.stop().expect("stop");
}

#[test]
fn invalid_config_is_rejected() {
    let (tun, _phone) = UnixDatagram::pair().expect("socketpair");
    let small_mtu = StackConfig { mtu: 500, ..config() };
    let no_flows = StackConfig { limits: Limits { max_tcp_flows: 0, ..Limits::default() }, ..config() };
    for bad in [small_mtu, no_flows] {
        let tun = OwnedFd::from(tun.try_clone().expect("dup"));
        let err = Stack::new(bad, tun, Box::new(Refuse), Box::new(Nobody), Box::new(Quiet));
        assert!(matches!(err, Err(StackError::Config(_))));
    }
}

/// Garbage and mutated real packets never kill the engine: after each batch it still answers a probe.
#[test]
fn garbage_and_mutated_packets_never_break_the_engine() {
    let (stack, phone) = start();
    let seeds = [
        syn("10.0.0.2:40001", "10.200.1.2:80"),
        syn("[fd00:1::2]:40001", "[fd00:200::2]:443"),
        udp(&[1; 40]),
        echo_request(),
        stray_ack(1),
        first_fragment(),
    ];
    let packet = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1600),
        (0..seeds.len(), any::<usize>(), any::<u8>(), any::<usize>()).prop_map(move |(i, pos, byte, cut)| {
            let mut p = seeds[i].clone();
            let len = p.len();
            p[pos % len] = byte;
            p.truncate(1 + cut % len);
            p
        }),
    ];
    let mut runner = TestRunner::new(Config { cases: 128, ..Config::default() });
    let probe = std::cell::Cell::new(0u32);
    runner
        .run(&proptest::collection::vec(packet, 1..8), |packets| {
            for p in &packets {
                phone.send(p).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            probe.set(probe.get() + 1);
            phone.send(&stray_ack(probe.get())).map_err(|e| TestCaseError::fail(e.to_string()))?;
            await_probe(&phone, probe.get());
            Ok(())
        })
        .expect("engine survives");
    stack.stop().expect("stop");
}

fn segment(seq: u32, ack: u32, port: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 2], [127, 0, 0, 1], 64)
        .tcp(40000, port, seq, 65535)
        .ack(ack)
        .psh()
        .write(&mut out, payload)
        .expect("build");
    out
}

fn await_probe(phone: &UnixDatagram, probe: u32) {
    loop {
        let reply = recv(phone);
        let answered = match SlicedPacket::from_ip(&reply) {
            Ok(SlicedPacket { transport: Some(TransportSlice::Tcp(tcp)), .. }) => {
                tcp.rst() && tcp.destination_port() == 1234 && tcp.sequence_number() == probe
            }
            _ => false,
        };
        if answered {
            return;
        }
    }
}

/// A bridged flow (smoltcp socket ⇄ real socket on lo) fed mutated segments: smoltcp's parsing and
/// state machine under our settings (no receive checksum check) never take the engine down.
#[test]
fn bridged_flow_survives_mutated_segments() {
    if !common::can_run() {
        return;
    }
    let ns = common::IsolatedNetns::new();
    common::join(common::spawn_in(&ns.0, || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("addr").port();
        let (stack, phone) = start_with(Box::new(Allow));
        phone.send(&syn("10.0.0.2:40000", &format!("127.0.0.1:{port}"))).expect("syn");
        let (mut server, _) = listener.accept().expect("accept");
        let syn_ack = recv(&phone);
        let p = SlicedPacket::from_ip(&syn_ack).expect("parse");
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert!(tcp.syn() && tcp.ack() && tcp.acknowledgment_number() == 1001, "SYN-ACK expected");
        let their_seq = tcp.sequence_number().wrapping_add(1);
        phone.send(&segment(1001, their_seq, port, b"hello")).expect("data");
        let mut buf = [0u8; 5];
        std::io::Read::read_exact(&mut server, &mut buf).expect("bridged data");
        assert_eq!(&buf, b"hello");

        let seed = segment(1006, their_seq, port, b"more data");
        let mutation = (any::<usize>(), any::<u8>(), any::<usize>(), any::<u32>(), any::<bool>());
        let mut runner = TestRunner::new(Config { cases: 256, ..Config::default() });
        let probe = std::cell::Cell::new(0u32);
        runner
            .run(&proptest::collection::vec(mutation, 1..6), |mutations| {
                for (pos, byte, cut, seq, reseq) in mutations {
                    let mut p = if reseq { segment(seq, their_seq, port, b"x") } else { seed.clone() };
                    let len = p.len();
                    // Keep the addresses and ports (bytes 12..24) so the segment reaches the flow.
                    let pos = pos % len;
                    if !(12..24).contains(&pos) {
                        p[pos] = byte;
                    }
                    p.truncate(20 + cut % (len - 19));
                    phone.send(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                probe.set(probe.get() + 1);
                phone.send(&stray_ack(probe.get())).map_err(|e| TestCaseError::fail(e.to_string()))?;
                await_probe(&phone, probe.get());
                Ok(())
            })
            .expect("engine survives");
        stack.stop().expect("stop");
    }));
}

struct App1000;
impl OwnerResolver for App1000 {
    fn owner(&self, _proto: u8, _local: SocketAddr, _remote: SocketAddr) -> Option<u32> {
        Some(1000)
    }
}

/// Refuses uid 1000 the first port, and everyone the second, over every protocol.
struct BlockPorts(u16, u16);
impl FlowPolicy for BlockPorts {
    fn allows_destination(&self, _proto: u8, _client: SocketAddr, server: SocketAddr) -> bool {
        server.port() != self.1
    }
    fn allows(&self, _proto: u8, _client: SocketAddr, server: SocketAddr, uid: Option<u32>) -> bool {
        !(uid == Some(1000) && server.port() == self.0)
    }
}

/// The app's SYN was answered with a RST from `port`.
fn assert_reset(reply: &[u8], port: u16) {
    let Some(TransportSlice::Tcp(tcp)) = SlicedPacket::from_ip(reply).expect("parse").transport else {
        panic!("not TCP: {reply:?}")
    };
    assert!(tcp.rst() && tcp.ack() && tcp.acknowledgment_number() == 1001, "RST answering the SYN expected");
    assert_eq!(tcp.source_port(), port);
}

/// An ICMP "administratively prohibited".
fn assert_prohibited(reply: &[u8]) {
    let Some(TransportSlice::Icmpv4(icmp)) = SlicedPacket::from_ip(reply).expect("parse").transport else {
        panic!("not ICMP: {reply:?}")
    };
    assert_eq!(icmp.icmp_type(), Icmpv4Type::DestinationUnreachable(icmpv4::DestUnreachableHeader::FilterProhibited));
}

fn udp_v4(dst_port: u16) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 2], [127, 0, 0, 1], 64).udp(40001, dst_port).write(&mut out, b"q").expect("build");
    out
}

/// Refused flows are answered in the tun (RST, ICMP prohibited): a refused destination before anything is
/// sent towards it, a refused owner once it is known; other flows go ahead.
#[test]
fn policy_refuses_destinations_at_once_and_owners_once_known() {
    if !common::can_run() {
        return;
    }
    let ns = common::IsolatedNetns::new();
    common::join(common::spawn_in(&ns.0, || {
        let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let (app_blocked, allowed, destination_blocked) = (bind(), bind(), bind());
        let port = |l: &std::net::TcpListener| l.local_addr().expect("addr").port();
        let (app_port, allowed_port, destination_port) =
            (port(&app_blocked), port(&allowed), port(&destination_blocked));
        let udp_server = std::net::UdpSocket::bind(("127.0.0.1", app_port)).expect("udp bind");
        let (tun, phone) = UnixDatagram::pair().expect("socketpair");
        phone.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let stack = Stack::new(config(), OwnedFd::from(tun), Box::new(Allow), Box::new(App1000), Box::new(Quiet))
            .expect("stack")
            .with_policy(Box::new(BlockPorts(app_port, destination_port)))
            .spawn()
            .expect("spawn");

        phone.send(&syn("10.0.0.2:40000", &format!("127.0.0.1:{app_port}"))).expect("syn");
        assert_reset(&recv(&phone), app_port);

        phone.send(&syn("10.0.0.2:40001", &format!("127.0.0.1:{destination_port}"))).expect("syn");
        assert_reset(&recv(&phone), destination_port);
        destination_blocked.set_nonblocking(true).expect("nonblocking");
        let never = destination_blocked.accept().map(|_| ());
        assert!(matches!(&never, Err(e) if e.kind() == io::ErrorKind::WouldBlock), "no connection: {never:?}");

        phone.send(&syn("10.0.0.2:40002", &format!("127.0.0.1:{allowed_port}"))).expect("syn");
        let reply = recv(&phone);
        let Some(TransportSlice::Tcp(tcp)) = SlicedPacket::from_ip(&reply).expect("parse").transport else {
            panic!("not TCP: {reply:?}")
        };
        assert!(tcp.syn() && tcp.ack() && tcp.source_port() == allowed_port, "SYN-ACK expected");

        phone.send(&udp_v4(app_port)).expect("udp");
        assert_prohibited(&recv(&phone));
        udp_server.set_nonblocking(true).expect("nonblocking");
        assert!(udp_server.recv(&mut [0u8; 16]).is_err(), "a held datagram of a refused flow must not leave");
        let datagram = udp_v4(destination_port);
        phone.send(&datagram).expect("udp");
        let reply = recv(&phone);
        assert_prohibited(&reply);
        assert!(reply.ends_with(&datagram), "the datagram is quoted whole");

        let stats = stack.stop().expect("stop");
        assert_eq!(stats.flows_blocked, 4);
    }));
}
