//! The live monitor: every packet the forwarding stack moves across the tun is analysed by the engine, flows
//! get their owner's uid and app name, and finished flows and alerts reach a listener and a recent-history
//! ring. The Linux CLI (`phonehome run`) and the Android FFI start the same `Monitor`; platform specifics
//! (protection, owner lookup, app names) come in through traits.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
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
use phonehome_stack::{
    FlowPolicy, OwnerResolver, PacketObserver, RunningStack, SocketProtector, Stack, StackConfig, StackStats,
    UpstreamDns,
};
use phonehome_store::{Store, StoreConfig, StoreSink};

/// Finished flows and alerts kept in memory for the app's views (older ones live in the store).
const RECENT_CAPACITY: usize = 5_000;
/// How often idle flows are finished when packets stop arriving.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

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
    /// Imported tracker, malware, telemetry and custom lists: their hits raise alerts.
    pub lists: phonehome_intel::ListSet,
}

/// What to block: a new flow is refused when any rule matches it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockRules {
    /// Apps, by uid (a flow whose owner is not found in time is not blocked by these).
    pub apps: Vec<u32>,
    /// Domains and their subdomains, matched against the name the server's address was resolved from.
    pub domains: Vec<String>,
    /// Countries of the server's address (ISO 3166 alpha-2).
    pub countries: Vec<String>,
    /// Server networks as CIDR (`192.0.2.0/24`, `2001:db8::/32`) or single addresses.
    pub networks: Vec<String>,
}

impl BlockRules {
    /// True when nothing is blocked.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty() && self.domains.is_empty() && self.countries.is_empty() && self.networks.is_empty()
    }
}

/// [`BlockRules`] in the form checked once per new flow: normalised names, parsed networks.
#[derive(Debug)]
struct CompiledRules {
    apps: Vec<u32>,
    /// Lower case, without a trailing dot.
    domains: Vec<String>,
    /// Upper case.
    countries: Vec<String>,
    networks: Vec<ipnet::IpNet>,
}

/// A network rule: CIDR or a single address.
fn network_rule(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

/// A domain rule, lower case without a trailing dot; `None` when nothing is left.
fn domain_rule(text: &str) -> Option<String> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// A country rule: two letters, upper case.
fn country_rule(text: &str) -> Option<String> {
    let country = text.trim().to_ascii_uppercase();
    (country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())).then_some(country)
}

/// Every rule of `texts` through `rule`, or the first that does not parse as an error.
fn compile<T>(texts: &[String], rule: fn(&str) -> Option<T>) -> Result<Vec<T>, MonitorError> {
    texts.iter().map(|text| rule(text).ok_or_else(|| MonitorError::BlockRule(text.clone()))).collect()
}

impl BlockRules {
    /// These rules without the ones that cannot work, which come back apart (to be reported): for rules saved
    /// by an app, where one bad entry must not disable the others or keep the engine from starting.
    pub fn split_invalid(&self) -> (BlockRules, Vec<String>) {
        let mut invalid = Vec::new();
        let mut keep = |texts: &[String], valid: fn(&str) -> bool| -> Vec<String> {
            let (good, bad): (Vec<String>, Vec<String>) = texts.iter().cloned().partition(|text| valid(text));
            invalid.extend(bad);
            good
        };
        let networks = keep(&self.networks, |text| network_rule(text).is_some());
        let domains = keep(&self.domains, |text| domain_rule(text).is_some());
        let countries = keep(&self.countries, |text| country_rule(text).is_some());
        (BlockRules { apps: self.apps.clone(), domains, countries, networks }, invalid)
    }
}

impl CompiledRules {
    fn new(rules: &BlockRules) -> Result<CompiledRules, MonitorError> {
        Ok(CompiledRules {
            apps: rules.apps.clone(),
            domains: compile(&rules.domains, domain_rule)?,
            countries: compile(&rules.countries, country_rule)?,
            networks: compile(&rules.networks, network_rule)?,
        })
    }

    /// Whether flows to `server` are refused; `name` (the server's DNS name) is asked only for domain rules.
    fn refuses_destination(&self, server: IpAddr, name: impl FnOnce() -> Option<Arc<str>>) -> bool {
        self.networks.iter().any(|net| net.contains(&server))
            || (!self.countries.is_empty()
                && phonehome_ipdb::lookup(server).country.is_some_and(|cc| self.countries.iter().any(|c| c == cc)))
            || (!self.domains.is_empty() && name().is_some_and(|name| self.domains.iter().any(|d| in_domain(&name, d))))
    }

    /// Whether the flows of app `uid` are refused.
    fn refuses_app(&self, uid: Option<u32>) -> bool {
        uid.is_some_and(|uid| self.apps.contains(&uid))
    }
}

/// `name` is `domain` or one of its subdomains; `domain` is lower case without a trailing dot.
fn in_domain(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.');
    let Some(cut) = name.len().checked_sub(domain.len()) else { return false };
    let (head, tail) = (name.get(..cut), name.get(cut..));
    tail.is_some_and(|tail| tail.eq_ignore_ascii_case(domain)) && head.is_some_and(|h| h.is_empty() || h.ends_with('.'))
}

/// The stack's [`FlowPolicy`]: the rules (replaceable while running), with the analyzer's DNS names for
/// domain rules.
struct Blocker {
    rules: Arc<RwLock<CompiledRules>>,
    shared: Arc<Mutex<Shared>>,
}

impl Blocker {
    fn rules(&self) -> std::sync::RwLockReadGuard<'_, CompiledRules> {
        self.rules.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl FlowPolicy for Blocker {
    fn allows_destination(&self, _proto: u8, _client: SocketAddr, server: SocketAddr) -> bool {
        let name = || relock(&self.shared).analyzer.name_of(server.ip(), phonehome_engine::Timestamp(now()));
        !self.rules().refuses_destination(server.ip(), name)
    }

    fn allows(&self, _proto: u8, _client: SocketAddr, _server: SocketAddr, uid: Option<u32>) -> bool {
        !self.rules().refuses_app(uid)
    }
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

/// What the packet thread and the sweeper share. Nothing slow happens under its lock: listener calls run on
/// the events thread, app names are looked up before taking it, the store's sink never waits.
struct Shared {
    analyzer: Analyzer,
    sink: Outlet,
    pcap: Option<PcapNgWriter<Box<dyn Write + Send>>>,
    /// Why the packet capture stopped, reported by [`Monitor::stop`].
    pcap_error: Option<pcap_file::PcapError>,
}

/// A finished flow or an alert on its way to the listener and the recent-history rings.
enum Event {
    Flow(Box<FlowRecord>),
    Alert(Box<AlertRecord>),
}

/// Events waiting for the listener; past it they are dropped and counted rather than slow the engine.
const EVENT_QUEUE: usize = 65_536;

/// Where finished flows and alerts go from the packet path: the store's sink and the events queue.
struct Outlet {
    events: SyncSender<Event>,
    store: Option<StoreSink>,
    flows_finished: u64,
    alerts: u64,
    events_dropped: u64,
}

impl Outlet {
    fn send(&mut self, event: Event) {
        if let Err(TrySendError::Full(_)) = self.events.try_send(event) {
            self.events_dropped += 1;
        }
    }
}

impl FlowSink for Outlet {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
        if let Some(store) = &mut self.store {
            store.flow_ended(record.clone(), alerts.clone());
        }
        self.flows_finished += 1;
        self.send(Event::Flow(Box::new(record)));
        for alert in alerts {
            self.alerts += 1;
            self.send(Event::Alert(Box::new(alert)));
        }
    }
}

/// The latest finished flows and alerts, for the app's views.
#[derive(Default)]
struct Recent {
    flows: VecDeque<FlowRecord>,
    alerts: VecDeque<AlertRecord>,
}

fn push_bounded<T>(ring: &mut VecDeque<T>, item: T) {
    if ring.len() == RECENT_CAPACITY {
        ring.pop_front();
    }
    ring.push_back(item);
}

/// The events thread: hands each event to the listener, then keeps it in the rings.
fn deliver(events: Receiver<Event>, mut listener: Box<dyn EventListener>, recent: Arc<Mutex<Recent>>) {
    for event in events {
        match event {
            Event::Flow(flow) => {
                listener.on_flow(&flow);
                push_bounded(&mut relock(&recent).flows, *flow);
            }
            Event::Alert(alert) => {
                listener.on_alert(&alert);
                push_bounded(&mut relock(&recent).alerts, *alert);
            }
        }
    }
}

/// A panic while holding a lock leaves counters at worst half-updated: keep monitoring.
fn relock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// The stack's view into the engine; lives on the stack thread.
struct Observer {
    shared: Arc<Mutex<Shared>>,
    names: Box<dyn AppNames>,
    /// App names already asked for: the platform look-up may be slow (a JNI call on Android).
    name_cache: HashMap<u32, Option<String>>,
}

impl PacketObserver for Observer {
    fn on_packet(&mut self, ts: Duration, ip_packet: &[u8]) {
        let mut shared = relock(&self.shared);
        let Shared { analyzer, sink, pcap, pcap_error } = &mut *shared;
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
                *pcap_error = Some(error);
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
        let names = &self.names;
        let app = self.name_cache.entry(uid).or_insert_with(|| names.app_name(uid)).clone();
        relock(&self.shared).analyzer.set_owner(&FlowKey { proto, client, server }, Owner { uid, app });
    }
}

/// The engine's judge for `config`'s settings; its watchlist, identifiers and lists move into the judge.
fn judge(config: &mut MonitorConfig) -> Result<Judge, MonitorError> {
    let settings = JudgeSettings {
        watchlist: std::mem::take(&mut config.watchlist),
        identifiers_toml: config.identifiers_toml.take(),
        scan_bytes: config.analyzer.client_bytes,
        alert_new_destinations: config.alert_new_destinations,
    };
    Ok(Judge::from_settings(&settings, std::mem::take(&mut config.lists))?)
}

/// A running monitor; stop it to flush every open flow.
pub struct Monitor {
    stack: RunningStack,
    store: Option<Store>,
    shared: Arc<Mutex<Shared>>,
    recent: Arc<Mutex<Recent>>,
    sweeping: Arc<AtomicBool>,
    sweeper: JoinHandle<()>,
    events: JoinHandle<()>,
    /// The blocking rules the stack's policy reads.
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
        let (events_tx, events_rx) = sync_channel(EVENT_QUEUE);
        let recent = Arc::new(Mutex::new(Recent::default()));
        let events = {
            let recent = Arc::clone(&recent);
            std::thread::Builder::new()
                .name("ph-events".into())
                .spawn(move || deliver(events_rx, listener, recent))
                .map_err(|source| phonehome_stack::StackError::Io { what: "spawning the events thread", source })?
        };
        let shared = Arc::new(Mutex::new(Shared {
            analyzer: Analyzer::with_judge(config.analyzer, judge),
            sink: Outlet { events: events_tx, store: store_sink, flows_finished: 0, alerts: 0, events_dropped: 0 },
            pcap,
            pcap_error: None,
        }));
        let observer = Box::new(Observer { shared: Arc::clone(&shared), names, name_cache: HashMap::new() });
        let blocker = Blocker { rules: Arc::clone(&rules), shared: Arc::clone(&shared) };
        let upstream_dns = config.stack.upstream_dns.clone();
        let stack =
            Stack::new(config.stack, tun, protector, resolver, observer)?.with_policy(Box::new(blocker)).spawn()?;
        let sweeping = Arc::new(AtomicBool::new(true));
        let sweeper = {
            let (shared, sweeping) = (Arc::clone(&shared), Arc::clone(&sweeping));
            std::thread::Builder::new()
                .name("ph-sweep".into())
                .spawn(move || {
                    while sweeping.load(Ordering::Relaxed) {
                        std::thread::park_timeout(SWEEP_INTERVAL);
                        let mut shared = relock(&shared);
                        let Shared { analyzer, sink, .. } = &mut *shared;
                        analyzer.sweep(phonehome_engine::Timestamp(now()), sink);
                    }
                })
                .map_err(|source| phonehome_stack::StackError::Io { what: "spawning the sweeper", source })?
        };
        Ok(Monitor { stack, store, shared, recent, sweeping, sweeper, events, rules, upstream_dns })
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
        let shared = relock(&self.shared);
        let store = self.store.as_ref().map(Store::stats).unwrap_or_default();
        MonitorStats {
            stack: self.stack.handle().stats(),
            analyzer: shared.analyzer.stats(),
            flows_finished: shared.sink.flows_finished,
            alerts: shared.sink.alerts,
            events_dropped: shared.sink.events_dropped,
            store_dropped: store.dropped,
            store_failure: store.failure,
        }
    }

    /// The latest finished flows, newest last (the listener saw them first).
    pub fn recent_flows(&self, limit: usize) -> Vec<FlowRecord> {
        let recent = relock(&self.recent);
        recent.flows.iter().skip(recent.flows.len().saturating_sub(limit)).cloned().collect()
    }

    /// The latest alerts, newest last.
    pub fn recent_alerts(&self, limit: usize) -> Vec<AlertRecord> {
        let recent = relock(&self.recent);
        recent.alerts.iter().skip(recent.alerts.len().saturating_sub(limit)).cloned().collect()
    }

    /// Stops forwarding, finishes every open flow (the listener, the rings and the store see them), flushes
    /// the capture and the store. A failed capture or store is reported in the result, never by a panic.
    pub fn stop(self) -> Result<MonitorStats, MonitorError> {
        let stack_stats = self.stack.stop()?;
        self.sweeping.store(false, Ordering::Relaxed);
        self.sweeper.thread().unpark();
        self.sweeper.join().map_err(|_| MonitorError::Panicked)?;
        let Shared { mut analyzer, mut sink, pcap, pcap_error } =
            Arc::into_inner(self.shared).ok_or(MonitorError::Panicked)?.into_inner().unwrap_or_else(|e| e.into_inner());
        analyzer.finish(&mut sink);
        let Outlet { events, store: store_sink, flows_finished, alerts, events_dropped } = sink;
        drop(events); // the events thread drains what is queued, then ends
        self.events.join().map_err(|_| MonitorError::Panicked)?;
        if let Some(error) = pcap_error {
            return Err(error.into());
        }
        if let Some(writer) = pcap {
            writer.into_inner().flush().map_err(pcap_file::PcapError::IoError)?;
        }
        drop(store_sink);
        // What was committed before a failure stays in the store; forwarding went on regardless.
        let store = self.store.map(Store::close).unwrap_or_default();
        Ok(MonitorStats {
            stack: stack_stats,
            analyzer: analyzer.stats(),
            flows_finished,
            alerts,
            events_dropped,
            store_dropped: store.dropped,
            store_failure: store.failure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(domains: &[&str], countries: &[&str], networks: &[&str], apps: &[u32]) -> CompiledRules {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let rules = BlockRules {
            apps: apps.to_vec(),
            domains: owned(domains),
            countries: owned(countries),
            networks: owned(networks),
        };
        CompiledRules::new(&rules).expect("valid rules")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn domains_match_the_name_and_its_subdomains_only() {
        assert!(in_domain("tracker.example", "tracker.example"));
        assert!(in_domain("A.Tracker.Example.", "tracker.example"));
        assert!(!in_domain("eviltracker.example", "tracker.example"));
        assert!(!in_domain("example", "tracker.example"));
        assert!(!in_domain("", "tracker.example"));
        assert!(!in_domain("ä.tracker.examplé", "tracker.example"), "non-ASCII never panics nor matches");
    }

    #[test]
    fn each_kind_of_rule_refuses_what_it_names() {
        let r = rules(&["Tracker.Example."], &["de"], &["192.0.2.0/24", "2001:db8::1"], &[10123]);
        let no_name = || None;
        assert!(r.refuses_app(Some(10123)), "blocked app");
        assert!(!r.refuses_app(Some(10124)), "another app");
        assert!(!r.refuses_app(None), "unknown owner");
        assert!(r.refuses_destination(ip("192.0.2.200"), no_name), "blocked network");
        assert!(r.refuses_destination(ip("2001:db8::1"), no_name), "a single address");
        assert!(!r.refuses_destination(ip("2001:db8::2"), no_name));
        assert!(r.refuses_destination(ip("198.51.100.7"), || Some(Arc::from("cdn.tracker.example"))), "blocked domain");
        assert!(!r.refuses_destination(ip("198.51.100.7"), || Some(Arc::from("tracker.example.org"))));
        assert!(!r.refuses_destination(ip("198.51.100.7"), no_name), "no name, no domain rule");
        let de = (0..=255u8)
            .map(|b| IpAddr::from([b, 1, 1, 1]))
            .find(|&a| phonehome_ipdb::lookup(a).country == Some("DE"))
            .expect("some x.1.1.1 is German");
        assert!(r.refuses_destination(de, no_name), "blocked country");
    }

    #[test]
    fn names_are_not_looked_up_without_domain_rules() {
        let r = rules(&[], &[], &["10.0.0.0/8"], &[]);
        assert!(!r.refuses_destination(ip("198.51.100.7"), || panic!("name asked for")));
    }

    proptest::proptest! {
        /// Any name and rule (non-ASCII, dots anywhere) is judged without a panic, and a name is in its own domain.
        #[test]
        fn domain_matching_never_panics(name in "\\PC{0,40}", domain in "[a-zé.]{0,12}") {
            let _ = in_domain(&name, &domain);
            let lower = name.trim_end_matches('.').to_ascii_lowercase();
            proptest::prop_assert!(in_domain(&name, &lower));
            let subdomain = format!("a.{lower}");
            proptest::prop_assert!(in_domain(&subdomain, &lower) || lower.is_empty());
        }
    }

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
            lists,
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

    #[test]
    fn malformed_rules_are_rejected() {
        for bad in [
            BlockRules { networks: vec!["10.0.0.0/33".into()], ..BlockRules::default() },
            BlockRules { networks: vec!["example.com".into()], ..BlockRules::default() },
            BlockRules { countries: vec!["DEU".into()], ..BlockRules::default() },
            BlockRules { domains: vec![".".into()], ..BlockRules::default() },
        ] {
            assert!(matches!(CompiledRules::new(&bad), Err(MonitorError::BlockRule(_))), "{bad:?}");
            let (valid, invalid) = bad.split_invalid();
            assert!(valid.is_empty() && invalid.len() == 1, "{valid:?} {invalid:?}");
        }
        assert!(BlockRules::default().is_empty());
    }

    #[test]
    fn invalid_rules_are_set_apart_and_the_others_kept() {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let saved = BlockRules {
            apps: vec![10_123],
            domains: owned(&["Tracker.Example.", "."]),
            countries: owned(&["cn", "C1"]),
            networks: owned(&["192.0.2.0/24", "2001:db8::/129"]),
        };
        let (valid, invalid) = saved.split_invalid();
        assert_eq!(invalid, owned(&["2001:db8::/129", ".", "C1"]));
        assert_eq!(valid.domains, owned(&["Tracker.Example."]));
        let compiled = CompiledRules::new(&valid).expect("the rest compiles");
        assert_eq!((compiled.domains, compiled.countries), (owned(&["tracker.example"]), owned(&["CN"])));
        assert_eq!(compiled.apps, [10_123]);
    }
}
