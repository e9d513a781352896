//! Reads of Proton environment templates.

use std::ops::Bound;

use verso_domain::Rejection;
use verso_domain::projection::{ReadModel, TemplateRecord, TemplateVersionRecord};
use verso_domain::proton::{TemplateName, TemplateVersion};

use super::{Page, PageRequest, decode, encode_token};
use crate::error::{Outcome, Result};
use crate::log::{keys, schema};
use crate::store::Store;

impl Store {
    /// A live environment template.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` is the inner refusal.
    pub fn environment_template(&self, name: &TemplateName) -> Result<Outcome<TemplateRecord>> {
        let record: Option<TemplateRecord> = self.view().get(&keys::template(name))?;
        Ok(record
            .filter(TemplateRecord::is_live)
            .ok_or_else(|| Rejection::not_found("EnvironmentTemplate", name).into()))
    }

    /// Live environment templates in name order.
    ///
    /// # Errors
    /// Fail-stop errors; a bad page request is the inner refusal.
    pub fn environment_templates(
        &self,
        page: &PageRequest,
    ) -> Result<Outcome<Page<TemplateRecord>>> {
        let (size, token) = match page.parsed() {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let prefix = [schema::TEMPLATE];
        let start = match token {
            None => Bound::Included(prefix.to_vec()),
            Some(t) => Bound::Excluded([prefix.as_slice(), t.as_slice()].concat()),
        };
        let view = self.view();
        let mut items = Vec::new();
        let mut last_key = Vec::new();
        let mut more = false;
        for item in view.scan_range(&prefix, start, false) {
            let (key, value) = item?;
            let record: TemplateRecord = decode(&value)?;
            if !record.is_live() {
                continue;
            }
            if items.len() == size {
                more = true;
                break;
            }
            items.push(record);
            last_key = key;
        }
        let next_token =
            more.then(|| encode_token(last_key.get(prefix.len()..).unwrap_or_default()));
        Ok(Ok(Page { items, next_token }))
    }

    /// A live version of a live template.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (template or version) is the inner refusal.
    pub fn environment_template_version(
        &self,
        name: &TemplateName,
        version: TemplateVersion,
    ) -> Result<Outcome<TemplateVersionRecord>> {
        let template = match self.environment_template(name)? {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let record: Option<TemplateVersionRecord> =
            self.view()
                .get(&keys::template_version(name, template.generation, version))?;
        Ok(record.ok_or_else(|| {
            Rejection::not_found(
                "EnvironmentTemplateVersion",
                format_args!("{name} {version}"),
            )
            .into()
        }))
    }

    /// Every live version of a live template, in version order (at most a few thousand:
    /// the recommended versions and the per-major summaries are computed over them).
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` is the inner refusal.
    pub fn environment_template_versions(
        &self,
        name: &TemplateName,
    ) -> Result<Outcome<Vec<TemplateVersionRecord>>> {
        let template = match self.environment_template(name)? {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let view = self.view();
        let versions = view.template_versions(name, template.generation);
        if let Some(e) = view.take_error() {
            return Err(e);
        }
        Ok(Ok(versions))
    }
}
