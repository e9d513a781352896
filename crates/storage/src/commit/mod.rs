//! Group commit: callers submit commands to one writer thread through a crossbeam
//! channel and wait on a [`Ticket`] (D4).

mod completion;
mod writer;

pub(crate) use completion::{Completer, ticket};
pub use completion::{Mapped, Ticket};
pub(crate) use writer::{Checked, Message, Progress, Request, Writer};

use verso_domain::Recorded;
use verso_domain::projection::{
    ApplicationRecord, DeploymentRecord, DeploymentStrategyRecord, EnvironmentRecord,
    ProfileRecord, TemplateRecord, TemplateVersionRecord, VersionRecord, ViewRecord,
};

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

/// The record a command is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// An application.
    Application(ApplicationRecord),
    /// A configuration profile.
    Profile(ProfileRecord),
    /// A version.
    Version(VersionRecord),
    /// An environment.
    Environment(EnvironmentRecord),
    /// A user deployment strategy.
    DeploymentStrategy(DeploymentStrategyRecord),
    /// A deployment.
    Deployment(DeploymentRecord),
    /// A Connect view.
    View(ViewRecord),
    /// A Proton environment template (marked deleted after a delete).
    Template(TemplateRecord),
    /// A Proton environment template version.
    TemplateVersion(TemplateVersionRecord),
}
