//! Records to rows and back: the typed records meet SQL's text and integers here, and only here.

use std::net::IpAddr;
use std::str::FromStr;

use phonehome_model::{join_list, split_list, AlertRecord, FlowRecord, TcpState, Timestamp};
use rusqlite::types::Type;
use rusqlite::{params, Row, Statement};

use crate::app_key;

pub(crate) const INSERT_FLOW: &str = "INSERT INTO flows (ts_us, last_us, app_key, sev_rank, proto, src_ip, src_port,
    dst_ip, dst_port, uid, app, l7, host, host_source, country, asn, as_org, bytes_out, packets_out, bytes_in,
    packets_in, severity, flags, tcp_state, tls_version, alpn, ja4, ech, http_method, http_path, user_agent, dns_names,
    evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
    ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)";

/// The columns [`flow_from_row`] reads, in [`FlowRecord`] order.
pub(crate) const FLOW_SELECT: &str = "ts_us, last_us, proto, src_ip, src_port, dst_ip, dst_port, uid, app, l7, host,
    host_source, country, asn, as_org, bytes_out, packets_out, bytes_in, packets_in, severity, flags, tcp_state,
    tls_version, alpn, ja4, ech, http_method, http_path, user_agent, dns_names";

pub(crate) const INSERT_ALERT: &str = "INSERT INTO alerts (ts_us, app_key, sev_rank, severity, kind, proto, src_ip,
    src_port, dst_ip, dst_port, uid, app, host, country, asn, as_org, identifier, encoding, evidence, owner)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

/// The columns [`alert_from_row`] reads, in [`AlertRecord`] order.
pub(crate) const ALERT_SELECT: &str =
    "ts_us, severity, kind, proto, src_ip, src_port, dst_ip, dst_port, uid, app, host,
    country, asn, as_org, identifier, encoding, evidence, owner";

/// Counters are u64 in records and i64 in SQLite; a count past 2^63 is not a real flow.
pub(crate) fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The rank stored for a flow's severity (`None` when it has none).
pub(crate) fn flow_severity_rank(record: &FlowRecord) -> Option<i64> {
    record.severity.map(|severity| severity as i64)
}

/// A list column: `;`-joined like the exports, NULL when empty.
fn list(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| join_list(items))
}

pub(crate) fn insert_flow(
    statement: &mut Statement<'_>,
    record: &FlowRecord,
    app_key: &str,
    evidence: &str,
) -> rusqlite::Result<()> {
    statement.execute(params![
        record.first_seen.as_micros_i64(),
        record.last_seen.as_micros_i64(),
        app_key,
        flow_severity_rank(record),
        record.proto.as_str(),
        record.src_ip.to_string(),
        record.src_port,
        record.dst_ip.to_string(),
        record.dst_port,
        record.uid,
        record.app,
        record.l7.map(|l7| l7.as_str()),
        record.host,
        record.host_source.map(|source| source.as_str()),
        record.country,
        record.asn,
        record.as_org,
        count(record.bytes_out),
        count(record.packets_out),
        count(record.bytes_in),
        count(record.packets_in),
        record.severity.map(|severity| severity.as_str()),
        join_list(&record.flags),
        record.tcp_state.map(TcpState::as_str),
        record.tls_version,
        list(&record.alpn),
        record.ja4,
        record.ech,
        record.http_method,
        record.http_path,
        record.user_agent,
        list(&record.dns_names),
        (!evidence.is_empty()).then_some(evidence),
    ])?;
    Ok(())
}

pub(crate) fn insert_alert(statement: &mut Statement<'_>, alert: &AlertRecord) -> rusqlite::Result<()> {
    statement.execute(params![
        alert.ts.as_micros_i64(),
        app_key(alert.uid, alert.app.as_deref()),
        alert.severity as i64,
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

/// A text column holding a value of a type with a text form (an address, a vocabulary name).
fn parsed<T: FromStr>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    text.parse().map_err(|_| invalid(index, &text))
}

fn optional_parsed<T: FromStr>(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(index)? {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| invalid(index, &text)),
    }
}

fn unsigned(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|_| invalid(index, &value.to_string()))
}

fn time(row: &Row<'_>, index: usize) -> rusqlite::Result<Timestamp> {
    Ok(Timestamp::from_micros_i64(row.get(index)?))
}

fn list_of(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<String>> {
    Ok(row.get::<_, Option<String>>(index)?.map_or_else(Vec::new, |text| split_list(&text)))
}

fn invalid(index: usize, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, format!("unexpected value {text:?}").into())
}

/// A state from a newer engine reads back as `unknown` rather than failing a whole export.
fn tcp_state(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<TcpState>> {
    let label: Option<String> = row.get(index)?;
    Ok(label.map(|label| label.parse().unwrap_or(TcpState::Unknown)))
}

/// Reads a row selected with [`FLOW_SELECT`].
pub(crate) fn flow_from_row(row: &Row<'_>) -> rusqlite::Result<FlowRecord> {
    Ok(FlowRecord {
        first_seen: time(row, 0)?,
        last_seen: time(row, 1)?,
        proto: parsed(row, 2)?,
        src_ip: parsed::<IpAddr>(row, 3)?,
        src_port: row.get(4)?,
        dst_ip: parsed::<IpAddr>(row, 5)?,
        dst_port: row.get(6)?,
        uid: row.get(7)?,
        app: row.get(8)?,
        l7: optional_parsed(row, 9)?,
        host: row.get(10)?,
        host_source: optional_parsed(row, 11)?,
        country: row.get(12)?,
        asn: row.get(13)?,
        as_org: row.get(14)?,
        bytes_out: unsigned(row, 15)?,
        packets_out: unsigned(row, 16)?,
        bytes_in: unsigned(row, 17)?,
        packets_in: unsigned(row, 18)?,
        severity: optional_parsed(row, 19)?,
        flags: list_of(row, 20)?,
        tcp_state: tcp_state(row, 21)?,
        tls_version: row.get(22)?,
        alpn: list_of(row, 23)?,
        ja4: row.get(24)?,
        ech: row.get(25)?,
        http_method: row.get(26)?,
        http_path: row.get(27)?,
        user_agent: row.get(28)?,
        dns_names: list_of(row, 29)?,
    })
}

/// Reads a row selected with [`ALERT_SELECT`].
pub(crate) fn alert_from_row(row: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        ts: time(row, 0)?,
        severity: parsed(row, 1)?,
        kind: parsed(row, 2)?,
        proto: parsed(row, 3)?,
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
