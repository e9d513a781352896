//! AppConfig's predefined deployment strategies.
//!
//! They exist in every store from the start, are never recorded as events and cannot be
//! updated, deleted or tagged, so they are constants of the kernel rather than
//! projections: `verify` and `rebuild` never see them. Values are AWS's published ones
//! (AppConfig user guide, "Using predefined deployment strategies"); the descriptions are
//! ours.

use std::collections::BTreeMap;

use crate::event::{GrowthFactor, GrowthType, ReplicateTo};
use crate::id::{DeploymentStrategyId, Position};
use crate::projection::DeploymentStrategyRecord;

/// One row of the table below.
struct Predefined {
    id: &'static str,
    description: &'static str,
    duration: u32,
    bake: u32,
    growth_factor: GrowthFactor,
    growth_type: GrowthType,
}

/// A growth factor known to be valid at compile time: an invalid one fails the build.
const fn factor(value: f32) -> GrowthFactor {
    match GrowthFactor::new(value) {
        Some(g) => g,
        None => panic!("a predefined growth factor is outside 1..100"),
    }
}

/// The predefined strategies, in the order ListDeploymentStrategies lists them.
const PREDEFINED: [Predefined; 4] = [
    Predefined {
        id: "AppConfig.AllAtOnce",
        description: "Quick: every target at once, then alarms watched for 10 minutes",
        duration: 0,
        bake: 10,
        growth_factor: factor(100.0),
        growth_type: GrowthType::Linear,
    },
    Predefined {
        id: "AppConfig.Linear50PercentEvery30Seconds",
        description: "Testing and demonstration: half of the targets every 30 seconds over one minute, then alarms watched for 1 minute",
        duration: 1,
        bake: 1,
        growth_factor: factor(50.0),
        growth_type: GrowthType::Linear,
    },
    Predefined {
        id: "AppConfig.Canary10Percent20Minutes",
        description: "Recommended for production: exponential growth from 10% over 20 minutes, then alarms watched for 10 minutes",
        duration: 20,
        bake: 10,
        growth_factor: factor(10.0),
        growth_type: GrowthType::Exponential,
    },
    Predefined {
        id: "AppConfig.Linear20PercentEvery6Minutes",
        description: "Recommended for production: 20% of the targets every 6 minutes over 30 minutes, then alarms watched for 30 minutes",
        duration: 30,
        bake: 30,
        growth_factor: factor(20.0),
        growth_type: GrowthType::Linear,
    },
];

impl Predefined {
    fn record(&self) -> DeploymentStrategyRecord {
        DeploymentStrategyRecord {
            id: DeploymentStrategyId::predefined(self.id),
            name: self.id.to_owned(),
            description: Some(self.description.to_owned()),
            deployment_duration_in_minutes: self.duration,
            final_bake_time_in_minutes: self.bake,
            growth_factor: self.growth_factor,
            growth_type: self.growth_type,
            replicate_to: ReplicateTo::None,
            tags: BTreeMap::new(),
            created: Position::new(0),
        }
    }
}

/// AppConfig's predefined deployment strategies, in listing order. Each is named after
/// its id, carries no tags, and has `created` position 0 (it precedes the log).
#[must_use]
pub fn predefined_strategies() -> Vec<DeploymentStrategyRecord> {
    PREDEFINED.iter().map(Predefined::record).collect()
}

/// The predefined deployment strategy with this id, if there is one.
#[must_use]
pub fn predefined_strategy(id: &DeploymentStrategyId) -> Option<DeploymentStrategyRecord> {
    PREDEFINED
        .iter()
        .find(|p| p.id == id.as_str())
        .map(Predefined::record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_ids_parse_as_predefined_and_are_found() {
        for record in predefined_strategies() {
            let parsed = DeploymentStrategyId::parse(record.id.as_str()).unwrap();
            assert!(parsed.is_predefined());
            assert_eq!(predefined_strategy(&parsed), Some(record));
        }
        let unknown = DeploymentStrategyId::parse("AppConfig.NoSuchStrategy").unwrap();
        assert_eq!(predefined_strategy(&unknown), None);
        let user = DeploymentStrategyId::parse("abcd").unwrap();
        assert_eq!(predefined_strategy(&user), None);
    }

    #[test]
    fn predefined_values_are_aws_published_ones() {
        let table: Vec<_> = predefined_strategies()
            .into_iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    r.growth_type,
                    r.growth_factor.get(),
                    r.deployment_duration_in_minutes,
                    r.final_bake_time_in_minutes,
                )
            })
            .collect();
        assert_eq!(
            table,
            [
                (
                    "AppConfig.AllAtOnce".into(),
                    GrowthType::Linear,
                    100.0,
                    0,
                    10
                ),
                (
                    "AppConfig.Linear50PercentEvery30Seconds".into(),
                    GrowthType::Linear,
                    50.0,
                    1,
                    1
                ),
                (
                    "AppConfig.Canary10Percent20Minutes".into(),
                    GrowthType::Exponential,
                    10.0,
                    20,
                    10
                ),
                (
                    "AppConfig.Linear20PercentEvery6Minutes".into(),
                    GrowthType::Linear,
                    20.0,
                    30,
                    30
                ),
            ]
        );
    }
}
