//! Reading the history: filtered, streamed record queries and the aggregates behind the report.

use std::path::Path;

use phonehome_engine::record::AlertRecord;
use phonehome_engine::FlowRecord;
use phonehome_intel::Severity;
use rusqlite::{params, Connection};

use crate::row::{alert_from_row, flow_from_row, ALERT_SELECT, FLOW_SELECT};
use crate::{schema, StoreError};

/// Which records a query or export takes; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Inclusive start, microseconds since the epoch (flows by first packet).
    pub since: Option<i64>,
    /// Exclusive end, microseconds since the epoch.
    pub until: Option<i64>,
    /// App name or uid.
    pub app: Option<String>,
    /// Weakest severity kept; flows without a severity are then left out. Packets ignore it.
    pub min_severity: Option<Severity>,
}

impl Filter {
    /// The bound SQL parameters `?1..?4` shared by every filtered query.
    fn parameters(&self) -> (i64, i64, Option<&str>, Option<i64>) {
        (
            self.since.unwrap_or(i64::MIN),
            self.until.unwrap_or(i64::MAX),
            self.app.as_deref(),
            self.min_severity.map(|severity| severity as i64),
        )
    }
}

/// The `WHERE` clause of [`Filter::parameters`].
const FILTER_SQL: &str = "ts_us >= ?1 AND ts_us < ?2 AND (?3 IS NULL OR app = ?3 OR app_key = 'uid:' || ?3)";

/// One app's lifetime totals (they outlive the retention of the records behind them).
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// One destination of one app, lifetime totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationSummary {
    /// Host name, else address.
    pub destination: String,
    pub flows: u64,
    pub bytes: u64,
    pub country: Option<String>,
    /// When the app first reached it, microseconds since the epoch.
    pub first_us: i64,
}

/// Flows and bytes of one app in one time bucket of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineBucket {
    pub app_key: String,
    /// Bucket index from the timeline's start.
    pub bucket: u32,
    pub flows: u64,
    pub bytes: u64,
    pub alerts: u64,
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
            "SELECT destination, flows, bytes_out + bytes_in, country, first_us FROM destinations WHERE app_key = ?1
             ORDER BY bytes_out + bytes_in DESC, flows DESC, destination LIMIT ?2",
        )?;
        let rows = statement.query_map(params![app_key, limit], |row| {
            Ok(DestinationSummary {
                destination: row.get(0)?,
                flows: unsigned(row.get(1)?),
                bytes: unsigned(row.get(2)?),
                country: row.get(3)?,
                first_us: row.get(4)?,
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
        let mut statement = self.connection.prepare(
            "SELECT app_key, bucket, sum(flows), sum(bytes), sum(alerts) FROM (
               SELECT app_key, (ts_us - ?1) / ?2 AS bucket, 1 AS flows, bytes_out + bytes_in AS bytes, 0 AS alerts
               FROM flows WHERE ts_us >= ?1
               UNION ALL SELECT app_key, (ts_us - ?1) / ?2, 0, 0, 1 FROM alerts WHERE ts_us >= ?1)
             GROUP BY app_key, bucket ORDER BY app_key, bucket",
        )?;
        let rows = statement.query_map(params![start_us, bucket_us.max(1)], |row| {
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

    /// SQLite's own consistency check: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self.connection.query_row("PRAGMA integrity_check", [], |row| row.get(0))?)
    }
}
