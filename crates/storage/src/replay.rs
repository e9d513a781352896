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
use crate::log::{self, ChainHash, Head, codec};

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
        let (hash, references) = match fold_record(&mut state, &head, expected, &value) {
            Ok(folded) => folded,
            Err(problem) => return Ok(Err(Violation::at(expected, problem))),
        };
        for reference in references {
            contents.entry(reference).or_insert(expected);
        }
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

/// Checks one stored record value as the record at `position` after `chain` (E1's own
/// position, E2, E5) and folds it into `state`. Returns its chain hash and the content
/// hashes its event refers to, or what is wrong with it. The fold of a store and the
/// check of a bundle both walk records through here.
pub(crate) fn fold_record(
    state: &mut MemState,
    chain: &Head,
    position: Position,
    value: &[u8],
) -> std::result::Result<(ChainHash, Vec<ContentHash>), String> {
    let (bytes, stored_hash) = codec::unframe(value)?;
    // IMPORTANT: the hash is of the bytes as stored, before anything is decoded.
    let hash = codec::chain_hash(&chain.hash, bytes);
    let record = codec::decode(bytes).map_err(|e| format!("undecodable record: {e}"))?;
    if record.recorded.position != position {
        return Err(format!(
            "holds the record of position {}",
            record.recorded.position
        ));
    }
    if record.prev_hash != chain.hash {
        return Err(
            "previous-hash does not match the chain hash of the record before it".to_owned(),
        );
    }
    if stored_hash != hash {
        return Err("record bytes do not hash to the stored chain hash".to_owned());
    }
    check(state, &record.recorded).map_err(|v| v.message().to_owned())?;
    apply(state, &record.recorded);
    let references = record
        .recorded
        .event
        .contents()
        .into_iter()
        .map(|c| c.hash)
        .collect();
    Ok((hash, references))
}
