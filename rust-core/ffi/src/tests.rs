use super::*;

pub(crate) fn config() -> MonitorConfig {
    MonitorConfig {
        mtu: 9000,
        virtual_dns: Some("10.111.222.3".into()),
        upstream_dns: "[2001:db8::53]:5353".into(),
        owner_source: OwnerSource::ProcNet,
        identifiers_toml: None,
        watched_countries: vec!["CN".into()],
        alert_new_destinations: true,
        flow_idle_seconds: Some(0),
        history_path: Some("/data/user/0/org.phonehome/files/history.sqlite".into()),
        keep_packets: false,
        block_apps: vec![10123],
        block_domains: vec!["tracker.example".into()],
        block_countries: vec!["RU".into()],
        block_networks: vec!["192.0.2.0/24".into()],
        alert_lists: Vec::new(),
    }
}

#[test]
fn config_translates_every_field() {
    let translated = monitor_config(&config()).expect("valid");
    assert_eq!(translated.stack.mtu, 9000);
    assert_eq!(translated.stack.virtual_dns, Some("10.111.222.3".parse().expect("ip")));
    assert_eq!(translated.stack.upstream_dns.get(), "[2001:db8::53]:5353".parse().expect("addr"));
    assert_eq!(translated.watchlist, ["CN"]);
    assert!(translated.alert_new_destinations);
    // Zero would finish flows on every sweep: it is raised to one second.
    assert_eq!(translated.analyzer.timeouts.udp, Duration::from_secs(1));
    assert_eq!(translated.analyzer.timeouts.tcp_open, Timeouts::default().tcp_open);
    assert_eq!(translated.block.apps, [10123]);
    assert_eq!(translated.block.domains, ["tracker.example"]);
    assert_eq!(translated.block.countries, ["RU"]);
    assert_eq!(translated.block.networks, ["192.0.2.0/24"]);
}

#[test]
fn config_rejects_bad_addresses() {
    for (virtual_dns, upstream) in [(Some("10.0.0"), "1.1.1.1"), (None, "dns.example"), (None, "1.1.1.1:99999")] {
        let bad =
            MonitorConfig { virtual_dns: virtual_dns.map(str::to_owned), upstream_dns: upstream.into(), ..config() };
        assert!(matches!(monitor_config(&bad), Err(MonitorError::Config { .. })), "{virtual_dns:?} {upstream}");
    }
}

#[test]
fn resolver_defaults_to_port_53() {
    assert_eq!(parse_resolver("9.9.9.9"), Some("9.9.9.9:53".parse().expect("addr")));
    assert_eq!(parse_resolver("2001:db8::1"), Some("[2001:db8::1]:53".parse().expect("addr")));
    assert_eq!(parse_resolver("9.9.9.9:5300"), Some("9.9.9.9:5300".parse().expect("addr")));
}

#[test]
fn usable_resolver_skips_link_local_unspecified_and_the_virtual_address() {
    let servers = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let virtual_dns = Some("10.111.222.3".parse().expect("ip"));
    let chosen = usable_resolver(
        &servers(&[
            "fe80::1",
            "169.254.0.53",
            "0.0.0.0",
            "10.111.222.3",
            "not an address",
            "2001:db8::53",
            "192.0.2.53",
        ]),
        virtual_dns,
    );
    assert_eq!(chosen, Some("[2001:db8::53]:53".parse().expect("addr")));
    assert_eq!(usable_resolver(&servers(&["fe80::1", "169.254.1.1"]), virtual_dns), None);
    assert_eq!(usable_resolver(&[], virtual_dns), None);
}

fn stopped() -> Monitor {
    let live = LiveView {
        ongoing: Vec::new(),
        finished: vec![phonehome_model::fixtures::tls_flow("App", 1, "a.example", phonehome_model::fixtures::T0)],
    };
    Monitor { state: Mutex::new(State::Stopped { live, stats: MonitorStats::default() }), virtual_dns: None }
}

#[test]
fn a_stopped_monitor_stays_stopped_and_keeps_its_last_view() {
    let monitor = stopped();
    assert!(matches!(monitor.set_upstream_dns(vec!["192.0.2.53".into()]), Err(MonitorError::Stopped)));
    assert!(matches!(monitor.stop(), Err(MonitorError::Stopped)));
    let rules = monitor.set_block_rules(vec![1], Vec::new(), Vec::new(), vec!["192.0.2.0/24".into()]);
    assert!(matches!(rules, Err(MonitorError::Stopped)));
    assert!(!monitor.is_running());
    assert_eq!(monitor.stats(), MonitorStats::default());
    assert_eq!(monitor.live_view().finished.len(), 1, "the final live view outlives the stop");
}

#[test]
fn start_rejects_a_negative_fd_before_taking_it() {
    struct Nothing;
    impl Protector for Nothing {
        fn protect(&self, _fd: i32) -> Result<(), PlatformError> {
            Ok(())
        }
    }
    impl OwnerLookup for Nothing {
        fn owner_uid(&self, _connection: Connection) -> Result<Option<u32>, PlatformError> {
            Ok(None)
        }
        fn app_name(&self, _uid: u32) -> Result<Option<String>, PlatformError> {
            Ok(None)
        }
    }
    impl AlertListener for Nothing {
        fn on_alert(&self, _alert: AlertRecord) -> Result<(), PlatformError> {
            Ok(())
        }
    }
    let nothing = Arc::new(Nothing);
    let result = Monitor::start(config(), -1, nothing.clone(), nothing.clone(), nothing);
    assert!(matches!(result, Err(MonitorError::Config { .. })));
}
