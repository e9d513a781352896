//! The audit commands as a user runs them: `verso log`, `verify`, `rebuild`, `replay`,
//! `show`, `diff` on a store the test builds with fixed ids and an injected clock, so
//! that every time, id and chain hash in the output is stable and compared with the
//! golden files in `tests/golden/` (`VERSO_BLESS=1` rewrites them). Tamper tests edit
//! the closed store through sled, as `crates/storage/tests/tamper.rs` does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tempfile::TempDir;
use verso_domain::{
    ApplicationId, Command as Cmd, Content, CreateApplication, CreateEnvironment,
    CreateHostedVersion, CreateProfile, DeploymentStrategyId, EnvironmentId, ProfileId,
    StartDeployment, StreamVersion, Timestamp, VersionSelector,
};
use verso_storage::{Store, StoreOptions};

/// 2024-05-01T14:00:00Z.
const T0: i64 = 1_714_572_000_000;
const MINUTE: i64 = 60_000;
/// Records [`build`] appends.
const RECORDS: u64 = 14;

fn verso(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verso"))
        .args(args)
        .env("RUST_LOG", "error")
        .env_remove("VERSO_DATA_DIR")
        .output()
        .expect("run verso")
}

fn on(dir: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.push("--data-dir");
    all.push(dir.to_str().unwrap());
    verso(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs and requires exit code `code`.
fn run(dir: &Path, args: &[&str], code: i32) -> String {
    let o = on(dir, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "verso {args:?}: stdout {} stderr {}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn golden(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("VERSO_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {}; run with VERSO_BLESS=1", path.display()));
    assert_eq!(
        got, want,
        "golden {name} differs (VERSO_BLESS=1 rewrites it)\n--- got\n{got}\n--- want\n{want}"
    );
}

fn id<T>(parse: fn(&str) -> Result<T, verso_domain::Rejection>, text: &str) -> T {
    parse(text).unwrap()
}

/// A new store in a new directory whose clock reads `now` (ms since the epoch), set to
/// [`T0`].
fn clocked_store() -> (TempDir, Store, Arc<AtomicI64>) {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(T0));
    let clock = Arc::clone(&now);
    let store = StoreOptions::new()
        .clock(Arc::new(move || {
            Timestamp::from_millis(clock.load(Ordering::SeqCst))
        }))
        .open(dir.path())
        .unwrap();
    (dir, store, now)
}

/// A closed store of [`RECORDS`] events (fewer with `upto`): application `shop` with a
/// JSON profile `limits` (three versions, labels, two deployments to `prod`, the second
/// rolled back) and a binary profile `logo` (two versions). Every id is fixed and every
/// record's time is set, so two builds are byte-identical.
fn build_upto(upto: u64) -> TempDir {
    let (dir, store, now) = clocked_store();
    let store = store.with_actor("AKIDAUDITOR");
    let app = id(ApplicationId::parse, "shop001");
    let limits = id(ProfileId::parse, "lim0001");
    let logo = id(ProfileId::parse, "logo001");
    let prod = id(EnvironmentId::parse, "prod001");
    let all_at_once = DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap();
    let profile = |pid: &ProfileId, name: &str| {
        Cmd::CreateProfile(CreateProfile {
            application: app.clone(),
            id: pid.clone(),
            name: name.into(),
            description: None,
            location_uri: "hosted".into(),
            retrieval_role_arn: None,
            validators: Vec::new(),
            profile_type: None,
            kms_key_identifier: None,
            tags: BTreeMap::new(),
        })
    };
    let version = |pid: &ProfileId, content: &[u8], ty: &str, label: Option<&str>| {
        Cmd::CreateHostedVersion(CreateHostedVersion {
            application: app.clone(),
            profile: pid.clone(),
            content: Content::new(content.to_vec()),
            content_type: ty.into(),
            description: None,
            label: label.map(Into::into),
            latest_version_number: None,
        })
    };
    let deploy = |v: u64| {
        Cmd::StartDeployment(StartDeployment {
            application: app.clone(),
            environment: prod.clone(),
            profile: limits.clone(),
            version: VersionSelector::Number(StreamVersion::new(v)),
            strategy: all_at_once.clone(),
            description: None,
            kms_key_identifier: None,
            tags: BTreeMap::new(),
            latest_deployment_number: None,
        })
    };
    let json = "application/json";
    let steps: Vec<(i64, Cmd)> = vec![
        (
            0,
            Cmd::CreateApplication(CreateApplication {
                id: app.clone(),
                name: "shop".into(),
                description: None,
                tags: BTreeMap::new(),
            }),
        ),
        (0, profile(&limits, "limits")),
        (
            1,
            version(
                &limits,
                b"{\n  \"max\": 10,\n  \"burst\": 2\n}\n",
                json,
                Some("stable"),
            ),
        ),
        (
            2,
            Cmd::CreateEnvironment(CreateEnvironment {
                application: app.clone(),
                id: prod.clone(),
                name: "prod".into(),
                description: None,
                monitors: Vec::new(),
                tags: BTreeMap::new(),
            }),
        ),
        (5, deploy(1)),
        (
            20,
            version(
                &limits,
                b"{\n  \"max\": 20,\n  \"burst\": 2\n}\n",
                json,
                Some("canary"),
            ),
        ),
        (30, deploy(2)),
        (
            32,
            Cmd::StopDeployment {
                application: app.clone(),
                environment: prod.clone(),
                number: 2,
                allow_revert: false,
            },
        ),
        (
            40,
            version(
                &limits,
                b"{\n  \"max\": 15,\n  \"burst\": 3\n}\n",
                json,
                Some("stable"),
            ),
        ),
        (41, profile(&logo, "logo")),
        (
            42,
            version(&logo, &[0x89, b'P', b'N', b'G', 0, 1, 2], "image/png", None),
        ),
        (
            43,
            version(&logo, &[0x89, b'P', b'N', b'G', 0, 1, 3], "image/png", None),
        ),
        (50, deploy(3)),
        (
            55,
            Cmd::DeleteHostedVersion {
                application: app.clone(),
                profile: limits.clone(),
                version: StreamVersion::new(2),
            },
        ),
    ];
    for (minutes, command) in steps.into_iter().take(usize::try_from(upto).unwrap()) {
        now.store(T0 + minutes * MINUTE, Ordering::SeqCst);
        store.submit(command).wait().unwrap().unwrap();
    }
    assert_eq!(store.close().unwrap().position, upto.min(RECORDS));
    dir
}

fn build() -> TempDir {
    build_upto(RECORDS)
}

#[test]
fn log_lists_every_event_with_its_hashes_in_both_forms() {
    let dir = build();
    let d = dir.path();
    golden("log.txt", &run(d, &["log"], 0));
    golden("log.json", &run(d, &["log", "--json"], 0));
    golden(
        "log-stream-reverse.txt",
        &run(d, &["log", "--stream", "shop/limits", "--reverse"], 0),
    );
    golden(
        "log-window.txt",
        &run(
            d,
            &[
                "log",
                "--from",
                "3",
                "--to",
                "12",
                "--since",
                "2024-05-01T16:20:00+02:00",
                "--until",
                "2024-05-01T14:41:00Z",
            ],
            0,
        ),
    );
    // Ids work as well as names, and the stream of a binary profile lists its versions.
    let logo = run(d, &["log", "--stream", "shop001/logo001", "--json"], 0);
    assert_eq!(logo.lines().count(), 3, "{logo}");
}

#[test]
fn replay_and_show_answer_as_of_a_position_or_a_time() {
    let dir = build();
    let d = dir.path();
    // 14:06: version 1 deployed at 14:05 with AllAtOnce, so it is baking.
    golden(
        "replay-at-time.txt",
        &run(d, &["replay", "--at", "2024-05-01T14:06:00Z"], 0),
    );
    // Right after the rollback of deployment 2: version 1 is live again.
    golden("replay-at-8.txt", &run(d, &["replay", "--at", "8"], 0));
    golden(
        "replay-at-8.json",
        &run(d, &["replay", "--at", "8", "--json"], 0),
    );
    golden(
        "replay-stream-end.txt",
        &run(
            d,
            &[
                "replay",
                "--at",
                "2024-05-01T16:00:00Z",
                "--stream",
                "shop/limits",
            ],
            0,
        ),
    );
    golden(
        "show-label-then.txt",
        &run(d, &["show", "shop/limits#stable", "--at", "7"], 0),
    );
    // Version 2 is deleted now (position 14), but was live at 13.
    let gone = on(d, &["show", "shop/limits@2"]);
    assert_eq!(gone.status.code(), Some(2), "{}", stderr(&gone));
    golden(
        "show-deleted-then.json",
        &run(d, &["show", "shop/limits@2", "--at", "13", "--json"], 0),
    );
    // Without --at: now, the newest live version.
    let latest = run(d, &["show", "shop/limits"], 0);
    assert!(
        latest.starts_with("appconfig/shop001/lim0001 (shop/limits) version 3"),
        "{latest}"
    );
}

#[test]
fn diff_is_unified_for_text_and_a_summary_for_binary() {
    let dir = build();
    let d = dir.path();
    golden(
        "diff-text.txt",
        &run(d, &["diff", "shop/limits", "1", "3"], 0),
    );
    golden(
        "diff-text.json",
        &run(d, &["diff", "shop/limits", "1", "#stable", "--json"], 0),
    );
    golden(
        "diff-binary.txt",
        &run(d, &["diff", "shop/logo", "1", "2"], 0),
    );
    golden(
        "diff-same.txt",
        &run(d, &["diff", "shop/limits", "3", "#stable"], 0),
    );
}

#[test]
fn verify_and_rebuild_report_the_head() {
    let dir = build();
    let d = dir.path();
    golden("verify.txt", &run(d, &["verify"], 0));
    golden("verify.json", &run(d, &["verify", "--json"], 0));
    let rebuilt = run(d, &["rebuild"], 0);
    assert!(
        rebuilt.starts_with(&format!("rebuilt: {RECORDS} events replayed into ")),
        "{rebuilt}"
    );
    assert!(rebuilt.contains("events/s"), "{rebuilt}");
    assert!(
        rebuilt.contains("(0 differed from the fold and were rewritten)"),
        "an intact store: {rebuilt}"
    );
    let json: serde_json::Value = serde_json::from_str(&run(d, &["rebuild", "--json"], 0)).unwrap();
    assert_eq!(json["events"], RECORDS);
    assert_eq!(json["written"], 0, "an intact store needs no writes");
    run(d, &["verify"], 0);
}

#[test]
fn bad_input_is_a_usage_error_with_a_clear_message() {
    let dir = build();
    let d = dir.path();
    let cases: [(&[&str], &str); 8] = [
        (&["replay", "--at", "yesterday"], "bad --at \"yesterday\""),
        (&["replay", "--at", "99"], "past the head"),
        (&["show", "shop/nothing"], "ConfigurationProfile"),
        (&["show", "nobody/limits"], "Application"),
        (&["show", "shop/limits@9"], "HostedConfigurationVersion"),
        (&["show", "shoplimits"], "expected <application>/<profile>"),
        (&["diff", "shop/limits", "1", "x"], "bad version \"x\""),
        (&["log", "--stream", "shop/nothing"], "unknown stream"),
    ];
    for (args, message) in cases {
        let o = on(d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    let empty = tempfile::tempdir().unwrap();
    let o = on(empty.path(), &["log"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("no Verso store"), "{}", stderr(&o));
    assert!(
        std::fs::read_dir(empty.path()).unwrap().next().is_none(),
        "a read created a store"
    );
}

#[test]
fn a_directory_held_by_a_store_is_reported_with_a_hint_for_endpoint() {
    let dir = build();
    let held = Store::open(dir.path()).unwrap();
    for args in [&["log"][..], &["verify"], &["replay"]] {
        let o = on(dir.path(), args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("in use"), "{}", stderr(&o));
        assert!(stderr(&o).contains("--endpoint"), "{}", stderr(&o));
    }
    held.close().unwrap();
}

#[test]
fn two_builds_of_the_same_history_are_identical() {
    // The premise of the golden files: ids, times and so chain hashes are fixed.
    let (a, b) = (build(), build());
    assert_eq!(run(a.path(), &["log"], 0), run(b.path(), &["log"], 0));
}

// ---- bundles and tampering -------------------------------------------------------

/// `verify --json` of `dir`: (exit code, position, problem).
fn verdict(dir: &Path, extra: &[&str]) -> (i32, Option<u64>, String) {
    let mut args = vec!["verify", "--json"];
    args.extend_from_slice(extra);
    let o = on(dir, &args);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim())
        .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(&o), stderr(&o)));
    (
        o.status.code().unwrap(),
        v["position"].as_u64(),
        v["problem"].as_str().unwrap_or_default().to_owned(),
    )
}

fn head_of(dir: &Path) -> String {
    let v: serde_json::Value = serde_json::from_str(&run(dir, &["verify", "--json"], 0)).unwrap();
    format!(
        "{}:{}",
        v["head"]["position"],
        v["head"]["chain_hash"].as_str().unwrap()
    )
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

/// A copy of `base` edited through sled directly.
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

fn flip(db: &sled::Db, key: &[u8], index: impl FnOnce(usize) -> usize) {
    let mut value = db.get(key).unwrap().expect("key present").to_vec();
    let i = index(value.len());
    value[i] ^= 1;
    db.insert(key, value).unwrap();
}

#[test]
fn tampering_with_the_store_fails_verify_at_the_right_position() {
    let base = build();
    // Each case names the rule that fired by its words: the CLI prints the library's
    // message (its `ViolationKind` is asserted in crates/storage/tests/tamper.rs).
    // One flipped byte in a record: named at that record by its trailer (E2).
    let copy = tampered(base.path(), |db| flip(db, &log_key(6), |len| len / 2));
    let (code, position, problem) = verdict(copy.path(), &[]);
    assert_eq!((code, position), (1, Some(6)), "{problem}");
    assert!(
        problem.contains("do not hash to the stored chain hash"),
        "{problem}"
    );
    // One flipped byte of stored content: named at the first record referring to it
    // (E7). The first part of packed content (`P`) starts with some content's bytes.
    let copy = tampered(base.path(), |db| {
        let (key, _) = db.scan_prefix(b"P").next().unwrap().unwrap();
        flip(db, &key, |_| 0);
    });
    let (code, position, problem) = verdict(copy.path(), &[]);
    assert_eq!(code, 1, "{problem}");
    assert!(
        position.is_some() && problem.contains("stored bytes do not hash to their key"),
        "{problem}"
    );
    // A deleted record (E1).
    let copy = tampered(base.path(), |db| {
        db.remove(log_key(4)).unwrap().unwrap();
    });
    let (code, position, problem) = verdict(copy.path(), &[]);
    assert_eq!((code, position), (1, Some(4)), "{problem}");
    assert!(problem.contains("missing"), "{problem}");
    // Two swapped records: caught where the first lands.
    let copy = tampered(base.path(), |db| {
        let (a, b) = (
            db.get(log_key(9)).unwrap().unwrap(),
            db.get(log_key(10)).unwrap().unwrap(),
        );
        db.insert(log_key(9), b).unwrap();
        db.insert(log_key(10), a).unwrap();
    });
    let (code, position, problem) = verdict(copy.path(), &[]);
    assert_eq!((code, position), (1, Some(9)), "{problem}");
    assert!(
        problem.contains("holds the record of position 10"),
        "{problem}"
    );
    // The human form says the same.
    let o = on(copy.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with("verification FAILED: position 9: "),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_truncated_tail_is_caught_against_an_exported_head() {
    // Cutting the last record and rewriting the head entry to match leaves a store that
    // is consistent on its own; only the head exported before tells.
    let base = build();
    let exported = head_of(base.path());
    let shorter = build_upto(RECORDS - 1);
    let db = sled::Config::new().path(shorter.path()).open().unwrap();
    let head_entry = db.get(b"\x00head").unwrap().unwrap();
    drop(db);
    let copy = tampered(base.path(), |db| {
        db.remove(log_key(RECORDS)).unwrap().unwrap();
        db.insert(b"\x00head", head_entry).unwrap();
    });
    // The editor covers their tracks: projections rebuilt from the shortened log.
    run(copy.path(), &["rebuild"], 0);
    run(copy.path(), &["verify"], 0);
    let (code, position, problem) = verdict(copy.path(), &["--expect-head", &exported]);
    assert_eq!((code, position), (1, Some(RECORDS)), "{problem}");
    assert!(problem.contains("truncated"), "{problem}");
    // And the intact store passes the same check.
    run(base.path(), &["verify", "--expect-head", &exported], 0);
}

#[test]
fn export_then_import_reproduces_the_head_and_every_replay() {
    let base = build();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("shop.verso");
    let f = file.to_str().unwrap();
    let exported = run(base.path(), &["export", f], 0);
    let head = head_of(base.path());
    assert!(exported.ends_with(&format!("head {head}\n")), "{exported}");
    // Offline check, no store involved.
    let offline = verso(&["verify", "--bundle", f, "--expect-head", &head]);
    assert_eq!(offline.status.code(), Some(0), "{}", stderr(&offline));
    let target = work.path().join("restored");
    let imported = run(&target, &["import", f], 0);
    assert!(imported.contains(&head), "{imported}");
    assert_eq!(head_of(&target), head);
    for at in [
        "3",
        "8",
        "13",
        "2024-05-01T14:06:00Z",
        "2024-05-01T16:00:00Z",
    ] {
        assert_eq!(
            run(&target, &["replay", "--at", at, "--json"], 0),
            run(base.path(), &["replay", "--at", at, "--json"], 0),
            "replay --at {at}"
        );
    }
    assert_eq!(run(&target, &["log"], 0), run(base.path(), &["log"], 0));
    // A second export of the imported store is byte-identical.
    let again = work.path().join("again.verso");
    run(&target, &["export", again.to_str().unwrap()], 0);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // Import only into an empty directory.
    let o = on(&target, &["import", f]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
}

/// The frames of a bundle: (tag, offset of the payload, payload length).
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
fn a_tampered_bundle_is_refused_and_nothing_is_imported() {
    let base = build();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("b.verso");
    run(base.path(), &["export", file.to_str().unwrap()], 0);
    let good = std::fs::read(&file).unwrap();
    let fr = frames(&good);
    let records: Vec<_> = fr.iter().filter(|f| f.0 == b'R').collect();
    let blob = fr.iter().find(|f| f.0 == b'B').unwrap();
    let mut cases: Vec<(&str, Vec<u8>, Option<u64>, &str)> = Vec::new();
    let mut record5 = good.clone();
    record5[records[4].1 + records[4].2 / 2] ^= 1;
    cases.push((
        "a flipped byte in record 5",
        record5,
        Some(5),
        "do not hash to the stored chain hash",
    ));
    let mut in_blob = good.clone();
    in_blob[blob.1 + 40] ^= 1;
    cases.push((
        "a flipped byte in a blob",
        in_blob,
        Some(3),
        "the bytes do not hash to their sha256",
    ));
    let mut deleted = good[..records[6].1 - 5].to_vec();
    deleted.extend_from_slice(&good[records[7].1 - 5..]);
    cases.push((
        "record 7 deleted",
        deleted,
        Some(7),
        "holds the record of position 8",
    ));
    let mut swapped = good[..records[1].1 - 5].to_vec();
    swapped.extend_from_slice(&good[records[2].1 - 5..records[2].1 + records[2].2]);
    swapped.extend_from_slice(&good[records[1].1 - 5..records[1].1 + records[1].2]);
    swapped.extend_from_slice(&good[records[3].1 - 5..]);
    cases.push((
        "records 2 and 3 swapped",
        swapped,
        Some(2),
        "holds the record of position 3",
    ));
    let truncated = good[..good.len() - 20].to_vec();
    cases.push(("a truncated tail", truncated, None, "truncated"));
    for (name, bytes, position, words) in cases {
        let bad = work.path().join("bad.verso");
        std::fs::write(&bad, &bytes).unwrap();
        let b = bad.to_str().unwrap();
        let o = verso(&["verify", "--bundle", b, "--json"]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["position"].as_u64(), position, "{name}: {v}");
        assert!(
            v["problem"].as_str().unwrap().contains(words),
            "{name}: {v}"
        );
        let target = work.path().join("never");
        let o = on(&target, &["import", b]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(!target.exists(), "{name}: import wrote something");
    }
    // A bundle whose tail was cut and re-headed by hand verifies alone, but not against
    // the head exported before.
    let shorter = build_upto(RECORDS - 1);
    let short = work.path().join("short.verso");
    run(shorter.path(), &["export", short.to_str().unwrap()], 0);
    let s = short.to_str().unwrap();
    assert_eq!(verso(&["verify", "--bundle", s]).status.code(), Some(0));
    let o = verso(&[
        "verify",
        "--bundle",
        s,
        "--expect-head",
        &head_of(base.path()),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["position"].as_u64(), Some(RECORDS), "{v}");
}

#[test]
fn export_while_writes_continue_is_the_prefix_at_the_head_read_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let shop = store
        .create_application(verso_storage::NewApplication {
            name: "shop".into(),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap()
        .id;
    let limits = store
        .create_profile(
            &shop,
            verso_storage::NewProfile {
                name: "limits".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap()
        .id;
    let version = move |store: &Store, n: u32| {
        store
            .create_hosted_version(
                &shop,
                &limits,
                verso_storage::NewHostedVersion {
                    content: format!("{{\"n\": {n}}}").into_bytes(),
                    content_type: "application/json".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    };
    for n in 0..50 {
        version(&store, n);
    }
    let writer = {
        let store = store.clone();
        let version = version.clone();
        std::thread::spawn(move || {
            for n in 50..250 {
                version(&store, n);
            }
        })
    };
    let mut bytes = Vec::new();
    let report = store.export_bundle(&mut bytes).unwrap();
    writer.join().unwrap();
    assert!(report.head.position >= 50);
    let checked = verso_storage::verify_bundle(&mut bytes.as_slice(), None)
        .unwrap()
        .unwrap();
    assert_eq!(checked.head, report.head);
    assert_eq!(checked.records, report.head.position);
    assert_eq!(store.close().unwrap().position, 252);
}

// ---- --endpoint: the same commands through a running `verso serve` -------------------

/// A `verso serve --listen 127.0.0.1:0` on `dir`, stopped by its PID (SIGTERM) on drop.
struct Served {
    child: std::process::Child,
    url: String,
}

impl Served {
    fn start(dir: &Path) -> Self {
        let (child, url) = support::serve(dir, &[], std::process::Stdio::null());
        Self { child, url }
    }

    /// `verso <args> --endpoint URL`.
    fn ask(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--endpoint", &self.url]);
        verso(&all)
    }

    fn stop(mut self) {
        support::stop(&mut self.child);
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Only when a test failed before `stop`: never leave a server behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Exit code, stdout and stderr, with `from` replaced by `to` in both texts.
fn answer(o: &Output, from: &str, to: &str) -> (Option<i32>, String, String) {
    (
        o.status.code(),
        stdout(o).replace(from, to),
        stderr(o).replace(from, to),
    )
}

#[test]
fn every_read_only_command_answers_the_same_through_the_endpoint() {
    let served_dir = build();
    let copy = tempfile::tempdir().unwrap();
    copy_dir(served_dir.path(), copy.path());
    let server = Served::start(served_dir.path());
    let head = head_of(copy.path());
    let cases: Vec<Vec<&str>> = vec![
        vec!["log"],
        vec!["log", "--json"],
        vec!["log", "--stream", "shop/limits", "--reverse"],
        vec!["log", "--stream", "shop001/logo001", "--json"],
        vec![
            "log",
            "--from",
            "3",
            "--to",
            "12",
            "--since",
            "2024-05-01T16:20:00+02:00",
            "--until",
            "2024-05-01T14:41:00Z",
        ],
        vec!["log", "--stream", "shop/nothing"],
        vec!["replay", "--at", "2024-05-01T14:06:00Z"],
        vec!["replay", "--at", "8", "--json"],
        vec![
            "replay",
            "--at",
            "2024-05-01T16:00:00Z",
            "--stream",
            "shop/limits",
        ],
        vec!["replay", "--at", "99"],
        vec!["show", "shop/limits#stable", "--at", "7"],
        vec!["show", "shop/limits@2", "--at", "13", "--json"],
        vec!["show", "shop/limits@2"],
        vec!["show", "shop/logo@1", "--json"],
        vec!["show", "shop/limits"],
        vec!["diff", "shop/limits", "1", "3"],
        vec!["diff", "shop/limits", "1", "#stable", "--json"],
        vec!["diff", "shop/logo", "1", "2"],
        vec!["verify"],
        vec!["verify", "--json"],
        vec!["verify", "--expect-head", &head],
    ];
    for args in &cases {
        let local = answer(&on(copy.path(), args), "", "");
        let remote = answer(&server.ask(args), "", "");
        assert_eq!(remote, local, "verso {args:?}: --endpoint vs --data-dir");
    }
    // Golden files hold through the endpoint too.
    let ask = |args: &[&str]| stdout(&server.ask(args));
    golden("log.txt", &ask(&["log"]));
    golden("replay-at-8.json", &ask(&["replay", "--at", "8", "--json"]));
    golden("diff-text.txt", &ask(&["diff", "shop/limits", "1", "3"]));
    golden("verify.json", &ask(&["verify", "--json"]));
    // A head past the end: the truncated-tail verdict, exit 1, on both sides.
    let (position, hash) = head.split_once(':').unwrap();
    let beyond = format!("{}:{hash}", position.parse::<u64>().unwrap() + 1);
    let local = answer(
        &on(copy.path(), &["verify", "--expect-head", &beyond]),
        "",
        "",
    );
    let remote = answer(&server.ask(&["verify", "--expect-head", &beyond]), "", "");
    assert_eq!(local.0, Some(1));
    assert_eq!(remote, local);
    // Without --at, replay is evaluated now: equal but for the evaluation time.
    let now = |o: &Output| stdout(o).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        now(&server.ask(&["replay"])),
        now(&on(copy.path(), &["replay"]))
    );
    // Export: the same bundle bytes and the same report.
    let work = tempfile::tempdir().unwrap();
    let (l, r) = (
        work.path().join("local.verso"),
        work.path().join("remote.verso"),
    );
    let (lf, rf) = (l.to_str().unwrap(), r.to_str().unwrap());
    let local = answer(&on(copy.path(), &["export", lf]), lf, "FILE");
    let remote = answer(&server.ask(&["export", rf]), rf, "FILE");
    assert_eq!(local.0, Some(0), "{local:?}");
    assert_eq!(remote, local);
    assert_eq!(std::fs::read(&l).unwrap(), std::fs::read(&r).unwrap());
    let local = answer(&on(copy.path(), &["export", lf, "--json"]), lf, "FILE");
    let remote = answer(&server.ask(&["export", rf, "--json"]), rf, "FILE");
    assert_eq!(remote, local);
    server.stop();
    // After the stop, the served directory itself gives the same answers.
    assert_eq!(
        run(served_dir.path(), &["log"], 0),
        run(copy.path(), &["log"], 0)
    );
}

#[test]
fn endpoint_problems_are_clear_errors_with_their_exit_codes() {
    // Nothing listens on a port that was just freed: connection refused, exit 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    for args in [
        &["log"][..],
        &["verify"],
        &["replay"],
        &["export", "x.verso"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--endpoint", &url]);
        let o = verso(&all);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("cannot reach verso serve at {url}")),
            "{}",
            stderr(&o)
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // A URL verso serve cannot be at, and both a directory and an endpoint: usage.
    let o = verso(&["log", "--endpoint", "https://127.0.0.1:1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = verso(&["log", "--endpoint", &url, "--data-dir", "/tmp"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // The commands that write have no --endpoint.
    for args in [
        &["rebuild", "--endpoint", &url][..],
        &["import", "f", "--endpoint", &url],
    ] {
        assert_eq!(verso(args).status.code(), Some(2), "{args:?}");
    }
    // The hint on a held directory leads to a working --endpoint.
    let dir = build();
    let server = Served::start(dir.path());
    let held = on(dir.path(), &["log"]);
    assert_eq!(held.status.code(), Some(3));
    assert!(stderr(&held).contains("--endpoint"), "{}", stderr(&held));
    let o = server.ask(&["log"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout.iter().filter(|&&b| b == b'\n').count(), 14);
    server.stop();
}

// ---- Connect views and Proton templates in `verso log --stream` ------------------------

/// The view [`build_faces`] creates.
const VIEW: &str = "connect/inst-1/0b6e5d2c-1111-4222-8333-444455556666";

/// A closed store with a Connect view (two versions, the second after a content update)
/// and a Proton template `base` (majors 1 and 2, a minor 1.1, then deleted and created
/// again: generation 2), interleaved with an AppConfig application. Fixed ids and times.
fn build_faces() -> TempDir {
    use verso_domain::proton::TemplateName;
    use verso_domain::{ConnectInstanceId, CreateView, ViewContent, ViewId, ViewStatus};
    use verso_storage::{NewTemplate, NewTemplateVersion};

    let (dir, store, now) = clocked_store();
    let at = |minutes: i64| now.store(T0 + minutes * MINUTE, Ordering::SeqCst);
    let instance = ConnectInstanceId::parse("inst-1").unwrap();
    let view = ViewId::parse("0b6e5d2c-1111-4222-8333-444455556666").unwrap();
    let content = |template: &str| ViewContent {
        actions: vec!["Submit".to_owned()],
        template: template.to_owned(),
    };
    let template = TemplateName::parse("template", "base").unwrap();
    let version = |major: Option<u64>, key: &str| NewTemplateVersion {
        major,
        description: None,
        source: verso_domain::proton::TemplateSource {
            bucket: "templates".to_owned(),
            key: key.to_owned(),
        },
        tags: BTreeMap::new(),
        client_token: None,
    };
    at(0);
    store
        .submit(Cmd::CreateApplication(CreateApplication {
            id: id(ApplicationId::parse, "shop001"),
            name: "shop".into(),
            description: None,
            tags: BTreeMap::new(),
        }))
        .wait()
        .unwrap()
        .unwrap();
    at(1);
    store
        .submit(Cmd::CreateView(CreateView {
            instance: instance.clone(),
            id: view.clone(),
            name: "intake".into(),
            description: None,
            status: ViewStatus::Published,
            content: content("{}").encode(),
            tags: BTreeMap::new(),
            client_token: None,
        }))
        .wait()
        .unwrap()
        .unwrap();
    at(2);
    store
        .create_environment_template(&template, NewTemplate::default())
        .wait()
        .unwrap()
        .unwrap();
    at(3);
    store
        .create_view_version(&instance, &view, None, None)
        .wait()
        .unwrap()
        .unwrap();
    at(4);
    for (major, key) in [(None, "a"), (Some(1), "b"), (None, "c")] {
        store
            .create_environment_template_version(&template, version(major, key))
            .wait()
            .unwrap()
            .unwrap();
    }
    at(5);
    store
        .update_view_content(
            &instance,
            &view,
            ViewStatus::Published,
            &content("{\"a\":1}"),
        )
        .wait()
        .unwrap()
        .unwrap();
    store
        .create_view_version(&instance, &view, None, None)
        .wait()
        .unwrap()
        .unwrap();
    at(6);
    for v in [
        verso_domain::proton::TemplateVersion { major: 1, minor: 0 },
        verso_domain::proton::TemplateVersion { major: 1, minor: 1 },
        verso_domain::proton::TemplateVersion { major: 2, minor: 0 },
    ] {
        store
            .delete_environment_template_version(&template, v)
            .wait()
            .unwrap()
            .unwrap();
    }
    store
        .delete_environment_template(&template)
        .wait()
        .unwrap()
        .unwrap();
    at(7);
    store
        .create_environment_template(&template, NewTemplate::default())
        .wait()
        .unwrap()
        .unwrap();
    store
        .create_environment_template_version(&template, version(None, "d"))
        .wait()
        .unwrap()
        .unwrap();
    store
        .update_environment_template_version(
            &template,
            verso_domain::proton::TemplateVersion { major: 1, minor: 0 },
            Some(verso_domain::proton::TemplateVersionStatus::Published),
            None,
        )
        .wait()
        .unwrap()
        .unwrap();
    store.close().unwrap();
    dir
}

/// The stream column of each line of `verso log --json`.
fn streams(json_lines: &str) -> Vec<String> {
    json_lines
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["stream"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn replay_shows_views_and_templates_as_of_then() {
    let dir = build_faces();
    let d = dir.path();
    // After 1.0, 1.1 and 2.0 of generation 1 and the view's first version.
    golden(
        "replay-faces-at-12.txt",
        &run(d, &["replay", "--at", "12"], 0),
    );
    golden(
        "replay-faces-at-12.json",
        &run(d, &["replay", "--at", "12", "--json"], 0),
    );
    // The view after its content update and second version; generation 1 gone and
    // generation 2 with its first version, published.
    golden(
        "replay-faces-end.txt",
        &run(d, &["replay"], 0)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    golden(
        "replay-view-at-4.txt",
        &run(d, &["replay", "--at", "4", "--stream", VIEW], 0),
    );
    let now = run(d, &["replay", "--stream", "proton/base", "--json"], 0);
    let template: serde_json::Value = serde_json::from_str(now.trim()).unwrap();
    assert_eq!(template["stream"], "proton/base#2");
    assert_eq!(template["recommended_version"], "1.0");
    assert_eq!(template["versions"][0]["status"], "PUBLISHED");
    for (args, message) in [
        (
            vec!["replay", "--at", "24", "--stream", "proton/base#1"],
            "unknown stream proton/base#1 as of then",
        ),
        (
            vec!["replay", "--at", "1", "--stream", VIEW],
            "unknown stream connect/inst-1/",
        ),
        (
            vec!["replay", "--stream", "proton/base#1/1"],
            "replay takes a template",
        ),
    ] {
        let o = on(d, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn show_and_diff_read_view_and_template_versions() {
    let dir = build_faces();
    let d = dir.path();
    golden(
        "show-view-1.txt",
        &run(d, &["show", &format!("{VIEW}@1")], 0),
    );
    golden(
        "show-template-minor.json",
        &run(d, &["show", "proton/base#1/1@2", "--at", "12", "--json"], 0),
    );
    // The newest live version by default; as of a point, deleted ones still show.
    let latest = run(d, &["show", VIEW, "--json"], 0);
    let latest: serde_json::Value = serde_json::from_str(latest.trim()).unwrap();
    assert_eq!(latest["version"], 2);
    assert_eq!(
        latest["content"],
        "{\"Actions\":[\"Submit\"],\"Template\":\"{\\\"a\\\":1}\"}"
    );
    golden("diff-view.txt", &run(d, &["diff", VIEW, "1", "2"], 0));
    for (args, message) in [
        (
            vec!["show", "proton/base#1/1@2"],
            "EnvironmentTemplateVersion",
        ),
        (vec!["show", &format!("{VIEW}@3")], "ViewVersion"),
        (vec!["show", "proton/base@1"], "numbered per generation"),
        (vec!["diff", VIEW, "1", "#stable"], "has no labels"),
        (vec!["show", &format!("{VIEW}@x")], "bad version \"x\""),
    ] {
        let o = on(d, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    let copy = tempfile::tempdir().unwrap();
    copy_dir(d, copy.path());
    let server = Served::start(d);
    let view_at_1 = format!("{VIEW}@1");
    let view_at_3 = format!("{VIEW}@3");
    for args in [
        vec!["show", view_at_1.as_str()],
        vec!["show", "proton/base#1/1@2", "--at", "12", "--json"],
        vec!["show", view_at_3.as_str()],
        vec!["diff", VIEW, "1", "2", "--json"],
        vec!["diff", VIEW, "1", "#stable"],
    ] {
        let local = answer(&on(copy.path(), &args), "", "");
        let remote = answer(&server.ask(&args), "", "");
        assert_eq!(remote, local, "verso {args:?}: --endpoint vs --data-dir");
    }
    server.stop();
}

#[test]
fn log_selects_a_connect_view_or_a_proton_template_by_its_stream() {
    let dir = build_faces();
    let d = dir.path();
    golden("log-faces.txt", &run(d, &["log"], 0));
    golden("log-view.txt", &run(d, &["log", "--stream", VIEW], 0));
    golden(
        "log-template.json",
        &run(d, &["log", "--stream", "proton/base", "--json"], 0),
    );
    let all = streams(&run(d, &["log", "--json"], 0));
    // Each selection is exactly the lines of the whole log whose stream is, or lies
    // under, the one asked for.
    for (asked, under) in [
        (VIEW, None),
        ("proton/base", Some("proton/base#")),
        ("proton/base#1", Some("proton/base#1/")),
        ("proton/base#1/1", None),
        ("proton/base#2", Some("proton/base#2/")),
    ] {
        let want: Vec<&String> = all
            .iter()
            .filter(|s| s.as_str() == asked || under.is_some_and(|u| s.starts_with(u)))
            .collect();
        let got = streams(&run(d, &["log", "--stream", asked, "--json"], 0));
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "--stream {asked}");
        assert!(!got.is_empty(), "--stream {asked} selected nothing");
    }
    // A profile's stream as the column shows it, with names or ids.
    let shop = build();
    for stream in ["appconfig/shop/limits", "appconfig/shop001/lim0001"] {
        golden(
            "log-stream-reverse.txt",
            &run(shop.path(), &["log", "--stream", stream, "--reverse"], 0),
        );
    }
    let cases: [(&[&str], &str); 5] = [
        (
            &["log", "--stream", "connect/inst-1/not-a-uuid"],
            "bad stream \"connect/inst-1/not-a-uuid\"",
        ),
        (
            &[
                "log",
                "--stream",
                "connect/inst-1/0b6e5d2c-1111-4222-8333-000000000000",
            ],
            "unknown stream",
        ),
        (&["log", "--stream", "proton/nothing"], "unknown stream"),
        (&["log", "--stream", "proton/base#x"], "generation \"x\""),
        (&["log", "--stream", "nowhere/a/b"], "unknown stream"),
    ];
    for (args, message) in cases {
        let o = on(d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    // With bounds an empty answer is an answer, not a typo.
    assert_eq!(
        run(d, &["log", "--stream", "proton/nothing", "--from", "1"], 0),
        ""
    );
    // Through a running server, the same answers.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(d, copy.path());
    let server = Served::start(d);
    for args in [
        vec!["log", "--stream", VIEW],
        vec!["log", "--stream", "proton/base#1/1", "--json"],
        vec!["log", "--stream", "proton/nothing"],
        vec!["log", "--stream", "connect/inst-1/not-a-uuid"],
        vec!["replay", "--at", "12", "--json"],
        vec!["replay", "--at", "14", "--stream", VIEW],
        vec!["replay", "--at", "24", "--stream", "proton/base#2"],
        vec!["replay", "--at", "24", "--stream", "proton/base#1"],
    ] {
        let local = answer(&on(copy.path(), &args), "", "");
        let remote = answer(&server.ask(&args), "", "");
        assert_eq!(remote, local, "verso {args:?}: --endpoint vs --data-dir");
    }
    server.stop();
}
