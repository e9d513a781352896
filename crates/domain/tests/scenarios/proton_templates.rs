//! Proton environment templates (docs/design/connect-proton.md): generations, majors and
//! minors numbered by the kernel, registration, status transitions, recommended-version
//! delete rules and the clientToken, each rule also forged on replay.

use std::collections::BTreeMap;

use verso_domain::{
    Command, ContentHash, CreateEnvironmentTemplate, CreateEnvironmentTemplateVersion, Event,
    IdempotencyKey, RejectionKind, StreamId,
    projection::{ProtonRead, Subject},
    proton::{TemplateName, TemplateSource, TemplateVersion, TemplateVersionStatus},
    stream::{IDEMPOTENCY_WINDOW_MILLIS, RequestDigest},
};

use crate::support::{Given, given, v};

fn name(n: &str) -> TemplateName {
    TemplateName::parse("name", n).expect("test names are well formed")
}

fn tv(major: u64, minor: u64) -> TemplateVersion {
    TemplateVersion { major, minor }
}

fn source(key: &str) -> TemplateSource {
    TemplateSource {
        bucket: "templates".to_owned(),
        key: key.to_owned(),
    }
}

fn digest(text: &str) -> ContentHash {
    RequestDigest::new("CreateEnvironmentTemplate")
        .field(text.as_bytes())
        .finish()
}

fn create_template(n: &str, what: &str) -> CreateEnvironmentTemplate {
    CreateEnvironmentTemplate {
        template: name(n),
        display_name: None,
        description: Some(what.to_owned()),
        encryption_key: None,
        provisioning: None,
        tags: BTreeMap::new(),
        request_digest: digest(what),
    }
}

fn template_created(n: &str, generation: u32) -> Event {
    let c = create_template(n, "d");
    Event::EnvironmentTemplateCreated {
        template: c.template,
        generation,
        display_name: None,
        description: c.description,
        encryption_key: None,
        provisioning: None,
        tags: BTreeMap::new(),
        request_digest: c.request_digest,
    }
}

fn create_version(major: Option<u64>, key: &str) -> CreateEnvironmentTemplateVersion {
    CreateEnvironmentTemplateVersion {
        template: name("env"),
        major,
        description: None,
        source: source(key).canonical(),
        tags: BTreeMap::new(),
        client_token: None,
    }
}

fn with_token(
    mut c: CreateEnvironmentTemplateVersion,
    token: &str,
) -> CreateEnvironmentTemplateVersion {
    c.client_token = Some(IdempotencyKey {
        token: token.to_owned(),
        digest: RequestDigest::new("CreateEnvironmentTemplateVersion")
            .field(c.source.hash().as_bytes())
            .optional(
                c.major
                    .map(u64::to_be_bytes)
                    .as_ref()
                    .map(<[u8; 8]>::as_slice),
            )
            .finish(),
    });
    c
}

fn majors() -> StreamId {
    StreamId::template(&name("env"), 1)
}

fn minors(major: u64) -> StreamId {
    StreamId::template_major(&name("env"), 1, major)
}

/// The events of a version create, as `decide` records them.
fn version_events(version: TemplateVersion, key: &str, new_major: bool) -> Vec<Event> {
    let content = source(key).canonical().to_ref();
    let created = |stream: StreamId, number: u64| Event::VersionCreated {
        stream,
        version: v(number),
        content,
        content_type: None,
        description: None,
        label: None,
        expected_latest: None,
        expected_content: None,
        idempotency: None,
    };
    let mut events = Vec::new();
    if new_major {
        events.push(created(majors(), version.major));
    }
    events.push(created(minors(version.major), version.minor + 1));
    events.push(Event::EnvironmentTemplateVersionRegistered {
        template: name("env"),
        generation: 1,
        version,
        status: TemplateVersionStatus::Draft,
        status_message: None,
        tags: BTreeMap::new(),
        client_token: None,
    });
    events
}

fn published(version: TemplateVersion) -> Event {
    Event::EnvironmentTemplateVersionUpdated {
        template: name("env"),
        generation: 1,
        version,
        status: TemplateVersionStatus::Published,
        description: None,
    }
}

/// A template `env` with versions 1.0, 1.1 and 2.0.
fn three_versions() -> Given {
    let mut events = vec![template_created("env", 1)];
    events.extend(version_events(tv(1, 0), "a", true));
    events.extend(version_events(tv(1, 1), "b", false));
    events.extend(version_events(tv(2, 0), "c", true));
    given(events)
}

fn delete(version: TemplateVersion) -> Command {
    Command::DeleteEnvironmentTemplateVersion {
        template: name("env"),
        version,
    }
}

fn live(g: &Given) -> Vec<TemplateVersion> {
    g.state()
        .template_versions(&name("env"), 1)
        .iter()
        .map(|r| r.version)
        .collect()
}

// --- templates ---------------------------------------------------------------------------

#[test]
fn a_new_name_is_generation_1() {
    // Rule T1.
    given([])
        .when(Command::CreateEnvironmentTemplate(create_template(
            "env", "d",
        )))
        .then_events(&[template_created("env", 1)]);
}

#[test]
fn an_identical_create_appends_nothing_and_another_one_is_a_mismatch() {
    // Rule T7: idempotent by content.
    let g = given([template_created("env", 1)]);
    g.when(Command::CreateEnvironmentTemplate(create_template(
        "env", "d",
    )))
    .then_nothing_appended();
    given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplate(create_template(
            "env", "other",
        )))
        .then_rejected(RejectionKind::IdempotencyMismatch);
}

#[test]
fn a_name_created_again_after_a_delete_is_the_next_generation_and_starts_at_1_0() {
    // Rules T1, T2: numbers of a deleted template are never handed out again, and a new
    // one still starts at 1.0.
    let g = given([
        template_created("env", 1),
        Event::EnvironmentTemplateDeleted {
            template: name("env"),
            generation: 1,
        },
    ])
    .when(Command::CreateEnvironmentTemplate(create_template(
        "env", "d",
    )))
    .then_events(&[template_created("env", 2)]);
    let g = g
        .when(Command::CreateEnvironmentTemplateVersion(create_version(
            None, "a",
        )))
        .then_accepted();
    let record = g.state().template_version(&name("env"), 2, tv(1, 0));
    assert!(record.is_some(), "the new generation starts at 1.0");
}

#[test]
fn a_template_with_versions_cannot_be_deleted_and_a_missing_one_is_deleted_already() {
    // Rule T5; deletes are idempotent.
    three_versions()
        .when(Command::DeleteEnvironmentTemplate {
            template: name("env"),
        })
        .then_rejected(RejectionKind::NotEmpty);
    given([])
        .when(Command::DeleteEnvironmentTemplate {
            template: name("env"),
        })
        .then_nothing_appended();
}

#[test]
fn the_template_quota_counts_live_templates() {
    // Rule: a limit, not an invariant.
    let mut limits = verso_domain::Limits::DEFAULT;
    limits.max_templates = 1;
    given([template_created("a", 1)])
        .with_limits(limits)
        .when(Command::CreateEnvironmentTemplate(create_template(
            "b", "d",
        )))
        .then_rejected(RejectionKind::QuotaExceeded);
}

// --- versions ----------------------------------------------------------------------------

#[test]
fn no_major_is_a_new_major_with_minor_0() {
    // Rule T2: majors from 1, minors from 0, both numbered by the kernel.
    given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplateVersion(create_version(
            None, "a",
        )))
        .then_events(&version_events(tv(1, 0), "a", true));
}

#[test]
fn a_major_gets_its_next_minor() {
    // Rule T2.
    let mut events = vec![template_created("env", 1)];
    events.extend(version_events(tv(1, 0), "a", true));
    given(events)
        .when(Command::CreateEnvironmentTemplateVersion(create_version(
            Some(1),
            "b",
        )))
        .then_events(&version_events(tv(1, 1), "b", false));
}

#[test]
fn an_unknown_or_deleted_major_is_not_found() {
    // Rule T3: a minor only while its major is live.
    three_versions()
        .when(Command::CreateEnvironmentTemplateVersion(create_version(
            Some(3),
            "x",
        )))
        .then_rejected(RejectionKind::NotFound);
    let g = three_versions().when(delete(tv(2, 0))).then_accepted();
    g.when(Command::CreateEnvironmentTemplateVersion(create_version(
        Some(2),
        "x",
    )))
    .then_rejected(RejectionKind::NotFound);
}

#[test]
fn major_numbers_are_never_reused() {
    // Rule E4 on the majors stream: after deleting 2.0 the next major is 3.
    let g = three_versions().when(delete(tv(2, 0))).then_accepted();
    let g = g
        .when(Command::CreateEnvironmentTemplateVersion(create_version(
            None, "d",
        )))
        .then_accepted();
    assert_eq!(live(&g), vec![tv(1, 0), tv(1, 1), tv(3, 0)]);
}

#[test]
fn a_version_of_a_missing_template_is_not_found() {
    given([])
        .when(Command::CreateEnvironmentTemplateVersion(create_version(
            None, "a",
        )))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn a_bad_source_is_invalid() {
    // Rule: the S3 source's shape is checked, nothing is fetched.
    let mut c = create_version(None, "a");
    c.source = TemplateSource {
        bucket: "UPPER".to_owned(),
        key: "k".to_owned(),
    }
    .canonical();
    given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplateVersion(c))
        .then_invalid("source.s3.bucket");
}

// --- clientToken (E11) ---------------------------------------------------------------------

#[test]
fn the_same_token_and_request_append_nothing_and_another_request_is_a_mismatch() {
    // Rule E11, scope the template generation.
    let g = given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_accepted();
    let recorded = g.state().template_token(&name("env"), 1, "tok").unwrap();
    assert_eq!(recorded.version, tv(1, 0));
    let g = g
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_nothing_appended();
    g.when(Command::CreateEnvironmentTemplateVersion(with_token(
        create_version(Some(1), "a"),
        "tok",
    )))
    .then_rejected(RejectionKind::IdempotencyMismatch);
}

#[test]
fn a_token_is_forgotten_after_8_hours_or_once_its_version_is_deleted() {
    // Rule E11: "once the original resource is deleted, a retry creates a new one".
    let first = given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_accepted();
    let later = given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_accepted()
        .after_ms(IDEMPOTENCY_WINDOW_MILLIS);
    later
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_accepted();
    first
        .when(delete(tv(1, 0)))
        .then_accepted()
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_accepted();
}

// --- updates (T4) --------------------------------------------------------------------------

fn update(version: TemplateVersion, status: TemplateVersionStatus) -> Command {
    Command::UpdateEnvironmentTemplateVersion {
        template: name("env"),
        version,
        status: Some(status),
        description: None,
    }
}

#[test]
fn draft_becomes_published_and_published_never_becomes_draft() {
    // Rule T4.
    let g = three_versions()
        .when(update(tv(1, 0), TemplateVersionStatus::Published))
        .then_events(&[published(tv(1, 0))]);
    let g = g
        .when(update(tv(1, 0), TemplateVersionStatus::Published))
        .then_nothing_appended();
    g.when(update(tv(1, 0), TemplateVersionStatus::Draft))
        .then_rejected(RejectionKind::StateConflict);
}

#[test]
fn registration_statuses_cannot_be_asked_for() {
    // Rule T4: they are the service's own.
    for status in [
        TemplateVersionStatus::RegistrationInProgress,
        TemplateVersionStatus::RegistrationFailed,
    ] {
        three_versions()
            .when(update(tv(1, 0), status))
            .then_invalid("status");
    }
}

#[test]
fn updating_a_missing_version_is_not_found() {
    three_versions()
        .when(update(tv(1, 7), TemplateVersionStatus::Published))
        .then_rejected(RejectionKind::NotFound);
}

// --- deletes (T5) ----------------------------------------------------------------------------

#[test]
fn the_recommended_version_goes_last() {
    // Rule T5: the template's recommended version only when it is the only live one.
    three_versions()
        .and([published(tv(2, 0))])
        .when(delete(tv(2, 0)))
        .then_rejected(RejectionKind::StateConflict);
    let g = three_versions()
        .and([published(tv(2, 0))])
        .when(delete(tv(1, 1)))
        .then_accepted()
        .when(delete(tv(1, 0)))
        .then_accepted();
    g.when(delete(tv(2, 0))).then_accepted();
}

#[test]
fn a_majors_recommended_minor_goes_last_in_its_major() {
    // Rule T5: 1.1 is 1's recommended minor, 2.0 the template's recommended version.
    let g = three_versions().and([published(tv(1, 1)), published(tv(2, 0))]);
    let g2 = three_versions().and([published(tv(1, 1)), published(tv(2, 0))]);
    g.when(delete(tv(1, 1)))
        .then_rejected(RejectionKind::StateConflict);
    let g2 = g2.when(delete(tv(1, 0))).then_accepted();
    g2.when(delete(tv(1, 1))).then_accepted();
}

#[test]
fn deleting_the_last_minor_deletes_its_major_in_the_same_group() {
    // Rule T3/T5.
    let g = three_versions();
    g.when(delete(tv(2, 0))).then_events(&[
        Event::VersionDeleted {
            stream: minors(2),
            version: v(1),
        },
        Event::VersionDeleted {
            stream: majors(),
            version: v(2),
        },
    ]);
}

#[test]
fn deleting_a_missing_version_appends_nothing() {
    // Deletes are idempotent.
    three_versions()
        .when(delete(tv(5, 0)))
        .then_nothing_appended();
    given([]).when(delete(tv(1, 0))).then_nothing_appended();
}

// --- what the writer reports (projection::subject) --------------------------------------------

/// The version a template version create reports.
#[track_caller]
fn reported_version(reported: Option<Subject>) -> TemplateVersion {
    match reported {
        Some(Subject::TemplateVersion(r)) => r.version,
        other => panic!("expected a template version, got {other:?}"),
    }
}

#[test]
fn each_template_command_reports_its_record_as_it_stands_after_it() {
    let template = |g: &Given, n: &str| g.state().template(&name(n)).map(Subject::Template);
    let create = |n: &str| Command::CreateEnvironmentTemplate(create_template(n, "d"));
    let (g, reported) = given([]).when_reported(create("env"));
    assert_eq!(reported, template(&g, "env"));
    // No major: a new major. A major: its next minor.
    let version =
        |major, key| Command::CreateEnvironmentTemplateVersion(create_version(major, key));
    let (g, reported) = g.when_reported(version(None, "a"));
    assert_eq!(reported_version(reported), tv(1, 0));
    let (g, reported) = g.when_reported(version(Some(1), "b"));
    assert_eq!(reported_version(reported), tv(1, 1));
    let (g, reported) = g.when_reported(version(None, "c"));
    assert_eq!(reported_version(reported), tv(2, 0));
    // A replayed clientToken creates nothing and reports the version it first created,
    // not the latest minor.
    let tokened =
        Command::CreateEnvironmentTemplateVersion(with_token(create_version(Some(1), "d"), "tok"));
    let (g, reported) = g.when_reported(tokened.clone());
    assert_eq!(reported_version(reported), tv(1, 2));
    let (g, reported) = g.when_reported(version(Some(1), "e"));
    assert_eq!(reported_version(reported), tv(1, 3));
    let (g, reported) = g.when_reported(tokened);
    assert_eq!(reported_version(reported), tv(1, 2));
    let (g, reported) = g.when_reported(update(tv(1, 2), TemplateVersionStatus::Published));
    let Some(Subject::TemplateVersion(updated)) = reported else {
        panic!("expected a template version, got {reported:?}");
    };
    assert_eq!(
        (updated.version, updated.status),
        (tv(1, 2), TemplateVersionStatus::Published)
    );
    let (g, reported) = g.when_reported(delete(tv(1, 3)));
    assert_eq!(reported, None);
    // A template delete reports the template, marked deleted.
    let (g, _) = g.when_reported(create("other"));
    let (g, reported) = g.when_reported(Command::DeleteEnvironmentTemplate {
        template: name("other"),
    });
    assert_eq!(reported, template(&g, "other"));
    let Some(Subject::Template(deleted)) = reported else {
        panic!("expected a template, got {reported:?}");
    };
    assert!(!deleted.is_live());
}

// --- replay re-checks ------------------------------------------------------------------------

#[test]
fn replay_refuses_a_second_live_template_or_a_skipped_generation() {
    // Rules T1, T7.
    let g = given([template_created("env", 1)]);
    g.replay_refuses(template_created("env", 2), RejectionKind::AlreadyExists);
    given([]).replay_refuses(template_created("env", 2), RejectionKind::VersionMismatch);
}

#[test]
fn replay_refuses_a_minor_of_a_missing_major_or_a_skipped_number() {
    // Rules T2, T3.
    let g = three_versions();
    let events = version_events(tv(3, 0), "x", false);
    g.replay_refuses(events[0].clone(), RejectionKind::NotFound);
    let skipped = version_events(tv(1, 3), "x", false);
    g.replay_refuses(skipped[0].clone(), RejectionKind::VersionMismatch);
}

#[test]
fn replay_refuses_a_registration_without_a_creation_or_twice() {
    // Rule T4.
    let g = three_versions();
    let events = version_events(tv(1, 0), "a", true);
    g.replay_refuses(events[2].clone(), RejectionKind::StateConflict);
}

#[test]
fn replay_refuses_published_back_to_draft() {
    // Rule T4.
    let g = three_versions().and([published(tv(1, 0))]);
    g.replay_refuses(
        Event::EnvironmentTemplateVersionUpdated {
            template: name("env"),
            generation: 1,
            version: tv(1, 0),
            status: TemplateVersionStatus::Draft,
            description: None,
        },
        RejectionKind::StateConflict,
    );
}

#[test]
fn replay_refuses_deletes_that_break_the_rules() {
    // Rule T5: the recommended version while others remain; a major with live minors; a
    // template with versions.
    let g = three_versions().and([published(tv(2, 0))]);
    g.replay_refuses(
        Event::VersionDeleted {
            stream: minors(2),
            version: v(1),
        },
        RejectionKind::StateConflict,
    );
    g.replay_refuses(
        Event::VersionDeleted {
            stream: majors(),
            version: v(1),
        },
        RejectionKind::NotEmpty,
    );
    g.replay_refuses(
        Event::EnvironmentTemplateDeleted {
            template: name("env"),
            generation: 1,
        },
        RejectionKind::NotEmpty,
    );
}

#[test]
fn replay_refuses_a_second_use_of_a_token_in_force() {
    // Rule E11.
    let g = given([template_created("env", 1)])
        .when(Command::CreateEnvironmentTemplateVersion(with_token(
            create_version(None, "a"),
            "tok",
        )))
        .then_accepted();
    let mut second = version_events(tv(2, 0), "a", true);
    if let Event::EnvironmentTemplateVersionRegistered { client_token, .. } = &mut second[2] {
        *client_token = with_token(create_version(None, "a"), "tok").client_token;
    }
    let g = g.and(second[..2].iter().cloned());
    g.replay_refuses(second[2].clone(), RejectionKind::AlreadyExists);
}
