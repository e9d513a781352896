//! The record a command is about, which the writer reports to the command's caller.
//!
//! It is read from the projections right after the command's events were applied, so
//! any [`ReadModel`] answers it: the storage crate's view of a group being decided, or a
//! [`MemState`](super::MemState) in tests.

use super::{
    ApplicationRecord, DeploymentRecord, DeploymentStrategyRecord, EnvironmentRecord,
    ProfileRecord, ProtonRead, ReadModel, StreamRead, TemplateRecord, TemplateVersionRecord,
    VersionRecord, ViewRecord,
};
use crate::command::{Command, CreateEnvironmentTemplateVersion};
use crate::id::StreamId;
use crate::proton::TemplateVersion;

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

/// The record `command` is about, as it stands in `state`: the projections right after
/// the command's events were applied (or unchanged, when it appended nothing). `None`
/// for the commands that report no record (deletes other than a template's, tags, view
/// metadata).
///
/// A command that an existing version answered
/// ([`Decision::existing`](crate::Decision::existing): an idempotent replay, unchanged
/// content) is about that version; the caller reports it without asking here, since the
/// latest version of the stream need not be the one that answered.
pub fn subject<R: ReadModel + ?Sized>(state: &R, command: &Command) -> Option<Subject> {
    match command {
        // AppConfig.
        Command::CreateApplication(c) => state
            .application(&c.id)
            .map(|a| Subject::Application(a.into_owned())),
        Command::UpdateApplication(c) => state
            .application(&c.id)
            .map(|a| Subject::Application(a.into_owned())),
        Command::CreateProfile(c) => state
            .profile(&c.application, &c.id)
            .map(|p| Subject::Profile(p.into_owned())),
        Command::UpdateProfile {
            application,
            profile,
            ..
        } => state
            .profile(application, profile)
            .map(|p| Subject::Profile(p.into_owned())),
        Command::CreateHostedVersion(c) => {
            latest_version(state, &StreamId::hosted(&c.application, &c.profile))
        }
        Command::CreateEnvironment(c) => state
            .environment(&c.application, &c.id)
            .map(Subject::Environment),
        Command::UpdateEnvironment {
            application,
            environment,
            ..
        } => state
            .environment(application, environment)
            .map(Subject::Environment),
        Command::CreateDeploymentStrategy(c) => state
            .deployment_strategy(&c.id)
            .map(Subject::DeploymentStrategy),
        Command::UpdateDeploymentStrategy { strategy, .. } => state
            .deployment_strategy(strategy)
            .map(Subject::DeploymentStrategy),
        Command::StartDeployment(c) => state
            .latest_deployment(&c.application, &c.environment)
            .map(Subject::Deployment),
        Command::StopDeployment {
            application,
            environment,
            number,
            ..
        } => state
            .deployment(application, environment, *number)
            .map(Subject::Deployment),
        // Connect.
        Command::CreateView(c) => {
            if let Some(view) = state.view(&c.instance, &c.id) {
                return Some(Subject::View(view));
            }
            // A replayed ClientToken created nothing: the view it first created answers.
            let key = c.client_token.as_ref()?;
            let first = state.view_token(&c.instance, &key.token)?.view;
            state.view(&c.instance, &first).map(Subject::View)
        }
        Command::UpdateViewContent { instance, view, .. } => {
            state.view(instance, view).map(Subject::View)
        }
        Command::CreateViewVersion { instance, view, .. } => {
            latest_version(state, &StreamId::view(instance, view))
        }
        // Proton.
        Command::CreateEnvironmentTemplate(c) => state.template(&c.template).map(Subject::Template),
        Command::DeleteEnvironmentTemplate { template } => {
            state.template(template).map(Subject::Template)
        }
        Command::CreateEnvironmentTemplateVersion(c) => {
            created_template_version(state, c).map(Subject::TemplateVersion)
        }
        Command::UpdateEnvironmentTemplateVersion {
            template, version, ..
        } => {
            let generation = state.template(template)?.generation;
            state
                .template_version(template, generation, *version)
                .map(Subject::TemplateVersion)
        }
        Command::DeleteApplication(_)
        | Command::DeleteProfile { .. }
        | Command::DeleteHostedVersion { .. }
        | Command::DeleteEnvironment { .. }
        | Command::DeleteDeploymentStrategy { .. }
        | Command::TagResource { .. }
        | Command::UntagResource { .. }
        | Command::UpdateViewMetadata { .. }
        | Command::DeleteView { .. }
        | Command::DeleteViewVersion { .. }
        | Command::DeleteEnvironmentTemplateVersion { .. } => None,
    }
}

/// The latest live version of `stream`: the one a version create just appended.
fn latest_version<R: StreamRead + ?Sized>(state: &R, stream: &StreamId) -> Option<Subject> {
    let latest = state.stream(stream)?.latest_live?;
    state
        .version(stream, latest)
        .map(|r| Subject::Version(r.into_owned()))
}

/// The version a template version create answered with: the one its token names (an
/// append records the token anew, and a replay appended nothing and finds the first
/// version through it), else the latest minor of the major it created or added to.
fn created_template_version<R: StreamRead + ProtonRead + ?Sized>(
    state: &R,
    c: &CreateEnvironmentTemplateVersion,
) -> Option<TemplateVersionRecord> {
    let generation = state.template(&c.template)?.generation;
    let token = c
        .client_token
        .as_ref()
        .and_then(|k| state.template_token(&c.template, generation, &k.token));
    let version = match token {
        Some(t) => t.version,
        None => {
            let major = match c.major {
                Some(m) => m,
                None => state
                    .stream(&StreamId::template(&c.template, generation))?
                    .latest_live?
                    .get(),
            };
            let minors = StreamId::template_major(&c.template, generation, major);
            TemplateVersion::in_major(major, state.stream(&minors)?.latest_live?)
        }
    };
    state.template_version(&c.template, generation, version)
}
