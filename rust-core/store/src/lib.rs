//! phonehome-store: the flow and alert history on SQLite, and the exports made from it.
//!
//! Writes go through [`StoreSink`] into a bounded queue drained by one writer thread that commits in
//! batches (WAL, `synchronous=NORMAL`); the packet path never waits on the disk. Reads and exports go
//! through [`History`], which streams rows from SQLite instead of loading them.

mod error;
mod export;
mod history;
mod report;
mod row;
mod schema;
mod sink;
mod time;
mod writer;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use error::StoreError;
pub use history::{
    AppSummary, CountryNetwork, Cursor, DestinationSummary, Filter, History, StoredAlert, StoredFlow, TimelineBucket,
    Tuple,
};
pub use report::{human_bytes, terminal_text, Report};
pub use sink::{FlowExtras, StoreSink, StoreStats};
pub use time::{format_micros, parse_time_bound, parse_timestamp_micros, Bound};

use phonehome_engine::FlowRecord;
use phonehome_intel::Severity;

/// Tunables of a store; the defaults suit a phone that runs for days.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Records older than the newest record by more than this are removed (`None`: keep by size only).
    pub retention_age: Option<Duration>,
    /// Bound on the database plus its write-ahead log, in bytes; the oldest records go first.
    pub max_bytes: u64,
    /// Keep the packets handed to [`StoreSink::record_packet`] (for pcapng export).
    pub keep_packets: bool,
    /// Records waiting for the writer; past it new records are dropped and counted (live engine)…
    pub queue_capacity: usize,
    /// …or the sender waits for room (capture analysis, where nothing must be lost and nothing is live).
    pub wait_when_full: bool,
    /// Records committed in one transaction at most.
    pub batch_size: usize,
    /// Longest time a record waits in the writer before its batch is committed.
    pub flush_interval: Duration,
    /// First-seen destinations remembered in memory per sink before asking the database.
    pub seen_cache_entries: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            retention_age: Some(Duration::from_secs(30 * 24 * 3600)),
            max_bytes: 512 * 1024 * 1024,
            keep_packets: false,
            queue_capacity: 8192,
            wait_when_full: false,
            batch_size: 1024,
            flush_interval: Duration::from_millis(500),
            seen_cache_entries: 16_384,
        }
    }
}

/// An open store: owns the writer thread; hands out sinks for writing and histories for reading.
pub struct Store {
    path: PathBuf,
    config: StoreConfig,
    sender: std::sync::mpsc::SyncSender<writer::Msg>,
    shared: Arc<writer::Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Store {
    /// Opens (creating or migrating) the store at `path` and starts its writer thread.
    pub fn open(path: impl AsRef<Path>, config: StoreConfig) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = schema::open_for_writing(&path, &config)?;
        let writer::Spawned { sender, shared, thread } = writer::spawn(connection, &path, &config)?;
        Ok(Store { path, config, sender, shared, thread: Some(thread) })
    }

    /// A writing handle for the engine (cheap; one per thread that produces records).
    pub fn sink(&self) -> Result<StoreSink, StoreError> {
        StoreSink::new(&self.path, &self.config, self.sender.clone(), Arc::clone(&self.shared))
    }

    /// A reading handle on the same database.
    pub fn history(&self) -> Result<History, StoreError> {
        History::open(&self.path)
    }

    /// Counters and the failure, if writing stopped.
    pub fn stats(&self) -> StoreStats {
        self.shared.stats()
    }

    /// Commits what is queued, stops the writer and returns the final counters.
    pub fn close(mut self) -> StoreStats {
        self.stop();
        self.shared.stats()
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Blocking send: shutdown must not be dropped like a record when the queue is full.
            let _ = self.sender.send(writer::Msg::Shutdown);
            if thread.join().is_err() {
                log::error!("store writer thread panicked");
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The destination a flow counts under for first-seen tracking and aggregates: its host name, else its address.
pub fn destination_of(record: &FlowRecord) -> Cow<'_, str> {
    match &record.host {
        // Names are case-insensitive: one destination whatever case it was sent in (as the engine's judge keys it).
        Some(host) if !host.is_empty() => Cow::Owned(host.to_ascii_lowercase()),
        _ => Cow::Owned(record.dst_ip.to_string()),
    }
}

/// The key an app is stored under: its uid when known (stable across renames), else its name.
pub fn app_key(uid: Option<u32>, app: Option<&str>) -> String {
    match (uid, app) {
        (Some(uid), _) => format!("uid:{uid}"),
        (None, Some(app)) => format!("app:{app}"),
        (None, None) => "unknown".to_owned(),
    }
}

/// Parses a severity name (`info`, `low`, `medium`, `high`).
pub fn parse_severity(name: &str) -> Option<Severity> {
    [Severity::Info, Severity::Low, Severity::Medium, Severity::High]
        .into_iter()
        .find(|severity| severity.as_str().eq_ignore_ascii_case(name.trim()))
}
