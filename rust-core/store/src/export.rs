//! Exports streamed from the store: flows CSV (the engine's column contract), alerts JSON lines, packets pcapng.

use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use phonehome_engine::record::{write_json_line, CsvWriter};

use crate::{Filter, History, StoreError};

impl History {
    /// Writes matching flows as RFC 4180 CSV with the engine's columns; returns the number of rows.
    pub fn export_csv<W: Write>(&self, filter: &Filter, out: W) -> Result<u64, StoreError> {
        let mut writer = CsvWriter::new(out)?;
        let count = self.for_each_flow(filter, |record| Ok(writer.write(&record)?))?;
        writer.finish()?;
        Ok(count)
    }

    /// Writes matching alerts as JSON lines; returns the number of lines.
    pub fn export_jsonl<W: Write>(&self, filter: &Filter, mut out: W) -> Result<u64, StoreError> {
        let count = self.for_each_alert(filter, |alert| Ok(write_json_line(&mut out, &alert)?))?;
        out.flush()?;
        Ok(count)
    }

    /// Writes matching retained packets as pcapng (one raw-IP interface; each packet's app in its comment).
    pub fn export_pcapng<W: Write>(&self, filter: &Filter, out: W) -> Result<u64, StoreError> {
        let mut writer = PcapNgWriter::new(out)?;
        writer.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Borrowed("phonehome")),
                // pcap-file 2.0 writes EPB timestamps in nanoseconds whatever the interface says: say nanoseconds.
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        })?;
        let count = self.for_each_packet(filter, |ts_us, uid, app, data| {
            let original_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            writer.write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::from_micros(u64::try_from(ts_us).unwrap_or(0)),
                original_len,
                data: Cow::Borrowed(data),
                options: vec![EnhancedPacketOption::Comment(Cow::Owned(packet_comment(uid, app)))],
            })?;
            Ok(())
        })?;
        writer.get_mut().flush()?;
        Ok(count)
    }
}

/// The EPB comment Wireshark shows as `frame.comment`.
fn packet_comment(uid: Option<u32>, app: Option<&str>) -> String {
    match (app, uid) {
        (Some(app), Some(uid)) => format!("app: {app} (uid {uid})"),
        (Some(app), None) => format!("app: {app}"),
        (None, Some(uid)) => format!("app: uid {uid}"),
        (None, None) => "app: unknown".to_owned(),
    }
}
