//! `phonehome run`: the live engine on a Linux TUN device, until SIGINT or SIGTERM.
//! Routing and addresses are the caller's job, as on Android; outbound sockets carry `--fwmark` so that
//! policy routing keeps them out of the tun (the Linux analogue of `VpnService.protect`).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use phonehome_engine::{AlertRecord, AnalyzerConfig, FlowRecord};
use phonehome_monitor::{AppNames, BlockRules, EventListener, Monitor, MonitorConfig};
use phonehome_stack::{FwmarkProtector, Limits, ProcNetResolver, StackConfig};
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::output::Outputs;
use crate::RunArgs;

pub fn run(args: &RunArgs) -> Result<()> {
    let common = &args.common;
    // The store belongs to the monitor: it never makes the engine wait, and it remembers first contacts.
    let outputs = Arc::new(Mutex::new(Outputs::open(common, None)?));
    let pcap = match &args.pcap {
        Some(path) => {
            let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            Some(Box::new(BufWriter::new(file)) as Box<dyn std::io::Write + Send>)
        }
        None => None,
    };
    let settings = crate::knowledge::settings(common, AnalyzerConfig::default().client_bytes)?;
    let config = MonitorConfig {
        stack: StackConfig {
            mtu: args.mtu,
            virtual_dns: args.dns_virtual,
            upstream_dns: args.dns.into(),
            limits: Limits { max_tcp_flows: args.max_tcp_flows, ..Limits::default() },
        },
        analyzer: AnalyzerConfig::default(),
        identifiers_toml: settings.identifiers_toml,
        watchlist: settings.watchlist,
        alert_new_destinations: settings.alert_new_destinations,
        store: common.db.clone(),
        keep_packets: args.keep_packets,
        block: BlockRules {
            apps: args.block_apps.clone(),
            domains: args.block_domains.clone(),
            countries: args.block_countries.clone(),
            networks: args.block_networks.clone(),
        },
        lists: crate::knowledge::lists(&common.lists)?,
    };
    // Signals are caught before the engine starts, so none is lost in between.
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).context("cannot catch SIGINT/SIGTERM")?;
    let tun = phonehome_stack::open_tun(&args.tun).with_context(|| format!("cannot open TUN device {}", args.tun))?;
    let monitor = Monitor::start(
        config,
        tun,
        Box::new(FwmarkProtector::new(args.fwmark)),
        Box::new(ProcNetResolver::default()),
        Box::new(UserNames::load()),
        Box::new(Listener(Arc::clone(&outputs))),
        pcap,
    )
    .context("cannot start the engine")?;
    eprintln!("phonehome: forwarding {} (fwmark {:#x}); SIGINT or SIGTERM stops", args.tun, args.fwmark);
    let signal = signals.forever().next();
    eprintln!("phonehome: signal {}: stopping", signal.unwrap_or(SIGTERM));
    let stats = monitor.stop().context("the engine failed")?;

    let outputs = Arc::try_unwrap(outputs)
        .map_err(|_| anyhow::anyhow!("the engine still holds the outputs"))?
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let summary = outputs.finish()?;
    if stats.store_dropped > 0 {
        eprintln!("phonehome: warning: the store dropped {} records (writer behind)", stats.store_dropped);
    }
    if let Some(failure) = &stats.store_failure {
        // Forwarding went on; what was committed before the failure stays in the store.
        anyhow::bail!("the store stopped writing: {failure}");
    }
    if !common.quiet {
        println!(
            "phonehome: {} packets from the tun, {} to it, {} dropped, {} connect failures",
            stats.stack.packets_in, stats.stack.packets_out, stats.stack.packets_dropped, stats.stack.connect_failures
        );
        print!("{}", summary.render(common.top));
    }
    Ok(())
}

/// Hands finished flows and alerts to the output files (written as flows end, so a crash loses little).
struct Listener(Arc<Mutex<Outputs>>);

impl EventListener for Listener {
    fn on_flow(&mut self, flow: &FlowRecord) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).on_flow(flow.clone());
    }

    fn on_alert(&mut self, alert: &AlertRecord) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).on_alert(alert.clone());
    }
}

/// On Linux an app is a user: uid → user name from `/etc/passwd` (read once; users added later show as uids).
struct UserNames(HashMap<u32, String>);

impl UserNames {
    fn load() -> Self {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        UserNames(parse_passwd(&passwd))
    }
}

impl AppNames for UserNames {
    fn app_name(&self, uid: u32) -> Option<String> {
        self.0.get(&uid).cloned()
    }
}

fn parse_passwd(passwd: &str) -> HashMap<u32, String> {
    passwd
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            Some((uid, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwd_lines_map_uids_to_names() {
        let names =
            super::parse_passwd("root:x:0:0:root:/root:/bin/bash\nbroken line\nalice:x:1001:1001::/home/a:/bin/sh\n");
        assert_eq!(names.get(&0).map(String::as_str), Some("root"));
        assert_eq!(names.get(&1001).map(String::as_str), Some("alice"));
        assert_eq!(names.len(), 2);
    }
}
