//! `--http URL --face connect`: the write workload as Amazon Connect view versions.
//!
//! A Connect version freezes `$LATEST`, and an unchanged `$LATEST` answers with the
//! existing version and appends nothing, so each event is two requests, two durable
//! writes:
//!
//! 1. UpdateViewContent (`POST /views/{InstanceId}/{ViewId}`), Status `PUBLISHED`,
//!    Content `{"Template": <template(i, size)>, "Actions": []}`: the new content is
//!    stored and `$SAVED` and `$LATEST` move to it;
//! 2. CreateViewVersion (`PUT /views/{InstanceId}/{ViewId}/versions`) with
//!    `ViewContentSha256` = the sha256 of that content's canonical form
//!    (`ViewContent::canonical`), which freezes it as the next version.
//!
//! Each writer has its own view, so no other writer moves its `$LATEST` between the two
//! requests: a `ResourceInUseException` cannot happen and is an error if it does. The
//! views are in fresh instances `verso-bench-<time>-<n>` of [`VIEWS_PER_INSTANCE`] each
//! (the server allows 500 live views per instance), so reruns never collide.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use hdrhistogram::Histogram;
use hyper::Method;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};
use verso_domain::{Limits, ViewContent};

use super::driver::{Op, histogram};
use super::http::{Client, Found};
use super::options::HttpUrl;
use super::workload::{Workload, content};

/// Views per bench instance.
pub(crate) const VIEWS_PER_INSTANCE: usize = 100;

/// The two operations of one version, in the order they are sent.
pub(crate) const OPERATIONS: [&str; 2] = ["UpdateViewContent", "CreateViewVersion"];

/// The template of event `i` of `size` bytes: the JSON object `{"n":i,"pad":"xx…"}` of
/// exactly `size` bytes, unique per event; when that does not fit, `{"n":i}` (longer
/// than asked). A published template must be a JSON object.
pub(crate) fn template(i: u64, size: usize) -> String {
    let (bytes, kind) = content(i, size);
    if kind == "application/json"
        && let Ok(text) = String::from_utf8(bytes)
    {
        return text;
    }
    format!("{{\"n\":{i}}}")
}

/// The content a version of event `i` publishes.
fn view_content(i: u64, size: usize) -> ViewContent {
    ViewContent {
        actions: Vec::new(),
        template: template(i, size),
    }
}

/// The largest `--size` whose view content fits the server's default limit: the
/// canonical form adds a fixed number of bytes to a padded template (the keys, the
/// quotes and the backslashes before the template's six quotes).
pub(crate) fn max_template_bytes() -> u64 {
    let probe = 64;
    let canonical = view_content(0, probe).canonical().bytes().len();
    let overhead = u64::try_from(canonical.saturating_sub(probe)).unwrap_or(u64::MAX);
    Limits::DEFAULT
        .max_view_content_bytes
        .saturating_sub(overhead)
}

/// Request latencies, per operation, in nanoseconds.
pub(crate) struct RequestTimes {
    pub(crate) operations: [Histogram<u64>; 2],
}

impl RequestTimes {
    fn new() -> Result<Self> {
        Ok(Self {
            operations: [histogram()?, histogram()?],
        })
    }

    /// Every request, whatever its operation.
    pub(crate) fn all(&self) -> Result<Histogram<u64>> {
        let mut all = histogram()?;
        for h in &self.operations {
            all.add(h).map_err(|e| anyhow!("merging latencies: {e}"))?;
        }
        Ok(all)
    }
}

/// One writer's view.
struct View {
    instance: String,
    id: String,
}

impl View {
    fn path(&self) -> String {
        format!("/views/{}/{}", self.instance, self.id)
    }
}

/// The bench's views on the server: writer `w` writes `views[w]`.
pub(crate) struct Views {
    url: HttpUrl,
    timeout: Duration,
    views: Vec<View>,
    /// Per writer, the highest version number it had acknowledged.
    acknowledged: Vec<AtomicU64>,
    /// Every writer's request latencies, merged when its operation is dropped.
    times: Mutex<RequestTimes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionAnswer {
    view: VersionedView,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionedView {
    version: Option<u64>,
}

/// A writer's operation state: its client, its view, and its request latencies, which
/// it adds to the shared ones when the driver drops it after the run.
struct Writer<'a> {
    views: &'a Views,
    w: usize,
    client: Client,
    last: u64,
    times: RequestTimes,
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        let mut shared = self
            .views
            .times
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (into, from) in shared.operations.iter_mut().zip(&self.times.operations) {
            // Same bounds on both sides, so adding cannot fail.
            let _ = into.add(from);
        }
    }
}

impl Writer<'_> {
    /// Sends one request and records its latency under `operation`.
    fn timed(
        &mut self,
        operation: usize,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<super::http::Answer> {
        let began = Instant::now();
        let answer = self
            .client
            .send(method, path, Some("application/json"), body)?;
        let ns = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Some(h) = self.times.operations.get_mut(operation) {
            h.saturating_record(ns.max(1));
        }
        Ok(answer)
    }

    /// Event `i`: publish its content, then freeze it as the next version.
    fn version(&mut self, i: u64, size: usize) -> Result<u64> {
        let view = self
            .views
            .views
            .get(self.w)
            .ok_or_else(|| anyhow!("no view for writer {}", self.w))?;
        let path = view.path();
        let content = view_content(i, size);
        let sha = content.canonical().hash().to_string();
        let len = u64::try_from(content.template.len())?;
        let update = serde_json::to_vec(&json!({
            "Status": "PUBLISHED",
            "Content": {"Template": content.template, "Actions": content.actions},
        }))?;
        let answer = self.timed(0, Method::POST, &path, update)?;
        if answer.status != 200 {
            bail!("UpdateViewContent: {}", answer.error());
        }
        let create = serde_json::to_vec(&json!({ "ViewContentSha256": sha }))?;
        let answer = self.timed(1, Method::PUT, &format!("{path}/versions"), create)?;
        if answer.status != 200 {
            bail!(
                "CreateViewVersion: {} (each writer has its own view: nothing else should \
                 move its $LATEST)",
                answer.error()
            );
        }
        let got: VersionAnswer = serde_json::from_slice(&answer.body)
            .context("CreateViewVersion: the answer is not a View")?;
        let want = self.last + 1;
        if got.view.version != Some(want) {
            bail!(
                "CreateViewVersion answered version {:?}, not the new version {want}: \
                 nothing was appended",
                got.view.version
            );
        }
        self.last = want;
        if let Some(a) = self.views.acknowledged.get(self.w) {
            a.store(want, Ordering::Relaxed);
        }
        Ok(len)
    }
}

impl Views {
    /// Creates one published view per writer, in fresh instances.
    pub(crate) fn prepare(client: &Client, writers: usize) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut views = Vec::with_capacity(writers);
        for w in 0..writers {
            let instance = format!("verso-bench-{stamp}-{}", w / VIEWS_PER_INSTANCE);
            let created = client
                .json(
                    Method::PUT,
                    &format!("/views/{instance}"),
                    Some(&json!({
                        "Name": format!("writer-{w}"),
                        "Description": "created by verso bench",
                        "Status": "PUBLISHED",
                        "Content": {"Template": "{\"bench\":\"verso\"}", "Actions": []},
                    })),
                    200,
                )
                .context("CreateView")?;
            let id = created
                .pointer("/View/Id")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("CreateView answered no View.Id"))?
                .to_owned();
            views.push(View { instance, id });
        }
        Ok(Self {
            url: client.url().clone(),
            timeout: client.timeout(),
            views,
            acknowledged: (0..writers).map(|_| AtomicU64::new(0)).collect(),
            times: Mutex::new(RequestTimes::new()?),
        })
    }

    /// Writer `w`'s operation: event `i` becomes the next version of view `w`.
    pub(crate) fn writer<'a>(&'a self, workload: &'a Workload, w: usize) -> Result<Op<'a>> {
        let mut writer = Writer {
            views: self,
            w,
            client: Client::new(&self.url, self.timeout)?,
            last: 0,
            times: RequestTimes::new()?,
        };
        Ok(Box::new(move |i| writer.version(i, workload.size_of(i))))
    }

    /// The request latencies of every writer whose operation has been dropped (all of
    /// them once the run is over).
    pub(crate) fn times(&self) -> Result<Histogram<u64>> {
        self.times
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .all()
    }

    /// Each operation's request latencies, in [`OPERATIONS`] order.
    pub(crate) fn operation_times(&self) -> [Histogram<u64>; 2] {
        self.times
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .operations
            .clone()
    }

    /// The acks check: every view's versions, read back page by page with
    /// ListViewVersions, against the numbers its writer acknowledged (1 to its last;
    /// each CreateViewVersion was checked to answer the next number).
    pub(crate) fn versions_in_store(&self, client: &Client) -> Result<Found> {
        let mut found = Found {
            listed: 0,
            missing: 0,
        };
        for (view, acknowledged) in self.views.iter().zip(&self.acknowledged) {
            let mut numbers = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut path = format!("{}/versions?maxResults=100", view.path());
                if let Some(t) = &token {
                    path.push_str("&nextToken=");
                    path.push_str(&utf8_percent_encode(t, NON_ALPHANUMERIC).to_string());
                }
                let page = client
                    .json(Method::GET, &path, None, 200)
                    .context("ListViewVersions")?;
                let items = page
                    .get("ViewVersionSummaryList")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        anyhow!("ListViewVersions answered no ViewVersionSummaryList")
                    })?;
                for item in items {
                    let n = item
                        .get("Version")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| anyhow!("ListViewVersions: a summary has no Version"))?;
                    numbers.push(n);
                }
                token = page
                    .get("NextToken")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            numbers.sort_unstable();
            numbers.dedup();
            found.listed += u64::try_from(numbers.len())?;
            let last = acknowledged.load(Ordering::Relaxed);
            let present = numbers.iter().filter(|&&n| (1..=last).contains(&n)).count();
            found.missing += last - u64::try_from(present)?;
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_json_objects_of_the_size_asked_and_unique() {
        for size in [1, 20, 64, 1024] {
            let a = template(7, size);
            let b = template(8, size);
            assert_ne!(a, b);
            assert!(matches!(
                serde_json::from_str::<Value>(&a),
                Ok(Value::Object(_))
            ));
            if size >= 20 {
                assert_eq!(a.len(), size);
            }
        }
    }

    #[test]
    fn the_largest_template_fits_the_view_content_limit() {
        let max = usize::try_from(max_template_bytes()).unwrap();
        let limit = usize::try_from(Limits::DEFAULT.max_view_content_bytes).unwrap();
        assert_eq!(view_content(0, max).canonical().bytes().len(), limit);
        assert_eq!(max, limit - 34);
    }

    #[test]
    fn the_version_guard_is_the_sha256_of_the_canonical_form() {
        let content = ViewContent {
            actions: Vec::new(),
            template: "{\"n\":1}".to_owned(),
        };
        let canonical = content.canonical();
        assert_eq!(
            canonical.bytes(),
            br#"{"Actions":[],"Template":"{\"n\":1}"}"#
        );
        assert_eq!(
            canonical.hash(),
            verso_domain::ContentHash::of(br#"{"Actions":[],"Template":"{\"n\":1}"}"#)
        );
    }
}
