//! Projections: the read models that are pure folds of the log (architecture.md D2).
//!
//! [`ReadModel`] is what `decide` and `apply` may look at; [`WriteModel`] is what `apply`
//! changes. The storage crate implements both over its stored form; [`MemState`] is the
//! in-memory reference implementation used by tests and by verification, which folds the
//! log into a `MemState` and compares it with what is stored.
//!
//! # One trait per face
//!
//! Both sides are cut along the kernel and its three faces (architecture.md D1), by what
//! each method serves:
//!
//! | part | read | write | what it holds |
//! | --- | --- | --- | --- |
//! | kernel | [`StreamRead`] | [`StreamWrite`] | stream heads, version records, labels, content uses, idempotency keys: what every face's versions use |
//! | AppConfig | [`AppConfigRead`] | [`AppConfigWrite`] | applications, profiles, environments (and retired environment ids), deployment strategies, deployments, hosted bytes |
//! | Connect | [`ConnectRead`] | [`ConnectWrite`] | views, view names, `CreateView` `ClientToken`s |
//! | Proton | [`ProtonRead`] | [`ProtonWrite`] | templates, template versions, published versions, version `clientToken`s |
//!
//! Labels and the idempotency view are the kernel's although only one face uses each
//! today: they are kept per stream and written by the kernel's fold of a created version,
//! whatever its stream. Hosted bytes are AppConfig's: only hosted configuration versions
//! count towards the hosted store quota.
//!
//! [`ReadModel`] and [`WriteModel`] are the four parts together, implemented for every
//! type that implements the four (a blanket impl), so they remain the names callers use:
//! `fn f<R: ReadModel + ?Sized>(state: &R)` can call any read method. A function that
//! needs one face only may take the narrower trait; a caller holding a concrete type
//! (a `MemState`, say) imports the part whose methods it calls.
//!
//! [`subject`] answers, for any `ReadModel`, which record a command is about once it is
//! applied: what the writer reports to the caller.

mod apply;
mod mem;
mod records;
mod subject;

pub use apply::{apply, apply_owned};
pub use mem::{CanonicalKind, MemState, Part};
pub use records::{
    ApplicationRecord, DeploymentStrategyRecord, EnvironmentRecord, IdempotencyRecord,
    ProfileRecord, StreamHead, TemplateRecord, TemplateTokenRecord, TemplateVersionRecord,
    VersionRecord, ViewRecord, ViewTokenRecord,
};
pub use subject::{Subject, subject};

use std::borrow::Cow;

use crate::connect::{ConnectInstanceId, ViewId};
pub use crate::deployment::DeploymentRecord;
use crate::id::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, ProfileId, StreamId,
    StreamVersion,
};
use crate::proton::{TemplateName, TemplateVersion};

/// Read access to all the projections: the kernel's and every face's.
///
/// Contract (for every part): each method answers as of the last applied event;
/// implementations do no validation of their own.
pub trait ReadModel: StreamRead + AppConfigRead + ConnectRead + ProtonRead {}

impl<T: StreamRead + AppConfigRead + ConnectRead + ProtonRead + ?Sized> ReadModel for T {}

/// Write access to all the projections: [`apply`] changes a state through it (together
/// with [`ReadModel`]), and [`MemState::write_part_into`] writes the entries of a fold to
/// one.
pub trait WriteModel: StreamWrite + AppConfigWrite + ConnectWrite + ProtonWrite {}

impl<T: StreamWrite + AppConfigWrite + ConnectWrite + ProtonWrite + ?Sized> WriteModel for T {}

/// Read access to the kernel's projections: streams and their versions, labels and
/// idempotency keys, whatever face a stream belongs to. Contract as [`ReadModel`]'s.
pub trait StreamRead {
    /// A stream's head, if a version was ever created in it.
    fn stream(&self, stream: &StreamId) -> Option<StreamHead>;
    /// A version record, deleted ones included. Borrowed where the implementation holds
    /// it (a replay checks every record against one), owned where it is decoded.
    fn version(&self, stream: &StreamId, version: StreamVersion) -> Option<Cow<'_, VersionRecord>>;
    /// The highest live version below `below`.
    fn live_version_below(&self, stream: &StreamId, below: StreamVersion) -> Option<StreamVersion>;
    /// The idempotency record for `token` in `stream`.
    fn idempotency(&self, stream: &StreamId, token: &str) -> Option<IdempotencyRecord>;
    /// The newest live version of `stream` carrying `label` (architecture.md §4).
    fn version_by_label(&self, stream: &StreamId, label: &str) -> Option<StreamVersion>;
}

/// Read access to AppConfig's projections. Contract as [`ReadModel`]'s.
pub trait AppConfigRead {
    /// An application, if it exists (deleted applications do not). Borrowed or owned as
    /// for [`StreamRead::version`].
    fn application(&self, id: &ApplicationId) -> Option<Cow<'_, ApplicationRecord>>;
    /// How many applications exist.
    fn application_count(&self) -> u64;
    /// A configuration profile, if it exists; borrowed or owned as for
    /// [`StreamRead::version`].
    fn profile(
        &self,
        application: &ApplicationId,
        id: &ProfileId,
    ) -> Option<Cow<'_, ProfileRecord>>;
    /// How many profiles an application has.
    fn profile_count(&self, application: &ApplicationId) -> u64;
    /// Total bytes of live hosted configuration versions (for the hosted store quota).
    fn hosted_bytes(&self) -> u64;
    /// An environment, if it exists.
    fn environment(
        &self,
        application: &ApplicationId,
        id: &EnvironmentId,
    ) -> Option<EnvironmentRecord>;
    /// How many environments an application has.
    fn environment_count(&self, application: &ApplicationId) -> u64;
    /// Whether an environment with this id was deleted from the application: such an id
    /// is never used again there.
    fn retired_environment(&self, application: &ApplicationId, id: &EnvironmentId) -> bool;
    /// A deployment strategy a user created, if it exists. Predefined strategies are not
    /// in the projections: they are kernel constants, see
    /// [`predefined_strategy`](crate::predefined_strategy).
    fn deployment_strategy(&self, id: &DeploymentStrategyId) -> Option<DeploymentStrategyRecord>;
    /// How many deployment strategies users created (predefined ones not counted).
    fn deployment_strategy_count(&self) -> u64;
    /// Deployment `number` of an environment.
    fn deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        number: u32,
    ) -> Option<DeploymentRecord>;
    /// The environment's deployment with the highest number.
    fn latest_deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
    ) -> Option<DeploymentRecord>;
}

/// Read access to Amazon Connect's projections. Contract as [`ReadModel`]'s.
pub trait ConnectRead {
    /// A Connect view, deleted ones included (their ids are never used again).
    fn view(&self, instance: &ConnectInstanceId, id: &ViewId) -> Option<ViewRecord>;
    /// The live view of the instance with this name.
    fn view_named(&self, instance: &ConnectInstanceId, name: &str) -> Option<ViewId>;
    /// How many live views the instance has.
    fn view_count(&self, instance: &ConnectInstanceId) -> u64;
    /// What a `CreateView` `ClientToken` of the instance first produced.
    fn view_token(&self, instance: &ConnectInstanceId, token: &str) -> Option<ViewTokenRecord>;
}

/// Read access to AWS Proton's projections. Contract as [`ReadModel`]'s.
pub trait ProtonRead {
    /// A Proton template's last generation, deleted or not.
    fn template(&self, name: &TemplateName) -> Option<TemplateRecord>;
    /// How many live templates there are.
    fn template_count(&self) -> u64;
    /// A live version of a template generation.
    fn template_version(
        &self,
        name: &TemplateName,
        generation: u32,
        version: TemplateVersion,
    ) -> Option<TemplateVersionRecord>;
    /// The numerically highest published live version of a template generation: its
    /// recommended version.
    fn recommended_version(&self, name: &TemplateName, generation: u32) -> Option<TemplateVersion>;
    /// The highest published live minor of a major: its recommended minor.
    fn recommended_minor(&self, name: &TemplateName, generation: u32, major: u64) -> Option<u64>;
    /// What a version `clientToken` of a template generation first produced.
    fn template_token(
        &self,
        name: &TemplateName,
        generation: u32,
        token: &str,
    ) -> Option<TemplateTokenRecord>;
}

/// Write access to the kernel's projections.
pub trait StreamWrite {
    /// Inserts or replaces a stream head.
    fn put_stream(&mut self, stream: &StreamId, head: StreamHead);
    /// Inserts or replaces a version record: borrowed when the caller keeps the record
    /// (writing a fold out, where versions are most of the entries), owned when it was
    /// just made.
    fn put_version(&mut self, record: Cow<'_, VersionRecord>);
    /// Adds `version` to the versions carrying `label`.
    fn put_label(&mut self, stream: &StreamId, label: &str, version: StreamVersion);
    /// Removes `version` from the versions carrying `label`.
    fn remove_label(&mut self, stream: &StreamId, label: &str, version: StreamVersion);
    /// Records that `stream`'s `version` has content `hash`.
    fn put_content_use(&mut self, hash: ContentHash, stream: &StreamId, version: StreamVersion);
    /// Forgets that `stream`'s `version` has content `hash`.
    fn remove_content_use(&mut self, hash: ContentHash, stream: &StreamId, version: StreamVersion);
    /// Records an idempotency key's first result.
    fn put_idempotency(&mut self, stream: &StreamId, token: &str, record: IdempotencyRecord);
}

/// Write access to AppConfig's projections.
pub trait AppConfigWrite {
    /// Inserts or replaces an application.
    fn put_application(&mut self, record: ApplicationRecord);
    /// Removes an application.
    fn remove_application(&mut self, id: &ApplicationId);
    /// Inserts or replaces a profile.
    fn put_profile(&mut self, record: ProfileRecord);
    /// Removes a profile.
    fn remove_profile(&mut self, application: &ApplicationId, id: &ProfileId);
    /// Sets the live hosted bytes total.
    fn set_hosted_bytes(&mut self, bytes: u64);
    /// Inserts or replaces an environment.
    fn put_environment(&mut self, record: EnvironmentRecord);
    /// Removes an environment.
    fn remove_environment(&mut self, application: &ApplicationId, id: &EnvironmentId);
    /// Records that an environment id was used and its environment deleted.
    fn put_retired_environment(&mut self, application: &ApplicationId, id: &EnvironmentId);
    /// Inserts or replaces a user deployment strategy.
    fn put_deployment_strategy(&mut self, record: DeploymentStrategyRecord);
    /// Removes a user deployment strategy.
    fn remove_deployment_strategy(&mut self, id: &DeploymentStrategyId);
    /// Inserts or replaces a deployment.
    fn put_deployment(&mut self, record: DeploymentRecord);
}

/// Write access to Amazon Connect's projections.
pub trait ConnectWrite {
    /// Inserts or replaces a view.
    fn put_view(&mut self, record: ViewRecord);
    /// Records that the instance's live view `name` is `id`.
    fn put_view_name(&mut self, instance: &ConnectInstanceId, name: &str, id: &ViewId);
    /// Frees a view name of the instance.
    fn remove_view_name(&mut self, instance: &ConnectInstanceId, name: &str);
    /// Records (or renews) a `CreateView` `ClientToken`.
    fn put_view_token(
        &mut self,
        instance: &ConnectInstanceId,
        token: &str,
        record: ViewTokenRecord,
    );
}

/// Write access to AWS Proton's projections.
pub trait ProtonWrite {
    /// Inserts or replaces a template.
    fn put_template(&mut self, record: TemplateRecord);
    /// Inserts or replaces a template version.
    fn put_template_version(&mut self, record: TemplateVersionRecord);
    /// Removes a template version.
    fn remove_template_version(
        &mut self,
        name: &TemplateName,
        generation: u32,
        version: TemplateVersion,
    );
    /// Records that a live version is published.
    fn put_published(&mut self, name: &TemplateName, generation: u32, version: TemplateVersion);
    /// Forgets that a version is published (it was deleted).
    fn remove_published(&mut self, name: &TemplateName, generation: u32, version: TemplateVersion);
    /// Records (or renews) a template version `clientToken`.
    fn put_template_token(
        &mut self,
        name: &TemplateName,
        generation: u32,
        token: &str,
        record: TemplateTokenRecord,
    );
}
