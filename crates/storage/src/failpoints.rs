//! Injected failures, for tests (feature `failpoints`): the barrier's syncs, checkpoint
//! writes, and a gate that holds the writer.

use std::sync::atomic::{AtomicU32, Ordering};

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
}

impl Failpoints {
    /// Whether this checkpoint write is to fail (counting it down).
    pub(crate) fn take_checkpoint_failure(&self) -> bool {
        take(&self.fail_checkpoints)
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
