//! Sustained insert rate and disk use of the store: `cargo bench -p phonehome-store --bench insert`.
//! The producer sends through the sink as the engine would, half a queue at a time followed by a flush, so
//! nothing is dropped and the rate is what the writer sustains with every record committed.

use std::time::{Duration, Instant};

use phonehome_engine::FlowSink;
use phonehome_model::fixtures::{tls_flow, T0};
use phonehome_model::{FlowRecord, Proto, Timestamp};
use phonehome_store::{Store, StoreConfig};

const FLOWS: u64 = 200_000;

fn flow(index: u64) -> FlowRecord {
    // 2100 (app, host) pairs: a busy phone, not a DNS tunnel.
    let host = format!("api{}.tracker-{}.example.com", index % 7, index % 300);
    let app = format!("com.example.app{}", index % 50);
    let start = Timestamp::from_micros(T0.as_micros() + index * 10_000);
    FlowRecord {
        proto: if index % 4 == 0 { Proto::Udp } else { Proto::Tcp },
        src_port: 30000 + (index % 30000) as u16,
        dst_ip: format!("203.0.{}.{}", index % 200, index % 250).parse().expect("formatted"),
        bytes_out: 517 + index % 3000,
        packets_out: 3 + index % 20,
        bytes_in: 4000 + index % 90000,
        packets_in: 4 + index % 80,
        flags: if index % 10 == 0 { vec!["cleartext".into()] } else { Vec::new() },
        ..tls_flow(&app, 10000 + (index % 50) as u32, &host, start)
    }
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn main() {
    println!("store insert benchmark: {FLOWS} flows per row, half a queue then flush, through StoreSink");
    println!(
        "{:>6} {:>7} {:>12} {:>10} {:>14} {:>16}",
        "batch", "queue", "flows/s", "dropped", "sink ns/flow", "MB/million flows"
    );
    for (batch_size, queue_capacity) in [(256, 8192), (1024, 8192), (4096, 16384)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bench.db");
        let config = StoreConfig {
            retention_age: None,
            max_bytes: 8 << 30,
            batch_size,
            queue_capacity,
            flush_interval: Duration::from_millis(200),
            ..StoreConfig::default()
        };
        let store = Store::open(&path, config).expect("open");
        let mut sink = store.sink().expect("sink");
        let records: Vec<FlowRecord> = (0..FLOWS).map(flow).collect();
        let started = Instant::now();
        let mut in_sink = Duration::ZERO;
        for (index, record) in records.into_iter().enumerate() {
            let call = Instant::now();
            sink.flow_ended(record, Vec::new());
            in_sink += call.elapsed();
            if (index + 1) % (queue_capacity / 2) == 0 {
                sink.flush().expect("flush");
            }
        }
        sink.flush().expect("flush");
        let elapsed = started.elapsed();
        drop(sink);
        let stats = store.close();
        let bytes = file_size(&path) + file_size(&dir.path().join("bench.db-wal"));
        let per_million = bytes as f64 / stats.flows.max(1) as f64;
        println!(
            "{:>6} {:>7} {:>12.0} {:>10} {:>14.0} {:>16.1}",
            batch_size,
            queue_capacity,
            stats.flows as f64 / elapsed.as_secs_f64(),
            stats.dropped,
            in_sink.as_nanos() as f64 / FLOWS as f64,
            per_million,
        );
    }
}
