//! Verso's versioning kernel: pure, with no I/O, no clock and no async.
//!
//! # Vocabulary
//!
//! - A **command** ([`Command`]) is what a caller asks for, in the imperative.
//! - An **event** ([`Event`]) is what happened, in the past tense. The log is a sequence
//!   of [`Recorded`] events, each at a gapless [`Position`].
//! - A **stream** ([`StreamId`]) is a sequence of versions: a configuration profile's
//!   hosted versions today, Connect views and Proton templates later. Version numbers,
//!   preconditions and idempotency are the kernel's ([`stream`]), not a face's.
//! - A **projection** is a read model that is a pure fold of the log
//!   ([`projection::apply`] over a [`projection::WriteModel`]).
//!
//! # The decide/apply model
//!
//! [`decide`] holds every business rule: given the projections and a command, it returns
//! the events to append or a [`Rejection`]. [`projection::apply`] folds an event into the
//! projections and cannot fail. [`check`] re-checks, on replay, that each recorded event
//! is one `decide` could have produced (invariant E5 in docs/design/event-log.md).
//!
//! # What this crate is not
//!
//! It does not store, encode, hash chains, read clocks or talk HTTP: the storage crate
//! owns the log and the writer, and the server owns the wire.
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use verso_domain::{
//!     ApplicationId, Command, CreateApplication, Limits, MemState, Position, Recorded,
//!     Timestamp, decide, projection::{AppConfigRead, apply},
//! };
//!
//! let mut state = MemState::new();
//! let command = Command::CreateApplication(CreateApplication {
//!     id: ApplicationId::parse("app1234").unwrap(),
//!     name: "payments".into(),
//!     description: None,
//!     tags: BTreeMap::new(),
//! });
//! let decision = decide(&state, &command, &Limits::DEFAULT, Timestamp::from_millis(0)).unwrap();
//! for event in decision.events {
//!     let recorded = Recorded {
//!         position: Position::FIRST,
//!         timestamp: Timestamp::from_millis(0),
//!         actor: None,
//!         event,
//!     };
//!     apply(&mut state, &recorded);
//! }
//! assert_eq!(state.application_count(), 1);
//! ```

mod check;
mod command;
pub mod connect;
mod content;
mod decide;
pub mod deployment;
mod event;
mod id;
mod limits;
mod predefined;
pub mod projection;
pub mod proton;
mod rejection;
pub mod stream;
pub mod validate;

pub use check::{Violation, check};
pub use command::{
    Command, CreateApplication, CreateDeploymentStrategy, CreateEnvironment,
    CreateEnvironmentTemplate, CreateEnvironmentTemplateVersion, CreateHostedVersion,
    CreateProfile, CreateView, DeleteApplication, StartDeployment, UpdateApplication,
    UpdateDeploymentStrategy, UpdateEnvironment, UpdateProfile, ValidatorInput, VersionSelector,
};
pub use connect::{ConnectInstanceId, EncodedViewContent, ViewContent, ViewId, ViewStatus};
pub use content::{Content, ContentRef};
pub use decide::{Decision, HOSTED_LOCATION, decide};
pub use event::{
    EnvironmentState, Event, GrowthFactor, GrowthType, IdempotencyKey, Monitor, Recorded,
    ReplicateTo, TaggedResource, ValidatorKind, ValidatorRef,
};
pub use id::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, Position, ProfileId, StreamId,
    StreamVersion, Timestamp, is_resource_id,
};
pub use limits::Limits;
pub use predefined::{predefined_strategies, predefined_strategy};
pub use projection::MemState;
pub use rejection::{Detail, Rejection, RejectionKind};
