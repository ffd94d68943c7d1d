//! End to end through a real tun in real network namespaces (needs root; see tests/common).
mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use common::*;
use phonehome_stack::{proto, Limits};

fn addr(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip.parse().expect("ip"), port)
}

fn transfers(server_ip: &'static str) {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let server = addr(server_ip, HTTP_PORT);
    let n = 16 * 1024 * 1024;
    let (head, hash, len) = lab.in_phone(move || http_get(server, &format!("/bytes/{n}"))).expect("download");
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert_eq!((len, hash), (n, expected_body_hash(n)), "download corrupted");

    let reply = lab
        .in_phone(move || {
            let mut stream = TcpStream::connect(server)?;
            write!(stream, "POST /upload HTTP/1.0\r\nContent-Length: {n}\r\n\r\n")?;
            let mut chunk = vec![0u8; 64 * 1024];
            let mut sent = 0;
            while sent < n {
                let len = chunk.len().min(n - sent);
                for (j, b) in chunk[..len].iter_mut().enumerate() {
                    *b = body_byte(sent + j);
                }
                stream.write_all(&chunk[..len])?;
                sent += len;
            }
            stream.shutdown(std::net::Shutdown::Write)?; // half-close: the reply must still arrive
            let mut reply = String::new();
            stream.read_to_string(&mut reply).map(|_| reply)
        })
        .expect("upload");
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
    assert!(reply.ends_with(&format!("\r\n\r\n{:016x}", expected_body_hash(n))), "upload corrupted: {reply}");
    let stats = lab.stats();
    assert!(stats.packets_in > 1000 && stats.packets_out > 1000, "{stats:?}");
    assert!(lab.seen.lock().expect("lock").packets > 2000, "observer missed packets");
}

/// Writes `byte`s until the peer's window stays closed for 2 s (or far beyond any sane bound); the bytes written.
fn push_until_stalled(stream: &mut TcpStream, byte: u8) -> usize {
    stream.set_write_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let chunk = vec![byte; 64 * 1024];
    let mut total = 0usize;
    while total < 256 * 1024 * 1024 {
        match stream.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    total
}

#[test]
fn tcp_download_and_upload_ipv4() {
    transfers(SERVER4);
}

#[test]
fn tcp_download_and_upload_ipv6() {
    transfers(SERVER6);
}

#[test]
fn many_concurrent_short_connections() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let clients: Vec<_> = (0..16)
        .map(|c| {
            lab.spawn_in_phone(move || {
                let server = addr(if c % 2 == 0 { SERVER4 } else { SERVER6 }, HTTP_PORT);
                for i in 0..25 {
                    let n = 1000 + c * 100 + i;
                    let (_, hash, len) = http_get(server, &format!("/bytes/{n}")).expect("get");
                    assert_eq!((len, hash), (n, expected_body_hash(n)));
                }
            })
        })
        .collect();
    clients.into_iter().for_each(join);
}

#[test]
fn dns_via_virtual_address_over_udp_and_tcp() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let dns = addr(VIRTUAL_DNS, 53);
    let answer = lab.in_phone(move || {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        socket.send_to(&dns_query(0x1234, "example.test"), dns).expect("send");
        let mut buf = [0u8; 512];
        let (n, from) = socket.recv_from(&mut buf).expect("udp answer");
        assert_eq!(from, dns, "the answer must come from the address the app asked");
        buf[..n].to_vec()
    });
    assert_eq!(answer, dns_answer(&dns_query(0x1234, "example.test")));

    let answer = lab.in_phone(move || {
        let mut stream = TcpStream::connect_timeout(&dns, Duration::from_secs(5)).expect("tcp connect");
        let query = dns_query(0x4321, "example.test");
        stream.write_all(&(query.len() as u16).to_be_bytes()).expect("write");
        stream.write_all(&query).expect("write");
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).expect("len");
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut answer).expect("answer");
        answer
    });
    assert_eq!(answer, dns_answer(&dns_query(0x4321, "example.test")));
}

/// One UDP query to the virtual DNS address: the answer, or None when none came within a second.
fn ask_virtual_dns(lab: &Lab, id: u16) -> Option<Vec<u8>> {
    let dns = addr(VIRTUAL_DNS, 53);
    lab.in_phone(move || {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
        socket.send_to(&dns_query(id, "switch.test"), dns).expect("send");
        let mut buf = [0u8; 512];
        socket.recv(&mut buf).ok().map(|n| buf[..n].to_vec())
    })
}

#[test]
fn upstream_dns_follows_the_network_while_running() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    assert_eq!(ask_virtual_dns(&lab, 1), Some(dns_answer(&dns_query(1, "switch.test"))));
    // The network underneath changed to one whose resolver does not answer: new queries go there...
    lab.upstream_dns.set(addr(SERVER4, CLOSED_PORT));
    assert_eq!(ask_virtual_dns(&lab, 2), None);
    // ...and back to one that does.
    lab.upstream_dns.set(addr(SERVER4, 53));
    assert_eq!(ask_virtual_dns(&lab, 3), Some(dns_answer(&dns_query(3, "switch.test"))));
}

#[test]
fn dns_over_tls_to_the_virtual_address_is_refused_at_once() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let refused = lab.in_phone(move || TcpStream::connect_timeout(&addr(VIRTUAL_DNS, 853), Duration::from_secs(5)));
    let error = refused.expect_err("no DNS over TLS through the virtual address");
    // A refusal (RST), not a timeout: Android's automatic Private DNS then falls back to port 53.
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

#[test]
fn udp_echo_ipv4_and_ipv6() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    for (bind, server) in [("0.0.0.0:0", addr(SERVER4, ECHO_PORT)), ("[::]:0", addr(SERVER6, ECHO_PORT))] {
        lab.in_phone(move || {
            let socket = UdpSocket::bind(bind).expect("bind");
            socket.connect(server).expect("connect");
            socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            // 4000 bytes leave the app as IP fragments and come back as one packet above the tun MTU.
            for size in [1, 100, 1400, 4000] {
                let data: Vec<u8> = (0..size).map(body_byte).collect();
                socket.send(&data).expect("send");
                let mut buf = [0u8; 8192];
                let n = socket.recv(&mut buf).expect("echo");
                assert_eq!(&buf[..n], &data[..], "echo of {size} bytes via {server}");
            }
        });
    }
}

#[test]
fn icmp_echo_is_forwarded() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    for server in [addr(SERVER4, 0), addr(SERVER6, 0)] {
        lab.in_phone(move || {
            let (domain, protocol, request) = if server.is_ipv4() {
                (socket2::Domain::IPV4, socket2::Protocol::ICMPV4, 8u8)
            } else {
                (socket2::Domain::IPV6, socket2::Protocol::ICMPV6, 128u8)
            };
            let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(protocol)).expect("ping socket");
            socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            let mut echo = vec![request, 0, 0, 0, 0, 0, 0, 1];
            echo.extend_from_slice(b"phonehome ping");
            socket.send_to(&echo, &server.into()).expect("send");
            let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 256];
            let n = socket.recv(&mut buf).expect("echo reply");
            // SAFETY: recv initialised the first n bytes.
            let reply: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
            assert_eq!(reply.first(), Some(&(if server.is_ipv4() { 0 } else { 129 })), "{reply:?}");
            assert_eq!(&reply[8..], b"phonehome ping");
        });
    }
}

#[test]
fn refused_and_unreachable_are_reflected() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    for ip in [SERVER4, SERVER6] {
        let err = lab
            .in_phone(move || TcpStream::connect_timeout(&addr(ip, CLOSED_PORT), Duration::from_secs(5)))
            .expect_err("closed port");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{ip}: {err}");
    }
    for ip in [UNREACHABLE4, UNREACHABLE6] {
        let err = lab
            .in_phone(move || TcpStream::connect_timeout(&addr(ip, 80), Duration::from_secs(5)))
            .expect_err("unreachable");
        assert!(
            matches!(err.kind(), ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable),
            "{ip}: {err} ({:?})",
            err.kind()
        );
        // The same for UDP: the ICMP error comes back through the tun to the app's socket.
        let err = lab.in_phone(move || {
            let socket = UdpSocket::bind(if ip.contains(':') { "[::]:0" } else { "0.0.0.0:0" }).expect("bind");
            set_recv_err(&socket, ip.contains(':'));
            socket.connect(addr(ip, 5000)).expect("connect");
            socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            socket.send(b"x").expect("send");
            let mut buf = [0u8; 16];
            socket.recv(&mut buf).expect_err("no answer")
        });
        assert!(
            matches!(err.kind(), ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable),
            "{ip}/udp: {err} ({:?})",
            err.kind()
        );
    }
    let err = lab.in_phone(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket.connect(addr(SERVER4, CLOSED_PORT)).expect("connect");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        socket.send(b"x").expect("send");
        let mut buf = [0u8; 16];
        socket.recv(&mut buf).expect_err("closed udp port")
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "udp: {err}");
    assert!(lab.stats().connect_failures >= 4);
}

#[test]
fn server_reset_mid_transfer_reaches_the_app() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let result = lab.in_phone(|| http_get(addr(SERVER4, HTTP_PORT), "/reset/1000000"));
    let err = result.expect_err("a reset, not a clean end");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn stalled_server_is_bounded_and_does_not_slow_others() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let server = addr(SERVER4, HTTP_PORT);
    let pushed = lab.spawn_in_phone(move || {
        let mut stream = TcpStream::connect(server).expect("connect");
        stream.write_all(b"GET /stall HTTP/1.0\r\n\r\n").expect("request");
        push_until_stalled(&mut stream, 7)
    });
    // While that flow is stuck, another one moves 8 MiB intact.
    let n = 8 * 1024 * 1024;
    let (_, hash, len) = lab.in_phone(move || http_get(server, &format!("/bytes/{n}"))).expect("download");
    assert_eq!((len, hash), (n, expected_body_hash(n)));
    let total = join(pushed);
    // Kernel buffers on both sides of the stack (autotuned up to a few MiB each) plus the stack's
    // 256 KiB: anything near the 256 MiB cap would mean an unbounded queue.
    eprintln!("a stalled server absorbed {total} bytes before the app's writes blocked");
    assert!(total < 32 * 1024 * 1024, "pushed {total} bytes into a stalled server");
}

#[test]
fn owners_are_reported_per_uid() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    lab.serve_all();
    let url = format!("http://{SERVER4}:{HTTP_PORT}/bytes/1000");
    for uid in ["1001", "1002"] {
        let out = lab.exec_phone(&[
            "setpriv",
            "--reuid",
            uid,
            "--regid",
            uid,
            "--clear-groups",
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            &url,
        ]);
        assert!(out.status.success(), "curl as {uid}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // A DNS query over UDP from a thread that alone switched to uid 1003 (raw setresuid is per thread).
    let dns = addr(VIRTUAL_DNS, 53);
    let client = lab.in_phone(move || {
        // SAFETY: a raw syscall with integer arguments; it changes this thread's credentials only.
        let rc = unsafe { libc::syscall(libc::SYS_setresuid, 1003, 1003, 1003) };
        assert_eq!(rc, 0, "setresuid: {}", std::io::Error::last_os_error());
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        socket.send_to(&dns_query(7, "owner.test"), dns).expect("send");
        socket.recv(&mut [0u8; 512]).expect("answer");
        socket.local_addr().expect("local")
    });
    let server = addr(SERVER4, HTTP_PORT);
    let mut uids = Vec::new();
    for _ in 0..50 {
        uids = lab
            .seen
            .lock()
            .expect("lock")
            .owners
            .iter()
            .filter(|(p, _, s, _)| *p == proto::TCP && *s == server)
            .map(|o| o.3)
            .collect();
        if uids.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    uids.sort_unstable();
    let seen = lab.seen.lock().expect("lock").owners.clone();
    assert_eq!(uids, vec![1001, 1002], "owners seen: {seen:?}, {:?}", lab.stats());
    let client = SocketAddr::new(PHONE4.parse().expect("ip"), client.port());
    assert!(seen.contains(&(proto::UDP, client, dns, 1003)), "owners seen: {seen:?}");
}

#[test]
fn flow_tables_stay_within_limits() {
    if !can_run() {
        return;
    }
    let limits = Limits { max_tcp_flows: 4, max_datagram_flows: 4, ..Limits::default() };
    let lab = Lab::with_limits(limits);
    lab.serve_all();
    let server = addr(SERVER4, ECHO_PORT);
    lab.in_phone(move || {
        let sockets: Vec<UdpSocket> = (0..10).map(|_| UdpSocket::bind("0.0.0.0:0").expect("bind")).collect();
        for socket in &sockets {
            socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            socket.send_to(b"ping", server).expect("send");
            let mut buf = [0u8; 8];
            assert_eq!(socket.recv(&mut buf).expect("echo"), 4);
        }
    });
    let http = addr(SERVER4, HTTP_PORT);
    let held = lab.in_phone(move || {
        (0..8)
            .map(|_| {
                let s = TcpStream::connect(http).expect("connect");
                std::thread::sleep(Duration::from_millis(20)); // distinct idle times for the eviction order
                s
            })
            .collect::<Vec<_>>()
    });
    // The newest connection still works; the oldest was reset to admit it.
    let (mut newest, mut oldest) =
        (held.last().expect("one").try_clone().expect("clone"), held[0].try_clone().expect("clone"));
    newest.write_all(b"GET /bytes/10 HTTP/1.0\r\n\r\n").expect("write");
    let mut reply = Vec::new();
    newest.read_to_end(&mut reply).expect("read");
    assert!(reply.ends_with(&(0..10).map(body_byte).collect::<Vec<_>>()));
    oldest.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let err = oldest.read_to_end(&mut Vec::new()).expect_err("evicted flow is reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    let stats = lab.stats();
    assert!(stats.datagram_flows <= 4 && stats.tcp_flows <= 5, "{stats:?}");
    assert!(stats.evictions >= 6 + 4, "{stats:?}");
}

/// Linux tells a connected UDP socket about "host unreachable" only when it asked with IP_RECVERR.
fn set_recv_err(socket: &UdpSocket, v6: bool) {
    use std::os::fd::AsRawFd;
    let (level, name) = if v6 { (libc::SOL_IPV6, libc::IPV6_RECVERR) } else { (libc::SOL_IP, libc::IP_RECVERR) };
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a live local.
    let rc = unsafe { libc::setsockopt(socket.as_raw_fd(), level, name, (&on as *const libc::c_int).cast(), 4) };
    assert_eq!(rc, 0, "IP_RECVERR");
}

/// A one-connection server in the internet namespace; `handle` runs on the accepted stream.
fn serve_once<T: Send + 'static>(
    lab: &Lab,
    port: u16,
    handle: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = lab.spawn_in_inet(move || {
        let listener = std::net::TcpListener::bind(addr(SERVER4, port)).expect("bind");
        tx.send(()).expect("ready");
        let (stream, _) = listener.accept().expect("accept");
        handle(stream)
    });
    rx.recv().expect("server up");
    server
}

#[test]
fn app_reset_reaches_the_server() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    let server = serve_once(&lab, 8081, |mut stream| {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.kind()),
            }
        }
    });
    lab.in_phone(|| {
        let stream = TcpStream::connect(addr(SERVER4, 8081)).expect("connect");
        (&stream).write_all(b"some bytes").expect("write");
        std::thread::sleep(Duration::from_millis(200));
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).expect("linger");
    }); // dropped with linger 0: a RST
    assert_eq!(join(server), Err(ErrorKind::ConnectionReset));
}

#[test]
fn server_half_close_lets_the_app_keep_sending() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    let server = serve_once(&lab, 8082, |mut stream| {
        stream.shutdown(std::net::Shutdown::Write).expect("half-close");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("read");
        fnv(FNV_START, &received)
    });
    let n = 2 * 1024 * 1024;
    let body: Vec<u8> = (0..n).map(body_byte).collect();
    let expected = fnv(FNV_START, &body);
    lab.in_phone(move || {
        let mut stream = TcpStream::connect(addr(SERVER4, 8082)).expect("connect");
        let mut buf = [0u8; 16];
        assert_eq!(stream.read(&mut buf).expect("read"), 0, "the server's FIN arrives as EOF");
        stream.write_all(&body).expect("write after the server's FIN");
        stream.shutdown(std::net::Shutdown::Write).expect("shutdown");
    });
    assert_eq!(join(server), expected);
}

#[test]
fn stalled_app_is_bounded() {
    if !can_run() {
        return;
    }
    let lab = Lab::up();
    let server = serve_once(&lab, 8083, |mut stream| push_until_stalled(&mut stream, 9));
    // The app connects and then reads nothing until the server gave up pushing.
    let app = lab.spawn_in_phone(|| TcpStream::connect(addr(SERVER4, 8083)).expect("connect"));
    let stream = join(app);
    let total = join(server);
    drop(stream);
    eprintln!("a stalled app was sent {total} bytes before the server's writes blocked");
    assert!(total < 32 * 1024 * 1024, "pushed {total} bytes towards a stalled app");
}
