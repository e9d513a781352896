//! Deployments (docs/design/deployments.md): the status function of every strategy shape
//! under the injected clock, event logs, stop/rollback/revert, the StartDeployment rules
//! (P1, P2), the environment they keep from being deleted, replay's checks (E5), rollout
//! placement, and monotonicity (P4).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use verso_domain::{
    Command, Detail, Event, GrowthType, RejectionKind, StartDeployment, StreamVersion, Timestamp,
    UpdateApplication, UpdateDeploymentStrategy, UpdateEnvironment, UpdateProfile,
    deployment::{
        DeploymentRecord, DeploymentState, DeploymentStatus, TriggeredBy, in_rollout,
        live_deployment, rollout_bucket,
    },
    projection::{AppConfigRead, Subject},
};

use crate::support::{
    Given, app, application_created, content, create_application, create_environment,
    create_profile, create_strategy, create_version, delete_version, deployment_started,
    deployment_stopped, env, environment_created, given, hosted_profile_created, prof,
    profile_created, schedule, start_deployment, start_deployment_input, stop_deployment, strategy,
    strategy_created, strategy_created_with, strategy_deleted, version_created,
    version_created_with, version_deleted,
};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

const ALL_AT_ONCE: &str = "AppConfig.AllAtOnce";
const LINEAR_50_EVERY_30S: &str = "AppConfig.Linear50PercentEvery30Seconds";
const CANARY_10_20_MIN: &str = "AppConfig.Canary10Percent20Minutes";
const LINEAR_20_EVERY_6_MIN: &str = "AppConfig.Linear20PercentEvery6Minutes";

/// User strategy: 20% linear over 10 minutes, 5 minutes of bake.
const LINEAR: &str = "lin1";
/// User strategy: 25% linear over 10 minutes, no bake (as `strategy_created` builds it).
const NO_BAKE: &str = "nob1";
/// User strategy: no duration, no bake.
const INSTANT: &str = "now1";
/// User strategy: 100% in one step over 10 minutes, no bake.
const ONE_STEP: &str = "one1";

use DeploymentState::{Baking, Complete, Deploying, Reverted, RolledBack};

// --- helpers -------------------------------------------------------------------------

/// `app1` with environment `env1`, hosted profile `prf1` and its version 1 (`v1`), and
/// the user strategies above: positions 1 to 8.
fn history() -> Vec<Event> {
    vec![
        application_created("app1"),
        environment_created("app1", "env1"),
        hosted_profile_created("app1", "prf1"),
        version_created("app1", "prf1", 1, b"v1"),
        strategy_created_with(LINEAR, 10, 5, 20.0, GrowthType::Linear),
        strategy_created(NO_BAKE),
        strategy_created_with(INSTANT, 0, 0, 25.0, GrowthType::Linear),
        strategy_created_with(ONE_STEP, 10, 0, 100.0, GrowthType::Linear),
    ]
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn start(strategy_id: &str) -> Command {
    start_deployment("app1", "env1", "prf1", "1", strategy_id)
}

fn start_with(c: StartDeployment) -> Command {
    Command::StartDeployment(c)
}

fn stop(number: u32, allow_revert: bool) -> Command {
    stop_deployment("app1", "env1", number, allow_revert)
}

fn deployment(g: &Given, number: u32) -> DeploymentRecord {
    g.state()
        .deployment(&app("app1"), &env("env1"), number)
        .expect("the deployment exists")
}

/// Deployment 1 of version 1 to `env1` with `strategy_id`, started by `decide`.
fn deployed(strategy_id: &str) -> (Given, DeploymentRecord) {
    let g = given(history()).when(start(strategy_id)).then_accepted();
    let d = deployment(&g, 1);
    (g, d)
}

/// The time `ms` after the deployment started.
fn after(d: &DeploymentRecord, ms: i64) -> Timestamp {
    ts(d.started_at.as_millis() + ms)
}

fn status(d: &DeploymentRecord, ms: i64) -> DeploymentStatus {
    d.status_at(after(d, ms))
}

/// State, percentage and completion offset (from the start), `ms` after the start.
#[track_caller]
fn assert_status(
    d: &DeploymentRecord,
    ms: i64,
    state: DeploymentState,
    percentage: f32,
    completed_after: Option<i64>,
) {
    let s = status(d, ms);
    assert_eq!(
        (s.state, s.percentage_complete, s.completed_at),
        (state, percentage, completed_after.map(|c| after(d, c))),
        "status {ms} ms after the start"
    );
}

/// The event log `ms` after the start, as (type, offset from the start), newest first.
fn log(d: &DeploymentRecord, ms: i64) -> Vec<(&'static str, i64)> {
    status(d, ms)
        .event_log
        .iter()
        .map(|e| {
            (
                e.event_type.as_str(),
                e.occurred_at.as_millis() - d.started_at.as_millis(),
            )
        })
        .collect()
}

/// Deployment 1 with `strategy_id`, stopped `ms` after its start.
fn stopped(strategy_id: &str, ms: i64, allow_revert: bool) -> (Given, DeploymentRecord) {
    let (g, d) = deployed(strategy_id);
    let g = g
        .at(after(&d, ms))
        .when(stop(1, allow_revert))
        .then_accepted();
    let d = deployment(&g, 1);
    (g, d)
}

const STARTED: &str = "DEPLOYMENT_STARTED";
const UPDATED: &str = "PERCENTAGE_UPDATED";
const BAKE: &str = "BAKE_TIME_STARTED";
const COMPLETED: &str = "DEPLOYMENT_COMPLETED";
const ROLLBACK_STARTED: &str = "ROLLBACK_STARTED";
const ROLLBACK_COMPLETED: &str = "ROLLBACK_COMPLETED";
const REVERT_COMPLETED: &str = "REVERT_COMPLETED";

// --- the status function, shape by shape ---------------------------------------------

#[test]
fn all_at_once_bakes_at_100_percent_from_the_start() {
    // Rule: D = 0: the first step is 100% and the deployment bakes at once.
    let (_, d) = deployed(ALL_AT_ONCE);
    for ms in [0, 1, 5 * MIN, 10 * MIN - 1] {
        assert_status(&d, ms, Baking, 100.0, None);
    }
}

#[test]
fn all_at_once_completes_after_the_ten_minute_bake() {
    // Rule: COMPLETE from e ≥ D + B; CompletedAt = T0 + D + B.
    let (_, d) = deployed(ALL_AT_ONCE);
    assert_status(&d, 10 * MIN, Complete, 100.0, Some(10 * MIN));
    assert_status(&d, 100 * HOUR, Complete, 100.0, Some(10 * MIN));
}

#[test]
fn linear_strategy_steps_every_duration_over_n() {
    // Rule: LINEAR step k is min(100, k·g) and starts at (k−1)·D/n: 20% over 10 minutes
    // is 20, 40, 60, 80, 100 at 0, 2, 4, 6, 8 minutes.
    let (_, d) = deployed(LINEAR);
    for (minute, pct) in [(0, 20.0), (2, 40.0), (4, 60.0), (6, 80.0), (8, 100.0)] {
        assert_status(&d, minute * MIN, Deploying, pct, None);
        assert_status(&d, minute * MIN + 1, Deploying, pct, None);
    }
}

#[test]
fn linear_strategy_keeps_each_step_until_just_before_the_next() {
    // Rule: the percentage is the step in force: the last step started at or before e.
    let (_, d) = deployed(LINEAR);
    for (minute, pct) in [(2, 20.0), (4, 40.0), (6, 60.0), (8, 80.0), (10, 100.0)] {
        assert_status(&d, minute * MIN - 1, Deploying, pct, None);
    }
}

#[test]
fn linear_strategy_bakes_after_the_duration_then_completes() {
    // Rule: BAKING while D ≤ e < D + B at 100%, then COMPLETE at T0 + D + B.
    let (_, d) = deployed(LINEAR);
    assert_status(&d, 10 * MIN, Baking, 100.0, None);
    assert_status(&d, 15 * MIN - 1, Baking, 100.0, None);
    assert_status(&d, 15 * MIN, Complete, 100.0, Some(15 * MIN));
}

#[test]
fn linear_50_percent_every_30_seconds_steps_at_30_seconds() {
    // Rule: the predefined 50% linear strategy: 50% then 100% after 30 s, bake 1 minute.
    let (_, d) = deployed(LINEAR_50_EVERY_30S);
    assert_status(&d, 0, Deploying, 50.0, None);
    assert_status(&d, 30_000 - 1, Deploying, 50.0, None);
    assert_status(&d, 30_000, Deploying, 100.0, None);
    assert_status(&d, MIN, Baking, 100.0, None);
    assert_status(&d, 2 * MIN, Complete, 100.0, Some(2 * MIN));
}

#[test]
fn linear_20_percent_every_6_minutes_steps_every_6_minutes() {
    // Rule: 20% linear over 30 minutes: steps at 0, 6, 12, 18, 24; bake 30 minutes.
    let (_, d) = deployed(LINEAR_20_EVERY_6_MIN);
    for (minute, pct) in [(0, 20.0), (6, 40.0), (12, 60.0), (18, 80.0), (24, 100.0)] {
        assert_status(&d, minute * MIN, Deploying, pct, None);
    }
    assert_status(&d, 30 * MIN, Baking, 100.0, None);
    assert_status(&d, 60 * MIN, Complete, 100.0, Some(60 * MIN));
}

#[test]
fn exponential_strategy_doubles_at_each_step_start() {
    // Rule: EXPONENTIAL step k is min(100, g·2^(k−1)): 10, 20, 40, 80, 100; the canary's
    // 20 minutes over 5 steps start them at 0, 4, 8, 12, 16 minutes.
    let (_, d) = deployed(CANARY_10_20_MIN);
    let steps = [(0, 10.0), (4, 20.0), (8, 40.0), (12, 80.0), (16, 100.0)];
    for (minute, pct) in steps {
        assert_status(&d, minute * MIN, Deploying, pct, None);
    }
    for pair in steps.windows(2) {
        assert_status(&d, pair[1].0 * MIN - 1, Deploying, pair[0].1, None);
    }
}

#[test]
fn exponential_strategy_bakes_after_the_duration_then_completes() {
    // Rule: the canary bakes 10 minutes after its 20, and completes at 30.
    let (_, d) = deployed(CANARY_10_20_MIN);
    assert_status(&d, 20 * MIN - 1, Deploying, 100.0, None);
    assert_status(&d, 20 * MIN, Baking, 100.0, None);
    assert_status(&d, 30 * MIN - 1, Baking, 100.0, None);
    assert_status(&d, 30 * MIN, Complete, 100.0, Some(30 * MIN));
}

#[test]
fn strategy_without_bake_completes_right_at_the_duration() {
    // Rule: B = 0: no BAKING; COMPLETE at T0 + D.
    let (_, d) = deployed(NO_BAKE);
    assert_eq!(d.schedule, schedule(10, 0, 25.0, GrowthType::Linear));
    assert_status(&d, 0, Deploying, 25.0, None);
    assert_status(&d, 150_000, Deploying, 50.0, None);
    assert_status(&d, 10 * MIN - 1, Deploying, 100.0, None);
    assert_status(&d, 10 * MIN, Complete, 100.0, Some(10 * MIN));
}

#[test]
fn strategy_without_duration_or_bake_completes_at_once() {
    // Rule: D = 0 and B = 0: COMPLETE at T0, at 100%, whatever the growth factor.
    let (_, d) = deployed(INSTANT);
    assert_status(&d, 0, Complete, 100.0, Some(0));
    assert_status(&d, HOUR, Complete, 100.0, Some(0));
}

#[test]
fn single_step_strategy_deploys_at_100_percent_for_its_duration() {
    // Rule: DEPLOYING while e < D with the step in force, even when one step reaches 100.
    let (_, d) = deployed(ONE_STEP);
    assert_status(&d, 0, Deploying, 100.0, None);
    assert_status(&d, 10 * MIN - 1, Deploying, 100.0, None);
    assert_status(&d, 10 * MIN, Complete, 100.0, Some(10 * MIN));
}

// --- event logs ----------------------------------------------------------------------

#[test]
fn all_at_once_log_starts_and_bakes_at_once_then_completes() {
    // Rule: newest first; BAKE_TIME_STARTED at T0 + D (= T0), DEPLOYMENT_COMPLETED at
    // T0 + D + B; entries at one instant listed newest (causally last) first.
    let (_, d) = deployed(ALL_AT_ONCE);
    assert_eq!(log(&d, 0), [(BAKE, 0), (STARTED, 0)]);
    assert_eq!(log(&d, 10 * MIN - 1), [(BAKE, 0), (STARTED, 0)]);
    assert_eq!(
        log(&d, 10 * MIN),
        [(COMPLETED, 10 * MIN), (BAKE, 0), (STARTED, 0)]
    );
}

#[test]
fn linear_log_has_one_percentage_update_per_step_after_the_first() {
    // Rule: one PERCENTAGE_UPDATED per step start after the first, then bake, completion.
    let (_, d) = deployed(LINEAR);
    assert_eq!(
        log(&d, HOUR),
        [
            (COMPLETED, 15 * MIN),
            (BAKE, 10 * MIN),
            (UPDATED, 8 * MIN),
            (UPDATED, 6 * MIN),
            (UPDATED, 4 * MIN),
            (UPDATED, 2 * MIN),
            (STARTED, 0),
        ]
    );
}

#[test]
fn log_holds_only_the_entries_at_or_before_the_time_asked() {
    // Rule: only entries at or before t.
    let (_, d) = deployed(LINEAR);
    assert_eq!(log(&d, 0), [(STARTED, 0)]);
    assert_eq!(log(&d, 2 * MIN - 1), [(STARTED, 0)]);
    assert_eq!(log(&d, 2 * MIN), [(UPDATED, 2 * MIN), (STARTED, 0)]);
    assert_eq!(
        log(&d, 5 * MIN),
        [(UPDATED, 4 * MIN), (UPDATED, 2 * MIN), (STARTED, 0)]
    );
    assert_eq!(log(&d, 10 * MIN)[0], (BAKE, 10 * MIN));
    assert_eq!(log(&d, 15 * MIN - 1)[0], (BAKE, 10 * MIN));
}

#[test]
fn percentage_updates_say_the_step_reached_and_the_schedule_triggered_them() {
    // Rule: the caller started it (USER); the schedule moved it on (APPCONFIG).
    let (_, d) = deployed(LINEAR);
    let entries = status(&d, HOUR).event_log;
    let described: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.event_type.as_str(),
                e.triggered_by,
                e.description.as_str(),
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            (COMPLETED, TriggeredBy::AppConfig, "Deployment completed"),
            (BAKE, TriggeredBy::AppConfig, "Deployment bake time started"),
            (
                UPDATED,
                TriggeredBy::AppConfig,
                "Configuration deployed to 100% of targets"
            ),
            (
                UPDATED,
                TriggeredBy::AppConfig,
                "Configuration deployed to 80% of targets"
            ),
            (
                UPDATED,
                TriggeredBy::AppConfig,
                "Configuration deployed to 60% of targets"
            ),
            (
                UPDATED,
                TriggeredBy::AppConfig,
                "Configuration deployed to 40% of targets"
            ),
            (STARTED, TriggeredBy::User, "Deployment started"),
        ]
    );
}

#[test]
fn exponential_log_updates_at_each_step_start() {
    // Rule: the canary's updates at 4, 8, 12, 16 minutes, bake at 20, completion at 30.
    let (_, d) = deployed(CANARY_10_20_MIN);
    assert_eq!(
        log(&d, HOUR),
        [
            (COMPLETED, 30 * MIN),
            (BAKE, 20 * MIN),
            (UPDATED, 16 * MIN),
            (UPDATED, 12 * MIN),
            (UPDATED, 8 * MIN),
            (UPDATED, 4 * MIN),
            (STARTED, 0),
        ]
    );
}

#[test]
fn log_of_a_strategy_without_bake_has_no_bake_entry() {
    // Rule: BAKE_TIME_STARTED only when B > 0.
    let (_, d) = deployed(NO_BAKE);
    assert_eq!(
        log(&d, HOUR),
        [
            (COMPLETED, 10 * MIN),
            (UPDATED, 450_000),
            (UPDATED, 300_000),
            (UPDATED, 150_000),
            (STARTED, 0),
        ]
    );
}

#[test]
fn log_of_a_strategy_without_duration_or_bake_is_started_then_completed() {
    // Rule: D = 0: the first step is 100%, so no step follows it; B = 0: no bake.
    let (_, d) = deployed(INSTANT);
    assert_eq!(log(&d, 0), [(COMPLETED, 0), (STARTED, 0)]);
    assert_eq!(log(&d, HOUR), [(COMPLETED, 0), (STARTED, 0)]);
}

#[test]
fn log_of_a_single_step_strategy_has_no_percentage_update() {
    // Rule: one step reaches 100%: no step after the first.
    let (_, d) = deployed(ONE_STEP);
    assert_eq!(log(&d, HOUR), [(COMPLETED, 10 * MIN), (STARTED, 0)]);
}

#[test]
fn rollback_log_ends_with_rollback_started_and_completed_at_the_stop() {
    // Rule: ROLLBACK_STARTED and ROLLBACK_COMPLETED at s; no schedule entry after s.
    let (_, d) = stopped(LINEAR, 5 * MIN, false);
    let expected = [
        (ROLLBACK_COMPLETED, 5 * MIN),
        (ROLLBACK_STARTED, 5 * MIN),
        (UPDATED, 4 * MIN),
        (UPDATED, 2 * MIN),
        (STARTED, 0),
    ];
    assert_eq!(log(&d, 5 * MIN), expected);
    assert_eq!(log(&d, HOUR), expected);
    assert_eq!(
        log(&d, 5 * MIN - 1),
        [(UPDATED, 4 * MIN), (UPDATED, 2 * MIN), (STARTED, 0)]
    );
    let entries = status(&d, HOUR).event_log;
    assert_eq!(entries[1].triggered_by, TriggeredBy::User);
}

#[test]
fn rollback_during_bake_log_keeps_the_bake_entry() {
    // Rule: entries before s stay; none of the schedule's after s.
    let (_, d) = stopped(LINEAR, 12 * MIN, false);
    assert_eq!(
        log(&d, HOUR)[..3],
        [
            (ROLLBACK_COMPLETED, 12 * MIN),
            (ROLLBACK_STARTED, 12 * MIN),
            (BAKE, 10 * MIN)
        ]
    );
    assert!(log(&d, HOUR).iter().all(|(t, _)| *t != COMPLETED));
}

#[test]
fn revert_log_shows_the_completion_then_the_revert() {
    // Rule: REVERT_COMPLETED at s, after DEPLOYMENT_COMPLETED at T0 + D + B.
    let (_, d) = stopped(ALL_AT_ONCE, 15 * MIN, true);
    assert_eq!(
        log(&d, HOUR),
        [
            (REVERT_COMPLETED, 15 * MIN),
            (COMPLETED, 10 * MIN),
            (BAKE, 0),
            (STARTED, 0),
        ]
    );
    assert_eq!(
        log(&d, 15 * MIN - 1),
        [(COMPLETED, 10 * MIN), (BAKE, 0), (STARTED, 0)]
    );
}

#[test]
fn superseded_deployment_log_completes_at_the_next_start() {
    // Rule: a BAKING deployment is COMPLETE from the next start on, with CompletedAt then.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 3 * MIN))
        .when(start(ALL_AT_ONCE))
        .then_accepted();
    let d = deployment(&g, 1);
    assert_eq!(
        log(&d, HOUR),
        [(COMPLETED, 3 * MIN), (BAKE, 0), (STARTED, 0)]
    );
}

// --- stop ------------------------------------------------------------------------------

#[test]
fn stop_during_deploy_records_a_rollback() {
    // Rule: StopDeployment of a DEPLOYING deployment is DeploymentStopped revert=false.
    let (g, d) = deployed(LINEAR);
    g.at(after(&d, 5 * MIN))
        .when(stop(1, false))
        .then_events(&[deployment_stopped("app1", "env1", 1, false)]);
}

#[test]
fn stop_during_deploy_rolls_back_with_the_percentage_frozen_at_the_stop() {
    // Rule: ROLLED_BACK from s on, percentage frozen at its value at s, CompletedAt = s.
    let (_, d) = stopped(LINEAR, 5 * MIN, false);
    assert_status(&d, 5 * MIN - 1, Deploying, 60.0, None);
    assert_status(&d, 5 * MIN, RolledBack, 60.0, Some(5 * MIN));
    assert_status(&d, 9 * MIN, RolledBack, 60.0, Some(5 * MIN));
    assert_status(&d, 100 * HOUR, RolledBack, 60.0, Some(5 * MIN));
}

#[test]
fn stop_at_a_step_start_freezes_the_new_step() {
    // Rule: the percentage at s is the step in force at s, which starts at s.
    let (_, d) = stopped(LINEAR, 4 * MIN, false);
    assert_status(&d, HOUR, RolledBack, 60.0, Some(4 * MIN));
    assert_eq!(log(&d, HOUR)[2], (UPDATED, 4 * MIN));
}

#[test]
fn stop_during_bake_rolls_back() {
    // Rule: a stop while BAKING is a rollback too.
    let (g, d) = deployed(LINEAR);
    let g = g
        .at(after(&d, 12 * MIN))
        .when(stop(1, false))
        .then_events(&[deployment_stopped("app1", "env1", 1, false)]);
    let d = deployment(&g, 1);
    assert_status(&d, 12 * MIN, RolledBack, 100.0, Some(12 * MIN));
    assert_status(&d, HOUR, RolledBack, 100.0, Some(12 * MIN));
}

#[test]
fn stop_with_allow_revert_of_an_in_progress_deployment_rolls_it_back() {
    // Rule: Allow-Revert only matters for a COMPLETE deployment; in progress is a rollback.
    let (g, d) = deployed(LINEAR);
    g.at(after(&d, MIN))
        .when(stop(1, true))
        .then_events(&[deployment_stopped("app1", "env1", 1, false)]);
}

#[test]
fn stop_without_allow_revert_of_a_complete_deployment_is_a_state_conflict() {
    // Rule: a COMPLETE deployment is only stopped by a revert.
    let (g, d) = deployed(ALL_AT_ONCE);
    g.at(after(&d, 10 * MIN))
        .when(stop(1, false))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn stop_with_allow_revert_of_a_complete_deployment_reverts_it() {
    // Rule: revert = true (only accepted while COMPLETE): REVERTED from s on.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 15 * MIN))
        .when(stop(1, true))
        .then_events(&[deployment_stopped("app1", "env1", 1, true)]);
    let d = deployment(&g, 1);
    assert_status(&d, 15 * MIN - 1, Complete, 100.0, Some(10 * MIN));
    assert_eq!(status(&d, 15 * MIN).state, Reverted);
    assert_eq!(status(&d, 100 * HOUR).state, Reverted);
    assert_eq!(status(&d, 100 * HOUR).percentage_complete, 100.0);
}

#[test]
fn revert_of_an_instant_deployment_right_after_it_is_accepted() {
    // Rule: a deployment COMPLETE at T0 can be reverted from its start on.
    let (g, d) = deployed(INSTANT);
    g.at(after(&d, 1))
        .when(stop(1, true))
        .then_events(&[deployment_stopped("app1", "env1", 1, true)]);
}

#[test]
fn revert_72_hours_after_completion_is_accepted() {
    // Rule: a completed deployment can be reverted for 72 hours after it completed.
    let (g, d) = deployed(ALL_AT_ONCE);
    g.at(after(&d, 10 * MIN + 72 * HOUR))
        .when(stop(1, true))
        .then_events(&[deployment_stopped("app1", "env1", 1, true)]);
}

#[test]
fn revert_more_than_72_hours_after_completion_is_a_state_conflict() {
    // Rule: past the 72-hour window, a revert is refused.
    let (g, d) = deployed(ALL_AT_ONCE);
    g.at(after(&d, 10 * MIN + 72 * HOUR + 1))
        .when(stop(1, true))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn revert_of_a_deployment_that_is_not_the_latest_is_a_state_conflict() {
    // Rule: only the environment's latest deployment can be reverted.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 20 * MIN))
        .when(start(INSTANT))
        .then_accepted();
    g.at(after(&d, 21 * MIN))
        .when(stop(1, true))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn revert_of_a_superseded_deployment_is_a_state_conflict() {
    // Rule: a superseded deployment is complete but no longer the latest.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g.at(after(&d, 3 * MIN)).when(start(LINEAR)).then_accepted();
    let g = g.at(after(&d, 4 * MIN));
    g.clone()
        .when(stop(1, true))
        .then_rejected(RejectionKind::StateConflict);
    g.when(stop(1, false))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn stopping_a_rolled_back_deployment_again_is_a_state_conflict() {
    // Rule (P3): at most one stop per deployment.
    let (g, d) = stopped(LINEAR, 5 * MIN, false);
    let g = g.at(after(&d, 6 * MIN));
    g.clone()
        .when(stop(1, false))
        .then_rejected(RejectionKind::StateConflict);
    g.when(stop(1, true))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn stopping_a_reverted_deployment_again_is_a_state_conflict() {
    // Rule (P3): a reverted deployment cannot be stopped again.
    let (g, d) = stopped(ALL_AT_ONCE, 15 * MIN, true);
    let g = g.at(after(&d, 16 * MIN));
    g.clone()
        .when(stop(1, true))
        .then_rejected(RejectionKind::StateConflict);
    g.when(stop(1, false))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn stop_of_an_unknown_deployment_number_is_not_found() {
    // Rule: the deployment must exist.
    let (g, _) = deployed(LINEAR);
    g.clone()
        .when(stop(2, false))
        .then_rejected(RejectionKind::NotFound);
    g.when(stop(0, false))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn stop_in_an_unknown_environment_is_not_found() {
    // Rule: the environment must exist.
    let (g, _) = deployed(LINEAR);
    g.when(stop_deployment("app1", "env9", 1, false))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn environment_state_follows_its_latest_deployment() {
    // Rule: DEPLOYING or BAKING → DEPLOYING; COMPLETE → READY_FOR_DEPLOYMENT; ROLLED_BACK →
    // ROLLED_BACK; REVERTED → REVERTED.
    use verso_domain::EnvironmentState as E;
    let table = [
        (Deploying, E::Deploying),
        (Baking, E::Deploying),
        (Complete, E::ReadyForDeployment),
        (RolledBack, E::RolledBack),
        (Reverted, E::Reverted),
    ];
    for (state, environment) in table {
        assert_eq!(state.environment_state(), environment, "{}", state.as_str());
    }
}

// --- StartDeployment -------------------------------------------------------------------

#[test]
fn start_deployment_records_the_resolved_version_profile_and_schedule() {
    // Rule: DeploymentStarted holds the resolved version and its label, content and type,
    // the profile's name and location, the strategy and its schedule, and the caller's
    // description, KMS key, tags and lock.
    let tags = BTreeMap::from([("team".to_owned(), "core".to_owned())]);
    let command = StartDeployment {
        description: Some("first".to_owned()),
        kms_key_identifier: Some("alias/verso".to_owned()),
        tags: tags.clone(),
        latest_deployment_number: Some(0),
        ..start_deployment_input("app1", "env1", "prf1", "2", CANARY_10_20_MIN)
    };
    given(history())
        .and([version_created_with(
            "app1",
            "prf1",
            2,
            b"v2",
            Some("prod"),
            None,
        )])
        .when(start_with(command))
        .then_events(&[Event::DeploymentStarted {
            application: app("app1"),
            environment: env("env1"),
            number: 1,
            profile: prof("prf1"),
            configuration_name: "profile prf1".to_owned(),
            location_uri: "hosted".to_owned(),
            version: StreamVersion::new(2),
            version_label: Some("prod".to_owned()),
            content: content(b"v2").to_ref(),
            content_type: Some("text/plain".to_owned()),
            strategy: strategy(CANARY_10_20_MIN),
            schedule: schedule(20, 10, 10.0, GrowthType::Exponential),
            description: Some("first".to_owned()),
            kms_key_identifier: Some("alias/verso".to_owned()),
            tags,
            expected_latest: Some(0),
        }]);
}

#[test]
fn start_deployment_builder_matches_what_decide_records() {
    // The support builder `deployment_started` is what `decide` records for `start`.
    given(history())
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE)]);
}

#[test]
fn deployment_starts_at_its_record_time() {
    // Rule: T0 is the timestamp of the DeploymentStarted record.
    let g = given(history()).after_minutes(7);
    let now = g.now();
    let g = g.when(start(LINEAR)).then_accepted();
    assert_eq!(deployment(&g, 1).started_at, now);
    assert_eq!(deployment(&g, 1).position.get(), 9);
}

#[test]
fn start_while_the_latest_deployment_is_deploying_is_a_state_conflict() {
    // Rule (P2): DEPLOYING blocks the next deployment.
    let (g, d) = deployed(LINEAR);
    g.at(after(&d, 10 * MIN - 1))
        .when(start(ALL_AT_ONCE))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn start_while_the_latest_deployment_is_baking_is_accepted() {
    // Rule: baking does not block the next deployment.
    let (g, d) = deployed(LINEAR);
    g.at(after(&d, 10 * MIN))
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 2, 1, b"v1", ALL_AT_ONCE)]);
}

#[test]
fn start_while_the_latest_is_baking_completes_it_at_the_new_start() {
    // Rule: superseded: COMPLETE from the next start on, CompletedAt that start.
    let (g, d) = deployed(LINEAR);
    let g = g
        .at(after(&d, 12 * MIN))
        .when(start(ALL_AT_ONCE))
        .then_accepted();
    let first = deployment(&g, 1);
    let second = deployment(&g, 2);
    assert_eq!(second.started_at, after(&d, 12 * MIN));
    assert_eq!(first.superseded_at, Some(second.started_at));
    assert_status(&first, 12 * MIN - 1, Baking, 100.0, None);
    assert_status(&first, 12 * MIN, Complete, 100.0, Some(12 * MIN));
    assert_status(&first, 15 * MIN, Complete, 100.0, Some(12 * MIN));
    assert_eq!(second.status_at(second.started_at).state, Baking);
}

#[test]
fn start_after_a_complete_deployment_leaves_it_as_it_was() {
    // Rule: only a BAKING predecessor is superseded.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 20 * MIN))
        .when(start(ALL_AT_ONCE))
        .then_accepted();
    let first = deployment(&g, 1);
    assert_eq!(first.superseded_at, None);
    assert_status(&first, HOUR, Complete, 100.0, Some(10 * MIN));
}

#[test]
fn start_after_a_rollback_is_accepted() {
    // Rule: ROLLED_BACK does not block the next deployment.
    let (g, d) = stopped(LINEAR, MIN, false);
    let g = g.at(after(&d, 2 * MIN)).when(start(LINEAR)).then_accepted();
    assert_eq!(
        deployment(&g, 1).status_at(after(&d, 2 * MIN)).state,
        RolledBack
    );
    assert_eq!(deployment(&g, 2).number, 2);
}

#[test]
fn deployment_numbers_count_1_2_3_per_environment() {
    // Rule (P1): numbers start at 1 and increase by one.
    given(history())
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE)])
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 2, 1, b"v1", ALL_AT_ONCE)])
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 3, 1, b"v1", ALL_AT_ONCE)]);
}

#[test]
fn deployment_numbers_are_independent_per_environment() {
    // Rule (P1): numbers are per environment.
    let g = given(history())
        .and([environment_created("app1", "env2")])
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE)])
        .when(start(ALL_AT_ONCE))
        .then_events(&[deployment_started("env1", 2, 1, b"v1", ALL_AT_ONCE)])
        .when(start_deployment("app1", "env2", "prf1", "1", ALL_AT_ONCE))
        .then_events(&[deployment_started("env2", 1, 1, b"v1", ALL_AT_ONCE)]);
    assert_eq!(
        g.state()
            .latest_deployment(&app("app1"), &env("env1"))
            .map(|d| d.number),
        Some(2)
    );
}

#[test]
fn a_deploying_deployment_blocks_only_its_own_environment() {
    // Rule (P2): the latest deployment of the same environment.
    let (g, _) = deployed(LINEAR);
    g.and([environment_created("app1", "env2")])
        .when(start_deployment("app1", "env2", "prf1", "1", LINEAR))
        .then_accepted();
}

#[test]
fn latest_deployment_number_that_matches_is_accepted() {
    // Rule (P2): LatestDeploymentNumber equal to the latest number (0 for none).
    let first = StartDeployment {
        latest_deployment_number: Some(0),
        ..start_deployment_input("app1", "env1", "prf1", "1", INSTANT)
    };
    let second = StartDeployment {
        latest_deployment_number: Some(1),
        ..first.clone()
    };
    given(history())
        .when(start_with(first))
        .then_accepted()
        .when(start_with(second))
        .then_accepted();
}

#[test]
fn stale_lower_latest_deployment_number_is_a_version_mismatch() {
    // Rule (P2): a number other than the latest is refused (ConflictException).
    let (g, _) = deployed(INSTANT);
    let command = StartDeployment {
        latest_deployment_number: Some(0),
        ..start_deployment_input("app1", "env1", "prf1", "1", INSTANT)
    };
    let rejection = g
        .when(start_with(command))
        .then_rejected(RejectionKind::VersionMismatch);
    assert_eq!(
        *rejection.detail(),
        Detail::Version {
            expected: StreamVersion::new(0),
            actual: StreamVersion::new(1)
        }
    );
}

#[test]
fn stale_higher_latest_deployment_number_is_a_version_mismatch() {
    // Rule (P2): a number above the latest is refused too, including with no deployment.
    let command = StartDeployment {
        latest_deployment_number: Some(2),
        ..start_deployment_input("app1", "env1", "prf1", "1", INSTANT)
    };
    let (g, _) = deployed(INSTANT);
    g.when(start_with(command.clone()))
        .then_rejected(RejectionKind::VersionMismatch);
    given(history())
        .when(start_with(StartDeployment {
            latest_deployment_number: Some(1),
            ..command
        }))
        .then_rejected(RejectionKind::VersionMismatch);
}

#[test]
fn start_by_label_deploys_the_newest_live_version_carrying_it() {
    // Rule: a label resolves to the newest live version carrying it.
    let g = given(history())
        .and([
            version_created_with("app1", "prf1", 2, b"v2", Some("prod"), None),
            version_created_with("app1", "prf1", 3, b"v3", Some("prod"), None),
            version_created("app1", "prf1", 4, b"v4"),
        ])
        .when(start_deployment(
            "app1",
            "env1",
            "prf1",
            "prod",
            ALL_AT_ONCE,
        ))
        .then_accepted();
    let d = deployment(&g, 1);
    assert_eq!(d.version, StreamVersion::new(3));
    assert_eq!(d.version_label.as_deref(), Some("prod"));
    assert_eq!(d.content, content(b"v3").to_ref());
}

#[test]
fn start_by_label_passes_over_a_deleted_version() {
    // Rule: only live versions carry a label.
    let g = given(history())
        .and([
            version_created_with("app1", "prf1", 2, b"v2", Some("prod"), None),
            version_created_with("app1", "prf1", 3, b"v3", Some("prod"), None),
            version_deleted("app1", "prf1", 3),
        ])
        .when(start_deployment(
            "app1",
            "env1",
            "prf1",
            "prod",
            ALL_AT_ONCE,
        ))
        .then_accepted();
    assert_eq!(deployment(&g, 1).version, StreamVersion::new(2));
}

#[test]
fn start_by_label_of_a_version_created_by_decide_resolves_it() {
    // Rule: a label given to CreateHostedVersion is found by StartDeployment.
    let version = verso_domain::CreateHostedVersion {
        label: Some("v2.0".to_owned()),
        ..create_version("app1", "prf1", b"v2")
    };
    let g = given(history())
        .when(Command::CreateHostedVersion(version))
        .then_accepted()
        .when(start_deployment(
            "app1",
            "env1",
            "prf1",
            "v2.0",
            ALL_AT_ONCE,
        ))
        .then_accepted();
    assert_eq!(deployment(&g, 1).version, StreamVersion::new(2));
}

#[test]
fn start_with_an_unknown_label_is_not_found() {
    // Rule: a label no live version carries is NotFound.
    given(history())
        .when(start_deployment(
            "app1",
            "env1",
            "prf1",
            "prod",
            ALL_AT_ONCE,
        ))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_with_a_label_that_cannot_be_one_is_invalid() {
    // Rule: a ConfigurationVersion that is not a number must be a valid VersionLabel.
    given(history())
        .when(start_deployment(
            "app1",
            "env1",
            "prf1",
            &"l".repeat(65),
            ALL_AT_ONCE,
        ))
        .then_invalid("ConfigurationVersion");
}

#[test]
fn start_of_a_deleted_version_is_not_found() {
    // Rule (P2): only a live hosted version is deployed.
    given(history())
        .and([
            version_created("app1", "prf1", 2, b"v2"),
            version_deleted("app1", "prf1", 1),
        ])
        .when(start(ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_of_an_unknown_version_number_is_not_found() {
    // Rule (P2): the version must exist.
    given(history())
        .when(start_deployment("app1", "env1", "prf1", "2", ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
    given(history())
        .when(start_deployment("app1", "env1", "prf1", "0", ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_in_an_unknown_application_is_not_found() {
    given(history())
        .when(start_deployment("app9", "env1", "prf1", "1", ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_in_an_unknown_environment_is_not_found() {
    given(history())
        .when(start_deployment("app1", "env9", "prf1", "1", ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_of_an_unknown_profile_is_not_found() {
    given(history())
        .when(start_deployment("app1", "env1", "prf9", "1", ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_of_a_profile_of_another_application_is_not_found() {
    // Rule (P2): a profile of the same application.
    given(history())
        .and([
            application_created("app2"),
            hosted_profile_created("app2", "prf2"),
            version_created("app2", "prf2", 1, b"x"),
        ])
        .when(start_deployment("app1", "env1", "prf2", "1", ALL_AT_ONCE))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_with_an_unknown_strategy_is_not_found() {
    given(history())
        .when(start_deployment("app1", "env1", "prf1", "1", "str9"))
        .then_rejected(RejectionKind::NotFound);
    given(history())
        .when(start_deployment(
            "app1",
            "env1",
            "prf1",
            "1",
            "AppConfig.NoSuchStrategy",
        ))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_with_a_deleted_strategy_is_not_found() {
    given(history())
        .and([strategy_deleted(LINEAR)])
        .when(start(LINEAR))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn start_of_a_profile_that_is_not_hosted_is_invalid() {
    // Rule (P2): only hosted profiles are deployed here.
    given(history())
        .and([profile_created("app1", "prf2", "ssm-parameter://verso")])
        .when(start_deployment("app1", "env1", "prf2", "1", ALL_AT_ONCE))
        .then_invalid("ConfigurationProfileId");
}

#[test]
fn start_with_a_1024_character_description_is_accepted() {
    let command = StartDeployment {
        description: Some("d".repeat(1024)),
        ..start_deployment_input("app1", "env1", "prf1", "1", ALL_AT_ONCE)
    };
    given(history()).when(start_with(command)).then_accepted();
}

#[test]
fn start_with_a_description_over_1024_characters_is_invalid() {
    let command = StartDeployment {
        description: Some("d".repeat(1025)),
        ..start_deployment_input("app1", "env1", "prf1", "1", ALL_AT_ONCE)
    };
    given(history())
        .when(start_with(command))
        .then_invalid("Description");
}

#[test]
fn start_copies_the_schedule_of_a_user_strategy() {
    // Rule: the schedule is the strategy's values at the start.
    let (_, d) = deployed(LINEAR);
    assert_eq!(d.strategy, strategy(LINEAR));
    assert_eq!(d.schedule, schedule(10, 5, 20.0, GrowthType::Linear));
}

#[test]
fn a_later_strategy_update_does_not_change_a_running_deployment() {
    // Rule: a later change to the strategy does not change a running deployment.
    let (g, d) = deployed(LINEAR);
    let changes = UpdateDeploymentStrategy {
        deployment_duration_in_minutes: Some(60),
        final_bake_time_in_minutes: Some(0),
        growth_factor: Some(crate::support::growth(50.0)),
        growth_type: Some(GrowthType::Exponential),
        ..UpdateDeploymentStrategy::default()
    };
    let g = g
        .at(after(&d, MIN))
        .when(Command::UpdateDeploymentStrategy {
            strategy: strategy(LINEAR),
            changes,
        })
        .then_accepted();
    let running = deployment(&g, 1);
    assert_eq!(running.schedule, schedule(10, 5, 20.0, GrowthType::Linear));
    assert_status(&running, 2 * MIN, Deploying, 40.0, None);
    assert_status(&running, 10 * MIN, Baking, 100.0, None);
    // The next deployment copies the strategy as it is then.
    let g = g
        .at(after(&d, 10 * MIN))
        .when(start(LINEAR))
        .then_accepted();
    assert_eq!(
        deployment(&g, 2).schedule,
        schedule(60, 0, 50.0, GrowthType::Exponential)
    );
}

// --- DeleteEnvironment -----------------------------------------------------------------

fn delete_environment() -> Command {
    Command::DeleteEnvironment {
        application: app("app1"),
        environment: env("env1"),
    }
}

#[test]
fn delete_environment_while_a_deployment_is_deploying_is_a_state_conflict() {
    let (g, d) = deployed(LINEAR);
    g.at(after(&d, 3 * MIN))
        .when(delete_environment())
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn delete_environment_while_a_deployment_is_baking_is_a_state_conflict() {
    let (g, d) = deployed(ALL_AT_ONCE);
    g.at(after(&d, 10 * MIN - 1))
        .when(delete_environment())
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn delete_environment_after_its_deployment_completes_is_accepted() {
    let (g, d) = deployed(ALL_AT_ONCE);
    g.at(after(&d, 10 * MIN))
        .when(delete_environment())
        .then_events(&[crate::support::environment_deleted("app1", "env1")]);
}

#[test]
fn delete_environment_after_its_deployment_rolled_back_is_accepted() {
    let (g, d) = stopped(LINEAR, MIN, false);
    g.at(after(&d, MIN))
        .when(delete_environment())
        .then_accepted();
}

// --- what the writer reports (projection::subject) -----------------------------------

/// The record of variant `$kind` that a reported subject holds.
macro_rules! reported {
    ($reported:expr, $kind:ident) => {
        match $reported {
            Some(Subject::$kind(record)) => record,
            other => panic!(concat!("expected ", stringify!($kind), ", got {:?}"), other),
        }
    };
}

#[test]
fn each_appconfig_command_reports_its_record_as_it_stands_after_it() {
    // The catalog: each create and update reports the record with the change made.
    let (g, r) = given([]).when_reported(Command::CreateApplication(create_application("app1")));
    assert_eq!(reported!(r, Application).id, app("app1"));
    let (g, r) = g.when_reported(Command::UpdateApplication(UpdateApplication {
        id: app("app1"),
        name: Some("payments".to_owned()),
        description: None,
    }));
    assert_eq!(reported!(r, Application).name, "payments");
    let (g, r) = g.when_reported(Command::CreateProfile(create_profile("app1", "prf1")));
    assert_eq!(reported!(r, Profile).id, prof("prf1"));
    let (g, r) = g.when_reported(Command::UpdateProfile {
        application: app("app1"),
        profile: prof("prf1"),
        changes: UpdateProfile {
            name: Some("flags".to_owned()),
            ..UpdateProfile::default()
        },
    });
    assert_eq!(reported!(r, Profile).name, "flags");
    let (g, r) = g.when_reported(Command::CreateEnvironment(create_environment(
        "app1", "env1",
    )));
    assert_eq!(reported!(r, Environment).id, env("env1"));
    let (g, r) = g.when_reported(Command::UpdateEnvironment {
        application: app("app1"),
        environment: env("env1"),
        changes: UpdateEnvironment {
            description: Some("production".to_owned()),
            ..UpdateEnvironment::default()
        },
    });
    assert_eq!(
        reported!(r, Environment).description.as_deref(),
        Some("production")
    );
    let (g, r) = g.when_reported(Command::CreateDeploymentStrategy(create_strategy(LINEAR)));
    assert_eq!(reported!(r, DeploymentStrategy).id, strategy(LINEAR));
    let (g, r) = g.when_reported(Command::UpdateDeploymentStrategy {
        strategy: strategy(LINEAR),
        changes: UpdateDeploymentStrategy {
            description: Some("slow".to_owned()),
            ..UpdateDeploymentStrategy::default()
        },
    });
    assert_eq!(
        reported!(r, DeploymentStrategy).description.as_deref(),
        Some("slow")
    );
    // A hosted version create reports the latest live version: the one it appended, even
    // when a deleted number lies below it.
    let create = |bytes: &[u8]| Command::CreateHostedVersion(create_version("app1", "prf1", bytes));
    let (g, r) = g.when_reported(create(b"a"));
    assert_eq!(reported!(r, Version).version, StreamVersion::new(1));
    let (g, _) = g.when_reported(create(b"b"));
    let (g, r) = g.when_reported(delete_version("app1", "prf1", 2));
    assert_eq!(r, None);
    let (g, r) = g.when_reported(create(b"c"));
    let created = reported!(r, Version);
    assert_eq!(
        (created.version, created.content),
        (StreamVersion::new(3), content(b"c").to_ref())
    );
    // A start reports the deployment it started; a stop, the deployment it stopped.
    let (g, r) = g.when_reported(start(LINEAR));
    assert_eq!(reported!(r, Deployment).number, 1);
    let (g, r) = g.when_reported(stop(1, false));
    let stopped = reported!(r, Deployment);
    assert_eq!((stopped.number, stopped.stopped.is_some()), (1, true));
    let (_, r) = g.when_reported(start_deployment("app1", "env1", "prf1", "3", LINEAR));
    let started = reported!(r, Deployment);
    assert_eq!(
        (started.number, started.version),
        (2, StreamVersion::new(3))
    );
}

// --- replay (E5) -----------------------------------------------------------------------

/// `history()` plus deployment 1 of version 1 with `strategy_id`, recorded at position
/// 9 (T0 = 9 s).
fn with_deployment(strategy_id: &str) -> Given {
    given(history()).and([deployment_started("env1", 1, 1, b"v1", strategy_id)])
}

const T0: i64 = 9_000;

/// Asserts replay refuses `event` by the numbering rule (P1): several rules of
/// `DeploymentStarted` are `Invalid`, so the message tells them apart.
#[track_caller]
fn refuses_the_number(g: &Given, event: Event) {
    let v = g.replay_refuses(event, RejectionKind::Invalid);
    assert!(v.message().contains("recorded where"), "{v}");
}

/// Asserts replay refuses `event` because it records a version, content, label or
/// schedule other than the one `StartDeployment` would have recorded.
#[track_caller]
fn refuses_as_not_decided(g: &Given, event: Event) {
    let v = g.replay_refuses(event, RejectionKind::Invalid);
    assert!(v.message().contains("would not have recorded"), "{v}");
}

#[test]
fn replay_accepts_a_deployment_as_decide_records_it() {
    given(history()).replay_accepts(deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE));
    given(history()).replay_accepts(deployment_started("env1", 1, 1, b"v1", NO_BAKE));
}

#[test]
fn replay_refuses_a_first_deployment_number_other_than_1() {
    // Rule (P1): numbers start at 1, without gaps.
    let g = given(history());
    refuses_the_number(&g, deployment_started("env1", 0, 1, b"v1", ALL_AT_ONCE));
    refuses_the_number(&g, deployment_started("env1", 2, 1, b"v1", ALL_AT_ONCE));
}

#[test]
fn replay_refuses_a_gap_in_deployment_numbers() {
    let g = with_deployment(ALL_AT_ONCE).at(ts(T0 + HOUR));
    g.replay_accepts(deployment_started("env1", 2, 1, b"v1", ALL_AT_ONCE));
    refuses_the_number(&g, deployment_started("env1", 3, 1, b"v1", ALL_AT_ONCE));
}

#[test]
fn replay_refuses_a_reused_deployment_number() {
    let g = with_deployment(ALL_AT_ONCE).at(ts(T0 + HOUR));
    refuses_the_number(&g, deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE));
}

#[test]
fn replay_refuses_a_start_while_the_previous_was_deploying_at_the_recorded_time() {
    // Rule (P2, E5): the recorded timestamp is now.
    let g = with_deployment(CANARY_10_20_MIN);
    let next = deployment_started("env1", 2, 1, b"v1", ALL_AT_ONCE);
    g.clone()
        .at(ts(T0 + 20 * MIN - 1))
        .replay_refuses(next.clone(), RejectionKind::StateConflict);
    g.at(ts(T0 + 20 * MIN)).replay_accepts(next);
}

#[test]
fn replay_refuses_content_that_is_not_the_versions() {
    let mut forged = deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE);
    if let Event::DeploymentStarted { content: c, .. } = &mut forged {
        *c = content(b"something else").to_ref();
    }
    refuses_as_not_decided(&given(history()), forged);
}

#[test]
fn replay_refuses_a_label_content_type_or_name_that_is_not_the_versions() {
    let g = given(history());
    let mut label = deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE);
    if let Event::DeploymentStarted { version_label, .. } = &mut label {
        *version_label = Some("forged".to_owned());
    }
    refuses_as_not_decided(&g, label);
    let mut kind = deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE);
    if let Event::DeploymentStarted { content_type, .. } = &mut kind {
        *content_type = Some("application/forged".to_owned());
    }
    refuses_as_not_decided(&g, kind);
    let mut name = deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE);
    if let Event::DeploymentStarted {
        configuration_name, ..
    } = &mut name
    {
        *configuration_name = "forged".to_owned();
    }
    refuses_as_not_decided(&g, name);
}

#[test]
fn replay_refuses_a_schedule_that_is_not_the_strategys() {
    let forge = |strategy_id: &str, s| {
        let mut forged = deployment_started("env1", 1, 1, b"v1", strategy_id);
        if let Event::DeploymentStarted {
            schedule: recorded, ..
        } = &mut forged
        {
            *recorded = s;
        }
        forged
    };
    let g = given(history());
    refuses_as_not_decided(
        &g,
        forge(ALL_AT_ONCE, schedule(0, 0, 100.0, GrowthType::Linear)),
    );
    refuses_as_not_decided(&g, forge(LINEAR, schedule(10, 5, 25.0, GrowthType::Linear)));
    g.replay_accepts(forge(LINEAR, schedule(10, 5, 20.0, GrowthType::Linear)));
}

#[test]
fn replay_refuses_a_stale_expected_latest() {
    let forge = |expected| {
        let mut forged = deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE);
        if let Event::DeploymentStarted {
            expected_latest, ..
        } = &mut forged
        {
            *expected_latest = expected;
        }
        forged
    };
    let g = given(history());
    g.replay_accepts(forge(Some(0)));
    g.replay_refuses(forge(Some(1)), RejectionKind::VersionMismatch);
}

#[test]
fn replay_refuses_a_deployment_of_a_deleted_version() {
    let g = given(history()).and([
        version_created("app1", "prf1", 2, b"v2"),
        version_deleted("app1", "prf1", 1),
    ]);
    g.replay_refuses(
        deployment_started("env1", 1, 1, b"v1", ALL_AT_ONCE),
        RejectionKind::NotFound,
    );
    g.replay_accepts(deployment_started("env1", 1, 2, b"v2", ALL_AT_ONCE));
}

#[test]
fn replay_refuses_a_deployment_with_an_unknown_strategy() {
    given(history()).replay_refuses(
        deployment_started("env1", 1, 1, b"v1", "str9"),
        RejectionKind::NotFound,
    );
}

#[test]
fn replay_refuses_a_rollback_recorded_for_a_complete_deployment() {
    let g = with_deployment(ALL_AT_ONCE).at(ts(T0 + 10 * MIN));
    let v = g.replay_refuses(
        deployment_stopped("app1", "env1", 1, false),
        RejectionKind::Invalid,
    );
    assert!(v.message().starts_with("AllowRevert"), "{v}");
    g.replay_accepts(deployment_stopped("app1", "env1", 1, true));
}

#[test]
fn replay_refuses_a_revert_recorded_for_a_deployment_in_progress() {
    let g = with_deployment(ALL_AT_ONCE).at(ts(T0 + 10 * MIN - 1));
    let v = g.replay_refuses(
        deployment_stopped("app1", "env1", 1, true),
        RejectionKind::Invalid,
    );
    assert!(v.message().starts_with("AllowRevert"), "{v}");
    g.replay_accepts(deployment_stopped("app1", "env1", 1, false));
}

#[test]
fn replay_refuses_a_revert_after_the_72_hour_window() {
    let g = with_deployment(ALL_AT_ONCE).at(ts(T0 + 10 * MIN + 72 * HOUR + 1));
    g.replay_refuses(
        deployment_stopped("app1", "env1", 1, true),
        RejectionKind::StateConflict,
    );
}

#[test]
fn replay_refuses_a_second_stop() {
    let mut g = with_deployment(LINEAR).at(ts(T0 + MIN));
    g.record(deployment_stopped("app1", "env1", 1, false));
    g.replay_refuses(
        deployment_stopped("app1", "env1", 1, false),
        RejectionKind::StateConflict,
    );
    g.replay_refuses(
        deployment_stopped("app1", "env1", 1, true),
        RejectionKind::StateConflict,
    );
}

#[test]
fn replay_refuses_a_stop_of_an_unknown_deployment() {
    let g = with_deployment(LINEAR).at(ts(T0 + MIN));
    g.replay_refuses(
        deployment_stopped("app1", "env1", 2, false),
        RejectionKind::NotFound,
    );
    g.replay_refuses(
        deployment_stopped("app1", "env2", 1, false),
        RejectionKind::NotFound,
    );
}

// --- rollout ---------------------------------------------------------------------------

/// A random-looking session id: the sha256 of `i`.
fn session(i: u32) -> [u8; 32] {
    Sha256::digest(i.to_be_bytes()).into()
}

#[test]
fn rollout_bucket_is_stable_for_a_session_and_below_10000() {
    for i in 0..1000 {
        let s = session(i);
        let bucket = rollout_bucket(&s, 1);
        assert!(bucket < 10_000);
        assert_eq!(rollout_bucket(&s, 1), bucket);
    }
}

#[test]
fn rollout_bucket_differs_between_deployments() {
    // Rule: placement is drawn afresh per deployment, so the same sessions are not
    // always the first to get a new version.
    let differ = (0..1000)
        .filter(|&i| rollout_bucket(&session(i), 1) != rollout_bucket(&session(i), 2))
        .count();
    assert!(differ > 990, "only {differ} of 1000 buckets differ");
}

#[test]
fn rollout_share_follows_the_percentage() {
    // Rule: the share of sessions inside follows PercentageComplete (±2 points).
    let buckets: Vec<u32> = (0..10_000)
        .map(|i| rollout_bucket(&session(i), 1))
        .collect();
    for p in [10.0_f32, 50.0, 90.0] {
        let inside = buckets.iter().filter(|&&b| in_rollout(b, p)).count();
        let share = f64::from(u32::try_from(inside).expect("small")) / 100.0;
        assert!(
            (share - f64::from(p)).abs() <= 2.0,
            "{share}% of sessions inside a {p}% rollout"
        );
    }
}

#[test]
fn in_rollout_at_100_percent_includes_every_bucket_and_at_0_none() {
    for bucket in 0..10_000 {
        assert!(in_rollout(bucket, 100.0), "bucket {bucket} at 100%");
        assert!(!in_rollout(bucket, 0.0), "bucket {bucket} at 0%");
    }
}

#[test]
fn in_rollout_is_bucket_below_percentage_times_100() {
    assert!(in_rollout(999, 10.0));
    assert!(!in_rollout(1000, 10.0));
    assert!(in_rollout(1249, 12.5));
    assert!(!in_rollout(1250, 12.5));
}

/// The numbers of the deployments `live_deployment` picks for bucket `b` at `t`.
fn live(records: &[DeploymentRecord], t: Timestamp, b: u32) -> Option<u32> {
    live_deployment(records.iter().rev(), t, |_| b).map(|d| d.number)
}

fn records(g: &Given) -> Vec<DeploymentRecord> {
    (1..)
        .map_while(|n| g.state().deployment(&app("app1"), &env("env1"), n))
        .collect()
}

#[test]
fn live_deployment_is_the_complete_one() {
    let (g, d) = deployed(ALL_AT_ONCE);
    let all = records(&g);
    for b in [0, 5000, 9999] {
        assert_eq!(live(&all, after(&d, 10 * MIN), b), Some(1));
    }
}

#[test]
fn live_deployment_is_none_before_the_first_starts() {
    let (g, d) = deployed(ALL_AT_ONCE);
    assert_eq!(live(&records(&g), after(&d, -1), 0), None);
}

#[test]
fn live_deployment_passes_over_a_rolled_back_one_to_the_previous() {
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 20 * MIN))
        .when(start(ALL_AT_ONCE))
        .then_accepted()
        .at(after(&d, 25 * MIN))
        .when(stop(2, false))
        .then_accepted();
    let all = records(&g);
    for b in [0, 9999] {
        assert_eq!(live(&all, after(&d, 20 * MIN - 1), b), Some(1));
        assert_eq!(live(&all, after(&d, 20 * MIN), b), Some(2));
        assert_eq!(live(&all, after(&d, 25 * MIN), b), Some(1));
        assert_eq!(live(&all, after(&d, 100 * HOUR), b), Some(1));
    }
}

#[test]
fn live_deployment_passes_over_a_reverted_one_to_the_previous() {
    let (g, d) = deployed(INSTANT);
    let g = g
        .at(after(&d, MIN))
        .when(start(INSTANT))
        .then_accepted()
        .at(after(&d, 2 * MIN))
        .when(stop(2, true))
        .then_accepted();
    let all = records(&g);
    assert_eq!(live(&all, after(&d, 2 * MIN - 1), 0), Some(2));
    assert_eq!(live(&all, after(&d, 2 * MIN), 0), Some(1));
}

#[test]
fn live_deployment_is_none_when_the_only_one_rolled_back() {
    let (g, d) = stopped(LINEAR, MIN, false);
    let all = records(&g);
    assert_eq!(live(&all, after(&d, MIN - 1), 0), Some(1));
    assert_eq!(live(&all, after(&d, MIN - 1), 9999), None);
    assert_eq!(live(&all, after(&d, MIN), 0), None);
}

#[test]
fn live_deployment_during_a_gradual_one_is_the_new_version_only_inside_its_percentage() {
    // Rule: while DEPLOYING, the new version for the sessions inside its percentage, the
    // previous live version for the others.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 20 * MIN))
        .when(start(LINEAR))
        .then_accepted();
    let all = records(&g);
    let second = &all[1];
    let t = after(second, 3 * MIN); // 40%
    assert_eq!(live(&all, t, 0), Some(2));
    assert_eq!(live(&all, t, 3999), Some(2));
    assert_eq!(live(&all, t, 4000), Some(1));
    assert_eq!(live(&all, t, 9999), Some(1));
    let on_new = (0..10_000)
        .filter(|&i| {
            let s = session(i);
            live_deployment(all.iter().rev(), t, |n| rollout_bucket(&s, n)).map(|d| d.number)
                == Some(2)
        })
        .count();
    assert!(
        (3800..=4200).contains(&on_new),
        "{on_new} of 10000 sessions on 40%"
    );
    // Every session has it once it bakes.
    assert_eq!(live(&all, after(second, 10 * MIN), 9999), Some(2));
}

#[test]
fn live_deployment_outside_a_rollout_is_the_superseded_one() {
    // Rule: a deployment superseded while baking is COMPLETE, so it is what sessions
    // outside the next one's percentage see.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g.at(after(&d, 3 * MIN)).when(start(LINEAR)).then_accepted();
    let all = records(&g);
    let t = after(&d, 4 * MIN); // deployment 2 at 20%
    assert_eq!(live(&all, t, 1999), Some(2));
    assert_eq!(live(&all, t, 2000), Some(1));
    assert_eq!(live(&all, after(&d, 3 * MIN - 1), 9999), Some(1));
}

#[test]
fn live_deployment_session_answers_only_move_forward_during_a_rollout() {
    // Rule: each session's answer is stable: once inside, it stays inside.
    let (g, d) = deployed(ALL_AT_ONCE);
    let g = g
        .at(after(&d, 20 * MIN))
        .when(start(CANARY_10_20_MIN))
        .then_accepted();
    let all = records(&g);
    let second = all[1].clone();
    for i in 0..500 {
        let s = session(i);
        let mut seen_new = false;
        for step in 0..=(30 * 6) {
            let t = after(&second, step * 10_000);
            let n =
                live_deployment(all.iter().rev(), t, |n| rollout_bucket(&s, n)).map(|d| d.number);
            if seen_new {
                assert_eq!(n, Some(2), "session {i} went back at {step}");
            }
            seen_new |= n == Some(2);
        }
        assert!(seen_new);
    }
}

// --- P4: monotonic in t ------------------------------------------------------------------

const fn rank(state: DeploymentState) -> u8 {
    match state {
        Deploying => 0,
        Baking => 1,
        _ => 2,
    }
}

/// Samples `d` every 10 s from its start to `until_ms` after it, asserting P4: the
/// percentage never decreases, the state never goes back, a terminal state never
/// changes without a later event (`event_ms`: the offset of the record's stop, the one
/// instant a COMPLETE deployment may become REVERTED), and the log only grows (each log is
/// the tail of the later ones) with every entry at or before t.
#[track_caller]
fn assert_monotonic(d: &DeploymentRecord, until_ms: i64, event_ms: Option<i64>) {
    let mut previous: Option<DeploymentStatus> = None;
    let mut ms = 0;
    while ms <= until_ms {
        let t = after(d, ms);
        let now = d.status_at(t);
        assert!(
            now.event_log.iter().all(|e| e.occurred_at <= t),
            "{}: entry after t at +{ms} ms",
            d.strategy
        );
        if let Some(before) = &previous {
            assert!(
                now.percentage_complete >= before.percentage_complete,
                "{}: percentage went down at +{ms} ms",
                d.strategy
            );
            assert!(
                rank(now.state) >= rank(before.state),
                "{}: state went back",
                d.strategy
            );
            if rank(before.state) == 2 && event_ms != Some(ms) {
                assert_eq!(
                    (now.state, now.percentage_complete, now.completed_at),
                    (
                        before.state,
                        before.percentage_complete,
                        before.completed_at
                    ),
                    "{}: terminal state changed at +{ms} ms",
                    d.strategy
                );
            }
            assert!(
                now.event_log.ends_with(&before.event_log),
                "{}: log rewritten at +{ms} ms",
                d.strategy
            );
        }
        previous = Some(now);
        ms += 10_000;
    }
    assert_eq!(
        rank(previous.expect("sampled").state),
        2,
        "{}: never ended",
        d.strategy
    );
}

#[test]
fn percentage_never_decreases_and_terminal_states_hold_for_every_strategy_shape() {
    for id in [
        ALL_AT_ONCE,
        LINEAR_50_EVERY_30S,
        CANARY_10_20_MIN,
        LINEAR_20_EVERY_6_MIN,
        LINEAR,
        NO_BAKE,
        INSTANT,
        ONE_STEP,
    ] {
        let (_, d) = deployed(id);
        let end = d.schedule.duration_ms() + d.schedule.bake_ms();
        assert_monotonic(&d, end + 30 * MIN, None);
    }
}

#[test]
fn rolled_back_deployments_stay_rolled_back() {
    for (id, at) in [
        (LINEAR, 5 * MIN),
        (LINEAR, 12 * MIN),
        (CANARY_10_20_MIN, 25_000),
        (ALL_AT_ONCE, 0),
        (LINEAR_50_EVERY_30S, 30_000),
    ] {
        let (_, d) = stopped(id, at, false);
        assert_eq!(status(&d, at).state, RolledBack);
        assert_monotonic(&d, 2 * HOUR, None);
    }
}

#[test]
fn reverted_deployments_stay_reverted() {
    for (id, at) in [(ALL_AT_ONCE, 15 * MIN), (INSTANT, 0), (NO_BAKE, 10 * MIN)] {
        let (_, d) = stopped(id, at, true);
        assert_eq!(status(&d, at).state, Reverted);
        assert_monotonic(&d, 2 * HOUR, Some(at));
    }
}

#[test]
fn superseded_deployments_stay_complete() {
    let (g, d) = deployed(CANARY_10_20_MIN);
    let g = g
        .at(after(&d, 25 * MIN))
        .when(start(LINEAR))
        .then_accepted();
    let first = deployment(&g, 1);
    assert_eq!(status(&first, 25 * MIN).state, Complete);
    assert_monotonic(&first, 2 * HOUR, None);
}

#[test]
fn a_schedule_without_duration_has_one_step_whatever_its_growth() {
    assert_eq!(schedule(0, 10, 25.0, GrowthType::Linear).steps(), 1);
    assert_eq!(schedule(0, 0, 10.0, GrowthType::Exponential).steps(), 1);
    assert_eq!(schedule(20, 0, 25.0, GrowthType::Linear).steps(), 4);
    assert_eq!(schedule(20, 0, 10.0, GrowthType::Exponential).steps(), 5);
}
