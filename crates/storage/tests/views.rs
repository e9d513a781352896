//! Connect views through the store: a ClientToken survives a reopen and a rebuild (the
//! key lives in the log), DeleteView's cascade is one group, `verify` and `rebuild` fold
//! views and their versions, and a stale hash appends nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use verso_domain::{ConnectInstanceId, RejectionKind, ViewContent, ViewStatus};
use verso_storage::{NewView, PageRequest, Refused, Store};

fn instance() -> ConnectInstanceId {
    ConnectInstanceId::parse("inst-1").unwrap()
}

fn content(template: &str) -> ViewContent {
    ViewContent {
        actions: vec!["Submit".to_owned()],
        template: template.to_owned(),
    }
}

fn new_view(name: &str, token: Option<&str>) -> NewView {
    NewView {
        name: name.to_owned(),
        description: Some("the intake view".to_owned()),
        status: ViewStatus::Published,
        content: content("{}"),
        tags: BTreeMap::from([("team".to_owned(), "support".to_owned())]),
        client_token: token.map(str::to_owned),
    }
}

fn rejection_kind(refused: &Refused) -> RejectionKind {
    refused.kind()
}

#[test]
fn a_client_token_answers_with_the_first_view_after_reopen_and_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store
        .create_view(&instance(), new_view("intake", Some("tok-1")))
        .wait()
        .unwrap()
        .unwrap();
    let head = store.close().unwrap();

    let store = Store::open(dir.path()).unwrap();
    let again = store
        .create_view(&instance(), new_view("intake", Some("tok-1")))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(store.head(), head, "a replayed token appends nothing");
    assert!(store.rebuild().unwrap().is_ok());
    let refused = store
        .create_view(&instance(), new_view("other name", Some("tok-1")))
        .wait()
        .unwrap()
        .unwrap_err();
    assert_eq!(rejection_kind(&refused), RejectionKind::IdempotencyMismatch);
    assert_eq!(store.head(), head);
    store.close().unwrap();
}

#[test]
fn versions_delete_and_verify_fold_views() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let view = store
        .create_view(&instance(), new_view("intake", None))
        .wait()
        .unwrap()
        .unwrap();
    let v1 = store
        .create_view_version(&instance(), &view.id, Some("first".into()), None)
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(v1.version.get(), 1);
    store
        .update_view_content(
            &instance(),
            &view.id,
            ViewStatus::Published,
            &content(r#"{"a":1}"#),
        )
        .wait()
        .unwrap()
        .unwrap();
    let head = store.head();
    let stale = store
        .create_view_version(&instance(), &view.id, None, Some(v1.content.hash))
        .wait()
        .unwrap()
        .unwrap_err();
    assert_eq!(rejection_kind(&stale), RejectionKind::ContentMismatch);
    assert_eq!(store.head(), head, "a stale hash appends nothing");
    let latest = store.connect_view(&instance(), &view.id).unwrap().unwrap();
    let v2 = store
        .create_view_version(&instance(), &view.id, None, latest.latest.map(|c| c.hash))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(v2.version.get(), 2);
    assert_eq!(
        store.view_content(v2.content).unwrap(),
        content(r#"{"a":1}"#)
    );
    assert!(store.verify().unwrap().is_ok());
    assert!(store.rebuild().unwrap().is_ok());
    assert!(store.verify().unwrap().is_ok());

    let before = store.head().position;
    store
        .delete_view(&instance(), &view.id)
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(
        store.head().position,
        before + 3,
        "two VersionDeleted, then ViewDeleted"
    );
    assert!(store.connect_view(&instance(), &view.id).unwrap().is_err());
    let listed = store
        .connect_views(&instance(), &PageRequest::default())
        .unwrap()
        .unwrap();
    assert!(listed.items.is_empty());
    assert!(store.verify().unwrap().is_ok());
    store.close().unwrap();
}
