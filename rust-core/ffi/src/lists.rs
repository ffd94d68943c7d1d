//! The user's imported lists (trackers, malware, telemetry, custom): their hits raise alerts; they block nothing
//! (block rules block). The app keeps each list as a file in its private storage and names it in
//! [`crate::MonitorConfig::alert_lists`]; the monitor reads the files itself (megabytes never cross JNA).
//! [`inspect_list`] checks a candidate file before the app accepts it.

use std::path::Path;

pub use phonehome_intel::MAX_LIST_BYTES;
use phonehome_intel::{ImportReport, ListCategory, ListInfo, ListReadError, ListSet};

/// The monitor loads enabled lists up to this many bytes in all (in the user's order): memory and start time.
const MAX_TOTAL_LIST_BYTES: u64 = 128 * 1024 * 1024;

/// What a list is about; decides the kind of alert its hits raise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ListKind {
    /// Advertising, analytics, tracking.
    Tracker,
    /// Malware, phishing, command and control.
    Malware,
    /// Vendor telemetry.
    Telemetry,
    /// The user's own list (its hits are reported as trackers).
    Custom,
}

impl ListKind {
    fn category(self) -> ListCategory {
        match self {
            ListKind::Tracker => ListCategory::Tracker,
            ListKind::Malware => ListCategory::Malware,
            ListKind::Telemetry => ListCategory::Telemetry,
            ListKind::Custom => ListCategory::Custom,
        }
    }
}

/// One list the monitor loads at start.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ListFile {
    /// Shown in alerts' evidence ("x is listed by NAME").
    pub name: String,
    /// What the list is about.
    pub kind: ListKind,
    /// The file, in app-private storage.
    pub path: String,
}

/// What a list file holds.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ListSummary {
    /// Domain rules (hosts entries, plain domains, wildcards, adblock `||domain^`, AdGuard tracker domains).
    pub domains: u64,
    /// CIDR or single-address entries.
    pub networks: u64,
    /// Lines that were not imported (comments and blank lines are not counted).
    pub skipped: u64,
    /// The first skipped lines, as `line N (Reason): excerpt`.
    pub first_errors: Vec<String>,
}

/// Why a list file cannot be used; flat, so that the app shows each message as written here.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ListFileError {
    #[error("cannot read the list: {reason}")]
    Unreadable { reason: String },
    #[error("the list is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not a text list (binary content)")]
    Binary,
    #[error("no domain or network in the list ({skipped} lines skipped)")]
    Empty { skipped: u64 },
    #[error("the list cannot be imported: {reason}")]
    Invalid { reason: String },
}

/// [`MAX_LIST_BYTES`], for the app's download cap (uniffi exports no constants).
#[uniffi::export]
pub fn max_list_bytes() -> u64 {
    MAX_LIST_BYTES
}

/// Reads and imports the list file at `path` on its own, and says what it holds; errors on a file that is
/// unreadable, larger than [`MAX_LIST_BYTES`], binary, or without a single usable entry.
#[uniffi::export]
pub fn inspect_list(path: String, kind: ListKind) -> Result<ListSummary, ListFileError> {
    import(&mut ListSet::new(), "candidate", kind, Path::new(&path))
}

/// Every readable list of `files`, in order; a list that cannot be read or imported is left out (logged), so
/// that a list damaged since it was accepted never keeps the VPN from starting.
pub(crate) fn load(files: &[ListFile]) -> ListSet {
    let mut set = ListSet::new();
    let mut total: u64 = 0;
    for file in files {
        let size = std::fs::metadata(&file.path).map_or(0, |meta| meta.len());
        if total.saturating_add(size) > MAX_TOTAL_LIST_BYTES {
            log::warn!("list {:?} left out: the lists together would exceed {MAX_TOTAL_LIST_BYTES} bytes", file.name);
            continue;
        }
        total += size;
        match import(&mut set, &file.name, file.kind, Path::new(&file.path)) {
            Ok(summary) => {
                log::info!("list {:?}: {} domains, {} networks", file.name, summary.domains, summary.networks)
            }
            Err(error) => log::warn!("list {:?} left out: {error}", file.name),
        }
    }
    set
}

/// Imports the list file at `path` into `set`, in any format `ListSet::import` recognises.
fn import(set: &mut ListSet, name: &str, kind: ListKind, path: &Path) -> Result<ListSummary, ListFileError> {
    let text = read_text(path)?;
    let report = set
        .import(ListInfo::new(name, kind.category()), &text)
        .map_err(|error| ListFileError::Invalid { reason: error.to_string() })?;
    let summary = ListSummary::of(&report);
    if summary.domains == 0 && summary.networks == 0 {
        return Err(ListFileError::Empty { skipped: summary.skipped });
    }
    Ok(summary)
}

/// The file as text, read as the CLI reads lists ([`phonehome_intel::read_list`]: at most
/// [`MAX_LIST_BYTES`], bytes that are not UTF-8 replaced, binary content refused).
fn read_text(path: &Path) -> Result<String, ListFileError> {
    let unreadable = |error: std::io::Error| ListFileError::Unreadable { reason: error.to_string() };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    match phonehome_intel::read_list(file) {
        Ok(list) => Ok(list.text),
        Err(ListReadError::Io(error)) => Err(unreadable(error)),
        Err(ListReadError::TooLarge { limit }) => Err(ListFileError::TooLarge { limit }),
        Err(ListReadError::Binary) => Err(ListFileError::Binary),
    }
}

impl ListSummary {
    fn of(report: &ImportReport) -> Self {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        ListSummary {
            domains: count(report.domains),
            networks: count(report.cidrs),
            skipped: count(report.skipped),
            first_errors: report
                .first_skipped
                .iter()
                .map(|skip| format!("line {} ({:?}): {}", skip.line, skip.reason, skip.excerpt))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path.to_str().expect("utf-8 path").to_owned()
    }

    /// A file of the shared corpus, or `None` (after saying why) when it is absent; under `CI=true` it must exist.
    fn corpus(relative: &str) -> Option<String> {
        let root = std::env::var_os("PHONEHOME_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus")));
        let path = root.join(relative);
        if path.exists() {
            return path.to_str().map(str::to_owned);
        }
        let why = format!("corpus path {} not found (set PHONEHOME_CORPUS)", path.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipped: {why}");
        None
    }

    #[test]
    fn a_mixed_text_list_is_summarised_with_its_first_errors() {
        let dir = tempfile::tempdir().expect("dir");
        let text = "\u{feff}# hosts\n127.0.0.1 localhost\n0.0.0.0 ads.example\n||track.example^\n*.metrics.example\n\
                    plain.example\n192.0.2.0/24\n2001:db8::1\nexample.com##.banner\n";
        let summary = inspect_list(write(&dir, "mixed.txt", text.as_bytes()), ListKind::Tracker).expect("valid");
        assert_eq!((summary.domains, summary.networks, summary.skipped), (4, 2, 2));
        assert_eq!(
            summary.first_errors,
            ["line 2 (LocalName): 127.0.0.1 localhost", "line 9 (Cosmetic): example.com##.banner"]
        );
    }

    #[test]
    fn real_lists_of_the_corpus_are_accepted() {
        let Some(hagezi) = corpus("lists/hagezi-light-2022.txt") else { return };
        let summary = inspect_list(hagezi, ListKind::Tracker).expect("HaGeZi light");
        assert!(summary.domains > 50_000, "{summary:?}");
        let Some(adguard) = corpus("lists/adguard-companiesdb-trackers.json") else { return };
        let summary = inspect_list(adguard, ListKind::Tracker).expect("AdGuard companiesdb");
        assert!(summary.domains > 1_000 && summary.networks == 0, "{summary:?}");
    }

    #[test]
    fn unusable_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().expect("dir");
        let inspect = |name: &str, bytes: &[u8]| inspect_list(write(&dir, name, bytes), ListKind::Malware);
        assert!(matches!(inspect("empty", b""), Err(ListFileError::Empty { skipped: 0 })));
        assert!(matches!(inspect("comments", b"# only\n! comments\n\n"), Err(ListFileError::Empty { skipped: 0 })));
        assert!(matches!(
            inspect("cosmetic", b"example.org#@#.ad\nexample.com##.x\n"),
            Err(ListFileError::Empty { skipped: 2 })
        ));
        assert!(matches!(inspect("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"), Err(ListFileError::Binary)));
        assert!(matches!(inspect("broken.json", b"{\"trackers\": ["), Err(ListFileError::Invalid { .. })));
        let missing = dir.path().join("missing").to_str().expect("path").to_owned();
        assert!(matches!(inspect_list(missing, ListKind::Custom), Err(ListFileError::Unreadable { .. })));
        let directory = dir.path().to_str().expect("path").to_owned();
        assert!(matches!(inspect_list(directory, ListKind::Custom), Err(ListFileError::Unreadable { .. })));
        let huge = dir.path().join("huge");
        std::fs::File::create(&huge).and_then(|f| f.set_len(MAX_LIST_BYTES + 1)).expect("sparse file");
        let huge = huge.to_str().expect("path").to_owned();
        assert!(matches!(inspect_list(huge, ListKind::Custom), Err(ListFileError::TooLarge { .. })));
    }

    #[test]
    fn text_that_is_not_utf8_is_read_line_by_line() {
        let dir = tempfile::tempdir().expect("dir");
        let summary =
            inspect_list(write(&dir, "latin1", b"# caf\xe9\nb\xe4d.example\ngood.example\n"), ListKind::Custom)
                .expect("valid");
        assert_eq!((summary.domains, summary.skipped), (1, 1));
    }

    #[test]
    fn the_monitor_loads_readable_lists_and_leaves_out_the_others() {
        let dir = tempfile::tempdir().expect("dir");
        let file = |name: &str, kind, path: String| ListFile { name: name.into(), kind, path };
        let files = [
            file("Trackers", ListKind::Tracker, write(&dir, "t.txt", b"ads.example\n")),
            file("Gone", ListKind::Malware, dir.path().join("gone").to_string_lossy().into_owned()),
            file("C2", ListKind::Malware, write(&dir, "c.txt", b"192.0.2.0/24\n")),
        ];
        let set = load(&files);
        let names: Vec<_> = set.lists().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Trackers", "C2"]);
        let hit = set.match_host("cdn.ads.example").next().expect("listed host");
        assert_eq!((hit.list.name.as_str(), hit.list.category), ("Trackers", ListCategory::Tracker));
        let networks: Vec<_> = set.match_ip("192.0.2.7".parse().expect("ip")).map(|l| l.category).collect();
        assert_eq!(networks, [ListCategory::Malware]);
    }

    #[test]
    fn the_monitor_configuration_carries_the_alert_lists() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(&dir, "t.txt", b"ads.example\n");
        let config = crate::MonitorConfig {
            alert_lists: vec![ListFile { name: "Mine".into(), kind: ListKind::Custom, path }],
            ..crate::tests::config()
        };
        let translated = crate::monitor_config(&config).expect("valid");
        assert_eq!(translated.alert_lists.domain_count(), 1);
        assert_eq!(translated.alert_lists.lists().first().map(|l| l.name.as_str()), Some("Mine"));
    }

    proptest::proptest! {
        /// Any bytes (binary, truncated UTF-8, JSON-looking) are summarised or refused, never a panic.
        #[test]
        fn arbitrary_files_never_panic(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..512),
                                       json in proptest::bool::ANY) {
            let dir = tempfile::tempdir().expect("dir");
            let bytes = if json { [b"{".as_slice(), &bytes].concat() } else { bytes };
            if let Ok(summary) = inspect_list(write(&dir, "any", &bytes), ListKind::Tracker) {
                proptest::prop_assert!(summary.domains + summary.networks > 0);
            }
        }

        /// Printable lines of every syntax, cut anywhere, are summarised or refused, never a panic.
        #[test]
        fn truncated_lists_never_panic(cut in 0usize..400) {
            let dir = tempfile::tempdir().expect("dir");
            let text = "0.0.0.0 a.example\n||b.example^$third-party\n*.c.example\n@@||d.example^\n192.0.2.0/24\n\
                        ::1\n{\"trackerDomains\":{\"e.example\":\"x\"}}\n/ads[0-9]+/\n";
            let bytes = text.as_bytes().get(..cut.min(text.len())).unwrap_or_default();
            let _ = inspect_list(write(&dir, "cut", bytes), ListKind::Tracker);
        }
    }
}
