//! `Store::stats`: the writer counts each acknowledged group, its commands and the
//! records it appended, and nothing that was not written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Barrier};
use std::thread;

use verso_storage::{NewHostedVersion, Refused, Store, StoreOptions, WriteStats};

fn version(content: Vec<u8>, latest: Option<u64>) -> NewHostedVersion {
    NewHostedVersion {
        content,
        content_type: "text/plain".into(),
        latest_version_number: latest,
        ..Default::default()
    }
}

#[test]
fn a_new_store_has_counted_nothing_and_each_lone_write_is_one_group_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.stats(), WriteStats::default());
    let (app, profile) = support::app_with_hosted_profile(&store);
    let before = store.stats();
    assert_eq!((before.groups, before.commands, before.records), (2, 2, 2));
    for i in 0..3 {
        store
            .create_hosted_version(&app, &profile, version(format!("v{i}").into_bytes(), None))
            .wait()
            .unwrap()
            .unwrap();
    }
    let delta = store.stats().since(before);
    assert_eq!((delta.groups, delta.commands, delta.records), (3, 3, 3));
    store.close().unwrap();
}

#[test]
fn a_group_that_only_refused_is_not_counted() {
    // Only written groups are counted: a refusal appends nothing and crosses no barrier.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    let before = store.stats();
    let refused = store
        .create_hosted_version(&app, &profile, version(b"stale".to_vec(), Some(7)))
        .wait()
        .unwrap();
    assert!(matches!(refused, Err(Refused::Conflict(_))), "{refused:?}");
    assert_eq!(store.stats(), before);
    store.close().unwrap();
}

#[test]
fn concurrent_writers_are_counted_once_each_in_at_most_as_many_groups() {
    const THREADS: usize = 8;
    const EACH: u64 = 50;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    let before = store.stats();
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for i in 0..EACH {
                    let content = format!("thread {t} sequence {i}").into_bytes();
                    store
                        .create_hosted_version(&app, &profile, version(content, None))
                        .wait()
                        .unwrap()
                        .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let delta = store.stats().since(before);
    let total = EACH * u64::try_from(THREADS).unwrap();
    assert_eq!(delta.commands, total);
    assert_eq!(delta.records, total);
    assert!((1..=total).contains(&delta.groups), "{delta:?}");
    store.close().unwrap();
}

#[test]
fn with_max_batch_one_every_command_is_its_own_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreOptions::new().max_batch(1).open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    let before = store.stats();
    let pending: Vec<_> = (0..20)
        .map(|i| {
            store.create_hosted_version(&app, &profile, version(format!("{i}").into_bytes(), None))
        })
        .collect();
    for p in pending {
        p.wait().unwrap().unwrap();
    }
    let delta = store.stats().since(before);
    assert_eq!((delta.groups, delta.commands, delta.records), (20, 20, 20));
    store.close().unwrap();
}
