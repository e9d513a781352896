//! The engine on sled 0.34.7: everything in sled's default tree, keys as
//! docs/design/event-log.md lays them out (`log::keys`, `log::schema`).
//!
//! A group is one `apply_batch` (records, content chunks, head: C3), a checkpoint
//! another (its entries and the `applied` marker: K1), and the barrier is
//! [`barrier::Barrier`] (sled's `flush()` is not a durable sync, D4).

mod barrier;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use verso_domain::{ContentHash, Position};

use super::{Engine, EntryIter, Group, LogIter, Meta};
use crate::error::{Error, Result};
#[cfg(feature = "failpoints")]
use crate::failpoints::Failpoints;
use crate::log::{Head, codec, keys, schema};
use crate::options::Durability;
use crate::projections::overlay::Writes;
use barrier::Barrier;

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

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
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
    /// The head of the last group appended (or stored at open): what `append` compares.
    head: Mutex<Head>,
    /// The barrier's state; only the writer (and open, rebuild, close on its behalf)
    /// syncs, so this lock is never contended.
    barrier: Mutex<Barrier>,
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
        let barrier = Barrier::new(
            path,
            mode,
            #[cfg(feature = "failpoints")]
            failpoints,
        )?;
        Ok(Self {
            db,
            head: Mutex::new(head),
            barrier: Mutex::new(barrier),
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

    fn last_head(&self) -> MutexGuard<'_, Head> {
        self.head.lock().unwrap_or_else(PoisonError::into_inner)
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

    fn append(&self, expected: Head, group: &Group<'_>) -> Result<()> {
        let mut head = self.last_head();
        if *head != expected {
            return Err(Error::Engine(format!(
                "the stored head is at position {}, not at {} as the writer expected: nothing appended",
                head.position, expected.position
            )));
        }
        // Invariant C3: the group's records, content chunks and head are one batch of
        // one tree, so sled applies all of them or none after a crash.
        let mut batch = sled::Batch::default();
        for (hash, bytes) in &group.contents {
            for (index, chunk) in (0u32..).zip(bytes.chunks(schema::CHUNK_LEN)) {
                batch.insert(&keys::chunk(*hash, index)[..], chunk);
            }
        }
        for (position, value) in &group.records {
            batch.insert(&keys::log(*position)[..], value.as_slice());
        }
        let encoded = codec::encode_value(&group.head)
            .map_err(|e| Error::corrupted(None, format!("encode head: {e}")))?;
        batch.insert(schema::META_HEAD, encoded);
        self.db
            .apply_batch(batch)
            .map_err(sled_error("write group"))?;
        *head = group.head;
        Ok(())
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

    fn content(&self, hash: ContentHash) -> Result<Option<Vec<u8>>> {
        if hash == ContentHash::of(&[]) {
            return Ok(Some(Vec::new()));
        }
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

    fn has_content(&self, hash: ContentHash) -> Result<bool> {
        if hash == ContentHash::of(&[]) {
            return Ok(true);
        }
        self.db
            .contains_key(keys::chunk(hash, 0))
            .map_err(sled_error("read content"))
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

    fn checkpoint(&self) -> EntryIter<'_> {
        // The keyspaces are disjoint and scanned in ascending order, so the entries come
        // in key order.
        let mut prefixes = schema::PROJECTION_PREFIXES.to_vec();
        prefixes.push(schema::CONTENT);
        prefixes.sort_unstable();
        Box::new(prefixes.into_iter().flat_map(move |prefix| {
            self.db.scan_prefix([prefix]).map(|item| {
                let (key, value) = item.map_err(sled_error("read checkpoint"))?;
                Ok((Value(key), Value(value)))
            })
        }))
    }

    fn write_checkpoint(&self, changes: &Writes, covers: Head) -> Result<()> {
        let marker = codec::encode_value(&covers)
            .map_err(|e| Error::corrupted(None, format!("encode checkpoint marker: {e}")))?;
        let mut batch = batch_of(changes);
        // K1: the entries and the marker, in one batch.
        batch.insert(schema::META_APPLIED, marker);
        batch.insert(schema::META_PROJECTION_FORMAT, &[schema::PROJECTION_FORMAT]);
        batch.remove(schema::META_REBUILDING);
        self.db
            .apply_batch(batch)
            .map_err(sled_error("write checkpoint"))
    }

    fn write_checkpoint_part(&self, changes: &Writes) -> Result<()> {
        self.db
            .apply_batch(batch_of(changes))
            .map_err(sled_error("write checkpoint"))
    }
}

fn batch_of(changes: &Writes) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (key, value) in changes {
        match value {
            Some(v) => batch.insert(key.as_slice(), v.as_slice()),
            None => batch.remove(key.as_slice()),
        }
    }
    batch
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

    /// A scratch engine holding `content` (appended by a group without records).
    fn holding(content: &[u8]) -> (tempfile::TempDir, SledEngine, ContentHash) {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let hash = ContentHash::of(content);
        let group = Group {
            records: Vec::new(),
            contents: vec![(hash, content)],
            head: Head::EMPTY,
        };
        engine.append(Head::EMPTY, &group).unwrap();
        (dir, engine, hash)
    }

    #[test]
    fn content_is_stored_in_chunks_and_reads_whole() {
        // ADR 0003: no value reaches sled's blob threshold; reading needs no header.
        let bytes: Vec<u8> = (0..3 * schema::CHUNK_LEN + 5)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let (_dir, engine, hash) = holding(&bytes);
        assert!(engine.db.get(keys::chunk(hash, 3)).unwrap().is_some());
        assert!(engine.db.get(keys::chunk(hash, 4)).unwrap().is_none());
        assert_eq!(crate::content::read(&engine, hash).unwrap(), Some(bytes));
        assert!(engine.has_content(hash).unwrap());
        let absent = ContentHash::of(b"never stored");
        assert_eq!(engine.content(absent).unwrap(), None);
        assert!(!engine.has_content(absent).unwrap());
    }

    #[test]
    fn a_missing_middle_chunk_is_corruption_not_a_shorter_content() {
        // E7: a content is stored whole or reported.
        let (_dir, engine, hash) = holding(&vec![7u8; 3 * schema::CHUNK_LEN]);
        engine.db.remove(keys::chunk(hash, 1)).unwrap();
        let err = engine.content(hash).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.to_string().contains("chunk 1 is missing"), "{err}");
    }

    #[test]
    fn content_whose_bytes_changed_is_refused_on_read() {
        // E7: reading verifies the sha256.
        let (_dir, engine, hash) = holding(b"the stored bytes");
        engine
            .db
            .insert(keys::chunk(hash, 0), &b"other bytes"[..])
            .unwrap();
        let err = crate::content::read(&engine, hash).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted);
        assert!(err.to_string().contains("do not hash"), "{err}");
    }

    #[test]
    fn the_empty_content_needs_no_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let empty = ContentHash::of(&[]);
        assert_eq!(engine.content(empty).unwrap(), Some(Vec::new()));
        assert!(engine.has_content(empty).unwrap());
    }

    #[test]
    fn a_group_is_refused_and_nothing_written_when_the_head_is_not_the_expected_one() {
        // The compare on the head (D5): the group names the head it follows.
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::scratch(dir.path());
        let first = Head {
            position: 1,
            hash: [1; 32],
        };
        let group = |position: u64, head: Head| Group {
            records: vec![(Position::new(position), position.to_be_bytes().to_vec())],
            contents: vec![(ContentHash::of(b"c"), &b"c"[..])],
            head,
        };
        engine.append(Head::EMPTY, &group(1, first)).unwrap();
        let second = Head {
            position: 2,
            hash: [2; 32],
        };
        let err = engine.append(Head::EMPTY, &group(2, second)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Engine);
        assert_eq!(engine.head().unwrap(), first);
        assert_eq!(engine.last_position().unwrap(), Some(Position::new(1)));
        engine.append(first, &group(2, second)).unwrap();
        assert_eq!(engine.head().unwrap(), second);
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
        let entries: Vec<(Vec<u8>, Vec<u8>)> = engine
            .checkpoint()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        assert_eq!(
            entries,
            [
                (b"c9".to_vec(), b"8".to_vec()),
                (b"v2".to_vec(), b"y".to_vec())
            ]
        );
    }
}
