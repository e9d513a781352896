//! Replay: the fold of the log that verification and rebuild share (D2).
//!
//! The walk re-checks every invariant of architecture.md §3 and stops at the first
//! violation, naming its position: gapless positions from 1 (E1), each record's own
//! hash and its predecessor's hash (E2), each event decidable against the state before
//! it (E4, E5, via [`verso_domain::check`]), and the head entry (E3).

use std::collections::HashMap;
use std::fmt;

use verso_domain::projection::{apply, apply_owned};
use verso_domain::{ContentHash, MemState, Position, Recorded, check};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::log::{ChainHash, Head, codec};

/// Where and how the stored history breaks an invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The first bad log position, when the problem is in the log.
    pub position: Option<Position>,
    /// Which rule the history breaks: what a caller (or a test) matches on.
    pub kind: ViolationKind,
    /// What is wrong, for people.
    pub problem: String,
}

/// Which rule a [`Violation`] breaks, by its invariant in docs/design/event-log.md (E1–E7)
/// or docs/design/bundle.md (B1–B6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// E1: a position has no record (the next record has a later key).
    MissingRecord,
    /// E1: the record at a position holds the record of another position.
    WrongPosition,
    /// E2: the stored value does not frame or decode as a record.
    Undecodable,
    /// E2: the record's embedded previous hash is not the chain hash of the record
    /// before it.
    PreviousHash,
    /// E2: the record's bytes do not hash to the chain hash stored as its trailer.
    RecordHash,
    /// E3 (and B4): the head entry, or the head a bundle claims or a caller expects,
    /// does not match the log: a truncated tail, records past it, or another hash.
    Head,
    /// E4, E5, E8–E11: an event that could not have been decided against the state
    /// before it ([`verso_domain::check`]).
    Event,
    /// E6: a stored projection entry differs from the fold of the log.
    Projection,
    /// E7, V7 (and B5): a referenced content is missing, does not hash to its key, is
    /// stored twice in a bundle, or is not in its canonical form.
    Content,
    /// B1–B6: the bundle file itself is malformed (magic, header, frames, counts, digest).
    Bundle,
    /// K3: the checkpoint's `applied` marker is not a head of this log (past its end,
    /// or another chain hash at its position).
    Checkpoint,
}

impl Violation {
    pub(crate) fn at(position: Position, kind: ViolationKind, problem: impl Into<String>) -> Self {
        Self {
            position: Some(position),
            kind,
            problem: problem.into(),
        }
    }

    pub(crate) fn store(kind: ViolationKind, problem: impl Into<String>) -> Self {
        Self {
            position: None,
            kind,
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
    /// Each content referenced by the log: the first position referring to it, and its
    /// length. Verification reads each (E7), and both it and a rebuild make the content
    /// headers from them (at a million records the map costs a tenth of the reader's
    /// time).
    pub(crate) contents: HashMap<ContentHash, (Position, u64)>,
}

/// How often progress is reported, in records.
pub(crate) const PROGRESS_EVERY: u64 = 10_000;

/// Records per batch handed from the reading thread to the folding one.
const BATCH: usize = 256;
/// Batches in flight between the two: enough to ride out a stall of either side.
const IN_FLIGHT: usize = 16;

/// One step of the reading thread: a record whose chain checks passed, or why it stopped.
// Nearly every `Read` is a record, so boxing it would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Read {
    Record(Position, ChainHash, Recorded),
    Bad(Violation),
    Failed(Error),
}

/// Folds the log from position 1, checking every invariant on the way.
///
/// Two threads share the work, in log order: one scans the log, checks each record's own
/// position and chain hash (E1, E2), decodes it and notes the contents it refers to;
/// the caller's thread checks each event against the state before it and folds it (E4,
/// E5). The first violation in log order is the one reported, as with one thread: the
/// reader stops at the first record it finds bad, and the folder meets every record
/// before it first.
pub(crate) fn fold(
    engine: &dyn Engine,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<Folded, Violation>> {
    let (sender, receiver) = crossbeam_channel::bounded(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("verso-replay".into())
            .spawn_scoped(scope, move || read_log(engine, &sender))
            .map_err(Error::io("start the replay reader"))?;
        // The receiver is dropped on any early return, which stops the reader.
        let folded = fold_reads(engine, receiver, progress);
        let contents = reader
            .join()
            .map_err(|_| Error::Engine("the replay reader panicked".into()))?;
        Ok(folded?.map(|(state, head)| Folded {
            state,
            head,
            contents,
        }))
    })
}

fn fold_reads(
    engine: &dyn Engine,
    reads: crossbeam_channel::Receiver<Vec<Read>>,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<(MemState, Head), Violation>> {
    let mut state = MemState::new();
    let mut head = Head::EMPTY;
    for batch in reads {
        for read in batch {
            let (position, hash, recorded) = match read {
                Read::Record(position, hash, recorded) => (position, hash, recorded),
                Read::Bad(violation) => return Ok(Err(violation)),
                Read::Failed(e) => return Err(e),
            };
            // Checked borrowed, then folded owned: a version's record keeps the decoded
            // strings.
            if let Err(v) = check(&state, &recorded) {
                return Ok(Err(Violation::at(
                    position,
                    ViolationKind::Event,
                    v.message(),
                )));
            }
            apply_owned(&mut state, recorded);
            head = Head {
                position: position.get(),
                hash,
            };
            if head.position.is_multiple_of(PROGRESS_EVERY) {
                progress(head.position);
            }
        }
    }
    progress(head.position);
    let stored = engine.head()?;
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
        return Ok(Err(Violation::at(position, ViolationKind::Head, problem)));
    }
    Ok(Ok((state, head)))
}

/// The reading thread: every record from position 1, checked against the chain, in
/// batches, until the log ends, a record is bad, or the folder hangs up. Returns each
/// content the records sent refer to, with the first position referring to it.
fn read_log(
    engine: &dyn Engine,
    out: &crossbeam_channel::Sender<Vec<Read>>,
) -> HashMap<ContentHash, (Position, u64)> {
    let mut contents = HashMap::new();
    let mut chain = Head::EMPTY;
    let mut batch = Vec::with_capacity(BATCH);
    for item in engine.log_from(Position::FIRST) {
        let expected = Position::new(chain.position + 1);
        let read = match item {
            Err(e) => Read::Failed(e),
            Ok((key_position, _)) if key_position != expected => Read::Bad(Violation::at(
                expected,
                ViolationKind::MissingRecord,
                format!("record missing (the next record is at {key_position})"),
            )),
            Ok((_, value)) => match read_record(&chain, expected, &value) {
                Ok((hash, recorded)) => {
                    for reference in recorded.event.contents() {
                        contents
                            .entry(reference.hash)
                            .or_insert((expected, reference.len));
                    }
                    chain = Head {
                        position: expected.get(),
                        hash,
                    };
                    Read::Record(expected, hash, recorded)
                }
                Err((kind, problem)) => Read::Bad(Violation::at(expected, kind, problem)),
            },
        };
        let last = !matches!(read, Read::Record(..));
        batch.push(read);
        if last || batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if out.send(full).is_err() || last {
                return contents;
            }
        }
    }
    if !batch.is_empty() {
        // A folder that hung up has stopped already.
        let _ = out.send(batch);
    }
    contents
}

/// Checks one stored record value as the record at `position` after `chain` (E1's own
/// position, E2, E5) and folds it into `state`. Returns its chain hash and the content
/// hashes its event refers to, or which rule it breaks and how. The fold of a store and
/// the check of a bundle both walk records through here.
pub(crate) fn fold_record(
    state: &mut MemState,
    chain: &Head,
    position: Position,
    value: &[u8],
) -> std::result::Result<(ChainHash, Vec<ContentHash>), Problem> {
    let (hash, recorded) = read_record(chain, position, value)?;
    fold_recorded(state, &recorded)?;
    let references = recorded
        .event
        .contents()
        .into_iter()
        .map(|c| c.hash)
        .collect();
    Ok((hash, references))
}

/// Which rule a record breaks, and how.
pub(crate) type Problem = (ViolationKind, String);

/// The chain checks of one stored record value as the record at `position` after
/// `chain` (E1's own position, E2): its chain hash and its decoded event.
pub(crate) fn read_record(
    chain: &Head,
    position: Position,
    value: &[u8],
) -> std::result::Result<(ChainHash, Recorded), Problem> {
    let (bytes, stored_hash) =
        codec::unframe(value).map_err(|e| (ViolationKind::Undecodable, e))?;
    // IMPORTANT: the hash is of the bytes as stored, before anything is decoded.
    let hash = codec::chain_hash(&chain.hash, bytes);
    let record = codec::decode(bytes).map_err(|e| {
        (
            ViolationKind::Undecodable,
            format!("undecodable record: {e}"),
        )
    })?;
    if record.recorded.position != position {
        return Err((
            ViolationKind::WrongPosition,
            format!("holds the record of position {}", record.recorded.position),
        ));
    }
    if record.prev_hash != chain.hash {
        return Err((
            ViolationKind::PreviousHash,
            "previous-hash does not match the chain hash of the record before it".to_owned(),
        ));
    }
    if stored_hash != hash {
        return Err((
            ViolationKind::RecordHash,
            "record bytes do not hash to the stored chain hash".to_owned(),
        ));
    }
    Ok((hash, record.recorded))
}

/// E5: checks an event against the state before it, then folds it in.
fn fold_recorded(state: &mut MemState, recorded: &Recorded) -> std::result::Result<(), Problem> {
    check(state, recorded).map_err(|v| (ViolationKind::Event, v.message().to_owned()))?;
    apply(state, recorded);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use verso_domain::{ApplicationId, Event, Timestamp};

    use super::*;
    use crate::engine::{Group, SledEngine};

    fn created(id: &ApplicationId) -> Event {
        Event::ApplicationCreated {
            application: id.clone(),
            name: "app".into(),
            description: None,
            tags: BTreeMap::new(),
        }
    }

    fn updated(id: &ApplicationId, n: u64) -> Event {
        Event::ApplicationUpdated {
            application: id.clone(),
            name: format!("app {n}"),
            description: None,
        }
    }

    /// A log of `events` (position 1 first), chained as the writer chains it, with the
    /// stored chain hash of the record at `bad_trailer` (if any) flipped.
    fn log_of(events: Vec<Event>, bad_trailer: Option<u64>) -> (tempfile::TempDir, SledEngine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let mut records = Vec::new();
        let mut chain = codec::GENESIS;
        for (n, event) in (1..).zip(events) {
            let position = Position::new(n);
            let recorded = Recorded {
                position,
                timestamp: Timestamp::from_millis(1_700_000_000_000),
                actor: None,
                event,
            };
            let bytes = codec::encode(&recorded, &chain).unwrap();
            let hash = codec::chain_hash(&chain, &bytes);
            let mut stored = hash;
            if bad_trailer == Some(n) {
                stored[0] ^= 1;
            }
            records.push((position, codec::frame(&bytes, &stored)));
            chain = hash;
        }
        let head = Head {
            position: records.len() as u64,
            hash: chain,
        };
        let group = Group {
            records,
            contents: Vec::new(),
            head,
        };
        engine.append(Head::EMPTY, &group).unwrap();
        (dir, engine)
    }

    /// The first violation a fold finds: where, and which rule.
    fn first_violation(db: &SledEngine) -> Option<(Position, ViolationKind)> {
        match fold(db, &mut |_| {}).unwrap() {
            Ok(_) => None,
            Err(v) => Some((v.position.unwrap(), v.kind)),
        }
    }

    #[test]
    fn the_first_violation_in_log_order_is_reported_whichever_thread_finds_it() {
        // The reader finds chain breaks and the writer finds events that do not decide;
        // batches are 256 records, so these cases span several.
        let app = ApplicationId::parse("app1").unwrap();
        let history = |duplicate_at: u64, len: u64| -> Vec<Event> {
            (1..=len)
                .map(|n| match n {
                    1 => created(&app),
                    n if n == duplicate_at => created(&app),
                    n => updated(&app, n),
                })
                .collect()
        };
        let event = |n| Some((Position::new(n), ViolationKind::Event));
        let chain = |n| Some((Position::new(n), ViolationKind::RecordHash));
        // An event that does not decide, before a broken chain: the event.
        let (_d, db) = log_of(history(300, 900), Some(700));
        assert_eq!(first_violation(&db), event(300));
        // A broken chain before such an event: the chain.
        let (_d, db) = log_of(history(700, 900), Some(300));
        assert_eq!(first_violation(&db), chain(300));
        // Each alone, in a later batch.
        let (_d, db) = log_of(history(777, 900), None);
        assert_eq!(first_violation(&db), event(777));
        let (_d, db) = log_of(history(0, 900), Some(613));
        assert_eq!(first_violation(&db), chain(613));
    }
}
