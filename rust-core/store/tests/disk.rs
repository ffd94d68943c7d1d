//! A full disk and a read-only store give clear errors; the sink keeps taking records without blocking;
//! nothing committed is lost. Uses a small tmpfs mounted by the test (needs root).
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{flow, open};
use phonehome_engine::FlowSink;
use phonehome_store::{Filter, History, Store, StoreConfig, StoreError};

/// A tmpfs mounted for one test, unmounted when dropped (also on panic).
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).ok()?;
        let status =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(&path).status();
        status.is_ok_and(|s| s.success()).then_some(Tmpfs { path, _dir: dir })
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount").args(["-o", "remount,ro"]).arg(&self.path).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn mounted(what: &str, size: &str) -> Option<Tmpfs> {
    let tmpfs = Tmpfs::mount(size);
    common::may_run(what, tmpfs.is_some(), "cannot mount a tmpfs (needs root)").then_some(())?;
    tmpfs
}

fn batches_present(path: &Path) -> Vec<i64> {
    let history = History::open(path).unwrap();
    assert_eq!(history.integrity_check().unwrap(), "ok");
    let mut flags = Vec::new();
    history
        .for_each_flow(&Filter::default(), |record| {
            flags.extend(record.flags);
            Ok(())
        })
        .unwrap();
    let mut batches: Vec<i64> = flags.iter().filter_map(|f| f.strip_prefix("batch:")?.parse().ok()).collect();
    batches.dedup();
    batches
}

#[test]
fn a_full_disk_stops_writing_with_a_clear_error_and_loses_nothing_committed() {
    let Some(tmpfs) = mounted("a_full_disk_stops_writing", "640k") else { return };
    let path = tmpfs.path.join("store.db");
    let store = open(&path);
    let mut sink = store.sink().unwrap();
    let mut acknowledged = Vec::new();
    let failure = loop {
        let batch = acknowledged.len() as i64;
        for index in 0..100 {
            let mut record = flow("Filler", 10001, &format!("h{batch}-{index}.example"), batch as u64);
            record.flags = vec![format!("batch:{batch}")];
            sink.flow_ended(record, Vec::new());
        }
        match sink.flush() {
            Ok(()) => acknowledged.push(batch),
            Err(error) => break error,
        }
        assert!(batch < 10_000, "the disk never filled");
    };
    assert!(matches!(*failure, StoreError::DiskFull), "{failure}");
    assert!(failure.to_string().contains("disk holding the store is full"));
    assert!(!acknowledged.is_empty());
    // The engine keeps going: records are taken (and discarded) without blocking or panicking.
    let started = Instant::now();
    for offset in 0..10_000 {
        sink.flow_ended(flow("After", 1, "after.example", offset), Vec::new());
    }
    assert!(started.elapsed() < Duration::from_secs(5), "the sink blocked");
    assert!(matches!(store.stats().failure.as_deref(), Some(StoreError::DiskFull)));
    assert!(sink.flush().is_err());
    drop(sink);
    store.close();
    let present = batches_present(&path);
    for batch in &acknowledged {
        assert!(present.contains(batch), "batch {batch} was acknowledged but is missing");
    }
}

#[test]
fn a_read_only_store_is_refused_clearly_and_still_readable() {
    let Some(tmpfs) = mounted("a_read_only_store_is_refused", "4m") else { return };
    let path = tmpfs.path.join("store.db");
    {
        let store = open(&path);
        let mut sink = store.sink().unwrap();
        let mut record = flow("Kept", 10001, "kept.example", 0);
        record.flags = vec!["batch:7".into()];
        sink.flow_ended(record, Vec::new());
        sink.flush().unwrap();
        drop(sink);
        store.close();
    }
    tmpfs.remount_read_only();
    let refused = Store::open(&path, StoreConfig::default()).err().unwrap();
    assert!(matches!(refused, StoreError::ReadOnly), "{refused}");
    assert!(refused.to_string().contains("read-only"));
    assert_eq!(batches_present(&path), vec![7]);
}
