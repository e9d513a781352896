//! A failed durable barrier: nobody in the group is acknowledged, the store is poisoned
//! until reopened, and the reopened store is consistent. And what a barrier under way
//! holds back (C7).
#![cfg(feature = "failpoints")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Barrier};
use std::thread;

use verso_domain::{ApplicationId, ProfileId};
use verso_storage::{ErrorKind, NewHostedVersion, PageRequest, Store};

fn reopen(dir: &std::path::Path) -> Store {
    Store::open(dir).unwrap()
}

/// A store in `dir` with a hosted profile whose version 1, `content`, is acknowledged.
fn with_one_version(dir: &std::path::Path, content: &[u8]) -> (Store, ApplicationId, ProfileId) {
    let store = Store::open(dir).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    store
        .create_hosted_version(&app, &profile, version(content.to_vec()))
        .wait()
        .unwrap()
        .unwrap();
    (store, app, profile)
}

fn version(content: Vec<u8>) -> NewHostedVersion {
    NewHostedVersion {
        content,
        content_type: "text/plain".into(),
        ..Default::default()
    }
}

#[test]
fn a_failed_sync_acknowledges_nothing_poisons_the_store_and_reopens_consistent() {
    // Invariant C4: after a failed barrier no caller of the group is acknowledged and
    // the store refuses everything until reopened; C3: what reached sled is whole groups,
    // so the reopened log verifies and its versions are a gapless prefix (E1, E4).
    const THREADS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    let head_before = store.head();

    store.fail_next_syncs(1);
    let start = Arc::new(Barrier::new(THREADS));
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                store
                    .create_hosted_version(&app, &profile, version(format!("w{t}").into_bytes()))
                    .wait()
            })
        })
        .collect();
    let results: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let mut injected = 0;
    for result in &results {
        match result {
            Ok(outcome) => panic!("acknowledged after a failed barrier: {outcome:?}"),
            Err(e) if e.kind() == ErrorKind::Poisoned => {}
            Err(e) if e.kind() == ErrorKind::Io && e.to_string().contains("injected") => {
                injected += 1;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert!(
        injected >= 1,
        "no caller saw the injected failure: {results:?}"
    );
    assert!(store.is_poisoned());
    // The published head did not move: nothing was acknowledged.
    assert_eq!(store.head(), head_before);

    let later = store
        .create_hosted_version(&app, &profile, version(b"later".to_vec()))
        .wait();
    assert_eq!(later.unwrap_err().kind(), ErrorKind::Poisoned);
    let closed = store.close();
    assert_eq!(closed.unwrap_err().kind(), ErrorKind::Poisoned);

    let store = reopen(dir.path());
    assert!(!store.is_poisoned());
    store.verify().unwrap().expect("verify after reopen");
    let page = PageRequest {
        max_results: Some(1000),
        next_token: None,
    };
    let page = store
        .hosted_versions(&app, &profile, None, &page)
        .unwrap()
        .unwrap();
    let mut present: Vec<u64> = page.items.iter().map(|r| r.version.get()).collect();
    present.sort_unstable();
    let m = present.len() as u64;
    // Only the failed group, and any appended behind it while its barrier ran (C7), can
    // have reached sled, and only whole groups (C3): never an acknowledged-looking gap.
    assert!(
        m <= u64::try_from(injected).unwrap(),
        "{m} versions present, {injected} in the failed groups"
    );
    assert_eq!(present, (1..=m).collect::<Vec<_>>(), "not a gapless prefix");
    assert_eq!(store.head().position, head_before.position + m);
    // The reopened store takes writes again, numbering on from what is there.
    let next = store
        .create_hosted_version(&app, &profile, version(b"after reopen".to_vec()))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(next.version.get(), m + 1);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn a_failed_group_is_never_visible_and_acknowledged_reads_keep_working() {
    // Invariants R1 and C4: readers see only groups whose barrier succeeded; after a
    // failed one the store is poisoned, nothing of that group is ever visible, reads of
    // acknowledged data go on working, and verify says the store is poisoned.
    let dir = tempfile::tempdir().unwrap();
    let (store, app, profile) = with_one_version(dir.path(), b"acknowledged");
    let head = store.head();

    store.fail_next_syncs(1);
    let failed = store
        .create_hosted_version(&app, &profile, version(b"never stored".to_vec()))
        .wait();
    assert_eq!(failed.unwrap_err().kind(), ErrorKind::Io);
    assert!(store.is_poisoned());

    // Nothing of the failed group: not in the head, the projections or the log.
    assert_eq!(store.head(), head);
    let page = PageRequest::default();
    let listed = store
        .hosted_versions(&app, &profile, None, &page)
        .unwrap()
        .unwrap();
    let versions: Vec<u64> = listed.items.iter().map(|r| r.version.get()).collect();
    assert_eq!(versions, vec![1]);
    let missing = store.hosted_version(&app, &profile, 2).unwrap();
    assert!(
        missing.is_err(),
        "the failed version is visible: {missing:?}"
    );
    let positions: Vec<u64> = store
        .events(verso_domain::Position::FIRST)
        .map(|r| r.unwrap().position.get())
        .collect();
    assert_eq!(positions.last().copied(), Some(head.position));

    // Acknowledged data still reads, with its bytes.
    let latest = store
        .latest_hosted_version(&app, &profile)
        .unwrap()
        .unwrap();
    assert_eq!(latest.content, b"acknowledged");

    // Whole-store checks answer plainly that the store is poisoned.
    assert_eq!(store.verify().unwrap_err().kind(), ErrorKind::Poisoned);
    assert_eq!(store.rebuild().unwrap_err().kind(), ErrorKind::Poisoned);
}

#[test]
fn a_group_appended_behind_a_failed_barrier_gets_its_error_and_is_never_visible() {
    // Invariant C7: the writer appends the next group while a barrier runs; when that
    // barrier fails, the group behind it is answered with the barrier's error (it may
    // have reached the disk with it), is never published, and the store is poisoned.
    let dir = tempfile::tempdir().unwrap();
    let (store, app, profile) = with_one_version(dir.path(), b"acknowledged");
    let head = store.head();
    let appended = store.appended_groups();

    let held = store.hold_barrier();
    store.fail_next_syncs(1);
    let first = store.create_hosted_version(&app, &profile, version(b"first".to_vec()));
    wait_for(|| store.appended_groups() == appended + 1);
    let behind = store.create_hosted_version(&app, &profile, version(b"behind".to_vec()));
    // The second group is decided against the first (version 3) and appended while the
    // first one's barrier is held.
    wait_for(|| store.appended_groups() == appended + 2);
    assert_eq!(store.head(), head, "published before its barrier returned");
    drop(held);

    for (name, outcome) in [("first", first.wait()), ("behind", behind.wait())] {
        let e = outcome.expect_err(name);
        assert_eq!(e.kind(), ErrorKind::Io, "{name}: {e}");
        assert!(e.to_string().contains("injected"), "{name}: {e}");
    }
    assert!(store.is_poisoned());
    assert_eq!(store.head(), head);
    let listed = store
        .hosted_versions(&app, &profile, None, &PageRequest::default())
        .unwrap()
        .unwrap();
    let versions: Vec<u64> = listed.items.iter().map(|r| r.version.get()).collect();
    assert_eq!(versions, vec![1], "a failed or later group is visible");
    let last = store
        .events(verso_domain::Position::FIRST)
        .map(|r| r.unwrap().position.get())
        .last();
    assert_eq!(last, Some(head.position));
    let later = store
        .create_hosted_version(&app, &profile, version(b"later".to_vec()))
        .wait();
    assert_eq!(later.unwrap_err().kind(), ErrorKind::Poisoned);
    drop(store);

    // After a reopen: whole groups, a gapless prefix, and a store that verifies.
    let store = reopen(dir.path());
    store.verify().unwrap().expect("verify after reopen");
    let listed = store
        .hosted_versions(&app, &profile, None, &PageRequest::default())
        .unwrap()
        .unwrap();
    let mut versions: Vec<u64> = listed.items.iter().map(|r| r.version.get()).collect();
    versions.sort_unstable();
    assert!(
        [vec![1], vec![1, 2], vec![1, 2, 3]].contains(&versions),
        "{versions:?}"
    );
    store.close().unwrap();
}

#[test]
fn an_answer_that_rests_on_a_group_in_flight_waits_for_its_barrier() {
    // Invariant C7: a command refused against a group whose barrier is under way appends
    // nothing, but its answer says something about that group, so it is given only once
    // the group is durable and published.
    let dir = tempfile::tempdir().unwrap();
    let (store, app, profile) = with_one_version(dir.path(), b"v1");
    let appended = store.appended_groups();

    let held = store.hold_barrier();
    let second = store.create_hosted_version(&app, &profile, version(b"v2".to_vec()));
    wait_for(|| store.appended_groups() == appended + 1);
    // Decided against version 2, which is in flight: refused, appending nothing.
    let stale = NewHostedVersion {
        latest_version_number: Some(1),
        ..version(b"stale".to_vec())
    };
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused = {
        let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
        let answered = Arc::clone(&answered);
        thread::spawn(move || {
            let outcome = store.create_hosted_version(&app, &profile, stale).wait();
            answered.store(true, std::sync::atomic::Ordering::SeqCst);
            outcome
        })
    };
    thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !answered.load(std::sync::atomic::Ordering::SeqCst),
        "answered before the group it rests on was durable"
    );
    assert_eq!(store.appended_groups(), appended + 1);
    drop(held);

    assert_eq!(second.wait().unwrap().unwrap().version.get(), 2);
    let refusal = refused.join().unwrap().unwrap();
    assert!(refusal.is_err(), "{refusal:?}");
    assert_eq!(store.appended_groups(), appended + 1);
    store.close().unwrap();
}

/// Waits (at most 30 s) until `done` holds.
fn wait_for(done: impl Fn() -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < until, "timed out");
        thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn a_failed_checkpoint_poisons_the_store_and_loses_no_acknowledged_write() {
    // Invariants K1 and C4: a checkpoint that cannot be written poisons the store (sled's
    // state is unknown after a failed write); every write acknowledged before it is
    // there after a reopen, from the log.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    store.close().unwrap();
    // Now every group is checkpointed, and the first checkpoint is the one after v1.
    let store = verso_storage::StoreOptions::new()
        .checkpoint_groups(1)
        .open(dir.path())
        .unwrap();
    store.fail_next_checkpoints(1);
    let acknowledged = store
        .create_hosted_version(&app, &profile, version(b"v1".to_vec()))
        .wait()
        .unwrap()
        .unwrap();
    // The checkpoint runs after the acknowledgement, on its own thread.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !store.is_poisoned() {
        assert!(std::time::Instant::now() < deadline, "never poisoned");
        thread::sleep(std::time::Duration::from_millis(5));
    }
    let refused = store
        .create_hosted_version(&app, &profile, version(b"v2".to_vec()))
        .wait();
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::Poisoned);
    drop(store);

    let store = reopen(dir.path());
    let got = store
        .hosted_version(&app, &profile, acknowledged.version.get())
        .unwrap()
        .unwrap();
    assert_eq!(got.content, b"v1");
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn a_full_queue_makes_try_submit_refuse_with_busy_and_submit_wait() {
    // Backpressure: the writer's queue is bounded. With the writer held and a queue of
    // one, at most two commands are taken (one in the writer's hands, one queued); the
    // rest are refused with `Busy`, appending nothing, and a waiting `submit` completes
    // once the writer goes on.
    let dir = tempfile::tempdir().unwrap();
    let store = verso_storage::StoreOptions::new()
        .queue(1)
        .max_batch(1)
        .open(dir.path())
        .unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    let shedding = store.refusing_when_busy();
    let held = store.hold_writer();
    let tickets: Vec<_> = (0..4)
        .map(|n| {
            shedding.create_hosted_version(&app, &profile, version(format!("v{n}").into_bytes()))
        })
        .collect();
    // A blocking submit waits for room rather than failing.
    let waiting = {
        let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
        thread::spawn(move || {
            store
                .create_hosted_version(&app, &profile, version(b"waited".to_vec()))
                .wait()
        })
    };
    thread::sleep(std::time::Duration::from_millis(50));
    drop(held);
    let results: Vec<_> = tickets.into_iter().map(|t| t.wait()).collect();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.kind() == ErrorKind::Busy))
        .count();
    let accepted = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert!(busy >= 2, "{results:?}");
    assert_eq!(busy + accepted, 4, "{results:?}");
    waiting.join().unwrap().unwrap().unwrap();
    let page = PageRequest::default();
    let listed = store
        .hosted_versions(&app, &profile, None, &page)
        .unwrap()
        .unwrap();
    assert_eq!(
        listed.items.len(),
        accepted + 1,
        "refused commands appended nothing"
    );
    store.close().unwrap();
}
