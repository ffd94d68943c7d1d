//! Lookup speed on random addresses (fixed seed); prints a table. Run: `cargo bench -p phonehome-ipdb`.

use phonehome_ipdb::{lookup, table_bytes};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

const ADDRESSES: usize = 1 << 16;
/// Short rounds, so that some run without another process taking the core (the machine is shared).
const ROUND: usize = 4096;
const ROUNDS: usize = 400;

/// xorshift64*: a fixed, dependency-free sequence so every run measures the same addresses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Nanoseconds per lookup (minimum and median over `ROUNDS` rounds of `ROUND` addresses).
fn ns_per_lookup(addresses: &[IpAddr]) -> (f64, f64) {
    let mut rounds: Vec<f64> = addresses
        .chunks(ROUND)
        .cycle()
        .take(ROUNDS)
        .map(|round| {
            let start = Instant::now();
            for &ip in round {
                black_box(lookup(black_box(ip)));
            }
            start.elapsed().as_secs_f64() * 1e9 / round.len() as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    let at = |i: usize| rounds.get(i).copied().unwrap_or(f64::NAN);
    (at(0), at(ROUNDS / 2))
}

fn main() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let v4: Vec<IpAddr> = (0..ADDRESSES).map(|_| IpAddr::V4(Ipv4Addr::from(rng.next() as u32))).collect();
    // Uniform IPv6 would almost always land in unallocated space; pick busy /16s of the RIRs instead.
    const BUSY: [u128; 8] = [0x2001, 0x2400, 0x2405, 0x2600, 0x2607, 0x2800, 0x2a00, 0x2a02];
    let v6: Vec<IpAddr> = (0..ADDRESSES)
        .map(|_| {
            let top = BUSY.get(rng.next() as usize % BUSY.len()).copied().unwrap_or(0x2001);
            let rest = ((u128::from(rng.next()) << 64) | u128::from(rng.next())) >> 16;
            IpAddr::V6(Ipv6Addr::from((top << 112) | rest))
        })
        .collect();
    let hits = |addrs: &[IpAddr]| addrs.iter().filter(|&&ip| lookup(ip).country.is_some()).count();
    // The same address again and again: the cost of the code alone, with the tables in cache.
    let hot = vec![IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)); ADDRESSES];
    println!("| addresses ({ADDRESSES}, fixed seed) | ns/lookup min | ns/lookup median | with a country |");
    println!("|---|---|---|---|");
    for (name, addrs) in
        [("IPv4, uniform", &v4), ("IPv6, uniform in 8 busy /16s", &v6), ("8.8.8.8 repeated (cache-hot)", &hot)]
    {
        let (min, median) = ns_per_lookup(addrs);
        println!("| {name} | {min:.1} | {median:.1} | {} |", hits(addrs));
    }
    println!("table bytes: {}", table_bytes());
}
