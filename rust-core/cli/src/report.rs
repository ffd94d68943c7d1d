//! `phonehome report`: per-app summary, timeline, countries and networks, in the terminal and as HTML.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use phonehome_report::Report;
use phonehome_store::History;

/// Arguments of `phonehome report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The store written by `analyze --db` or `run --db`.
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// Also write the report as one self-contained HTML page (no scripts, no external resources).
    #[arg(long, value_name = "OUT")]
    pub html: Option<PathBuf>,
}

/// Runs `phonehome report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    if let Some(html) = &args.html {
        crate::files::check_distinct(&[("--db", &args.db)], &[("--html", html)])?;
    }
    let history = History::open(&args.db).with_context(|| format!("opening the store {}", args.db.display()))?;
    let report = Report::build(&history).context("reading the store")?;
    report.write_text(std::io::stdout().lock()).context("writing the report")?;
    if let Some(path) = &args.html {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        report.write_html(BufWriter::new(file)).with_context(|| format!("writing {}", path.display()))?;
        say!("phonehome: wrote the HTML report to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        report: ReportArgs,
    }

    #[test]
    fn writes_the_html_page_of_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("store.db");
        phonehome_store::Store::open(&db, phonehome_store::StoreConfig::default()).unwrap().close();
        let html = dir.path().join("report.html");
        let cli =
            Cli::parse_from(["report".as_ref(), "--db".as_ref(), db.as_os_str(), "--html".as_ref(), html.as_os_str()]);
        run(&cli.report).unwrap();
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
        assert!(Cli::try_parse_from(["report"]).is_err());
    }
}
