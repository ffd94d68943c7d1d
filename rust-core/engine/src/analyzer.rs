//! The pipeline: frames or bare IP packets in, finished flow records out. Capture analysis feeds it frames
//! from a file; the live engine feeds it every packet that crosses the tun. It never learns which.

use std::net::SocketAddr;
use std::sync::Arc;

use phonehome_dns::NameCache;
use phonehome_model::{AlertRecord, FlowKey, FlowRecord, HostSource, Proto, Timestamp, L7};
use phonehome_packet::{IpPacket, LinkType, PacketDecoder, TcpSegment, Transport};
use rustc_hash::FxHashMap;

use crate::flow::{orient, Direction, FlowMeter, Timeouts, TupleKey};
use crate::inspect::FlowInspector;
use crate::judge::{FlowFacts, IpFacts, Judge, Verdict};
use crate::stream::{Change, StreamCollector};

/// Tunables of the pipeline; the defaults suit both capture analysis and a phone.
#[derive(Clone, Debug)]
pub struct AnalyzerConfig {
    /// Client → server bytes held per TCP flow for inspection; the per-message (and raw window) budget of the
    /// leak search (see [`AnalyzerConfig::inspect_limits`]).
    pub client_bytes: usize,
    /// Server → client bytes kept per TCP flow (DNS-over-TCP answers).
    pub server_bytes: usize,
    pub timeouts: Timeouts,
    /// Flows held at once; past it the longest idle are finished early.
    pub max_flows: usize,
    /// Addresses remembered from DNS answers.
    pub dns_cache_entries: usize,
}

impl AnalyzerConfig {
    /// The stream reader's caps: `client_bytes` per HTTP message (head, decoded body), WebSocket message and
    /// raw window; 64 times as much for a raw TCP stream or a UDP flow's datagrams.
    pub fn inspect_limits(&self) -> phonehome_http::Limits {
        phonehome_http::Limits::for_message_bytes(self.client_bytes)
    }
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            client_bytes: 16 * 1024,
            server_bytes: 4 * 1024,
            timeouts: Timeouts::default(),
            max_flows: 200_000,
            dns_cache_entries: 65_536,
        }
    }
}

/// Receives each flow when it ends (idle, closed and lingered, evicted, or flushed at the end), with the
/// alerts it raised (together, so a store can keep a flow with its evidence).
pub trait FlowSink {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>);
}

/// A closure that only wants the flows.
impl<F: FnMut(FlowRecord)> FlowSink for F {
    fn flow_ended(&mut self, record: FlowRecord, _alerts: Vec<AlertRecord>) {
        self(record)
    }
}

/// What the pipeline has seen, for the summary and for warnings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnalyzerStats {
    pub frames: u64,
    pub ip_packets: u64,
    /// Frames that are not IP (ARP, LLDP…), other IP protocols, and fragments still waiting.
    pub skipped: u64,
    pub malformed: u64,
    pub flows: u64,
}

/// The app a flow belongs to, as the platform reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub app: Option<String>,
}

#[derive(Debug)]
struct Flow {
    meter: FlowMeter,
    client_stream: StreamCollector,
    server_stream: StreamCollector,
    inspector: FlowInspector,
    /// Name the server address had in a DNS answer when the flow started, and whether it was ambiguous.
    dns_name: Option<(Arc<str>, bool)>,
    owner: Option<Owner>,
    /// Findings gathered while the flow runs (identifiers in UDP datagrams).
    verdicts: Vec<Verdict>,
    /// Client bytes of a UDP flow searched so far (bounded like a TCP stream).
    datagram_bytes_searched: usize,
}

/// Packets → flows → inspection → records.
pub struct Analyzer {
    decoder: PacketDecoder,
    flows: FlowTable,
}

/// Everything but the decoder, so a decoded packet (which may borrow the decoder's reassembly buffer)
/// can be handed to it.
struct FlowTable {
    config: AnalyzerConfig,
    judge: Judge,
    flows: FxHashMap<TupleKey, Flow>,
    names: NameCache,
    stats: AnalyzerStats,
    last_sweep: Timestamp,
}

impl Analyzer {
    /// An analyzer with the built-in knowledge and no declared identifier.
    pub fn new(config: AnalyzerConfig) -> Self {
        Self::with_judge(config, Judge::default())
    }

    /// An analyzer judging flows with the user's watchlist, lists and identifiers.
    pub fn with_judge(config: AnalyzerConfig, judge: Judge) -> Self {
        Analyzer {
            decoder: PacketDecoder::new(),
            flows: FlowTable {
                names: NameCache::new(config.dns_cache_entries),
                judge,
                config,
                flows: FxHashMap::default(),
                stats: AnalyzerStats::default(),
                last_sweep: Timestamp::default(),
            },
        }
    }

    pub fn stats(&self) -> AnalyzerStats {
        self.flows.stats
    }

    /// A frame from a capture file.
    pub fn process_frame(&mut self, ts: Timestamp, link: LinkType, frame: &[u8], sink: &mut dyn FlowSink) {
        let decoded = self.decoder.decode(ts, link, frame);
        self.flows.on_decoded(ts, decoded.as_ref().map(Option::as_ref).map_err(drop), sink);
    }

    /// A bare IP packet, as a tun device carries them.
    pub fn process_ip(&mut self, ts: Timestamp, packet: &[u8], sink: &mut dyn FlowSink) {
        let decoded = self.decoder.decode_ip(ts, packet);
        self.flows.on_decoded(ts, decoded.as_ref().map(Option::as_ref).map_err(drop), sink);
    }

    /// A packet the live stack already decoded (and reassembled), analysed without a second parse; `None` for a
    /// fragment still held or a packet that is not valid IP. Returns the owner of the packet's flow, when known
    /// (the live monitor keeps packets with their app).
    pub fn process_packet(
        &mut self,
        ts: Timestamp,
        packet: Option<&IpPacket<'_>>,
        sink: &mut dyn FlowSink,
    ) -> Option<&Owner> {
        let tuple = self.flows.on_decoded(ts, Ok(packet), sink)?;
        self.flows.flows.get(&tuple)?.owner.as_ref()
    }

    /// Attributes a flow to an app, once (the live engine resolves owners off the packet path; a later answer
    /// for the same flow changes nothing).
    pub fn set_owner(&mut self, key: &FlowKey, owner: Owner) {
        if let Some(flow) = self.flows.flows.get_mut(&TupleKey::new(key.proto, key.client, key.server)) {
            flow.owner.get_or_insert(owner);
        }
    }

    /// The flows still open, as far as they have gone: counters, app, host, country and the severity of what was
    /// found so far (destination verdicts come when a flow ends). The `limit` most recently active, newest first.
    pub fn ongoing(&self, limit: usize) -> Vec<FlowRecord> {
        let mut flows: Vec<&Flow> = self.flows.flows.values().collect();
        let by_recency = |flow: &&Flow| std::cmp::Reverse(flow.meter.last_seen);
        if flows.len() > limit && limit > 0 {
            flows.select_nth_unstable_by_key(limit - 1, by_recency);
        }
        flows.truncate(limit);
        flows.sort_by_key(by_recency);
        flows.into_iter().map(Flow::progress).collect()
    }

    /// The name `ip` was last resolved from (DNS answers seen so far, still fresh at `now`).
    pub fn name_of(&self, ip: std::net::IpAddr, now: Timestamp) -> Option<Arc<str>> {
        self.flows.names.lookup(ip, now.0).map(|cached| cached.name)
    }

    /// Finishes flows idle at `now`; call it on a timer when packets may stop arriving (live engine).
    pub fn sweep(&mut self, now: Timestamp, sink: &mut dyn FlowSink) {
        self.flows.sweep(now, sink);
    }

    /// Finishes every flow still open (end of a capture, or engine shutdown).
    pub fn finish(&mut self, sink: &mut dyn FlowSink) {
        let mut remaining: Vec<Flow> = self.flows.flows.drain().map(|(_, flow)| flow).collect();
        remaining.sort_by_key(|flow| flow.meter.first_seen);
        for flow in remaining {
            flow.conclude(&mut self.flows.judge, sink);
        }
    }
}

impl FlowTable {
    /// One frame's decoding: a packet, nothing to analyse (not IP, a fragment held), or malformed.
    fn on_decoded(
        &mut self,
        ts: Timestamp,
        decoded: Result<Option<&IpPacket<'_>>, ()>,
        sink: &mut dyn FlowSink,
    ) -> Option<TupleKey> {
        self.stats.frames += 1;
        let tuple = match decoded {
            Ok(Some(packet)) => {
                self.stats.ip_packets += 1;
                self.on_packet(ts, packet, sink)
            }
            Ok(None) => {
                self.stats.skipped += 1;
                None
            }
            Err(_) => {
                self.stats.malformed += 1;
                None
            }
        };
        // Either way: one far-future timestamp in a capture must not stop sweeping for the rest of it.
        if ts.0.abs_diff(self.last_sweep.0) >= std::time::Duration::from_secs(1) {
            self.sweep(ts, sink);
        }
        if self.flows.len() > self.config.max_flows {
            self.evict_idlest(sink);
        }
        tuple
    }

    fn sweep(&mut self, now: Timestamp, sink: &mut dyn FlowSink) {
        let timeouts = self.config.timeouts;
        let idle: Vec<TupleKey> =
            self.flows.iter().filter(|(_, flow)| flow.meter.is_idle(now, &timeouts)).map(|(key, _)| *key).collect();
        for key in idle {
            self.end_flow(&key, sink);
        }
        self.last_sweep = now;
    }

    /// Accounts and inspects one packet; returns the key of its flow.
    fn on_packet(&mut self, ts: Timestamp, packet: &IpPacket<'_>, sink: &mut dyn FlowSink) -> Option<TupleKey> {
        let (proto, src_port, dst_port, payload) = match &packet.transport {
            Transport::Tcp(s) => (Proto::Tcp, s.src_port, s.dst_port, s.payload),
            Transport::Udp(d) => (Proto::Udp, d.src_port, d.dst_port, d.payload),
            Transport::Icmp(m) => (Proto::Icmp, m.echo_id.unwrap_or(0), m.echo_id.unwrap_or(0), m.payload),
            Transport::Other { .. } => {
                self.stats.skipped += 1;
                return None;
            }
        };
        let src = SocketAddr::new(packet.src, src_port);
        let dst = SocketAddr::new(packet.dst, dst_port);
        let tuple = TupleKey::new(proto, src, dst);

        // A new SYN on the tuple of a finished connection starts a new flow (port reuse).
        if let Transport::Tcp(segment) = &packet.transport {
            if segment.flags.syn && !segment.flags.ack && self.flows.get(&tuple).is_some_and(|f| f.meter.tcp.finished())
            {
                self.end_flow(&tuple, sink);
            }
        }
        let (config, names, stats, judge) = (&self.config, &mut self.names, &mut self.stats, &self.judge);
        let flow = self.flows.entry(tuple).or_insert_with(|| {
            stats.flows += 1;
            let (client, server) = orient(src, dst, &packet.transport);
            let dns_name = names.lookup(server.ip(), ts.0).map(|cached| (cached.name, cached.uncertain));
            let inspector = FlowInspector::new(client.port(), server.port(), config.inspect_limits());
            // Only DNS over TCP reads the server's bytes: other flows keep none of them.
            let server_bytes = if inspector.reads_server_stream() { config.server_bytes } else { 0 };
            Flow {
                meter: FlowMeter::new(FlowKey { proto, client, server }, ts),
                client_stream: StreamCollector::new(if proto == Proto::Tcp { config.client_bytes } else { 0 }),
                server_stream: StreamCollector::new(if proto == Proto::Tcp { server_bytes } else { 0 }),
                inspector,
                dns_name,
                owner: None,
                verdicts: Vec::new(),
                datagram_bytes_searched: 0,
            }
        });
        let direction = flow.meter.direction_of(src);
        flow.meter.count(ts, direction, payload.len());

        match &packet.transport {
            Transport::Tcp(segment) => flow.on_tcp(segment, direction, names, judge, ts),
            Transport::Udp(datagram) => match direction {
                Direction::ToServer => {
                    flow.inspector.on_client_datagram(datagram.payload);
                    let searchable = flow.inspector.found.l7.is_none()
                        && flow.datagram_bytes_searched < config.inspect_limits().stream_bytes
                        && !phonehome_leak::is_encrypted_handshake(datagram.payload);
                    if searchable {
                        // Raw UDP: search each datagram as it comes, nothing is kept.
                        flow.datagram_bytes_searched += datagram.payload.len();
                        judge.search_payload(datagram.payload, &mut flow.verdicts);
                    }
                }
                Direction::ToClient => flow.inspector.on_server_datagram(datagram.payload, names, ts.0),
            },
            Transport::Icmp(_) | Transport::Other { .. } => {}
        }
        Some(tuple)
    }

    fn end_flow(&mut self, tuple: &TupleKey, sink: &mut dyn FlowSink) {
        if let Some(flow) = self.flows.remove(tuple) {
            flow.conclude(&mut self.judge, sink);
        }
    }

    /// Over capacity: finish the idlest eighth of the table at once, so eviction stays rare.
    fn evict_idlest(&mut self, sink: &mut dyn FlowSink) {
        let mut by_age: Vec<(Timestamp, TupleKey)> =
            self.flows.iter().map(|(key, flow)| (flow.meter.last_seen, *key)).collect();
        let count = (by_age.len() / 8).max(1);
        by_age.select_nth_unstable_by_key(count - 1, |(seen, _)| *seen);
        for (_, key) in by_age.into_iter().take(count) {
            self.end_flow(&key, sink);
        }
    }
}

impl Flow {
    fn on_tcp(
        &mut self,
        segment: &TcpSegment<'_>,
        direction: Direction,
        names: &mut NameCache,
        judge: &Judge,
        ts: Timestamp,
    ) {
        self.meter.tcp.update(segment, direction);
        let stream = match direction {
            Direction::ToServer => &mut self.client_stream,
            Direction::ToClient => &mut self.server_stream,
        };
        if segment.flags.syn {
            stream.on_syn(segment.seq);
        }
        let change = stream.on_segment(segment.seq, segment.payload);
        if change == Change::Rewritten && direction == Direction::ToServer {
            self.inspector.restart_client_probe();
            self.client_stream.rewind();
        }
        if change != Change::None {
            match direction {
                Direction::ToServer => {
                    if self.inspector.wants_client_stream() {
                        let full = self.client_stream.is_full();
                        self.inspector.on_client_stream(self.client_stream.bytes(), full);
                    }
                    self.read_client_stream(judge);
                }
                Direction::ToClient => self.inspector.on_server_stream(self.server_stream.bytes(), names, ts.0),
            }
        }
        if self.inspector.client_stream_done() {
            self.client_stream.release();
            self.server_stream.release();
        }
    }

    /// Hands the client bytes not read yet to the stream reader, which searches what it decodes.
    fn read_client_stream(&mut self, judge: &Judge) {
        if self.inspector.reads_client_bytes() {
            self.client_stream.follow();
            let verdicts = &mut self.verdicts;
            self.inspector
                .on_client_bytes(self.client_stream.unread(), &mut |bytes| judge.search_payload(bytes, verdicts));
            self.client_stream.mark_read();
            self.client_stream.compact();
        }
    }

    /// What the flow's record says so far; `verdicts` set its severity and flags.
    fn record(&self, found: &crate::inspect::Inspection, verdicts: &[Verdict], ip: &IpFacts) -> FlowRecord {
        let (meter, key) = (&self.meter, self.meter.key);
        let mut record = FlowRecord {
            first_seen: meter.first_seen,
            last_seen: meter.last_seen,
            proto: key.proto,
            src_ip: key.client.ip(),
            src_port: key.client.port(),
            dst_ip: key.server.ip(),
            dst_port: key.server.port(),
            uid: self.owner.as_ref().map(|o| o.uid),
            app: self.owner.as_ref().and_then(|o| o.app.clone()),
            l7: found.l7,
            host: found.host.clone(),
            host_source: found.host_source,
            country: ip.country.map(str::to_owned),
            asn: ip.asn,
            as_org: ip.as_org.map(str::to_owned),
            bytes_out: meter.to_server.bytes,
            packets_out: meter.to_server.packets,
            bytes_in: meter.to_client.bytes,
            packets_in: meter.to_client.packets,
            severity: verdicts.iter().map(|v| v.finding.severity).max(),
            flags: found.flags.iter().map(|flag| (*flag).to_owned()).collect(),
            tcp_state: (key.proto == Proto::Tcp).then(|| meter.tcp.state()),
            tls_version: found.tls_version.clone(),
            alpn: found.alpn.clone(),
            ja4: found.ja4.clone(),
            ech: found.ech,
            http_method: found.http_method.clone(),
            http_path: found.http_path.clone(),
            user_agent: found.user_agent.clone(),
            dns_names: if found.l7 == Some(L7::Dns) {
                found.dns_names.clone()
            } else {
                self.dns_name.iter().map(|(name, _)| name.to_string()).collect()
            },
        };
        if let Some((name, uncertain)) = &self.dns_name {
            if record.host.is_none() {
                record.host = Some(name.to_string());
                record.host_source = Some(HostSource::Dns);
                if *uncertain {
                    record.flags.push("dns_uncertain".to_owned());
                }
            }
        }
        for verdict in verdicts {
            let kind = verdict.finding.kind.as_str();
            if !record.flags.iter().any(|flag| flag == kind) {
                record.flags.push(kind.to_owned());
            }
        }
        record
    }

    /// The record of the flow as it is now, without the verdicts that only its end brings.
    fn progress(&self) -> FlowRecord {
        self.record(&self.inspector.found, &self.verdicts, &Judge::ip_facts(self.meter.key.server.ip()))
    }

    /// Judges the finished flow and hands its record, with its alerts, to the sink.
    fn conclude(mut self, judge: &mut Judge, sink: &mut dyn FlowSink) {
        let client_bytes = self.client_stream.bytes();
        self.inspector.finish(client_bytes);
        let encrypted = self.inspector.is_encrypted();
        let mut verdicts = std::mem::take(&mut self.verdicts);
        let key = self.meter.key;
        if key.proto == Proto::Tcp && !encrypted {
            let unread = self.client_stream.unread();
            self.inspector.finish_client(unread, &mut |bytes| judge.search_payload(bytes, &mut verdicts));
        }
        let found = &self.inspector.found;
        // The host the flow is known by: its own, else the name its server's address was resolved from.
        let host = found.host.as_deref().or(self.dns_name.as_ref().map(|(name, _)| &**name));
        if found.l7 == Some(L7::Dns) {
            let unlisted_host = host.filter(|host| !found.dns_names.iter().any(|name| name == host));
            for name in found.dns_names.iter().map(String::as_str).chain(unlisted_host) {
                judge.search_payload(name.as_bytes(), &mut verdicts);
            }
        }
        let party = match &self.owner {
            Some(Owner { app: Some(app), .. }) => app.clone(),
            Some(Owner { uid, app: None }) => format!("uid {uid}"),
            None => key.client.ip().to_string(),
        };
        let facts = FlowFacts {
            server: key.server.ip(),
            server_port: key.server.port(),
            l7: found.l7,
            host,
            named_by_handshake: found.host.is_some() && found.host_source != Some(HostSource::Dns),
            http_method: found.http_method.as_deref(),
            party,
            uid: self.owner.as_ref().map(|o| o.uid),
            ts: self.meter.first_seen,
        };
        let ip = Judge::ip_facts(key.server.ip());
        verdicts.extend(judge.judge_flow(&facts, &ip));
        let record = self.record(found, &verdicts, &ip);
        let alerts: Vec<AlertRecord> = verdicts.into_iter().map(|verdict| alert_record(&record, verdict)).collect();
        sink.flow_ended(record, alerts);
    }
}

/// The alert for a verdict on a flow, dated at the flow's start.
fn alert_record(flow: &FlowRecord, verdict: Verdict) -> AlertRecord {
    let finding = verdict.finding;
    AlertRecord {
        identifier: verdict.identifier,
        encoding: verdict.encoding,
        owner: finding.owner,
        ..AlertRecord::about(flow, finding.kind, finding.severity, finding.evidence)
    }
}
