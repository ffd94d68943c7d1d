//! Frames of every link type through one decoder: link layers, tunnels, IPv4/IPv6, extension
//! headers and fragment reassembly across frames. Input: frames, each a 2-byte length, a link-type
//! selector byte and the bytes; the decoder keeps its fragments from one frame to the next.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_packet::{LinkType, PacketDecoder, Timestamp, Transport};

/// DLT numbers the capture reader knows, and one it does not.
const LINKS: [u32; 13] = [1, 101, 228, 229, 113, 276, 0, 108, 9, 50, 239, 127, 0xFFFF];

fuzz_target!(|data: &[u8]| {
    let mut decoder = PacketDecoder::new();
    let mut rest = data;
    let mut clock = 0u64;
    while let [hi, lo, link, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (frame, after) = tail.split_at(len);
        rest = after;
        clock += u64::from(*link) * 1_000_000;
        let ts = Timestamp::from_micros(clock);
        let link = LinkType::from_dlt(LINKS[usize::from(*link) % LINKS.len()]);
        if let Ok(Some(packet)) = decoder.decode(ts, link, frame) {
            let payload = match packet.transport {
                Transport::Tcp(t) => t.payload.len(),
                Transport::Udp(u) => u.payload.len(),
                Transport::Icmp(i) => i.payload.len(),
                Transport::Other { .. } => 0,
            };
            assert!(payload <= 65_535 + 65_535, "payload longer than any datagram");
        }
        let _ = decoder.decode_ip(ts, frame);
    }
    let _ = decoder.defrag_stats();
});
