//! Admission: whether a new flow may go ahead — the observer's rules on its destination (before any socket
//! exists) and on its app (once the owner is known), and the virtual DNS address's refusal of DNS over TLS.
use std::io;
use std::net::SocketAddr;

use mio::Token;
use phonehome_model::FlowKey;

use crate::reply;
use crate::stack::Stack;
use crate::stats::Counters;
use crate::tcp::TcpPhase;

/// DNS over TLS (RFC 7858).
const DOT_PORT: u16 = 853;

impl Stack {
    /// DNS over TLS to the virtual DNS address: nothing real listens there, and a refusal makes Android's
    /// automatic Private DNS fall back to plain DNS on port 53, where the monitor sees the names.
    pub(crate) fn is_virtual_dot(&self, server: SocketAddr) -> bool {
        server.port() == DOT_PORT && self.cfg.virtual_dns == Some(server.ip())
    }

    /// Asks the observer about a new flow's destination before anything is sent towards it.
    pub(crate) fn destination_allowed(&mut self, flow: FlowKey) -> bool {
        let allowed = self.observer.allows_destination(&flow);
        if !allowed {
            Counters::bump(&self.counters.flows_blocked);
            log::debug!("blocked a flow to {}", flow.server);
        }
        allowed
    }

    /// Answers the app's SYN with a RST ("connection refused").
    pub(crate) fn reset_syn(&mut self, flow: FlowKey, syn_seq: u32) {
        if reply::tcp_rst(&mut self.reply, flow.server, flow.client, 0, Some(syn_seq.wrapping_add(1))) {
            self.emit_reply();
        }
    }

    /// Asks the observer about a new flow's app; a refused flow is answered (RST, ICMP prohibited) and dropped.
    pub(crate) fn admit(&mut self, token: Token, uid: Option<u32>) -> bool {
        let flow = match (self.tcp.get(&token), self.datagrams.get(&token)) {
            (Some(flow), _) => flow.key,
            (None, Some(flow)) => flow.key,
            (None, None) => return false,
        };
        if self.observer.allows_app(&flow, uid) {
            return true;
        }
        Counters::bump(&self.counters.flows_blocked);
        log::debug!("blocked a flow to {} (uid {uid:?})", flow.server);
        if let Some(tcp) = self.tcp.get(&token) {
            // Only a flow still in its handshake is ever admitted, so the app's SYN is the one to answer.
            if let TcpPhase::Connecting { syn_seq, .. } = tcp.phase {
                self.reset_syn(flow, syn_seq);
            }
            self.remove_tcp(token);
        } else {
            self.reflect_flow_error(flow, &io::Error::from_raw_os_error(libc::EACCES));
            self.remove_datagram(token);
        }
        false
    }
}
