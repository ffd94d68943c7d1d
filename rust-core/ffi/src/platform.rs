//! What the app implements in Kotlin (socket protection, owners and names, events) and the adapters that
//! plug those foreign objects into the monitor's traits. Foreign calls return `Result` so that a Kotlin
//! exception becomes a logged Rust error instead of a crash.
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;

use phonehome_engine::{AlertRecord, FlowRecord};
use phonehome_monitor::{AppNames, EventListener};
use phonehome_stack::{OwnerResolver, ProcNetResolver, SocketProtector};

use crate::records::{Alert, Flow};

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

/// Keeps the engine's outbound sockets out of the VPN (`VpnService.protect`).
#[uniffi::export(with_foreign)]
pub trait Protector: Send + Sync {
    /// Protects socket `fd`; fails when the platform refused.
    fn protect(&self, fd: i32) -> Result<(), PlatformError>;
}

/// Transport of a connection whose owner is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Transport {
    Tcp,
    Udp,
    Icmp,
}

/// A connection as the app made it: `local` is the app's end.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Connection {
    pub transport: Transport,
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

/// Told of each finished flow and each alert, on the engine's threads: hand them off, return quickly.
#[uniffi::export(with_foreign)]
pub trait EngineListener: Send + Sync {
    /// A flow ended (closed, idle, evicted or flushed at stop).
    fn on_flow(&self, flow: Flow) -> Result<(), PlatformError>;
    /// A flow raised an alert.
    fn on_alert(&self, alert: Alert) -> Result<(), PlatformError>;
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
                let transport = match proto {
                    phonehome_stack::proto::TCP => Transport::Tcp,
                    phonehome_stack::proto::UDP => Transport::Udp,
                    _ => Transport::Icmp,
                };
                let connection = Connection {
                    transport,
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

pub(crate) struct ForeignListener(pub Arc<dyn EngineListener>);

impl EventListener for ForeignListener {
    fn on_flow(&mut self, flow: &FlowRecord) {
        if let Err(error) = self.0.on_flow(flow.into()) {
            log::warn!("flow listener failed: {error}");
        }
    }

    fn on_alert(&mut self, alert: &AlertRecord) {
        if let Err(error) = self.0.on_alert(alert.into()) {
            log::warn!("alert listener failed: {error}");
        }
    }
}
