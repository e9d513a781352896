//! The projections in memory, in their stored form, seen through an overlay of pending
//! writes.
//!
//! The writer decides each command of a group against a [`Overlay`] of the published
//! snapshot whose overlay holds the projection writes of the commands before it in the
//! same group; once the group's records, content and head are appended and durable,
//! those writes make the next snapshot (ADR 0007). Readers use an `Overlay` of a snapshot
//! with an empty overlay: they never wait for the writer (R1). A decoding failure inside
//! the kernel's infallible [`ReadModel`] is kept in the view and reported by
//! [`Overlay::take_error`], never swallowed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use verso_domain::projection::{
    AppConfigRead, AppConfigWrite, ApplicationRecord, ConnectRead, ConnectWrite, DeploymentRecord,
    DeploymentStrategyRecord, EnvironmentRecord, IdempotencyRecord, ProfileRecord, ProtonRead,
    ProtonWrite, StreamHead, StreamRead, StreamWrite, TemplateRecord, TemplateTokenRecord,
    TemplateVersionRecord, VersionRecord, ViewRecord, ViewTokenRecord,
};
use verso_domain::proton::{TemplateName, TemplateVersion};
use verso_domain::{
    ApplicationId, ContentHash, DeploymentStrategyId, EnvironmentId, ProfileId, StreamId,
    StreamVersion,
};
use verso_domain::{ConnectInstanceId, ViewId};

use crate::error::{Error, Result};
use crate::log::{codec, keys, schema};
use crate::projections::Map;
use crate::projections::snapshot::Published;

/// Projection writes not yet in a snapshot or checkpoint, in key order; `None` is a
/// delete.
pub(crate) type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

type PendingIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> + 'a>;

/// Room for a version or content-use key of a hosted stream (at most 58 bytes) or of
/// most others; a longer one grows once.
const KEY_ROOM: usize = 128;

/// The key `key` writes, in one allocation for the common sizes.
fn key_of(key: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut k = Vec::with_capacity(KEY_ROOM);
    key(&mut k);
    k
}

/// What an [`Overlay`] reads under its pending writes.
enum Base<'t> {
    /// A map the caller owns (the writer's snapshot, or a map being loaded).
    Borrowed(&'t Map),
    /// A published snapshot, held for as long as the view lives.
    Shared(Arc<Published>),
}

/// Projections in memory plus pending writes.
pub(crate) struct Overlay<'t> {
    /// The projections under the overlay.
    base: Base<'t>,
    /// Writes not yet in the snapshot; `None` is a delete. Only the writer's views have
    /// any.
    pending: Writes,
    /// The first failure met by a `ReadModel` or `WriteModel` method.
    error: RefCell<Option<Error>>,
}

impl<'t> Overlay<'t> {
    /// A view of `map`, with an empty overlay.
    pub(crate) fn over(map: &'t Map) -> Self {
        Self {
            base: Base::Borrowed(map),
            pending: BTreeMap::new(),
            error: RefCell::new(None),
        }
    }

    /// A view of `map` with `under` (a group appended but not yet published, C7)
    /// already in its overlay. [`Overlay::into_own_pending`] then returns only what was
    /// written on top of it.
    pub(crate) fn over_in_flight(map: &'t Map, under: &Writes) -> Self {
        Self {
            base: Base::Borrowed(map),
            pending: under.clone(),
            error: RefCell::new(None),
        }
    }

    /// A view of a published snapshot, with an empty overlay: what readers use.
    pub(crate) fn of(snapshot: Arc<Published>) -> Overlay<'static> {
        Overlay {
            base: Base::Shared(snapshot),
            pending: BTreeMap::new(),
            error: RefCell::new(None),
        }
    }

    fn map(&self) -> &Map {
        match &self.base {
            Base::Borrowed(map) => map,
            Base::Shared(snapshot) => &snapshot.map,
        }
    }

    /// The first error met since the last call.
    pub(crate) fn take_error(&self) -> Option<Error> {
        self.error.borrow_mut().take()
    }

    fn fail(&self, e: Error) {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    /// The pending writes, in key order.
    pub(crate) fn into_pending(self) -> (Writes, Option<Error>) {
        let error = self.error.into_inner();
        (self.pending, error)
    }

    /// The pending writes that differ from `under` (what the view was made with by
    /// [`Overlay::over_in_flight`]), in key order. A write equal to `under`'s changes
    /// nothing once `under` is applied, so leaving it out is exact.
    pub(crate) fn into_own_pending(self, under: &Writes) -> (Writes, Option<Error>) {
        let (mut pending, error) = self.into_pending();
        pending.retain(|key, value| under.get(key) != Some(value));
        (pending, error)
    }

    pub(crate) fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        Ok(self.map().get(key).cloned())
    }

    pub(crate) fn contains(&self, key: &[u8]) -> Result<bool> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.is_some());
        }
        Ok(self.map().contains_key(key))
    }

    pub(crate) fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.pending.insert(key, Some(value));
    }

    fn delete_raw(&mut self, key: Vec<u8>) {
        self.pending.insert(key, None);
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.get_raw(key)? {
            None => Ok(None),
            Some(bytes) => codec::decode_value(&bytes)
                .map(Some)
                .map_err(|e| Error::corrupted(None, format!("projection value: {e}"))),
        }
    }

    fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) {
        match codec::encode_value(value) {
            Ok(bytes) => self.put_raw(key, bytes),
            Err(e) => self.fail(Error::corrupted(None, format!("encode projection: {e}"))),
        }
    }

    /// [`put`](Self::put) with the key written by `key` into one allocation.
    fn put_keyed<T: Serialize>(&mut self, key: impl FnOnce(&mut Vec<u8>), value: &T) {
        self.put(key_of(key), value);
    }

    /// [`put_raw`](Self::put_raw) with the key written by `key` into one allocation.
    fn put_raw_keyed(&mut self, key: impl FnOnce(&mut Vec<u8>), value: &[u8]) {
        self.put_raw(key_of(key), value.to_vec());
    }

    /// Entries whose keys start with `prefix`, merged with pending writes, in key order
    /// (or reverse), starting after `after` when given (forward) or below it (reverse).
    pub(crate) fn scan(&self, prefix: &[u8], reverse: bool) -> Merged<'_> {
        self.scan_range(prefix, Bound::Included(prefix.to_vec()), reverse)
    }

    pub(crate) fn scan_range(
        &self,
        prefix: &[u8],
        start: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Merged<'_> {
        let end = keys::prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
        self.scan_between(start, end, reverse)
    }

    pub(crate) fn scan_between(
        &self,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Merged<'_> {
        let range = (start, end);
        let tree: MapIter<'_> = if reverse {
            Box::new(self.map().range(range.clone()).rev())
        } else {
            Box::new(self.map().range(range.clone()))
        };
        let pending: PendingIter<'_> = if reverse {
            Box::new(self.pending.range(range).rev())
        } else {
            Box::new(self.pending.range(range))
        };
        Merged {
            tree,
            tree_next: None,
            pending,
            pending_next: None,
            reverse,
        }
    }

    /// Typed reads with errors, for the store's queries.
    pub(crate) fn application_checked(
        &self,
        id: &ApplicationId,
    ) -> Result<Option<ApplicationRecord>> {
        self.get(&keys::application(id))
    }

    pub(crate) fn profile_checked(
        &self,
        application: &ApplicationId,
        id: &ProfileId,
    ) -> Result<Option<ProfileRecord>> {
        self.get(&keys::profile(application, id))
    }

    pub(crate) fn environment_checked(
        &self,
        application: &ApplicationId,
        id: &EnvironmentId,
    ) -> Result<Option<EnvironmentRecord>> {
        self.get(&keys::environment(application, id))
    }

    /// A user deployment strategy (predefined ones are not stored).
    pub(crate) fn deployment_strategy_checked(
        &self,
        id: &DeploymentStrategyId,
    ) -> Result<Option<DeploymentStrategyRecord>> {
        self.get(&keys::deployment_strategy(id))
    }

    pub(crate) fn version_checked(
        &self,
        stream: &StreamId,
        version: StreamVersion,
    ) -> Result<Option<VersionRecord>> {
        self.get(&keys::version(stream, version))
    }

    fn or_fail<T>(&self, r: Result<Option<T>>) -> Option<T> {
        r.unwrap_or_else(|e| {
            self.fail(e);
            None
        })
    }

    /// The highest published version under `prefix`: one reverse seek.
    fn last_published(&self, prefix: &[u8]) -> Option<TemplateVersion> {
        match self.scan(prefix, true).next()? {
            Ok((key, _)) => keys::trailing_template_version(&key),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn count(&self, prefix: &[u8]) -> u64 {
        let mut n = 0u64;
        for item in self.scan(prefix, false) {
            if item.is_ok() {
                n += 1;
            }
        }
        n
    }
}

type MapIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Vec<u8>)> + 'a>;

/// A merge of a range of the map and the pending writes over it; pending entries win.
pub(crate) struct Merged<'a> {
    tree: MapIter<'a>,
    tree_next: Option<(&'a Vec<u8>, &'a Vec<u8>)>,
    pending: PendingIter<'a>,
    pending_next: Option<(&'a Vec<u8>, &'a Option<Vec<u8>>)>,
    reverse: bool,
}

impl Iterator for Merged<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.tree_next.is_none() {
                self.tree_next = self.tree.next();
            }
            if self.pending_next.is_none() {
                self.pending_next = self.pending.next();
            }
            let take_pending = match (&self.tree_next, &self.pending_next) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((tk, _)), Some((pk, _))) => {
                    let (tk, pk) = (tk.as_slice(), pk.as_slice());
                    if tk == pk {
                        // The pending write shadows the stored value.
                        self.tree_next = None;
                        true
                    } else {
                        (pk < tk) != self.reverse
                    }
                }
            };
            if take_pending {
                if let Some((k, v)) = self.pending_next.take() {
                    match v {
                        Some(v) => return Some(Ok((k.clone(), v.clone()))),
                        None => continue,
                    }
                }
            } else if let Some((k, v)) = self.tree_next.take() {
                return Some(Ok((k.clone(), v.clone())));
            }
        }
    }
}

impl StreamRead for Overlay<'_> {
    fn stream(&self, stream: &StreamId) -> Option<StreamHead> {
        self.or_fail(self.get(&keys::stream(stream)))
    }

    fn version(&self, stream: &StreamId, version: StreamVersion) -> Option<Cow<'_, VersionRecord>> {
        self.or_fail(self.version_checked(stream, version))
            .map(Cow::Owned)
    }

    fn live_version_below(&self, stream: &StreamId, below: StreamVersion) -> Option<StreamVersion> {
        let prefix = keys::version_prefix(stream);
        let end = keys::version(stream, below);
        for item in self.scan_between(Bound::Included(prefix), Bound::Excluded(end), true) {
            let (_, value) = item.ok()?;
            match codec::decode_value::<VersionRecord>(&value) {
                Ok(record) if record.is_live() => return Some(record.version),
                Ok(_) => {}
                Err(e) => {
                    self.fail(Error::corrupted(None, format!("version record: {e}")));
                    return None;
                }
            }
        }
        None
    }

    fn idempotency(&self, stream: &StreamId, token: &str) -> Option<IdempotencyRecord> {
        self.or_fail(self.get(&keys::idempotency(stream, token)))
    }

    fn version_by_label(&self, stream: &StreamId, label: &str) -> Option<StreamVersion> {
        // Deletes remove a version's label entry, so the newest entry is live.
        let newest = self.scan(&keys::label_prefix(stream, label), true).next();
        match newest {
            None => None,
            Some(Err(e)) => {
                self.fail(e);
                None
            }
            Some(Ok((key, _))) => keys::trailing_version(&key),
        }
    }
}

impl AppConfigRead for Overlay<'_> {
    fn application(&self, id: &ApplicationId) -> Option<Cow<'_, ApplicationRecord>> {
        self.or_fail(self.application_checked(id)).map(Cow::Owned)
    }

    fn application_count(&self) -> u64 {
        self.count(&[schema::APPLICATION])
    }

    fn profile(
        &self,
        application: &ApplicationId,
        id: &ProfileId,
    ) -> Option<Cow<'_, ProfileRecord>> {
        self.or_fail(self.profile_checked(application, id))
            .map(Cow::Owned)
    }

    fn profile_count(&self, application: &ApplicationId) -> u64 {
        self.count(&keys::profile_prefix(application))
    }

    fn hosted_bytes(&self) -> u64 {
        match self.get_raw(schema::HOSTED_BYTES) {
            Ok(Some(bytes)) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                Ok(raw) => u64::from_be_bytes(raw),
                Err(_) => {
                    self.fail(Error::corrupted(None, "hosted bytes counter"));
                    0
                }
            },
            Ok(None) => 0,
            Err(e) => {
                self.fail(e);
                0
            }
        }
    }

    fn environment(
        &self,
        application: &ApplicationId,
        id: &EnvironmentId,
    ) -> Option<EnvironmentRecord> {
        self.or_fail(self.environment_checked(application, id))
    }

    fn environment_count(&self, application: &ApplicationId) -> u64 {
        // One prefix scan per application, bounded by the environment quota.
        self.count(&keys::environment_prefix(application))
    }

    fn retired_environment(&self, application: &ApplicationId, id: &EnvironmentId) -> bool {
        self.contains(&keys::retired_environment(application, id))
            .unwrap_or_else(|e| {
                self.fail(e);
                false
            })
    }

    fn deployment_strategy(&self, id: &DeploymentStrategyId) -> Option<DeploymentStrategyRecord> {
        self.or_fail(self.deployment_strategy_checked(id))
    }

    fn deployment_strategy_count(&self) -> u64 {
        // A scan of the user strategies, bounded by the strategy quota.
        self.count(&[schema::DEPLOYMENT_STRATEGY])
    }

    fn deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        number: u32,
    ) -> Option<DeploymentRecord> {
        self.or_fail(self.get(&keys::deployment(application, environment, number)))
    }

    fn latest_deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
    ) -> Option<DeploymentRecord> {
        let newest = self
            .scan(&keys::deployment_prefix(application, environment), true)
            .next();
        match newest {
            None => None,
            Some(Err(e)) => {
                self.fail(e);
                None
            }
            Some(Ok((_, value))) => match codec::decode_value(&value) {
                Ok(record) => Some(record),
                Err(e) => {
                    self.fail(Error::corrupted(None, format!("projection value: {e}")));
                    None
                }
            },
        }
    }
}

impl ConnectRead for Overlay<'_> {
    fn view(&self, instance: &ConnectInstanceId, id: &ViewId) -> Option<ViewRecord> {
        self.or_fail(self.get(&keys::view(instance, id)))
    }

    fn view_named(&self, instance: &ConnectInstanceId, name: &str) -> Option<ViewId> {
        self.or_fail(self.get(&keys::view_name(instance, name)))
    }

    fn view_count(&self, instance: &ConnectInstanceId) -> u64 {
        self.count(&keys::view_name_prefix(instance))
    }

    fn view_token(&self, instance: &ConnectInstanceId, token: &str) -> Option<ViewTokenRecord> {
        self.or_fail(self.get(&keys::view_token(instance, token)))
    }
}

impl ProtonRead for Overlay<'_> {
    fn template(&self, name: &TemplateName) -> Option<TemplateRecord> {
        self.or_fail(self.get(&keys::template(name)))
    }

    fn template_count(&self) -> u64 {
        let mut n = 0;
        for item in self.scan(&[schema::TEMPLATE], false) {
            match item.and_then(|(_, value)| {
                codec::decode_value::<TemplateRecord>(&value)
                    .map_err(|e| Error::corrupted(None, format!("projection value: {e}")))
            }) {
                Ok(record) if record.is_live() => n += 1,
                Ok(_) => {}
                Err(e) => self.fail(e),
            }
        }
        n
    }

    fn template_version(
        &self,
        name: &TemplateName,
        generation: u32,
        version: TemplateVersion,
    ) -> Option<TemplateVersionRecord> {
        self.or_fail(self.get(&keys::template_version(name, generation, version)))
    }

    fn recommended_version(&self, name: &TemplateName, generation: u32) -> Option<TemplateVersion> {
        self.last_published(&keys::published_prefix(name, generation, None))
    }

    fn recommended_minor(&self, name: &TemplateName, generation: u32, major: u64) -> Option<u64> {
        self.last_published(&keys::published_prefix(name, generation, Some(major)))
            .map(|v| v.minor)
    }

    fn template_token(
        &self,
        name: &TemplateName,
        generation: u32,
        token: &str,
    ) -> Option<TemplateTokenRecord> {
        self.or_fail(self.get(&keys::template_token(name, generation, token)))
    }
}

/// The stored form of every projection write, for any target with `put`, `put_raw` and
/// `delete_raw`: the writer's [`Overlay`] and the [`Entries`] of a fold share one encoding.
macro_rules! write_model {
    ($target:ty) => {
        impl StreamWrite for $target {
            fn put_stream(&mut self, stream: &StreamId, head: StreamHead) {
                self.put(keys::stream(stream), &head);
            }

            fn put_version(&mut self, record: Cow<'_, VersionRecord>) {
                self.put_keyed(
                    |key| keys::version_into(key, &record.stream, record.version),
                    &record,
                );
            }

            fn put_label(&mut self, stream: &StreamId, label: &str, version: StreamVersion) {
                self.put_raw(keys::label(stream, label, version), Vec::new());
            }

            fn remove_label(&mut self, stream: &StreamId, label: &str, version: StreamVersion) {
                self.delete_raw(keys::label(stream, label, version));
            }

            fn put_content_use(
                &mut self,
                hash: ContentHash,
                stream: &StreamId,
                version: StreamVersion,
            ) {
                self.put_raw_keyed(
                    |key| keys::content_use_into(key, hash, stream, version),
                    &[],
                );
            }

            fn remove_content_use(
                &mut self,
                hash: ContentHash,
                stream: &StreamId,
                version: StreamVersion,
            ) {
                self.delete_raw(keys::content_use(hash, stream, version));
            }

            fn put_idempotency(
                &mut self,
                stream: &StreamId,
                token: &str,
                record: IdempotencyRecord,
            ) {
                self.put(keys::idempotency(stream, token), &record);
            }
        }

        impl AppConfigWrite for $target {
            fn put_application(&mut self, record: ApplicationRecord) {
                self.put(keys::application(&record.id), &record);
            }

            fn remove_application(&mut self, id: &ApplicationId) {
                self.delete_raw(keys::application(id));
            }

            fn put_profile(&mut self, record: ProfileRecord) {
                self.put(keys::profile(&record.application, &record.id), &record);
            }

            fn remove_profile(&mut self, application: &ApplicationId, id: &ProfileId) {
                self.delete_raw(keys::profile(application, id));
            }

            fn set_hosted_bytes(&mut self, bytes: u64) {
                // Absent means zero, so that the stored form does not depend on history.
                if bytes == 0 {
                    self.delete_raw(schema::HOSTED_BYTES.to_vec());
                } else {
                    self.put_raw(schema::HOSTED_BYTES.to_vec(), bytes.to_be_bytes().to_vec());
                }
            }

            fn put_environment(&mut self, record: EnvironmentRecord) {
                self.put(keys::environment(&record.application, &record.id), &record);
            }

            fn remove_environment(&mut self, application: &ApplicationId, id: &EnvironmentId) {
                self.delete_raw(keys::environment(application, id));
            }

            fn put_retired_environment(&mut self, application: &ApplicationId, id: &EnvironmentId) {
                self.put_raw(keys::retired_environment(application, id), Vec::new());
            }

            fn put_deployment_strategy(&mut self, record: DeploymentStrategyRecord) {
                self.put(keys::deployment_strategy(&record.id), &record);
            }

            fn remove_deployment_strategy(&mut self, id: &DeploymentStrategyId) {
                self.delete_raw(keys::deployment_strategy(id));
            }

            fn put_deployment(&mut self, record: DeploymentRecord) {
                self.put(
                    keys::deployment(&record.application, &record.environment, record.number),
                    &record,
                );
            }
        }

        impl ConnectWrite for $target {
            fn put_view(&mut self, record: ViewRecord) {
                self.put(keys::view(&record.instance, &record.id), &record);
            }

            fn put_view_name(&mut self, instance: &ConnectInstanceId, name: &str, id: &ViewId) {
                self.put(keys::view_name(instance, name), id);
            }

            fn remove_view_name(&mut self, instance: &ConnectInstanceId, name: &str) {
                self.delete_raw(keys::view_name(instance, name));
            }

            fn put_view_token(
                &mut self,
                instance: &ConnectInstanceId,
                token: &str,
                record: ViewTokenRecord,
            ) {
                self.put(keys::view_token(instance, token), &record);
            }
        }

        impl ProtonWrite for $target {
            fn put_template(&mut self, record: TemplateRecord) {
                self.put(keys::template(&record.name), &record);
            }

            fn put_template_version(&mut self, record: TemplateVersionRecord) {
                self.put(
                    keys::template_version(&record.template, record.generation, record.version),
                    &record,
                );
            }

            fn remove_template_version(
                &mut self,
                name: &TemplateName,
                generation: u32,
                version: TemplateVersion,
            ) {
                self.delete_raw(keys::template_version(name, generation, version));
            }

            fn put_published(
                &mut self,
                name: &TemplateName,
                generation: u32,
                version: TemplateVersion,
            ) {
                self.put_raw(keys::published(name, generation, version), Vec::new());
            }

            fn remove_published(
                &mut self,
                name: &TemplateName,
                generation: u32,
                version: TemplateVersion,
            ) {
                self.delete_raw(keys::published(name, generation, version));
            }

            fn put_template_token(
                &mut self,
                name: &TemplateName,
                generation: u32,
                token: &str,
                record: TemplateTokenRecord,
            ) {
                self.put(keys::template_token(name, generation, token), &record);
            }
        }
    };
}

write_model!(Overlay<'_>);
write_model!(Entries);

/// The projection entries a fold of the log writes (rebuild and verification encode a
/// [`MemState`](verso_domain::MemState) through one), collected in one buffer: a fold of
/// a large log writes millions of entries, and one allocation each would cost more than
/// encoding them.
#[derive(Default)]
pub(crate) struct Entries {
    /// Every key and value, back to back.
    bytes: Vec<u8>,
    /// Each write in the order made: where its key starts, where its key ends (and its
    /// value starts), and where its value ends; `None` for a delete.
    spans: Vec<(usize, usize, Option<usize>)>,
    error: Option<Error>,
}

impl Entries {
    /// Entries with room for `bytes` of keys and values in `count` writes.
    pub(crate) fn with_capacity(bytes: usize, count: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            spans: Vec::with_capacity(count),
            error: None,
        }
    }

    fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) {
        self.put_keyed(|out| out.extend_from_slice(&key), value);
    }

    /// [`put`](Self::put) with the key written by `key` straight into the buffer: no
    /// allocation per entry.
    fn put_keyed<T: Serialize>(&mut self, key: impl FnOnce(&mut Vec<u8>), value: &T) {
        let start = self.bytes.len();
        key(&mut self.bytes);
        let key_end = self.bytes.len();
        match codec::append_value(value, &mut self.bytes) {
            Ok(()) => self.spans.push((start, key_end, Some(self.bytes.len()))),
            Err(e) => {
                self.bytes.truncate(start);
                if self.error.is_none() {
                    self.error = Some(Error::corrupted(None, format!("encode projection: {e}")));
                }
            }
        }
    }

    /// [`put_raw`](Self::put_raw) with the key written by `key` straight into the buffer.
    fn put_raw_keyed(&mut self, key: impl FnOnce(&mut Vec<u8>), value: &[u8]) {
        let start = self.bytes.len();
        key(&mut self.bytes);
        let key_end = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.spans.push((start, key_end, Some(self.bytes.len())));
    }

    pub(crate) fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.put_raw_keyed(|out| out.extend_from_slice(&key), &value);
    }

    fn delete_raw(&mut self, key: Vec<u8>) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&key);
        self.spans.push((start, self.bytes.len(), None));
    }

    /// The entries in key order, the last write of a key winning, or the first error.
    pub(crate) fn into_sorted(self) -> Result<SortedEntries> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let Self {
            bytes, mut spans, ..
        } = self;
        let key = |&(start, end, _): &(usize, usize, Option<usize>)| &bytes[start..end];
        // Stable, so that equal keys stay in write order and the last one can win.
        spans.sort_by(|a, b| key(a).cmp(key(b)));
        let mut kept: Vec<(usize, usize, usize)> = Vec::with_capacity(spans.len());
        let mut spans = spans.into_iter().peekable();
        while let Some(span) = spans.next() {
            if spans.peek().is_some_and(|next| key(next) == key(&span)) {
                continue;
            }
            if let (start, key_end, Some(end)) = span {
                kept.push((start, key_end, end));
            }
        }
        Ok(SortedEntries { bytes, spans: kept })
    }
}

/// Projection entries in key order, each key once.
pub(crate) struct SortedEntries {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize, usize)>,
}

impl SortedEntries {
    /// Empty, with room for `bytes` of keys and values in `count` entries.
    pub(crate) fn with_capacity(bytes: usize, count: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            spans: Vec::with_capacity(count),
        }
    }

    /// Appends an entry whose key is above every key already held (as a scan of sled
    /// yields them).
    pub(crate) fn push_in_order(&mut self, key: &[u8], value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let key_end = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.spans.push((start, key_end, self.bytes.len()));
    }

    /// How many entries there are.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Each key and value, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.spans
            .iter()
            .map(|&(start, key_end, end)| (&self.bytes[start..key_end], &self.bytes[key_end..end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_out_in_key_order_with_the_last_write_of_a_key_winning() {
        let mut entries = Entries::default();
        entries.put_raw(b"c".to_vec(), b"3".to_vec());
        entries.put_raw(b"a".to_vec(), b"1".to_vec());
        entries.put_raw(b"b".to_vec(), b"old".to_vec());
        entries.put_raw(b"b".to_vec(), b"2".to_vec());
        entries.put_raw(b"d".to_vec(), b"4".to_vec());
        entries.delete_raw(b"d".to_vec());
        entries.delete_raw(b"e".to_vec());
        entries.put(b"f".to_vec(), &7u64);
        let sorted = entries.into_sorted().unwrap();
        let got: Vec<_> = sorted.iter().collect();
        let seven = codec::encode_value(&7u64).unwrap();
        assert_eq!(
            got,
            vec![
                (&b"a"[..], &b"1"[..]),
                (&b"b"[..], &b"2"[..]),
                (&b"c"[..], &b"3"[..]),
                (&b"f"[..], &seven[..]),
            ]
        );
        assert_eq!(sorted.len(), 4);
    }
}
