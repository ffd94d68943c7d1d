//! `phonehome analyze`: captures → engine → CSV / JSON lines / summary.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use phonehome_engine::{Analyzer, AnalyzerConfig};
use phonehome_packet::{CaptureError, CaptureReader};

use crate::output::Outputs;
use crate::summary::human_bytes;
use crate::AnalyzeArgs;

/// Captures at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 32 * 1024 * 1024;

/// How one capture went.
struct CaptureOutcome {
    frames: u64,
    bytes: u64,
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let started = Instant::now();
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
                progress.suspend(|| eprintln!("phonehome: warning: {}: {error:#}", path.display()));
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
        println!(
            "phonehome: {} capture(s), {} frames ({}), {} IP packets, {} skipped, {} malformed, in {:.2} s",
            args.captures.len(),
            stats.frames,
            human_bytes(bytes),
            stats.ip_packets,
            stats.skipped,
            stats.malformed,
            seconds
        );
        print!("{}", summary.render(args.common.top));
    }
    Ok(())
}

/// Reads one capture to its end or its first damage; damage after some packets is a warning, not a failure.
fn analyze_capture(
    path: &Path,
    analyzer: &mut Analyzer,
    outputs: &mut Outputs,
    progress: &ProgressBar,
) -> Result<CaptureOutcome> {
    let mut reader = CaptureReader::open(path)?;
    let mut frames = 0u64;
    let mut reported = 0u64;
    while let Some(item) = reader.next_frame() {
        match item {
            Ok(frame) => {
                frames += 1;
                analyzer.process_frame(frame.ts, frame.link, frame.data, outputs);
            }
            Err(error @ (CaptureError::Truncated { .. } | CaptureError::Damaged { .. })) if frames > 0 => {
                progress.suspend(|| {
                    eprintln!(
                        "phonehome: warning: {}: {error}; analysed the {frames} packets before it",
                        path.display()
                    )
                });
                break;
            }
            Err(error) => return Err(error.into()),
        }
        if frames % 4096 == 0 {
            let read = reader.bytes_read();
            progress.inc(read - reported);
            reported = read;
            if outputs.failed() {
                break; // the caller reports the write error
            }
        }
    }
    progress.inc(reader.bytes_read().saturating_sub(reported));
    Ok(CaptureOutcome { frames, bytes: reader.bytes_read() })
}

fn progress_bar(captures: &[std::path::PathBuf]) -> ProgressBar {
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
