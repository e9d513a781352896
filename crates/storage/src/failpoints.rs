//! Injected failures, for tests (feature `failpoints`): the barrier's syncs, checkpoint
//! writes, gates that hold the writer or the barrier, and a process abort at a step of a
//! checkpoint.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// What the tests asked to fail. Shared by the store, its engine and the writer.
#[derive(Debug, Default)]
pub(crate) struct Failpoints {
    /// How many of the next syncs fail.
    pub(crate) fail_syncs: AtomicU32,
    /// How many of the next checkpoint writes fail.
    pub(crate) fail_checkpoints: AtomicU32,
    /// Held for reading by the writer around each group: a test that holds it for
    /// writing keeps the writer from committing (and the queue from draining).
    pub(crate) writer_gate: std::sync::RwLock<()>,
    /// Held for reading by each `Sync` barrier before its `fdatasync`: a test that holds
    /// it for writing keeps a group's barrier under way (C7).
    pub(crate) barrier_gate: std::sync::RwLock<()>,
    /// Groups the writer has appended to the engine (acknowledged or not).
    pub(crate) appended_groups: AtomicU64,
    /// The step of a checkpoint at which the process aborts, if any.
    pub(crate) crash_at: std::sync::Mutex<Option<CheckpointStep>>,
    /// Whether a checkpoint batch was applied since the last barrier began: the next
    /// barrier that returns Ok has made it durable ([`CheckpointStep::Durable`]).
    pub(crate) checkpoint_applied: AtomicBool,
}

/// The steps of a checkpoint, in order (docs/design/durability.md, "step of a
/// checkpoint", which says what a crash at each leaves): where
/// [`Store::crash_at_checkpoint`](crate::Store::crash_at_checkpoint) aborts the process
/// (feature `failpoints`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointStep {
    /// A checkpoint is due: the writer holds the acknowledged groups' writes and has
    /// not yet handed them to the checkpointer thread.
    Due,
    /// The checkpointer thread has the writes, not yet written (the engine writes them
    /// with the `applied` marker at once).
    HandedOver,
    /// The checkpoint is written in the engine (in sled's memory), not yet made durable
    /// by a barrier.
    Applied,
    /// A `Sync` barrier begun after the checkpoint was written has returned Ok: the
    /// checkpoint is durable. Before anything else that barrier covers is acknowledged
    /// (the writer's next group, or close).
    Durable,
}

impl Failpoints {
    /// Whether this checkpoint write is to fail (counting it down).
    pub(crate) fn take_checkpoint_failure(&self) -> bool {
        take(&self.fail_checkpoints)
    }

    /// A checkpoint reached `step`: aborts the process if that is the step chosen, as
    /// kill -9 would stop it (no destructor, no close, no flush). A written checkpoint is
    /// also noted, so that the next barrier to return Ok reaches `Durable`.
    pub(crate) fn reached(&self, step: CheckpointStep) {
        if step == CheckpointStep::Applied {
            self.checkpoint_applied.store(true, Ordering::SeqCst);
        }
        let chosen = *self
            .crash_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if chosen == Some(step) {
            eprintln!("verso failpoint: aborting at checkpoint step {step:?}");
            std::process::abort();
        }
    }

    /// Whether this sync is to fail (counting it down).
    pub(crate) fn take_sync_failure(&self) -> bool {
        take(&self.fail_syncs)
    }
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}
