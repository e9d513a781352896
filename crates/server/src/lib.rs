//! Verso's HTTP face: the AWS AppConfig control plane over a [`Store`], so that the AWS
//! CLI, boto3 and the AWS SDK for Rust work against Verso with only the endpoint URL
//! changed.
//!
//! The wire contract is `../shared/reference/aws-api-surface.md` (routes, status codes,
//! headers, JSON shapes, error bodies); `docs/compat/appconfig.md` says, per operation,
//! what is supported and how it is tested.
//!
//! # Layout
//!
//! - [`wire`]: the rest-json protocol: labels, query strings, headers, bodies, and the
//!   one mapping from refusals and failures to AWS errors ([`wire::error`]).
//! - `appconfig`: one module per resource; each handler is a thin adapter from the wire
//!   to a typed [`Store`] call and back.
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

mod appconfig;
mod schema;
pub mod wire;

use std::future::Future;
use std::io;

use axum::Router;
use axum::middleware;
use tokio::net::TcpListener;
use verso_storage::Store;

pub use appconfig::AppState;

/// The whole HTTP application over `store`: every route, the unknown-operation answer,
/// and a request id on every response. Tests drive it without a socket.
pub fn app(store: Store) -> Router {
    appconfig::routes()
        .fallback(wire::unknown_operation)
        .method_not_allowed_fallback(wire::unknown_operation)
        .layer(middleware::from_fn(wire::request_id))
        .with_state(AppState { store })
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets in-flight
/// requests finish and closes the store (its final flush).
///
/// # Errors
/// An I/O error from the listener, or the store's failure to close cleanly.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = app(store.clone());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    store
        .close()
        .map(|_| ())
        .map_err(|e| io::Error::other(format!("closing the store: {e}")))
}
