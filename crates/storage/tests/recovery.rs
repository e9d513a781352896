//! Opening and reopening: format markers, the directory lock, data surviving a close,
//! version numbers never reused, no unsynced sled blobs, and the buffered mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/logs.rs"]
mod logs;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use verso_domain::{ApplicationId, ContentHash, ProfileId};
use verso_storage::{
    Durability, ErrorKind, NewHostedVersion, PageRequest, Store, StoreOptions, ViolationKind,
};

fn setup(store: &Store) -> (ApplicationId, ProfileId) {
    support::app_with_hosted_profile(store)
}

fn create(store: &Store, app: &ApplicationId, profile: &ProfileId, content: Vec<u8>) -> u64 {
    store
        .create_hosted_version(
            app,
            profile,
            NewHostedVersion {
                content,
                content_type: "application/octet-stream".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap()
        .version
        .get()
}

/// The live version numbers of a profile, oldest first.
fn live_versions(store: &Store, app: &ApplicationId, profile: &ProfileId) -> Vec<u64> {
    let page = PageRequest {
        max_results: Some(1000),
        next_token: None,
    };
    let page = store
        .hosted_versions(app, profile, None, &page)
        .unwrap()
        .unwrap();
    assert!(page.next_token.is_none());
    let mut versions: Vec<u64> = page.items.iter().map(|r| r.version.get()).collect();
    versions.reverse();
    versions
}

/// Opens a store again.
fn reopen(dir: &Path) -> Store {
    Store::open(dir).unwrap()
}

/// The store's format marker is this build's (store format 3).
fn assert_marked_current(db: &sled::Db) {
    assert_eq!(
        db.get(b"\x00format").unwrap().unwrap().as_ref(),
        b"verso-log\x03"
    );
}

/// A closed, empty store in a fresh directory.
fn closed_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path()).unwrap().close().unwrap();
    dir
}

/// Opens the directory with sled directly (retrying sled's lock, which `Store::open` does itself)
/// and lets `edit` change it.
fn edit_with_sled(dir: &Path, edit: impl FnOnce(&sled::Db)) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let db = loop {
        match sled::Config::new().path(dir).open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => break other.unwrap(),
        }
    };
    edit(&db);
    db.flush().unwrap();
}

#[test]
fn a_store_whose_format_marker_says_nine_is_refused_naming_format_nine() {
    // Invariant L2: a store of a format this build does not know is never read.
    let dir = closed_store();
    edit_with_sled(dir.path(), |db| {
        db.insert(b"\x00format", &b"verso-log\x09"[..]).unwrap();
    });
    let err = Store::open(dir.path()).expect_err("opened a format-9 store");
    assert_eq!(err.kind(), ErrorKind::UnknownFormat, "{err}");
    assert!(err.to_string().contains("format 9"), "{err}");
    let err = verso_storage::verify_path(dir.path(), &mut |_| {}).expect_err("verified it");
    assert_eq!(err.kind(), ErrorKind::UnknownFormat, "{err}");
}

/// Makes a closed store look as the builds before store format 2 wrote it: content in
/// `C` chunks by hash (`C` + sha256 + chunk index), content headers holding the length
/// only, projection format 2 and the format-1 marker (docs/design/event-log.md).
fn as_store_format_1(dir: &Path, contents: &[Vec<u8>]) {
    edit_with_sled(dir, |db| {
        for prefix in [b"P", b"Q"] {
            for item in db.scan_prefix(prefix) {
                db.remove(item.unwrap().0).unwrap();
            }
        }
        for content in contents {
            let hash = ContentHash::of(content);
            for (index, chunk) in (0u32..).zip(content.chunks(4096)) {
                let mut key = vec![b'C'];
                key.extend_from_slice(hash.as_bytes());
                key.extend_from_slice(&index.to_be_bytes());
                db.insert(key, chunk).unwrap();
            }
            let mut header = vec![b'c'];
            header.extend_from_slice(hash.as_bytes());
            db.insert(header, &(content.len() as u64).to_be_bytes()[..])
                .unwrap();
        }
        db.insert(b"\x00projection-format", &[2u8]).unwrap();
        db.insert(b"\x00format", &b"verso-log\x01"[..]).unwrap();
    });
}

#[test]
fn a_store_of_format_1_keeps_its_content_readable_and_packs_what_it_adds() {
    // Store format 2 (docs/design/event-log.md): a store an earlier build wrote opens
    // without rewriting its content; its marker says 2 afterwards, so an earlier build
    // refuses it rather than miss the packed content.
    let dir = tempfile::tempdir().unwrap();
    let old = vec![vec![1u8; 10], vec![2u8; 3 * 4096 + 5], Vec::new()];
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    for content in &old {
        create(&store, &app, &profile, content.clone());
    }
    store.close().unwrap();
    as_store_format_1(dir.path(), &old);
    let verified = verso_storage::verify_path(dir.path(), &mut |_| {}).unwrap();
    assert!(verified.is_ok(), "{verified:?}");

    let store = reopen(dir.path());
    for (version, content) in (1..).zip(&old) {
        let read = store
            .hosted_version(&app, &profile, version)
            .unwrap()
            .unwrap();
        assert_eq!(&read.content, content, "version {version}");
    }
    let new = vec![3u8; 5000];
    assert_eq!(create(&store, &app, &profile, new.clone()), 4);
    assert!(store.verify().unwrap().is_ok());
    store.close().unwrap();
    edit_with_sled(dir.path(), |db| {
        assert_marked_current(db);
        assert!(
            db.scan_prefix(b"P").next().is_some(),
            "the new content is packed"
        );
    });
    let store = reopen(dir.path());
    assert_eq!(
        store
            .hosted_version(&app, &profile, 4)
            .unwrap()
            .unwrap()
            .content,
        new
    );
    assert_eq!(
        store
            .hosted_version(&app, &profile, 2)
            .unwrap()
            .unwrap()
            .content,
        old[1]
    );
    store.close().unwrap();
    let verified = verso_storage::verify_path(dir.path(), &mut |_| {}).unwrap();
    assert!(verified.is_ok(), "{verified:?}");
}

#[test]
fn a_sled_database_without_a_format_marker_is_refused() {
    // Invariant L2: a sled database that is not a Verso store is not adopted as one.
    let dir = tempfile::tempdir().unwrap();
    edit_with_sled(dir.path(), |db| {
        db.insert(b"someone else's key", &b"value"[..]).unwrap();
    });
    let err = Store::open(dir.path()).expect_err("adopted a foreign database");
    assert_eq!(err.kind(), ErrorKind::UnknownFormat, "{err}");
    // Nothing was written to it.
    edit_with_sled(dir.path(), |db| {
        assert_eq!(db.len(), 1);
        assert!(db.get(b"\x00format").unwrap().is_none());
    });
}

#[test]
fn a_directory_held_open_by_another_store_is_locked() {
    // One writer per directory (D4): a second open must not start a second writer.
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).expect_err("opened a store twice");
    assert_eq!(err.kind(), ErrorKind::Locked, "{err}");
    first.close().unwrap();
    // Once closed, it opens.
    reopen(dir.path()).close().unwrap();
}

#[test]
fn data_and_version_numbers_survive_close_and_reopen() {
    // Invariant D1 for an orderly close: every acknowledged write is there afterwards.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    for i in 1..=5u64 {
        assert_eq!(
            create(&store, &app, &profile, format!("v{i}").into_bytes()),
            i
        );
    }
    let head = store.close().unwrap();
    assert_eq!(head.position, 7);

    let store = reopen(dir.path());
    assert_eq!(store.head(), head);
    assert_eq!(store.application(&app).unwrap().unwrap().name, "app");
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2, 3, 4, 5]);
    for i in 1..=5u64 {
        let v = store.hosted_version(&app, &profile, i).unwrap().unwrap();
        assert_eq!(v.content, format!("v{i}").into_bytes());
    }
    assert_eq!(create(&store, &app, &profile, b"v6".to_vec()), 6);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn after_reopen_deleting_the_latest_version_never_lets_its_number_be_reused() {
    // Invariant E4: a number is never handed out twice, deletes and restarts included.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    for i in 1..=3u64 {
        assert_eq!(
            create(&store, &app, &profile, vec![u8::try_from(i).unwrap()]),
            i
        );
    }
    store.close().unwrap();

    let store = reopen(dir.path());
    store
        .delete_hosted_version(&app, &profile, 3)
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(create(&store, &app, &profile, b"four".to_vec()), 4);
    store
        .delete_hosted_version(&app, &profile, 4)
        .wait()
        .unwrap()
        .unwrap();
    store.close().unwrap();

    // The delete of the latest is itself durable across a restart.
    let store = reopen(dir.path());
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2]);
    assert_eq!(create(&store, &app, &profile, b"five".to_vec()), 5);
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2, 5]);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn ten_versions_of_two_mebibytes_leave_no_sled_blob_files() {
    // Durable barrier (D4, ADR 0003): content is chunked, so no value reaches sled's
    // blob path, whose files sled never syncs.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    let mut hashes = Vec::new();
    for i in 0..10u8 {
        let content: Vec<u8> = (0..2 * 1024 * 1024u32)
            .map(|j| (j.wrapping_mul(31) ^ u32::from(i)).to_le_bytes()[0])
            .collect();
        hashes.push(ContentHash::of(&content));
        assert_eq!(create(&store, &app, &profile, content), u64::from(i) + 1);
    }
    store.close().unwrap();

    let blobs = dir.path().join("blobs");
    if blobs.exists() {
        let files: Vec<_> = std::fs::read_dir(&blobs)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(files.is_empty(), "sled wrote blob files: {files:?}");
    }
    let store = reopen(dir.path());
    for (i, hash) in (1..=10u64).zip(hashes) {
        let v = store.hosted_version(&app, &profile, i).unwrap().unwrap();
        assert_eq!(v.content.len(), 2 * 1024 * 1024);
        assert_eq!(ContentHash::of(&v.content), hash);
    }
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn a_buffered_store_keeps_everything_after_close_and_reopen() {
    // Closing makes everything durable whatever the mode (docs/design/durability.md).
    let dir = tempfile::tempdir().unwrap();
    let store = StoreOptions::new()
        .durability(Durability::Buffered)
        .open(dir.path())
        .unwrap();
    let (app, profile) = setup(&store);
    for i in 1..=50u64 {
        assert_eq!(
            create(&store, &app, &profile, format!("b{i}").into_bytes()),
            i
        );
    }
    let head = store.close().unwrap();

    let store = reopen(dir.path());
    assert_eq!(store.head(), head);
    assert_eq!(
        live_versions(&store, &app, &profile),
        (1..=50).collect::<Vec<_>>()
    );
    let latest = store
        .latest_hosted_version(&app, &profile)
        .unwrap()
        .unwrap();
    assert_eq!(latest.content, b"b50");
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn a_closed_store_can_be_reopened_at_once() {
    // One writer per directory (D4): once `close` has returned, the directory is free,
    // so opening it again right away works (`Error::Locked` is documented as "another
    // process or another Store has it open"). Fails in about one reopen of a hundred.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    store.close().unwrap();
    let mut locked = Vec::new();
    for i in 1..=200u64 {
        let store = match Store::open(dir.path()) {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::Locked => {
                locked.push(i);
                reopen(dir.path())
            }
            Err(e) => panic!("reopen {i}: {e}"),
        };
        // A large write, so that sled has work left on its I/O threads at close.
        let content: Vec<u8> = (0..1024 * 1024u64)
            .map(|j| (j * i).to_le_bytes()[0])
            .collect();
        create(&store, &app, &profile, content);
        store.close().unwrap();
    }
    assert!(
        locked.is_empty(),
        "reopening right after close found the directory locked at iterations {locked:?}"
    );
}

/// A closed store with two labelled versions, and the answers it gives.
fn labelled_store() -> (tempfile::TempDir, ApplicationId, ProfileId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = setup(&store);
    for label in ["blue", "green"] {
        store
            .create_hosted_version(
                &app,
                &profile,
                NewHostedVersion {
                    content: label.as_bytes().to_vec(),
                    content_type: "text/plain".into(),
                    label: Some(label.into()),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    }
    store.close().unwrap();
    (dir, app, profile)
}

/// Removes every `v` (version) and `l` (label) projection entry, as a crash in the middle
/// of a rebuild can leave them.
/// Drops the version and label entries from the stored checkpoint of the store in `dir`.
fn drop_version_and_label_entries(dir: &Path) {
    verso_storage::edit_checkpoint(dir, |entries| {
        let before = entries.len();
        entries.retain(|key, _| !matches!(key.first(), Some(b'v' | b'l')));
        assert!(entries.len() < before, "no version or label entry to drop");
    })
    .unwrap();
}

#[test]
fn an_interrupted_rebuild_is_finished_at_open() {
    // E6 after open: the `rebuilding` marker left by a crash mid-rebuild makes open
    // replay the log, so the half-dropped projections come back whole.
    let (dir, app, profile) = labelled_store();
    edit_with_sled(dir.path(), |db| {
        db.insert(b"\x00rebuilding", &[1u8]).unwrap();
    });
    drop_version_and_label_entries(dir.path());
    // Nobody asked for this rebuild: open warns, and logs how far it got.
    let (store, log) = logs::logged(|| reopen(dir.path()));
    assert!(
        log.contains("WARN") && log.contains("rebuilding them from the log"),
        "{log}"
    );
    assert!(
        log.contains("replaying the log to rebuild projections"),
        "{log}"
    );
    assert!(log.contains("writing rebuilt projections"), "{log}");
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2]);
    let green = store
        .hosted_version_by_label(&app, &profile, "green")
        .unwrap()
        .unwrap();
    assert_eq!(green.content, b"green");
    store.verify().unwrap().unwrap();
    store.close().unwrap();
    let mut marker_left = true;
    edit_with_sled(dir.path(), |db| {
        marker_left = db.contains_key(b"\x00rebuilding").unwrap();
    });
    assert!(
        !marker_left,
        "the rebuild marker is removed once it is done"
    );
}

#[test]
fn projections_of_another_format_are_rebuilt_at_open() {
    // A projection format this build does not write makes open rebuild (event-log.md L3).
    let (dir, app, profile) = labelled_store();
    edit_with_sled(dir.path(), |db| {
        db.insert(b"\x00projection-format", &[99u8]).unwrap();
    });
    drop_version_and_label_entries(dir.path());
    let store = reopen(dir.path());
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2]);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}

#[test]
fn without_a_rebuild_marker_missing_projections_are_caught_by_verify() {
    // Control for the two tests above: open does not replay on its own, so the same
    // damage without a marker is visible, and verify names it.
    let (dir, _, _) = labelled_store();
    drop_version_and_label_entries(dir.path());
    let store = reopen(dir.path());
    let violation = store.verify().unwrap().unwrap_err();
    assert_eq!(violation.kind, ViolationKind::Projection, "{violation}");
    store.close().unwrap();
}

#[test]
fn rebuild_writes_only_the_entries_that_differ_from_the_fold() {
    // E6 by repair: missing, changed and stray projection entries are all put right,
    // and a rebuild of a store whose projections are right writes nothing.
    let (dir, app, profile) = labelled_store();
    verso_storage::edit_checkpoint(dir.path(), |entries| {
        let label = entries
            .keys()
            .find(|k| k.first() == Some(&b'l'))
            .unwrap()
            .clone();
        entries.remove(&label);
        let (_, value) = entries
            .iter_mut()
            .find(|(k, _)| k.first() == Some(&b'v'))
            .unwrap();
        *value.last_mut().unwrap() ^= 1;
        entries.insert(b"vstray".to_vec(), b"not from the log".to_vec());
    })
    .unwrap();
    let store = reopen(dir.path());
    let violation = store
        .verify()
        .unwrap()
        .expect_err("the damage is visible first");
    assert_eq!(violation.kind, ViolationKind::Projection, "{violation}");
    let report = store.rebuild().unwrap().unwrap();
    assert_eq!(report.written, 3, "one missing, one changed, one stray");
    store.verify().unwrap().unwrap();
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2]);
    let again = store.rebuild().unwrap().unwrap();
    assert_eq!(again.written, 0);
    assert_eq!(again.entries, report.entries);
    store.close().unwrap();
}

#[test]
fn a_store_of_format_2_keeps_its_checkpoint_entries_under_their_own_keys_readable() {
    // Store format 3 keeps the checkpoint in segments (`K`); a store of format 2 kept
    // each entry under its own key. Such a store opens, verifies and takes writes, its
    // old entries read beneath the new segments, and is marked format 3.
    let (dir, app, profile) = labelled_store();
    let mut entries = std::collections::BTreeMap::new();
    verso_storage::edit_checkpoint(dir.path(), |stored| entries = stored.clone()).unwrap();
    assert!(entries.keys().any(|k| k.first() == Some(&b'v')));
    edit_with_sled(dir.path(), |db| {
        let segments: Vec<_> = db.scan_prefix(b"K").keys().map(Result::unwrap).collect();
        assert!(!segments.is_empty());
        for key in segments {
            db.remove(key).unwrap();
        }
        for (key, value) in &entries {
            db.insert(key.as_slice(), value.as_slice()).unwrap();
        }
        db.insert(b"\x00format", b"verso-log\x02".as_slice())
            .unwrap();
    });
    assert!(
        verso_storage::verify_path(dir.path(), &mut |_| {})
            .unwrap()
            .is_ok()
    );
    let store = reopen(dir.path());
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2]);
    assert_eq!(create(&store, &app, &profile, b"three".to_vec()), 3);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
    edit_with_sled(dir.path(), |db| {
        assert_marked_current(db);
        assert!(
            db.scan_prefix(b"v").next().is_some(),
            "legacy entries left as they were"
        );
        assert!(
            db.scan_prefix(b"K").next().is_some(),
            "new changes go to segments"
        );
    });
    let store = reopen(dir.path());
    assert_eq!(live_versions(&store, &app, &profile), vec![1, 2, 3]);
    store.verify().unwrap().unwrap();
    store.close().unwrap();
}
