//! Typed writes on deployment strategies.

use std::collections::BTreeMap;

use verso_domain::projection::DeploymentStrategyRecord;
use verso_domain::{
    Command, CreateDeploymentStrategy, DeploymentStrategyId, GrowthFactor, GrowthType, ReplicateTo,
    UpdateDeploymentStrategy,
};

use super::{Pending, done, random_id, subject_of};
use crate::commit::{Committed, Subject, Ticket};
use crate::error::{Outcome, Refused, Result};
use crate::store::Store;

/// A new deployment strategy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewDeploymentStrategy {
    /// 1 to 64 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// 0 to 1440.
    pub deployment_duration_in_minutes: u32,
    /// 0 to 1440; default 0.
    pub final_bake_time_in_minutes: Option<u32>,
    /// 1 to 100 (required; the default 0 is refused).
    pub growth_factor: f32,
    /// Default `Linear`.
    pub growth_type: Option<GrowthType>,
    /// Default `None`; fixed once created.
    pub replicate_to: Option<ReplicateTo>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
}

/// Changes to a deployment strategy; `None` leaves a field as it is. Its name and
/// `ReplicateTo` cannot change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeploymentStrategyChanges {
    /// The new description.
    pub description: Option<String>,
    /// The new deployment duration, 0 to 1440.
    pub deployment_duration_in_minutes: Option<u32>,
    /// The new final bake time, 0 to 1440.
    pub final_bake_time_in_minutes: Option<u32>,
    /// The new growth factor, 1 to 100.
    pub growth_factor: Option<f32>,
    /// The new growth type.
    pub growth_type: Option<GrowthType>,
}

fn strategy_of(o: Outcome<Committed>) -> Result<Outcome<DeploymentStrategyRecord>> {
    subject_of(o, |s| match s {
        Subject::DeploymentStrategy(d) => Some(d),
        _ => None,
    })
}

/// A growth factor was out of range: refused without reaching the writer, as the writer
/// would have refused it (nothing is appended either way).
fn refused(rejection: verso_domain::Rejection) -> Pending<DeploymentStrategyRecord> {
    Ticket::ready(Ok(Err(Refused::from(rejection)))).map(strategy_of)
}

impl Store {
    /// Creates a deployment strategy with a fresh random id. A growth factor that is not
    /// a finite number from 1 to 100 is refused as `Invalid` on `GrowthFactor`.
    pub fn create_deployment_strategy(
        &self,
        new: NewDeploymentStrategy,
    ) -> Pending<DeploymentStrategyRecord> {
        let growth_factor = match GrowthFactor::try_from(new.growth_factor) {
            Ok(g) => g,
            Err(rejection) => return refused(rejection),
        };
        let command = Command::CreateDeploymentStrategy(CreateDeploymentStrategy {
            id: self.fresh_strategy_id(),
            name: new.name,
            description: new.description,
            deployment_duration_in_minutes: new.deployment_duration_in_minutes,
            final_bake_time_in_minutes: new.final_bake_time_in_minutes,
            growth_factor,
            growth_type: new.growth_type,
            replicate_to: new.replicate_to,
            tags: new.tags,
        });
        self.submit(command).map(strategy_of)
    }

    /// Changes a user deployment strategy; a predefined one is refused as `Invalid`.
    pub fn update_deployment_strategy(
        &self,
        id: &DeploymentStrategyId,
        changes: DeploymentStrategyChanges,
    ) -> Pending<DeploymentStrategyRecord> {
        let growth_factor = match changes.growth_factor.map(GrowthFactor::try_from) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(rejection)) => return refused(rejection),
        };
        let command = Command::UpdateDeploymentStrategy {
            strategy: id.clone(),
            changes: UpdateDeploymentStrategy {
                description: changes.description,
                deployment_duration_in_minutes: changes.deployment_duration_in_minutes,
                final_bake_time_in_minutes: changes.final_bake_time_in_minutes,
                growth_factor,
                growth_type: changes.growth_type,
            },
        };
        self.submit(command).map(strategy_of)
    }

    /// Deletes a user deployment strategy; a predefined one is refused as `Invalid`.
    pub fn delete_deployment_strategy(&self, id: &DeploymentStrategyId) -> Pending<()> {
        self.submit(Command::DeleteDeploymentStrategy {
            strategy: id.clone(),
        })
        .map(done)
    }

    fn fresh_strategy_id(&self) -> DeploymentStrategyId {
        loop {
            let id =
                DeploymentStrategyId::parse(&random_id()).expect("random_id yields [a-z0-9]{7}");
            if !matches!(self.deployment_strategy(&id), Ok(Ok(_))) {
                return id;
            }
        }
    }
}
