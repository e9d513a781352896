//! Rebuild: drop the projections and write them again from a fold of the log (D2).
//!
//! Crash safety: a `rebuilding` marker is made durable before the first projection entry
//! is touched and removed in the same batch as the last one is written, so a crash in
//! between leaves the marker, and the next open rebuilds again.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::log::schema;
use crate::replay::{self, Violation};
use crate::verify::{encode_projections, stored_projections};

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RebuildReport {
    /// Events replayed.
    pub events: u64,
    /// Projection entries written.
    pub entries: u64,
    /// Wall time taken.
    pub elapsed: Duration,
}

/// Entries per sled batch while rebuilding.
const CHUNK: usize = 10_000;

/// Rebuilds the projections of `tree`. `sync` makes writes durable. On a violation the
/// projections are left as they were.
pub(crate) fn rebuild(
    tree: &sled::Tree,
    sync: &mut dyn FnMut() -> Result<()>,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<RebuildReport, Violation>> {
    let started = Instant::now();
    let folded = match replay::fold(tree, progress)? {
        Ok(f) => f,
        Err(v) => return Ok(Err(v)),
    };
    let entries = encode_projections(&folded.state);
    tree.insert(schema::META_REBUILDING, &[1u8])
        .map_err(Error::sled("mark rebuild"))?;
    sync()?;
    let old: Vec<Vec<u8>> = stored_projections(tree)?.into_keys().collect();
    for keys in old.chunks(CHUNK) {
        let mut batch = sled::Batch::default();
        for k in keys {
            batch.remove(k.as_slice());
        }
        tree.apply_batch(batch)
            .map_err(Error::sled("drop projections"))?;
    }
    let count = entries.len() as u64;
    let mut items = entries.into_iter();
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for (k, v) in items.by_ref().take(CHUNK) {
            batch.insert(k, v);
            n += 1;
        }
        let last = n < CHUNK;
        if last {
            // The last projection entries and the end of the rebuild are one batch.
            batch.insert(schema::META_PROJECTION_FORMAT, &[schema::PROJECTION_FORMAT]);
            batch.remove(schema::META_REBUILDING);
        }
        tree.apply_batch(batch)
            .map_err(Error::sled("write projections"))?;
        if last {
            break;
        }
    }
    sync()?;
    Ok(Ok(RebuildReport {
        events: folded.head.position,
        entries: count,
        elapsed: started.elapsed(),
    }))
}
