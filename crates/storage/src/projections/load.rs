//! Open's half of the checkpoint: load it, check its marker, fold the tail of the log
//! into it (invariants K2, K3).

use verso_domain::projection::apply;
use verso_domain::{Position, check};

use super::{Map, apply_writes, is_in_memory};
use crate::content;
use crate::engine::Engine;
use crate::error::Result;
use crate::log::{Head, codec};
use crate::projections::overlay::{Overlay, Writes};
use crate::replay::{self, Violation, ViolationKind};

/// The stored projection entries and content headers, in key order.
pub(crate) fn load(engine: &dyn Engine) -> Result<Map> {
    let map = engine.checkpoint()?;
    debug_assert!(map.keys().all(|k| is_in_memory(k)));
    Ok(map)
}

/// K3: what is wrong with the checkpoint marker `applied` against the log up to
/// `head`, if anything: it must not pass the head, and its chain hash must be the one
/// the log stores at its position.
pub(crate) fn marker_problem(
    engine: &dyn Engine,
    applied: Head,
    head: Head,
) -> Result<Option<Violation>> {
    let at = Position::new(applied.position.max(1));
    if applied.position > head.position {
        return Ok(Some(Violation::at(
            at,
            ViolationKind::Checkpoint,
            format!(
                "the checkpoint marker says position {} but the log ends at {}",
                applied.position, head.position
            ),
        )));
    }
    let logs_hash = if applied.position == head.position {
        Some(head.hash)
    } else if applied.position == 0 {
        Some(Head::EMPTY.hash)
    } else {
        engine
            .record(at)?
            .and_then(|value| codec::unframe(&value).ok().map(|(_, hash)| hash))
    };
    Ok((logs_hash != Some(applied.hash)).then(|| {
        Violation::at(
            at,
            ViolationKind::Checkpoint,
            "the checkpoint marker's chain hash is not the log's at its position",
        )
    }))
}

/// K3 and K2: checks `applied` against the log up to `head`, then folds the records
/// after it into `map`, each chain-checked (E1, E2) and re-checked against the state
/// before it (E5), with the headers of the content they introduced. Returns the writes
/// the tail made (for the next checkpoint), or the first violation.
pub(crate) fn catch_up(
    engine: &dyn Engine,
    map: &mut Map,
    applied: Head,
    head: Head,
) -> Result<std::result::Result<Writes, Violation>> {
    if let Some(problem) = marker_problem(engine, applied, head)? {
        return Ok(Err(problem));
    }
    if applied == head {
        return Ok(Ok(Writes::new()));
    }
    // Where the groups after the checkpoint put the content they introduced.
    let mut stored = std::collections::HashMap::new();
    for item in engine.contents_from(applied.position + 1) {
        let (hash, _, location) = item?;
        stored.insert(hash, location);
    }
    let mut view = Overlay::over(map);
    let mut chain = applied;
    for item in engine.log_from(Position::new(applied.position + 1)) {
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
        // The headers of the content this record introduced: the bytes are in the
        // log's groups, the headers only in memory and checkpoints (content.rs).
        for reference in recorded.event.contents() {
            if !content::contains(&view, reference.hash)? {
                let location = stored.get(&reference.hash).map_or(&[][..], Vec::as_slice);
                content::remember(&mut view, &reference, location);
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
