//! sled's durable barrier (architecture.md D4, docs/design/durability.md §Barrier).
//!
//! sled 0.34.7's `flush()` writes with `pwrite` + `sync_file_range`, which neither
//! flushes the device cache nor commits file metadata, and its real `fsync` runs on a
//! background thread every 500 ms. So in [`Durability::Sync`] the barrier is:
//!
//! 1. `flush()`: sled writes every buffered log segment (and any blob file) to the OS;
//! 2. sync every sled blob file not synced before, or written to since, then the
//!    `blobs/` directory: sled never syncs these itself (content is chunked so they
//!    should not appear; this is the safety net for an oversized record, ADR 0003). On
//!    Linux an inotify watch on `blobs/` says which files were created or written there
//!    since the last barrier, and the directory is listed only then ([`BlobWatch`]);
//! 3. `fdatasync` of sled's `db` file: data and the size metadata needed to read it.
//!
//! Blob files are synced before the data file so that a durable log never points at a
//! blob file that is not durable.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
#[cfg(feature = "failpoints")]
use std::sync::Arc;

use super::sled_error;
use crate::error::{Error, Result};
#[cfg(feature = "failpoints")]
use crate::failpoints::{CheckpointStep, Failpoints};
use crate::options::Durability;

/// Makes groups durable; owned by the writer thread.
pub(crate) struct Barrier {
    dir: PathBuf,
    /// sled's data file, opened by us: `fdatasync` on any descriptor of a file flushes
    /// that file's dirty pages.
    db_file: File,
    /// Blob files already synced.
    synced_blobs: HashSet<OsString>,
    /// Whether `blobs/` may have changed since it was last listed.
    watch: BlobWatch,
    /// How many times `blobs/` was listed (read by tests).
    listings: u64,
    /// How many times a blob file was synced (read by tests).
    blob_syncs: u64,
    #[cfg(feature = "failpoints")]
    failpoints: Arc<Failpoints>,
}

impl Barrier {
    pub(crate) fn new(
        dir: &Path,
        mode: Durability,
        #[cfg(feature = "failpoints")] failpoints: Arc<Failpoints>,
    ) -> Result<Self> {
        let db_file = File::open(dir.join("db")).map_err(Error::io("open sled data file"))?;
        // The watch is set before the first listing, so no file created between the two
        // goes unseen. Only `Sync` barriers read it: in the other modes the kernel's queue
        // would fill between the rare `Sync` barriers (open, rebuild, close) until it
        // overflowed, so those modes keep no watch and list `blobs/` each time.
        let watch = if mode == Durability::Sync {
            BlobWatch::new(&dir.join("blobs"))
        } else {
            BlobWatch::none()
        };
        let mut barrier = Self {
            dir: dir.to_path_buf(),
            db_file,
            synced_blobs: HashSet::new(),
            watch,
            listings: 0,
            blob_syncs: 0,
            #[cfg(feature = "failpoints")]
            failpoints,
        };
        barrier.list_and_sync_blobs()?;
        Ok(barrier)
    }

    /// Makes everything written to sled so far durable, as `mode` says.
    pub(crate) fn sync_as(&mut self, db: &sled::Db, mode: Durability) -> Result<()> {
        match mode {
            Durability::Buffered => Ok(()),
            Durability::Flush => {
                db.flush().map_err(sled_error("flush"))?;
                Ok(())
            }
            Durability::Sync => {
                // Taken before the flush: a checkpoint applied since is in what it writes.
                #[cfg(feature = "failpoints")]
                let covers_checkpoint = self
                    .failpoints
                    .checkpoint_applied
                    .swap(false, std::sync::atomic::Ordering::SeqCst);
                db.flush().map_err(sled_error("flush"))?;
                self.sync_blobs()?;
                self.sync_data_file()?;
                #[cfg(feature = "failpoints")]
                if covers_checkpoint {
                    self.failpoints.reached(CheckpointStep::Durable);
                }
                Ok(())
            }
        }
    }

    fn sync_data_file(&self) -> Result<()> {
        #[cfg(feature = "failpoints")]
        let _gate = self
            .failpoints
            .barrier_gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        #[cfg(feature = "failpoints")]
        if self.failpoints.take_sync_failure() {
            return Err(Error::Io {
                context: "fdatasync sled data file",
                source: std::io::Error::other("injected failure (failpoint)"),
            });
        }
        self.db_file
            .sync_data()
            .map_err(Error::io("fdatasync sled data file"))
    }

    /// Syncs blob files that appeared, or were written to, since the last call, then
    /// their directory. The watch's events are drained before the listing: if the
    /// listing or a sync then fails, the barrier fails and the store is poisoned (C4), so
    /// no later barrier relies on the events it drained.
    fn sync_blobs(&mut self) -> Result<()> {
        match self.watch.seen() {
            Seen::Nothing => return Ok(()),
            Seen::Files(names) => {
                for name in names {
                    self.synced_blobs.remove(&name);
                }
            }
            // No watch: any file may have been written to since it was synced.
            Seen::Unknown => self.synced_blobs.clear(),
        }
        self.list_and_sync_blobs()
    }

    fn list_and_sync_blobs(&mut self) -> Result<()> {
        self.listings += 1;
        let blobs = self.dir.join("blobs");
        let entries = match std::fs::read_dir(&blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("list sled blobs")(e)),
        };
        let mut present = HashSet::new();
        let mut new = false;
        for entry in entries {
            let entry = entry.map_err(Error::io("list sled blobs"))?;
            let name = entry.file_name();
            if !self.synced_blobs.contains(&name) {
                match File::open(entry.path()) {
                    Ok(f) => {
                        f.sync_data().map_err(Error::io("fdatasync sled blob"))?;
                        self.blob_syncs += 1;
                    }
                    // sled removed it between listing and opening: nothing to sync.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io("open sled blob")(e)),
                }
                new = true;
            }
            present.insert(name);
        }
        if new {
            sync_dir(&blobs)?;
        }
        self.synced_blobs = present;
        Ok(())
    }
}

/// What [`BlobWatch`] saw in `blobs/` since it was last asked.
enum Seen {
    /// Nothing was created or written there.
    Nothing,
    /// These files were created, moved in, or closed after writing.
    Files(HashSet<OsString>),
    /// There is no watch: anything may have happened.
    Unknown,
}

/// Tells the barrier which files were created in `blobs/`, or written to, since it last
/// asked, so that it lists the directory only then and syncs those files again.
///
/// On Linux this is an inotify watch for files created, moved in, or closed after
/// writing. The kernel queues a create before the creating `open` returns, and sled
/// creates a blob file before it logs the page that points at it, so a blob written
/// before the barrier's `flush()` returned is always seen by the barrier that follows;
/// and a blob another thread was still writing while a barrier synced it is named again
/// when that thread closes it. When the watch cannot be set up, or the kernel reports an
/// overflowed queue or a removed or moved directory, the watch is given up and every
/// barrier lists the directory and syncs every file, as it does on other systems.
struct BlobWatch {
    #[cfg(target_os = "linux")]
    inotify: Option<inotify::Inotify>,
}

impl BlobWatch {
    #[cfg(target_os = "linux")]
    fn new(blobs: &Path) -> Self {
        use inotify::{Inotify, WatchMask};
        let watched = Inotify::init().and_then(|inotify| {
            inotify.watches().add(
                blobs,
                WatchMask::CREATE
                    | WatchMask::MOVED_TO
                    | WatchMask::CLOSE_WRITE
                    | WatchMask::DELETE_SELF
                    | WatchMask::MOVE_SELF,
            )?;
            Ok(inotify)
        });
        match watched {
            Ok(inotify) => Self {
                inotify: Some(inotify),
            },
            Err(e) => {
                tracing::debug!(error = %e, "no inotify watch on sled's blobs/: every barrier lists it");
                Self { inotify: None }
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn new(_blobs: &Path) -> Self {
        Self::none()
    }

    /// No watch: every barrier lists the directory.
    fn none() -> Self {
        Self {
            #[cfg(target_os = "linux")]
            inotify: None,
        }
    }

    /// What happened in `blobs/` since the last call. Drains what the kernel queued.
    #[cfg(target_os = "linux")]
    fn seen(&mut self) -> Seen {
        use inotify::EventMask;
        let Some(inotify) = self.inotify.as_mut() else {
            return Seen::Unknown;
        };
        let mut buffer = [0u8; 4096];
        let mut names = HashSet::new();
        let mut any = false;
        let mut lost = false;
        loop {
            match inotify.read_events(&mut buffer) {
                Ok(events) => {
                    for event in events {
                        any = true;
                        lost |= event.mask.intersects(
                            EventMask::Q_OVERFLOW
                                | EventMask::IGNORED
                                | EventMask::DELETE_SELF
                                | EventMask::MOVE_SELF,
                        );
                        if let Some(name) = event.name {
                            names.insert(name.to_os_string());
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::debug!(error = %e, "inotify read failed: every barrier lists blobs/");
                    lost = true;
                    break;
                }
            }
        }
        if lost {
            self.inotify = None;
            return Seen::Unknown;
        }
        if any {
            Seen::Files(names)
        } else {
            Seen::Nothing
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn seen(&mut self) -> Seen {
        Seen::Unknown
    }
}

/// `fsync` of a directory, so that entries created in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn barrier(dir: &Path) -> Barrier {
        barrier_in(dir, Durability::Sync)
    }

    fn barrier_in(dir: &Path, mode: Durability) -> Barrier {
        Barrier::new(
            dir,
            mode,
            #[cfg(feature = "failpoints")]
            Arc::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_blob_file_that_appears_after_a_barrier_is_synced_by_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let mut barrier = barrier(dir.path());
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert!(barrier.synced_blobs.is_empty());
        std::fs::write(dir.path().join("blobs").join("4096"), b"blob").unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert!(barrier.synced_blobs.contains(&OsString::from("4096")));
        let outside = dir.path().join("moved");
        std::fs::write(&outside, b"blob").unwrap();
        std::fs::rename(&outside, dir.path().join("blobs").join("4097")).unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert!(barrier.synced_blobs.contains(&OsString::from("4097")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_blob_written_to_after_a_barrier_synced_it_is_synced_again_by_the_next() {
        // C5 with C7: another thread may still be writing a blob file while a barrier
        // syncs it; its close is seen, and the next barrier syncs it again.
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let mut barrier = barrier(dir.path());
        let blob = dir.path().join("blobs").join("8192");
        std::fs::write(&blob, b"first half").unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.blob_syncs, 1);
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.blob_syncs, 1, "nothing happened: nothing synced");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&blob)
            .unwrap();
        f.write_all(b", second half").unwrap();
        drop(f);
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.blob_syncs, 2);
    }

    #[test]
    fn without_a_watch_every_barrier_syncs_every_blob() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("blobs")).unwrap();
        std::fs::write(dir.path().join("blobs").join("1"), b"blob").unwrap();
        let mut barrier = barrier_in(dir.path(), Durability::Flush);
        let at_open = barrier.blob_syncs;
        barrier.sync_as(&db, Durability::Sync).unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.blob_syncs, at_open + 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_blobs_is_listed_only_after_something_was_created_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let mut barrier = barrier(dir.path());
        let at_open = barrier.listings;
        db.insert(b"k", vec![0u8; 1024]).unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.listings, at_open);
        std::fs::write(dir.path().join("blobs").join("1"), b"blob").unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.listings, at_open + 1);
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert_eq!(barrier.listings, at_open + 1);
    }

    #[test]
    fn without_sync_barriers_no_watch_is_kept_and_each_sync_barrier_lists_blobs() {
        for mode in [Durability::Flush, Durability::Buffered] {
            let dir = tempfile::tempdir().unwrap();
            let db = sled::open(dir.path()).unwrap();
            let mut barrier = barrier_in(dir.path(), mode);
            #[cfg(target_os = "linux")]
            assert!(barrier.watch.inotify.is_none(), "{mode:?}");
            let at_open = barrier.listings;
            std::fs::write(dir.path().join("blobs").join("1"), b"blob").unwrap();
            barrier.sync_as(&db, mode).unwrap();
            assert_eq!(barrier.listings, at_open, "{mode:?} barriers never list");
            barrier.sync_as(&db, Durability::Sync).unwrap();
            assert_eq!(barrier.listings, at_open + 1);
            assert!(barrier.synced_blobs.contains(&OsString::from("1")));
            barrier.sync_as(&db, Durability::Sync).unwrap();
            assert_eq!(
                barrier.listings,
                at_open + 2,
                "{mode:?}: no watch, so it lists"
            );
        }
    }

    #[test]
    fn a_blobs_directory_replaced_under_the_barrier_is_still_listed() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let mut barrier = barrier(dir.path());
        let blobs = dir.path().join("blobs");
        std::fs::rename(&blobs, dir.path().join("blobs-old")).unwrap();
        std::fs::create_dir(&blobs).unwrap();
        std::fs::write(blobs.join("8192"), b"blob").unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert!(barrier.synced_blobs.contains(&OsString::from("8192")));
        // The watch was on the old directory: later files in the new one are found too.
        std::fs::write(blobs.join("8193"), b"blob").unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert!(barrier.synced_blobs.contains(&OsString::from("8193")));
    }

    #[test]
    fn a_barrier_without_a_blobs_directory_still_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        std::fs::remove_dir(dir.path().join("blobs")).unwrap();
        let mut barrier = barrier(dir.path());
        db.insert(b"k", b"v").unwrap();
        barrier.sync_as(&db, Durability::Sync).unwrap();
        assert!(barrier.synced_blobs.is_empty());
    }
}
