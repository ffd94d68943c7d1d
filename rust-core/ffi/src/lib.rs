//! phonehome-ffi: the monitor behind a uniffi API, the only library the Android app links.
//!
//! The app starts one [`Engine`] with an [`EngineConfig`] and the tun fd of its `VpnService`, implements
//! [`Protector`], [`OwnerLookup`] and [`EngineListener`] in Kotlin, queries flows, alerts, apps and stats,
//! exports to file descriptors from the Storage Access Framework, and stops the engine. uniffi catches
//! every panic of an exported call and raises it in Kotlin as an exception; none crosses the boundary.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use phonehome_engine::{AlertRecord, AnalyzerConfig, CsvWriter, FlowRecord, Timeouts};
use phonehome_monitor::{BlockRules, Monitor, MonitorConfig, MonitorStats};
use phonehome_stack::{Limits, ProcNetResolver, StackConfig};

mod history;
mod lists;
mod logging;
mod platform;
mod records;

pub use history::{
    AlertItem, AlertKey, AppHistory, Company, DestinationItem, FlowDetail, FlowItem, HistoryCursor, HistoryError,
    HistoryReader, PageRequest, TimeSpan, TimelinePoint,
};
pub use lists::{inspect_list, max_list_bytes, ListFile, ListFileError, ListKind, ListSummary, MAX_LIST_BYTES};
pub use logging::init_logging;
pub use platform::{Connection, EngineListener, OwnerLookup, OwnerSource, PlatformError, Protector, Transport};
pub use records::{Alert, AppTraffic, EngineStats, Flow, Severity};

uniffi::setup_scaffolding!();

/// Everything the engine needs, in one record (one by-value argument: JNA's arm64 by-value bug).
#[derive(Clone, Debug, uniffi::Record)]
pub struct EngineConfig {
    /// MTU of the tun, as given to `VpnService.Builder.setMtu`.
    pub mtu: u32,
    /// The tun-side address whose port 53 the engine answers by forwarding to `upstream_dns`.
    pub virtual_dns: Option<String>,
    /// The resolver behind the virtual DNS address: an IP (port 53) or `ip:port` / `[ipv6]:port`.
    pub upstream_dns: String,
    /// Where owners of new flows come from.
    pub owner_source: OwnerSource,
    /// Identifiers to watch for, in the TOML of `phonehome analyze --ids`.
    pub identifiers_toml: Option<String>,
    /// Watched countries, ISO 3166 alpha-2.
    pub watched_countries: Vec<String>,
    /// Alert when an app contacts a destination for the first time.
    pub alert_new_destinations: bool,
    /// Idle time after which a UDP flow, or a closed TCP flow, is reported; `None`: the engine's defaults.
    pub flow_idle_seconds: Option<u32>,
    /// The SQLite history file in app-private storage; `None`: memory only.
    pub history_path: Option<String>,
    /// Keep the packets themselves in the history (for pcapng export).
    pub keep_packets: bool,
    /// Apps (uids) whose new connections are refused.
    pub block_apps: Vec<u32>,
    /// Domains (and their subdomains) whose servers are refused, by the DNS answers the engine saw.
    pub block_domains: Vec<String>,
    /// Countries (ISO 3166 alpha-2) whose servers are refused.
    pub block_countries: Vec<String>,
    /// Server networks (CIDR, or single addresses) that are refused.
    pub block_networks: Vec<String>,
    /// Imported block lists, read by the engine at start; one that cannot be read is left out.
    #[uniffi(default)]
    pub lists: Vec<ListFile>,
}

/// Errors of the engine's API.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum EngineError {
    /// A field of [`EngineConfig`] or an argument cannot work.
    #[error("invalid configuration: {reason}")]
    Config { reason: String },
    /// The monitor could not start, or failed while stopping.
    #[error("engine failure: {reason}")]
    Engine { reason: String },
    /// The engine was already stopped.
    #[error("the engine is stopped")]
    Stopped,
    /// Writing an export failed.
    #[error("export failed: {reason}")]
    Export { reason: String },
}

impl From<phonehome_monitor::MonitorError> for EngineError {
    fn from(error: phonehome_monitor::MonitorError) -> Self {
        EngineError::Engine { reason: error.to_string() }
    }
}

impl From<std::io::Error> for EngineError {
    fn from(error: std::io::Error) -> Self {
        EngineError::Export { reason: error.to_string() }
    }
}

impl From<csv::Error> for EngineError {
    fn from(error: csv::Error) -> Self {
        EngineError::Export { reason: error.to_string() }
    }
}

/// The live engine: forwards and analyses the tun's traffic until [`Engine::stop`].
#[derive(uniffi::Object)]
pub struct Engine {
    state: Mutex<State>,
    /// The tun-side DNS address, never chosen as its own upstream.
    virtual_dns: Option<IpAddr>,
}

enum State {
    Running(Monitor),
    /// What the monitor held when it stopped, so the views and exports still work.
    Stopped {
        flows: Vec<FlowRecord>,
        alerts: Vec<AlertRecord>,
        stats: MonitorStats,
    },
}

/// No cap: the monitor's rings are bounded already.
const ALL: usize = usize::MAX;

#[uniffi::export]
impl Engine {
    /// Starts the engine on `tun_fd`, whose ownership passes to the engine (`ParcelFileDescriptor.detachFd`).
    #[uniffi::constructor]
    pub fn start(
        config: EngineConfig,
        tun_fd: i32,
        protector: Arc<dyn Protector>,
        owners: Arc<dyn OwnerLookup>,
        listener: Arc<dyn EngineListener>,
    ) -> Result<Arc<Engine>, EngineError> {
        if tun_fd < 0 {
            return Err(EngineError::Config { reason: format!("tun fd {tun_fd}") });
        }
        // SAFETY: the caller hands over an open fd it no longer uses (documented contract of `tun_fd`). Taken
        // first, so that a rejected configuration still closes it (a tun nobody reads would cut the phone off).
        let tun = unsafe { OwnedFd::from_raw_fd(tun_fd) };
        let monitor_config = monitor_config(&config)?;
        let virtual_dns = monitor_config.stack.virtual_dns;
        let resolver = match config.owner_source {
            OwnerSource::Platform => platform::Owners::Platform(Arc::clone(&owners)),
            OwnerSource::ProcNet => platform::Owners::ProcNet(ProcNetResolver::default()),
        };
        let monitor = Monitor::start(
            monitor_config,
            tun,
            Box::new(platform::ForeignProtector(protector)),
            Box::new(resolver),
            Box::new(platform::ForeignNames(owners)),
            Box::new(platform::ForeignListener(listener)),
            None,
        )?;
        log::info!("engine started");
        Ok(Arc::new(Engine { state: Mutex::new(State::Running(monitor)), virtual_dns }))
    }

    /// Whether the engine still forwards traffic.
    pub fn is_running(&self) -> bool {
        matches!(*self.lock(), State::Running(_))
    }

    /// Current counters (the final ones once stopped).
    pub fn stats(&self) -> EngineStats {
        match &*self.lock() {
            State::Running(monitor) => (&monitor.stats()).into(),
            State::Stopped { stats, .. } => stats.into(),
        }
    }

    /// The latest `limit` finished flows, newest first.
    pub fn recent_flows(&self, limit: u32) -> Vec<Flow> {
        self.with_records(|flows, _| flows.iter().rev().take(to_usize(limit)).map(Flow::from).collect())
    }

    /// The latest `limit` alerts, newest first.
    pub fn recent_alerts(&self, limit: u32) -> Vec<Alert> {
        self.with_records(|_, alerts| alerts.iter().rev().take(to_usize(limit)).map(Alert::from).collect())
    }

    /// Recent traffic per app, most severe first, then by bytes.
    pub fn apps(&self) -> Vec<AppTraffic> {
        self.with_records(records::apps)
    }

    /// Replaces the blocking rules (as in [`EngineConfig`]) while running: new flows follow them at once,
    /// open ones go on.
    pub fn set_block_rules(
        &self,
        apps: Vec<u32>,
        domains: Vec<String>,
        countries: Vec<String>,
        networks: Vec<String>,
    ) -> Result<(), EngineError> {
        match &*self.lock() {
            State::Running(monitor) => monitor
                .set_block_rules(&valid_rules(BlockRules { apps, domains, countries, networks }))
                .map_err(|error| EngineError::Config { reason: error.to_string() }),
            State::Stopped { .. } => Err(EngineError::Stopped),
        }
    }

    /// Forwards the virtual DNS address to the first usable resolver of `servers` (the network underneath
    /// changed: `LinkProperties.getDnsServers()`), and returns the one chosen. Link-local and unspecified
    /// addresses and the virtual address itself are skipped; when none is usable the current resolver stays
    /// and the error says why. DNS flows already open keep their resolver.
    pub fn set_upstream_dns(&self, servers: Vec<String>) -> Result<String, EngineError> {
        match &*self.lock() {
            State::Running(monitor) => {
                let virtual_dns = self.virtual_dns;
                let chosen = usable_resolver(&servers, virtual_dns).ok_or_else(|| EngineError::Config {
                    reason: format!("no usable DNS server among {servers:?}; keeping {}", monitor.upstream_dns()),
                })?;
                monitor.set_upstream_dns(chosen);
                Ok(chosen.to_string())
            }
            State::Stopped { .. } => Err(EngineError::Stopped),
        }
    }

    /// Writes the recent flows as RFC 4180 CSV to `fd` (borrowed: the caller closes it); returns the rows.
    pub fn export_flows_csv(&self, fd: i32) -> Result<u64, EngineError> {
        let out = borrow_file(fd)?;
        self.with_records(|flows, _| {
            let mut writer = CsvWriter::new(BufWriter::new(out))?;
            for flow in flows {
                writer.write(flow)?;
            }
            writer.finish()?.flush()?;
            Ok(count(flows))
        })
    }

    /// Writes the recent alerts as JSON lines to `fd` (borrowed: the caller closes it); returns the lines.
    pub fn export_alerts_jsonl(&self, fd: i32) -> Result<u64, EngineError> {
        let mut out = BufWriter::new(borrow_file(fd)?);
        self.with_records(|_, alerts| {
            for alert in alerts {
                phonehome_engine::record::write_json_line(&mut out, alert)?;
            }
            out.flush()?;
            Ok(count(alerts))
        })
    }

    /// Stops forwarding, reports every open flow to the listener, and returns the final counters.
    pub fn stop(&self) -> Result<EngineStats, EngineError> {
        let mut state = self.lock();
        let stopped = State::Stopped { flows: Vec::new(), alerts: Vec::new(), stats: MonitorStats::default() };
        let monitor = match std::mem::replace(&mut *state, stopped) {
            State::Running(monitor) => monitor,
            already @ State::Stopped { .. } => {
                *state = already;
                return Err(EngineError::Stopped);
            }
        };
        // Flows still open at stop reach the listener; the views keep what had finished before.
        let (flows, alerts) = (monitor.recent_flows(ALL), monitor.recent_alerts(ALL));
        let result = monitor.stop();
        let stats = result.as_ref().map(MonitorStats::clone).unwrap_or_default();
        *state = State::Stopped { flows, alerts, stats };
        log::info!("engine stopped");
        Ok((&result?).into())
    }
}

impl Engine {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_records<T>(&self, f: impl FnOnce(&[FlowRecord], &[AlertRecord]) -> T) -> T {
        match &*self.lock() {
            State::Running(monitor) => f(&monitor.recent_flows(ALL), &monitor.recent_alerts(ALL)),
            State::Stopped { flows, alerts, .. } => f(flows, alerts),
        }
    }
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn count<T>(items: &[T]) -> u64 {
    u64::try_from(items.len()).unwrap_or(u64::MAX)
}

/// A file of our own on the caller's fd, so the caller may close its `ParcelFileDescriptor` independently.
pub(crate) fn borrow_file(fd: i32) -> Result<File, EngineError> {
    if fd < 0 {
        return Err(EngineError::Config { reason: format!("export fd {fd}") });
    }
    // SAFETY: the caller keeps `fd` open for the duration of this call (documented contract).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Ok(File::from(borrowed.try_clone_to_owned()?))
}

/// Translates the app's record into the monitor's configuration.
fn monitor_config(config: &EngineConfig) -> Result<MonitorConfig, EngineError> {
    let bad = |reason: String| EngineError::Config { reason };
    let virtual_dns = config
        .virtual_dns
        .as_deref()
        .map(|text| text.parse::<IpAddr>().map_err(|_| bad(format!("virtual DNS address {text:?}"))))
        .transpose()?;
    let upstream_dns =
        parse_resolver(&config.upstream_dns).ok_or_else(|| bad(format!("upstream DNS {:?}", config.upstream_dns)))?;
    let mtu = usize::try_from(config.mtu).map_err(|_| bad(format!("MTU {}", config.mtu)))?;
    let mut timeouts = Timeouts::default();
    if let Some(seconds) = config.flow_idle_seconds {
        let idle = Duration::from_secs(u64::from(seconds.max(1)));
        timeouts.udp = idle;
        timeouts.icmp = idle;
        timeouts.tcp_finished = idle;
    }
    Ok(MonitorConfig {
        stack: StackConfig { mtu, virtual_dns, upstream_dns: upstream_dns.into(), limits: Limits::default() },
        analyzer: AnalyzerConfig { timeouts, ..AnalyzerConfig::default() },
        identifiers_toml: config.identifiers_toml.clone(),
        watchlist: config.watched_countries.clone(),
        alert_new_destinations: config.alert_new_destinations,
        store: config.history_path.as_ref().map(std::path::PathBuf::from),
        keep_packets: config.keep_packets,
        block: valid_rules(BlockRules {
            apps: config.block_apps.clone(),
            domains: config.block_domains.clone(),
            countries: config.block_countries.clone(),
            networks: config.block_networks.clone(),
        }),
        lists: lists::load(&config.lists),
    })
}

/// The app's saved rules without those that cannot work (logged): one bad entry must not disable the
/// others, nor keep the VPN from starting.
fn valid_rules(rules: BlockRules) -> BlockRules {
    let (valid, invalid) = rules.split_invalid();
    for rule in invalid {
        log::warn!("block rule {rule:?} ignored: not a domain, a country code or a network");
    }
    valid
}

/// The first of `servers` that can answer for the tunnel: not link-local (Android lists `fe80::…%wlan0`
/// resolvers, reachable only on that interface), not unspecified, not the virtual address (a loop).
fn usable_resolver(servers: &[String], virtual_dns: Option<IpAddr>) -> Option<SocketAddr> {
    servers.iter().filter_map(|text| parse_resolver(text)).find(|server| {
        let ip = server.ip();
        let link_local = match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => v6.is_unicast_link_local(),
        };
        !link_local && !ip.is_unspecified() && Some(ip) != virtual_dns
    })
}

/// `ip` (port 53), `ip:port` or `[ipv6]:port`.
fn parse_resolver(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| text.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

#[cfg(test)]
mod tests;
