//! The three outcomes that are not success (style 3.6):
//!
//! - [`Rejection`] (from the kernel): the caller's mistake. Nothing was appended.
//! - [`Conflict`]: the caller's optimistic lock lost to another writer. Nothing was
//!   appended; re-read and retry.
//! - [`Error`]: fail-stop. The store could not do its job (I/O, corruption, poisoned,
//!   closed); the caller cannot fix it by changing the request.
//!
//! Operations return `Result<Outcome<T>, Error>`, so `?` propagates only fail-stop errors
//! and a refused request cannot be turned into a 500 by accident.

use std::io;
use std::path::PathBuf;

use verso_domain::{Detail, Position, Rejection, RejectionKind};

/// `Ok(value)`, or why the request was refused.
pub type Outcome<T> = std::result::Result<T, Refused>;

/// A result whose error is fail-stop.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request was refused. Nothing was appended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The caller's mistake: invalid input, not found, quota, ...
    #[error(transparent)]
    Rejected(Rejection),
    /// A precondition on the stream's latest version or content no longer holds.
    #[error(transparent)]
    Conflict(Conflict),
}

impl Refused {
    /// The kernel's kind for this refusal (conflicts are `VersionMismatch` or
    /// `ContentMismatch`).
    #[must_use]
    pub const fn kind(&self) -> RejectionKind {
        match self {
            Self::Rejected(r) => r.kind(),
            Self::Conflict(c) => c.0.kind(),
        }
    }
}

impl From<Rejection> for Refused {
    fn from(r: Rejection) -> Self {
        match r.kind() {
            RejectionKind::VersionMismatch | RejectionKind::ContentMismatch => {
                Self::Conflict(Conflict(r))
            }
            _ => Self::Rejected(r),
        }
    }
}

/// Another writer got there first: the stream's latest version (or its content) is not
/// what the caller expected. Retryable after re-reading.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.message())]
pub struct Conflict(Rejection);

impl Conflict {
    /// The message, naming the stream and the expected and found values.
    #[must_use]
    pub fn message(&self) -> &str {
        self.0.message()
    }

    /// Expected and found values.
    #[must_use]
    pub const fn detail(&self) -> &Detail {
        self.0.detail()
    }
}

/// A fail-stop error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The storage engine (sled) reported a failure that is not plain I/O.
    #[error("storage engine: {0}")]
    Engine(String),
    /// The stored data is not what Verso wrote.
    #[error("corrupted {what}{}", .position.map(|p| format!(" at position {p}")).unwrap_or_default())]
    Corrupted {
        /// Where, when it is a log position.
        position: Option<Position>,
        /// What is wrong.
        what: String,
    },
    /// The directory holds a store of a format this build does not know.
    #[error("{path}: unknown store format {found}; this build reads store formats 1 to {expected}")]
    UnknownFormat {
        /// The data directory.
        path: PathBuf,
        /// What the marker says.
        found: String,
        /// The newest format this build reads (and the one it writes).
        expected: u8,
    },
    /// Another process (or another `Store` in this one) has the directory open; `open`
    /// waited two seconds for it to be released.
    #[error("{path} is in use by another process (a running `verso serve`?)")]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// An earlier flush or sync failed; the store refuses writes until it is reopened
    /// (a failed fsync cannot be retried safely).
    #[error("store is poisoned by an earlier failed flush or sync; reopen it")]
    Poisoned,
    /// The store was closed.
    #[error("store is closed")]
    Closed,
    /// The writer's queue is full ([`StoreOptions::queue`](crate::StoreOptions::queue)):
    /// [`Store::try_submit`](crate::Store::try_submit) refused the command without
    /// queueing it. Try again later.
    #[error("the store's write queue is full; try again later")]
    Busy,
    /// The options are invalid.
    #[error("invalid option: {0}")]
    Config(String),
}

/// The kind of an [`Error`], for matching and assertions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Io`].
    Io,
    /// [`Error::Engine`].
    Engine,
    /// [`Error::Corrupted`].
    Corrupted,
    /// [`Error::UnknownFormat`].
    UnknownFormat,
    /// [`Error::Locked`].
    Locked,
    /// [`Error::Poisoned`].
    Poisoned,
    /// [`Error::Closed`].
    Closed,
    /// [`Error::Busy`].
    Busy,
    /// [`Error::Config`].
    Config,
}

impl Error {
    /// The kind, for matching.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Io,
            Self::Engine(_) => ErrorKind::Engine,
            Self::Corrupted { .. } => ErrorKind::Corrupted,
            Self::UnknownFormat { .. } => ErrorKind::UnknownFormat,
            Self::Locked { .. } => ErrorKind::Locked,
            Self::Poisoned => ErrorKind::Poisoned,
            Self::Closed => ErrorKind::Closed,
            Self::Busy => ErrorKind::Busy,
            Self::Config(_) => ErrorKind::Config,
        }
    }

    pub(crate) fn corrupted(position: Option<Position>, what: impl Into<String>) -> Self {
        Self::Corrupted {
            position,
            what: what.into(),
        }
    }

    pub(crate) fn io(context: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { context, source }
    }

    /// A copy for fanning one failure out to every caller of a group. `io::Error` is not
    /// `Clone`, so the copy keeps its kind and message.
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Io { context, source } => Self::Io {
                context,
                source: io::Error::new(source.kind(), source.to_string()),
            },
            Self::Engine(m) => Self::Engine(m.clone()),
            Self::Corrupted { position, what } => Self::Corrupted {
                position: *position,
                what: what.clone(),
            },
            Self::UnknownFormat {
                path,
                found,
                expected,
            } => Self::UnknownFormat {
                path: path.clone(),
                found: found.clone(),
                expected: *expected,
            },
            Self::Locked { path } => Self::Locked { path: path.clone() },
            Self::Poisoned => Self::Poisoned,
            Self::Busy => Self::Busy,
            Self::Closed => Self::Closed,
            Self::Config(m) => Self::Config(m.clone()),
        }
    }
}
