//! Packets in, facts out: reading pcap/pcapng captures, stripping link layers, decoding IPv4/IPv6
//! (with fragment reassembly and extension headers) and TCP/UDP/ICMP headers.
//!
//! Sans-IO apart from [`capture::CaptureReader`], which reads a file or any `Read`.
//! Nothing here panics or reads out of bounds on any input (see the property tests).

pub mod capture;
pub mod decode;
mod defrag;
mod link;

pub use capture::{CaptureError, CaptureReader, Frame, LinkType};
pub use decode::{DecodeError, IcmpMessage, IpPacket, PacketDecoder, TcpFlags, TcpSegment, Transport, UdpDatagram};
pub use defrag::{DefragLimits, DefragStats};

/// Time since the Unix epoch: the model's, which every record carries.
pub use phonehome_model::Timestamp;
