//! Where finished flows go: the CSV and JSON-lines files the user asked for, and the summary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use phonehome_engine::record::write_json_line;
use phonehome_engine::{AlertRecord, CsvWriter, FlowRecord, FlowSink};

use phonehome_store::{Store, StoreConfig, StoreSink};

use crate::summary::Summary;
use crate::CommonArgs;

/// Fans each finished flow out to the outputs; remembers the first write error, since a sink cannot return one.
pub struct Outputs {
    csv: Option<(PathBuf, CsvWriter<BufWriter<File>>)>,
    jsonl: Option<(PathBuf, BufWriter<File>)>,
    alerts: Option<(PathBuf, BufWriter<File>)>,
    store: Option<(PathBuf, Store, StoreSink)>,
    pub summary: Summary,
    error: Option<anyhow::Error>,
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(256 * 1024, file))
}

/// The output files of `args` and the store `db`, as (option, path), for [`crate::files::check_distinct`].
pub fn output_files<'a>(args: &'a CommonArgs, db: Option<&'a Path>) -> Vec<(&'static str, &'a Path)> {
    [("--csv", args.csv.as_deref()), ("--jsonl", args.jsonl.as_deref()), ("--alerts", args.alerts.as_deref())]
        .into_iter()
        .chain([("--db", db)])
        .filter_map(|(flag, path)| Some((flag, path?)))
        .collect()
}

impl Outputs {
    /// Opens the files the user asked for and, for capture analysis, the store (`db`).
    pub fn open(args: &CommonArgs, db: Option<&Path>) -> Result<Self> {
        let (csv, jsonl, alerts) = (args.csv.as_deref(), args.jsonl.as_deref(), args.alerts.as_deref());
        let csv = match csv {
            Some(path) => Some((
                path.to_owned(),
                CsvWriter::new(create(path)?).with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => None,
        };
        let jsonl = jsonl.map(|path| create(path).map(|w| (path.to_owned(), w))).transpose()?;
        let alerts = alerts.map(|path| create(path).map(|w| (path.to_owned(), w))).transpose()?;
        let store = match db {
            Some(path) => {
                // Nothing is live in capture analysis: wait for the writer rather than drop records.
                let config = StoreConfig { wait_when_full: true, ..StoreConfig::default() };
                let store = Store::open(path, config).with_context(|| format!("cannot open {}", path.display()))?;
                let sink = store.sink().with_context(|| format!("cannot write {}", path.display()))?;
                Some((path.to_owned(), store, sink))
            }
            None => None,
        };
        Ok(Outputs { csv, jsonl, alerts, store, summary: Summary::default(), error: None })
    }

    /// A second writer into the store, remembering first contacts across runs.
    pub fn destination_memory(&self) -> Result<Option<StoreSink>> {
        self.store
            .as_ref()
            .map(|(path, store, _)| store.sink().with_context(|| format!("cannot write {}", path.display())))
            .transpose()
    }

    /// Whether a write failed: the caller then stops reading and reports it.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The first write error, if any.
    pub fn take_error(&mut self) -> Option<anyhow::Error> {
        self.error.take()
    }

    /// Flushes every file; the data already written stays whatever happens to the others.
    pub fn finish(self) -> Result<Summary> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if let Some((path, writer)) = self.csv {
            writer.finish().with_context(|| format!("cannot write {}", path.display()))?;
        }
        for (path, mut writer) in self.jsonl.into_iter().chain(self.alerts) {
            writer.flush().with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some((path, store, sink)) = self.store {
            drop(sink);
            let stats = store.close();
            if stats.dropped > 0 {
                say!("phonehome: warning: {}: {} records dropped (writer behind)", path.display(), stats.dropped);
            }
            if let Some(failure) = stats.failure {
                // What was committed before the failure stays in the store.
                bail!("{}: writing stopped after {} flows: {failure}", path.display(), stats.flows);
            }
        }
        Ok(self.summary)
    }

    fn write(&mut self, record: &FlowRecord) -> Result<()> {
        if let Some((path, writer)) = &mut self.csv {
            writer.write(record).with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some((path, writer)) = &mut self.jsonl {
            write_json_line(writer, record).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

impl FlowSink for Outputs {
    fn flow_ended(&mut self, record: FlowRecord, alerts: Vec<AlertRecord>) {
        if let Some((_, _, sink)) = &mut self.store {
            sink.flow_ended(record.clone(), alerts.clone());
        }
        self.on_flow(record);
        for alert in alerts {
            self.on_alert(alert);
        }
    }
}

impl Outputs {
    /// A finished flow, for the files and the summary (the store is fed by [`FlowSink::flow_ended`]).
    pub fn on_flow(&mut self, record: FlowRecord) {
        self.summary.add(&record);
        if self.error.is_none() {
            if let Err(error) = self.write(&record) {
                self.error = Some(error);
            }
        }
    }

    /// An alert, for the alerts file and the summary.
    pub fn on_alert(&mut self, alert: AlertRecord) {
        if let (None, Some((path, writer))) = (&self.error, &mut self.alerts) {
            if let Err(error) = write_json_line(writer, &alert) {
                self.error = Some(anyhow::Error::new(error).context(format!("cannot write {}", path.display())));
            }
        }
        self.summary.add_alert(alert);
    }
}
