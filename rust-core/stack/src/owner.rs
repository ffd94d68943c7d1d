//! The owner thread: resolves the uid of each new flow off the packet path.
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::OwnerResolver;

/// Queries answered together (one read of each `/proc/net` table serves them all).
const BATCH: usize = 256;

/// One flow whose owner is wanted (or was found).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnerQuery {
    pub proto: u8,
    pub client: SocketAddr,
    pub server: SocketAddr,
}

/// The engine's end of the owner thread; both directions are bounded.
pub(crate) struct OwnerLink {
    queries: SyncSender<OwnerQuery>,
    answers: Receiver<(OwnerQuery, Option<u32>)>,
    thread: JoinHandle<()>,
}

impl OwnerLink {
    /// Starts thread "ph-owner"; `wake` is called after each answer so the engine drains them.
    pub fn spawn(
        resolver: Box<dyn OwnerResolver>,
        capacity: usize,
        wake: Arc<mio::Waker>,
    ) -> std::io::Result<OwnerLink> {
        let (queries, query_rx) = mpsc::sync_channel::<OwnerQuery>(capacity);
        let (answer_tx, answers) = mpsc::sync_channel(capacity);
        let thread = std::thread::Builder::new().name("ph-owner".into()).spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            while let Ok(first) = query_rx.recv() {
                batch.clear();
                batch.push(first);
                batch.extend(query_rx.try_iter().take(BATCH - 1));
                let flows: Vec<_> = batch.iter().map(|q| (q.proto, q.client, q.server)).collect();
                let found = resolver.owners(&flows);
                // Unresolved flows are answered too: their connections wait for the answer.
                for answer in batch.iter().copied().zip(found) {
                    if answer_tx.send(answer).is_err() {
                        return;
                    }
                }
                if let Err(e) = wake.wake() {
                    log::debug!("owner thread cannot wake the engine: {e}");
                }
            }
        })?;
        Ok(OwnerLink { queries, answers, thread })
    }

    /// Queues a query; false when the owner thread is behind (the flow stays unattributed).
    pub fn ask(&self, query: OwnerQuery) -> bool {
        match self.queries.try_send(query) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// Answers ready now, without waiting.
    pub fn answers(&self) -> impl Iterator<Item = (OwnerQuery, Option<u32>)> + '_ {
        self.answers.try_iter()
    }

    /// Stops the thread once it finishes the query in hand.
    pub fn finish(self) {
        let OwnerLink { queries, answers, thread } = self;
        drop(queries);
        drop(answers);
        if thread.join().is_err() {
            log::error!("owner thread panicked");
        }
    }
}
