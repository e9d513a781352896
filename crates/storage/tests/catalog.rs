//! Environments, deployment strategies and tags through the store: round trips, reopen,
//! `verify` and `rebuild` (E6), ids never reused after a reopen (E8), paging across the
//! predefined/user strategy boundary, and refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use verso_domain::projection::{DeploymentStrategyRecord, EnvironmentRecord};
use verso_domain::{
    ApplicationId, Command, CreateEnvironment, DeploymentStrategyId, Detail, EnvironmentState,
    GrowthType, Limits, Monitor, RejectionKind, ReplicateTo, TaggedResource, predefined_strategies,
};
use verso_storage::{
    DeploymentStrategyChanges, EnvironmentChanges, NewApplication, NewDeploymentStrategy,
    NewEnvironment, Page, PageRequest, Refused, Store, StoreOptions,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/alarm-reader";

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn monitor() -> Monitor {
    Monitor {
        alarm_arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors".to_owned(),
        alarm_role_arn: Some(ROLE.to_owned()),
    }
}

fn application(store: &Store) -> ApplicationId {
    store
        .create_application(NewApplication {
            name: "app".into(),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap()
        .id
}

fn environment(store: &Store, app: &ApplicationId, name: &str) -> EnvironmentRecord {
    store
        .create_environment(
            app,
            NewEnvironment {
                name: name.into(),
                description: Some("described".into()),
                monitors: vec![monitor()],
                tags: tags(&[("team", "core")]),
            },
        )
        .wait()
        .unwrap()
        .unwrap()
}

fn new_strategy(name: &str) -> NewDeploymentStrategy {
    NewDeploymentStrategy {
        name: name.into(),
        deployment_duration_in_minutes: 15,
        growth_factor: 12.5,
        ..Default::default()
    }
}

fn strategy(store: &Store, name: &str) -> DeploymentStrategyRecord {
    store
        .create_deployment_strategy(new_strategy(name))
        .wait()
        .unwrap()
        .unwrap()
}

fn predefined_id() -> DeploymentStrategyId {
    DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap()
}

#[track_caller]
fn refused_kind<T: std::fmt::Debug>(outcome: Result<T, Refused>) -> Refused {
    outcome.expect_err("expected a refusal")
}

#[track_caller]
fn invalid_field(refused: &Refused, field: &str) {
    assert_eq!(refused.kind(), RejectionKind::Invalid, "{refused}");
    match refused {
        Refused::Rejected(r) => assert!(
            matches!(r.detail(), Detail::Field { field: f } if *f == field),
            "expected field {field}, got {:?}",
            r.detail()
        ),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn all_strategies(store: &Store, size: u32) -> Vec<DeploymentStrategyRecord> {
    let mut out = Vec::new();
    let mut request = PageRequest {
        max_results: Some(size),
        next_token: None,
    };
    loop {
        let Page { items, next_token } = store.deployment_strategies(&request).unwrap().unwrap();
        assert!(items.len() <= usize::try_from(size).unwrap());
        out.extend(items);
        match next_token {
            Some(t) => request.next_token = Some(t),
            None => return out,
        }
    }
}

#[test]
fn environments_round_trip_and_survive_reopen() {
    // E6: the environment projection is the fold of the log, after close and reopen.
    let dir = tempfile::tempdir().unwrap();
    let (app, created) = {
        let store = Store::open(dir.path()).unwrap();
        let app = application(&store);
        let created = environment(&store, &app, "prod");
        assert_eq!(created.state, EnvironmentState::ReadyForDeployment);
        assert_eq!(created.monitors, vec![monitor()]);
        assert_eq!(created.id.as_str().len(), 7);
        let updated = store
            .update_environment(
                &app,
                &created.id,
                EnvironmentChanges {
                    name: Some("production".into()),
                    monitors: Some(Vec::new()),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
        assert_eq!(updated.name, "production");
        assert_eq!(updated.description.as_deref(), Some("described"));
        assert!(updated.monitors.is_empty());
        assert_eq!(updated.created, created.created);
        store.close().unwrap();
        (app, updated)
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.environment(&app, &created.id).unwrap().unwrap(),
        created
    );
    let page = store
        .environments(&app, &PageRequest::default())
        .unwrap()
        .unwrap();
    assert_eq!(page.items, vec![created]);
    store.verify().unwrap().unwrap();
}

#[test]
fn environments_page_in_id_order() {
    // ListEnvironments: id order, tokens resume after the last item.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = application(&store);
    let mut ids: Vec<_> = (0..5)
        .map(|i| environment(&store, &app, &format!("e{i}")).id)
        .collect();
    ids.sort();
    let mut seen = Vec::new();
    let mut request = PageRequest {
        max_results: Some(2),
        next_token: None,
    };
    loop {
        let page = store.environments(&app, &request).unwrap().unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        match page.next_token {
            Some(t) => request.next_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[test]
fn environment_reads_name_the_missing_resource() {
    // GetEnvironment: NotFound names Application when it is missing, else Environment.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = application(&store);
    let env = environment(&store, &app, "prod");
    let missing_app = ApplicationId::parse("zzzzzzz").unwrap();
    let refused = refused_kind(store.environment(&missing_app, &env.id).unwrap());
    assert!(refused.to_string().contains("Application"), "{refused}");
    let refused = refused_kind(
        store
            .environments(&missing_app, &PageRequest::default())
            .unwrap(),
    );
    assert_eq!(refused.kind(), RejectionKind::NotFound);
    store
        .delete_environment(&app, &env.id)
        .wait()
        .unwrap()
        .unwrap();
    let refused = refused_kind(store.environment(&app, &env.id).unwrap());
    assert!(refused.to_string().contains("Environment"), "{refused}");
}

#[test]
fn a_deleted_environment_id_is_refused_after_reopen() {
    // E8: an environment id is never reused in its application, across reopen.
    let dir = tempfile::tempdir().unwrap();
    let (app, id) = {
        let store = Store::open(dir.path()).unwrap();
        let app = application(&store);
        let env = environment(&store, &app, "prod");
        store
            .delete_environment(&app, &env.id)
            .wait()
            .unwrap()
            .unwrap();
        store.close().unwrap();
        (app, env.id)
    };
    let store = Store::open(dir.path()).unwrap();
    let again = store
        .submit(Command::CreateEnvironment(CreateEnvironment {
            application: app.clone(),
            id,
            name: "again".into(),
            description: None,
            monitors: Vec::new(),
            tags: BTreeMap::new(),
        }))
        .wait()
        .unwrap();
    assert_eq!(refused_kind(again).kind(), RejectionKind::AlreadyExists);
    store.verify().unwrap().unwrap();
}

#[test]
fn an_application_with_environments_cannot_be_deleted() {
    // DeleteApplication: NotEmpty while environments remain.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = application(&store);
    let env = environment(&store, &app, "prod");
    let refused = refused_kind(store.delete_application(&app).wait().unwrap());
    assert_eq!(refused.kind(), RejectionKind::NotEmpty);
    store
        .delete_environment(&app, &env.id)
        .wait()
        .unwrap()
        .unwrap();
    store.delete_application(&app).wait().unwrap().unwrap();
}

#[test]
fn environment_and_strategy_quotas_come_from_the_options() {
    // Limits: ServiceQuotaExceeded past the configured quotas.
    let dir = tempfile::tempdir().unwrap();
    let mut limits = Limits::DEFAULT;
    limits.max_environments_per_application = 1;
    limits.max_deployment_strategies = 1;
    let store = StoreOptions::default()
        .limits(limits)
        .open(dir.path())
        .unwrap();
    let app = application(&store);
    environment(&store, &app, "one");
    let refused = refused_kind(
        store
            .create_environment(
                &app,
                NewEnvironment {
                    name: "two".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap(),
    );
    assert_eq!(refused.kind(), RejectionKind::QuotaExceeded);
    strategy(&store, "one");
    let refused = refused_kind(
        store
            .create_deployment_strategy(new_strategy("two"))
            .wait()
            .unwrap(),
    );
    assert_eq!(refused.kind(), RejectionKind::QuotaExceeded);
}

#[test]
fn strategies_round_trip_with_defaults_and_survive_reopen() {
    // CreateDeploymentStrategy defaults; update changes what it may; E6 after reopen.
    let dir = tempfile::tempdir().unwrap();
    let updated = {
        let store = Store::open(dir.path()).unwrap();
        let created = strategy(&store, "slow");
        assert_eq!(created.final_bake_time_in_minutes, 0);
        assert_eq!(created.growth_type, GrowthType::Linear);
        assert_eq!(created.replicate_to, ReplicateTo::None);
        assert!(created.growth_factor.get() - 12.5 == 0.0);
        assert!(!created.is_predefined());
        let updated = store
            .update_deployment_strategy(
                &created.id,
                DeploymentStrategyChanges {
                    growth_factor: Some(100.0),
                    growth_type: Some(GrowthType::Exponential),
                    final_bake_time_in_minutes: Some(1440),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
        assert_eq!(updated.name, "slow");
        assert_eq!(updated.deployment_duration_in_minutes, 15);
        assert!(updated.growth_factor.get() - 100.0 == 0.0);
        store.close().unwrap();
        updated
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.deployment_strategy(&updated.id).unwrap().unwrap(),
        updated
    );
    store.verify().unwrap().unwrap();
    store
        .delete_deployment_strategy(&updated.id)
        .wait()
        .unwrap()
        .unwrap();
    let refused = refused_kind(store.deployment_strategy(&updated.id).unwrap());
    assert_eq!(refused.kind(), RejectionKind::NotFound);
}

#[test]
fn an_out_of_range_growth_factor_is_refused_not_a_panic() {
    // GrowthFactor is a finite float from 1 to 100: anything else is Invalid.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for bad in [0.0, 0.5, 100.5, f32::NAN, f32::INFINITY] {
        let outcome = store
            .create_deployment_strategy(NewDeploymentStrategy {
                growth_factor: bad,
                ..new_strategy("s")
            })
            .wait()
            .unwrap();
        invalid_field(&refused_kind(outcome), "GrowthFactor");
    }
    let s = strategy(&store, "s");
    let outcome = store
        .update_deployment_strategy(
            &s.id,
            DeploymentStrategyChanges {
                growth_factor: Some(-1.0),
                ..Default::default()
            },
        )
        .wait()
        .unwrap();
    invalid_field(&refused_kind(outcome), "GrowthFactor");
    assert_eq!(store.head().position, 1, "nothing appended for a refusal");
}

#[test]
fn predefined_strategies_are_readable_but_unchangeable() {
    // Predefined strategies: Get works on an empty store; update, delete and tag are Invalid.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for record in predefined_strategies() {
        assert_eq!(
            store.deployment_strategy(&record.id).unwrap().unwrap(),
            record
        );
    }
    let id = predefined_id();
    let refused = refused_kind(
        store
            .update_deployment_strategy(&id, DeploymentStrategyChanges::default())
            .wait()
            .unwrap(),
    );
    invalid_field(&refused, "DeploymentStrategyId");
    assert!(refused.to_string().contains("AppConfig.AllAtOnce"));
    let refused = refused_kind(store.delete_deployment_strategy(&id).wait().unwrap());
    invalid_field(&refused, "DeploymentStrategyId");
    let resource = TaggedResource::DeploymentStrategy(id);
    let refused = refused_kind(
        store
            .tag_resource(&resource, tags(&[("k", "v")]))
            .wait()
            .unwrap(),
    );
    invalid_field(&refused, "ResourceArn");
    assert_eq!(store.tags(&resource).unwrap().unwrap(), BTreeMap::new());
    assert_eq!(
        store.head().position,
        0,
        "predefined strategies are not events"
    );
}

#[test]
fn strategy_pages_cross_the_predefined_user_boundary() {
    // ListDeploymentStrategies: predefined first, then users in id order, whatever the
    // page size, tokens resuming on either side of the boundary.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut users: Vec<_> = (0..3).map(|i| strategy(&store, &format!("s{i}"))).collect();
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = predefined_strategies();
    expected.extend(users);
    for size in 1..=8 {
        assert_eq!(all_strategies(&store, size), expected, "page size {size}");
    }
    let first = store
        .deployment_strategies(&PageRequest::default())
        .unwrap()
        .unwrap();
    assert_eq!(first.items, expected);
    assert_eq!(first.next_token, None);
    for bad in ["zz", "70", "7004", "75", "00"] {
        let refused = refused_kind(
            store
                .deployment_strategies(&PageRequest {
                    max_results: None,
                    next_token: Some(bad.into()),
                })
                .unwrap(),
        );
        invalid_field(&refused, "NextToken");
    }
}

#[test]
fn tags_round_trip_on_every_resource_kind_and_survive_reopen() {
    // TagResource / UntagResource / ListTagsForResource on applications, profiles,
    // environments and user strategies; E6 after reopen.
    let dir = tempfile::tempdir().unwrap();
    let resources = {
        let store = Store::open(dir.path()).unwrap();
        let (app, profile) = support::app_with_hosted_profile(&store);
        let env = environment(&store, &app, "prod");
        let s = strategy(&store, "s");
        let resources = vec![
            TaggedResource::Application(app.clone()),
            TaggedResource::Profile {
                application: app.clone(),
                profile,
            },
            TaggedResource::Environment {
                application: app,
                environment: env.id,
            },
            TaggedResource::DeploymentStrategy(s.id),
        ];
        for resource in &resources {
            store
                .tag_resource(resource, tags(&[("a", "1"), ("b", "2")]))
                .wait()
                .unwrap()
                .unwrap();
            store
                .untag_resource(resource, vec!["b".into(), "team".into(), "absent".into()])
                .wait()
                .unwrap()
                .unwrap();
        }
        store.close().unwrap();
        resources
    };
    let store = Store::open(dir.path()).unwrap();
    for resource in &resources {
        assert_eq!(
            store.tags(resource).unwrap().unwrap(),
            tags(&[("a", "1")]),
            "{resource}"
        );
    }
    store.verify().unwrap().unwrap();
}

#[test]
fn a_tag_change_that_changes_nothing_appends_nothing() {
    // Untag of absent keys and a re-tag with the same values succeed without a record.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = application(&store);
    let resource = TaggedResource::Application(app);
    store
        .tag_resource(&resource, tags(&[("k", "v")]))
        .wait()
        .unwrap()
        .unwrap();
    let head = store.head();
    store
        .untag_resource(&resource, vec!["absent".into()])
        .wait()
        .unwrap()
        .unwrap();
    store
        .tag_resource(&resource, tags(&[("k", "v")]))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(store.head(), head);
}

#[test]
fn tags_of_a_missing_resource_are_not_found() {
    // ListTagsForResource / TagResource: NotFound naming the missing resource.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = application(&store);
    let missing = [
        TaggedResource::Application(ApplicationId::parse("zzzzzzz").unwrap()),
        TaggedResource::Environment {
            application: app,
            environment: verso_domain::EnvironmentId::parse("zzzzzzz").unwrap(),
        },
        TaggedResource::DeploymentStrategy(DeploymentStrategyId::parse("zzzzzzz").unwrap()),
    ];
    for resource in &missing {
        let refused = refused_kind(store.tags(resource).unwrap());
        assert_eq!(refused.kind(), RejectionKind::NotFound);
        assert!(
            refused.to_string().contains(resource.resource_type()),
            "{refused}"
        );
        let refused = refused_kind(
            store
                .tag_resource(resource, tags(&[("k", "v")]))
                .wait()
                .unwrap(),
        );
        assert_eq!(refused.kind(), RejectionKind::NotFound);
    }
    let refused = refused_kind(
        store
            .tag_resource(
                &TaggedResource::Application(ApplicationId::parse("zzzzzzz").unwrap()),
                (0..51).map(|i| (format!("k{i}"), String::new())).collect(),
            )
            .wait()
            .unwrap(),
    );
    invalid_field(&refused, "Tags");
}

#[test]
fn rebuild_reproduces_environments_strategies_and_tags() {
    // E6: dropping the projections and folding the log gives the same records back.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = application(&store);
    let kept = environment(&store, &app, "kept");
    let gone = environment(&store, &app, "gone");
    store
        .delete_environment(&app, &gone.id)
        .wait()
        .unwrap()
        .unwrap();
    let s = strategy(&store, "s");
    let t = strategy(&store, "t");
    store
        .delete_deployment_strategy(&t.id)
        .wait()
        .unwrap()
        .unwrap();
    let env_resource = TaggedResource::Environment {
        application: app.clone(),
        environment: kept.id.clone(),
    };
    store
        .tag_resource(&env_resource, tags(&[("x", "y")]))
        .wait()
        .unwrap()
        .unwrap();
    let before = (
        store
            .environments(&app, &PageRequest::default())
            .unwrap()
            .unwrap(),
        all_strategies(&store, 1000),
        store.tags(&env_resource).unwrap().unwrap(),
    );
    store.verify().unwrap().unwrap();
    let report = store.rebuild().unwrap().unwrap();
    assert_eq!(report.events, store.head().position);
    store.verify().unwrap().unwrap();
    let after = (
        store
            .environments(&app, &PageRequest::default())
            .unwrap()
            .unwrap(),
        all_strategies(&store, 1000),
        store.tags(&env_resource).unwrap().unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(after.1.last().map(|r| &r.id), Some(&s.id));
    // The retired id survives the rebuild too (E8).
    let again = store
        .submit(Command::CreateEnvironment(CreateEnvironment {
            application: app,
            id: gone.id,
            name: "again".into(),
            description: None,
            monitors: Vec::new(),
            tags: BTreeMap::new(),
        }))
        .wait()
        .unwrap();
    assert_eq!(refused_kind(again).kind(), RejectionKind::AlreadyExists);
}
