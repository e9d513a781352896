//! The versioned-stream kernel shared by every face (architecture.md D1): version
//! numbering, the expected-latest-version and expected-content-hash preconditions,
//! idempotency keys, and the per-kind policy (unchanged content, staged content).
//!
//! A face builds an [`AppendVersion`] from its own request and calls [`decide_append`];
//! replay calls the same function again for every recorded `VersionCreated`, so a rule
//! checked at append time is checked on replay by the same code (invariant E5).

use sha2::{Digest, Sha256};

use crate::content::ContentRef;
use crate::event::IdempotencyKey;
use crate::id::{ContentHash, StreamId, StreamVersion, Timestamp};
use crate::projection::{ReadModel, VersionRecord, ViewRecord};
use crate::rejection::{Detail, Rejection, RejectionKind};

/// How long an idempotency key is in force after its first use: 8 hours, the window AWS
/// documents for Proton's `clientToken` (docs/design/connect-proton.md). A kernel
/// constant, not a limit: replay judges a reuse by the rule it was decided under.
pub const IDEMPOTENCY_WINDOW_MILLIS: i64 = 8 * 60 * 60 * 1000;

/// An earlier use of a scoped idempotency key, as a face's projection recorded it (a
/// Connect instance's `CreateView` tokens, a Proton template's version tokens).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUse {
    /// The digest of the request that first used the key.
    pub digest: ContentHash,
    /// When it was first used.
    pub first_used: Timestamp,
    /// Whether what it produced is still live.
    pub answer_live: bool,
}

/// The kernel's rule for a scoped key (invariant E11): a key is in force while what it
/// produced is live and for [`IDEMPOTENCY_WINDOW_MILLIS`] after its first use. `Ok(true)`:
/// in force with the same digest, so the first answer stands and nothing is appended.
/// `Ok(false)`: not in force (or never used), so the request proceeds and records the key
/// anew.
///
/// # Errors
/// `IdempotencyMismatch` when the key is in force with another digest.
pub fn key_replayed(
    seen: Option<KeyUse>,
    key: &IdempotencyKey,
    now: Timestamp,
) -> Result<bool, Rejection> {
    let Some(seen) = seen.filter(|s| key_in_force(s, now)) else {
        return Ok(false);
    };
    if seen.digest != key.digest {
        return Err(Rejection::new(
            RejectionKind::IdempotencyMismatch,
            format!("token {:?} was used with a different request", key.token),
            Detail::None,
        ));
    }
    Ok(true)
}

/// Whether an earlier use of a key is still in force at `now` (see [`key_replayed`]).
#[must_use]
pub fn key_in_force(seen: &KeyUse, now: Timestamp) -> bool {
    seen.answer_live
        && now.as_millis().saturating_sub(seen.first_used.as_millis()) < IDEMPOTENCY_WINDOW_MILLIS
}

/// What to do when the new content equals the latest live version's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnchangedContent {
    /// Append a new version anyway (AppConfig).
    NewVersion,
    /// Append nothing and answer with the existing latest version (Connect).
    ReturnExisting,
}

/// The kernel's rules for one kind of stream. The kind alone fixes them, so `decide` and
/// replay's `check` apply the same rule to the same stream (invariant E9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The unchanged-content rule.
    pub unchanged: UnchangedContent,
    /// True when a new version freezes the stream's staged content (a Connect view's
    /// `$LATEST`) rather than content from the request: the request's content must be
    /// the staged content, and `expected_content` is compared with it (invariant E10).
    pub staged: bool,
}

impl Policy {
    /// The policy of `stream`'s kind.
    #[must_use]
    pub const fn of(stream: &StreamId) -> Self {
        match stream {
            StreamId::HostedConfiguration { .. } => Self {
                unchanged: UnchangedContent::NewVersion,
                staged: false,
            },
            StreamId::ConnectView { .. } => Self {
                unchanged: UnchangedContent::ReturnExisting,
                staged: true,
            },
            StreamId::EnvironmentTemplate { .. } | StreamId::EnvironmentTemplateMajor { .. } => {
                Self {
                    unchanged: UnchangedContent::NewVersion,
                    staged: false,
                }
            }
        }
    }
}

/// The staged content of `stream`, for kinds that have one: a live Connect view's
/// `$LATEST`.
pub fn staged<R: ReadModel + ?Sized>(state: &R, stream: &StreamId) -> Option<ContentRef> {
    match stream {
        StreamId::HostedConfiguration { .. }
        | StreamId::EnvironmentTemplate { .. }
        | StreamId::EnvironmentTemplateMajor { .. } => None,
        StreamId::ConnectView { instance, view } => state
            .view(instance, view)
            .filter(ViewRecord::is_live)
            .and_then(|r| r.latest),
    }
}

/// A request to append one version to a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendVersion<'a> {
    /// The stream.
    pub stream: &'a StreamId,
    /// The new content (for a staged kind, the staged content).
    pub content: ContentRef,
    /// The latest live version the caller expects (0 for none).
    pub expected_latest: Option<StreamVersion>,
    /// The content hash the caller expects: of the latest live version, or for a staged
    /// kind of the staged content.
    pub expected_content: Option<ContentHash>,
    /// The idempotency key, with the digest of this request.
    pub idempotency: Option<&'a IdempotencyKey>,
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

/// Decides an append against `state`, under the stream kind's [`Policy`]. Checks run in
/// this order: idempotency (a replayed request gets its first answer even if the stream
/// moved on since), expected latest version, staged content, expected content hash,
/// unchanged content.
///
/// # Errors
/// `IdempotencyMismatch` when the key was used with another request; `VersionMismatch`
/// when the latest live version is not the expected one; `NotFound` when a staged kind
/// has nothing staged; `ContentMismatch` when the content hash is not the expected one,
/// or the content is not the staged content.
pub fn decide_append<R: ReadModel + ?Sized>(
    state: &R,
    request: &AppendVersion<'_>,
) -> Result<AppendOutcome, Rejection> {
    let stream = request.stream;
    let policy = Policy::of(stream);
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
                Box::new(record.into_owned()),
                ExistingReason::IdempotentReplay,
            ));
        }
    }
    let head = state.stream(stream).unwrap_or_default();
    let latest = head
        .latest_live
        .and_then(|v| state.version(stream, v))
        .filter(|r| r.is_live());
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
    let compared = if policy.staged {
        let Some(staged) = staged(state, stream) else {
            return Err(Rejection::new(
                RejectionKind::NotFound,
                format!("stream {stream}: nothing is staged ($LATEST) to make a version of"),
                Detail::Resource { resource: "View" },
            ));
        };
        if staged != request.content {
            return Err(Rejection::new(
                RejectionKind::ContentMismatch,
                format!(
                    "stream {stream}: a version must freeze the staged content {}, not {}",
                    staged.hash, request.content.hash
                ),
                Detail::Content {
                    expected: staged.hash,
                    actual: Some(request.content.hash),
                },
            ));
        }
        Some(staged.hash)
    } else {
        latest.as_ref().map(|r| r.content.hash)
    };
    if let Some(expected) = request.expected_content
        && compared != Some(expected)
    {
        let found = compared.map_or_else(|| "no version".to_owned(), |h| h.to_string());
        return Err(Rejection::new(
            RejectionKind::ContentMismatch,
            format!("stream {stream}: expected latest content {expected}, found {found}"),
            Detail::Content {
                expected,
                actual: compared,
            },
        ));
    }
    if policy.unchanged == UnchangedContent::ReturnExisting
        && let Some(record) = latest
        && record.content.hash == request.content.hash
    {
        return Ok(AppendOutcome::Existing(
            Box::new(record.into_owned()),
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

    /// Adds a map's entries in key order, each key and value as a field (put it last, or
    /// before a field that cannot look like a key/value pair).
    #[must_use]
    pub fn pairs(mut self, map: &std::collections::BTreeMap<String, String>) -> Self {
        for (key, value) in map {
            self = self.field(key.as_bytes()).field(value.as_bytes());
        }
        self
    }

    /// The digest.
    #[must_use]
    pub fn finish(self) -> ContentHash {
        ContentHash::from_bytes(self.0.finalize().into())
    }
}
