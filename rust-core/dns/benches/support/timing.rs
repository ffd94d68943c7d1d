//! Timing shared by the dns and http benches (the http bench includes this file by path).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `op` in rounds of about 100 ms and returns the median of five rounds, in ns per call.
pub fn ns_per_op<T>(mut op: impl FnMut() -> T) -> f64 {
    let mut calls = 1u32;
    let mut run = |calls: u32| {
        let start = Instant::now();
        (0..calls).for_each(|_| drop(black_box(op())));
        start.elapsed()
    };
    while run(calls) < Duration::from_millis(100) {
        calls *= 2;
    }
    let mut rounds: Vec<f64> = (0..5).map(|_| run(calls).as_nanos() as f64 / f64::from(calls)).collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

/// Prints one table of operation names and their costs.
pub fn print_table(rows: &[(&str, f64)]) {
    println!("{:<50} {:>10} {:>14}", "operation", "ns/op", "ops/s");
    for (name, ns) in rows {
        println!("{name:<50} {ns:>10.0} {:>14.0}", 1e9 / ns);
    }
}
