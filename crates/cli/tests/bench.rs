//! `verso bench` as a user runs it, with small counts: the JSON report's fields are there
//! and agree with each other, every acknowledged event is in the store afterwards
//! (reopened here), `--plot` writes an SVG, and bad input is refused clearly. No timing
//! is asserted: the machine is shared.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use verso_domain::Position;
use verso_storage::{PageRequest, Store};

fn verso() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verso"));
    c.env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .env_remove("VERSO_DATA_DIR");
    c
}

/// Runs `verso bench ARGS --json`; returns the report, failing with stderr otherwise.
fn bench_json(args: &[&str]) -> Value {
    let out = verso()
        .arg("bench")
        .args(args)
        .arg("--json")
        .output()
        .expect("run verso bench");
    assert!(
        out.status.success(),
        "verso bench {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn f(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {path} in {v:#}"))
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no integer at {path} in {v:#}"))
}

/// Checks one subject's fields against each other; returns its events.
fn check_subject(report: &Value, name: &str) -> u64 {
    let s = report
        .pointer(&format!("/subjects/{name}"))
        .unwrap_or_else(|| panic!("no subject {name} in {report:#}"));
    assert_eq!(s["name"], name);
    assert!(s["role"] == "verso" || s["role"] == "baseline", "{s:#}");
    assert!(s["description"].as_str().is_some_and(|d| !d.is_empty()));
    let events = u(s, "/events");
    assert!(events > 0, "{name}: no events");
    let elapsed = f(s, "/elapsed_secs");
    assert!(elapsed > 0.0);
    let rate = f(s, "/events_per_sec");
    assert!(
        (rate - events as f64 / elapsed).abs() <= 1e-6 * rate,
        "{s:#}"
    );
    let bytes = u(s, "/bytes");
    let byte_rate = f(s, "/bytes_per_sec");
    assert!((byte_rate - bytes as f64 / elapsed).abs() <= 1e-9 * byte_rate.max(1.0));
    let l: Vec<f64> = ["p50", "p90", "p99", "p99_9", "max"]
        .iter()
        .map(|p| f(s, &format!("/latency_us/{p}")))
        .collect();
    assert!(l[0] > 0.0, "{name}: p50 {}", l[0]);
    assert!(
        l.windows(2).all(|w| w[0] <= w[1]),
        "{name}: unordered {l:?}"
    );
    let mean = f(s, "/latency_us/mean");
    assert!(
        mean > 0.0 && mean <= l[4] * 1.001,
        "{name}: mean {mean}, max {}",
        l[4]
    );
    match s["groups"].as_u64() {
        Some(groups) => {
            assert!((1..=events).contains(&groups), "{name}: {groups} groups");
            let mean_group = f(s, "/mean_group_size");
            assert!((mean_group - events as f64 / groups as f64).abs() < 1e-9);
        }
        None => assert!(s["mean_group_size"].is_null()),
    }
    if let Some(disk) = s["disk_bytes"].as_u64() {
        assert!(disk > 0);
        if bytes > 0 {
            let per = f(s, "/disk_bytes_per_logical_byte");
            assert!((per - disk as f64 / bytes as f64).abs() < 1e-9);
        }
    }
    events
}

fn check_ratios(report: &Value, expected: &[&str]) {
    let ratios = report["ratios"].as_object().expect("ratios object");
    assert_eq!(ratios.len(), expected.len(), "{ratios:?}");
    for key in expected {
        let r = ratios
            .get(*key)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("no ratio {key}"));
        let (verso, baseline) = key.split_once('/').unwrap();
        let want = f(report, &format!("/subjects/{verso}/events_per_sec"))
            / f(report, &format!("/subjects/{baseline}/events_per_sec"));
        assert!(
            r > 0.0 && (r - want).abs() <= 1e-9 * want,
            "{key}: {r} vs {want}"
        );
    }
}

/// Hosted versions in every application and profile of a closed store, counted page by
/// page, and the number of events in its log.
fn count_store(dir: &Path) -> (u64, u64) {
    let store = Store::open(dir).expect("reopen the store");
    let mut versions = 0;
    let apps = store
        .applications(&PageRequest {
            max_results: Some(1000),
            next_token: None,
        })
        .unwrap()
        .unwrap();
    for app in apps.items {
        let profiles = store
            .profiles(
                &app.id,
                &PageRequest {
                    max_results: Some(1000),
                    next_token: None,
                },
            )
            .unwrap()
            .unwrap();
        for profile in profiles.items {
            let mut page = PageRequest {
                max_results: Some(7),
                next_token: None,
            };
            loop {
                let got = store
                    .hosted_versions(&app.id, &profile.id, None, &page)
                    .unwrap()
                    .unwrap();
                versions += u64::try_from(got.items.len()).unwrap();
                match got.next_token {
                    Some(t) => page.next_token = Some(t),
                    None => break,
                }
            }
        }
    }
    let events = u64::try_from(store.events(Position::FIRST).count()).unwrap();
    store.close().unwrap();
    (versions, events)
}

#[test]
fn a_counted_library_run_reports_consistent_fields_and_the_store_holds_every_ack() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let svg = dir.path().join("plot.svg");
    let report = bench_json(&[
        "--writers",
        "4",
        "--events",
        "120",
        "--size-mix",
        "512,2KiB",
        "--streams",
        "3",
        "--data-dir",
        data.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(report["format"], 1);
    assert_eq!(report["mode"], "write");
    assert_eq!(report["target"], "library");
    assert_eq!(u(&report, "/workload/writers"), 4);
    assert_eq!(u(&report, "/workload/streams"), 3);
    assert_eq!(u(&report, "/workload/events"), 120);
    assert_eq!(report["workload"]["durability"], "sync");
    assert_eq!(f(&report, "/workload/mean_size_bytes"), 1280.0);
    assert_eq!(report["data_dir"]["kept"], true);
    for name in ["verso", "file_append", "sled_per_event", "sled_batch"] {
        assert_eq!(check_subject(&report, name), 120, "{name}");
        // 60 events of 512 bytes, 60 of 2 KiB, whoever writes them.
        assert_eq!(
            u(&report, &format!("/subjects/{name}/bytes")),
            60 * 512 + 60 * 2048
        );
    }
    assert!(report["subjects"]["verso"]["groups"].is_u64());
    assert!(report["subjects"]["sled_batch"]["groups"].is_u64());
    check_ratios(
        &report,
        &[
            "verso/file_append",
            "verso/sled_per_event",
            "verso/sled_batch",
        ],
    );
    // Every acknowledged event is in the store: the bench's own check, then ours.
    assert_eq!(u(&report, "/check/acknowledged"), 120);
    assert_eq!(u(&report, "/check/versions_in_store"), 120);
    assert_eq!(u(&report, "/check/records"), 120);
    let (versions, events) = count_store(&data.join("store"));
    assert_eq!(versions, 120);
    // One application and three profiles were created before the run.
    assert_eq!(events, 120 + 4);
    // The baselines' scratch directories are gone; the store is kept.
    let left: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("store")]);
    let svg = std::fs::read_to_string(&svg).expect("the plot");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for name in ["verso", "file_append", "sled_per_event", "sled_batch"] {
        assert!(svg.contains(name), "{name} is not in the legend");
    }
}

#[test]
fn a_timed_run_with_flush_durability_relaxes_the_baselines_too() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let report = bench_json(&[
        "--writers",
        "2",
        "--duration",
        "0.3",
        "--durability",
        "flush",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(report["workload"]["events"].is_null());
    assert_eq!(f(&report, "/workload/duration_secs"), 0.3);
    assert_eq!(report["workload"]["durability"], "flush");
    let verso = check_subject(&report, "verso");
    for name in ["file_append", "sled_per_event", "sled_batch"] {
        check_subject(&report, name);
        let description = report["subjects"][name]["description"].as_str().unwrap();
        assert!(!description.contains("fdatasync per"), "{description}");
    }
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("same relaxation")),
        "{:#}",
        report["notes"]
    );
    assert_eq!(u(&report, "/check/acknowledged"), verso);
    assert_eq!(u(&report, "/check/versions_in_store"), verso);
    assert_eq!(count_store(&data.join("store")).0, verso);
}

#[test]
fn read_mode_reports_reads_and_polls_beside_raw_sled_gets() {
    let report = bench_json(&[
        "--read",
        "--writers",
        "2",
        "--events",
        "200",
        "--streams",
        "2",
        "--progress",
        "off",
    ]);
    assert_eq!(report["mode"], "read");
    assert_eq!(report["data_dir"]["kept"], false);
    assert!(!Path::new(report["data_dir"]["path"].as_str().unwrap()).exists());
    for name in ["latest_read", "poll", "sled_get"] {
        assert_eq!(check_subject(&report, name), 200, "{name}");
    }
    // Every latest read returns 1 KiB; a poll returns content only when it changed.
    assert_eq!(u(&report, "/subjects/latest_read/bytes"), 200 * 1024);
    assert!(u(&report, "/subjects/poll/bytes") <= 2 * 2 * 1024);
    check_ratios(&report, &["latest_read/sled_get", "poll/sled_get"]);
    assert!(report["check"].is_null());
}

/// Starts `verso serve` on a free port over `dir`; returns the child and its base URL.
fn start_server(dir: &Path) -> (Child, String) {
    support::serve(dir, &["--poll-interval-check", "off"], Stdio::null())
}

#[test]
fn over_http_writes_and_reads_reach_verso_serve_and_every_ack_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    let (mut server, url) = start_server(&server_dir);
    let written = bench_json(&[
        "--http",
        &url,
        "--writers",
        "3",
        "--events",
        "60",
        "--streams",
        "2",
    ]);
    let read = bench_json(&[
        "--http",
        &url,
        "--read",
        "--writers",
        "2",
        "--events",
        "100",
        "--no-baselines",
    ]);
    support::stop(&mut server);

    assert_eq!(written["target"], "http");
    assert_eq!(written["url"], url.as_str());
    assert_eq!(written["face"], "appconfig");
    assert!(written["subjects"]["verso"].get("requests").is_none());
    for name in ["verso", "file_append", "sled_per_event", "sled_batch"] {
        assert_eq!(check_subject(&written, name), 60, "{name}");
    }
    // The server's groups and disk are not visible over the wire.
    assert!(written["subjects"]["verso"]["groups"].is_null());
    assert!(written["subjects"]["verso"]["disk_bytes"].is_null());
    check_ratios(
        &written,
        &[
            "verso/file_append",
            "verso/sled_per_event",
            "verso/sled_batch",
        ],
    );
    assert_eq!(u(&written, "/check/acknowledged"), 60);
    assert_eq!(u(&written, "/check/versions_in_store"), 60);

    for name in ["latest_read", "poll"] {
        assert_eq!(check_subject(&read, name), 100, "{name}");
    }
    assert_eq!(read["ratios"].as_object().unwrap().len(), 0);

    // The write run's 60 versions and read mode's 10 prepared ones, in the server's store.
    let (versions, _) = count_store(&server_dir);
    assert_eq!(versions, 60 + 10);
}

#[test]
fn the_connect_face_writes_view_versions_of_two_requests_and_every_ack_is_listed() {
    // Usage errors first: --face needs --http, and connect refuses what it cannot do.
    let cases: &[(&[&str], &str)] = &[
        (&["--face", "connect", "--events", "1"], "--http"),
        (
            &[
                "--http",
                "http://127.0.0.1:1",
                "--face",
                "connect",
                "--read",
            ],
            "--read",
        ),
        (
            &[
                "--http",
                "http://127.0.0.1:1",
                "--face",
                "connect",
                "--streams",
                "2",
            ],
            "--streams",
        ),
        (
            &[
                "--http",
                "http://127.0.0.1:1",
                "--face",
                "connect",
                "--size",
                "400KiB",
            ],
            "largest view template",
        ),
    ];
    usage_errors(cases);

    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    let (mut server, url) = start_server(&server_dir);
    let report = bench_json(&[
        "--http",
        &url,
        "--face",
        "connect",
        "--writers",
        "3",
        "--events",
        "30",
        "--size",
        "256",
        "--no-baselines",
    ]);
    support::stop(&mut server);

    assert_eq!(report["target"], "http");
    assert_eq!(report["face"], "connect");
    // One view per writer.
    assert_eq!(u(&report, "/workload/streams"), 3);
    assert_eq!(check_subject(&report, "verso"), 30);
    assert_eq!(u(&report, "/subjects/verso/bytes"), 30 * 256);
    // Each version is two requests, each timed on its own.
    let requests = &report["subjects"]["verso"]["requests"];
    assert_eq!(u(requests, "/count"), 60, "{requests:#}");
    assert_eq!(f(requests, "/per_event"), 2.0);
    let per_sec = f(requests, "/per_sec");
    let versions_per_sec = f(&report, "/subjects/verso/events_per_sec");
    assert!((per_sec - 2.0 * versions_per_sec).abs() <= 1e-6 * per_sec);
    let operations = requests["operations"].as_object().unwrap();
    let mut names: Vec<&str> = operations.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["CreateViewVersion", "UpdateViewContent"]);
    for (name, o) in operations {
        assert_eq!(u(o, "/count"), 30, "{name}");
        assert!(f(o, "/latency_us/p50") > 0.0, "{name}");
        assert!(f(o, "/latency_us/p50") <= f(o, "/latency_us/max"), "{name}");
    }
    // Every acknowledged version number is listed by ListViewVersions afterwards.
    assert_eq!(u(&report, "/check/acknowledged"), 30);
    assert_eq!(u(&report, "/check/versions_in_store"), 30);
    assert_eq!(u(&report, "/check/missing"), 0);
    // And in the server's log: 3 CreateView, then two events per version.
    let store = Store::open(&server_dir).expect("reopen the store");
    let events = u64::try_from(store.events(Position::FIRST).count()).unwrap();
    store.close().unwrap();
    assert_eq!(events, 3 + 2 * 30);
}

#[test]
fn the_proton_face_writes_template_minors_of_one_request_and_every_ack_is_listed() {
    // Usage errors first: what proton cannot do, and --delete-templates without it.
    let url = "http://127.0.0.1:1";
    let cases: &[(&[&str], &str)] = &[
        (&["--http", url, "--face", "proton", "--read"], "--read"),
        (
            &["--http", url, "--face", "proton", "--streams", "2"],
            "--streams",
        ),
        (
            &["--http", url, "--face", "proton", "--size", "1025"],
            "longest template source key",
        ),
        (
            &["--http", url, "--face", "proton", "--writers", "101"],
            "100 live templates",
        ),
        (&["--http", url, "--delete-templates"], "--face proton"),
    ];
    usage_errors(cases);

    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    let (mut server, url) = start_server(&server_dir);
    let report = bench_json(&[
        "--http",
        &url,
        "--face",
        "proton",
        "--writers",
        "3",
        "--events",
        "30",
        "--size",
        "256",
        "--no-baselines",
    ]);
    // A second run, whose templates are deleted afterwards.
    let deleted = bench_json(&[
        "--http",
        &url,
        "--face",
        "proton",
        "--writers",
        "2",
        "--events",
        "20",
        "--no-baselines",
        "--delete-templates",
    ]);
    support::stop(&mut server);

    assert_eq!(report["target"], "http");
    assert_eq!(report["face"], "proton");
    // One template per writer; one request per event, so no request breakdown.
    assert_eq!(u(&report, "/workload/streams"), 3);
    assert_eq!(check_subject(&report, "verso"), 30);
    assert_eq!(u(&report, "/subjects/verso/bytes"), 30 * 256);
    assert!(report["subjects"]["verso"].get("requests").is_none());
    // Every acknowledged minor is listed by ListEnvironmentTemplateVersions afterwards.
    assert_eq!(u(&report, "/check/acknowledged"), 30);
    assert_eq!(u(&report, "/check/versions_in_store"), 30);
    assert_eq!(u(&report, "/check/missing"), 0);
    assert_eq!(check_subject(&deleted, "verso"), 20);
    assert_eq!(u(&deleted, "/check/missing"), 0);
    let notes = deleted["notes"].to_string();
    assert!(notes.contains("22 template versions"), "{notes}");

    // In the server's log. The first run: per template, its create (1 record) and its
    // 1.0 (two VersionCreated and the registration: 3); per event a minor (its
    // VersionCreated and the registration: 2). The second run the same, then its
    // deletes: a minor 1 record, the last one (1.0) 2 (the minor and the major), each
    // template 1.
    let store = Store::open(&server_dir).expect("reopen the store");
    let records = u64::try_from(store.events(Position::FIRST).count()).unwrap();
    let first = 3 * (1 + 3) + 2 * 30;
    let second = 2 * (1 + 3) + 2 * 20 + 20 + 2 * (2 + 1);
    assert_eq!(records, first + second);
    // Only the first run's templates are live, each with its 1.0 and its writer's minors.
    let live = store
        .environment_templates(&PageRequest {
            max_results: Some(100),
            next_token: None,
        })
        .unwrap()
        .unwrap();
    assert_eq!(live.items.len(), 3);
    let mut versions = 0;
    for t in &live.items {
        assert!(t.name.as_str().starts_with("vb"), "{}", t.name);
        versions += store
            .environment_template_versions(&t.name)
            .unwrap()
            .unwrap()
            .len();
    }
    assert_eq!(versions, 3 + 30);
    store.close().unwrap();
}

/// Each `verso bench ARGS` is a usage error (exit 2) whose message names what is wrong.
fn usage_errors(cases: &[(&[&str], &str)]) {
    for (args, message) in cases {
        let (code, stderr) = bench_fails(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

fn bench_fails(args: &[&str]) -> (Option<i32>, String) {
    let out: Output = verso()
        .arg("bench")
        .args(args)
        .output()
        .expect("run verso bench");
    assert!(!out.status.success(), "verso bench {args:?} succeeded");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let not_empty = dir.path().to_str().unwrap();
    let cases: &[(&[&str], Option<i32>, &str)] = &[
        (&["--writers", "0"], Some(2), "--writers"),
        (&["--size", "0"], Some(2), "at least 1 byte"),
        (&["--size", "3MiB"], Some(2), "content limit"),
        (&["--size-mix", "1KiB,4MiB"], Some(2), "content limit"),
        (&["--events", "0"], Some(2), "--events"),
        (
            &["--events", "5", "--duration", "1"],
            Some(2),
            "cannot be used with",
        ),
        (&["--duration", "0"], Some(2), "--duration"),
        (&["--durability", "maybe"], Some(2), "--durability"),
        (
            &["--http", "https://127.0.0.1:1"],
            Some(2),
            "https is not supported",
        ),
        (&["--http", "127.0.0.1:7080"], Some(2), "--http"),
        (
            &["--http", "http://127.0.0.1:1", "--durability", "flush"],
            Some(2),
            "cannot be used with",
        ),
        (
            &["--data-dir", not_empty, "--events", "1"],
            Some(1),
            "is not empty",
        ),
        (
            &["--plot", "/nonexistent/dir/p.svg", "--events", "1"],
            Some(1),
            "does not exist",
        ),
    ];
    for (args, code, message) in cases {
        let (got, stderr) = bench_fails(args);
        assert_eq!(got, *code, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unreachable_or_silent_server_is_an_error_not_a_hang() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let (code, stderr) = bench_fails(&["--http", "http://127.0.0.1:1", "--events", "5"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("cannot reach verso serve"), "{stderr}");
    // A listener that accepts and never answers: the request times out.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let (code, stderr) = bench_fails(&["--http", &url, "--http-timeout", "0.5", "--events", "5"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no answer within"), "{stderr}");
    drop(silent);
}
