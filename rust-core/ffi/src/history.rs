//! The history store for the app's views: what every run recorded, readable with the VPN off.
//!
//! A [`HistoryReader`] opens the engine's SQLite history read-only (WAL: it reads while a running engine
//! writes). Every list is paged or capped, so no query holds an unbounded result.
use std::io::BufWriter;
use std::sync::{Arc, Mutex, MutexGuard};

use phonehome_intel::{Intel, IntelConfig};
use phonehome_store::{
    parse_timestamp_micros, AppSummary, Cursor, DestinationSummary, Filter, History, StoreError, StoredAlert,
    StoredFlow, Tuple,
};

use crate::records::{Alert, Flow, Severity};

/// Most records one page returns, whatever the caller asks.
const MAX_PAGE: u32 = 500;
/// Most apps [`HistoryReader::apps`] returns (more uids than a phone has).
const MAX_APPS: usize = 10_000;
/// Most destinations, timeline buckets and alerts of one flow returned.
const MAX_DESTINATIONS: u32 = 1_000;
const MAX_BUCKETS: u32 = 1_000;
const MAX_FLOW_ALERTS: u32 = 100;

/// Why the history cannot be read.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HistoryError {
    /// No history file yet: monitoring has never run with this path.
    #[error("no history at {path}: monitoring has not recorded anything yet")]
    Missing { path: String },
    /// The file is not a phonehome history (corrupt, or another kind of file).
    #[error("the history at {path} cannot be read: {reason}")]
    Unreadable { path: String, reason: String },
    /// The history was written by a newer phonehome.
    #[error("the history has schema version {found}, newer than the {known} this build knows")]
    TooNew { found: i64, known: i64 },
    /// A query failed after the history opened.
    #[error("reading the history failed: {reason}")]
    Query { reason: String },
    /// An argument that cannot be right (a timestamp that does not parse).
    #[error("invalid argument: {reason}")]
    Argument { reason: String },
}

/// The error and its causes on one line: the store's own messages name the layer, SQLite's say what is wrong.
fn describe(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<StoreError> for HistoryError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::TooNew { found, known } => HistoryError::TooNew { found, known },
            error => HistoryError::Query { reason: describe(&error) },
        }
    }
}

/// Where a newest-first page ended; pass it back for the next, older page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HistoryCursor {
    /// Start of the last item shown, microseconds since the epoch.
    pub ts_us: i64,
    /// Row id of the last item shown.
    pub id: i64,
}

/// Which page of a newest-first list to read.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PageRequest {
    /// One app's records ([`AppHistory::key`]), or every app's.
    pub app_key: Option<String>,
    /// Items strictly older than this; `None`: the newest.
    pub before: Option<HistoryCursor>,
    /// Items wanted (at most 500).
    pub limit: u32,
}

/// One stored flow in a list.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct FlowItem {
    /// Row id: opens the flow with [`HistoryReader::flow`].
    pub id: i64,
    /// Start, microseconds since the epoch.
    pub ts_us: i64,
    pub flow: Flow,
}

/// One stored alert in a list.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct AlertItem {
    pub id: i64,
    /// When it was raised, microseconds since the epoch.
    pub ts_us: i64,
    pub alert: Alert,
}

/// A company and its home country (not the server's).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Company {
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// One flow with everything known about it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct FlowDetail {
    /// The flow; `None` when only its alert is kept (the flow had not finished, or retention removed it).
    pub flow: Option<FlowItem>,
    /// DNS names: the questions of a DNS flow, else the name its server's address was resolved from.
    pub dns_names: Vec<String>,
    /// Evidence lines of the findings about it.
    pub evidence: Vec<String>,
    /// Its alerts, oldest first (at most 100).
    pub alerts: Vec<Alert>,
    /// Owner of the server's network (ASN).
    pub network_owner: Option<Company>,
    /// Owner of the host name's registrable domain.
    pub domain_owner: Option<Company>,
}

/// The connection and time of an alert, to find the flow it is about.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AlertKey {
    pub proto: String,
    pub src_ip: String,
    pub src_port: u16,
    pub dst_ip: String,
    pub dst_port: u16,
    /// The alert's timestamp as the record writes it (ISO 8601).
    pub ts: String,
}

/// One app's totals over the whole history.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AppHistory {
    /// What the history files the app under (`uid:10123`, `app:name`, `unknown`): the `app_key` of queries.
    pub key: String,
    pub uid: Option<u32>,
    pub app: Option<String>,
    pub flows: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub alerts: u64,
    /// The highest severity among its flows and alerts.
    pub worst: Option<Severity>,
    /// Distinct destinations (host names, else addresses).
    pub destinations: u64,
    /// Distinct server countries, sorted.
    pub countries: Vec<String>,
    /// First and latest activity, microseconds since the epoch.
    pub first_us: i64,
    pub last_us: i64,
}

impl From<AppSummary> for AppHistory {
    fn from(app: AppSummary) -> Self {
        AppHistory {
            key: app.app_key,
            uid: app.uid,
            app: app.app,
            flows: app.flows,
            bytes_out: app.bytes_out,
            bytes_in: app.bytes_in,
            alerts: app.alerts,
            worst: app.max_severity.map(Severity::from),
            destinations: app.destinations,
            countries: app.countries,
            first_us: app.first_us,
            last_us: app.last_us,
        }
    }
}

/// One destination of an app, with the three jurisdictions: server country, network owner, domain owner.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DestinationItem {
    /// Host name, else address.
    pub destination: String,
    pub flows: u64,
    pub bytes: u64,
    /// Server country (geolocation of its latest address).
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub network_owner: Option<Company>,
    pub domain_owner: Option<Company>,
    /// First and latest contact, microseconds since the epoch.
    pub first_us: i64,
    pub last_us: i64,
}

/// An app's flows, bytes and alerts in one time bucket.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelinePoint {
    /// Bucket index from the requested start.
    pub bucket: u32,
    pub flows: u64,
    pub bytes: u64,
    pub alerts: u64,
}

/// The first and last moment the history covers, microseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimeSpan {
    pub start_us: i64,
    pub end_us: i64,
}

/// A read-only view of the history file, independent of any running engine.
#[derive(uniffi::Object)]
pub struct HistoryReader {
    history: Mutex<History>,
    /// Only its built-in owner tables are used: who owns a network or a domain.
    intel: Intel,
}

#[uniffi::export]
impl HistoryReader {
    /// Opens the history at `path` (the engine's `EngineConfig.history_path`) for reading.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<HistoryReader>, HistoryError> {
        let unreadable = |error: StoreError| HistoryError::Unreadable { path: path.clone(), reason: describe(&error) };
        let history = match History::open(&path) {
            Ok(history) => history,
            Err(StoreError::Missing(_)) => return Err(HistoryError::Missing { path }),
            Err(StoreError::TooNew { found, known }) => return Err(HistoryError::TooNew { found, known }),
            Err(error) => return Err(unreadable(error)),
        };
        // SQLite reads lazily: touch the tables now so a foreign or damaged file fails here, not in a view.
        history.time_span().map_err(unreadable)?;
        Ok(Arc::new(HistoryReader { history: Mutex::new(history), intel: Intel::new(IntelConfig::default()) }))
    }

    /// Every app's lifetime totals, most severe first, then by bytes.
    pub fn apps(&self) -> Result<Vec<AppHistory>, HistoryError> {
        let mut apps: Vec<AppHistory> = self.lock().apps()?.into_iter().map(AppHistory::from).collect();
        let traffic = |app: &AppHistory| app.bytes_out.saturating_add(app.bytes_in);
        apps.sort_by(|a, b| b.worst.cmp(&a.worst).then(traffic(b).cmp(&traffic(a))).then(a.key.cmp(&b.key)));
        apps.truncate(MAX_APPS);
        Ok(apps)
    }

    /// A page of flows, newest first.
    pub fn flows(&self, page: PageRequest) -> Result<Vec<FlowItem>, HistoryError> {
        let (app_key, before, limit) = page_arguments(&page);
        Ok(self.lock().flows_page(app_key, before, limit)?.iter().map(flow_item).collect())
    }

    /// A page of alerts, newest first.
    pub fn alerts(&self, page: PageRequest) -> Result<Vec<AlertItem>, HistoryError> {
        let (app_key, before, limit) = page_arguments(&page);
        let items = self.lock().alerts_page(app_key, before, limit)?.into_iter().map(|stored| AlertItem {
            id: stored.id,
            ts_us: stored.ts_us,
            alert: Alert::from(&stored.record),
        });
        Ok(items.collect())
    }

    /// The flow kept under `id` with its evidence, alerts and owners; `None` once retention removed it.
    pub fn flow(&self, id: i64) -> Result<Option<FlowDetail>, HistoryError> {
        let history = self.lock();
        let Some(stored) = history.flow(id)? else { return Ok(None) };
        Ok(Some(self.detail(&history, stored)?))
    }

    /// The flow an alert is about, or the alert alone while its flow is not kept (still open, or removed).
    pub fn flow_of_alert(&self, key: AlertKey) -> Result<FlowDetail, HistoryError> {
        let at_us = parse_timestamp_micros(&key.ts)
            .ok_or_else(|| HistoryError::Argument { reason: format!("alert time {:?}", key.ts) })?;
        let tuple = Tuple {
            proto: &key.proto,
            src_ip: &key.src_ip,
            src_port: key.src_port,
            dst_ip: &key.dst_ip,
            dst_port: key.dst_port,
        };
        let history = self.lock();
        if let Some(stored) = history.flow_at(tuple, at_us)? {
            return self.detail(&history, stored);
        }
        let alerts = history.alerts_of(tuple, at_us, at_us, MAX_FLOW_ALERTS)?;
        let first = alerts.first().map(|stored| &stored.record);
        Ok(FlowDetail {
            flow: None,
            dns_names: Vec::new(),
            evidence: Vec::new(),
            network_owner: first.and_then(|alert| self.network_owner(alert.asn, alert.as_org.as_deref())),
            domain_owner: first.and_then(|alert| alert.host.as_deref()).and_then(|host| self.domain_owner(host)),
            alerts: alerts.iter().map(|stored| Alert::from(&stored.record)).collect(),
        })
    }

    /// An app's destinations with the most bytes (at most `limit`, itself at most 1000).
    pub fn destinations(&self, app_key: String, limit: u32) -> Result<Vec<DestinationItem>, HistoryError> {
        let destinations = self.lock().top_destinations(&app_key, limit.min(MAX_DESTINATIONS))?;
        Ok(destinations.into_iter().map(|destination| self.destination_item(destination)).collect())
    }

    /// An app's activity in `buckets` (at most 1000) buckets of `bucket_us` from `start_us`; empty ones left out.
    pub fn timeline(
        &self,
        app_key: String,
        start_us: i64,
        bucket_us: i64,
        buckets: u32,
    ) -> Result<Vec<TimelinePoint>, HistoryError> {
        let rows = self.lock().app_timeline(&app_key, start_us, bucket_us, buckets.min(MAX_BUCKETS))?;
        Ok(rows
            .into_iter()
            .map(|row| TimelinePoint { bucket: row.bucket, flows: row.flows, bytes: row.bytes, alerts: row.alerts })
            .collect())
    }

    /// The span of the kept flows and alerts; `None` while the history is empty.
    pub fn time_span(&self) -> Result<Option<TimeSpan>, HistoryError> {
        Ok(self.lock().time_span()?.map(|(start_us, end_us)| TimeSpan { start_us, end_us }))
    }

    /// Writes every kept flow, oldest first, as RFC 4180 CSV (the columns of `phonehome analyze --csv`) to
    /// `fd` (borrowed: the caller closes it); returns the rows.
    pub fn export_flows_csv(&self, fd: i32) -> Result<u64, HistoryError> {
        let out = export_target(fd)?;
        Ok(self.lock().export_csv(&Filter::default(), BufWriter::new(out))?)
    }

    /// Writes every kept alert, oldest first, as JSON lines to `fd` (borrowed); returns the lines.
    pub fn export_alerts_jsonl(&self, fd: i32) -> Result<u64, HistoryError> {
        let out = export_target(fd)?;
        Ok(self.lock().export_jsonl(&Filter::default(), BufWriter::new(out))?)
    }
}

fn export_target(fd: i32) -> Result<std::fs::File, HistoryError> {
    crate::borrow_file(fd).map_err(|error| HistoryError::Argument { reason: error.to_string() })
}

impl HistoryReader {
    fn lock(&self) -> MutexGuard<'_, History> {
        // Queries leave no state behind: a panic in another one cannot leave the connection half-used.
        self.history.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn detail(&self, history: &History, stored: StoredFlow) -> Result<FlowDetail, HistoryError> {
        let record = &stored.record;
        let (proto, src_ip, dst_ip) = (record.proto.as_str(), record.src_ip.to_string(), record.dst_ip.to_string());
        let tuple =
            Tuple { proto, src_ip: &src_ip, src_port: record.src_port, dst_ip: &dst_ip, dst_port: record.dst_port };
        let alerts = history.alerts_of(tuple, stored.ts_us, stored.last_us, MAX_FLOW_ALERTS)?;
        Ok(FlowDetail {
            network_owner: self.network_owner(record.asn, record.as_org.as_deref()),
            domain_owner: record.host.as_deref().and_then(|host| self.domain_owner(host)),
            alerts: alerts.iter().map(|alert: &StoredAlert| Alert::from(&alert.record)).collect(),
            flow: Some(flow_item(&stored)),
            dns_names: record
                .dns_names
                .as_deref()
                .map_or_else(Vec::new, |names| names.split(';').map(str::to_owned).collect()),
            evidence: stored.extras.evidence,
        })
    }

    fn destination_item(&self, destination: DestinationSummary) -> DestinationItem {
        DestinationItem {
            network_owner: self.network_owner(destination.asn, destination.as_org.as_deref()),
            domain_owner: self.domain_owner(&destination.destination),
            destination: destination.destination,
            flows: destination.flows,
            bytes: destination.bytes,
            country: destination.country,
            asn: destination.asn,
            as_org: destination.as_org,
            first_us: destination.first_us,
            last_us: destination.last_us,
        }
    }

    fn network_owner(&self, asn: Option<u32>, as_org: Option<&str>) -> Option<Company> {
        self.intel.network_owner(asn, as_org).map(company)
    }

    fn domain_owner(&self, host: &str) -> Option<Company> {
        self.intel.domain_owner(host).map(company)
    }
}

fn company(owner: phonehome_intel::Owner) -> Company {
    Company { name: owner.company.to_owned(), country: owner.country.to_owned() }
}

fn flow_item(stored: &StoredFlow) -> FlowItem {
    FlowItem { id: stored.id, ts_us: stored.ts_us, flow: Flow::from(&stored.record) }
}

fn page_arguments(page: &PageRequest) -> (Option<&str>, Option<Cursor>, u32) {
    let before = page.before.map(|cursor| Cursor { ts_us: cursor.ts_us, id: cursor.id });
    (page.app_key.as_deref(), before, page.limit.min(MAX_PAGE))
}

#[cfg(test)]
mod tests {
    use phonehome_engine::record::AlertRecord;
    use phonehome_engine::FlowRecord;
    use phonehome_intel::Severity as IntelSeverity;
    use phonehome_store::{format_micros, FlowExtras, Store, StoreConfig};
    use proptest::prelude::*;

    use super::*;

    /// 2026-11-21T12:00:00Z.
    const T0: i64 = 1_795_262_400_000_000;
    const SECOND: i64 = 1_000_000;

    fn flow(uid: u32, host: &str, src_port: u16, start_s: i64, bytes: u64) -> FlowRecord {
        FlowRecord {
            first_seen: format_micros(T0 + start_s * SECOND),
            last_seen: format_micros(T0 + (start_s + 2) * SECOND),
            src_port,
            host: Some(host.to_owned()),
            as_org: Some("CHINANET-BACKBONE".into()),
            bytes_in: bytes,
            ..crate::tests::flow(Some(uid), &format!("app{uid}"), bytes, None)
        }
    }

    fn leak(on: &FlowRecord, at_s: i64) -> AlertRecord {
        AlertRecord { ts: format_micros(T0 + at_s * SECOND), ..crate::tests::alert(on, IntelSeverity::High) }
    }

    /// uid 1: a small flow that leaks; uid 2: three big flows, no alert; uid 3: only an alert, its flow still open.
    fn write(path: &std::path::Path) -> (FlowRecord, AlertRecord, AlertRecord) {
        let store = Store::open(path, StoreConfig::default()).expect("store");
        let mut sink = store.sink().expect("sink");
        let leaky = FlowRecord { dns_names: Some("zzhc.vnet.cn".into()), ..flow(1, "zzhc.vnet.cn", 40_000, 0, 10) };
        let leak_alert = leak(&leaky, 1);
        let evidence = FlowExtras { evidence: vec!["imei in path".into()] };
        sink.record_flow(leaky.clone(), evidence);
        for i in 0..3 {
            sink.record_flow(flow(2, "api.example", 41_000 + i, i64::from(i) * 10, 5_000), FlowExtras::default());
        }
        let open_flow = flow(3, "tracking.intl.miui.com", 42_000, 50, 1);
        let lone_alert = leak(&open_flow, 51);
        sink.record_alert(leak_alert.clone());
        sink.record_alert(lone_alert.clone());
        sink.flush().expect("flush");
        drop(sink);
        store.close();
        (leaky, leak_alert, lone_alert)
    }

    fn page(app_key: Option<&str>, before: Option<HistoryCursor>, limit: u32) -> PageRequest {
        PageRequest { app_key: app_key.map(str::to_owned), before, limit }
    }

    fn key_of(alert: &AlertRecord) -> AlertKey {
        AlertKey {
            proto: alert.proto.as_str().to_owned(),
            src_ip: alert.src_ip.to_string(),
            src_port: alert.src_port,
            dst_ip: alert.dst_ip.to_string(),
            dst_port: alert.dst_port,
            ts: alert.ts.clone(),
        }
    }

    #[test]
    fn apps_flows_alerts_and_details_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let (leaky, leak_alert, lone_alert) = write(&path);
        let reader = HistoryReader::open(path.display().to_string()).expect("open");

        let apps = reader.apps().expect("apps");
        let order: Vec<(&str, Option<Severity>)> = apps.iter().map(|app| (app.key.as_str(), app.worst)).collect();
        assert_eq!(order, [("uid:1", Some(Severity::High)), ("uid:3", Some(Severity::High)), ("uid:2", None)]);
        assert_eq!((apps[0].flows, apps[0].alerts, apps[0].countries.clone()), (1, 1, vec!["CN".to_owned()]));

        let newest = reader.flows(page(Some("uid:2"), None, 2)).expect("page 1");
        let ports: Vec<u16> = newest.iter().map(|item| item.flow.src_port).collect();
        assert_eq!(ports, [41_002, 41_001]);
        let cursor = newest.last().map(|item| HistoryCursor { ts_us: item.ts_us, id: item.id });
        let older = reader.flows(page(Some("uid:2"), cursor, 2)).expect("page 2");
        assert_eq!(older.iter().map(|item| item.flow.src_port).collect::<Vec<_>>(), [41_000]);

        let item = reader.flows(page(Some("uid:1"), None, 10)).expect("uid 1").pop().expect("its flow");
        assert_eq!(item.flow, Flow::from(&leaky));
        let detail = reader.flow(item.id).expect("query").expect("kept");
        assert_eq!(detail.flow.as_ref(), Some(&item));
        assert_eq!(
            (detail.dns_names.as_slice(), detail.evidence.as_slice()),
            (&["zzhc.vnet.cn".to_owned()][..], &["imei in path".to_owned()][..])
        );
        assert_eq!(detail.alerts, [Alert::from(&leak_alert)]);
        let telecom = Some(Company { name: "China Telecom".into(), country: "CN".into() });
        assert_eq!((&detail.network_owner, &detail.domain_owner), (&telecom, &telecom));
        assert_eq!(reader.flow(i64::MAX).expect("query"), None);

        assert_eq!(reader.flow_of_alert(key_of(&leak_alert)).expect("detail"), detail);
        let lone = reader.flow_of_alert(key_of(&lone_alert)).expect("lone");
        assert_eq!((lone.flow, lone.alerts), (None, vec![Alert::from(&lone_alert)]));
        assert_eq!(lone.domain_owner.map(|owner| owner.name), Some("Xiaomi".to_owned()));
        let bad = AlertKey { ts: "yesterday".into(), ..key_of(&lone_alert) };
        assert!(matches!(reader.flow_of_alert(bad), Err(HistoryError::Argument { .. })));

        let alerts = reader.alerts(page(None, None, 10)).expect("alerts");
        assert_eq!(
            alerts.iter().map(|item| item.alert.clone()).collect::<Vec<_>>(),
            [Alert::from(&lone_alert), Alert::from(&leak_alert)]
        );
        assert_eq!(reader.alerts(page(Some("uid:2"), None, 10)).expect("none"), []);

        let destinations = reader.destinations("uid:3".into(), 10).expect("destinations");
        assert!(destinations.is_empty(), "an alert alone makes no destination: {destinations:?}");
        let destinations = reader.destinations("uid:1".into(), 10).expect("destinations");
        let first = destinations.first().expect("one");
        assert_eq!(
            (first.destination.as_str(), first.country.as_deref(), first.asn),
            ("zzhc.vnet.cn", Some("CN"), Some(4134))
        );
        assert_eq!(first.network_owner, telecom);

        let points = reader.timeline("uid:2".into(), T0, 10 * SECOND, 2).expect("timeline");
        assert_eq!(points, [0, 1].map(|bucket| TimelinePoint { bucket, flows: 1, bytes: 10_000, alerts: 0 }));
        let span = reader.time_span().expect("span").expect("not empty");
        assert_eq!((span.start_us, span.end_us), (T0, T0 + 51 * SECOND), "the lone alert is the latest");
    }

    /// What an export writes into a fresh file, read back.
    fn exported(export: impl FnOnce(i32) -> Result<u64, HistoryError>) -> (u64, String) {
        use std::io::{Read, Seek};
        use std::os::fd::AsRawFd;
        let mut file = tempfile::tempfile().expect("tempfile");
        let rows = export(file.as_raw_fd()).expect("export");
        let mut text = String::new();
        file.rewind().expect("rewind");
        file.read_to_string(&mut text).expect("read");
        (rows, text)
    }

    #[test]
    fn exports_write_the_whole_history() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let (leaky, leak_alert, _) = write(&path);
        let reader = HistoryReader::open(path.display().to_string()).expect("open");
        let (rows, csv) = exported(|fd| reader.export_flows_csv(fd));
        assert_eq!((rows, csv.lines().count()), (4, 5), "header and four flows:\n{csv}");
        assert!(csv.starts_with(&phonehome_engine::record::COLUMNS.join(",")), "{csv}");
        assert!(
            csv.lines().nth(1).is_some_and(|line| line.contains(leaky.host.as_deref().unwrap_or("?"))),
            "oldest first"
        );
        let (lines, jsonl) = exported(|fd| reader.export_alerts_jsonl(fd));
        assert_eq!((lines, jsonl.lines().count()), (2, 2));
        assert!(jsonl.lines().next().is_some_and(|line| line.contains(&leak_alert.evidence)), "{jsonl}");
        assert!(matches!(reader.export_flows_csv(-1), Err(HistoryError::Argument { .. })));
    }

    #[test]
    fn pages_are_capped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let store = Store::open(&path, StoreConfig::default()).expect("store");
        let mut sink = store.sink().expect("sink");
        for i in 0..(MAX_PAGE + 10) {
            let port = u16::try_from(i).expect("port");
            sink.record_flow(flow(1, "api.example", port, i64::from(i), 1), FlowExtras::default());
        }
        sink.flush().expect("flush");
        let reader = HistoryReader::open(path.display().to_string()).expect("open");
        assert_eq!(reader.flows(page(None, None, u32::MAX)).expect("page").len(), MAX_PAGE as usize);
        // 1000 half-second buckets reach the flow of second 499, not those after.
        let points = reader.timeline("uid:1".into(), T0, SECOND / 2, u32::MAX).expect("timeline");
        assert_eq!(points.len(), MAX_BUCKETS as usize / 2);
    }

    #[test]
    fn reads_what_a_running_writer_commits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let store = Store::open(&path, StoreConfig::default()).expect("store");
        let reader = HistoryReader::open(path.display().to_string()).expect("open while the writer runs");
        assert_eq!(reader.time_span().expect("span"), None);
        let mut sink = store.sink().expect("sink");
        sink.record_flow(flow(1, "api.example", 1, 0, 1), FlowExtras::default());
        sink.flush().expect("flush");
        assert_eq!(reader.flows(page(None, None, 10)).expect("page").len(), 1);
    }

    #[test]
    fn a_missing_or_foreign_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("never.sqlite").display().to_string();
        assert!(matches!(HistoryReader::open(missing), Err(HistoryError::Missing { .. })));
        let garbage = dir.path().join("garbage.sqlite");
        std::fs::write(&garbage, [0x42; 4096]).expect("write");
        let Err(error) = HistoryReader::open(garbage.display().to_string()) else { panic!("garbage opened") };
        assert!(error.to_string().contains("not a database"), "{error}");
        // An empty file is an empty SQLite database, but no history.
        let empty = dir.path().join("empty.sqlite");
        std::fs::write(&empty, []).expect("write");
        let Err(error) = HistoryReader::open(empty.display().to_string()) else { panic!("empty opened") };
        assert!(error.to_string().contains("no such table"), "{error}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn arbitrary_files_never_open_and_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..8192)) {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("history.sqlite");
            std::fs::write(&path, &bytes).expect("write");
            let opened = HistoryReader::open(path.display().to_string());
            let unreadable = matches!(opened, Err(HistoryError::Unreadable { .. }));
            prop_assert!(unreadable);
        }
    }
}
