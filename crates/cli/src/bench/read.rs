//! `--read`: reads per second against a store the bench prepares.
//!
//! Each stream gets [`PREPARED_VERSIONS`] hosted versions of the workload's sizes, and an
//! `AppConfig.AllAtOnce` deployment of its newest one to an environment `bench`. Then:
//!
//! - `latest_read`: the newest version with its content. Embedded:
//!   `Store::latest_hosted_version` (the stream head, the version record, the content's
//!   chunks, their sha256 checked). Over HTTP: GetHostedConfigurationVersion of it.
//! - `poll`: what GetLatestConfiguration does for a session that already holds the
//!   configuration. Embedded: `Store::deployment_candidates` read from sled on every poll
//!   and `live_deployment` at the store's clock with the reader's rollout bucket; the
//!   content is read only when it changed (the first poll). Over HTTP: a session per
//!   reader and stream, then GetLatestConfiguration with each answer's next token
//!   (`verso serve` caches the candidates by log head, so its polls read no sled).
//! - `sled_get` (baseline): raw sled `get` of one of as many keys holding the same
//!   contents.

use anyhow::{Context as _, Result, anyhow};
use verso_domain::deployment::{live_deployment, rollout_bucket};
use verso_domain::{DeploymentStrategyId, EnvironmentId, StreamVersion, VersionSelector};
use verso_storage::{NewDeployment, NewEnvironment, NewHostedVersion};

use super::driver::{Op, Settings, drive};
use super::library::{self, PROFILES_PER_APPLICATION, Target};
use super::options::BenchArgs;
use super::report::Subject;
use super::workload::{Workload, content};
use super::{DataDir, Run, baselines, http};

/// Versions written to each stream before the reads.
pub(crate) const PREPARED_VERSIONS: u64 = 10;

/// Runs read mode's subjects into `run`.
pub(crate) fn run(
    args: &BenchArgs,
    workload: &Workload,
    settings: Settings,
    data: &DataDir,
    run: &mut Run,
) -> Result<()> {
    let (latest, poll) = match &args.http {
        None => {
            let store = library::open(&data.store(), workload)?;
            let target = Target::prepare(store, workload)?;
            let environments = prepare(&target, workload)?;
            let latest = drive("latest_read", settings, |_| {
                Ok(latest_reader(&target, workload))
            })?;
            let poll = drive("poll", settings, |reader| {
                Ok(poller(&target, &environments, workload, reader))
            })?;
            target.store.close().context("closing the store")?;
            (latest, poll)
        }
        Some(url) => {
            let client = http::Client::new(url, args.http_timeout)?;
            client.probe()?;
            let remote = http::Remote::prepare(&client, workload)?;
            let environments = remote.prepare_reads(&client, workload, PREPARED_VERSIONS)?;
            let latest = drive("latest_read", settings, |_| {
                remote.latest_reader(workload, PREPARED_VERSIONS)
            })?;
            let poll = drive("poll", settings, |_| remote.poller(workload, &environments))?;
            (latest, poll)
        }
    };
    let over = if args.http.is_some() {
        "GetHostedConfigurationVersion of the newest version over HTTP"
    } else {
        "Store::latest_hosted_version (head, record, content chunks, sha256 check)"
    };
    run.add(
        Subject::new(
            "latest_read",
            "verso",
            format!("latest-version read with its content: {over}"),
            &latest,
            None,
            None,
        ),
        latest,
    );
    let over = if args.http.is_some() {
        "GetLatestConfiguration over HTTP with each answer's next token (a session per reader and stream; its first poll returns the content)"
    } else {
        "Store::deployment_candidates + live_deployment at the store's clock; content read only when it changed"
    };
    run.add(
        Subject::new(
            "poll",
            "verso",
            format!("GetLatestConfiguration-equivalent poll: {over}"),
            &poll,
            None,
            None,
        ),
        poll,
    );
    if !args.no_baselines {
        let keys = u64::try_from(workload.streams)? * PREPARED_VERSIONS;
        let dir = data.scratch("sled_get");
        let outcome = baselines::sled_get(&dir, workload, settings, keys)?;
        data.remove_scratch(&dir);
        run.add(
            Subject::new(
                "sled_get",
                "baseline",
                format!("raw sled: get of one of {keys} keys holding the same contents"),
                &outcome.measured,
                None,
                outcome.disk_bytes,
            ),
            outcome.measured,
        );
        run.report.add_ratios("latest_read");
        run.report.add_ratios("poll");
    }
    Ok(())
}

/// Writes the versions and starts the deployments; returns each stream's environment.
fn prepare(target: &Target, workload: &Workload) -> Result<Vec<EnvironmentId>> {
    let store = &target.store;
    let mut pending = Vec::new();
    for (k, (app, profile)) in target.streams.iter().enumerate() {
        for v in 0..PREPARED_VERSIONS {
            let i = u64::try_from(k)? * PREPARED_VERSIONS + v;
            let (bytes, content_type) = content(i, workload.size_of(i));
            pending.push(store.create_hosted_version(
                app,
                profile,
                NewHostedVersion {
                    content: bytes,
                    content_type: content_type.to_owned(),
                    ..Default::default()
                },
            ));
        }
    }
    for p in pending {
        p.wait()
            .context("preparing versions")?
            .map_err(|r| anyhow!("preparing versions: {r}"))?;
    }
    let strategy = DeploymentStrategyId::parse("AppConfig.AllAtOnce")
        .map_err(|r| anyhow!("the predefined strategy: {r}"))?;
    let mut environments: Vec<EnvironmentId> = Vec::new();
    let mut out = Vec::with_capacity(target.streams.len());
    for (k, (app, profile)) in target.streams.iter().enumerate() {
        if k % PROFILES_PER_APPLICATION == 0 {
            let env = store
                .create_environment(
                    app,
                    NewEnvironment {
                        name: "bench".into(),
                        ..Default::default()
                    },
                )
                .wait()
                .context("creating the environment")?
                .map_err(|r| anyhow!("creating the environment: {r}"))?;
            environments.push(env.id);
        }
        let env = environments
            .last()
            .cloned()
            .ok_or_else(|| anyhow!("no environment for stream {k}"))?;
        store
            .start_deployment(
                app,
                &env,
                NewDeployment {
                    profile: profile.clone(),
                    version: VersionSelector::Number(StreamVersion::new(PREPARED_VERSIONS)),
                    strategy: strategy.clone(),
                    description: None,
                    kms_key_identifier: None,
                    tags: Default::default(),
                    latest_deployment_number: None,
                },
            )
            .wait()
            .context("starting a deployment")?
            .map_err(|r| anyhow!("starting the deployment of stream-{k}: {r}"))?;
        out.push(env);
    }
    Ok(out)
}

fn latest_reader<'a>(target: &'a Target, workload: &'a Workload) -> Op<'a> {
    Box::new(move |i| {
        let (app, profile) = target
            .streams
            .get(workload.stream_of(i))
            .ok_or_else(|| anyhow!("no stream for read {i}"))?;
        let version = target
            .store
            .latest_hosted_version(app, profile)
            .context("the store failed")?
            .map_err(|r| anyhow!("latest version: {r}"))?;
        Ok(u64::try_from(version.content.len())?)
    })
}

fn poller<'a>(
    target: &'a Target,
    environments: &'a [EnvironmentId],
    workload: &'a Workload,
    reader: usize,
) -> Op<'a> {
    let session = format!("verso-bench-reader-{reader}").into_bytes();
    let mut held: Vec<Option<StreamVersion>> = vec![None; target.streams.len()];
    Box::new(move |i| {
        let k = workload.stream_of(i);
        let ((app, profile), env) = target
            .streams
            .get(k)
            .zip(environments.get(k))
            .ok_or_else(|| anyhow!("no stream for poll {i}"))?;
        let store = &target.store;
        let now = store.now();
        let candidates = store
            .deployment_candidates(app, env, profile, now)
            .context("the store failed")?
            .map_err(|r| anyhow!("deployment candidates: {r}"))?;
        let live = live_deployment(candidates.iter(), now, |n| rollout_bucket(&session, n))
            .ok_or_else(|| anyhow!("stream-{k} has no live deployment"))?;
        let slot = held
            .get_mut(k)
            .ok_or_else(|| anyhow!("no slot for stream {k}"))?;
        if *slot == Some(live.version) {
            return Ok(0);
        }
        let version = store
            .hosted_version(app, profile, live.version.get())
            .context("the store failed")?
            .map_err(|r| anyhow!("deployed version: {r}"))?;
        *slot = Some(live.version);
        Ok(u64::try_from(version.content.len())?)
    })
}
