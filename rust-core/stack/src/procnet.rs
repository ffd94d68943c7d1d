//! `/proc/net/{tcp,udp,icmp}{,6}` parser and the owner resolver built on it (Linux, Android < 10).
//! Written by hand: no maintained crate parses these tables without pulling in a whole procfs model.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crate::diag::SockDiag;
use crate::{proto, OwnerResolver};

/// One socket of a `/proc/net` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcNetEntry {
    /// Local end; IPv4-mapped IPv6 addresses are given as IPv4.
    pub local: SocketAddr,
    /// Remote end (unspecified address and port 0 for an unconnected socket).
    pub remote: SocketAddr,
    /// Kernel socket state (TCP: 1 = established, 2 = SYN_SENT, 0x0A = listen).
    pub state: u8,
    /// Owner uid.
    pub uid: u32,
}

/// Why a `/proc/net` line could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcNetError {
    /// Fewer columns than a socket line has.
    #[error("line has too few fields")]
    TooFewFields,
    /// An address is not `HEX:PORT` of 8 or 32 hex digits.
    #[error("malformed address {0:?}")]
    Address(String),
    /// The state or uid column is not a number.
    #[error("malformed {0} column")]
    Number(&'static str),
}

/// Parses one socket line (not the header).
pub fn parse_line(line: &str) -> Result<ProcNetEntry, ProcNetError> {
    let mut fields = line.split_ascii_whitespace();
    let mut next = || fields.next().ok_or(ProcNetError::TooFewFields);
    let _slot = next()?;
    let local = parse_addr(next()?)?;
    let remote = parse_addr(next()?)?;
    let state = u8::from_str_radix(next()?, 16).map_err(|_| ProcNetError::Number("state"))?;
    let (_queues, _timer, _retransmits) = (next()?, next()?, next()?);
    let uid = next()?.parse().map_err(|_| ProcNetError::Number("uid"))?;
    Ok(ProcNetEntry { local, remote, state, uid })
}

/// Parses a whole table, skipping the header and any unreadable line.
pub fn parse_table(text: &str) -> impl Iterator<Item = ProcNetEntry> + '_ {
    text.lines().skip(1).filter_map(|line| parse_line(line).ok())
}

/// The kernel prints each 32-bit word of the address as `%08X` of its in-memory (network order) value,
/// so the word's native-endian bytes are the address bytes.
fn parse_addr(field: &str) -> Result<SocketAddr, ProcNetError> {
    let bad = || ProcNetError::Address(field.chars().take(48).collect());
    let (hex, port) = field.split_once(':').ok_or_else(bad)?;
    let port = u16::from_str_radix(port, 16).map_err(|_| bad())?;
    let word = |i: usize| -> Result<[u8; 4], ProcNetError> {
        let digits = hex.get(i * 8..i * 8 + 8).ok_or_else(bad)?;
        Ok(u32::from_str_radix(digits, 16).map_err(|_| bad())?.to_ne_bytes())
    };
    let ip = match hex.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes)).to_canonical()
        }
        _ => return Err(bad()),
    };
    Ok(SocketAddr::new(ip, port))
}

/// The uid owning the flow `local` → `remote` among `entries`: the connected socket first, then
/// (datagram sockets) one bound to the local port and not connected.
pub fn find_owner(
    entries: impl IntoIterator<Item = ProcNetEntry>,
    local: SocketAddr,
    remote: SocketAddr,
) -> Option<u32> {
    let (local, remote) = (canonical(local), canonical(remote));
    let mut unconnected = None;
    for entry in entries {
        if entry.local == local && entry.remote == remote {
            return Some(entry.uid);
        }
        let bound_here =
            entry.local.port() == local.port() && (entry.local.ip() == local.ip() || entry.local.ip().is_unspecified());
        let not_connected = entry.remote.ip().is_unspecified() && entry.remote.port() == 0;
        if bound_here && not_connected && unconnected.is_none() {
            unconnected = Some(entry.uid);
        }
    }
    unconnected
}

fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// Resolves owners in the calling thread's network namespace: TCP by exact netlink `sock_diag` look-up
/// where allowed, everything else (and TCP where netlink is refused) from the `/proc/net` tables.
#[derive(Clone, Debug)]
pub struct ProcNetResolver {
    dir: PathBuf,
    /// TCP owners by exact netlink look-up first (the live namespace only, not fixture directories).
    sock_diag: bool,
}

impl Default for ProcNetResolver {
    /// `/proc/thread-self/net`: `/proc/net` follows the main thread's namespace, not the caller's
    /// (kernels before 3.17 lack thread-self and get `/proc/net`).
    fn default() -> Self {
        let thread_self = PathBuf::from("/proc/thread-self/net");
        let dir = if thread_self.exists() { thread_self } else { PathBuf::from("/proc/net") };
        ProcNetResolver { dir, sock_diag: true }
    }
}

impl ProcNetResolver {
    /// A resolver reading the tables from `dir` (a fixture directory in tests).
    pub fn with_dir(dir: impl Into<PathBuf>) -> Self {
        ProcNetResolver { dir: dir.into(), sock_diag: false }
    }
}

impl ProcNetResolver {
    /// Every socket of the IPv4 and IPv6 tables named `base` ("tcp", "udp", "icmp").
    fn read_tables(&self, base: &str) -> Vec<ProcNetEntry> {
        // An IPv4 flow may belong to a dual-stack socket listed in the IPv6 table.
        [base.to_string(), format!("{base}6")]
            .iter()
            .filter_map(|name| std::fs::read_to_string(self.dir.join(name)).ok())
            .flat_map(|text| parse_table(&text).collect::<Vec<_>>())
            .collect()
    }
}

fn table_base(proto: u8) -> Option<&'static str> {
    match proto {
        proto::TCP => Some("tcp"),
        proto::UDP => Some("udp"),
        // Ping sockets are listed in /proc/net/icmp{,6} with the echo identifier as local port.
        proto::ICMP | proto::ICMPV6 => Some("icmp"),
        _ => None,
    }
}

impl OwnerResolver for ProcNetResolver {
    fn owner(&self, proto: u8, local: SocketAddr, remote: SocketAddr) -> Option<u32> {
        self.owners(&[(proto, local, remote)]).pop().flatten()
    }

    /// Reads each table once per batch: the kernel walks its whole socket hash for every read.
    /// TCP flows by exact sock_diag look-up where the kernel allows it (not on Android), else the tables.
    fn owners(&self, flows: &[(u8, SocketAddr, SocketAddr)]) -> Vec<Option<u32>> {
        let mut tables: Vec<(&'static str, Vec<ProcNetEntry>)> = Vec::new();
        let mut diag = if self.sock_diag { SockDiag::open().ok() } else { None };
        flows
            .iter()
            .map(|&(proto, local, remote)| {
                if let (proto::TCP, Some(socket)) = (proto, diag.as_mut()) {
                    match socket.tcp_owner(local, remote) {
                        Ok(found) => return found,
                        Err(e) => {
                            log::debug!("sock_diag: {e}; reading /proc/net instead");
                            diag = None;
                        }
                    }
                }
                let base = table_base(proto)?;
                let index = match tables.iter().position(|(name, _)| *name == base) {
                    Some(index) => index,
                    None => {
                        tables.push((base, self.read_tables(base)));
                        tables.len() - 1
                    }
                };
                let entries = tables.get(index).map(|(_, entries)| entries.as_slice()).unwrap_or_default();
                find_owner(entries.iter().copied(), local, remote)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21374 1 0000000000000000 100 0 0 10 0
   1: 0200000A:A1B2 0201C80A:0050 01 00000000:00000000 02:000A7C6E 00000000  1001        0 99211 2 0000000000000000 20 4 30 10 -1
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000200000A:C350 0000000000000000FFFF00000201C80A:01BB 01 00000000:00000000 00:00000000 00000000  1002        0 2 1 0000000000000000 20 4 30 10 -1
   2: 000000FD00000000000000000200000A:D431 000000FD00000000000000000100000A:0050 01 00000000:00000000 00:00000000 00000000 10123        0 3 1 0000000000000000 20 4 30 10 -1
";

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_ipv4_lines_in_kernel_byte_order() {
        let entries: Vec<_> = parse_table(TCP).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].local, sa("127.0.0.1:631"));
        assert_eq!(entries[0].state, 0x0A);
        assert_eq!(entries[1].local, sa("10.0.0.2:41394"));
        assert_eq!(entries[1].remote, sa("10.200.1.2:80"));
        assert_eq!(entries[1].uid, 1001);
    }

    #[test]
    fn parses_ipv6_and_maps_v4_mapped_to_v4() {
        let entries: Vec<_> = parse_table(TCP6).collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].local, sa("[::]:8080"));
        assert_eq!(entries[1].local, sa("10.0.0.2:50000"));
        assert_eq!(entries[1].remote, sa("10.200.1.2:443"));
        assert_eq!(entries[2].local, sa("[fd00::a00:2]:54321"));
        assert_eq!(entries[2].remote, sa("[fd00::a00:1]:80"));
        assert_eq!(entries[2].uid, 10123);
    }

    #[test]
    fn finds_connected_then_unconnected_owner() {
        let udp = "header\n 1: 00000000:D6D8 00000000:0000 07 00000000:00000000 00:00000000 00000000  1003 0 5 2 0 0\n 2: 0200000A:0035 0201C80A:0035 01 00000000:00000000 00:00000000 00000000  1004 0 6 2 0 0\n";
        let entries: Vec<_> = parse_table(udp).collect();
        assert_eq!(find_owner(entries.clone(), sa("10.0.0.2:55000"), sa("10.0.0.53:53")), Some(1003));
        assert_eq!(find_owner(entries.clone(), sa("10.0.0.2:53"), sa("10.200.1.2:53")), Some(1004));
        assert_eq!(find_owner(entries, sa("10.0.0.2:1"), sa("10.200.1.2:53")), None);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert_eq!(parse_line("0: 0100007F:0277"), Err(ProcNetError::TooFewFields));
        assert!(matches!(
            parse_line("0: 0100007:0277 00000000:0000 0A 0:0 0:0 0 0 0 1"),
            Err(ProcNetError::Address(_))
        ));
        assert!(matches!(
            parse_line("0: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 x 0 1"),
            Err(ProcNetError::Number("uid"))
        ));
        assert!(matches!(
            parse_line("0: 0100007F:0277 00000000:0000 ZZ 0:0 0:0 0 0 0 1"),
            Err(ProcNetError::Number("state"))
        ));
        assert!(matches!(
            parse_line("0: é100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 1"),
            Err(ProcNetError::Address(_))
        ));
    }

    #[test]
    fn resolver_reads_fixture_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/proc-net");
        let resolver = ProcNetResolver::with_dir(dir);
        assert_eq!(resolver.owner(proto::TCP, sa("10.0.0.2:41394"), sa("10.200.1.2:80")), Some(1001));
        assert_eq!(resolver.owner(proto::TCP, sa("10.0.0.2:50000"), sa("10.200.1.2:443")), Some(1002));
        assert_eq!(resolver.owner(proto::UDP, sa("10.0.0.2:55000"), sa("10.0.0.53:53")), Some(1003));
        assert_eq!(resolver.owner(proto::UDP, sa("[fd00:1::2]:40000"), sa("[fd00:200::2]:7")), Some(1005));
        assert_eq!(resolver.owner(proto::ICMP, sa("10.0.0.2:7"), sa("10.200.1.2:0")), Some(1006));
        assert_eq!(resolver.owner(proto::TCP, sa("10.0.0.2:1"), sa("10.200.1.2:80")), None);
        assert_eq!(resolver.owner(47, sa("10.0.0.2:1"), sa("10.200.1.2:80")), None);
        let batch = [
            (proto::TCP, sa("10.0.0.2:41394"), sa("10.200.1.2:80")),
            (proto::UDP, sa("10.0.0.2:55000"), sa("10.0.0.53:53")),
            (proto::TCP, sa("10.0.0.2:1"), sa("10.200.1.2:80")),
            (proto::TCP, sa("10.0.0.2:50000"), sa("10.200.1.2:443")),
        ];
        assert_eq!(resolver.owners(&batch), vec![Some(1001), Some(1003), None, Some(1002)]);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = parse_table(&text).count();
            let _ = parse_line(&text);
        }

        #[test]
        fn mutated_real_lines_never_panic(pos in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
            for table in [TCP, TCP6] {
                let mut bytes = table.as_bytes().to_vec();
                if let Some(b) = bytes.get_mut(pos) { *b = byte; }
                bytes.truncate(cut.max(1));
                let text = String::from_utf8_lossy(&bytes);
                let _ = parse_table(&text).count();
            }
        }

        #[test]
        fn addresses_round_trip(v6 in any::<bool>(), raw in any::<[u8; 16]>(), port in any::<u16>(), uid in any::<u32>()) {
            let (ip, hex) = if v6 {
                let hex: String = raw.chunks_exact(4)
                    .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))).collect();
                (IpAddr::V6(Ipv6Addr::from(raw)).to_canonical(), hex)
            } else {
                let w = [raw[0], raw[1], raw[2], raw[3]];
                (IpAddr::V4(Ipv4Addr::from(w)), format!("{:08X}", u32::from_ne_bytes(w)))
            };
            let line = format!("0: {hex}:{port:04X} {hex}:0000 01 0:0 0:0 0 {uid} 0 1");
            let entry = parse_line(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(entry.local, SocketAddr::new(ip, port));
            prop_assert_eq!(entry.uid, uid);
        }
    }
}
