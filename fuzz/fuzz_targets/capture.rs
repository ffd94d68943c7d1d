//! A capture file through the whole offline pipeline: reader, link layers, IP, defragmentation,
//! flows, inspection (DNS, TLS, HTTP, QUIC), identifier search and the records' CSV and JSON.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use phonehome_engine::judge::JudgeSettings;
use phonehome_engine::record::write_json_line;
use phonehome_engine::{AlertRecord, Analyzer, AnalyzerConfig, CsvWriter, FlowRecord, Judge};
use phonehome_packet::CaptureReader;

static SETTINGS: LazyLock<JudgeSettings> = LazyLock::new(|| JudgeSettings {
    watchlist: vec!["CN".into(), "RU".into()],
    // Two identifiers of the sample: few search patterns, so that building the judge for each input (it
    // is not Clone) leaves the time to the analysis (the `identifiers` target covers large sets).
    identifiers_toml: Some("imei = \"490154203237518\"\nmac = \"3c:5a:b4:01:02:03\"\n".to_owned()),
    scan_bytes: 16 * 1024,
    alert_new_destinations: true,
});

struct Records(CsvWriter<std::io::Sink>);

impl phonehome_engine::FlowSink for Records {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
        let _ = self.0.write(&record);
        let _ = write_json_line(&mut std::io::sink(), &record);
        for alert in &alerts {
            let _ = write_json_line(&mut std::io::sink(), alert);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(std::io::Cursor::new(data.to_vec())) else { return };
    let Ok(judge) = Judge::from_settings(&SETTINGS, Default::default()) else { return };
    let mut analyzer = Analyzer::with_judge(AnalyzerConfig::default(), judge);
    let Ok(writer) = CsvWriter::new(std::io::sink()) else { return };
    let mut sink = Records(writer);
    while let Some(item) = reader.next_frame() {
        let Ok(frame) = item else { continue };
        analyzer.process_frame(frame.ts, frame.link, frame.data, &mut sink);
    }
    analyzer.finish(&mut sink);
});
