//! phonehome's engine: packets → flows → inspection → records. It knows nothing of Android, Linux or the CLI:
//! capture analysis feeds it frames from files, the live monitor feeds it the packets the stack decoded.

pub mod analyzer;
pub mod flow;
pub mod inspect;
pub mod judge;
pub mod record;
pub mod stream;

pub use analyzer::{Analyzer, AnalyzerConfig, AnalyzerStats, FlowSink, Owner};
pub use flow::{Direction, Timeouts};
pub use judge::Judge;
pub use phonehome_model::{AlertRecord, FlowKey, FlowRecord, HostSource, Proto, Timestamp, L7};
pub use phonehome_packet::LinkType;
pub use record::{CsvWriter, COLUMNS, CONTRACT_COLUMNS};
