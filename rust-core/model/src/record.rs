//! The records: one finished flow, one alert. Typed all the way; text only where a writer makes it.
//!
//! `FlowRecord`'s field order is the CSV / JSON-lines column order; its first 21 fields are a contract.

use std::net::{IpAddr, SocketAddr};

use serde::{Serialize, Serializer};

use crate::{AlertKind, HostSource, Proto, Severity, TcpState, Timestamp, L7};

/// A flow's identity, oriented: `client` opened it (or is taken to have), `server` answered. ICMP echo flows use
/// the echo identifier as the port of both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub proto: Proto,
    pub client: SocketAddr,
    pub server: SocketAddr,
}

/// One finished (or, in a live view, ongoing) flow. `src` is the client. Field order = column order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FlowRecord {
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub proto: Proto,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub l7: Option<L7>,
    pub host: Option<String>,
    pub host_source: Option<HostSource>,
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub bytes_out: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub packets_in: u64,
    pub severity: Option<Severity>,
    /// Short tags: the kinds of its alerts, `dns_uncertain`… (exports join them with `;`).
    #[serde(serialize_with = "joined")]
    pub flags: Vec<String>,
    // ---- additions after the contract ----
    /// TCP: how the flow ended.
    pub tcp_state: Option<TcpState>,
    pub tls_version: Option<String>,
    /// ALPN protocols offered by the client.
    #[serde(serialize_with = "joined_or_null")]
    pub alpn: Vec<String>,
    pub ja4: Option<String>,
    pub ech: Option<bool>,
    pub http_method: Option<String>,
    pub http_path: Option<String>,
    pub user_agent: Option<String>,
    /// Every question of a DNS flow; for another flow, the name its server's address was resolved from (when a
    /// DNS answer gave it).
    #[serde(serialize_with = "joined_or_null")]
    pub dns_names: Vec<String>,
}

impl FlowRecord {
    /// The flow's identity.
    pub fn key(&self) -> FlowKey {
        FlowKey {
            proto: self.proto,
            client: SocketAddr::new(self.src_ip, self.src_port),
            server: SocketAddr::new(self.dst_ip, self.dst_port),
        }
    }

    /// The destination it counts under (first contacts, per-destination totals): its host name, lower case,
    /// else its server address.
    pub fn destination(&self) -> String {
        match &self.host {
            Some(host) if !host.is_empty() => host.to_ascii_lowercase(),
            _ => self.dst_ip.to_string(),
        }
    }
}

/// One alert: a finding about a flow, with the flow's identity and the evidence that triggered it.
/// Field names are a contract like the flow columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AlertRecord {
    /// When the evidence was seen (the flow's start).
    pub ts: Timestamp,
    pub severity: Severity,
    pub kind: AlertKind,
    pub proto: Proto,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub host: Option<String>,
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    /// For identifier leaks and patterns: the identifier's kind (`imei`, `mac`, a custom name…).
    pub identifier: Option<String>,
    /// For identifier leaks: how it was sent (`plain`, `url`, `base64`, `hex`, `md5`, `sha1`, `sha256`…).
    pub encoding: Option<String>,
    /// What triggered the alert, in words a reader can check; identifiers appear redacted.
    pub evidence: String,
    /// The company behind the destination when known (tracker owner, network or domain owner).
    pub owner: Option<String>,
}

impl AlertRecord {
    /// An alert about `flow`, dated at its start, with the flow's identity and destination facts.
    pub fn about(flow: &FlowRecord, kind: AlertKind, severity: Severity, evidence: String) -> AlertRecord {
        AlertRecord {
            ts: flow.first_seen,
            severity,
            kind,
            proto: flow.proto,
            src_ip: flow.src_ip,
            src_port: flow.src_port,
            dst_ip: flow.dst_ip,
            dst_port: flow.dst_port,
            uid: flow.uid,
            app: flow.app.clone(),
            host: flow.host.clone(),
            country: flow.country.clone(),
            asn: flow.asn,
            as_org: flow.as_org.clone(),
            identifier: None,
            encoding: None,
            evidence,
            owner: None,
        }
    }

    /// The flow the alert is about.
    pub fn key(&self) -> FlowKey {
        FlowKey {
            proto: self.proto,
            client: SocketAddr::new(self.src_ip, self.src_port),
            server: SocketAddr::new(self.dst_ip, self.dst_port),
        }
    }
}

/// A company and its home country (not the server's): who owns a network or a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Company {
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// A list as the exports write it: items joined with `;`.
pub fn join_list(items: &[String]) -> String {
    items.join(";")
}

/// A list read back from its export text (`""` is the empty list).
pub fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(';').map(str::to_owned).collect()
    }
}

fn joined<S: Serializer>(items: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&join_list(items))
}

/// An empty list is written as null (the column is empty), else joined.
fn joined_or_null<S: Serializer>(items: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    if items.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.serialize_str(&join_list(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_join_and_split_back() {
        for items in [vec![], vec!["a".to_owned()], vec!["h2".to_owned(), "http/1.1".to_owned()]] {
            assert_eq!(split_list(&join_list(&items)), items);
        }
    }
}
