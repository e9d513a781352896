//! The records the projections hold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::connect::{ConnectInstanceId, ViewId, ViewStatus};
use crate::content::ContentRef;
use crate::event::{
    EnvironmentState, GrowthFactor, GrowthType, Monitor, ReplicateTo, ValidatorRef,
};
use crate::id::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, Position, ProfileId, StreamId,
    StreamVersion, Timestamp,
};
use crate::proton::{Provisioning, TemplateName, TemplateVersion, TemplateVersionStatus};

/// An application, as the catalog holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRecord {
    /// Its id.
    pub id: ApplicationId,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The position of the event that created it.
    pub created: Position,
}

/// A configuration profile, as the catalog holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRecord {
    /// The owning application.
    pub application: ApplicationId,
    /// Its id.
    pub id: ProfileId,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Where its content lives (`hosted` for the hosted store).
    pub location_uri: String,
    /// The retrieval role.
    pub retrieval_role_arn: Option<String>,
    /// Its validators.
    pub validators: Vec<ValidatorRef>,
    /// Its type.
    pub profile_type: Option<String>,
    /// Its KMS key identifier.
    pub kms_key_identifier: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The position of the event that created it.
    pub created: Position,
}

/// An environment, as the catalog holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRecord {
    /// The owning application.
    pub application: ApplicationId,
    /// Its id.
    pub id: EnvironmentId,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The alarms its deployments watch.
    pub monitors: Vec<Monitor>,
    /// Where it stands in its deployments (`ReadyForDeployment` until deployments exist).
    pub state: EnvironmentState,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The position of the event that created it.
    pub created: Position,
}

/// A deployment strategy: a user's, as the catalog holds it, or one of AppConfig's
/// predefined ones ([`predefined_strategies`](crate::predefined_strategies)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStrategyRecord {
    /// Its id.
    pub id: DeploymentStrategyId,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Minutes a deployment takes to reach every target.
    pub deployment_duration_in_minutes: u32,
    /// Minutes alarms are watched after the last step.
    pub final_bake_time_in_minutes: u32,
    /// The step, in percent of targets.
    pub growth_factor: GrowthFactor,
    /// How steps grow.
    pub growth_type: GrowthType,
    /// Where the strategy is copied to.
    pub replicate_to: ReplicateTo,
    /// Its tags (always empty for predefined strategies).
    pub tags: BTreeMap<String, String>,
    /// The position of the event that created it; position 0 (before the first record)
    /// for the predefined strategies, which exist in every store without an event.
    pub created: Position,
}

impl DeploymentStrategyRecord {
    /// True for AppConfig's predefined strategies.
    #[must_use]
    pub fn is_predefined(&self) -> bool {
        self.id.is_predefined()
    }
}

/// The head of a stream: the latest-version projection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHead {
    /// The highest version number ever assigned (0 before the first). The next version
    /// is this plus one, whatever was deleted (invariant E4).
    pub last_assigned: u64,
    /// The highest version that is not deleted.
    pub latest_live: Option<StreamVersion>,
}

/// One version of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The stream.
    pub stream: StreamId,
    /// The version number.
    pub version: StreamVersion,
    /// The position of the event that created it.
    pub position: Position,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it, when known.
    pub actor: Option<String>,
    /// Its content.
    pub content: ContentRef,
    /// Its MIME type.
    pub content_type: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// The position of the event that deleted it, if it was deleted.
    pub deleted: Option<Position>,
}

impl VersionRecord {
    /// True unless it was deleted.
    #[must_use]
    pub const fn is_live(&self) -> bool {
        self.deleted.is_none()
    }
}

/// What an idempotency key first produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The digest of the request that first used the key.
    pub digest: ContentHash,
    /// The version that request created.
    pub version: StreamVersion,
}

/// A Connect view, as the catalog holds it: its metadata and its two aliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewRecord {
    /// The instance.
    pub instance: ConnectInstanceId,
    /// Its id.
    pub id: ViewId,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The status of the last content write (`$SAVED`'s status).
    pub status: ViewStatus,
    /// `$SAVED`: the content of the last content write.
    pub saved: ContentRef,
    /// `$LATEST`: the content of the last published write, if any.
    pub latest: Option<ContentRef>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The position of the event that created it.
    pub created: Position,
    /// When it was created.
    pub created_at: Timestamp,
    /// When a view event last changed it.
    pub modified_at: Timestamp,
    /// The position of the event that deleted it, if it was deleted. A deleted view's
    /// record stays, so that its id is never used again (invariant V1).
    pub deleted: Option<Position>,
}

impl ViewRecord {
    /// True unless it was deleted.
    #[must_use]
    pub const fn is_live(&self) -> bool {
        self.deleted.is_none()
    }
}

/// What a `CreateView` `ClientToken` first produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewTokenRecord {
    /// The digest of the request that first used the token.
    pub digest: ContentHash,
    /// The view it created.
    pub view: ViewId,
    /// When it was first used; the token is in force for
    /// [`IDEMPOTENCY_WINDOW_MILLIS`](crate::stream::IDEMPOTENCY_WINDOW_MILLIS) from then.
    pub first_used: Timestamp,
}

/// A Proton environment template, as the catalog holds it (its last generation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRecord {
    /// Its name.
    pub name: TemplateName,
    /// Which creation of the name.
    pub generation: u32,
    /// Its display name.
    pub display_name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its KMS key ARN.
    pub encryption_key: Option<String>,
    /// Its provisioning.
    pub provisioning: Option<Provisioning>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The digest of the request that created it.
    pub request_digest: ContentHash,
    /// The position of the event that created it.
    pub created: Position,
    /// When it was created (also its last modification: nothing in scope modifies one).
    pub created_at: Timestamp,
    /// The position of the event that deleted it, if it was: the record stays so that
    /// the next creation of the name gets the next generation (invariant T1).
    pub deleted: Option<Position>,
}

impl TemplateRecord {
    /// True unless it was deleted.
    #[must_use]
    pub const fn is_live(&self) -> bool {
        self.deleted.is_none()
    }
}

/// A live template version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateVersionRecord {
    /// The template.
    pub template: TemplateName,
    /// The generation.
    pub generation: u32,
    /// The version.
    pub version: TemplateVersion,
    /// Its status.
    pub status: TemplateVersionStatus,
    /// Why registration failed, if it did.
    pub status_message: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its tags. (Its source is the kernel's: the content of its minor's version.)
    pub tags: BTreeMap<String, String>,
    /// The position of the event that created it.
    pub created: Position,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub modified_at: Timestamp,
}

/// What a template version `clientToken` first produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateTokenRecord {
    /// The digest of the request that first used the token.
    pub digest: ContentHash,
    /// The version it created.
    pub version: TemplateVersion,
    /// When it was first used.
    pub first_used: Timestamp,
}
