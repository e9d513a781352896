//! `--http URL`: the same workload through the AWS wire against a running `verso serve`.
//!
//! Each writer has its own client (one keep-alive HTTP/1.1 connection) on its own
//! single-threaded tokio runtime, and blocks on each answer as a synchronous client
//! would. Every request has a connect timeout and an overall timeout, so an unreachable
//! or stuck server is a clear error, never a hang.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::driver::Op;
use super::library::PROFILES_PER_APPLICATION;
use super::options::HttpUrl;
use super::workload::{Workload, content};

/// The longest a TCP connect may take (at most `--http-timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a face's acks check found on the server after a run (Connect: the versions
/// ListViewVersions lists in the bench's views; Proton: the minors of major 1 that
/// ListEnvironmentTemplateVersions lists, other than each template's set-up 1.0).
pub(crate) struct Found {
    /// Versions listed.
    pub(crate) listed: u64,
    /// Acknowledged versions that are not listed.
    pub(crate) missing: u64,
}

/// A blocking HTTP client for one thread.
pub(crate) struct Client {
    runtime: tokio::runtime::Runtime,
    http: HyperClient<HttpConnector, Full<Bytes>>,
    url: HttpUrl,
    /// How long a request may take, from sending it to the end of the answer's body.
    timeout: Duration,
}

/// An answer, read whole.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The answer's AWS error, as one line: `HTTP 409 ConflictException: message`.
    pub(crate) fn error(&self) -> String {
        let body = serde_json::from_slice::<Value>(&self.body).ok();
        // rest-json names the error in a header; awsJson1_0 (Proton) in `__type`.
        let kind = self
            .headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .or_else(|| body.as_ref()?.get("__type")?.as_str())
            .unwrap_or("");
        let message = body
            .as_ref()
            .and_then(|v| {
                v.get("Message")
                    .or_else(|| v.get("message"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(200)
                    .collect()
            });
        format!("HTTP {} {kind}: {message}", self.status)
    }
}

impl Client {
    pub(crate) fn new(url: &HttpUrl, timeout: Duration) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting an HTTP client runtime")?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT.min(timeout)));
        connector.set_nodelay(true);
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build(connector);
        Ok(Self {
            runtime,
            http,
            url: url.clone(),
            timeout,
        })
    }

    /// The server's base URL.
    pub(crate) const fn url(&self) -> &HttpUrl {
        &self.url
    }

    /// How long a request may take.
    pub(crate) const fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one request and reads the whole answer.
    pub(crate) fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Answer> {
        match content_type {
            Some(t) => self.send_with(method, path, &[("content-type", t)], body),
            None => self.send_with(method, path, &[], body),
        }
    }

    /// Sends one request with these headers (name, value) and reads the whole answer.
    pub(crate) fn send_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer> {
        let uri = self.url.at(path);
        let mut request = Request::builder().method(method.clone()).uri(&uri);
        for &(name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::from(body))
            .with_context(|| format!("building {method} {uri}"))?;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                if e.is_connect() {
                    anyhow!(
                        "cannot reach verso serve at {}: {}",
                        self.url,
                        crate::error_chain(&e)
                    )
                } else {
                    anyhow!("{method} {uri}: {}", crate::error_chain(&e))
                }
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| {
                    anyhow!(
                        "{method} {uri}: reading the answer: {}",
                        crate::error_chain(&e)
                    )
                })?
                .to_bytes();
            Ok::<_, anyhow::Error>(Answer {
                status,
                headers,
                body,
            })
        };
        self.runtime
            .block_on(async { tokio::time::timeout(self.timeout, exchange).await })
            .map_err(|_| {
                anyhow!(
                    "{method} {uri}: no answer within {} s (is {} a verso serve?)",
                    self.timeout.as_secs_f64(),
                    self.url
                )
            })?
    }

    /// A JSON request that must be answered with `expect`; returns the JSON answer.
    pub(crate) fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expect: u16,
    ) -> Result<Value> {
        let answer = match body {
            Some(b) => self.send(
                method.clone(),
                path,
                Some("application/json"),
                serde_json::to_vec(b)?,
            )?,
            None => self.send(method.clone(), path, None, Vec::new())?,
        };
        if answer.status != expect {
            bail!("{method} {path}: {}", answer.error());
        }
        serde_json::from_slice(&answer.body)
            .with_context(|| format!("{method} {path}: the answer is not JSON"))
    }

    /// Checks that a Verso server answers at the URL (ListApplications).
    pub(crate) fn probe(&self) -> Result<()> {
        let answer = self.send(Method::GET, "/applications?max_results=1", None, Vec::new())?;
        if answer.status != 200 || serde_json::from_slice::<Value>(&answer.body).is_err() {
            bail!(
                "{} answered ListApplications with {}: is it a verso serve?",
                self.url,
                answer.error()
            );
        }
        Ok(())
    }
}

/// The bench's resources on the server: stream `k` is `streams[k]`.
pub(crate) struct Remote {
    pub(crate) url: HttpUrl,
    timeout: Duration,
    /// (application id, profile id) per stream.
    pub(crate) streams: Vec<(String, String)>,
}

fn id_of(answer: &Value, what: &str) -> Result<String> {
    answer
        .get("Id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the server's {what} has no Id"))
}

fn versions_path(app: &str, profile: &str) -> String {
    format!("/applications/{app}/configurationprofiles/{profile}/hostedconfigurationversions")
}

impl Remote {
    /// Creates the bench's applications (named `verso-bench-<time>-<n>`, so reruns never
    /// collide) and `workload.streams` hosted profiles on the server.
    pub(crate) fn prepare(client: &Client, workload: &Workload) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut streams = Vec::with_capacity(workload.streams);
        let mut app = String::new();
        for k in 0..workload.streams {
            if k % PROFILES_PER_APPLICATION == 0 {
                let name = format!("verso-bench-{stamp}-{}", k / PROFILES_PER_APPLICATION);
                let created = client
                    .json(
                        Method::POST,
                        "/applications",
                        Some(&json!({"Name": name, "Description": "created by verso bench"})),
                        201,
                    )
                    .context("CreateApplication")?;
                app = id_of(&created, "application")?;
            }
            let created = client
                .json(
                    Method::POST,
                    &format!("/applications/{app}/configurationprofiles"),
                    Some(&json!({"Name": format!("stream-{k}"), "LocationUri": "hosted"})),
                    201,
                )
                .context("CreateConfigurationProfile")?;
            streams.push((app.clone(), id_of(&created, "configuration profile")?));
        }
        Ok(Self {
            url: client.url.clone(),
            timeout: client.timeout,
            streams,
        })
    }

    fn stream(&self, workload: &Workload, i: u64) -> Result<&(String, String)> {
        self.streams
            .get(workload.stream_of(i))
            .ok_or_else(|| anyhow!("no stream for event {i}"))
    }

    /// One writer's operation: CreateHostedConfigurationVersion of `content(i, size)`.
    pub(crate) fn writer<'a>(&'a self, workload: &'a Workload) -> Result<Op<'a>> {
        let client = Client::new(&self.url, self.timeout)?;
        Ok(Box::new(move |i| {
            let (app, profile) = self.stream(workload, i)?;
            let (bytes, content_type) = content(i, workload.size_of(i));
            let len = u64::try_from(bytes.len())?;
            let answer = client.send(
                Method::POST,
                &versions_path(app, profile),
                Some(content_type),
                bytes,
            )?;
            if answer.status != 201 {
                bail!("CreateHostedConfigurationVersion: {}", answer.error());
            }
            Ok(len)
        }))
    }

    /// The hosted versions in the bench's profiles: the newest version number of each
    /// (ListHostedConfigurationVersions lists newest first), added up.
    pub(crate) fn versions_in_store(&self, client: &Client) -> Result<u64> {
        let mut total = 0;
        for (app, profile) in &self.streams {
            let path = format!("{}?max_results=1", versions_path(app, profile));
            let answer = client
                .json(Method::GET, &path, None, 200)
                .context("ListHostedConfigurationVersions")?;
            total += answer
                .get("Items")
                .and_then(Value::as_array)
                .and_then(|items| items.first())
                .and_then(|item| item.get("VersionNumber"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
        }
        Ok(total)
    }

    /// Read mode's preparation: `versions` hosted versions per stream, one environment
    /// per application, and an `AppConfig.AllAtOnce` deployment of each profile's newest
    /// version. Returns each stream's environment id.
    pub(crate) fn prepare_reads(
        &self,
        client: &Client,
        workload: &Workload,
        versions: u64,
    ) -> Result<Vec<String>> {
        let mut environments: Vec<(String, String)> = Vec::new();
        let mut out = Vec::with_capacity(self.streams.len());
        for (k, (app, profile)) in self.streams.iter().enumerate() {
            for v in 0..versions {
                let i = u64::try_from(k)? * versions + v;
                let (bytes, content_type) = content(i, workload.size_of(i));
                let answer = client.send(
                    Method::POST,
                    &versions_path(app, profile),
                    Some(content_type),
                    bytes,
                )?;
                if answer.status != 201 {
                    bail!("CreateHostedConfigurationVersion: {}", answer.error());
                }
            }
            let env = match environments.iter().find(|(a, _)| a == app) {
                Some((_, env)) => env.clone(),
                None => {
                    let created = client
                        .json(
                            Method::POST,
                            &format!("/applications/{app}/environments"),
                            Some(&json!({"Name": "bench"})),
                            201,
                        )
                        .context("CreateEnvironment")?;
                    let env = id_of(&created, "environment")?;
                    environments.push((app.clone(), env.clone()));
                    env
                }
            };
            client
                .json(
                    Method::POST,
                    &format!("/applications/{app}/environments/{env}/deployments"),
                    Some(&json!({
                        "ConfigurationProfileId": profile,
                        "ConfigurationVersion": versions.to_string(),
                        "DeploymentStrategyId": "AppConfig.AllAtOnce",
                    })),
                    201,
                )
                .context("StartDeployment")?;
            out.push(env);
        }
        Ok(out)
    }

    /// One reader's latest-version read: GetHostedConfigurationVersion of the newest
    /// version (number `latest`, which the bench created).
    pub(crate) fn latest_reader<'a>(
        &'a self,
        workload: &'a Workload,
        latest: u64,
    ) -> Result<Op<'a>> {
        let client = Client::new(&self.url, self.timeout)?;
        Ok(Box::new(move |i| {
            let (app, profile) = self.stream(workload, i)?;
            let path = format!("{}/{latest}", versions_path(app, profile));
            let answer = client.send(Method::GET, &path, None, Vec::new())?;
            if answer.status != 200 {
                bail!("GetHostedConfigurationVersion: {}", answer.error());
            }
            Ok(u64::try_from(answer.body.len())?)
        }))
    }

    /// One reader's polls: a session per stream (started on the reader's first poll of
    /// that stream), then GetLatestConfiguration with each answer's next token. The
    /// first poll of a session returns the content; the others return nothing new.
    pub(crate) fn poller<'a>(
        &'a self,
        workload: &'a Workload,
        environments: &'a [String],
    ) -> Result<Op<'a>> {
        let client = Client::new(&self.url, self.timeout)?;
        let mut tokens: Vec<Option<String>> = vec![None; self.streams.len()];
        Ok(Box::new(move |i| {
            let k = workload.stream_of(i);
            let (app, profile) = self.stream(workload, i)?;
            let env = environments
                .get(k)
                .ok_or_else(|| anyhow!("no environment for stream {k}"))?;
            let slot = tokens
                .get_mut(k)
                .ok_or_else(|| anyhow!("no session slot for stream {k}"))?;
            let token = match slot.take() {
                Some(t) => t,
                None => {
                    let started = client
                        .json(
                            Method::POST,
                            "/configurationsessions",
                            Some(&json!({
                                "ApplicationIdentifier": app,
                                "EnvironmentIdentifier": env,
                                "ConfigurationProfileIdentifier": profile,
                            })),
                            201,
                        )
                        .context("StartConfigurationSession")?;
                    started
                        .get("InitialConfigurationToken")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| anyhow!("StartConfigurationSession returned no token"))?
                }
            };
            let path = format!(
                "/configuration?configuration_token={}",
                utf8_percent_encode(&token, NON_ALPHANUMERIC)
            );
            let answer = client.send(Method::GET, &path, None, Vec::new())?;
            if answer.status != 200 {
                let error = answer.error();
                if error.contains("PollIntervalNotSatisfied") || error.contains("poll interval") {
                    bail!(
                        "GetLatestConfiguration: {error}; restart verso serve with \
                         --poll-interval-check off to measure back-to-back polls"
                    );
                }
                bail!("GetLatestConfiguration: {error}");
            }
            let next = answer
                .headers
                .get("next-poll-configuration-token")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| anyhow!("GetLatestConfiguration returned no next token"))?;
            *slot = Some(next.to_owned());
            Ok(u64::try_from(answer.body.len())?)
        }))
    }
}
