//! Full verification (architecture.md §3): the chain, every content's hash, and the
//! stored projections equal to a fresh fold of the log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use verso_domain::projection::{CanonicalKind, Part};
use verso_domain::proton::TemplateSource;
use verso_domain::{ContentHash, ContentRef, Position, ViewContent};

use crate::content;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::log::Head;
use crate::log::keys;
use crate::projections::overlay::{Entries, SortedEntries};
use crate::projections::{Map, is_in_memory, is_projection};
use crate::replay::{self, Folded, Violation, ViolationKind};

/// What a successful verification walked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The chain head: the last position and its chain hash.
    pub head: Head,
    /// Distinct contents checked.
    pub contents: u64,
    /// Projection entries compared.
    pub projection_entries: u64,
}

/// Verifies everything `engine` stores, whose checkpoint is at the head. `headers`: the
/// checkpoint is of this build's projection format, so its content headers are
/// compared too.
pub(crate) fn verify(
    engine: &dyn Engine,
    headers: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<VerifyReport, Violation>> {
    verify_against(engine, None, headers, progress)
}

/// Verifies `engine` with `projections` (when given) standing for its checkpoint: a
/// store not open, whose checkpoint is behind the head, is verified with the checkpoint
/// plus the fold of the log after it (K2).
pub(crate) fn verify_against(
    engine: &dyn Engine,
    projections: Option<&Map>,
    headers: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<VerifyReport, Violation>> {
    let given = projections.map(|map| checkpoint_entries(map, headers));
    let Compared {
        head,
        contents,
        headers: derived,
        canonical,
        entries,
        differences,
    } = match fold_and_compare(engine, given, headers, progress)? {
        Ok(c) => c,
        Err(v) => return Ok(Err(v)),
    };
    let read = |hash: ContentHash| match derived.get(&hash) {
        Some(header) => content::read_at(engine, hash, header),
        None => Ok(None),
    };
    // E7: every content the log refers to is stored where the engine says and hashes
    // to its key.
    let mut referenced: Vec<_> = contents.iter().collect();
    referenced.sort_by_key(|(_, (p, _))| *p);
    for (hash, (position, _)) in referenced {
        match read(*hash) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Ok(Err(Violation::at(
                    *position,
                    ViolationKind::Content,
                    format!("content {hash} is referenced but not stored"),
                )));
            }
            Err(e) => {
                return Ok(Err(Violation::at(
                    *position,
                    ViolationKind::Content,
                    e.to_string(),
                )));
            }
        }
    }
    // V7: contents a face stores in a canonical form decode and re-encode to their bytes.
    for (kind, reference) in canonical {
        let bytes = match read(reference.hash) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Ok(Err(Violation::store(
                    ViolationKind::Content,
                    format!("content {} is referenced but not stored", reference.hash),
                )));
            }
            Err(e) => return Ok(Err(Violation::store(ViolationKind::Content, e.to_string()))),
        };
        let decoded = match kind {
            CanonicalKind::ViewContent => ViewContent::decode(&bytes).map(|_| ()),
            CanonicalKind::TemplateSource => TemplateSource::decode(&bytes).map(|_| ()),
        };
        if let Err(problem) = decoded {
            return Ok(Err(Violation::store(
                ViolationKind::Content,
                format!("content {}: {problem}", reference.hash),
            )));
        }
    }
    if let Some(first) = differences.first() {
        return Ok(Err(Violation::store(
            ViolationKind::Projection,
            first.describe(),
        )));
    }
    Ok(Ok(VerifyReport {
        head,
        contents: contents.len() as u64,
        projection_entries: entries,
    }))
}

/// A fold of the log beside the stored projections.
pub(crate) struct Compared {
    /// The head the log ends at.
    pub(crate) head: Head,
    /// Each content referenced by the log: the first position referring to it, and its
    /// length.
    pub(crate) contents: HashMap<ContentHash, (Position, u64)>,
    /// The header of each of those contents, as the log and the engine's record of
    /// where groups put content make it (`content::header`).
    pub(crate) headers: HashMap<ContentHash, Vec<u8>>,
    /// The contents the fold holds in a canonical form, with which form (V7).
    pub(crate) canonical: Vec<(CanonicalKind, ContentRef)>,
    /// Projection entries the fold produces (content headers not counted: they are one
    /// per content).
    pub(crate) entries: u64,
    /// Every way the stored checkpoint differs from the fold, in key order.
    pub(crate) differences: Vec<Difference>,
}

/// Folds the log (checking every invariant on the way) and compares the stored
/// checkpoint with the fold: its projection entries, and its content headers if
/// `headers`. Verification and rebuild share it.
///
/// The stored entries are read on a thread of their own while the log is folded. Nothing
/// changes them meanwhile: `Store` runs this on its writer, the only thread that writes
/// projections, and `verify_path` on a store no writer has open. On a violation that
/// thread is told to stop.
pub(crate) fn fold_and_compare(
    engine: &dyn Engine,
    given: Option<SortedEntries>,
    headers: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<std::result::Result<Compared, Violation>> {
    let stop = AtomicBool::new(false);
    // Only to size the reader's buffer: the fold checks the head itself.
    let records = engine.head().map_or(0, |h| h.position);
    std::thread::scope(|scope| {
        let stored = std::thread::Builder::new()
            .name("verso-projections".into())
            .spawn_scoped(scope, || match given {
                Some(entries) => Ok(entries),
                None => stored_entries(engine, headers, &stop, records),
            })
            .map_err(Error::io("start the projection reader"))?;
        let stopped = |stored: std::thread::ScopedJoinHandle<'_, _>| {
            stop.store(true, Ordering::Relaxed);
            // What stopped the fold is the answer, whatever the reader met.
            let _ = stored.join();
        };
        let folded = replay::fold(engine, progress)
            .map(|f| f.map(|f| (derive_headers(engine, &f.contents), f)));
        let (
            derived,
            Folded {
                state,
                head,
                contents,
            },
        ) = match folded {
            Ok(Ok((Ok(derived), f))) => (derived, f),
            Ok(Ok((Err(e), _))) | Err(e) => {
                stopped(stored);
                return Err(e);
            }
            Ok(Err(v)) => {
                stopped(stored);
                return Ok(Err(v));
            }
        };
        // Encoding overlaps the end of the stored scan.
        let mut wanted: Vec<_> = encode_projections(&state, head.position)?.into();
        let entries = wanted.iter().map(SortedEntries::len).sum::<usize>() as u64;
        if headers {
            wanted.push(header_entries(&derived));
        }
        let canonical = state.canonical_contents().collect();
        // Freeing a large fold takes a while: a thread of its own does it, which the
        // answer does not wait for (a scoped one would hold up the scope's end).
        drop_elsewhere(state);
        let stored = stored
            .join()
            .map_err(|_| Error::Engine("the projection reader panicked".into()))??;
        let differences = merge(stored.iter(), in_key_order(&wanted));
        Ok(Ok(Compared {
            head,
            contents,
            headers: derived,
            canonical,
            entries,
            differences,
        }))
    })
}

/// The content headers the log's references and the engine's record of where groups
/// put content make: the location the engine gives, else (content of store format 1,
/// kept by hash) none.
fn derive_headers(
    engine: &dyn Engine,
    referenced: &HashMap<ContentHash, (Position, u64)>,
) -> Result<HashMap<ContentHash, Vec<u8>>> {
    let mut headers = HashMap::with_capacity(referenced.len());
    for item in engine.contents_from(0) {
        let (hash, len, location) = item?;
        if referenced.contains_key(&hash) {
            headers.insert(hash, content::header(len, &location));
        }
    }
    for (hash, (_, len)) in referenced {
        headers
            .entry(*hash)
            .or_insert_with(|| content::header(*len, &[]));
    }
    Ok(headers)
}

/// The headers as checkpoint entries, in key order.
fn header_entries(headers: &HashMap<ContentHash, Vec<u8>>) -> SortedEntries {
    let mut entries: Vec<_> = headers
        .iter()
        .map(|(hash, header)| (keys::content(*hash), header))
        .collect();
    entries.sort_unstable_by_key(|(key, _)| *key);
    let bytes = entries.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut out = SortedEntries::with_capacity(bytes, entries.len());
    for (key, value) in entries {
        out.push_in_order(&key, value);
    }
    out
}

/// The entries of `map` compared with a fold: its projection entries, and its content
/// headers if `headers`; in key order.
fn checkpoint_entries(map: &Map, headers: bool) -> SortedEntries {
    let mut out = SortedEntries::with_capacity(0, 0);
    for (key, value) in map.iter().filter(|(k, _)| compared(k, headers)) {
        out.push_in_order(key, value);
    }
    out
}

/// Whether a checkpoint entry is compared with the fold: projection entries always,
/// content headers when the checkpoint is of this build's format.
fn compared(key: &[u8], headers: bool) -> bool {
    is_projection(key) || (headers && is_in_memory(key))
}

/// E6 in memory: how the writer's projections and content headers (`memory`) differ
/// from the ones just checkpointed at the head and verified, if they do: one pass over
/// the stored entries beside the map.
pub(crate) fn memory_differs(engine: &dyn Engine, memory: &Map) -> Result<Option<String>> {
    let differs = |what: String| Ok(Some(format!("in the writer's memory: {what}")));
    let mut memory = memory.iter().peekable();
    for (key, value) in &engine.checkpoint()? {
        if let Some((below, _)) = memory.next_if(|(k, _)| *k < key) {
            return differs(format!("entry {} is not stored", show_key(below)));
        }
        match memory.next_if(|(k, _)| *k == key) {
            Some((_, held)) if held == value => {}
            Some(_) => return differs(format!("entry {} differs", show_key(key))),
            None => return differs(format!("stored entry {} is missing", show_key(key))),
        }
    }
    match memory.next() {
        Some((key, _)) => differs(format!("entry {} is not stored", show_key(key))),
        None => Ok(None),
    }
}

/// How many records' worth of room to make up front in a buffer of projection entries:
/// the log's records, up to a bound (4 million, about 900 MiB of entries). Room never
/// touched costs nothing, but an allocation far beyond the machine's memory can be
/// refused outright; past the bound, buffers grow as they fill.
fn room_for(records: u64) -> usize {
    usize::try_from(records.min(4 << 20)).unwrap_or(0)
}

/// Drops `value` on a detached thread, or here if no thread can be started (a spawn
/// that fails drops its closure, and `value` with it).
fn drop_elsewhere<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("verso-drop".into())
        .spawn(move || drop(value));
}

/// The stored form of a fold: every projection key and value, as the writer stores
/// them, in three sequences of disjoint keys, each in key order. Two threads share the
/// work: a helper encodes most of the version records, and this thread the content uses,
/// the rest, and the last versions. Room is made up front for a log of `records`
/// (growing a buffer of hundreds of megabytes copies it; room never touched costs
/// nothing): a hosted version, the commonest record, makes a version entry of about 160
/// bytes (key and value) and a content use of about 60.
fn encode_projections(state: &verso_domain::MemState, records: u64) -> Result<[SortedEntries; 3]> {
    let records = room_for(records);
    let encode = |bytes_each: usize, write: &dyn Fn(&mut Entries)| {
        let mut entries = Entries::with_capacity(records.saturating_mul(bytes_each), records);
        write(&mut entries);
        entries.into_sorted()
    };
    // Encoding a version record costs about one and a half times what a content use does
    // (measured at a million records, docs/performance.md), and nearly every version has
    // one: with four fifths of the versions the helper's share is about half the work.
    let versions = state.version_count();
    let split = versions - versions / 5;
    std::thread::scope(|scope| {
        let first = std::thread::Builder::new()
            .name("verso-encode".into())
            .spawn_scoped(scope, || {
                encode(160, &|e| state.write_versions_into(0..split, e))
            })
            .map_err(Error::io("start the projection encoder"))?;
        let rest = encode(64, &|e| {
            state.write_part_into(Part::ContentUses, e);
            state.write_part_into(Part::Rest, e);
        });
        // Room for a fifth of the versions.
        let last = encode(160 / 5, &|e| state.write_versions_into(split..versions, e));
        let first = first
            .join()
            .map_err(|_| Error::Engine("the projection encoder panicked".into()))?;
        Ok([first?, rest?, last?])
    })
}

/// The entries of `parts` (of disjoint keys, each in key order) as one sequence in key
/// order.
fn in_key_order(parts: &[SortedEntries]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut parts: Vec<_> = parts.iter().map(|p| p.iter().peekable()).collect();
    std::iter::from_fn(move || {
        // The part whose next key is the lowest.
        let mut lowest: Option<(usize, &[u8])> = None;
        for (i, part) in parts.iter_mut().enumerate() {
            if let Some(&(key, _)) = part.peek()
                && lowest.is_none_or(|(_, low)| key < low)
            {
                lowest = Some((i, key));
            }
        }
        parts.get_mut(lowest?.0)?.next()
    })
}

/// Every stored checkpoint entry compared with the fold ([`compared`]), in key order
/// (empty once `stop` is set), copied into one buffer: the checkpoint comes as a map
/// with an allocation per key and value, and keeping millions of them until the merge
/// (which runs on another thread) cost more than the copy and dropping the map.
fn stored_entries(
    engine: &dyn Engine,
    headers: bool,
    stop: &AtomicBool,
    records: u64,
) -> Result<SortedEntries> {
    // Room as in `encode_projections`: about 220 bytes in two entries per record.
    let records = room_for(records);
    let mut out =
        SortedEntries::with_capacity(records.saturating_mul(224), records.saturating_mul(2));
    for (key, value) in &engine.checkpoint()? {
        if !compared(key, headers) {
            continue;
        }
        out.push_in_order(key, value);
        if out.len().is_multiple_of(4096) && stop.load(Ordering::Relaxed) {
            return Ok(SortedEntries::with_capacity(0, 0));
        }
    }
    Ok(out)
}

/// One way the stored projections differ from the fold of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Difference {
    /// Stored, but not in the fold.
    Extra(Vec<u8>),
    /// In the fold (with this value), but not stored.
    Missing(Vec<u8>, Vec<u8>),
    /// Stored with another value than the fold's (given).
    Differs(Vec<u8>, Vec<u8>),
}

impl Difference {
    /// What verification reports for it.
    fn describe(&self) -> String {
        match self {
            Self::Extra(k) => format!(
                "projection entry {} is not in the fold of the log",
                show_key(k)
            ),
            Self::Missing(k, _) => format!("projection entry {} is missing", show_key(k)),
            Self::Differs(k, _) => format!(
                "projection entry {} differs from the fold of the log",
                show_key(k)
            ),
        }
    }
}

/// Every way the `stored` projections differ from `wanted` (the fold's encoding), both
/// in key order: one merge, with no lookups. Verification reports the first; rebuild
/// writes them all.
fn merge<'s, 'w>(
    stored: impl Iterator<Item = (&'s [u8], &'s [u8])>,
    wanted: impl Iterator<Item = (&'w [u8], &'w [u8])>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut stored = stored.peekable();
    for (key, value) in wanted {
        // Everything stored below this key is not in the fold.
        while let Some((k, _)) = stored.next_if(|(k, _)| *k < key) {
            out.push(Difference::Extra(k.to_vec()));
        }
        match stored.next_if(|(k, _)| *k == key) {
            Some((_, v)) if v == value => {}
            Some(_) => out.push(Difference::Differs(key.to_vec(), value.to_vec())),
            None => out.push(Difference::Missing(key.to_vec(), value.to_vec())),
        }
    }
    out.extend(stored.map(|(k, _)| Difference::Extra(k.to_vec())));
    out
}

fn show_key(key: &[u8]) -> String {
    key.iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use verso_domain::projection::{StreamWrite, VersionRecord};
    use verso_domain::{ApplicationId, MemState, ProfileId, StreamId, StreamVersion, Timestamp};

    use super::*;

    fn stored<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes()))
    }

    fn wanted<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes()))
    }

    fn sorted(pairs: &[(&str, &str)]) -> SortedEntries {
        let mut entries = Entries::default();
        for (k, v) in pairs {
            entries.put_raw(k.as_bytes().to_vec(), v.as_bytes().to_vec());
        }
        entries.into_sorted().unwrap()
    }

    #[test]
    fn parts_are_read_as_one_sequence_in_key_order() {
        let parts = [
            sorted(&[("h2", "x"), ("a", "1"), ("v1", "y")]),
            sorted(&[("s", "2"), ("b", "3"), ("z", "4")]),
            sorted(&[("v0", "5"), ("c", "6")]),
        ];
        let keys: Vec<_> = in_key_order(&parts).map(|(k, _)| k).collect();
        let want: [&[u8]; 8] = [b"a", b"b", b"c", b"h2", b"s", b"v0", b"v1", b"z"];
        assert_eq!(keys, want);
        assert_eq!(
            in_key_order(&[sorted(&[]), sorted(&[("k", "v")])]).count(),
            1
        );
    }

    /// A fold of streams of 0 to 13 versions each, some deleted.
    fn state_of_versions() -> MemState {
        let mut state = MemState::new();
        for (s, count) in [3u64, 0, 13, 1, 7, 2].into_iter().enumerate() {
            let stream = StreamId::HostedConfiguration {
                application: ApplicationId::parse("app1").unwrap(),
                profile: ProfileId::parse(&format!("prf{s}")).unwrap(),
            };
            for v in 1..=count {
                state.put_version(Cow::Owned(VersionRecord {
                    stream: stream.clone(),
                    version: StreamVersion::new(v),
                    position: Position::new(v),
                    created_at: Timestamp::from_millis(1_700_000_000_000),
                    actor: None,
                    content: ContentRef {
                        hash: ContentHash::of(format!("{s}/{v}").as_bytes()),
                        len: v,
                    },
                    content_type: Some("text/plain".into()),
                    description: None,
                    label: None,
                    deleted: (v % 4 == 0).then(|| Position::new(v + 100)),
                }));
            }
        }
        state
    }

    fn all_of(parts: &[SortedEntries]) -> Vec<(Vec<u8>, Vec<u8>)> {
        in_key_order(parts)
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    #[test]
    fn the_fold_encoded_in_shares_is_the_fold_encoded_whole() {
        let state = state_of_versions();
        let mut whole = Entries::default();
        for part in Part::ALL {
            state.write_part_into(part, &mut whole);
        }
        let whole = all_of(&[whole.into_sorted().unwrap()]);
        assert_eq!(state.version_count(), 26);
        assert_eq!(all_of(&encode_projections(&state, 26).unwrap()), whole);
        // Every split of the versions into two shares covers each version once.
        let mut versions = Entries::default();
        state.write_part_into(Part::Versions, &mut versions);
        let versions = all_of(&[versions.into_sorted().unwrap()]);
        for split in [0, 1, 3, 4, 16, 25, 26, 40] {
            let [mut first, mut second] = [Entries::default(), Entries::default()];
            state.write_versions_into(0..split, &mut first);
            state.write_versions_into(split..26, &mut second);
            let shares = [first.into_sorted().unwrap(), second.into_sorted().unwrap()];
            assert_eq!(shares[0].len(), split.min(26), "split at {split}");
            assert_eq!(all_of(&shares), versions, "split at {split}");
        }
        let mut none = Entries::default();
        let (start, end) = (20, 10);
        state.write_versions_into(start..end, &mut none);
        assert_eq!(none.into_sorted().unwrap().len(), 0);
    }

    #[test]
    fn merge_finds_extra_missing_and_different_entries_in_key_order() {
        let got = merge(
            stored(&[("a", "1"), ("b", "2"), ("c", "3"), ("e", "5")]),
            wanted(&[("b", "2"), ("c", "x"), ("d", "4")]),
        );
        assert_eq!(
            got,
            vec![
                Difference::Extra(b"a".to_vec()),
                Difference::Differs(b"c".to_vec(), b"x".to_vec()),
                Difference::Missing(b"d".to_vec(), b"4".to_vec()),
                Difference::Extra(b"e".to_vec()),
            ]
        );
        let same = merge(stored(&[("k", "v")]), wanted(&[("k", "v")]));
        assert!(same.is_empty());
    }

    #[test]
    fn memory_that_differs_from_the_stored_projections_is_named() {
        // E6 in memory: the writer's map and what it checkpointed must be equal.
        let dir = tempfile::tempdir().unwrap();
        let db = crate::engine::SledEngine::scratch(dir.path());
        let entries = [(&b"a1"[..], &b"x"[..]), (b"c1", b"8"), (b"v1", b"y")]
            .map(|(k, v)| (k.to_vec(), Some(v.to_vec())));
        db.write_checkpoint(&entries.into_iter().collect(), Head::EMPTY)
            .unwrap();
        // A log record is not a checkpoint entry.
        let record = crate::engine::Group {
            records: vec![(Position::FIRST, b"not a projection".to_vec())],
            contents: Vec::new(),
            head: Head {
                position: 1,
                hash: Head::EMPTY.hash,
            },
        };
        db.append(Head::EMPTY, &record).unwrap();
        let map = |pairs: &[(&[u8], &[u8])]| -> Map {
            pairs
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect()
        };
        let same = map(&[(b"a1", b"x"), (b"c1", b"8"), (b"v1", b"y")]);
        assert_eq!(memory_differs(&db, &same).unwrap(), None);
        let cases: [(Map, &str); 4] = [
            (
                map(&[(b"a1", b"x"), (b"c1", b"8"), (b"v1", b"z")]),
                "differs",
            ),
            (map(&[(b"a1", b"x"), (b"v1", b"y")]), "is missing"),
            (
                map(&[(b"a0", b"w"), (b"a1", b"x"), (b"c1", b"8"), (b"v1", b"y")]),
                "not stored",
            ),
            (
                map(&[(b"a1", b"x"), (b"c1", b"8"), (b"v1", b"y"), (b"w1", b"q")]),
                "not stored",
            ),
        ];
        for (memory, what) in cases {
            let problem = memory_differs(&db, &memory).unwrap().expect("a difference");
            assert!(problem.contains(what), "{problem}");
        }
    }
}
