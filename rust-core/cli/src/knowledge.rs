//! Builds the engine's judge from the command line: watchlist, imported lists, declared identifiers.

use std::path::Path;

use anyhow::{bail, Context, Result};
use phonehome_engine::judge::JudgeSettings;
use phonehome_engine::Judge;
use phonehome_intel::{ListCategory, ListInfo, ListSet};

use crate::{AnalyzeArgs, CommonArgs};

/// The judging settings of the command line.
pub fn settings(args: &CommonArgs, scan_bytes: usize) -> Result<JudgeSettings> {
    Ok(JudgeSettings {
        watchlist: args.watch.iter().map(|c| c.trim().to_owned()).filter(|c| !c.eq_ignore_ascii_case("none")).collect(),
        identifiers_toml: args.ids.as_deref().map(read).transpose()?,
        scan_bytes,
        alert_new_destinations: args.new_destinations,
    })
}

pub fn judge(args: &AnalyzeArgs) -> Result<Judge> {
    let settings = settings(&args.common, args.inspect_bytes)?;
    Judge::from_settings(&settings, lists(&args.common.lists)?).context("check --watch and --ids")
}

/// The lists of `--list CATEGORY=PATH` options, imported in order.
pub fn lists(specs: &[String]) -> Result<ListSet> {
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
        let report = set
            .import(ListInfo::new(name, category), &text)
            .with_context(|| format!("cannot import {}", path.display()))?;
        eprintln!(
            "phonehome: list {}: {} domains, {} networks, {} lines skipped",
            path.display(),
            report.domains,
            report.cidrs,
            report.skipped
        );
    }
    Ok(set)
}

pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}
