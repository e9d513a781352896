//! The versioned-stream kernel called directly on a hosted stream: the expected-content
//! precondition and idempotency keys, which the AppConfig face does not use. The
//! policies of other stream kinds are tested with their faces (connect_views.rs).

use verso_domain::{
    ContentHash, Detail, Event, IdempotencyKey, Rejection, RejectionKind, StreamId,
    projection::StreamRead,
    stream::{AppendOutcome, AppendVersion, ExistingReason, RequestDigest, decide_append},
};

use crate::support::{
    Given, content, given, hosted, hosted_profile_history, v, version_created, version_deleted,
};

fn stream() -> StreamId {
    hosted("app1", "prf1")
}

/// A plain append request for `bytes`: no preconditions, no key.
fn append<'a>(stream: &'a StreamId, bytes: &[u8]) -> AppendVersion<'a> {
    AppendVersion {
        stream,
        content: content(bytes).to_ref(),
        expected_latest: None,
        expected_content: None,
        idempotency: None,
    }
}

fn key(token: &str, digest: ContentHash) -> IdempotencyKey {
    IdempotencyKey {
        token: token.to_owned(),
        digest,
    }
}

fn digest_of(bytes: &[u8]) -> ContentHash {
    RequestDigest::new("CreateVersion").field(bytes).finish()
}

/// A `VersionCreated` that a face with idempotency keys would record.
fn created_with_key(version: u64, bytes: &[u8], key: IdempotencyKey) -> Event {
    Event::VersionCreated {
        stream: stream(),
        version: v(version),
        content: content(bytes).to_ref(),
        content_type: None,
        description: None,
        label: None,
        expected_latest: None,
        expected_content: None,
        idempotency: Some(key),
    }
}

fn with_versions(contents: &[&[u8]]) -> Given {
    let mut events = hosted_profile_history();
    for (i, bytes) in (1u64..).zip(contents) {
        events.push(version_created("app1", "prf1", i, bytes));
    }
    given(events)
}

#[track_caller]
fn appended(g: &Given, request: &AppendVersion<'_>) -> u64 {
    match decide_append(g.state(), request) {
        Ok(AppendOutcome::Append(version)) => version.get(),
        other => panic!("expected an append, got {other:?}"),
    }
}

#[track_caller]
fn existing(g: &Given, request: &AppendVersion<'_>) -> (u64, ExistingReason) {
    match decide_append(g.state(), request) {
        Ok(AppendOutcome::Existing(record, reason)) => (record.version.get(), reason),
        other => panic!("expected an existing version, got {other:?}"),
    }
}

#[track_caller]
fn rejected(g: &Given, request: &AppendVersion<'_>) -> Rejection {
    match decide_append(g.state(), request) {
        Err(rejection) => rejection,
        Ok(outcome) => panic!("expected a rejection, got {outcome:?}"),
    }
}

// --- numbering and expected latest ---------------------------------------------------

#[test]
fn append_to_a_stream_never_written_is_version_1() {
    // Rule: a stream's first version is 1, whether or not the stream has a head yet.
    let s = stream();
    assert_eq!(appended(&given([]), &append(&s, b"a")), 1);
}

#[test]
fn append_expecting_the_latest_live_version_is_accepted() {
    // Rule: the expected-latest lock compares against the latest live version.
    let s = stream();
    let g = with_versions(&[b"a", b"b"]).and([version_deleted("app1", "prf1", 2)]);
    let request = AppendVersion {
        expected_latest: Some(v(1)),
        ..append(&s, b"c")
    };
    assert_eq!(appended(&g, &request), 3);
    let request = AppendVersion {
        expected_latest: Some(v(2)),
        ..append(&s, b"c")
    };
    assert_eq!(
        rejected(&g, &request).kind(),
        RejectionKind::VersionMismatch
    );
}

// --- expected content ----------------------------------------------------------------

#[test]
fn append_expecting_the_latest_content_hash_is_accepted() {
    // Rule: the expected-content precondition passes when it is the latest live content.
    let s = stream();
    let g = with_versions(&[b"a", b"b"]);
    let request = AppendVersion {
        expected_content: Some(ContentHash::of(b"b")),
        ..append(&s, b"c")
    };
    assert_eq!(appended(&g, &request), 3);
}

#[test]
fn append_expecting_an_older_content_hash_is_content_mismatch() {
    // Rule: only the latest live version's content satisfies the precondition.
    let s = stream();
    let g = with_versions(&[b"a", b"b"]);
    let request = AppendVersion {
        expected_content: Some(ContentHash::of(b"a")),
        ..append(&s, b"c")
    };
    let rejection = rejected(&g, &request);
    assert_eq!(rejection.kind(), RejectionKind::ContentMismatch);
    assert_eq!(
        rejection.detail(),
        &Detail::Content {
            expected: ContentHash::of(b"a"),
            actual: Some(ContentHash::of(b"b")),
        }
    );
}

#[test]
fn append_expecting_a_content_hash_on_an_empty_stream_is_content_mismatch() {
    // Rule: a stream without a live version has no content to match.
    let s = stream();
    let request = AppendVersion {
        expected_content: Some(ContentHash::of(b"")),
        ..append(&s, b"c")
    };
    for g in [
        given(hosted_profile_history()),
        with_versions(&[b""]).and([version_deleted("app1", "prf1", 1)]),
    ] {
        let rejection = rejected(&g, &request);
        assert_eq!(rejection.kind(), RejectionKind::ContentMismatch);
        assert_eq!(
            rejection.detail(),
            &Detail::Content {
                expected: ContentHash::of(b""),
                actual: None,
            }
        );
    }
}

#[test]
fn expected_content_compares_against_the_previous_live_version_after_a_delete() {
    // Rule: deleting the latest version moves the content precondition to the one before.
    let s = stream();
    let g = with_versions(&[b"a", b"b"]).and([version_deleted("app1", "prf1", 2)]);
    let request = AppendVersion {
        expected_content: Some(ContentHash::of(b"a")),
        ..append(&s, b"c")
    };
    assert_eq!(appended(&g, &request), 3);
}

#[test]
fn expected_latest_is_checked_before_expected_content() {
    // Rule: checks run in order: idempotency, expected latest, expected content.
    let s = stream();
    let g = with_versions(&[b"a"]);
    let request = AppendVersion {
        expected_latest: Some(v(7)),
        expected_content: Some(ContentHash::of(b"zzz")),
        ..append(&s, b"c")
    };
    assert_eq!(
        rejected(&g, &request).kind(),
        RejectionKind::VersionMismatch
    );
}

// --- idempotency ---------------------------------------------------------------------

#[test]
fn same_idempotency_token_and_digest_returns_the_first_version() {
    // Rule: a replayed request (same token, same request) gets its first answer.
    let s = stream();
    let k = key("tok-1", digest_of(b"a"));
    let g = given(hosted_profile_history()).and([created_with_key(1, b"a", k.clone())]);
    let request = AppendVersion {
        idempotency: Some(&k),
        ..append(&s, b"a")
    };
    assert_eq!(
        existing(&g, &request),
        (1, ExistingReason::IdempotentReplay)
    );
}

#[test]
fn idempotent_replay_answers_even_after_the_stream_moved_on() {
    // Rule: idempotency is checked first, so a stale replay is not a version conflict.
    let s = stream();
    let k = key("tok-1", digest_of(b"a"));
    let g = given(hosted_profile_history()).and([
        created_with_key(1, b"a", k.clone()),
        version_created("app1", "prf1", 2, b"b"),
        version_created("app1", "prf1", 3, b"c"),
    ]);
    let request = AppendVersion {
        expected_latest: Some(v(0)),
        expected_content: Some(ContentHash::of(b"nothing")),
        idempotency: Some(&k),
        ..append(&s, b"a")
    };
    assert_eq!(
        existing(&g, &request),
        (1, ExistingReason::IdempotentReplay)
    );
}

#[test]
fn same_idempotency_token_with_another_digest_is_idempotency_mismatch() {
    // Rule: a token reused with a different request is refused.
    let s = stream();
    let first = key("tok-1", digest_of(b"a"));
    let g = given(hosted_profile_history()).and([created_with_key(1, b"a", first)]);
    let other = key("tok-1", digest_of(b"b"));
    let request = AppendVersion {
        idempotency: Some(&other),
        ..append(&s, b"b")
    };
    assert_eq!(
        rejected(&g, &request).kind(),
        RejectionKind::IdempotencyMismatch
    );
}

#[test]
fn idempotency_mismatch_is_reported_before_a_version_mismatch() {
    // Rule: idempotency is the first check.
    let s = stream();
    let first = key("tok-1", digest_of(b"a"));
    let g = given(hosted_profile_history()).and([created_with_key(1, b"a", first)]);
    let other = key("tok-1", digest_of(b"b"));
    let request = AppendVersion {
        expected_latest: Some(v(9)),
        idempotency: Some(&other),
        ..append(&s, b"b")
    };
    assert_eq!(
        rejected(&g, &request).kind(),
        RejectionKind::IdempotencyMismatch
    );
}

#[test]
fn a_new_idempotency_token_appends() {
    // Rule: a token not seen in the stream is a fresh request.
    let s = stream();
    let g = given(hosted_profile_history()).and([created_with_key(
        1,
        b"a",
        key("tok-1", digest_of(b"a")),
    )]);
    let fresh = key("tok-2", digest_of(b"a"));
    let request = AppendVersion {
        idempotency: Some(&fresh),
        ..append(&s, b"a")
    };
    assert_eq!(appended(&g, &request), 2);
}

#[test]
fn idempotency_tokens_are_scoped_to_their_stream() {
    // Rule: the same token in another stream is another key.
    let k = key("tok-1", digest_of(b"a"));
    let g = given(hosted_profile_history()).and([created_with_key(1, b"a", k)]);
    let other_stream = hosted("app1", "prf2");
    let different = key("tok-1", digest_of(b"b"));
    let request = AppendVersion {
        idempotency: Some(&different),
        ..append(&other_stream, b"b")
    };
    assert_eq!(appended(&g, &request), 1);
}

#[test]
fn recording_an_idempotency_key_projects_it() {
    // Rule: apply records each key's digest and the version it produced.
    let k = key("tok-1", digest_of(b"a"));
    let g = given(hosted_profile_history()).and([created_with_key(1, b"a", k.clone())]);
    let record = g
        .state()
        .idempotency(&stream(), "tok-1")
        .expect("the key was recorded");
    assert_eq!(record.digest, k.digest);
    assert_eq!(record.version, v(1));
}

// --- unchanged content ---------------------------------------------------------------
// (The `ReturnExisting` rule belongs to Connect views' kind: see connect_views.rs.)

#[test]
fn new_version_with_unchanged_content_appends() {
    // Rule: under NewVersion, equal content still gets a new version (AppConfig).
    let s = stream();
    let g = with_versions(&[b"a", b"b"]);
    assert_eq!(appended(&g, &append(&s, b"b")), 3);
}

// --- request digests ------------------------------------------------------------------

#[test]
fn request_digest_distinguishes_absent_from_empty_optional_fields() {
    // Rule: a missing optional field and an empty one are different requests.
    let absent = RequestDigest::new("Op").optional(None).finish();
    let empty = RequestDigest::new("Op").optional(Some(b"")).finish();
    assert_ne!(absent, empty);
}

#[test]
fn request_digest_is_a_function_of_its_fields() {
    // Rule: the same fields in the same order give the same digest.
    let build = || {
        RequestDigest::new("Op")
            .field(b"a")
            .optional(Some(b"b"))
            .optional(None)
            .finish()
    };
    assert_eq!(build(), build());
}

#[test]
fn request_digest_separates_field_boundaries_and_operations() {
    // Rule: fields are length-prefixed and the operation is part of the digest.
    let ab_c = RequestDigest::new("Op").field(b"ab").field(b"c").finish();
    let a_bc = RequestDigest::new("Op").field(b"a").field(b"bc").finish();
    assert_ne!(ab_c, a_bc);
    let other_op = RequestDigest::new("Other")
        .field(b"ab")
        .field(b"c")
        .finish();
    assert_ne!(ab_c, other_op);
    let absent_then_x = RequestDigest::new("Op").optional(None).field(b"x").finish();
    let x_then_absent = RequestDigest::new("Op").field(b"x").optional(None).finish();
    assert_ne!(absent_then_x, x_then_absent);
}

#[test]
fn request_digest_covers_every_entry_of_a_map() {
    // Rule: a request's tags are part of its digest, key and value alike.
    use std::collections::BTreeMap;
    let of = |pairs: &[(&str, &str)]| {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        RequestDigest::new("Op").pairs(&map).finish()
    };
    assert_eq!(of(&[("a", "1"), ("b", "2")]), of(&[("b", "2"), ("a", "1")]));
    assert_ne!(of(&[("a", "1")]), of(&[("a", "2")]));
    assert_ne!(of(&[("a", "1")]), of(&[("b", "1")]));
    assert_ne!(of(&[("a", "1")]), of(&[("a", "1"), ("b", "2")]));
}
