//! `phonehome whois HOST|IP|HOST@IP...`: what phonehome knows about destinations without any traffic
//! (nothing is resolved or sent). The knowledge comes from one library call, `Intel::explain`, whose
//! typed answer is printed as text or, with `--json`, as one JSON object per line.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;

use anyhow::{bail, Context, Result};
use clap::Args;
use phonehome_intel::{Explanation, Intel, IntelConfig, ListFact, OwnerFact, Watchlist};

#[derive(Args)]
pub struct WhoisArgs {
    /// Destinations: a host name, an IP address, or HOST@IP (a host served by that address).
    #[arg(required = true, value_name = "HOST|IP|HOST@IP")]
    pub targets: Vec<String>,
    /// Watched countries (ISO 3166 alpha-2, comma-separated); `none` watches none.
    #[arg(long, value_delimiter = ',', default_values_t = ["CN".to_owned(), "RU".to_owned()], value_name = "CC")]
    pub watch: Vec<String>,
    /// Import a block list as `analyze` does: CATEGORY=PATH with CATEGORY tracker, malware, telemetry or custom.
    #[arg(long = "list", value_name = "CATEGORY=PATH")]
    pub lists: Vec<String>,
    /// Print each explanation as one JSON object per line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &WhoisArgs) -> Result<()> {
    let mut watchlist = Watchlist::empty();
    for code in args.watch.iter().map(|c| c.trim()).filter(|c| !c.eq_ignore_ascii_case("none")) {
        watchlist.insert(code).with_context(|| format!("--watch {code}"))?;
    }
    let intel = Intel::new(IntelConfig { watchlist, lists: crate::knowledge::lists(&args.lists)? });
    let mut out = std::io::stdout().lock();
    for target in &args.targets {
        let (host, ip) = parse_target(target)?;
        let explanation = intel.explain(host, ip);
        if host.is_some() && explanation.host.is_none() {
            bail!("{target:?} is neither a host name nor an IP address");
        }
        if args.json {
            serde_json::to_writer(&mut out, &explanation).context("cannot write to stdout")?;
            writeln!(out).context("cannot write to stdout")?;
        } else {
            write!(out, "{}", render(&explanation)).context("cannot write to stdout")?;
        }
    }
    Ok(())
}

/// `HOST`, `IP` (IPv6 with or without brackets) or `HOST@IP`.
fn parse_target(target: &str) -> Result<(Option<&str>, Option<IpAddr>)> {
    let address = |text: &str| text.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>();
    if let Ok(ip) = address(target) {
        return Ok((None, Some(ip)));
    }
    match target.rsplit_once('@') {
        Some((host, ip)) => {
            let ip = address(ip).with_context(|| format!("{target:?}: {ip:?} is not an IP address"))?;
            Ok((Some(host), Some(ip)))
        }
        None => Ok((Some(target), None)),
    }
}

/// The explanation as aligned text, one fact per line.
fn render(e: &Explanation) -> String {
    let title = match (&e.host, e.ip) {
        (Some(host), Some(ip)) => format!("{host} @ {ip}"),
        (Some(host), None) => host.clone(),
        (None, Some(ip)) => ip.to_string(),
        (None, None) => "nothing given".to_owned(),
    };
    let mut out = format!("{title}\n");
    let mut add = |label: &str, value: String| {
        let _ = writeln!(out, "  {label:<15} {value}");
    };
    if let Some(n) = &e.network {
        let asn = n.asn.map(|a| format!("AS{a} {}", n.as_org.as_deref().unwrap_or(""))).unwrap_or("unknown".into());
        add("server", format!("{} ({asn})", n.country.as_deref().unwrap_or("country unknown")));
        add("network owner", owner(n.owner.as_ref()));
        add("network lists", lists(&n.lists));
    }
    if let Some(d) = &e.domain {
        add("domain", d.registrable_domain.clone().unwrap_or("none (a public suffix)".into()));
        add("domain owner", owner(d.owner.as_ref()));
        add(
            "known",
            d.curated.as_ref().map_or("nothing curated".into(), |k| {
                format!("{} of {} ({}; {})", k.what, k.company, k.domain, k.source)
            }),
        );
        if let Some(b) = &d.state_body {
            add("state body", format!("{}, {} ({}; {})", b.body, b.what, b.country, b.source));
        }
        if let Some(suffix) = &d.government_suffix {
            add("government", format!("under the government suffix {suffix}"));
        }
        add(
            "tracker table",
            d.tracker.as_ref().map_or("not listed".into(), |t| {
                let company = t.company.as_ref().map(|c| format!(" of {c}")).unwrap_or_default();
                let alert = match (&t.exemption, t.alerts) {
                    (_, true) => "raises tracker".to_owned(),
                    (Some(why), false) => format!("no alert: {why}"),
                    (None, false) if d.curated.is_some() => "no alert: the curated knowledge wins".to_owned(),
                    (None, false) => format!("no alert: {} is not a tracking category", t.category.as_str()),
                };
                format!("{}: {} ({}){company}, {}; {alert}", t.domain, t.tracker, t.category.as_str(), t.table)
            }),
        );
        add("lists", lists(&d.lists));
    }
    let watch = if e.watchlist.is_empty() { "none".to_owned() } else { e.watchlist.join(",") };
    let _ = writeln!(out, "  alerts at --watch {watch} (a DNS lookup alone caps them at low):");
    if e.findings.is_empty() {
        out.push_str("    none\n");
    }
    for f in &e.findings {
        let _ = writeln!(out, "    {:<6} {:<20} {}", f.severity.as_str(), f.kind.as_str(), f.evidence);
    }
    out
}

fn owner(owner: Option<&OwnerFact>) -> String {
    owner.map_or("unknown".into(), |o| format!("{} ({}): {}", o.company, o.country, o.source))
}

fn lists(hits: &[ListFact]) -> String {
    if hits.is_empty() {
        return "none".into();
    }
    let hit = |l: &ListFact| format!("{} ({}): {}", l.list, l.category.alert_kind(), l.entry);
    hits.iter().map(hit).collect::<Vec<_>>().join("; ")
}
