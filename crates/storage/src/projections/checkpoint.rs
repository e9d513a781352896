//! The checkpointer: writes the projections to the engine now and then, off the
//! acknowledgement path (ADR 0007, docs/design/durability.md, invariant K1).
//!
//! The writer hands each acknowledged group's overlay (projection entries and content
//! headers) to the handle, which keeps it (an `Arc`, no copy). Every `groups` groups, or
//! `interval` after the first group not yet written (the writer waits on its queue no
//! longer than that), the handle hands the overlays to a thread of its own, which merges
//! them (the last write of a key wins) and writes the result with the `applied` marker
//! in one [`Engine::write_checkpoint`]: the merging is off the writer's thread.
//! The thread is woken once per checkpoint, not per group, and never syncs: the
//! writer's next barrier, or close, makes a checkpoint durable.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::is_in_memory;
use crate::engine::Engine;
use crate::error::{Error, Result};
#[cfg(feature = "failpoints")]
use crate::failpoints::{CheckpointStep, Failpoints};
use crate::log::Head;
use crate::projections::overlay::Writes;
use crate::store::Shared;

/// How often checkpoints are written: whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Every {
    /// After this many acknowledged groups.
    pub(crate) groups: u64,
    /// This long after the first group not yet written.
    pub(crate) interval: Duration,
}

/// Groups' writes, oldest first, and the head they bring the stored projections to, and
/// where to say how writing them went (a flush waits for that).
struct Job {
    writes: Vec<Arc<Writes>>,
    head: Head,
    reply: Option<Sender<Result<()>>>,
}

/// The writer's handle on the checkpointer. Dropping it writes what is pending (unless
/// the store is poisoned) and stops the thread.
pub(crate) struct Checkpointer {
    every: Every,
    /// Writes of acknowledged groups not yet handed over, oldest first.
    pending: Vec<Arc<Writes>>,
    /// Groups in `pending`.
    groups: u64,
    /// When the first group of `pending` was taken.
    first_unwritten: Option<Instant>,
    /// The head after the last group merged.
    head: Head,
    /// The head last handed over (or stored at open).
    handed: Head,
    tx: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    #[cfg(feature = "failpoints")]
    failpoints: Arc<Failpoints>,
}

impl Checkpointer {
    /// Starts the thread for a store whose stored checkpoint is at `applied`.
    pub(crate) fn start(
        engine: Arc<dyn Engine>,
        applied: Head,
        every: Every,
        shared: Arc<Shared>,
    ) -> Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        #[cfg(feature = "failpoints")]
        let failpoints = Arc::clone(&shared.failpoints);
        let thread = std::thread::Builder::new()
            .name("verso-checkpoint".to_owned())
            .spawn(move || write_jobs(&*engine, &shared, &rx))
            .map_err(Error::io("spawn checkpoint thread"))?;
        Ok(Self {
            every,
            pending: Vec::new(),
            groups: 0,
            first_unwritten: None,
            head: applied,
            handed: applied,
            tx: Some(tx),
            thread: Some(thread),
            #[cfg(feature = "failpoints")]
            failpoints,
        })
    }

    /// Takes an acknowledged group's writes, and hands everything over if a checkpoint
    /// is due.
    pub(crate) fn group(&mut self, writes: Arc<Writes>, head: Head) {
        if !writes.is_empty() {
            self.pending.push(writes);
        }
        self.head = head;
        self.groups += 1;
        self.first_unwritten.get_or_insert_with(Instant::now);
        if self.groups >= self.every.groups || self.due_in() == Some(Duration::ZERO) {
            self.hand_over(None);
        }
    }

    /// How long until the pending writes are due, if there are any: the writer waits on
    /// its queue no longer, then calls [`Checkpointer::tick`].
    pub(crate) fn due_in(&self) -> Option<Duration> {
        self.first_unwritten
            .map(|since| self.every.interval.saturating_sub(since.elapsed()))
    }

    /// Hands the pending writes over if they are due.
    pub(crate) fn tick(&mut self) {
        if self.due_in() == Some(Duration::ZERO) {
            self.hand_over(None);
        }
    }

    /// Writes everything merged so far, and waits for it.
    ///
    /// # Errors
    /// [`Error::Poisoned`] if the store is poisoned (nothing is written then); sled's
    /// error if the batch fails, which poisons the store.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        if !self.hand_over(Some(reply)) {
            return Err(Error::Poisoned);
        }
        answer.recv().unwrap_or(Err(Error::Poisoned))
    }

    /// Sends the pending writes to the thread; false if it is gone.
    fn hand_over(&mut self, reply: Option<Sender<Result<()>>>) -> bool {
        let job = Job {
            writes: std::mem::take(&mut self.pending),
            head: self.head,
            reply,
        };
        self.groups = 0;
        self.first_unwritten = None;
        if job.head == self.handed && job.writes.is_empty() && job.reply.is_none() {
            return true;
        }
        self.handed = job.head;
        #[cfg(feature = "failpoints")]
        self.failpoints.reached(CheckpointStep::Due);
        // A thread that is gone has failed and poisoned the store already.
        self.tx.as_ref().is_some_and(|tx| tx.send(job).is_ok())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.hand_over(None);
        // Hanging up makes the thread stop once it has written every job.
        drop(self.tx.take());
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("verso checkpoint thread panicked");
        }
    }
}

/// The checkpointer thread: writes each job, in order, until the handle hangs up.
fn write_jobs(engine: &dyn Engine, shared: &Shared, jobs: &Receiver<Job>) {
    for job in jobs {
        let written = write(engine, shared, &merge(&job.writes), job.head);
        if let Err(e) = &written
            && e.kind() != crate::error::ErrorKind::Poisoned
        {
            tracing::error!(error = %e, "checkpoint failed; store poisoned");
        }
        if let Some(reply) = job.reply {
            let _ = reply.send(written);
        }
    }
}

/// The groups' writes as one change set: the last write of a key wins.
fn merge(groups: &[Arc<Writes>]) -> Writes {
    let mut merged = Writes::new();
    for writes in groups {
        for (key, value) in writes.iter() {
            if is_in_memory(key) {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    merged
}

/// K1: the writes and the marker, at once.
fn write(engine: &dyn Engine, shared: &Shared, writes: &Writes, head: Head) -> Result<()> {
    // IMPORTANT: after a failed barrier the engine's state is unknown: write nothing more.
    if shared.poisoned.load(Ordering::SeqCst) {
        return Err(Error::Poisoned);
    }
    #[cfg(feature = "failpoints")]
    shared.failpoints.reached(CheckpointStep::HandedOver);
    #[cfg(feature = "failpoints")]
    let failed = shared.failpoints.take_checkpoint_failure();
    #[cfg(not(feature = "failpoints"))]
    let failed = false;
    let written = if failed {
        Err(Error::Io {
            context: "write checkpoint",
            source: std::io::Error::other("failpoint: checkpoint write fails"),
        })
    } else {
        engine.write_checkpoint(writes, head)
    };
    if written.is_err() {
        shared.poisoned.store(true, Ordering::SeqCst);
    }
    #[cfg(feature = "failpoints")]
    if written.is_ok() {
        shared.failpoints.reached(CheckpointStep::Applied);
    }
    written
}
