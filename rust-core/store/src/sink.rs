//! The writing handle the engine holds: never blocks the packet path, drops and counts when the writer lags.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

use lru::LruCache;
use phonehome_engine::judge::DestinationMemory;
use phonehome_engine::FlowSink;
use phonehome_model::{AlertRecord, FlowRecord, Timestamp};
use rusqlite::{Connection, OptionalExtension};

use crate::writer::{FirstSeenMsg, FlowMsg, Msg, PacketMsg, Shared};
use crate::{app_key, schema, StoreConfig, StoreError};

/// What the store has done so far.
#[derive(Clone, Debug, Default)]
pub struct StoreStats {
    /// Records dropped because the writer's queue was full.
    pub dropped: u64,
    /// Flows committed.
    pub flows: u64,
    /// Alerts committed.
    pub alerts: u64,
    /// Packets committed.
    pub packets: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Records removed by retention (age or size).
    pub removed_by_retention: u64,
    /// Why writing stopped, if it did.
    pub failure: Option<Arc<StoreError>>,
}

/// Sends records to the store's writer thread; implements the engine's [`FlowSink`].
pub struct StoreSink {
    sender: SyncSender<Msg>,
    shared: Arc<Shared>,
    reader: Connection,
    seen: LruCache<(String, String), ()>,
    /// Every known (app, destination) is in `seen`: a miss is new without asking the database, so
    /// first-contact checks never wait for SQLite on the packet path while the table fits in memory.
    seen_complete: bool,
    keep_packets: bool,
    wait_when_full: bool,
}

impl StoreSink {
    pub(crate) fn new(
        path: &Path,
        config: &StoreConfig,
        sender: SyncSender<Msg>,
        shared: Arc<Shared>,
    ) -> Result<StoreSink, StoreError> {
        let capacity = NonZeroUsize::new(config.seen_cache_entries).unwrap_or(NonZeroUsize::MIN);
        let reader = schema::open_for_reading(path)?;
        let mut seen = LruCache::new(capacity);
        let known: Vec<(String, String)> = reader
            .prepare("SELECT app_key, destination FROM destinations ORDER BY last_us DESC LIMIT ?1")?
            .query_map([i64::try_from(capacity.get()).unwrap_or(i64::MAX).saturating_add(1)], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let seen_complete = known.len() <= capacity.get();
        for key in known.into_iter().take(capacity.get()) {
            seen.put(key, ());
        }
        Ok(StoreSink {
            sender,
            shared,
            reader,
            seen,
            seen_complete,
            keep_packets: config.keep_packets,
            wait_when_full: config.wait_when_full,
        })
    }

    /// Queues a finished flow with the evidence lines of its alerts (one line each).
    pub fn record_flow(&mut self, record: FlowRecord, evidence: &[String]) {
        let msg = FlowMsg { record, evidence: evidence.join("\n") };
        self.send(Msg::Flow(Box::new(msg)));
    }

    /// Queues an alert.
    pub fn record_alert(&mut self, alert: AlertRecord) {
        self.send(Msg::Alert(Box::new(alert)));
    }

    /// Queues a raw IP packet for pcapng export (ignored unless the store keeps packets).
    pub fn record_packet(&mut self, ts: Timestamp, uid: Option<u32>, app: Option<&str>, data: &[u8]) {
        if self.keep_packets && !self.shared.has_failed() {
            let packet = PacketMsg { ts_us: ts.as_micros_i64(), uid, app: app.map(str::to_owned), data: data.to_vec() };
            self.send(Msg::Packet(Box::new(packet)));
        }
    }

    /// Whether this app has never reached `destination` (across restarts); remembers it from now on.
    /// Asks the database once per new (app, destination): call it per new flow, not per packet.
    pub fn is_new_destination(
        &mut self,
        uid: Option<u32>,
        app: Option<&str>,
        destination: &str,
        seen: Timestamp,
    ) -> bool {
        let key = (app_key(uid, app), destination.to_owned());
        if self.seen.get(&key).is_some() {
            return false;
        }
        let known = if self.seen_complete {
            Ok(None)
        } else {
            self.reader
                .query_row(
                    "SELECT 1 FROM destinations WHERE app_key = ?1 AND destination = ?2",
                    [&key.0, &key.1],
                    |_| Ok(()),
                )
                .optional()
        };
        let is_new = match known {
            Ok(found) => found.is_none(),
            Err(error) => {
                // Unknown is not new: a broken store must not raise an alert per flow.
                log::warn!("store: first-seen lookup failed: {error}");
                false
            }
        };
        if is_new {
            let msg = FirstSeenMsg {
                uid,
                app: app.map(str::to_owned),
                destination: key.1.clone(),
                seen_us: seen.as_micros_i64(),
            };
            self.send(Msg::FirstSeen(Box::new(msg)));
        }
        // An entry pushed out of the cache makes it incomplete: later misses must ask the database.
        self.seen_complete &= self.seen.push(key, ()).is_none();
        is_new
    }

    /// Waits until everything queued so far is committed (not for the packet path).
    pub fn flush(&self) -> Result<(), Arc<StoreError>> {
        if let Some(failure) = self.shared.failure() {
            return Err(failure);
        }
        let (ack, done) = sync_channel(1);
        self.sender.send(Msg::Flush(ack)).map_err(|_| Arc::new(StoreError::Closed))?;
        done.recv().map_err(|_| Arc::new(StoreError::Closed))?
    }

    /// Counters and the failure, if writing stopped.
    pub fn stats(&self) -> StoreStats {
        self.shared.stats()
    }

    fn send(&self, msg: Msg) {
        if self.shared.has_failed() {
            return;
        }
        match self.sender.try_send(msg) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            // A disconnected writer has failed or stopped: its failure is in the stats.
            Err(TrySendError::Full(msg)) if self.wait_when_full => drop(self.sender.send(msg)),
            Err(TrySendError::Full(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// First contacts remembered in the store, so `new_destination` survives restarts.
impl DestinationMemory for StoreSink {
    fn first_contact(&mut self, uid: Option<u32>, app: &str, destination: &str, ts: Timestamp) -> bool {
        self.is_new_destination(uid, Some(app), destination, ts)
    }
}

impl FlowSink for StoreSink {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
        // Evidence is one line per alert: newlines inside one would split it when read back.
        let evidence: Vec<String> = alerts.iter().map(|alert| alert.evidence.replace(['\r', '\n'], " ")).collect();
        self.record_flow(record, &evidence);
        for alert in alerts {
            self.record_alert(alert);
        }
    }
}
