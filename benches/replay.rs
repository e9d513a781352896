//! Replay: rebuilding the projections from a large log, beside a raw scan + decode of
//! the same log in the same run, and opening that store.
//!
//! Every benchmark id reads `replay/<subject>/events=<n>` and reports elements per
//! second, one element being one log record:
//!
//! - `raw_scan_decode`: the floor of any replay: [`Store::events`] from position 1,
//!   which iterates sled's `L` keys in order, unframes each value and decodes it with the
//!   store's record codec (bincode 2), and nothing else. It is the public face of the
//!   same scan the rebuild does, so no crate-private codec is exposed for the bench.
//! - `rebuild`: [`Store::rebuild`]: replay the log through the kernel (every rule
//!   re-checked, E5), compare the fold with the stored projections and write what
//!   differs (nothing, for this intact store), on the writer thread, ending with the
//!   durable barrier.
//! - `open`: [`Store::open`] of the closed store, then `close`. Open reads the head and
//!   the format markers and loads the checkpoint that close wrote at the head into
//!   memory (ADR 0007); it folds no log, so it grows with the projections, not with
//!   the log.
//!
//! The log is one application, 50 hosted profiles and hosted versions of ~100 bytes of
//! distinct JSON round-robin over them, built once per run with
//! [`Durability::Buffered`] (the build is not measured). Its size is
//! `VERSO_REPLAY_EVENTS` records (default 20 000, so that `cargo bench --bench replay
//! -- --test` takes seconds); `VERSO_REPLAY_EVENTS=1000000 cargo bench --bench replay`
//! is the run. The data directory is under Cargo's `CARGO_TARGET_TMPDIR`, on the
//! target directory's disk. Results: docs/performance.md, "Replay".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use tempfile::TempDir;
use verso::domain::Position;
use verso::{
    Durability, Limits, NewApplication, NewHostedVersion, NewProfile, Store, StoreOptions,
};

/// Profiles the versions are spread over.
const PROFILES: u64 = 50;
/// Tickets in flight while building.
const IN_FLIGHT: usize = 4096;

fn events_wanted() -> u64 {
    std::env::var("VERSO_REPLAY_EVENTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(20_000)
        .max(PROFILES + 2)
}

/// A closed store of exactly `events` records.
fn build(events: u64) -> TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("data directory");
    let mut limits = Limits::DEFAULT;
    limits.max_hosted_bytes = u64::MAX;
    let store = StoreOptions::new()
        .durability(Durability::Buffered)
        .limits(limits)
        .open(dir.path())
        .expect("open");
    let started = Instant::now();
    let app = store
        .create_application(NewApplication {
            name: "replay".into(),
            ..Default::default()
        })
        .wait()
        .unwrap()
        .unwrap()
        .id;
    let profiles: Vec<_> = (0..PROFILES)
        .map(|i| {
            store
                .create_profile(
                    &app,
                    NewProfile {
                        name: format!("p{i}"),
                        ..Default::default()
                    },
                )
                .wait()
                .unwrap()
                .unwrap()
                .id
        })
        .collect();
    let versions = events - 1 - PROFILES;
    let mut pending = Vec::with_capacity(IN_FLIGHT);
    for n in 0..versions {
        let profile = &profiles[usize::try_from(n % PROFILES).unwrap()];
        let content = format!("{{\"n\":{n},\"limits\":{{\"max\":{},\"burst\":3}},\"pad\":\"0123456789abcdef0123456789abcdef\"}}", n % 997).into_bytes();
        pending.push(store.create_hosted_version(
            &app,
            profile,
            NewHostedVersion {
                content,
                content_type: "application/json".into(),
                ..Default::default()
            },
        ));
        if pending.len() == IN_FLIGHT {
            for t in pending.drain(..) {
                t.wait().unwrap().unwrap();
            }
        }
    }
    for t in pending.drain(..) {
        t.wait().unwrap().unwrap();
    }
    let head = store.close().unwrap();
    assert_eq!(head.position, events);
    eprintln!(
        "replay bench: built {events} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    dir
}

fn open(dir: &Path) -> Store {
    Store::open(dir).expect("open the built store")
}

fn replay(c: &mut Criterion) {
    let events = events_wanted();
    let dir = build(events);
    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(events));
    // `open` first, while the store is closed.
    group.bench_function(BenchmarkId::new("open", format!("events={events}")), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let store = open(dir.path());
                total += started.elapsed();
                assert_eq!(store.head().position, events);
                store.close().unwrap();
            }
            total
        });
    });
    let store = open(dir.path());
    group.bench_function(
        BenchmarkId::new("raw_scan_decode", format!("events={events}")),
        |b| {
            b.iter(|| {
                let mut n = 0u64;
                for recorded in store.events(Position::FIRST) {
                    black_box(recorded.unwrap());
                    n += 1;
                }
                assert_eq!(n, events);
            });
        },
    );
    group.bench_function(
        BenchmarkId::new("rebuild", format!("events={events}")),
        |b| {
            b.iter(|| {
                let report = store.rebuild().unwrap().expect("the log replays");
                assert_eq!(report.events, events);
            });
        },
    );
    group.finish();
    store.close().unwrap();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    replay(&mut c);
    c.final_summary();
}
