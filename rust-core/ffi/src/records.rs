//! The records the app sees: flat copies of the engine's records with foreign-friendly types.
use std::collections::HashMap;

use phonehome_engine::{AlertRecord, FlowRecord};
use phonehome_monitor::MonitorStats;

/// How strong the evidence behind a verdict is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum Severity {
    /// Context only.
    Info,
    /// Weak evidence (a DNS lookup alone).
    Low,
    /// Documented collection or a watched jurisdiction.
    Medium,
    /// An identifier left the device, or a known malicious host.
    High,
}

impl From<phonehome_intel::Severity> for Severity {
    fn from(severity: phonehome_intel::Severity) -> Self {
        match severity {
            phonehome_intel::Severity::Info => Severity::Info,
            phonehome_intel::Severity::Low => Severity::Low,
            phonehome_intel::Severity::Medium => Severity::Medium,
            phonehome_intel::Severity::High => Severity::High,
        }
    }
}

/// One finished flow; field meanings are the CSV columns of the README.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Flow {
    pub first_seen: String,
    pub last_seen: String,
    pub proto: String,
    pub src_ip: String,
    pub src_port: u16,
    pub dst_ip: String,
    pub dst_port: u16,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub l7: Option<String>,
    pub host: Option<String>,
    pub host_source: Option<String>,
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub bytes_out: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub packets_in: u64,
    pub severity: Option<Severity>,
    pub flags: String,
    pub tcp_state: Option<String>,
    pub tls_version: Option<String>,
    pub alpn: Option<String>,
    pub ja4: Option<String>,
    pub ech: Option<bool>,
    pub http_method: Option<String>,
    pub http_path: Option<String>,
    pub user_agent: Option<String>,
}

impl From<&FlowRecord> for Flow {
    fn from(r: &FlowRecord) -> Self {
        Flow {
            first_seen: r.first_seen.clone(),
            last_seen: r.last_seen.clone(),
            proto: r.proto.as_str().to_owned(),
            src_ip: r.src_ip.to_string(),
            src_port: r.src_port,
            dst_ip: r.dst_ip.to_string(),
            dst_port: r.dst_port,
            uid: r.uid,
            app: r.app.clone(),
            l7: r.l7.map(|l7| l7.as_str().to_owned()),
            host: r.host.clone(),
            host_source: r.host_source.map(|source| source.as_str().to_owned()),
            country: r.country.clone(),
            asn: r.asn,
            as_org: r.as_org.clone(),
            bytes_out: r.bytes_out,
            packets_out: r.packets_out,
            bytes_in: r.bytes_in,
            packets_in: r.packets_in,
            severity: r.severity.map(Severity::from),
            flags: r.flags.clone(),
            tcp_state: r.tcp_state.map(str::to_owned),
            tls_version: r.tls_version.clone(),
            alpn: r.alpn.clone(),
            ja4: r.ja4.clone(),
            ech: r.ech,
            http_method: r.http_method.clone(),
            http_path: r.http_path.clone(),
            user_agent: r.user_agent.clone(),
        }
    }
}

/// One finding about a flow, with its evidence (identifiers appear redacted).
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Alert {
    pub ts: String,
    pub severity: Severity,
    /// snake_case kind: `identifier_leak`, `watched_country`, `tracker`, `cleartext_http`…
    pub kind: String,
    pub proto: String,
    pub src_ip: String,
    pub src_port: u16,
    pub dst_ip: String,
    pub dst_port: u16,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub host: Option<String>,
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub identifier: Option<String>,
    pub encoding: Option<String>,
    pub evidence: String,
    pub owner: Option<String>,
}

impl From<&AlertRecord> for Alert {
    fn from(r: &AlertRecord) -> Self {
        Alert {
            ts: r.ts.clone(),
            severity: r.severity.into(),
            kind: r.kind.as_str().to_owned(),
            proto: r.proto.as_str().to_owned(),
            src_ip: r.src_ip.to_string(),
            src_port: r.src_port,
            dst_ip: r.dst_ip.to_string(),
            dst_port: r.dst_port,
            uid: r.uid,
            app: r.app.clone(),
            host: r.host.clone(),
            country: r.country.clone(),
            asn: r.asn,
            as_org: r.as_org.clone(),
            identifier: r.identifier.clone(),
            encoding: r.encoding.clone(),
            evidence: r.evidence.clone(),
            owner: r.owner.clone(),
        }
    }
}

/// Counters of the engine, for the dashboard and the notification.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct EngineStats {
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

impl From<&MonitorStats> for EngineStats {
    fn from(s: &MonitorStats) -> Self {
        EngineStats {
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

/// One app's share of the recent traffic (uid `None`: flows whose owner is unknown).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AppTraffic {
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub flows: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub alerts: u64,
    /// The highest severity among the app's flows and alerts.
    pub worst: Option<Severity>,
}

/// Sums flows and alerts per uid, most severe first, then by traffic.
pub(crate) fn apps(flows: &[FlowRecord], alerts: &[AlertRecord]) -> Vec<AppTraffic> {
    let mut by_uid: HashMap<Option<u32>, AppTraffic> = HashMap::new();
    for flow in flows {
        let row = app_row(&mut by_uid, flow.uid, flow.app.as_deref());
        row.flows += 1;
        row.bytes_out = row.bytes_out.saturating_add(flow.bytes_out);
        row.bytes_in = row.bytes_in.saturating_add(flow.bytes_in);
        row.worst = row.worst.max(flow.severity.map(Severity::from));
    }
    for alert in alerts {
        let row = app_row(&mut by_uid, alert.uid, alert.app.as_deref());
        row.alerts += 1;
        row.worst = row.worst.max(Some(alert.severity.into()));
    }
    let mut rows: Vec<AppTraffic> = by_uid.into_values().collect();
    let traffic = |row: &AppTraffic| row.bytes_out.saturating_add(row.bytes_in);
    rows.sort_by(|a, b| b.worst.cmp(&a.worst).then(traffic(b).cmp(&traffic(a))).then(a.uid.cmp(&b.uid)));
    rows
}

fn app_row<'a>(
    map: &'a mut HashMap<Option<u32>, AppTraffic>,
    uid: Option<u32>,
    app: Option<&str>,
) -> &'a mut AppTraffic {
    let row = map.entry(uid).or_insert_with(|| AppTraffic {
        uid,
        app: None,
        flows: 0,
        bytes_out: 0,
        bytes_in: 0,
        alerts: 0,
        worst: None,
    });
    if row.app.is_none() {
        row.app = app.map(str::to_owned);
    }
    row
}
