//! Commands: what a caller asks for, in the imperative. Fields are already typed; the
//! values are checked by `decide`.

use std::collections::BTreeMap;

use crate::connect::{ConnectInstanceId, EncodedViewContent, ViewId, ViewStatus};
use crate::content::Content;
use crate::event::{
    GrowthFactor, GrowthType, IdempotencyKey, Monitor, ReplicateTo, TaggedResource, ValidatorKind,
};
use crate::id::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, ProfileId, StreamVersion,
};
use crate::proton::{Provisioning, TemplateName, TemplateVersion, TemplateVersionStatus};

/// A validator as a caller supplies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorInput {
    /// The validator kind.
    pub kind: ValidatorKind,
    /// The schema text or Lambda ARN.
    pub content: Content,
}

/// Create an application with a caller-chosen (usually random) id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateApplication {
    /// The new id; refused as `AlreadyExists` if taken.
    pub id: ApplicationId,
    /// 1 to 64 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// At most 50 tags.
    pub tags: BTreeMap<String, String>,
}

/// Change an application's name or description; `None` leaves a field as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateApplication {
    /// Which application.
    pub id: ApplicationId,
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
}

/// Delete an application that has no configuration profiles left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteApplication {
    /// Which application.
    pub id: ApplicationId,
}

/// Create a configuration profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateProfile {
    /// The owning application.
    pub application: ApplicationId,
    /// The new id; refused as `AlreadyExists` if taken.
    pub id: ProfileId,
    /// 1 to 128 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// `hosted`, or where the content lives; 1 to 2048 characters.
    pub location_uri: String,
    /// An IAM role ARN.
    pub retrieval_role_arn: Option<String>,
    /// At most two.
    pub validators: Vec<ValidatorInput>,
    /// `AWS.Freeform`, `AWS.AppConfig.FeatureFlags`, ...
    pub profile_type: Option<String>,
    /// 1 to 2048 characters.
    pub kms_key_identifier: Option<String>,
    /// At most 50 tags.
    pub tags: BTreeMap<String, String>,
}

/// Change a configuration profile; `None` leaves a field as it is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UpdateProfile {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
    /// The new retrieval role.
    pub retrieval_role_arn: Option<String>,
    /// The new validators (an empty list removes them all).
    pub validators: Option<Vec<ValidatorInput>>,
    /// The new KMS key identifier; an empty string removes it.
    pub kms_key_identifier: Option<String>,
}

/// Create a hosted configuration version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateHostedVersion {
    /// The owning application.
    pub application: ApplicationId,
    /// The hosted profile.
    pub profile: ProfileId,
    /// The configuration bytes.
    pub content: Content,
    /// 1 to 255 characters.
    pub content_type: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// 1 to 64 characters, not all digits.
    pub label: Option<String>,
    /// The optimistic lock: the latest version the caller saw (0 for none).
    pub latest_version_number: Option<StreamVersion>,
}

/// Create an environment in an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateEnvironment {
    /// The owning application.
    pub application: ApplicationId,
    /// The new id; refused as `AlreadyExists` if taken or ever used in the application.
    pub id: EnvironmentId,
    /// 1 to 64 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// At most 5.
    pub monitors: Vec<Monitor>,
    /// At most 50 tags.
    pub tags: BTreeMap<String, String>,
}

/// Change an environment; `None` leaves a field as it is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UpdateEnvironment {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
    /// The new monitors, replacing the old list (an empty list removes them all).
    pub monitors: Option<Vec<Monitor>>,
}

/// Create a deployment strategy with a caller-chosen (usually random) id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateDeploymentStrategy {
    /// The new id: `[a-z0-9]{4,7}`, not predefined; refused as `AlreadyExists` if taken.
    pub id: DeploymentStrategyId,
    /// 1 to 64 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// 0 to 1440.
    pub deployment_duration_in_minutes: u32,
    /// 0 to 1440; default 0.
    pub final_bake_time_in_minutes: Option<u32>,
    /// 1 to 100 (the type holds only valid values).
    pub growth_factor: GrowthFactor,
    /// Default `Linear`.
    pub growth_type: Option<GrowthType>,
    /// Default `None`; cannot be changed later.
    pub replicate_to: Option<ReplicateTo>,
    /// At most 50 tags.
    pub tags: BTreeMap<String, String>,
}

/// Change a deployment strategy; `None` leaves a field as it is. Its name and
/// `ReplicateTo` cannot be changed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UpdateDeploymentStrategy {
    /// The new description.
    pub description: Option<String>,
    /// The new deployment duration, 0 to 1440.
    pub deployment_duration_in_minutes: Option<u32>,
    /// The new final bake time, 0 to 1440.
    pub final_bake_time_in_minutes: Option<u32>,
    /// The new growth factor.
    pub growth_factor: Option<GrowthFactor>,
    /// The new growth type.
    pub growth_type: Option<GrowthType>,
}

/// Which hosted version a deployment deploys: the wire's `ConfigurationVersion`, a
/// number or a label (labels always contain a non-digit, so the two never collide).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSelector {
    /// A version number.
    Number(StreamVersion),
    /// The newest live version carrying this label (architecture.md §4).
    Label(String),
}

impl VersionSelector {
    /// Reads the wire's `ConfigurationVersion`: all digits is a number, anything else a
    /// label.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        if !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = text.parse::<u64>()
        {
            return Self::Number(StreamVersion::new(n));
        }
        Self::Label(text.to_owned())
    }
}

/// Start a deployment of a hosted version to an environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartDeployment {
    /// The application.
    pub application: ApplicationId,
    /// The environment.
    pub environment: EnvironmentId,
    /// The configuration profile (hosted).
    pub profile: ProfileId,
    /// Which version.
    pub version: VersionSelector,
    /// A predefined or user strategy.
    pub strategy: DeploymentStrategyId,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// 1 to 2048 characters.
    pub kms_key_identifier: Option<String>,
    /// At most 50 tags.
    pub tags: BTreeMap<String, String>,
    /// The optimistic lock: the latest deployment number the caller saw (0 for none).
    pub latest_deployment_number: Option<u32>,
}

/// Everything a caller can ask the store to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// See [`CreateApplication`].
    CreateApplication(CreateApplication),
    /// See [`UpdateApplication`].
    UpdateApplication(UpdateApplication),
    /// See [`DeleteApplication`].
    DeleteApplication(DeleteApplication),
    /// See [`CreateProfile`].
    CreateProfile(CreateProfile),
    /// Update the profile `(application, profile)`.
    UpdateProfile {
        /// The owning application.
        application: ApplicationId,
        /// Which profile.
        profile: ProfileId,
        /// The changes.
        changes: UpdateProfile,
    },
    /// Delete a profile that has no live hosted versions left.
    DeleteProfile {
        /// The owning application.
        application: ApplicationId,
        /// Which profile.
        profile: ProfileId,
    },
    /// See [`CreateHostedVersion`].
    CreateHostedVersion(CreateHostedVersion),
    /// Delete one hosted configuration version; its number is never reused.
    DeleteHostedVersion {
        /// The owning application.
        application: ApplicationId,
        /// The profile.
        profile: ProfileId,
        /// Which version.
        version: StreamVersion,
    },
    /// See [`CreateEnvironment`].
    CreateEnvironment(CreateEnvironment),
    /// Update the environment `(application, environment)`.
    UpdateEnvironment {
        /// The owning application.
        application: ApplicationId,
        /// Which environment.
        environment: EnvironmentId,
        /// The changes.
        changes: UpdateEnvironment,
    },
    /// Delete an environment; its id is never used again in the application.
    DeleteEnvironment {
        /// The owning application.
        application: ApplicationId,
        /// Which environment.
        environment: EnvironmentId,
    },
    /// See [`CreateDeploymentStrategy`].
    CreateDeploymentStrategy(CreateDeploymentStrategy),
    /// Update a user deployment strategy (predefined ones are refused).
    UpdateDeploymentStrategy {
        /// Which strategy.
        strategy: DeploymentStrategyId,
        /// The changes.
        changes: UpdateDeploymentStrategy,
    },
    /// Delete a user deployment strategy (predefined ones are refused).
    DeleteDeploymentStrategy {
        /// Which strategy.
        strategy: DeploymentStrategyId,
    },
    /// Add tags to a resource, overwriting the values of keys it already has.
    TagResource {
        /// The resource.
        resource: TaggedResource,
        /// The tags to add or overwrite.
        tags: BTreeMap<String, String>,
    },
    /// Remove tags from a resource; keys it does not have are ignored.
    UntagResource {
        /// The resource.
        resource: TaggedResource,
        /// The keys to remove (at most 50, each 1 to 128 characters).
        keys: Vec<String>,
    },
    /// See [`StartDeployment`].
    StartDeployment(StartDeployment),
    /// Stop a deployment: roll back one in progress, or, with `allow_revert`, revert the
    /// environment's latest deployment within 72 hours of its completion.
    StopDeployment {
        /// The application.
        application: ApplicationId,
        /// The environment.
        environment: EnvironmentId,
        /// The deployment.
        number: u32,
        /// The wire's `Allow-Revert`.
        allow_revert: bool,
    },
    /// See [`CreateView`].
    CreateView(CreateView),
    /// Write a view's content: `$SAVED` moves, and `$LATEST` when `Published`.
    UpdateViewContent {
        /// The instance.
        instance: ConnectInstanceId,
        /// Which view.
        view: ViewId,
        /// The status of the write.
        status: ViewStatus,
        /// The content, encoded and checked on the caller's thread.
        content: EncodedViewContent,
    },
    /// Change a view's name or description; `None` leaves a field as it is, and at least
    /// one must be given.
    UpdateViewMetadata {
        /// The instance.
        instance: ConnectInstanceId,
        /// Which view.
        view: ViewId,
        /// The new name.
        name: Option<String>,
        /// The new description.
        description: Option<String>,
    },
    /// Delete a view with all its versions.
    DeleteView {
        /// The instance.
        instance: ConnectInstanceId,
        /// Which view.
        view: ViewId,
    },
    /// Freeze a view's `$LATEST` into a new numbered version, or answer with the highest
    /// live version when `$LATEST` equals its content.
    CreateViewVersion {
        /// The instance.
        instance: ConnectInstanceId,
        /// Which view.
        view: ViewId,
        /// The `VersionDescription`.
        version_description: Option<String>,
        /// The `ViewContentSha256` the caller expects `$LATEST` to have.
        expected_content: Option<ContentHash>,
    },
    /// Delete one view version; its number is never reused.
    DeleteViewVersion {
        /// The instance.
        instance: ConnectInstanceId,
        /// Which view.
        view: ViewId,
        /// Which version.
        version: StreamVersion,
    },
    /// See [`CreateEnvironmentTemplate`].
    CreateEnvironmentTemplate(CreateEnvironmentTemplate),
    /// Delete a template that has no live versions; nothing when it does not exist.
    DeleteEnvironmentTemplate {
        /// Which template.
        template: TemplateName,
    },
    /// See [`CreateEnvironmentTemplateVersion`].
    CreateEnvironmentTemplateVersion(CreateEnvironmentTemplateVersion),
    /// Change a template version's status (`DRAFT` → `PUBLISHED`) or description.
    UpdateEnvironmentTemplateVersion {
        /// The template.
        template: TemplateName,
        /// Which version.
        version: TemplateVersion,
        /// The new status.
        status: Option<TemplateVersionStatus>,
        /// The new description.
        description: Option<String>,
    },
    /// Delete a template version under the recommended-version rules; nothing when it
    /// does not exist.
    DeleteEnvironmentTemplateVersion {
        /// The template.
        template: TemplateName,
        /// Which version.
        version: TemplateVersion,
    },
}

/// Create a Proton environment template; an identical create of a live template answers
/// with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateEnvironmentTemplate {
    /// Its name.
    pub template: TemplateName,
    /// 1 to 100 characters.
    pub display_name: Option<String>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// A KMS key ARN.
    pub encryption_key: Option<String>,
    /// Its provisioning.
    pub provisioning: Option<Provisioning>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
    /// The digest of every field above.
    pub request_digest: ContentHash,
}

/// Create a template version: a new major (`major` absent) or the next minor of `major`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateEnvironmentTemplateVersion {
    /// The template.
    pub template: TemplateName,
    /// The major to add a minor to; `None` for a new major.
    pub major: Option<u64>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// The canonical bytes of a [`TemplateSource`](crate::proton::TemplateSource).
    pub source: Content,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
    /// The `clientToken`, with the digest of this request.
    pub client_token: Option<IdempotencyKey>,
}

/// Create a Connect view with a store-drawn id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateView {
    /// The instance (a namespace).
    pub instance: ConnectInstanceId,
    /// The new id.
    pub id: ViewId,
    /// 1 to 255 characters, unique among the instance's live views.
    pub name: String,
    /// 1 to 4096 characters.
    pub description: Option<String>,
    /// `Saved` moves `$SAVED`; `Published` moves `$SAVED` and `$LATEST`.
    pub status: ViewStatus,
    /// The content, encoded and checked on the caller's thread.
    pub content: EncodedViewContent,
    /// 1 to 50 tags when present.
    pub tags: BTreeMap<String, String>,
    /// The `ClientToken`, with the digest of this request.
    pub client_token: Option<IdempotencyKey>,
}

impl Command {
    /// Every content the command brings: the store keeps those that its events refer to.
    #[must_use]
    pub fn contents(&self) -> Vec<&Content> {
        match self {
            Self::CreateProfile(c) => c.validators.iter().map(|v| &v.content).collect(),
            Self::UpdateProfile { changes, .. } => changes
                .validators
                .iter()
                .flatten()
                .map(|v| &v.content)
                .collect(),
            Self::CreateHostedVersion(c) => vec![&c.content],
            Self::CreateView(c) => vec![c.content.content()],
            Self::UpdateViewContent { content, .. } => vec![content.content()],
            Self::CreateEnvironmentTemplateVersion(c) => vec![&c.source],
            _ => Vec::new(),
        }
    }
}
