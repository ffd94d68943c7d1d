//! phonehome-report: the owner's report from a history store — per-app summary, per-app timeline, countries and
//! networks — for a terminal or as one self-contained HTML page (inline CSS and SVG, no script, every text
//! escaped). The CLI (`phonehome report`) and the app (`HistoryReader.exportReportHtml`) render the same.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use phonehome_model::Timestamp;
use phonehome_store::{AppSummary, CountryNetwork, DestinationSummary, History, StoreError, TimelineBucket};

/// Destinations listed per app.
const TOP_DESTINATIONS: u32 = 5;
/// Columns of the timeline at most.
const MAX_BUCKETS: i64 = 48;
/// Bucket widths a reader can name, in seconds.
const BUCKET_WIDTHS: [i64; 10] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400, 30 * 86_400];

/// Everything the report shows, gathered from a store.
#[derive(Clone, Debug)]
pub struct Report {
    pub apps: Vec<AppSummary>,
    pub networks: Vec<CountryNetwork>,
    /// Start of the timeline, microseconds since the epoch.
    pub start_us: i64,
    /// Width of one timeline bucket in microseconds.
    pub bucket_us: i64,
    /// Number of buckets.
    pub buckets: u32,
    /// Per app, its non-empty buckets in order.
    pub timeline: BTreeMap<String, Vec<TimelineBucket>>,
    /// Per app, its destinations with the most bytes.
    pub top_destinations: BTreeMap<String, Vec<DestinationSummary>>,
}

/// Flows per bucket of one app, zeros included.
fn dense(buckets: &[TimelineBucket], count: u32) -> Vec<(u64, u64)> {
    let mut values = vec![(0, 0); count as usize];
    for bucket in buckets {
        if let Some(slot) = values.get_mut(bucket.bucket as usize) {
            *slot = (bucket.flows, bucket.alerts);
        }
    }
    values
}

/// Bytes in SI units (`1.5 KB`), as every terminal table of phonehome shows them.
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
        format!("{value:.1} {}", UNITS.get(unit).unwrap_or(&"B"))
    }
}

fn human_width(bucket_us: i64) -> String {
    let seconds = bucket_us / 1_000_000;
    match seconds {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Text from the device or the wire (app and host names, evidence) made safe for a terminal: control
/// characters, bidi controls (`abc\u{202e}gpj.exe` would show as `abcexe.jpg`), the BOM and the line and
/// paragraph separators become U+FFFD; past `max_chars` characters the text is cut with `…`.
pub fn terminal_text(text: &str, max_chars: usize) -> String {
    let spoofing = |c: char| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
            || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
    };
    let safe = text.chars().map(|c| if spoofing(c) { '\u{fffd}' } else { c });
    if text.chars().nth(max_chars).is_none() {
        return safe.collect();
    }
    safe.take(max_chars.saturating_sub(1)).chain(['…']).collect()
}

/// The name shown for an app: its name, else its uid, else "unknown".
pub fn display_name(app: &AppSummary) -> String {
    match (&app.app, app.uid) {
        (Some(name), _) => name.clone(),
        (None, Some(uid)) => format!("uid {uid}"),
        (None, None) => "unknown".to_owned(),
    }
}

impl Report {
    /// Gathers the report from a store.
    pub fn build(history: &History) -> Result<Report, StoreError> {
        let apps = history.apps()?;
        let networks = history.countries_and_networks()?;
        let (start_us, end_us) = history.time_span()?.unwrap_or((0, 0));
        let span_s = (end_us - start_us) / 1_000_000 + 1;
        let width_s = BUCKET_WIDTHS
            .iter()
            .copied()
            .find(|width| (span_s + width - 1) / width <= MAX_BUCKETS)
            .unwrap_or_else(|| (span_s + MAX_BUCKETS - 1) / MAX_BUCKETS);
        let bucket_us = width_s.saturating_mul(1_000_000);
        let start_us = start_us - start_us.rem_euclid(bucket_us);
        let buckets = u32::try_from(((end_us - start_us) / bucket_us + 1).clamp(1, MAX_BUCKETS)).unwrap_or(1);
        let mut timeline: BTreeMap<String, Vec<TimelineBucket>> = BTreeMap::new();
        for bucket in history.timeline(start_us, bucket_us)? {
            timeline.entry(bucket.app_key.clone()).or_default().push(bucket);
        }
        let mut top_destinations = BTreeMap::new();
        for app in &apps {
            top_destinations.insert(app.app_key.clone(), history.top_destinations(&app.app_key, TOP_DESTINATIONS)?);
        }
        Ok(Report { apps, networks, start_us, bucket_us, buckets, timeline, top_destinations })
    }

    fn destinations_of(&self, app: &AppSummary) -> &[DestinationSummary] {
        self.top_destinations.get(&app.app_key).map_or(&[], Vec::as_slice)
    }

    fn app_timeline(&self, app: &AppSummary) -> Vec<(u64, u64)> {
        dense(self.timeline.get(&app.app_key).map_or(&[], Vec::as_slice), self.buckets)
    }

    /// The report for a terminal: tables and one sparkline per app.
    pub fn write_text<W: Write>(&self, mut out: W) -> io::Result<()> {
        writeln!(out, "phonehome report: {} apps", self.apps.len())?;
        if self.apps.is_empty() {
            writeln!(out, "the store holds no flows yet")?;
            return out.flush();
        }
        writeln!(
            out,
            "{:<32} {:>8} {:>8} {:>6} {:>10} {:>10} {:>6}  {:<6}  countries",
            "app", "uid", "flows", "dests", "sent", "received", "alerts", "worst"
        )?;
        for app in &self.apps {
            writeln!(
                out,
                "{:<32} {:>8} {:>8} {:>6} {:>10} {:>10} {:>6}  {:<6}  {}",
                terminal_text(&display_name(app), 32),
                app.uid.map(|uid| uid.to_string()).unwrap_or_default(),
                app.flows,
                app.destinations,
                human_bytes(app.bytes_out),
                human_bytes(app.bytes_in),
                app.alerts,
                app.max_severity.map_or("", |s| s.as_str()),
                terminal_text(&app.countries.join(" "), 60),
            )?;
        }
        writeln!(
            out,
            "\ntimeline from {}, one column = {} (flows; ! = alerts)",
            Timestamp::from_micros_i64(self.start_us).iso8601(),
            human_width(self.bucket_us)
        )?;
        const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        for app in &self.apps {
            let values = self.app_timeline(app);
            let max = values.iter().map(|(flows, _)| *flows).max().unwrap_or(0).max(1);
            let line: String = values
                .iter()
                .map(|(flows, alerts)| match (*flows, *alerts) {
                    (_, a) if a > 0 => '!',
                    (0, _) => ' ',
                    (f, _) => LEVELS.get(((f * 7).div_ceil(max)) as usize).copied().unwrap_or('█'),
                })
                .collect();
            writeln!(out, "{:<32} |{line}|", terminal_text(&display_name(app), 32))?;
        }
        writeln!(out, "\ntop destinations (bytes)")?;
        for app in &self.apps {
            let names: Vec<String> = self
                .destinations_of(app)
                .iter()
                .map(|d| format!("{} ({})", terminal_text(&d.destination, 80), human_bytes(d.bytes)))
                .collect();
            writeln!(out, "{:<32} {}", terminal_text(&display_name(app), 32), names.join(", "))?;
        }
        writeln!(
            out,
            "\n{:<8} {:>10} {:<40} {:>6} {:>8} {:>10}",
            "country", "asn", "network", "dests", "flows", "bytes"
        )?;
        for network in &self.networks {
            writeln!(
                out,
                "{:<8} {:>10} {:<40} {:>6} {:>8} {:>10}",
                terminal_text(network.country.as_deref().unwrap_or("?"), 8),
                network.asn.map(|asn| format!("AS{asn}")).unwrap_or_default(),
                terminal_text(network.as_org.as_deref().unwrap_or(""), 40),
                network.destinations,
                network.flows,
                human_bytes(network.bytes),
            )?;
        }
        out.flush()
    }

    /// The report as one self-contained HTML page.
    pub fn write_html<W: Write>(&self, mut out: W) -> io::Result<()> {
        let mut page = String::with_capacity(16 * 1024);
        page.push_str(HTML_HEAD);
        if self.apps.is_empty() {
            page.push_str("<h1>phonehome report</h1><p>The store holds no flows yet.</p></body></html>\n");
            out.write_all(page.as_bytes())?;
            return out.flush();
        }
        let _ = write!(
            page,
            "<h1>phonehome report</h1><p>{} apps · timeline from {} · one bar = {}</p>",
            self.apps.len(),
            text(&Timestamp::from_micros_i64(self.start_us).iso8601()),
            text(&human_width(self.bucket_us))
        );
        page.push_str(
            "<h2>Apps</h2><table><tr><th>App</th><th>uid</th><th>Flows</th><th>Destinations</th><th>Countries</th>\
             <th>Sent</th><th>Received</th><th>Alerts</th><th>Worst</th><th>Top destinations</th>\
             <th>Timeline (flows; red: alerts)</th></tr>",
        );
        for app in &self.apps {
            let severity = app.max_severity.map_or("", |s| s.as_str());
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td class=n>{}</td>\
                 <td class=n>{}</td><td class=n>{}</td><td class=\"sev {}\">{}</td><td class=d>",
                text(&display_name(app)),
                app.uid.map(|uid| uid.to_string()).unwrap_or_default(),
                app.flows,
                app.destinations,
                text(&app.countries.join(" ")),
                text(&human_bytes(app.bytes_out)),
                text(&human_bytes(app.bytes_in)),
                app.alerts,
                attr(severity),
                text(severity),
            );
            for destination in self.destinations_of(app) {
                let _ = write!(
                    page,
                    "<div>{} <span class=m>{}</span></div>",
                    text(&destination.destination),
                    text(&human_bytes(destination.bytes))
                );
            }
            page.push_str("</td><td>");
            self.write_chart(&mut page, app);
            page.push_str("</td></tr>");
        }
        page.push_str(
            "</table><h2>Countries and networks</h2><table><tr><th>Country</th><th>ASN</th><th>Network</th>\
             <th>Destinations</th><th>Flows</th><th>Bytes</th></tr>",
        );
        for network in &self.networks {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                text(network.country.as_deref().unwrap_or("?")),
                network.asn.map(|asn| format!("AS{asn}")).unwrap_or_default(),
                text(network.as_org.as_deref().unwrap_or("")),
                network.destinations,
                network.flows,
                text(&human_bytes(network.bytes)),
            );
        }
        page.push_str("</table></body></html>\n");
        out.write_all(page.as_bytes())?;
        out.flush()
    }

    /// One inline SVG bar chart of an app's flows per bucket; buckets with alerts are red.
    fn write_chart(&self, page: &mut String, app: &AppSummary) {
        const BAR: u32 = 6;
        const HEIGHT: u64 = 40;
        let values = self.app_timeline(app);
        let max = values.iter().map(|(flows, _)| *flows).max().unwrap_or(0).max(1);
        let _ = write!(
            page,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{HEIGHT}\" viewBox=\"0 0 {w} {HEIGHT}\" \
             role=\"img\"><title>{}</title><rect width=\"{w}\" height=\"{HEIGHT}\" class=\"bg\"/>",
            text(&format!("{}: flows per {}", display_name(app), human_width(self.bucket_us))),
            w = self.buckets * BAR,
        );
        for (index, (flows, alerts)) in (0u32..).zip(values) {
            if flows == 0 && alerts == 0 {
                continue;
            }
            let height = (flows * (HEIGHT - 2)).div_ceil(max).max(2);
            let class = if alerts > 0 { "alert" } else { "bar" };
            let _ = write!(
                page,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{height}\" class=\"{class}\"><title>{flows} flows, \
                 {alerts} alerts</title></rect>",
                index * BAR,
                HEIGHT - height,
                BAR - 1,
            );
        }
        page.push_str("</svg>");
    }
}

const HTML_HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>phonehome report</title><style>\
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f23;background:#fff}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}\
table{border-collapse:collapse}th,td{padding:4px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}\
th{background:#f3f5f7}td.d{font-size:12px;max-width:320px;overflow-wrap:anywhere}.m{color:#57606a}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.sev.high{color:#b00020;font-weight:bold}.sev.medium{color:#b35900}\
svg .bg{fill:#f3f5f7}svg .bar{fill:#2f6fb3}svg .alert{fill:#d0302f}\
</style></head><body>";

#[cfg(test)]
mod tests {
    #[test]
    fn human_bytes_uses_si_units() {
        assert_eq!(super::human_bytes(999), "999 B");
        assert_eq!(super::human_bytes(1_500), "1.5 KB");
        assert_eq!(super::human_bytes(2_000_000), "2.0 MB");
    }

    #[test]
    fn terminal_text_neutralises_spoofing_and_cuts_long_names() {
        use super::terminal_text;
        assert_eq!(terminal_text("abc\u{202e}gpj.exe", 80), "abc\u{fffd}gpj.exe");
        for spoof in ['\u{202a}', '\u{202d}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{feff}', '\u{2028}'] {
            assert_eq!(terminal_text(&format!("a{spoof}b"), 80), "a\u{fffd}b", "{:?}", spoof);
        }
        assert_eq!(terminal_text("evil\u{1b}[2Jhost", 80), "evil\u{fffd}[2Jhost");
        assert_eq!(terminal_text("Ünïcødé.example", 80), "Ünïcødé.example");
        assert_eq!(terminal_text("abcdef", 6), "abcdef");
        assert_eq!(terminal_text("abcdefg", 6), "abcde…");
    }
}
