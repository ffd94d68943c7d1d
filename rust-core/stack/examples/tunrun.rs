//! Runs the stack on an existing or new Linux TUN device until killed (used by bench/lab.sh):
//! `tunrun TUN FWMARK UPSTREAM_DNS [VIRTUAL_DNS] [MTU] [MAX_TCP_FLOWS]`,
//! e.g. `tunrun tun0 100 10.200.1.2:53 10.0.0.53 1500 10100`.
use std::net::SocketAddr;
use std::time::Duration;

use phonehome_stack::{open_tun, FwmarkProtector, Limits, PacketObserver, ProcNetResolver, Stack, StackConfig};

/// Prints each flow's owner; packets are only counted (see the stats line).
struct PrintOwners;

impl PacketObserver for PrintOwners {
    fn on_packet(&mut self, _ts: Duration, _ip_packet: &[u8]) {}
    fn on_owner(&mut self, proto: u8, client: SocketAddr, server: SocketAddr, uid: u32) {
        println!("owner uid={uid} proto={proto} {client} -> {server}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tun, mark, upstream, rest @ ..] = args.as_slice() else {
        return Err("usage: tunrun TUN FWMARK UPSTREAM_DNS [VIRTUAL_DNS] [MTU] [MAX_TCP_FLOWS]".into());
    };
    let config = StackConfig {
        mtu: rest.get(1).map(|m| m.parse()).transpose()?.unwrap_or(1500),
        virtual_dns: rest.first().map(|ip| ip.parse()).transpose()?,
        upstream_dns: upstream.parse::<std::net::SocketAddr>()?.into(),
        limits: Limits {
            max_tcp_flows: rest.get(2).map(|n| n.parse()).transpose()?.unwrap_or(1024),
            ..Limits::default()
        },
    };
    let stack = Stack::new(
        config,
        open_tun(tun)?,
        Box::new(FwmarkProtector::new(mark.parse()?)),
        Box::new(ProcNetResolver::default()),
        Box::new(PrintOwners),
    )?;
    let running = stack.spawn()?;
    loop {
        std::thread::sleep(Duration::from_secs(10));
        eprintln!("{:?}", running.handle().stats());
    }
}
