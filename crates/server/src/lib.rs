//! Verso's HTTP face: the AWS AppConfig control plane, AppConfigData, Amazon Connect views
//! and AWS Proton environment templates over a [`Store`], so that the AWS CLI, boto3 and
//! the AWS SDK for Rust work against Verso with only the endpoint URL changed.
//!
//! The wire contract is `../shared/reference/aws-api-surface.md` (routes, status codes,
//! headers, JSON shapes, error bodies); `docs/compat/{appconfig,appconfigdata,connect,
//! proton}.md` say, per operation, what is supported and how it is tested.
//!
//! # Layout
//!
//! - [`wire`]: the rest-json protocol: labels, query strings, headers, bodies, and the
//!   one mapping from refusals and failures to AWS errors ([`wire::error`]).
//! - `appconfig`: one module per resource; each handler is a thin adapter from the wire
//!   to a typed [`Store`] call and back. `appconfigdata` likewise for sessions and polls,
//!   `connect` for views (rest-json, routes under `/views`), and `proton` for templates
//!   (awsJson1_0: `POST /` dispatched on `X-Amz-Target`).
//! - [`serve`]: binding, graceful shutdown, closing the store.
//!
//! # What this crate is not
//!
//! It holds no business rule: every rule lives in the kernel (`verso-domain`), every
//! write goes through the store's single writer, and nothing is kept outside the log.
//! It does not verify SigV4 signatures: it records the signer's access key id as the
//! actor of each write.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = verso_storage::Store::open(dir.path())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = tokio::spawn(verso_server::serve(listener, store, async {}));
//! // ... point a client at http://{addr} ...
//! # let _ = addr;
//! server.await??;
//! # Ok(()) }
//! ```

pub mod admin;
mod appconfig;
mod appconfigdata;
mod connect;
mod proton;
mod schema;
pub mod wire;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use verso_storage::Store;

pub use appconfig::AppState;
use appconfigdata::DataPlane;

/// How often `serve` saves the AppConfigData single-use table while running (it is also
/// saved at shutdown). A crash loses at most this much of it: tokens issued since can
/// be used once more (docs/design/deployments.md).
pub const SESSION_SAVE_INTERVAL: Duration = Duration::from_secs(5);

/// Server settings beyond the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Refuse a GetLatestConfiguration that comes sooner than its session's poll
    /// interval (`BadRequestException`, `PollIntervalNotSatisfied`), as AWS does. On by
    /// default; `verso serve --poll-interval-check off` turns it off for tests and local
    /// work. Tokens stay single-use either way.
    pub enforce_poll_interval: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            enforce_poll_interval: true,
        }
    }
}

impl ServerOptions {
    /// With the poll-interval check on or off.
    #[must_use]
    pub const fn enforce_poll_interval(mut self, on: bool) -> Self {
        self.enforce_poll_interval = on;
        self
    }
}

fn router(state: AppState) -> Router {
    appconfig::routes()
        .merge(connect::routes())
        .route("/", post(proton::dispatch).fallback(proton::other_method))
        .merge(admin::routes())
        .route("/configurationsessions", post(appconfigdata::start_session))
        .route("/configuration", get(appconfigdata::get_latest))
        .fallback(wire::unknown_operation)
        .method_not_allowed_fallback(wire::unknown_operation)
        .layer(middleware::from_fn(wire::request_id))
        .with_state(state)
}

fn state(store: Store, options: ServerOptions) -> io::Result<AppState> {
    let data = DataPlane::open(store.path(), options.enforce_poll_interval)?;
    Ok(AppState {
        // A burst beyond the writer's queue is refused with ThrottlingException rather
        // than held in memory.
        store: store.refusing_when_busy(),
        data: Arc::new(data),
    })
}

/// The whole HTTP application over `store` with the default [`ServerOptions`]: every
/// route, the unknown-operation answer, and a request id on every response. Tests drive
/// it without a socket.
///
/// # Errors
/// An I/O error reading or creating AppConfigData's token key or session table under
/// the store's directory.
pub fn app(store: Store) -> io::Result<Router> {
    app_with(store, ServerOptions::default())
}

/// [`app`] with `options`.
///
/// # Errors
/// As [`app`].
pub fn app_with(store: Store, options: ServerOptions) -> io::Result<Router> {
    Ok(router(state(store, options)?))
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets in-flight
/// requests finish, saves the AppConfigData session table and closes the store (its
/// final flush).
///
/// # Errors
/// An I/O error from the listener or the session table, or the store's failure to
/// close cleanly.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, store, ServerOptions::default(), shutdown).await
}

/// [`serve`] with `options`.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with(
    listener: TcpListener,
    store: Store,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    Server::new(store, options)?.serve(listener, shutdown).await
}

/// A server ready to serve: its AppConfigData state is loaded, so a damaged session table
/// or key is reported before anything is announced.
#[derive(Debug)]
pub struct Server {
    state: AppState,
}

impl Server {
    /// Loads (or creates) AppConfigData's token key and session table under the store's
    /// directory.
    ///
    /// # Errors
    /// An I/O error reading or creating them, with the file named.
    pub fn new(store: Store, options: ServerOptions) -> io::Result<Self> {
        Ok(Self {
            state: state(store, options)?,
        })
    }

    /// The router over this server's state, for driving it without a socket (tests,
    /// benches). Requests through it share the sessions and the cache with
    /// [`Server::serve`].
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then lets in-flight requests
    /// finish, saves the session table and closes the store. While running, the table is
    /// saved every [`SESSION_SAVE_INTERVAL`].
    ///
    /// # Errors
    /// As [`serve`].
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let state = self.state;
        let store = state.store.clone();
        let data = Arc::clone(&state.data);
        let saver = {
            let data = Arc::clone(&data);
            let store = store.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(SESSION_SAVE_INTERVAL);
                loop {
                    every.tick().await;
                    let (data, now) = (Arc::clone(&data), store.now());
                    match tokio::task::spawn_blocking(move || data.save(now)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "saving the AppConfigData sessions failed");
                        }
                        Err(e) => tracing::error!(error = %e, "the session saver failed"),
                    }
                }
            })
        };
        let served = axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown)
            .await;
        saver.abort();
        let saved = data.save(store.now());
        let closed = store
            .close()
            .map(|_| ())
            .map_err(|e| io::Error::other(format!("closing the store: {e}")));
        served?;
        saved.map_err(|e| {
            io::Error::new(e.kind(), format!("saving the AppConfigData sessions: {e}"))
        })?;
        closed
    }
}
