//! What decoding adds to the flow records, through the whole pipeline: an h2c flow is `HTTP2`, named by its
//! `:authority`, and raises `cleartext_http`; a decompression bomb tags its flow and the request after it is
//! still read; a keep-alive flow's record keeps its first request.

use std::net::SocketAddr;
use std::time::Duration;

use phonehome_engine::{Analyzer, AnalyzerConfig, FlowRecord, L7};
use phonehome_intel::AlertKind;
use phonehome_leak::scenarios::decoded::{carry, Decoded};
use phonehome_packet::{LinkType, Timestamp};
use phonehome_testdata::CaptureBuilder;

mod common;

fn analyse(streams: &[Vec<u8>]) -> common::Collected {
    let mut capture = CaptureBuilder::new(Duration::from_secs(1_700_000_000));
    let server: SocketAddr = "198.51.100.10:80".parse().expect("an address");
    for (i, bytes) in streams.iter().enumerate() {
        let client = SocketAddr::new("10.0.0.2".parse().expect("an address"), 30_000 + i as u16);
        capture.tcp_session(client, server, &[(bytes, b"")]);
    }
    let mut analyzer = Analyzer::new(AnalyzerConfig::default());
    let mut collected = common::Collected::default();
    for (ts, packet) in capture.packets() {
        analyzer.process_frame(Timestamp(*ts), LinkType::RawIp, packet, &mut collected);
    }
    analyzer.finish(&mut collected);
    collected
}

fn flow(collected: &common::Collected, port: u16) -> &FlowRecord {
    collected.flows.iter().find(|f| f.src_port == port).expect("the flow")
}

#[test]
fn h2c_bombs_and_keep_alive_in_the_records() {
    let h2c = carry(Decoded::H2cHuffmanHeader, "imei", b"0").1;
    let upgraded = carry(Decoded::H2cUpgradeGzipBody, "imei", b"0").1;
    let bomb = phonehome_leak::scenarios::all()
        .into_iter()
        .find(|s| s.name == "decompression-bomb-then-a-request")
        .expect("the bomb scenario")
        .client_bytes;
    let keep_alive = carry(Decoded::PipelinedAnyMethod, "imei", b"0").1;
    let collected = analyse(&[h2c, upgraded, bomb, keep_alive]);

    for port in [30_000, 30_001] {
        let record = flow(&collected, port);
        assert_eq!(record.l7, Some(L7::Http2), "{record:?}");
        assert_eq!(record.host.as_deref(), Some("log.telemetry-example.com"));
        let cleartext = collected.alerts.iter().any(|a| a.src_port == port && a.kind == AlertKind::CleartextHttp);
        assert!(cleartext, "h2c raises cleartext_http");
    }
    let bombed = flow(&collected, 30_002);
    assert!(bombed.flags.iter().any(|f| f == "body_undecodable"), "{:?}", bombed.flags);
    assert!(collected.alerts.iter().any(|a| a.src_port == 30_002 && a.kind == AlertKind::IdentifierPattern));
    let pipelined = flow(&collected, 30_003);
    assert_eq!((pipelined.http_method.as_deref(), pipelined.http_path.as_deref()), (Some("GET"), Some("/config")));
}
