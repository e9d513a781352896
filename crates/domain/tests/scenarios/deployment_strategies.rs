//! Deployment strategies: create, update, delete; their field constraints and quota; and
//! AppConfig's predefined strategies, which exist everywhere and cannot be changed.

use std::collections::BTreeMap;

use verso_domain::{
    Command, CreateDeploymentStrategy, Detail, Event, GrowthFactor, GrowthType, Limits,
    RejectionKind, ReplicateTo, UpdateDeploymentStrategy, predefined_strategies,
    predefined_strategy, projection::AppConfigRead,
};

use crate::support::{
    create_strategy, given, growth, strategy, strategy_created, strategy_deleted,
};

fn create(c: CreateDeploymentStrategy) -> Command {
    Command::CreateDeploymentStrategy(c)
}

fn base() -> CreateDeploymentStrategy {
    create_strategy("str1")
}

fn update(id: &str, changes: UpdateDeploymentStrategy) -> Command {
    Command::UpdateDeploymentStrategy {
        strategy: strategy(id),
        changes,
    }
}

fn delete(id: &str) -> Command {
    Command::DeleteDeploymentStrategy {
        strategy: strategy(id),
    }
}

fn limit(n: u64) -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_deployment_strategies = n;
    limits
}

// --- create --------------------------------------------------------------------------

#[test]
fn create_strategy_records_every_field_given() {
    // Rule: DeploymentStrategyCreated carries the command's fields.
    let command = CreateDeploymentStrategy {
        description: Some("slow".to_owned()),
        deployment_duration_in_minutes: 60,
        final_bake_time_in_minutes: Some(15),
        growth_factor: growth(12.5),
        growth_type: Some(GrowthType::Exponential),
        replicate_to: Some(ReplicateTo::SsmDocument),
        tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
        ..base()
    };
    given([])
        .when(create(command))
        .then_events(&[Event::DeploymentStrategyCreated {
            strategy: strategy("str1"),
            name: "strategy str1".to_owned(),
            description: Some("slow".to_owned()),
            deployment_duration_in_minutes: 60,
            final_bake_time_in_minutes: 15,
            growth_factor: growth(12.5),
            growth_type: GrowthType::Exponential,
            replicate_to: ReplicateTo::SsmDocument,
            tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
        }]);
}

#[test]
fn create_strategy_defaults_to_no_bake_linear_growth_and_no_replication() {
    // Rule: FinalBakeTimeInMinutes defaults to 0, GrowthType to LINEAR, ReplicateTo to NONE.
    given([])
        .when(create(base()))
        .then_events(&[strategy_created("str1")]);
}

#[test]
fn create_strategy_with_empty_name_is_invalid() {
    // Rule: a strategy Name has at least 1 character.
    let command = CreateDeploymentStrategy {
        name: String::new(),
        ..base()
    };
    given([]).when(create(command)).then_invalid("Name");
}

#[test]
fn create_strategy_with_65_character_name_is_invalid() {
    // Rule: a strategy Name has at most 64 characters.
    let command = CreateDeploymentStrategy {
        name: "n".repeat(65),
        ..base()
    };
    given([]).when(create(command)).then_invalid("Name");
}

#[test]
fn create_strategy_with_64_character_name_is_accepted() {
    // Rule: exactly 64 characters is within the strategy Name bound.
    let command = CreateDeploymentStrategy {
        name: "n".repeat(64),
        ..base()
    };
    given([]).when(create(command)).then_accepted();
}

#[test]
fn create_strategy_with_1025_character_description_is_invalid() {
    // Rule: a Description has at most 1024 characters.
    let command = CreateDeploymentStrategy {
        description: Some("d".repeat(1025)),
        ..base()
    };
    given([]).when(create(command)).then_invalid("Description");
}

#[test]
fn create_strategy_with_1441_minute_duration_is_invalid() {
    // Rule: DeploymentDurationInMinutes is 0 to 1440.
    let command = CreateDeploymentStrategy {
        deployment_duration_in_minutes: 1441,
        ..base()
    };
    given([])
        .when(create(command))
        .then_invalid("DeploymentDurationInMinutes");
}

#[test]
fn create_strategy_with_0_or_1440_minute_duration_and_bake_is_accepted() {
    // Rule: both ends of 0..1440 are within the duration and bake time bounds.
    for minutes in [0, 1440] {
        let command = CreateDeploymentStrategy {
            deployment_duration_in_minutes: minutes,
            final_bake_time_in_minutes: Some(minutes),
            ..base()
        };
        given([]).when(create(command)).then_accepted();
    }
}

#[test]
fn create_strategy_with_1441_minute_bake_time_is_invalid() {
    // Rule: FinalBakeTimeInMinutes is 0 to 1440.
    let command = CreateDeploymentStrategy {
        final_bake_time_in_minutes: Some(1441),
        ..base()
    };
    given([])
        .when(create(command))
        .then_invalid("FinalBakeTimeInMinutes");
}

#[test]
fn growth_factor_outside_1_to_100_or_not_finite_cannot_be_built() {
    // Rule: GrowthFactor is a finite float from 1 to 100; nothing else is a GrowthFactor,
    // and converting one is an Invalid rejection naming GrowthFactor, never a panic.
    for bad in [
        0.0,
        0.99,
        100.01,
        -1.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        assert!(GrowthFactor::new(bad).is_none(), "{bad}");
        let rejection = GrowthFactor::try_from(bad).expect_err("out of range");
        assert_eq!(rejection.kind(), RejectionKind::Invalid);
        assert_eq!(
            rejection.detail(),
            &Detail::Field {
                field: "GrowthFactor"
            }
        );
    }
    for good in [1.0, 33.3, 100.0] {
        assert_eq!(GrowthFactor::new(good).map(GrowthFactor::get), Some(good));
    }
}

#[test]
fn create_strategy_with_growth_factor_1_or_100_is_accepted() {
    // Rule: both ends of 1..100 are valid growth factors.
    for g in [1.0, 100.0] {
        let command = CreateDeploymentStrategy {
            growth_factor: growth(g),
            ..base()
        };
        given([]).when(create(command)).then_accepted();
    }
}

#[test]
fn create_strategy_with_51_tags_is_invalid() {
    // Rule: at most 50 tags, on strategies too.
    let command = CreateDeploymentStrategy {
        tags: (0..51).map(|i| (format!("k{i}"), String::new())).collect(),
        ..base()
    };
    given([]).when(create(command)).then_invalid("Tags");
}

#[test]
fn create_strategy_with_predefined_id_is_invalid() {
    // Rule: no user can create a strategy with an `AppConfig.` id.
    for id in ["AppConfig.AllAtOnce", "AppConfig.NotAStrategy"] {
        let command = CreateDeploymentStrategy {
            id: strategy(id),
            ..base()
        };
        let rejection = given([])
            .when(create(command))
            .then_invalid("DeploymentStrategyId");
        assert!(rejection.message().contains(id), "{rejection}");
    }
}

#[test]
fn create_strategy_with_taken_id_is_already_exists() {
    // Rule: a strategy id is unique.
    given([strategy_created("str1")])
        .when(create(base()))
        .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn create_strategy_beyond_quota_is_quota_exceeded() {
    // Rule: at most `max_deployment_strategies` user strategies exist at once.
    let rejection = given([strategy_created("str1"), strategy_created("str2")])
        .with_limits(limit(2))
        .when(create(create_strategy("str3")))
        .then_rejected(RejectionKind::QuotaExceeded);
    assert!(matches!(rejection.detail(), Detail::Quota { limit: 2, .. }));
}

#[test]
fn strategy_quota_defaults_to_20_user_strategies_predefined_ones_not_counted() {
    // Rule: AWS's default quota is 20 strategies, counting only the ones users created.
    assert_eq!(Limits::DEFAULT.max_deployment_strategies, 20);
    let nineteen: Vec<Event> = (0..19)
        .map(|i| strategy_created(&format!("str{i:02}")))
        .collect();
    let after = given(nineteen)
        .when(create(create_strategy("str19")))
        .then_accepted();
    assert_eq!(after.state().deployment_strategy_count(), 20);
    after
        .when(create(create_strategy("str20")))
        .then_rejected(RejectionKind::QuotaExceeded);
}

#[test]
fn deleting_a_strategy_frees_its_quota_slot() {
    // Rule: the quota counts live strategies only.
    given([
        strategy_created("str1"),
        strategy_created("str2"),
        strategy_deleted("str2"),
    ])
    .with_limits(limit(2))
    .when(create(create_strategy("str3")))
    .then_accepted();
}

// --- update --------------------------------------------------------------------------

#[test]
fn update_strategy_with_no_changes_keeps_every_field() {
    // Rule: `None` leaves a field as it is; the event holds the values after the update.
    given([strategy_created("str1")])
        .when(update("str1", UpdateDeploymentStrategy::default()))
        .then_events(&[Event::DeploymentStrategyUpdated {
            strategy: strategy("str1"),
            description: None,
            deployment_duration_in_minutes: 10,
            final_bake_time_in_minutes: 0,
            growth_factor: growth(25.0),
            growth_type: GrowthType::Linear,
        }]);
}

#[test]
fn update_strategy_changes_the_given_fields_but_never_name_or_replication() {
    // Rule: Description, duration, bake time, growth factor and type can change; Name and
    // ReplicateTo cannot.
    let created = Event::DeploymentStrategyCreated {
        strategy: strategy("str1"),
        name: "fixed".to_owned(),
        description: Some("old".to_owned()),
        deployment_duration_in_minutes: 10,
        final_bake_time_in_minutes: 5,
        growth_factor: growth(25.0),
        growth_type: GrowthType::Linear,
        replicate_to: ReplicateTo::SsmDocument,
        tags: BTreeMap::new(),
    };
    let after = given([created])
        .when(update(
            "str1",
            UpdateDeploymentStrategy {
                description: Some("new".to_owned()),
                deployment_duration_in_minutes: Some(30),
                final_bake_time_in_minutes: Some(0),
                growth_factor: Some(growth(50.0)),
                growth_type: Some(GrowthType::Exponential),
            },
        ))
        .then_events(&[Event::DeploymentStrategyUpdated {
            strategy: strategy("str1"),
            description: Some("new".to_owned()),
            deployment_duration_in_minutes: 30,
            final_bake_time_in_minutes: 0,
            growth_factor: growth(50.0),
            growth_type: GrowthType::Exponential,
        }]);
    let record = after
        .state()
        .deployment_strategy(&strategy("str1"))
        .expect("the strategy exists");
    assert_eq!(record.name, "fixed");
    assert_eq!(record.replicate_to, ReplicateTo::SsmDocument);
    assert_eq!(record.created.get(), 1);
    assert_eq!(record.growth_factor, growth(50.0));
}

#[test]
fn update_predefined_strategy_is_invalid() {
    // Rule: predefined strategies cannot be updated; the rejection names the id.
    let rejection = given([])
        .when(update(
            "AppConfig.AllAtOnce",
            UpdateDeploymentStrategy::default(),
        ))
        .then_invalid("DeploymentStrategyId");
    assert!(rejection.message().contains("AppConfig.AllAtOnce"));
    assert!(rejection.message().contains("predefined"));
}

#[test]
fn update_missing_strategy_is_not_found() {
    // Rule: only an existing strategy can be updated, an unknown `AppConfig.` one included.
    for id in ["str1", "AppConfig.NotAStrategy"] {
        let rejection = given([])
            .when(update(id, UpdateDeploymentStrategy::default()))
            .then_rejected(RejectionKind::NotFound);
        assert_eq!(
            rejection.detail(),
            &Detail::Resource {
                resource: "DeploymentStrategy"
            }
        );
    }
}

#[test]
fn update_strategy_with_out_of_range_minutes_or_description_is_invalid() {
    // Rule: updated fields keep their bounds.
    let cases = [
        (
            UpdateDeploymentStrategy {
                deployment_duration_in_minutes: Some(1441),
                ..UpdateDeploymentStrategy::default()
            },
            "DeploymentDurationInMinutes",
        ),
        (
            UpdateDeploymentStrategy {
                final_bake_time_in_minutes: Some(1441),
                ..UpdateDeploymentStrategy::default()
            },
            "FinalBakeTimeInMinutes",
        ),
        (
            UpdateDeploymentStrategy {
                description: Some("d".repeat(1025)),
                ..UpdateDeploymentStrategy::default()
            },
            "Description",
        ),
    ];
    for (changes, field) in cases {
        given([strategy_created("str1")])
            .when(update("str1", changes))
            .then_invalid(field);
    }
}

// --- delete --------------------------------------------------------------------------

#[test]
fn delete_strategy_records_strategy_deleted() {
    // Rule: deleting an existing strategy appends DeploymentStrategyDeleted.
    let after = given([strategy_created("str1")])
        .when(delete("str1"))
        .then_events(&[strategy_deleted("str1")]);
    assert!(
        after
            .state()
            .deployment_strategy(&strategy("str1"))
            .is_none()
    );
}

#[test]
fn delete_predefined_strategy_is_invalid() {
    // Rule: predefined strategies cannot be deleted.
    for record in predefined_strategies() {
        given([])
            .when(delete(record.id.as_str()))
            .then_invalid("DeploymentStrategyId");
    }
}

#[test]
fn delete_missing_or_deleted_strategy_is_not_found() {
    // Rule: only an existing strategy can be deleted.
    given([])
        .when(delete("str1"))
        .then_rejected(RejectionKind::NotFound);
    given([strategy_created("str1"), strategy_deleted("str1")])
        .when(delete("str1"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn create_strategy_with_id_of_deleted_strategy_is_accepted() {
    // Rule: like application ids, a deleted strategy's id may be used again.
    given([strategy_created("str1"), strategy_deleted("str1")])
        .when(create(base()))
        .then_accepted();
}

// --- predefined ----------------------------------------------------------------------

#[test]
fn predefined_strategies_exist_without_events_and_outside_the_projections() {
    // Rule: predefined strategies are kernel constants: found in an empty state, never
    // stored, never counted.
    let empty = given([]);
    assert_eq!(empty.state().deployment_strategy_count(), 0);
    let ids: Vec<String> = predefined_strategies()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(
        ids,
        [
            "AppConfig.AllAtOnce",
            "AppConfig.Linear50PercentEvery30Seconds",
            "AppConfig.Canary10Percent20Minutes",
            "AppConfig.Linear20PercentEvery6Minutes",
        ]
    );
    for record in predefined_strategies() {
        assert!(record.is_predefined());
        assert!(record.tags.is_empty());
        assert_eq!(record.replicate_to, ReplicateTo::None);
        assert_eq!(record.created.get(), 0);
        assert_eq!(record.name, record.id.as_str());
        assert!(empty.state().deployment_strategy(&record.id).is_none());
        assert_eq!(predefined_strategy(&record.id), Some(record));
    }
}

// --- replay (E5) ---------------------------------------------------------------------

fn strategy_updated(id: &str, duration: u32, bake: u32) -> Event {
    Event::DeploymentStrategyUpdated {
        strategy: strategy(id),
        description: None,
        deployment_duration_in_minutes: duration,
        final_bake_time_in_minutes: bake,
        growth_factor: growth(10.0),
        growth_type: GrowthType::Exponential,
    }
}

#[test]
fn check_accepts_a_history_of_every_strategy_event() {
    // Rule: what decide produces for strategies replays.
    given([]).replay_accepts(strategy_created("str1"));
    let g = given([strategy_created("str1")]);
    g.replay_accepts(strategy_updated("str1", 1440, 0));
    g.replay_accepts(strategy_deleted("str1"));
}

#[test]
fn check_refuses_strategy_created_twice_or_with_a_predefined_id() {
    // Rule: a strategy id is created once while it lives, and never an `AppConfig.` one.
    given([strategy_created("str1")])
        .replay_refuses(strategy_created("str1"), RejectionKind::AlreadyExists);
    given([]).replay_refuses(
        strategy_created("AppConfig.AllAtOnce"),
        RejectionKind::Invalid,
    );
}

#[test]
fn check_refuses_strategy_events_with_fields_decide_would_refuse() {
    // Rule: replay re-validates every field decide validated.
    let mut long_name = strategy_created("str1");
    if let Event::DeploymentStrategyCreated { name, .. } = &mut long_name {
        *name = "n".repeat(65);
    }
    let mut long_duration = strategy_created("str1");
    if let Event::DeploymentStrategyCreated {
        deployment_duration_in_minutes,
        ..
    } = &mut long_duration
    {
        *deployment_duration_in_minutes = 1441;
    }
    given([]).replay_refuses(long_name, RejectionKind::Invalid);
    given([]).replay_refuses(long_duration, RejectionKind::Invalid);
    let g = given([strategy_created("str1")]);
    g.replay_refuses(strategy_updated("str1", 1441, 0), RejectionKind::Invalid);
    g.replay_refuses(strategy_updated("str1", 0, 1441), RejectionKind::Invalid);
}

#[test]
fn check_refuses_strategy_updated_or_deleted_when_missing_or_predefined() {
    // Rule: only an existing user strategy is updated or deleted.
    given([]).replay_refuses(strategy_updated("str1", 1, 1), RejectionKind::NotFound);
    given([]).replay_refuses(strategy_deleted("str1"), RejectionKind::NotFound);
    given([]).replay_refuses(
        strategy_updated("AppConfig.AllAtOnce", 1, 1),
        RejectionKind::Invalid,
    );
    given([]).replay_refuses(
        strategy_deleted("AppConfig.AllAtOnce"),
        RejectionKind::Invalid,
    );
    given([strategy_created("str1"), strategy_deleted("str1")])
        .replay_refuses(strategy_deleted("str1"), RejectionKind::NotFound);
}
