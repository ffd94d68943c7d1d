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

/// Time since the Unix epoch, at nanosecond resolution (pcapng may carry it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub std::time::Duration);

impl Timestamp {
    /// From microseconds since the Unix epoch.
    pub fn from_micros(micros: u64) -> Self {
        Timestamp(std::time::Duration::from_micros(micros))
    }
    /// Microseconds since the Unix epoch (saturating).
    pub fn as_micros(self) -> u64 {
        u64::try_from(self.0.as_micros()).unwrap_or(u64::MAX)
    }
    /// ISO 8601 in UTC with microseconds, e.g. `2024-03-01T12:00:00.123456Z`.
    pub fn iso8601(self) -> String {
        humantime::format_rfc3339_micros(std::time::UNIX_EPOCH + self.0).to_string()
    }
    /// Time elapsed since `earlier`, zero if `earlier` is later (captures are not always ordered).
    pub fn since(self, earlier: Timestamp) -> std::time::Duration {
        self.0.saturating_sub(earlier.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn formats_iso8601_utc_with_micros() {
        assert_eq!(Timestamp::default().iso8601(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp::from_micros(1_709_294_400_123_456).iso8601(), "2024-03-01T12:00:00.123456Z");
    }
}
