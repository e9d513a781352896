//! The single writer (D4, docs/design/durability.md §Group commit).
//!
//! One named thread owns every append. It takes what is queued (up to `max_batch`
//! commands), decides each against the projections in memory plus the writes of the
//! commands before it in the group, appends the group's records, new content and head to
//! the engine at once, and has the barrier thread ([`Syncer`]) make it durable. While
//! that barrier runs it decides and appends the next group (C7); once the barrier
//! returns Ok it publishes the next snapshot and only then completes every caller. The
//! projection writes go to the checkpointer.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::Receiver;
use verso_domain::projection::{apply, subject};
use verso_domain::{Command, Content, Position, Recorded, Timestamp, decide};

use super::{Committed, Completer, Subject, Syncer};
use crate::content;
use crate::engine::{Engine, Group};
use crate::error::{Error, Outcome, Refused, Result};
use crate::log::{Head, codec, keys};
use crate::options::{Durability, StoreOptions};
use crate::projections::checkpoint::Checkpointer;
use crate::projections::load;
use crate::projections::overlay::{Overlay, Writes};
use crate::projections::snapshot::{Copies, Published};
use crate::rebuild::{RebuildReport, Step};
use crate::replay::{Violation, ViolationKind};
use crate::store::Shared;
use crate::verify::VerifyReport;

/// One command and where its outcome goes.
pub(crate) struct Request {
    pub(crate) command: Command,
    pub(crate) actor: Option<Arc<str>>,
    pub(crate) reply: Completer<Result<Outcome<Committed>>>,
}

/// Progress callbacks for long work on the writer thread.
pub(crate) type Progress = Box<dyn FnMut(u64) + Send>;

/// What the writer's queue carries. Everything but `Command` runs alone, after the
/// commands queued ahead of it, so it sees a log that no one is appending to.
pub(crate) enum Message {
    /// Decide and append a command.
    Command(Box<Request>),
    /// Verify the whole store.
    Verify(Progress, Completer<Result<Checked<VerifyReport>>>),
    /// Rebuild the projections.
    Rebuild(Progress, Completer<Result<Checked<RebuildReport>>>),
    /// Finish what is queued ahead, make everything durable, stop, and report.
    Close(Completer<Result<Head>>),
}

/// A report, or the first violation found.
pub(crate) type Checked<T> = std::result::Result<T, Violation>;

/// The writer's state. Invariant C2: `head` is the last position written and only this
/// thread assigns positions.
pub(crate) struct Writer {
    pub(crate) engine: Arc<dyn Engine>,
    pub(crate) rx: Receiver<Message>,
    pub(crate) head: Head,
    pub(crate) last_timestamp: Timestamp,
    pub(crate) options: StoreOptions,
    pub(crate) shared: Arc<Shared>,
    /// The projections: the published snapshot, decided against, and the spare copy.
    pub(crate) copies: Copies,
    /// Writes acknowledged groups' projection entries to the checkpoint now and then.
    pub(crate) checkpointer: Checkpointer,
    /// Runs the barrier of the group in flight.
    pub(crate) syncer: Syncer,
    /// The group appended whose barrier is under way (C7); `head` is past it.
    pub(crate) in_flight: Option<InFlight>,
}

/// A group appended to the engine, its barrier begun, not yet published or answered.
pub(crate) struct InFlight {
    replies: Replies,
    /// Its projection writes and content headers, which make the next snapshot.
    writes: Arc<Writes>,
    /// The head after it.
    head: Head,
}

/// A decided group: each command's outcome, what it appends, the projection writes
/// (for memory and the checkpointer) and the new head's timestamp.
struct Decided<'a> {
    outcomes: Vec<Outcome<Committed>>,
    group: Group<'a>,
    writes: Writes,
    timestamp: Timestamp,
}

/// The outcome of each command of a group, in order.
type Replies = Vec<(
    Completer<Result<Outcome<Committed>>>,
    Result<Outcome<Committed>>,
)>;

impl Writer {
    /// The writer loop. Returns when the store is closed or every handle is dropped.
    pub(crate) fn run(mut self) {
        loop {
            // With a group in flight, wait for whichever comes first: more work (the
            // next group is decided and appended while the barrier runs), or the
            // barrier's outcome, which lands the group.
            if self.in_flight.is_some() {
                let next = {
                    let mut select = crossbeam_channel::Select::new();
                    let queue = select.recv(&self.rx);
                    select.recv(self.syncer.done());
                    let op = select.select();
                    if op.index() == queue {
                        Ok(op.recv(&self.rx))
                    } else {
                        Err(Syncer::outcome(op.recv(self.syncer.done())))
                    }
                };
                match next {
                    Ok(Ok(m)) => {
                        if !self.take(m) {
                            return;
                        }
                    }
                    Ok(Err(_)) => break,
                    Err(barrier) => {
                        self.land_after(barrier, None);
                    }
                }
                continue;
            }
            // Wait for work no longer than until pending checkpoint writes are due.
            let first = match self.checkpointer.due_in() {
                None => match self.rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                },
                Some(due) => match self.rx.recv_timeout(due) {
                    Ok(m) => m,
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                        self.checkpointer.tick();
                        continue;
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                },
            };
            if !self.take(first) {
                return;
            }
        }
        self.land(None);
        if let Err(e) = self.final_flush() {
            tracing::error!(error = %e, "final flush failed when the last store handle was dropped");
        }
    }

    /// Takes `first` and whatever else is queued behind it as a group (up to
    /// `max_batch` commands), commits the group, and then runs the message that ended
    /// it, if any, alone: after the group in flight has landed. False once the store is
    /// closed.
    fn take(&mut self, first: Message) -> bool {
        let mut group = Vec::new();
        let mut special = None;
        match first {
            Message::Command(r) => group.push(*r),
            other => special = Some(other),
        }
        while special.is_none() && group.len() < self.options.max_batch {
            match self.rx.try_recv() {
                Ok(Message::Command(r)) => group.push(*r),
                Ok(other) => special = Some(other),
                Err(_) => break,
            }
        }
        if !group.is_empty() {
            self.commit(group);
        }
        let Some(special) = special else {
            return true;
        };
        self.land(None);
        match special {
            Message::Command(_) => {}
            Message::Verify(mut progress, reply) => {
                reply.complete(self.verify(&mut *progress));
            }
            Message::Rebuild(mut progress, reply) => {
                reply.complete(self.rebuild(&mut *progress));
            }
            Message::Close(reply) => {
                reply.complete(self.final_flush());
                return false;
            }
        }
        true
    }

    /// Waits for the barrier of the group in flight, if any. If it returned Ok, begins
    /// the barrier of `next` (a group appended since), then publishes the group in
    /// flight, completes its callers and hands it to the checkpointer; `next` is then in
    /// flight. If it failed, the store is poisoned (C4) and the callers of both groups
    /// get the barrier's error (C7). Returns whether it failed.
    fn land(&mut self, next: Option<InFlight>) -> bool {
        let barrier = match &self.in_flight {
            Some(_) => self.syncer.wait(),
            None => Ok(()),
        };
        self.land_after(barrier, next)
    }

    /// [`Writer::land`], with the outcome of the barrier of the group in flight.
    fn land_after(&mut self, barrier: Result<()>, next: Option<InFlight>) -> bool {
        let landing = self.in_flight.take();
        if let Err(e) = barrier {
            // Invariants C4 and C7: no caller of this group, or of the one appended
            // behind it, is acknowledged, and the store refuses everything until it is
            // reopened.
            self.shared.poisoned.store(true, Ordering::SeqCst);
            tracing::error!(error = %e, "durable barrier failed; store poisoned");
            for group in landing.into_iter().chain(next) {
                for (reply, _) in group.replies {
                    reply.complete(Err(e.duplicate()));
                }
            }
            return true;
        }
        if next.is_some() {
            self.syncer.begin(self.options.durability);
        }
        self.in_flight = next;
        if let Some(group) = landing {
            self.publish(group);
        }
        false
    }

    /// R1: readers see the group only now, after its barrier, and before any of its
    /// callers is told.
    fn publish(&mut self, group: InFlight) {
        let InFlight {
            replies,
            writes,
            head,
        } = group;
        let snapshot = self.copies.advance(Arc::clone(&writes), head);
        self.shared.publish(snapshot);
        // Counted before the tickets complete, so a caller that has its ack sees its
        // group in `Store::stats`.
        let records: usize = replies
            .iter()
            .map(|(_, o)| match o {
                Ok(Ok(c)) => c.records.len(),
                _ => 0,
            })
            .sum();
        self.shared.count_group(
            u64::try_from(replies.len()).unwrap_or(u64::MAX),
            u64::try_from(records).unwrap_or(u64::MAX),
        );
        Self::reply(replies);
        self.checkpointer.group(writes, head);
    }

    /// Verifies the store: the stored checkpoint is first brought to the head, so that
    /// the stored projections and the ones in memory must both equal the fold (E6).
    fn verify(&mut self, progress: &mut dyn FnMut(u64)) -> Result<Checked<VerifyReport>> {
        // IMPORTANT: a poisoned store's sled may hold a group that was never
        // acknowledged: verifying it would judge what no reader can see (C4).
        if self.shared.poisoned.load(Ordering::SeqCst) {
            return Err(Error::Poisoned);
        }
        self.checkpointer.flush()?;
        let report = match crate::verify::verify(&*self.engine, true, progress)? {
            Ok(report) => report,
            Err(v) => return Ok(Err(v)),
        };
        if let Some(problem) =
            crate::verify::memory_differs(&*self.engine, &self.copies.current().map)?
        {
            return Ok(Err(Violation::store(ViolationKind::Projection, problem)));
        }
        Ok(Ok(report))
    }

    fn rebuild(&mut self, progress: &mut dyn FnMut(u64)) -> Result<Checked<RebuildReport>> {
        if self.shared.poisoned.load(Ordering::SeqCst) {
            return Err(Error::Poisoned);
        }
        self.checkpointer.flush()?;
        let engine = &*self.engine;
        let result =
            crate::rebuild::rebuild(engine, &mut || engine.sync(Durability::Sync), &mut |step| {
                if let Step::Replayed(n) = step {
                    progress(n);
                }
            });
        if result.is_err() {
            // The projections may be half written; refuse to decide against them.
            self.shared.poisoned.store(true, Ordering::SeqCst);
            return result;
        }
        if matches!(result, Ok(Ok(_))) {
            // The stored projections are now the fold at the head: so is memory.
            let map = load::load(&*self.engine)?;
            self.copies = Copies::new(Arc::new(Published {
                head: self.head,
                map,
            }));
            self.shared.publish(Arc::clone(self.copies.current()));
        }
        result
    }

    /// Whatever the durability mode, closing makes everything durable.
    fn final_flush(&mut self) -> Result<Head> {
        if self.shared.poisoned.load(Ordering::SeqCst) {
            return Err(Error::Poisoned);
        }
        self.checkpointer.flush()?;
        self.engine.sync(Durability::Sync)?;
        Ok(self.head)
    }

    fn commit(&mut self, group: Vec<Request>) {
        #[cfg(feature = "failpoints")]
        let failpoints = Arc::clone(&self.shared.failpoints);
        #[cfg(feature = "failpoints")]
        let _gate = failpoints
            .writer_gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // IMPORTANT: check the poison flag before deciding anything: after a failed
        // barrier, sled's memory may hold writes that are not durable (invariant C4).
        if self.shared.poisoned.load(Ordering::SeqCst) {
            for r in group {
                r.reply.complete(Err(Error::Poisoned));
            }
            return;
        }
        let commands: Vec<_> = group
            .iter()
            .map(|r| (&r.command, r.actor.clone()))
            .collect();
        let Decided {
            outcomes,
            group: appended,
            writes,
            timestamp,
        } = match self.decide_group(&commands) {
            Ok(d) => d,
            Err(e) => {
                // Nothing was written: fail the group, the store stays usable.
                tracing::error!(error = %e, "group failed before it was written");
                for r in group {
                    r.reply.complete(Err(e.duplicate()));
                }
                return;
            }
        };
        let answers = |group: Vec<Request>| -> Replies {
            group
                .into_iter()
                .zip(outcomes)
                .map(|(r, o)| (r.reply, Ok(o)))
                .collect()
        };
        if appended.records.is_empty() {
            // Nothing to append, but the answers may rest on the group in flight: they
            // wait for it (C7).
            drop(appended);
            drop(commands);
            let replies = answers(group);
            if !self.land(None) {
                Self::reply(replies);
            } else {
                for (reply, _) in replies {
                    reply.complete(Err(Error::Poisoned));
                }
            }
            return;
        }
        // The records, new content and head go to the engine; the projection entries and
        // content headers to memory and the checkpointer.
        let mut writes = writes;
        let appended_ok = self.engine.append(self.head, &appended).map(|locations| {
            // The content headers, now with where the engine put each content.
            for ((hash, bytes), location) in appended.contents.iter().zip(&locations) {
                writes.insert(
                    keys::content(*hash).to_vec(),
                    Some(content::header(bytes.len() as u64, location)),
                );
            }
        });
        let next = appended.head;
        // The content in the group is borrowed from the commands: done with it.
        drop(appended);
        drop(commands);
        let replies = answers(group);
        if let Err(e) = appended_ok {
            // Invariant C4: the batch may be partly in sled's memory. The group in
            // flight, appended before, lands or fails on its own barrier.
            self.shared.poisoned.store(true, Ordering::SeqCst);
            tracing::error!(error = %e, "group write failed; store poisoned");
            for (reply, _) in replies {
                reply.complete(Err(e.duplicate()));
            }
            self.land(None);
            return;
        }
        self.head = next;
        self.last_timestamp = timestamp;
        #[cfg(feature = "failpoints")]
        failpoints.appended_groups.fetch_add(1, Ordering::SeqCst);
        let flying = InFlight {
            replies,
            writes: Arc::new(writes),
            head: next,
        };
        // Lands the group in flight, if any, and begins this one's barrier (C7).
        self.land(Some(flying));
    }

    fn reply(replies: Replies) {
        for (reply, outcome) in replies {
            reply.complete(outcome);
        }
    }

    /// Decides every command of the group in order; returns each outcome, the pending
    /// writes and the new head with its timestamp.
    fn decide_group<'c>(
        &self,
        commands: &[(&'c Command, Option<Arc<str>>)],
    ) -> Result<Decided<'c>> {
        // No storage read while deciding: the view is the published snapshot in memory,
        // plus the group in flight (C7).
        let under = self.in_flight.as_ref().map(|g| Arc::clone(&g.writes));
        let mut view = match &under {
            Some(under) => Overlay::over_in_flight(&self.copies.current().map, under),
            None => Overlay::over(&self.copies.current().map),
        };
        let mut head = self.head;
        let mut last_timestamp = self.last_timestamp;
        let mut outcomes = Vec::with_capacity(commands.len());
        let mut records = Vec::new();
        let mut contents = Vec::new();
        for &(command, ref actor) in commands {
            // Every record of the command gets this time, and the kernel decides at it
            // (deployments are functions of time). Never earlier than the record before
            // (P5), whatever the clock does.
            let now = last_timestamp.max((self.options.clock)());
            let decision = decide(&view, command, &self.options.limits, now);
            if let Some(e) = view.take_error() {
                return Err(e);
            }
            let decision = match decision {
                Ok(d) => d,
                Err(rejection) => {
                    outcomes.push(Err(Refused::from(rejection)));
                    continue;
                }
            };
            let supplied = command.contents();
            for reference in decision
                .events
                .iter()
                .flat_map(verso_domain::Event::contents)
            {
                if content::contains(&view, reference.hash)? {
                    continue;
                }
                let found: Option<&Content> = supplied
                    .iter()
                    .copied()
                    .find(|c| c.hash() == reference.hash);
                let Some(c) = found else {
                    // Every stored content has a header (content.rs): the kernel let
                    // through a reference to content that is neither.
                    return Err(Error::corrupted(
                        None,
                        format!(
                            "content {} is referenced but neither stored nor supplied",
                            reference.hash
                        ),
                    ));
                };
                // Where it goes is known once the group is appended (`commit`).
                content::remember(&mut view, &reference, &[]);
                contents.push((c.hash(), c.bytes()));
            }
            let mut committed = Vec::with_capacity(decision.events.len());
            for event in decision.events {
                last_timestamp = now;
                let position = Position::new(head.position + 1);
                let recorded = Recorded {
                    position,
                    timestamp: last_timestamp,
                    actor: actor.as_deref().map(str::to_owned),
                    event,
                };
                let bytes = codec::encode(&recorded, &head.hash)
                    .map_err(|e| Error::corrupted(Some(position), e))?;
                let hash = codec::chain_hash(&head.hash, &bytes);
                records.push((position, codec::frame(&bytes, &hash)));
                apply(&mut view, &recorded);
                head = Head {
                    position: position.get(),
                    hash,
                };
                committed.push(recorded);
            }
            if let Some(e) = view.take_error() {
                return Err(e);
            }
            let subject = match decision.existing {
                Some(existing) => Some(Subject::Version(existing)),
                None => subject(&view, command),
            };
            if let Some(e) = view.take_error() {
                return Err(e);
            }
            outcomes.push(Ok(Committed {
                records: committed,
                subject,
            }));
        }
        let (writes, error) = match &under {
            Some(under) => view.into_own_pending(under),
            None => view.into_pending(),
        };
        if let Some(e) = error {
            return Err(e);
        }
        Ok(Decided {
            outcomes,
            group: Group {
                records,
                contents,
                head,
            },
            writes,
            timestamp: last_timestamp,
        })
    }
}
