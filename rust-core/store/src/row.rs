//! Records to rows and back. Every text column holds the engine's value verbatim so exports are faithful.

use std::net::IpAddr;
use std::str::FromStr;

use phonehome_engine::flow::TcpProgress;
use phonehome_engine::record::AlertRecord;
use phonehome_engine::{FlowRecord, HostSource, Proto, L7};
use phonehome_intel::{AlertKind, Severity};
use rusqlite::types::Type;
use rusqlite::{params, Row, Statement};

use crate::app_key;
use crate::time::parse_timestamp_micros;

pub(crate) const INSERT_FLOW: &str = "INSERT INTO flows (ts_us, last_us, app_key, sev_rank, first_seen, last_seen,
    proto, src_ip, src_port, dst_ip, dst_port, uid, app, l7, host, host_source, country, asn, as_org, bytes_out,
    packets_out, bytes_in, packets_in, severity, flags, tcp_state, tls_version, alpn, ja4, ech, http_method, http_path,
    user_agent, dns_names, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
    ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)";

/// The columns [`flow_from_row`] reads, in [`FlowRecord`] order.
pub(crate) const FLOW_SELECT: &str = "first_seen, last_seen, proto, src_ip, src_port, dst_ip, dst_port, uid, app, l7,
    host, host_source, country, asn, as_org, bytes_out, packets_out, bytes_in, packets_in, severity, flags, tcp_state,
    tls_version, alpn, ja4, ech, http_method, http_path, user_agent, dns_names";

pub(crate) const INSERT_ALERT: &str = "INSERT INTO alerts (ts_us, app_key, sev_rank, ts, severity, kind, proto, src_ip,
    src_port, dst_ip, dst_port, uid, app, host, country, asn, as_org, identifier, encoding, evidence, owner)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";

/// The columns [`alert_from_row`] reads, in [`AlertRecord`] order.
pub(crate) const ALERT_SELECT: &str = "ts, severity, kind, proto, src_ip, src_port, dst_ip, dst_port, uid, app, host,
    country, asn, as_org, identifier, encoding, evidence, owner";

/// Counters are u64 in records and i64 in SQLite; a count past 2^63 is not a real flow.
fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The rank stored for a flow's severity (`None` when it has none).
pub(crate) fn flow_severity_rank(record: &FlowRecord) -> Option<i64> {
    record.severity.map(|severity| severity as i64)
}

/// A flow's start and end in microseconds (0 for an unparseable start, the start for an unparseable end).
pub(crate) fn flow_span_us(record: &FlowRecord) -> (i64, i64) {
    let first_us = parse_timestamp_micros(&record.first_seen).unwrap_or(0);
    (first_us, parse_timestamp_micros(&record.last_seen).unwrap_or(first_us))
}

pub(crate) fn insert_flow(
    statement: &mut Statement<'_>,
    record: &FlowRecord,
    (first_us, last_us): (i64, i64),
    app_key: &str,
    evidence: &str,
) -> rusqlite::Result<()> {
    statement.execute(params![
        first_us,
        last_us,
        app_key,
        flow_severity_rank(record),
        record.first_seen,
        record.last_seen,
        record.proto.as_str(),
        record.src_ip.to_string(),
        record.src_port,
        record.dst_ip.to_string(),
        record.dst_port,
        record.uid,
        record.app,
        record.l7.map(L7::as_str),
        record.host,
        record.host_source.map(HostSource::as_str),
        record.country,
        record.asn,
        record.as_org,
        count(record.bytes_out),
        count(record.packets_out),
        count(record.bytes_in),
        count(record.packets_in),
        record.severity.map(Severity::as_str),
        record.flags,
        record.tcp_state,
        record.tls_version,
        record.alpn,
        record.ja4,
        record.ech,
        record.http_method,
        record.http_path,
        record.user_agent,
        record.dns_names,
        (!evidence.is_empty()).then_some(evidence),
    ])?;
    Ok(())
}

pub(crate) fn insert_alert(statement: &mut Statement<'_>, alert: &AlertRecord) -> rusqlite::Result<()> {
    statement.execute(params![
        parse_timestamp_micros(&alert.ts).unwrap_or(0),
        app_key(alert.uid, alert.app.as_deref()),
        alert.severity as i64,
        alert.ts,
        alert.severity.as_str(),
        alert.kind.as_str(),
        alert.proto.as_str(),
        alert.src_ip.to_string(),
        alert.src_port,
        alert.dst_ip.to_string(),
        alert.dst_port,
        alert.uid,
        alert.app,
        alert.host,
        alert.country,
        alert.asn,
        alert.as_org,
        alert.identifier,
        alert.encoding,
        alert.evidence,
        alert.owner,
    ])?;
    Ok(())
}

/// A column whose text must be one of a fixed vocabulary.
fn vocabulary<T: Copy>(
    row: &Row<'_>,
    index: usize,
    values: &[T],
    name: impl Fn(T) -> &'static str,
) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    values.iter().copied().find(|value| name(*value) == text).ok_or_else(|| invalid(index, &text))
}

fn optional_vocabulary<T: Copy>(
    row: &Row<'_>,
    index: usize,
    values: &[T],
    name: impl Fn(T) -> &'static str,
) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(index)? {
        None => Ok(None),
        Some(text) => {
            values.iter().copied().find(|value| name(*value) == text).map(Some).ok_or_else(|| invalid(index, &text))
        }
    }
}

fn parsed<T: FromStr>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    text.parse().map_err(|_| invalid(index, &text))
}

fn unsigned(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|_| invalid(index, &value.to_string()))
}

fn invalid(index: usize, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, format!("unexpected value {text:?}").into())
}

/// A label from a newer engine reads back as `unknown` rather than failing a whole export.
fn tcp_state(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<&'static str>> {
    let label: Option<String> = row.get(index)?;
    Ok(label.map(|label| TcpProgress::LABELS.iter().copied().find(|known| *known == label).unwrap_or("unknown")))
}

/// Reads a row selected with [`FLOW_SELECT`].
pub(crate) fn flow_from_row(row: &Row<'_>) -> rusqlite::Result<FlowRecord> {
    Ok(FlowRecord {
        first_seen: row.get(0)?,
        last_seen: row.get(1)?,
        proto: vocabulary(row, 2, &Proto::ALL, Proto::as_str)?,
        src_ip: parsed::<IpAddr>(row, 3)?,
        src_port: row.get(4)?,
        dst_ip: parsed::<IpAddr>(row, 5)?,
        dst_port: row.get(6)?,
        uid: row.get(7)?,
        app: row.get(8)?,
        l7: optional_vocabulary(row, 9, &L7::ALL, L7::as_str)?,
        host: row.get(10)?,
        host_source: optional_vocabulary(row, 11, &HostSource::ALL, HostSource::as_str)?,
        country: row.get(12)?,
        asn: row.get(13)?,
        as_org: row.get(14)?,
        bytes_out: unsigned(row, 15)?,
        packets_out: unsigned(row, 16)?,
        bytes_in: unsigned(row, 17)?,
        packets_in: unsigned(row, 18)?,
        severity: optional_vocabulary(row, 19, &Severity::ALL, Severity::as_str)?,
        flags: row.get(20)?,
        tcp_state: tcp_state(row, 21)?,
        tls_version: row.get(22)?,
        alpn: row.get(23)?,
        ja4: row.get(24)?,
        ech: row.get(25)?,
        http_method: row.get(26)?,
        http_path: row.get(27)?,
        user_agent: row.get(28)?,
        dns_names: row.get(29)?,
    })
}

/// Reads a row selected with [`ALERT_SELECT`].
pub(crate) fn alert_from_row(row: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        ts: row.get(0)?,
        severity: vocabulary(row, 1, &Severity::ALL, Severity::as_str)?,
        kind: vocabulary(row, 2, &AlertKind::ALL, AlertKind::as_str)?,
        proto: vocabulary(row, 3, &Proto::ALL, Proto::as_str)?,
        src_ip: parsed::<IpAddr>(row, 4)?,
        src_port: row.get(5)?,
        dst_ip: parsed::<IpAddr>(row, 6)?,
        dst_port: row.get(7)?,
        uid: row.get(8)?,
        app: row.get(9)?,
        host: row.get(10)?,
        country: row.get(11)?,
        asn: row.get(12)?,
        as_org: row.get(13)?,
        identifier: row.get(14)?,
        encoding: row.get(15)?,
        evidence: row.get(16)?,
        owner: row.get(17)?,
    })
}
