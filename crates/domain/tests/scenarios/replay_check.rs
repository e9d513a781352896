//! `check`: replay refuses a recorded event that `decide` could not have produced from
//! the state before it (E5). For each event kind, a valid history passes and forged
//! events fail.

use std::collections::BTreeMap;

use verso_domain::{
    ContentHash, Event, IdempotencyKey, MemState, RejectionKind, ValidatorKind, ValidatorRef,
    Violation, check, projection::AppConfigRead,
};

use crate::support::{
    Given, app, application_created, application_deleted, content, given, hosted_profile_created,
    hosted_profile_history, prof, profile_created, profile_deleted, version_created,
    version_created_with, version_deleted,
};

#[track_caller]
fn passes(g: &Given, event: Event) {
    if let Err(violation) = g.when_replayed(event.clone()) {
        panic!("check refused {event:?}: {violation}");
    }
}

/// Asserts `check` refuses `event` after `g`, by a rule of `kind`.
#[track_caller]
fn fails(g: &Given, event: Event, kind: RejectionKind) -> Violation {
    match g.when_replayed(event.clone()) {
        Ok(()) => panic!("check accepted the forged event {event:?}"),
        Err(violation) => {
            assert_eq!(violation.kind(), kind, "{violation}: refused {event:?}");
            violation
        }
    }
}

/// Replays `events` as replay does: check each against the state before it, then apply.
fn replay(events: &[Event]) -> Result<MemState, (usize, Violation)> {
    let mut g = given([]);
    for (i, event) in events.iter().enumerate() {
        let recorded = g.recorded(event.clone());
        check(g.state(), &recorded).map_err(|v| (i, v))?;
        g.record(event.clone());
    }
    Ok(g.state().clone())
}

fn application_updated(id: &str, name: &str) -> Event {
    Event::ApplicationUpdated {
        application: app(id),
        name: name.to_owned(),
        description: None,
    }
}

fn profile_updated(application: &str, profile: &str, validators: usize) -> Event {
    Event::ProfileUpdated {
        application: app(application),
        profile: prof(profile),
        name: "renamed".to_owned(),
        description: None,
        retrieval_role_arn: None,
        validators: vec![
            ValidatorRef {
                kind: ValidatorKind::JsonSchema,
                content: content(b"{}").to_ref(),
            };
            validators
        ],
        kms_key_identifier: None,
    }
}

fn with_versions(n: u64) -> Given {
    let mut events = hosted_profile_history();
    for i in 1..=n {
        events.push(version_created("app1", "prf1", i, i.to_string().as_bytes()));
    }
    given(events)
}

/// Sets a field of a `VersionCreated` built by the support helpers.
fn forged_version(version: u64, edit: impl FnOnce(&mut Event)) -> Event {
    let mut event = version_created("app1", "prf1", version, b"x");
    edit(&mut event);
    event
}

#[test]
fn a_history_of_every_event_kind_replays() {
    // Rule: every event decide can produce passes check in the state it was decided on.
    let history = [
        application_created("app1"),
        application_updated("app1", "renamed"),
        hosted_profile_created("app1", "prf1"),
        profile_updated("app1", "prf1", 2),
        version_created("app1", "prf1", 1, b"a"),
        version_created_with("app1", "prf1", 2, b"b", Some("prod"), Some(1)),
        version_deleted("app1", "prf1", 2),
        version_created_with("app1", "prf1", 3, b"c", None, Some(1)),
        version_deleted("app1", "prf1", 1),
        version_deleted("app1", "prf1", 3),
        profile_deleted("app1", "prf1"),
        application_deleted("app1"),
        application_created("app1"),
    ];
    let state = replay(&history).expect("a valid history replays");
    assert_eq!(state.application_count(), 1);
}

#[test]
fn replay_stops_at_the_first_forged_event() {
    // Rule: replay names the first event that breaks an invariant.
    let history = [
        application_created("app1"),
        hosted_profile_created("app1", "prf1"),
        version_created("app1", "prf1", 1, b"a"),
        version_created("app1", "prf1", 3, b"c"),
        version_created("app1", "prf1", 4, b"d"),
    ];
    let (index, violation) = replay(&history).expect_err("version 3 after 1 is forged");
    assert_eq!(
        (index, violation.kind()),
        (3, RejectionKind::VersionMismatch),
        "{violation}"
    );
}

// --- ApplicationCreated --------------------------------------------------------------

#[test]
fn check_accepts_application_created_with_fresh_id() {
    // Rule: an application may be created when its id is free.
    passes(&given([]), application_created("app1"));
    passes(
        &given([application_created("app1"), application_deleted("app1")]),
        application_created("app1"),
    );
}

#[test]
fn check_refuses_application_created_twice() {
    // Rule: an application id is created once while it lives.
    fails(
        &given([application_created("app1")]),
        application_created("app1"),
        RejectionKind::AlreadyExists,
    );
}

#[test]
fn check_refuses_application_created_with_invalid_fields() {
    // Rule: replay re-validates the fields decide validated.
    for event in [
        Event::ApplicationCreated {
            application: app("app1"),
            name: String::new(),
            description: None,
            tags: BTreeMap::new(),
        },
        Event::ApplicationCreated {
            application: app("app1"),
            name: "n".to_owned(),
            description: Some("d".repeat(1025)),
            tags: BTreeMap::new(),
        },
        Event::ApplicationCreated {
            application: app("app1"),
            name: "n".to_owned(),
            description: None,
            tags: (0..51).map(|i| (format!("k{i}"), String::new())).collect(),
        },
    ] {
        fails(&given([]), event, RejectionKind::Invalid);
    }
}

// --- ApplicationUpdated --------------------------------------------------------------

#[test]
fn check_accepts_application_updated_on_live_application() {
    // Rule: a live application may be updated.
    passes(
        &given([application_created("app1")]),
        application_updated("app1", "x"),
    );
}

#[test]
fn check_refuses_application_updated_on_missing_or_deleted_application() {
    // Rule: an event names an application that exists.
    fails(
        &given([]),
        application_updated("app1", "x"),
        RejectionKind::NotFound,
    );
    fails(
        &given([application_created("app1"), application_deleted("app1")]),
        application_updated("app1", "x"),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_application_updated_with_invalid_name() {
    // Rule: replay re-validates the updated name.
    fails(
        &given([application_created("app1")]),
        application_updated("app1", ""),
        RejectionKind::Invalid,
    );
}

// --- ApplicationDeleted --------------------------------------------------------------

#[test]
fn check_accepts_application_deleted_when_empty() {
    // Rule: an application without profiles may be deleted.
    passes(
        &given([application_created("app1")]),
        application_deleted("app1"),
    );
}

#[test]
fn check_refuses_application_deleted_when_missing_or_already_deleted() {
    // Rule: only a live application can be deleted.
    fails(
        &given([]),
        application_deleted("app1"),
        RejectionKind::NotFound,
    );
    fails(
        &given([application_created("app1"), application_deleted("app1")]),
        application_deleted("app1"),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_application_deleted_with_profiles() {
    // Rule: an application with profiles is never deleted.
    fails(
        &given(hosted_profile_history()),
        application_deleted("app1"),
        RejectionKind::NotEmpty,
    );
}

// --- ProfileCreated ------------------------------------------------------------------

#[test]
fn check_accepts_profile_created_in_live_application() {
    // Rule: a profile may be created in a live application under a free id.
    passes(
        &given([application_created("app1")]),
        hosted_profile_created("app1", "prf1"),
    );
}

#[test]
fn check_refuses_profile_created_in_missing_or_deleted_application() {
    // Rule: a profile belongs to a live application.
    fails(
        &given([]),
        hosted_profile_created("app1", "prf1"),
        RejectionKind::NotFound,
    );
    fails(
        &given([application_created("app1"), application_deleted("app1")]),
        hosted_profile_created("app1", "prf1"),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_profile_created_twice() {
    // Rule: a profile id is created once while it lives.
    fails(
        &given(hosted_profile_history()),
        hosted_profile_created("app1", "prf1"),
        RejectionKind::AlreadyExists,
    );
}

#[test]
fn check_refuses_profile_created_with_three_validators_or_bad_name() {
    // Rule: replay re-validates the validator count, name and LocationUri.
    let g = given([application_created("app1")]);
    let forged = |edit: fn(&mut Event)| {
        let mut event = hosted_profile_created("app1", "prf1");
        edit(&mut event);
        event
    };
    fails(
        &g,
        forged(|e| {
            if let Event::ProfileCreated { validators, .. } = e {
                *validators = vec![
                    ValidatorRef {
                        kind: ValidatorKind::JsonSchema,
                        content: content(b"{}").to_ref(),
                    };
                    3
                ];
            }
        }),
        RejectionKind::Invalid,
    );
    fails(
        &g,
        forged(|e| {
            if let Event::ProfileCreated { name, .. } = e {
                *name = "n".repeat(129);
            }
        }),
        RejectionKind::Invalid,
    );
    fails(
        &g,
        forged(|e| {
            if let Event::ProfileCreated { location_uri, .. } = e {
                location_uri.clear();
            }
        }),
        RejectionKind::Invalid,
    );
}

// --- ProfileUpdated ------------------------------------------------------------------

#[test]
fn check_accepts_profile_updated_on_live_profile() {
    // Rule: a live profile may be updated.
    passes(
        &given(hosted_profile_history()),
        profile_updated("app1", "prf1", 2),
    );
}

#[test]
fn check_refuses_profile_updated_on_missing_profile() {
    // Rule: an event names a profile that exists.
    fails(
        &given([application_created("app1")]),
        profile_updated("app1", "prf1", 0),
        RejectionKind::NotFound,
    );
    fails(
        &given([]),
        profile_updated("app1", "prf1", 0),
        RejectionKind::NotFound,
    );
    fails(
        &given(hosted_profile_history()).and([profile_deleted("app1", "prf1")]),
        profile_updated("app1", "prf1", 0),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_profile_updated_with_three_validators() {
    // Rule: a profile never has more than 2 validators.
    fails(
        &given(hosted_profile_history()),
        profile_updated("app1", "prf1", 3),
        RejectionKind::Invalid,
    );
}

// --- ProfileDeleted ------------------------------------------------------------------

#[test]
fn check_accepts_profile_deleted_without_live_versions() {
    // Rule: a profile whose versions are all deleted may be deleted.
    passes(
        &given(hosted_profile_history()),
        profile_deleted("app1", "prf1"),
    );
    passes(
        &with_versions(1).and([version_deleted("app1", "prf1", 1)]),
        profile_deleted("app1", "prf1"),
    );
}

#[test]
fn check_refuses_profile_deleted_with_live_versions() {
    // Rule: a profile with live hosted versions is never deleted.
    fails(
        &with_versions(1),
        profile_deleted("app1", "prf1"),
        RejectionKind::NotEmpty,
    );
}

#[test]
fn check_refuses_profile_deleted_when_missing_or_already_deleted() {
    // Rule: only a live profile can be deleted.
    fails(
        &given([application_created("app1")]),
        profile_deleted("app1", "prf1"),
        RejectionKind::NotFound,
    );
    fails(
        &given(hosted_profile_history()).and([profile_deleted("app1", "prf1")]),
        profile_deleted("app1", "prf1"),
        RejectionKind::NotFound,
    );
}

// --- VersionCreated ------------------------------------------------------------------

#[test]
fn check_accepts_version_created_with_the_next_number() {
    // Rule: a created version is the stream's last assigned number plus one.
    passes(
        &given(hosted_profile_history()),
        version_created("app1", "prf1", 1, b"a"),
    );
    passes(&with_versions(2), version_created("app1", "prf1", 3, b"c"));
    passes(
        &with_versions(2).and([version_deleted("app1", "prf1", 2)]),
        version_created("app1", "prf1", 3, b"c"),
    );
}

#[test]
fn check_refuses_version_number_skipping_one() {
    // Rule: versions increase by exactly one (v1 then v3 is forged).
    fails(
        &with_versions(1),
        version_created("app1", "prf1", 3, b"c"),
        RejectionKind::VersionMismatch,
    );
}

#[test]
fn check_refuses_version_1_recorded_twice() {
    // Rule: a version number is handed out once.
    fails(
        &with_versions(1),
        version_created("app1", "prf1", 1, b"again"),
        RejectionKind::VersionMismatch,
    );
}

#[test]
fn check_refuses_reusing_a_deleted_version_number() {
    // Rule: a deleted version's number is never handed out again (E4).
    fails(
        &with_versions(2).and([version_deleted("app1", "prf1", 2)]),
        version_created("app1", "prf1", 2, b"b"),
        RejectionKind::VersionMismatch,
    );
}

#[test]
fn check_refuses_version_0() {
    // Rule: version numbers start at 1.
    fails(
        &given(hosted_profile_history()),
        version_created("app1", "prf1", 0, b"a"),
        RejectionKind::VersionMismatch,
    );
}

#[test]
fn check_refuses_version_created_whose_expected_latest_did_not_match() {
    // Rule: the recorded Latest-Version-Number precondition is checked again on replay.
    let g = with_versions(2);
    fails(
        &g,
        version_created_with("app1", "prf1", 3, b"c", None, Some(1)),
        RejectionKind::VersionMismatch,
    );
    fails(
        &g,
        version_created_with("app1", "prf1", 3, b"c", None, Some(3)),
        RejectionKind::VersionMismatch,
    );
    passes(
        &g,
        version_created_with("app1", "prf1", 3, b"c", None, Some(2)),
    );
}

#[test]
fn check_refuses_version_created_whose_expected_content_did_not_match() {
    // Rule: the recorded expected-content precondition is checked again on replay.
    let g = with_versions(2);
    let expecting = |hash: ContentHash| {
        forged_version(3, |e| {
            if let Event::VersionCreated {
                expected_content, ..
            } = e
            {
                *expected_content = Some(hash);
            }
        })
    };
    fails(
        &g,
        expecting(ContentHash::of(b"1")),
        RejectionKind::ContentMismatch,
    );
    passes(&g, expecting(ContentHash::of(b"2")));
    fails(
        &given(hosted_profile_history()),
        {
            let mut event = version_created("app1", "prf1", 1, b"x");
            if let Event::VersionCreated {
                expected_content, ..
            } = &mut event
            {
                *expected_content = Some(ContentHash::of(b""));
            }
            event
        },
        RejectionKind::ContentMismatch,
    );
}

#[test]
fn check_refuses_version_created_in_missing_or_deleted_application() {
    // Rule: a version belongs to a live application.
    fails(
        &given([]),
        version_created("app1", "prf1", 1, b"a"),
        RejectionKind::NotFound,
    );
    fails(
        &given([application_created("app1"), application_deleted("app1")]),
        version_created("app1", "prf1", 1, b"a"),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_version_created_in_missing_or_deleted_profile() {
    // Rule: a version belongs to a live profile.
    fails(
        &given([application_created("app1")]),
        version_created("app1", "prf1", 1, b"a"),
        RejectionKind::NotFound,
    );
    fails(
        &given(hosted_profile_history()).and([profile_deleted("app1", "prf1")]),
        version_created("app1", "prf1", 1, b"a"),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_version_created_on_profile_not_hosted() {
    // Rule: hosted versions exist only on profiles whose LocationUri is "hosted".
    fails(
        &given([
            application_created("app1"),
            profile_created("app1", "prf1", "s3://bucket/key"),
        ]),
        version_created("app1", "prf1", 1, b"a"),
        RejectionKind::Invalid,
    );
}

#[test]
fn check_refuses_version_created_with_invalid_label_or_content_type() {
    // Rule: replay re-validates VersionLabel and ContentType.
    let g = given(hosted_profile_history());
    fails(
        &g,
        version_created_with("app1", "prf1", 1, b"a", Some("42"), None),
        RejectionKind::Invalid,
    );
    fails(
        &g,
        forged_version(1, |e| {
            if let Event::VersionCreated { content_type, .. } = e {
                *content_type = Some(String::new());
            }
        }),
        RejectionKind::Invalid,
    );
}

#[test]
fn check_refuses_an_idempotency_token_appended_twice() {
    // Rule: a token that answered once answers every replay; it never appends again.
    let with_token = |version: u64, digest: &[u8]| {
        forged_version(version, |e| {
            if let Event::VersionCreated { idempotency, .. } = e {
                *idempotency = Some(IdempotencyKey {
                    token: "tok".to_owned(),
                    digest: ContentHash::of(digest),
                });
            }
        })
    };
    let g = given(hosted_profile_history());
    passes(&g, with_token(1, b"r1"));
    let g = g.and([with_token(1, b"r1")]);
    fails(&g, with_token(2, b"r1"), RejectionKind::AlreadyExists);
    fails(&g, with_token(2, b"r2"), RejectionKind::AlreadyExists);
}

// --- VersionDeleted ------------------------------------------------------------------

#[test]
fn check_accepts_version_deleted_of_a_live_version() {
    // Rule: any live version may be deleted, latest or not.
    let g = with_versions(3);
    passes(&g, version_deleted("app1", "prf1", 1));
    passes(&g, version_deleted("app1", "prf1", 3));
}

#[test]
fn check_refuses_version_deleted_of_a_deleted_version() {
    // Rule: a version is deleted once.
    fails(
        &with_versions(2).and([version_deleted("app1", "prf1", 1)]),
        version_deleted("app1", "prf1", 1),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_version_deleted_of_a_version_never_created() {
    // Rule: only a created version can be deleted.
    fails(
        &with_versions(2),
        version_deleted("app1", "prf1", 3),
        RejectionKind::NotFound,
    );
    fails(
        &given([]),
        version_deleted("app1", "prf1", 1),
        RejectionKind::NotFound,
    );
}

#[test]
fn check_refuses_version_deleted_in_another_stream() {
    // Rule: versions are per stream; prf2's version 1 is not prf1's.
    let g = with_versions(1).and([hosted_profile_created("app1", "prf2")]);
    fails(
        &g,
        version_deleted("app1", "prf2", 1),
        RejectionKind::NotFound,
    );
}

// --- Gaps: fields decide validates that check does not re-validate -----------------
//
// `check`'s contract (lib.rs) is that each recorded event is one `decide` could have
// produced. Each event below could not have been (decide refuses the field). The tests
// list every forged field that check lets through or refuses by another rule than the
// field's own.

/// A named edit that makes an event one `decide` would never produce.
type Forgery = (&'static str, fn(&mut Event));

/// The names of the `forgeries` (each named for the field it forges) that `check` does
/// not refuse against `g` by that field's rule: accepted, or refused for another reason
/// (another kind than `Invalid`, or another field's rule).
fn missed_forgeries(g: &Given, base: &Event, forgeries: &[Forgery]) -> Vec<&'static str> {
    forgeries
        .iter()
        .filter(|(name, edit)| {
            let mut event = base.clone();
            edit(&mut event);
            match g.when_replayed(event) {
                Ok(()) => true,
                Err(v) => {
                    v.kind() != RejectionKind::Invalid
                        || !v.message().starts_with(&format!("{name}:"))
                }
            }
        })
        .map(|(name, _)| *name)
        .collect()
}

#[test]
fn check_refuses_profile_created_with_fields_decide_would_refuse() {
    // Rule (E5): replay refuses a ProfileCreated that decide could not have produced.
    let forgeries: [Forgery; 5] = [
        ("Description", |e| {
            if let Event::ProfileCreated { description, .. } = e {
                *description = Some("d".repeat(1025));
            }
        }),
        ("RetrievalRoleArn", |e| {
            if let Event::ProfileCreated {
                retrieval_role_arn, ..
            } = e
            {
                *retrieval_role_arn = Some("not an arn".to_owned());
            }
        }),
        ("Type", |e| {
            if let Event::ProfileCreated { profile_type, .. } = e {
                *profile_type = Some("_bad".to_owned());
            }
        }),
        ("KmsKeyIdentifier", |e| {
            if let Event::ProfileCreated {
                kms_key_identifier, ..
            } = e
            {
                *kms_key_identifier = Some(String::new());
            }
        }),
        ("Tags", |e| {
            if let Event::ProfileCreated { tags, .. } = e {
                *tags = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
            }
        }),
    ];
    let missed = missed_forgeries(
        &given([application_created("app1")]),
        &hosted_profile_created("app1", "prf1"),
        &forgeries,
    );
    assert_eq!(
        missed,
        Vec::<&str>::new(),
        "forged fields check did not refuse by their rule"
    );
}

#[test]
fn check_refuses_profile_updated_with_fields_decide_would_refuse() {
    // Rule (E5): replay refuses a ProfileUpdated that decide could not have produced.
    let forgeries: [Forgery; 3] = [
        ("Description", |e| {
            if let Event::ProfileUpdated { description, .. } = e {
                *description = Some("d".repeat(1025));
            }
        }),
        ("RetrievalRoleArn", |e| {
            if let Event::ProfileUpdated {
                retrieval_role_arn, ..
            } = e
            {
                *retrieval_role_arn = Some("not an arn".to_owned());
            }
        }),
        // decide turns an empty KmsKeyIdentifier into None: Some("") is never produced.
        ("KmsKeyIdentifier", |e| {
            if let Event::ProfileUpdated {
                kms_key_identifier, ..
            } = e
            {
                *kms_key_identifier = Some(String::new());
            }
        }),
    ];
    let missed = missed_forgeries(
        &given(hosted_profile_history()),
        &profile_updated("app1", "prf1", 0),
        &forgeries,
    );
    assert_eq!(
        missed,
        Vec::<&str>::new(),
        "forged fields check did not refuse by their rule"
    );
}

#[test]
fn check_refuses_version_created_with_description_decide_would_refuse() {
    // Rule (E5): replay refuses a VersionCreated that decide could not have produced.
    let forgeries: [Forgery; 1] = [("Description", |e| {
        if let Event::VersionCreated { description, .. } = e {
            *description = Some("d".repeat(1025));
        }
    })];
    let missed = missed_forgeries(
        &given(hosted_profile_history()),
        &version_created("app1", "prf1", 1, b"x"),
        &forgeries,
    );
    assert_eq!(
        missed,
        Vec::<&str>::new(),
        "forged fields check did not refuse by their rule"
    );
}
