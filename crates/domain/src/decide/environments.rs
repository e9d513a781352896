//! Environments: created in an existing application under a quota, updated, deleted;
//! an environment id is never used twice in its application.

use super::{Decision, already_exists, existing_application, quota};
use crate::command::{CreateEnvironment, UpdateEnvironment};
use crate::event::Event;
use crate::id::{ApplicationId, EnvironmentId, Timestamp};
use crate::limits::Limits;
use crate::projection::{EnvironmentRecord, ReadModel};
use crate::rejection::{Detail, Rejection, RejectionKind};
use crate::validate;

pub(super) fn create<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateEnvironment,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    let event = Event::EnvironmentCreated {
        application: c.application.clone(),
        environment: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        monitors: c.monitors.clone(),
        tags: c.tags.clone(),
    };
    validate::event(&event)?;
    existing_application(state, &c.application)?;
    environment_id_is_new(state, &c.application, &c.id)?;
    quota(
        state.environment_count(&c.application),
        limits.max_environments_per_application,
        "environments per application",
    )?;
    Ok(Decision::append(event))
}

pub(super) fn update<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    changes: &UpdateEnvironment,
) -> Result<Decision, Rejection> {
    let current = existing_environment(state, application, environment)?;
    Decision::validated(Event::EnvironmentUpdated {
        application: application.clone(),
        environment: environment.clone(),
        name: changes.name.clone().unwrap_or(current.name),
        description: changes.description.clone().or(current.description),
        monitors: changes.monitors.clone().unwrap_or(current.monitors),
    })
}

pub(super) fn delete<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    existing_environment(state, application, environment)?;
    deployment_not_in_progress(state, application, environment, now)?;
    Ok(Decision::append(Event::EnvironmentDeleted {
        application: application.clone(),
        environment: environment.clone(),
    }))
}

/// An environment whose latest deployment is in progress at `now` cannot be deleted.
pub(crate) fn deployment_not_in_progress<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    now: Timestamp,
) -> Result<(), Rejection> {
    match super::latest_state(state, application, environment, now) {
        Some((d, s)) if s.in_progress() => Err(Rejection::new(
            RejectionKind::StateConflict,
            format!(
                "environment {environment} has deployment {} in progress ({})",
                d.number,
                s.as_str()
            ),
            Detail::None,
        )),
        _ => Ok(()),
    }
}

/// The environment, found through its existing application.
pub(crate) fn existing_environment<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
) -> Result<EnvironmentRecord, Rejection> {
    existing_application(state, application)?;
    state
        .environment(application, environment)
        .ok_or_else(|| Rejection::not_found("Environment", environment))
}

/// An environment id is new when no environment of the application has it now or ever
/// had it: ids of deleted environments are never reused (invariant E8).
pub(crate) fn environment_id_is_new<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    id: &EnvironmentId,
) -> Result<(), Rejection> {
    if state.environment(application, id).is_some() || state.retired_environment(application, id) {
        return Err(already_exists("environment", id));
    }
    Ok(())
}
