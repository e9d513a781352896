//! Hosted configuration versions: numbering, the `Latest-Version-Number` lock, field
//! constraints, size limits and quota, and what `apply` does with them.

use verso_domain::{
    Command, ContentHash, CreateHostedVersion, Detail, Event, Limits, RejectionKind,
    projection::{AppConfigRead, StreamRead},
};

use crate::support::{
    CONTENT_TYPE, application_created, content, create_version, delete_version, given, hosted,
    hosted_profile_history, profile_created, profile_deleted, v, version_created,
    version_created_with, version_deleted,
};

fn create(c: CreateHostedVersion) -> Command {
    Command::CreateHostedVersion(c)
}

fn put(bytes: &[u8]) -> Command {
    create(create_version("app1", "prf1", bytes))
}

fn put_expecting(bytes: &[u8], latest: u64) -> Command {
    create(CreateHostedVersion {
        latest_version_number: Some(v(latest)),
        ..create_version("app1", "prf1", bytes)
    })
}

fn put_labelled(bytes: &[u8], label: &str) -> Command {
    create(CreateHostedVersion {
        label: Some(label.to_owned()),
        ..create_version("app1", "prf1", bytes)
    })
}

/// The hosted profile with versions 1..=n, contents "1", "2", ...
fn with_versions(n: u64) -> Vec<Event> {
    let mut events = hosted_profile_history();
    for i in 1..=n {
        events.push(version_created("app1", "prf1", i, i.to_string().as_bytes()));
    }
    events
}

// --- numbering -----------------------------------------------------------------------

#[test]
fn first_version_of_a_profile_is_1() {
    // Rule: a stream's first version is number 1.
    given(hosted_profile_history())
        .when(put(b"a"))
        .then_events(&[version_created("app1", "prf1", 1, b"a")]);
}

#[test]
fn next_version_is_last_plus_one() {
    // Rule: each created version is the stream's last assigned number plus one (E4).
    given(with_versions(2))
        .when(put(b"c"))
        .then_events(&[version_created("app1", "prf1", 3, b"c")]);
}

#[test]
fn a_deleted_version_number_is_never_reused() {
    // Rule: deleting the latest version does not free its number (E4).
    given(with_versions(2))
        .and([version_deleted("app1", "prf1", 2)])
        .when(put(b"c"))
        .then_events(&[version_created("app1", "prf1", 3, b"c")]);
}

#[test]
fn numbering_continues_after_every_version_is_deleted() {
    // Rule: a stream with no live version still remembers its last assigned number.
    given(with_versions(2))
        .and([
            version_deleted("app1", "prf1", 1),
            version_deleted("app1", "prf1", 2),
        ])
        .when(put(b"c"))
        .then_events(&[version_created("app1", "prf1", 3, b"c")]);
}

#[test]
fn versions_are_numbered_per_profile() {
    // Rule: each profile's hosted versions are their own stream.
    given(with_versions(2))
        .and([profile_created("app1", "prf2", "hosted")])
        .when(create(create_version("app1", "prf2", b"x")))
        .then_events(&[version_created("app1", "prf2", 1, b"x")]);
}

#[test]
fn unchanged_content_still_appends_a_new_version() {
    // Rule: AppConfig's unchanged-content policy is to append a new version anyway.
    given(with_versions(1))
        .when(put(b"1"))
        .then_events(&[version_created("app1", "prf1", 2, b"1")]);
}

// --- the Latest-Version-Number lock ---------------------------------------------------

#[test]
fn create_version_with_current_latest_version_number_is_accepted() {
    // Rule: the lock passes when it names the latest live version; it is recorded (E5).
    given(with_versions(2))
        .when(put_expecting(b"c", 2))
        .then_events(&[version_created_with("app1", "prf1", 3, b"c", None, Some(2))]);
}

#[test]
fn create_version_with_stale_latest_version_number_is_version_mismatch() {
    // Rule: a lower Latest-Version-Number than the latest is a conflict.
    let rejection = given(with_versions(2))
        .when(put_expecting(b"c", 1))
        .then_rejected(RejectionKind::VersionMismatch);
    assert_eq!(
        rejection.detail(),
        &Detail::Version {
            expected: v(1),
            actual: v(2)
        }
    );
}

#[test]
fn create_version_with_future_latest_version_number_is_version_mismatch() {
    // Rule: a higher Latest-Version-Number than the latest is a conflict too.
    let rejection = given(with_versions(2))
        .when(put_expecting(b"c", 3))
        .then_rejected(RejectionKind::VersionMismatch);
    assert_eq!(
        rejection.detail(),
        &Detail::Version {
            expected: v(3),
            actual: v(2)
        }
    );
}

#[test]
fn create_version_expecting_0_on_empty_stream_is_accepted() {
    // Rule: 0 names "no version yet".
    given(hosted_profile_history())
        .when(put_expecting(b"a", 0))
        .then_events(&[version_created_with("app1", "prf1", 1, b"a", None, Some(0))]);
}

#[test]
fn create_version_expecting_0_on_non_empty_stream_is_version_mismatch() {
    // Rule: 0 is stale once a live version exists.
    given(with_versions(1))
        .when(put_expecting(b"b", 0))
        .then_rejected(RejectionKind::VersionMismatch);
}

#[test]
fn create_version_expecting_1_on_empty_stream_is_version_mismatch() {
    // Rule: the lock compares against 0 when the stream has no version.
    let rejection = given(hosted_profile_history())
        .when(put_expecting(b"a", 1))
        .then_rejected(RejectionKind::VersionMismatch);
    assert_eq!(
        rejection.detail(),
        &Detail::Version {
            expected: v(1),
            actual: v(0)
        }
    );
}

#[test]
fn deleting_the_latest_version_makes_the_lock_compare_against_the_previous_live_one() {
    // Rule: the lock compares against the latest *live* version.
    let after_delete = given(with_versions(3)).and([version_deleted("app1", "prf1", 3)]);
    after_delete
        .clone()
        .when(put_expecting(b"d", 3))
        .then_rejected(RejectionKind::VersionMismatch);
    after_delete
        .when(put_expecting(b"d", 2))
        .then_events(&[version_created_with("app1", "prf1", 4, b"d", None, Some(2))]);
}

#[test]
fn deleting_a_middle_version_leaves_the_lock_on_the_latest() {
    // Rule: only the latest live version matters to the lock.
    given(with_versions(3))
        .and([version_deleted("app1", "prf1", 2)])
        .when(put_expecting(b"d", 3))
        .then_accepted();
}

#[test]
fn lock_expecting_0_passes_once_every_version_is_deleted() {
    // Rule: with no live version the latest is 0 again, though numbering goes on.
    given(with_versions(2))
        .and([
            version_deleted("app1", "prf1", 2),
            version_deleted("app1", "prf1", 1),
        ])
        .when(put_expecting(b"c", 0))
        .then_events(&[version_created_with("app1", "prf1", 3, b"c", None, Some(0))]);
}

// --- where versions may be created ---------------------------------------------------

#[test]
fn create_version_on_profile_not_hosted_is_invalid() {
    // Rule: hosted versions exist only on profiles whose LocationUri is "hosted".
    given([
        application_created("app1"),
        profile_created("app1", "prf1", "s3://bucket/key"),
    ])
    .when(put(b"a"))
    .then_invalid("ConfigurationProfileId");
}

#[test]
fn create_version_on_location_hosted_in_other_case_is_invalid() {
    // Rule: the "hosted" LocationUri is matched exactly.
    given([
        application_created("app1"),
        profile_created("app1", "prf1", "Hosted"),
    ])
    .when(put(b"a"))
    .then_invalid("ConfigurationProfileId");
}

#[test]
fn create_version_in_missing_application_is_not_found() {
    // Rule: a version belongs to an existing application.
    given([])
        .when(put(b"a"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn create_version_in_missing_profile_is_not_found() {
    // Rule: a version belongs to an existing profile.
    given([application_created("app1")])
        .when(put(b"a"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn create_version_in_deleted_profile_is_not_found() {
    // Rule: a deleted profile takes no new versions.
    given(hosted_profile_history())
        .and([profile_deleted("app1", "prf1")])
        .when(put(b"a"))
        .then_rejected(RejectionKind::NotFound);
}

// --- ContentType, Description, VersionLabel ------------------------------------------

fn with_content_type(content_type: &str) -> Command {
    create(CreateHostedVersion {
        content_type: content_type.to_owned(),
        ..create_version("app1", "prf1", b"a")
    })
}

#[test]
fn create_version_with_empty_content_type_is_invalid() {
    // Rule: a ContentType has at least 1 character.
    given(hosted_profile_history())
        .when(with_content_type(""))
        .then_invalid("ContentType");
}

#[test]
fn create_version_with_256_character_content_type_is_invalid() {
    // Rule: a ContentType has at most 255 characters.
    given(hosted_profile_history())
        .when(with_content_type(&"x".repeat(256)))
        .then_invalid("ContentType");
}

#[test]
fn create_version_with_255_character_content_type_is_accepted() {
    // Rule: exactly 255 characters is within the ContentType bound.
    given(hosted_profile_history())
        .when(with_content_type(&"x".repeat(255)))
        .then_accepted();
}

#[test]
fn create_version_with_1025_character_description_is_invalid() {
    // Rule: a version Description has at most 1024 characters.
    let command = create(CreateHostedVersion {
        description: Some("d".repeat(1025)),
        ..create_version("app1", "prf1", b"a")
    });
    given(hosted_profile_history())
        .when(command)
        .then_invalid("Description");
}

#[test]
fn create_version_with_empty_label_is_invalid() {
    // Rule: a VersionLabel has at least 1 character.
    given(hosted_profile_history())
        .when(put_labelled(b"a", ""))
        .then_invalid("VersionLabel");
}

#[test]
fn create_version_with_65_character_label_is_invalid() {
    // Rule: a VersionLabel has at most 64 characters.
    given(hosted_profile_history())
        .when(put_labelled(b"a", &"l".repeat(65)))
        .then_invalid("VersionLabel");
}

#[test]
fn create_version_with_all_digit_label_is_invalid() {
    // Rule: a VersionLabel contains a non-digit, so it never reads as a version number.
    given(hosted_profile_history())
        .when(put_labelled(b"a", "123"))
        .then_invalid("VersionLabel");
}

#[test]
fn create_version_with_labels_containing_a_non_digit_is_accepted() {
    // Rule: one non-digit anywhere is enough, up to 64 characters.
    for label in ["v1", "1.0", "2024-01-01", "a", &"l".repeat(64)] {
        given(hosted_profile_history())
            .when(put_labelled(b"a", label))
            .then_events(&[version_created_with(
                "app1",
                "prf1",
                1,
                b"a",
                Some(label),
                None,
            )]);
    }
}

// --- PayloadTooLarge and the hosted bytes quota --------------------------------------

fn small_content_limit(max: u64) -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_content_bytes = max;
    limits
}

#[test]
fn create_version_one_byte_over_content_limit_is_payload_too_large() {
    // Rule: content above `max_content_bytes` is refused.
    let rejection = given(hosted_profile_history())
        .with_limits(small_content_limit(8))
        .when(put(&[b'x'; 9]))
        .then_rejected(RejectionKind::PayloadTooLarge);
    assert_eq!(rejection.detail(), &Detail::Size { limit: 8, size: 9 });
}

#[test]
fn create_version_exactly_at_content_limit_is_accepted() {
    // Rule: content of exactly `max_content_bytes` fits.
    given(hosted_profile_history())
        .with_limits(small_content_limit(8))
        .when(put(&[b'x'; 8]))
        .then_accepted();
}

#[test]
fn create_version_with_empty_content_is_accepted() {
    // Rule: empty content is a valid version.
    given(hosted_profile_history())
        .when(put(b""))
        .then_events(&[version_created("app1", "prf1", 1, b"")]);
}

fn small_hosted_quota(max: u64) -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_hosted_bytes = max;
    limits
}

#[test]
fn create_version_beyond_hosted_bytes_quota_is_quota_exceeded() {
    // Rule: live hosted versions hold at most `max_hosted_bytes` in total.
    given(hosted_profile_history())
        .and([version_created("app1", "prf1", 1, &[b'x'; 6])])
        .with_limits(small_hosted_quota(10))
        .when(put(&[b'y'; 5]))
        .then_rejected(RejectionKind::QuotaExceeded);
}

#[test]
fn create_version_filling_hosted_bytes_quota_exactly_is_accepted() {
    // Rule: the total may reach `max_hosted_bytes` exactly.
    given(hosted_profile_history())
        .and([version_created("app1", "prf1", 1, &[b'x'; 6])])
        .with_limits(small_hosted_quota(10))
        .when(put(&[b'y'; 4]))
        .then_accepted();
}

#[test]
fn hosted_bytes_quota_counts_every_profile() {
    // Rule: the hosted bytes quota is store-wide, across applications and profiles.
    given(hosted_profile_history())
        .and([
            application_created("app2"),
            profile_created("app2", "prf2", "hosted"),
            version_created("app2", "prf2", 1, &[b'x'; 6]),
        ])
        .with_limits(small_hosted_quota(10))
        .when(put(&[b'y'; 5]))
        .then_rejected(RejectionKind::QuotaExceeded);
}

#[test]
fn deleting_a_version_frees_hosted_bytes_quota() {
    // Rule: the quota counts live versions only.
    given(hosted_profile_history())
        .and([
            version_created("app1", "prf1", 1, &[b'x'; 6]),
            version_deleted("app1", "prf1", 1),
        ])
        .with_limits(small_hosted_quota(10))
        .when(put(&[b'y'; 10]))
        .then_accepted();
}

// --- delete --------------------------------------------------------------------------

#[test]
fn delete_version_records_version_deleted() {
    // Rule: a live version can be deleted.
    given(with_versions(2))
        .when(delete_version("app1", "prf1", 1))
        .then_events(&[version_deleted("app1", "prf1", 1)]);
}

#[test]
fn delete_missing_version_is_not_found() {
    // Rule: only a version that was created can be deleted.
    given(with_versions(2))
        .when(delete_version("app1", "prf1", 3))
        .then_rejected(RejectionKind::NotFound);
    given(with_versions(2))
        .when(delete_version("app1", "prf1", 0))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_version_twice_is_not_found() {
    // Rule: a deleted version cannot be deleted again.
    given(with_versions(2))
        .and([version_deleted("app1", "prf1", 1)])
        .when(delete_version("app1", "prf1", 1))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_version_of_missing_profile_or_application_is_not_found() {
    // Rule: a version is found only through its existing application and profile.
    given([])
        .when(delete_version("app1", "prf1", 1))
        .then_rejected(RejectionKind::NotFound);
    given([application_created("app1")])
        .when(delete_version("app1", "prf1", 1))
        .then_rejected(RejectionKind::NotFound);
}

// --- apply: what deleting a version does to the projections ---------------------------

#[test]
fn deleting_a_version_removes_its_label_content_use_and_hosted_bytes() {
    // Rule: a deleted version leaves the label view, the content-hash view and the quota.
    let stream = hosted("app1", "prf1");
    let hash = ContentHash::of(b"abcd");
    let created = given(hosted_profile_history())
        .when(put_labelled(b"abcd", "prod"))
        .then_accepted();
    assert_eq!(
        created.state().version_by_label(&stream, "prod"),
        Some(v(1))
    );
    assert_eq!(
        created.state().content_uses(hash).collect::<Vec<_>>(),
        vec![(&stream, v(1))]
    );
    assert_eq!(created.state().hosted_bytes(), 4);

    let deleted = created
        .when(delete_version("app1", "prf1", 1))
        .then_accepted();
    let state = deleted.state();
    assert_eq!(state.version_by_label(&stream, "prod"), None);
    assert_eq!(state.content_uses(hash).count(), 0);
    assert_eq!(state.hosted_bytes(), 0);
    let record = state
        .version(&stream, v(1))
        .expect("a deleted version keeps its record");
    assert!(!record.is_live());
    assert_eq!(state.stream(&stream).map(|h| h.latest_live), Some(None));
}

#[test]
fn deleting_one_of_two_versions_with_equal_content_keeps_the_other_use() {
    // Rule: the content-hash view tracks each (stream, version) that uses a content.
    let stream = hosted("app1", "prf1");
    let state = given(hosted_profile_history())
        .and([
            version_created("app1", "prf1", 1, b"same"),
            version_created("app1", "prf1", 2, b"same"),
            version_deleted("app1", "prf1", 1),
        ])
        .state()
        .clone();
    assert_eq!(
        state
            .content_uses(ContentHash::of(b"same"))
            .collect::<Vec<_>>(),
        vec![(&stream, v(2))]
    );
    assert_eq!(state.hosted_bytes(), 4);
}

#[test]
fn version_by_label_picks_the_newest_live_version_carrying_it() {
    // Rule: duplicate labels are allowed; a label resolves to the newest live version.
    let stream = hosted("app1", "prf1");
    let g = given(hosted_profile_history()).and([
        version_created_with("app1", "prf1", 1, b"a", Some("prod"), None),
        version_created_with("app1", "prf1", 2, b"b", Some("prod"), None),
        version_created_with("app1", "prf1", 3, b"c", Some("beta"), None),
    ]);
    assert_eq!(g.state().version_by_label(&stream, "prod"), Some(v(2)));
    assert_eq!(g.state().version_by_label(&stream, "beta"), Some(v(3)));
    assert_eq!(g.state().version_by_label(&stream, "prodx"), None);
    assert_eq!(
        g.state().version_by_label(&hosted("app1", "prf2"), "prod"),
        None
    );

    let g = g.and([version_deleted("app1", "prf1", 2)]);
    assert_eq!(g.state().version_by_label(&stream, "prod"), Some(v(1)));

    let g = g.and([version_deleted("app1", "prf1", 1)]);
    assert_eq!(g.state().version_by_label(&stream, "prod"), None);
    assert_eq!(g.state().version_by_label(&stream, "beta"), Some(v(3)));
}

#[test]
fn version_record_keeps_what_the_command_and_the_record_said() {
    // Rule: a version's record holds its content ref, type, label and where it was recorded.
    let stream = hosted("app1", "prf1");
    let g = given(hosted_profile_history())
        .when(create(CreateHostedVersion {
            description: Some("first".to_owned()),
            label: Some("v1".to_owned()),
            ..create_version("app1", "prf1", b"{}")
        }))
        .then_accepted();
    let record = g.state().version(&stream, v(1)).expect("version 1 exists");
    assert_eq!(record.content, content(b"{}").to_ref());
    assert_eq!(record.content_type.as_deref(), Some(CONTENT_TYPE));
    assert_eq!(record.description.as_deref(), Some("first"));
    assert_eq!(record.label.as_deref(), Some("v1"));
    assert_eq!(record.position.get(), 3);
    assert_eq!(record.actor.as_deref(), Some("tester"));
    assert!(record.is_live());
}
