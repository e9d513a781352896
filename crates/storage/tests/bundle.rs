//! Bundles through the library: the progress an import and an offline verification
//! report. (Export → import equality and tampered bundles are tested through the CLI,
//! crates/cli/tests/audit.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/logs.rs"]
mod logs;
mod support;

use verso_storage::{
    ImportStep, NewHostedVersion, Store, import_bundle_with_progress, verify_bundle_with_progress,
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
    // distinct contents; records replayed; every projection entry of the fold.
    assert_eq!(report.records, 32);
    assert_eq!(report.blobs, 29);
    assert_eq!(
        got,
        [32, 32 + 29, 32, verified.projection_entries],
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
