//! Test topology: a "phone" netns whose default route is the tun, the stack inside it protecting its
//! sockets with fwmark 100, which policy routing sends through a veth to an "internet" netns where the
//! test servers listen. Everything is created per test under unique names and removed on drop.
#![allow(dead_code)] // each test binary uses a different part of the scaffolding

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use phonehome_stack::{
    FwmarkProtector, Limits, PacketObserver, ProcNetResolver, RunningStack, Stack, StackConfig, UpstreamDns,
};

pub const MARK: u32 = 100;
pub const SERVER4: &str = "10.200.1.2";
pub const SERVER6: &str = "fd00:200::2";
pub const PHONE4: &str = "10.0.0.2";
pub const VIRTUAL_DNS: &str = "10.0.0.53";
/// Routed to "unreachable" in the internet namespace.
pub const UNREACHABLE4: &str = "10.200.9.9";
pub const UNREACHABLE6: &str = "fd00:209::9";
pub const HTTP_PORT: u16 = 8080;
pub const ECHO_PORT: u16 = 7;
pub const CLOSED_PORT: u16 = 9;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Whether the live tests can run here; they need root for namespaces. Under CI=true they must.
pub fn can_run() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "live stack tests need root under CI");
        eprintln!("skipped: live stack tests need root (network namespaces, tun)");
    }
    root
}

fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// What the observer saw, shared with the test.
#[derive(Default)]
pub struct Seen {
    pub packets: usize,
    pub bytes: usize,
    pub owners: Vec<(u8, SocketAddr, SocketAddr, u32)>,
}

pub struct Recorder(pub Arc<Mutex<Seen>>);

impl PacketObserver for Recorder {
    fn on_packet(&mut self, _ts: Duration, ip_packet: &[u8]) {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.packets += 1;
        seen.bytes += ip_packet.len();
    }
    fn on_owner(&mut self, proto: u8, client: SocketAddr, server: SocketAddr, uid: u32) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).owners.push((proto, client, server, uid));
    }
}

pub struct Lab {
    pub phone: String,
    pub inet: String,
    pub seen: Arc<Mutex<Seen>>,
    /// The stack's resolver behind the virtual DNS address, replaceable while it runs.
    pub upstream_dns: UpstreamDns,
    stack: Option<RunningStack>,
}

impl Lab {
    /// Builds the namespaces and starts the stack with default limits.
    pub fn up() -> Lab {
        Lab::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Lab {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n}", std::process::id());
        let upstream_dns = UpstreamDns::new(SocketAddr::new(SERVER4.parse().expect("ip"), 53));
        let mut lab = Lab {
            phone: format!("phst-p-{id}"),
            inet: format!("phst-i-{id}"),
            seen: Arc::default(),
            upstream_dns: upstream_dns.clone(),
            stack: None,
        };
        build_topology(&lab.phone, &lab.inet);
        let config = StackConfig { mtu: 1500, virtual_dns: VIRTUAL_DNS.parse().ok(), upstream_dns, limits };
        let seen = lab.seen.clone();
        let phone = lab.phone.clone();
        let stack = lab.in_phone(move || {
            let tun = phonehome_stack::open_tun("tun0").expect("open tun");
            configure_tun(&phone);
            let stack = Stack::new(
                config,
                tun,
                Box::new(FwmarkProtector::new(MARK)),
                Box::new(ProcNetResolver::default()),
                Box::new(Recorder(seen)),
            )
            .expect("stack");
            stack.spawn().expect("spawn")
        });
        lab.stack = Some(stack);
        lab
    }

    /// Runs `f` on a thread inside the phone namespace and waits for it.
    pub fn in_phone<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        join(spawn_in(&self.phone, f))
    }

    pub fn spawn_in_phone<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
        spawn_in(&self.phone, f)
    }

    /// Runs `f` on a thread inside the internet namespace (servers), without waiting.
    pub fn spawn_in_inet<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
        spawn_in(&self.inet, f)
    }

    pub fn stats(&self) -> phonehome_stack::StackStats {
        self.stack.as_ref().map(|s| s.handle().stats()).unwrap_or_default()
    }

    /// Runs a command in the phone namespace.
    pub fn exec_phone(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.phone])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Starts every test server in the internet namespace and waits until they listen.
    pub fn serve_all(&self) {
        for ip in [SERVER4, SERVER6] {
            let addr = SocketAddr::new(ip.parse().expect("ip"), HTTP_PORT);
            let (tx, rx) = std::sync::mpsc::channel();
            self.spawn_in_inet(move || {
                let listener = TcpListener::bind(addr).expect("bind http");
                let _ = tx.send(());
                for stream in listener.incoming().flatten() {
                    std::thread::spawn(move || serve_http(stream));
                }
            });
            rx.recv().expect("http server up");
            let (tx, rx) = std::sync::mpsc::channel();
            let echo = SocketAddr::new(ip.parse().expect("ip"), ECHO_PORT);
            self.spawn_in_inet(move || {
                let socket = UdpSocket::bind(echo).expect("bind echo");
                let _ = tx.send(());
                let mut buf = [0u8; 65536];
                while let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&buf[..n], from);
                }
            });
            rx.recv().expect("echo server up");
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let dns = SocketAddr::new(SERVER4.parse().expect("ip"), 53);
        self.spawn_in_inet(move || {
            let udp = UdpSocket::bind(dns).expect("bind dns/udp");
            let tcp = TcpListener::bind(dns).expect("bind dns/tcp");
            let _ = tx.send(());
            std::thread::spawn(move || {
                for mut stream in tcp.incoming().flatten() {
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).is_err() {
                        continue;
                    }
                    let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if stream.read_exact(&mut query).is_ok() {
                        let answer = dns_answer(&query);
                        let _ = stream.write_all(&(answer.len() as u16).to_be_bytes());
                        let _ = stream.write_all(&answer);
                    }
                }
            });
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = udp.recv_from(&mut buf) {
                let _ = udp.send_to(&dns_answer(&buf[..n]), from);
            }
        });
        rx.recv().expect("dns server up");
    }
}

/// A network namespace with only `lo`: nothing sent from it can leave the host.
pub struct IsolatedNetns(pub String);

impl IsolatedNetns {
    pub fn new() -> IsolatedNetns {
        let name = format!("phst-z-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        run(&["ip", "netns", "add", &name]);
        let ns = IsolatedNetns(name);
        run(&["ip", "-n", &ns.0, "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for IsolatedNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            if let Err(e) = stack.stop() {
                eprintln!("stack stop: {e}");
            }
        }
        for ns in [&self.phone, &self.inet] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn build_topology(p: &str, i: &str) {
    run(&["ip", "netns", "add", p]);
    run(&["ip", "netns", "add", i]);
    let ip = |ns: &str, rest: &str| {
        let mut args = vec!["ip", "-n", ns];
        args.extend(rest.split_whitespace());
        run(&args);
    };
    let sysctl = |ns: &str, kv: &str| run(&["ip", "netns", "exec", ns, "sysctl", "-qw", kv]);
    ip(p, "link set lo up");
    ip(i, "link set lo up");
    ip(p, &format!("link add vp type veth peer name vi netns {i}"));
    // No prefix route on the phone side: only marked (protected) sockets may use the veth.
    ip(p, "addr add 10.200.1.1/32 dev vp");
    ip(p, "-6 addr add fd00:200::1/128 dev vp nodad");
    ip(i, "addr add 10.200.1.2/24 dev vi");
    ip(i, "-6 addr add fd00:200::2/64 dev vi nodad");
    ip(p, "link set vp up");
    ip(i, "link set vi up");
    ip(p, "route add 10.200.1.2/32 dev vp table 100");
    ip(p, "route add default via 10.200.1.2 dev vp table 100");
    ip(p, "-6 route add fd00:200::2/128 dev vp table 100");
    ip(p, "-6 route add default via fd00:200::2 dev vp table 100");
    ip(p, &format!("rule add fwmark {MARK} lookup 100 priority 100"));
    ip(p, &format!("-6 rule add fwmark {MARK} lookup 100 priority 100"));
    ip(i, "route add unreachable 10.200.9.0/24");
    ip(i, "-6 route add unreachable fd00:209::/64");
    sysctl(i, "net.ipv4.ip_forward=1");
    sysctl(i, "net.ipv6.conf.all.forwarding=1");
    sysctl(p, "net.ipv4.conf.all.rp_filter=0");
    sysctl(p, "net.ipv4.conf.default.rp_filter=0");
    sysctl(p, "net.ipv4.conf.vp.rp_filter=0");
    sysctl(p, "net.ipv4.ping_group_range=0 2147483647");
}

fn configure_tun(p: &str) {
    let ip = |rest: &str| {
        let mut args = vec!["ip", "-n", p];
        args.extend(rest.split_whitespace());
        run(&args);
    };
    ip(&format!("addr add {PHONE4}/24 dev tun0"));
    ip("-6 addr add fd00:1::2/64 dev tun0 nodad");
    ip("link set tun0 mtu 1500 up");
    ip("route add default dev tun0");
    ip("-6 route add default dev tun0");
}

pub fn spawn_in<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: setns on a namespace fd we hold; it only moves this thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}

pub fn join<T>(handle: JoinHandle<T>) -> T {
    handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Deterministic test content: byte i of any body.
pub fn body_byte(i: usize) -> u8 {
    (i.wrapping_mul(2654435761) >> 13) as u8
}

/// FNV-1a, enough to compare two ends of a transfer.
pub fn fnv(hash: u64, data: &[u8]) -> u64 {
    data.iter().fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}
pub const FNV_START: u64 = 0xcbf29ce484222325;

/// HTTP/1.0 test server: `GET /bytes/N`, `GET /reset/N` (N bytes then RST), `GET /stall` (never reads
/// again), `POST /upload` (replies with the FNV of the body).
fn serve_http(stream: TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut request = String::new();
    let mut content_length = 0usize;
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut stream = reader.get_ref().try_clone().expect("clone");
    let send_body = |stream: &mut TcpStream, n: usize| -> std::io::Result<()> {
        write!(stream, "HTTP/1.0 200 OK\r\nContent-Length: {n}\r\n\r\n")?;
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
        Ok(())
    };
    if let Some(n) = path.strip_prefix("/bytes/") {
        let _ = send_body(&mut stream, n.parse().unwrap_or(0));
    } else if let Some(n) = path.strip_prefix("/reset/") {
        let n: usize = n.parse().unwrap_or(0);
        let _ = send_body(&mut stream, n);
        // Wait until the client has it all, so the RST is the next thing it sees, then reset.
        std::thread::sleep(Duration::from_millis(300));
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    } else if path == "/stall" {
        let _ = write!(stream, "HTTP/1.0 200 OK\r\n\r\n");
        std::thread::sleep(Duration::from_secs(30));
    } else if path == "/upload" {
        let mut hash = FNV_START;
        let mut left = content_length;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            match reader.read(&mut buf[..left.min(64 * 1024)]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    hash = fnv(hash, &buf[..n]);
                    left -= n;
                }
            }
        }
        let body = format!("{hash:016x}");
        let _ = write!(stream, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    }
}

/// Answers any DNS query with one A record 10.200.1.2.
pub fn dns_answer(query: &[u8]) -> Vec<u8> {
    let mut answer = query.to_vec();
    if answer.len() < 12 {
        return answer;
    }
    answer[2] = 0x81;
    answer[3] = 0x80;
    answer[6..8].copy_from_slice(&1u16.to_be_bytes());
    answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 200, 1, 2]);
    answer
}

/// A DNS query for `name`, type A.
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// Sends an HTTP/1.0 request and returns the response head and the FNV and length of its body.
pub fn http_get(server: SocketAddr, path: &str) -> std::io::Result<(String, u64, usize)> {
    let mut stream = TcpStream::connect_timeout(&server, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n")?;
    read_response(stream)
}

pub fn read_response(stream: TcpStream) -> std::io::Result<(String, u64, usize)> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let (mut hash, mut len) = (FNV_START, 0usize);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash = fnv(hash, &buf[..n]);
        len += n;
    }
    Ok((head, hash, len))
}

/// FNV of the first `n` body bytes the server sends.
pub fn expected_body_hash(n: usize) -> u64 {
    let mut hash = FNV_START;
    let mut chunk = Vec::with_capacity(64 * 1024);
    let mut i = 0;
    while i < n {
        chunk.clear();
        chunk.extend((i..n.min(i + 64 * 1024)).map(body_byte));
        hash = fnv(hash, &chunk);
        i += chunk.len();
    }
    hash
}
