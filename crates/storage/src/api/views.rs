//! Typed writes on Connect views. The content is encoded in its canonical form and checked
//! here, on the caller's thread, so the writer never hashes or parses JSON
//! (docs/design/connect-proton.md).

use std::collections::BTreeMap;

use verso_domain::projection::{VersionRecord, ViewRecord};
use verso_domain::stream::RequestDigest;
use verso_domain::{
    Command, ConnectInstanceId, ContentHash, CreateView, IdempotencyKey, StreamVersion,
    ViewContent, ViewId, ViewStatus,
};

use super::{Pending, done, subject_of, version_of};
use crate::commit::{Committed, Subject};
use crate::error::{Outcome, Result};
use crate::store::Store;

/// A new Connect view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewView {
    /// 1 to 255 characters, unique among the instance's live views.
    pub name: String,
    /// 1 to 4096 characters.
    pub description: Option<String>,
    /// `Saved` moves `$SAVED`; `Published` moves `$SAVED` and `$LATEST`.
    pub status: ViewStatus,
    /// The content.
    pub content: ViewContent,
    /// 1 to 50 when present.
    pub tags: BTreeMap<String, String>,
    /// The `ClientToken`: the same token and request give the first view back.
    pub client_token: Option<String>,
}

fn view_of(o: Outcome<Committed>) -> Result<Outcome<ViewRecord>> {
    subject_of(o, |s| match s {
        Subject::View(v) => Some(v),
        _ => None,
    })
}

/// The digest a `ClientToken` is recorded with: every field of the request, in order.
fn create_digest(instance: &ConnectInstanceId, new: &NewView, content: ContentHash) -> ContentHash {
    RequestDigest::new("CreateView")
        .field(instance.as_str().as_bytes())
        .field(new.name.as_bytes())
        .optional(new.description.as_deref().map(str::as_bytes))
        .field(new.status.as_str().as_bytes())
        .field(content.as_bytes())
        .pairs(&new.tags)
        .finish()
}

impl Store {
    /// Creates a view with a fresh id (a v4 UUID).
    pub fn create_view(&self, instance: &ConnectInstanceId, new: NewView) -> Pending<ViewRecord> {
        let content = new.content.encode();
        let client_token = new.client_token.clone().map(|token| IdempotencyKey {
            token,
            digest: create_digest(instance, &new, content.content().hash()),
        });
        let command = Command::CreateView(CreateView {
            instance: instance.clone(),
            id: fresh_view_id(),
            name: new.name,
            description: new.description,
            status: new.status,
            content,
            tags: new.tags,
            client_token,
        });
        self.submit(command).map(view_of)
    }

    /// Writes a view's content.
    pub fn update_view_content(
        &self,
        instance: &ConnectInstanceId,
        view: &ViewId,
        status: ViewStatus,
        content: &ViewContent,
    ) -> Pending<ViewRecord> {
        self.submit(Command::UpdateViewContent {
            instance: instance.clone(),
            view: view.clone(),
            status,
            content: content.encode(),
        })
        .map(view_of)
    }

    /// Changes a view's name or description.
    pub fn update_view_metadata(
        &self,
        instance: &ConnectInstanceId,
        view: &ViewId,
        name: Option<String>,
        description: Option<String>,
    ) -> Pending<()> {
        self.submit(Command::UpdateViewMetadata {
            instance: instance.clone(),
            view: view.clone(),
            name,
            description,
        })
        .map(done)
    }

    /// Deletes a view and its versions.
    pub fn delete_view(&self, instance: &ConnectInstanceId, view: &ViewId) -> Pending<()> {
        self.submit(Command::DeleteView {
            instance: instance.clone(),
            view: view.clone(),
        })
        .map(done)
    }

    /// Freezes `$LATEST` into a new version, or answers with the highest live version when
    /// `$LATEST` equals its content.
    pub fn create_view_version(
        &self,
        instance: &ConnectInstanceId,
        view: &ViewId,
        version_description: Option<String>,
        expected_content: Option<ContentHash>,
    ) -> Pending<VersionRecord> {
        self.submit(Command::CreateViewVersion {
            instance: instance.clone(),
            view: view.clone(),
            version_description,
            expected_content,
        })
        .map(version_of)
    }

    /// Deletes one view version; its number is never reused.
    pub fn delete_view_version(
        &self,
        instance: &ConnectInstanceId,
        view: &ViewId,
        version: u64,
    ) -> Pending<()> {
        self.submit(Command::DeleteViewVersion {
            instance: instance.clone(),
            view: view.clone(),
            version: StreamVersion::new(version),
        })
        .map(done)
    }
}

/// A fresh view id: a v4 UUID in lowercase text. Its 122 random bits make a collision
/// with an existing id negligible; the kernel refuses one anyway (invariant V1).
fn fresh_view_id() -> ViewId {
    let text = uuid::Uuid::new_v4().hyphenated().to_string();
    ViewId::parse(&text).expect("a hyphenated v4 uuid is a view id")
}
