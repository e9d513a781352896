//! The baselines: the same events, the same writers, the same filesystem, no Verso.
//!
//! | name | one event | made durable (`--durability sync`) |
//! | --- | --- | --- |
//! | `file_append` | `write` of the content at the end of one file shared by the writers | `fdatasync` of the file, per event |
//! | `sled_per_event` | sled `insert` of a unique 8-byte key with the content | `flush()` + `fdatasync` of `<dir>/db`, per event |
//! | `sled_batch` | as `sled_per_event`, but the writers hand their inserts to one committer thread that applies everything queued (up to 256, Verso's default `max_batch`) as one `apply_batch` | `flush()` + `fdatasync` of `<dir>/db`, per batch |
//!
//! "Durable" means what it means for Verso's default (architecture.md D4): sled's
//! `flush()` alone does not reach the disk. With `--durability flush` the baselines stop
//! after the write (`write`, sled `flush()`), and with `buffered` after the in-memory
//! step (a buffered write, a sled insert), as Verso does: the ratios then compare equal
//! guarantees. sled is opened as Verso opens it (`flush_every_ms(500)`, a 1 GiB cache).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::thread;

use anyhow::{Context as _, Result, anyhow};

use super::driver::{Measured, Op, Settings, drive};
use super::machine;
use super::options::DurabilityArg;
use super::workload::{Workload, content};

/// The batched baseline's largest batch: Verso's default `max_batch`.
pub(crate) const MAX_BATCH: usize = 256;
/// sled's page cache, as Verso's default `cache_capacity`.
const SLED_CACHE: u64 = 1024 * 1024 * 1024;

/// A baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    FileAppend,
    SledPerEvent,
    SledBatch,
}

impl Kind {
    pub(crate) const ALL: [Self; 3] = [Self::FileAppend, Self::SledPerEvent, Self::SledBatch];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::FileAppend => "file_append",
            Self::SledPerEvent => "sled_per_event",
            Self::SledBatch => "sled_batch",
        }
    }

    /// What one event is and how it is made durable, for the report.
    pub(crate) fn description(self, durability: DurabilityArg) -> String {
        let (file, sled_event, sled_batch) = match durability {
            DurabilityArg::Sync => (
                "write + fdatasync per event",
                "insert + flush + fdatasync(db) per event",
                "apply_batch of what is queued (<= 256) + flush + fdatasync(db) per batch",
            ),
            DurabilityArg::Flush => (
                "write per event (no fdatasync)",
                "insert + flush per event (no fdatasync)",
                "apply_batch of what is queued (<= 256) + flush per batch (no fdatasync)",
            ),
            DurabilityArg::Buffered => (
                "buffered write per event (no write(2) until the buffer fills)",
                "insert per event (sled flushes every 500 ms)",
                "apply_batch of what is queued (<= 256), no flush",
            ),
        };
        match self {
            Self::FileAppend => format!("raw file append: {file}"),
            Self::SledPerEvent => format!("raw sled: {sled_event}"),
            Self::SledBatch => format!("raw sled, one committer thread: {sled_batch}"),
        }
    }
}

/// What a baseline did.
pub(crate) struct Outcome {
    pub(crate) measured: Measured,
    /// Durable batches (`sled_batch` only).
    pub(crate) groups: Option<u64>,
    /// Space used by its directory afterwards.
    pub(crate) disk_bytes: Option<u64>,
}

/// Runs `kind` in the fresh directory `dir` (created here; the caller removes it).
pub(crate) fn run(
    kind: Kind,
    dir: &Path,
    workload: &Workload,
    settings: Settings,
) -> Result<Outcome> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let label = kind.name();
    let (measured, groups) = match kind {
        Kind::FileAppend => (file_append(label, dir, workload, settings)?, None),
        Kind::SledPerEvent => (sled_per_event(label, dir, workload, settings)?, None),
        Kind::SledBatch => {
            let (m, batches) = sled_batch(label, dir, workload, settings)?;
            (m, Some(batches))
        }
    };
    let disk_bytes = machine::disk_usage(dir).ok();
    Ok(Outcome {
        measured,
        groups,
        disk_bytes,
    })
}

fn file_append(
    label: &str,
    dir: &Path,
    workload: &Workload,
    settings: Settings,
) -> Result<Measured> {
    let path = dir.join("log");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let buffered = Mutex::new(BufWriter::with_capacity(1 << 20, file.try_clone()?));
    let durability = workload.durability;
    let measured = drive(label, settings, |_| {
        let (file, buffered) = (&file, &buffered);
        let op: Op<'_> = Box::new(move |i| {
            let (bytes, _) = content(i, workload.size_of(i));
            match durability {
                DurabilityArg::Buffered => buffered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .write_all(&bytes)?,
                DurabilityArg::Flush => (&*file).write_all(&bytes)?,
                DurabilityArg::Sync => {
                    (&*file).write_all(&bytes)?;
                    file.sync_data().context("fdatasync")?;
                }
            }
            Ok(u64::try_from(bytes.len())?)
        });
        Ok(op)
    })?;
    buffered
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .flush()?;
    Ok(measured)
}

/// A raw sled database opened as Verso opens it, and its data file for `fdatasync`.
struct RawSled {
    db: sled::Db,
    data_file: File,
    durability: DurabilityArg,
}

impl RawSled {
    fn open(dir: &Path, durability: DurabilityArg) -> Result<Self> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(SLED_CACHE)
            .flush_every_ms(Some(500))
            .open()
            .with_context(|| format!("opening sled in {}", dir.display()))?;
        let data_file = File::open(dir.join("db")).context("opening sled's data file")?;
        Ok(Self {
            db,
            data_file,
            durability,
        })
    }

    /// What `--durability` asks after a write.
    fn barrier(&self) -> Result<()> {
        match self.durability {
            DurabilityArg::Buffered => {}
            DurabilityArg::Flush => {
                self.db.flush().context("sled flush")?;
            }
            DurabilityArg::Sync => {
                self.db.flush().context("sled flush")?;
                self.data_file
                    .sync_data()
                    .context("fdatasync of sled's db")?;
            }
        }
        Ok(())
    }

    /// Flushes what is left (not timed), so that the space used is all counted.
    fn finish(self) -> Result<()> {
        self.db.flush().context("sled flush")?;
        Ok(())
    }
}

fn sled_per_event(
    label: &str,
    dir: &Path,
    workload: &Workload,
    settings: Settings,
) -> Result<Measured> {
    let sled = RawSled::open(dir, workload.durability)?;
    let measured = drive(label, settings, |_| {
        let sled = &sled;
        let op: Op<'_> = Box::new(move |i| {
            let (bytes, _) = content(i, workload.size_of(i));
            let len = u64::try_from(bytes.len())?;
            sled.db
                .insert(i.to_be_bytes(), bytes)
                .context("sled insert")?;
            sled.barrier()?;
            Ok(len)
        });
        Ok(op)
    })?;
    sled.finish()?;
    Ok(measured)
}

/// An insert handed to the committer, and where its acknowledgement goes.
struct Insert {
    key: u64,
    value: Vec<u8>,
    ack: mpsc::Sender<Result<(), String>>,
}

fn sled_batch(
    label: &str,
    dir: &Path,
    workload: &Workload,
    settings: Settings,
) -> Result<(Measured, u64)> {
    let sled = RawSled::open(dir, workload.durability)?;
    let (tx, rx) = mpsc::channel::<Insert>();
    let measured = thread::scope(|s| {
        let raw = &sled;
        // The receiver moves to the committer: if it stops, queued inserts (and the
        // only sender of each acknowledgement) are dropped and their writers see it.
        let committer = thread::Builder::new()
            .name("sled-committer".to_owned())
            .spawn_scoped(s, move || commit_batches(raw, rx))
            .context("starting the committer thread")?;
        let measured = drive(label, settings, |_| {
            let tx = tx.clone();
            let op: Op<'_> = Box::new(move |i| {
                let (value, _) = content(i, workload.size_of(i));
                let len = u64::try_from(value.len())?;
                let (ack, ack_rx) = mpsc::channel();
                let insert = Insert { key: i, value, ack };
                tx.send(insert)
                    .map_err(|_| anyhow!("the committer thread stopped"))?;
                ack_rx
                    .recv()
                    .map_err(|_| anyhow!("the committer thread stopped"))?
                    .map_err(|e| anyhow!(e))?;
                Ok(len)
            });
            Ok(op)
        });
        // The committer stops once every sender is gone.
        drop(tx);
        let batches = committer
            .join()
            .map_err(|_| anyhow!("the committer thread panicked"))?;
        Ok::<_, anyhow::Error>((measured?, batches?))
    })?;
    sled.finish()?;
    Ok(measured)
}

/// The committer: takes the first queued insert and whatever else is queued (up to
/// [`MAX_BATCH`]), applies them as one batch, crosses the barrier once, then
/// acknowledges each. Returns the number of batches. After a failure it acknowledges
/// every waiting insert with the error and stops.
fn commit_batches(sled: &RawSled, rx: mpsc::Receiver<Insert>) -> Result<u64> {
    let mut batches = 0;
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(insert) => group.push(insert),
                Err(_) => break,
            }
        }
        let mut batch = sled::Batch::default();
        for insert in &mut group {
            batch.insert(&insert.key.to_be_bytes(), std::mem::take(&mut insert.value));
        }
        let written = sled
            .db
            .apply_batch(batch)
            .context("sled apply_batch")
            .and_then(|()| sled.barrier());
        let reply = written.as_ref().map(|_| ()).map_err(|e| format!("{e:#}"));
        for insert in group {
            let _ = insert.ack.send(reply.clone());
        }
        written?;
        batches += 1;
    }
    Ok(batches)
}

/// Read mode's baseline: raw sled `get` of one of `keys` prepared keys (8-byte keys
/// holding the workload's contents), key `i % keys` for read `i`.
pub(crate) fn sled_get(
    dir: &Path,
    workload: &Workload,
    settings: Settings,
    keys: u64,
) -> Result<Outcome> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let sled = RawSled::open(dir, DurabilityArg::Sync)?;
    let mut batch = sled::Batch::default();
    for i in 0..keys {
        batch.insert(&i.to_be_bytes(), content(i, workload.size_of(i)).0);
    }
    sled.db.apply_batch(batch).context("sled apply_batch")?;
    sled.barrier()?;
    let measured = drive("sled_get", settings, |_| {
        let sled = &sled;
        let op: Op<'_> = Box::new(move |i| {
            let key = (i % keys.max(1)).to_be_bytes();
            let value = sled
                .db
                .get(key)
                .context("sled get")?
                .ok_or_else(|| anyhow!("sled lost key {}", i % keys.max(1)))?;
            Ok(u64::try_from(value.len())?)
        });
        Ok(op)
    })?;
    sled.finish()?;
    let disk_bytes = machine::disk_usage(dir).ok();
    Ok(Outcome {
        measured,
        groups: None,
        disk_bytes,
    })
}
