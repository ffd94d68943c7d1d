//! `phonehome export`: flows as CSV, alerts as JSON lines or retained packets as pcapng, streamed from a store.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use phonehome_model::Severity;
use phonehome_store::{parse_time_bound, Bound, Filter, History, StoreError};

/// Arguments of `phonehome export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The store written by `analyze --db` or `run --db`.
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    #[command(flatten)]
    pub format: ExportFormat,
    /// Only records from this time on (UTC; ISO 8601 or YYYY-MM-DD).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Only records before this time (UTC; a bare date includes that whole day).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Only this app (name or uid).
    #[arg(long, value_name = "A")]
    pub app: Option<String>,
    /// Only flows and alerts at least this severe: info, low, medium, high (packets ignore it).
    #[arg(long, value_name = "S", value_parser = severity)]
    pub min_severity: Option<Severity>,
}

/// Exactly one output of `phonehome export`.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ExportFormat {
    /// Flows as RFC 4180 CSV (the columns of `analyze --csv`).
    #[arg(long, value_name = "OUT")]
    pub csv: Option<PathBuf>,
    /// Alerts as JSON lines.
    #[arg(long, value_name = "OUT")]
    pub jsonl: Option<PathBuf>,
    /// Retained packets as pcapng, each packet's app in its comment (needs packet retention).
    #[arg(long, value_name = "OUT")]
    pub pcapng: Option<PathBuf>,
}

fn severity(name: &str) -> Result<Severity, String> {
    Severity::parse_loose(name).ok_or_else(|| format!("{name:?} is not one of info, low, medium, high"))
}

impl ExportArgs {
    fn filter(&self) -> Result<Filter, StoreError> {
        Ok(Filter {
            since: self.since.as_deref().map(|t| parse_time_bound(t, Bound::Start)).transpose()?,
            until: self.until.as_deref().map(|t| parse_time_bound(t, Bound::End)).transpose()?,
            app: self.app.clone(),
            min_severity: self.min_severity,
        })
    }
}

/// Runs `phonehome export`.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let filter = args.filter()?;
    let format = &args.format;
    let outputs = [("--csv", &format.csv), ("--jsonl", &format.jsonl), ("--pcapng", &format.pcapng)];
    let outputs: Vec<_> = outputs.iter().filter_map(|(flag, path)| Some((*flag, path.as_deref()?))).collect();
    crate::files::check_distinct(&[("--db", &args.db)], &outputs)?;
    let history = History::open(&args.db).with_context(|| format!("opening the store {}", args.db.display()))?;
    let (out, what, count) = if let Some(out) = &format.csv {
        (out, "flows", write_to(out, |file| history.export_csv(&filter, file))?)
    } else if let Some(out) = &format.jsonl {
        (out, "alerts", write_to(out, |file| history.export_jsonl(&filter, file))?)
    } else if let Some(out) = &format.pcapng {
        (out, "packets", write_to(out, |file| history.export_pcapng(&filter, file))?)
    } else {
        anyhow::bail!("choose one of --csv, --jsonl, --pcapng");
    };
    say!("phonehome: wrote {count} {what} to {}", out.display());
    Ok(())
}

/// Writes an export to `path`, removing the partial file if it fails.
fn write_to(path: &Path, export: impl FnOnce(BufWriter<File>) -> Result<u64, StoreError>) -> anyhow::Result<u64> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    export(BufWriter::new(file)).or_else(|error| {
        let _ = std::fs::remove_file(path);
        Err(error).with_context(|| format!("writing {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        export: ExportArgs,
    }

    #[test]
    fn parses_filters_and_exactly_one_format() {
        let cli = Cli::try_parse_from([
            "export",
            "--db",
            "s.db",
            "--csv",
            "out.csv",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-01",
            "--app",
            "Browser, Pro",
            "--min-severity",
            "medium",
        ])
        .unwrap();
        let filter = cli.export.filter().unwrap();
        assert_eq!(filter.until.unwrap().since(filter.since.unwrap()).as_secs(), 86_400);
        assert_eq!(filter.app.as_deref(), Some("Browser, Pro"));
        assert_eq!(filter.min_severity, Some(Severity::Medium));
        assert!(Cli::try_parse_from(["export", "--db", "s.db"]).is_err());
        assert!(Cli::try_parse_from(["export", "--db", "s.db", "--csv", "a", "--jsonl", "b"]).is_err());
        assert!(Cli::try_parse_from(["export", "--db", "s.db", "--csv", "a", "--min-severity", "severe"]).is_err());
        let bad_time = Cli::try_parse_from(["export", "--db", "s.db", "--csv", "a", "--since", "yesterday"]).unwrap();
        assert!(bad_time.export.filter().is_err());
    }

    #[test]
    fn a_missing_store_is_an_error_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let args: [OsString; 5] =
            ["export".into(), "--db".into(), dir.path().join("none.db").into(), "--csv".into(), out.clone().into()];
        let cli = Cli::parse_from(args);
        assert!(run(&cli.export).is_err());
        assert!(!out.exists());
    }
}
