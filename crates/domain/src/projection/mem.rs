//! The in-memory reference implementation of the projections.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::{
    AppConfigRead, AppConfigWrite, ApplicationRecord, ConnectRead, ConnectWrite, DeploymentRecord,
    DeploymentStrategyRecord, EnvironmentRecord, IdempotencyRecord, ProfileRecord, ProtonRead,
    ProtonWrite, StreamHead, StreamRead, StreamWrite, TemplateRecord, TemplateTokenRecord,
    TemplateVersionRecord, VersionRecord, ViewRecord, ViewTokenRecord, WriteModel,
};
use crate::connect::{ConnectInstanceId, ViewId};
use crate::content::ContentRef;
use crate::id::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, ProfileId, StreamId,
    StreamVersion,
};
use crate::proton::{TemplateName, TemplateVersion};

/// Which canonical form a stored content is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CanonicalKind {
    /// [`ViewContent`](crate::ViewContent)'s.
    ViewContent,
    /// [`TemplateSource`](crate::proton::TemplateSource)'s.
    TemplateSource,
}

/// Every projection, in ordered maps (a stream's versions in a sorted `Vec`). Two
/// `MemState`s are equal exactly when the projections they hold are equal, which is how
/// verification compares the stored projections with a fresh fold of the log.
///
/// What a stream holds (its head, versions, labels and tokens) is nested under the
/// stream, and profiles under their application, so that a lookup or an append builds
/// no key: the fold of a large log does a few map searches per record and clones one
/// stream id. No container is left empty, which keeps the derived equality a comparison
/// of projections.
///
/// The content-hash view is not held but derived: a content is used by exactly the live
/// versions whose content it is ([`apply`](super::apply) puts a use with each version
/// and removes it when the version is deleted), so [`content_uses`](Self::content_uses)
/// and [`write_part_into`](Self::write_part_into) read it off the versions. A replay then keeps no
/// map keyed by random hashes, the costliest part of folding a large log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemState {
    applications: BTreeMap<ApplicationId, ApplicationRecord>,
    profiles: BTreeMap<ApplicationId, BTreeMap<ProfileId, ProfileRecord>>,
    streams: BTreeMap<StreamId, StreamState>,
    hosted_bytes: u64,
    environments: BTreeMap<(ApplicationId, EnvironmentId), EnvironmentRecord>,
    retired_environments: BTreeSet<(ApplicationId, EnvironmentId)>,
    deployment_strategies: BTreeMap<DeploymentStrategyId, DeploymentStrategyRecord>,
    deployments: BTreeMap<(ApplicationId, EnvironmentId, u32), DeploymentRecord>,
    views: BTreeMap<(ConnectInstanceId, ViewId), ViewRecord>,
    view_names: BTreeMap<(ConnectInstanceId, String), ViewId>,
    view_tokens: BTreeMap<(ConnectInstanceId, String), ViewTokenRecord>,
    templates: BTreeMap<TemplateName, TemplateRecord>,
    template_versions: BTreeMap<(TemplateName, u32, TemplateVersion), TemplateVersionRecord>,
    template_tokens: BTreeMap<(TemplateName, u32, String), TemplateTokenRecord>,
    published: BTreeSet<(TemplateName, u32, TemplateVersion)>,
}

/// What one stream holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct StreamState {
    /// `None` until its head is first written (apply writes it with the first version).
    head: Option<StreamHead>,
    versions: Versions,
    labels: BTreeSet<(String, StreamVersion)>,
    idempotency: BTreeMap<String, IdempotencyRecord>,
}

/// A stream's versions, deleted ones included, in version order, each number once.
///
/// A `Vec` kept sorted rather than a map: a new version is numbered above every version
/// of its stream before it (E4), so a fold only ever appends or replaces. A map built by
/// appending splits a node every few records and leaves each half empty, and inserting
/// into it took about 40% of a large replay's fold (`perf`, docs/performance.md).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Versions(Vec<VersionRecord>);

impl Versions {
    /// Where `version` is, or where it would go.
    fn index_of(&self, version: StreamVersion) -> Result<usize, usize> {
        // Numbers are usually consecutive, so a version is usually at its offset from
        // the first: one look, where a binary search over a large stream misses the
        // cache at nearly every step.
        let first = self.0.first().map_or(0, |r| r.version.get());
        let guess = version
            .get()
            .checked_sub(first)
            .and_then(|d| usize::try_from(d).ok());
        if let Some(at) = guess
            && self.0.get(at).is_some_and(|r| r.version == version)
        {
            return Ok(at);
        }
        self.0.binary_search_by_key(&version, |r| r.version)
    }

    fn get(&self, version: StreamVersion) -> Option<&VersionRecord> {
        self.0.get(self.index_of(version).ok()?)
    }

    /// Inserts `record`, or replaces the version of its number.
    fn put(&mut self, record: VersionRecord) {
        if self
            .0
            .last()
            .is_none_or(|last| last.version < record.version)
        {
            self.0.push(record);
            return;
        }
        match self.index_of(record.version) {
            Ok(at) => {
                if let Some(slot) = self.0.get_mut(at) {
                    *slot = record;
                }
            }
            Err(at) => self.0.insert(at, record),
        }
    }

    /// The versions numbered below `below`, in version order.
    fn below(&self, below: StreamVersion) -> &[VersionRecord] {
        let end = self.index_of(below).unwrap_or_else(|at| at);
        self.0.get(..end).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn values(&self) -> std::slice::Iter<'_, VersionRecord> {
        self.0.iter()
    }
}

impl MemState {
    /// An empty state: the fold of an empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Versions of `stream`, oldest first, deleted ones included.
    pub fn versions(&self, stream: &StreamId) -> impl Iterator<Item = &VersionRecord> {
        self.streams
            .get(stream)
            .into_iter()
            .flat_map(|s| s.versions.values())
    }

    /// Every content a face stores in a canonical form, with which form: Connect view
    /// contents (both aliases of every view and every view version) and Proton template
    /// sources. Verification decodes each (invariant V7).
    pub fn canonical_contents(&self) -> impl Iterator<Item = (CanonicalKind, ContentRef)> + '_ {
        let aliases = self
            .views
            .values()
            .flat_map(|v| std::iter::once(v.saved).chain(v.latest))
            .map(|c| (CanonicalKind::ViewContent, c));
        let versions = self.all_versions().filter_map(|r| match r.stream {
            StreamId::ConnectView { .. } => Some((CanonicalKind::ViewContent, r.content)),
            StreamId::EnvironmentTemplate { .. } | StreamId::EnvironmentTemplateMajor { .. } => {
                Some((CanonicalKind::TemplateSource, r.content))
            }
            StreamId::HostedConfiguration { .. } => None,
        });
        aliases.chain(versions)
    }

    /// Every live version of a template generation, in version order.
    pub fn template_versions(
        &self,
        name: &TemplateName,
        generation: u32,
    ) -> Vec<TemplateVersionRecord> {
        self.template_versions
            .iter()
            .filter(|((n, g, _), _)| n == name && *g == generation)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Every (stream, version) whose content is `hash`.
    pub fn content_uses(
        &self,
        hash: ContentHash,
    ) -> impl Iterator<Item = (&StreamId, StreamVersion)> {
        self.live_versions()
            .filter(move |r| r.content.hash == hash)
            .map(|r| (&r.stream, r.version))
    }

    /// Every version, deleted ones included, in (stream, version) order.
    fn all_versions(&self) -> impl Iterator<Item = &VersionRecord> {
        self.streams.values().flat_map(|s| s.versions.values())
    }

    /// Every live version, in (stream, version) order.
    fn live_versions(&self) -> impl Iterator<Item = &VersionRecord> {
        self.all_versions().filter(|r| r.is_live())
    }
}

/// A part of the projections, for writing a fold out in pieces (on several threads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Every version record.
    Versions,
    /// Every content use (the content-hash view).
    ContentUses,
    /// Every other projection.
    Rest,
}

impl Part {
    /// The parts, which together are every projection, each entry in exactly one.
    pub const ALL: [Self; 3] = [Self::Versions, Self::ContentUses, Self::Rest];
}

impl MemState {
    /// Writes the entries of one part of the projections into `target`, in key order
    /// within each projection. Rebuild and verification write every [`Part::ALL`] to
    /// turn a fold of the log into stored entries.
    pub fn write_part_into<W: WriteModel + ?Sized>(&self, part: Part, target: &mut W) {
        match part {
            Part::Versions => self.write_versions_into(0..usize::MAX, target),
            Part::ContentUses => {
                // Each use names its stream by the map's key, not the version's own
                // copy: after the sort by hash the versions are visited in random order,
                // and reading each one's stream cost more than all the rest.
                let mut uses: Vec<_> = self
                    .streams
                    .iter()
                    .flat_map(|(stream, s)| {
                        s.versions
                            .values()
                            .filter(|r| r.is_live())
                            .map(move |r| (r.content.hash, stream, r.version))
                    })
                    .collect();
                uses.sort_unstable();
                for (hash, stream, version) in uses {
                    target.put_content_use(hash, stream, version);
                }
            }
            Part::Rest => self.write_rest_into(target),
        }
    }

    /// How many version records there are, deleted ones included.
    #[must_use]
    pub fn version_count(&self) -> usize {
        self.streams.values().map(|s| s.versions.len()).sum()
    }

    /// Writes the version records numbered `range` in (stream, version) order into
    /// `target`: a share of [`Part::Versions`], so that two threads can write one part.
    pub fn write_versions_into<W: StreamWrite + ?Sized>(
        &self,
        range: std::ops::Range<usize>,
        target: &mut W,
    ) {
        // Streams before the range are passed over whole.
        let mut first = 0;
        for state in self.streams.values() {
            if first >= range.end {
                break;
            }
            let len = state.versions.len();
            if first + len > range.start {
                let skip = range.start.saturating_sub(first);
                let take = (range.end - first).min(len).saturating_sub(skip);
                for record in state.versions.values().skip(skip).take(take) {
                    target.put_version(Cow::Borrowed(record));
                }
            }
            first += len;
        }
    }

    fn write_rest_into<W: WriteModel + ?Sized>(&self, target: &mut W) {
        for record in self.applications.values() {
            target.put_application(record.clone());
        }
        for record in self.profiles.values().flat_map(BTreeMap::values) {
            target.put_profile(record.clone());
        }
        for (stream, state) in &self.streams {
            if let Some(head) = state.head {
                target.put_stream(stream, head);
            }
        }
        for (stream, state) in &self.streams {
            for (label, version) in &state.labels {
                target.put_label(stream, label, *version);
            }
        }
        for (stream, state) in &self.streams {
            for (token, record) in &state.idempotency {
                target.put_idempotency(stream, token, *record);
            }
        }
        if self.hosted_bytes > 0 {
            target.set_hosted_bytes(self.hosted_bytes);
        }
        for record in self.environments.values() {
            target.put_environment(record.clone());
        }
        for (application, id) in &self.retired_environments {
            target.put_retired_environment(application, id);
        }
        for record in self.deployment_strategies.values() {
            target.put_deployment_strategy(record.clone());
        }
        for record in self.deployments.values() {
            target.put_deployment(record.clone());
        }
        for record in self.views.values() {
            target.put_view(record.clone());
        }
        for ((instance, name), id) in &self.view_names {
            target.put_view_name(instance, name, id);
        }
        for ((instance, token), record) in &self.view_tokens {
            target.put_view_token(instance, token, record.clone());
        }
        for record in self.templates.values() {
            target.put_template(record.clone());
        }
        for record in self.template_versions.values() {
            target.put_template_version(record.clone());
        }
        for ((name, generation, token), record) in &self.template_tokens {
            target.put_template_token(name, *generation, token, record.clone());
        }
        for (name, generation, version) in &self.published {
            target.put_published(name, *generation, *version);
        }
    }
}

impl StreamRead for MemState {
    fn stream(&self, stream: &StreamId) -> Option<StreamHead> {
        self.streams.get(stream)?.head
    }

    fn version(&self, stream: &StreamId, version: StreamVersion) -> Option<Cow<'_, VersionRecord>> {
        self.streams
            .get(stream)?
            .versions
            .get(version)
            .map(Cow::Borrowed)
    }

    fn live_version_below(&self, stream: &StreamId, below: StreamVersion) -> Option<StreamVersion> {
        self.streams
            .get(stream)?
            .versions
            .below(below)
            .iter()
            .rev()
            .find(|r| r.is_live())
            .map(|r| r.version)
    }

    fn idempotency(&self, stream: &StreamId, token: &str) -> Option<IdempotencyRecord> {
        self.streams.get(stream)?.idempotency.get(token).copied()
    }

    fn version_by_label(&self, stream: &StreamId, label: &str) -> Option<StreamVersion> {
        self.streams
            .get(stream)?
            .labels
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, v)| *v)
            .next_back()
    }
}

impl AppConfigRead for MemState {
    fn application(&self, id: &ApplicationId) -> Option<Cow<'_, ApplicationRecord>> {
        self.applications.get(id).map(Cow::Borrowed)
    }

    fn application_count(&self) -> u64 {
        self.applications.len() as u64
    }

    fn profile(
        &self,
        application: &ApplicationId,
        id: &ProfileId,
    ) -> Option<Cow<'_, ProfileRecord>> {
        self.profiles.get(application)?.get(id).map(Cow::Borrowed)
    }

    fn profile_count(&self, application: &ApplicationId) -> u64 {
        self.profiles.get(application).map_or(0, |p| p.len() as u64)
    }

    fn hosted_bytes(&self) -> u64 {
        self.hosted_bytes
    }

    fn environment(
        &self,
        application: &ApplicationId,
        id: &EnvironmentId,
    ) -> Option<EnvironmentRecord> {
        self.environments
            .get(&(application.clone(), id.clone()))
            .cloned()
    }

    fn environment_count(&self, application: &ApplicationId) -> u64 {
        self.environments
            .keys()
            .filter(|(a, _)| a == application)
            .count() as u64
    }

    fn retired_environment(&self, application: &ApplicationId, id: &EnvironmentId) -> bool {
        self.retired_environments
            .contains(&(application.clone(), id.clone()))
    }

    fn deployment_strategy(&self, id: &DeploymentStrategyId) -> Option<DeploymentStrategyRecord> {
        self.deployment_strategies.get(id).cloned()
    }

    fn deployment_strategy_count(&self) -> u64 {
        self.deployment_strategies.len() as u64
    }

    fn deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        number: u32,
    ) -> Option<DeploymentRecord> {
        self.deployments
            .get(&(application.clone(), environment.clone(), number))
            .cloned()
    }

    fn latest_deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
    ) -> Option<DeploymentRecord> {
        let from = (application.clone(), environment.clone(), 0);
        let to = (application.clone(), environment.clone(), u32::MAX);
        self.deployments
            .range(from..=to)
            .next_back()
            .map(|(_, r)| r.clone())
    }
}

impl ConnectRead for MemState {
    fn view(&self, instance: &ConnectInstanceId, id: &ViewId) -> Option<ViewRecord> {
        self.views.get(&(instance.clone(), id.clone())).cloned()
    }

    fn view_named(&self, instance: &ConnectInstanceId, name: &str) -> Option<ViewId> {
        self.view_names
            .get(&(instance.clone(), name.to_owned()))
            .cloned()
    }

    fn view_count(&self, instance: &ConnectInstanceId) -> u64 {
        self.view_names
            .keys()
            .filter(|(i, _)| i == instance)
            .count() as u64
    }

    fn view_token(&self, instance: &ConnectInstanceId, token: &str) -> Option<ViewTokenRecord> {
        self.view_tokens
            .get(&(instance.clone(), token.to_owned()))
            .cloned()
    }
}

impl ProtonRead for MemState {
    fn template(&self, name: &TemplateName) -> Option<TemplateRecord> {
        self.templates.get(name).cloned()
    }

    fn template_count(&self) -> u64 {
        self.templates.values().filter(|t| t.is_live()).count() as u64
    }

    fn template_version(
        &self,
        name: &TemplateName,
        generation: u32,
        version: TemplateVersion,
    ) -> Option<TemplateVersionRecord> {
        self.template_versions
            .get(&(name.clone(), generation, version))
            .cloned()
    }

    fn recommended_version(&self, name: &TemplateName, generation: u32) -> Option<TemplateVersion> {
        let low = TemplateVersion { major: 0, minor: 0 };
        let high = TemplateVersion {
            major: u64::MAX,
            minor: u64::MAX,
        };
        self.published
            .range((name.clone(), generation, low)..=(name.clone(), generation, high))
            .next_back()
            .map(|(_, _, v)| *v)
    }

    fn recommended_minor(&self, name: &TemplateName, generation: u32, major: u64) -> Option<u64> {
        let low = TemplateVersion { major, minor: 0 };
        let high = TemplateVersion {
            major,
            minor: u64::MAX,
        };
        self.published
            .range((name.clone(), generation, low)..=(name.clone(), generation, high))
            .next_back()
            .map(|(_, _, v)| v.minor)
    }

    fn template_token(
        &self,
        name: &TemplateName,
        generation: u32,
        token: &str,
    ) -> Option<TemplateTokenRecord> {
        self.template_tokens
            .get(&(name.clone(), generation, token.to_owned()))
            .cloned()
    }
}

impl MemState {
    /// The state of `stream`, made empty if it has none yet; the id is cloned only then.
    fn stream_mut(&mut self, stream: &StreamId) -> &mut StreamState {
        if !self.streams.contains_key(stream) {
            self.streams.insert(stream.clone(), StreamState::default());
        }
        self.streams.get_mut(stream).expect("inserted above")
    }
}

impl StreamWrite for MemState {
    fn put_stream(&mut self, stream: &StreamId, head: StreamHead) {
        self.stream_mut(stream).head = Some(head);
    }

    fn put_version(&mut self, record: Cow<'_, VersionRecord>) {
        let record = record.into_owned();
        self.stream_mut(&record.stream).versions.put(record);
    }

    fn put_label(&mut self, stream: &StreamId, label: &str, version: StreamVersion) {
        self.stream_mut(stream)
            .labels
            .insert((label.to_owned(), version));
    }

    fn remove_label(&mut self, stream: &StreamId, label: &str, version: StreamVersion) {
        if let Some(s) = self.streams.get_mut(stream) {
            s.labels.remove(&(label.to_owned(), version));
        }
    }

    // The content-hash view is derived from the live versions (see the type's docs): the
    // use `apply` puts is the version it has just put, and the one it removes is that of
    // the version it marks deleted.
    fn put_content_use(&mut self, _: ContentHash, _: &StreamId, _: StreamVersion) {}

    fn remove_content_use(&mut self, _: ContentHash, _: &StreamId, _: StreamVersion) {}

    fn put_idempotency(&mut self, stream: &StreamId, token: &str, record: IdempotencyRecord) {
        self.stream_mut(stream)
            .idempotency
            .insert(token.to_owned(), record);
    }
}

impl AppConfigWrite for MemState {
    fn put_application(&mut self, record: ApplicationRecord) {
        self.applications.insert(record.id.clone(), record);
    }

    fn remove_application(&mut self, id: &ApplicationId) {
        self.applications.remove(id);
    }

    fn put_profile(&mut self, record: ProfileRecord) {
        if !self.profiles.contains_key(&record.application) {
            self.profiles
                .insert(record.application.clone(), BTreeMap::new());
        }
        if let Some(profiles) = self.profiles.get_mut(&record.application) {
            profiles.insert(record.id.clone(), record);
        }
    }

    fn remove_profile(&mut self, application: &ApplicationId, id: &ProfileId) {
        if let Some(profiles) = self.profiles.get_mut(application) {
            profiles.remove(id);
            if profiles.is_empty() {
                self.profiles.remove(application);
            }
        }
    }

    fn set_hosted_bytes(&mut self, bytes: u64) {
        self.hosted_bytes = bytes;
    }

    fn put_environment(&mut self, record: EnvironmentRecord) {
        self.environments
            .insert((record.application.clone(), record.id.clone()), record);
    }

    fn remove_environment(&mut self, application: &ApplicationId, id: &EnvironmentId) {
        self.environments.remove(&(application.clone(), id.clone()));
    }

    fn put_retired_environment(&mut self, application: &ApplicationId, id: &EnvironmentId) {
        self.retired_environments
            .insert((application.clone(), id.clone()));
    }

    fn put_deployment_strategy(&mut self, record: DeploymentStrategyRecord) {
        self.deployment_strategies.insert(record.id.clone(), record);
    }

    fn remove_deployment_strategy(&mut self, id: &DeploymentStrategyId) {
        self.deployment_strategies.remove(id);
    }

    fn put_deployment(&mut self, record: DeploymentRecord) {
        self.deployments.insert(
            (
                record.application.clone(),
                record.environment.clone(),
                record.number,
            ),
            record,
        );
    }
}

impl ConnectWrite for MemState {
    fn put_view(&mut self, record: ViewRecord) {
        self.views
            .insert((record.instance.clone(), record.id.clone()), record);
    }

    fn put_view_name(&mut self, instance: &ConnectInstanceId, name: &str, id: &ViewId) {
        self.view_names
            .insert((instance.clone(), name.to_owned()), id.clone());
    }

    fn remove_view_name(&mut self, instance: &ConnectInstanceId, name: &str) {
        self.view_names.remove(&(instance.clone(), name.to_owned()));
    }

    fn put_view_token(
        &mut self,
        instance: &ConnectInstanceId,
        token: &str,
        record: ViewTokenRecord,
    ) {
        self.view_tokens
            .insert((instance.clone(), token.to_owned()), record);
    }
}

impl ProtonWrite for MemState {
    fn put_template(&mut self, record: TemplateRecord) {
        self.templates.insert(record.name.clone(), record);
    }

    fn put_template_version(&mut self, record: TemplateVersionRecord) {
        self.template_versions.insert(
            (record.template.clone(), record.generation, record.version),
            record,
        );
    }

    fn remove_template_version(
        &mut self,
        name: &TemplateName,
        generation: u32,
        version: TemplateVersion,
    ) {
        self.template_versions
            .remove(&(name.clone(), generation, version));
    }

    fn put_published(&mut self, name: &TemplateName, generation: u32, version: TemplateVersion) {
        self.published.insert((name.clone(), generation, version));
    }

    fn remove_published(&mut self, name: &TemplateName, generation: u32, version: TemplateVersion) {
        self.published.remove(&(name.clone(), generation, version));
    }

    fn put_template_token(
        &mut self,
        name: &TemplateName,
        generation: u32,
        token: &str,
        record: TemplateTokenRecord,
    ) {
        self.template_tokens
            .insert((name.clone(), generation, token.to_owned()), record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{Position, Timestamp};

    fn record(version: u64, deleted: bool) -> VersionRecord {
        VersionRecord {
            stream: StreamId::HostedConfiguration {
                application: ApplicationId::parse("app1").unwrap(),
                profile: ProfileId::parse("prf1").unwrap(),
            },
            version: StreamVersion::new(version),
            position: Position::new(version),
            created_at: Timestamp::from_millis(0),
            actor: None,
            content: ContentRef {
                hash: ContentHash::of(&version.to_be_bytes()),
                len: 1,
            },
            content_type: None,
            description: None,
            label: None,
            deleted: deleted.then(|| Position::new(version + 100)),
        }
    }

    fn numbers(versions: &Versions) -> Vec<u64> {
        versions.values().map(|r| r.version.get()).collect()
    }

    #[test]
    fn versions_stay_sorted_and_are_found_with_or_without_gaps() {
        let mut versions = Versions::default();
        assert!(versions.get(StreamVersion::new(1)).is_none());
        // Appended with gaps, then one below the last and one replaced.
        for v in [2, 3, 5, 9] {
            versions.put(record(v, false));
        }
        versions.put(record(4, false));
        versions.put(record(3, true));
        assert_eq!(numbers(&versions), [2, 3, 4, 5, 9]);
        for v in [2, 3, 4, 5, 9] {
            assert_eq!(
                versions.get(StreamVersion::new(v)).map(|r| r.version.get()),
                Some(v)
            );
        }
        for v in [0, 1, 6, 8, 10, u64::MAX] {
            assert!(versions.get(StreamVersion::new(v)).is_none(), "{v}");
        }
        assert!(!versions.get(StreamVersion::new(3)).unwrap().is_live());
        let below = |v: u64| -> Vec<u64> {
            versions
                .below(StreamVersion::new(v))
                .iter()
                .map(|r| r.version.get())
                .collect()
        };
        assert_eq!(below(5), [2, 3, 4]);
        assert_eq!(below(7), [2, 3, 4, 5]);
        assert_eq!(below(2), Vec::<u64>::new());
        assert_eq!(below(100), [2, 3, 4, 5, 9]);
        assert_eq!(versions.len(), 5);
    }
}
