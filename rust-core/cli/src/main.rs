//! `phonehome`: the Linux front end of the phonehome engine.

/// A line on stderr that never panics: with stderr gone (closed, a full disk) there is nowhere to tell.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod analyze;
mod export;
mod files;
mod knowledge;
mod output;
mod report;
mod run;
mod summary;
mod whois;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

/// Exit status when nothing could be analysed or an output could not be written.
const EXIT_FAILURE: u8 = 1;

/// `--version` also dates and credits the embedded data, as their licences ask.
static LONG_VERSION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{}\n{}", env!("CARGO_PKG_VERSION"), phonehome_intel::data_notice()));

#[derive(Parser)]
#[command(name = "phonehome", version, long_version = LONG_VERSION.as_str(), about = "See what a phone sends where, and prove it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap/pcapng captures: flows, hosts, protocols, alerts.
    Analyze(AnalyzeArgs),
    /// Run the live monitor (forwarding and analysis) on a TUN device until SIGINT/SIGTERM, then write flows and alerts.
    Run(RunArgs),
    /// Export flows (CSV), alerts (JSON lines) or retained packets (pcapng) from a store.
    Export(export::ExportArgs),
    /// Summarise a store per app, with a timeline (terminal, or one HTML page).
    Report(report::ReportArgs),
    /// What phonehome knows about hosts and addresses, without any traffic: owners, jurisdictions,
    /// curated knowledge, tracker table, lists, and the alerts a connection there would raise.
    Whois(whois::WhoisArgs),
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng), analysed in order as one traffic record; `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Bytes searched per HTTP message body, WebSocket message or h2c stream body (64 times as much for a
    /// raw TCP stream or a UDP flow).
    #[arg(long, default_value_t = 16 * 1024, value_name = "BYTES")]
    pub inspect_bytes: usize,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args)]
pub struct RunArgs {
    /// TUN device to attach to (created when missing; routes and addresses are the caller's job).
    #[arg(long, value_name = "NAME")]
    pub tun: String,
    /// Mark set on every outbound socket, for policy routing to keep them out of the tun (decimal or 0x hex).
    #[arg(long, default_value = "0x70686f6e", value_parser = parse_mark, value_name = "N")]
    pub fwmark: u32,
    /// Address inside the tun's subnet that answers DNS by forwarding to --dns (UDP and TCP).
    #[arg(long, value_name = "ADDR")]
    pub dns_virtual: Option<std::net::IpAddr>,
    /// Upstream resolver for queries to --dns-virtual.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.53:53")]
    pub dns: std::net::SocketAddr,
    /// MTU of the TUN device.
    #[arg(long, default_value_t = 1500)]
    pub mtu: usize,
    /// Write what crossed the tun as pcapng.
    #[arg(long, value_name = "PATH")]
    pub pcap: Option<PathBuf>,
    /// TCP connections held at once; past it the idlest is reset to admit a new one.
    #[arg(long, default_value_t = phonehome_stack::Limits::default().max_tcp_flows, value_name = "N")]
    pub max_tcp_flows: usize,
    /// With --db, keep every packet in the store with its app, for `export --pcapng`.
    #[arg(long, requires = "db")]
    pub keep_packets: bool,
    /// Refuse new connections of this app (uid); repeatable.
    #[arg(long = "block-app", value_name = "UID")]
    pub block_apps: Vec<u32>,
    /// Refuse connections to this domain and its subdomains (by the DNS answers seen); repeatable.
    #[arg(long = "block-domain", value_name = "DOMAIN")]
    pub block_domains: Vec<String>,
    /// Refuse connections to servers in this country (ISO 3166 alpha-2); repeatable.
    #[arg(long = "block-country", value_name = "CC")]
    pub block_countries: Vec<String>,
    /// Refuse connections to this network (CIDR) or address; repeatable.
    #[arg(long = "block-net", value_name = "CIDR")]
    pub block_networks: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by `analyze` and `run`: outputs and judging.
#[derive(Args)]
pub struct CommonArgs {
    /// Write flows as RFC 4180 CSV.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Write flows as JSON lines.
    #[arg(long, value_name = "PATH")]
    pub jsonl: Option<PathBuf>,
    /// Write alerts as JSON lines.
    #[arg(long, value_name = "PATH")]
    pub alerts: Option<PathBuf>,
    /// Keep flows and alerts in this SQLite store (created if missing; read it with `export` and `report`).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Identifiers of the phone to look for (TOML: imei, imsi, iccid, phone, mac, bssid, android_id, ad_id,
    /// serial, email, location, or custom keys; one value or a list each).
    #[arg(long, value_name = "FILE")]
    pub ids: Option<PathBuf>,
    /// Watched countries (ISO 3166 alpha-2, comma-separated); `none` watches none.
    #[arg(long, value_delimiter = ',', default_values_t = ["CN".to_owned(), "RU".to_owned()], value_name = "CC")]
    pub watch: Vec<String>,
    /// Raise an info alert at the first contact of each app (or client address) with each destination.
    #[arg(long)]
    pub new_destinations: bool,
    /// Import a block list: CATEGORY=PATH with CATEGORY tracker, malware, telemetry or custom. Hosts files,
    /// plain domains, `*.wildcards`, adblock `||domain^`, CIDRs, or AdGuard companiesdb trackers JSON.
    #[arg(long = "list", value_name = "CATEGORY=PATH")]
    pub lists: Vec<String>,
    /// Rows in each table of the terminal summary.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Print no summary (warnings and errors still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A firewall mark as `ip rule` and iptables print them (`0x77`) or in decimal.
fn parse_mark(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("{text:?} is not a 32-bit mark (decimal, or hexadecimal with 0x)"))
}

/// Writes to standard output; a reader that went away (`| head`) ends the output quietly.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

/// The error and its causes on one line, each said once: a library error that quotes its source in its
/// own message would otherwise be printed twice.
fn error_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Whois(args) => whois::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            say!("phonehome: error: {}", error_line(&error));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_in_hex_and_decimal() {
        assert_eq!(parse_mark("0x77"), Ok(0x77));
        assert_eq!(parse_mark("0X70686f6e"), Ok(0x7068_6f6e));
        assert_eq!(parse_mark("119"), Ok(119));
        assert_eq!(parse_mark("0xffffffff"), Ok(u32::MAX));
        for bad in ["0x", "0x1ffffffff", "-1", "77h", ""] {
            assert!(parse_mark(bad).is_err(), "{bad}");
        }
        let run = Cli::try_parse_from(["phonehome", "run", "--tun", "tun0", "--fwmark", "0x77"]).unwrap();
        assert!(matches!(run.command, Command::Run(RunArgs { fwmark: 0x77, .. })));
        let default = Cli::try_parse_from(["phonehome", "run", "--tun", "tun0"]).unwrap();
        assert!(matches!(default.command, Command::Run(RunArgs { fwmark: 0x7068_6f6e, .. })));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("invalid identifiers: {0}")]
    struct Quoting(#[from] std::io::Error);

    #[test]
    fn an_error_that_quotes_its_source_is_said_once() {
        let error =
            anyhow::Error::new(Quoting(std::io::Error::other("IMEI must have 14 to 16 digits"))).context("check --ids");
        assert_eq!(error_line(&error), "check --ids: invalid identifiers: IMEI must have 14 to 16 digits");
        let plain = anyhow::anyhow!("disk full").context("cannot write a.csv");
        assert_eq!(error_line(&plain), "cannot write a.csv: disk full");
    }
}
