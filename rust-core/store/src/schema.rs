//! The schema, its migrations (`PRAGMA user_version`) and the connection settings.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{StoreConfig, StoreError};

/// Migration `i` takes the schema from version `i` to `i + 1`; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // Version 1. Text columns keep the engine's values verbatim; `*_us` columns (microseconds since the
    // epoch) index time for ranges and retention; `sev_rank` is `Severity as i64`.
    "CREATE TABLE flows (
        id INTEGER PRIMARY KEY,
        ts_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL,
        app_key TEXT NOT NULL,
        sev_rank INTEGER,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        proto TEXT NOT NULL,
        src_ip TEXT NOT NULL,
        src_port INTEGER NOT NULL,
        dst_ip TEXT NOT NULL,
        dst_port INTEGER NOT NULL,
        uid INTEGER,
        app TEXT,
        l7 TEXT,
        host TEXT,
        host_source TEXT,
        country TEXT,
        asn INTEGER,
        as_org TEXT,
        bytes_out INTEGER NOT NULL,
        packets_out INTEGER NOT NULL,
        bytes_in INTEGER NOT NULL,
        packets_in INTEGER NOT NULL,
        severity TEXT,
        flags TEXT NOT NULL,
        tcp_state TEXT,
        tls_version TEXT,
        alpn TEXT,
        ja4 TEXT,
        ech INTEGER,
        http_method TEXT,
        http_path TEXT,
        user_agent TEXT,
        dns_names TEXT,
        evidence TEXT
    );
    CREATE INDEX flows_ts ON flows (ts_us);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        ts_us INTEGER NOT NULL,
        app_key TEXT NOT NULL,
        sev_rank INTEGER NOT NULL,
        ts TEXT NOT NULL,
        severity TEXT NOT NULL,
        kind TEXT NOT NULL,
        proto TEXT NOT NULL,
        src_ip TEXT NOT NULL,
        src_port INTEGER NOT NULL,
        dst_ip TEXT NOT NULL,
        dst_port INTEGER NOT NULL,
        uid INTEGER,
        app TEXT,
        host TEXT,
        country TEXT,
        asn INTEGER,
        as_org TEXT,
        identifier TEXT,
        encoding TEXT,
        evidence TEXT NOT NULL,
        owner TEXT
    );
    CREATE INDEX alerts_ts ON alerts (ts_us);
    CREATE TABLE packets (
        id INTEGER PRIMARY KEY,
        ts_us INTEGER NOT NULL,
        app_key TEXT NOT NULL,
        uid INTEGER,
        app TEXT,
        data BLOB NOT NULL
    );
    CREATE INDEX packets_ts ON packets (ts_us);
    CREATE TABLE apps (
        app_key TEXT PRIMARY KEY,
        uid INTEGER,
        app TEXT,
        flows INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        bytes_in INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0,
        max_sev_rank INTEGER NOT NULL DEFAULT -1,
        first_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE destinations (
        app_key TEXT NOT NULL,
        destination TEXT NOT NULL,
        first_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL,
        flows INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        bytes_in INTEGER NOT NULL DEFAULT 0,
        country TEXT,
        asn INTEGER,
        as_org TEXT,
        PRIMARY KEY (app_key, destination)
    ) WITHOUT ROWID;
    CREATE INDEX destinations_last ON destinations (last_us);",
    // Version 2. One app's flows and alerts a page at a time, newest first (the app's history screens): without
    // these, the pages of an app with few records scan the whole time index.
    "CREATE INDEX flows_app_ts ON flows (app_key, ts_us, id);
    CREATE INDEX alerts_app_ts ON alerts (app_key, ts_us, id);",
    // Version 3. Times are kept once, as microseconds: the ISO 8601 copies are made by the exports.
    "ALTER TABLE flows DROP COLUMN first_seen;
    ALTER TABLE flows DROP COLUMN last_seen;
    ALTER TABLE alerts DROP COLUMN ts;",
];

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens the store for the writer thread: WAL, migrations, and the disk bound.
pub(crate) fn open_for_writing(path: &Path, config: &StoreConfig) -> Result<Connection, StoreError> {
    prepare_for_writing(path, config).map_err(|error| match error {
        StoreError::Sqlite(error) => classify_open_error(path, error),
        error => error,
    })
}

fn prepare_for_writing(path: &Path, config: &StoreConfig) -> Result<Connection, StoreError> {
    let mut connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(5))?;
    // SQLite silently opens a write-protected file read-only; a store must say so at once.
    let _: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if connection.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::ReadOnly);
    }
    // WAL: readers (exports, the UI) never block the writer. synchronous=NORMAL: a commit is appended to the WAL
    // before it returns, so a killed process loses nothing committed; only a power cut may roll back the last
    // commits, and never corrupts (SQLite "WAL mode ... NORMAL is always consistent").
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!("store: journal mode is {mode}, not WAL");
    }
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
    let budget = DiskBudget::new(config.max_bytes);
    connection.pragma_update(None, "journal_size_limit", budget.wal_bytes)?;
    connection.pragma_update(None, "wal_autocheckpoint", budget.wal_bytes / page_size.max(1))?;
    migrate(&mut connection)?;
    // No `max_page_count`: SQLITE_FULL then always means the disk, never our own bound, which retention keeps
    // after each commit (see `writer`): the file overshoots its budget by one batch at most.
    Ok(connection)
}

/// Opens the store for queries only.
pub(crate) fn open_for_reading(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Missing(path.to_path_buf()));
    }
    let (connection, found) = match connect_read_only(path, false) {
        // A WAL database on read-only media has no `-shm` to share: nobody can write it, so read it as immutable.
        Err(error)
            if error.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) && directory_is_read_only(path) =>
        {
            connect_read_only(path, true)?
        }
        result => result?,
    };
    if found > VERSION {
        return Err(StoreError::TooNew { found, known: VERSION });
    }
    Ok(connection)
}

/// A read-only connection and the schema version it found.
fn connect_read_only(path: &Path, immutable: bool) -> rusqlite::Result<(Connection, i64)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = if immutable {
        let uri = format!("file:{}?immutable=1", uri_path(path));
        Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    connection.busy_timeout(Duration::from_secs(5))?;
    let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    Ok((connection, found))
}

/// The path part of an SQLite `file:` URI: `%`, `?` and `#` are the characters it gives a meaning.
fn uri_path(path: &Path) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3f"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    encoded
}

/// The smallest disk bound honoured.
const MIN_BYTES: i64 = 256 * 1024;

/// How `max_bytes` splits between the database file and its write-ahead log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DiskBudget {
    /// The WAL is checkpointed and truncated past this size.
    pub wal_bytes: i64,
    /// Bytes of live pages above which the oldest records are removed.
    pub high_water: i64,
    /// Bytes of live pages retention brings the database back under.
    pub low_water: i64,
}

impl DiskBudget {
    pub fn new(max_bytes: u64) -> DiskBudget {
        // Below 256 KiB the schema and one batch would not fit.
        let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX).max(MIN_BYTES);
        let wal_bytes = (max_bytes / 8).clamp(16 * 1024, 8 * 1024 * 1024);
        let file_bytes = max_bytes - wal_bytes;
        DiskBudget { wal_bytes, high_water: file_bytes / 10 * 9, low_water: file_bytes / 10 * 7 }
    }
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew { found, known: VERSION });
    }
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", version as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

/// SQLite reports a read-only directory as "unable to open"; say what the user can fix.
fn classify_open_error(path: &Path, error: rusqlite::Error) -> StoreError {
    if error.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) && directory_is_read_only(path) {
        return StoreError::ReadOnly;
    }
    error.into()
}

fn directory_is_read_only(path: &Path) -> bool {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::metadata(directory).map(|m| m.permissions().readonly()).unwrap_or(false) || is_read_only_mount(directory)
}

/// Root ignores permission bits, so a read-only mount is only seen by trying to write.
fn is_read_only_mount(directory: &Path) -> bool {
    let probe = directory.join(".phonehome-store-probe");
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(probe);
            false
        }
        Err(error) => error.kind() == std::io::ErrorKind::ReadOnlyFilesystem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let config = StoreConfig::default();
        drop(open_for_writing(&path, &config).unwrap());
        let again = open_for_writing(&path, &config).unwrap();
        let version: i64 = again.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, VERSION);
        let mode: String = again.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
        assert_eq!(mode, "wal");
        again.pragma_update(None, "user_version", VERSION + 1).unwrap();
        drop(again);
        assert!(matches!(open_for_writing(&path, &config), Err(StoreError::TooNew { .. })));
        assert!(matches!(open_for_reading(&path), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn a_version_1_store_gains_the_app_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(MIGRATIONS[0]).unwrap();
        old.pragma_update(None, "user_version", 1).unwrap();
        drop(old);
        let migrated = open_for_writing(&path, &StoreConfig::default()).unwrap();
        let plan: String = migrated
            .query_row(
                "EXPLAIN QUERY PLAN SELECT id FROM flows WHERE app_key = 'uid:1' ORDER BY ts_us DESC, id DESC LIMIT 50",
                [],
                |row| row.get(3),
            )
            .unwrap();
        assert!(plan.contains("flows_app_ts"), "{plan}");
    }

    #[test]
    fn a_version_2_store_keeps_its_records_without_the_text_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&MIGRATIONS[..2].concat()).unwrap();
        old.pragma_update(None, "user_version", 2).unwrap();
        old.execute_batch(
            "INSERT INTO flows (ts_us, last_us, app_key, first_seen, last_seen, proto, src_ip, src_port, dst_ip,
             dst_port, bytes_out, packets_out, bytes_in, packets_in, flags, dns_names) VALUES (1709294400000000,
             1709294401000000, 'unknown', '2024-03-01T12:00:00.000000Z', '2024-03-01T12:00:01.000000Z', 'UDP',
             '10.0.0.2', 40000, '10.0.0.1', 53, 30, 1, 46, 1, '', 'a.example;b.example')",
        )
        .unwrap();
        drop(old);
        drop(open_for_writing(&path, &StoreConfig::default()).unwrap());
        let history = crate::History::open(&path).unwrap();
        let mut flows = Vec::new();
        history
            .for_each_flow(&crate::Filter::default(), |flow| {
                flows.push(flow);
                Ok(())
            })
            .unwrap();
        let flow = flows.first().unwrap();
        assert_eq!(flow.first_seen.iso8601(), "2024-03-01T12:00:00.000000Z");
        assert_eq!(flow.last_seen.iso8601(), "2024-03-01T12:00:01.000000Z");
        assert_eq!(flow.dns_names, ["a.example", "b.example"]);
    }

    #[test]
    fn disk_budget_keeps_file_and_wal_under_the_bound() {
        for max_bytes in [0, 256 * 1024, 1 << 20, 256 << 20, u64::MAX] {
            let budget = DiskBudget::new(max_bytes);
            let total = budget.high_water + budget.wal_bytes;
            // Headroom for the one batch committed before retention runs.
            assert!(total as u128 <= u128::from(max_bytes.max(MIN_BYTES as u64)) * 92 / 100, "{max_bytes}");
            assert!(0 < budget.low_water && budget.low_water < budget.high_water, "{max_bytes}");
        }
    }
}
