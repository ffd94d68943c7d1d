//! Shared by the corpus tests: where the corpus is, and one analysis of a capture.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use phonehome_engine::{AlertRecord, Analyzer, AnalyzerConfig, FlowRecord, FlowSink};
use phonehome_packet::CaptureReader;

/// The nDPI captures, or `None` (skip) outside CI when the corpus is absent.
pub fn ndpi_corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
        .join("ndpi");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "corpus missing under CI: {}", dir.display());
    eprintln!("skipped: corpus not found at {} (set PHONEHOME_CORPUS)", dir.display());
    None
}

/// The captures of the corpus (truth files left out), sorted.
pub fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus readable")
        .map(|e| e.expect("corpus readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    files
}

#[derive(Default)]
pub struct Collected {
    pub flows: Vec<FlowRecord>,
    pub alerts: Vec<AlertRecord>,
}

impl FlowSink for Collected {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
        self.flows.push(record);
        self.alerts.extend(alerts);
    }
}

/// Analyses one capture with the default configuration (built-in knowledge, no declared identifier).
pub fn analyse(capture: &Path) -> Collected {
    let mut collected = Collected::default();
    let mut analyzer = Analyzer::new(AnalyzerConfig::default());
    let mut reader = CaptureReader::open(capture).expect("corpus readable");
    while let Some(Ok(frame)) = reader.next_frame() {
        analyzer.process_frame(frame.ts, frame.link, frame.data, &mut collected);
    }
    analyzer.finish(&mut collected);
    collected
}
