//! GetLatestConfiguration over HTTP for sessions polling unchanged configuration, beside
//! a trivial axum handler, in one run, so that their ratio means something on a shared,
//! noisy machine (issue #4: the poll should cost at most 1.5× the trivial handler).
//!
//! Every benchmark id reads `poll/<subject>/clients=64` and reports elements per second,
//! one element being one answered request:
//!
//! - `trivial_axum`: an axum router whose one handler answers `GET /configuration` with
//!   200, an empty body and the two `Next-Poll-*` headers of the same length Verso
//!   sends. It is the floor: HTTP/1.1 over loopback, hyper and axum, nothing else.
//! - `get_latest`: `verso serve`'s router ([`verso_server::serve_with`], poll-interval
//!   check off so that a session may poll back to back) over a store with one hosted
//!   version deployed `AppConfig.AllAtOnce`. Each of the 64 clients holds its own session
//!   that already received the configuration, so every poll finds nothing new: token
//!   check, single-use table, cache lookup, the status of the deployment, a new sealed
//!   token, and an empty body.
//!
//! 64 tokio tasks, one keep-alive HTTP/1.1 connection each, check every answer is 200
//! with an empty body. Both servers and all clients share one multi-threaded tokio
//! runtime on the machine's two cores. Run it with `cargo bench --bench poll`, or once as
//! a smoke test with `cargo bench --bench poll -- --test`. Results: docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::get;
use criterion::{BenchmarkId, Criterion, Throughput};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use verso::{
    DeploymentStrategyId, NewApplication, NewDeployment, NewEnvironment, NewHostedVersion,
    NewProfile, VersionSelector,
};
use verso_server::ServerOptions;

/// Concurrent clients, each with its own session.
const CLIENTS: usize = 64;

/// Binds 127.0.0.1 on a free port and serves `router` there until the runtime ends.
fn spawn_trivial(runtime: &Runtime, token_len: usize) -> (SocketAddr, axum::Router) {
    let token = "t".repeat(token_len);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().route(
            "/configuration",
            get(move || {
                let token = token.clone();
                async move {
                    (
                        [
                            ("Next-Poll-Configuration-Token", token),
                            ("Next-Poll-Interval-In-Seconds", "60".to_owned()),
                        ],
                        "",
                    )
                }
            }),
        );
        let in_process = router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        (addr, in_process)
    })
}

/// A store with one deployed hosted version, served by Verso on a free port.
fn spawn_verso(runtime: &Runtime, dir: &TempDir) -> (SocketAddr, axum::Router) {
    let store = verso::Store::open(dir.path()).expect("open the store");
    let app = store
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
            &app,
            NewProfile {
                name: "flags".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap()
        .id;
    store
        .create_hosted_version(
            &app,
            &profile,
            NewHostedVersion {
                content: br#"{"feature":true}"#.to_vec(),
                content_type: "application/json".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap();
    let env = store
        .create_environment(
            &app,
            NewEnvironment {
                name: "prod".into(),
                ..Default::default()
            },
        )
        .wait()
        .unwrap()
        .unwrap()
        .id;
    store
        .start_deployment(
            &app,
            &env,
            NewDeployment {
                profile: profile.clone(),
                version: VersionSelector::parse("1"),
                strategy: DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap(),
                description: None,
                kms_key_identifier: None,
                tags: Default::default(),
                latest_deployment_number: None,
            },
        )
        .wait()
        .unwrap()
        .unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ServerOptions::default().enforce_poll_interval(false);
        let server = verso_server::Server::new(store, options).unwrap();
        let router = server.router();
        tokio::spawn(server.serve(listener, std::future::pending()));
        (addr, router)
    })
}

/// Starts `CLIENTS` sessions and makes their first poll (which returns the content);
/// returns each session's next token.
fn sessions(runtime: &Runtime, addr: SocketAddr, dir: &TempDir) -> Vec<String> {
    let _ = dir;
    runtime.block_on(async move {
        let client = Client::builder(TokioExecutor::new())
            .build_http::<http_body_util::Full<hyper::body::Bytes>>();
        let mut tokens = Vec::with_capacity(CLIENTS);
        for _ in 0..CLIENTS {
            let body = r#"{"ApplicationIdentifier":"bench","EnvironmentIdentifier":"prod","ConfigurationProfileIdentifier":"flags"}"#;
            let request = hyper::Request::post(format!("http://{addr}/configurationsessions"))
                .header("content-type", "application/json")
                .body(http_body_util::Full::from(body))
                .unwrap();
            let response = client.request(request).await.unwrap();
            assert_eq!(response.status(), 201);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let initial = json["InitialConfigurationToken"].as_str().unwrap().to_owned();
            let request = hyper::Request::get(format!(
                "http://{addr}/configuration?configuration_token={initial}"
            ))
            .body(http_body_util::Full::default())
            .unwrap();
            let response = client.request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let next = response.headers()["next-poll-configuration-token"]
                .to_str()
                .unwrap()
                .to_owned();
            let content = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&content[..], br#"{"feature":true}"#);
            tokens.push(next);
        }
        tokens
    })
}

/// `CLIENTS` tasks, client `i` polling `share(i)` times with its own token (the fixed
/// token for the trivial handler), each on its own connection; returns the wall time.
fn run(
    runtime: &Runtime,
    addr: SocketAddr,
    iters: u64,
    tokens: &Arc<Mutex<Vec<String>>>,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        let clients = CLIENTS as u64;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let tokens = Arc::clone(tokens);
                let share = iters / clients + u64::from((i as u64) < iters % clients);
                tokio::spawn(async move {
                    let client = Client::builder(TokioExecutor::new())
                        .pool_max_idle_per_host(1)
                        .build_http::<Empty<hyper::body::Bytes>>();
                    let mut token = tokens.lock().unwrap()[i].clone();
                    for _ in 0..share {
                        let request = hyper::Request::get(format!(
                            "http://{addr}/configuration?configuration_token={token}"
                        ))
                        .body(Empty::new())
                        .unwrap();
                        let response = client.request(request).await.unwrap();
                        assert_eq!(response.status(), 200);
                        let next = response.headers()["next-poll-configuration-token"]
                            .to_str()
                            .unwrap()
                            .to_owned();
                        let body = response.into_body().collect().await.unwrap().to_bytes();
                        assert!(body.is_empty(), "unchanged configuration");
                        token = next;
                    }
                    tokens.lock().unwrap()[i] = token;
                })
            })
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
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("data directory");
    let (verso, verso_router) = spawn_verso(&runtime, &dir);
    let tokens = Arc::new(Mutex::new(sessions(&runtime, verso, &dir)));
    let token_len = tokens.lock().unwrap()[0].len();
    let (trivial, trivial_router) = spawn_trivial(&runtime, token_len);
    let fixed = Arc::new(Mutex::new(vec!["t".repeat(token_len); CLIENTS]));

    let mut group = c.benchmark_group("poll");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::new("trivial_axum", "clients=64"), |b| {
        b.iter_custom(|iters| run(&runtime, trivial, iters, &fixed));
    });
    group.bench_function(BenchmarkId::new("get_latest", "clients=64"), |b| {
        b.iter_custom(|iters| run(&runtime, verso, iters, &tokens));
    });
    // The same two handlers without a socket: what the server itself spends per
    // request, routing and middleware included, one request at a time.
    group.bench_function(BenchmarkId::new("trivial_in_process", "sessions=64"), |b| {
        b.iter_custom(|iters| run_in_process(&runtime, &trivial_router, iters, &fixed));
    });
    group.bench_function(
        BenchmarkId::new("get_latest_in_process", "sessions=64"),
        |b| {
            b.iter_custom(|iters| run_in_process(&runtime, &verso_router, iters, &tokens));
        },
    );
    group.finish();
}

/// `iters` polls through `router` without a socket, round-robin over the sessions.
fn run_in_process(
    runtime: &Runtime,
    router: &axum::Router,
    iters: u64,
    tokens: &Arc<Mutex<Vec<String>>>,
) -> Duration {
    use tower::ServiceExt as _;
    runtime.block_on(async {
        let mut held = tokens.lock().unwrap().clone();
        let start = Instant::now();
        for n in 0..iters {
            let i = usize::try_from(n).unwrap() % held.len();
            let request =
                axum::http::Request::get(format!("/configuration?configuration_token={}", held[i]))
                    .body(axum::body::Body::empty())
                    .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            held[i] = response.headers()["next-poll-configuration-token"]
                .to_str()
                .unwrap()
                .to_owned();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert!(body.is_empty());
        }
        let elapsed = start.elapsed();
        *tokens.lock().unwrap() = held;
        elapsed
    })
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
