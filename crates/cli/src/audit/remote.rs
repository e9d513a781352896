//! `--endpoint URL`: the read-only audit commands against a running `verso serve`,
//! through the Verso admin API (`verso_server::admin`, docs/admin-api.md).
//!
//! The client is hyper-util's legacy client on a single-threaded tokio runtime, blocking
//! on each answer: both are already in the binary for `verso serve` and `verso bench
//! --http`, and hyper gives chunked bodies, keep-alive and exact error kinds
//! (a refused connect) that a hand-written client would have to get right again.
//! Nothing can hang: a connect has [`CONNECT_TIMEOUT`], the answer's head
//! [`ANSWER_TIMEOUT`] ([`VERIFY_TIMEOUT`] for verify, which answers only when done),
//! and a streamed body may pause at most [`IDLE_TIMEOUT`] between frames.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use verso_server::admin::{PREFIX, ResolvedBody, VersionBody};
use verso_storage::{At, LogEntry, Snapshot};

use super::{Code, Failure};

/// The longest a TCP connect may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest the server may take to start answering a query.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest a verify may take: the server answers once the whole store is checked.
pub(crate) const VERIFY_TIMEOUT: Duration = Duration::from_secs(3600);
/// The longest a streamed body (log, export) may pause between two frames.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A blocking client for one `verso serve`.
pub(crate) struct Remote {
    runtime: tokio::runtime::Runtime,
    http: HyperClient<HttpConnector, Empty<Bytes>>,
    /// `http://host:port`, without a trailing slash.
    base: String,
}

/// Percent-encodes a query value.
fn enc(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The query parameters for `at`.
pub(crate) fn at_query(at: At) -> Vec<(&'static str, String)> {
    match at {
        At::Position(p) => vec![("position", p.get().to_string())],
        At::Time(t) => vec![("time_ms", t.as_millis().to_string())],
        _ => Vec::new(),
    }
}

/// `?k=v&...` (empty without parameters).
fn query_string(params: &[(&str, String)]) -> String {
    let parts: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

impl Remote {
    /// A client for `url` (`http://host:port`). Nothing is sent yet.
    pub(crate) fn new(url: &str) -> Result<Self, Failure> {
        let bad = |why: &str| {
            Failure::usage(format!(
                "bad --endpoint {url:?}: {why}; expected http://HOST:PORT, e.g. http://127.0.0.1:7080"
            ))
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("only http:// is served by verso serve"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad("give the server's base URL, without a path"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::new(Code::Failure, format!("starting the HTTP client: {e}")))?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build(connector);
        Ok(Self {
            runtime,
            http,
            base: format!("http://{authority}"),
        })
    }

    /// The server's base URL, for messages.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Runs `future` with a deadline.
    fn within<T>(
        &self,
        limit: Duration,
        what: &str,
        future: impl Future<Output = T>,
    ) -> Result<T, Failure> {
        self.runtime
            .block_on(async { tokio::time::timeout(limit, future).await })
            .map_err(|_| {
                Failure::new(
                    Code::Failure,
                    format!(
                        "{}: no answer to {what} within {} s",
                        self.base,
                        limit.as_secs()
                    ),
                )
            })
    }

    /// `GET PREFIX/route?params`; an answer other than 200 becomes its failure.
    fn get(
        &self,
        route: &str,
        params: &[(&str, String)],
        limit: Duration,
    ) -> Result<Response<Incoming>, Failure> {
        let uri = format!("{}{PREFIX}/{route}{}", self.base, query_string(params));
        let request = Request::get(&uri)
            .header("accept", "application/json")
            .body(Empty::new())
            .map_err(|e| Failure::usage(format!("building GET {uri}: {e}")))?;
        let response = self
            .within(limit, route, self.http.request(request))?
            .map_err(|e| {
                if e.is_connect() {
                    Failure::new(
                        Code::Unavailable,
                        format!(
                            "cannot reach verso serve at {}: {}",
                            self.base,
                            crate::error_chain(&e)
                        ),
                    )
                } else {
                    Failure::new(
                        Code::Failure,
                        format!("GET {uri}: {}", crate::error_chain(&e)),
                    )
                }
            })?;
        if response.status() == StatusCode::OK {
            return Ok(response);
        }
        let status = response.status();
        let body = self.whole(response, route)?;
        Err(self.admin_error(status, &body))
    }

    /// The failure an admin error answer stands for (docs/admin-api.md, "Errors").
    fn admin_error(&self, status: StatusCode, body: &[u8]) -> Failure {
        let parsed: Option<(String, String)> =
            serde_json::from_slice::<Value>(body).ok().and_then(|v| {
                let e = v.get("error")?;
                Some((
                    e.get("kind")?.as_str()?.to_owned(),
                    e.get("message")?.as_str()?.to_owned(),
                ))
            });
        match parsed {
            Some((kind, message)) => match kind.as_str() {
                "bad_request" | "refused" => Failure::usage(message),
                "corrupted" => Failure::new(
                    Code::VerificationFailed,
                    format!("{}: {message}; run `verso verify`", self.base),
                ),
                _ => Failure::new(Code::Failure, format!("{}: {message}", self.base)),
            },
            None => Failure::new(
                Code::Unavailable,
                format!(
                    "{} answered HTTP {status} without a Verso admin error: is it a verso serve with the admin API (docs/admin-api.md)?",
                    self.base
                ),
            ),
        }
    }

    /// One frame of a body's data (`None` at its end).
    fn frame(&self, body: &mut Incoming, route: &str) -> Result<Option<Bytes>, Failure> {
        loop {
            let frame = self.within(IDLE_TIMEOUT, route, body.frame())?;
            match frame {
                None => return Ok(None),
                Some(Err(e)) => {
                    return Err(Failure::new(
                        Code::Failure,
                        format!(
                            "{}: reading the answer to {route}: {}",
                            self.base,
                            crate::error_chain(&e)
                        ),
                    ));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }

    fn whole(&self, response: Response<Incoming>, route: &str) -> Result<Vec<u8>, Failure> {
        let mut body = response.into_body();
        let mut all = Vec::new();
        while let Some(data) = self.frame(&mut body, route)? {
            all.extend_from_slice(&data);
        }
        Ok(all)
    }

    fn json<T: DeserializeOwned>(
        &self,
        route: &str,
        params: &[(&str, String)],
        limit: Duration,
    ) -> Result<T, Failure> {
        let response = self.get(route, params, limit)?;
        let body = self.whole(response, route)?;
        serde_json::from_slice(&body).map_err(|e| {
            Failure::new(
                Code::Failure,
                format!(
                    "{}: the answer to {route} is not what Verso sends: {e}",
                    self.base
                ),
            )
        })
    }

    /// The ids of `app`/`profile` as of `at`; `Ok(Err(message))` when the server refuses.
    pub(crate) fn resolve(
        &self,
        at: At,
        app: &str,
        profile: &str,
    ) -> Result<Result<ResolvedBody, String>, Failure> {
        let mut params = vec![
            ("application", app.to_owned()),
            ("profile", profile.to_owned()),
        ];
        params.extend(at_query(at));
        match self.json::<ResolvedBody>("resolve", &params, ANSWER_TIMEOUT) {
            Ok(ids) => Ok(Ok(ids)),
            Err(f) if f.code == Code::Usage => Ok(Err(f.message)),
            Err(f) => Err(f),
        }
    }

    /// The snapshot as of `at`.
    pub(crate) fn snapshot(&self, at: At) -> Result<Snapshot, Failure> {
        self.json("snapshot", &at_query(at), ANSWER_TIMEOUT)
    }

    /// One version as of `at`.
    pub(crate) fn version(
        &self,
        at: At,
        app: &str,
        profile: &str,
        selector: Option<&verso_domain::VersionSelector>,
    ) -> Result<VersionBody, Failure> {
        let mut params = vec![
            ("application", app.to_owned()),
            ("profile", profile.to_owned()),
        ];
        match selector {
            Some(verso_domain::VersionSelector::Number(n)) => {
                params.push(("version", n.get().to_string()));
            }
            Some(verso_domain::VersionSelector::Label(l)) => params.push(("label", l.clone())),
            _ => {}
        }
        params.extend(at_query(at));
        self.json("version", &params, ANSWER_TIMEOUT)
    }

    /// Version `number` (the newest live when `None`) of a view's or template's
    /// `stream` as of `at`.
    pub(crate) fn stream_version(
        &self,
        at: At,
        stream: &verso_domain::StreamId,
        number: Option<verso_domain::StreamVersion>,
    ) -> Result<VersionBody, Failure> {
        let mut params = vec![("stream", stream.to_string())];
        if let Some(n) = number {
            params.push(("version", n.get().to_string()));
        }
        params.extend(at_query(at));
        self.json("version", &params, ANSWER_TIMEOUT)
    }

    /// The server's `Store::verify`, as the admin API answers it.
    pub(crate) fn verify(&self) -> Result<Value, Failure> {
        self.json("verify", &[], VERIFY_TIMEOUT)
    }

    /// The log entries `params` select, as they arrive.
    pub(crate) fn log(
        &self,
        params: &[(&str, String)],
    ) -> Result<impl Iterator<Item = Result<LogEntry, Failure>> + '_, Failure> {
        let body = self.get("log", params, ANSWER_TIMEOUT)?.into_body();
        Ok(Lines {
            remote: self,
            body,
            buffer: Vec::new(),
            ended: false,
        })
    }

    /// Streams the server's bundle into `out`.
    pub(crate) fn export(&self, out: &mut dyn Write) -> Result<(), Failure> {
        let mut body = self.get("export", &[], ANSWER_TIMEOUT)?.into_body();
        while let Some(data) = self.frame(&mut body, "export")? {
            out.write_all(&data)
                .map_err(|e| Failure::new(Code::Failure, format!("writing the bundle: {e}")))?;
        }
        Ok(())
    }
}

/// `log`'s body, one JSON `LogEntry` a line.
struct Lines<'r> {
    remote: &'r Remote,
    body: Incoming,
    buffer: Vec<u8>,
    ended: bool,
}

impl Iterator for Lines<'_> {
    type Item = Result<LogEntry, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let parsed = serde_json::from_slice(&line).map_err(|e| {
                    Failure::new(
                        Code::Failure,
                        format!(
                            "{}: a log line is not what Verso sends: {e}",
                            self.remote.base
                        ),
                    )
                });
                return Some(parsed);
            }
            if self.ended {
                if self.buffer.is_empty() {
                    return None;
                }
                self.buffer.clear();
                return Some(Err(Failure::new(
                    Code::Failure,
                    format!(
                        "{}: the log ended in the middle of a line",
                        self.remote.base
                    ),
                )));
            }
            match self.remote.frame(&mut self.body, "log") {
                Ok(Some(data)) => self.buffer.extend_from_slice(&data),
                Ok(None) => self.ended = true,
                Err(f) => {
                    self.ended = true;
                    self.buffer.clear();
                    return Some(Err(f));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_checked_before_anything_is_sent() {
        for bad in [
            "127.0.0.1:7080",
            "https://127.0.0.1:7080",
            "http://127.0.0.1:7080/x",
            "http://",
            "not a url",
        ] {
            let e = Remote::new(bad).err().map(|f| f.code);
            assert_eq!(e, Some(Code::Usage), "{bad}");
        }
        let ok = Remote::new("http://127.0.0.1:7080/").map(|r| r.base().to_owned());
        assert_eq!(ok.ok().as_deref(), Some("http://127.0.0.1:7080"));
    }

    #[test]
    fn query_values_are_encoded() {
        let q = query_string(&[("label", "a b&c".to_owned()), ("position", "3".to_owned())]);
        assert_eq!(q, "?label=a%20b%26c&position=3");
    }
}
