//! Replay: the fold of the log that verification and rebuild share (D2).
//!
//! The walk re-checks every invariant of architecture.md §3 and stops at the first
//! violation, naming its position: gapless positions from 1 (E1), each record's own
//! hash and its predecessor's hash (E2), each event decidable against the state before
//! it (E4, E5, via [`verso_domain::check`]), and the head entry (E3).

use std::collections::HashMap;
use std::fmt;

use verso_domain::projection::apply;
use verso_domain::{ContentHash, MemState, Position, check};

use crate::error::Result;
use crate::log::{self, Head, codec};

/// Where and how the stored history breaks an invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The first bad log position, when the problem is in the log.
    pub position: Option<Position>,
    /// What is wrong.
    pub problem: String,
}

impl Violation {
    pub(crate) fn at(position: Position, problem: impl Into<String>) -> Self {
        Self {
            position: Some(position),
            problem: problem.into(),
        }
    }

    pub(crate) fn store(problem: impl Into<String>) -> Self {
        Self {
            position: None,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "position {p}: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

/// The fold of a whole log.
pub(crate) struct Folded {
    pub(crate) state: MemState,
    pub(crate) head: Head,
    /// Each content referenced by the log, with the first position referring to it.
    pub(crate) contents: HashMap<ContentHash, Position>,
}

/// How often progress is reported, in records.
pub(crate) const PROGRESS_EVERY: u64 = 10_000;

/// Folds the log from position 1, checking every invariant on the way.
pub(crate) fn fold(
    tree: &sled::Tree,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<Folded, Violation>> {
    let mut state = MemState::new();
    let mut head = Head::EMPTY;
    let mut contents = HashMap::new();
    for item in log::raw_from(tree, Position::FIRST) {
        let (key_position, value) = item?;
        let expected = Position::new(head.position + 1);
        if key_position != expected {
            return Ok(Err(Violation::at(
                expected,
                format!("record missing (the next record is at {key_position})"),
            )));
        }
        let (bytes, stored_hash) = match codec::unframe(&value) {
            Ok(parts) => parts,
            Err(e) => return Ok(Err(Violation::at(expected, e))),
        };
        let hash = codec::chain_hash(&head.hash, bytes);
        let record = match codec::decode(bytes) {
            Ok(r) => r,
            Err(e) => {
                return Ok(Err(Violation::at(
                    expected,
                    format!("undecodable record: {e}"),
                )));
            }
        };
        if record.recorded.position != expected {
            return Ok(Err(Violation::at(
                expected,
                format!("holds the record of position {}", record.recorded.position),
            )));
        }
        if record.prev_hash != head.hash {
            return Ok(Err(Violation::at(
                expected,
                "previous-hash does not match the chain hash of the record before it",
            )));
        }
        if stored_hash != hash {
            return Ok(Err(Violation::at(
                expected,
                "record bytes do not hash to the stored chain hash",
            )));
        }
        if let Err(v) = check(&state, &record.recorded) {
            return Ok(Err(Violation::at(expected, v.message())));
        }
        for reference in record.recorded.event.contents() {
            contents.entry(reference.hash).or_insert(expected);
        }
        apply(&mut state, &record.recorded);
        head = Head {
            position: expected.get(),
            hash,
        };
        if head.position.is_multiple_of(PROGRESS_EVERY) {
            progress(head.position);
        }
    }
    progress(head.position);
    let stored = log::read_head(tree)?;
    if stored != head {
        let problem = if stored.position > head.position {
            format!(
                "log ends at position {} but the head entry says {}: records are missing",
                head.position, stored.position
            )
        } else if stored.position < head.position {
            format!(
                "head entry says position {} but the log goes on to {}",
                stored.position, head.position
            )
        } else {
            "head entry's chain hash does not match the log".to_owned()
        };
        let position = Position::new(stored.position.max(head.position).max(1));
        return Ok(Err(Violation::at(position, problem)));
    }
    Ok(Ok(Folded {
        state,
        head,
        contents,
    }))
}
