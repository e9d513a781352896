//! Deployments: started against the environment's latest deployment as it stands at the
//! writer's time, stopped in the states that allow it (docs/design/deployments.md,
//! invariants P1–P3). Replay re-checks the same rules through [`check_started`] and
//! [`check_stopped`] with the recorded time as now.

use super::{Decision, existing_environment, hosted_profile, live_version};
use crate::command::{StartDeployment, VersionSelector};
use crate::deployment::{DeploymentRecord, DeploymentState, REVERT_WINDOW_MS, Schedule};
use crate::event::Event;
use crate::id::{
    ApplicationId, DeploymentStrategyId, EnvironmentId, StreamId, StreamVersion, Timestamp,
};
use crate::predefined::predefined_strategy;
use crate::projection::{DeploymentStrategyRecord, ReadModel};
use crate::rejection::{Detail, Rejection, RejectionKind};
use crate::validate;

pub(super) fn start<R: ReadModel + ?Sized>(
    state: &R,
    c: &StartDeployment,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    existing_environment(state, &c.application, &c.environment)?;
    let profile = hosted_profile(state, &c.application, &c.profile)?.into_owned();
    let strategy = existing_strategy(state, &c.strategy)?;
    let stream = StreamId::hosted(&c.application, &c.profile);
    let number = match &c.version {
        VersionSelector::Number(n) => *n,
        VersionSelector::Label(label) => {
            validate::version_label(label).map_err(|_| {
                Rejection::invalid(
                    "ConfigurationVersion",
                    "is not a version number or a valid VersionLabel",
                )
            })?;
            state.version_by_label(&stream, label).ok_or_else(|| {
                Rejection::not_found("HostedConfigurationVersion", format!("labelled {label:?}"))
            })?
        }
    };
    let version = live_version(state, &stream, number)?;
    let number = next_number(
        state,
        &c.application,
        &c.environment,
        c.latest_deployment_number,
        now,
    )?;
    Decision::validated(Event::DeploymentStarted {
        application: c.application.clone(),
        environment: c.environment.clone(),
        number,
        profile: c.profile.clone(),
        configuration_name: profile.name,
        location_uri: profile.location_uri,
        version: version.version,
        version_label: version.label,
        content: version.content,
        content_type: version.content_type,
        strategy: c.strategy.clone(),
        schedule: schedule_of(&strategy),
        description: c.description.clone(),
        kms_key_identifier: c.kms_key_identifier.clone(),
        tags: c.tags.clone(),
        expected_latest: c.latest_deployment_number,
    })
}

pub(super) fn stop<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    number: u32,
    allow_revert: bool,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    let revert = stop_kind(
        state,
        application,
        environment,
        number,
        Some(allow_revert),
        now,
    )?;
    Ok(Decision::append(Event::DeploymentStopped {
        application: application.clone(),
        environment: environment.clone(),
        number,
        revert,
    }))
}

/// Replay's check of a recorded `DeploymentStarted` (E5): `start`, decided at the
/// recorded time for the recorded version number, must produce exactly this event.
pub(crate) fn check_started<R: ReadModel + ?Sized>(
    state: &R,
    recorded: &Event,
    now: Timestamp,
) -> Result<(), Rejection> {
    let Event::DeploymentStarted {
        application,
        environment,
        number,
        profile,
        version,
        strategy,
        description,
        kms_key_identifier,
        tags,
        expected_latest,
        ..
    } = recorded
    else {
        return Ok(());
    };
    let command = StartDeployment {
        application: application.clone(),
        environment: environment.clone(),
        profile: profile.clone(),
        version: VersionSelector::Number(*version),
        strategy: strategy.clone(),
        description: description.clone(),
        kms_key_identifier: kms_key_identifier.clone(),
        tags: tags.clone(),
        latest_deployment_number: *expected_latest,
    };
    let decided = start(state, &command, now)?;
    match decided.events.as_slice() {
        [event] if event == recorded => Ok(()),
        [Event::DeploymentStarted { number: next, .. }] if next != number => {
            Err(Rejection::invalid(
                "DeploymentNumber",
                format!("deployment {number} recorded where {next} was next"),
            ))
        }
        _ => Err(Rejection::invalid(
            "DeploymentNumber",
            format!(
                "deployment {number} records a version, profile or schedule that StartDeployment would not have recorded"
            ),
        )),
    }
}

/// Replay's check of a recorded `DeploymentStopped`: the stop `stop` would have accepted,
/// of the same kind.
pub(crate) fn check_stopped<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    number: u32,
    revert: bool,
    now: Timestamp,
) -> Result<(), Rejection> {
    let kind = stop_kind(state, application, environment, number, None, now)?;
    if kind != revert {
        return Err(Rejection::invalid(
            "AllowRevert",
            format!(
                "deployment {number}: recorded revert={revert} where the state allowed revert={kind}"
            ),
        ));
    }
    Ok(())
}

/// The state at `now` of the environment's latest deployment, if it has one.
pub(crate) fn latest_state<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    now: Timestamp,
) -> Option<(DeploymentRecord, DeploymentState)> {
    state.latest_deployment(application, environment).map(|d| {
        let s = d.state_at(now).0;
        (d, s)
    })
}

/// The next deployment number, if the environment is free at `now` and the caller's lock
/// holds (invariant P2).
fn next_number<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    expected: Option<u32>,
    now: Timestamp,
) -> Result<u32, Rejection> {
    let latest = latest_state(state, application, environment, now);
    let last = latest.as_ref().map_or(0, |(d, _)| d.number);
    if let Some(expected) = expected
        && expected != last
    {
        return Err(Rejection::new(
            RejectionKind::VersionMismatch,
            format!(
                "LatestDeploymentNumber {expected} is not the latest deployment of environment {environment} ({last})"
            ),
            Detail::Version {
                expected: StreamVersion::new(u64::from(expected)),
                actual: StreamVersion::new(u64::from(last)),
            },
        ));
    }
    if let Some((d, DeploymentState::Deploying)) = &latest {
        return Err(Rejection::new(
            RejectionKind::StateConflict,
            format!(
                "deployment {} is in progress in environment {environment}",
                d.number
            ),
            Detail::None,
        ));
    }
    last.checked_add(1).ok_or_else(|| {
        Rejection::invalid(
            "DeploymentNumber",
            "the environment has no deployment numbers left",
        )
    })
}

/// Whether a stop of deployment `number` at `now` is a revert (true) or a rollback
/// (false), or why it is refused. `allow_revert` is the caller's header; `None` on replay,
/// where the recorded kind is compared instead.
fn stop_kind<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    environment: &EnvironmentId,
    number: u32,
    allow_revert: Option<bool>,
    now: Timestamp,
) -> Result<bool, Rejection> {
    existing_environment(state, application, environment)?;
    let deployment = state
        .deployment(application, environment, number)
        .ok_or_else(|| Rejection::not_found("Deployment", number))?;
    let refuse = |why: String| Rejection::new(RejectionKind::StateConflict, why, Detail::None);
    let status = deployment.status_at(now);
    match status.state {
        DeploymentState::Deploying | DeploymentState::Baking => Ok(false),
        DeploymentState::Complete => {
            if allow_revert == Some(false) {
                return Err(refuse(format!(
                    "deployment {number} is complete; set Allow-Revert to revert it"
                )));
            }
            let latest = state
                .latest_deployment(application, environment)
                .map_or(0, |d| d.number);
            if latest != number {
                return Err(refuse(format!(
                    "deployment {number} is not the latest deployment of environment {environment} ({latest}); only the latest can be reverted"
                )));
            }
            let completed = status.completed_at.map_or(0, Timestamp::as_millis);
            if now.as_millis() - completed > REVERT_WINDOW_MS {
                return Err(refuse(format!(
                    "deployment {number} completed more than 72 hours ago and can no longer be reverted"
                )));
            }
            Ok(true)
        }
        DeploymentState::RolledBack | DeploymentState::Reverted => Err(refuse(format!(
            "deployment {number} is already {}",
            status.state.as_str()
        ))),
    }
}

fn existing_strategy<R: ReadModel + ?Sized>(
    state: &R,
    id: &DeploymentStrategyId,
) -> Result<DeploymentStrategyRecord, Rejection> {
    predefined_strategy(id)
        .or_else(|| state.deployment_strategy(id))
        .ok_or_else(|| Rejection::not_found("DeploymentStrategy", id))
}

fn schedule_of(strategy: &DeploymentStrategyRecord) -> Schedule {
    Schedule {
        deployment_duration_in_minutes: strategy.deployment_duration_in_minutes,
        final_bake_time_in_minutes: strategy.final_bake_time_in_minutes,
        growth_factor: strategy.growth_factor,
        growth_type: strategy.growth_type,
    }
}
