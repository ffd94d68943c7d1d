//! Set-up cost of the identifier search as the declared set grows: reading the TOML, validating and
//! deduplicating, and building the automaton. Linear is the goal (it was quadratic: issue 12).
//! Run: `cargo bench -p phonehome-leak --bench setup`. Prints a table.

use std::fmt::Write as _;
use std::time::Instant;

use phonehome_leak::{DetectorConfig, Identifiers, LeakDetector};

/// `n` distinct custom identifiers of 16 hex digits (deterministic), as a `--ids` file.
fn identifiers_toml(n: usize) -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut toml = String::from("[custom]\n");
    for i in 0..n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let _ = writeln!(toml, "k{i} = \"{state:016x}\"");
    }
    toml
}

fn main() {
    println!(
        "{:>12} {:>12} {:>12} {:>14} {:>16}",
        "identifiers", "patterns", "read ms", "automaton ms", "µs / identifier"
    );
    for n in [100, 1_000, 5_000, 20_000] {
        let toml = identifiers_toml(n);
        let start = Instant::now();
        let ids = Identifiers::from_toml(&toml).expect("valid identifiers");
        let read = start.elapsed();
        let detector = LeakDetector::new(&ids, &DetectorConfig::default()).expect("detector builds");
        let total = start.elapsed();
        println!(
            "{:>12} {:>12} {:>12.1} {:>14.1} {:>16.1}",
            ids.len(),
            detector.pattern_count(),
            read.as_secs_f64() * 1e3,
            (total - read).as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e6 / n as f64
        );
    }
}
