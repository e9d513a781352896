//! Rebuild: drop the projections and write them again from a fold of the log (D2).
//!
//! Crash safety: a `rebuilding` marker is made durable before the first projection entry
//! is touched and removed in the same batch as the last one is written, so a crash in
//! between leaves the marker, and the next open rebuilds again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::log::schema;
use crate::replay::{self, Violation};
use crate::verify::encode_projections;

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
    let count = entries.len() as u64;
    // Only what differs is written: sled 0.34 copies a node per insert, so rewriting
    // every entry of a large store costs ~80 µs a record, while a store whose
    // projections are right needs no write at all. The result is the same: afterwards
    // the stored projections are exactly the fold (E6).
    let changes = differences(stored_in_order(tree), entries)?;
    let written = changes.len() as u64;
    tree.insert(schema::META_REBUILDING, &[1u8])
        .map_err(Error::sled("mark rebuild"))?;
    sync()?;
    let mut items = changes.into_iter();
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for (k, v) in items.by_ref().take(CHUNK) {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
            n += 1;
        }
        let last = n < CHUNK;
        if last {
            // The last changes and the end of the rebuild are one batch.
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
        written,
        elapsed: started.elapsed(),
    }))
}

/// Every stored projection entry in key order, straight from sled: the prefixes are
/// disjoint, so their scans in ascending prefix order are one sorted sequence. Nothing
/// is collected.
fn stored_in_order(tree: &sled::Tree) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + '_ {
    let mut prefixes = schema::PROJECTION_PREFIXES;
    prefixes.sort_unstable();
    prefixes.into_iter().flat_map(move |prefix| {
        tree.scan_prefix([prefix]).map(|item| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(Error::sled("scan projections"))
        })
    })
}

/// What turns `stored` (sorted by key) into `wanted`: a removal for every key only
/// `stored` has, an insert for every key whose value is missing or different. One merge
/// of the two sorted sequences, no lookups.
fn differences(
    stored: impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>,
    wanted: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut stored = stored.peekable();
    for (key, value) in wanted {
        // Everything stored below this key is not in the fold (a scan error is taken
        // here too, and returned).
        while let Some(item) = stored.next_if(|item| item.as_ref().map_or(true, |(k, _)| *k < key))
        {
            changes.push((item?.0, None));
        }
        match stored.next_if(|item| matches!(item, Ok((k, _)) if *k == key)) {
            Some(Ok((_, v))) if v == value => {}
            _ => changes.push((key, Some(value))),
        }
    }
    for item in stored {
        changes.push((item?.0, None));
    }
    Ok(changes)
}

/// A projection key and its new value, `None` to remove it.
type Change = (Vec<u8>, Option<Vec<u8>>);

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<Vec<u8>, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn differences_remove_extra_keys_and_write_missing_or_changed_ones() {
        let stored = map(&[("a", "1"), ("b", "2"), ("c", "3"), ("e", "5")]);
        let wanted = map(&[("b", "2"), ("c", "x"), ("d", "4")]);
        let got = differences(stored.into_iter().map(Ok), wanted).unwrap();
        let expect: Vec<(Vec<u8>, Option<Vec<u8>>)> = vec![
            (b"a".to_vec(), None),
            (b"c".to_vec(), Some(b"x".to_vec())),
            (b"d".to_vec(), Some(b"4".to_vec())),
            (b"e".to_vec(), None),
        ];
        assert_eq!(got, expect);
        let same = differences(map(&[("k", "v")]).into_iter().map(Ok), map(&[("k", "v")]));
        assert!(same.unwrap().is_empty());
    }
}
