//! The resolver behind the virtual DNS address, replaceable while the stack runs: on a phone the network
//! underneath changes (Wi-Fi ↔ mobile) and with it the resolver that answers.
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

/// A shared, replaceable resolver address; clones see every [`set`](UpstreamDns::set). Read once per new DNS
/// flow, so the lock is never contended on the packet path.
#[derive(Clone, Debug)]
pub struct UpstreamDns(Arc<RwLock<SocketAddr>>);

impl UpstreamDns {
    pub fn new(resolver: SocketAddr) -> UpstreamDns {
        UpstreamDns(Arc::new(RwLock::new(resolver)))
    }

    /// The resolver new DNS flows go to.
    pub fn get(&self) -> SocketAddr {
        *self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends new DNS flows to `resolver`; flows already open keep theirs.
    pub fn set(&self, resolver: SocketAddr) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = resolver;
    }
}

impl From<SocketAddr> for UpstreamDns {
    fn from(resolver: SocketAddr) -> UpstreamDns {
        UpstreamDns::new(resolver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_see_a_new_resolver() {
        let upstream = UpstreamDns::new("192.0.2.53:53".parse().unwrap());
        let seen_by_stack = upstream.clone();
        upstream.set("[2001:db8::53]:53".parse().unwrap());
        assert_eq!(seen_by_stack.get(), "[2001:db8::53]:53".parse().unwrap());
    }
}
