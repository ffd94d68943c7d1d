//! Crash safety: a writer killed with SIGKILL at random moments leaves a sound database holding every batch
//! it acknowledged. The child is this test binary re-run in `crash_child` mode.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{alert, flow};
use phonehome_engine::FlowSink;
use phonehome_intel::AlertKind;
use phonehome_store::{History, Store, StoreConfig};

const CHILD_DB: &str = "PHONEHOME_STORE_CRASH_DB";
const CHILD_FIRST_BATCH: &str = "PHONEHOME_STORE_CRASH_FIRST_BATCH";
const FLOWS_PER_BATCH: i64 = 200;
const KILLS: u32 = 50;

/// Not a test on its own: the child process of `sigkill_during_heavy_inserts_loses_no_acknowledged_batch`.
#[test]
fn crash_child() {
    let (Ok(path), Ok(first)) = (std::env::var(CHILD_DB), std::env::var(CHILD_FIRST_BATCH)) else { return };
    let first: i64 = first.parse().unwrap();
    let config = StoreConfig { flush_interval: Duration::from_millis(5), ..StoreConfig::default() };
    let store = Store::open(path, config).unwrap();
    let mut sink = store.sink().unwrap();
    let stdout = std::io::stdout();
    for batch in first.. {
        for index in 0..FLOWS_PER_BATCH {
            let mut record = flow("Heavy, \"writer\"", 10001, &format!("h{index}.example"), (batch % 100_000) as u64);
            record.flags = vec![format!("batch:{batch}")];
            if index == 0 {
                sink.record_alert(alert(&record, AlertKind::Tracker, &format!("batch {batch}")));
            }
            sink.flow_ended(record, Vec::new());
        }
        sink.flush().unwrap();
        // A whole line per write; the parent only trusts complete lines.
        writeln!(stdout.lock(), "ACK {batch} END").unwrap();
    }
}

/// xorshift64: enough randomness for kill times without a dependency.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn sigkill_during_heavy_inserts_loses_no_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut random = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut acknowledged: Vec<i64> = Vec::new();
    let mut kills_after_commits = 0;
    for run in 0..KILLS {
        let first_batch = i64::from(run) * 1_000_000;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DB, &path)
            .env(CHILD_FIRST_BATCH, first_batch.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a random moment after the child's first acknowledged batch, whatever the machine's load:
        // a kill before any commit would test nothing.
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
        let ack = |line: &str| line.strip_prefix("ACK ")?.strip_suffix(" END")?.parse::<i64>().ok();
        let first_ack = stdout.by_ref().find_map(|line| ack(&line));
        std::thread::sleep(Duration::from_millis(next_random(&mut random) % 300));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let acks: Vec<i64> = first_ack.into_iter().chain(stdout.filter_map(|line| ack(&line))).collect();
        if !acks.is_empty() {
            kills_after_commits += 1;
        }
        acknowledged.extend(acks);

        let history = History::open(&path).unwrap();
        assert_eq!(history.integrity_check().unwrap(), "ok", "after kill {run}");
        // Counted in SQL: decoding every record after every kill would make the test quadratic.
        let counts = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let per_batch: HashMap<i64, i64> = counts
            .prepare("SELECT substr(flags, 7), count(*) FROM flows GROUP BY flags")
            .unwrap()
            .query_map([], |row| Ok((row.get::<_, String>(0)?.parse().unwrap_or(-1), row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for batch in &acknowledged {
            assert_eq!(per_batch.get(batch), Some(&FLOWS_PER_BATCH), "batch {batch} after kill {run}");
        }
        let alerts: i64 = counts.query_row("SELECT count(*) FROM alerts", [], |row| row.get(0)).unwrap();
        assert!(alerts >= acknowledged.len() as i64);
    }
    println!(
        "{KILLS} kills, {kills_after_commits} after at least one commit, {} batches acknowledged",
        acknowledged.len()
    );
    assert_eq!(kills_after_commits, KILLS, "every kill comes after at least one commit");
    // The store still opens for writing after all that.
    drop(Store::open(&path, StoreConfig::default()).unwrap());
}
