//! Events: what happened, in the past tense. Every state change is one event in the log
//! (architecture.md D2).
//!
//! The encoding of these types is part of the frozen record format (docs/design/event-log.md,
//! L-rules): variants and fields are only ever appended, never reordered or removed, and
//! any other change is a new format version.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::connect::{ConnectInstanceId, ViewId, ViewStatus};
use crate::content::ContentRef;
use crate::deployment::Schedule;
use crate::id::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, Position, ProfileId, StreamId,
    StreamVersion, Timestamp,
};
use crate::proton::{Provisioning, TemplateName, TemplateVersion, TemplateVersionStatus};
use crate::rejection::Rejection;

/// An event with its place in the log, as every reader of the log sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// Where it is in the log.
    pub position: Position,
    /// When the writer appended it (never earlier than the record before it).
    pub timestamp: Timestamp,
    /// Who asked for it, when known (for HTTP: the SigV4 access key id).
    pub actor: Option<String>,
    /// What happened.
    pub event: Event,
}

/// The kind of validator on a configuration profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValidatorKind {
    /// A JSON Schema document.
    JsonSchema,
    /// The ARN of a Lambda function (stored, not run).
    Lambda,
}

/// A validator as recorded: its kind and its content, kept in the content store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorRef {
    /// The validator kind.
    pub kind: ValidatorKind,
    /// The validator's content (schema text or Lambda ARN).
    pub content: ContentRef,
}

/// An idempotency key and the digest of the request that first used it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdempotencyKey {
    /// The caller's token.
    pub token: String,
    /// sha256 of the request's canonical form; a reuse with another digest is refused.
    pub digest: ContentHash,
}

/// A CloudWatch alarm an environment's deployments watch.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Monitor {
    /// The alarm's ARN, 1 to 2048 characters (`AlarmArn`).
    pub alarm_arn: String,
    /// The IAM role AppConfig would assume to read the alarm (`AlarmRoleArn`).
    pub alarm_role_arn: Option<String>,
}

/// Where an environment stands in its deployments. Deployments will move it; an
/// environment without any is `ReadyForDeployment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnvironmentState {
    /// Idle: a deployment may start (`READY_FOR_DEPLOYMENT`).
    ReadyForDeployment,
    /// A deployment is under way (`DEPLOYING`).
    Deploying,
    /// An alarm fired and the deployment is being rolled back (`ROLLING_BACK`).
    RollingBack,
    /// The last deployment was rolled back (`ROLLED_BACK`).
    RolledBack,
    /// The last deployment was reverted (`REVERTED`).
    Reverted,
}

impl EnvironmentState {
    /// The wire name, e.g. `READY_FOR_DEPLOYMENT`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ReadyForDeployment => "READY_FOR_DEPLOYMENT",
            Self::Deploying => "DEPLOYING",
            Self::RollingBack => "ROLLING_BACK",
            Self::RolledBack => "ROLLED_BACK",
            Self::Reverted => "REVERTED",
        }
    }
}

/// How a deployment strategy grows the share of targets that get the new configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GrowthType {
    /// The same step each interval (`LINEAR`), the default.
    #[default]
    Linear,
    /// The step doubles each interval (`EXPONENTIAL`).
    Exponential,
}

impl GrowthType {
    /// The wire name, `LINEAR` or `EXPONENTIAL`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Linear => "LINEAR",
            Self::Exponential => "EXPONENTIAL",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// `Invalid` naming `GrowthType` for anything else.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        match text {
            "LINEAR" => Ok(Self::Linear),
            "EXPONENTIAL" => Ok(Self::Exponential),
            _ => Err(Rejection::invalid(
                "GrowthType",
                format!("{text:?} is not LINEAR or EXPONENTIAL"),
            )),
        }
    }
}

/// Where a deployment strategy is copied to; fixed when the strategy is created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReplicateTo {
    /// Nowhere (`NONE`), the default.
    #[default]
    None,
    /// To an SSM document (`SSM_DOCUMENT`).
    SsmDocument,
}

impl ReplicateTo {
    /// The wire name, `NONE` or `SSM_DOCUMENT`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::SsmDocument => "SSM_DOCUMENT",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// `Invalid` naming `ReplicateTo` for anything else.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        match text {
            "NONE" => Ok(Self::None),
            "SSM_DOCUMENT" => Ok(Self::SsmDocument),
            _ => Err(Rejection::invalid(
                "ReplicateTo",
                format!("{text:?} is not NONE or SSM_DOCUMENT"),
            )),
        }
    }
}

/// A deployment strategy's step, in percent of targets: a finite 32-bit float from 1 to
/// 100 (the wire's `GrowthFactor`). Only valid values can be built, decoding included,
/// so equality and hashing by bit pattern agree with numeric equality.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(try_from = "f32", into = "f32")]
pub struct GrowthFactor(f32);

impl GrowthFactor {
    /// The smallest growth factor.
    pub const MIN: f32 = 1.0;
    /// The largest growth factor.
    pub const MAX: f32 = 100.0;

    /// `value` as a growth factor, or `None` when it is not a finite number from 1 to
    /// 100.
    #[must_use]
    pub const fn new(value: f32) -> Option<Self> {
        if value.is_finite() && value >= Self::MIN && value <= Self::MAX {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The value.
    #[must_use]
    pub const fn get(self) -> f32 {
        self.0
    }
}

impl TryFrom<f32> for GrowthFactor {
    type Error = Rejection;

    fn try_from(value: f32) -> Result<Self, Rejection> {
        Self::new(value)
            .ok_or_else(|| Rejection::invalid("GrowthFactor", format!("{value} is outside 1..100")))
    }
}

impl From<GrowthFactor> for f32 {
    fn from(g: GrowthFactor) -> Self {
        g.0
    }
}

impl PartialEq for GrowthFactor {
    fn eq(&self, other: &Self) -> bool {
        // Sound: values are finite and at least 1, so no NaN and no signed zero.
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for GrowthFactor {}

impl Hash for GrowthFactor {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl fmt::Display for GrowthFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A resource that carries tags.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaggedResource {
    /// An application.
    Application(ApplicationId),
    /// A configuration profile.
    Profile {
        /// The owning application.
        application: ApplicationId,
        /// The profile.
        profile: ProfileId,
    },
    /// An environment.
    Environment {
        /// The owning application.
        application: ApplicationId,
        /// The environment.
        environment: EnvironmentId,
    },
    /// A deployment strategy (predefined ones carry no tags and cannot be tagged).
    DeploymentStrategy(DeploymentStrategyId),
}

impl TaggedResource {
    /// The AppConfig resource type, as a not-found rejection names it, e.g.
    /// `ConfigurationProfile`.
    #[must_use]
    pub const fn resource_type(&self) -> &'static str {
        match self {
            Self::Application(_) => "Application",
            Self::Profile { .. } => "ConfigurationProfile",
            Self::Environment { .. } => "Environment",
            Self::DeploymentStrategy(_) => "DeploymentStrategy",
        }
    }
}

impl fmt::Display for TaggedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Application(id) => write!(f, "application {id}"),
            Self::Profile {
                application,
                profile,
            } => write!(
                f,
                "configuration profile {profile} of application {application}"
            ),
            Self::Environment {
                application,
                environment,
            } => write!(f, "environment {environment} of application {application}"),
            Self::DeploymentStrategy(id) => write!(f, "deployment strategy {id}"),
        }
    }
}

/// Everything that can happen. Append-only (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// An application was created.
    ApplicationCreated {
        /// Its id.
        application: ApplicationId,
        /// Its name.
        name: String,
        /// Its description.
        description: Option<String>,
        /// Its tags.
        tags: BTreeMap<String, String>,
    },
    /// An application's name or description changed; the event holds the new values.
    ApplicationUpdated {
        /// Its id.
        application: ApplicationId,
        /// The name after the update.
        name: String,
        /// The description after the update.
        description: Option<String>,
    },
    /// An application was deleted.
    ApplicationDeleted {
        /// Its id.
        application: ApplicationId,
    },
    /// A configuration profile was created.
    ProfileCreated {
        /// The owning application.
        application: ApplicationId,
        /// Its id.
        profile: ProfileId,
        /// Its name.
        name: String,
        /// Its description.
        description: Option<String>,
        /// Where its content lives (`hosted` for the hosted store).
        location_uri: String,
        /// The role AppConfig would use to read a non-hosted location.
        retrieval_role_arn: Option<String>,
        /// Up to two validators.
        validators: Vec<ValidatorRef>,
        /// `AWS.Freeform`, `AWS.AppConfig.FeatureFlags`, ...
        profile_type: Option<String>,
        /// The KMS key identifier given by the caller.
        kms_key_identifier: Option<String>,
        /// Its tags.
        tags: BTreeMap<String, String>,
    },
    /// A configuration profile changed; the event holds the values after the update.
    ProfileUpdated {
        /// The owning application.
        application: ApplicationId,
        /// Its id.
        profile: ProfileId,
        /// The name after the update.
        name: String,
        /// The description after the update.
        description: Option<String>,
        /// The retrieval role after the update.
        retrieval_role_arn: Option<String>,
        /// The validators after the update.
        validators: Vec<ValidatorRef>,
        /// The KMS key identifier after the update.
        kms_key_identifier: Option<String>,
    },
    /// A configuration profile was deleted.
    ProfileDeleted {
        /// The owning application.
        application: ApplicationId,
        /// Its id.
        profile: ProfileId,
    },
    /// A version was appended to a stream. The preconditions the command carried are
    /// recorded so that replay can check them again (invariant E5).
    VersionCreated {
        /// The stream.
        stream: StreamId,
        /// The new version: the stream's last assigned number plus one.
        version: StreamVersion,
        /// The content.
        content: ContentRef,
        /// Its MIME type.
        content_type: Option<String>,
        /// Its description.
        description: Option<String>,
        /// Its label.
        label: Option<String>,
        /// The latest live version the caller expected (0 for none), if it said.
        expected_latest: Option<StreamVersion>,
        /// The content hash of the latest live version the caller expected, if it said.
        expected_content: Option<ContentHash>,
        /// The idempotency key, if any.
        idempotency: Option<IdempotencyKey>,
    },
    /// A version was deleted. Its number is never handed out again.
    VersionDeleted {
        /// The stream.
        stream: StreamId,
        /// The deleted version.
        version: StreamVersion,
    },
    /// An environment was created, ready for deployment.
    EnvironmentCreated {
        /// The owning application.
        application: ApplicationId,
        /// Its id, never used before in the application.
        environment: EnvironmentId,
        /// Its name.
        name: String,
        /// Its description.
        description: Option<String>,
        /// The alarms its deployments watch (at most 5).
        monitors: Vec<Monitor>,
        /// Its tags.
        tags: BTreeMap<String, String>,
    },
    /// An environment changed; the event holds the values after the update.
    EnvironmentUpdated {
        /// The owning application.
        application: ApplicationId,
        /// Its id.
        environment: EnvironmentId,
        /// The name after the update.
        name: String,
        /// The description after the update.
        description: Option<String>,
        /// The monitors after the update.
        monitors: Vec<Monitor>,
    },
    /// An environment was deleted. Its id is never used again in its application.
    EnvironmentDeleted {
        /// The owning application.
        application: ApplicationId,
        /// Its id.
        environment: EnvironmentId,
    },
    /// A user deployment strategy was created (predefined ones are never recorded).
    DeploymentStrategyCreated {
        /// Its id.
        strategy: DeploymentStrategyId,
        /// Its name.
        name: String,
        /// Its description.
        description: Option<String>,
        /// Minutes a deployment takes to reach every target (0 to 1440).
        deployment_duration_in_minutes: u32,
        /// Minutes alarms are watched after the last step (0 to 1440).
        final_bake_time_in_minutes: u32,
        /// The step, in percent of targets.
        growth_factor: GrowthFactor,
        /// How steps grow.
        growth_type: GrowthType,
        /// Where the strategy is copied to.
        replicate_to: ReplicateTo,
        /// Its tags.
        tags: BTreeMap<String, String>,
    },
    /// A user deployment strategy changed; the event holds the values after the update.
    DeploymentStrategyUpdated {
        /// Its id.
        strategy: DeploymentStrategyId,
        /// The description after the update.
        description: Option<String>,
        /// The deployment duration after the update.
        deployment_duration_in_minutes: u32,
        /// The final bake time after the update.
        final_bake_time_in_minutes: u32,
        /// The growth factor after the update.
        growth_factor: GrowthFactor,
        /// The growth type after the update.
        growth_type: GrowthType,
    },
    /// A user deployment strategy was deleted.
    DeploymentStrategyDeleted {
        /// Its id.
        strategy: DeploymentStrategyId,
    },
    /// A resource's tags changed; the event holds the whole map after the change.
    TagsChanged {
        /// The tagged resource.
        resource: TaggedResource,
        /// Every tag it carries after the change.
        tags: BTreeMap<String, String>,
    },
    /// A deployment started (docs/design/deployments.md). Its progress is a function of
    /// time; no later event records it.
    DeploymentStarted {
        /// The application.
        application: ApplicationId,
        /// The environment.
        environment: EnvironmentId,
        /// The environment's last deployment number plus one (invariant P1).
        number: u32,
        /// The configuration profile.
        profile: ProfileId,
        /// The profile's name at the start.
        configuration_name: String,
        /// The profile's location.
        location_uri: String,
        /// The hosted version deployed, resolved from a number or a label.
        version: StreamVersion,
        /// That version's label.
        version_label: Option<String>,
        /// That version's content.
        content: ContentRef,
        /// That version's MIME type.
        content_type: Option<String>,
        /// The strategy.
        strategy: DeploymentStrategyId,
        /// The strategy's values at the start.
        schedule: Schedule,
        /// Its description.
        description: Option<String>,
        /// The KMS key identifier given by the caller.
        kms_key_identifier: Option<String>,
        /// Its tags.
        tags: BTreeMap<String, String>,
        /// The latest deployment number the caller expected (0 for none), if it said.
        expected_latest: Option<u32>,
    },
    /// A deployment was stopped: rolled back while in progress, or reverted after it
    /// completed.
    DeploymentStopped {
        /// The application.
        application: ApplicationId,
        /// The environment.
        environment: EnvironmentId,
        /// The deployment.
        number: u32,
        /// True for a revert of a completed deployment.
        revert: bool,
    },
    /// A Connect view was created; its content is `$SAVED`, and `$LATEST` too when the
    /// status is `Published`.
    ViewCreated {
        /// The instance.
        instance: ConnectInstanceId,
        /// Its id.
        view: ViewId,
        /// Its name, unique among the instance's live views.
        name: String,
        /// Its description.
        description: Option<String>,
        /// The status of this write.
        status: ViewStatus,
        /// Its content, in canonical form ([`crate::ViewContent`]).
        content: ContentRef,
        /// Its tags.
        tags: BTreeMap<String, String>,
        /// The `ClientToken`, with the digest of the request, when one was given.
        client_token: Option<IdempotencyKey>,
    },
    /// A view's content was written: `$SAVED` moves, and `$LATEST` when `Published`.
    ViewContentUpdated {
        /// The instance.
        instance: ConnectInstanceId,
        /// The view.
        view: ViewId,
        /// The status of this write.
        status: ViewStatus,
        /// The content written, in canonical form.
        content: ContentRef,
    },
    /// A view's name or description changed; the event holds the values after it.
    ViewMetadataUpdated {
        /// The instance.
        instance: ConnectInstanceId,
        /// The view.
        view: ViewId,
        /// The name after the update.
        name: String,
        /// The description after the update.
        description: Option<String>,
    },
    /// A view was deleted (its versions were deleted just before, in the same group).
    ViewDeleted {
        /// The instance.
        instance: ConnectInstanceId,
        /// The view.
        view: ViewId,
    },
    /// A Proton environment template was created (a new generation of its name).
    EnvironmentTemplateCreated {
        /// Its name.
        template: TemplateName,
        /// 1 for a new name, the previous generation + 1 after a delete.
        generation: u32,
        /// Its display name.
        display_name: Option<String>,
        /// Its description.
        description: Option<String>,
        /// Its KMS key ARN.
        encryption_key: Option<String>,
        /// Its provisioning.
        provisioning: Option<Provisioning>,
        /// Its tags.
        tags: BTreeMap<String, String>,
        /// The digest of the create request: an identical create of a live template
        /// answers with it, another one is refused.
        request_digest: ContentHash,
    },
    /// A template was deleted (it had no live versions).
    EnvironmentTemplateDeleted {
        /// Its name.
        template: TemplateName,
        /// The generation deleted.
        generation: u32,
    },
    /// A template version was registered: the last event of the group that creates it.
    EnvironmentTemplateVersionRegistered {
        /// The template.
        template: TemplateName,
        /// The generation.
        generation: u32,
        /// The version.
        version: TemplateVersion,
        /// `Draft` (`RegistrationFailed` is reserved).
        status: TemplateVersionStatus,
        /// Why registration failed, if it did.
        status_message: Option<String>,
        /// Its tags.
        tags: BTreeMap<String, String>,
        /// The `clientToken` with the digest of the request; its scope is the template
        /// generation.
        client_token: Option<IdempotencyKey>,
    },
    /// A template version's status or description changed; holds the values after it.
    EnvironmentTemplateVersionUpdated {
        /// The template.
        template: TemplateName,
        /// The generation.
        generation: u32,
        /// The version.
        version: TemplateVersion,
        /// The status after the update.
        status: TemplateVersionStatus,
        /// The description after the update.
        description: Option<String>,
    },
}

impl Event {
    /// A short, stable name for logs and audit output, e.g. `VersionCreated`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::ApplicationCreated { .. } => "ApplicationCreated",
            Self::ApplicationUpdated { .. } => "ApplicationUpdated",
            Self::ApplicationDeleted { .. } => "ApplicationDeleted",
            Self::ProfileCreated { .. } => "ProfileCreated",
            Self::ProfileUpdated { .. } => "ProfileUpdated",
            Self::ProfileDeleted { .. } => "ProfileDeleted",
            Self::VersionCreated { .. } => "VersionCreated",
            Self::VersionDeleted { .. } => "VersionDeleted",
            Self::EnvironmentCreated { .. } => "EnvironmentCreated",
            Self::EnvironmentUpdated { .. } => "EnvironmentUpdated",
            Self::EnvironmentDeleted { .. } => "EnvironmentDeleted",
            Self::DeploymentStrategyCreated { .. } => "DeploymentStrategyCreated",
            Self::DeploymentStrategyUpdated { .. } => "DeploymentStrategyUpdated",
            Self::DeploymentStrategyDeleted { .. } => "DeploymentStrategyDeleted",
            Self::TagsChanged { .. } => "TagsChanged",
            Self::DeploymentStarted { .. } => "DeploymentStarted",
            Self::DeploymentStopped { .. } => "DeploymentStopped",
            Self::ViewCreated { .. } => "ViewCreated",
            Self::ViewContentUpdated { .. } => "ViewContentUpdated",
            Self::ViewMetadataUpdated { .. } => "ViewMetadataUpdated",
            Self::ViewDeleted { .. } => "ViewDeleted",
            Self::EnvironmentTemplateCreated { .. } => "EnvironmentTemplateCreated",
            Self::EnvironmentTemplateDeleted { .. } => "EnvironmentTemplateDeleted",
            Self::EnvironmentTemplateVersionRegistered { .. } => {
                "EnvironmentTemplateVersionRegistered"
            }
            Self::EnvironmentTemplateVersionUpdated { .. } => "EnvironmentTemplateVersionUpdated",
        }
    }

    /// Every content reference the event holds: the store must hold each of them.
    #[must_use]
    pub fn contents(&self) -> Vec<ContentRef> {
        match self {
            Self::ProfileCreated { validators, .. } | Self::ProfileUpdated { validators, .. } => {
                validators.iter().map(|v| v.content).collect()
            }
            Self::VersionCreated { content, .. }
            | Self::ViewCreated { content, .. }
            | Self::ViewContentUpdated { content, .. } => vec![*content],
            _ => Vec::new(),
        }
    }
}
