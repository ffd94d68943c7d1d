//! `phonehome`: the Linux front end of the phonehome engine.

mod analyze;
mod export;
mod knowledge;
mod output;
mod report;
mod run;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Exit status when nothing could be analysed or an output could not be written.
const EXIT_FAILURE: u8 = 1;

/// `--version` also credits the embedded data, as its licence asks.
static LONG_VERSION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{}\n{}", env!("CARGO_PKG_VERSION"), phonehome_ipdb::ATTRIBUTION));

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
    /// Run the live engine on a TUN device until SIGINT/SIGTERM, then write flows and alerts.
    Run(RunArgs),
    /// Export flows (CSV), alerts (JSON lines) or retained packets (pcapng) from a store.
    Export(export::ExportArgs),
    /// Summarise a store per app, with a timeline (terminal, or one HTML page).
    Report(report::ReportArgs),
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng), analysed in order as one traffic record.
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
    /// Mark set on every outbound socket, for policy routing to keep them out of the tun.
    #[arg(long, default_value_t = 0x70686f6e, value_name = "N")]
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Report(args) => report::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("phonehome: error: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
