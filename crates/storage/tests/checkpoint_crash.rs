//! A process crash at each step of a checkpoint (docs/design/durability.md, "step of a
//! checkpoint"; K1–K3, D1).
//!
//! Each test runs this binary again as a child (`VERSO_CHECKPOINT_CRASH_CHILD` names its
//! directory, and the test's own name selects it) that opens a store checkpointing every
//! 3 groups, has it abort at one [`CheckpointStep`] (`Store::crash_at_checkpoint`:
//! `std::process::abort`, as kill -9 would stop it) and appends versions one at a time,
//! recording each acknowledgement in a file before the next append. The parent wrote an
//! application, a profile and 4 versions first and closed the store, so the child starts
//! from a checkpoint and its crash leaves a log tail after it. The parent checks that the
//! child died by that failpoint, that the store verifies before it is opened (the
//! checkpoint plus the tail is the fold of the whole log, K2), and once it is opened:
//! every acknowledged version with its exact bytes (D1), versions gapless, the head at or
//! past every acknowledgement, the next append numbered next, and verify passing.
#![cfg(all(unix, feature = "failpoints"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs::File;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use verso_domain::{ApplicationId, ProfileId};
use verso_storage::{CheckpointStep, NewHostedVersion, PageRequest, Store, StoreOptions};

/// Set for the child: the directory holding the store (`store/`) and the
/// acknowledgements (`acks`).
const CHILD: &str = "VERSO_CHECKPOINT_CRASH_CHILD";
const APP: &str = "VERSO_CHECKPOINT_CRASH_APP";
const PROFILE: &str = "VERSO_CHECKPOINT_CRASH_PROFILE";
/// Versions the parent writes before the child runs.
const BEFORE: u64 = 4;
/// The child's checkpoint is due at its 3rd group; the failpoint fires within a few
/// groups of that, so a child that gets this far has not crashed where it should.
const CHILD_WRITES: u64 = 30;
/// A child still running after this long has hung.
const DEADLINE: Duration = Duration::from_secs(10);
/// `std::process::abort` raises SIGABRT, which is 6 on every Unix.
const SIGABRT: i32 = 6;

#[test]
fn a_crash_when_a_checkpoint_is_due_loses_no_acknowledged_write() {
    // K2: the writes merged, not handed over: the previous checkpoint and a longer tail.
    crash_at(
        CheckpointStep::Due,
        "a_crash_when_a_checkpoint_is_due_loses_no_acknowledged_write",
    );
}

#[test]
fn a_crash_after_the_hand_over_before_the_batch_loses_no_acknowledged_write() {
    // K2: the batch built, not applied: the previous checkpoint and a longer tail.
    crash_at(
        CheckpointStep::HandedOver,
        "a_crash_after_the_hand_over_before_the_batch_loses_no_acknowledged_write",
    );
}

#[test]
fn a_crash_after_the_batch_before_its_barrier_loses_no_acknowledged_write() {
    // K1, K2: the batch in sled's memory only: the new checkpoint or the previous one,
    // each whole with its own marker, and the log after that marker.
    crash_at(
        CheckpointStep::Applied,
        "a_crash_after_the_batch_before_its_barrier_loses_no_acknowledged_write",
    );
}

#[test]
fn a_crash_after_the_barrier_that_made_a_checkpoint_durable_loses_no_acknowledged_write() {
    // K1, K2: the new checkpoint, and the log after its marker (the group whose barrier
    // made it durable, never acknowledged).
    crash_at(
        CheckpointStep::Durable,
        "a_crash_after_the_barrier_that_made_a_checkpoint_durable_loses_no_acknowledged_write",
    );
}

/// An acknowledged version: its number, the head when it was acknowledged, its content.
#[derive(Debug)]
struct Ack {
    version: u64,
    position: u64,
    content: String,
}

fn open(dir: &Path) -> Store {
    StoreOptions::new()
        .checkpoint_groups(3)
        .checkpoint_interval(Duration::from_secs(3600))
        .open(dir)
        .expect("open the store")
}

/// Appends the version holding `content` and waits for its acknowledgement.
fn append(store: &Store, app: &ApplicationId, profile: &ProfileId, content: &str) -> Ack {
    let new = NewHostedVersion {
        content: content.as_bytes().to_vec(),
        content_type: "text/plain".into(),
        ..Default::default()
    };
    let created = store
        .create_hosted_version(app, profile, new)
        .wait()
        .expect("append")
        .expect("version accepted");
    Ack {
        version: created.version.get(),
        // The head is published before a group's tickets complete (R1).
        position: store.head().position,
        content: content.to_owned(),
    }
}

/// The test `test` for `step`: the parent's part, or the child's when this process is it.
fn crash_at(step: CheckpointStep, test: &str) {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(step, Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let store = open(&store_dir);
    let (app, profile) = support::app_with_hosted_profile(&store);
    let mut acks: Vec<Ack> = (1..=BEFORE)
        .map(|n| append(&store, &app, &profile, &format!("before-{n}")))
        .collect();
    store.close().unwrap();

    let status = run_child(test, dir.path(), &app, &profile);
    let stderr = std::fs::read_to_string(dir.path().join("child.stderr")).unwrap_or_default();
    assert_eq!(
        status.signal(),
        Some(SIGABRT),
        "the child was not aborted ({status}); its stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("aborting at checkpoint step {step:?}")),
        "the child aborted, but not at {step:?}; its stderr:\n{stderr}"
    );
    let child_acks = read_acks(&dir.path().join("acks"));
    // Its checkpoint is due at its 3rd group: at least 2 acknowledged groups are in the
    // log after the checkpoint the parent's close left.
    assert!(
        child_acks.len() >= 2,
        "the child acknowledged {} versions before the crash, expected at least 2",
        child_acks.len()
    );
    acks.extend(child_acks);

    // K2: before any open, the stored checkpoint plus the log after it is the whole fold.
    verso_storage::verify_path(&store_dir, &mut |_| {})
        .unwrap()
        .unwrap_or_else(|v| panic!("verify before reopen after a crash at {step:?}: {v}"));

    let store = open(&store_dir);
    // D1: every acknowledged version, with its bytes.
    for ack in &acks {
        let found = store
            .hosted_version(&app, &profile, ack.version)
            .unwrap()
            .unwrap_or_else(|r| panic!("acknowledged version {} is lost: {r}", ack.version));
        assert_eq!(
            found.content,
            ack.content.as_bytes(),
            "acknowledged version {} has other bytes",
            ack.version
        );
    }
    // E1/E4: nothing was deleted, so the live versions are 1..=latest without a gap, and
    // the latest is at least every acknowledged one.
    let live = live_versions(&store, &app, &profile);
    let latest = live.last().copied().unwrap_or(0);
    assert!(
        live.iter().copied().eq(1..=latest),
        "versions have a gap: {live:?}"
    );
    let last_ack = acks.last().expect("acknowledgements");
    assert!(
        latest >= last_ack.version,
        "latest {latest} < acknowledged {}",
        last_ack.version
    );
    assert!(
        store.head().position >= last_ack.position,
        "the head {} is behind an acknowledged write at {}",
        store.head().position,
        last_ack.position
    );
    // Numbering goes on from what the log holds.
    let next = append(&store, &app, &profile, "after");
    assert_eq!(next.version, latest + 1);
    store
        .verify()
        .unwrap()
        .unwrap_or_else(|v| panic!("verify after reopen after a crash at {step:?}: {v}"));
    store.close().unwrap();
}

/// Runs the test `test` in a child process with `dir`, and waits for it to end.
fn run_child(test: &str, dir: &Path, app: &ApplicationId, profile: &ProfileId) -> ExitStatus {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, dir)
        .env(APP, app.as_str())
        .env(PROFILE, profile.as_str())
        // Any core file the abort leaves goes with the temporary directory.
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("child.stdout")).unwrap())
        .stderr(File::create(dir.join("child.stderr")).unwrap())
        .spawn()
        .expect("spawn the child");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child still ran after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The child: appends until the failpoint aborts the process at `step`.
fn child(step: CheckpointStep, dir: &Path) -> ! {
    let app = ApplicationId::parse(&std::env::var(APP).unwrap()).unwrap();
    let profile = ProfileId::parse(&std::env::var(PROFILE).unwrap()).unwrap();
    let store = open(&dir.join("store"));
    store.crash_at_checkpoint(step);
    let mut acks = File::create(dir.join("acks")).unwrap();
    for n in 1..=CHILD_WRITES {
        let ack = append(&store, &app, &profile, &format!("child-{n}"));
        // One write per line, so the kernel has every line before the next append.
        let line = format!("{} {} {}\n", ack.version, ack.position, ack.content);
        acks.write_all(line.as_bytes()).unwrap();
    }
    eprintln!("the failpoint at {step:?} did not fire in {CHILD_WRITES} appends");
    std::process::exit(3);
}

/// The child's acknowledgements. A last line cut short by the crash is not one.
fn read_acks(path: &Path) -> Vec<Ack> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [version, position, content] = fields[..] else {
                panic!("a bad acknowledgement line: {line:?}");
            };
            Ack {
                version: version.parse().unwrap(),
                position: position.parse().unwrap(),
                content: content.to_owned(),
            }
        })
        .collect()
}

/// Every live version number, oldest first.
fn live_versions(store: &Store, app: &ApplicationId, profile: &ProfileId) -> Vec<u64> {
    let page = PageRequest {
        max_results: Some(1000),
        next_token: None,
    };
    let listed = store
        .hosted_versions(app, profile, None, &page)
        .unwrap()
        .unwrap();
    assert!(listed.next_token.is_none(), "fewer than 1000 versions");
    let mut numbers: Vec<u64> = listed.items.iter().map(|r| r.version.get()).collect();
    numbers.sort_unstable();
    numbers
}
