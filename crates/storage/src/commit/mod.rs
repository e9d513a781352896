//! Group commit: callers submit commands to one writer thread through a crossbeam
//! channel and wait on a [`Ticket`] (D4).

mod completion;
mod syncer;
mod writer;

pub(crate) use completion::{Completer, ticket};
pub use completion::{Mapped, Ticket};
pub(crate) use syncer::Syncer;
pub(crate) use writer::{Checked, Message, Progress, Request, Writer};

use verso_domain::Recorded;
pub use verso_domain::projection::Subject;

/// What an accepted command produced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Committed {
    /// The events appended, with their positions, in order. Empty when an existing
    /// version answered the command.
    pub records: Vec<Recorded>,
    /// The record the command is about, as it stood right after the command (for a
    /// create that appended nothing, the existing version that answered it).
    pub subject: Option<Subject>,
}
