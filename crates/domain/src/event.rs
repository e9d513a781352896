//! Events: what happened, in the past tense. Every state change is one event in the log
//! (architecture.md D2).
//!
//! The encoding of these types is part of the frozen record format (docs/design/event-log.md,
//! L-rules): variants and fields are only ever appended, never reordered or removed, and
//! any other change is a new format version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::content::ContentRef;
use crate::id::{
    ApplicationId, ContentHash, Position, ProfileId, StreamId, StreamVersion, Timestamp,
};

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
        }
    }

    /// Every content reference the event holds: the store must hold each of them.
    #[must_use]
    pub fn contents(&self) -> Vec<ContentRef> {
        match self {
            Self::ProfileCreated { validators, .. } | Self::ProfileUpdated { validators, .. } => {
                validators.iter().map(|v| v.content).collect()
            }
            Self::VersionCreated { content, .. } => vec![*content],
            _ => Vec::new(),
        }
    }
}
