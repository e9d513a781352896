//! Deployments: a hosted configuration version rolled out to an environment on a
//! strategy's schedule (docs/design/deployments.md).
//!
//! No event records progress, baking or completion. A deployment's status at any time is
//! a pure function of its record (what `DeploymentStarted` and `DeploymentStopped` said)
//! and that time: [`DeploymentRecord::status_at`]. So a restart continues every
//! deployment where the clock puts it, replay needs no timer, and "what was live at
//! 14:02" is the fold of the log to 14:02 evaluated at 14:02.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::content::ContentRef;
use crate::event::{EnvironmentState, GrowthFactor, GrowthType};
use crate::id::{
    ApplicationId, DeploymentStrategyId, EnvironmentId, Position, ProfileId, StreamVersion,
    Timestamp,
};

const MINUTE_MS: i64 = 60_000;

/// A completed deployment can be reverted for this long after it completed (AWS: 72
/// hours).
pub const REVERT_WINDOW_MS: i64 = 72 * 60 * MINUTE_MS;

/// The strategy's values, copied into a deployment when it starts: a later change to the
/// strategy does not change a running deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schedule {
    /// Minutes from the first step to the last (0 to 1440).
    pub deployment_duration_in_minutes: u32,
    /// Minutes of baking after the deployment reached every target (0 to 1440).
    pub final_bake_time_in_minutes: u32,
    /// The step, in percent of targets.
    pub growth_factor: GrowthFactor,
    /// How steps grow.
    pub growth_type: GrowthType,
}

impl Schedule {
    /// How many steps reach 100%: the first `k` whose percentage is 100; one step (at
    /// 100%) when the duration is 0, since there is no time to grow in.
    #[must_use]
    pub fn steps(&self) -> u32 {
        if self.deployment_duration_in_minutes == 0 {
            return 1;
        }
        let mut k = 1;
        while self.percentage_of_step(k) < 100.0 {
            k += 1;
        }
        k
    }

    /// The percentage of targets after step `k` (k ≥ 1): LINEAR min(100, k·g),
    /// EXPONENTIAL min(100, g·2^(k−1)).
    #[must_use]
    pub fn percentage_of_step(&self, k: u32) -> f32 {
        let g = self.growth_factor.get();
        let raw = match self.growth_type {
            GrowthType::Linear => g * k as f32,
            // 2^(k-1) overflows nothing that matters: g ≥ 1 reaches 100 by k = 8.
            GrowthType::Exponential => g * 2f32.powi(i32::try_from(k).unwrap_or(i32::MAX) - 1),
        };
        raw.min(100.0)
    }

    /// The deployment duration in milliseconds.
    #[must_use]
    pub fn duration_ms(&self) -> i64 {
        i64::from(self.deployment_duration_in_minutes) * MINUTE_MS
    }

    /// The final bake time in milliseconds.
    #[must_use]
    pub fn bake_ms(&self) -> i64 {
        i64::from(self.final_bake_time_in_minutes) * MINUTE_MS
    }

    /// When step `k` (k ≥ 1) starts, in milliseconds after the start: (k−1)·D/n.
    fn step_start_ms(&self, k: u32) -> i64 {
        self.duration_ms() * i64::from(k - 1) / i64::from(self.steps())
    }
}

/// How a deployment was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stop {
    /// When StopDeployment was accepted.
    pub at: Timestamp,
    /// True: a completed deployment was reverted. False: an in-progress one was rolled
    /// back.
    pub revert: bool,
}

/// Where a deployment stands (the wire's `DeploymentState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeploymentState {
    /// Rolling out step by step (`DEPLOYING`).
    Deploying,
    /// At 100%, alarms watched for the final bake time (`BAKING`).
    Baking,
    /// Done (`COMPLETE`).
    Complete,
    /// Stopped while in progress; the previous version is live again (`ROLLED_BACK`).
    RolledBack,
    /// Stopped after it completed; the previous version is live again (`REVERTED`).
    Reverted,
}

impl DeploymentState {
    /// The wire name, e.g. `DEPLOYING`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Deploying => "DEPLOYING",
            Self::Baking => "BAKING",
            Self::Complete => "COMPLETE",
            Self::RolledBack => "ROLLED_BACK",
            Self::Reverted => "REVERTED",
        }
    }

    /// True while the deployment is under way (DEPLOYING or BAKING).
    #[must_use]
    pub const fn in_progress(self) -> bool {
        matches!(self, Self::Deploying | Self::Baking)
    }

    /// The environment state a deployment in this state gives its environment.
    #[must_use]
    pub const fn environment_state(self) -> EnvironmentState {
        match self {
            Self::Deploying | Self::Baking => EnvironmentState::Deploying,
            Self::Complete => EnvironmentState::ReadyForDeployment,
            Self::RolledBack => EnvironmentState::RolledBack,
            Self::Reverted => EnvironmentState::Reverted,
        }
    }
}

/// The kinds of entry in a deployment's event log (the wire's `DeploymentEventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeploymentEventType {
    /// `DEPLOYMENT_STARTED`.
    DeploymentStarted,
    /// `PERCENTAGE_UPDATED`: a step after the first started.
    PercentageUpdated,
    /// `BAKE_TIME_STARTED`.
    BakeTimeStarted,
    /// `DEPLOYMENT_COMPLETED`.
    DeploymentCompleted,
    /// `ROLLBACK_STARTED`.
    RollbackStarted,
    /// `ROLLBACK_COMPLETED`.
    RollbackCompleted,
    /// `REVERT_COMPLETED`.
    RevertCompleted,
}

impl DeploymentEventType {
    /// The wire name, e.g. `DEPLOYMENT_STARTED`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DeploymentStarted => "DEPLOYMENT_STARTED",
            Self::PercentageUpdated => "PERCENTAGE_UPDATED",
            Self::BakeTimeStarted => "BAKE_TIME_STARTED",
            Self::DeploymentCompleted => "DEPLOYMENT_COMPLETED",
            Self::RollbackStarted => "ROLLBACK_STARTED",
            Self::RollbackCompleted => "ROLLBACK_COMPLETED",
            Self::RevertCompleted => "REVERT_COMPLETED",
        }
    }
}

/// Who caused an event-log entry (the wire's `TriggeredBy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TriggeredBy {
    /// A caller (`USER`).
    User,
    /// The schedule (`APPCONFIG`).
    AppConfig,
}

impl TriggeredBy {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::AppConfig => "APPCONFIG",
        }
    }
}

/// One entry of a deployment's event log.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentLogEntry {
    /// What happened.
    pub event_type: DeploymentEventType,
    /// Who caused it.
    pub triggered_by: TriggeredBy,
    /// A human description.
    pub description: String,
    /// When.
    pub occurred_at: Timestamp,
}

/// A deployment's status at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentStatus {
    /// Its state.
    pub state: DeploymentState,
    /// The share of targets that have the new version, 0 to 100.
    pub percentage_complete: f32,
    /// When it completed, rolled back or was reverted, if it has.
    pub completed_at: Option<Timestamp>,
    /// Its event log up to that moment, newest first (as AWS lists it).
    pub event_log: Vec<DeploymentLogEntry>,
}

/// A deployment, as the projections hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// The application.
    pub application: ApplicationId,
    /// The environment.
    pub environment: EnvironmentId,
    /// Its number in the environment: 1, 2, 3, ... (invariant P1).
    pub number: u32,
    /// The configuration profile.
    pub profile: ProfileId,
    /// The profile's name when the deployment started (`ConfigurationName`).
    pub configuration_name: String,
    /// The profile's location (`ConfigurationLocationUri`).
    pub location_uri: String,
    /// The hosted version deployed.
    pub version: StreamVersion,
    /// That version's label, if it had one.
    pub version_label: Option<String>,
    /// That version's content.
    pub content: ContentRef,
    /// That version's MIME type.
    pub content_type: Option<String>,
    /// The strategy it was started with.
    pub strategy: DeploymentStrategyId,
    /// The strategy's values at the start.
    pub schedule: Schedule,
    /// Its description.
    pub description: Option<String>,
    /// The KMS key identifier given by the caller.
    pub kms_key_identifier: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// When it started (the `DeploymentStarted` record's timestamp).
    pub started_at: Timestamp,
    /// The position of `DeploymentStarted`.
    pub position: Position,
    /// Who started it, when known.
    pub actor: Option<String>,
    /// The stop, if it was stopped.
    pub stopped: Option<Stop>,
    /// When the next deployment of the environment started while this one was baking:
    /// it is complete from then on.
    pub superseded_at: Option<Timestamp>,
}

impl DeploymentRecord {
    /// The state and percentage at `t`, without the event log.
    #[must_use]
    pub fn state_at(&self, t: Timestamp) -> (DeploymentState, f32) {
        let status = self.scheduled_at(t);
        (status.0, status.1)
    }

    /// Where the schedule alone (no stop) puts the deployment at `t`: state, percentage,
    /// and completion time if complete.
    fn scheduled_at(&self, t: Timestamp) -> (DeploymentState, f32, Option<Timestamp>) {
        if let Some(stop) = self.stopped
            && t >= stop.at
        {
            let (_, pct, _) = self.unstopped_at(stop.at);
            let state = if stop.revert {
                DeploymentState::Reverted
            } else {
                DeploymentState::RolledBack
            };
            return (state, pct, Some(stop.at));
        }
        self.unstopped_at(t)
    }

    fn unstopped_at(&self, t: Timestamp) -> (DeploymentState, f32, Option<Timestamp>) {
        if let Some(at) = self.superseded_at
            && t >= at
        {
            return (DeploymentState::Complete, 100.0, Some(at));
        }
        let s = &self.schedule;
        let elapsed = (t.as_millis() - self.started_at.as_millis()).max(0);
        let d = s.duration_ms();
        if elapsed < d {
            let n = s.steps();
            // The step in force: the last k with start (k−1)·D/n ≤ elapsed.
            let mut k = 1;
            while k < n && s.step_start_ms(k + 1) <= elapsed {
                k += 1;
            }
            return (DeploymentState::Deploying, s.percentage_of_step(k), None);
        }
        if elapsed < d + s.bake_ms() {
            return (DeploymentState::Baking, 100.0, None);
        }
        (
            DeploymentState::Complete,
            100.0,
            Some(Timestamp::from_millis(
                self.started_at.as_millis() + d + s.bake_ms(),
            )),
        )
    }

    /// The whole status at `t`: state, percentage, completion and event log.
    #[must_use]
    pub fn status_at(&self, t: Timestamp) -> DeploymentStatus {
        let (state, percentage_complete, completed_at) = self.scheduled_at(t);
        let s = &self.schedule;
        let t0 = self.started_at.as_millis();
        // The schedule's own entries end where it was cut short.
        let cut = [self.stopped.map(|x| x.at), self.superseded_at]
            .into_iter()
            .flatten()
            .map(Timestamp::as_millis)
            .min()
            .unwrap_or(i64::MAX)
            .min(t.as_millis());
        let mut log = Vec::new();
        let mut entry = |event_type, triggered_by, description: String, at: i64| {
            log.push(DeploymentLogEntry {
                event_type,
                triggered_by,
                description,
                occurred_at: Timestamp::from_millis(at),
            });
        };
        entry(
            DeploymentEventType::DeploymentStarted,
            TriggeredBy::User,
            "Deployment started".into(),
            t0,
        );
        for k in 2..=s.steps() {
            let at = t0 + s.step_start_ms(k);
            if at > cut {
                break;
            }
            entry(
                DeploymentEventType::PercentageUpdated,
                TriggeredBy::AppConfig,
                format!(
                    "Configuration deployed to {}% of targets",
                    s.percentage_of_step(k)
                ),
                at,
            );
        }
        let bake_start = t0 + s.duration_ms();
        if s.bake_ms() > 0 && bake_start <= cut {
            entry(
                DeploymentEventType::BakeTimeStarted,
                TriggeredBy::AppConfig,
                "Deployment bake time started".into(),
                bake_start,
            );
        }
        match (state, completed_at) {
            (DeploymentState::Complete, Some(at)) => entry(
                DeploymentEventType::DeploymentCompleted,
                TriggeredBy::AppConfig,
                "Deployment completed".into(),
                at.as_millis(),
            ),
            (DeploymentState::RolledBack, Some(at)) => {
                entry(
                    DeploymentEventType::RollbackStarted,
                    TriggeredBy::User,
                    "Rollback initiated by user".into(),
                    at.as_millis(),
                );
                entry(
                    DeploymentEventType::RollbackCompleted,
                    TriggeredBy::AppConfig,
                    "Rollback completed".into(),
                    at.as_millis(),
                );
            }
            (DeploymentState::Reverted, Some(at)) => {
                // A reverted deployment had completed first.
                if let Some(done) = self.unstopped_at(at).2 {
                    entry(
                        DeploymentEventType::DeploymentCompleted,
                        TriggeredBy::AppConfig,
                        "Deployment completed".into(),
                        done.as_millis(),
                    );
                }
                entry(
                    DeploymentEventType::RevertCompleted,
                    TriggeredBy::User,
                    "Revert completed".into(),
                    at.as_millis(),
                );
            }
            _ => {}
        }
        // Only what happened by `t` (a time before the start sees nothing).
        log.retain(|e| e.occurred_at <= t);
        // Newest first; entries at the same instant keep their causal order reversed.
        log.reverse();
        log.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
        DeploymentStatus {
            state,
            percentage_complete,
            completed_at,
            event_log: log,
        }
    }
}

/// The rollout bucket of a session for a deployment, 0 to 9999: the session sees the
/// deployment's version while the deployment's percentage × 100 is above its bucket.
/// Each session's answer is stable, and the share of sessions inside follows the
/// percentage.
#[must_use]
pub fn rollout_bucket(session: &[u8], deployment: u32) -> u32 {
    let digest = Sha256::new()
        .chain_update(session)
        .chain_update(deployment.to_be_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let bucket = u64::from_be_bytes(first) % 10_000;
    u32::try_from(bucket).unwrap_or(0)
}

/// Whether a session in `bucket` sees a deployment at `percentage`.
#[must_use]
pub fn in_rollout(bucket: u32, percentage: f32) -> bool {
    // Buckets are below 10,000, exactly representable; so is any percentage × 100.
    (bucket as f32) < percentage * 100.0
}

/// The deployment whose version a session in `bucket` sees at `t`, among `deployments`
/// of one environment and profile given newest first: the newest that is complete, or
/// in progress with the session inside its rollout. Rolled-back and reverted ones are
/// passed over, so what was live before them is live again.
pub fn live_deployment<'a>(
    deployments: impl IntoIterator<Item = &'a DeploymentRecord>,
    t: Timestamp,
    bucket: impl Fn(u32) -> u32,
) -> Option<&'a DeploymentRecord> {
    for d in deployments {
        if d.started_at > t {
            continue;
        }
        let (state, pct) = d.state_at(t);
        match state {
            DeploymentState::Complete => return Some(d),
            DeploymentState::Deploying | DeploymentState::Baking => {
                if in_rollout(bucket(d.number), pct) {
                    return Some(d);
                }
            }
            DeploymentState::RolledBack | DeploymentState::Reverted => {}
        }
    }
    None
}
