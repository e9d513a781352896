//! Checkpoints (docs/design/durability.md, K1–K3): a store whose stored projections are
//! behind its log opens with every acknowledged write, by folding the log after the
//! checkpoint, and verifies, open or not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/dirs.rs"]
mod dirs;
mod support;

use std::path::Path;
use std::time::Duration;

use verso_storage::{NewHostedVersion, PageRequest, Store, StoreOptions, verify_path};

fn version(content: &str, label: Option<&str>) -> NewHostedVersion {
    NewHostedVersion {
        content: content.as_bytes().to_vec(),
        content_type: "text/plain".into(),
        label: label.map(str::to_owned),
        ..Default::default()
    }
}

/// A store that checkpoints every `groups` groups and otherwise not for an hour.
fn open_checkpointing_every(dir: &Path, groups: u64) -> Store {
    StoreOptions::new()
        .checkpoint_groups(groups)
        .checkpoint_interval(Duration::from_secs(3600))
        .open(dir)
        .unwrap()
}

fn live_versions(
    store: &Store,
    app: &verso_domain::ApplicationId,
    profile: &verso_domain::ProfileId,
) -> Vec<(u64, Vec<u8>)> {
    let page = PageRequest {
        max_results: Some(1000),
        next_token: None,
    };
    let listed = store
        .hosted_versions(app, profile, None, &page)
        .unwrap()
        .unwrap();
    let mut out: Vec<_> = listed
        .items
        .iter()
        .map(|r| {
            let v = store
                .hosted_version(app, profile, r.version.get())
                .unwrap()
                .unwrap();
            (r.version.get(), v.content)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_store_reopened_between_checkpoints_has_every_acknowledged_write_and_verifies() {
    // K2: the checkpoint plus the fold of the log after it is the fold of the whole log.
    // Checkpoints every 4 groups; the crash image is taken 2 groups after one, so its
    // stored projections are behind its log.
    let dir = tempfile::tempdir().unwrap();
    let store = open_checkpointing_every(dir.path(), 4);
    let (app, profile) = support::app_with_hosted_profile(&store);
    for n in 1..=8u64 {
        let label = if n % 3 == 0 { Some("prod") } else { None };
        store
            .create_hosted_version(&app, &profile, version(&format!("v{n}"), label))
            .wait()
            .unwrap()
            .unwrap();
    }
    store
        .delete_hosted_version(&app, &profile, 6)
        .wait()
        .unwrap()
        .unwrap();
    let expected = live_versions(&store, &app, &profile);
    let head = store.head();
    // 2 + 8 + 1 = 11 groups: the last checkpoint covered 8, three are in the log only.
    let image = tempfile::tempdir().unwrap();
    dirs::copy_dir(dir.path(), image.path());
    store.close().unwrap();

    // Not open: verify compares the checkpoint plus the tail with the whole fold.
    let report = verify_path(image.path(), &mut |_| {}).unwrap().unwrap();
    assert_eq!(report.head, head);

    let reopened = open_checkpointing_every(image.path(), 4);
    assert_eq!(reopened.head(), head);
    assert_eq!(live_versions(&reopened, &app, &profile), expected);
    let by_label = reopened
        .hosted_version_by_label(&app, &profile, "prod")
        .unwrap()
        .unwrap();
    assert_eq!(
        by_label.record.version.get(),
        3,
        "v6 was deleted: prod is v3"
    );
    reopened.verify().unwrap().unwrap();
    // Numbering goes on from the log, not from the checkpoint.
    let next = reopened
        .create_hosted_version(&app, &profile, version("v9", None))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(next.version.get(), 9);
    reopened.close().unwrap();
}

#[test]
fn open_writes_a_checkpoint_at_the_head_after_folding_a_tail() {
    // K2: after folding a tail, open checkpoints at the head, so a second crash right
    // after open needs no fold: its image verifies with the projections at the head.
    let dir = tempfile::tempdir().unwrap();
    let store = open_checkpointing_every(dir.path(), 1000);
    let (app, profile) = support::app_with_hosted_profile(&store);
    store
        .create_hosted_version(&app, &profile, version("v1", None))
        .wait()
        .unwrap()
        .unwrap();
    let first = tempfile::tempdir().unwrap();
    dirs::copy_dir(dir.path(), first.path());
    store.close().unwrap();

    let reopened = open_checkpointing_every(first.path(), 1000);
    let second = tempfile::tempdir().unwrap();
    dirs::copy_dir(first.path(), second.path());
    let head = reopened.head();
    reopened.close().unwrap();
    // The second image holds a checkpoint at the head: verify's ordinary path (stored
    // projections compared with the fold) passes.
    let report = verify_path(second.path(), &mut |_| {}).unwrap().unwrap();
    assert_eq!(report.head, head);
}

#[test]
fn reads_see_a_write_as_soon_as_it_is_acknowledged() {
    // R1: a snapshot is published before the tickets of its group complete, so a caller
    // reads its own acknowledged write at once, from any handle.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (app, profile) = support::app_with_hosted_profile(&store);
    let other = store.clone();
    for n in 1..=20u64 {
        let created = store
            .create_hosted_version(&app, &profile, version(&format!("v{n}"), None))
            .wait()
            .unwrap()
            .unwrap();
        assert_eq!(created.version.get(), n);
        let latest = other
            .latest_hosted_version(&app, &profile)
            .unwrap()
            .unwrap();
        assert_eq!(latest.record.version.get(), n);
        assert_eq!(other.head().position, created.position.get());
    }
    store.close().unwrap();
}

fn view_content(template: &str) -> verso_domain::ViewContent {
    verso_domain::ViewContent {
        actions: vec!["Submit".to_owned()],
        template: template.to_owned(),
    }
}

fn new_view(name: &str) -> verso_storage::NewView {
    verso_storage::NewView {
        name: name.to_owned(),
        description: None,
        status: verso_domain::ViewStatus::Published,
        content: view_content("{}"),
        tags: std::collections::BTreeMap::new(),
        client_token: None,
    }
}

#[test]
fn content_stored_after_the_last_checkpoint_is_known_after_a_crash_and_after_a_rebuild() {
    // A content header lives in memory and checkpoints only (content.rs): open makes
    // the headers of the log after the checkpoint again (K2), and after a rebuild, which
    // does not, the writer asks the chunks. Either way a view version, which publishes
    // stored content without supplying it, is accepted.
    let instance = verso_domain::ConnectInstanceId::parse("inst-1").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = open_checkpointing_every(dir.path(), 1000);
    let view = store
        .create_view(&instance, new_view("intake"))
        .wait()
        .unwrap()
        .unwrap();
    store
        .update_view_content(
            &instance,
            &view.id,
            verso_domain::ViewStatus::Published,
            &view_content(r#"{"Head":{"Title":"new"}}"#),
        )
        .wait()
        .unwrap()
        .unwrap();
    let image = tempfile::tempdir().unwrap();
    dirs::copy_dir(dir.path(), image.path());
    let rebuilt = tempfile::tempdir().unwrap();
    dirs::copy_dir(dir.path(), rebuilt.path());
    store.close().unwrap();

    let after_crash = open_checkpointing_every(image.path(), 1000);
    let v1 = after_crash
        .create_view_version(&instance, &view.id, None, None)
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(v1.version.get(), 1);
    after_crash.verify().unwrap().unwrap();
    after_crash.close().unwrap();

    // The same image, with an interrupted rebuild marked: open rebuilds the projections
    // and folds no tail, so the new content's header is not in memory.
    let db = sled::open(rebuilt.path()).unwrap();
    db.insert(b"\x00rebuilding", &[1u8]).unwrap();
    db.flush().unwrap();
    drop(db);
    let after_rebuild = open_checkpointing_every(rebuilt.path(), 1000);
    let v1 = after_rebuild
        .create_view_version(&instance, &view.id, None, None)
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(v1.version.get(), 1);
    after_rebuild.verify().unwrap().unwrap();
    after_rebuild.close().unwrap();
}

#[test]
fn a_checkpoint_past_a_log_cut_short_is_reported_by_verify_and_rebuilt_at_open() {
    // K3: the log is the truth. A log whose last record was cut by hand (head entry
    // rewritten to match) leaves a checkpoint marker past its head: verify of the closed
    // store names the marker, and open rebuilds the projections from the shorter log.
    let dir = tempfile::tempdir().unwrap();
    let store = open_checkpointing_every(dir.path(), 1);
    let (app, profile) = support::app_with_hosted_profile(&store);
    for n in 1..=2 {
        store
            .create_hosted_version(&app, &profile, version(&format!("v{n}"), None))
            .wait()
            .unwrap()
            .unwrap();
    }
    let short = tempfile::tempdir().unwrap();
    dirs::copy_dir(dir.path(), short.path());
    let cut = store
        .create_hosted_version(&app, &profile, version("v3", None))
        .wait()
        .unwrap()
        .unwrap();
    store.close().unwrap();

    let head_before_cut = {
        let db = sled::open(short.path()).unwrap();
        db.get(b"\x00head").unwrap().unwrap()
    };
    {
        let db = sled::open(dir.path()).unwrap();
        let mut key = vec![b'L'];
        key.extend_from_slice(&cut.position.get().to_be_bytes());
        db.remove(key).unwrap().unwrap();
        db.insert(b"\x00head", head_before_cut).unwrap();
        db.flush().unwrap();
    }

    let v = verify_path(dir.path(), &mut |_| {}).unwrap().unwrap_err();
    assert_eq!(v.kind, verso_storage::ViolationKind::Checkpoint, "{v}");
    assert_eq!(v.position, Some(cut.position), "{v}");

    let reopened = open_checkpointing_every(dir.path(), 1);
    assert_eq!(reopened.head().position, cut.position.get() - 1);
    let versions: Vec<u64> = live_versions(&reopened, &app, &profile)
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(versions, vec![1, 2]);
    reopened.verify().unwrap().unwrap();
    let next = reopened
        .create_hosted_version(&app, &profile, version("again", None))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(next.version.get(), 3);
    reopened.close().unwrap();
    // The rebuild set the marker at the shorter head: nothing stale any more.
    verify_path(dir.path(), &mut |_| {}).unwrap().unwrap();
}
