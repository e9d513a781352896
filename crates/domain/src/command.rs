//! Commands: what a caller asks for, in the imperative. Fields are already typed; the
//! values are checked by `decide`.

use std::collections::BTreeMap;

use crate::content::Content;
use crate::event::ValidatorKind;
use crate::id::{ApplicationId, ProfileId, StreamVersion};

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
            _ => Vec::new(),
        }
    }
}
