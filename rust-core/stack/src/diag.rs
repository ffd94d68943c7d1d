//! Owner of one TCP socket by its exact 4-tuple through netlink `sock_diag` (what `ss` uses): one hash
//! look-up in the kernel, where reading `/proc/net/tcp` walks the whole established hash (≈ 2.7 ms per
//! read on a host with 256k buckets, twice per file), which held every new connection's handshake.
//! Written by hand: one fixed 72-byte request and one reply field; the netlink crates add four
//! dependencies for it.
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_HEADER: usize = 16;
/// inet_diag_req_v2: family, protocol, ext, pad, states (4), then inet_diag_sockid (48).
const REQUEST: usize = NLMSG_HEADER + 8 + 48;
/// Offset of `idiag_uid` in inet_diag_msg: family, state, timer, retrans, sockid (48), expires, rqueue, wqueue.
const UID_OFFSET: usize = NLMSG_HEADER + 4 + 48 + 12;
/// A reply slower than this means the kernel is not answering; the caller falls back to `/proc/net`.
const REPLY_TIMEOUT: Duration = Duration::from_millis(200);

/// A `NETLINK_SOCK_DIAG` socket for exact TCP owner look-ups in the calling thread's network namespace.
pub(crate) struct SockDiag {
    fd: OwnedFd,
    seq: u32,
}

impl SockDiag {
    pub fn open() -> io::Result<SockDiag> {
        // SAFETY: socket() with integer arguments; the result is checked before use.
        let fd =
            unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, libc::NETLINK_SOCK_DIAG) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let timeout = libc::timeval { tv_sec: 0, tv_usec: REPLY_TIMEOUT.as_micros() as libc::suseconds_t };
        // SAFETY: setsockopt reads one timeval from a live local.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(SockDiag { fd, seq: 0 })
    }

    /// The uid of the TCP socket whose own end is `local` and peer is `remote`: `Ok(None)` when there is
    /// no such socket, `Err` when the kernel cannot answer (no sock_diag, SELinux, timeout).
    pub fn tcp_owner(&mut self, local: SocketAddr, remote: SocketAddr) -> io::Result<Option<u32>> {
        self.seq = self.seq.wrapping_add(1);
        let request = tcp_request(self.seq, local, remote);
        // SAFETY: send reads request.len() bytes from a live buffer.
        let sent = unsafe { libc::send(self.fd.as_raw_fd(), request.as_ptr().cast(), request.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut reply = [0u8; 512];
        loop {
            // SAFETY: recv writes at most reply.len() bytes into reply, which outlives the call.
            let len = unsafe { libc::recv(self.fd.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0) };
            if len < 0 {
                return Err(io::Error::last_os_error());
            }
            match parse_reply(reply.get(..len as usize).unwrap_or_default(), self.seq) {
                Reply::Stale => continue, // the answer to an earlier request that timed out
                Reply::Uid(uid) => return Ok(Some(uid)),
                Reply::NotFound => return Ok(None),
                Reply::Error(errno) => return Err(io::Error::from_raw_os_error(errno)),
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Uid(u32),
    NotFound,
    Stale,
    Error(i32),
}

fn tcp_request(seq: u32, local: SocketAddr, remote: SocketAddr) -> [u8; REQUEST] {
    // An IPv4 flow may belong to a dual-stack socket: the kernel's IPv4 look-up finds those too.
    let (local_ip, remote_ip) = (local.ip().to_canonical(), remote.ip().to_canonical());
    let family = if local_ip.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let mut req = [0u8; REQUEST];
    let fields: [(usize, &[u8]); 11] = [
        (0, &(REQUEST as u32).to_ne_bytes()),
        (4, &SOCK_DIAG_BY_FAMILY.to_ne_bytes()),
        (6, &(libc::NLM_F_REQUEST as u16).to_ne_bytes()),
        (8, &seq.to_ne_bytes()),
        (16, &[family as u8, libc::IPPROTO_TCP as u8]),
        (20, &u32::MAX.to_ne_bytes()), // every TCP state
        (24, &local.port().to_be_bytes()),
        (26, &remote.port().to_be_bytes()),
        (28, &address_bytes(local_ip)),
        (44, &address_bytes(remote_ip)),
        (64, &[0xff; 8]), // INET_DIAG_NOCOOKIE
    ];
    for (at, bytes) in fields {
        if let Some(dst) = req.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
    req
}

/// 16 bytes: an IPv6 address, or an IPv4 address followed by zeros (inet_diag_sockid's layout).
fn address_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V6(v6) => v6.octets(),
        IpAddr::V4(v4) => {
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&v4.octets());
            bytes
        }
    }
}

fn parse_reply(reply: &[u8], seq: u32) -> Reply {
    let u32_at = |at: usize| reply.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes);
    let kind = reply.get(4..6).and_then(|b| b.try_into().ok()).map(u16::from_ne_bytes);
    if u32_at(8) != Some(seq) {
        return Reply::Stale;
    }
    match kind {
        Some(SOCK_DIAG_BY_FAMILY) => u32_at(UID_OFFSET).map_or(Reply::Error(libc::EBADMSG), Reply::Uid),
        Some(kind) if kind == libc::NLMSG_ERROR as u16 => match u32_at(NLMSG_HEADER).map(|e| -(e as i32)) {
            Some(libc::ENOENT) => Reply::NotFound,
            Some(errno) => Reply::Error(errno),
            None => Reply::Error(libc::EBADMSG),
        },
        _ => Reply::Error(libc::EBADMSG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn finds_the_uid_of_a_live_connection_in_both_directions() {
        let Ok(mut diag) = SockDiag::open() else {
            eprintln!("skipped: no NETLINK_SOCK_DIAG here");
            return;
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (local, remote) = (client.local_addr().unwrap(), client.peer_addr().unwrap());
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        assert_eq!(diag.tcp_owner(local, remote).unwrap(), Some(me));
        let (_server, _) = listener.accept().unwrap();
        assert_eq!(diag.tcp_owner(remote, local).unwrap(), Some(me), "the server's end");
        let unused = SocketAddr::new(local.ip(), 1);
        assert_eq!(diag.tcp_owner(unused, remote).unwrap(), None);
    }

    #[test]
    fn ipv6_and_dual_stack_connections_are_found() {
        let Ok(mut diag) = SockDiag::open() else { return };
        let Ok(listener) = TcpListener::bind("[::]:0") else { return };
        let port = listener.local_addr().unwrap().port();
        for dial in [format!("[::1]:{port}"), format!("127.0.0.1:{port}")] {
            let client = TcpStream::connect(dial.as_str()).unwrap();
            // The accepted end of an IPv4 client is an IPv6 socket with v4-mapped addresses.
            let (server, _) = listener.accept().unwrap();
            let (local, remote) = (server.local_addr().unwrap(), server.peer_addr().unwrap());
            assert!(diag.tcp_owner(local, remote).unwrap().is_some(), "{dial}: {local} ← {remote}");
            drop(client);
        }
    }

    #[test]
    fn requests_lay_out_inet_diag_sockid() {
        let req = tcp_request(7, "10.0.0.2:40000".parse().unwrap(), "10.200.1.2:443".parse().unwrap());
        assert_eq!(&req[..4], &(REQUEST as u32).to_ne_bytes());
        assert_eq!(&req[8..12], &7u32.to_ne_bytes());
        assert_eq!(req[16], libc::AF_INET as u8);
        assert_eq!(&req[24..28], &[0x9c, 0x40, 0x01, 0xbb]);
        assert_eq!(&req[28..32], &[10, 0, 0, 2]);
        assert_eq!(&req[44..48], &[10, 200, 1, 2]);
        assert_eq!(&req[64..72], &[0xff; 8]);
    }

    proptest! {
        #[test]
        fn arbitrary_replies_never_panic(reply in proptest::collection::vec(any::<u8>(), 0..200), seq: u32) {
            let _ = parse_reply(&reply, seq);
        }
    }
}
