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
            thread: Some(thread),
        })
    }

    /// Begins a barrier covering everything appended so far. The outcome of the one
    /// before must have been taken ([`Syncer::wait`] or [`Syncer::done`]).
    pub(crate) fn begin(&self, mode: Durability) {
        // A thread that is gone has dropped its end of `done`: the wait says so.
        if let Some(start) = &self.start {
            let _ = start.send(mode);
        }
    }

    /// Waits for the outcome of the barrier begun last.
    ///
    /// # Errors
    /// The barrier's error, or [`Error::Io`] if the thread stopped without an answer.
    pub(crate) fn wait(&self) -> Result<()> {
        Self::outcome(self.done.recv())
    }

    /// Where the outcome arrives, for waiting on it beside other work; what is received
    /// there goes through [`Syncer::outcome`].
    pub(crate) fn done(&self) -> &Receiver<Result<()>> {
        &self.done
    }

    /// The barrier's outcome from what [`Syncer::done`] gave.
    pub(crate) fn outcome(
        received: std::result::Result<Result<()>, crossbeam_channel::RecvError>,
    ) -> Result<()> {
        received.unwrap_or_else(|_| {
            Err(Error::Io {
                context: "durable barrier",
                source: std::io::Error::other("the barrier thread stopped"),
            })
        })
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
    fn each_barrier_begun_reports_once_and_a_stopped_thread_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let engine: Arc<dyn Engine> = Arc::new(SledEngine::scratch(dir.path()));
        let mut syncer = Syncer::start(engine).unwrap();
        syncer.begin(Durability::Sync);
        syncer.wait().unwrap();
        syncer.begin(Durability::Flush);
        syncer.wait().unwrap();
        assert!(syncer.done().is_empty(), "one outcome per barrier");
        // Stop the thread: a barrier begun then is an error, not a hang.
        drop(syncer.start.take());
        syncer.thread.take().unwrap().join().unwrap();
        syncer.begin(Durability::Sync);
        let e = syncer.wait().unwrap_err();
        assert!(e.to_string().contains("barrier thread stopped"), "{e}");
    }
}
