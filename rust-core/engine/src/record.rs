//! The flow record: the CSV / JSON-lines column contract that every front end and export keeps.
//!
//! The first 21 columns are fixed by contract (`CONTRACT_COLUMNS`); columns may only be added after them.

use std::fmt;
use std::io::Write;
use std::net::IpAddr;

use serde::Serialize;

/// Transport protocol of a flow, as written in the `proto` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Proto {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "ICMP")]
    Icmp,
}

impl Proto {
    pub const ALL: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Icmp];

    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
            Proto::Icmp => "ICMP",
        }
    }

    /// IANA protocol number (ICMP counts as 1 whatever the IP version).
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Application protocol recognised in a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum L7 {
    Dns,
    Tls,
    Http,
    Quic,
    /// HTTP/2 in cleartext (h2c).
    #[serde(rename = "HTTP2")]
    Http2,
}

impl L7 {
    pub const ALL: [L7; 5] = [L7::Dns, L7::Tls, L7::Http, L7::Quic, L7::Http2];

    pub fn as_str(self) -> &'static str {
        match self {
            L7::Dns => "DNS",
            L7::Tls => "TLS",
            L7::Http => "HTTP",
            L7::Quic => "QUIC",
            L7::Http2 => "HTTP2",
        }
    }
}

/// Where a flow's `host` came from, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostSource {
    /// TLS server_name of the ClientHello.
    Sni,
    /// server_name of the ClientHello inside a QUIC Initial.
    Quic,
    /// HTTP Host header.
    Http,
    /// The question of a DNS flow, or a DNS answer that resolved to this flow's server address.
    Dns,
}

impl HostSource {
    pub const ALL: [HostSource; 4] = [HostSource::Sni, HostSource::Quic, HostSource::Http, HostSource::Dns];

    pub fn as_str(self) -> &'static str {
        match self {
            HostSource::Sni => "sni",
            HostSource::Quic => "quic",
            HostSource::Http => "http",
            HostSource::Dns => "dns",
        }
    }
}

/// One finished (or flushed) flow. `src` is the client. Field order = column order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowRecord {
    pub first_seen: String,
    pub last_seen: String,
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
    pub severity: Option<phonehome_intel::Severity>,
    /// Short tags separated by `;` (e.g. `cleartext;dns_uncertain`).
    pub flags: String,
    // ---- additions after the contract ----
    /// TCP: how the flow ended (`closed`, `reset`, `open`, `midstream`…).
    pub tcp_state: Option<&'static str>,
    pub tls_version: Option<String>,
    /// ALPN protocols offered by the client, separated by `;`.
    pub alpn: Option<String>,
    pub ja4: Option<String>,
    pub ech: Option<bool>,
    pub http_method: Option<String>,
    pub http_path: Option<String>,
    pub user_agent: Option<String>,
    /// DNS names separated by `;`: every question of a DNS flow; for another flow, the name its server's
    /// address was resolved from (when a DNS answer gave it).
    pub dns_names: Option<String>,
}

/// One alert: a finding about a flow, with the flow's identity and the evidence that triggered it.
/// Written as JSON lines by `--alerts`; field names are a contract like the flow columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRecord {
    /// When the evidence was seen (ISO 8601 UTC).
    pub ts: String,
    pub severity: phonehome_intel::Severity,
    pub kind: phonehome_intel::AlertKind,
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
    /// The alert for a verdict on a flow, dated at the flow's start.
    pub fn new(flow: &FlowRecord, verdict: crate::judge::Verdict) -> Self {
        AlertRecord {
            ts: flow.first_seen.clone(),
            severity: verdict.finding.severity,
            kind: verdict.finding.kind,
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
            identifier: verdict.identifier,
            encoding: verdict.encoding,
            evidence: verdict.finding.evidence,
            owner: verdict.finding.owner,
        }
    }
}

/// All columns of [`FlowRecord`], in order.
pub const COLUMNS: [&str; 30] = [
    "first_seen",
    "last_seen",
    "proto",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "uid",
    "app",
    "l7",
    "host",
    "host_source",
    "country",
    "asn",
    "as_org",
    "bytes_out",
    "packets_out",
    "bytes_in",
    "packets_in",
    "severity",
    "flags",
    "tcp_state",
    "tls_version",
    "alpn",
    "ja4",
    "ech",
    "http_method",
    "http_path",
    "user_agent",
    "dns_names",
];

/// The columns every export starts with, in order: a contract, columns are only added after them.
pub const CONTRACT_COLUMNS: &[&str] = COLUMNS.split_at(21).0;

impl FlowRecord {
    /// The CSV cells, in [`COLUMNS`] order, not yet neutralised.
    pub fn cells(&self) -> [String; 30] {
        fn opt<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map(ToString::to_string).unwrap_or_default()
        }
        [
            self.first_seen.clone(),
            self.last_seen.clone(),
            self.proto.to_string(),
            self.src_ip.to_string(),
            self.src_port.to_string(),
            self.dst_ip.to_string(),
            self.dst_port.to_string(),
            opt(&self.uid),
            opt(&self.app),
            self.l7.map(L7::as_str).unwrap_or_default().to_owned(),
            opt(&self.host),
            self.host_source.map(HostSource::as_str).unwrap_or_default().to_owned(),
            opt(&self.country),
            opt(&self.asn),
            opt(&self.as_org),
            self.bytes_out.to_string(),
            self.packets_out.to_string(),
            self.bytes_in.to_string(),
            self.packets_in.to_string(),
            opt(&self.severity),
            self.flags.clone(),
            opt(&self.tcp_state),
            opt(&self.tls_version),
            opt(&self.alpn),
            opt(&self.ja4),
            opt(&self.ech),
            opt(&self.http_method),
            opt(&self.http_path),
            opt(&self.user_agent),
            opt(&self.dns_names),
        ]
    }
}

/// Prefixes a cell that a spreadsheet would run as a formula with `'` (OWASP CSV injection advice).
pub fn neutralise_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes flow records as RFC 4180 CSV (CRLF line ends, quoted where needed, formulas neutralised).
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// Starts the file with the header row.
    pub fn new(out: W) -> csv::Result<Self> {
        let mut inner = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
        inner.write_record(COLUMNS)?;
        Ok(CsvWriter { inner })
    }

    pub fn write(&mut self, record: &FlowRecord) -> csv::Result<()> {
        let cells = record.cells();
        self.inner.write_record(cells.iter().map(|c| neutralise_formula(c).into_owned()))
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.inner.flush()?;
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// Writes any serialisable record as one JSON object per line.
pub fn write_json_line<W: Write, T: Serialize>(out: &mut W, record: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FlowRecord {
        FlowRecord {
            first_seen: "2024-03-01T12:00:00.000000Z".into(),
            last_seen: "2024-03-01T12:00:01.000000Z".into(),
            proto: Proto::Tcp,
            src_ip: "10.0.0.2".parse().unwrap(),
            src_port: 40000,
            dst_ip: "2001:db8::1".parse().unwrap(),
            dst_port: 443,
            uid: Some(10123),
            app: Some("Browser, \"Pro\"\nedition".into()),
            l7: Some(L7::Tls),
            host: Some("=HYPERLINK(\"x\")".into()),
            host_source: Some(HostSource::Sni),
            country: None,
            asn: None,
            as_org: None,
            bytes_out: 517,
            packets_out: 3,
            bytes_in: 4000,
            packets_in: 4,
            severity: None,
            flags: String::new(),
            tcp_state: Some("closed"),
            tls_version: Some("1.3".into()),
            alpn: Some("h2;http/1.1".into()),
            ja4: None,
            ech: Some(false),
            http_method: None,
            http_path: None,
            user_agent: None,
            dns_names: None,
        }
    }

    #[test]
    fn column_lists_match_the_serialised_fields_in_order() {
        // Serialising a struct streams its fields in declaration order: the JSON line has the CSV's column order.
        let json = serde_json::to_string(&sample()).unwrap();
        let positions: Vec<usize> =
            COLUMNS.iter().map(|c| json.find(&format!("\"{c}\":")).unwrap_or_else(|| panic!("{c} missing"))).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap().as_object().unwrap().len(), COLUMNS.len());
        // The contract as the capture-analysis issue spells it: changing it breaks users' scripts.
        assert_eq!(
            CONTRACT_COLUMNS.join(","),
            "first_seen,last_seen,proto,src_ip,src_port,dst_ip,dst_port,uid,app,l7,host,host_source,country,asn,\
             as_org,bytes_out,packets_out,bytes_in,packets_in,severity,flags"
        );
    }

    #[test]
    fn csv_is_rfc4180_and_neutralises_formulas() {
        let mut writer = CsvWriter::new(Vec::new()).unwrap();
        writer.write(&sample()).unwrap();
        let bytes = writer.finish().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("first_seen,last_seen,proto,src_ip,src_port,dst_ip,dst_port,uid,app,l7,host,"));
        assert!(text.contains("\r\n"));
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[8], "Browser, \"Pro\"\nedition");
        assert_eq!(&row[10], "'=HYPERLINK(\"x\")");
        assert_eq!(&row[5], "2001:db8::1");
        assert_eq!(row.len(), COLUMNS.len());
    }

    #[test]
    fn neutralises_every_formula_prefix() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise_formula(cell).starts_with('\''), "{cell:?}");
        }
        assert_eq!(neutralise_formula("example.com"), "example.com");
        assert_eq!(neutralise_formula(""), "");
    }
}
