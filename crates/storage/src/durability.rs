//! The durable barrier (architecture.md D4, docs/design/durability.md §Barrier).
//!
//! sled 0.34.7's `flush()` writes with `pwrite` + `sync_file_range`, which neither
//! flushes the device cache nor commits file metadata, and its real `fsync` runs on a
//! background thread every 500 ms. So in [`Durability::Sync`] the barrier is:
//!
//! 1. `flush()`: sled writes every buffered log segment (and any blob file) to the OS;
//! 2. sync every sled blob file not synced before, then the `blobs/` directory: sled
//!    never syncs these itself (content is chunked so they should not appear; this is the
//!    safety net for an oversized record, ADR 0003);
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
#[cfg(feature = "failpoints")]
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};
use crate::options::Durability;

/// Injected failures at the barrier, for tests (feature `failpoints`).
#[cfg(feature = "failpoints")]
#[derive(Debug, Default)]
pub(crate) struct Failpoints {
    /// How many of the next syncs fail.
    pub(crate) fail_syncs: AtomicU32,
}

/// Makes groups durable; owned by the writer thread.
pub(crate) struct Barrier {
    mode: Durability,
    dir: PathBuf,
    /// sled's data file, opened by us: `fdatasync` on any descriptor of a file flushes
    /// that file's dirty pages.
    db_file: File,
    /// Blob files already synced.
    synced_blobs: HashSet<OsString>,
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
        let mut barrier = Self {
            mode,
            dir: dir.to_path_buf(),
            db_file,
            synced_blobs: HashSet::new(),
            #[cfg(feature = "failpoints")]
            failpoints,
        };
        barrier.sync_blobs()?;
        Ok(barrier)
    }

    /// Makes everything written to sled so far durable, as the store's mode says.
    pub(crate) fn sync(&mut self, db: &sled::Db) -> Result<()> {
        self.sync_as(db, self.mode)
    }

    /// Makes everything written to sled so far durable, as `mode` says.
    pub(crate) fn sync_as(&mut self, db: &sled::Db, mode: Durability) -> Result<()> {
        match mode {
            Durability::Buffered => Ok(()),
            Durability::Flush => {
                db.flush().map_err(Error::sled("flush"))?;
                Ok(())
            }
            Durability::Sync => {
                db.flush().map_err(Error::sled("flush"))?;
                self.sync_blobs()?;
                self.sync_data_file()
            }
        }
    }

    fn sync_data_file(&self) -> Result<()> {
        #[cfg(feature = "failpoints")]
        {
            let left = self.failpoints.fail_syncs.load(Ordering::SeqCst);
            if left > 0 {
                self.failpoints.fail_syncs.store(left - 1, Ordering::SeqCst);
                return Err(Error::Io {
                    context: "fdatasync sled data file",
                    source: std::io::Error::other("injected failure (failpoint)"),
                });
            }
        }
        self.db_file
            .sync_data()
            .map_err(Error::io("fdatasync sled data file"))
    }

    /// Syncs blob files that appeared since the last call, then their directory.
    fn sync_blobs(&mut self) -> Result<()> {
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
                    Ok(f) => f.sync_data().map_err(Error::io("fdatasync sled blob"))?,
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

/// `fsync` of a directory, so that entries created in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync directory"))
}
