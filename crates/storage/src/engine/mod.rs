//! The storage-engine boundary (architecture.md D5, ADR 0007 item 4).
//!
//! Everything the store keeps on disk goes through [`Engine`]: the writer's groups, the
//! log read from a position, content, the durable barrier, and the projection
//! checkpoint. Replay, verify, rebuild, bundles and queries see only this trait;
//! [`SledEngine`] is its one implementation, and the only module that names `sled`.
//!
//! The trait is shaped so that an engine on etcd can satisfy it later:
//!
//! - [`Engine::append`] takes the head the writer expects and refuses the group if the
//!   stored head moved (an error, writing nothing): a compare on the head, not a
//!   single writer's word. sled's engine holds the head in memory and compares there
//!   (with one writer it can only differ through a bug); etcd's would compare the head
//!   key in the transaction, and a second instance would be told it lost.
//! - A group's records and head must land together, atomically. Its content may land
//!   before them, in transactions of its own (content is immutable and keyed by its
//!   sha256, so content no record names yet is harmless and is written again by the next
//!   group that brings it): that keeps a group inside etcd's defaults of 128 operations
//!   and 1.5 MiB per transaction. sled writes all of it in one batch.
//! - [`Engine::write_checkpoint`] replaces the checkpoint atomically, as one operation of
//!   the trait; how (one sled batch; a staged generation and one marker flip on etcd) is
//!   the engine's business.

mod sled_engine;

use crate::projections::Map;
use verso_domain::{ContentHash, Position};

pub(crate) use sled_engine::{SledEngine, Value};

use crate::error::Result;
use crate::log::Head;
use crate::options::Durability;
use crate::projections::overlay::Writes;

/// The log from a position: each record's position and stored value (the record bytes
/// and their chain hash, `log::codec::frame`), in position order.
pub(crate) type LogIter<'a> = Box<dyn Iterator<Item = Result<(Position, Value)>> + Send + 'a>;

/// Where content is: its sha256, its length and the engine's location for it (bytes
/// only the engine reads; empty for content an older store format keeps by hash).
pub(crate) type Located = (ContentHash, u64, Vec<u8>);

/// The contents groups stored, with their locations, in the order they were stored.
pub(crate) type LocatedIter<'a> = Box<dyn Iterator<Item = Result<Located>> + Send + 'a>;

/// What one group appends: its records at the positions after the expected head, the
/// content they introduce, and the new head.
pub(crate) struct Group<'a> {
    /// `(position, stored value)` of each record, in position order.
    pub(crate) records: Vec<(Position, Vec<u8>)>,
    /// Content the records name that the store does not hold yet: sha256 and bytes.
    pub(crate) contents: Vec<(ContentHash, &'a [u8])>,
    /// The head after the last record.
    pub(crate) head: Head,
}

/// The store's markers (docs/design/event-log.md §Meta).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meta {
    /// The log format marker, written once at creation (L2).
    Format,
    /// The projection format of the checkpoint.
    ProjectionFormat,
    /// Present while a rebuild is under way: the checkpoint is incomplete.
    Rebuilding,
}

/// A storage engine: where the log, content and checkpoint live. See the module doc for
/// what each method promises and why it is shaped so.
pub(crate) trait Engine: Send + Sync {
    /// Whether the engine holds nothing at all (a new store).
    fn is_empty(&self) -> Result<bool>;
    /// A marker's value, if it is set.
    fn meta(&self, which: Meta) -> Result<Option<Value>>;
    /// Sets (`Some`) or clears (`None`) markers, all at once.
    fn set_meta(&self, changes: &[(Meta, Option<&[u8]>)]) -> Result<()>;

    /// The stored head entry (the empty head for an empty log).
    fn head(&self) -> Result<Head>;
    /// The position of the last record stored, whatever the head entry says.
    fn last_position(&self) -> Result<Option<Position>>;
    /// Appends `group` if the stored head is still `expected`, else fails and writes
    /// nothing. Not durable until [`Engine::sync`] returns. Returns where each of the
    /// group's contents was put, in their order.
    fn append(&self, expected: Head, group: &Group<'_>) -> Result<Vec<Vec<u8>>>;
    /// The log from `from` on.
    fn log_from(&self, from: Position) -> LogIter<'_>;
    /// The stored value of the record at `at`.
    fn record(&self, at: Position) -> Result<Option<Value>>;

    /// The `len` bytes of the content with `hash` at `location` (as [`Engine::append`]
    /// or [`Engine::contents_from`] gave it), as stored: the caller checks the hash
    /// (E7). `None` when nothing is stored there. The empty content is always held.
    fn content(&self, hash: ContentHash, len: u64, location: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every content stored by the groups whose first record is at `from` or later (all
    /// of them from 0), with its location, without reading the bytes: what a fold of
    /// the log needs to rebuild the content headers.
    fn contents_from(&self, from: u64) -> LocatedIter<'_>;

    /// Makes everything written so far durable, as `mode` says (the barrier, D4).
    fn sync(&self, mode: Durability) -> Result<()>;

    /// The head the checkpoint is the fold of (the empty head when there is none).
    fn checkpoint_head(&self) -> Result<Head>;
    /// The checkpoint: its entries (projection entries and content headers), key to
    /// value, in key order.
    fn checkpoint(&self) -> Result<Map>;
    /// Applies `changes` to the checkpoint and marks it as the fold at `covers`, all at
    /// once (K1); the checkpoint is then of this build's projection format and no
    /// longer rebuilding.
    fn write_checkpoint(&self, changes: &Writes, covers: Head) -> Result<()>;
    /// Applies `changes` to the checkpoint without marking it: only while
    /// [`Meta::Rebuilding`] is set, for a rebuild too large for one write.
    fn write_checkpoint_part(&self, changes: &Writes) -> Result<()>;
}
