//! What can go wrong with a store, in terms its caller can act on.

use rusqlite::ErrorCode;

/// Errors of the store; `DiskFull` and `ReadOnly` stop writing but leave committed history intact.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file system holding the store is full (SQLITE_FULL below the configured bound).
    #[error("the disk holding the store is full: writing stopped, history committed so far is intact")]
    DiskFull,
    /// The database or its directory cannot be written (read-only file system, file or permissions).
    #[error("the store is read-only: writing stopped, history committed so far is intact")]
    ReadOnly,
    /// The database was written by a newer phonehome.
    #[error("the store has schema version {found}, newer than the {known} this build knows")]
    TooNew { found: i64, known: i64 },
    /// A time bound that is neither ISO 8601 nor `YYYY-MM-DD`.
    #[error("invalid time {0:?}: expected ISO 8601 (2024-03-01T12:00:00Z) or a date (2024-03-01)")]
    InvalidTime(String),
    /// No store exists at the path given for reading.
    #[error("no store at {0}")]
    Missing(std::path::PathBuf),
    /// The writer thread is gone (the store was closed).
    #[error("the store is closed")]
    Closed,
    /// Any other SQLite error.
    #[error("database error")]
    Sqlite(#[source] rusqlite::Error),
    /// Writing an export (or starting the writer thread) failed.
    #[error("input/output error")]
    Io(#[from] std::io::Error),
    /// Writing CSV failed.
    #[error("writing CSV")]
    Csv(#[from] csv::Error),
    /// Writing pcapng failed.
    #[error("writing pcapng")]
    Pcap(#[from] pcap_file::PcapError),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly,
            _ => StoreError::Sqlite(error),
        }
    }
}
