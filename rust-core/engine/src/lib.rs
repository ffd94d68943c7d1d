//! phonehome's engine: packets → flows → inspection → records. It knows nothing of Android, Linux or the CLI:
//! capture analysis feeds it frames from files, the live engine feeds it the packets crossing the tun.

pub mod analyzer;
pub mod flow;
pub mod inspect;
pub mod judge;
pub mod record;
pub mod stream;

pub use analyzer::{Analyzer, AnalyzerConfig, AnalyzerStats, FlowSink, Owner};
pub use flow::{Direction, FlowKey, Timeouts};
pub use judge::Judge;
pub use phonehome_packet::{LinkType, Timestamp};
pub use record::{AlertRecord, CsvWriter, FlowRecord, HostSource, Proto, COLUMNS, CONTRACT_COLUMNS, L7};
