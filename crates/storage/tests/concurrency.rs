//! Concurrent writers against one stream: version numbers stay gapless and unique, and
//! an optimistic lock admits exactly one of many racing writers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use verso_domain::{ApplicationId, ProfileId};
use verso_storage::{NewHostedVersion, Refused, Store};

/// A store with one application and one hosted profile.
fn store_with_profile(dir: &std::path::Path) -> (Store, ApplicationId, ProfileId) {
    let store = Store::open(dir).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    (store, app, profile)
}

fn version(content: Vec<u8>, latest: Option<u64>) -> NewHostedVersion {
    NewHostedVersion {
        content,
        content_type: "text/plain".into(),
        latest_version_number: latest,
        ..Default::default()
    }
}

#[test]
fn sixteen_threads_creating_five_hundred_versions_each_get_exactly_one_to_eight_thousand() {
    // Invariant E1 (gapless positions) and E4 (versions increase by one, never reused):
    // the single writer hands out every number once, whatever the interleaving.
    const THREADS: u64 = 16;
    const EACH: u64 = 500;
    let dir = tempfile::tempdir().unwrap();
    let (store, app, profile) = store_with_profile(dir.path());
    let start = Arc::new(Barrier::new(usize::try_from(THREADS).unwrap()));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..EACH)
                    .map(|i| {
                        let content = format!("thread {t} sequence {i}").into_bytes();
                        store
                            .create_hosted_version(&app, &profile, version(content, None))
                            .wait()
                            .expect("fail-stop error")
                            .expect("refused")
                            .version
                            .get()
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.join().unwrap());
    }
    let total = THREADS * EACH;
    assert_eq!(all.len() as u64, total);
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(
        unique.len() as u64,
        total,
        "a version number was handed out twice"
    );
    assert_eq!(
        unique,
        (1..=total).collect::<BTreeSet<u64>>(),
        "gap in versions"
    );
    // Two records before the versions: the application and the profile.
    assert_eq!(store.head().position, total + 2);
    let report = store.verify().unwrap().expect("verify");
    assert_eq!(report.head.position, total + 2);
    store.close().unwrap();
}

#[test]
fn sixteen_threads_racing_on_the_same_latest_version_number_let_exactly_one_win() {
    // Invariant E5 (the optimistic lock is decided against the state the group has built
    // so far): of sixteen creates that all expect latest = n, one appends n + 1 and the
    // other fifteen are conflicts.
    const THREADS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let (store, app, profile) = store_with_profile(dir.path());
    for i in 0..3u64 {
        let v = store
            .create_hosted_version(&app, &profile, version(vec![b'x'; 3], Some(i)))
            .wait()
            .unwrap()
            .unwrap();
        assert_eq!(v.version.get(), i + 1);
    }
    let n = 3;
    let start = Arc::new(Barrier::new(THREADS));
    let racers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let content = format!("racer {t}").into_bytes();
                start.wait();
                store
                    .create_hosted_version(&app, &profile, version(content, Some(n)))
                    .wait()
                    .expect("fail-stop error")
            })
        })
        .collect();
    let outcomes: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let conflicts = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Refused::Conflict(_))))
        .count();
    assert_eq!(winners.len(), 1, "outcomes: {outcomes:?}");
    assert_eq!(winners[0].version.get(), n + 1);
    assert_eq!(conflicts, THREADS - 1, "outcomes: {outcomes:?}");
    let latest = store
        .latest_hosted_version(&app, &profile)
        .unwrap()
        .unwrap();
    assert_eq!(latest.record.version.get(), n + 1);
    store.verify().unwrap().expect("verify");
    store.close().unwrap();
}
