//! Rebuild: drop the projections and write them again from a fold of the log (D2).
//!
//! Crash safety: a `rebuilding` marker is made durable before the first projection entry
//! is touched and removed in the same batch as the last one is written, so a crash in
//! between leaves the marker, and the next open rebuilds again.

use std::time::{Duration, Instant};

use crate::engine::{Engine, Meta};
use crate::error::Result;
use crate::projections::overlay::Writes;
use crate::replay::Violation;
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

/// Entries per checkpoint write while rebuilding.
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

/// Rebuilds the projections of `engine`. `sync` makes writes durable; `progress` is told
/// each [`Step`]. On a violation the projections are left as they were.
pub(crate) fn rebuild(
    engine: &dyn Engine,
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
    } = match fold_and_compare(engine, None, true, &mut |n| {
        progress(Step::Replayed(n));
    })? {
        Ok(c) => c,
        Err(v) => return Ok(Err(v)),
    };
    let written = changes.len() as u64;
    engine.set_meta(&[(Meta::Rebuilding, Some(&[1u8]))])?;
    sync()?;
    let mut items = changes.into_iter();
    let mut done = 0;
    loop {
        let chunk: Writes = items
            .by_ref()
            .take(CHUNK)
            .map(|change| match change {
                Difference::Missing(k, v) | Difference::Differs(k, v) => (k, Some(v)),
                Difference::Extra(k) => (k, None),
            })
            .collect();
        let n = chunk.len();
        let last = n < CHUNK;
        if last {
            // The last changes and the end of the rebuild are one write, with the
            // checkpoint marker: the projections are now the fold at the head (K1).
            engine.write_checkpoint(&chunk, head)?;
        } else {
            engine.write_checkpoint_part(&chunk)?;
        }
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
