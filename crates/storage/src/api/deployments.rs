//! Typed writes on deployments.

use std::collections::BTreeMap;

use verso_domain::projection::DeploymentRecord;
use verso_domain::{
    ApplicationId, Command, DeploymentStrategyId, EnvironmentId, ProfileId, StartDeployment,
    VersionSelector,
};

use super::{Pending, subject_of};
use crate::commit::{Committed, Subject};
use crate::error::{Outcome, Result};
use crate::store::Store;

/// A deployment to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeployment {
    /// The hosted configuration profile.
    pub profile: ProfileId,
    /// Which of its versions: a number or a label.
    pub version: VersionSelector,
    /// A predefined (`AppConfig.*`) or user strategy.
    pub strategy: DeploymentStrategyId,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// 1 to 2048 characters.
    pub kms_key_identifier: Option<String>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
    /// The optimistic lock: the latest deployment number the caller saw (0 for none).
    pub latest_deployment_number: Option<u32>,
}

fn deployment_of(o: Outcome<Committed>) -> Result<Outcome<DeploymentRecord>> {
    subject_of(o, |s| match s {
        Subject::Deployment(d) => Some(d),
        _ => None,
    })
}

impl Store {
    /// Starts a deployment. Refused while the environment's latest deployment is
    /// DEPLOYING (a state conflict), or when `latest_deployment_number` is stale (a
    /// conflict). Its progress is a function of time: see
    /// [`DeploymentRecord::status_at`].
    pub fn start_deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        new: NewDeployment,
    ) -> Pending<DeploymentRecord> {
        let command = Command::StartDeployment(StartDeployment {
            application: application.clone(),
            environment: environment.clone(),
            profile: new.profile,
            version: new.version,
            strategy: new.strategy,
            description: new.description,
            kms_key_identifier: new.kms_key_identifier,
            tags: new.tags,
            latest_deployment_number: new.latest_deployment_number,
        });
        self.submit(command).map(deployment_of)
    }

    /// Stops a deployment: rolls back one that is DEPLOYING or BAKING, or, with
    /// `allow_revert`, reverts the environment's latest deployment within 72 hours of
    /// its completion.
    pub fn stop_deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        number: u32,
        allow_revert: bool,
    ) -> Pending<DeploymentRecord> {
        let command = Command::StopDeployment {
            application: application.clone(),
            environment: environment.clone(),
            number,
            allow_revert,
        };
        self.submit(command).map(deployment_of)
    }
}
