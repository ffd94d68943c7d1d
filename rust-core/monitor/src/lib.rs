//! The live monitor: every packet the forwarding stack moves across the tun is analysed by the engine, flows
//! get their owner's uid and app name, and finished flows and alerts reach a listener and a recent-history
//! ring. The Linux CLI (`phonehome run`) and the Android FFI start the same `Monitor`; platform specifics
//! (protection, owner lookup, app names) come in through traits.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use phonehome_engine::judge::JudgeSettings;
use phonehome_engine::{
    AlertRecord, Analyzer, AnalyzerConfig, AnalyzerStats, FlowKey, FlowRecord, FlowSink, Judge, Owner, Proto,
};
use phonehome_stack::{OwnerResolver, PacketObserver, RunningStack, SocketProtector, Stack, StackConfig, StackStats};
use phonehome_store::{Store, StoreConfig, StoreSink};

/// Finished flows and alerts kept in memory for the app's views (older ones live in the store).
const RECENT_CAPACITY: usize = 5_000;
/// How often idle flows are finished when packets stop arriving.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Everything a monitor needs, in one record (one FFI call, no long argument lists).
#[derive(Clone, Debug)]
pub struct MonitorConfig {
    pub stack: StackConfig,
    pub analyzer: AnalyzerConfig,
    /// Identifiers to search for, in the TOML of `phonehome analyze --ids`.
    pub identifiers_toml: Option<String>,
    /// Watched countries (ISO 3166 alpha-2).
    pub watchlist: Vec<String>,
    pub alert_new_destinations: bool,
    /// Keep flows and alerts in this store (and first contacts, so `new_destination` survives restarts).
    pub store: Option<PathBuf>,
    /// Also keep every packet in the store, with its app, for pcapng export.
    pub keep_packets: bool,
}

/// uid → app name (Android: package label; Linux: user name).
pub trait AppNames: Send + Sync {
    fn app_name(&self, uid: u32) -> Option<String>;
}

/// Told of each finished flow and each alert, on the engine's threads: must be quick.
pub trait EventListener: Send {
    fn on_flow(&mut self, flow: &FlowRecord);
    fn on_alert(&mut self, alert: &AlertRecord);
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(transparent)]
    Settings(#[from] phonehome_engine::judge::JudgeError),
    #[error(transparent)]
    Stack(#[from] phonehome_stack::StackError),
    #[error("cannot write the packet capture: {0}")]
    Pcap(#[from] pcap_file::PcapError),
    #[error(transparent)]
    Store(#[from] phonehome_store::StoreError),
    #[error("a monitor thread panicked")]
    Panicked,
}

/// Counters of a running monitor.
#[derive(Clone, Debug, Default)]
pub struct MonitorStats {
    pub stack: StackStats,
    pub analyzer: AnalyzerStats,
    pub flows_finished: u64,
    pub alerts: u64,
    /// Records the store dropped because its writer was behind.
    pub store_dropped: u64,
    /// Why the store stopped writing, if it did (forwarding goes on regardless).
    pub store_failure: Option<Arc<phonehome_store::StoreError>>,
}

/// What the packet thread and the sweeper share.
struct Shared {
    analyzer: Analyzer,
    sink: Outlet,
    names: Box<dyn AppNames>,
    /// App names already asked for: the platform look-up may be slow (a JNI call on Android).
    name_cache: HashMap<u32, Option<String>>,
    pcap: Option<PcapNgWriter<Box<dyn Write + Send>>>,
}

/// Where finished flows and alerts go: the listener and the recent-history rings.
struct Outlet {
    listener: Box<dyn EventListener>,
    store: Option<StoreSink>,
    recent_flows: VecDeque<FlowRecord>,
    recent_alerts: VecDeque<AlertRecord>,
    flows_finished: u64,
    alerts: u64,
}

impl FlowSink for Outlet {
    fn flow_ended(&mut self, record: FlowRecord) {
        self.listener.on_flow(&record);
        if let Some(store) = &mut self.store {
            store.flow_ended(record.clone());
        }
        self.flows_finished += 1;
        push_bounded(&mut self.recent_flows, record);
    }

    fn alert(&mut self, alert: AlertRecord) {
        self.listener.on_alert(&alert);
        if let Some(store) = &mut self.store {
            store.alert(alert.clone());
        }
        self.alerts += 1;
        push_bounded(&mut self.recent_alerts, alert);
    }
}

fn push_bounded<T>(ring: &mut VecDeque<T>, item: T) {
    if ring.len() == RECENT_CAPACITY {
        ring.pop_front();
    }
    ring.push_back(item);
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock leaves counters at worst half-updated: keep monitoring.
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// The stack's view into the engine.
struct Observer {
    shared: Arc<Mutex<Shared>>,
}

impl PacketObserver for Observer {
    fn on_packet(&mut self, ts: Duration, ip_packet: &[u8]) {
        let mut shared = lock(&self.shared);
        let Shared { analyzer, sink, pcap, .. } = &mut *shared;
        let owner = analyzer.process_ip(phonehome_engine::Timestamp(ts), ip_packet, sink);
        if let Some(store) = &mut sink.store {
            let ts_us = i64::try_from(ts.as_micros()).unwrap_or(i64::MAX);
            store.record_packet(ts_us, owner.map(|o| o.uid), owner.and_then(|o| o.app.as_deref()), ip_packet);
        }
        if let Some(writer) = pcap {
            let block = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: ts,
                original_len: u32::try_from(ip_packet.len()).unwrap_or(u32::MAX),
                data: ip_packet.into(),
                options: Vec::new(),
            };
            if let Err(error) = writer.write_pcapng_block(block) {
                log::warn!("packet capture stopped: {error}");
                *pcap = None;
            }
        }
    }

    fn on_owner(&mut self, proto: u8, client: SocketAddr, server: SocketAddr, uid: u32) {
        let proto = match proto {
            phonehome_stack::proto::TCP => Proto::Tcp,
            phonehome_stack::proto::UDP => Proto::Udp,
            _ => Proto::Icmp,
        };
        // The engine keys ICMP echo flows by the echo identifier on both sides.
        let server = if proto == Proto::Icmp { SocketAddr::new(server.ip(), client.port()) } else { server };
        let mut shared = lock(&self.shared);
        let Shared { names, name_cache, analyzer, .. } = &mut *shared;
        let app = name_cache.entry(uid).or_insert_with(|| names.app_name(uid)).clone();
        analyzer.set_owner(&FlowKey { proto, client, server }, Owner { uid, app });
    }
}

/// A running monitor; stop it to flush every open flow.
pub struct Monitor {
    stack: RunningStack,
    store: Option<Store>,
    shared: Arc<Mutex<Shared>>,
    sweeping: Arc<AtomicBool>,
    sweeper: JoinHandle<()>,
}

impl Monitor {
    /// Starts forwarding and analysing the tun's traffic. `pcap` receives what crosses the tun as pcapng.
    pub fn start(
        config: MonitorConfig,
        tun: OwnedFd,
        protector: Box<dyn SocketProtector>,
        resolver: Box<dyn OwnerResolver>,
        names: Box<dyn AppNames>,
        listener: Box<dyn EventListener>,
        pcap: Option<Box<dyn Write + Send>>,
    ) -> Result<Monitor, MonitorError> {
        let settings = JudgeSettings {
            watchlist: config.watchlist,
            identifiers_toml: config.identifiers_toml,
            scan_bytes: config.analyzer.client_bytes,
            alert_new_destinations: config.alert_new_destinations,
        };
        let mut judge = Judge::from_settings(&settings, phonehome_intel::ListSet::new())?;
        // The live engine must never wait for the disk: a full queue drops records and counts them.
        let store_config = StoreConfig { keep_packets: config.keep_packets, ..StoreConfig::default() };
        let store = config.store.as_ref().map(|path| Store::open(path, store_config)).transpose()?;
        let store_sink = match &store {
            Some(store) => {
                judge.remember_destinations_in(Box::new(store.sink()?));
                Some(store.sink()?)
            }
            None => None,
        };
        let pcap = match pcap {
            Some(out) => {
                let mut writer = PcapNgWriter::new(out)?;
                writer.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::RAW, 0))?;
                Some(writer)
            }
            None => None,
        };
        let shared = Arc::new(Mutex::new(Shared {
            analyzer: Analyzer::with_judge(config.analyzer, judge),
            sink: Outlet {
                listener,
                store: store_sink,
                recent_flows: VecDeque::new(),
                recent_alerts: VecDeque::new(),
                flows_finished: 0,
                alerts: 0,
            },
            names,
            name_cache: HashMap::new(),
            pcap,
        }));
        let observer = Box::new(Observer { shared: Arc::clone(&shared) });
        let stack = Stack::new(config.stack, tun, protector, resolver, observer)?.spawn()?;
        let sweeping = Arc::new(AtomicBool::new(true));
        let sweeper = {
            let (shared, sweeping) = (Arc::clone(&shared), Arc::clone(&sweeping));
            std::thread::Builder::new()
                .name("ph-sweep".into())
                .spawn(move || {
                    while sweeping.load(Ordering::Relaxed) {
                        std::thread::park_timeout(SWEEP_INTERVAL);
                        let mut shared = lock(&shared);
                        let Shared { analyzer, sink, .. } = &mut *shared;
                        analyzer.sweep(phonehome_engine::Timestamp(now()), sink);
                    }
                })
                .map_err(|source| phonehome_stack::StackError::Io { what: "spawning the sweeper", source })?
        };
        Ok(Monitor { stack, store, shared, sweeping, sweeper })
    }

    pub fn stats(&self) -> MonitorStats {
        let shared = lock(&self.shared);
        MonitorStats {
            stack: self.stack.handle().stats(),
            analyzer: shared.analyzer.stats(),
            flows_finished: shared.sink.flows_finished,
            alerts: shared.sink.alerts,
            store_dropped: self.store.as_ref().map_or(0, |store| store.stats().dropped),
            store_failure: self.store.as_ref().and_then(|store| store.stats().failure),
        }
    }

    /// The latest finished flows, newest last.
    pub fn recent_flows(&self, limit: usize) -> Vec<FlowRecord> {
        let shared = lock(&self.shared);
        let skip = shared.sink.recent_flows.len().saturating_sub(limit);
        shared.sink.recent_flows.iter().skip(skip).cloned().collect()
    }

    /// The latest alerts, newest last.
    pub fn recent_alerts(&self, limit: usize) -> Vec<AlertRecord> {
        let shared = lock(&self.shared);
        let skip = shared.sink.recent_alerts.len().saturating_sub(limit);
        shared.sink.recent_alerts.iter().skip(skip).cloned().collect()
    }

    /// Stops forwarding, finishes every open flow (listener and rings see them) and flushes the capture.
    pub fn stop(self) -> Result<MonitorStats, MonitorError> {
        let stack_stats = self.stack.stop()?;
        self.sweeping.store(false, Ordering::Relaxed);
        self.sweeper.thread().unpark();
        self.sweeper.join().map_err(|_| MonitorError::Panicked)?;
        let mut shared = lock(&self.shared);
        let Shared { analyzer, sink, pcap, .. } = &mut *shared;
        analyzer.finish(sink);
        if let Some(writer) = pcap.take() {
            writer.into_inner().flush().map_err(pcap_file::PcapError::IoError)?;
        }
        let mut stats = MonitorStats {
            stack: stack_stats,
            analyzer: analyzer.stats(),
            flows_finished: sink.flows_finished,
            alerts: sink.alerts,
            store_dropped: 0,
            store_failure: None,
        };
        sink.store = None;
        drop(shared);
        if let Some(store) = self.store {
            let store_stats = store.close();
            // What was committed before a failure stays in the store; forwarding went on regardless.
            stats.store_dropped = store_stats.dropped;
            stats.store_failure = store_stats.failure;
        }
        Ok(stats)
    }
}
