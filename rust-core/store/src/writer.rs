//! The writer thread: drains the bounded queue, commits batches, keeps the disk bound and the retention.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use phonehome_model::{AlertRecord, FlowRecord};
use rusqlite::{params, Connection};

use crate::row::{count, flow_severity_rank, insert_alert, insert_flow, INSERT_ALERT, INSERT_FLOW};
use crate::schema::DiskBudget;
use crate::sink::StoreStats;
use crate::{app_key, StoreConfig, StoreError};

/// What sinks send to the writer.
pub(crate) enum Msg {
    Flow(Box<FlowMsg>),
    Alert(Box<AlertRecord>),
    Packet(Box<PacketMsg>),
    /// A destination seen for the first time, remembered before its flow ends.
    FirstSeen(Box<FirstSeenMsg>),
    /// Commit what is queued, then answer.
    Flush(SyncSender<Result<(), Arc<StoreError>>>),
    Shutdown,
}

pub(crate) struct FlowMsg {
    pub record: FlowRecord,
    pub evidence: String,
}

pub(crate) struct PacketMsg {
    pub ts_us: i64,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub data: Vec<u8>,
}

pub(crate) struct FirstSeenMsg {
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub destination: String,
    pub seen_us: i64,
}

/// State shared between the writer and every sink.
#[derive(Default)]
pub(crate) struct Shared {
    pub dropped: AtomicU64,
    flows: AtomicU64,
    alerts: AtomicU64,
    packets: AtomicU64,
    batches: AtomicU64,
    removed: AtomicU64,
    failed: AtomicBool,
    failure: Mutex<Option<Arc<StoreError>>>,
}

impl Shared {
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    pub fn failure(&self) -> Option<Arc<StoreError>> {
        self.failure.lock().ok().and_then(|failure| failure.clone())
    }

    pub fn stats(&self) -> StoreStats {
        StoreStats {
            dropped: self.dropped.load(Ordering::Relaxed),
            flows: self.flows.load(Ordering::Relaxed),
            alerts: self.alerts.load(Ordering::Relaxed),
            packets: self.packets.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            removed_by_retention: self.removed.load(Ordering::Relaxed),
            failure: self.failure(),
        }
    }

    fn fail(&self, error: StoreError) -> Arc<StoreError> {
        let cause = std::error::Error::source(&error).map(|source| format!(" ({source})")).unwrap_or_default();
        log::error!("store: {error}{cause}; no more records will be written");
        let error = Arc::new(error);
        if let Ok(mut failure) = self.failure.lock() {
            failure.get_or_insert_with(|| Arc::clone(&error));
        }
        self.failed.store(true, Ordering::Relaxed);
        error
    }
}

pub(crate) fn spawn(connection: Connection, path: &Path, config: &StoreConfig) -> Result<Spawned, StoreError> {
    let (sender, receiver) = sync_channel(config.queue_capacity.max(1));
    let shared = Arc::new(Shared::default());
    let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
    let mut wal_path = OsString::from(path.as_os_str());
    wal_path.push("-wal");
    let writer = Writer {
        connection,
        wal_path: PathBuf::from(wal_path),
        page_size,
        budget: DiskBudget::new(config.max_bytes),
        retention_age_us: config.retention_age.map(|age| i64::try_from(age.as_micros()).unwrap_or(i64::MAX)),
        keep_packets: config.keep_packets,
        batch_size: config.batch_size.max(1),
        flush_interval: config.flush_interval,
        shared: Arc::clone(&shared),
    };
    let thread = std::thread::Builder::new().name("phonehome-store".into()).spawn(move || writer.run(receiver))?;
    Ok(Spawned { sender, shared, thread })
}

/// The handles of a running writer.
pub(crate) struct Spawned {
    pub sender: SyncSender<Msg>,
    pub shared: Arc<Shared>,
    pub thread: JoinHandle<()>,
}

#[derive(Default)]
struct Batch {
    flows: Vec<FlowMsg>,
    alerts: Vec<AlertRecord>,
    packets: Vec<PacketMsg>,
    first_seen: Vec<FirstSeenMsg>,
}

impl Batch {
    fn len(&self) -> usize {
        self.flows.len() + self.alerts.len() + self.packets.len() + self.first_seen.len()
    }

    /// Bytes the batch will add, generously: a flow row with its index entry and aggregate rows stays under
    /// [`RECORD_BYTES`]; a packet adds its data.
    fn estimated_bytes(&self) -> i64 {
        let packet_bytes: usize = self.packets.iter().map(|packet| packet.data.len()).sum();
        let records = self.len() as i64;
        records.saturating_mul(RECORD_BYTES).saturating_add(i64::try_from(packet_bytes).unwrap_or(i64::MAX))
    }

    fn clear(&mut self) {
        self.flows.clear();
        self.alerts.clear();
        self.packets.clear();
        self.first_seen.clear();
    }
}

/// One app's totals within a batch, added to the `apps` row in one upsert.
#[derive(Default)]
struct AppTotals {
    uid: Option<u32>,
    app: Option<String>,
    flows: i64,
    bytes_out: i64,
    bytes_in: i64,
    alerts: i64,
    max_sev_rank: Option<i64>,
    first_us: i64,
    last_us: i64,
}

/// One (app, destination)'s totals within a batch.
#[derive(Default)]
struct DestinationTotals {
    flows: i64,
    bytes_out: i64,
    bytes_in: i64,
    country: Option<String>,
    asn: Option<u32>,
    as_org: Option<String>,
    first_us: i64,
    last_us: i64,
}

fn widen(first: &mut i64, last: &mut i64, fresh: bool, from: i64, to: i64) {
    if fresh {
        (*first, *last) = (from, to);
    } else {
        (*first, *last) = ((*first).min(from), (*last).max(to));
    }
}

struct Writer {
    connection: Connection,
    wal_path: PathBuf,
    page_size: i64,
    budget: DiskBudget,
    retention_age_us: Option<i64>,
    keep_packets: bool,
    batch_size: usize,
    flush_interval: Duration,
    shared: Arc<Shared>,
}

impl Writer {
    fn run(mut self, receiver: Receiver<Msg>) {
        let mut batch = Batch::default();
        let mut acks = Vec::new();
        loop {
            let mut stop = match receiver.recv() {
                Ok(msg) => self.take(msg, &mut batch, &mut acks),
                Err(_) => true,
            };
            let deadline = Instant::now() + self.flush_interval;
            while !stop && acks.is_empty() && batch.len() < self.batch_size {
                match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(msg) => stop = self.take(msg, &mut batch, &mut acks),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => stop = true,
                }
            }
            let result = self.commit(&batch);
            batch.clear();
            for ack in acks.drain(..) {
                let _ = ack.send(result.clone());
            }
            if stop {
                break;
            }
        }
    }

    /// Files one message; true when the writer must stop.
    fn take(&self, msg: Msg, batch: &mut Batch, acks: &mut Vec<SyncSender<Result<(), Arc<StoreError>>>>) -> bool {
        match msg {
            Msg::Flow(flow) => batch.flows.push(*flow),
            Msg::Alert(alert) => batch.alerts.push(*alert),
            Msg::Packet(packet) if self.keep_packets => batch.packets.push(*packet),
            Msg::Packet(_) => {}
            Msg::FirstSeen(seen) => batch.first_seen.push(*seen),
            Msg::Flush(ack) => acks.push(ack),
            Msg::Shutdown => return true,
        }
        false
    }

    /// Commits a batch, then applies retention; after a failure, discards everything.
    fn commit(&mut self, batch: &Batch) -> Result<(), Arc<StoreError>> {
        if let Some(failure) = self.shared.failure() {
            return Err(failure);
        }
        if batch.len() == 0 {
            return Ok(());
        }
        let result = self
            .make_room(batch.estimated_bytes())
            .and_then(|()| self.write(batch))
            .and_then(|()| self.enforce_bounds());
        result.map_err(|error| self.shared.fail(error))
    }

    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        let mut apps: HashMap<String, AppTotals> = HashMap::new();
        let mut destinations: HashMap<(String, String), DestinationTotals> = HashMap::new();
        {
            let mut statement = transaction.prepare_cached(INSERT_FLOW)?;
            for flow in &batch.flows {
                let record = &flow.record;
                let (first_us, last_us) = (record.first_seen.as_micros_i64(), record.last_seen.as_micros_i64());
                let key = app_key(record.uid, record.app.as_deref());
                insert_flow(&mut statement, record, &key, &flow.evidence)?;
                let (bytes_out, bytes_in) = (count(record.bytes_out), count(record.bytes_in));
                let app = apps.entry(key.clone()).or_default();
                widen(&mut app.first_us, &mut app.last_us, app.flows + app.alerts == 0, first_us, last_us);
                app.uid = app.uid.or(record.uid);
                if app.app.is_none() {
                    app.app.clone_from(&record.app);
                }
                app.flows += 1;
                app.bytes_out = app.bytes_out.saturating_add(bytes_out);
                app.bytes_in = app.bytes_in.saturating_add(bytes_in);
                app.max_sev_rank = app.max_sev_rank.max(flow_severity_rank(record));
                let destination = destinations.entry((key, record.destination())).or_default();
                widen(&mut destination.first_us, &mut destination.last_us, destination.flows == 0, first_us, last_us);
                destination.flows += 1;
                destination.bytes_out = destination.bytes_out.saturating_add(bytes_out);
                destination.bytes_in = destination.bytes_in.saturating_add(bytes_in);
                destination.country = record.country.clone().or(destination.country.take());
                destination.asn = record.asn.or(destination.asn);
                destination.as_org = record.as_org.clone().or(destination.as_org.take());
            }
        }
        {
            let mut statement = transaction.prepare_cached(INSERT_ALERT)?;
            for alert in &batch.alerts {
                insert_alert(&mut statement, alert)?;
                let ts_us = alert.ts.as_micros_i64();
                let app = apps.entry(app_key(alert.uid, alert.app.as_deref())).or_default();
                widen(&mut app.first_us, &mut app.last_us, app.flows + app.alerts == 0, ts_us, ts_us);
                app.uid = app.uid.or(alert.uid);
                if app.app.is_none() {
                    app.app.clone_from(&alert.app);
                }
                app.alerts += 1;
                app.max_sev_rank = app.max_sev_rank.max(Some(alert.severity as i64));
            }
        }
        {
            let mut statement = transaction
                .prepare_cached("INSERT INTO packets (ts_us, app_key, uid, app, data) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for packet in &batch.packets {
                let key = app_key(packet.uid, packet.app.as_deref());
                statement.execute(params![packet.ts_us, key, packet.uid, packet.app, packet.data])?;
            }
        }
        {
            let mut statement = transaction.prepare_cached(
                "INSERT INTO apps (app_key, uid, app, flows, bytes_out, bytes_in, alerts, max_sev_rank, first_us, last_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (app_key) DO UPDATE SET uid = coalesce(excluded.uid, uid), app = coalesce(excluded.app, app),
                 flows = flows + excluded.flows, bytes_out = bytes_out + excluded.bytes_out,
                 bytes_in = bytes_in + excluded.bytes_in, alerts = alerts + excluded.alerts,
                 max_sev_rank = max(max_sev_rank, excluded.max_sev_rank), first_us = min(first_us, excluded.first_us),
                 last_us = max(last_us, excluded.last_us)",
            )?;
            for (key, app) in &apps {
                statement.execute(params![
                    key,
                    app.uid,
                    app.app,
                    app.flows,
                    app.bytes_out,
                    app.bytes_in,
                    app.alerts,
                    app.max_sev_rank.unwrap_or(-1),
                    app.first_us,
                    app.last_us
                ])?;
            }
        }
        for seen in &batch.first_seen {
            let key = app_key(seen.uid, seen.app.as_deref());
            let destination = destinations.entry((key, seen.destination.clone())).or_default();
            let fresh = destination.flows == 0 && destination.first_us == 0 && destination.last_us == 0;
            widen(&mut destination.first_us, &mut destination.last_us, fresh, seen.seen_us, seen.seen_us);
        }
        {
            let mut statement = transaction.prepare_cached(
                "INSERT INTO destinations (app_key, destination, first_us, last_us, flows, bytes_out, bytes_in, country,
                 asn, as_org) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (app_key, destination) DO UPDATE SET first_us = min(first_us, excluded.first_us),
                 last_us = max(last_us, excluded.last_us), flows = flows + excluded.flows,
                 bytes_out = bytes_out + excluded.bytes_out, bytes_in = bytes_in + excluded.bytes_in,
                 country = coalesce(excluded.country, country), asn = coalesce(excluded.asn, asn),
                 as_org = coalesce(excluded.as_org, as_org)",
            )?;
            for ((key, destination), totals) in &destinations {
                statement.execute(params![
                    key,
                    destination,
                    totals.first_us,
                    totals.last_us,
                    totals.flows,
                    totals.bytes_out,
                    totals.bytes_in,
                    totals.country,
                    totals.asn,
                    totals.as_org
                ])?;
            }
        }
        transaction.commit()?;
        let shared = &self.shared;
        shared.flows.fetch_add(batch.flows.len() as u64, Ordering::Relaxed);
        shared.alerts.fetch_add(batch.alerts.len() as u64, Ordering::Relaxed);
        shared.packets.fetch_add(batch.packets.len() as u64, Ordering::Relaxed);
        shared.batches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn pragma(&self, name: &str) -> rusqlite::Result<i64> {
        self.connection.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
    }

    /// Bytes held by live pages (free pages are reused before the file grows).
    fn live_bytes(&self) -> rusqlite::Result<i64> {
        Ok((self.pragma("page_count")? - self.pragma("freelist_count")?) * self.page_size)
    }

    /// Removes the oldest records first if the batch would take the database past its high-water mark.
    fn make_room(&mut self, incoming: i64) -> Result<(), StoreError> {
        let high_water = self.budget.high_water;
        if self.live_bytes()?.saturating_add(incoming) > high_water {
            self.remove_oldest_until(self.budget.low_water.min(high_water.saturating_sub(incoming)))?;
        }
        Ok(())
    }

    /// Retention by age, then by size, then the WAL bound.
    fn enforce_bounds(&mut self) -> Result<(), StoreError> {
        if let Some(age) = self.retention_age_us {
            self.remove_older_than_newest_by(age)?;
        }
        if self.live_bytes()? > self.budget.high_water {
            self.remove_oldest_until(self.budget.low_water)?;
        }
        let wal_bytes = std::fs::metadata(&self.wal_path).map_or(0, |m| m.len());
        if i64::try_from(wal_bytes).unwrap_or(i64::MAX) > self.budget.wal_bytes {
            // A reader can hold the checkpoint back; the next batch tries again.
            self.connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Age is measured back from the newest record, so analysing an old capture does not erase it at once.
    /// Records dated past tomorrow (a capture from a device with a wrong clock, a corrupt timestamp) do not
    /// count as the newest: one of them would otherwise erase everything else.
    fn remove_older_than_newest_by(&mut self, age_us: i64) -> Result<(), StoreError> {
        let plausible_until = i64::try_from(
            (SystemTime::now() + FUTURE_TOLERANCE).duration_since(UNIX_EPOCH).unwrap_or_default().as_micros(),
        )
        .unwrap_or(i64::MAX);
        let newest: Option<i64> = self.connection.query_row(
            "SELECT max(ts) FROM (SELECT max(ts_us) AS ts FROM flows WHERE ts_us <= ?1
             UNION ALL SELECT max(ts_us) FROM alerts WHERE ts_us <= ?1
             UNION ALL SELECT max(ts_us) FROM packets WHERE ts_us <= ?1)",
            [plausible_until],
            |row| row.get(0),
        )?;
        let Some(newest) = newest else { return Ok(()) };
        let cutoff = newest.saturating_sub(age_us);
        let transaction = self.connection.transaction()?;
        let mut removed = 0;
        for table in RECORD_TABLES {
            removed += transaction.execute(&format!("DELETE FROM {table} WHERE ts_us < ?1"), [cutoff])?;
        }
        transaction.execute("DELETE FROM destinations WHERE last_us < ?1", [cutoff])?;
        transaction.commit()?;
        self.shared.removed.fetch_add(removed as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Removes the oldest records, about a sixteenth of each table per round, until live pages fit `target`.
    fn remove_oldest_until(&mut self, target: i64) -> Result<(), StoreError> {
        while self.live_bytes()? > target {
            let transaction = self.connection.transaction()?;
            let mut cutoff: Option<i64> = None;
            for table in RECORD_TABLES {
                // max(id) - min(id) estimates the row count without a full scan.
                let rows: Option<i64> =
                    transaction
                        .query_row(&format!("SELECT max(id) - min(id) + 1 FROM {table}"), [], |row| row.get(0))?;
                let Some(rows) = rows else { continue };
                let candidate: Option<i64> = transaction
                    .query_row(
                        &format!("SELECT ts_us FROM {table} ORDER BY ts_us LIMIT 1 OFFSET ?1"),
                        [rows / 16],
                        |row| row.get(0),
                    )
                    .or_else(|error| match error {
                        rusqlite::Error::QueryReturnedNoRows => {
                            transaction.query_row(&format!("SELECT max(ts_us) FROM {table}"), [], |row| row.get(0))
                        }
                        error => Err(error),
                    })?;
                cutoff = match (cutoff, candidate) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            let Some(cutoff) = cutoff else { return Ok(()) };
            let mut removed = 0;
            for table in RECORD_TABLES {
                removed += transaction.execute(&format!("DELETE FROM {table} WHERE ts_us <= ?1"), [cutoff])?;
            }
            // Under size pressure first-seen memory goes too, or unique names (DNS tunnels) would fill the disk.
            transaction.execute("DELETE FROM destinations WHERE last_us <= ?1", [cutoff])?;
            transaction.commit()?;
            self.shared.removed.fetch_add(removed as u64, Ordering::Relaxed);
            if removed == 0 {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// See [`Batch::estimated_bytes`]; measured rows take 350 to 600 bytes.
const RECORD_BYTES: i64 = 1024;

/// How far past the wall clock a record may be dated and still count as the newest for retention by age.
const FUTURE_TOLERANCE: Duration = Duration::from_secs(24 * 3600);

/// Tables of timestamped records that retention trims (aggregates outlive them).
const RECORD_TABLES: [&str; 3] = ["flows", "alerts", "packets"];
