//! The terminal summary: totals, top destinations and top apps by bytes.

use std::collections::HashMap;
use std::fmt::Write as _;

use phonehome_engine::FlowRecord;

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

#[derive(Debug, Default)]
pub struct Summary {
    pub total: Tally,
    pub by_l7: HashMap<&'static str, Tally>,
    pub by_host: HashMap<String, Tally>,
    pub by_app: HashMap<String, Tally>,
}

impl Summary {
    pub fn add(&mut self, record: &FlowRecord) {
        self.total.add(record);
        self.by_l7.entry(record.l7.map_or("other", |l7| l7.as_str())).or_default().add(record);
        let destination = match &record.host {
            Some(host) => host.to_ascii_lowercase(),
            None => record.dst_ip.to_string(),
        };
        self.by_host.entry(destination).or_default().add(record);
        if let Some(uid) = record.uid {
            let app = record.app.clone().unwrap_or_else(|| format!("uid {uid}"));
            self.by_app.entry(app).or_default().add(record);
        }
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
        out
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
            printable(name)
        );
    }
    if rows.len() > top {
        let _ = writeln!(out, "  … {} more", rows.len() - top);
    }
}

/// Host names come from the wire: keep control characters out of the terminal.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_uses_si_units() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 KB");
        assert_eq!(human_bytes(2_000_000), "2.0 MB");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(printable("evil\u{1b}[2Jhost"), "evil\u{fffd}[2Jhost");
    }
}
