//! Reads of Connect views: records, names in order, versions newest first, and content
//! decoded from its canonical form.

use verso_domain::projection::{VersionRecord, ViewRecord};
use verso_domain::{
    ConnectInstanceId, ContentRef, Rejection, StreamId, StreamVersion, ViewContent, ViewId,
};

use super::{Page, PageRequest, decode, encode_token, live_versions_newest_first};
use crate::content;
use crate::error::{Error, Outcome, Result};
use crate::log::keys;
use crate::store::Store;

impl Store {
    /// A live Connect view.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (also for a deleted view) is the inner refusal.
    pub fn connect_view(
        &self,
        instance: &ConnectInstanceId,
        id: &ViewId,
    ) -> Result<Outcome<ViewRecord>> {
        let record: Option<ViewRecord> = self.view().get(&keys::view(instance, id))?;
        Ok(record
            .filter(ViewRecord::is_live)
            .ok_or_else(|| Rejection::not_found("View", id).into()))
    }

    /// An instance's live views in name order (byte order of the UTF-8 names).
    ///
    /// # Errors
    /// Fail-stop errors; a bad page request is the inner refusal.
    pub fn connect_views(
        &self,
        instance: &ConnectInstanceId,
        page: &PageRequest,
    ) -> Result<Outcome<Page<ViewRecord>>> {
        let (size, token) = match page.parsed() {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let view = self.view();
        let prefix = keys::view_name_prefix(instance);
        let start = match token {
            None => std::ops::Bound::Included(prefix.clone()),
            Some(t) => std::ops::Bound::Excluded([prefix.as_slice(), t.as_slice()].concat()),
        };
        let mut items = Vec::new();
        let mut last_key = Vec::new();
        let mut more = false;
        for item in view.scan_range(&prefix, start, false) {
            let (key, value) = item?;
            if items.len() == size {
                more = true;
                break;
            }
            let id: ViewId = decode(&value)?;
            let record: ViewRecord = view.get(&keys::view(instance, &id))?.ok_or_else(|| {
                Error::corrupted(
                    None,
                    format!("view name entry of instance {instance} names a missing view {id}"),
                )
            })?;
            items.push(record);
            last_key = key;
        }
        let next_token =
            more.then(|| encode_token(last_key.get(prefix.len()..).unwrap_or_default()));
        Ok(Ok(Page { items, next_token }))
    }

    /// Version `version` of a live view, if it is live.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (view or version) is the inner refusal.
    pub fn connect_view_version(
        &self,
        instance: &ConnectInstanceId,
        id: &ViewId,
        version: u64,
    ) -> Result<Outcome<VersionRecord>> {
        if let Err(e) = self.connect_view(instance, id)? {
            return Ok(Err(e));
        }
        let stream = StreamId::view(instance, id);
        match self
            .view()
            .version_checked(&stream, StreamVersion::new(version))?
        {
            Some(r) if r.is_live() => Ok(Ok(r)),
            _ => Ok(Err(Rejection::not_found("ViewVersion", version).into())),
        }
    }

    /// A live view's live versions, highest first.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` and bad page requests are the inner refusal.
    pub fn connect_view_versions(
        &self,
        instance: &ConnectInstanceId,
        id: &ViewId,
        page: &PageRequest,
    ) -> Result<Outcome<Page<VersionRecord>>> {
        let (size, token) = match page.parsed() {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = self.connect_view(instance, id)? {
            return Ok(Err(e));
        }
        let stream = StreamId::view(instance, id);
        live_versions_newest_first(&self.view(), &stream, None, size, token)
    }

    /// View content, read by its reference (its hash verified) and parsed. Its canonical
    /// form is checked by `verify` (invariant V7), not on every read.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when the content is missing, does not hash to its reference,
    /// or is not view content.
    pub fn view_content(&self, content: ContentRef) -> Result<ViewContent> {
        let bytes =
            content::read_referenced(&*self.inner.engine, &self.view(), content.hash, None)?;
        ViewContent::parse(&bytes)
            .map_err(|e| Error::corrupted(None, format!("view content {}: {e}", content.hash)))
    }
}
