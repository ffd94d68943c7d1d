//! Benchmark captures that mean something (bench/analyze.sh):
//!
//! ```text
//! bench-captures realistic OUT COPIES BASE.pcap   COPIES copies of BASE, each with its own addresses, merged in time order
//! bench-captures syn-flood OUT COUNT              COUNT TCP SYNs, each its own flow
//! bench-captures dns-flood OUT COUNT              COUNT DNS queries with answers, each its own flow and name
//! ```
//!
//! `realistic` first makes BASE's time monotonic (a capture made of several files jumps back, or years ahead,
//! where one file ends and the next starts: such a gap becomes 1 ms), then offsets copy n by n ms and moves its
//! addresses (`remap::AddressKey::of_copy(n)`; checksums stay valid), and merges the copies by time: distinct
//! flows, monotonic time, like a busy router's capture of many phones. Ethernet pcap in and out.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::net::Ipv4Addr;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;
use phonehome_testdata::proto::{dns_query, dns_response};
use phonehome_testdata::remap::{remap_ethernet, AddressKey};

type Failure = Box<dyn std::error::Error>;

/// A gap in BASE longer than this, or backwards, is where one source file ended and the next began.
const MAX_GAP: Duration = Duration::from_secs(60);
const SPLICE_GAP: Duration = Duration::from_millis(1);
const COPY_OFFSET: Duration = Duration::from_millis(1);
const START: Duration = Duration::from_secs(1_700_000_000);

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> Result<u32, Failure> { Ok(args.get(i).ok_or("missing a count")?.parse()?) };
    match args.first().map(String::as_str) {
        Some("realistic") if args.len() == 4 => realistic(&args[1], number(2)?, &args[3]),
        Some("syn-flood") if args.len() == 3 => syn_flood(&args[1], number(2)?),
        Some("dns-flood") if args.len() == 3 => dns_flood(&args[1], number(2)?),
        _ => {
            Err("usage: bench-captures realistic OUT COPIES BASE.pcap | syn-flood OUT COUNT | dns-flood OUT COUNT"
                .into())
        }
    }
}

fn writer(path: &str) -> Result<PcapWriter<BufWriter<File>>, Failure> {
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..PcapHeader::default() };
    Ok(PcapWriter::with_header(BufWriter::new(File::create(path)?), header)?)
}

fn realistic(out: &str, copies: u32, base: &str) -> Result<(), Failure> {
    let copies = u16::try_from(copies)?;
    let mut reader = PcapReader::new(BufReader::new(File::open(base)?))?;
    if reader.header().datalink != DataLink::ETHERNET {
        return Err(format!("{base}: Ethernet captures only").into());
    }
    // BASE, spliced into one monotonic timeline starting at START.
    let mut packets: Vec<(Duration, Vec<u8>)> = Vec::new();
    let (mut previous, mut shift_back, mut shift_ahead) = (None::<Duration>, Duration::ZERO, START);
    while let Some(packet) = reader.next_packet() {
        let packet = packet?;
        let ts = packet.timestamp;
        if previous.is_none_or(|p| ts < p || ts - p > MAX_GAP) {
            // A new source file: it starts right after the last packet written.
            shift_back = ts;
            shift_ahead = packets.last().map_or(START, |(last, _)| *last + SPLICE_GAP);
        }
        previous = Some(ts);
        packets.push((ts - shift_back + shift_ahead, packet.data.into_owned()));
    }
    // Copy n runs n ms behind copy 0: a k-way merge over the copies' cursors.
    let mut writer = writer(out)?;
    let mut heads: BinaryHeap<Reverse<(Duration, u16, usize)>> = (0..copies)
        .filter(|_| !packets.is_empty())
        .map(|n| Reverse((packets[0].0 + COPY_OFFSET * u32::from(n), n, 0)))
        .collect();
    let mut frame = Vec::new();
    while let Some(Reverse((ts, copy, index))) = heads.pop() {
        frame.clear();
        frame.extend_from_slice(&packets[index].1);
        remap_ethernet(&mut frame, AddressKey::of_copy(copy));
        writer.write_packet(&PcapPacket::new(ts, u32::try_from(frame.len())?, &frame))?;
        if let Some((next, _)) = packets.get(index + 1) {
            heads.push(Reverse((*next + COPY_OFFSET * u32::from(copy), copy, index + 1)));
        }
    }
    Ok(())
}

/// Client `n` of a flood: a distinct (address, port) pair in 10.0.0.0/8.
fn client(n: u32) -> ([u8; 4], u16) {
    let address = Ipv4Addr::from(0x0a00_0000 | (n / 16 + 1) & 0x00ff_ffff).octets();
    (address, 40000 + (n % 16) as u16)
}

fn syn_flood(out: &str, count: u32) -> Result<(), Failure> {
    let mut writer = writer(out)?;
    let mut frame = Vec::new();
    for n in 0..count {
        let (address, port) = client(n);
        frame.clear();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(address, [93, 184, 216, 34], 64)
            .tcp(port, 443, n, 64_240)
            .syn()
            .write(&mut frame, &[])?;
        writer.write_packet(&PcapPacket::new(
            START + Duration::from_micros(u64::from(n)),
            u32::try_from(frame.len())?,
            &frame,
        ))?;
    }
    Ok(())
}

fn dns_flood(out: &str, count: u32) -> Result<(), Failure> {
    let mut writer = writer(out)?;
    let resolver = [9, 9, 9, 9];
    let mut frame = Vec::new();
    for n in 0..count {
        let (address, port) = client(n);
        let name = format!("host{n}.example{}.com", n % 1000);
        let answer = std::net::IpAddr::V4(Ipv4Addr::from(0xc633_6400 | (n & 0xff)));
        let id = (n & 0xffff) as u16;
        for (i, (from, to, sport, dport, payload)) in [
            (address, resolver, port, 53, dns_query(id, &name, 1)),
            (resolver, address, 53, port, dns_response(id, &name, 1, None, &[answer])),
        ]
        .into_iter()
        .enumerate()
        {
            frame.clear();
            PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                .ipv4(from, to, 64)
                .udp(sport, dport)
                .write(&mut frame, &payload)?;
            let ts = START + Duration::from_micros(u64::from(n) * 2 + i as u64);
            writer.write_packet(&PcapPacket::new(ts, u32::try_from(frame.len())?, &frame))?;
        }
    }
    Ok(())
}
