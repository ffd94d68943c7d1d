//! Load time and memory of realistic lists, and per-lookup cost; prints a table.
//! Run: `cargo bench -p phonehome-intel` (needs the shared corpus, see the crate tests).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use phonehome_intel::{bundled_trackers, Destination, Intel, IntelConfig, ListCategory, ListInfo, ListSet, Watchlist};

/// Counts live heap bytes so memory figures are exact rather than RSS estimates.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged and only keeps a counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const RUNS: usize = 5;

fn corpus(relative: &str) -> String {
    let root = std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")));
    let path = root.join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Median wall time of `RUNS` runs of `f`.
fn median(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn row(what: &str, value: String) {
    println!("| {what:<52} | {value:>16} |");
}

fn main() {
    // Before anything looks a host up: the bundled table's index is built at the first lookup (the owner
    // tables, built first here, are not part of it).
    black_box(phonehome_intel::network_owner(Some(1), None));
    let (before, start) = (LIVE.load(Ordering::Relaxed), Instant::now());
    black_box(phonehome_intel::domain_owner("first.lookup.builds.the.index"));
    let (index_heap, index_time) = (LIVE.load(Ordering::Relaxed) - before, start.elapsed());
    let hagezi = corpus("lists/hagezi-light-2022.txt");
    let trackers = corpus("lists/adguard-companiesdb-trackers.json");
    let companies = corpus("lists/adguard-companiesdb-companies.json");

    println!("| {:<52} | {:>16} |", "measure (median of 5 runs)", "value");
    println!("|{:-<54}|{:->18}|", "", "");

    let load = median(|| {
        let mut set = ListSet::new();
        black_box(set.import_text(ListInfo::new("hagezi", ListCategory::Tracker), &hagezi).ok());
    });
    row("load HaGeZi light (122,680 wildcards)", format!("{:.1} ms", load.as_secs_f64() * 1e3));
    let before = LIVE.load(Ordering::Relaxed);
    let mut set = ListSet::new();
    set.import_text(ListInfo::new("hagezi", ListCategory::Tracker), &hagezi).ok();
    let hagezi_bytes = LIVE.load(Ordering::Relaxed) - before;
    row("  heap held after load", format!("{:.2} MiB", hagezi_bytes as f64 / 1048576.0));
    row("  bytes per domain (incl. name text)", format!("{:.1}", hagezi_bytes as f64 / set.domain_count() as f64));

    let load = median(|| {
        let mut other = ListSet::new();
        black_box(
            other.import_adguard(ListInfo::new("adguard", ListCategory::Tracker), &trackers, Some(&companies)).ok(),
        );
    });
    row("load AdGuard companiesdb (5,125 domains + companies)", format!("{:.1} ms", load.as_secs_f64() * 1e3));
    let before = LIVE.load(Ordering::Relaxed);
    set.import_adguard(ListInfo::new("adguard", ListCategory::Tracker), &trackers, Some(&companies)).ok();
    row("  heap added to the set", format!("{:.2} MiB", (LIVE.load(Ordering::Relaxed) - before) as f64 / 1048576.0));

    let hosts: Vec<String> = hagezi
        .lines()
        .filter_map(|l| l.strip_prefix("*."))
        .step_by(97)
        .flat_map(|d| [format!("cdn.{d}"), format!("cdn.not-{d}")])
        .collect();
    let lookups = per_item(&hosts, |host| {
        black_box(set.match_host(black_box(host)).count());
    });
    row(&format!("match_host, half hits ({} hosts, 3-4 labels)", hosts.len()), format!("{lookups:.0} ns/host"));

    let intel = Intel::new(IntelConfig { watchlist: Watchlist::default(), lists: set });
    let ip: IpAddr = "47.241.1.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let on_alibaba =
        Destination { ip, host: None, country: Some("SG"), asn: Some(45102), as_org: Some("ALIBABA-CN-NET") };
    let assess = assess_each(&intel, &hosts, on_alibaba);
    row("assess (watched network + list hit half of the time)", format!("{assess:.0} ns/flow"));
    let seed_case = vec!["tracking.intl.miui.com".to_owned(); hosts.len()];
    let telemetry = assess_each(&intel, &seed_case, Destination { as_org: None, ..on_alibaba });
    row("assess (seed case: 3 findings)", format!("{telemetry:.0} ns/flow"));

    bundled_table(&trackers, &companies);
    row(
        "  its hash index, built at the first lookup",
        format!("{:.1} KiB, {:.2} ms", index_heap as f64 / 1024.0, index_time.as_secs_f64() * 1e3),
    );
}

/// The bundled tracker table: its size, and the per-flow cost of looking hosts up in it.
fn bundled_table(trackers: &str, companies: &str) {
    let table = bundled_trackers();
    row(
        &format!("bundled tracker table ({} domains)", table.domain_count()),
        format!("{} bytes", table.as_bytes().len()),
    );
    // Hosts one or two labels below every listed domain, and as many that only end like one.
    let hosts: Vec<String> =
        table.entries().flat_map(|e| [format!("cdn.{}", e.domain), format!("a.b.not{}", e.domain)]).collect();
    let intel = Intel::new(IntelConfig::default());
    let ip: IpAddr = "198.51.100.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let on_google = Destination { ip, host: None, country: Some("US"), asn: Some(15169), as_org: Some("GOOGLE") };
    let assess = assess_each(&intel, &hosts, on_google);
    row(&format!("assess, bundled table hit half the time ({} hosts)", hosts.len()), format!("{assess:.0} ns/flow"));
    let mut imported = ListSet::new();
    imported.import_adguard(ListInfo::new("companiesdb", ListCategory::Tracker), trackers, Some(companies)).ok();
    let lookups = per_item(&hosts, |host| {
        black_box(imported.match_tracker(black_box(host)));
    });
    row("tracker-table lookup alone (the same table, imported)", format!("{lookups:.0} ns/host"));
}

/// Median nanoseconds per item of running `f` over `items`.
fn per_item(items: &[String], mut f: impl FnMut(&str)) -> f64 {
    let total = median(|| {
        for item in items {
            f(item);
        }
    });
    total.as_secs_f64() * 1e9 / items.len() as f64
}

/// Median nanoseconds per flow of assessing each host on the destination `on`.
fn assess_each(intel: &Intel, hosts: &[String], on: Destination<'_>) -> f64 {
    per_item(hosts, |host| {
        black_box(intel.assess(&Destination { host: Some(black_box(host)), ..on }));
    })
}
