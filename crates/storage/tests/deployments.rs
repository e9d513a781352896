//! Deployments through the store with an injected clock: a restart in the middle of a
//! deployment continues where the clock puts it (P4, P5), environment state follows,
//! listing is newest first, `verify` and `rebuild` fold deployments like everything
//! else, and the data plane's candidates hide what a completed deployment replaced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use verso_domain::deployment::{DeploymentState, live_deployment};
use verso_domain::{
    ApplicationId, DeploymentStrategyId, EnvironmentId, EnvironmentState, GrowthType, ProfileId,
    RejectionKind, Timestamp, VersionSelector,
};
use verso_storage::{
    NewDeployment, NewDeploymentStrategy, NewEnvironment, NewHostedVersion, PageRequest, Refused,
    Store, StoreOptions,
};

const MINUTE: i64 = 60_000;

/// A clock the test moves by hand.
#[derive(Clone)]
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn new() -> Self {
        Self(Arc::new(AtomicI64::new(1_700_000_000_000)))
    }
    fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
    fn open(&self, path: &std::path::Path) -> Store {
        let c = self.clone();
        StoreOptions::new()
            .clock(Arc::new(move || c.now()))
            .open(path)
            .unwrap()
    }
}

struct Fixture {
    app: ApplicationId,
    profile: ProfileId,
    env: EnvironmentId,
    strategy: DeploymentStrategyId,
}

/// An application with a hosted profile holding one version per `(content, label)`, in
/// order, and an environment `prod`.
fn versions_and_environment(
    store: &Store,
    versions: &[(&[u8], &str)],
) -> (ApplicationId, ProfileId, EnvironmentId) {
    let (app, profile) = support::app_with_hosted_profile(store);
    for (body, label) in versions {
        store
            .create_hosted_version(
                &app,
                &profile,
                NewHostedVersion {
                    content: body.to_vec(),
                    content_type: "text/plain".into(),
                    label: Some((*label).into()),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    }
    let env = store
        .create_environment(
            &app,
            NewEnvironment {
                name: "prod".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap()
        .id;
    (app, profile, env)
}

/// An application with a hosted profile holding versions 1 and 2, an environment and a
/// linear strategy: 25% every 5 minutes over 20 minutes, then 10 minutes of baking.
fn fixture(store: &Store) -> Fixture {
    let (app, profile, env) =
        versions_and_environment(store, &[(b"one", "first"), (b"two", "second")]);
    let strategy = store
        .create_deployment_strategy(NewDeploymentStrategy {
            name: "quarters".into(),
            deployment_duration_in_minutes: 20,
            final_bake_time_in_minutes: Some(10),
            growth_factor: 25.0,
            growth_type: Some(GrowthType::Linear),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap()
        .id;
    Fixture {
        app,
        profile,
        env,
        strategy,
    }
}

fn deploy(store: &Store, f: &Fixture, version: &str, strategy: &DeploymentStrategyId) -> u32 {
    store
        .start_deployment(
            &f.app,
            &f.env,
            NewDeployment {
                profile: f.profile.clone(),
                version: VersionSelector::parse(version),
                strategy: strategy.clone(),
                description: None,
                kms_key_identifier: None,
                tags: Default::default(),
                latest_deployment_number: None,
            },
        )
        .wait()
        .unwrap()
        .unwrap()
        .number
}

fn state_of(store: &Store, f: &Fixture, number: u32) -> (DeploymentState, f32) {
    let record = store.deployment(&f.app, &f.env, number).unwrap().unwrap();
    record.state_at(store.now())
}

fn environment_state(store: &Store, f: &Fixture) -> EnvironmentState {
    store.environment(&f.app, &f.env).unwrap().unwrap().state
}

#[test]
fn a_restart_in_the_middle_of_a_deployment_continues_where_the_clock_puts_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let f = fixture(&store);
    let n = deploy(&store, &f, "1", &f.strategy);
    assert_eq!(n, 1);
    clock.advance(6 * MINUTE);
    assert_eq!(state_of(&store, &f, 1), (DeploymentState::Deploying, 50.0));
    assert_eq!(environment_state(&store, &f), EnvironmentState::Deploying);
    store.close().unwrap();

    // Eight minutes pass while the server is down.
    clock.advance(8 * MINUTE);
    let store = clock.open(dir.path());
    assert_eq!(state_of(&store, &f, 1), (DeploymentState::Deploying, 75.0));
    // Still in progress after the restart: a second deployment is refused.
    let refused = store
        .start_deployment(
            &f.app,
            &f.env,
            NewDeployment {
                profile: f.profile.clone(),
                version: VersionSelector::parse("2"),
                strategy: f.strategy.clone(),
                description: None,
                kms_key_identifier: None,
                tags: Default::default(),
                latest_deployment_number: None,
            },
        )
        .wait()
        .unwrap();
    match refused {
        Err(Refused::Rejected(r)) => assert_eq!(r.kind(), RejectionKind::StateConflict),
        other => panic!("expected a state conflict, got {other:?}"),
    }
    clock.advance(7 * MINUTE);
    assert_eq!(state_of(&store, &f, 1), (DeploymentState::Baking, 100.0));
    clock.advance(10 * MINUTE);
    assert_eq!(state_of(&store, &f, 1), (DeploymentState::Complete, 100.0));
    assert_eq!(
        environment_state(&store, &f),
        EnvironmentState::ReadyForDeployment
    );
    let record = store.deployment(&f.app, &f.env, 1).unwrap().unwrap();
    let status = record.status_at(store.now());
    assert_eq!(
        status.completed_at,
        Some(Timestamp::from_millis(
            record.started_at.as_millis() + 30 * MINUTE
        ))
    );
    assert!(store.verify().unwrap().is_ok());
    store.close().unwrap();
}

#[test]
fn a_rollback_survives_a_restart_and_sets_the_environment_state() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let f = fixture(&store);
    deploy(&store, &f, "second", &f.strategy);
    clock.advance(11 * MINUTE);
    let stopped = store
        .stop_deployment(&f.app, &f.env, 1, false)
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(
        stopped.state_at(store.now()),
        (DeploymentState::RolledBack, 75.0)
    );
    store.close().unwrap();
    clock.advance(60 * MINUTE);
    let store = clock.open(dir.path());
    assert_eq!(state_of(&store, &f, 1), (DeploymentState::RolledBack, 75.0));
    assert_eq!(environment_state(&store, &f), EnvironmentState::RolledBack);
    let record = store.deployment(&f.app, &f.env, 1).unwrap().unwrap();
    assert_eq!(record.version.get(), 2, "the label resolved to version 2");
    assert_eq!(record.version_label.as_deref(), Some("second"));
    store.close().unwrap();
}

#[test]
fn deployments_are_listed_newest_first_across_pages() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let f = fixture(&store);
    let all_at_once = DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap();
    for i in 0..5 {
        deploy(&store, &f, if i % 2 == 0 { "1" } else { "2" }, &all_at_once);
        clock.advance(MINUTE);
    }
    let mut numbers = Vec::new();
    let mut page = PageRequest {
        max_results: Some(2),
        next_token: None,
    };
    loop {
        let got = store.deployments(&f.app, &f.env, &page).unwrap().unwrap();
        numbers.extend(got.items.iter().map(|d| d.number));
        match got.next_token {
            Some(t) => page.next_token = Some(t),
            None => break,
        }
    }
    assert_eq!(numbers, vec![5, 4, 3, 2, 1]);
    // Each started while the one before was baking, which completed it then.
    for n in 1..5 {
        assert_eq!(state_of(&store, &f, n).0, DeploymentState::Complete);
    }
    assert_eq!(state_of(&store, &f, 5).0, DeploymentState::Baking);
    let bad = store
        .deployments(
            &f.app,
            &f.env,
            &PageRequest {
                max_results: None,
                next_token: Some("zz".into()),
            },
        )
        .unwrap();
    assert!(matches!(bad, Err(Refused::Rejected(r)) if r.kind() == RejectionKind::Invalid));
    store.close().unwrap();
}

#[test]
fn verify_and_rebuild_fold_deployments_and_their_stops() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let f = fixture(&store);
    let all_at_once = DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap();
    deploy(&store, &f, "1", &all_at_once);
    clock.advance(11 * MINUTE);
    deploy(&store, &f, "2", &f.strategy);
    clock.advance(3 * MINUTE);
    store
        .stop_deployment(&f.app, &f.env, 2, false)
        .wait()
        .unwrap()
        .unwrap();
    let before: Vec<_> = (1..=2)
        .map(|n| store.deployment(&f.app, &f.env, n).unwrap().unwrap())
        .collect();
    assert!(store.verify().unwrap().is_ok());
    assert!(store.rebuild().unwrap().is_ok());
    let after: Vec<_> = (1..=2)
        .map(|n| store.deployment(&f.app, &f.env, n).unwrap().unwrap())
        .collect();
    assert_eq!(before, after);
    store.close().unwrap();
}

#[test]
fn candidates_stop_at_the_newest_complete_deployment_and_skip_rolled_back_ones() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let f = fixture(&store);
    let all_at_once = DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap();
    deploy(&store, &f, "1", &all_at_once);
    clock.advance(11 * MINUTE);
    deploy(&store, &f, "2", &all_at_once);
    clock.advance(11 * MINUTE);
    deploy(&store, &f, "1", &f.strategy);
    clock.advance(MINUTE);
    store
        .stop_deployment(&f.app, &f.env, 3, false)
        .wait()
        .unwrap()
        .unwrap();
    let now = store.now();
    let candidates = store
        .deployment_candidates(&f.app, &f.env, &f.profile, now)
        .unwrap()
        .unwrap();
    let numbers: Vec<_> = candidates.iter().map(|d| d.number).collect();
    assert_eq!(numbers, vec![3, 2], "deployment 1 is hidden behind 2");
    let live = live_deployment(&candidates, now, |_| 0).unwrap();
    assert_eq!(live.number, 2, "the rollback of 3 leaves 2 live");
    assert_eq!(live.version.get(), 2);
    store.close().unwrap();
}

#[test]
fn an_environment_with_a_deployment_in_progress_cannot_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let f = fixture(&store);
    deploy(&store, &f, "1", &f.strategy);
    let refused = store.delete_environment(&f.app, &f.env).wait().unwrap();
    assert!(
        matches!(refused, Err(Refused::Rejected(ref r)) if r.kind() == RejectionKind::StateConflict),
        "{refused:?}"
    );
    clock.advance(31 * MINUTE);
    store
        .delete_environment(&f.app, &f.env)
        .wait()
        .unwrap()
        .unwrap();
    assert!(store.verify().unwrap().is_ok());
    store.close().unwrap();
}

/// Starts an `AppConfig.AllAtOnce` deployment of `version` (a number or a label) of
/// `profile` and returns the record the store appended.
fn deploy_all_at_once(
    store: &Store,
    app: &ApplicationId,
    env: &EnvironmentId,
    profile: &ProfileId,
    version: &str,
) -> verso_domain::deployment::DeploymentRecord {
    store
        .start_deployment(
            app,
            env,
            NewDeployment {
                profile: profile.clone(),
                version: VersionSelector::parse(version),
                strategy: DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap(),
                description: None,
                kms_key_identifier: None,
                tags: Default::default(),
                latest_deployment_number: None,
            },
        )
        .wait()
        .unwrap()
        .unwrap()
}

#[test]
fn a_label_deploys_the_newest_live_version_carrying_it() {
    // Invariant: a `ConfigurationVersion` that is a label names the newest live version
    // carrying it. `StartDeployment` resolves the label through the store's projection
    // and records the number; replay re-checks only that number, so this lookup is
    // guarded by tests through the store, not by replay.
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    let store = clock.open(dir.path());
    let (app, profile, env) = versions_and_environment(
        &store,
        &[(b"one", "prod"), (b"two", "prod"), (b"three", "other")],
    );

    let first = deploy_all_at_once(&store, &app, &env, &profile, "prod");
    assert_eq!(first.version.get(), 2, "of versions 1 and 2, \"prod\" is 2");
    assert_eq!(first.version_label.as_deref(), Some("prod"));
    // All at once, then 10 minutes of baking: done before the next start.
    clock.advance(11 * MINUTE);
    store
        .delete_hosted_version(&app, &profile, 2)
        .wait()
        .unwrap()
        .unwrap();
    let second = deploy_all_at_once(&store, &app, &env, &profile, "prod");
    assert_eq!(second.version.get(), 1, "version 2 deleted, \"prod\" is 1");
    clock.advance(11 * MINUTE);
    // The same answer from the projection as stored, after a reopen.
    store.close().unwrap();
    let store = clock.open(dir.path());
    let third = deploy_all_at_once(&store, &app, &env, &profile, "prod");
    assert_eq!(third.version.get(), 1, "after reopening");
    clock.advance(11 * MINUTE);
    let other = deploy_all_at_once(&store, &app, &env, &profile, "other");
    assert_eq!(other.version.get(), 3);
    store.close().unwrap();
}
