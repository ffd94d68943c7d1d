//! `phonehome analyze`: captures → engine → CSV / JSON lines / summary.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use phonehome_engine::{Analyzer, AnalyzerConfig};
use phonehome_packet::{CaptureError, CaptureReader, LinkType};

use crate::output::{output_files, Outputs};
use crate::summary::human_bytes;
use crate::AnalyzeArgs;

/// Captures at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 32 * 1024 * 1024;
/// Damaged blocks reported one by one per capture; the rest are counted in one line.
const NOTICES_SHOWN: u64 = 10;
/// The capture name that reads standard input (`tcpdump -w - | phonehome analyze -`).
const STDIN: &str = "-";

/// How one capture went.
struct CaptureOutcome {
    frames: u64,
    bytes: u64,
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let started = Instant::now();
    let captures = args.captures.iter().filter(|path| !is_stdin(path)).map(|path| ("capture", path.as_path()));
    let inputs: Vec<_> = captures.chain(crate::knowledge::input_files(&args.common)).collect();
    crate::files::check_distinct(&inputs, &output_files(&args.common, args.common.db.as_deref()))?;
    let mut outputs = Outputs::open(&args.common, args.common.db.as_deref())?;
    let mut judge = crate::knowledge::judge(args)?;
    if let Some(memory) = outputs.destination_memory()? {
        judge.remember_destinations_in(Box::new(memory));
    }
    let config = AnalyzerConfig { client_bytes: args.inspect_bytes, ..AnalyzerConfig::default() };
    let mut analyzer = Analyzer::with_judge(config, judge);
    let progress = progress_bar(&args.captures);

    let mut readable = 0usize;
    let mut bytes = 0u64;
    for path in &args.captures {
        match analyze_capture(path, &mut analyzer, &mut outputs, &progress) {
            Ok(outcome) => {
                bytes += outcome.bytes;
                if outcome.frames > 0 {
                    readable += 1;
                }
            }
            Err(error) => {
                progress.suspend(|| say!("phonehome: warning: {}: {error:#}", name(path)));
            }
        }
        if let Some(error) = outputs.take_error() {
            progress.finish_and_clear();
            return Err(error);
        }
    }
    analyzer.finish(&mut outputs);
    progress.finish_and_clear();
    let summary = outputs.finish()?;
    if readable == 0 {
        bail!("no packet could be read from {} capture(s)", args.captures.len());
    }

    let stats = analyzer.stats();
    if !args.common.quiet {
        let seconds = started.elapsed().as_secs_f64();
        let totals = format!(
            "phonehome: {} capture(s), {} frames ({}), {} IP packets, {} skipped, {} malformed, in {:.2} s\n",
            args.captures.len(),
            stats.frames,
            human_bytes(bytes),
            stats.ip_packets,
            stats.skipped,
            stats.malformed,
            seconds
        );
        crate::print_stdout(&(totals + &summary.render(args.common.top)))?;
    }
    Ok(())
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// How a capture is named in messages.
fn name(path: &Path) -> String {
    if is_stdin(path) {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Reads one capture to its end or its first damage; damage after some packets is a warning, not a failure.
/// Damaged blocks that could be stepped over, and packets of link types phonehome cannot decode, are reported.
fn analyze_capture(
    path: &Path,
    analyzer: &mut Analyzer,
    outputs: &mut Outputs,
    progress: &ProgressBar,
) -> Result<CaptureOutcome> {
    let mut reader = if is_stdin(path) { CaptureReader::new(std::io::stdin())? } else { CaptureReader::open(path)? };
    let warn =
        |message: &dyn std::fmt::Display| progress.suspend(|| say!("phonehome: warning: {}: {message}", name(path)));
    let mut frames = 0u64;
    let mut reported = 0u64;
    let mut unsupported: BTreeMap<u32, u64> = BTreeMap::new();
    let mut notices_shown = 0u64;
    let mut show_notices = |reader: &mut CaptureReader| {
        for notice in reader.take_notices() {
            if notices_shown < NOTICES_SHOWN {
                notices_shown += 1;
                warn(&notice);
            }
        }
    };
    loop {
        let item = reader.next_frame();
        match item {
            None => break,
            Some(Ok(frame)) => {
                frames += 1;
                if let LinkType::Other(dlt) = frame.link {
                    *unsupported.entry(dlt).or_default() += 1;
                }
                analyzer.process_frame(frame.ts, frame.link, frame.data, outputs);
            }
            Some(Err(error @ (CaptureError::Truncated { .. } | CaptureError::Damaged { .. }))) if frames > 0 => {
                warn(&format_args!("{error}; analysed the {frames} packets before it"));
                break;
            }
            Some(Err(error)) => return Err(error.into()),
        }
        show_notices(&mut reader);
        if frames % 4096 == 0 {
            let read = reader.bytes_read();
            progress.inc(read - reported);
            reported = read;
            if outputs.failed() {
                break; // the caller reports the write error
            }
        }
    }
    show_notices(&mut reader);
    let hidden = reader.notice_count().saturating_sub(notices_shown);
    if hidden > 0 {
        warn(&format_args!("{hidden} more damaged blocks skipped"));
    }
    for (dlt, count) in unsupported {
        warn(&format_args!("{count} packets of link type {dlt} skipped: phonehome cannot decode that link layer"));
    }
    progress.inc(reader.bytes_read().saturating_sub(reported));
    Ok(CaptureOutcome { frames, bytes: reader.bytes_read() })
}

fn progress_bar(captures: &[PathBuf]) -> ProgressBar {
    let total: u64 = captures.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    if total < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}") {
        bar.set_style(style);
    }
    bar
}
