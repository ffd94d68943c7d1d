//! The flow record's text forms: the CSV / JSON-lines column contract that every front end and export keeps.
//!
//! The records themselves are the model's ([`FlowRecord`], [`AlertRecord`]); the first 21 columns are fixed by
//! contract (`CONTRACT_COLUMNS`); columns may only be added after them.

use std::io::Write;

use serde::Serialize;

pub use phonehome_model::{AlertRecord, FlowRecord, HostSource, Proto, L7};

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

/// A record's CSV cells, in [`COLUMNS`] order, not yet neutralised.
pub fn cells(record: &FlowRecord) -> [String; 30] {
    fn opt<T: ToString>(v: &Option<T>) -> String {
        v.as_ref().map(ToString::to_string).unwrap_or_default()
    }
    let list = |items: &[String]| phonehome_model::join_list(items);
    [
        record.first_seen.iso8601(),
        record.last_seen.iso8601(),
        record.proto.to_string(),
        record.src_ip.to_string(),
        record.src_port.to_string(),
        record.dst_ip.to_string(),
        record.dst_port.to_string(),
        opt(&record.uid),
        opt(&record.app),
        opt(&record.l7),
        opt(&record.host),
        opt(&record.host_source),
        opt(&record.country),
        opt(&record.asn),
        opt(&record.as_org),
        record.bytes_out.to_string(),
        record.packets_out.to_string(),
        record.bytes_in.to_string(),
        record.packets_in.to_string(),
        opt(&record.severity),
        list(&record.flags),
        opt(&record.tcp_state),
        opt(&record.tls_version),
        list(&record.alpn),
        opt(&record.ja4),
        opt(&record.ech),
        opt(&record.http_method),
        opt(&record.http_path),
        opt(&record.user_agent),
        list(&record.dns_names),
    ]
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
        let cells = cells(record);
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
    use phonehome_model::fixtures::tls_flow;
    use phonehome_model::Timestamp;

    use super::*;

    /// A TLS flow whose text fields are what breaks naive CSV: commas, quotes, newlines, a formula.
    fn sample() -> FlowRecord {
        FlowRecord {
            dst_ip: "2001:db8::1".parse().unwrap(),
            app: Some("Browser, \"Pro\"\nedition".into()),
            host: Some("=HYPERLINK(\"x\")".into()),
            country: None,
            asn: None,
            as_org: None,
            ja4: None,
            ..tls_flow("app", 10123, "host", Timestamp::from_micros(1_709_294_400_000_000))
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
        // Lists are joined text in JSON as in CSV: an empty flag list is "", other empty lists are null.
        assert!(json.contains("\"flags\":\"\"") && json.contains("\"dns_names\":null"), "{json}");
        assert!(json.contains("\"alpn\":\"h2;http/1.1\"") && json.contains("\"tcp_state\":\"closed\""), "{json}");
        assert!(json.starts_with("{\"first_seen\":\"2024-03-01T12:00:00.000000Z\""), "{json}");
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
        assert_eq!(&row[23], "h2;http/1.1");
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
