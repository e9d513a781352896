//! The barrier's own thread, so that the writer decides and appends the next group while
//! the disk syncs the last one (docs/design/durability.md §Pipelining, invariant C7).
//!
//! The writer starts one barrier at a time with [`Syncer::begin`] and collects its
//! outcome with [`Syncer::wait`] before it starts the next, so barriers run in group
//! order and each covers every group appended before it began.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::options::Durability;

/// The writer's handle on the barrier thread. Dropping it stops the thread.
pub(crate) struct Syncer {
    start: Option<Sender<Durability>>,
    done: Receiver<Result<()>>,
    /// Whether a barrier was begun and its outcome not yet collected.
    running: bool,
    /// The outcome of the barrier begun last, if received by [`Syncer::arrived`].
    arrived: Option<Result<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the thread, which makes `engine` durable on request.
    ///
    /// # Errors
    /// [`Error::Io`] if the thread cannot be spawned.
    pub(crate) fn start(engine: Arc<dyn Engine>) -> Result<Self> {
        let (start, requests) = crossbeam_channel::bounded::<Durability>(1);
        let (report, done) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name("verso-barrier".to_owned())
            .spawn(move || {
                for mode in requests {
                    if report.send(engine.sync(mode)).is_err() {
                        break;
                    }
                }
            })
            .map_err(Error::io("spawn barrier thread"))?;
        Ok(Self {
            start: Some(start),
            done,
            running: false,
            arrived: None,
            thread: Some(thread),
        })
    }

    /// Begins a barrier covering everything appended so far. The previous one must have
    /// been collected with [`Syncer::wait`].
    pub(crate) fn begin(&mut self, mode: Durability) {
        debug_assert!(!self.running, "a barrier is already under way");
        // A thread that is gone is reported by `wait`.
        self.running = self
            .start
            .as_ref()
            .is_some_and(|start| start.send(mode).is_ok());
        if !self.running {
            self.start = None;
        }
    }

    /// Waits for the barrier begun last and returns its outcome.
    ///
    /// # Errors
    /// The barrier's error; [`Error::Io`] if the thread stopped without an answer.
    pub(crate) fn wait(&mut self) -> Result<()> {
        let running = std::mem::replace(&mut self.running, false);
        if let Some(outcome) = self.arrived.take() {
            return outcome;
        }
        if running && let Ok(outcome) = self.done.recv() {
            return outcome;
        }
        Err(Error::Io {
            context: "durable barrier",
            source: std::io::Error::other("the barrier thread stopped"),
        })
    }
}

impl Syncer {
    /// Where the outcome of the barrier under way arrives, for waiting on it beside
    /// other work. What is received there must be handed to [`Syncer::arrived`].
    pub(crate) fn outcomes(&self) -> Receiver<Result<()>> {
        self.done.clone()
    }

    /// Keeps an outcome received from [`Syncer::outcomes`] for the next
    /// [`Syncer::wait`]; a channel that hung up is kept as the thread having stopped.
    pub(crate) fn arrived(
        &mut self,
        outcome: std::result::Result<Result<()>, crossbeam_channel::RecvError>,
    ) {
        if let Ok(outcome) = outcome {
            self.arrived = Some(outcome);
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        drop(self.start.take());
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("verso barrier thread panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SledEngine;

    #[test]
    fn a_barrier_begun_is_collected_once_and_an_uncollected_wait_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let engine: Arc<dyn Engine> = Arc::new(SledEngine::scratch(dir.path()));
        let mut syncer = Syncer::start(engine).unwrap();
        syncer.begin(Durability::Sync);
        syncer.wait().unwrap();
        // Nothing begun: waiting would hang if it did not refuse.
        assert!(syncer.wait().is_err());
        syncer.begin(Durability::Flush);
        syncer.wait().unwrap();
    }
}
