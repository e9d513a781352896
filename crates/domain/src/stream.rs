//! The versioned-stream kernel shared by every face (architecture.md D1): version
//! numbering, the expected-latest-version and expected-content-hash preconditions,
//! idempotency keys, and the unchanged-content policy.
//!
//! A face builds an [`AppendVersion`] from its own request and calls [`decide_append`];
//! replay calls the same function again for every recorded `VersionCreated`, so a rule
//! checked at append time is checked on replay by the same code (invariant E5).

use sha2::{Digest, Sha256};

use crate::content::ContentRef;
use crate::event::IdempotencyKey;
use crate::id::{ContentHash, StreamId, StreamVersion};
use crate::projection::{ReadModel, VersionRecord};
use crate::rejection::{Detail, Rejection, RejectionKind};

/// What to do when the new content equals the latest live version's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnchangedContent {
    /// Append a new version anyway (AppConfig).
    NewVersion,
    /// Append nothing and answer with the existing latest version (Connect).
    ReturnExisting,
}

/// A request to append one version to a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendVersion<'a> {
    /// The stream.
    pub stream: &'a StreamId,
    /// The new content.
    pub content: ContentRef,
    /// The latest live version the caller expects (0 for none).
    pub expected_latest: Option<StreamVersion>,
    /// The content hash the caller expects the latest live version to have.
    pub expected_content: Option<ContentHash>,
    /// The idempotency key, with the digest of this request.
    pub idempotency: Option<&'a IdempotencyKey>,
    /// The unchanged-content policy.
    pub unchanged: UnchangedContent,
}

/// The kernel's answer to an [`AppendVersion`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Append this new version.
    Append(StreamVersion),
    /// Append nothing: this existing version answers the request.
    Existing(Box<VersionRecord>, ExistingReason),
}

/// Why nothing is appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistingReason {
    /// The same idempotency key and request were seen before.
    IdempotentReplay,
    /// The content equals the latest live version's and the policy says to reuse it.
    Unchanged,
}

/// Decides an append against `state`. Checks run in this order: idempotency (a replayed
/// request gets its first answer even if the stream moved on since), expected latest
/// version, expected content hash, unchanged content.
///
/// # Errors
/// `IdempotencyMismatch` when the key was used with another request; `VersionMismatch`
/// when the latest live version is not the expected one; `ContentMismatch` when its
/// content hash is not the expected one.
pub fn decide_append<R: ReadModel + ?Sized>(
    state: &R,
    request: &AppendVersion<'_>,
) -> Result<AppendOutcome, Rejection> {
    let stream = request.stream;
    if let Some(key) = request.idempotency
        && let Some(seen) = state.idempotency(stream, &key.token)
    {
        if seen.digest != key.digest {
            return Err(Rejection::new(
                RejectionKind::IdempotencyMismatch,
                format!(
                    "stream {stream}: idempotency token {:?} was used with a different request",
                    key.token
                ),
                Detail::None,
            ));
        }
        if let Some(record) = state.version(stream, seen.version) {
            return Ok(AppendOutcome::Existing(
                Box::new(record),
                ExistingReason::IdempotentReplay,
            ));
        }
    }
    let head = state.stream(stream).unwrap_or_default();
    let latest = head
        .latest_live
        .and_then(|v| state.version(stream, v))
        .filter(VersionRecord::is_live);
    if let Some(expected) = request.expected_latest {
        let actual = latest.as_ref().map_or(StreamVersion::new(0), |r| r.version);
        if expected != actual {
            return Err(Rejection::new(
                RejectionKind::VersionMismatch,
                format!("stream {stream}: expected latest version {expected}, found {actual}"),
                Detail::Version { expected, actual },
            ));
        }
    }
    if let Some(expected) = request.expected_content {
        let actual = latest.as_ref().map(|r| r.content.hash);
        if actual != Some(expected) {
            let found = actual.map_or_else(|| "no version".to_owned(), |h| h.to_string());
            return Err(Rejection::new(
                RejectionKind::ContentMismatch,
                format!("stream {stream}: expected latest content {expected}, found {found}"),
                Detail::Content { expected, actual },
            ));
        }
    }
    if request.unchanged == UnchangedContent::ReturnExisting
        && let Some(record) = latest
        && record.content.hash == request.content.hash
    {
        return Ok(AppendOutcome::Existing(
            Box::new(record),
            ExistingReason::Unchanged,
        ));
    }
    Ok(AppendOutcome::Append(StreamVersion::new(
        head.last_assigned + 1,
    )))
}

/// Builds the digest of a request for an [`IdempotencyKey`]: sha256 over the fields in
/// order, each length-prefixed, so that no two different field lists share a digest.
#[derive(Clone, Debug, Default)]
pub struct RequestDigest(Sha256);

impl RequestDigest {
    /// Starts a digest, tagged with the operation's name.
    #[must_use]
    pub fn new(operation: &str) -> Self {
        Self(Sha256::new()).field(operation.as_bytes())
    }

    /// Adds one field.
    #[must_use]
    pub fn field(mut self, bytes: &[u8]) -> Self {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
        self
    }

    /// Adds an optional field, distinguishing absent from empty.
    #[must_use]
    pub fn optional(self, bytes: Option<&[u8]>) -> Self {
        match bytes {
            None => self.field(b"\x00absent"),
            Some(b) => self.field(b"\x01").field(b),
        }
    }

    /// The digest.
    #[must_use]
    pub fn finish(self) -> ContentHash {
        ContentHash::from_bytes(self.0.finalize().into())
    }
}
