//! Applications: create, update, delete; their field constraints and quota.

use std::collections::BTreeMap;

use verso_domain::{
    Command, CreateApplication, DeleteApplication, Detail, Event, Limits, RejectionKind,
    UpdateApplication,
};

use crate::support::{
    app, application_created, application_deleted, create_application, given,
    hosted_profile_created, profile_deleted,
};

fn create(c: CreateApplication) -> Command {
    Command::CreateApplication(c)
}

fn named(name: &str) -> Command {
    create(CreateApplication {
        name: name.to_owned(),
        ..create_application("app1")
    })
}

fn described(description: &str) -> Command {
    create(CreateApplication {
        description: Some(description.to_owned()),
        ..create_application("app1")
    })
}

fn tagged(tags: BTreeMap<String, String>) -> Command {
    create(CreateApplication {
        tags,
        ..create_application("app1")
    })
}

fn tag(key: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_owned(), value.to_owned())])
}

fn n_tags(n: usize) -> BTreeMap<String, String> {
    (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect()
}

fn update(id: &str, name: Option<&str>, description: Option<&str>) -> Command {
    Command::UpdateApplication(UpdateApplication {
        id: app(id),
        name: name.map(str::to_owned),
        description: description.map(str::to_owned),
    })
}

fn delete(id: &str) -> Command {
    Command::DeleteApplication(DeleteApplication { id: app(id) })
}

#[test]
fn create_application_records_every_field_given() {
    // Rule: ApplicationCreated carries the command's id, name, description and tags.
    let command = create(CreateApplication {
        name: "payments".to_owned(),
        description: Some("the payments service".to_owned()),
        tags: tag("team", "core"),
        ..create_application("app1")
    });
    given([])
        .when(command)
        .then_events(&[Event::ApplicationCreated {
            application: app("app1"),
            name: "payments".to_owned(),
            description: Some("the payments service".to_owned()),
            tags: tag("team", "core"),
        }]);
}

// --- Name: 1 to 64 characters ---------------------------------------------------------

#[test]
fn create_application_with_empty_name_is_invalid() {
    // Rule: an application Name has at least 1 character.
    given([]).when(named("")).then_invalid("Name");
}

#[test]
fn create_application_with_65_character_name_is_invalid() {
    // Rule: an application Name has at most 64 characters.
    given([]).when(named(&"n".repeat(65))).then_invalid("Name");
}

#[test]
fn create_application_with_64_character_name_is_accepted() {
    // Rule: 64 characters is within the Name bound.
    given([]).when(named(&"n".repeat(64))).then_accepted();
}

#[test]
fn create_application_name_length_counts_characters_not_bytes() {
    // Rule: lengths count characters, as the service model does (64 two-byte chars fit).
    given([]).when(named(&"é".repeat(64))).then_accepted();
    given([]).when(named(&"é".repeat(65))).then_invalid("Name");
}

// --- Description: at most 1024 characters ---------------------------------------------

#[test]
fn create_application_with_1025_character_description_is_invalid() {
    // Rule: a Description has at most 1024 characters.
    given([])
        .when(described(&"d".repeat(1025)))
        .then_invalid("Description");
}

#[test]
fn create_application_with_1024_character_or_empty_description_is_accepted() {
    // Rule: a Description may be empty and may have exactly 1024 characters.
    given([]).when(described(&"d".repeat(1024))).then_accepted();
    given([]).when(described("")).then_accepted();
}

// --- Tags: at most 50; key 1 to 128; value at most 256 -------------------------------

#[test]
fn create_application_with_51_tags_is_invalid() {
    // Rule: at most 50 tags.
    given([]).when(tagged(n_tags(51))).then_invalid("Tags");
}

#[test]
fn create_application_with_50_tags_is_accepted() {
    // Rule: exactly 50 tags is within the bound.
    given([]).when(tagged(n_tags(50))).then_accepted();
}

#[test]
fn create_application_with_empty_tag_key_is_invalid() {
    // Rule: a tag key has at least 1 character.
    given([]).when(tagged(tag("", "v"))).then_invalid("Tags");
}

#[test]
fn create_application_with_129_character_tag_key_is_invalid() {
    // Rule: a tag key has at most 128 characters.
    given([])
        .when(tagged(tag(&"k".repeat(129), "v")))
        .then_invalid("Tags");
}

#[test]
fn create_application_with_128_character_tag_key_is_accepted() {
    // Rule: exactly 128 characters is within the tag key bound.
    given([])
        .when(tagged(tag(&"k".repeat(128), "v")))
        .then_accepted();
}

#[test]
fn create_application_with_257_character_tag_value_is_invalid() {
    // Rule: a tag value has at most 256 characters.
    given([])
        .when(tagged(tag("k", &"v".repeat(257))))
        .then_invalid("Tags");
}

#[test]
fn create_application_with_256_character_or_empty_tag_value_is_accepted() {
    // Rule: a tag value may be empty and may have exactly 256 characters.
    given([])
        .when(tagged(tag("k", &"v".repeat(256))))
        .then_accepted();
    given([]).when(tagged(tag("k", ""))).then_accepted();
}

// --- ids and quota --------------------------------------------------------------------

#[test]
fn create_application_with_taken_id_is_already_exists() {
    // Rule: an application id is unique among live applications.
    given([application_created("app1")])
        .when(create(create_application("app1")))
        .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn create_application_with_id_of_deleted_application_is_accepted() {
    // Rule: uniqueness is among live applications; a deleted application's id is free.
    given([application_created("app1"), application_deleted("app1")])
        .when(create(create_application("app1")))
        .then_accepted();
}

#[test]
fn create_application_beyond_quota_is_quota_exceeded() {
    // Rule: at most `max_applications` applications exist at once.
    let mut limits = Limits::DEFAULT;
    limits.max_applications = 2;
    let rejection = given([application_created("app1"), application_created("app2")])
        .with_limits(limits)
        .when(create(create_application("app3")))
        .then_rejected(RejectionKind::QuotaExceeded);
    assert!(matches!(rejection.detail(), Detail::Quota { limit: 2, .. }));
}

#[test]
fn create_application_below_quota_is_accepted() {
    // Rule: the quota is reached at `max_applications`, not before.
    let mut limits = Limits::DEFAULT;
    limits.max_applications = 2;
    given([application_created("app1")])
        .with_limits(limits)
        .when(create(create_application("app2")))
        .then_accepted();
}

#[test]
fn deleting_an_application_frees_its_quota_slot() {
    // Rule: the quota counts live applications only.
    let mut limits = Limits::DEFAULT;
    limits.max_applications = 2;
    given([
        application_created("app1"),
        application_created("app2"),
        application_deleted("app2"),
    ])
    .with_limits(limits)
    .when(create(create_application("app3")))
    .then_accepted();
}

// --- update ---------------------------------------------------------------------------

#[test]
fn update_application_records_values_after_the_update() {
    // Rule: ApplicationUpdated holds the full values after the update; `None` keeps a field.
    let start = Event::ApplicationCreated {
        application: app("app1"),
        name: "old".to_owned(),
        description: Some("kept".to_owned()),
        tags: BTreeMap::new(),
    };
    given([start])
        .when(update("app1", Some("new"), None))
        .then_events(&[Event::ApplicationUpdated {
            application: app("app1"),
            name: "new".to_owned(),
            description: Some("kept".to_owned()),
        }])
        .when(update("app1", None, Some("changed")))
        .then_events(&[Event::ApplicationUpdated {
            application: app("app1"),
            name: "new".to_owned(),
            description: Some("changed".to_owned()),
        }]);
}

#[test]
fn update_missing_application_is_not_found() {
    // Rule: only an existing application can be updated.
    let rejection = given([])
        .when(update("app1", Some("x"), None))
        .then_rejected(RejectionKind::NotFound);
    assert_eq!(
        rejection.detail(),
        &Detail::Resource {
            resource: "Application"
        }
    );
}

#[test]
fn update_deleted_application_is_not_found() {
    // Rule: a deleted application no longer exists.
    given([application_created("app1"), application_deleted("app1")])
        .when(update("app1", Some("x"), None))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn update_application_with_empty_name_is_invalid() {
    // Rule: an updated Name has 1 to 64 characters too.
    given([application_created("app1")])
        .when(update("app1", Some(""), None))
        .then_invalid("Name");
}

#[test]
fn update_application_with_65_character_name_is_invalid() {
    // Rule: an updated Name has at most 64 characters.
    given([application_created("app1")])
        .when(update("app1", Some(&"n".repeat(65)), None))
        .then_invalid("Name");
}

#[test]
fn update_application_with_1025_character_description_is_invalid() {
    // Rule: an updated Description has at most 1024 characters.
    given([application_created("app1")])
        .when(update("app1", None, Some(&"d".repeat(1025))))
        .then_invalid("Description");
}

// --- delete ---------------------------------------------------------------------------

#[test]
fn delete_application_records_application_deleted() {
    // Rule: an empty application can be deleted.
    given([application_created("app1")])
        .when(delete("app1"))
        .then_events(&[application_deleted("app1")]);
}

#[test]
fn delete_missing_application_is_not_found() {
    // Rule: only an existing application can be deleted.
    given([])
        .when(delete("app1"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_application_twice_is_not_found() {
    // Rule: a deleted application cannot be deleted again.
    given([application_created("app1"), application_deleted("app1")])
        .when(delete("app1"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_application_with_profiles_is_not_empty() {
    // Rule: an application is deleted only once it has no configuration profiles.
    given([
        application_created("app1"),
        hosted_profile_created("app1", "prf1"),
    ])
    .when(delete("app1"))
    .then_rejected(RejectionKind::NotEmpty);
}

#[test]
fn delete_application_after_its_profiles_are_deleted_is_accepted() {
    // Rule: deleting the last profile makes the application deletable.
    given([
        application_created("app1"),
        hosted_profile_created("app1", "prf1"),
        profile_deleted("app1", "prf1"),
    ])
    .when(delete("app1"))
    .then_events(&[application_deleted("app1")]);
}

#[test]
fn delete_application_ignores_profiles_of_other_applications() {
    // Rule: NotEmpty counts the application's own profiles only.
    given([
        application_created("app1"),
        application_created("app2"),
        hosted_profile_created("app2", "prf1"),
    ])
    .when(delete("app1"))
    .then_accepted();
}
