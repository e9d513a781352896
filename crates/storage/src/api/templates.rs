//! Typed writes on Proton environment templates. Request digests and the canonical
//! source are computed here, on the caller's thread (docs/design/connect-proton.md).

use std::collections::BTreeMap;

use verso_domain::projection::{TemplateRecord, TemplateVersionRecord};
use verso_domain::proton::{
    Provisioning, TemplateName, TemplateSource, TemplateVersion, TemplateVersionStatus,
};
use verso_domain::stream::RequestDigest;
use verso_domain::{
    Command, CreateEnvironmentTemplate, CreateEnvironmentTemplateVersion, IdempotencyKey,
};

use super::{Pending, done, subject_of};
use crate::commit::{Committed, Subject};
use crate::error::{Outcome, Result};
use crate::store::Store;

/// A new environment template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTemplate {
    /// 1 to 100 characters.
    pub display_name: Option<String>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// A KMS key ARN.
    pub encryption_key: Option<String>,
    /// Its provisioning.
    pub provisioning: Option<Provisioning>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
}

/// A new template version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTemplateVersion {
    /// The major to add a minor to; `None` for a new major.
    pub major: Option<u64>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// The S3 object, recorded as given.
    pub source: TemplateSource,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
    /// The `clientToken`: the same token and request give the first version back.
    pub client_token: Option<String>,
}

fn template_of(o: Outcome<Committed>) -> Result<Outcome<TemplateRecord>> {
    subject_of(o, |s| match s {
        Subject::Template(t) => Some(t),
        _ => None,
    })
}

fn version_of(o: Outcome<Committed>) -> Result<Outcome<TemplateVersionRecord>> {
    subject_of(o, |s| match s {
        Subject::TemplateVersion(v) => Some(v),
        _ => None,
    })
}

/// The version a create answered with, and whether this create appended it (`false`
/// for an idempotent replay of its `clientToken`).
fn created_version_of(o: Outcome<Committed>) -> Result<Outcome<(TemplateVersionRecord, bool)>> {
    let appended = o.as_ref().is_ok_and(|c| !c.records.is_empty());
    Ok(version_of(o)?.map(|record| (record, appended)))
}

/// The template a delete removed, or `None` when it was gone already.
fn deleted_of(o: Outcome<Committed>) -> Result<Outcome<Option<TemplateRecord>>> {
    Ok(o.map(|committed| match committed.subject {
        Some(Subject::Template(t)) if !committed.records.is_empty() => Some(t),
        _ => None,
    }))
}

impl Store {
    /// Creates an environment template, or answers with the live one created by the same
    /// request.
    pub fn create_environment_template(
        &self,
        name: &TemplateName,
        new: NewTemplate,
    ) -> Pending<TemplateRecord> {
        let digest = RequestDigest::new("CreateEnvironmentTemplate")
            .field(name.as_str().as_bytes())
            .optional(new.display_name.as_deref().map(str::as_bytes))
            .optional(new.description.as_deref().map(str::as_bytes))
            .optional(new.encryption_key.as_deref().map(str::as_bytes))
            .optional(new.provisioning.map(|p| p.as_str().as_bytes()));
        let request_digest = digest.pairs(&new.tags).finish();
        self.submit(Command::CreateEnvironmentTemplate(
            CreateEnvironmentTemplate {
                template: name.clone(),
                display_name: new.display_name,
                description: new.description,
                encryption_key: new.encryption_key,
                provisioning: new.provisioning,
                tags: new.tags,
                request_digest,
            },
        ))
        .map(template_of)
    }

    /// Deletes a template with no live versions; `None` when it did not exist.
    pub fn delete_environment_template(
        &self,
        name: &TemplateName,
    ) -> Pending<Option<TemplateRecord>> {
        self.submit(Command::DeleteEnvironmentTemplate {
            template: name.clone(),
        })
        .map(deleted_of)
    }

    /// Creates a template version: a new major, or the next minor of `new.major`. The
    /// answer says whether this call appended it (`false` when its `clientToken`
    /// answered with the first version).
    pub fn create_environment_template_version(
        &self,
        name: &TemplateName,
        new: NewTemplateVersion,
    ) -> Pending<(TemplateVersionRecord, bool)> {
        let source = new.source.canonical();
        let client_token = new.client_token.clone().map(|token| {
            let digest = RequestDigest::new("CreateEnvironmentTemplateVersion")
                .field(name.as_str().as_bytes())
                .optional(
                    new.major
                        .map(u64::to_be_bytes)
                        .as_ref()
                        .map(<[u8; 8]>::as_slice),
                )
                .optional(new.description.as_deref().map(str::as_bytes))
                .field(source.hash().as_bytes());
            IdempotencyKey {
                token,
                digest: digest.pairs(&new.tags).finish(),
            }
        });
        self.submit(Command::CreateEnvironmentTemplateVersion(
            CreateEnvironmentTemplateVersion {
                template: name.clone(),
                major: new.major,
                description: new.description,
                source,
                tags: new.tags,
                client_token,
            },
        ))
        .map(created_version_of)
    }

    /// Changes a template version's status or description.
    pub fn update_environment_template_version(
        &self,
        name: &TemplateName,
        version: TemplateVersion,
        status: Option<TemplateVersionStatus>,
        description: Option<String>,
    ) -> Pending<TemplateVersionRecord> {
        self.submit(Command::UpdateEnvironmentTemplateVersion {
            template: name.clone(),
            version,
            status,
            description,
        })
        .map(version_of)
    }

    /// Deletes a template version under the recommended-version rules (nothing when it
    /// does not exist).
    pub fn delete_environment_template_version(
        &self,
        name: &TemplateName,
        version: TemplateVersion,
    ) -> Pending<()> {
        self.submit(Command::DeleteEnvironmentTemplateVersion {
            template: name.clone(),
            version,
        })
        .map(done)
    }
}
