//! What the app implements in Kotlin (socket protection, owners and names, alerts) and the adapters that
//! plug those foreign objects into the monitor's traits. Foreign calls return `Result` so that a Kotlin
//! exception becomes a logged Rust error instead of a crash.
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;

use phonehome_model::{AlertRecord, Proto};
use phonehome_monitor::{AppNames, EventListener};
use phonehome_stack::{OwnerResolver, ProcNetResolver, SocketProtector};

/// An error raised by the app's side of a call.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    /// The platform call failed; `reason` says why.
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        PlatformError::Failed { reason: error.reason }
    }
}

/// Keeps the monitor's outbound sockets out of the VPN (`VpnService.protect`).
#[uniffi::export(with_foreign)]
pub trait Protector: Send + Sync {
    /// Protects socket `fd`; fails when the platform refused.
    fn protect(&self, fd: i32) -> Result<(), PlatformError>;
}

/// A connection as the app made it: `local` is the app's end.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Connection {
    pub proto: Proto,
    pub local_ip: String,
    pub local_port: u16,
    pub remote_ip: String,
    pub remote_port: u16,
}

/// Who owns a connection, and what an app is called.
#[uniffi::export(with_foreign)]
pub trait OwnerLookup: Send + Sync {
    /// The uid owning `connection` (`ConnectivityManager.getConnectionOwnerUid` on Android 10+).
    fn owner_uid(&self, connection: Connection) -> Result<Option<u32>, PlatformError>;
    /// The label of the app (or shared-uid group) running as `uid`.
    fn app_name(&self, uid: u32) -> Result<Option<String>, PlatformError>;
}

/// Told of each alert as it is raised (the notifier), on the monitor's events thread: hand it off, return quickly.
/// Flows are read from [`crate::Monitor::live_view`] and the history instead.
#[uniffi::export(with_foreign)]
pub trait AlertListener: Send + Sync {
    /// A flow raised an alert.
    fn on_alert(&self, alert: AlertRecord) -> Result<(), PlatformError>;
}

/// Where owners come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum OwnerSource {
    /// The app's [`OwnerLookup::owner_uid`] (Android 10 and later).
    Platform,
    /// The kernel's `/proc/net` tables, parsed in Rust (Android 9 and earlier, Linux).
    ProcNet,
}

pub(crate) struct ForeignProtector(pub Arc<dyn Protector>);

impl SocketProtector for ForeignProtector {
    fn protect(&self, fd: RawFd) -> std::io::Result<()> {
        self.0.protect(fd).map_err(std::io::Error::other)
    }
}

/// Asks the app, or reads `/proc/net`, depending on [`OwnerSource`].
pub(crate) enum Owners {
    Platform(Arc<dyn OwnerLookup>),
    ProcNet(ProcNetResolver),
}

impl OwnerResolver for Owners {
    fn owner(&self, proto: u8, local: SocketAddr, remote: SocketAddr) -> Option<u32> {
        match self {
            Owners::ProcNet(resolver) => resolver.owner(proto, local, remote),
            Owners::Platform(lookup) => {
                let proto = match proto {
                    phonehome_stack::proto::TCP => Proto::Tcp,
                    phonehome_stack::proto::UDP => Proto::Udp,
                    _ => Proto::Icmp,
                };
                let connection = Connection {
                    proto,
                    local_ip: local.ip().to_string(),
                    local_port: local.port(),
                    remote_ip: remote.ip().to_string(),
                    remote_port: remote.port(),
                };
                lookup.owner_uid(connection).unwrap_or_else(|error| {
                    log::warn!("owner look-up failed: {error}");
                    None
                })
            }
        }
    }

    fn owners(&self, flows: &[(u8, SocketAddr, SocketAddr)]) -> Vec<Option<u32>> {
        match self {
            // One read of the tables serves the whole batch.
            Owners::ProcNet(resolver) => resolver.owners(flows),
            Owners::Platform(_) => {
                flows.iter().map(|&(proto, local, remote)| self.owner(proto, local, remote)).collect()
            }
        }
    }
}

pub(crate) struct ForeignNames(pub Arc<dyn OwnerLookup>);

impl AppNames for ForeignNames {
    fn app_name(&self, uid: u32) -> Option<String> {
        self.0.app_name(uid).unwrap_or_else(|error| {
            log::warn!("app name look-up failed for uid {uid}: {error}");
            None
        })
    }
}

pub(crate) struct ForeignListener(pub Arc<dyn AlertListener>);

impl EventListener for ForeignListener {
    fn on_alert(&mut self, alert: &AlertRecord) {
        if let Err(error) = self.0.on_alert(alert.clone()) {
            log::warn!("alert listener failed: {error}");
        }
    }
}
