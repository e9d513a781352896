//! `check`: the invariants replay re-checks for each recorded event before applying it
//! (architecture.md §3, invariant E5). Limits and quotas are configuration, not
//! invariants, and are not re-checked.

use crate::decide::{
    application_children, check_started, check_stopped, current_tags, delete_allowed,
    deployment_not_in_progress, environment_id_is_new, existing_application, existing_environment,
    existing_generation, existing_profile, existing_view, has_no_versions, hosted_profile,
    live_major, live_version, name_is_free, profile_id_is_new, requestable, strategy_id_is_new,
    template_token_use, token_use, transition, user_strategy, view_is_new,
};
use crate::event::{Event, Recorded};
use crate::id::StreamId;
use crate::projection::ReadModel;
use crate::proton::{TemplateVersion, TemplateVersionStatus};
use crate::rejection::{Rejection, RejectionKind};
use crate::stream::{AppendOutcome, AppendVersion, decide_append, key_in_force};
use crate::validate;

/// A recorded event that could not have been decided against the state before it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Violation {
    kind: RejectionKind,
    message: String,
}

impl Violation {
    fn new(kind: RejectionKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Which rule refused the event, as the kind of rejection `decide` gives a command
    /// that breaks it: the kind of the shared predicate's rejection, or for a rule only
    /// replay meets (an event `decide` would never append), the kind of the closest one,
    /// e.g. [`RejectionKind::VersionMismatch`] for a number that is not the next one.
    #[must_use]
    pub const fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// What is wrong.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Rejection> for Violation {
    fn from(r: Rejection) -> Self {
        Self::new(r.kind(), r.message())
    }
}

/// Checks that `recorded` is an event that `decide` could have produced from `state`.
///
/// # Errors
/// A [`Violation`] saying which rule the event breaks.
pub fn check<R: ReadModel + ?Sized>(state: &R, recorded: &Recorded) -> Result<(), Violation> {
    // The same field rule `decide` applies to every event it returns.
    validate::event(&recorded.event)?;
    match &recorded.event {
        Event::ApplicationCreated { application, .. } => {
            if state.application(application).is_some() {
                return Err(Violation::new(
                    RejectionKind::AlreadyExists,
                    format!("application {application} created twice"),
                ));
            }
        }
        Event::ApplicationUpdated { application, .. } => {
            existing_application(state, application)?;
        }
        Event::ApplicationDeleted { application } => {
            existing_application(state, application)?;
            if let Some(children) = application_children(state, application) {
                return Err(Violation::new(
                    RejectionKind::NotEmpty,
                    format!("application {application} deleted while it had {children}"),
                ));
            }
        }
        Event::ProfileCreated {
            application,
            profile,
            ..
        } => {
            existing_application(state, application)?;
            profile_id_is_new(state, application, profile)?;
        }
        Event::ProfileUpdated {
            application,
            profile,
            ..
        } => {
            existing_profile(state, application, profile)?;
        }
        Event::ProfileDeleted {
            application,
            profile,
        } => {
            existing_profile(state, application, profile)?;
            let stream = StreamId::hosted(application, profile);
            if state.stream(&stream).and_then(|h| h.latest_live).is_some() {
                return Err(Violation::new(
                    RejectionKind::NotEmpty,
                    format!("configuration profile {profile} deleted while it had live versions"),
                ));
            }
        }
        Event::VersionCreated {
            stream,
            version,
            content,
            expected_latest,
            expected_content,
            idempotency,
            ..
        } => {
            match stream {
                StreamId::HostedConfiguration {
                    application,
                    profile,
                } => {
                    hosted_profile(state, application, profile)?;
                }
                StreamId::ConnectView { instance, view } => {
                    existing_view(state, instance, view)?;
                }
                StreamId::EnvironmentTemplate {
                    template,
                    generation,
                } => {
                    existing_generation(state, template, *generation)?;
                }
                StreamId::EnvironmentTemplateMajor {
                    template,
                    generation,
                    major,
                } => {
                    // T3: a minor only while its major is live; a major's first minor
                    // is appended in the group that opened it.
                    existing_generation(state, template, *generation)?;
                    live_major(state, template, *generation, *major)?;
                }
            }
            if let Some(key) = idempotency
                && state.idempotency(stream, &key.token).is_some()
            {
                return Err(Violation::new(
                    RejectionKind::AlreadyExists,
                    format!(
                        "stream {stream}: idempotency token {:?} appended twice",
                        key.token
                    ),
                ));
            }
            let request = AppendVersion {
                stream,
                content: *content,
                expected_latest: *expected_latest,
                expected_content: *expected_content,
                idempotency: idempotency.as_ref(),
            };
            match decide_append(state, &request)? {
                AppendOutcome::Append(next) if next == *version => {}
                AppendOutcome::Append(next) => {
                    return Err(Violation::new(
                        RejectionKind::VersionMismatch,
                        format!(
                            "stream {stream}: version {version} recorded where {next} was next"
                        ),
                    ));
                }
                AppendOutcome::Existing(record, _) => {
                    return Err(Violation::new(
                        RejectionKind::AlreadyExists,
                        format!(
                            "stream {stream}: version {version} recorded where version {} answered",
                            record.version
                        ),
                    ));
                }
            }
        }
        Event::VersionDeleted { stream, version } => {
            live_version(state, stream, *version)?;
            match stream {
                StreamId::HostedConfiguration { .. } => {}
                StreamId::ConnectView { instance, view } => {
                    existing_view(state, instance, view)?;
                }
                StreamId::EnvironmentTemplate {
                    template,
                    generation,
                } => {
                    // T5: a major is deleted only with its last minor.
                    existing_generation(state, template, *generation)?;
                    let minors = StreamId::template_major(template, *generation, version.get());
                    if state.stream(&minors).and_then(|h| h.latest_live).is_some() {
                        return Err(Violation::new(
                            RejectionKind::NotEmpty,
                            format!(
                                "template {template} major {version} deleted while it had minor versions"
                            ),
                        ));
                    }
                }
                StreamId::EnvironmentTemplateMajor {
                    template,
                    generation,
                    major,
                } => {
                    existing_generation(state, template, *generation)?;
                    delete_allowed(
                        state,
                        template,
                        *generation,
                        TemplateVersion::in_major(*major, *version),
                    )?;
                }
            }
        }
        Event::EnvironmentCreated {
            application,
            environment,
            ..
        } => {
            existing_application(state, application)?;
            environment_id_is_new(state, application, environment)?;
        }
        Event::EnvironmentUpdated {
            application,
            environment,
            ..
        } => {
            existing_environment(state, application, environment)?;
        }
        Event::EnvironmentDeleted {
            application,
            environment,
        } => {
            existing_environment(state, application, environment)?;
            deployment_not_in_progress(state, application, environment, recorded.timestamp)?;
        }
        Event::DeploymentStrategyCreated { strategy, .. } => {
            strategy_id_is_new(state, strategy)?;
        }
        Event::DeploymentStrategyUpdated { strategy, .. }
        | Event::DeploymentStrategyDeleted { strategy } => {
            user_strategy(state, strategy, "DeploymentStrategyId")?;
        }
        Event::TagsChanged { resource, .. } => {
            current_tags(state, resource)?;
        }
        event @ Event::DeploymentStarted { .. } => {
            check_started(state, event, recorded.timestamp)?;
        }
        Event::DeploymentStopped {
            application,
            environment,
            number,
            revert,
        } => {
            check_stopped(
                state,
                application,
                environment,
                *number,
                *revert,
                recorded.timestamp,
            )?;
        }
        Event::ViewCreated {
            instance,
            view,
            name,
            client_token,
            ..
        } => {
            if let Some(key) = client_token
                && token_use(state, instance, &key.token)
                    .is_some_and(|seen| key_in_force(&seen, recorded.timestamp))
            {
                return Err(Violation::new(
                    RejectionKind::AlreadyExists,
                    format!(
                        "view {view} created with ClientToken {:?} while that token was in force",
                        key.token
                    ),
                ));
            }
            view_is_new(state, instance, view, name)?;
        }
        Event::ViewContentUpdated { instance, view, .. } => {
            existing_view(state, instance, view)?;
        }
        Event::ViewMetadataUpdated {
            instance,
            view,
            name,
            ..
        } => {
            existing_view(state, instance, view)?;
            name_is_free(state, instance, name, Some(view))?;
        }
        Event::EnvironmentTemplateCreated {
            template,
            generation,
            ..
        } => {
            // T1, T7: a create for a live name appends nothing; generations count up.
            let previous = state.template(template);
            if previous.as_ref().is_some_and(|p| p.is_live()) {
                return Err(Violation::new(
                    RejectionKind::AlreadyExists,
                    format!("environment template {template} created while it existed"),
                ));
            }
            let next = previous.map_or(1, |p| p.generation.saturating_add(1));
            if *generation != next {
                return Err(Violation::new(
                    RejectionKind::VersionMismatch,
                    format!(
                        "environment template {template} created as generation {generation} where {next} was next"
                    ),
                ));
            }
        }
        Event::EnvironmentTemplateDeleted {
            template,
            generation,
        } => {
            let record = existing_generation(state, template, *generation)?;
            has_no_versions(state, &record)?;
        }
        Event::EnvironmentTemplateVersionRegistered {
            template,
            generation,
            version,
            status,
            client_token,
            ..
        } => {
            // T4: each version is registered once, right after its creation.
            existing_generation(state, template, *generation)?;
            let registering = state
                .template_version(template, *generation, *version)
                .is_some_and(|r| r.status == TemplateVersionStatus::RegistrationInProgress);
            if !registering || *status != TemplateVersionStatus::Draft {
                return Err(Violation::new(
                    RejectionKind::StateConflict,
                    format!(
                        "template {template} version {version} registered as {} without a creation awaiting it",
                        status.as_str()
                    ),
                ));
            }
            if let Some(key) = client_token
                && template_token_use(state, template, *generation, &key.token)
                    .is_some_and(|seen| key_in_force(&seen, recorded.timestamp))
            {
                return Err(Violation::new(
                    RejectionKind::AlreadyExists,
                    format!(
                        "template {template} version {version} recorded with clientToken {:?} while that token was in force",
                        key.token
                    ),
                ));
            }
        }
        Event::EnvironmentTemplateVersionUpdated {
            template,
            generation,
            version,
            status,
            ..
        } => {
            existing_generation(state, template, *generation)?;
            let current = state
                .template_version(template, *generation, *version)
                .ok_or_else(|| {
                    Violation::new(
                        RejectionKind::NotFound,
                        format!("template {template} version {version} updated but not live"),
                    )
                })?;
            requestable(*status)?;
            transition(current.status, *status)?;
        }
        Event::ViewDeleted { instance, view } => {
            existing_view(state, instance, view)?;
            if state
                .stream(&StreamId::view(instance, view))
                .and_then(|h| h.latest_live)
                .is_some()
            {
                return Err(Violation::new(
                    RejectionKind::NotEmpty,
                    format!("view {view} deleted while it had live versions"),
                ));
            }
        }
    }
    Ok(())
}
