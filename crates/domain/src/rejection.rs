//! Rejections: the outcomes that are the caller's fault.
//!
//! A rejected command appends nothing. Rejections are values, never fail-stop errors, and
//! are never logged above `debug` (style 3.6). Each [`RejectionKind`] names the AWS error
//! it becomes on the wire.

use std::fmt;

use crate::id::{ContentHash, StreamVersion};

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// A field breaks a documented constraint. AppConfig: `BadRequestException` (400).
    Invalid,
    /// The named resource does not exist. AppConfig: `ResourceNotFoundException` (404).
    NotFound,
    /// A resource with this id already exists. Connect: `DuplicateResourceException`.
    AlreadyExists,
    /// The expected latest version is not the latest. AppConfig: `ConflictException` (409).
    VersionMismatch,
    /// The expected content hash is not the latest version's. Connect:
    /// `InvalidParameterException`.
    ContentMismatch,
    /// An idempotency key was reused with a different request. Proton:
    /// `ValidationException`.
    IdempotencyMismatch,
    /// The content is over the size limit. AppConfig: `PayloadTooLargeException` (413).
    PayloadTooLarge,
    /// A quota would be exceeded. AppConfig: `ServiceQuotaExceededException` (402).
    QuotaExceeded,
    /// The resource still has children that must be deleted first. AppConfig:
    /// `ConflictException` (409) where modelled, else `BadRequestException` (400).
    NotEmpty,
    /// The resource's current state forbids the change, e.g. a deployment is in
    /// progress. AppConfig: `ConflictException` (409) where modelled, else
    /// `BadRequestException` (400).
    StateConflict,
}

/// Details that some rejections carry for the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// No detail beyond the message.
    None,
    /// Which field broke which constraint.
    Field {
        /// The AWS member name, e.g. `Name`.
        field: &'static str,
    },
    /// The resource that was not found, e.g. `Application`.
    Resource {
        /// The resource type.
        resource: &'static str,
    },
    /// Expected vs found latest version (0 when the stream has no live version).
    Version {
        /// What the caller expected.
        expected: StreamVersion,
        /// What the latest live version is.
        actual: StreamVersion,
    },
    /// Expected vs found content hash of the latest version.
    Content {
        /// What the caller expected.
        expected: ContentHash,
        /// The latest version's hash, if any.
        actual: Option<ContentHash>,
    },
    /// A size limit in bytes and the offending size.
    Size {
        /// The limit.
        limit: u64,
        /// The size offered.
        size: u64,
    },
    /// A quota and its limit.
    Quota {
        /// What is counted, e.g. `applications`.
        quota: &'static str,
        /// The configured limit.
        limit: u64,
    },
}

/// A refused command: its kind, a message naming the object and values, and details.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    kind: RejectionKind,
    message: String,
    detail: Detail,
}

impl Rejection {
    /// A rejection of any kind, with a message and details.
    #[must_use]
    pub fn new(kind: RejectionKind, message: impl Into<String>, detail: Detail) -> Self {
        Self {
            kind,
            message: message.into(),
            detail,
        }
    }

    /// `field` breaks a constraint; `why` says which.
    #[must_use]
    pub fn invalid(field: &'static str, why: impl fmt::Display) -> Self {
        Self::new(
            RejectionKind::Invalid,
            format!("{field}: {why}"),
            Detail::Field { field },
        )
    }

    /// The `resource` with id `id` does not exist.
    #[must_use]
    pub fn not_found(resource: &'static str, id: impl fmt::Display) -> Self {
        Self::new(
            RejectionKind::NotFound,
            format!("{resource} {id} not found"),
            Detail::Resource { resource },
        )
    }

    /// What went wrong, as a kind to match on.
    #[must_use]
    pub const fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The human message: lowercase, names the object and the values.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Structured details for the wire.
    #[must_use]
    pub const fn detail(&self) -> &Detail {
        &self.detail
    }
}
