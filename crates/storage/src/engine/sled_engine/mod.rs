//! The engine on sled 0.34.7: everything in sled's default tree, keys as
//! docs/design/event-log.md lays them out (`log::keys`, `log::schema`).
//!
//! A group is one `apply_batch` (records, content, head: C3), a checkpoint another (its
//! entries and the `applied` marker: K1), and the barrier is [`barrier::Barrier`]
//! (sled's `flush()` is not a durable sync, D4).
//!
//! **Packed content** (store format 2). The contents a group introduces are written end
//! to end as one *segment*, cut into parts of at most [`schema::CHUNK_LEN`] bytes under
//! sequential keys (`P` + segment + part), with an index of the segment (`Q` + segment +
//! part: each content's sha256, length and offset, 48 bytes an entry). A segment is
//! named by the position of its group's first record (and batch 0); contents stored
//! without records (an import) go to position 0, batches 1, 2, ... So a group writes a
//! few large values next to each other instead of a chunk per content at the place its
//! hash sorts to, which is what sled pays most for (docs/performance.md). A content's
//! location is its segment and offset (20 bytes); the header the projections keep for
//! it holds that, and [`Engine::contents_from`] reads the indexes to make the headers
//! again. Content of store format 1 stays in `C` chunks by hash, with an empty location.

mod barrier;
mod segments;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use verso_domain::{ContentHash, Position};

use super::{Engine, Group, Located, LocatedIter, LogIter, Meta};
use crate::error::{Error, Result};
#[cfg(feature = "failpoints")]
use crate::failpoints::Failpoints;
use crate::log::{Head, codec, keys, schema};
use crate::options::Durability;
use crate::projections::Map;
use crate::projections::overlay::Writes;
use barrier::Barrier;
use segments::Segments;

/// A stored value: bytes sled hands out without copying them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Value(sled::IVec);

impl std::ops::Deref for Value {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// How long `open` waits for sled's directory lock. sled 0.34's I/O threads keep the
/// data file (and its lock) open for a few milliseconds after the last handle of a
/// closed store is dropped (sled #1289), so a reopen right after `close` would otherwise
/// be refused; a store really held by another process or handle stays locked far longer.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// The sled engine. `Sync`: the writer appends and syncs, the checkpointer writes
/// checkpoints, and readers read, each through a shared reference.
pub(crate) struct SledEngine {
    db: sled::Db,
    /// The head of the last group appended (or stored at open), which `append`
    /// compares, and the batch number of the last segment stored without records.
    last: Mutex<(Head, u32)>,
    /// The barrier's state; one barrier runs at a time (the writer's barrier thread,
    /// or open, rebuild and close on its behalf), so this lock is never contended.
    barrier: Mutex<Barrier>,
    /// The checkpoint's segments; held while a checkpoint is written.
    segments: Mutex<Segments>,
}

impl SledEngine {
    /// Opens (creating it if missing) the sled database in `path`, with a page cache
    /// of `cache_capacity` bytes and barriers in `mode`.
    ///
    /// # Errors
    /// [`Error::Locked`] if another process has it open; I/O and sled errors.
    pub(crate) fn open(
        path: &Path,
        cache_capacity: u64,
        mode: Durability,
        #[cfg(feature = "failpoints")] failpoints: std::sync::Arc<Failpoints>,
    ) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(Error::io("create data directory"))?;
        let db = open_locked(path, cache_capacity)?;
        // The directory entries of a new store (sled's files, the directory itself).
        barrier::sync_dir(path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            barrier::sync_dir(parent)?;
        }
        let head = read_head(&db)?;
        let batch = last_batch(&db)?;
        let segments = Segments::count(&db)?;
        let barrier = Barrier::new(
            path,
            mode,
            #[cfg(feature = "failpoints")]
            failpoints,
        )?;
        Ok(Self {
            db,
            last: Mutex::new((head, batch)),
            barrier: Mutex::new(barrier),
            segments: Mutex::new(segments),
        })
    }

    /// An engine for a unit test: a small cache, no syncs.
    #[cfg(test)]
    pub(crate) fn scratch(path: &Path) -> Self {
        Self::open(
            path,
            1 << 20,
            Durability::Buffered,
            #[cfg(feature = "failpoints")]
            std::sync::Arc::default(),
        )
        .expect("open a scratch sled engine")
    }

    /// Whether `path` holds a sled database (without creating one).
    pub(crate) fn exists(path: &Path) -> bool {
        path.join("db").exists()
    }

    fn barrier(&self) -> MutexGuard<'_, Barrier> {
        self.barrier.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn last(&self) -> MutexGuard<'_, (Head, u32)> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The legacy read: content of store format 1, in `C` chunks by hash.
    fn chunks(&self, hash: ContentHash) -> Result<Option<Vec<u8>>> {
        let mut prefix = vec![schema::CHUNK];
        prefix.extend_from_slice(hash.as_bytes());
        let mut out = Vec::new();
        let mut chunks = 0u32;
        for item in self.db.scan_prefix(&prefix) {
            let (key, chunk) = item.map_err(sled_error("read content"))?;
            // Chunks are numbered from 0 with no gap: a missing one is corruption, not
            // a shorter content.
            if key != keys::chunk(hash, chunks).as_slice() {
                return Err(Error::corrupted(
                    None,
                    format!("content {hash}: chunk {chunks} is missing"),
                ));
            }
            out.extend_from_slice(&chunk);
            chunks += 1;
        }
        Ok((chunks > 0).then_some(out))
    }
}

impl Engine for SledEngine {
    fn is_empty(&self) -> Result<bool> {
        Ok(self.db.is_empty())
    }

    fn meta(&self, which: Meta) -> Result<Option<Value>> {
        Ok(self
            .db
            .get(meta_key(which))
            .map_err(sled_error("read meta"))?
            .map(Value))
    }

    fn set_meta(&self, changes: &[(Meta, Option<&[u8]>)]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (which, value) in changes {
            match value {
                Some(v) => batch.insert(meta_key(*which), *v),
                None => batch.remove(meta_key(*which)),
            }
        }
        self.db.apply_batch(batch).map_err(sled_error("write meta"))
    }

    fn head(&self) -> Result<Head> {
        read_head(&self.db)
    }

    fn last_position(&self) -> Result<Option<Position>> {
        let last = self
            .db
            .scan_prefix([schema::LOG])
            .next_back()
            .transpose()
            .map_err(sled_error("read log"))?;
        match last {
            None => Ok(None),
            Some((key, _)) => keys::log_position(&key)
                .map(Some)
                .ok_or_else(|| Error::corrupted(None, "malformed log key")),
        }
    }

    fn append(&self, expected: Head, group: &Group<'_>) -> Result<Vec<Vec<u8>>> {
        let mut last = self.last();
        let (head, batch) = *last;
        if head != expected {
            return Err(Error::Engine(format!(
                "the stored head is at position {}, not at {} as the writer expected: nothing appended",
                head.position, expected.position
            )));
        }
        let segment = match group.records.first() {
            Some((first, _)) => Segment {
                first: first.get(),
                batch: 0,
            },
            None => Segment {
                first: 0,
                batch: batch + 1,
            },
        };
        // Invariant C3: the group's records, content and head are one batch of one
        // tree, so sled applies all of them or none after a crash.
        let mut batch = sled::Batch::default();
        let locations = pack(&mut batch, segment, &group.contents);
        for (position, value) in &group.records {
            batch.insert(&keys::log(*position)[..], value.as_slice());
        }
        let encoded = codec::encode_value(&group.head)
            .map_err(|e| Error::corrupted(None, format!("encode head: {e}")))?;
        batch.insert(schema::META_HEAD, encoded);
        self.db
            .apply_batch(batch)
            .map_err(sled_error("write group"))?;
        last.0 = group.head;
        if group.records.is_empty() && !group.contents.is_empty() {
            last.1 = segment.batch;
        }
        Ok(locations)
    }

    fn log_from(&self, from: Position) -> LogIter<'_> {
        Box::new(
            self.db
                .range(keys::log(from)..)
                .take_while(|item| {
                    item.as_ref()
                        .map_or(true, |(key, _)| key.first() == Some(&schema::LOG))
                })
                .map(|item| {
                    let (key, value) = item.map_err(sled_error("read log"))?;
                    let position = keys::log_position(&key)
                        .ok_or_else(|| Error::corrupted(None, "malformed log key"))?;
                    Ok((position, Value(value)))
                }),
        )
    }

    fn record(&self, at: Position) -> Result<Option<Value>> {
        Ok(self
            .db
            .get(keys::log(at))
            .map_err(sled_error("read log"))?
            .map(Value))
    }

    fn content(&self, hash: ContentHash, len: u64, location: &[u8]) -> Result<Option<Vec<u8>>> {
        if len == 0 {
            return Ok(Some(Vec::new()));
        }
        if location.is_empty() {
            return self.chunks(hash);
        }
        let (segment, offset) = Segment::parse_location(location)
            .ok_or_else(|| Error::corrupted(None, format!("content {hash}: malformed location")))?;
        let part_len = schema::CHUNK_LEN as u64;
        let (first, last) = (offset / part_len, (offset + len - 1) / part_len);
        let (Ok(first), Ok(last)) = (u32::try_from(first), u32::try_from(last)) else {
            return Err(Error::corrupted(
                None,
                format!("content {hash}: location out of range"),
            ));
        };
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        let mut next = first;
        for item in self
            .db
            .range(segment.part(schema::PACKED, first)..=segment.part(schema::PACKED, last))
        {
            let (key, part) = item.map_err(sled_error("read content"))?;
            if key != segment.part(schema::PACKED, next).as_slice() {
                return Err(Error::corrupted(
                    None,
                    format!("content {hash}: part {next} of its segment is missing"),
                ));
            }
            bytes.extend_from_slice(&part);
            next += 1;
        }
        if next == first {
            return Ok(None);
        }
        if next != last + 1 {
            return Err(Error::corrupted(
                None,
                format!("content {hash}: part {next} of its segment is missing"),
            ));
        }
        // The content's bytes within the parts read.
        let skip = usize::try_from(offset - u64::from(first) * part_len).unwrap_or(usize::MAX);
        let end = skip.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        match bytes.get(skip..end) {
            Some(content) => Ok(Some(content.to_vec())),
            None => Err(Error::corrupted(
                None,
                format!("content {hash}: its segment ends before it does"),
            )),
        }
    }

    fn contents_from(&self, from: u64) -> LocatedIter<'_> {
        let start = Segment {
            first: from,
            batch: 0,
        }
        .part(schema::PACKED_INDEX, 0);
        Box::new(
            self.db
                .range(start..)
                .take_while(|item| {
                    item.as_ref()
                        .map_or(true, |(key, _)| key.first() == Some(&schema::PACKED_INDEX))
                })
                .flat_map(|item| {
                    let entries: Vec<Result<Located>> = match item {
                        Err(e) => vec![Err(sled_error("read content index")(e))],
                        Ok((key, value)) => index_entries(&key, &value),
                    };
                    entries
                }),
        )
    }

    fn sync(&self, mode: Durability) -> Result<()> {
        self.barrier().sync_as(&self.db, mode)
    }

    fn checkpoint_head(&self) -> Result<Head> {
        match self
            .db
            .get(schema::META_APPLIED)
            .map_err(sled_error("read checkpoint marker"))?
        {
            None => Ok(Head::EMPTY),
            Some(bytes) => codec::decode_value(&bytes)
                .map_err(|e| Error::corrupted(None, format!("checkpoint marker: {e}"))),
        }
    }

    fn checkpoint(&self) -> Result<Map> {
        segments::read(&self.db)
    }

    fn write_checkpoint(&self, changes: &Writes, covers: Head) -> Result<()> {
        let marker = codec::encode_value(&covers)
            .map_err(|e| Error::corrupted(None, format!("encode checkpoint marker: {e}")))?;
        self.write_segments(|state, batch| {
            let after = state.add(&self.db, batch, changes)?;
            // K1: the entries and the marker, in one batch.
            batch.insert(schema::META_APPLIED, marker);
            batch.insert(schema::META_PROJECTION_FORMAT, &[schema::PROJECTION_FORMAT]);
            batch.remove(schema::META_REBUILDING);
            Ok(after)
        })
    }

    fn write_checkpoint_part(&self, changes: &Writes) -> Result<()> {
        self.write_segments(|state, batch| state.add(&self.db, batch, changes))
    }
}

impl SledEngine {
    /// Rewrites the stored checkpoint as `edit` leaves it, as one segment, keeping the
    /// marker (for tests: `crate::store::edit_checkpoint`).
    pub(crate) fn edit_checkpoint(&self, edit: impl FnOnce(&mut Map)) -> Result<()> {
        let mut entries = segments::read(&self.db)?;
        edit(&mut entries);
        self.write_segments(|state, batch| state.replace(&self.db, batch, &entries))
    }

    /// Applies, as one batch, what `write` puts into it, and keeps the segments' state
    /// it returns once the batch is applied.
    fn write_segments(
        &self,
        write: impl FnOnce(&Segments, &mut sled::Batch) -> Result<Segments>,
    ) -> Result<()> {
        let mut state = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        let mut batch = sled::Batch::default();
        let after = write(&state, &mut batch)?;
        self.db
            .apply_batch(batch)
            .map_err(sled_error("write checkpoint"))?;
        *state = after;
        Ok(())
    }
}

/// A segment of packed content: the position of its group's first record (0 for
/// contents stored without records) and a batch number (0 for a group's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    first: u64,
    batch: u32,
}

/// Index entries per index part: 85 of 48 bytes fit in a part.
const INDEX_ENTRIES_PER_PART: usize = schema::CHUNK_LEN / INDEX_ENTRY;
/// An index entry: sha256, length (u64 BE), offset in the segment (u64 BE).
const INDEX_ENTRY: usize = 48;

impl Segment {
    /// `prefix` + first + batch + part: a part of the segment (`P`) or of its index (`Q`).
    fn part(self, prefix: u8, part: u32) -> [u8; 17] {
        let mut key = [0u8; 17];
        key[0] = prefix;
        key[1..9].copy_from_slice(&self.first.to_be_bytes());
        key[9..13].copy_from_slice(&self.batch.to_be_bytes());
        key[13..].copy_from_slice(&part.to_be_bytes());
        key
    }

    /// The segment and part a key of `P` or `Q` names.
    fn of_key(key: &[u8]) -> Option<(Self, u32)> {
        let key: &[u8; 17] = key.try_into().ok()?;
        let first = u64::from_be_bytes(key[1..9].try_into().ok()?);
        let batch = u32::from_be_bytes(key[9..13].try_into().ok()?);
        let part = u32::from_be_bytes(key[13..].try_into().ok()?);
        Some((Self { first, batch }, part))
    }

    /// A content's location: the segment and the offset of its first byte.
    fn location(self, offset: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        out.extend_from_slice(&self.first.to_be_bytes());
        out.extend_from_slice(&self.batch.to_be_bytes());
        out.extend_from_slice(&offset.to_be_bytes());
        out
    }

    fn parse_location(location: &[u8]) -> Option<(Self, u64)> {
        let location: &[u8; 20] = location.try_into().ok()?;
        let first = u64::from_be_bytes(location[..8].try_into().ok()?);
        let batch = u32::from_be_bytes(location[8..12].try_into().ok()?);
        let offset = u64::from_be_bytes(location[12..].try_into().ok()?);
        Some((Self { first, batch }, offset))
    }
}

/// Adds the segment of `contents` (parts and index) to `batch`; returns each content's
/// location.
fn pack(
    batch: &mut sled::Batch,
    segment: Segment,
    contents: &[(ContentHash, &[u8])],
) -> Vec<Vec<u8>> {
    if contents.is_empty() {
        return Vec::new();
    }
    let total: usize = contents.iter().map(|(_, b)| b.len()).sum();
    let mut bytes = Vec::with_capacity(total);
    let mut index = Vec::with_capacity(contents.len() * INDEX_ENTRY);
    let mut locations = Vec::with_capacity(contents.len());
    for (hash, content) in contents {
        let offset = bytes.len() as u64;
        bytes.extend_from_slice(content);
        index.extend_from_slice(hash.as_bytes());
        index.extend_from_slice(&(content.len() as u64).to_be_bytes());
        index.extend_from_slice(&offset.to_be_bytes());
        locations.push(segment.location(offset));
    }
    for (part, piece) in (0u32..).zip(bytes.chunks(schema::CHUNK_LEN)) {
        batch.insert(&segment.part(schema::PACKED, part)[..], piece);
    }
    for (part, piece) in (0u32..).zip(index.chunks(INDEX_ENTRIES_PER_PART * INDEX_ENTRY)) {
        batch.insert(&segment.part(schema::PACKED_INDEX, part)[..], piece);
    }
    locations
}

/// The contents an index part lists, with their locations.
fn index_entries(key: &[u8], value: &[u8]) -> Vec<Result<Located>> {
    let malformed = || {
        vec![Err(Error::corrupted(
            None,
            "malformed packed content index",
        ))]
    };
    let Some((segment, _)) = Segment::of_key(key) else {
        return malformed();
    };
    if !value.len().is_multiple_of(INDEX_ENTRY) {
        return malformed();
    }
    value
        .chunks_exact(INDEX_ENTRY)
        .map(|entry| {
            let hash: [u8; 32] = entry[..32].try_into().unwrap_or([0; 32]);
            let len = u64::from_be_bytes(entry[32..40].try_into().unwrap_or([0; 8]));
            let offset = u64::from_be_bytes(entry[40..].try_into().unwrap_or([0; 8]));
            Ok((ContentHash::from_bytes(hash), len, segment.location(offset)))
        })
        .collect()
}

/// The batch number of the last segment stored without records (0 if none).
fn last_batch(db: &sled::Db) -> Result<u32> {
    let start = Segment { first: 0, batch: 0 }.part(schema::PACKED_INDEX, 0);
    let end = Segment { first: 1, batch: 0 }.part(schema::PACKED_INDEX, 0);
    let last = db
        .range(start..end)
        .next_back()
        .transpose()
        .map_err(sled_error("read content index"))?;
    Ok(last
        .and_then(|(key, _)| Segment::of_key(&key))
        .map_or(0, |(segment, _)| segment.batch))
}

fn meta_key(which: Meta) -> &'static [u8] {
    match which {
        Meta::Format => schema::META_FORMAT,
        Meta::ProjectionFormat => schema::META_PROJECTION_FORMAT,
        Meta::Rebuilding => schema::META_REBUILDING,
    }
}

fn read_head(db: &sled::Db) -> Result<Head> {
    match db.get(schema::META_HEAD).map_err(sled_error("read head"))? {
        None => Ok(Head::EMPTY),
        Some(bytes) => codec::decode_value(&bytes)
            .map_err(|e| Error::corrupted(None, format!("chain head: {e}"))),
    }
}

fn open_locked(path: &Path, cache_capacity: u64) -> Result<sled::Db> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(path)
            .cache_capacity(cache_capacity)
            .flush_every_ms(Some(500))
            .open();
        match opened {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if io.to_string().contains("could not acquire lock") => {
                if Instant::now() >= deadline {
                    return Err(Error::Locked {
                        path: PathBuf::from(path),
                    });
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(other) => return Err(sled_error("open sled")(other)),
        }
    }
}

/// sled's error as the store's: plain I/O stays I/O, the rest is the engine's.
pub(super) fn sled_error(context: &'static str) -> impl FnOnce(sled::Error) -> Error {
    move |e| match e {
        sled::Error::Io(source) => Error::Io { context, source },
        other => Error::Engine(format!("{context}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect()
    }

    fn head(position: u64) -> Head {
        Head {
            position,
            hash: [u8::try_from(position % 256).unwrap(); 32],
        }
    }

    /// A group of one record at `position` bringing `contents`.
    fn group<'a>(position: u64, contents: &[&'a [u8]]) -> Group<'a> {
        Group {
            records: vec![(Position::new(position), position.to_be_bytes().to_vec())],
            contents: contents.iter().map(|c| (ContentHash::of(c), *c)).collect(),
            head: head(position),
        }
    }

    /// A scratch engine whose first group (at position 1) brought `content`, and its
    /// location.
    fn holding(content: &[u8]) -> (tempfile::TempDir, SledEngine, ContentHash, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let location = engine.append(Head::EMPTY, &group(1, &[content])).unwrap();
        let location = location.into_iter().next().unwrap();
        (dir, engine, ContentHash::of(content), location)
    }

    #[test]
    fn a_groups_contents_are_packed_end_to_end_and_each_reads_whole_from_its_location() {
        // ADR 0003: no value reaches sled's blob threshold. The group's contents are
        // one segment in parts under sequential keys, plus its index.
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let (small, large, empty) = (bytes(100), bytes(3 * schema::CHUNK_LEN + 5), Vec::new());
        let contents = [&small[..], &large, &empty];
        let locations = engine.append(Head::EMPTY, &group(1, &contents)).unwrap();
        assert_eq!(locations.len(), 3);
        for (content, location) in contents.iter().zip(&locations) {
            let hash = ContentHash::of(content);
            let read = engine
                .content(hash, content.len() as u64, location)
                .unwrap();
            assert_eq!(read.as_deref(), Some(*content));
        }
        let segment = Segment { first: 1, batch: 0 };
        let parts: Vec<_> = engine
            .db
            .scan_prefix([schema::PACKED])
            .map(|item| item.unwrap().0.to_vec())
            .collect();
        let expected: Vec<_> = (0..4)
            .map(|p| segment.part(schema::PACKED, p).to_vec())
            .collect();
        assert_eq!(parts, expected, "100 + 3 * 4096 + 5 bytes in four parts");
        assert!(
            parts
                .iter()
                .all(|k| engine.db.get(k).unwrap().unwrap().len() <= schema::CHUNK_LEN)
        );
        // The index gives the same locations, without the bytes.
        let listed: Vec<Located> = engine.contents_from(0).map(Result::unwrap).collect();
        let expected: Vec<Located> = contents
            .iter()
            .zip(locations)
            .map(|(c, l)| (ContentHash::of(c), c.len() as u64, l))
            .collect();
        assert_eq!(listed, expected);
        assert_eq!(
            engine.contents_from(2).count(),
            0,
            "no group from position 2 on"
        );
    }

    #[test]
    fn a_missing_part_is_corruption_not_a_shorter_content() {
        // E7: a content is stored whole or reported.
        let content = vec![7u8; 3 * schema::CHUNK_LEN];
        let (_dir, engine, hash, location) = holding(&content);
        let segment = Segment { first: 1, batch: 0 };
        engine.db.remove(segment.part(schema::PACKED, 1)).unwrap();
        let err = engine
            .content(hash, content.len() as u64, &location)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(
            err.to_string().contains("part 1 of its segment is missing"),
            "{err}"
        );
        // A segment with no part left is content not stored.
        for part in [0, 2] {
            engine
                .db
                .remove(segment.part(schema::PACKED, part))
                .unwrap();
        }
        assert_eq!(
            engine
                .content(hash, content.len() as u64, &location)
                .unwrap(),
            None
        );
    }

    #[test]
    fn content_whose_bytes_changed_is_refused_on_read() {
        // E7: reading verifies the sha256.
        let (_dir, engine, hash, location) = holding(b"the stored bytes");
        let part = Segment { first: 1, batch: 0 }.part(schema::PACKED, 0);
        engine.db.insert(part, &b"the Stored bytes"[..]).unwrap();
        let header = crate::content::header(16, &location);
        let err = crate::content::read_at(&engine, hash, &header).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.to_string().contains("do not hash"), "{err}");
    }

    #[test]
    fn content_of_store_format_1_reads_from_its_chunks_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let content = bytes(3 * schema::CHUNK_LEN + 5);
        let hash = ContentHash::of(&content);
        for (index, chunk) in (0u32..).zip(content.chunks(schema::CHUNK_LEN)) {
            engine.db.insert(keys::chunk(hash, index), chunk).unwrap();
        }
        let len = content.len() as u64;
        assert_eq!(engine.content(hash, len, &[]).unwrap(), Some(content));
        let absent = ContentHash::of(b"never stored");
        assert_eq!(engine.content(absent, 12, &[]).unwrap(), None);
        engine.db.remove(keys::chunk(hash, 1)).unwrap();
        let err = engine.content(hash, len, &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.to_string().contains("chunk 1 is missing"), "{err}");
    }

    #[test]
    fn the_empty_content_needs_no_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let empty = ContentHash::of(&[]);
        assert_eq!(engine.content(empty, 0, &[]).unwrap(), Some(Vec::new()));
    }

    #[test]
    fn contents_stored_without_records_go_to_position_0_in_numbered_batches() {
        // An import stores contents apart from the records naming them: each batch is a
        // segment of its own, numbered on across a reopen.
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (bytes(10), bytes(20));
        let only = |content: &[u8]| -> Vec<(ContentHash, Vec<u8>)> {
            vec![(ContentHash::of(content), content.to_vec())]
        };
        for content in [&a, &b] {
            let engine = SledEngine::scratch(dir.path());
            let owned = only(content);
            let group = Group {
                records: Vec::new(),
                contents: owned.iter().map(|(h, c)| (*h, c.as_slice())).collect(),
                head: Head::EMPTY,
            };
            engine.append(Head::EMPTY, &group).unwrap();
        }
        let engine = SledEngine::scratch(dir.path());
        let listed: Vec<_> = engine.contents_from(0).map(Result::unwrap).collect();
        assert_eq!(listed.len(), 2);
        for ((hash, len, location), (batch, content)) in listed.iter().zip([(1, &a), (2, &b)]) {
            assert_eq!(*hash, ContentHash::of(content));
            assert_eq!(
                Segment::parse_location(location),
                Some((Segment { first: 0, batch }, 0))
            );
            assert_eq!(
                engine.content(*hash, *len, location).unwrap().as_ref(),
                Some(content)
            );
        }
    }

    #[test]
    fn a_group_is_refused_and_nothing_written_when_the_head_is_not_the_expected_one() {
        // The compare on the head (D5): the group names the head it follows.
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        engine.append(Head::EMPTY, &group(1, &[b"c"])).unwrap();
        let err = engine.append(Head::EMPTY, &group(2, &[b"d"])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Engine);
        assert_eq!(engine.head().unwrap(), head(1));
        assert_eq!(engine.last_position().unwrap(), Some(Position::new(1)));
        assert_eq!(
            engine.contents_from(0).count(),
            1,
            "the refused group's content"
        );
        engine.append(head(1), &group(2, &[b"d"])).unwrap();
        assert_eq!(engine.head().unwrap(), head(2));
        let log: Vec<_> = engine
            .log_from(Position::FIRST)
            .map(|r| r.unwrap().0.get())
            .collect();
        assert_eq!(log, [1, 2]);
    }

    #[test]
    fn a_checkpoint_is_its_entries_and_marker_and_ends_a_rebuild() {
        // K1: the entries and the marker together; the checkpoint holds only
        // projection entries and content headers, in key order.
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        engine
            .set_meta(&[(Meta::Rebuilding, Some(&[1u8]))])
            .unwrap();
        let writes = |pairs: &[(&[u8], Option<&[u8]>)]| -> Writes {
            pairs
                .iter()
                .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
                .collect()
        };
        engine
            .write_checkpoint_part(&writes(&[(b"v2", Some(b"y")), (b"a1", Some(b"x"))]))
            .unwrap();
        assert_eq!(engine.checkpoint_head().unwrap(), Head::EMPTY);
        assert!(engine.meta(Meta::Rebuilding).unwrap().is_some());
        let covers = Head {
            position: 7,
            hash: [7; 32],
        };
        engine
            .write_checkpoint(&writes(&[(b"a1", None), (b"c9", Some(b"8"))]), covers)
            .unwrap();
        assert_eq!(engine.checkpoint_head().unwrap(), covers);
        assert!(engine.meta(Meta::Rebuilding).unwrap().is_none());
        assert_eq!(
            engine.meta(Meta::ProjectionFormat).unwrap().as_deref(),
            Some(&[schema::PROJECTION_FORMAT][..])
        );
        let entries: Vec<(Vec<u8>, Vec<u8>)> = engine.checkpoint().unwrap().into_iter().collect();
        assert_eq!(
            entries,
            [
                (b"c9".to_vec(), b"8".to_vec()),
                (b"v2".to_vec(), b"y".to_vec())
            ]
        );
    }

    #[test]
    fn a_compaction_leaves_one_segment_without_legacy_entries_and_the_same_checkpoint() {
        // Store format 3: entries an older store kept under their own keys read beneath
        // the segments, and the first compaction folds both into one segment.
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        engine.db.insert(b"vlegacy", b"old".as_slice()).unwrap();
        engine.db.insert(b"sgone", b"old".as_slice()).unwrap();
        let big = vec![7u8; 1 << 20];
        let mut expected = Map::new();
        expected.insert(b"vlegacy".to_vec(), b"old".to_vec());
        let segments_stored = |engine: &SledEngine| {
            let mut numbers: Vec<_> = engine
                .db
                .scan_prefix([schema::CHECKPOINT])
                .keys()
                .map(|k| k.unwrap()[1..9].to_vec())
                .collect();
            numbers.dedup();
            numbers.len()
        };
        let mut n = 0u8;
        loop {
            let mut writes = Writes::new();
            writes.insert(vec![b'v', n], Some(big.clone()));
            writes.insert(b"sgone".to_vec(), None);
            engine
                .write_checkpoint(&writes, head(u64::from(n)))
                .unwrap();
            expected.insert(vec![b'v', n], big.clone());
            n += 1;
            // Each write adds a segment, until one compacts them all into one.
            if segments_stored(&engine) < usize::from(n) {
                break;
            }
            assert!(n < 20, "no compaction after {n} writes");
        }
        // The write that crossed the threshold was a compaction, after 4 MiB and more
        // than the first segment.
        assert!(u64::from(n) > segments::COMPACT_AFTER >> 20, "{n}");
        assert_eq!(segments_stored(&engine), 1);
        assert!(engine.db.get(b"vlegacy").unwrap().is_none());
        let got = engine.checkpoint().unwrap();
        assert_eq!(got, expected);
        assert_eq!(engine.checkpoint_head().unwrap(), head(u64::from(n - 1)));
        // Counted again at open, the state is what the engine kept.
        assert_eq!(
            Segments::count(&engine.db).unwrap(),
            *engine.segments.lock().unwrap()
        );
    }
}
