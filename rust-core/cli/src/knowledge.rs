//! Builds the engine's judge from the command line: watchlist, imported lists, declared identifiers.

use std::path::Path;

use anyhow::{bail, Context, Result};
use phonehome_engine::Judge;
use phonehome_intel::{Intel, IntelConfig, ListCategory, ListInfo, ListSet, Watchlist};
use phonehome_leak::{DetectorConfig, Identifiers, LeakDetector};

use crate::AnalyzeArgs;

pub fn judge(args: &AnalyzeArgs) -> Result<Judge> {
    let intel = Intel::new(IntelConfig { watchlist: watchlist(&args.watch)?, lists: lists(&args.lists)? });
    let identifiers = match &args.ids {
        Some(path) => {
            let text = read(path)?;
            Identifiers::from_toml(&text).with_context(|| format!("{}: invalid identifiers", path.display()))?
        }
        None => Identifiers::new(),
    };
    let config = DetectorConfig { max_scan_bytes: args.inspect_bytes, ..DetectorConfig::default() };
    let leaks = LeakDetector::new(&identifiers, &config).context("cannot prepare the identifier search")?;
    Ok(Judge::new(intel, leaks, args.new_destinations))
}

fn watchlist(codes: &[String]) -> Result<Watchlist> {
    let mut watchlist = Watchlist::empty();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.eq_ignore_ascii_case("none")) {
        watchlist.insert(code).with_context(|| format!("--watch {code}: not an ISO 3166 alpha-2 country code"))?;
    }
    Ok(watchlist)
}

fn lists(specs: &[String]) -> Result<ListSet> {
    let mut set = ListSet::new();
    for spec in specs {
        let Some((category, path)) = spec.split_once('=') else {
            bail!("--list {spec}: expected CATEGORY=PATH");
        };
        let category = match category {
            "tracker" => ListCategory::Tracker,
            "malware" => ListCategory::Malware,
            "telemetry" => ListCategory::Telemetry,
            "custom" => ListCategory::Custom,
            other => bail!("--list {spec}: unknown category {other:?} (tracker, malware, telemetry, custom)"),
        };
        let path = Path::new(path);
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let text = read(path)?;
        let info = ListInfo::new(name, category);
        let report = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            set.import_adguard(info, &text, None)
        } else {
            set.import_text(info, &text)
        }
        .with_context(|| format!("cannot import {}", path.display()))?;
        log::info!(
            "{}: {} domains, {} networks, {} lines skipped",
            path.display(),
            report.domains,
            report.cidrs,
            report.skipped
        );
    }
    Ok(set)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}
