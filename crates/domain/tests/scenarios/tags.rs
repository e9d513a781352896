//! Tags: TagResource adds or overwrites keys, UntagResource removes them, on
//! applications, configuration profiles, environments and user deployment strategies.
//! A change records the whole map after it; a change that changes nothing appends nothing.

use std::collections::BTreeMap;

use verso_domain::{
    Command, Detail, Event, RejectionKind, TaggedResource, projection::AppConfigRead,
};

use crate::support::{
    Given, app, application_created, env, environment_created, environment_deleted, given,
    hosted_profile_created, prof, strategy, strategy_created,
};

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn n_tags(n: usize) -> BTreeMap<String, String> {
    (0..n)
        .map(|i| (format!("k{i:02}"), String::new()))
        .collect()
}

fn application() -> TaggedResource {
    TaggedResource::Application(app("app1"))
}

fn profile() -> TaggedResource {
    TaggedResource::Profile {
        application: app("app1"),
        profile: prof("prf1"),
    }
}

fn environment() -> TaggedResource {
    TaggedResource::Environment {
        application: app("app1"),
        environment: env("env1"),
    }
}

fn user_strategy() -> TaggedResource {
    TaggedResource::DeploymentStrategy(strategy("str1"))
}

fn predefined() -> TaggedResource {
    TaggedResource::DeploymentStrategy(strategy("AppConfig.AllAtOnce"))
}

fn tag(resource: TaggedResource, tags: BTreeMap<String, String>) -> Command {
    Command::TagResource { resource, tags }
}

fn untag(resource: TaggedResource, keys: &[&str]) -> Command {
    Command::UntagResource {
        resource,
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
    }
}

fn changed(resource: TaggedResource, tags: BTreeMap<String, String>) -> Event {
    Event::TagsChanged { resource, tags }
}

/// Every kind of taggable resource, each created with tag `team=core`.
fn every_resource() -> Given {
    given([
        Event::ApplicationCreated {
            application: app("app1"),
            name: "app".to_owned(),
            description: None,
            tags: tags(&[("team", "core")]),
        },
        hosted_profile_created("app1", "prf1"),
        environment_created("app1", "env1"),
        strategy_created("str1"),
    ])
    .and([
        changed(profile(), tags(&[("team", "core")])),
        changed(environment(), tags(&[("team", "core")])),
        changed(user_strategy(), tags(&[("team", "core")])),
    ])
}

/// The tags the projections hold for `resource`.
fn tags_of(g: &Given, resource: &TaggedResource) -> BTreeMap<String, String> {
    let s = g.state();
    match resource {
        TaggedResource::Application(id) => s.application(id).map(|r| r.tags.clone()),
        TaggedResource::Profile {
            application,
            profile,
        } => s.profile(application, profile).map(|r| r.tags.clone()),
        TaggedResource::Environment {
            application,
            environment,
        } => s.environment(application, environment).map(|r| r.tags),
        TaggedResource::DeploymentStrategy(id) => s.deployment_strategy(id).map(|r| r.tags),
        _ => None,
    }
    .expect("the resource exists")
}

// --- TagResource ---------------------------------------------------------------------

#[test]
fn tag_resource_records_the_whole_map_after_the_change_for_every_resource_kind() {
    // Rule: TagsChanged holds every tag the resource carries after the change, and apply
    // sets exactly that map on the resource's record.
    for resource in [application(), profile(), environment(), user_strategy()] {
        let after = every_resource()
            .when(tag(resource.clone(), tags(&[("env", "prod")])))
            .then_events(&[changed(
                resource.clone(),
                tags(&[("env", "prod"), ("team", "core")]),
            )]);
        assert_eq!(
            tags_of(&after, &resource),
            tags(&[("env", "prod"), ("team", "core")])
        );
    }
}

#[test]
fn tag_resource_overwrites_the_value_of_an_existing_key() {
    // Rule: TagResource overwrites keys the resource already has.
    every_resource()
        .when(tag(application(), tags(&[("team", "edge")])))
        .then_events(&[changed(application(), tags(&[("team", "edge")]))]);
}

#[test]
fn tag_resource_that_changes_nothing_appends_nothing() {
    // Rule: the same values, or no tags at all, change nothing and append nothing.
    every_resource()
        .when(tag(environment(), tags(&[("team", "core")])))
        .then_nothing_appended()
        .when(tag(environment(), BTreeMap::new()))
        .then_nothing_appended();
}

#[test]
fn tag_resource_beyond_50_tags_is_invalid() {
    // Rule: after a TagResource the resource holds at most 50 tags.
    let start = given([Event::ApplicationCreated {
        application: app("app1"),
        name: "app".to_owned(),
        description: None,
        tags: n_tags(50),
    }]);
    start
        .clone()
        .when(tag(application(), tags(&[("one-more", "")])))
        .then_invalid("Tags");
    // Overwriting one of the 50 keeps it at 50.
    start
        .when(tag(application(), tags(&[("k00", "changed")])))
        .then_accepted();
}

#[test]
fn tag_resource_with_bad_key_or_value_is_invalid() {
    // Rule: tag keys have 1 to 128 characters, values at most 256.
    for bad in [
        tags(&[("", "v")]),
        BTreeMap::from([("k".repeat(129), String::new())]),
        BTreeMap::from([("k".to_owned(), "v".repeat(257))]),
    ] {
        every_resource()
            .when(tag(profile(), bad))
            .then_invalid("Tags");
    }
}

#[test]
fn tag_resource_with_128_character_key_and_256_character_value_is_accepted() {
    // Rule: the bounds themselves are valid.
    every_resource()
        .when(tag(
            profile(),
            BTreeMap::from([("k".repeat(128), "v".repeat(256))]),
        ))
        .then_accepted();
}

#[test]
fn tag_missing_resource_is_not_found_naming_its_type() {
    // Rule: only an existing resource can be tagged; the rejection names what is missing,
    // the application first.
    let cases = [
        (given([]), application(), "Application"),
        (given([]), profile(), "Application"),
        (
            given([application_created("app1")]),
            profile(),
            "ConfigurationProfile",
        ),
        (given([]), environment(), "Application"),
        (
            given([application_created("app1")]),
            environment(),
            "Environment",
        ),
        (given([]), user_strategy(), "DeploymentStrategy"),
        (
            given([]),
            TaggedResource::DeploymentStrategy(strategy("AppConfig.NotAStrategy")),
            "DeploymentStrategy",
        ),
    ];
    for (g, resource, named) in cases {
        let rejection = g
            .when(tag(resource, tags(&[("k", "v")])))
            .then_rejected(RejectionKind::NotFound);
        assert_eq!(rejection.detail(), &Detail::Resource { resource: named });
    }
}

#[test]
fn tag_deleted_environment_is_not_found() {
    // Rule: a deleted resource takes no tags.
    given([
        application_created("app1"),
        environment_created("app1", "env1"),
        environment_deleted("app1", "env1"),
    ])
    .when(tag(environment(), tags(&[("k", "v")])))
    .then_rejected(RejectionKind::NotFound);
}

#[test]
fn tag_predefined_strategy_is_invalid() {
    // Rule: predefined strategies cannot be tagged; the rejection names the id.
    let rejection = given([])
        .when(tag(predefined(), tags(&[("k", "v")])))
        .then_invalid("ResourceArn");
    assert!(rejection.message().contains("AppConfig.AllAtOnce"));
}

// --- UntagResource -------------------------------------------------------------------

#[test]
fn untag_resource_removes_the_keys_and_records_what_is_left() {
    // Rule: UntagResource removes the keys; TagsChanged holds the tags left.
    let start = every_resource()
        .when(tag(environment(), tags(&[("a", "1"), ("b", "2")])))
        .then_accepted();
    let after = start
        .when(untag(environment(), &["a", "team", "absent"]))
        .then_events(&[changed(environment(), tags(&[("b", "2")]))]);
    assert_eq!(tags_of(&after, &environment()), tags(&[("b", "2")]));
}

#[test]
fn untag_resource_with_keys_it_does_not_have_appends_nothing() {
    // Rule: removing missing keys succeeds and, changing nothing, appends nothing.
    every_resource()
        .when(untag(user_strategy(), &["absent", "also-absent"]))
        .then_nothing_appended()
        .when(untag(user_strategy(), &[]))
        .then_nothing_appended();
}

#[test]
fn untag_resource_removing_every_tag_records_an_empty_map() {
    // Rule: the map after the change may be empty.
    every_resource()
        .when(untag(application(), &["team"]))
        .then_events(&[changed(application(), BTreeMap::new())]);
}

#[test]
fn untag_resource_with_bad_keys_is_invalid() {
    // Rule: TagKeys holds at most 50 keys of 1 to 128 characters.
    let long = "k".repeat(129);
    let many: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    for keys in [vec![""], vec![long.as_str()], many] {
        every_resource()
            .when(untag(application(), &keys))
            .then_invalid("TagKeys");
    }
}

#[test]
fn untag_missing_resource_is_not_found() {
    // Rule: only an existing resource can be untagged.
    given([application_created("app1")])
        .when(untag(environment(), &["k"]))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn untag_predefined_strategy_is_invalid() {
    // Rule: predefined strategies cannot be untagged either.
    given([])
        .when(untag(predefined(), &["k"]))
        .then_invalid("ResourceArn");
}

// --- replay (E5) ---------------------------------------------------------------------

#[test]
fn check_accepts_tags_changed_on_every_existing_resource_kind() {
    // Rule: what decide produces for tags replays.
    let g = every_resource();
    for resource in [application(), profile(), environment(), user_strategy()] {
        g.replay_accepts(changed(resource, n_tags(50)));
    }
}

#[test]
fn check_refuses_tags_changed_on_missing_or_predefined_resources() {
    // Rule: a tagged resource exists and is not predefined.
    given([]).replay_refuses(
        changed(application(), tags(&[("k", "v")])),
        RejectionKind::NotFound,
    );
    given([application_created("app1")]).replay_refuses(
        changed(profile(), tags(&[("k", "v")])),
        RejectionKind::NotFound,
    );
    given([application_created("app1")]).replay_refuses(
        changed(environment(), tags(&[("k", "v")])),
        RejectionKind::NotFound,
    );
    given([]).replay_refuses(
        changed(user_strategy(), tags(&[("k", "v")])),
        RejectionKind::NotFound,
    );
    given([]).replay_refuses(
        changed(predefined(), BTreeMap::new()),
        RejectionKind::Invalid,
    );
}

#[test]
fn check_refuses_tags_changed_beyond_50_tags_or_with_bad_keys() {
    // Rule: replay re-validates the map after the change.
    let g = every_resource();
    g.replay_refuses(changed(application(), n_tags(51)), RejectionKind::Invalid);
    g.replay_refuses(
        changed(environment(), tags(&[("", "v")])),
        RejectionKind::Invalid,
    );
}
