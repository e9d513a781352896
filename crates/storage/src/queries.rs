//! Reads on [`Store`]. They read the snapshot the writer last published and never wait
//! for the writer (D4).
//!
//! A read sees exactly the groups whose barrier succeeded: projections from the
//! snapshot, log records up to its head, content (immutable, by sha256) from the engine
//! (docs/design/durability.md, R1).
//!
//! Environments, deployment strategies and tags are read in the submodule.

mod catalog;
mod deployments;
pub(crate) mod history;
mod templates;
mod views;

use std::ops::Bound;

use verso_domain::projection::{ApplicationRecord, ProfileRecord, StreamHead, VersionRecord};
use verso_domain::{
    ApplicationId, ContentHash, Position, ProfileId, Recorded, Rejection, StreamId, StreamVersion,
};

use crate::content;
use crate::error::{Error, Outcome, Refused, Result};
use crate::log::{codec, keys, schema};
use crate::projections::overlay::Overlay;
use crate::store::Store;

/// Which page of a list to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items, 1 to 1000; default 50.
    pub max_results: Option<u32>,
    /// The token the previous page returned.
    pub next_token: Option<String>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Present when there are more items: pass it to get the next page.
    pub next_token: Option<String>,
}

/// A version with its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedVersion {
    /// The version's metadata.
    pub record: VersionRecord,
    /// Its content, verified against its sha256.
    pub content: Vec<u8>,
}

/// Items per page when a request does not say.
pub const DEFAULT_PAGE: u32 = 50;

impl PageRequest {
    fn size(&self) -> Outcome<usize> {
        let n = self.max_results.unwrap_or(DEFAULT_PAGE);
        if !(1..=1000).contains(&n) {
            return Err(Refused::Rejected(Rejection::invalid(
                "MaxResults",
                format!("{n} is outside 1..1000"),
            )));
        }
        Ok(usize::try_from(n).unwrap_or(1000))
    }

    /// The page size and the decoded token, or why the request is refused.
    pub(crate) fn parsed(&self) -> Outcome<(usize, Option<Vec<u8>>)> {
        Ok((self.size()?, self.token()?))
    }

    fn token(&self) -> Outcome<Option<Vec<u8>>> {
        match &self.next_token {
            None => Ok(None),
            Some(t) => decode_token(t).map(Some).ok_or_else(|| {
                Refused::Rejected(Rejection::invalid(
                    "NextToken",
                    "is not a token this store issued",
                ))
            }),
        }
    }
}

fn encode_token(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) || text.len() > 2048 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether `label` passes a ListHostedConfigurationVersions filter: exact, or a prefix
/// when the filter ends in `*`.
#[must_use]
pub fn label_matches(filter: &str, label: Option<&str>) -> bool {
    let Some(label) = label else {
        return false;
    };
    match filter.strip_suffix('*') {
        Some(prefix) => label.starts_with(prefix),
        None => label == filter,
    }
}

impl Store {
    /// A view of the last published snapshot.
    pub(crate) fn view(&self) -> Overlay<'static> {
        Overlay::of(self.inner.shared.snapshot())
    }

    /// An application.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` is the inner refusal.
    pub fn application(&self, id: &ApplicationId) -> Result<Outcome<ApplicationRecord>> {
        Ok(self
            .view()
            .application_checked(id)?
            .ok_or_else(|| Rejection::not_found("Application", id).into()))
    }

    /// Applications in id order.
    ///
    /// # Errors
    /// Fail-stop errors; a bad page request is the inner refusal.
    pub fn applications(&self, page: &PageRequest) -> Result<Outcome<Page<ApplicationRecord>>> {
        page_in_key_order(&self.view(), &[schema::APPLICATION], page)
    }

    /// A configuration profile.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (application or profile) is the inner refusal.
    pub fn profile(
        &self,
        application: &ApplicationId,
        id: &ProfileId,
    ) -> Result<Outcome<ProfileRecord>> {
        let view = self.view();
        if view.application_checked(application)?.is_none() {
            return Ok(Err(Rejection::not_found("Application", application).into()));
        }
        Ok(view
            .profile_checked(application, id)?
            .ok_or_else(|| Rejection::not_found("ConfigurationProfile", id).into()))
    }

    /// An application's configuration profiles in id order.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` and bad page requests are the inner refusal.
    pub fn profiles(
        &self,
        application: &ApplicationId,
        page: &PageRequest,
    ) -> Result<Outcome<Page<ProfileRecord>>> {
        let view = self.view();
        if view.application_checked(application)?.is_none() {
            return Ok(Err(Rejection::not_found("Application", application).into()));
        }
        page_in_key_order(&view, &keys::profile_prefix(application), page)
    }

    /// Reads content by its sha256, verifying it; `None` when not stored.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when the stored bytes do not hash to `hash`.
    pub fn content(&self, hash: ContentHash) -> Result<Option<Vec<u8>>> {
        content::read(&*self.inner.engine, &self.view(), hash)
    }

    /// The hosted stream of a profile, checking the application and profile exist.
    fn hosted_stream(
        &self,
        view: &Overlay<'_>,
        application: &ApplicationId,
        profile: &ProfileId,
    ) -> Result<Outcome<StreamId>> {
        if view.application_checked(application)?.is_none() {
            return Ok(Err(Rejection::not_found("Application", application).into()));
        }
        if view.profile_checked(application, profile)?.is_none() {
            return Ok(Err(
                Rejection::not_found("ConfigurationProfile", profile).into()
            ));
        }
        Ok(Ok(StreamId::hosted(application, profile)))
    }

    /// `record` with its content, whose header is read from `view`: the snapshot the
    /// record was read from, which holds it (headers are never removed).
    fn with_content(&self, view: &Overlay<'_>, record: VersionRecord) -> Result<HostedVersion> {
        let content = content::read_referenced(
            &*self.inner.engine,
            view,
            record.content.hash,
            Some(record.position),
        )?;
        Ok(HostedVersion { record, content })
    }

    /// One hosted configuration version with its content.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (also for a deleted version) is the inner refusal.
    pub fn hosted_version(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
        version: u64,
    ) -> Result<Outcome<HostedVersion>> {
        let view = self.view();
        let stream = match self.hosted_stream(&view, application, profile)? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        match view.version_checked(&stream, StreamVersion::new(version))? {
            Some(r) if r.is_live() => Ok(Ok(self.with_content(&view, r)?)),
            _ => Ok(Err(Rejection::not_found(
                "HostedConfigurationVersion",
                version,
            )
            .into())),
        }
    }

    /// The newest live hosted configuration version.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` when there is none.
    pub fn latest_hosted_version(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
    ) -> Result<Outcome<HostedVersion>> {
        let view = self.view();
        let stream = match self.hosted_stream(&view, application, profile)? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let head: Option<StreamHead> = view.get(&keys::stream(&stream))?;
        let record = match head.and_then(|h| h.latest_live) {
            Some(v) => view.version_checked(&stream, v)?,
            None => None,
        };
        match record {
            Some(r) if r.is_live() => Ok(Ok(self.with_content(&view, r)?)),
            _ => Ok(Err(Rejection::not_found(
                "HostedConfigurationVersion",
                "latest",
            )
            .into())),
        }
    }

    /// The newest live hosted configuration version carrying `label`.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` when no live version carries it.
    pub fn hosted_version_by_label(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
        label: &str,
    ) -> Result<Outcome<HostedVersion>> {
        let view = self.view();
        let stream = match self.hosted_stream(&view, application, profile)? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let prefix = keys::label_prefix(&stream, label);
        let newest = view.scan(&prefix, true).next().transpose()?;
        let version = newest.and_then(|(k, _)| keys::trailing_version(&k));
        let record = match version {
            Some(v) => view.version_checked(&stream, v)?,
            None => None,
        };
        match record {
            Some(r) if r.is_live() => Ok(Ok(self.with_content(&view, r)?)),
            _ => Ok(Err(Rejection::not_found(
                "HostedConfigurationVersion",
                format!("with label {label:?}"),
            )
            .into())),
        }
    }

    /// Live hosted configuration versions, newest first, optionally filtered by label
    /// (exact, or prefix when the filter ends in `*`).
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` and bad page requests are the inner refusal.
    pub fn hosted_versions(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
        label: Option<&str>,
        page: &PageRequest,
    ) -> Result<Outcome<Page<VersionRecord>>> {
        let (size, token) = match page.parsed() {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let view = self.view();
        let stream = match self.hosted_stream(&view, application, profile)? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        live_versions_newest_first(&view, &stream, label, size, token)
    }

    /// Every live version, in any stream, whose content is `hash`.
    ///
    /// # Errors
    /// Fail-stop errors.
    pub fn versions_with_content(&self, hash: ContentHash) -> Result<Vec<VersionRecord>> {
        let view = self.view();
        let prefix = keys::content_use_prefix(hash);
        let mut out = Vec::new();
        for item in view.scan(&prefix, false) {
            let (key, _) = item?;
            let Some(version) = keys::trailing_version(&key) else {
                return Err(Error::corrupted(None, "malformed content-use key"));
            };
            // The stream is between the hash and the version; find it via the record.
            let stream_bytes = key
                .get(prefix.len()..key.len().saturating_sub(8))
                .ok_or_else(|| Error::corrupted(None, "malformed content-use key"))?;
            let mut vkey = vec![schema::VERSION];
            vkey.extend_from_slice(stream_bytes);
            vkey.extend_from_slice(&version.get().to_be_bytes());
            if let Some(record) = view.get::<VersionRecord>(&vkey)? {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// The recorded events from `from` on, oldest first, each decoded and checked against
    /// its key. Stops with an error at the first record that does not decode.
    pub fn events(&self, from: Position) -> impl Iterator<Item = Result<Recorded>> + '_ {
        // R1: nothing past the published head.
        let head = self.head().position;
        self.inner
            .engine
            .log_from(from.max(Position::FIRST))
            .take_while(move |item| item.as_ref().map_or(true, |(p, _)| p.get() <= head))
            .map(|item| {
                let (position, value) = item?;
                let (bytes, _) =
                    codec::unframe(&value).map_err(|e| Error::corrupted(Some(position), e))?;
                let record =
                    codec::decode(bytes).map_err(|e| Error::corrupted(Some(position), e))?;
                if record.recorded.position != position {
                    return Err(Error::corrupted(
                        Some(position),
                        format!("holds the record of position {}", record.recorded.position),
                    ));
                }
                Ok(record.recorded)
            })
    }
}

/// One page of the records under `prefix`, in key order. The token is the last returned
/// key without the prefix, so the next page starts right after it.
/// A page of `stream`'s live versions, newest first, optionally filtered by label; the
/// token is the last version number returned.
pub(crate) fn live_versions_newest_first(
    view: &Overlay<'_>,
    stream: &StreamId,
    label: Option<&str>,
    size: usize,
    token: Option<Vec<u8>>,
) -> Result<Outcome<Page<VersionRecord>>> {
    let prefix = keys::version_prefix(stream);
    let end = match token {
        None => Bound::Unbounded,
        Some(t) => {
            let Ok(raw) = <[u8; 8]>::try_from(t.as_slice()) else {
                return Ok(Err(Refused::Rejected(Rejection::invalid(
                    "NextToken",
                    "is not a token this store issued",
                ))));
            };
            Bound::Excluded(keys::version(
                stream,
                StreamVersion::new(u64::from_be_bytes(raw)),
            ))
        }
    };
    let end = match end {
        Bound::Unbounded => keys::prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded),
        b => b,
    };
    let mut items = Vec::new();
    let mut more = false;
    for item in view.scan_between(Bound::Included(prefix), end, true) {
        let (_, value) = item?;
        let record = decode::<VersionRecord>(&value)?;
        if !record.is_live() {
            continue;
        }
        if let Some(f) = label
            && !label_matches(f, record.label.as_deref())
        {
            continue;
        }
        if items.len() == size {
            more = true;
            break;
        }
        items.push(record);
    }
    let next_token = more
        .then(|| {
            items
                .last()
                .map(|r: &VersionRecord| encode_token(&r.version.get().to_be_bytes()))
        })
        .flatten();
    Ok(Ok(Page { items, next_token }))
}

fn page_in_key_order<T: serde::de::DeserializeOwned>(
    view: &Overlay<'_>,
    prefix: &[u8],
    page: &PageRequest,
) -> Result<Outcome<Page<T>>> {
    let (size, token) = match page.parsed() {
        Ok(parsed) => parsed,
        Err(e) => return Ok(Err(e)),
    };
    let start = match token {
        None => Bound::Included(prefix.to_vec()),
        Some(t) => Bound::Excluded([prefix, t.as_slice()].concat()),
    };
    let mut items = Vec::new();
    let mut last_key = Vec::new();
    let mut more = false;
    for item in view.scan_range(prefix, start, false) {
        let (key, value) = item?;
        if items.len() == size {
            more = true;
            break;
        }
        items.push(decode::<T>(&value)?);
        last_key = key;
    }
    let next_token = more.then(|| encode_token(last_key.get(prefix.len()..).unwrap_or_default()));
    Ok(Ok(Page { items, next_token }))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    codec::decode_value(bytes).map_err(|e| Error::corrupted(None, format!("projection value: {e}")))
}
