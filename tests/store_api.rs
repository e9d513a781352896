//! The library API as a user sees it through the `verso` facade: tickets from blocking
//! and async code, actors in the log, close, content stored once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use verso::{
    ApplicationId, ContentHash, ErrorKind, Event, NewApplication, NewHostedVersion, NewProfile,
    Position, ProfileId, Store,
};

fn setup(store: &Store) -> (ApplicationId, ProfileId) {
    let app = store
        .create_application(NewApplication {
            name: "app".into(),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap();
    let profile = store
        .create_profile(
            &app.id,
            NewProfile {
                name: "profile".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap();
    (app.id, profile.id)
}

fn json(content: &str) -> NewHostedVersion {
    NewHostedVersion {
        content: content.as_bytes().to_vec(),
        content_type: "application/json".into(),
        ..Default::default()
    }
}

#[test]
fn tickets_can_be_awaited_from_a_multi_threaded_tokio_runtime() {
    // Completions work from tokio: the ticket is a plain Future woken by the writer.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let versions = runtime.block_on(async {
        let mut handles = Vec::new();
        for i in 0..20 {
            let store = store.clone();
            let (app, profile) = (app.clone(), profile.clone());
            handles.push(tokio::spawn(async move {
                store
                    .create_hosted_version(&app, &profile, json(&format!("{{\"i\":{i}}}")))
                    .await
                    .unwrap()
                    .unwrap()
                    .version
                    .get()
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    });
    let mut sorted = versions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=20).collect::<Vec<_>>());
    store.close().unwrap();
}

#[test]
fn tickets_can_be_awaited_from_a_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let app = runtime.block_on(async {
        store
            .create_application(NewApplication {
                name: "async".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .unwrap()
    });
    assert_eq!(app.name, "async");
    store.close().unwrap();
}

#[test]
fn the_actor_of_a_handle_is_recorded_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let alice = store.with_actor("alice");
    alice
        .create_application(NewApplication {
            name: "by-alice".into(),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap();
    store
        .create_application(NewApplication {
            name: "anonymous".into(),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap();
    let events: Vec<_> = store
        .events(Position::FIRST)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].actor.as_deref(), Some("alice"));
    assert_eq!(events[1].actor, None);
    assert!(events[0].timestamp <= events[1].timestamp);
    store.close().unwrap();
}

#[test]
fn events_are_read_back_in_gapless_position_order() {
    // E1, seen from the audit API.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    for i in 0..5 {
        store
            .create_hosted_version(&app, &profile, json(&format!("{i}")))
            .wait()
            .unwrap()
            .unwrap();
    }
    let positions: Vec<u64> = store
        .events(Position::FIRST)
        .map(|r| r.unwrap().position.get())
        .collect();
    assert_eq!(positions, (1..=7).collect::<Vec<_>>());
    let tail: Vec<u64> = store
        .events(Position::new(6))
        .map(|r| r.unwrap().position.get())
        .collect();
    assert_eq!(tail, vec![6, 7]);
    assert!(matches!(
        store
            .events(Position::new(3))
            .next()
            .unwrap()
            .unwrap()
            .event,
        Event::VersionCreated { .. }
    ));
    assert_eq!(store.head().position, 7);
    store.close().unwrap();
}

#[test]
fn identical_content_is_stored_once_and_found_by_its_hash() {
    // D3: content-addressed storage; the content-hash view lists every live use.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    let a = store
        .create_hosted_version(&app, &profile, json("{\"same\":1}"))
        .wait()
        .unwrap()
        .unwrap();
    let b = store
        .create_hosted_version(&app, &profile, json("{\"same\":1}"))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(a.content.hash, b.content.hash);
    assert_eq!(a.content.hash, ContentHash::of(b"{\"same\":1}"));
    let uses = store.versions_with_content(a.content.hash).unwrap();
    assert_eq!(
        uses.iter().map(|r| r.version.get()).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let report = store.verify().unwrap().unwrap();
    assert_eq!(report.contents, 1, "two versions, one stored content");
    store
        .delete_hosted_version(&app, &profile, 1)
        .wait()
        .unwrap()
        .unwrap();
    let uses = store.versions_with_content(a.content.hash).unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(
        store.content(a.content.hash).unwrap().unwrap(),
        b"{\"same\":1}"
    );
    store.close().unwrap();
}

#[test]
fn a_closed_store_refuses_work_and_close_reports_the_final_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let other = store.clone();
    setup(&store);
    let head = store.close().unwrap();
    assert_eq!(head.position, 2);
    let refused = other
        .create_application(NewApplication {
            name: "late".into(),
            ..Default::default()
        })
        .wait()
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Closed);
    assert_eq!(other.verify().unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(other.close().unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn dropping_the_last_handle_closes_the_store_so_it_can_be_reopened() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        setup(&store);
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().position, 2);
    store.close().unwrap();
}

#[test]
fn rebuild_reproduces_the_projections_and_verify_agrees() {
    // E6: rebuild drops the projections and replays the log; every answer is unchanged.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    for i in 0..10 {
        let mut v = json(&format!("{i}"));
        v.label = Some(if i % 2 == 0 { "even" } else { "odd" }.into());
        store
            .create_hosted_version(&app, &profile, v)
            .wait()
            .unwrap()
            .unwrap();
    }
    store
        .delete_hosted_version(&app, &profile, 10)
        .wait()
        .unwrap()
        .unwrap();
    let before = store
        .hosted_version_by_label(&app, &profile, "odd")
        .unwrap()
        .unwrap();
    let report = store.rebuild().unwrap().unwrap();
    assert_eq!(report.events, 13);
    let after = store
        .hosted_version_by_label(&app, &profile, "odd")
        .unwrap()
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(after.record.version.get(), 8);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}
