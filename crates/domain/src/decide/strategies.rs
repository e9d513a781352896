//! Deployment strategies: account-level, created under a quota, updated and deleted.
//! AppConfig's predefined strategies are kernel constants that exist everywhere and can
//! be neither created, changed nor deleted.

use super::{Decision, already_exists, quota};
use crate::command::{CreateDeploymentStrategy, UpdateDeploymentStrategy};
use crate::event::Event;
use crate::id::DeploymentStrategyId;
use crate::limits::Limits;
use crate::predefined::predefined_strategy;
use crate::projection::{DeploymentStrategyRecord, ReadModel};
use crate::rejection::Rejection;
use crate::validate;

pub(super) fn create<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateDeploymentStrategy,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    let event = Event::DeploymentStrategyCreated {
        strategy: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        deployment_duration_in_minutes: c.deployment_duration_in_minutes,
        final_bake_time_in_minutes: c.final_bake_time_in_minutes.unwrap_or(0),
        growth_factor: c.growth_factor,
        growth_type: c.growth_type.unwrap_or_default(),
        replicate_to: c.replicate_to.unwrap_or_default(),
        tags: c.tags.clone(),
    };
    validate::event(&event)?;
    strategy_id_is_new(state, &c.id)?;
    quota(
        state.deployment_strategy_count(),
        limits.max_deployment_strategies,
        "deployment strategies",
    )?;
    Ok(Decision::append(event))
}

pub(super) fn update<R: ReadModel + ?Sized>(
    state: &R,
    strategy: &DeploymentStrategyId,
    changes: &UpdateDeploymentStrategy,
) -> Result<Decision, Rejection> {
    let current = user_strategy(state, strategy, "DeploymentStrategyId")?;
    Decision::validated(Event::DeploymentStrategyUpdated {
        strategy: strategy.clone(),
        description: changes.description.clone().or(current.description),
        deployment_duration_in_minutes: changes
            .deployment_duration_in_minutes
            .unwrap_or(current.deployment_duration_in_minutes),
        final_bake_time_in_minutes: changes
            .final_bake_time_in_minutes
            .unwrap_or(current.final_bake_time_in_minutes),
        growth_factor: changes.growth_factor.unwrap_or(current.growth_factor),
        growth_type: changes.growth_type.unwrap_or(current.growth_type),
    })
}

pub(super) fn delete<R: ReadModel + ?Sized>(
    state: &R,
    strategy: &DeploymentStrategyId,
) -> Result<Decision, Rejection> {
    user_strategy(state, strategy, "DeploymentStrategyId")?;
    Ok(Decision::append(Event::DeploymentStrategyDeleted {
        strategy: strategy.clone(),
    }))
}

/// A deployment strategy a user created. A predefined one is `Invalid` on `field` (it
/// exists but cannot be changed); any other missing one is `NotFound`.
pub(crate) fn user_strategy<R: ReadModel + ?Sized>(
    state: &R,
    id: &DeploymentStrategyId,
    field: &'static str,
) -> Result<DeploymentStrategyRecord, Rejection> {
    if predefined_strategy(id).is_some() {
        return Err(predefined(field, id));
    }
    state
        .deployment_strategy(id)
        .ok_or_else(|| Rejection::not_found("DeploymentStrategy", id))
}

/// A new strategy's id is a user id (`[a-z0-9]{4,7}`, never the `AppConfig.` shape) that
/// no user strategy has.
pub(crate) fn strategy_id_is_new<R: ReadModel + ?Sized>(
    state: &R,
    id: &DeploymentStrategyId,
) -> Result<(), Rejection> {
    if id.is_predefined() {
        return Err(predefined("DeploymentStrategyId", id));
    }
    if state.deployment_strategy(id).is_some() {
        return Err(already_exists("deployment strategy", id));
    }
    Ok(())
}

fn predefined(field: &'static str, id: &DeploymentStrategyId) -> Rejection {
    Rejection::invalid(
        field,
        format!(
            "{id} is a predefined deployment strategy and cannot be created, changed, deleted or tagged"
        ),
    )
}
