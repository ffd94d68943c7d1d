//! Detection cost per MB of realistic cleartext with 20 identifiers declared.
//! Run: `cargo bench -p phonehome-leak`. Prints a table of medians over several rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use phonehome_leak::{DetectorConfig, Identifiers, LeakDetector};

const IDENTIFIERS: &str = r#"
imei = ["356938035643809", "490154203237518"]
imsi = "208150123456789"
iccid = "8933150319123456789"
phone = ["+33612345678", "+14155550123"]
mac = "3c:5a:b4:12:9e:7f"
bssid = ["f4:f2:6d:8a:10:c3", "7c:8b:ca:11:22:33", "a4:50:46:0b:7c:21"]
android_id = "9774d56d682e549c"
ad_id = "38400000-8cf0-11bd-b23e-10b96e40000d"
serial = "R58M12ABCDE"
email = ["jane.doe@example.org", "jdoe1987@mail.example.com"]
location = "48.85837,2.29448"
account = "u-7734-kilo"
push_token = "fcm-4c1d9a8e77b2"
user_id = "uid_0028731946"
install_id = "inst-8f3e2a91c4"
"#;

/// Deterministic xorshift, so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn word(&mut self) -> &'static str {
        const WORDS: [&str; 16] = [
            "home", "screen", "launcher", "settings", "wifi", "battery", "news", "video", "search", "feed", "theme",
            "weather", "update", "account", "gallery", "store",
        ];
        WORDS[self.below(WORDS.len())]
    }
}

/// Mixed cleartext payloads: GETs with queries, POSTs with JSON event batches, form posts, and a
/// few binary frames; one in 50 carries a declared identifier.
fn corpus(total_bytes: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    let mut size = 0;
    while size < total_bytes {
        let leak = if rng.below(50) == 0 { "&imei=356938035643809" } else { "" };
        let payload = match rng.below(4) {
            0 => format!(
                "GET /api/v{}/{}/{}?lang=fr&ts={}&page={}{leak} HTTP/1.1\r\nHost: api.{}.example.com\r\n\
                 User-Agent: Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)\r\n\
                 Accept-Encoding: gzip\r\nConnection: Keep-Alive\r\n\r\n",
                rng.below(4),
                rng.word(),
                rng.word(),
                1_732_190_000 + rng.below(100_000),
                rng.below(20),
                rng.word()
            )
            .into_bytes(),
            1 => {
                let mut body = String::from("{\"events\":[");
                for i in 0..4 + rng.below(30) {
                    if i > 0 {
                        body.push(',');
                    }
                    body.push_str(&format!(
                        "{{\"name\":\"{}_{}\",\"ts\":{},\"dur\":{}.{},\"session\":\"{:016x}\",\"props\":{{\"from\":\"{}\",\"count\":{}}}}}",
                        rng.word(),
                        rng.word(),
                        1_732_190_000_000u64 + rng.next() % 1_000_000,
                        rng.below(100),
                        rng.below(1000),
                        rng.next(),
                        rng.word(),
                        rng.below(1000)
                    ));
                }
                body.push_str("]}");
                format!(
                    "POST /v1/track HTTP/1.1\r\nHost: sdk.{}.example.net\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nUser-Agent: okhttp/4.12.0\r\n\r\n{body}",
                    rng.word(),
                    body.len()
                )
                .into_bytes()
            }
            2 => {
                let body = format!(
                    "app=com.example.{}&ver=4.{}.{}&channel={}&net=wifi&screen=1080x2400&dpi=420{leak}",
                    rng.word(),
                    rng.below(10),
                    rng.below(100),
                    rng.word()
                );
                format!(
                    "POST /collect HTTP/1.1\r\nHost: log.example.org\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            _ => (0..64 + rng.below(1400)).map(|_| rng.next() as u8).collect(),
        };
        size += payload.len();
        out.push(payload);
    }
    out
}

/// CPU time of this thread: wall time would count the other processes sharing the cores.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

/// Median MB/s of `work` over the corpus, per wall-clock second and per CPU second.
fn throughput(corpus: &[Vec<u8>], rounds: usize, mut work: impl FnMut(&[u8]) -> usize) -> (f64, f64, usize) {
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let mut wall: Vec<f64> = Vec::with_capacity(rounds);
    let mut cpu: Vec<f64> = Vec::with_capacity(rounds);
    let mut found = 0;
    for _ in 0..rounds {
        let (start, start_cpu) = (Instant::now(), thread_cpu_time());
        found = corpus.iter().map(|p| work(black_box(p))).sum();
        wall.push(start.elapsed().as_secs_f64());
        cpu.push((thread_cpu_time() - start_cpu).as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (bytes as f64 / median(&mut wall) / 1e6, bytes as f64 / median(&mut cpu) / 1e6, found)
}

fn main() {
    let ids = Identifiers::from_toml(IDENTIFIERS).expect("valid identifiers");
    let build = Instant::now();
    let detector = LeakDetector::new(&ids, &DetectorConfig::default()).expect("detector builds");
    let build_time = build.elapsed();
    let corpus = corpus(16 * 1024 * 1024);
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    println!(
        "{} identifiers, {} automaton patterns, filter stride {:?}, built in {:.1} ms; {} payloads, {:.1} MB, mean {} B",
        ids.len(),
        detector.pattern_count(),
        detector.filter_stride(),
        build_time.as_secs_f64() * 1e3,
        corpus.len(),
        bytes as f64 / 1e6,
        bytes / corpus.len()
    );
    let rounds = 7;
    let rows: [(&str, (f64, f64, usize)); 3] = [
        ("scan", throughput(&corpus, rounds, |p| detector.scan(p).len())),
        ("scan_patterns", throughput(&corpus, rounds, |p| detector.scan_patterns(p).len())),
        (
            "scan + scan_patterns",
            throughput(&corpus, rounds, |p| detector.scan(p).len() + detector.scan_patterns(p).len()),
        ),
    ];
    println!("{:<22} {:>12} {:>12} {:>10}", "detector", "MB/s wall", "MB/s CPU", "findings");
    for (name, (wall, cpu, found)) in rows {
        println!("{name:<22} {wall:>12.0} {cpu:>12.0} {found:>10}");
    }
}
