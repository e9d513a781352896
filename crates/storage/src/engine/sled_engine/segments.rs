//! The checkpoint as segments (store format 3): each checkpoint write is one *segment*,
//! its change set (puts and deletes, in key order) encoded end to end and cut into parts
//! of at most [`schema::CHUNK_LEN`] bytes under sequential keys (`K` + segment number
//! u64 BE + part u32 BE).
//!
//! A checkpoint used to be one sled key per projection entry, at the place its key
//! sorts to: about three random inserts per version, which cost the checkpointer more
//! CPU than the writer spent on the versions, and which it made under sled's
//! process-wide batch lock, stalling the writer's appends (docs/performance.md). A
//! segment is a few large sequential values instead.
//!
//! The stored checkpoint is the fold of the segments in number order over any entries
//! a store of format 2 or older left under their own keys (*legacy* entries). When the
//! segments after the first outweigh the first (and at least [`COMPACT_AFTER`] bytes),
//! the next checkpoint write is a *compaction*: the whole checkpoint as one new segment,
//! with every older segment and legacy entry removed, in the same batch. So what is
//! stored stays within about twice the checkpoint's size, and each byte of change is
//! rewritten about once.

use super::sled_error;
use crate::error::{Error, Result};
use crate::log::schema;
use crate::projections::overlay::Writes;
use crate::projections::{Map, apply_writes};

/// Bytes of segments after the first below which no compaction is made.
pub(super) const COMPACT_AFTER: u64 = 4 << 20;

/// Where the segments stand: kept by the engine, counted at open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Segments {
    /// The number the next segment gets.
    pub(super) next: u64,
    /// Bytes of the first segment stored (the last compaction's, or the first written).
    pub(super) first_bytes: u64,
    /// Bytes of the segments after it.
    pub(super) rest_bytes: u64,
}

impl Segments {
    /// Counts the stored segments.
    pub(super) fn count(db: &sled::Db) -> Result<Self> {
        let mut counted = Self {
            next: 1,
            ..Self::default()
        };
        let mut first = None;
        for item in db.scan_prefix([schema::CHECKPOINT]) {
            let (key, value) = item.map_err(sled_error("read checkpoint"))?;
            let (number, _) = parse_key(&key)?;
            let bytes = value.len() as u64;
            if *first.get_or_insert(number) == number {
                counted.first_bytes += bytes;
            } else {
                counted.rest_bytes += bytes;
            }
            counted.next = number + 1;
        }
        Ok(counted)
    }

    /// Whether writing `bytes` more as a segment should be a compaction instead.
    fn compaction_due(&self, bytes: u64) -> bool {
        let rest = self.rest_bytes + bytes;
        rest > COMPACT_AFTER && rest > self.first_bytes
    }

    /// Puts into `batch` the checkpoint write of `changes`: the next segment, or, when a
    /// compaction is due, the whole checkpoint after them ([`Segments::replace`]).
    /// Returns where the segments stand once `batch` is applied.
    pub(super) fn add(
        &self,
        db: &sled::Db,
        batch: &mut sled::Batch,
        changes: &Writes,
    ) -> Result<Self> {
        let delta = encode(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))?;
        let bytes = delta.len() as u64;
        if self.compaction_due(bytes) {
            let mut whole = read(db)?;
            apply_writes(&mut whole, changes);
            return self.replace(db, batch, &whole);
        }
        put(batch, self.next, &delta)?;
        // A store without segments gets its first here.
        let (first_bytes, rest_bytes) = if self.first_bytes == 0 {
            (bytes, 0)
        } else {
            (self.first_bytes, self.rest_bytes + bytes)
        };
        Ok(Self {
            next: self.next + 1,
            first_bytes,
            rest_bytes,
        })
    }

    /// Puts into `batch` `entries` as the whole checkpoint, one segment, and the removal
    /// of every segment and legacy entry stored. Returns where the segments stand once
    /// `batch` is applied.
    pub(super) fn replace(
        &self,
        db: &sled::Db,
        batch: &mut sled::Batch,
        entries: &Map,
    ) -> Result<Self> {
        let whole = encode(
            entries
                .iter()
                .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
        )?;
        remove_all(db, batch)?;
        put(batch, self.next, &whole)?;
        Ok(Self {
            next: self.next + 1,
            first_bytes: whole.len() as u64,
            rest_bytes: 0,
        })
    }
}

/// A part's key: `K` + segment number + part number.
fn key(number: u64, part: u32) -> [u8; 13] {
    let mut key = [0u8; 13];
    key[0] = schema::CHECKPOINT;
    key[1..9].copy_from_slice(&number.to_be_bytes());
    key[9..13].copy_from_slice(&part.to_be_bytes());
    key
}

fn parse_key(key: &[u8]) -> Result<(u64, u32)> {
    let malformed = || Error::corrupted(None, "malformed checkpoint key");
    let number = key.get(1..9).ok_or_else(malformed)?;
    let part = key
        .get(9..13)
        .filter(|_| key.len() == 13)
        .ok_or_else(malformed)?;
    Ok((
        u64::from_be_bytes(number.try_into().map_err(|_| malformed())?),
        u32::from_be_bytes(part.try_into().map_err(|_| malformed())?),
    ))
}

/// Puts the parts of `encoded` as segment `number` into `batch`.
fn put(batch: &mut sled::Batch, number: u64, encoded: &[u8]) -> Result<()> {
    for (part, bytes) in encoded.chunks(schema::CHUNK_LEN).enumerate() {
        let part = u32::try_from(part)
            .map_err(|_| Error::corrupted(None, "a checkpoint segment of over 2^32 parts"))?;
        batch.insert(&key(number, part)[..], bytes);
    }
    Ok(())
}

/// A change set, encoded: the length of what follows (u64 BE), then for each entry 1
/// (put) or 0 (delete), the key's length (u32 BE) and bytes, and for a put the value's
/// length (u32 BE) and bytes. The leading length makes a segment cut short (a last part
/// lost) an error rather than a shorter change set.
fn encode<'a>(changes: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>) -> Result<Vec<u8>> {
    let mut out = vec![0u8; 8];
    let len = |n: usize| {
        u32::try_from(n)
            .map(u32::to_be_bytes)
            .map_err(|_| Error::corrupted(None, "a checkpoint entry of over 4 GiB"))
    };
    for (key, value) in changes {
        out.push(u8::from(value.is_some()));
        out.extend_from_slice(&len(key.len())?);
        out.extend_from_slice(key);
        if let Some(value) = value {
            out.extend_from_slice(&len(value.len())?);
            out.extend_from_slice(value);
        }
    }
    let body = (out.len() - 8) as u64;
    out[..8].copy_from_slice(&body.to_be_bytes());
    Ok(out)
}

/// Reads a segment's bytes in order.
struct Cursor<'a> {
    number: u64,
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn corrupt(&self, what: &str) -> Error {
        Error::corrupted(None, format!("checkpoint segment {}: {what}", self.number))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(self.corrupt("it ends inside an entry"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn len(&mut self) -> Result<usize> {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(self.take(4)?);
        usize::try_from(u32::from_be_bytes(bytes)).map_err(|_| self.corrupt("length out of range"))
    }
}

/// Applies the change set `encoded` (segment `number`) to `map`.
fn apply(map: &mut Map, number: u64, encoded: &[u8]) -> Result<()> {
    let mut cursor = Cursor {
        number,
        rest: encoded,
    };
    let mut length = [0u8; 8];
    length.copy_from_slice(cursor.take(8)?);
    if u64::from_be_bytes(length) != cursor.rest.len() as u64 {
        return Err(cursor.corrupt("its length is not what it says (a part lost or added)"));
    }
    while let Some((&tag, _)) = cursor.rest.split_first() {
        cursor.take(1)?;
        let n = cursor.len()?;
        let key = cursor.take(n)?.to_vec();
        match tag {
            1 => {
                let n = cursor.len()?;
                map.insert(key, cursor.take(n)?.to_vec());
            }
            0 => {
                map.remove(&key);
            }
            other => return Err(cursor.corrupt(&format!("unknown entry tag {other}"))),
        }
    }
    Ok(())
}

/// The stored checkpoint: legacy entries, then every segment in order applied to them.
pub(super) fn read(db: &sled::Db) -> Result<Map> {
    let mut map = Map::new();
    for prefix in legacy_prefixes() {
        for item in db.scan_prefix([prefix]) {
            let (key, value) = item.map_err(sled_error("read checkpoint"))?;
            map.insert(key.to_vec(), value.to_vec());
        }
    }
    let mut segment: Option<(u64, u32, Vec<u8>)> = None;
    for item in db.scan_prefix([schema::CHECKPOINT]) {
        let (key, value) = item.map_err(sled_error("read checkpoint"))?;
        let (number, part) = parse_key(&key)?;
        match &mut segment {
            Some((n, last, bytes)) if *n == number => {
                if part != *last + 1 {
                    return Err(Error::corrupted(
                        None,
                        format!("checkpoint segment {number}: part {} is missing", *last + 1),
                    ));
                }
                *last = part;
                bytes.extend_from_slice(&value);
            }
            _ => {
                if let Some((n, _, bytes)) = segment.take() {
                    apply(&mut map, n, &bytes)?;
                }
                if part != 0 {
                    return Err(Error::corrupted(
                        None,
                        format!("checkpoint segment {number}: part 0 is missing"),
                    ));
                }
                segment = Some((number, 0, value.to_vec()));
            }
        }
    }
    if let Some((n, _, bytes)) = segment {
        apply(&mut map, n, &bytes)?;
    }
    Ok(map)
}

/// Adds to `batch` the removal of every segment and legacy entry stored.
fn remove_all(db: &sled::Db, batch: &mut sled::Batch) -> Result<()> {
    for prefix in legacy_prefixes().into_iter().chain([schema::CHECKPOINT]) {
        for key in db.scan_prefix([prefix]).keys() {
            batch.remove(key.map_err(sled_error("read checkpoint"))?);
        }
    }
    Ok(())
}

/// The keyspaces where stores of format 2 and older kept checkpoint entries.
fn legacy_prefixes() -> Vec<u8> {
    let mut prefixes = schema::PROJECTION_PREFIXES.to_vec();
    prefixes.push(schema::CONTENT);
    prefixes.sort_unstable();
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_set_decodes_to_what_was_encoded_and_a_cut_one_is_an_error() {
        let mut map = Map::new();
        map.insert(b"gone".to_vec(), b"x".to_vec());
        map.insert(b"kept".to_vec(), b"old".to_vec());
        let encoded = encode([
            (&b"gone"[..], None),
            (&b"kept"[..], Some(&b"new"[..])),
            (&b"added"[..], Some(&b""[..])),
        ])
        .unwrap();
        apply(&mut map, 1, &encoded).unwrap();
        let got: Vec<_> = map.into_iter().collect();
        assert_eq!(
            got,
            vec![
                (b"added".to_vec(), Vec::new()),
                (b"kept".to_vec(), b"new".to_vec())
            ]
        );
        // Cut anywhere, even between entries, it is refused, naming the segment.
        for cut in 0..encoded.len() {
            let e = apply(&mut Map::new(), 7, &encoded[..cut]).unwrap_err();
            assert!(e.to_string().contains("checkpoint segment 7"), "{e}");
        }
        let e = apply(&mut Map::new(), 7, &[0, 0, 0, 0, 0, 0, 0, 5, 9, 0, 0, 0, 0]).unwrap_err();
        assert!(e.to_string().contains("unknown entry tag 9"), "{e}");
    }

    #[test]
    fn compaction_waits_until_the_rest_outweighs_the_first_segment_and_the_floor() {
        let s = Segments {
            next: 3,
            first_bytes: 10 << 20,
            rest_bytes: 6 << 20,
        };
        assert!(!s.compaction_due(1 << 20));
        assert!(s.compaction_due(5 << 20));
        let small = Segments {
            next: 2,
            first_bytes: 0,
            rest_bytes: 0,
        };
        assert!(!small.compaction_due(COMPACT_AFTER));
        assert!(small.compaction_due(COMPACT_AFTER + 1));
    }
}
