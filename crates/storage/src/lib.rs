//! Verso's storage: the event log in sled, the single writer with group commit, the
//! projections in memory with snapshots for readers and checkpoints on disk, recovery,
//! verification and rebuild.
//!
//! # What is durable when
//!
//! With the default [`Durability::Sync`], a write is acknowledged only after the group it
//! belongs to is on stable storage: sled's `flush()`, a sync of any sled blob file, then
//! an `fdatasync` of sled's data file (sled's `flush()` alone does not reach the disk).
//! An acknowledged write survives kill -9, an OS crash and a power loss. The other modes
//! and what each can lose are in [`Durability`] and docs/design/durability.md.
//!
//! # Layout
//!
//! | module | what it owns |
//! | --- | --- |
//! | `store` | [`Store`]: open (recovery), submit, close |
//! | `api`, `queries` | typed writes and reads on [`Store`] |
//! | `commit` | the writer thread and the [`Ticket`]s callers wait on |
//! | `engine` | the storage-engine boundary: the log, content, the barrier and the checkpoint on disk; sled is its one implementation and the only module that names sled |
//! | `log` | keys, the frozen record codec, the hash chain |
//! | `projections` | the projections in memory: published snapshots, checkpoints, loading at open, the overlay the writer decides through |
//! | `content` | content stored once per sha256, verified on read |
//! | `replay`, `verify`, `rebuild` | the fold of the log and what uses it |
//!
//! # What this crate is not
//!
//! It holds no business rules (those are `verso-domain`'s) and speaks no HTTP.

mod api;
mod bundle;
mod commit;
mod content;
mod engine;
mod error;
#[cfg(feature = "failpoints")]
mod failpoints;
mod log;
mod options;
mod projections;
mod queries;
mod rebuild;
mod replay;
mod store;
mod verify;

pub use api::{
    DeploymentStrategyChanges, EnvironmentChanges, NewApplication, NewDeployment,
    NewDeploymentStrategy, NewEnvironment, NewHostedVersion, NewProfile, NewTemplate,
    NewTemplateVersion, NewView, Pending, ProfileChanges,
};
pub use bundle::{
    BundleReport, ImportStep, import_bundle, import_bundle_with_progress, verify_bundle,
    verify_bundle_with_progress,
};
pub use commit::{Committed, Mapped, Subject, Ticket};
pub use error::{Conflict, Error, ErrorKind, Outcome, Refused, Result};
#[cfg(feature = "failpoints")]
pub use failpoints::CheckpointStep;
pub use log::{ChainHash, Head};
pub use options::{Clock, Durability, StoreOptions};
pub use queries::history::{
    At, EnvironmentSnapshot, LogEntry, LogFilter, LogStream, Snapshot, StreamSnapshot,
    TemplateSnapshot, TemplateVersionSnapshot, VersionAt, ViewSnapshot,
};
pub use queries::{DEFAULT_PAGE, HostedVersion, Page, PageRequest, label_matches};
pub use rebuild::RebuildReport;
pub use replay::{Violation, ViolationKind};
pub use store::{Store, WriteStats, edit_checkpoint, verify_path};
pub use verify::VerifyReport;
