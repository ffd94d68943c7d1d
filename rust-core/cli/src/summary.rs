//! The terminal summary: totals, top destinations and top apps by bytes.

use std::collections::HashMap;
use std::fmt::Write as _;

use phonehome_engine::{AlertRecord, FlowRecord};
use phonehome_intel::Severity;
pub use phonehome_report::human_bytes;
use phonehome_report::terminal_text;

/// Characters of a name (host, app) shown in the terminal; the files keep names whole.
const NAME_CHARS: usize = 80;
/// Characters of an alert's evidence shown in the terminal.
const EVIDENCE_CHARS: usize = 160;

/// Bytes and flows of one row of a summary table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub flows: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
}

impl Tally {
    fn add(&mut self, record: &FlowRecord) {
        self.flows += 1;
        self.bytes_out += record.bytes_out;
        self.bytes_in += record.bytes_in;
    }

    fn bytes(&self) -> u64 {
        self.bytes_out + self.bytes_in
    }
}

/// Alerts of one kind from one app (or client) to one destination.
#[derive(Debug)]
pub struct AlertGroup {
    pub count: u64,
    /// The first alert's evidence, as an example.
    pub evidence: String,
}

/// Rows kept per summary table: a long `run` meets unbounded distinct hosts; the rest is counted as "others".
const MAX_ROWS: usize = 50_000;

/// The row `key` goes to: itself while the table has room, else the catch-all row.
fn row_key(table_len: usize, present: bool, key: String) -> String {
    if present || table_len < MAX_ROWS {
        key
    } else {
        "(others)".to_owned()
    }
}

/// (severity, kind and identifier, app or client, destination)
type AlertKey = (Severity, String, String, String);

#[derive(Debug, Default)]
pub struct Summary {
    pub total: Tally,
    pub by_l7: HashMap<&'static str, Tally>,
    pub by_host: HashMap<String, Tally>,
    pub by_app: HashMap<String, Tally>,
    pub alerts: HashMap<AlertKey, AlertGroup>,
}

impl Summary {
    pub fn add(&mut self, record: &FlowRecord) {
        self.total.add(record);
        self.by_l7.entry(record.l7.map_or("other", |l7| l7.as_str())).or_default().add(record);
        let destination = match &record.host {
            Some(host) => host.to_ascii_lowercase(),
            None => record.dst_ip.to_string(),
        };
        let destination = row_key(self.by_host.len(), self.by_host.contains_key(&destination), destination);
        self.by_host.entry(destination).or_default().add(record);
        if let Some(uid) = record.uid {
            let app = record.app.clone().unwrap_or_else(|| format!("uid {uid}"));
            self.by_app.entry(app).or_default().add(record);
        }
    }

    pub fn add_alert(&mut self, alert: AlertRecord) {
        let party = match (&alert.app, alert.uid) {
            (Some(app), _) => app.clone(),
            (None, Some(uid)) => format!("uid {uid}"),
            (None, None) => alert.src_ip.to_string(),
        };
        let destination = alert.host.clone().unwrap_or_else(|| alert.dst_ip.to_string());
        let what = match &alert.identifier {
            Some(identifier) => format!("{} ({identifier})", alert.kind.as_str()),
            None => alert.kind.as_str().to_owned(),
        };
        let key = (alert.severity, what, party, destination);
        let key = if self.alerts.contains_key(&key) || self.alerts.len() < MAX_ROWS {
            key
        } else {
            (key.0, key.1, "(others)".to_owned(), "(others)".to_owned())
        };
        let group = self.alerts.entry(key).or_insert_with(|| AlertGroup { count: 0, evidence: alert.evidence });
        group.count += 1;
    }

    /// Renders the tables, `top` rows each.
    pub fn render(&self, top: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} flows, {} sent, {} received",
            self.total.flows,
            human_bytes(self.total.bytes_out),
            human_bytes(self.total.bytes_in)
        );
        let mut l7: Vec<_> = self.by_l7.iter().collect();
        l7.sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then(a.0.cmp(b.0)));
        let parts: Vec<String> = l7.iter().map(|(name, tally)| format!("{name} {}", tally.flows)).collect();
        let _ = writeln!(out, "by protocol: {}", parts.join(", "));
        render_table(&mut out, "Top destinations by bytes", "destination", &self.by_host, top);
        if !self.by_app.is_empty() {
            render_table(&mut out, "Top apps by bytes", "app", &self.by_app, top);
        }
        self.render_alerts(&mut out, top);
        out
    }

    /// Alerts by severity (worst first), then by app and destination.
    fn render_alerts(&self, out: &mut String, top: usize) {
        let total: u64 = self.alerts.values().map(|g| g.count).sum();
        let _ = writeln!(out, "\nAlerts: {total}");
        for severity in [Severity::High, Severity::Medium, Severity::Low, Severity::Info] {
            let mut rows: Vec<_> = self.alerts.iter().filter(|((s, ..), _)| *s == severity).collect();
            if rows.is_empty() {
                continue;
            }
            rows.sort_by(|a, b| (&a.0 .2, &a.0 .3, &a.0 .1).cmp(&(&b.0 .2, &b.0 .3, &b.0 .1)));
            let count: u64 = rows.iter().map(|(_, g)| g.count).sum();
            let _ = writeln!(out, "  {} ({count})", severity.as_str().to_uppercase());
            let shown = if severity >= Severity::Medium { rows.len() } else { top };
            for ((_, kind, party, destination), group) in rows.iter().take(shown) {
                let times = if group.count > 1 { format!(" ×{}", group.count) } else { String::new() };
                let _ = writeln!(
                    out,
                    "    {} → {}: {}{times} — {}",
                    terminal_text(party, NAME_CHARS),
                    terminal_text(destination, NAME_CHARS),
                    terminal_text(kind, NAME_CHARS),
                    terminal_text(&group.evidence, EVIDENCE_CHARS)
                );
            }
            if rows.len() > shown {
                let _ = writeln!(out, "    … {} more", rows.len() - shown);
            }
        }
    }
}

fn render_table(out: &mut String, title: &str, label: &str, rows: &HashMap<String, Tally>, top: usize) {
    let mut rows: Vec<_> = rows.iter().collect();
    rows.sort_by(|a, b| b.1.bytes().cmp(&a.1.bytes()).then(a.0.cmp(b.0)));
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(out, "  {:>10}  {:>10}  {:>6}  {label}", "sent", "received", "flows");
    for (name, tally) in rows.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>10}  {:>10}  {:>6}  {}",
            human_bytes(tally.bytes_out),
            human_bytes(tally.bytes_in),
            tally.flows,
            terminal_text(name, NAME_CHARS)
        );
    }
    if rows.len() > top {
        let _ = writeln!(out, "  … {} more", rows.len() - top);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_past_the_limit_go_to_others() {
        assert_eq!(row_key(MAX_ROWS - 1, false, "new.example".into()), "new.example");
        assert_eq!(row_key(MAX_ROWS, false, "late.example".into()), "(others)");
        assert_eq!(row_key(MAX_ROWS, true, "known.example".into()), "known.example");
    }
}
