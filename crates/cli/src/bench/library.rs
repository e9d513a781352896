//! Verso as a library: `Store::create_hosted_version` on an embedded store, one hosted
//! profile per stream.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use verso_domain::{ApplicationId, Limits, ProfileId};
use verso_storage::{NewApplication, NewHostedVersion, NewProfile, Store, StoreOptions};

use super::driver::Op;
use super::workload::{Workload, content};

/// Profiles per application: AWS's default quota, so the same layout works over HTTP.
pub(crate) const PROFILES_PER_APPLICATION: usize = 100;

/// An embedded store with the bench's applications and profiles.
pub(crate) struct Target {
    pub(crate) store: Store,
    /// Stream `k` is `streams[k]`.
    pub(crate) streams: Vec<(ApplicationId, ProfileId)>,
}

/// Opens a fresh store in `dir` with `workload`'s durability. The hosted-bytes quota
/// (1 GiB by default) is lifted so that a long run is never refused; every other limit is
/// the default.
pub(crate) fn open(dir: &Path, workload: &Workload) -> Result<Store> {
    let mut limits = Limits::DEFAULT;
    limits.max_hosted_bytes = u64::MAX;
    StoreOptions::new()
        .durability(workload.durability.store())
        .limits(limits)
        .open(dir)
        .with_context(|| format!("opening the store in {}", dir.display()))
}

impl Target {
    /// Creates `workload.streams` hosted profiles, in applications of at most
    /// [`PROFILES_PER_APPLICATION`].
    pub(crate) fn prepare(store: Store, workload: &Workload) -> Result<Self> {
        let mut streams = Vec::with_capacity(workload.streams);
        let mut application = None;
        for k in 0..workload.streams {
            if k % PROFILES_PER_APPLICATION == 0 {
                let created = store
                    .create_application(NewApplication {
                        name: format!("verso-bench-{}", k / PROFILES_PER_APPLICATION),
                        description: Some("created by verso bench".to_owned()),
                        ..Default::default()
                    })
                    .wait()
                    .context("creating the bench's application")?
                    .map_err(|r| anyhow!("creating the bench's application: {r}"))?;
                application = Some(created.id);
            }
            let app = application
                .clone()
                .ok_or_else(|| anyhow!("no application for stream {k}"))?;
            let profile = store
                .create_profile(
                    &app,
                    NewProfile {
                        name: format!("stream-{k}"),
                        ..Default::default()
                    },
                )
                .wait()
                .context("creating a profile")?
                .map_err(|r| anyhow!("creating profile stream-{k}: {r}"))?;
            streams.push((app, profile.id));
        }
        Ok(Self { store, streams })
    }

    /// One writer's operation: event `i` becomes a new hosted version of stream
    /// `i % streams` with `content(i, size)`, acknowledged as the store's durability
    /// says.
    pub(crate) fn writer<'a>(&'a self, workload: &'a Workload) -> Op<'a> {
        Box::new(move |i| {
            let (app, profile) = self
                .streams
                .get(workload.stream_of(i))
                .ok_or_else(|| anyhow!("no stream for event {i}"))?;
            let (bytes, content_type) = content(i, workload.size_of(i));
            let len = u64::try_from(bytes.len())?;
            self.store
                .create_hosted_version(
                    app,
                    profile,
                    NewHostedVersion {
                        content: bytes,
                        content_type: content_type.to_owned(),
                        ..Default::default()
                    },
                )
                .wait()
                .context("the store failed")?
                .map_err(|r| anyhow!("the store refused the version: {r}"))?;
            Ok(len)
        })
    }

    /// The hosted versions in the store, in all the bench's profiles: the sum of each
    /// profile's latest version number (versions are numbered 1, 2, 3 without gaps and
    /// the bench deletes none).
    pub(crate) fn versions_in_store(&self) -> Result<u64> {
        let mut total = 0;
        for (app, profile) in &self.streams {
            match self.store.latest_hosted_version(app, profile)? {
                Ok(v) => total += v.record.version.get(),
                Err(verso_storage::Refused::Rejected(r))
                    if r.kind() == verso_domain::RejectionKind::NotFound => {}
                Err(r) => return Err(anyhow!("reading the latest version back: {r}")),
            }
        }
        Ok(total)
    }
}
