//! phonehome-ffi: the monitor behind a uniffi API, the only library the Android app links.
//!
//! The app starts one [`Monitor`] with a [`MonitorConfig`] and the tun fd of its `VpnService`, implements
//! [`Protector`], [`OwnerLookup`] and [`AlertListener`] in Kotlin, polls [`Monitor::live_view`] while a screen
//! shows it, reads the history through [`HistoryReader`] (views and exports to file descriptors from the Storage
//! Access Framework), and stops the monitor. The records are the model's own (`org.phonehome.model`) and the
//! history's (`org.phonehome.store`): re-exported, not copied. uniffi catches every panic of an exported call and
//! raises it in Kotlin as an exception; none crosses the boundary.
use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use phonehome_engine::{AnalyzerConfig, Timeouts};
use phonehome_monitor::BlockRules;
use phonehome_stack::{Limits, ProcNetResolver, StackConfig};

mod history;
mod lists;
mod logging;
mod platform;

pub use history::{FlowDetail, HistoryError, HistoryReader, PageRequest, TimeSpan};
pub use lists::{inspect_list, max_list_bytes, ListFile, ListFileError, ListKind, ListSummary, MAX_LIST_BYTES};
pub use logging::init_logging;
pub use phonehome_model::{AlertKind, AlertRecord, Company, FlowRecord, HostSource, Proto, Severity, TcpState, L7};
pub use phonehome_store::{AppSummary, Cursor, DestinationSummary, StoredAlert, StoredFlow, TimelineBucket};
pub use platform::{AlertListener, Connection, OwnerLookup, OwnerSource, PlatformError, Protector};

uniffi::setup_scaffolding!();

/// Everything the monitor needs, in one record (one by-value argument: JNA's arm64 by-value bug).
#[derive(Clone, Debug, uniffi::Record)]
pub struct MonitorConfig {
    /// MTU of the tun, as given to `VpnService.Builder.setMtu`.
    pub mtu: u32,
    /// The tun-side address whose port 53 the monitor answers by forwarding to `upstream_dns`.
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
    /// Domains (and their subdomains) whose servers are refused, by the DNS answers the monitor saw.
    pub block_domains: Vec<String>,
    /// Countries (ISO 3166 alpha-2) whose servers are refused.
    pub block_countries: Vec<String>,
    /// Server networks (CIDR, or single addresses) that are refused.
    pub block_networks: Vec<String>,
    /// Imported tracker, malware, telemetry and custom lists, read at start: their hits raise alerts, they block
    /// nothing (the `block_*` rules block). One that cannot be read is left out.
    #[uniffi(default)]
    pub alert_lists: Vec<ListFile>,
}

/// Errors of the monitor's API.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MonitorError {
    /// A field of [`MonitorConfig`] or an argument cannot work.
    #[error("invalid configuration: {reason}")]
    Config { reason: String },
    /// The monitor could not start, or failed while stopping.
    #[error("monitor failure: {reason}")]
    Failed { reason: String },
    /// The monitor was already stopped.
    #[error("the monitor is stopped")]
    Stopped,
}

impl MonitorError {
    fn failed(error: phonehome_monitor::MonitorError) -> MonitorError {
        MonitorError::Failed { reason: error.to_string() }
    }
}

/// Counters of the monitor, for the dashboard and the notification.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct MonitorStats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub packets_dropped: u64,
    pub tcp_flows_open: u64,
    pub datagram_flows_open: u64,
    pub connect_failures: u64,
    /// New flows refused by the blocking rules.
    pub flows_blocked: u64,
    pub flows_finished: u64,
    pub alerts: u64,
    /// Records the history store could not keep up with.
    pub history_dropped: u64,
    /// Why the history store stopped writing, if it did.
    pub history_failure: Option<String>,
}

impl From<&phonehome_monitor::MonitorStats> for MonitorStats {
    fn from(s: &phonehome_monitor::MonitorStats) -> Self {
        MonitorStats {
            packets_in: s.stack.packets_in,
            packets_out: s.stack.packets_out,
            packets_dropped: s.stack.packets_dropped,
            tcp_flows_open: s.stack.tcp_flows,
            datagram_flows_open: s.stack.datagram_flows,
            connect_failures: s.stack.connect_failures,
            flows_blocked: s.stack.flows_blocked,
            flows_finished: s.flows_finished,
            alerts: s.alerts,
            history_dropped: s.store_dropped,
            history_failure: s.store_failure.as_ref().map(|error| error.to_string()),
        }
    }
}

/// What is going on now: the flows still open (most recently active first, with their counters, app, host,
/// country and the severity found so far) and the latest finished flows (newest first). Refreshed once a second;
/// at most 200 and 100 of them.
#[derive(Clone, Debug, Default, PartialEq, uniffi::Record)]
pub struct LiveView {
    pub ongoing: Vec<FlowRecord>,
    pub finished: Vec<FlowRecord>,
}

impl From<phonehome_monitor::LiveView> for LiveView {
    fn from(view: phonehome_monitor::LiveView) -> Self {
        LiveView { ongoing: view.ongoing, finished: view.finished }
    }
}

/// The live monitor: forwards and analyses the tun's traffic until [`Monitor::stop`].
#[derive(uniffi::Object)]
pub struct Monitor {
    state: Mutex<State>,
    /// The tun-side DNS address, never chosen as its own upstream.
    virtual_dns: Option<IpAddr>,
}

enum State {
    Running(phonehome_monitor::Monitor),
    /// What the monitor showed when it stopped.
    Stopped {
        live: LiveView,
        stats: MonitorStats,
    },
}

#[uniffi::export]
impl Monitor {
    /// Starts the monitor on `tun_fd`, whose ownership passes to it (`ParcelFileDescriptor.detachFd`).
    #[uniffi::constructor]
    pub fn start(
        config: MonitorConfig,
        tun_fd: i32,
        protector: Arc<dyn Protector>,
        owners: Arc<dyn OwnerLookup>,
        listener: Arc<dyn AlertListener>,
    ) -> Result<Arc<Monitor>, MonitorError> {
        if tun_fd < 0 {
            return Err(MonitorError::Config { reason: format!("tun fd {tun_fd}") });
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
        let monitor = phonehome_monitor::Monitor::start(
            monitor_config,
            tun,
            Box::new(platform::ForeignProtector(protector)),
            Box::new(resolver),
            Box::new(platform::ForeignNames(owners)),
            Box::new(platform::ForeignListener(listener)),
            None,
        )
        .map_err(MonitorError::failed)?;
        log::info!("monitor started");
        Ok(Arc::new(Monitor { state: Mutex::new(State::Running(monitor)), virtual_dns }))
    }

    /// Whether the monitor still forwards traffic.
    pub fn is_running(&self) -> bool {
        matches!(*self.lock(), State::Running(_))
    }

    /// Current counters (the final ones once stopped).
    pub fn stats(&self) -> MonitorStats {
        match &*self.lock() {
            State::Running(monitor) => (&monitor.stats()).into(),
            State::Stopped { stats, .. } => stats.clone(),
        }
    }

    /// The ongoing and latest finished flows, as of the last second (the final ones once stopped): cheap, meant
    /// to be polled every second while a screen shows them.
    pub fn live_view(&self) -> LiveView {
        match &*self.lock() {
            State::Running(monitor) => monitor.live_view().into(),
            State::Stopped { live, .. } => live.clone(),
        }
    }

    /// Replaces the blocking rules (as in [`MonitorConfig`]) while running: new flows follow them at once,
    /// open ones go on.
    pub fn set_block_rules(
        &self,
        apps: Vec<u32>,
        domains: Vec<String>,
        countries: Vec<String>,
        networks: Vec<String>,
    ) -> Result<(), MonitorError> {
        match &*self.lock() {
            State::Running(monitor) => monitor
                .set_block_rules(&valid_rules(BlockRules { apps, domains, countries, networks }))
                .map_err(|error| MonitorError::Config { reason: error.to_string() }),
            State::Stopped { .. } => Err(MonitorError::Stopped),
        }
    }

    /// Forwards the virtual DNS address to the first usable resolver of `servers` (the network underneath
    /// changed: `LinkProperties.getDnsServers()`), and returns the one chosen. Link-local and unspecified
    /// addresses and the virtual address itself are skipped; when none is usable the current resolver stays
    /// and the error says why. DNS flows already open keep their resolver.
    pub fn set_upstream_dns(&self, servers: Vec<String>) -> Result<String, MonitorError> {
        match &*self.lock() {
            State::Running(monitor) => {
                let virtual_dns = self.virtual_dns;
                let chosen = usable_resolver(&servers, virtual_dns).ok_or_else(|| MonitorError::Config {
                    reason: format!("no usable DNS server among {servers:?}; keeping {}", monitor.upstream_dns()),
                })?;
                monitor.set_upstream_dns(chosen);
                Ok(chosen.to_string())
            }
            State::Stopped { .. } => Err(MonitorError::Stopped),
        }
    }

    /// Stops forwarding, finishes every open flow (alerts reach the listener, flows the history), and returns
    /// the final counters.
    pub fn stop(&self) -> Result<MonitorStats, MonitorError> {
        let mut state = self.lock();
        let stopped = State::Stopped { live: LiveView::default(), stats: MonitorStats::default() };
        let monitor = match std::mem::replace(&mut *state, stopped) {
            State::Running(monitor) => monitor,
            already @ State::Stopped { .. } => {
                *state = already;
                return Err(MonitorError::Stopped);
            }
        };
        let (stats, live) = monitor.stop().map_err(MonitorError::failed)?;
        let stats = MonitorStats::from(&stats);
        *state = State::Stopped { live: live.into(), stats: stats.clone() };
        log::info!("monitor stopped");
        Ok(stats)
    }
}

impl Monitor {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A file of our own on the caller's fd, so the caller may close its `ParcelFileDescriptor` independently.
pub(crate) fn borrow_file(fd: i32) -> std::io::Result<File> {
    if fd < 0 {
        return Err(std::io::Error::other(format!("export fd {fd}")));
    }
    // SAFETY: the caller keeps `fd` open for the duration of this call (documented contract).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Ok(File::from(borrowed.try_clone_to_owned()?))
}

/// Translates the app's record into the monitor's configuration.
fn monitor_config(config: &MonitorConfig) -> Result<phonehome_monitor::MonitorConfig, MonitorError> {
    let bad = |reason: String| MonitorError::Config { reason };
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
    Ok(phonehome_monitor::MonitorConfig {
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
        alert_lists: lists::load(&config.alert_lists),
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
