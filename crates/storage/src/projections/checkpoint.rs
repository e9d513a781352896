//! The checkpointer: writes the projections to sled now and then, off the
//! acknowledgement path (ADR 0007, docs/design/durability.md, invariant K1).
//!
//! It runs on a thread of its own. The writer hands it each acknowledged group's
//! overlay (projection entries and content headers); it merges them (the last write of a key wins) and, every `groups` groups or
//! `interval` after the first group it has not written, writes them as one
//! `apply_batch` with the `applied` marker. It never syncs: the writer's next barrier,
//! or close, makes a checkpoint durable.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::is_in_memory;
use crate::error::{Error, Result};
use crate::log::{Head, codec, schema};
use crate::store::Shared;
use crate::view::Writes;

/// How often checkpoints are written: whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Every {
    /// After this many acknowledged groups.
    pub(crate) groups: u64,
    /// This long after the first group not yet written.
    pub(crate) interval: Duration,
}

enum Message {
    /// An acknowledged group's overlay (projection entries and content headers) and the
    /// head after it.
    Group(Arc<Writes>, Head),
    /// Write what is pending now, and say how that went.
    Flush(Sender<Result<()>>),
}

/// The writer's handle on the checkpointer thread. Dropping it writes what is pending
/// (unless the store is poisoned) and stops the thread.
pub(crate) struct Checkpointer {
    tx: Option<Sender<Message>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread for a store whose stored checkpoint is at `applied`.
    pub(crate) fn start(
        db: sled::Db,
        applied: Head,
        every: Every,
        shared: Arc<Shared>,
    ) -> Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let state = State {
            db,
            shared,
            every,
            pending: Writes::new(),
            groups: 0,
            first_unwritten: None,
            head: applied,
            applied,
        };
        let thread = std::thread::Builder::new()
            .name("verso-checkpoint".to_owned())
            .spawn(move || state.run(&rx))
            .map_err(Error::io("spawn checkpoint thread"))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Hands over an acknowledged group. Never blocks.
    pub(crate) fn group(&self, writes: Arc<Writes>, head: Head) {
        if let Some(tx) = &self.tx {
            // A checkpointer that is gone has failed and poisoned the store already.
            let _ = tx.send(Message::Group(writes, head));
        }
    }

    /// Writes everything handed over so far, and waits for it.
    ///
    /// # Errors
    /// [`Error::Poisoned`] if the store is poisoned (nothing is written then); sled's
    /// error if the batch fails, which poisons the store.
    pub(crate) fn flush(&self) -> Result<()> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Message::Flush(reply)).is_ok());
        if !sent {
            return Err(Error::Poisoned);
        }
        answer.recv().unwrap_or(Err(Error::Poisoned))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Hanging up makes the thread write what is pending and stop.
        drop(self.tx.take());
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("verso checkpoint thread panicked");
        }
    }
}

/// The checkpointer thread's state.
struct State {
    db: sled::Db,
    /// For the poison flag: a poisoned store writes no checkpoint, and a failed one
    /// poisons the store (C4).
    shared: Arc<Shared>,
    every: Every,
    /// Projection and content-header writes not yet in a checkpoint, the last of each
    /// key winning.
    pending: Writes,
    /// Groups merged into `pending`.
    groups: u64,
    /// When the first group of `pending` arrived.
    first_unwritten: Option<Instant>,
    /// The head after the last group merged.
    head: Head,
    /// The head of the last checkpoint written.
    applied: Head,
}

impl State {
    fn run(mut self, rx: &Receiver<Message>) {
        loop {
            let message = match self.first_unwritten {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(since) => rx.recv_timeout(self.every.interval.saturating_sub(since.elapsed())),
            };
            match message {
                Ok(Message::Group(writes, head)) => {
                    self.merge(&writes, head);
                    // Checked here too: under load a message is always ready, so the
                    // timeout never fires.
                    let due = self
                        .first_unwritten
                        .is_some_and(|since| since.elapsed() >= self.every.interval);
                    if due || self.groups >= self.every.groups {
                        self.write_logged();
                    }
                }
                Ok(Message::Flush(reply)) => {
                    let _ = reply.send(self.write());
                }
                Err(RecvTimeoutError::Timeout) => self.write_logged(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.write_logged();
                    return;
                }
            }
        }
    }

    fn merge(&mut self, writes: &Writes, head: Head) {
        for (key, value) in writes {
            if is_in_memory(key) {
                self.pending.insert(key.clone(), value.clone());
            }
        }
        self.head = head;
        self.groups += 1;
        self.first_unwritten.get_or_insert_with(Instant::now);
    }

    fn write_logged(&mut self) {
        match self.write() {
            Ok(()) | Err(Error::Poisoned) => {}
            Err(e) => tracing::error!(error = %e, "checkpoint failed; store poisoned"),
        }
    }

    /// K1: the pending entries and the marker, in one batch.
    fn write(&mut self) -> Result<()> {
        // IMPORTANT: after a failed barrier sled's state is unknown: write nothing more.
        if self.shared.poisoned.load(Ordering::SeqCst) {
            return Err(Error::Poisoned);
        }
        if self.head == self.applied && self.pending.is_empty() {
            return Ok(());
        }
        let marker = codec::encode_value(&self.head)
            .map_err(|e| Error::corrupted(None, format!("encode checkpoint marker: {e}")))?;
        let mut batch = sled::Batch::default();
        for (key, value) in std::mem::take(&mut self.pending) {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        batch.insert(schema::META_APPLIED, marker);
        #[cfg(feature = "failpoints")]
        let failed = self.shared.failpoints.take_checkpoint_failure();
        #[cfg(not(feature = "failpoints"))]
        let failed = false;
        let written = if failed {
            Err(Error::Io {
                context: "write checkpoint",
                source: std::io::Error::other("failpoint: checkpoint write fails"),
            })
        } else {
            self.db
                .apply_batch(batch)
                .map_err(Error::sled("write checkpoint"))
        };
        if let Err(e) = written {
            self.shared.poisoned.store(true, Ordering::SeqCst);
            return Err(e);
        }
        self.applied = self.head;
        self.groups = 0;
        self.first_unwritten = None;
        Ok(())
    }
}
