//! `--http URL --face proton`: the write workload as AWS Proton environment template
//! versions, through the awsJson1_0 wire (every call `POST /` with
//! `X-Amz-Target: AwsProton20200720.<Operation>`, camelCase JSON).
//!
//! Before the run each writer gets its own template, `vb<time>-<n>` (fresh names every
//! run), and that template's version 1.0 (CreateEnvironmentTemplateVersion without
//! `majorVersion`). Each event is then one request and one durable write:
//! CreateEnvironmentTemplateVersion with `majorVersion: "1"`, which appends the next minor
//! of major 1, with a clientToken unique to the version (a repeated token would answer
//! with the first version and append nothing) and an S3 key that carries the writer and
//! its counter, padded with `x` to the event's size (at most [`MAX_KEY_CHARS`]).
//!
//! The server allows [`MAX_WRITERS`] live templates, so a run has at most that many
//! writers, and `--delete-templates` deletes the run's versions and templates afterwards
//! so that the next run has room.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use hyper::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use verso_domain::Limits;

use super::driver::Op;
use super::http::{Answer, Client, Found};
use super::options::HttpUrl;
use super::workload::Workload;

/// The longest S3 key a template version's source may name (characters; the bench's
/// keys are ASCII, so also bytes).
pub(crate) const MAX_KEY_CHARS: u64 = 1024;

/// Most writers: one template each, and the server's quota of live templates.
pub(crate) const MAX_WRITERS: u64 = Limits::DEFAULT.max_templates;

/// The S3 bucket every version's source names (nothing is fetched).
const BUCKET: &str = "templates";

/// The operation a writer's event is.
pub(crate) const OPERATION: &str = "CreateEnvironmentTemplateVersion";

/// The S3 key of writer `w`'s minor `minor`: `verso-bench/<w>/<minor>/` padded with `x`
/// to `size` characters (longer than asked when that prefix does not fit).
pub(crate) fn key(w: usize, minor: u64, size: usize) -> String {
    let mut key = format!("verso-bench/{w}/{minor}/");
    let pad = size.saturating_sub(key.len());
    key.extend(std::iter::repeat_n('x', pad));
    key
}

/// One Proton call: `POST /` with the operation's target and an awsJson1_0 body.
fn call(client: &Client, operation: &str, body: &Value) -> Result<Answer> {
    let target = format!("AwsProton20200720.{operation}");
    client.send_with(
        Method::POST,
        "/",
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", &target),
        ],
        serde_json::to_vec(body)?,
    )
}

/// A Proton call that must answer 200; returns its JSON.
fn call_ok(client: &Client, operation: &str, body: &Value) -> Result<Value> {
    let answer = call(client, operation, body)?;
    if answer.status != 200 {
        bail!("{operation}: {}", answer.error());
    }
    serde_json::from_slice(&answer.body)
        .with_context(|| format!("{operation}: the answer is not JSON"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionAnswer {
    environment_template_version: VersionNumbers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionNumbers {
    major_version: String,
    minor_version: String,
}

impl VersionAnswer {
    fn parse(answer: &Answer) -> Result<(String, String)> {
        let got: Self = serde_json::from_slice(&answer.body).with_context(|| {
            format!("{OPERATION}: the answer has no environmentTemplateVersion with its numbers")
        })?;
        let v = got.environment_template_version;
        Ok((v.major_version, v.minor_version))
    }
}

/// The body of CreateEnvironmentTemplateVersion of `template`: a new major without
/// `major`, else the next minor of `major`. The token is the template's name and the
/// minor it should create, so it is unique on the server (names are fresh every run).
fn create_version(template: &str, major: Option<&str>, minor: u64, key: &str) -> Value {
    let mut body = json!({
        "templateName": template,
        "source": {"s3": {"bucket": BUCKET, "key": key}},
        "clientToken": format!("{template}-{minor}"),
    });
    if let Some(m) = major {
        body["majorVersion"] = json!(m);
    }
    body
}

/// The bench's templates on the server: writer `w` writes `names[w]`.
pub(crate) struct Templates {
    url: HttpUrl,
    timeout: Duration,
    names: Vec<String>,
    /// Per writer, the highest minor of major 1 it had acknowledged.
    acknowledged: Vec<AtomicU64>,
}

/// A writer's operation state.
struct Writer<'a> {
    templates: &'a Templates,
    w: usize,
    client: Client,
    last: u64,
}

impl Writer<'_> {
    /// Event `i`: the next minor of major 1 of the writer's template.
    fn version(&mut self, size: usize) -> Result<u64> {
        let name = self
            .templates
            .names
            .get(self.w)
            .ok_or_else(|| anyhow!("no template for writer {}", self.w))?;
        let want = self.last + 1;
        let key = key(self.w, want, size);
        let len = u64::try_from(key.len())?;
        let answer = call(
            &self.client,
            OPERATION,
            &create_version(name, Some("1"), want, &key),
        )?;
        if answer.status != 200 {
            bail!("{OPERATION}: {}", answer.error());
        }
        let (major, minor) = VersionAnswer::parse(&answer)?;
        if major != "1" || minor != want.to_string() {
            bail!(
                "{OPERATION} of template {name} answered version {major}.{minor}, not the new \
                 version 1.{want}: nothing was appended"
            );
        }
        self.last = want;
        if let Some(a) = self.templates.acknowledged.get(self.w) {
            a.store(want, Ordering::Relaxed);
        }
        Ok(len)
    }
}

impl Templates {
    /// Creates one template per writer, with fresh names, and its version 1.0.
    pub(crate) fn prepare(client: &Client, writers: usize) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut names = Vec::with_capacity(writers);
        for w in 0..writers {
            let name = format!("vb{stamp}-{w}");
            let answer = call(
                client,
                "CreateEnvironmentTemplate",
                &json!({"name": name, "description": "created by verso bench"}),
            )?;
            if answer.status == 402 {
                bail!(
                    "CreateEnvironmentTemplate: {}: verso serve allows {MAX_WRITERS} live \
                     environment templates and --face proton creates one per writer ({writers}); \
                     delete older bench templates (vb…), run with --delete-templates, or start \
                     the server on a fresh data directory",
                    answer.error()
                );
            }
            if answer.status != 200 {
                bail!("CreateEnvironmentTemplate: {}", answer.error());
            }
            let answer = call(
                client,
                OPERATION,
                &create_version(&name, None, 0, &key(w, 0, 1)),
            )?;
            if answer.status != 200 {
                bail!("{OPERATION} (the first version): {}", answer.error());
            }
            let (major, minor) = VersionAnswer::parse(&answer)?;
            if (major.as_str(), minor.as_str()) != ("1", "0") {
                bail!(
                    "the first version of template {name} is {major}.{minor}, not 1.0: the \
                     template existed already"
                );
            }
            names.push(name);
        }
        Ok(Self {
            url: client.url().clone(),
            timeout: client.timeout(),
            names,
            acknowledged: (0..writers).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Writer `w`'s operation: each event is the next minor of major 1 of template `w`.
    pub(crate) fn writer<'a>(&'a self, workload: &'a Workload, w: usize) -> Result<Op<'a>> {
        let mut writer = Writer {
            templates: self,
            w,
            client: Client::new(&self.url, self.timeout)?,
            last: 0,
        };
        Ok(Box::new(move |i| writer.version(workload.size_of(i))))
    }

    /// The acks check: every template's minors of major 1, read back page by page with
    /// ListEnvironmentTemplateVersions, against the minors its writer acknowledged (1 to
    /// its last; each create was checked to answer the next minor).
    pub(crate) fn versions_in_store(&self, client: &Client) -> Result<Found> {
        let mut found = Found {
            listed: 0,
            missing: 0,
        };
        for (name, acknowledged) in self.names.iter().zip(&self.acknowledged) {
            let mut minors = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut body = json!({
                    "templateName": name,
                    "majorVersion": "1",
                    "maxResults": 100,
                });
                if let Some(t) = &token {
                    body["nextToken"] = json!(t);
                }
                let page = call_ok(client, "ListEnvironmentTemplateVersions", &body)?;
                let items = page
                    .get("templateVersions")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        anyhow!("ListEnvironmentTemplateVersions answered no templateVersions")
                    })?;
                for item in items {
                    let minor = item
                        .get("minorVersion")
                        .and_then(Value::as_str)
                        .and_then(|m| m.parse::<u64>().ok())
                        .ok_or_else(|| {
                            anyhow!(
                                "ListEnvironmentTemplateVersions: a summary has no minorVersion"
                            )
                        })?;
                    minors.push(minor);
                }
                token = page
                    .get("nextToken")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            minors.sort_unstable();
            minors.dedup();
            // 1.0 is the set-up's, not an event.
            let listed = minors.iter().filter(|&&m| m > 0).count();
            found.listed += u64::try_from(listed)?;
            let last = acknowledged.load(Ordering::Relaxed);
            let present = minors.iter().filter(|&&m| (1..=last).contains(&m)).count();
            found.missing += last - u64::try_from(present)?;
        }
        Ok(found)
    }

    /// `--delete-templates`: deletes every version of the run's templates (newest minor
    /// first, down to 1.0), then the templates, one thread and connection per template.
    /// Returns the versions deleted.
    pub(crate) fn delete(&self) -> Result<u64> {
        std::thread::scope(|s| {
            let handles: Vec<_> = self
                .names
                .iter()
                .zip(&self.acknowledged)
                .map(|(name, acknowledged)| {
                    s.spawn(move || -> Result<u64> {
                        let client = Client::new(&self.url, self.timeout)?;
                        let last = acknowledged.load(Ordering::Relaxed);
                        for minor in (0..=last).rev() {
                            call_ok(
                                &client,
                                "DeleteEnvironmentTemplateVersion",
                                &json!({
                                    "templateName": name,
                                    "majorVersion": "1",
                                    "minorVersion": minor.to_string(),
                                }),
                            )?;
                        }
                        call_ok(&client, "DeleteEnvironmentTemplate", &json!({"name": name}))?;
                        Ok(last + 1)
                    })
                })
                .collect();
            let mut deleted = 0;
            for h in handles {
                deleted += h
                    .join()
                    .map_err(|_| anyhow!("a deleting thread panicked"))??;
            }
            Ok(deleted)
        })
    }

    /// How many templates the run created.
    pub(crate) fn count(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_size_asked_carry_the_counter_and_fit_s3() {
        let max = usize::try_from(MAX_KEY_CHARS).unwrap();
        for size in [1, 20, 64, 1024] {
            let a = key(3, 7, size);
            let b = key(3, 8, size);
            assert_ne!(a, b);
            assert!(a.starts_with("verso-bench/3/7/"));
            assert!(a.len() <= max);
            if size >= 20 {
                assert_eq!(a.len(), size);
            }
        }
        assert_eq!(key(63, 99_999, max).len(), max);
    }

    #[test]
    fn a_minor_names_its_major_and_a_unique_token() {
        let body = create_version("vb1-0", Some("1"), 5, "k");
        assert_eq!(body["majorVersion"], "1");
        assert_eq!(body["clientToken"], "vb1-0-5");
        assert_eq!(body["source"]["s3"]["bucket"], BUCKET);
        let first = create_version("vb1-0", None, 0, "k");
        assert!(first.get("majorVersion").is_none());
        assert_ne!(first["clientToken"], body["clientToken"]);
    }
}
