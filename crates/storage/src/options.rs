//! Store options.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use verso_domain::{Limits, Timestamp};

use crate::error::{Error, Result};
use crate::store::Store;

/// When an append is acknowledged, and so what a crash can take away
/// (docs/design/durability.md §Modes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Acknowledge after sled's `flush()`, a sync of any sled blob file, and an
    /// `fdatasync` of sled's data file. An acknowledged append survives a process crash,
    /// an OS crash and a power loss. The default.
    #[default]
    Sync,
    /// Acknowledge after sled's `flush()` only, which hands the bytes to the OS
    /// (`pwrite` + `sync_file_range`) without a device flush. Survives a process crash
    /// (kill -9). An OS crash or power loss can lose groups acknowledged since sled's
    /// background thread last ran `fsync` (it does every `flush_every_ms`, 500 ms).
    Flush,
    /// Acknowledge once the group is in sled's in-memory buffers. A process crash loses
    /// the groups acknowledged since sled's background flush last ran (at most about
    /// 500 ms of writes); an OS crash or power loss can lose about twice that. Groups
    /// are still all-or-nothing and the chain still verifies after any crash.
    Buffered,
}

/// A source of time for event timestamps, in milliseconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Options for [`Store`], built with setters and finished by [`StoreOptions::open`].
#[derive(Clone)]
pub struct StoreOptions {
    pub(crate) durability: Durability,
    pub(crate) limits: Limits,
    pub(crate) max_batch: usize,
    pub(crate) cache_capacity: u64,
    pub(crate) clock: Clock,
    pub(crate) checkpoint_groups: u64,
    pub(crate) checkpoint_interval: Duration,
    pub(crate) queue: usize,
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("durability", &self.durability)
            .field("limits", &self.limits)
            .field("max_batch", &self.max_batch)
            .field("cache_capacity", &self.cache_capacity)
            .field("checkpoint_groups", &self.checkpoint_groups)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Sync,
            limits: Limits::DEFAULT,
            max_batch: 256,
            cache_capacity: 1024 * 1024 * 1024,
            clock: Arc::new(system_clock),
            checkpoint_groups: 1000,
            checkpoint_interval: Duration::from_secs(30),
            queue: 4096,
        }
    }
}

fn system_clock() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

impl StoreOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// When appends are acknowledged. Default: [`Durability::Sync`].
    #[must_use]
    pub const fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Size limits and quotas. Default: [`Limits::DEFAULT`] (AWS's defaults).
    #[must_use]
    pub const fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The most commands the writer decides and commits as one group. Default 256;
    /// valid 1 to 65536. 1 turns group commit off (tests use it to force rare paths).
    #[must_use]
    pub const fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch;
        self
    }

    /// sled's page cache, in bytes. Default 1 GiB (sled's own default); at least 1 MiB.
    ///
    /// The cache fills only as pages are read, so a small store stays small in memory.
    /// A store whose pages do not fit reads them again from the file on every pass:
    /// rebuilding a 1M-record store (about 1 GiB of pages) took 10.2 s with a 256 MiB
    /// cache and 4.2 s with 1 GiB (docs/performance.md, "Replay").
    #[must_use]
    pub const fn cache_capacity(mut self, bytes: u64) -> Self {
        self.cache_capacity = bytes;
        self
    }

    /// The clock that stamps events. Default: the system clock. Timestamps never go
    /// backwards in the log whatever the clock does: the writer uses the later of the
    /// clock and the previous record's time.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How many acknowledged groups may pass before the projections are checkpointed to
    /// disk. Default 1000; at least 1. A checkpoint is written off the acknowledgement
    /// path; open folds the log after the last one (docs/design/durability.md, K1–K3),
    /// so fewer groups between checkpoints mean a shorter open and more checkpoint
    /// writes.
    #[must_use]
    pub const fn checkpoint_groups(mut self, groups: u64) -> Self {
        self.checkpoint_groups = groups;
        self
    }

    /// How long after the first group not yet checkpointed a checkpoint is written,
    /// whatever the number of groups. Default 30 s; at least 1 ms.
    #[must_use]
    pub const fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.checkpoint_interval = interval;
        self
    }

    /// How many submitted commands may wait for the writer. Default 4096; 1 to 1,048,576.
    /// A [`Store::submit`] that finds the queue full waits for room;
    /// [`Store::try_submit`], and every write of a [`Store::refusing_when_busy`] handle,
    /// is refused instead ([`Error::Busy`](crate::Error::Busy)).
    #[must_use]
    pub const fn queue(mut self, commands: usize) -> Self {
        self.queue = commands;
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::Config`] naming the option out of range.
    pub fn validate(&self) -> Result<()> {
        if !(1..=65536).contains(&self.max_batch) {
            return Err(Error::Config(format!(
                "max_batch {} is outside 1..=65536",
                self.max_batch
            )));
        }
        if self.checkpoint_groups == 0 {
            return Err(Error::Config(
                "checkpoint_groups must be at least 1".to_owned(),
            ));
        }
        if self.checkpoint_interval < Duration::from_millis(1) {
            return Err(Error::Config(
                "checkpoint_interval must be at least 1 ms".to_owned(),
            ));
        }
        if !(1..=1 << 20).contains(&self.queue) {
            return Err(Error::Config(format!(
                "queue {} is outside 1..=1048576",
                self.queue
            )));
        }
        if self.cache_capacity < 1024 * 1024 {
            return Err(Error::Config(format!(
                "cache_capacity {} is below 1 MiB",
                self.cache_capacity
            )));
        }
        Ok(())
    }

    /// Opens (or creates) the store in `path` with these options.
    ///
    /// # Errors
    /// See [`Store::open`].
    pub fn open(self, path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path.as_ref(), self)
    }
}
