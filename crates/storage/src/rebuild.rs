//! Rebuild: drop the projections and write them again from a fold of the log (D2).
//!
//! Crash safety: a `rebuilding` marker is made durable before the first projection entry
//! is touched and removed in the same batch as the last one is written, so a crash in
//! between leaves the marker, and the next open rebuilds again.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::log::{codec, schema};
use crate::replay::{Contents, Violation};
use crate::verify::{Compared, Difference, fold_and_compare};

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RebuildReport {
    /// Events replayed.
    pub events: u64,
    /// Projection entries the fold of the log produced (what is stored afterwards).
    pub entries: u64,
    /// Entries actually inserted, replaced or removed: only those that differed from
    /// the fold. Zero for a store whose projections were already right.
    pub written: u64,
    /// Wall time taken.
    pub elapsed: Duration,
}

/// Entries per sled batch while rebuilding.
const CHUNK: usize = 10_000;

/// How far a rebuild got, as [`rebuild`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Events replayed so far.
    Replayed(u64),
    /// Projection entries written so far, out of `total` (none when the projections were
    /// right).
    Written { done: u64, total: u64 },
}

/// Rebuilds the projections of `tree`. `sync` makes writes durable; `progress` is told
/// each [`Step`]. On a violation the projections are left as they were.
pub(crate) fn rebuild(
    tree: &sled::Tree,
    sync: &mut dyn FnMut() -> Result<()>,
    progress: &mut dyn FnMut(Step),
) -> Result<std::result::Result<RebuildReport, Violation>> {
    let started = Instant::now();
    // Only what differs is written: sled 0.34 copies a node per insert, so rewriting
    // every entry of a large store costs ~80 µs a record, while a store whose
    // projections are right needs no write at all. The result is the same: afterwards
    // the stored projections are exactly the fold (E6).
    let Compared {
        head,
        entries: count,
        differences: changes,
        ..
    } = match fold_and_compare(tree, Contents::Skip, None, &mut |n| {
        progress(Step::Replayed(n));
    })? {
        Ok(c) => c,
        Err(v) => return Ok(Err(v)),
    };
    let written = changes.len() as u64;
    tree.insert(schema::META_REBUILDING, &[1u8])
        .map_err(Error::sled("mark rebuild"))?;
    sync()?;
    let mut items = changes.into_iter();
    let mut done = 0;
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for change in items.by_ref().take(CHUNK) {
            match change {
                Difference::Missing(k, v) | Difference::Differs(k, v) => batch.insert(k, v),
                Difference::Extra(k) => batch.remove(k),
            }
            n += 1;
        }
        let last = n < CHUNK;
        if last {
            // The last changes and the end of the rebuild are one batch, with the
            // checkpoint marker: the projections are now the fold at the head (K1).
            let marker = codec::encode_value(&head)
                .map_err(|e| Error::corrupted(None, format!("encode checkpoint marker: {e}")))?;
            batch.insert(schema::META_APPLIED, marker);
            batch.insert(schema::META_PROJECTION_FORMAT, &[schema::PROJECTION_FORMAT]);
            batch.remove(schema::META_REBUILDING);
        }
        tree.apply_batch(batch)
            .map_err(Error::sled("write projections"))?;
        done += n as u64;
        progress(Step::Written {
            done,
            total: written,
        });
        if last {
            break;
        }
    }
    sync()?;
    Ok(Ok(RebuildReport {
        events: head.position,
        entries: count,
        written,
        elapsed: started.elapsed(),
    }))
}
