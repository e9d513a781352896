//! The single-use table of AppConfigData sessions (docs/design/deployments.md
//! §AppConfigData sessions, "Single use").
//!
//! Per session, the table keeps the sequence number of the only token that may still be
//! redeemed and when that token was issued. It lives in memory; [`Sessions::save`] writes
//! it to `<dir>/sessions` (at close and periodically, never on the poll path), and
//! [`Sessions::load`] reads it back at open.
//!
//! The documented weaker guarantee: after a crash, the table is the one of the last
//! save, so each token issued after that save can be redeemed once more. A clean stop
//! (save at close) keeps every session and token valid, and nothing else.
//!
//! # File format (format 1)
//!
//! All integers big-endian:
//!
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic, `VERSOSES` |
//! | 4 | format, `u32` `1` |
//! | 8 | entry count n, `u64` |
//! | n × 32 | entries, sorted by session id: session id (16), next sequence `u64` (8), issued at `i64` milliseconds (8) |
//! | 32 | sha256 of every byte before it |
//!
//! A file whose length, checksum, magic, format or entries (a duplicate session) are
//! wrong is refused with [`std::io::ErrorKind::InvalidData`]; it is never silently dropped,
//! since that would make every used token valid again.

#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};
use verso_domain::Timestamp;

use super::token::{Claims, TOKEN_LIFETIME_MS, replace_file, with_path};

/// The file name inside the directory given to [`Sessions::load`].
const SESSIONS_FILE: &str = "sessions";

/// The first bytes of the file.
const MAGIC: &[u8; 8] = b"VERSOSES";

/// The file format this code writes and reads.
const FORMAT: u32 = 1;

/// Magic, format and count.
const HEADER_LEN: usize = 8 + 4 + 8;

/// Session id, next sequence, issued at.
const ENTRY_LEN: usize = 16 + 8 + 8;

/// The sha256 trailer.
const CHECKSUM_LEN: usize = 32;

/// What redeeming a verified token gives.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Redeem {
    /// The token was the session's only valid one; it is now used, and the caller
    /// issues the next one (sequence + 1, issued at the `now` given to `redeem`).
    Ok,
    /// The token was already used (or a later token of its session was).
    Reused,
    /// The session's minimum poll interval has not elapsed since the token was issued;
    /// the token stays valid (AppConfigData's `PollIntervalNotSatisfied`).
    TooEarly,
}

/// The single-use table, shared by every poll.
///
/// Its operations take a `std::sync::Mutex` for a hash-map lookup and insert only: it
/// is never held across an `.await` or during file I/O, so `redeem` is cheap on the
/// poll path and a `save` in progress does not stall polls.
pub(crate) struct Sessions {
    /// The table and whether it changed since the last save.
    ///
    /// Poisoning is ignored: each change is one insert or remove, so the table is whole
    /// even if a holder panicked.
    inner: Mutex<Inner>,
    /// Serialises saves, so that the snapshots reach the disk in the order they were
    /// taken (and the fixed temporary file name has one writer). Held during file I/O,
    /// never by `redeem`.
    saving: Mutex<()>,
    /// The directory that holds the file.
    dir: PathBuf,
}

/// What the mutex protects.
struct Inner {
    /// Per session: its only valid token.
    table: HashMap<[u8; 16], Entry>,
    /// The table changed since it was last written (or read).
    dirty: bool,
}

/// A session's only valid token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// The sequence number of the token that may be redeemed next.
    next_sequence: u64,
    /// When that token was issued.
    issued_at: Timestamp,
}

impl Sessions {
    /// Reads `<dir>/sessions`; a missing file (or directory) is an empty table.
    ///
    /// # Errors
    /// Any I/O error other than not found, with the file named; a corrupt or truncated
    /// file, or one of an unknown format, is [`io::ErrorKind::InvalidData`].
    pub(crate) fn load(dir: &Path) -> io::Result<Self> {
        let path = dir.join(SESSIONS_FILE);
        let table = match fs::read(&path) {
            Ok(bytes) => decode(&bytes).map_err(|why| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("sessions file {}: {why}", path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(with_path(&path)(e)),
        };
        Ok(Self {
            inner: Mutex::new(Inner {
                table,
                dirty: false,
            }),
            saving: Mutex::new(()),
            dir: dir.to_owned(),
        })
    }

    /// Registers a new session whose initial token (sequence 0) is issued at `now`.
    pub(crate) fn start(&self, session: [u8; 16], now: Timestamp) {
        let mut inner = self.lock();
        inner.table.insert(
            session,
            Entry {
                next_sequence: 0,
                issued_at: now,
            },
        );
        inner.dirty = true;
    }

    /// Redeems a verified token's claims at `now`. Atomic: of concurrent redeems of one
    /// token, exactly one is `Ok`.
    ///
    /// - `Reused` if the table knows the session and the token's sequence is below the
    ///   session's next sequence.
    /// - `TooEarly` if the token is not the initial one (sequence 0, nothing held) and
    ///   fewer than `poll_interval_secs` seconds passed since it was issued; nothing
    ///   changes.
    /// - Otherwise `Ok`: the session's next sequence becomes `sequence + 1`, issued at
    ///   `now`. The caller seals the next token with exactly that sequence and `now`.
    ///
    /// A sequence above the table's, or a session the table does not know, can only
    /// come from tokens issued after the last save and before a crash: it is accepted
    /// (the weaker guarantee in the module doc), and older tokens of that session are
    /// `Reused` from then on.
    #[cfg(test)]
    pub(crate) fn redeem(&self, claims: &Claims, now: Timestamp) -> Redeem {
        self.redeem_with(claims, now, true)
    }

    /// [`Sessions::redeem`], with the poll interval checked only when `enforce_interval`
    /// is true (`verso serve --poll-interval-check off`, for tests and local work).
    /// Tokens stay single-use either way.
    pub(crate) fn redeem_with(
        &self,
        claims: &Claims,
        now: Timestamp,
        enforce_interval: bool,
    ) -> Redeem {
        let Some(next_sequence) = claims.sequence.checked_add(1) else {
            // Never reached (2^64 polls); refuse rather than wrap to a used number.
            return Redeem::Reused;
        };
        let mut inner = self.lock();
        if let Some(entry) = inner.table.get(&claims.session)
            && claims.sequence < entry.next_sequence
        {
            return Redeem::Reused;
        }
        let initial = claims.sequence == 0 && claims.held.is_none();
        let elapsed = i128::from(now.as_millis()) - i128::from(claims.issued_at.as_millis());
        if enforce_interval && !initial && elapsed < i128::from(claims.poll_interval_secs) * 1000 {
            return Redeem::TooEarly;
        }
        inner.table.insert(
            claims.session,
            Entry {
                next_sequence,
                issued_at: now,
            },
        );
        inner.dirty = true;
        Redeem::Ok
    }

    /// Writes the table to `<dir>/sessions` durably (a temporary file, fsync, rename,
    /// fsync of the directory) if it changed since the last save, after dropping the
    /// sessions whose token was issued more than [`TOKEN_LIFETIME_MS`] before `now`
    /// (that token can never be redeemed).
    ///
    /// # Errors
    /// Any I/O error, with the file named. The table stays marked as changed, so the
    /// next save tries again.
    pub(crate) fn save(&self, now: Timestamp) -> io::Result<()> {
        let _saving = self.saving.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = {
            let mut inner = self.lock();
            let before = inner.table.len();
            let horizon = i128::from(now.as_millis()) - i128::from(TOKEN_LIFETIME_MS);
            inner
                .table
                .retain(|_, entry| i128::from(entry.issued_at.as_millis()) >= horizon);
            if inner.table.len() != before {
                inner.dirty = true;
            }
            if !inner.dirty {
                return Ok(());
            }
            inner.dirty = false;
            encode(&inner.table)
        };
        let written = replace_file(&self.dir, SESSIONS_FILE, &bytes);
        if written.is_err() {
            self.lock().dirty = true;
        }
        written
    }

    /// The number of sessions in the table.
    pub(crate) fn len(&self) -> usize {
        self.lock().table.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The file bytes for `table` (the format in the module doc).
fn encode(table: &HashMap<[u8; 16], Entry>) -> Vec<u8> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_unstable_by_key(|(session, _)| **session);
    let mut out = Vec::with_capacity(HEADER_LEN + entries.len() * ENTRY_LEN + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_be_bytes());
    let count =
        u64::try_from(entries.len()).expect("a table in memory has fewer than 2^64 entries");
    out.extend_from_slice(&count.to_be_bytes());
    for (session, entry) in entries {
        out.extend_from_slice(session);
        out.extend_from_slice(&entry.next_sequence.to_be_bytes());
        out.extend_from_slice(&entry.issued_at.as_millis().to_be_bytes());
    }
    let checksum = Sha256::digest(&out);
    out.extend_from_slice(&checksum);
    out
}

/// The table in `bytes`, or what is wrong with them.
fn decode(bytes: &[u8]) -> Result<HashMap<[u8; 16], Entry>, String> {
    let (content, checksum) = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .and_then(|at| bytes.split_at_checked(at))
        .ok_or_else(|| format!("truncated: {} bytes", bytes.len()))?;
    let (header, entries) = content
        .split_at_checked(HEADER_LEN)
        .ok_or_else(|| format!("truncated: {} bytes", bytes.len()))?;
    let (magic, header) = header.split_at(MAGIC.len().min(header.len()));
    if magic != MAGIC {
        return Err("not a sessions file (wrong magic)".to_owned());
    }
    if Sha256::digest(content).as_slice() != checksum {
        return Err("checksum mismatch (corrupt or truncated)".to_owned());
    }
    let (format, count) = header.split_at(4.min(header.len()));
    let format = u32::from_be_bytes(format.try_into().map_err(|_| "short header")?);
    if format != FORMAT {
        return Err(format!(
            "unsupported format {format} (this build reads {FORMAT})"
        ));
    }
    let count = u64::from_be_bytes(count.try_into().map_err(|_| "short header")?);
    let expected = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(ENTRY_LEN))
        .filter(|&len| len == entries.len())
        .ok_or_else(|| {
            format!(
                "{count} entries announced, {} bytes of entries found",
                entries.len()
            )
        })?;
    let mut table = HashMap::with_capacity(expected / ENTRY_LEN);
    for chunk in entries.chunks_exact(ENTRY_LEN) {
        let (session, rest) = chunk.split_at(16.min(chunk.len()));
        let (next, issued) = rest.split_at(8.min(rest.len()));
        let session: [u8; 16] = session.try_into().map_err(|_| "short entry")?;
        let entry = Entry {
            next_sequence: u64::from_be_bytes(next.try_into().map_err(|_| "short entry")?),
            issued_at: Timestamp::from_millis(i64::from_be_bytes(
                issued.try_into().map_err(|_| "short entry")?,
            )),
        };
        match table.entry(session) {
            MapEntry::Vacant(slot) => {
                slot.insert(entry);
            }
            MapEntry::Occupied(_) => return Err("a session appears twice".to_owned()),
        }
    }
    Ok(table)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::sync::Barrier;

    use verso_domain::{ApplicationId, ContentHash, EnvironmentId, ProfileId, StreamVersion};

    use super::super::token::Held;
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const POLL_MS: i64 = 60_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    /// The claims of token `sequence` of `session`, issued at `issued`.
    fn token(session: u8, sequence: u64, issued: i64) -> Claims {
        Claims {
            session: [session; 16],
            application: ApplicationId::parse("app1").unwrap(),
            environment: EnvironmentId::parse("env1").unwrap(),
            profile: ProfileId::parse("prof1").unwrap(),
            poll_interval_secs: 60,
            held: (sequence > 0).then_some(Held {
                version: StreamVersion::new(1),
                content: ContentHash::of(b"x"),
            }),
            issued_at: at(issued),
            sequence,
        }
    }

    fn empty() -> (tempfile::TempDir, Sessions) {
        let tmp = tempfile::tempdir().unwrap();
        let sessions = Sessions::load(tmp.path()).unwrap();
        (tmp, sessions)
    }

    #[test]
    fn a_token_is_redeemed_once() {
        let (_tmp, s) = empty();
        s.start([1; 16], at(NOW));
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Reused);
        let later = NOW + POLL_MS;
        assert_eq!(s.redeem(&token(1, 1, NOW), at(later)), Redeem::Ok);
        assert_eq!(s.redeem(&token(1, 1, NOW), at(later)), Redeem::Reused);
        assert_eq!(s.redeem(&token(1, 0, NOW), at(later)), Redeem::Reused);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn the_initial_token_may_be_used_at_once() {
        let (_tmp, s) = empty();
        s.start([1; 16], at(NOW));
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
    }

    #[test]
    fn too_early_leaves_the_token_valid() {
        let (_tmp, s) = empty();
        s.start([1; 16], at(NOW));
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
        let next = token(1, 1, NOW);
        assert_eq!(s.redeem(&next, at(NOW)), Redeem::TooEarly);
        assert_eq!(s.redeem(&next, at(NOW + POLL_MS - 1)), Redeem::TooEarly);
        assert_eq!(s.redeem(&next, at(NOW + POLL_MS)), Redeem::Ok);
        assert_eq!(s.redeem(&next, at(NOW + POLL_MS)), Redeem::Reused);
    }

    #[test]
    fn without_the_interval_check_a_token_is_still_single_use() {
        let (_tmp, s) = empty();
        s.start([1; 16], at(NOW));
        assert_eq!(s.redeem_with(&token(1, 0, NOW), at(NOW), false), Redeem::Ok);
        let next = token(1, 1, NOW);
        assert_eq!(s.redeem_with(&next, at(NOW + 1), false), Redeem::Ok);
        assert_eq!(s.redeem_with(&next, at(NOW + 2), false), Redeem::Reused);
    }

    #[test]
    fn a_later_token_with_nothing_held_still_waits_for_the_interval() {
        let (_tmp, s) = empty();
        s.start([1; 16], at(NOW));
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
        let next = Claims {
            held: None,
            ..token(1, 1, NOW)
        };
        assert_eq!(s.redeem(&next, at(NOW + 1)), Redeem::TooEarly);
    }

    #[test]
    fn of_concurrent_redeems_of_one_token_exactly_one_is_ok() {
        let (_tmp, s) = empty();
        for round in 0..50u8 {
            s.start([round; 16], at(NOW));
            let barrier = Barrier::new(8);
            let results: Vec<Redeem> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| {
                            barrier.wait();
                            s.redeem(&token(round, 0, NOW), at(NOW))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let oks = results.iter().filter(|r| **r == Redeem::Ok).count();
            let reused = results.iter().filter(|r| **r == Redeem::Reused).count();
            assert_eq!((oks, reused), (1, 7), "round {round}: {results:?}");
        }
    }

    #[test]
    fn save_then_load_keeps_every_session_and_token() {
        let (tmp, s) = empty();
        s.start([1; 16], at(NOW));
        s.start([2; 16], at(NOW));
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
        s.save(at(NOW)).unwrap();
        assert!(!tmp.path().join("sessions.tmp").exists());

        let reopened = Sessions::load(tmp.path()).unwrap();
        assert_eq!(reopened.len(), 2);
        assert_eq!(reopened.lock().table, s.lock().table);
        let later = NOW + POLL_MS;
        assert_eq!(
            reopened.redeem(&token(1, 0, NOW), at(later)),
            Redeem::Reused
        );
        assert_eq!(reopened.redeem(&token(1, 1, NOW), at(later)), Redeem::Ok);
        assert_eq!(reopened.redeem(&token(2, 0, NOW), at(later)), Redeem::Ok);
        assert_eq!(
            reopened.redeem(&token(2, 0, NOW), at(later)),
            Redeem::Reused
        );
    }

    #[test]
    fn an_unknown_session_is_accepted_once() {
        // The weaker guarantee: a session started after the last save, then a crash.
        let (_tmp, s) = empty();
        assert_eq!(s.redeem(&token(9, 5, NOW), at(NOW + POLL_MS)), Redeem::Ok);
        assert_eq!(
            s.redeem(&token(9, 5, NOW), at(NOW + POLL_MS)),
            Redeem::Reused
        );
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn after_a_crash_each_token_issued_since_the_save_is_usable_once_more() {
        // The weaker guarantee: the table on disk is behind the tokens clients hold.
        let (tmp, s) = empty();
        s.start([1; 16], at(NOW));
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
        s.save(at(NOW)).unwrap();
        let t1 = NOW + POLL_MS;
        let t2 = t1 + POLL_MS;
        assert_eq!(s.redeem(&token(1, 1, NOW), at(t1)), Redeem::Ok);
        assert_eq!(s.redeem(&token(1, 2, t1), at(t2)), Redeem::Ok);
        drop(s); // a crash: no save

        let reopened = Sessions::load(tmp.path()).unwrap();
        // The client's latest token (sequence 3) still works ...
        assert_eq!(
            reopened.redeem(&token(1, 3, t2), at(t2 + POLL_MS)),
            Redeem::Ok
        );
        // ... and the tokens it already used are refused from then on.
        assert_eq!(
            reopened.redeem(&token(1, 1, NOW), at(t2 + POLL_MS)),
            Redeem::Reused
        );
        assert_eq!(
            reopened.redeem(&token(1, 2, t1), at(t2 + POLL_MS)),
            Redeem::Reused
        );
    }

    #[test]
    fn save_drops_sessions_whose_token_has_expired() {
        let (tmp, s) = empty();
        s.start([1; 16], at(NOW));
        s.start([2; 16], at(NOW + 1));
        s.save(at(NOW + TOKEN_LIFETIME_MS)).unwrap();
        assert_eq!(s.len(), 2);
        s.save(at(NOW + TOKEN_LIFETIME_MS + 1)).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(Sessions::load(tmp.path()).unwrap().len(), 1);
    }

    #[test]
    fn save_writes_only_after_a_change() {
        let (tmp, s) = empty();
        let file = tmp.path().join(SESSIONS_FILE);
        s.save(at(NOW)).unwrap();
        assert!(!file.exists());
        s.start([1; 16], at(NOW));
        s.save(at(NOW)).unwrap();
        assert!(file.exists());
        fs::remove_file(&file).unwrap();
        s.save(at(NOW)).unwrap();
        assert!(!file.exists());
        // A TooEarly or Reused redeem changes nothing either.
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Ok);
        s.save(at(NOW)).unwrap();
        fs::remove_file(&file).unwrap();
        assert_eq!(s.redeem(&token(1, 1, NOW), at(NOW)), Redeem::TooEarly);
        assert_eq!(s.redeem(&token(1, 0, NOW), at(NOW)), Redeem::Reused);
        s.save(at(NOW)).unwrap();
        assert!(!file.exists());
    }

    #[test]
    fn a_failed_save_is_retried_by_the_next() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let s = Sessions::load(&dir).unwrap();
        assert_eq!(s.len(), 0);
        s.start([1; 16], at(NOW));
        fs::write(&dir, b"not a directory").unwrap();
        assert!(s.save(at(NOW)).is_err());
        fs::remove_file(&dir).unwrap();
        s.save(at(NOW)).unwrap();
        assert_eq!(Sessions::load(&dir).unwrap().len(), 1);
    }

    #[test]
    fn a_corrupt_sessions_file_is_invalid_data() {
        let (tmp, s) = empty();
        s.start([1; 16], at(NOW));
        s.start([2; 16], at(NOW));
        s.save(at(NOW)).unwrap();
        let file = tmp.path().join(SESSIONS_FILE);
        let good = fs::read(&file).unwrap();
        assert_eq!(good.len(), HEADER_LEN + 2 * ENTRY_LEN + CHECKSUM_LEN);

        let refused = |bytes: &[u8]| {
            fs::write(&file, bytes).unwrap();
            match Sessions::load(tmp.path()) {
                Ok(_) => panic!("accepted {bytes:?}"),
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
                    e.to_string()
                }
            }
        };
        for i in 0..good.len() {
            let mut bytes = good.clone();
            bytes[i] ^= 0x01;
            let message = refused(&bytes);
            assert!(message.starts_with("sessions file "), "{message}");
        }
        for len in 0..good.len() {
            refused(&good[..len]);
        }
        refused(b"garbage");

        // Well-checksummed but wrong inside.
        let resealed = |mut content: Vec<u8>| {
            content.truncate(content.len() - CHECKSUM_LEN);
            let checksum = Sha256::digest(&content);
            content.extend_from_slice(&checksum);
            content
        };
        let mut future = good.clone();
        future[8..12].copy_from_slice(&2u32.to_be_bytes());
        assert!(refused(&resealed(future)).contains("unsupported format 2"));
        let mut miscounted = good.clone();
        miscounted[12..20].copy_from_slice(&3u64.to_be_bytes());
        assert!(refused(&resealed(miscounted)).contains("3 entries"));
        let mut duplicate = good.clone();
        duplicate.copy_within(HEADER_LEN..HEADER_LEN + 16, HEADER_LEN + ENTRY_LEN);
        assert!(refused(&resealed(duplicate)).contains("twice"));

        fs::write(&file, &good).unwrap();
        assert_eq!(Sessions::load(tmp.path()).unwrap().len(), 2);
    }

    #[test]
    fn an_empty_table_round_trips() {
        let table = HashMap::new();
        assert_eq!(decode(&encode(&table)).unwrap(), table);
    }
}
