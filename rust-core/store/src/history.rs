//! Reading the history: filtered, streamed record queries and the aggregates behind the report.

use std::path::Path;

use phonehome_model::{AlertRecord, Company, FlowKey, FlowRecord, Severity, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};

use crate::row::{alert_from_row, flow_from_row, ALERT_SELECT, FLOW_SELECT};
use crate::{schema, StoreError};

/// Which records a query or export takes; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Inclusive start (flows by first packet).
    pub since: Option<Timestamp>,
    /// Exclusive end.
    pub until: Option<Timestamp>,
    /// App name or uid.
    pub app: Option<String>,
    /// Weakest severity kept; flows without a severity are then left out. Packets ignore it.
    pub min_severity: Option<Severity>,
}

impl Filter {
    /// The bound SQL parameters `?1..?4` shared by every filtered query.
    fn parameters(&self) -> (i64, i64, Option<&str>, Option<i64>) {
        (
            self.since.map_or(i64::MIN, Timestamp::as_micros_i64),
            self.until.map_or(i64::MAX, Timestamp::as_micros_i64),
            self.app.as_deref(),
            self.min_severity.map(|severity| severity as i64),
        )
    }
}

/// The `WHERE` clause of [`Filter::parameters`].
const FILTER_SQL: &str = "ts_us >= ?1 AND ts_us < ?2 AND (?3 IS NULL OR app = ?3 OR app_key = 'uid:' || ?3)";

/// One app's lifetime totals (they outlive the retention of the records behind them).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AppSummary {
    pub app_key: String,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub flows: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub alerts: u64,
    /// Strongest severity among the app's flows and alerts.
    pub max_severity: Option<Severity>,
    /// Distinct destinations (host names, else addresses).
    pub destinations: u64,
    /// Distinct server countries, sorted.
    pub countries: Vec<String>,
    pub first_us: i64,
    pub last_us: i64,
}

/// Traffic to one country and network (ASN), all apps together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryNetwork {
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub destinations: u64,
    pub flows: u64,
    pub bytes: u64,
}

/// One destination of one app, lifetime totals, with its three jurisdictions: server country, network owner and
/// domain owner.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DestinationSummary {
    /// Host name, else address.
    pub destination: String,
    pub flows: u64,
    pub bytes: u64,
    /// Server country (geolocation of its latest address).
    pub country: Option<String>,
    /// Network (autonomous system) of its latest server address.
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    /// Owner of the server's network.
    pub network_owner: Option<Company>,
    /// Owner of the host name's registrable domain.
    pub domain_owner: Option<Company>,
    /// When the app first reached it, microseconds since the epoch.
    pub first_us: i64,
    /// When the app last reached it, microseconds since the epoch.
    pub last_us: i64,
}

/// Flows and bytes of one app in one time bucket of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TimelineBucket {
    pub app_key: String,
    /// Bucket index from the timeline's start.
    pub bucket: u32,
    pub flows: u64,
    pub bytes: u64,
    pub alerts: u64,
}

/// Where a newest-first page ended: the next page holds the records strictly older than it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Cursor {
    /// Start of the last record shown, microseconds since the epoch.
    pub ts_us: i64,
    /// Row id of the last record shown (orders records that start in the same microsecond).
    pub id: i64,
}

/// A flow as kept: its row id, its record and the evidence lines of its alerts.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StoredFlow {
    pub id: i64,
    pub record: FlowRecord,
    pub evidence: Vec<String>,
}

impl StoredFlow {
    /// The cursor that pages on after this flow.
    pub fn cursor(&self) -> Cursor {
        Cursor { ts_us: self.record.first_seen.as_micros_i64(), id: self.id }
    }
}

/// An alert as kept, with its row id.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StoredAlert {
    pub id: i64,
    pub record: AlertRecord,
}

impl StoredAlert {
    /// The cursor that pages on after this alert.
    pub fn cursor(&self) -> Cursor {
        Cursor { ts_us: self.record.ts.as_micros_i64(), id: self.id }
    }
}

/// A flow key as the `proto, src_ip, src_port, dst_ip, dst_port` columns hold it.
fn key_columns(key: &FlowKey) -> (&'static str, String, u16, String, u16) {
    (key.proto.as_str(), key.client.ip().to_string(), key.client.port(), key.server.ip().to_string(), key.server.port())
}

/// How far back a flow may have started before one of its alerts: bounds the search for it.
const LONGEST_FLOW_US: i64 = 24 * 3600 * 1_000_000;

/// The flow columns [`stored_flow`] reads after [`FLOW_SELECT`].
const STORED_FLOW_SELECT: &str = "id, evidence";
/// Index of the first column after [`FLOW_SELECT`].
const FLOW_COLUMNS: usize = 30;
/// Index of the first column after [`ALERT_SELECT`].
const ALERT_COLUMNS: usize = 18;

fn stored_flow(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFlow> {
    let evidence: Option<String> = row.get(FLOW_COLUMNS + 1)?;
    Ok(StoredFlow {
        record: flow_from_row(row)?,
        id: row.get(FLOW_COLUMNS)?,
        // The writer joins the lines with newlines (see `StoreSink::record_flow`).
        evidence: evidence.map(|lines| lines.lines().map(str::to_owned).collect()).unwrap_or_default(),
    })
}

fn stored_alert(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAlert> {
    Ok(StoredAlert { record: alert_from_row(row)?, id: row.get(ALERT_COLUMNS)? })
}

/// The bound parameters of a newest-first page: app key, cursor and limit.
fn page_parameters(before: Option<Cursor>, limit: u32) -> (i64, i64, u32) {
    let before = before.unwrap_or(Cursor { ts_us: i64::MAX, id: i64::MAX });
    (before.ts_us, before.id, limit)
}

/// A read-only view of a store.
pub struct History {
    connection: Connection,
}

fn severity_of_rank(rank: i64) -> Option<Severity> {
    usize::try_from(rank).ok().and_then(|index| Severity::ALL.get(index).copied())
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl History {
    /// Opens the store at `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<History, StoreError> {
        Ok(History { connection: schema::open_for_reading(path.as_ref())? })
    }

    /// Calls `each` for every matching flow, oldest first, one row in memory at a time; returns the count.
    pub fn for_each_flow(
        &self,
        filter: &Filter,
        mut each: impl FnMut(FlowRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT {FLOW_SELECT} FROM flows WHERE {FILTER_SQL} AND (?4 IS NULL OR sev_rank >= ?4) ORDER BY ts_us, id"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let (since, until, app, severity) = filter.parameters();
        let mut rows = statement.query(params![since, until, app, severity])?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            each(flow_from_row(row)?)?;
            count += 1;
        }
        Ok(count)
    }

    /// Calls `each` for every matching alert, oldest first; returns the count.
    pub fn for_each_alert(
        &self,
        filter: &Filter,
        mut each: impl FnMut(AlertRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT {ALERT_SELECT} FROM alerts WHERE {FILTER_SQL} AND (?4 IS NULL OR sev_rank >= ?4) ORDER BY ts_us, id"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let (since, until, app, severity) = filter.parameters();
        let mut rows = statement.query(params![since, until, app, severity])?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            each(alert_from_row(row)?)?;
            count += 1;
        }
        Ok(count)
    }

    /// Calls `each(ts_us, uid, app, packet)` for every matching retained packet, oldest first; returns the count.
    pub fn for_each_packet(
        &self,
        filter: &Filter,
        mut each: impl FnMut(i64, Option<u32>, Option<&str>, &[u8]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = format!("SELECT ts_us, uid, app, data FROM packets WHERE {FILTER_SQL} ORDER BY ts_us, id");
        let mut statement = self.connection.prepare(&sql)?;
        let (since, until, app, _) = filter.parameters();
        let mut rows = statement.query(params![since, until, app])?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            let app: Option<String> = row.get(2)?;
            let data = row.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
            each(row.get(0)?, row.get(1)?, app.as_deref(), data)?;
            count += 1;
        }
        Ok(count)
    }

    /// Every app's lifetime totals, most bytes first.
    pub fn apps(&self) -> Result<Vec<AppSummary>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT a.app_key, a.uid, a.app, a.flows, a.bytes_out, a.bytes_in, a.alerts, a.max_sev_rank, a.first_us,
             a.last_us, (SELECT count(*) FROM destinations d WHERE d.app_key = a.app_key),
             (SELECT group_concat(country, ',') FROM (SELECT DISTINCT country FROM destinations d
               WHERE d.app_key = a.app_key AND country IS NOT NULL ORDER BY country))
             FROM apps a ORDER BY a.bytes_out + a.bytes_in DESC, a.app_key",
        )?;
        let rows = statement.query_map([], |row| {
            let countries: Option<String> = row.get(11)?;
            Ok(AppSummary {
                app_key: row.get(0)?,
                uid: row.get(1)?,
                app: row.get(2)?,
                flows: unsigned(row.get(3)?),
                bytes_out: unsigned(row.get(4)?),
                bytes_in: unsigned(row.get(5)?),
                alerts: unsigned(row.get(6)?),
                max_severity: severity_of_rank(row.get(7)?),
                first_us: row.get(8)?,
                last_us: row.get(9)?,
                destinations: unsigned(row.get(10)?),
                countries: countries.map(|c| c.split(',').map(str::to_owned).collect()).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An app's `limit` destinations with the most bytes.
    pub fn top_destinations(&self, app_key: &str, limit: u32) -> Result<Vec<DestinationSummary>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT destination, flows, bytes_out + bytes_in, country, asn, as_org, first_us, last_us FROM destinations
             WHERE app_key = ?1 ORDER BY bytes_out + bytes_in DESC, flows DESC, destination LIMIT ?2",
        )?;
        let rows = statement.query_map(params![app_key, limit], |row| {
            let (destination, asn, as_org): (String, Option<u32>, Option<String>) =
                (row.get(0)?, row.get(4)?, row.get(5)?);
            Ok(DestinationSummary {
                network_owner: phonehome_intel::network_owner(asn, as_org.as_deref()).map(Company::from),
                domain_owner: phonehome_intel::domain_owner(&destination).map(Company::from),
                destination,
                flows: unsigned(row.get(1)?),
                bytes: unsigned(row.get(2)?),
                country: row.get(3)?,
                asn,
                as_org,
                first_us: row.get(6)?,
                last_us: row.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Traffic per country and network, most bytes first.
    pub fn countries_and_networks(&self) -> Result<Vec<CountryNetwork>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT country, asn, max(as_org), count(*), sum(flows), sum(bytes_out + bytes_in) FROM destinations
             GROUP BY country, asn ORDER BY sum(bytes_out + bytes_in) DESC, country, asn",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(CountryNetwork {
                country: row.get(0)?,
                asn: row.get(1)?,
                as_org: row.get(2)?,
                destinations: unsigned(row.get(3)?),
                flows: unsigned(row.get(4)?),
                bytes: unsigned(row.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The span of retained flows and alerts, microseconds since the epoch.
    pub fn time_span(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let span: (Option<i64>, Option<i64>) = self.connection.query_row(
            "SELECT min(lo), max(hi) FROM (SELECT min(ts_us) AS lo, max(last_us) AS hi FROM flows
             UNION ALL SELECT min(ts_us), max(ts_us) FROM alerts)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(match span {
            (Some(start), Some(end)) => Some((start, end.max(start))),
            _ => None,
        })
    }

    /// Flows, bytes and alerts per app and time bucket (`bucket_us` wide, from `start_us`).
    pub fn timeline(&self, start_us: i64, bucket_us: i64) -> Result<Vec<TimelineBucket>, StoreError> {
        self.buckets(None, start_us, bucket_us, i64::MAX)
    }

    /// One app's flows, bytes and alerts in `buckets` time buckets of `bucket_us` from `start_us` (empty ones left out).
    pub fn app_timeline(
        &self,
        app_key: &str,
        start_us: i64,
        bucket_us: i64,
        buckets: u32,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        let end_us = start_us.saturating_add(bucket_us.max(1).saturating_mul(i64::from(buckets)));
        self.buckets(Some(app_key), start_us, bucket_us, end_us)
    }

    fn buckets(
        &self,
        app_key: Option<&str>,
        start_us: i64,
        bucket_us: i64,
        end_us: i64,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT app_key, bucket, sum(flows), sum(bytes), sum(alerts) FROM (
               SELECT app_key, (ts_us - ?1) / ?2 AS bucket, 1 AS flows, bytes_out + bytes_in AS bytes, 0 AS alerts
               FROM flows WHERE ts_us >= ?1 AND ts_us < ?3 AND (?4 IS NULL OR app_key = ?4)
               UNION ALL SELECT app_key, (ts_us - ?1) / ?2, 0, 0, 1 FROM alerts
               WHERE ts_us >= ?1 AND ts_us < ?3 AND (?4 IS NULL OR app_key = ?4))
             GROUP BY app_key, bucket ORDER BY app_key, bucket",
        )?;
        let rows = statement.query_map(params![start_us, bucket_us.max(1), end_us, app_key], |row| {
            Ok(TimelineBucket {
                app_key: row.get(0)?,
                bucket: u32::try_from(row.get::<_, i64>(1)?).unwrap_or(u32::MAX),
                flows: unsigned(row.get(2)?),
                bytes: unsigned(row.get(3)?),
                alerts: unsigned(row.get(4)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Up to `limit` flows (of one app, or all), newest first, starting strictly before `before`.
    pub fn flows_page(
        &self,
        app_key: Option<&str>,
        before: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredFlow>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {FLOW_SELECT}, {STORED_FLOW_SELECT} FROM flows WHERE (?1 IS NULL OR app_key = ?1)
             AND (ts_us, id) < (?2, ?3) ORDER BY ts_us DESC, id DESC LIMIT ?4"
        ))?;
        let (ts_us, id, limit) = page_parameters(before, limit);
        let rows = statement.query_map(params![app_key, ts_us, id, limit], stored_flow)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Up to `limit` alerts (of one app, or all), newest first, raised strictly before `before`.
    pub fn alerts_page(
        &self,
        app_key: Option<&str>,
        before: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {ALERT_SELECT}, id FROM alerts WHERE (?1 IS NULL OR app_key = ?1)
             AND (ts_us, id) < (?2, ?3) ORDER BY ts_us DESC, id DESC LIMIT ?4"
        ))?;
        let (ts_us, id, limit) = page_parameters(before, limit);
        let rows = statement.query_map(params![app_key, ts_us, id, limit], stored_alert)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The flow kept under row `id`, if retention has not removed it.
    pub fn flow(&self, id: i64) -> Result<Option<StoredFlow>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(&format!("SELECT {FLOW_SELECT}, {STORED_FLOW_SELECT} FROM flows WHERE id = ?1"))?;
        Ok(statement.query_row([id], stored_flow).optional()?)
    }

    /// The latest flow of `key` that started at or before `at` (and at most a day before): an alert's flow.
    pub fn flow_at(&self, key: &FlowKey, at: Timestamp) -> Result<Option<StoredFlow>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {FLOW_SELECT}, {STORED_FLOW_SELECT} FROM flows WHERE ts_us BETWEEN ?6 AND ?7 AND proto = ?1
             AND src_ip = ?2 AND src_port = ?3 AND dst_ip = ?4 AND dst_port = ?5 ORDER BY ts_us DESC, id DESC LIMIT 1"
        ))?;
        let (proto, src_ip, src_port, dst_ip, dst_port) = key_columns(key);
        let at_us = at.as_micros_i64();
        let since = at_us.saturating_sub(LONGEST_FLOW_US);
        Ok(statement
            .query_row(params![proto, src_ip, src_port, dst_ip, dst_port, since, at_us], stored_flow)
            .optional()?)
    }

    /// Up to `limit` alerts about `key` raised from `from` to `to` inclusive, oldest first.
    pub fn alerts_of(
        &self,
        key: &FlowKey,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {ALERT_SELECT}, id FROM alerts WHERE ts_us BETWEEN ?6 AND ?7 AND proto = ?1 AND src_ip = ?2
             AND src_port = ?3 AND dst_ip = ?4 AND dst_port = ?5 ORDER BY ts_us, id LIMIT ?8"
        ))?;
        let (proto, src_ip, src_port, dst_ip, dst_port) = key_columns(key);
        let (from_us, to_us) = (from.as_micros_i64(), to.as_micros_i64());
        let rows = statement
            .query_map(params![proto, src_ip, src_port, dst_ip, dst_port, from_us, to_us, limit], stored_alert)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// SQLite's own consistency check: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self.connection.query_row("PRAGMA integrity_check", [], |row| row.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use phonehome_model::fixtures::{self, T0};
    use phonehome_model::AlertKind;

    use super::*;
    use crate::{Store, StoreConfig};

    const SECOND: i64 = 1_000_000;

    fn flow(uid: u32, host: &str, src_port: u16, start_s: u64) -> FlowRecord {
        fixtures::http_flow(uid, host, src_port, start_s)
    }

    fn leak(on: &FlowRecord, offset_us: u64) -> AlertRecord {
        let evidence = "imei=[redacted] in the HTTP path";
        let alert = fixtures::alert(on, AlertKind::IdentifierLeak, evidence);
        AlertRecord { ts: Timestamp::from_micros(on.first_seen.as_micros() + offset_us), owner: None, ..alert }
    }

    /// Five flows of uid 1 a minute apart (two in the same second), one of uid 2, and a leak on uid 1's third.
    fn store() -> (tempfile::TempDir, History, Vec<FlowRecord>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let store = Store::open(&path, StoreConfig::default()).expect("open");
        let mut sink = store.sink().expect("sink");
        let mut flows: Vec<FlowRecord> =
            (0..5).map(|i| flow(1, &format!("h{i}.example"), 40_000 + i as u16, i * 60)).collect();
        flows[4].first_seen = flows[3].first_seen;
        flows.push(flow(2, "other.example", 50_000, 30));
        flows[2].dns_names = vec!["h2.example".into(), "alias.example".into()];
        for (i, record) in flows.iter().enumerate() {
            let evidence: &[String] = if i == 2 { &["one".into(), "two".into()] } else { &[] };
            sink.record_flow(record.clone(), evidence);
        }
        sink.record_alert(leak(&flows[2], 1_000_000));
        sink.flush().expect("flush");
        drop(sink);
        store.close();
        (dir, History::open(&path).expect("history"), flows)
    }

    #[test]
    fn flow_pages_are_newest_first_disjoint_and_complete() {
        let (_dir, history, flows) = store();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = history.flows_page(Some("uid:1"), before, 2).expect("page");
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            before = Some(last.cursor());
            seen.extend(page);
        }
        let ports: Vec<u16> = seen.iter().map(|flow| flow.record.src_port).collect();
        // Flows 3 and 4 start in the same microsecond: the later row comes first.
        assert_eq!(ports, [40_004, 40_003, 40_002, 40_001, 40_000]);
        assert!(seen
            .windows(2)
            .all(|pair| (pair[0].cursor().ts_us, pair[0].id) > (pair[1].cursor().ts_us, pair[1].id)));
        assert_eq!(history.flows_page(None, None, 100).expect("all").len(), flows.len());
        assert!(history.flows_page(Some("uid:3"), None, 100).expect("none").is_empty());
        assert!(history.flows_page(None, None, 0).expect("zero").is_empty());
    }

    #[test]
    fn a_flow_reads_back_whole_with_its_evidence_and_alert() {
        let (_dir, history, flows) = store();
        let listed = history.flows_page(Some("uid:1"), None, 10).expect("page");
        let third = listed.iter().find(|flow| flow.record.src_port == 40_002).expect("third");
        let stored = history.flow(third.id).expect("query").expect("kept");
        assert_eq!(stored.record, flows[2], "with its DNS names");
        assert_eq!(stored.evidence, ["one", "two"]);
        assert_eq!(stored.record.last_seen.since(stored.record.first_seen).as_secs(), 2);
        assert_eq!(history.flow(i64::MAX).expect("query"), None);

        let alert = leak(&flows[2], 1_000_000);
        let key = flows[2].key();
        let (start, end) = (stored.record.first_seen, stored.record.last_seen);
        assert_eq!(history.flow_at(&key, alert.ts).expect("query").map(|flow| flow.id), Some(third.id));
        let before = Timestamp::from_micros(start.as_micros() - 1);
        assert_eq!(history.flow_at(&key, before).expect("before it started"), None);
        let alerts = history.alerts_of(&key, start, end, 10).expect("alerts");
        assert_eq!(alerts.iter().map(|alert| &alert.record).collect::<Vec<_>>(), [&alert]);
        let other = FlowKey { client: std::net::SocketAddr::new(key.client.ip(), 40_001), ..key };
        assert!(history.alerts_of(&other, start, end, 10).expect("alerts").is_empty());
    }

    #[test]
    fn alert_pages_filter_by_app() {
        let (_dir, history, flows) = store();
        let all = history.alerts_page(None, None, 10).expect("all");
        assert_eq!(all.iter().map(|alert| alert.record.clone()).collect::<Vec<_>>(), [leak(&flows[2], 1_000_000)]);
        assert_eq!(history.alerts_page(Some("uid:1"), None, 10).expect("uid 1").len(), 1);
        assert!(history.alerts_page(Some("uid:2"), None, 10).expect("uid 2").is_empty());
        assert!(history.alerts_page(None, Some(all[0].cursor()), 10).expect("after the last").is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever the start times (ties included) and page sizes, paging yields each of an app's flows once, newest first.
        #[test]
        fn paging_visits_every_flow_once_in_order(
            starts in proptest::collection::vec((0u64..20, 1u32..4), 0..40),
            page_size in 1u32..7,
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("history.sqlite");
            let store = Store::open(&path, StoreConfig::default()).expect("open");
            let mut sink = store.sink().expect("sink");
            for (port, (start_s, uid)) in (0u16..).zip(&starts) {
                sink.record_flow(flow(*uid, "h.example", port, *start_s), &[]);
            }
            sink.flush().expect("flush");
            let history = History::open(&path).expect("history");
            let mut expected: Vec<(u64, u16)> =
                starts.iter().zip(0u16..).filter(|((_, uid), _)| *uid == 1).map(|((start_s, _), port)| (*start_s, port)).collect();
            // Rows are inserted in port order, so a later port has a larger row id.
            expected.sort_by(|a, b| b.cmp(a));
            let mut seen = Vec::new();
            let mut before = None;
            loop {
                let page = history.flows_page(Some("uid:1"), before, page_size).expect("page");
                proptest::prop_assert!(page.len() <= page_size as usize);
                let Some(last) = page.last() else { break };
                before = Some(last.cursor());
                seen.extend(page.iter().map(|flow| (flow.record.first_seen.since(T0).as_secs(), flow.record.src_port)));
            }
            proptest::prop_assert_eq!(seen, expected);
        }
    }

    #[test]
    fn app_timeline_and_destinations_cover_one_app() {
        let (_dir, history, _) = store();
        // Three one-minute buckets: flows at 0, 60 and 120 s (with the leak); the two at 180 s are past the end.
        let buckets = history.app_timeline("uid:1", T0.as_micros_i64(), 60 * SECOND, 3).expect("timeline");
        let shape: Vec<(u32, u64, u64, u64)> = buckets.iter().map(|b| (b.bucket, b.flows, b.bytes, b.alerts)).collect();
        assert_eq!(shape, [(0, 1, 400, 0), (1, 1, 400, 0), (2, 1, 400, 1)]);
        assert!(buckets.iter().all(|bucket| bucket.app_key == "uid:1"));
        assert!(history.app_timeline("uid:1", T0.as_micros_i64(), 0, 0).expect("no buckets").is_empty());

        let destinations = history.top_destinations("uid:1", 2).expect("destinations");
        assert_eq!(destinations.len(), 2);
        let first = destinations.first().expect("one");
        assert_eq!((first.asn, first.as_org.as_deref()), (Some(4134), Some("CHINANET-BACKBONE")));
        assert!(first.first_us <= first.last_us);
    }
}
