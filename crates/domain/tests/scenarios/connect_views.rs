//! Connect views (docs/design/connect-proton.md): names, aliases, the ClientToken, the
//! delete cascade, and the kernel's view policy (the unchanged rule, the staged
//! `$LATEST`, the `ViewContentSha256` guard), each rule also forged on replay.

use std::collections::BTreeMap;

use verso_domain::{
    Command, ConnectInstanceId, Content, ContentHash, CreateView, EncodedViewContent, Event,
    IdempotencyKey, Limits, RejectionKind, StreamId, ViewContent, ViewId, ViewStatus,
    projection::{AppConfigRead, ConnectRead, StreamRead, Subject},
    stream::{IDEMPOTENCY_WINDOW_MILLIS, RequestDigest},
};

use crate::support::{Given, given, v};

fn inst(id: &str) -> ConnectInstanceId {
    ConnectInstanceId::parse(id).expect("test instance ids are well formed")
}

fn vid(n: u64) -> ViewId {
    ViewId::parse(&format!("00000000-0000-4000-8000-{n:012x}")).expect("a lowercase uuid")
}

fn stream(n: u64) -> StreamId {
    StreamId::view(&inst("i1"), &vid(n))
}

/// The canonical content of a view whose template is `template`, with one action.
fn vc(template: &str) -> Content {
    enc(template).content().clone()
}

/// The same, encoded and checked as a command carries it.
fn enc(template: &str) -> EncodedViewContent {
    ViewContent {
        actions: vec!["Submit".to_owned()],
        template: template.to_owned(),
    }
    .encode()
}

const T1: &str = r#"{"Head":{"Title":"$.Customer.Name"}}"#;
const T2: &str = r#"{"Head":{"Title":"two"}}"#;
const T3: &str = r#"{"Head":{"Title":"three"}}"#;

fn create(n: u64, name: &str, status: ViewStatus, template: &str) -> CreateView {
    CreateView {
        instance: inst("i1"),
        id: vid(n),
        name: name.to_owned(),
        description: None,
        status,
        content: enc(template),
        tags: BTreeMap::new(),
        client_token: None,
    }
}

fn created(c: &CreateView) -> Event {
    Event::ViewCreated {
        instance: c.instance.clone(),
        view: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        status: c.status,
        content: c.content.content().to_ref(),
        tags: c.tags.clone(),
        client_token: c.client_token.clone(),
    }
}

fn published(n: u64, name: &str, template: &str) -> Event {
    created(&create(n, name, ViewStatus::Published, template))
}

fn updated(n: u64, status: ViewStatus, template: &str) -> Event {
    Event::ViewContentUpdated {
        instance: inst("i1"),
        view: vid(n),
        status,
        content: vc(template).to_ref(),
    }
}

fn version(n: u64, number: u64, template: &str) -> Event {
    Event::VersionCreated {
        stream: stream(n),
        version: v(number),
        content: vc(template).to_ref(),
        content_type: None,
        description: None,
        label: None,
        expected_latest: None,
        expected_content: None,
        idempotency: None,
    }
}

fn version_deleted(n: u64, number: u64) -> Event {
    Event::VersionDeleted {
        stream: stream(n),
        version: v(number),
    }
}

fn create_version(n: u64, expected: Option<ContentHash>) -> Command {
    Command::CreateViewVersion {
        instance: inst("i1"),
        view: vid(n),
        version_description: None,
        expected_content: expected,
    }
}

fn token(t: &str, c: &CreateView) -> IdempotencyKey {
    IdempotencyKey {
        token: t.to_owned(),
        digest: RequestDigest::new("CreateView")
            .field(c.name.as_bytes())
            .optional(c.description.as_deref().map(str::as_bytes))
            .field(c.content.content().hash().as_bytes())
            .finish(),
    }
}

fn with_token(mut c: CreateView, t: &str) -> CreateView {
    c.client_token = Some(token(t, &c));
    c
}

fn view_of(g: &Given, n: u64) -> verso_domain::projection::ViewRecord {
    g.state()
        .view(&inst("i1"), &vid(n))
        .expect("the view exists")
}

// --- CreateView ----------------------------------------------------------------------

#[test]
fn a_saved_create_moves_saved_only() {
    // Rule V4: SAVED moves $SAVED, not $LATEST.
    let c = create(1, "view one", ViewStatus::Saved, "not json yet");
    let g = given([])
        .when(Command::CreateView(c.clone()))
        .then_events(&[created(&c)]);
    let record = view_of(&g, 1);
    assert_eq!(record.saved, vc("not json yet").to_ref());
    assert_eq!(record.latest, None);
    assert_eq!(record.status, ViewStatus::Saved);
}

#[test]
fn a_published_create_moves_both_aliases() {
    // Rule V4: PUBLISHED moves $SAVED and $LATEST.
    let c = create(1, "view one", ViewStatus::Published, T1);
    let g = given([])
        .when(Command::CreateView(c.clone()))
        .then_events(&[created(&c)]);
    let record = view_of(&g, 1);
    assert_eq!(record.latest, Some(vc(T1).to_ref()));
    assert_eq!(record.saved, vc(T1).to_ref());
}

#[test]
fn published_content_needs_a_json_object_template() {
    // Rule V4: published content passes the full check; saved content the basic one.
    given([])
        .when(Command::CreateView(create(
            1,
            "v",
            ViewStatus::Published,
            "[]",
        )))
        .then_invalid("Template");
    given([])
        .when(Command::CreateView(create(1, "v", ViewStatus::Saved, "[]")))
        .then_accepted();
}

#[test]
fn content_must_be_canonical_and_within_the_limit() {
    // Rule V7: only canonical content is recorded; the size limit is the store's.
    let mut c = create(1, "v", ViewStatus::Saved, "{}");
    c.content = EncodedViewContent::from_bytes(br#"{"Template":"{}","Actions":[]}"#.to_vec());
    given([])
        .when(Command::CreateView(c))
        .then_invalid("Content");
    let mut limits = Limits::DEFAULT;
    limits.max_view_content_bytes = 10;
    given([])
        .with_limits(limits)
        .when(Command::CreateView(create(1, "v", ViewStatus::Saved, "{}")))
        .then_invalid("Content");
}

#[test]
fn names_are_unique_among_an_instances_live_views() {
    // Rule V2: a taken name is AlreadyExists; another instance, or after a delete, is free.
    let g = given([published(1, "shared", T1)]);
    g.when(Command::CreateView(create(
        2,
        "shared",
        ViewStatus::Saved,
        T2,
    )))
    .then_rejected(RejectionKind::AlreadyExists);
    let mut other = create(2, "shared", ViewStatus::Saved, T2);
    other.instance = inst("i2");
    given([published(1, "shared", T1)])
        .when(Command::CreateView(other))
        .then_accepted();
    given([published(1, "shared", T1)])
        .when(Command::DeleteView {
            instance: inst("i1"),
            view: vid(1),
        })
        .then_accepted()
        .when(Command::CreateView(create(
            2,
            "shared",
            ViewStatus::Saved,
            T2,
        )))
        .then_accepted();
}

#[test]
fn a_view_id_is_never_created_twice() {
    // Rule V1: an id is new only if no view, live or deleted, had it.
    let g = given([published(1, "a", T1)])
        .when(Command::DeleteView {
            instance: inst("i1"),
            view: vid(1),
        })
        .then_accepted();
    g.when(Command::CreateView(create(1, "b", ViewStatus::Saved, T2)))
        .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn field_rules_are_the_connect_models() {
    // Rule: names, descriptions and tags follow the Connect model's patterns.
    given([])
        .when(Command::CreateView(create(
            1,
            " leading",
            ViewStatus::Saved,
            T1,
        )))
        .then_invalid("Name");
    let mut c = create(1, "v", ViewStatus::Saved, T1);
    c.tags = BTreeMap::from([("aws:owner".to_owned(), "x".to_owned())]);
    given([]).when(Command::CreateView(c)).then_invalid("Tags");
    let mut c = create(1, "v", ViewStatus::Saved, T1);
    c.description = Some("semi;colon".to_owned());
    given([])
        .when(Command::CreateView(c))
        .then_invalid("Description");
}

#[test]
fn the_views_per_instance_quota_counts_live_views() {
    // Rule: the quota is a limit on live views per instance.
    let mut limits = Limits::DEFAULT;
    limits.max_views_per_instance = 1;
    given([published(1, "a", T1)])
        .with_limits(limits)
        .when(Command::CreateView(create(2, "b", ViewStatus::Saved, T2)))
        .then_rejected(RejectionKind::QuotaExceeded);
}

// --- ClientToken (E11) ------------------------------------------------------------------

#[test]
fn the_same_token_and_request_append_nothing() {
    // Rule E11: a key in force with the same digest answers with the first view.
    let first = with_token(create(1, "a", ViewStatus::Saved, T1), "tok");
    let g = given([created(&first)]);
    let mut retry = with_token(create(2, "a", ViewStatus::Saved, T1), "tok");
    retry.id = vid(2);
    g.when(Command::CreateView(retry)).then_nothing_appended();
}

#[test]
fn the_same_token_with_another_request_is_a_mismatch() {
    // Rule E11: a key in force with another digest appends nothing and is refused.
    let first = with_token(create(1, "a", ViewStatus::Saved, T1), "tok");
    let other = with_token(create(2, "b", ViewStatus::Saved, T1), "tok");
    given([created(&first)])
        .when(Command::CreateView(other))
        .then_rejected(RejectionKind::IdempotencyMismatch);
}

#[test]
fn a_token_is_forgotten_after_8_hours() {
    // Rule E11: a key first used 8 hours ago or more is not in force: the request proceeds.
    let first = with_token(create(1, "a", ViewStatus::Saved, T1), "tok");
    let other = with_token(create(2, "b", ViewStatus::Saved, T1), "tok");
    let g = given([created(&first)]).after_ms(IDEMPOTENCY_WINDOW_MILLIS);
    let g = g.when(Command::CreateView(other)).then_accepted();
    let record = g.state().view_token(&inst("i1"), "tok").expect("renewed");
    assert_eq!(record.view, vid(2));
}

#[test]
fn a_token_is_forgotten_when_its_view_is_deleted() {
    // Rule E11: once the view it answered is deleted, a retry creates a new one.
    let first = with_token(create(1, "a", ViewStatus::Saved, T1), "tok");
    let retry = with_token(create(2, "a", ViewStatus::Saved, T1), "tok");
    given([created(&first)])
        .when(Command::DeleteView {
            instance: inst("i1"),
            view: vid(1),
        })
        .then_accepted()
        .when(Command::CreateView(retry))
        .then_accepted();
}

// --- content and metadata updates ------------------------------------------------------

#[test]
fn a_saved_update_leaves_latest_and_a_published_one_moves_it() {
    // Rule V4.
    let g = given([published(1, "a", T1)])
        .when(Command::UpdateViewContent {
            instance: inst("i1"),
            view: vid(1),
            status: ViewStatus::Saved,
            content: enc(T2),
        })
        .then_events(&[updated(1, ViewStatus::Saved, T2)]);
    let record = view_of(&g, 1);
    assert_eq!(
        (record.saved, record.latest),
        (vc(T2).to_ref(), Some(vc(T1).to_ref()))
    );
    let g = g
        .when(Command::UpdateViewContent {
            instance: inst("i1"),
            view: vid(1),
            status: ViewStatus::Published,
            content: enc(T3),
        })
        .then_accepted();
    let record = view_of(&g, 1);
    assert_eq!(
        (record.saved, record.latest),
        (vc(T3).to_ref(), Some(vc(T3).to_ref()))
    );
}

#[test]
fn an_update_that_changes_nothing_appends_nothing() {
    // Rule: same content, same status, $LATEST already there.
    given([published(1, "a", T1)])
        .when(Command::UpdateViewContent {
            instance: inst("i1"),
            view: vid(1),
            status: ViewStatus::Published,
            content: enc(T1),
        })
        .then_nothing_appended();
}

#[test]
fn metadata_updates_keep_names_unique() {
    // Rule V2: renaming to another live view's name is refused; to its own is a no-op.
    let two = || given([published(1, "a", T1), published(2, "b", T2)]);
    let rename = |name: &str| Command::UpdateViewMetadata {
        instance: inst("i1"),
        view: vid(2),
        name: Some(name.to_owned()),
        description: None,
    };
    two()
        .when(rename("a"))
        .then_rejected(RejectionKind::AlreadyExists);
    two().when(rename("b")).then_nothing_appended();
    let g = two().when(rename("c")).then_accepted();
    assert_eq!(g.state().view_named(&inst("i1"), "b"), None);
    assert_eq!(g.state().view_named(&inst("i1"), "c"), Some(vid(2)));
}

#[test]
fn a_metadata_update_needs_a_name_or_a_description() {
    // Rule: the service requires at least one of them.
    given([published(1, "a", T1)])
        .when(Command::UpdateViewMetadata {
            instance: inst("i1"),
            view: vid(1),
            name: None,
            description: None,
        })
        .then_invalid("Name");
}

#[test]
fn commands_on_a_missing_or_deleted_view_are_not_found() {
    // Rule V3: view events name a live view.
    let deleted = given([published(1, "a", T1)])
        .when(Command::DeleteView {
            instance: inst("i1"),
            view: vid(1),
        })
        .then_accepted();
    for command in [
        create_version(1, None),
        Command::DeleteView {
            instance: inst("i1"),
            view: vid(1),
        },
        Command::UpdateViewContent {
            instance: inst("i1"),
            view: vid(1),
            status: ViewStatus::Saved,
            content: enc(T2),
        },
    ] {
        given([])
            .when(command.clone())
            .then_rejected(RejectionKind::NotFound);
        let g = given([published(1, "a", T1)])
            .when(Command::DeleteView {
                instance: inst("i1"),
                view: vid(1),
            })
            .then_accepted();
        g.when(command).then_rejected(RejectionKind::NotFound);
    }
    assert!(!view_of(&deleted, 1).is_live());
}

// --- versions (the kernel's view policy) -----------------------------------------------

#[test]
fn create_version_freezes_latest() {
    // Rule V5/E10: a version is $LATEST frozen, numbered by the kernel.
    given([published(1, "a", T1)])
        .when(create_version(1, None))
        .then_events(&[version(1, 1, T1)]);
}

#[test]
fn create_version_without_latest_is_not_found() {
    // Rule: nothing published, nothing to freeze.
    given([created(&create(1, "a", ViewStatus::Saved, T1))])
        .when(create_version(1, None))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn unchanged_latest_answers_with_the_highest_live_version() {
    // Rule V6/E9: $LATEST equal to the highest live version appends nothing.
    given([published(1, "a", T1), version(1, 1, T1)])
        .when(create_version(1, None))
        .then_answered_by(1);
}

#[test]
fn unchanged_is_judged_against_the_highest_live_version() {
    // Rule V6: after deleting the highest, the one below it is compared; numbers are never
    // reused (E4).
    let g = given([
        published(1, "a", T1),
        version(1, 1, T1),
        updated(1, ViewStatus::Published, T2),
        version(1, 2, T2),
        updated(1, ViewStatus::Published, T1),
        version_deleted(1, 2),
    ]);
    g.when(create_version(1, None)).then_answered_by(1);
    given([
        published(1, "a", T1),
        version(1, 1, T1),
        updated(1, ViewStatus::Published, T2),
        version(1, 2, T2),
        version_deleted(1, 2),
    ])
    .when(create_version(1, None))
    .then_events(&[version(1, 3, T2)]);
}

#[test]
fn version_10_follows_version_9() {
    // Rule: numbers compare as numbers.
    let mut events = vec![published(1, "a", "{}")];
    for n in 1..=9 {
        let t = format!("{{\"n\":{n}}}");
        events.push(updated(1, ViewStatus::Published, &t));
        events.push(version(1, n, &t));
    }
    events.push(updated(1, ViewStatus::Published, T2));
    given(events)
        .when(create_version(1, None))
        .then_events(&[version(1, 10, T2)]);
}

#[test]
fn a_stale_sha256_is_a_content_mismatch_and_the_right_one_is_recorded() {
    // Rule E10: the expected hash is compared with $LATEST's.
    let g = given([published(1, "a", T1)]);
    g.when(create_version(1, Some(vc(T2).hash())))
        .then_rejected(RejectionKind::ContentMismatch);
    let mut expected = version(1, 1, T1);
    if let Event::VersionCreated {
        expected_content, ..
    } = &mut expected
    {
        *expected_content = Some(vc(T1).hash());
    }
    given([published(1, "a", T1)])
        .when(create_version(1, Some(vc(T1).hash())))
        .then_events(&[expected]);
}

#[test]
fn delete_view_deletes_its_live_versions_first() {
    // Rule V3: ViewDeleted only when its stream has no live version; one group.
    given([
        published(1, "a", T1),
        version(1, 1, T1),
        updated(1, ViewStatus::Published, T2),
        version(1, 2, T2),
        updated(1, ViewStatus::Published, T3),
        version(1, 3, T3),
        version_deleted(1, 2),
    ])
    .when(Command::DeleteView {
        instance: inst("i1"),
        view: vid(1),
    })
    .then_events(&[
        version_deleted(1, 3),
        version_deleted(1, 1),
        Event::ViewDeleted {
            instance: inst("i1"),
            view: vid(1),
        },
    ]);
}

#[test]
fn delete_view_version_needs_a_live_version() {
    // Rule: a missing or deleted version is NotFound.
    let g = given([
        published(1, "a", T1),
        version(1, 1, T1),
        version_deleted(1, 1),
    ]);
    let delete = |n| Command::DeleteViewVersion {
        instance: inst("i1"),
        view: vid(1),
        version: v(n),
    };
    g.when(delete(1)).then_rejected(RejectionKind::NotFound);
    given([published(1, "a", T1), version(1, 1, T1)])
        .when(delete(1))
        .then_events(&[version_deleted(1, 1)]);
}

// --- what the writer reports (projection::subject) ------------------------------------------

#[test]
fn each_view_command_reports_its_record_as_it_stands_after_it() {
    let view = |g: &Given| Some(Subject::View(view_of(g, 1)));
    let first = with_token(create(1, "a", ViewStatus::Published, T1), "tok");
    let (g, reported) = given([]).when_reported(Command::CreateView(first));
    assert_eq!(reported, view(&g));
    // A replayed ClientToken, under the fresh id the store draws for every create,
    // creates nothing and reports the view it first created.
    let retry = with_token(create(2, "a", ViewStatus::Published, T1), "tok");
    let (g, reported) = g.when_reported(Command::CreateView(retry));
    assert_eq!(reported, view(&g));
    assert!(g.state().view(&inst("i1"), &vid(2)).is_none());
    let (g, reported) = g.when_reported(Command::UpdateViewContent {
        instance: inst("i1"),
        view: vid(1),
        status: ViewStatus::Published,
        content: enc(T2),
    });
    assert_eq!(reported, view(&g));
    assert_eq!(view_of(&g, 1).latest, Some(vc(T2).to_ref()));
    // A version create reports the version it froze; an unchanged one, the highest
    // version, which answered it.
    let version = |g: &Given, n: u64| {
        let record = g
            .state()
            .version(&stream(1), v(n))
            .expect("the version exists");
        Some(Subject::Version(record.into_owned()))
    };
    let (g, reported) = g.when_reported(create_version(1, None));
    assert_eq!(reported, version(&g, 1));
    let (g, reported) = g.when_reported(create_version(1, None));
    assert_eq!(reported, version(&g, 1));
    let (g, reported) = g.when_reported(Command::UpdateViewMetadata {
        instance: inst("i1"),
        view: vid(1),
        name: Some("b".to_owned()),
        description: None,
    });
    assert_eq!(reported, None);
    assert_eq!(view_of(&g, 1).name, "b");
}

// --- replay re-checks -------------------------------------------------------------------

#[test]
fn replay_refuses_a_view_created_twice_or_under_a_taken_name() {
    // Rules V1, V2.
    let g = given([published(1, "a", T1)]);
    g.replay_refuses(published(1, "b", T2), RejectionKind::AlreadyExists);
    g.replay_refuses(published(2, "a", T2), RejectionKind::AlreadyExists);
    g.replay_accepts(published(2, "b", T2));
}

#[test]
fn replay_refuses_view_events_on_a_deleted_view() {
    // Rule V3.
    let g = given([
        published(1, "a", T1),
        Event::ViewDeleted {
            instance: inst("i1"),
            view: vid(1),
        },
    ]);
    g.replay_refuses(updated(1, ViewStatus::Saved, T2), RejectionKind::NotFound);
    g.replay_refuses(version(1, 1, T1), RejectionKind::NotFound);
}

#[test]
fn replay_refuses_deleting_a_view_with_live_versions() {
    // Rule V3.
    given([published(1, "a", T1), version(1, 1, T1)]).replay_refuses(
        Event::ViewDeleted {
            instance: inst("i1"),
            view: vid(1),
        },
        RejectionKind::NotEmpty,
    );
}

#[test]
fn replay_refuses_a_version_that_is_not_latest_frozen() {
    // Rules V5, E10: a version's content is the staged $LATEST.
    let g = given([published(1, "a", T1), updated(1, ViewStatus::Saved, T2)]);
    g.replay_refuses(version(1, 1, T2), RejectionKind::ContentMismatch);
    g.replay_accepts(version(1, 1, T1));
    given([created(&create(1, "a", ViewStatus::Saved, T1))])
        .replay_refuses(version(1, 1, T1), RejectionKind::NotFound);
}

#[test]
fn replay_refuses_a_version_of_unchanged_content() {
    // Rule V6: the unchanged rule holds on replay, not only at append.
    given([published(1, "a", T1), version(1, 1, T1)])
        .replay_refuses(version(1, 2, T1), RejectionKind::AlreadyExists);
}

#[test]
fn replay_refuses_a_version_whose_expected_hash_was_stale() {
    // Rule E10.
    let mut forged = version(1, 1, T1);
    if let Event::VersionCreated {
        expected_content, ..
    } = &mut forged
    {
        *expected_content = Some(vc(T2).hash());
    }
    given([published(1, "a", T1)]).replay_refuses(forged, RejectionKind::ContentMismatch);
}

#[test]
fn replay_refuses_a_second_use_of_a_token_in_force() {
    // Rule E11: within its window a token is recorded at most once.
    let first = with_token(create(1, "a", ViewStatus::Saved, T1), "tok");
    let second = with_token(create(2, "b", ViewStatus::Saved, T1), "tok");
    let g = given([created(&first)]);
    g.replay_refuses(created(&second), RejectionKind::AlreadyExists);
    g.after_ms(IDEMPOTENCY_WINDOW_MILLIS)
        .replay_accepts(created(&second));
}

#[test]
fn replay_refuses_a_rename_to_a_taken_name() {
    // Rule V2.
    given([published(1, "a", T1), published(2, "b", T2)]).replay_refuses(
        Event::ViewMetadataUpdated {
            instance: inst("i1"),
            view: vid(2),
            name: "a".to_owned(),
            description: None,
        },
        RejectionKind::AlreadyExists,
    );
}

#[test]
fn the_view_stream_is_not_a_hosted_stream() {
    // Rule E9: the kind fixes the policy; views never count toward the hosted quota.
    let g = given([published(1, "a", T1), version(1, 1, T1)]);
    assert_eq!(g.state().hosted_bytes(), 0);
    assert_eq!(
        g.state().stream(&stream(1)).map(|h| h.latest_live),
        Some(Some(v(1)))
    );
}
