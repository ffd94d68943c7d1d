//! The analysis above the stack: the stack's [`PacketObserver`] on the stack thread. It owns the analyzer (one
//! flow table, keyed like the stack's, fed the stack's own parse of each packet), names the owner of each flow
//! once, decides about new flows from the block rules and the analyzer's DNS names — all on the packet thread,
//! without a lock around the analyzer — and publishes, once a second, the counters and the live view.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::PcapNgWriter;
use phonehome_engine::{AlertRecord, Analyzer, AnalyzerStats, FlowKey, FlowRecord, FlowSink, Owner, Timestamp};
use phonehome_packet::IpPacket;
use phonehome_stack::PacketObserver;
use phonehome_store::StoreSink;

use crate::rules::CompiledRules;
use crate::{relock, AppNames, LiveView};

/// Ongoing flows in the live view (the most recently active).
pub(crate) const LIVE_ONGOING: usize = 200;
/// Latest finished flows in the live view.
pub(crate) const LIVE_FINISHED: usize = 100;

/// A finished flow or an alert on its way to the listener.
pub(crate) enum Event {
    Flow(Box<FlowRecord>),
    Alert(Box<AlertRecord>),
}

/// What the analysis publishes for other threads (counters, the live view, a capture failure).
#[derive(Default)]
pub(crate) struct Published {
    pub analyzer: AnalyzerStats,
    pub flows_finished: u64,
    pub alerts: u64,
    pub events_dropped: u64,
    pub live: LiveView,
    /// Why the packet capture stopped, reported by [`Monitor::stop`](crate::Monitor::stop).
    pub pcap_error: Option<pcap_file::PcapError>,
}

/// Where finished flows and alerts go: the store's sink, the listener's queue, the live view's latest.
pub(crate) struct Outlet {
    pub events: SyncSender<Event>,
    /// Whether the listener wants every finished flow (the CLI's files) or only alerts (the app).
    pub send_flows: bool,
    pub store: Option<StoreSink>,
    pub finished: VecDeque<FlowRecord>,
    pub flows_finished: u64,
    pub alerts: u64,
    pub events_dropped: u64,
}

impl Outlet {
    fn send(&mut self, event: Event) {
        if let Err(TrySendError::Full(_)) = self.events.try_send(event) {
            self.events_dropped += 1;
        }
    }
}

impl FlowSink for Outlet {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
        if let Some(store) = &mut self.store {
            store.flow_ended(record.clone(), alerts.clone());
        }
        self.flows_finished += 1;
        if self.finished.len() == LIVE_FINISHED {
            self.finished.pop_front();
        }
        self.finished.push_back(record);
        if self.send_flows {
            let latest = self.finished.back().cloned();
            if let Some(flow) = latest {
                self.send(Event::Flow(Box::new(flow)));
            }
        }
        for alert in alerts {
            self.alerts += 1;
            self.send(Event::Alert(Box::new(alert)));
        }
    }
}

/// The stack's observer: analysis, capture, names and policy on the packet thread.
pub(crate) struct Analysis {
    pub analyzer: Analyzer,
    pub outlet: Outlet,
    pub pcap: Option<PcapNgWriter<Box<dyn Write + Send>>>,
    pub names: Box<dyn AppNames>,
    /// App names already asked for: the platform look-up may be slow (a JNI call on Android).
    pub name_cache: HashMap<u32, Option<String>>,
    pub rules: Arc<RwLock<CompiledRules>>,
    pub published: Arc<Mutex<Published>>,
}

impl Analysis {
    fn publish(&mut self, live: bool) {
        let mut published = relock(&self.published);
        published.analyzer = self.analyzer.stats();
        published.flows_finished = self.outlet.flows_finished;
        published.alerts = self.outlet.alerts;
        published.events_dropped = self.outlet.events_dropped;
        if live {
            published.live = LiveView {
                ongoing: self.analyzer.ongoing(LIVE_ONGOING),
                finished: self.outlet.finished.iter().rev().cloned().collect(),
            };
        }
    }

    fn rules(&self) -> std::sync::RwLockReadGuard<'_, CompiledRules> {
        self.rules.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn capture(&mut self, ts: Timestamp, raw: &[u8]) {
        let Some(writer) = &mut self.pcap else { return };
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: ts.0,
            original_len: u32::try_from(raw.len()).unwrap_or(u32::MAX),
            data: raw.into(),
            options: Vec::new(),
        };
        if let Err(error) = writer.write_pcapng_block(block) {
            relock(&self.published).pcap_error = Some(error);
            self.pcap = None;
        }
    }
}

impl PacketObserver for Analysis {
    fn on_packet(&mut self, ts: Timestamp, packet: Option<&IpPacket<'_>>, raw: &[u8]) {
        let owner = self.analyzer.process_packet(ts, packet, &mut self.outlet);
        if let Some(store) = &mut self.outlet.store {
            store.record_packet(ts, owner.map(|o| o.uid), owner.and_then(|o| o.app.as_deref()), raw);
        }
        self.capture(ts, raw);
    }

    fn on_owner(&mut self, flow: &FlowKey, uid: u32) {
        let names = &self.names;
        let app = self.name_cache.entry(uid).or_insert_with(|| names.app_name(uid)).clone();
        self.analyzer.set_owner(flow, Owner { uid, app });
    }

    fn on_tick(&mut self, now: Timestamp) {
        self.analyzer.sweep(now, &mut self.outlet);
        self.publish(true);
    }

    fn on_stop(&mut self) {
        self.analyzer.finish(&mut self.outlet);
        self.publish(true);
        if let Some(writer) = self.pcap.take() {
            if let Err(error) = writer.into_inner().flush() {
                relock(&self.published).pcap_error = Some(pcap_file::PcapError::IoError(error));
            }
        }
    }

    fn allows_destination(&mut self, flow: &FlowKey) -> bool {
        let server = flow.server.ip();
        let analyzer = &self.analyzer;
        !self.rules().refuses_destination(server, || analyzer.name_of(server, Timestamp::now()))
    }

    fn allows_app(&mut self, _flow: &FlowKey, uid: Option<u32>) -> bool {
        !self.rules().refuses_app(uid)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::mpsc::sync_channel;
    use std::time::Duration;

    use phonehome_engine::{AnalyzerConfig, Proto};
    use phonehome_packet::PacketDecoder;
    use phonehome_testdata::{proto, CaptureBuilder};

    use super::*;
    use crate::BlockRules;

    struct Named;
    impl AppNames for Named {
        fn app_name(&self, uid: u32) -> Option<String> {
            Some(format!("app{uid}"))
        }
    }

    fn analysis(block_domains: &[&str]) -> (Analysis, std::sync::mpsc::Receiver<Event>) {
        let (events, received) = sync_channel(16);
        let rules =
            BlockRules { domains: block_domains.iter().map(|d| d.to_string()).collect(), ..BlockRules::default() };
        let outlet = Outlet {
            events,
            send_flows: false,
            store: None,
            finished: VecDeque::new(),
            flows_finished: 0,
            alerts: 0,
            events_dropped: 0,
        };
        let analysis = Analysis {
            analyzer: Analyzer::new(AnalyzerConfig::default()),
            outlet,
            pcap: None,
            names: Box::new(Named),
            name_cache: HashMap::new(),
            rules: Arc::new(RwLock::new(CompiledRules::new(&rules).expect("rules"))),
            published: Arc::new(Mutex::new(Published::default())),
        };
        (analysis, received)
    }

    /// Hands every packet of `capture` to the analysis as the stack would: decoded once, then observed.
    fn observe(analysis: &mut Analysis, capture: &CaptureBuilder) {
        let mut decoder = PacketDecoder::new();
        for (ts, raw) in capture.packets() {
            let ts = Timestamp(*ts);
            let decoded = decoder.decode_tun(ts, raw).ok().flatten();
            analysis.on_packet(ts, decoded.as_ref(), raw);
        }
    }

    #[test]
    fn the_live_view_shows_ongoing_flows_with_their_owner_then_finished_ones() {
        let (mut analysis, _events) = analysis(&[]);
        let mut capture = CaptureBuilder::new(Duration::from_secs(1_700_000_000));
        let (phone, server): (SocketAddr, SocketAddr) =
            ("10.0.0.2:40000".parse().unwrap(), "192.0.2.7:443".parse().unwrap());
        capture.udp(phone, server, b"hello");
        observe(&mut analysis, &capture);
        let flow = FlowKey { proto: Proto::Udp, client: phone, server };
        analysis.on_owner(&flow, 10_123);
        analysis.on_owner(&flow, 10_999); // a late second answer changes nothing: one owner per flow
        analysis.on_tick(Timestamp(Duration::from_secs(1_700_000_001)));
        let live = relock(&analysis.published).live.clone();
        let ongoing = live.ongoing.first().expect("the flow is ongoing");
        assert_eq!((ongoing.uid, ongoing.app.as_deref(), ongoing.bytes_out), (Some(10_123), Some("app10123"), 5));
        assert!(live.finished.is_empty());

        analysis.on_stop();
        let published = relock(&analysis.published);
        assert!(published.live.ongoing.is_empty(), "stopping finishes every flow");
        assert_eq!(published.live.finished.first().map(|f| f.key()), Some(flow));
        assert_eq!(published.flows_finished, 1);
    }

    #[test]
    fn domain_rules_see_the_names_of_the_dns_answers_the_analysis_saw() {
        let (mut analysis, _events) = analysis(&["tracker.example"]);
        // Live packets carry the wall clock, which the policy's name look-up uses too.
        let mut capture = CaptureBuilder::new(Timestamp::now().0);
        let resolver: SocketAddr = "10.0.0.53:53".parse().unwrap();
        let phone: SocketAddr = "10.0.0.2:40001".parse().unwrap();
        let answer = proto::dns_response(7, "cdn.tracker.example", 1, None, &["192.0.2.9".parse().unwrap()]);
        capture.udp_exchange(phone, resolver, &proto::dns_query(7, "cdn.tracker.example", 1), &answer);
        observe(&mut analysis, &capture);
        let to = |server: &str| FlowKey { proto: Proto::Tcp, client: phone, server: server.parse().unwrap() };
        assert!(!analysis.allows_destination(&to("192.0.2.9:443")), "resolved from a blocked domain");
        assert!(analysis.allows_destination(&to("192.0.2.10:443")), "no name, no domain rule");
        assert!(analysis.allows_app(&to("192.0.2.10:443"), Some(1)));
    }
}
