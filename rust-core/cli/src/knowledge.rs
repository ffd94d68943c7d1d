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
        identifiers_toml: args.ids.as_deref().map(crate::files::read_ids_file).transpose()?,
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
        let list = crate::files::read_list_file(path)?;
        let report = set
            .import(ListInfo::new(name, category), &list.text)
            .with_context(|| format!("cannot import {}", path.display()))?;
        let not_utf8 = match list.non_utf8_lines {
            0 => String::new(),
            n => format!(" ({n} with bytes that are not UTF-8, replaced)"),
        };
        say!(
            "phonehome: list {}: {} domains, {} networks, {} lines skipped{not_utf8}",
            path.display(),
            report.domains,
            report.cidrs,
            report.skipped
        );
    }
    Ok(set)
}

/// The paths `--ids` and `--list` read, for [`crate::files::check_distinct`].
pub fn input_files(args: &CommonArgs) -> Vec<(&'static str, &Path)> {
    let lists = args.lists.iter().filter_map(|spec| spec.split_once('=')).map(|(_, path)| ("--list", Path::new(path)));
    args.ids.iter().map(|path| ("--ids", path.as_path())).chain(lists).collect()
}
