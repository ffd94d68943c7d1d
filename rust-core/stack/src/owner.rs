//! The owner wait: each new flow's owner is resolved on thread "ph-owner", off the packet path, and the flow's
//! handshake or first datagrams wait for the answer (or for [`OWNER_WAIT`]) so the app's socket still exists
//! when it is looked up; then the policy hears the owner and the flow goes ahead.
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::Token;
use phonehome_model::{FlowKey, Proto};

use crate::stack::Stack;
use crate::stats::Counters;
use crate::tcp::TcpPhase;
use crate::{proto, OwnerResolver};

/// Queries answered together (one read of each `/proc/net` table serves them all).
const BATCH: usize = 256;
/// How long a new flow waits for its owner before it goes ahead unattributed (checked by the sweep).
pub(crate) const OWNER_WAIT: Duration = Duration::from_millis(250);

/// A flow as the platforms' owner look-ups take it: IANA protocol number, the app's end, the server as dialled
/// (ICMP echo: the echo identifier as the app's port, port 0 for the server).
fn resolver_query(flow: &FlowKey) -> (u8, SocketAddr, SocketAddr) {
    match flow.proto {
        Proto::Tcp => (proto::TCP, flow.client, flow.server),
        Proto::Udp => (proto::UDP, flow.client, flow.server),
        Proto::Icmp => {
            let number = if flow.server.is_ipv6() { proto::ICMPV6 } else { proto::ICMP };
            (number, flow.client, SocketAddr::new(flow.server.ip(), 0))
        }
    }
}

/// The stack's end of the owner thread; both directions are bounded.
pub(crate) struct OwnerLink {
    queries: SyncSender<FlowKey>,
    answers: Receiver<(FlowKey, Option<u32>)>,
    thread: JoinHandle<()>,
}

impl OwnerLink {
    /// Starts thread "ph-owner"; `wake` is called after each answer so the stack drains them.
    pub fn spawn(
        resolver: Box<dyn OwnerResolver>,
        capacity: usize,
        wake: Arc<mio::Waker>,
    ) -> std::io::Result<OwnerLink> {
        let (queries, query_rx) = mpsc::sync_channel::<FlowKey>(capacity);
        let (answer_tx, answers) = mpsc::sync_channel(capacity);
        let thread = std::thread::Builder::new().name("ph-owner".into()).spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            while let Ok(first) = query_rx.recv() {
                batch.clear();
                batch.push(first);
                batch.extend(query_rx.try_iter().take(BATCH - 1));
                let flows: Vec<_> = batch.iter().map(resolver_query).collect();
                let found = resolver.owners(&flows);
                // Unresolved flows are answered too: their connections wait for the answer.
                for answer in batch.iter().copied().zip(found) {
                    if answer_tx.send(answer).is_err() {
                        return;
                    }
                }
                if let Err(e) = wake.wake() {
                    log::debug!("owner thread cannot wake the stack: {e}");
                }
            }
        })?;
        Ok(OwnerLink { queries, answers, thread })
    }

    /// Queues a query; false when the owner thread is behind (the flow stays unattributed).
    fn ask(&self, flow: FlowKey) -> bool {
        match self.queries.try_send(flow) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// Stops the thread once it finishes the query in hand.
    pub fn finish(self) {
        let OwnerLink { queries, answers, thread } = self;
        drop(queries);
        drop(answers);
        if thread.join().is_err() {
            log::error!("owner thread panicked");
        }
    }
}

impl Stack {
    /// Queues an owner look-up; false when the owner thread is behind (the flow goes unattributed).
    pub(crate) fn ask_owner(&self, flow: FlowKey) -> bool {
        let queued = self.owners.as_ref().is_some_and(|link| link.ask(flow));
        if !queued {
            Counters::bump(&self.counters.owner_queries_dropped);
        }
        queued
    }

    /// Reports resolved owners and lets the flows that waited for them go ahead.
    pub(crate) fn take_owner_answers(&mut self, now: Instant) {
        let Some(link) = &self.owners else { return };
        let answers: Vec<(FlowKey, Option<u32>)> = link.answers.try_iter().collect();
        for (flow, uid) in answers {
            if let Some(uid) = uid {
                self.observer.on_owner(&flow, uid);
            }
            if let Some(&token) = self.by_key.get(&flow) {
                self.owner_known(now, token, uid);
            }
        }
    }

    /// Flows that waited for their owner longer than [`OWNER_WAIT`]: they go ahead unattributed.
    pub(crate) fn give_up_waiting(&mut self, now: Instant) {
        let waited_tcp = self.tcp.iter().filter(|(_, flow)| {
            matches!(flow.phase, TcpPhase::Connecting { connected_at: Some(at), .. } if now.duration_since(at) >= OWNER_WAIT)
        });
        let waited_datagrams = self
            .datagrams
            .iter()
            .filter(|(_, flow)| flow.owner_pending && now.duration_since(flow.created) >= OWNER_WAIT);
        let waited: Vec<Token> = waited_tcp.map(|(t, _)| *t).chain(waited_datagrams.map(|(t, _)| *t)).collect();
        for token in waited {
            self.owner_known(now, token, None);
        }
    }

    /// The owner of a waiting flow is known (or given up on): the policy decides, then the flow goes ahead.
    fn owner_known(&mut self, now: Instant, token: Token, uid: Option<u32>) {
        let pending = match (self.tcp.get(&token), self.datagrams.get(&token)) {
            (Some(flow), _) => flow.owner_pending,
            (None, Some(flow)) => flow.owner_pending,
            (None, None) => false,
        };
        // A late answer for a flow that already went ahead unattributed changes nothing.
        if !pending || !self.admit(token, uid) {
            return;
        }
        if let Some(flow) = self.tcp.get_mut(&token) {
            flow.owner_pending = false;
            if let TcpPhase::Connecting { connected_at: Some(_), .. } = flow.phase {
                self.bridge(now, token);
            }
        } else {
            self.release_held(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_get_protocol_numbers_and_the_echo_convention() {
        let flow = |proto, client: &str, server: &str| FlowKey {
            proto,
            client: client.parse().expect("client"),
            server: server.parse().expect("server"),
        };
        let tcp = flow(Proto::Tcp, "10.0.0.2:40000", "192.0.2.1:443");
        assert_eq!(resolver_query(&tcp), (proto::TCP, tcp.client, tcp.server));
        let ping4 = flow(Proto::Icmp, "10.0.0.2:7", "192.0.2.1:7");
        assert_eq!(resolver_query(&ping4), (proto::ICMP, ping4.client, "192.0.2.1:0".parse().expect("addr")));
        let ping6 = flow(Proto::Icmp, "[fd00::2]:7", "[2001:db8::1]:7");
        assert_eq!(resolver_query(&ping6).0, proto::ICMPV6);
    }
}
