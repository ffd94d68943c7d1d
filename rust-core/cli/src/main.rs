//! `phonehome`: the Linux front end of the phonehome engine.

mod analyze;
mod output;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Exit status when nothing could be analysed or an output could not be written.
const EXIT_FAILURE: u8 = 1;

#[derive(Parser)]
#[command(name = "phonehome", version, about = "See what a phone sends where, and prove it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap/pcapng captures: flows, hosts, protocols.
    Analyze(AnalyzeArgs),
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng), analysed in order as one traffic record.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Write flows as RFC 4180 CSV.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Write flows as JSON lines.
    #[arg(long, value_name = "PATH")]
    pub jsonl: Option<PathBuf>,
    /// Rows in each table of the terminal summary.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Print no summary (warnings and errors still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
    /// Client bytes per TCP flow kept for inspection.
    #[arg(long, default_value_t = 16 * 1024, value_name = "BYTES")]
    pub inspect_bytes: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("phonehome: error: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
