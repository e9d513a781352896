//! [`Store`]: the handle. Opening runs recovery (format check, head check, the checkpoint
//! and the log after it); writes go to the single writer; reads take the writer's last
//! published snapshot.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, TrySendError};
use verso_domain::{Command, Limits, Position, Timestamp};

use crate::bundle::ImportStep;
use crate::commit::{
    Checked, Committed, Message, Progress, Request, Syncer, Ticket, Writer, ticket,
};
use crate::engine::{Engine, Meta, SledEngine};
use crate::error::{Error, Outcome, Result};
#[cfg(feature = "failpoints")]
use crate::failpoints::Failpoints;
use crate::log::{Head, codec, schema};
use crate::options::{Durability, StoreOptions};
use crate::projections::checkpoint::{self, Checkpointer};
use crate::projections::load;
use crate::projections::snapshot::{Copies, Published};
use crate::rebuild::{self, RebuildReport};
use crate::verify::VerifyReport;

/// State shared by the handles and the writer thread.
pub(crate) struct Shared {
    /// The data directory.
    pub(crate) path: PathBuf,
    /// Set by the writer when a write or the durable barrier fails (invariant C4);
    /// never cleared: a poisoned store must be reopened.
    pub(crate) poisoned: AtomicBool,
    /// The last snapshot of the projections and its head, published by the writer after
    /// each group's barrier (R1). Readers clone the `Arc` and let go of the lock at once;
    /// the writer takes it only to swap the pointer, so no reader waits for a group.
    snapshot: Mutex<Arc<Published>>,
    /// What the writer acknowledged, counted after each group's barrier; read by
    /// [`Store::stats`]. Plain counters: no other state depends on them.
    stats: WriteCounters,
    #[cfg(feature = "failpoints")]
    pub(crate) failpoints: Arc<Failpoints>,
}

/// The counters behind [`WriteStats`], bumped only by the writer thread.
#[derive(Default)]
struct WriteCounters {
    groups: AtomicU64,
    commands: AtomicU64,
    records: AtomicU64,
}

/// What the writer has acknowledged since the store was opened: see [`Store::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteStats {
    /// Groups written and acknowledged: one `apply_batch` and one barrier each (in
    /// [`Durability::Sync`], one durable flush each).
    pub groups: u64,
    /// Commands in those groups, accepted or refused.
    pub commands: u64,
    /// Log records (events) those groups appended.
    pub records: u64,
}

impl WriteStats {
    /// The counts from `earlier` to `self`, for a measurement between two reads.
    #[must_use]
    pub const fn since(self, earlier: Self) -> Self {
        Self {
            groups: self.groups.saturating_sub(earlier.groups),
            commands: self.commands.saturating_sub(earlier.commands),
            records: self.records.saturating_sub(earlier.records),
        }
    }
}

impl Shared {
    /// Makes `snapshot` the one readers take (R1: only after its group's barrier).
    pub(crate) fn publish(&self, snapshot: Arc<Published>) {
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }

    /// The last published snapshot.
    pub(crate) fn snapshot(&self) -> Arc<Published> {
        Arc::clone(&self.snapshot.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn head(&self) -> Head {
        self.snapshot().head
    }

    /// Counts one acknowledged group of `commands` commands that appended `records`
    /// records. Called by the writer only, after the group's barrier returned Ok and
    /// before its tickets complete.
    pub(crate) fn count_group(&self, commands: u64, records: u64) {
        self.stats.groups.fetch_add(1, Ordering::Relaxed);
        self.stats.commands.fetch_add(commands, Ordering::Relaxed);
        self.stats.records.fetch_add(records, Ordering::Relaxed);
    }

    fn stats(&self) -> WriteStats {
        WriteStats {
            groups: self.stats.groups.load(Ordering::Relaxed),
            commands: self.stats.commands.load(Ordering::Relaxed),
            records: self.stats.records.load(Ordering::Relaxed),
        }
    }
}

pub(crate) struct Inner {
    /// Where the log, content and checkpoint are stored.
    pub(crate) engine: Arc<dyn Engine>,
    tx: Sender<Message>,
    /// The writer thread; joined by `close` or on drop.
    writer: Mutex<Option<JoinHandle<()>>>,
    pub(crate) shared: Arc<Shared>,
    closed: AtomicBool,
    pub(crate) limits: Limits,
    /// The clock that stamps events; reads of deployments evaluate their status at it.
    pub(crate) clock: crate::options::Clock,
}

/// A durable, event-sourced versioning store in one directory.
///
/// `Store` is a cheap handle: clones share one sled database and one writer thread.
/// Writes return a ticket to wait on (blocking) or `.await` (async); reads never wait
/// for the writer. Close it with [`Store::close`] to learn whether the final flush
/// succeeded; dropping the last handle also closes it, logging any failure.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let store = verso_storage::Store::open(dir.path())?;
/// assert_eq!(store.head().position, 0);
/// store.close()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    actor: Option<Arc<str>>,
    /// Whether this handle's writes are refused ([`Error::Busy`]) rather than wait when
    /// the writer's queue is full ([`Store::refusing_when_busy`]).
    refuse_when_busy: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.shared.path)
            .field("actor", &self.actor)
            .field("refuse_when_busy", &self.refuse_when_busy)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in `path`, creating it if the directory is empty or missing,
    /// with the default options ([`Durability::Sync`], AWS's limits).
    ///
    /// # Errors
    /// [`Error::Locked`] if another process has it open; [`Error::UnknownFormat`] if it
    /// holds something else; [`Error::Corrupted`] if the log and its head disagree;
    /// [`Error::Io`] and [`Error::Engine`] from the disk and sled.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), StoreOptions::default())
    }

    pub(crate) fn open_with(path: &Path, options: StoreOptions) -> Result<Self> {
        Self::open_recovering(path, options, OnRebuild::Unexpected { logged: None })
    }

    /// Opens a store an import has just written: its projections are built from the
    /// log, as expected, and `progress` is told how far that got.
    pub(crate) fn open_after_import(
        path: &Path,
        progress: &mut dyn FnMut(ImportStep, u64, u64),
    ) -> Result<Self> {
        Self::open_recovering(path, StoreOptions::default(), OnRebuild::Expected(progress))
    }

    fn open_recovering(
        path: &Path,
        options: StoreOptions,
        on_rebuild: OnRebuild<'_>,
    ) -> Result<Self> {
        options.validate()?;
        #[cfg(feature = "failpoints")]
        let failpoints = Arc::new(Failpoints::default());
        let engine: Arc<dyn Engine> = Arc::new(SledEngine::open(
            path,
            options.cache_capacity,
            options.durability,
            #[cfg(feature = "failpoints")]
            Arc::clone(&failpoints),
        )?);
        check_format(path, &*engine, IfEmpty::Create)?;
        // Make the markers of a new store durable.
        engine.sync(Durability::Sync)?;
        let head = recover(&*engine, on_rebuild)?;
        let last_timestamp = last_timestamp(&*engine, head)?;
        let applied = engine.checkpoint_head()?;
        let mut map = load::load(&*engine)?;
        let tail = match load::catch_up(&*engine, &mut map, applied, head)? {
            Ok(tail) => tail,
            Err(v) => return Err(Error::corrupted(v.position, v.problem)),
        };
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            poisoned: AtomicBool::new(false),
            snapshot: Mutex::new(Arc::new(Published { head, map })),
            stats: WriteCounters::default(),
            #[cfg(feature = "failpoints")]
            failpoints,
        });
        let mut checkpointer = Checkpointer::start(
            Arc::clone(&engine),
            applied,
            checkpoint::Every {
                groups: options.checkpoint_groups,
                interval: options.checkpoint_interval,
            },
            Arc::clone(&shared),
        )?;
        if head != applied {
            // K2: the next open starts from here rather than fold this tail again.
            checkpointer.group(Arc::new(tail), head);
            checkpointer.flush()?;
            engine.sync(Durability::Sync)?;
        }
        let copies = Copies::new(shared.snapshot());
        let (tx, rx) = crossbeam_channel::bounded(options.queue);
        let writer = Writer {
            engine: Arc::clone(&engine),
            rx,
            head,
            last_timestamp,
            options: options.clone(),
            shared: Arc::clone(&shared),
            copies,
            checkpointer,
            syncer: Syncer::start(Arc::clone(&engine))?,
            in_flight: None,
        };
        let handle = std::thread::Builder::new()
            .name("verso-writer".to_owned())
            .spawn(move || writer.run())
            .map_err(Error::io("spawn writer thread"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                tx,
                writer: Mutex::new(Some(handle)),
                shared,
                closed: AtomicBool::new(false),
                limits: options.limits,
                clock: Arc::clone(&options.clock),
            }),
            actor: None,
            refuse_when_busy: false,
        })
    }

    /// A handle whose writes record `actor` as who asked for them.
    #[must_use]
    pub fn with_actor(&self, actor: impl Into<Arc<str>>) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            actor: Some(actor.into()),
            refuse_when_busy: self.refuse_when_busy,
        }
    }

    /// A handle whose writes (and those of handles made from it) are refused with
    /// [`Error::Busy`] when the writer's queue is full, instead of waiting for room: what
    /// a server wants, so that a burst is shed rather than held in memory.
    #[must_use]
    pub fn refusing_when_busy(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            actor: self.actor.clone(),
            refuse_when_busy: true,
        }
    }

    /// The data directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.shared.path
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The store's clock now (the system clock unless [`StoreOptions::clock`] injected
    /// another). Deployment reads evaluate their status at this time.
    #[must_use]
    pub fn now(&self) -> verso_domain::Timestamp {
        (self.inner.clock)()
    }

    /// The head as of the last acknowledged group: the last position and its chain hash.
    #[must_use]
    pub fn head(&self) -> Head {
        self.inner.shared.head()
    }

    /// What the writer has acknowledged since this store was opened: groups (one
    /// `apply_batch` and one barrier each), the commands in them and the records they
    /// appended. Counted after each group's barrier returned, so a group that only
    /// refused commands (nothing written) is not counted; `commands / groups` is the
    /// mean group size. Read two and take [`WriteStats::since`] to measure a period.
    #[must_use]
    pub fn stats(&self) -> WriteStats {
        self.inner.shared.stats()
    }

    /// Whether a failed write or sync has poisoned the store (reopen it).
    #[must_use]
    pub fn is_poisoned(&self) -> bool {
        self.inner.shared.poisoned.load(Ordering::SeqCst)
    }

    /// Submits a command to the writer. The ticket completes when the command was
    /// refused, or appended and made durable as the store's [`Durability`] says. When
    /// the writer's queue is full this waits for room, or, on a handle from
    /// [`Store::refusing_when_busy`], completes the ticket with [`Error::Busy`].
    pub fn submit(&self, command: Command) -> Ticket<Outcome<Committed>> {
        self.enqueue(command, !self.refuse_when_busy)
    }

    /// [`Store::submit`], except that a full write queue refuses the command at once
    /// with [`Error::Busy`] (nothing is queued) instead of waiting for room: for servers,
    /// which should shed load rather than hold requests in memory.
    pub fn try_submit(&self, command: Command) -> Ticket<Outcome<Committed>> {
        self.enqueue(command, false)
    }

    /// Queues `command` for the writer, waiting for room when the queue is full if
    /// `wait`, else refusing it with [`Error::Busy`].
    fn enqueue(&self, command: Command, wait: bool) -> Ticket<Outcome<Committed>> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Ticket::ready(Err(Error::Closed));
        }
        if self.is_poisoned() {
            return Ticket::ready(Err(Error::Poisoned));
        }
        let (reply, waiting) = ticket();
        let message = Message::Command(Box::new(Request {
            command,
            actor: self.actor.clone(),
            reply,
        }));
        // If the writer is gone the message (and its completer) is dropped, which
        // completes the ticket with `Closed`.
        if wait {
            let _ = self.inner.tx.send(message);
        } else if let Err(TrySendError::Full(Message::Command(request))) =
            self.inner.tx.try_send(message)
        {
            request.reply.complete(Err(Error::Busy));
        }
        waiting
    }

    /// Verifies the whole store: the hash chain, every content's sha256, and the
    /// projections equal to a fresh fold of the log (architecture.md §3). It runs on the
    /// writer thread, so appends wait until it is done.
    ///
    /// # Errors
    /// Fail-stop errors only; a broken invariant is the inner `Err`, naming the first
    /// bad position.
    pub fn verify(&self) -> Result<Checked<VerifyReport>> {
        self.verify_with_progress(Box::new(|_| {}))
    }

    /// [`Store::verify`], calling `progress` with the number of records checked.
    ///
    /// # Errors
    /// As [`Store::verify`].
    pub fn verify_with_progress(&self, progress: Progress) -> Result<Checked<VerifyReport>> {
        let (reply, waiting) = ticket();
        self.send_special(Message::Verify(progress, reply))?;
        waiting.wait()
    }

    /// Drops the projections and writes them again by replaying the log, re-checking
    /// every invariant. It runs on the writer thread, so appends wait; reads during a
    /// rebuild may find projections missing.
    ///
    /// # Errors
    /// Fail-stop errors; a broken invariant is the inner `Err` and leaves the projections
    /// untouched.
    pub fn rebuild(&self) -> Result<Checked<RebuildReport>> {
        self.rebuild_with_progress(Box::new(|_| {}))
    }

    /// [`Store::rebuild`], calling `progress` with the number of events replayed.
    ///
    /// # Errors
    /// As [`Store::rebuild`].
    pub fn rebuild_with_progress(&self, progress: Progress) -> Result<Checked<RebuildReport>> {
        let (reply, waiting) = ticket();
        self.send_special(Message::Rebuild(progress, reply))?;
        waiting.wait()
    }

    fn send_special(&self, message: Message) -> Result<()> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.inner.tx.send(message).map_err(|_| Error::Closed)
    }

    /// Closes the store: waits for queued commands, makes everything durable (whatever
    /// the durability mode), stops the writer and reports the final head. Other handles
    /// get [`Error::Closed`] afterwards.
    ///
    /// # Errors
    /// [`Error::Poisoned`] if an earlier barrier failed; I/O errors from the final sync.
    pub fn close(self) -> Result<Head> {
        self.inner.close()
    }

    /// Keeps the writer from committing any group until the guard is dropped, so that
    /// the queue fills (feature `failpoints`).
    #[cfg(feature = "failpoints")]
    pub fn hold_writer(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.inner
            .shared
            .failpoints
            .writer_gate
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Aborts the process (`std::process::abort`: like kill -9, no destructor, close or
    /// flush runs) when a checkpoint of this store next reaches `step` (feature
    /// `failpoints`). For crash tests, which run it in a child process.
    #[cfg(feature = "failpoints")]
    pub fn crash_at_checkpoint(&self, step: crate::failpoints::CheckpointStep) {
        *self
            .inner
            .shared
            .failpoints
            .crash_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(step);
    }

    /// Makes the next `times` checkpoint writes fail (feature `failpoints`).
    #[cfg(feature = "failpoints")]
    pub fn fail_next_checkpoints(&self, times: u32) {
        self.inner
            .shared
            .failpoints
            .fail_checkpoints
            .store(times, Ordering::SeqCst);
    }

    /// Keeps every `Sync` barrier from finishing (it waits before its `fdatasync`) until
    /// the guard is dropped, so that groups pile up behind one in flight (feature
    /// `failpoints`).
    #[cfg(feature = "failpoints")]
    pub fn hold_barrier(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.inner
            .shared
            .failpoints
            .barrier_gate
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many groups the writer has appended to the engine, acknowledged or not
    /// (feature `failpoints`).
    #[cfg(feature = "failpoints")]
    pub fn appended_groups(&self) -> u64 {
        self.inner
            .shared
            .failpoints
            .appended_groups
            .load(Ordering::SeqCst)
    }

    /// Makes the next `times` syncs of the durable barrier fail (feature `failpoints`).
    #[cfg(feature = "failpoints")]
    pub fn fail_next_syncs(&self, times: u32) {
        self.inner
            .shared
            .failpoints
            .fail_syncs
            .store(times, Ordering::SeqCst);
    }
}

impl Inner {
    fn close(&self) -> Result<Head> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        let (reply, waiting) = ticket();
        let sent = self.tx.send(Message::Close(reply)).is_ok();
        let result = if sent {
            waiting.wait()
        } else {
            Err(Error::Closed)
        };
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle
            && h.join().is_err()
        {
            tracing::error!("verso writer thread panicked");
        }
        result
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.closed.load(Ordering::SeqCst)
            && let Err(e) = self.close()
        {
            tracing::error!(error = %e, "closing the store on drop failed");
        }
    }
}

/// Whether an empty directory may become a new store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IfEmpty {
    Create,
    Refuse,
}

/// Invariant L2: a new store gets the marker; a marker of a format this build does not
/// read is refused. A store of format 1 is marked format 2 when it is opened to write
/// (`if_empty` is `Create`): this build packs the content it adds (`schema::STORE_FORMAT`),
/// which an older build could not read.
fn check_format(path: &Path, engine: &dyn Engine, if_empty: IfEmpty) -> Result<()> {
    let current = [schema::LOG_FORMAT_MAGIC, &[schema::STORE_FORMAT]].concat();
    match engine.meta(Meta::Format)? {
        Some(marker) if *marker == *current => Ok(()),
        Some(marker) => match marker.strip_prefix(schema::LOG_FORMAT_MAGIC) {
            Some([format]) if schema::STORE_FORMATS_READ.contains(format) => {
                if if_empty == IfEmpty::Create {
                    tracing::info!(
                        from = format,
                        to = schema::STORE_FORMAT,
                        "marking the store with this build's format (nothing is rewritten)"
                    );
                    engine.set_meta(&[(Meta::Format, Some(&current))])?;
                }
                Ok(())
            }
            _ => Err(Error::UnknownFormat {
                path: path.to_path_buf(),
                found: describe_marker(&marker),
                expected: schema::STORE_FORMAT,
            }),
        },
        None if if_empty == IfEmpty::Create && engine.is_empty()? => engine.set_meta(&[
            (Meta::Format, Some(&current)),
            (Meta::ProjectionFormat, Some(&[schema::PROJECTION_FORMAT])),
        ]),
        None => Err(Error::UnknownFormat {
            path: path.to_path_buf(),
            found: "no format marker (not a Verso store)".to_owned(),
            expected: schema::STORE_FORMAT,
        }),
    }
}

fn describe_marker(marker: &[u8]) -> String {
    match marker.strip_prefix(schema::LOG_FORMAT_MAGIC) {
        Some([n]) => format!("{n}"),
        _ => format!("{:?}", String::from_utf8_lossy(marker)),
    }
}

/// The open path's checks: the head entry agrees with the last record (cheap: no
/// replay), and projections are complete and of this build's format, else rebuilt.
fn recover(engine: &dyn Engine, mut on_rebuild: OnRebuild<'_>) -> Result<Head> {
    let head = engine.head()?;
    let last = engine.last_position()?.map_or(0, Position::get);
    if last != head.position {
        return Err(Error::corrupted(
            Some(Position::new(head.position.max(last))),
            format!(
                "the head entry says position {} but the log ends at {last}; run verify",
                head.position
            ),
        ));
    }
    let rebuilding = engine.meta(Meta::Rebuilding)?.is_some();
    let current = projections_current(engine)?;
    // K3: a checkpoint that is not of this log (past its head, or of another chain at
    // its position, as after a log cut short by hand) is derived data gone stale: the
    // log is the truth, so the projections are rebuilt from it, loudly.
    let stale = current
        && !rebuilding
        && load::marker_problem(engine, engine.checkpoint_head()?, head)?.is_some();
    if stale {
        tracing::warn!(
            head = head.position,
            "the projection checkpoint is not of this log; rebuilding the projections from the log (run `verso verify` to see why)"
        );
    }
    if rebuilding || !current || stale {
        let total = head.position;
        if matches!(on_rebuild, OnRebuild::Unexpected { .. }) && !stale {
            tracing::warn!(
                rebuilding,
                records = total,
                "projections are incomplete or of another format; rebuilding them from the log"
            );
        }
        let checked =
            crate::rebuild::rebuild(engine, &mut || engine.sync(Durability::Sync), &mut |step| {
                let (step, done, all) = match step {
                    rebuild::Step::Replayed(done) => (ImportStep::Rebuilding, done, total),
                    rebuild::Step::Written { done, total } => {
                        (ImportStep::WritingProjections, done, total)
                    }
                };
                match &mut on_rebuild {
                    OnRebuild::Expected(progress) => progress(step, done, all),
                    // That can take minutes on a large store: log every tenth of the way.
                    OnRebuild::Unexpected { logged } => {
                        let tenth = (step, done.saturating_mul(10) / all.max(1));
                        if *logged != Some(tenth) {
                            *logged = Some(tenth);
                            tracing::info!(done, total = all, "{}", rebuild_step(step));
                        }
                    }
                }
            })?;
        if let Err(v) = checked {
            return Err(Error::corrupted(v.position, v.problem));
        }
    }
    Ok(head)
}

/// What opening a store whose projections must be rebuilt should make of it.
enum OnRebuild<'a> {
    /// Nobody expected it (a crash during a rebuild, projections of an older format): a
    /// warning, and progress in the log (`logged`: the last step and tenth logged).
    Unexpected { logged: Option<(ImportStep, u64)> },
    /// An import just wrote the log without projections: progress goes here.
    Expected(&'a mut dyn FnMut(ImportStep, u64, u64)),
}

/// How the log names a step of a rebuild at open.
fn rebuild_step(step: ImportStep) -> &'static str {
    if step == ImportStep::WritingProjections {
        "writing rebuilt projections"
    } else {
        "replaying the log to rebuild projections"
    }
}

/// Whether the checkpoint is of this build's projection format.
fn projections_current(engine: &dyn Engine) -> Result<bool> {
    let format = engine.meta(Meta::ProjectionFormat)?;
    Ok(format.as_deref() == Some(&[schema::PROJECTION_FORMAT][..]))
}

fn last_timestamp(engine: &dyn Engine, head: Head) -> Result<Timestamp> {
    if head.position == 0 {
        return Ok(Timestamp::from_millis(i64::MIN));
    }
    let position = Position::new(head.position);
    let value = engine
        .record(position)?
        .ok_or_else(|| Error::corrupted(Some(position), "last record missing"))?;
    let (bytes, _) = codec::unframe(&value).map_err(|e| Error::corrupted(Some(position), e))?;
    let record = codec::decode(bytes).map_err(|e| Error::corrupted(Some(position), e))?;
    Ok(record.recorded.timestamp)
}

/// Verifies a store that is not open, without the open path's checks or any writes, so
/// that a store too damaged to open can still be examined.
///
/// # Errors
/// [`Error::Locked`] if a process has it open; [`Error::UnknownFormat`]; I/O errors.
pub fn verify_path(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<Checked<VerifyReport>> {
    if !SledEngine::exists(path) {
        return Err(Error::Io {
            context: "open store",
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no store in this directory"),
        });
    }
    let options = StoreOptions::default();
    let engine = SledEngine::open(
        path,
        options.cache_capacity,
        options.durability,
        #[cfg(feature = "failpoints")]
        Arc::default(),
    )?;
    check_format(path, &engine, IfEmpty::Refuse)?;
    let head = engine.head()?;
    let applied = engine.checkpoint_head()?;
    // A store of an earlier projection format is rebuilt when it is next opened: its
    // projections are compared (it keeps them at the head), its content headers not.
    let current = projections_current(&engine)?;
    if applied == head || !current {
        return crate::verify::verify(&engine, current, progress);
    }
    // K2: the checkpoint is behind the head; what open would make of it, checkpoint
    // plus the log after it, must equal the fold of the whole log.
    let mut map = load::load(&engine)?;
    if let Err(v) = load::catch_up(&engine, &mut map, applied, head)? {
        return Ok(Err(v));
    }
    crate::verify::verify_against(&engine, Some(&map), true, progress)
}

/// Edits the stored checkpoint of a store that is not open, as a damaged disk or a
/// hand edit might: for tests of verify, rebuild and open, not for use. `edit` gets its
/// entries (projection entries and content headers, key to value, in their stored
/// form) and what it leaves is written back as the whole checkpoint. The `applied`
/// marker is left as it was.
///
/// # Errors
/// [`Error::Locked`] if a process has it open; I/O and sled errors.
#[doc(hidden)]
pub fn edit_checkpoint(
    path: &Path,
    edit: impl FnOnce(&mut std::collections::BTreeMap<Vec<u8>, Vec<u8>>),
) -> Result<()> {
    let options = StoreOptions::default();
    let engine = SledEngine::open(
        path,
        options.cache_capacity,
        Durability::Sync,
        #[cfg(feature = "failpoints")]
        Arc::default(),
    )?;
    engine.edit_checkpoint(edit)?;
    engine.sync(Durability::Sync)
}
