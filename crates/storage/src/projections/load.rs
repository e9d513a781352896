//! Open's half of the checkpoint: load it, check its marker, fold the tail of the log
//! into it (invariants K2, K3).

use verso_domain::projection::apply;
use verso_domain::{Position, check};

use super::{Map, apply_writes, is_in_memory};
use crate::content;
use crate::error::{Error, Result};
use crate::log::{self, Head, codec, schema};
use crate::projections::overlay::{Overlay, Writes};
use crate::replay::{self, Violation, ViolationKind};

/// The stored projection entries and content headers, in key order.
pub(crate) fn load(tree: &sled::Tree) -> Result<Map> {
    let mut prefixes = schema::PROJECTION_PREFIXES.to_vec();
    prefixes.push(schema::CONTENT);
    prefixes.sort_unstable();
    // The prefixes are disjoint and scanned in ascending order, so the entries come in
    // key order, which lets the map be built in bulk rather than by one insert each.
    let mut entries = Vec::new();
    for prefix in prefixes {
        for item in tree.scan_prefix([prefix]) {
            let (key, value) = item.map_err(Error::sled("load projections"))?;
            debug_assert!(is_in_memory(&key));
            entries.push((key.to_vec(), value.to_vec()));
        }
    }
    Ok(entries.into_iter().collect())
}

/// The head the stored projections are the fold of (the `applied` marker); the empty
/// head when there is none (a new store).
pub(crate) fn applied(tree: &sled::Tree) -> Result<Head> {
    match tree
        .get(schema::META_APPLIED)
        .map_err(Error::sled("read checkpoint marker"))?
    {
        None => Ok(Head::EMPTY),
        Some(bytes) => codec::decode_value(&bytes)
            .map_err(|e| Error::corrupted(None, format!("checkpoint marker: {e}"))),
    }
}

/// K3 and K2: checks `applied` against the log up to `head`, then folds the records
/// after it into `map`, each chain-checked (E1, E2) and re-checked against the state
/// before it (E5), with the headers of the content they introduced. Returns the writes
/// the tail made (for the next checkpoint), or the first violation.
pub(crate) fn catch_up(
    tree: &sled::Tree,
    map: &mut Map,
    applied: Head,
    head: Head,
) -> Result<std::result::Result<Writes, Violation>> {
    if applied.position > head.position {
        return Ok(Err(Violation::at(
            Position::new(applied.position),
            ViolationKind::Checkpoint,
            format!(
                "the checkpoint marker says position {} but the log ends at {}",
                applied.position, head.position
            ),
        )));
    }
    if applied.position == head.position {
        if applied.hash != head.hash {
            return Ok(Err(Violation::at(
                Position::new(head.position.max(1)),
                ViolationKind::Checkpoint,
                "the checkpoint marker's chain hash is not the log's at its position",
            )));
        }
        return Ok(Ok(Writes::new()));
    }
    let mut view = Overlay::over(map);
    let mut chain = applied;
    for item in log::raw_from(tree, Position::new(applied.position + 1)) {
        let (key_position, value) = item?;
        let expected = Position::new(chain.position + 1);
        if key_position != expected {
            return Ok(Err(Violation::at(
                expected,
                ViolationKind::MissingRecord,
                format!("record missing (the next record is at {key_position})"),
            )));
        }
        let (hash, recorded) = match replay::read_record(&chain, expected, &value) {
            Ok(r) => r,
            // The first record after the marker chains from the marker's hash (K3).
            Err((ViolationKind::PreviousHash, problem)) if chain == applied => {
                return Ok(Err(Violation::at(
                    expected,
                    ViolationKind::Checkpoint,
                    format!("{problem} (the first record after the checkpoint marker)"),
                )));
            }
            Err((kind, problem)) => return Ok(Err(Violation::at(expected, kind, problem))),
        };
        if let Err(v) = check(&view, &recorded) {
            return Ok(Err(Violation::at(
                expected,
                ViolationKind::Event,
                v.message(),
            )));
        }
        apply(&mut view, &recorded);
        // The headers of the content this record introduced: their chunks are in the
        // log's groups, the headers only in memory and checkpoints (content.rs).
        for reference in recorded.event.contents() {
            if !content::contains(&view, reference.hash)? {
                content::remember(&mut view, &reference);
            }
        }
        if let Some(e) = view.take_error() {
            return Err(e);
        }
        chain = Head {
            position: expected.get(),
            hash,
        };
        if chain.position == head.position {
            break;
        }
    }
    if chain != head {
        return Ok(Err(Violation::at(
            Position::new(head.position.max(1)),
            ViolationKind::Head,
            format!(
                "the log after the checkpoint ends at position {} but the head entry says {}",
                chain.position, head.position
            ),
        )));
    }
    let (writes, error) = view.into_pending();
    if let Some(e) = error {
        return Err(e);
    }
    apply_writes(map, &writes);
    Ok(Ok(writes))
}
