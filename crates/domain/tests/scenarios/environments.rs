//! Environments: create, update, delete; their field constraints, quota, ids never
//! reused, and the application they keep from being deleted.

use std::collections::BTreeMap;

use verso_domain::{
    Command, CreateEnvironment, DeleteApplication, Detail, EnvironmentState, Event, Limits,
    Monitor, RejectionKind, UpdateEnvironment, projection::AppConfigRead,
};

use crate::support::{
    app, application_created, application_deleted, create_environment, env, environment_created,
    environment_deleted, given, hosted_profile_created, profile_deleted,
};

const ALARM: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors";
const ROLE: &str = "arn:aws:iam::123456789012:role/alarm-reader";

fn create(c: CreateEnvironment) -> Command {
    Command::CreateEnvironment(c)
}

fn base() -> CreateEnvironment {
    create_environment("app1", "env1")
}

fn update(changes: UpdateEnvironment) -> Command {
    Command::UpdateEnvironment {
        application: app("app1"),
        environment: env("env1"),
        changes,
    }
}

fn delete(application: &str, environment: &str) -> Command {
    Command::DeleteEnvironment {
        application: app(application),
        environment: env(environment),
    }
}

fn monitor(role: Option<&str>) -> Monitor {
    Monitor {
        alarm_arn: ALARM.to_owned(),
        alarm_role_arn: role.map(str::to_owned),
    }
}

fn with_app() -> Vec<Event> {
    vec![application_created("app1")]
}

fn with_env() -> Vec<Event> {
    vec![
        application_created("app1"),
        environment_created("app1", "env1"),
    ]
}

fn limit(n: u64) -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_environments_per_application = n;
    limits
}

// --- create --------------------------------------------------------------------------

#[test]
fn create_environment_records_every_field_given() {
    // Rule: EnvironmentCreated carries the command's fields.
    let command = CreateEnvironment {
        description: Some("production".to_owned()),
        monitors: vec![monitor(Some(ROLE)), monitor(None)],
        tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_events(&[Event::EnvironmentCreated {
            application: app("app1"),
            environment: env("env1"),
            name: "env env1".to_owned(),
            description: Some("production".to_owned()),
            monitors: vec![monitor(Some(ROLE)), monitor(None)],
            tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
        }]);
}

#[test]
fn a_new_environment_is_ready_for_deployment() {
    // Rule: an environment starts in READY_FOR_DEPLOYMENT, created at its event's position.
    let after = given(with_app()).when(create(base())).then_accepted();
    let record = after
        .state()
        .environment(&app("app1"), &env("env1"))
        .expect("the environment exists");
    assert_eq!(record.state, EnvironmentState::ReadyForDeployment);
    assert_eq!(record.created.get(), 2);
}

#[test]
fn create_environment_with_empty_name_is_invalid() {
    // Rule: an environment Name has at least 1 character.
    let command = CreateEnvironment {
        name: String::new(),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Name");
}

#[test]
fn create_environment_with_65_character_name_is_invalid() {
    // Rule: an environment Name has at most 64 characters.
    let command = CreateEnvironment {
        name: "n".repeat(65),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Name");
}

#[test]
fn create_environment_with_64_character_name_is_accepted() {
    // Rule: exactly 64 characters is within the environment Name bound.
    let command = CreateEnvironment {
        name: "é".repeat(64),
        ..base()
    };
    given(with_app()).when(create(command)).then_accepted();
}

#[test]
fn create_environment_with_1025_character_description_is_invalid() {
    // Rule: a Description has at most 1024 characters.
    let command = CreateEnvironment {
        description: Some("d".repeat(1025)),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("Description");
}

#[test]
fn create_environment_with_six_monitors_is_invalid() {
    // Rule: an environment has at most 5 monitors.
    let command = CreateEnvironment {
        monitors: vec![monitor(None); 6],
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("Monitors");
}

#[test]
fn create_environment_with_five_monitors_is_accepted() {
    // Rule: exactly 5 monitors is within the bound.
    let command = CreateEnvironment {
        monitors: vec![monitor(Some(ROLE)); 5],
        ..base()
    };
    given(with_app()).when(create(command)).then_accepted();
}

#[test]
fn create_environment_with_empty_or_2049_character_alarm_arn_is_invalid() {
    // Rule: a monitor's AlarmArn has 1 to 2048 characters.
    for arn in [String::new(), "a".repeat(2049)] {
        let command = CreateEnvironment {
            monitors: vec![Monitor {
                alarm_arn: arn,
                alarm_role_arn: None,
            }],
            ..base()
        };
        given(with_app())
            .when(create(command))
            .then_invalid("AlarmArn");
    }
}

#[test]
fn create_environment_with_alarm_role_arn_not_an_iam_role_is_invalid() {
    // Rule: AlarmRoleArn is 20 to 2048 characters matching the IAM role ARN pattern.
    for role in [
        "arn:aws:iam::123456789012:user/someone",
        "arn:aws:iam::12345678901:role/short-account",
        "arn:aws:sts::123456789012:role/other-service",
        "arn:aws:iam::1:role",
    ] {
        let command = CreateEnvironment {
            monitors: vec![monitor(Some(role))],
            ..base()
        };
        given(with_app())
            .when(create(command))
            .then_invalid("AlarmRoleArn");
    }
}

#[test]
fn create_environment_with_51_tags_is_invalid() {
    // Rule: at most 50 tags, on environments too.
    let command = CreateEnvironment {
        tags: (0..51).map(|i| (format!("k{i}"), String::new())).collect(),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Tags");
}

#[test]
fn create_environment_with_empty_tag_key_is_invalid() {
    // Rule: a tag key has 1 to 128 characters, on environments too.
    let command = CreateEnvironment {
        tags: BTreeMap::from([(String::new(), "v".to_owned())]),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Tags");
}

// --- existence, ids and quota --------------------------------------------------------

#[test]
fn create_environment_in_missing_application_is_not_found() {
    // Rule: an environment belongs to an existing application.
    let rejection = given([])
        .when(create(base()))
        .then_rejected(RejectionKind::NotFound);
    assert_eq!(
        rejection.detail(),
        &Detail::Resource {
            resource: "Application"
        }
    );
}

#[test]
fn create_environment_in_deleted_application_is_not_found() {
    // Rule: a deleted application takes no new environments.
    given([application_created("app1"), application_deleted("app1")])
        .when(create(base()))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn create_environment_with_taken_id_is_already_exists() {
    // Rule: an environment id is unique within its application.
    given(with_env())
        .when(create(base()))
        .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn create_environment_with_id_of_deleted_environment_is_already_exists() {
    // Rule: an environment id is never reused in its application, even after a delete.
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_deleted("app1", "env1"),
    ])
    .when(create(base()))
    .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn create_environment_with_id_taken_in_another_application_is_accepted() {
    // Rule: environment ids are scoped to their application.
    given([
        application_created("app1"),
        application_created("app2"),
        environment_created("app2", "env1"),
        environment_deleted("app2", "env1"),
        environment_created("app2", "env2"),
    ])
    .when(create(base()))
    .then_accepted();
}

#[test]
fn create_environment_beyond_quota_per_application_is_quota_exceeded() {
    // Rule: at most `max_environments_per_application` environments per application.
    let rejection = given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_created("app1", "env2"),
    ])
    .with_limits(limit(2))
    .when(create(create_environment("app1", "env3")))
    .then_rejected(RejectionKind::QuotaExceeded);
    assert!(matches!(rejection.detail(), Detail::Quota { limit: 2, .. }));
}

#[test]
fn environment_quota_defaults_to_20() {
    // Rule: AWS's default quota is 20 environments per application.
    assert_eq!(Limits::DEFAULT.max_environments_per_application, 20);
    let mut events = with_app();
    events.extend((0..20).map(|i| environment_created("app1", &format!("env{i:02}"))));
    given(events)
        .when(create(create_environment("app1", "env20")))
        .then_rejected(RejectionKind::QuotaExceeded);
}

#[test]
fn environment_quota_is_counted_per_application() {
    // Rule: another application's environments do not count toward this one's quota.
    given([
        application_created("app1"),
        application_created("app2"),
        environment_created("app2", "env1"),
        environment_created("app2", "env2"),
    ])
    .with_limits(limit(2))
    .when(create(base()))
    .then_accepted();
}

#[test]
fn deleting_an_environment_frees_its_quota_slot() {
    // Rule: the quota counts live environments only.
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_created("app1", "env2"),
        environment_deleted("app1", "env2"),
    ])
    .with_limits(limit(2))
    .when(create(create_environment("app1", "env3")))
    .then_accepted();
}

// --- update --------------------------------------------------------------------------

fn full_environment() -> Event {
    Event::EnvironmentCreated {
        application: app("app1"),
        environment: env("env1"),
        name: "old".to_owned(),
        description: Some("kept".to_owned()),
        monitors: vec![monitor(Some(ROLE))],
        tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
    }
}

#[test]
fn update_environment_with_no_changes_keeps_every_field() {
    // Rule: `None` leaves a field as it is; EnvironmentUpdated holds the values after it.
    given([application_created("app1"), full_environment()])
        .when(update(UpdateEnvironment::default()))
        .then_events(&[Event::EnvironmentUpdated {
            application: app("app1"),
            environment: env("env1"),
            name: "old".to_owned(),
            description: Some("kept".to_owned()),
            monitors: vec![monitor(Some(ROLE))],
        }]);
}

#[test]
fn update_environment_monitors_replace_the_list() {
    // Rule: Monitors, when given, replaces the whole list; an empty list removes them all.
    let after = given([application_created("app1"), full_environment()])
        .when(update(UpdateEnvironment {
            name: Some("new".to_owned()),
            monitors: Some(vec![monitor(None), monitor(None)]),
            ..UpdateEnvironment::default()
        }))
        .then_events(&[Event::EnvironmentUpdated {
            application: app("app1"),
            environment: env("env1"),
            name: "new".to_owned(),
            description: Some("kept".to_owned()),
            monitors: vec![monitor(None), monitor(None)],
        }]);
    let after = after
        .when(update(UpdateEnvironment {
            monitors: Some(Vec::new()),
            ..UpdateEnvironment::default()
        }))
        .then_accepted();
    let record = after
        .state()
        .environment(&app("app1"), &env("env1"))
        .expect("the environment exists");
    assert!(record.monitors.is_empty());
}

#[test]
fn update_environment_keeps_its_state_tags_and_creation() {
    // Rule: an update changes name, description and monitors only.
    let after = given([application_created("app1"), full_environment()])
        .when(update(UpdateEnvironment {
            description: Some("changed".to_owned()),
            ..UpdateEnvironment::default()
        }))
        .then_accepted();
    let record = after
        .state()
        .environment(&app("app1"), &env("env1"))
        .expect("the environment exists");
    assert_eq!(record.state, EnvironmentState::ReadyForDeployment);
    assert_eq!(record.tags.get("team").map(String::as_str), Some("core"));
    assert_eq!(record.created.get(), 2);
    assert_eq!(record.description.as_deref(), Some("changed"));
}

#[test]
fn update_missing_environment_is_not_found() {
    // Rule: only an existing environment can be updated; the rejection names it.
    let rejection = given(with_app())
        .when(update(UpdateEnvironment::default()))
        .then_rejected(RejectionKind::NotFound);
    assert_eq!(
        rejection.detail(),
        &Detail::Resource {
            resource: "Environment"
        }
    );
}

#[test]
fn update_environment_of_missing_application_is_not_found() {
    // Rule: an environment is found only through its existing application.
    let rejection = given([])
        .when(update(UpdateEnvironment::default()))
        .then_rejected(RejectionKind::NotFound);
    assert_eq!(
        rejection.detail(),
        &Detail::Resource {
            resource: "Application"
        }
    );
}

#[test]
fn update_environment_with_65_character_name_is_invalid() {
    // Rule: an updated environment Name has 1 to 64 characters.
    given(with_env())
        .when(update(UpdateEnvironment {
            name: Some("n".repeat(65)),
            ..UpdateEnvironment::default()
        }))
        .then_invalid("Name");
}

#[test]
fn update_environment_with_1025_character_description_is_invalid() {
    // Rule: an updated Description has at most 1024 characters.
    given(with_env())
        .when(update(UpdateEnvironment {
            description: Some("d".repeat(1025)),
            ..UpdateEnvironment::default()
        }))
        .then_invalid("Description");
}

#[test]
fn update_environment_with_six_monitors_is_invalid() {
    // Rule: at most 5 monitors, on update too.
    given(with_env())
        .when(update(UpdateEnvironment {
            monitors: Some(vec![monitor(None); 6]),
            ..UpdateEnvironment::default()
        }))
        .then_invalid("Monitors");
}

#[test]
fn update_environment_with_bad_alarm_role_arn_is_invalid() {
    // Rule: an updated AlarmRoleArn follows the IAM role pattern.
    given(with_env())
        .when(update(UpdateEnvironment {
            monitors: Some(vec![monitor(Some("arn:aws:iam::123456789012:user/me"))]),
            ..UpdateEnvironment::default()
        }))
        .then_invalid("AlarmRoleArn");
}

// --- delete --------------------------------------------------------------------------

#[test]
fn delete_environment_records_environment_deleted() {
    // Rule: deleting an existing environment appends EnvironmentDeleted.
    let after = given(with_env())
        .when(delete("app1", "env1"))
        .then_events(&[environment_deleted("app1", "env1")]);
    assert!(
        after
            .state()
            .environment(&app("app1"), &env("env1"))
            .is_none()
    );
    assert_eq!(after.state().environment_count(&app("app1")), 0);
}

#[test]
fn delete_missing_environment_is_not_found() {
    // Rule: only an existing environment can be deleted.
    given(with_app())
        .when(delete("app1", "env1"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_environment_twice_is_not_found() {
    // Rule: a deleted environment is gone.
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_deleted("app1", "env1"),
    ])
    .when(delete("app1", "env1"))
    .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_environment_of_missing_application_is_not_found() {
    // Rule: an environment is found only through its existing application.
    given([])
        .when(delete("app1", "env1"))
        .then_rejected(RejectionKind::NotFound);
}

// --- the owning application ----------------------------------------------------------

fn delete_app() -> Command {
    Command::DeleteApplication(DeleteApplication { id: app("app1") })
}

#[test]
fn delete_application_with_environments_is_not_empty() {
    // Rule: an application with environments cannot be deleted.
    let rejection = given(with_env())
        .when(delete_app())
        .then_rejected(RejectionKind::NotEmpty);
    assert!(rejection.message().contains("environments"), "{rejection}");
}

#[test]
fn delete_application_after_its_environments_are_deleted_is_accepted() {
    // Rule: once its environments (and profiles) are gone, an application can go.
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        hosted_profile_created("app1", "prf1"),
        environment_deleted("app1", "env1"),
        profile_deleted("app1", "prf1"),
    ])
    .when(delete_app())
    .then_events(&[application_deleted("app1")]);
}

#[test]
fn delete_application_ignores_environments_of_other_applications() {
    // Rule: only the application's own environments keep it.
    given([
        application_created("app1"),
        application_created("app2"),
        environment_created("app2", "env1"),
    ])
    .when(delete_app())
    .then_accepted();
}

// --- replay (E5) ---------------------------------------------------------------------

fn environment_updated(name: &str, monitors: Vec<Monitor>) -> Event {
    Event::EnvironmentUpdated {
        application: app("app1"),
        environment: env("env1"),
        name: name.to_owned(),
        description: None,
        monitors,
    }
}

#[test]
fn check_accepts_a_history_of_every_environment_event() {
    // Rule: what decide produces for environments replays.
    let g = given(with_app());
    g.replay_accepts(environment_created("app1", "env1"));
    let g = g.and([environment_created("app1", "env1")]);
    g.replay_accepts(environment_updated("renamed", vec![monitor(Some(ROLE))]));
    g.replay_accepts(environment_deleted("app1", "env1"));
}

#[test]
fn check_refuses_environment_created_in_missing_or_deleted_application() {
    // Rule: an environment's application exists when it is created.
    given([]).replay_refuses(environment_created("app1", "env1"), RejectionKind::NotFound);
    given([application_created("app1"), application_deleted("app1")])
        .replay_refuses(environment_created("app1", "env1"), RejectionKind::NotFound);
}

#[test]
fn check_refuses_environment_created_twice_or_with_a_retired_id() {
    // Rule: an environment id is created once per application, ever.
    given(with_env()).replay_refuses(
        environment_created("app1", "env1"),
        RejectionKind::AlreadyExists,
    );
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_deleted("app1", "env1"),
    ])
    .replay_refuses(
        environment_created("app1", "env1"),
        RejectionKind::AlreadyExists,
    );
}

#[test]
fn check_refuses_environment_events_with_fields_decide_would_refuse() {
    // Rule: replay re-validates every field decide validated.
    let bad_created = [
        Event::EnvironmentCreated {
            application: app("app1"),
            environment: env("env1"),
            name: String::new(),
            description: None,
            monitors: Vec::new(),
            tags: BTreeMap::new(),
        },
        Event::EnvironmentCreated {
            application: app("app1"),
            environment: env("env1"),
            name: "n".to_owned(),
            description: Some("d".repeat(1025)),
            monitors: vec![monitor(None); 6],
            tags: BTreeMap::new(),
        },
        Event::EnvironmentCreated {
            application: app("app1"),
            environment: env("env1"),
            name: "n".to_owned(),
            description: None,
            monitors: vec![monitor(Some("not a role"))],
            tags: BTreeMap::new(),
        },
        Event::EnvironmentCreated {
            application: app("app1"),
            environment: env("env1"),
            name: "n".to_owned(),
            description: None,
            monitors: Vec::new(),
            tags: (0..51).map(|i| (format!("k{i}"), String::new())).collect(),
        },
    ];
    for event in bad_created {
        given(with_app()).replay_refuses(event, RejectionKind::Invalid);
    }
    given(with_env()).replay_refuses(
        environment_updated(&"n".repeat(65), Vec::new()),
        RejectionKind::Invalid,
    );
    given(with_env()).replay_refuses(
        environment_updated("n", vec![monitor(None); 6]),
        RejectionKind::Invalid,
    );
}

#[test]
fn check_refuses_environment_updated_or_deleted_when_missing() {
    // Rule: an updated or deleted environment exists.
    given(with_app()).replay_refuses(
        environment_updated("n", Vec::new()),
        RejectionKind::NotFound,
    );
    given(with_app()).replay_refuses(environment_deleted("app1", "env1"), RejectionKind::NotFound);
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_deleted("app1", "env1"),
    ])
    .replay_refuses(environment_deleted("app1", "env1"), RejectionKind::NotFound);
}

#[test]
fn check_refuses_application_deleted_with_environments() {
    // Rule: an application is deleted only once its environments are.
    given(with_env()).replay_refuses(application_deleted("app1"), RejectionKind::NotEmpty);
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_deleted("app1", "env1"),
    ])
    .replay_accepts(application_deleted("app1"));
}
