//! The Verso admin API: read-only audit queries over the running server's store, for
//! `verso log|verify|replay|show|diff|export --endpoint URL` while `verso serve` holds
//! the data directory (docs/admin-api.md).
//!
//! Every route is a `GET` under [`PREFIX`], a path AWS never uses, on the same listener
//! as AppConfig. Nothing here writes: the queries read the log (`Store::log`,
//! `Store::snapshot`, `Store::version_at`, `Store::resolve_stream`), `verify` runs
//! `Store::verify` on the writer thread (appends wait while it runs, as they do for a
//! local verify), and `export` streams `Store::export_bundle`.
//!
//! Bodies are JSON, reusing the serde types of `verso_storage` (`LogEntry`, `Snapshot`);
//! `log` is one JSON object per line and `export` the bundle's bytes, both streamed.
//! Errors are `{"error": {"kind": ..., "message": ...}}` with 400 (`bad_request`),
//! 404 (`refused`: an unknown stream, version or label, a position past the head) or
//! 500 (`corrupted`, `storage`).

use std::io;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use http_body_util::channel::{Channel, Sender};
use serde::{Deserialize, Serialize};
use serde_json::json;
use verso_domain::{ApplicationId, Position, ProfileId, StreamVersion, Timestamp, VersionSelector};
use verso_storage::{At, Error, ErrorKind, LogFilter, LogStream, Refused, VersionAt};

use crate::AppState;
use crate::wire::Query;

/// The path prefix of every admin route.
pub const PREFIX: &str = "/_verso/v1";

/// Frames buffered between the blocking producer and the socket.
const FRAMES_IN_FLIGHT: usize = 8;
/// Bytes per frame of a streamed body.
const FRAME_BYTES: usize = 64 * 1024;

/// The admin routes, to be merged into the application router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_verso/v1/log", get(log))
        .route("/_verso/v1/resolve", get(resolve))
        .route("/_verso/v1/snapshot", get(snapshot))
        .route("/_verso/v1/version", get(version))
        .route("/_verso/v1/verify", get(verify))
        .route("/_verso/v1/export", get(export))
}

/// One version and its content as of a point of the log: the body of
/// `GET /_verso/v1/version`, and what `verso show` and `verso diff` render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VersionBody {
    /// The last position folded.
    pub as_of_position: u64,
    /// The stream as `verso log` shows it: `appconfig/<app>/<profile>` by ids,
    /// `connect/<instance>/<view>`, `proton/<template>#<generation>[/<major>]`.
    pub stream: String,
    /// The application's name then (empty for streams other than a profile's).
    pub application_name: String,
    /// The profile's name then (empty for streams other than a profile's).
    pub profile_name: String,
    /// The version number.
    pub version: u64,
    /// The position of the record that created it.
    pub position: u64,
    /// When it was created, ms since the Unix epoch.
    pub created_ms: i64,
    /// Who created it, when known.
    pub actor: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its MIME type.
    pub content_type: Option<String>,
    /// The sha256 of its content, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The position of the record that deleted it, if it was deleted by then.
    pub deleted: Option<u64>,
    /// Its content, lowercase hex (verified against `sha256` by the server).
    pub content_hex: String,
}

impl VersionBody {
    /// The body for `v`.
    #[must_use]
    pub fn new(v: &VersionAt) -> Self {
        let r = &v.record;
        Self {
            as_of_position: v.position,
            stream: r.stream.to_string(),
            application_name: v.application_name.clone(),
            profile_name: v.profile_name.clone(),
            version: r.version.get(),
            position: r.position.get(),
            created_ms: r.created_at.as_millis(),
            actor: r.actor.clone(),
            label: r.label.clone(),
            description: r.description.clone(),
            content_type: r.content_type.clone(),
            sha256: r.content.hash.to_string(),
            size: r.content.len,
            deleted: r.deleted.map(Position::get),
            content_hex: v.content.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The content, decoded from hex.
    ///
    /// # Errors
    /// A message when `content_hex` is not hex.
    pub fn content(&self) -> Result<Vec<u8>, String> {
        let hex = self.content_hex.as_bytes();
        if !hex.len().is_multiple_of(2) {
            return Err("content_hex has an odd length".to_owned());
        }
        hex.chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                    .ok_or_else(|| "content_hex is not hex".to_owned())
            })
            .collect()
    }
}

/// The body of `GET /_verso/v1/resolve`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedBody {
    /// The application id.
    pub application: String,
    /// The profile id.
    pub profile: String,
}

/// An admin error: a status and `{"error": {"kind", "message"}}`.
struct AdminError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl AdminError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "bad_request",
            message: message.into(),
        }
    }

    fn refused(r: &Refused) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "refused",
            message: r.to_string(),
        }
    }

    fn storage(e: &Error) -> Self {
        let kind = if e.kind() == ErrorKind::Corrupted {
            "corrupted"
        } else {
            "storage"
        };
        tracing::error!(error = %e, "admin API: storage failure");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind,
            message: e.to_string(),
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "storage",
            message: message.into(),
        }
    }

    fn into_response(self) -> Response {
        json_body(
            self.status,
            &json!({"error": {"kind": self.kind, "message": self.message}}),
        )
    }
}

type Answer = Result<Response, AdminError>;

fn json_body(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn respond(answer: Answer) -> Response {
    answer.unwrap_or_else(AdminError::into_response)
}

fn query(uri: &Uri) -> Result<Query, AdminError> {
    Query::parse(uri.query())
        .map_err(|_| AdminError::bad_request("the query string is not valid UTF-8"))
}

fn number(q: &Query, name: &str) -> Result<Option<u64>, AdminError> {
    q.get(name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                AdminError::bad_request(format!("{name}={v:?}: expected a non-negative integer"))
            })
        })
        .transpose()
}

fn millis(q: &Query, name: &str) -> Result<Option<Timestamp>, AdminError> {
    q.get(name)
        .map(|v| {
            v.parse::<i64>().map(Timestamp::from_millis).map_err(|_| {
                AdminError::bad_request(format!("{name}={v:?}: expected milliseconds"))
            })
        })
        .transpose()
}

/// `position=N` or `time_ms=T` (at most one); neither is the head.
fn at(q: &Query) -> Result<At, AdminError> {
    match (number(q, "position")?, millis(q, "time_ms")?) {
        (Some(_), Some(_)) => Err(AdminError::bad_request(
            "give position or time_ms, not both",
        )),
        (Some(0), None) => Err(AdminError::bad_request("positions start at 1")),
        (Some(p), None) => Ok(At::Position(Position::new(p))),
        (None, Some(t)) => Ok(At::Time(t)),
        (None, None) => Ok(At::Head),
    }
}

fn required<'q>(q: &'q Query, name: &str) -> Result<&'q str, AdminError> {
    q.get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AdminError::bad_request(format!("{name} is required")))
}

/// Runs a blocking store call off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AdminError::internal(format!("the query task failed: {e}")))?
}

/// An `io::Write` that sends what is written as body frames, blocking the producer
/// thread while the client is slow (the channel holds [`FRAMES_IN_FLIGHT`] frames).
struct FrameWriter {
    sender: Sender<Bytes, io::Error>,
    runtime: tokio::runtime::Handle,
    buffer: Vec<u8>,
}

impl FrameWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let frame = Bytes::from(std::mem::take(&mut self.buffer));
        self.runtime
            .block_on(self.sender.send_data(frame))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl io::Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= FRAME_BYTES {
            self.send_buffer()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

/// A 200 whose body `produce` writes on a blocking thread. A failure after the first
/// byte aborts the body, so the client sees a broken response, never a short one that
/// looks complete.
fn streamed(
    content_type: &'static str,
    produce: impl FnOnce(&mut FrameWriter) -> io::Result<()> + Send + 'static,
) -> Response {
    let (sender, body) = Channel::<Bytes, io::Error>::new(FRAMES_IN_FLIGHT);
    let mut writer = FrameWriter {
        sender,
        runtime: tokio::runtime::Handle::current(),
        buffer: Vec::with_capacity(FRAME_BYTES),
    };
    tokio::task::spawn_blocking(move || {
        let done = produce(&mut writer).and_then(|()| io::Write::flush(&mut writer));
        if let Err(e) = done {
            if e.kind() != io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, "admin API: streaming a response failed");
            }
            writer.sender.abort(e);
        }
    });
    let mut response = Body::new(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn storage_io(e: &Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// `GET /_verso/v1/log?[stream=|application=&profile=]&from=&to=&since_ms=&until_ms=`:
/// the records, oldest first, one `LogEntry` JSON object per line. `stream` is as the
/// `stream` column shows it (`LogStream::parse`).
async fn log(axum::extract::State(state): axum::extract::State<AppState>, uri: Uri) -> Response {
    let filter = (|| -> Result<LogFilter, AdminError> {
        let q = query(&uri)?;
        let position = |name| number(&q, name).map(|p| p.map(Position::new));
        let mut filter = LogFilter::new()
            .positions(position("from")?, position("to")?)
            .times(millis(&q, "since_ms")?, millis(&q, "until_ms")?);
        match (q.get("application"), q.get("profile")) {
            (None, None) => {}
            (Some(a), Some(p)) => {
                let a = ApplicationId::parse(a)
                    .map_err(|e| AdminError::bad_request(format!("application: {e}")))?;
                let p = ProfileId::parse(p)
                    .map_err(|e| AdminError::bad_request(format!("profile: {e}")))?;
                filter = filter.stream(a, p);
            }
            _ => {
                return Err(AdminError::bad_request(
                    "give application and profile together",
                ));
            }
        }
        if let Some(text) = q.get("stream") {
            if filter.stream.is_some() {
                return Err(AdminError::bad_request(
                    "give either stream, or application and profile",
                ));
            }
            let stream = LogStream::parse(text).map_err(AdminError::bad_request)?;
            filter = filter.about(stream);
        }
        Ok(filter)
    })();
    let filter = match filter {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let store = state.store;
    streamed("application/x-ndjson", move |out| {
        for entry in store.log(&filter) {
            let entry = entry.map_err(|e| storage_io(&e))?;
            serde_json::to_writer(&mut *out, &entry)?;
            io::Write::write_all(out, b"\n")?;
        }
        Ok(())
    })
}

/// `GET /_verso/v1/resolve?application=&profile=[&position=|&time_ms=]`: the ids of a
/// stream named by ids or names as of then.
async fn resolve(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: Uri,
) -> Response {
    respond(
        async {
            let q = query(&uri)?;
            let at = at(&q)?;
            let (a, p) = (
                required(&q, "application")?.to_owned(),
                required(&q, "profile")?.to_owned(),
            );
            let store = state.store;
            let found = blocking(move || {
                store
                    .resolve_stream(at, &a, &p)
                    .map_err(|e| AdminError::storage(&e))
            })
            .await?;
            let (a, p) = found.map_err(|r| AdminError::refused(&r))?;
            Ok(json_body(
                StatusCode::OK,
                &ResolvedBody {
                    application: a.as_str().to_owned(),
                    profile: p.as_str().to_owned(),
                },
            ))
        }
        .await,
    )
}

/// `GET /_verso/v1/snapshot[?position=|?time_ms=]`: a `Snapshot`.
async fn snapshot(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: Uri,
) -> Response {
    respond(
        async {
            let at = at(&query(&uri)?)?;
            let store = state.store;
            let found =
                blocking(move || store.snapshot(at).map_err(|e| AdminError::storage(&e))).await?;
            let snapshot = found.map_err(|r| AdminError::refused(&r))?;
            Ok(json_body(StatusCode::OK, &snapshot))
        }
        .await,
    )
}

/// `GET /_verso/v1/version?(application=&profile=[&version=N|&label=L] | stream=S[&version=N])[&position=|&time_ms=]`:
/// a [`VersionBody`].
async fn version(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: Uri,
) -> Response {
    respond(
        async {
            let q = query(&uri)?;
            let at = at(&q)?;
            let asked = match q.get("stream") {
                Some(text) => {
                    if q.get("application").is_some() || q.get("profile").is_some() {
                        return Err(AdminError::bad_request(
                            "give either stream, or application and profile",
                        ));
                    }
                    if q.get("label").is_some() {
                        return Err(AdminError::bad_request(
                            "a label selects a profile's version only",
                        ));
                    }
                    let stream = LogStream::parse(text)
                        .map_err(AdminError::bad_request)?
                        .stream_id()
                        .ok_or_else(|| {
                            AdminError::bad_request(
                                "a template's versions are numbered per generation: \
                                 give proton/<template>#<generation>[/<major>]",
                            )
                        })?;
                    VersionAsked::Stream(stream, number(&q, "version")?.map(StreamVersion::new))
                }
                None => {
                    let (a, p) = (
                        required(&q, "application")?.to_owned(),
                        required(&q, "profile")?.to_owned(),
                    );
                    let selector = match (number(&q, "version")?, q.get("label")) {
                        (Some(_), Some(_)) => {
                            return Err(AdminError::bad_request("give version or label, not both"));
                        }
                        (Some(n), None) => Some(VersionSelector::Number(StreamVersion::new(n))),
                        (None, Some("")) => return Err(AdminError::bad_request("empty label")),
                        (None, Some(l)) => Some(VersionSelector::Label(l.to_owned())),
                        (None, None) => None,
                    };
                    VersionAsked::Profile(a, p, selector)
                }
            };
            let store = state.store;
            let found = blocking(move || {
                match &asked {
                    VersionAsked::Profile(a, p, selector) => {
                        store.version_at(at, a, p, selector.as_ref())
                    }
                    VersionAsked::Stream(stream, version) => {
                        store.stream_version_at(at, stream, *version)
                    }
                }
                .map_err(|e| AdminError::storage(&e))
            })
            .await?;
            let v = found.map_err(|r| AdminError::refused(&r))?;
            Ok(json_body(StatusCode::OK, &VersionBody::new(&v)))
        }
        .await,
    )
}

/// What `GET /_verso/v1/version` asks for.
enum VersionAsked {
    /// A profile by ids or names, and its version by number, label or neither.
    Profile(String, String, Option<VersionSelector>),
    /// A view's or template's stream and its version number, or the newest.
    Stream(verso_domain::StreamId, Option<StreamVersion>),
}

/// `GET /_verso/v1/verify`: `Store::verify` on the writer. 200 with `"ok": true` and
/// the head, or `"ok": false` with the first bad position: a failed verification is an
/// answer, not an error.
async fn verify(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    respond(
        async {
            let store = state.store;
            let checked =
                blocking(move || store.verify().map_err(|e| AdminError::storage(&e))).await?;
            let body = match checked {
                Ok(report) => json!({
                    "ok": true,
                    "head": {
                        "position": report.head.position,
                        "chain_hash": report.head.hash_hex(),
                    },
                    "contents": report.contents,
                    "projection_entries": report.projection_entries,
                }),
                Err(v) => json!({
                    "ok": false,
                    "position": v.position.map(Position::get),
                    "problem": v.problem,
                }),
            };
            Ok(json_body(StatusCode::OK, &body))
        }
        .await,
    )
}

/// `GET /_verso/v1/export`: the bundle of the log as of the head read first, streamed
/// (docs/design/bundle.md).
async fn export(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let store = state.store;
    streamed("application/octet-stream", move |out| {
        store
            .export_bundle(out)
            .map(|_| ())
            .map_err(|e| storage_io(&e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hex_round_trips() {
        let body = VersionBody {
            as_of_position: 1,
            stream: String::new(),
            application_name: String::new(),
            profile_name: String::new(),
            version: 1,
            position: 1,
            created_ms: 0,
            actor: None,
            label: None,
            description: None,
            content_type: None,
            sha256: String::new(),
            size: 3,
            deleted: None,
            content_hex: "00ff7a".to_owned(),
        };
        assert_eq!(body.content(), Ok(vec![0, 255, b'z']));
        let odd = VersionBody {
            content_hex: "abc".to_owned(),
            ..body
        };
        assert!(odd.content().is_err());
    }
}
