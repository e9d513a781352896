//! Write throughput: durable appends per second, Verso against raw sled on the same disk.
//!
//! Every benchmark id reads `append/<subject>/writers=<n>` and reports elements per
//! second, one element being one acknowledged 1 KiB append:
//!
//! - `verso/writers={1,16,64}`: [`Store::create_hosted_version`] with 1 KiB of JSON
//!   content, different for every append so the content store never deduplicates it,
//!   into one hosted profile of one application prepared once per benchmark. Each of
//!   the `n` threads waits for its append before sending the next, so up to `n`
//!   commands are queued for the single writer, which commits them as groups of up to
//!   256 (group commit, architecture.md D4). The content's sha256 is computed on the
//!   caller's thread, so more writers also spread the hashing over the cores.
//! - `sled_per_event/writers={1,16,64}`: the floor without group commit. Each thread
//!   does `insert` of a unique big-endian key with a 1 KiB value, then `flush()`, then
//!   `fdatasync` of sled's `db` file, per event.
//! - `sled_group8/writers=1`: the floor of the atomic group a lone Verso append wrote
//!   before ADR 0007: one `apply_batch` of eight keys (log record, content header and
//!   chunk, content use, version, stream head, hosted bytes, chain head), with about
//!   their sizes and in the same keyspaces, then `flush()` and `fdatasync`, per event.
//!   Not a target: it shows what sled charged for that group. Since ADR 0007 a lone
//!   append writes three of them (record, chunk, head).
//! - `sled_batch256/writers=1`: the ceiling of one writer that batches perfectly: an
//!   `apply_batch` of 256 inserts of 1 KiB into one tree, then `flush()` and `fdatasync`
//!   of the `db` file, per batch; the elements are the inserts.
//!
//! Issue #17's targets, as ratios of one run: `verso/writers=1` ≥ 0.9 ×
//! `sled_per_event/writers=1`, and `verso/writers=16` and `verso/writers=64` ≥ 0.8 ×
//! `sled_batch256/writers=1` (issue #2's targets, 0.8 and 0.5, are replaced). Results:
//! docs/performance.md.
//!
//! All are durable in the same sense, Verso's default [`Durability::Sync`]: an
//! append counts only once sled has flushed it (`pwrite` + `sync_file_range`) *and* its
//! data file has been `fdatasync`ed, because sled 0.34.7's `flush()` alone neither
//! flushes the device cache nor commits file metadata (docs/design/durability.md).
//!
//! Each measurement performs exactly `iters` appends spread evenly over the `n`
//! threads; the threads are started together with a [`Barrier`] and the time counted is
//! from the first thread's release to the last thread's completion. Data directories
//! live under Cargo's `CARGO_TARGET_TMPDIR`, on the target directory's disk (never
//! tmpfs, where a sync costs nothing).
//!
//! Run it with `cargo bench --bench append` (about a minute of measurement, ten samples
//! of about 5 s per id), one id with `cargo bench --bench append -- 'append/verso'`, or
//! as a smoke test with `cargo bench --bench append -- --test` (each id runs once).
//! Results and their analysis: docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use tempfile::TempDir;
use verso::{
    ApplicationId, Durability, Limits, NewApplication, NewHostedVersion, NewProfile, ProfileId,
    Store, StoreOptions,
};

/// Bytes of every appended value.
const VALUE_LEN: usize = 1024;
/// Concurrent writer threads for the per-event subjects.
const WRITERS: [usize; 3] = [1, 16, 64];
/// Inserts per batch for the batched sled baseline.
const BATCH: u64 = 256;

/// A fresh data directory on the target directory's disk.
fn data_dir() -> TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("create a data directory")
}

/// 1 KiB of JSON that differs for every `n`.
fn payload(n: u64) -> Vec<u8> {
    let mut value = format!("{{\"n\":{n},\"pad\":\"").into_bytes();
    value.resize(VALUE_LEN - 2, b'x');
    value.extend_from_slice(b"\"}");
    value
}

/// Runs `work(share)` on `writers` threads whose shares add up to `iters`, started
/// together by a barrier; returns the time from the first release to the last
/// completion.
fn run_writers(iters: u64, writers: usize, work: impl Fn(u64) + Sync) -> Duration {
    let barrier = Barrier::new(writers);
    let count = u64::try_from(writers).expect("writer count fits u64");
    let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                let share = iters / count + u64::from(i < iters % count);
                let (barrier, work) = (&barrier, &work);
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(share);
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let start = spans.iter().map(|s| s.0).min().unwrap();
    let end = spans.iter().map(|s| s.1).max().unwrap();
    end.duration_since(start)
}

/// A Verso store with one application and one hosted profile to append to.
struct VersoFixture {
    store: Store,
    application: ApplicationId,
    profile: ProfileId,
    next: AtomicU64,
    _dir: TempDir,
}

impl VersoFixture {
    fn new() -> Self {
        let dir = data_dir();
        // The hosted-bytes quota (1 GiB by default) would refuse appends in a long run.
        let mut limits = Limits::DEFAULT;
        limits.max_hosted_bytes = u64::MAX;
        let store = StoreOptions::new()
            .durability(Durability::Sync)
            .limits(limits)
            .open(dir.path())
            .expect("open the store");
        let application = store
            .create_application(NewApplication {
                name: "bench".into(),
                ..Default::default()
            })
            .wait()
            .expect("create application")
            .expect("application accepted")
            .id;
        let profile = store
            .create_profile(
                &application,
                NewProfile {
                    name: "appends".into(),
                    ..Default::default()
                },
            )
            .wait()
            .expect("create profile")
            .expect("profile accepted")
            .id;
        Self {
            store,
            application,
            profile,
            next: AtomicU64::new(0),
            _dir: dir,
        }
    }

    fn append(&self, count: u64) {
        for _ in 0..count {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            self.store
                .create_hosted_version(
                    &self.application,
                    &self.profile,
                    NewHostedVersion {
                        content: payload(n),
                        content_type: "application/json".into(),
                        ..Default::default()
                    },
                )
                .wait()
                .expect("append")
                .expect("append accepted");
        }
    }
}

/// A raw sled database opened as Verso opens it, plus its data file for `fdatasync`.
struct SledFixture {
    db: sled::Db,
    data_file: File,
    next: AtomicU64,
    _dir: TempDir,
}

impl SledFixture {
    fn new() -> Self {
        let dir = data_dir();
        let db = open_sled(dir.path());
        let data_file = File::open(dir.path().join("db")).expect("open sled's data file");
        Self {
            db,
            data_file,
            next: AtomicU64::new(0),
            _dir: dir,
        }
    }

    /// The durable barrier: flush, then `fdatasync` of the data file.
    fn sync(&self) {
        self.db.flush().expect("flush");
        self.data_file.sync_data().expect("fdatasync");
    }

    /// `count` times: insert one event, make it durable.
    fn append_per_event(&self, count: u64) {
        for _ in 0..count {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            self.db.insert(n.to_be_bytes(), payload(n)).expect("insert");
            self.sync();
        }
    }

    /// `count` times: one `apply_batch` of the eight keys a lone Verso append writes,
    /// with about their sizes and spread over the same keyspaces, made durable.
    fn append_group8(&self, count: u64) {
        for _ in 0..count {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let hash = pseudo_hash(n);
            let key = |prefix: u8, parts: &[&[u8]]| {
                let mut k = vec![prefix];
                for p in parts {
                    k.extend_from_slice(p);
                }
                k
            };
            let stream: &[u8] = b"\x01\x00\x07app0001\x00\x07prf0001";
            let version = n.to_be_bytes();
            let mut batch = sled::Batch::default();
            batch.insert(key(b'L', &[&version]), vec![7u8; 260]);
            batch.insert(key(b'c', &[&hash]), VALUE_LEN.to_be_bytes().to_vec());
            batch.insert(key(b'C', &[&hash, &[0, 0, 0, 0]]), payload(n));
            batch.insert(key(b'h', &[&hash, stream, &version]), Vec::new());
            batch.insert(key(b'v', &[stream, &version]), vec![7u8; 115]);
            batch.insert(key(b's', &[stream]), vec![7u8; 25]);
            batch.insert(b"b".to_vec(), n.to_be_bytes().to_vec());
            batch.insert(b"\x00head".to_vec(), vec![7u8; 40]);
            self.db.apply_batch(batch).expect("apply batch");
            self.sync();
        }
    }

    /// `count` inserts in batches of [`BATCH`], each batch made durable.
    fn append_batched(&self, count: u64) {
        let mut left = count;
        while left > 0 {
            let size = left.min(BATCH);
            let mut batch = sled::Batch::default();
            for _ in 0..size {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                batch.insert(&n.to_be_bytes(), payload(n));
            }
            self.db.apply_batch(batch).expect("apply batch");
            self.sync();
            left -= size;
        }
    }
}

/// 32 bytes that look random and differ for every `n`, standing in for a content's
/// sha256 (splitmix64).
fn pseudo_hash(n: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut x = n;
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
    }
    out
}

fn open_sled(dir: &Path) -> sled::Db {
    sled::Config::new()
        .path(dir)
        .flush_every_ms(Some(500))
        .open()
        .expect("open sled")
}

fn bench_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1));

    for writers in WRITERS {
        // Opened lazily, so ids filtered out on the command line cost nothing; dropped
        // (closed, directory removed) before the next id.
        let mut fixture = None;
        group.bench_function(
            BenchmarkId::new("verso", format!("writers={writers}")),
            |b| {
                let f = fixture.get_or_insert_with(VersoFixture::new);
                b.iter_custom(|iters| run_writers(iters, writers, |n| f.append(n)));
            },
        );
        if let Some(f) = fixture {
            f.store.close().expect("close the store");
        }
    }

    for writers in WRITERS {
        let mut fixture = None;
        group.bench_function(
            BenchmarkId::new("sled_per_event", format!("writers={writers}")),
            |b| {
                let f = fixture.get_or_insert_with(SledFixture::new);
                b.iter_custom(|iters| run_writers(iters, writers, |n| f.append_per_event(n)));
            },
        );
    }

    let mut fixture = None;
    group.bench_function(BenchmarkId::new("sled_group8", "writers=1"), |b| {
        let f = fixture.get_or_insert_with(SledFixture::new);
        b.iter_custom(|iters| run_writers(iters, 1, |n| f.append_group8(n)));
    });
    drop(fixture);

    let mut fixture = None;
    group.bench_function(BenchmarkId::new("sled_batch256", "writers=1"), |b| {
        let f = fixture.get_or_insert_with(SledFixture::new);
        b.iter_custom(|iters| run_writers(iters, 1, |n| f.append_batched(n)));
    });
    drop(fixture);

    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    bench_append(&mut criterion);
    criterion.final_summary();
}
