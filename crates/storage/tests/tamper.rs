//! Tamper evidence: a closed store edited behind Verso's back (through sled directly)
//! fails verification, naming the first bad log position.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tempfile::TempDir;
use verso_domain::Position;
use verso_storage::{
    ErrorKind, NewApplication, NewHostedVersion, NewProfile, ProfileChanges, Store, Violation,
    verify_path,
};

/// The number of records [`build`] appends.
const RECORDS: u64 = 30;

/// A closed store of [`RECORDS`] events: two applications, three profiles, hosted
/// versions (some sharing content, some labelled), updates and a delete.
fn build() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let app = |name: &str| {
        store
            .create_application(NewApplication {
                name: name.into(),
                ..Default::default()
            })
            .wait()
            .unwrap()
            .unwrap()
            .id
    };
    let (a, b) = (app("alpha"), app("beta"));
    let profile = |application, name: &str| {
        store
            .create_profile(
                application,
                NewProfile {
                    name: name.into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap()
            .id
    };
    let (a1, a2, b1) = (profile(&a, "one"), profile(&a, "two"), profile(&b, "one"));
    // 5 records so far; 22 versions bring it to 27.
    for i in 0..22u32 {
        let (application, prof) = match i % 3 {
            0 => (&a, &a1),
            1 => (&a, &a2),
            _ => (&b, &b1),
        };
        store
            .create_hosted_version(
                application,
                prof,
                NewHostedVersion {
                    // Every fourth version repeats content: stored once, used twice.
                    content: format!("{{\"n\": {}}}", if i % 4 == 3 { 0 } else { i }).into_bytes(),
                    content_type: "application/json".into(),
                    label: (i % 5 == 0).then(|| format!("release-{i}")),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    }
    store
        .delete_hosted_version(&a, &a1, 2)
        .wait()
        .unwrap()
        .unwrap();
    store
        .update_application(&b, Some("beta-renamed".into()), None)
        .wait()
        .unwrap()
        .unwrap();
    store
        .update_profile(
            &a,
            &a2,
            ProfileChanges {
                description: Some("second profile".into()),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap();
    let head = store.close().unwrap();
    assert_eq!(head.position, RECORDS);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of `base`, edited by `tamper` through sled directly.
fn tampered(base: &Path, tamper: impl FnOnce(&sled::Db)) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base, dir.path());
    let db = sled::Config::new().path(dir.path()).open().unwrap();
    tamper(&db);
    db.flush().unwrap();
    drop(db);
    dir
}

fn log_key(position: u64) -> Vec<u8> {
    let mut key = vec![b'L'];
    key.extend_from_slice(&position.to_be_bytes());
    key
}

/// Chooses a byte of a value, given the value's length.
type Pick = fn(usize) -> usize;

/// Flips the low bit of the byte of the value at `key` that `pick` chooses.
fn flip(db: &sled::Db, key: &[u8], pick: Pick) {
    let mut value = db.get(key).unwrap().expect("key present").to_vec();
    let index = pick(value.len());
    value[index] ^= 1;
    db.insert(key, value).unwrap();
}

/// The violation `verify_path` reports; panics if verification passes.
fn violation(dir: &Path) -> Violation {
    match verify_path(dir, &mut |_| {}).expect("verify_path fail-stop error") {
        Ok(report) => panic!("tampered store verified: {report:?}"),
        Err(v) => v,
    }
}

#[test]
fn an_untouched_copy_of_the_store_verifies() {
    // Control for every case below: copying the directory and opening it with sled
    // changes nothing that verification looks at (E1, E2, E7, projections).
    let base = build();
    let copy = tampered(base.path(), |_| {});
    let report = verify_path(copy.path(), &mut |_| {}).unwrap().unwrap();
    assert_eq!(report.head.position, RECORDS);
    let store = Store::open(copy.path()).unwrap();
    assert_eq!(store.head().position, RECORDS);
    store.close().unwrap();
}

#[test]
fn flipping_one_byte_of_a_record_fails_verification_at_that_position() {
    // Invariant E2 (hash chain): any change to a record's bytes or to its stored chain
    // hash is caught at that record, wherever the byte is.
    let base = build();
    // The format byte, a byte in the middle of the record, the first byte of the
    // chain-hash trailer, and its last byte.
    let offsets: [(&str, Pick); 4] = [
        ("first", |_| 0),
        ("middle", |len| (len - 32) / 2),
        ("trailer's first", |len| len - 32),
        ("last", |len| len - 1),
    ];
    for k in [1, 2, RECORDS / 2, RECORDS - 1, RECORDS] {
        for (name, pick) in offsets {
            let copy = tampered(base.path(), |db| flip(db, &log_key(k), pick));
            let v = violation(copy.path());
            assert_eq!(
                v.position,
                Some(Position::new(k)),
                "flipped the {name} byte of record {k}: {v}"
            );
        }
    }
}

#[test]
fn deleting_a_middle_record_fails_verification_at_that_position() {
    // Invariant E1 (gapless positions): a missing record is named, not skipped.
    let base = build();
    for k in [1, 7, RECORDS / 2, RECORDS - 1] {
        let copy = tampered(base.path(), |db| {
            db.remove(log_key(k)).unwrap().expect("record present");
        });
        let v = violation(copy.path());
        assert_eq!(
            v.position,
            Some(Position::new(k)),
            "deleted record {k}: {v}"
        );
    }
}

#[test]
fn deleting_the_last_record_fails_verification_naming_it_and_refuses_to_open() {
    // Invariants E1 and E3 (the head entry): a log cut short at the end disagrees with
    // the head entry; verification names the missing position and open refuses it.
    let base = build();
    let copy = tampered(base.path(), |db| {
        db.remove(log_key(RECORDS))
            .unwrap()
            .expect("record present");
    });
    let v = violation(copy.path());
    assert_eq!(v.position, Some(Position::new(RECORDS)), "{v}");
    let err = Store::open(copy.path()).expect_err("opened a store missing its last record");
    assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
    assert!(err.to_string().contains(&RECORDS.to_string()), "{err}");
}

#[test]
fn swapping_two_adjacent_records_fails_verification_at_the_first() {
    // Invariants E1 and E2: a record moved to another position is caught where it lands.
    let base = build();
    for k in [1, RECORDS / 2, RECORDS - 1] {
        let copy = tampered(base.path(), |db| {
            let first = db.get(log_key(k)).unwrap().unwrap();
            let second = db.get(log_key(k + 1)).unwrap().unwrap();
            db.insert(log_key(k), second).unwrap();
            db.insert(log_key(k + 1), first).unwrap();
        });
        let v = violation(copy.path());
        assert_eq!(
            v.position,
            Some(Position::new(k)),
            "swapped {k} and {}: {v}",
            k + 1
        );
    }
}

#[test]
fn flipping_one_byte_of_a_content_chunk_fails_verification() {
    // Invariant E7: a stored content's sha256 equals its key.
    let base = build();
    let copy = tampered(base.path(), |db| {
        let (key, _) = db.scan_prefix(b"C").next().unwrap().unwrap();
        flip(db, &key, |_| 0);
    });
    let v = violation(copy.path());
    assert!(v.position.is_some(), "{v}");
    assert!(v.problem.contains("content"), "{v}");
}

#[test]
fn deleting_a_content_chunk_fails_verification() {
    // Invariant E7: content the log refers to is stored, whole.
    let base = build();
    let copy = tampered(base.path(), |db| {
        let (key, _) = db.scan_prefix(b"C").next().unwrap().unwrap();
        db.remove(key).unwrap();
    });
    let v = violation(copy.path());
    assert!(v.position.is_some(), "{v}");
    assert!(v.problem.contains("content"), "{v}");
}

#[test]
fn changing_a_projection_value_fails_verification() {
    // Invariant "every projection equals the fold of the log" (architecture.md §3):
    // a stored projection entry that the log does not produce is caught.
    let base = build();
    for prefix in [b"v", b"s", b"a", b"p"] {
        let copy = tampered(base.path(), |db| {
            let (key, _) = db.scan_prefix(prefix).next().unwrap().unwrap();
            flip(db, &key, |len| len - 1);
        });
        let v = violation(copy.path());
        assert!(v.problem.contains("projection"), "prefix {prefix:?}: {v}");
    }
}

#[test]
fn a_projection_entry_the_log_does_not_produce_fails_verification() {
    // The fold of the log is the whole projection: an extra entry is as wrong as a
    // changed one.
    let base = build();
    let copy = tampered(base.path(), |db| {
        let (key, value) = db.scan_prefix(b"v").next().unwrap().unwrap();
        let mut extra = key.to_vec();
        *extra.last_mut().unwrap() = 0xee;
        db.insert(extra, value).unwrap();
    });
    let v = violation(copy.path());
    assert!(v.problem.contains("projection"), "{v}");
}
