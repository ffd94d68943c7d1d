//! The live monitor: the forwarding stack with the analysis above it. Each packet the stack decodes is analysed
//! from that same parse on the stack thread; flows get their owner's uid and app name once; finished flows go to
//! the store, alerts (and, for the CLI, flows) to a listener; the app polls a live view of ongoing and latest
//! finished flows. The Linux CLI (`phonehome run`) and the Android FFI start the same `Monitor`; platform
//! specifics (protection, owner look-up, app names) come in through traits.

mod analysis;
mod rules;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use phonehome_engine::judge::JudgeSettings;
use phonehome_engine::{AlertRecord, Analyzer, AnalyzerConfig, AnalyzerStats, FlowRecord, Judge};
use phonehome_stack::{OwnerResolver, RunningStack, SocketProtector, Stack, StackConfig, StackStats, UpstreamDns};
use phonehome_store::{Store, StoreConfig};

use analysis::{Analysis, Event, Outlet, Published};
pub use rules::BlockRules;
use rules::CompiledRules;

/// Everything a monitor needs, in one record (one FFI call, no long argument lists).
#[derive(Debug)]
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
    /// New flows to refuse (empty: none); [`Monitor::set_block_rules`] replaces them while running.
    pub block: BlockRules,
    /// Imported tracker, malware, telemetry and custom lists: their hits raise alerts (they block nothing).
    pub alert_lists: phonehome_intel::ListSet,
}

/// uid → app name (Android: package label; Linux: user name).
pub trait AppNames: Send + Sync {
    fn app_name(&self, uid: u32) -> Option<String>;
}

/// Told of each alert as it is raised (and, if it wants them, of each finished flow), on the monitor's events
/// thread: never on the packet path, but it should still be quick.
pub trait EventListener: Send {
    fn on_alert(&mut self, alert: &AlertRecord);

    /// Every finished flow, when [`EventListener::wants_flows`] says so.
    fn on_flow(&mut self, flow: &FlowRecord) {
        let _ = flow;
    }

    /// Whether [`EventListener::on_flow`] should be called (the app reads flows from the live view and the
    /// store instead).
    fn wants_flows(&self) -> bool {
        false
    }
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
    #[error("invalid block rule: {0:?}")]
    BlockRule(String),
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
    /// Finished flows and alerts the listener never saw because it was behind.
    pub events_dropped: u64,
    /// Records the store dropped because its writer was behind.
    pub store_dropped: u64,
    /// Why the store stopped writing, if it did (forwarding goes on regardless).
    pub store_failure: Option<Arc<phonehome_store::StoreError>>,
}

/// What is going on now: the flows still open (the most recently active first, with their counters, app, host,
/// country and the severity of what was found so far) and the latest finished flows (newest first). Refreshed
/// once a second; bounded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveView {
    pub ongoing: Vec<FlowRecord>,
    pub finished: Vec<FlowRecord>,
}

/// Events waiting for the listener; past it they are dropped and counted rather than slow the stack.
const EVENT_QUEUE: usize = 65_536;

/// The events thread: hands each event to the listener.
fn deliver(events: Receiver<Event>, mut listener: Box<dyn EventListener>) {
    for event in events {
        match event {
            Event::Flow(flow) => listener.on_flow(&flow),
            Event::Alert(alert) => listener.on_alert(&alert),
        }
    }
}

/// A panic while holding a lock leaves counters at worst half-updated: keep monitoring.
pub(crate) fn relock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The engine's judge for `config`'s settings; its watchlist, identifiers and alert lists move into the judge.
fn judge(config: &mut MonitorConfig) -> Result<Judge, MonitorError> {
    let settings = JudgeSettings {
        watchlist: std::mem::take(&mut config.watchlist),
        identifiers_toml: config.identifiers_toml.take(),
        scan_bytes: config.analyzer.client_bytes,
        alert_new_destinations: config.alert_new_destinations,
    };
    Ok(Judge::from_settings(&settings, std::mem::take(&mut config.alert_lists))?)
}

/// A running monitor; stop it to flush every open flow.
pub struct Monitor {
    stack: RunningStack,
    store: Option<Store>,
    published: Arc<Mutex<Published>>,
    events: JoinHandle<()>,
    /// The blocking rules the analysis reads for each new flow.
    rules: Arc<RwLock<CompiledRules>>,
    /// The resolver the stack forwards the virtual DNS address to.
    upstream_dns: UpstreamDns,
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
        let mut config = config;
        let rules = Arc::new(RwLock::new(CompiledRules::new(&config.block)?));
        let mut judge = judge(&mut config)?;
        // The live monitor must never wait for the disk: a full queue drops records and counts them.
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
        let (events_tx, events_rx) = sync_channel(EVENT_QUEUE);
        let send_flows = listener.wants_flows();
        let events =
            std::thread::Builder::new()
                .name("ph-events".into())
                .spawn(move || deliver(events_rx, listener))
                .map_err(|source| phonehome_stack::StackError::Io { what: "spawning the events thread", source })?;
        let published = Arc::new(Mutex::new(Published::default()));
        let analysis = Analysis {
            analyzer: Analyzer::with_judge(config.analyzer, judge),
            outlet: Outlet {
                events: events_tx,
                send_flows,
                store: store_sink,
                finished: VecDeque::new(),
                flows_finished: 0,
                alerts: 0,
                events_dropped: 0,
            },
            pcap,
            names,
            name_cache: HashMap::new(),
            rules: Arc::clone(&rules),
            published: Arc::clone(&published),
        };
        let upstream_dns = config.stack.upstream_dns.clone();
        let stack = Stack::new(config.stack, tun, protector, resolver, Box::new(analysis))?.spawn()?;
        Ok(Monitor { stack, store, published, events, rules, upstream_dns })
    }

    /// Replaces the blocking rules; new flows follow them at once, open ones go on.
    pub fn set_block_rules(&self, rules: &BlockRules) -> Result<(), MonitorError> {
        let compiled = CompiledRules::new(rules)?;
        *self.rules.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = compiled;
        Ok(())
    }

    /// Forwards new DNS flows to `resolver` (the network underneath changed); open ones keep theirs.
    pub fn set_upstream_dns(&self, resolver: SocketAddr) {
        self.upstream_dns.set(resolver);
    }

    /// The resolver new DNS flows go to.
    pub fn upstream_dns(&self) -> SocketAddr {
        self.upstream_dns.get()
    }

    pub fn stats(&self) -> MonitorStats {
        let store = self.store.as_ref().map(Store::stats).unwrap_or_default();
        stats(self.stack.handle().stats(), &relock(&self.published), store)
    }

    /// Ongoing and latest finished flows, as of the last second.
    pub fn live_view(&self) -> LiveView {
        relock(&self.published).live.clone()
    }

    /// Stops forwarding, finishes every open flow (the listener, the live view and the store see them), flushes
    /// the capture and the store; returns the final counters and the final live view. A failed capture or store
    /// is reported in the result, never by a panic.
    pub fn stop(self) -> Result<(MonitorStats, LiveView), MonitorError> {
        // The stack thread finishes the analysis, then drops it, which ends the events queue.
        let stack_stats = self.stack.stop()?;
        self.events.join().map_err(|_| MonitorError::Panicked)?;
        let mut published = std::mem::take(&mut *relock(&self.published));
        if let Some(error) = published.pcap_error.take() {
            return Err(error.into());
        }
        // What was committed before a failure stays in the store; forwarding went on regardless.
        let store = self.store.map(Store::close).unwrap_or_default();
        let live = std::mem::take(&mut published.live);
        Ok((stats(stack_stats, &published, store), live))
    }
}

fn stats(stack: StackStats, published: &Published, store: phonehome_store::StoreStats) -> MonitorStats {
    MonitorStats {
        stack,
        analyzer: published.analyzer,
        flows_finished: published.flows_finished,
        alerts: published.alerts,
        events_dropped: published.events_dropped,
        store_dropped: store.dropped,
        store_failure: store.failure,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use phonehome_engine::FlowSink;

    use super::*;

    /// Finished flows and alerts, kept.
    #[derive(Default)]
    struct Collected {
        flows: Vec<FlowRecord>,
        alerts: Vec<AlertRecord>,
    }

    impl FlowSink for Collected {
        fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
            self.flows.push(record);
            self.alerts.extend(alerts);
        }
    }

    fn config_with(lists: phonehome_intel::ListSet) -> MonitorConfig {
        MonitorConfig {
            stack: StackConfig {
                mtu: 1500,
                virtual_dns: None,
                upstream_dns: "127.0.0.53:53".parse::<std::net::SocketAddr>().expect("addr").into(),
                limits: phonehome_stack::Limits::default(),
            },
            analyzer: AnalyzerConfig::default(),
            identifiers_toml: None,
            watchlist: Vec::new(),
            alert_new_destinations: false,
            store: None,
            keep_packets: false,
            block: BlockRules::default(),
            alert_lists: lists,
        }
    }

    /// The alerts of one UDP datagram from the phone to `server`, judged with `config`'s settings.
    fn alerts_of_datagram_to(server: [u8; 4], mut config: MonitorConfig) -> Vec<AlertRecord> {
        let judge = judge(&mut config).expect("judge");
        let mut analyzer = Analyzer::with_judge(config.analyzer, judge);
        let mut packet = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 2], server, 64)
            .udp(40_000, 4_000)
            .write(&mut packet, b"hello")
            .expect("packet");
        let mut sink = Collected::default();
        analyzer.process_ip(phonehome_engine::Timestamp(Duration::from_secs(1)), &packet, &mut sink);
        analyzer.finish(&mut sink);
        assert_eq!(sink.flows.len(), 1, "one flow");
        sink.alerts
    }

    #[test]
    fn list_hits_of_the_configured_lists_raise_alerts() {
        let mut lists = phonehome_intel::ListSet::new();
        let info = phonehome_intel::ListInfo::new("bad networks", phonehome_intel::ListCategory::Malware);
        lists.import_text(info, "# C2 hosting\n192.0.2.0/24\n").expect("import");
        let alerts = alerts_of_datagram_to([192, 0, 2, 9], config_with(lists));
        let kinds: Vec<_> = alerts.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, [phonehome_intel::AlertKind::Malware], "{alerts:?}");
        assert!(alerts.iter().all(|a| a.evidence.contains("bad networks")), "{alerts:?}");
        let unlisted = alerts_of_datagram_to([198, 51, 100, 9], config_with(phonehome_intel::ListSet::new()));
        assert!(unlisted.iter().all(|a| a.kind != phonehome_intel::AlertKind::Malware), "{unlisted:?}");
    }
}
