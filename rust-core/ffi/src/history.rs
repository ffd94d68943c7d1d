//! The history store for the app's views: what every run recorded, readable with the VPN off.
//!
//! A [`HistoryReader`] opens the monitor's SQLite history read-only (WAL: it reads while a running monitor
//! writes). It returns the store's own records (`org.phonehome.store`, `org.phonehome.model`); every list is
//! paged or capped, so no query holds an unbounded result. Who owns a network or a domain comes from the owner
//! tables the process shares (no knowledge base is built to read).
use std::io::BufWriter;
use std::sync::{Arc, Mutex, MutexGuard};

use phonehome_model::{AlertRecord, Company};
use phonehome_report::Report;
use phonehome_store::{
    AppSummary, Cursor, DestinationSummary, Filter, History, StoreError, StoredAlert, StoredFlow, TimelineBucket,
};

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
    /// A query or an export failed after the history opened.
    #[error("reading the history failed: {reason}")]
    Query { reason: String },
    /// An argument that cannot be right (a file descriptor that is not open).
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

/// A store error after the history opened.
fn query_error(error: StoreError) -> HistoryError {
    match error {
        StoreError::TooNew { found, known } => HistoryError::TooNew { found, known },
        error => HistoryError::Query { reason: describe(&error) },
    }
}

/// Which page of a newest-first list to read.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PageRequest {
    /// One app's records ([`AppSummary::app_key`]), or every app's.
    pub app_key: Option<String>,
    /// Items strictly older than this (the cursor of the last item shown); `None`: the newest.
    pub before: Option<Cursor>,
    /// Items wanted (at most 500).
    pub limit: u32,
}

/// One flow with everything known about it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct FlowDetail {
    /// The flow with its evidence; `None` when only its alerts are kept (the flow had not finished, or retention
    /// removed it).
    pub flow: Option<StoredFlow>,
    /// Its alerts, oldest first (at most 100).
    pub alerts: Vec<AlertRecord>,
    /// Owner of the server's network (ASN).
    pub network_owner: Option<Company>,
    /// Owner of the host name's registrable domain.
    pub domain_owner: Option<Company>,
}

/// The first and last moment the history covers, microseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimeSpan {
    pub start_us: i64,
    pub end_us: i64,
}

/// A read-only view of the history file, independent of any running monitor.
#[derive(uniffi::Object)]
pub struct HistoryReader {
    history: Mutex<History>,
}

#[uniffi::export]
impl HistoryReader {
    /// Opens the history at `path` (the monitor's `MonitorConfig.history_path`) for reading.
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
        Ok(Arc::new(HistoryReader { history: Mutex::new(history) }))
    }

    /// Every app's lifetime totals, most severe first, then by bytes.
    pub fn apps(&self) -> Result<Vec<AppSummary>, HistoryError> {
        let mut apps = self.lock().apps().map_err(query_error)?;
        let traffic = |app: &AppSummary| app.bytes_out.saturating_add(app.bytes_in);
        apps.sort_by(|a, b| {
            b.max_severity.cmp(&a.max_severity).then(traffic(b).cmp(&traffic(a))).then(a.app_key.cmp(&b.app_key))
        });
        apps.truncate(MAX_APPS);
        Ok(apps)
    }

    /// A page of flows, newest first.
    pub fn flows(&self, page: PageRequest) -> Result<Vec<StoredFlow>, HistoryError> {
        let limit = page.limit.min(MAX_PAGE);
        self.lock().flows_page(page.app_key.as_deref(), page.before, limit).map_err(query_error)
    }

    /// A page of alerts, newest first.
    pub fn alerts(&self, page: PageRequest) -> Result<Vec<StoredAlert>, HistoryError> {
        let limit = page.limit.min(MAX_PAGE);
        self.lock().alerts_page(page.app_key.as_deref(), page.before, limit).map_err(query_error)
    }

    /// The flow kept under `id` with its evidence, alerts and owners; `None` once retention removed it.
    pub fn flow(&self, id: i64) -> Result<Option<FlowDetail>, HistoryError> {
        let history = self.lock();
        let Some(stored) = history.flow(id).map_err(query_error)? else { return Ok(None) };
        Ok(Some(detail(&history, stored)?))
    }

    /// The flow an alert is about, or the alert alone while its flow is not kept (still open, or removed).
    pub fn flow_of_alert(&self, alert: AlertRecord) -> Result<FlowDetail, HistoryError> {
        let key = alert.key();
        let history = self.lock();
        if let Some(stored) = history.flow_at(&key, alert.ts).map_err(query_error)? {
            return detail(&history, stored);
        }
        let alerts = history.alerts_of(&key, alert.ts, alert.ts, MAX_FLOW_ALERTS).map_err(query_error)?;
        let first = alerts.first().map(|stored| &stored.record);
        Ok(FlowDetail {
            flow: None,
            network_owner: first.and_then(|alert| network_owner(alert.asn, alert.as_org.as_deref())),
            domain_owner: first.and_then(|alert| alert.host.as_deref()).and_then(domain_owner),
            alerts: alerts.into_iter().map(|stored| stored.record).collect(),
        })
    }

    /// An app's destinations with the most bytes (at most `limit`, itself at most 1000), with their owners.
    pub fn destinations(&self, app_key: String, limit: u32) -> Result<Vec<DestinationSummary>, HistoryError> {
        self.lock().top_destinations(&app_key, limit.min(MAX_DESTINATIONS)).map_err(query_error)
    }

    /// An app's activity in `buckets` (at most 1000) buckets of `bucket_us` from `start_us`; empty ones left out.
    pub fn timeline(
        &self,
        app_key: String,
        start_us: i64,
        bucket_us: i64,
        buckets: u32,
    ) -> Result<Vec<TimelineBucket>, HistoryError> {
        self.lock().app_timeline(&app_key, start_us, bucket_us, buckets.min(MAX_BUCKETS)).map_err(query_error)
    }

    /// The span of the kept flows and alerts; `None` while the history is empty.
    pub fn time_span(&self) -> Result<Option<TimeSpan>, HistoryError> {
        let span = self.lock().time_span().map_err(query_error)?;
        Ok(span.map(|(start_us, end_us)| TimeSpan { start_us, end_us }))
    }

    /// Writes every kept flow, oldest first, as RFC 4180 CSV (the columns of `phonehome analyze --csv`) to
    /// `fd` (borrowed: the caller closes it); returns the rows.
    pub fn export_flows_csv(&self, fd: i32) -> Result<u64, HistoryError> {
        let out = export_target(fd)?;
        self.lock().export_csv(&Filter::default(), BufWriter::new(out)).map_err(query_error)
    }

    /// Writes every kept alert, oldest first, as JSON lines to `fd` (borrowed); returns the lines.
    pub fn export_alerts_jsonl(&self, fd: i32) -> Result<u64, HistoryError> {
        let out = export_target(fd)?;
        self.lock().export_jsonl(&Filter::default(), BufWriter::new(out)).map_err(query_error)
    }

    /// Writes every kept packet (histories recorded with `keep_packets`), oldest first, as pcapng with each
    /// packet's app in its comment, to `fd` (borrowed); returns the packets.
    pub fn export_packets_pcapng(&self, fd: i32) -> Result<u64, HistoryError> {
        let out = export_target(fd)?;
        self.lock().export_pcapng(&Filter::default(), BufWriter::new(out)).map_err(query_error)
    }

    /// Writes the report (per-app summary, timelines, countries and networks) as one self-contained HTML page
    /// to `fd` (borrowed), as `phonehome report --html` does.
    pub fn export_report_html(&self, fd: i32) -> Result<(), HistoryError> {
        let out = export_target(fd)?;
        let report = Report::build(&self.lock()).map_err(query_error)?;
        report.write_html(BufWriter::new(out)).map_err(|error| query_error(StoreError::Io(error)))
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
}

/// A kept flow with its alerts and owners.
fn detail(history: &History, stored: StoredFlow) -> Result<FlowDetail, HistoryError> {
    let record = &stored.record;
    let alerts =
        history.alerts_of(&record.key(), record.first_seen, record.last_seen, MAX_FLOW_ALERTS).map_err(query_error)?;
    Ok(FlowDetail {
        network_owner: network_owner(record.asn, record.as_org.as_deref()),
        domain_owner: record.host.as_deref().and_then(domain_owner),
        alerts: alerts.into_iter().map(|alert| alert.record).collect(),
        flow: Some(stored),
    })
}

fn network_owner(asn: Option<u32>, as_org: Option<&str>) -> Option<Company> {
    phonehome_intel::network_owner(asn, as_org).map(Company::from)
}

fn domain_owner(host: &str) -> Option<Company> {
    phonehome_intel::domain_owner(host).map(Company::from)
}

#[cfg(test)]
mod tests {
    use phonehome_model::fixtures::{self, at, T0};
    use phonehome_model::{AlertKind, FlowRecord, Severity};
    use phonehome_store::{Store, StoreConfig};
    use proptest::prelude::*;

    use super::*;

    const SECOND: i64 = 1_000_000;

    /// An HTTP flow of `uid` to a Chinese carrier's address, `bytes` each way, 2 s from `start_s` after T0.
    fn flow(uid: u32, host: &str, src_port: u16, start_s: u64, bytes: u64) -> FlowRecord {
        FlowRecord { bytes_out: bytes, bytes_in: bytes, ..fixtures::http_flow(uid, host, src_port, start_s) }
    }

    fn leak(on: &FlowRecord, at_s: u64) -> AlertRecord {
        AlertRecord { ts: at(at_s), ..fixtures::alert(on, AlertKind::IdentifierLeak, "imei=35…01 in the URL") }
    }

    /// uid 1: a small flow that leaks; uid 2: three big flows, no alert; uid 3: only an alert, its flow still open.
    fn write(path: &std::path::Path) -> (FlowRecord, AlertRecord, AlertRecord) {
        let store = Store::open(path, StoreConfig::default()).expect("store");
        let mut sink = store.sink().expect("sink");
        let leaky = FlowRecord { dns_names: vec!["zzhc.vnet.cn".into()], ..flow(1, "zzhc.vnet.cn", 40_000, 0, 10) };
        let leak_alert = leak(&leaky, 1);
        sink.record_flow(leaky.clone(), &["imei in path".into()]);
        for i in 0..3 {
            sink.record_flow(flow(2, "api.example", 41_000 + i, u64::from(i) * 10, 5_000), &[]);
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

    fn page(app_key: Option<&str>, before: Option<Cursor>, limit: u32) -> PageRequest {
        PageRequest { app_key: app_key.map(str::to_owned), before, limit }
    }

    #[test]
    fn apps_flows_alerts_and_details_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let (leaky, leak_alert, lone_alert) = write(&path);
        let reader = HistoryReader::open(path.display().to_string()).expect("open");

        let apps = reader.apps().expect("apps");
        let order: Vec<(&str, Option<Severity>)> =
            apps.iter().map(|app| (app.app_key.as_str(), app.max_severity)).collect();
        assert_eq!(order, [("uid:1", Some(Severity::High)), ("uid:3", Some(Severity::High)), ("uid:2", None)]);
        assert_eq!((apps[0].flows, apps[0].alerts, apps[0].countries.clone()), (1, 1, vec!["CN".to_owned()]));

        let newest = reader.flows(page(Some("uid:2"), None, 2)).expect("page 1");
        let ports: Vec<u16> = newest.iter().map(|stored| stored.record.src_port).collect();
        assert_eq!(ports, [41_002, 41_001]);
        let older = reader.flows(page(Some("uid:2"), newest.last().map(StoredFlow::cursor), 2)).expect("page 2");
        assert_eq!(older.iter().map(|stored| stored.record.src_port).collect::<Vec<_>>(), [41_000]);

        let stored = reader.flows(page(Some("uid:1"), None, 10)).expect("uid 1").pop().expect("its flow");
        assert_eq!(stored.record, leaky, "the record as the engine wrote it, DNS names included");
        let detail = reader.flow(stored.id).expect("query").expect("kept");
        assert_eq!(detail.flow.as_ref(), Some(&stored));
        assert_eq!(stored.evidence, ["imei in path"]);
        assert_eq!(detail.alerts, std::slice::from_ref(&leak_alert));
        let telecom = Some(Company { name: "China Telecom".into(), country: "CN".into() });
        assert_eq!((&detail.network_owner, &detail.domain_owner), (&telecom, &telecom));
        assert_eq!(reader.flow(i64::MAX).expect("query"), None);

        assert_eq!(reader.flow_of_alert(leak_alert.clone()).expect("detail"), detail);
        let lone = reader.flow_of_alert(lone_alert.clone()).expect("lone");
        assert_eq!((lone.flow, lone.alerts), (None, vec![lone_alert.clone()]));
        assert_eq!(lone.domain_owner.map(|owner| owner.name), Some("Xiaomi".to_owned()));

        let alerts = reader.alerts(page(None, None, 10)).expect("alerts");
        assert_eq!(alerts.into_iter().map(|stored| stored.record).collect::<Vec<_>>(), [lone_alert, leak_alert]);
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

        let points = reader.timeline("uid:2".into(), T0.as_micros_i64(), 10 * SECOND, 2).expect("timeline");
        let shape: Vec<_> = points.iter().map(|b| (b.bucket, b.flows, b.bytes, b.alerts)).collect();
        assert_eq!(shape, [(0, 1, 10_000, 0), (1, 1, 10_000, 0)]);
        let span = reader.time_span().expect("span").expect("not empty");
        assert_eq!((span.start_us, span.end_us), (T0.as_micros_i64(), at(51).as_micros_i64()), "the lone alert last");
    }

    /// What an export writes into a fresh file, read back.
    fn exported<T>(export: impl FnOnce(i32) -> Result<T, HistoryError>) -> (T, Vec<u8>) {
        use std::io::{Read, Seek};
        use std::os::fd::AsRawFd;
        let mut file = tempfile::tempfile().expect("tempfile");
        let result = export(file.as_raw_fd()).expect("export");
        let mut bytes = Vec::new();
        file.rewind().expect("rewind");
        file.read_to_end(&mut bytes).expect("read");
        (result, bytes)
    }

    #[test]
    fn exports_write_the_whole_history() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let (leaky, leak_alert, _) = write(&path);
        let reader = HistoryReader::open(path.display().to_string()).expect("open");
        let (rows, csv) = exported(|fd| reader.export_flows_csv(fd));
        let csv = String::from_utf8(csv).expect("utf-8");
        assert_eq!((rows, csv.lines().count()), (4, 5), "header and four flows:\n{csv}");
        assert!(csv.starts_with(&phonehome_engine::COLUMNS.join(",")), "{csv}");
        assert!(
            csv.lines().nth(1).is_some_and(|line| line.contains(leaky.host.as_deref().unwrap_or("?"))),
            "oldest first"
        );
        let (lines, jsonl) = exported(|fd| reader.export_alerts_jsonl(fd));
        let jsonl = String::from_utf8(jsonl).expect("utf-8");
        assert_eq!((lines, jsonl.lines().count()), (2, 2));
        assert!(jsonl.lines().next().is_some_and(|line| line.contains(&leak_alert.evidence)), "{jsonl}");
        let ((), html) = exported(|fd| reader.export_report_html(fd));
        let html = String::from_utf8(html).expect("utf-8");
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("zzhc.vnet.cn"), "{html}");
        let (packets, pcapng) = exported(|fd| reader.export_packets_pcapng(fd));
        assert_eq!(packets, 0, "no packets kept in this history");
        assert_eq!(pcapng.get(..4), Some(&[0x0a, 0x0d, 0x0d, 0x0a][..]), "a pcapng section header all the same");
        assert!(matches!(reader.export_flows_csv(-1), Err(HistoryError::Argument { .. })));
        assert!(matches!(reader.export_report_html(-1), Err(HistoryError::Argument { .. })));
    }

    #[test]
    fn pages_are_capped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite");
        let store = Store::open(&path, StoreConfig::default()).expect("store");
        let mut sink = store.sink().expect("sink");
        for i in 0..(MAX_PAGE + 10) {
            let port = u16::try_from(i).expect("port");
            sink.record_flow(flow(1, "api.example", port, u64::from(i), 1), &[]);
        }
        sink.flush().expect("flush");
        let reader = HistoryReader::open(path.display().to_string()).expect("open");
        assert_eq!(reader.flows(page(None, None, u32::MAX)).expect("page").len(), MAX_PAGE as usize);
        // 1000 half-second buckets reach the flow of second 499, not those after.
        let points = reader.timeline("uid:1".into(), T0.as_micros_i64(), SECOND / 2, u32::MAX).expect("timeline");
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
        sink.record_flow(flow(1, "api.example", 1, 0, 1), &[]);
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
