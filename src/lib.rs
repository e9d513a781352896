//! Verso: an event-sourced versioning store with a tamper-evident log.
//!
//! Every create, update or delete of a versioned document is one immutable event in a
//! hash-chained log in sled; the latest-version, label, content-hash and catalog views
//! are folds of that log, kept in the same atomic writes and rebuildable by replay. This
//! crate is the facade: it re-exports the kernel ([`domain`]) and the store
//! ([`Store`] and friends).
//!
//! # Example
//!
//! ```
//! use verso::{NewApplication, NewHostedVersion, NewProfile, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//!
//! // Writes return a ticket: `.wait()` blocks, `.await` works from async code.
//! // The outer `?` is for fail-stop errors, the inner one for refusals.
//! let app = store
//!     .create_application(NewApplication { name: "payments".into(), ..Default::default() })
//!     .wait()??;
//! let profile = store
//!     .create_profile(&app.id, NewProfile { name: "limits".into(), ..Default::default() })
//!     .wait()??;
//! let v1 = store
//!     .create_hosted_version(&app.id, &profile.id, NewHostedVersion {
//!         content: br#"{"max": 10}"#.to_vec(),
//!         content_type: "application/json".into(),
//!         label: Some("v1.0".into()),
//!         ..Default::default()
//!     })
//!     .wait()??;
//! assert_eq!(v1.version.get(), 1);
//!
//! // An optimistic lock on the latest version: a stale number is a conflict.
//! let stale = store
//!     .create_hosted_version(&app.id, &profile.id, NewHostedVersion {
//!         content: br#"{"max": 20}"#.to_vec(),
//!         content_type: "application/json".into(),
//!         latest_version_number: Some(0),
//!         ..Default::default()
//!     })
//!     .wait()?;
//! assert!(matches!(stale, Err(verso::Refused::Conflict(_))));
//!
//! let latest = store.latest_hosted_version(&app.id, &profile.id)??;
//! assert_eq!(latest.content, br#"{"max": 10}"#);
//!
//! // The whole history verifies: chain, content hashes, projections.
//! let report = store.verify()?.map_err(|v| v.to_string())?;
//! assert_eq!(report.head.position, 3);
//! store.close()?;
//! # Ok(()) }
//! ```

pub use verso_domain as domain;
pub use verso_domain::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, EnvironmentState, Event,
    GrowthFactor, GrowthType, Limits, Monitor, Position, ProfileId, Recorded, Rejection,
    RejectionKind, ReplicateTo, StreamId, StreamVersion, TaggedResource, Timestamp, ValidatorKind,
    VersionSelector, deployment,
};
#[cfg(feature = "failpoints")]
pub use verso_storage::CheckpointStep;
pub use verso_storage::{
    Clock, Committed, Conflict, DeploymentStrategyChanges, Durability, EnvironmentChanges, Error,
    ErrorKind, Head, HostedVersion, Mapped, NewApplication, NewDeployment, NewDeploymentStrategy,
    NewEnvironment, NewHostedVersion, NewProfile, Outcome, Page, PageRequest, Pending,
    ProfileChanges, RebuildReport, Refused, Result, Store, StoreOptions, Subject, Ticket,
    VerifyReport, Violation, ViolationKind, WriteStats, verify_path,
};

// The README's library example is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
struct ReadmeDoctests;
