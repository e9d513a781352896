//! CreateHostedConfigurationVersion over HTTP against the same append in process, in
//! one run, so that their ratio means something on a shared, noisy machine.
//!
//! Every benchmark id reads `http/<subject>/clients=64` and reports elements per
//! second, one element being one acknowledged, durable ([`Durability::Sync`]) hosted
//! version of 1 KiB of JSON content, different for every append:
//!
//! - `in_process`: 64 tokio tasks each await [`Store::create_hosted_version`] in a loop;
//!   the single writer commits what is queued as groups (architecture.md D4).
//! - `verso_http`: `verso serve`'s router ([`verso_server::serve`]) on 127.0.0.1 with a
//!   free port, in this process, and 64 tokio tasks each sending
//!   `POST /applications/{id}/configurationprofiles/{id}/hostedconfigurationversions`
//!   with the raw content, one keep-alive HTTP/1.1 connection per task, checking every
//!   answer is `201 Created`. The difference from `in_process` is the cost of HTTP
//!   (parsing, routing, headers, the raw body both ways) on the same two cores.
//!
//! Both run on one multi-threaded tokio runtime; each measurement performs exactly
//! `iters` appends spread over the 64 clients. Data directories live under Cargo's
//! `CARGO_TARGET_TMPDIR`, on the target directory's disk. Run it with
//! `cargo bench --bench http`, or once as a smoke test with
//! `cargo bench --bench http -- --test`. Results: docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use verso::{
    ApplicationId, Durability, Limits, NewApplication, NewHostedVersion, NewProfile, ProfileId,
    Store, StoreOptions,
};

/// Concurrent clients.
const CLIENTS: u64 = 64;
/// Bytes of every appended content.
const VALUE_LEN: usize = 1024;

/// 1 KiB of JSON that differs for every `n`.
fn payload(n: u64) -> Vec<u8> {
    let mut value = format!("{{\"n\":{n},\"pad\":\"").into_bytes();
    value.resize(VALUE_LEN - 2, b'x');
    value.extend_from_slice(b"\"}");
    value
}

/// A store with one application and one hosted profile, served over HTTP too.
struct Fixture {
    store: Store,
    application: ApplicationId,
    profile: ProfileId,
    addr: SocketAddr,
    next: AtomicU64,
    _dir: TempDir,
}

impl Fixture {
    fn new(runtime: &Runtime) -> Arc<Self> {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("data directory");
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
            .unwrap()
            .unwrap()
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
            .unwrap()
            .unwrap()
            .id;
        let addr = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Runs until the runtime is dropped at the end of the benchmark.
            tokio::spawn(verso_server::serve(
                listener,
                store.clone(),
                std::future::pending(),
            ));
            addr
        });
        Arc::new(Self {
            store,
            application,
            profile,
            addr,
            next: AtomicU64::new(0),
            _dir: dir,
        })
    }

    fn uri(&self) -> String {
        format!(
            "http://{}/applications/{}/configurationprofiles/{}/hostedconfigurationversions",
            self.addr, self.application, self.profile
        )
    }
}

/// Runs `CLIENTS` tasks whose shares add up to `iters`; returns the wall time.
fn run_clients<F, Fut>(runtime: &Runtime, iters: u64, client: F) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    runtime.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| tokio::spawn(client(iters / CLIENTS + u64::from(i < iters % CLIENTS))))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    })
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let fixture = Fixture::new(&runtime);
    let mut group = c.benchmark_group("http");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));

    group.bench_function(BenchmarkId::new("in_process", "clients=64"), |b| {
        b.iter_custom(|iters| {
            run_clients(&runtime, iters, |share| {
                let f = Arc::clone(&fixture);
                async move {
                    for _ in 0..share {
                        let n = f.next.fetch_add(1, Ordering::Relaxed);
                        f.store
                            .create_hosted_version(
                                &f.application,
                                &f.profile,
                                NewHostedVersion {
                                    content: payload(n),
                                    content_type: "application/json".into(),
                                    ..Default::default()
                                },
                            )
                            .await
                            .unwrap()
                            .unwrap();
                    }
                }
            })
        });
    });

    let uri = fixture.uri();
    group.bench_function(BenchmarkId::new("verso_http", "clients=64"), |b| {
        b.iter_custom(|iters| {
            run_clients(&runtime, iters, |share| {
                let (f, uri) = (Arc::clone(&fixture), uri.clone());
                async move {
                    // One connection per client: a pool of at most one idle connection.
                    let client = Client::builder(TokioExecutor::new())
                        .pool_max_idle_per_host(1)
                        .build_http::<Full<hyper::body::Bytes>>();
                    for _ in 0..share {
                        let n = f.next.fetch_add(1, Ordering::Relaxed);
                        let request = hyper::Request::post(&uri)
                            .header("content-type", "application/json")
                            .body(Full::from(payload(n)))
                            .unwrap();
                        let response = client.request(request).await.unwrap();
                        assert_eq!(response.status(), 201);
                        response.into_body().collect().await.unwrap();
                    }
                }
            })
        });
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
