//! Bundles through the library: the progress an import and an offline verification
//! report, and which rule (B1–B6) refuses a tampered bundle. (Export → import equality
//! and tampered bundles are also tested through the CLI, crates/cli/tests/audit.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/forge.rs"]
mod forge;
#[path = "support/logs.rs"]
mod logs;
mod support;

use verso_domain::Position;
use verso_storage::{
    Head, ImportStep, NewHostedVersion, Store, ViolationKind, import_bundle,
    import_bundle_with_progress, verify_bundle, verify_bundle_with_progress,
};

/// A bundle file of a store with `versions` hosted versions, two of them sharing content.
fn bundle(versions: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    for n in 0..versions {
        let content = format!("{{\"n\":{}}}", n.min(versions - 2)).into_bytes();
        store
            .create_hosted_version(
                &app,
                &profile,
                NewHostedVersion {
                    content,
                    content_type: "application/json".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    }
    let file = dir.path().join("store.bundle");
    store
        .export_bundle(&mut std::fs::File::create(&file).unwrap())
        .unwrap();
    store.close().unwrap();
    (dir, file)
}

/// Checks that `calls` go through `steps` in order, each counting up to its total and
/// ending there, and returns each step's total.
fn totals(calls: &[(ImportStep, u64, u64)], steps: &[ImportStep]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut at = 0;
    for step in steps {
        let mine: Vec<_> = calls
            .get(at..)
            .unwrap()
            .iter()
            .take_while(|(s, _, _)| s == step)
            .collect();
        assert!(!mine.is_empty(), "no progress for {step:?} in {calls:?}");
        at += mine.len();
        let total = mine[0].2;
        let mut last = 0;
        for (_, done, all) in &mine {
            assert_eq!(*all, total, "{step:?}'s total changed: {calls:?}");
            assert!(*done >= last && *done <= total, "{step:?}: {calls:?}");
            last = *done;
        }
        assert_eq!(last, total, "{step:?} does not end at its total: {calls:?}");
        out.push(total);
    }
    assert_eq!(at, calls.len(), "progress after the last step: {calls:?}");
    out
}

#[test]
fn an_import_reports_each_step_in_order_up_to_its_total() {
    let (dir, file) = bundle(30);
    let target = dir.path().join("imported");
    let mut calls = Vec::new();
    let (report, log) = logs::logged(|| {
        import_bundle_with_progress(&file, &target, &mut |step, done, total| {
            calls.push((step, done, total));
        })
    });
    let report = report.unwrap().unwrap();
    // The import builds the projections as its last step: nothing to warn about.
    assert!(!log.contains("WARN"), "{log}");
    let store = Store::open(&target).unwrap();
    let verified = store.verify().unwrap().unwrap();
    store.close().unwrap();
    let got = totals(
        &calls,
        &[
            ImportStep::Verifying,
            ImportStep::Writing,
            ImportStep::Rebuilding,
            ImportStep::WritingProjections,
        ],
    );
    // Records (the application, the profile and 30 versions); records and the 29
    // distinct contents; records replayed; every projection entry of the fold and a
    // header per content.
    assert_eq!(report.records, 32);
    assert_eq!(report.blobs, 29);
    assert_eq!(
        got,
        [32, 32 + 29, 32, verified.projection_entries + 29],
        "{calls:?}"
    );
}

#[test]
fn verifying_a_bundle_reports_the_records_checked() {
    let (_dir, file) = bundle(12);
    let mut calls = Vec::new();
    let report = verify_bundle_with_progress(
        &mut std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        None,
        &mut |done, total| calls.push((ImportStep::Verifying, done, total)),
    )
    .unwrap()
    .unwrap();
    assert_eq!(totals(&calls, &[ImportStep::Verifying]), [report.records]);
}

#[test]
fn an_export_reports_the_records_then_the_records_and_contents() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    for n in 0..3 {
        store
            .create_hosted_version(
                &app,
                &profile,
                NewHostedVersion {
                    content: vec![n; 10],
                    content_type: "application/octet-stream".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    }
    let mut calls = Vec::new();
    let report = store
        .export_bundle_with_progress(&mut Vec::new(), &mut |done, total| {
            calls.push((done, total));
        })
        .unwrap();
    store.close().unwrap();
    assert_eq!((report.records, report.blobs), (5, 3));
    assert_eq!(calls, [(5, 5), (8, 8)]);
}

/// A bundle's frames: (tag, offset of the payload, payload length), after the magic.
fn frames(bytes: &[u8]) -> Vec<(u8, usize, usize)> {
    let mut out = Vec::new();
    let mut at = b"VERSO-BUNDLE\n".len();
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        out.push((bytes[at], at + 5, len));
        at += 5 + len;
    }
    out
}

#[test]
fn a_tampered_bundle_is_refused_naming_the_rule_it_breaks() {
    // Invariants B2 (each record chains: E1, E2), B4 (the head), B5 (contents, E7) and
    // B6 (the file ends with its end frame): each tampering is refused by its own rule,
    // at its position, by verification and by import alike.
    let (dir, file) = bundle(6);
    let good = std::fs::read(&file).unwrap();
    let fr = frames(&good);
    let records: Vec<_> = fr.iter().filter(|f| f.0 == b'R').collect();
    assert_eq!(records.len(), 8);
    let blob = fr.iter().find(|f| f.0 == b'B').unwrap();
    let payload = |f: &(u8, usize, usize)| &good[f.1..f.1 + f.2];
    let mut cases: Vec<(&str, Vec<u8>, Option<u64>, ViolationKind)> = Vec::new();

    let mut trailer = good.clone();
    trailer[records[4].1 + records[4].2 - 1] ^= 1;
    cases.push((
        "record 5's trailer",
        trailer,
        Some(5),
        ViolationKind::RecordHash,
    ));

    // The first blob is the content record 3 (the first version) refers to.
    let mut in_blob = good.clone();
    in_blob[blob.1 + blob.2 - 1] ^= 1;
    cases.push(("a blob's byte", in_blob, Some(3), ViolationKind::Content));

    let mut deleted = good[..records[6].1 - 5].to_vec();
    deleted.extend_from_slice(&good[records[7].1 - 5..]);
    cases.push((
        "record 7 deleted",
        deleted,
        Some(7),
        ViolationKind::WrongPosition,
    ));

    // Record 4 re-encoded with a wrong previous hash; its frame keeps its length.
    let forged =
        forge::with_wrong_previous_hash(payload(records[3]), &forge::trailer(payload(records[2])));
    let mut chain = good.clone();
    chain[records[3].1..records[3].1 + records[3].2].copy_from_slice(&forged);
    cases.push((
        "record 4 forged",
        chain,
        Some(4),
        ViolationKind::PreviousHash,
    ));

    let truncated = good[..good.len() - 20].to_vec();
    cases.push(("a truncated tail", truncated, None, ViolationKind::Bundle));

    for (name, bytes, position, kind) in cases {
        let v = verify_bundle(&mut bytes.as_slice(), None)
            .unwrap()
            .expect_err(name);
        assert_eq!(
            (v.position, v.kind),
            (position.map(Position::new), kind),
            "{name}: {v}"
        );
        let bad = dir.path().join("bad.bundle");
        std::fs::write(&bad, &bytes).unwrap();
        let target = dir.path().join("never");
        let v = import_bundle(&bad, &target).unwrap().expect_err(name);
        assert_eq!(v.kind, kind, "import, {name}: {v}");
        assert!(!target.exists(), "{name}: import wrote something");
    }

    // An intact bundle checked against a head it does not reach (B4).
    let report = verify_bundle(&mut good.as_slice(), None).unwrap().unwrap();
    let elsewhere = Head {
        position: report.head.position,
        hash: [7; 32],
    };
    let v = verify_bundle(&mut good.as_slice(), Some(elsewhere))
        .unwrap()
        .expect_err("verified against another head");
    assert_eq!(
        (v.position, v.kind),
        (Some(Position::new(8)), ViolationKind::Head),
        "{v}"
    );
}
