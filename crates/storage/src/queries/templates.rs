//! Reads of Proton environment templates.

use std::ops::Bound;

use verso_domain::projection::{ProtonRead, TemplateRecord, TemplateVersionRecord, VersionRecord};
use verso_domain::proton::{TemplateName, TemplateVersion};
use verso_domain::{Rejection, StreamId, StreamVersion};

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

    /// Every live version of a live template, in version order.
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
        let mut versions = Vec::new();
        for item in view.scan(
            &keys::template_version_prefix(name, template.generation),
            false,
        ) {
            versions.push(decode(&item?.1)?);
        }
        Ok(Ok(versions))
    }

    /// A template generation's recommended version (its highest published one) and the
    /// recommended minor of `major`, when asked: reverse seeks in the published index.
    ///
    /// # Errors
    /// Fail-stop errors.
    pub fn template_recommended(
        &self,
        template: &TemplateRecord,
        major: Option<u64>,
    ) -> Result<(Option<TemplateVersion>, Option<u64>)> {
        let view = self.view();
        let best = view.recommended_version(&template.name, template.generation);
        let minor =
            major.and_then(|m| view.recommended_minor(&template.name, template.generation, m));
        match view.take_error() {
            Some(e) => Err(e),
            None => Ok((best, minor)),
        }
    }

    /// A page of the live minors of `major`, ascending; the token is the last minor
    /// listed. Reads only the page: one range scan.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (template) and bad page requests are the inner
    /// refusal.
    pub fn template_minors(
        &self,
        name: &TemplateName,
        major: u64,
        page: &PageRequest,
    ) -> Result<Outcome<Page<TemplateVersionRecord>>> {
        let (size, after) = match page_after(page) {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let template = match self.environment_template(name)? {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let mut prefix = keys::template_version_prefix(name, template.generation);
        prefix.extend_from_slice(&major.to_be_bytes());
        let start = match after {
            Some(minor) => Bound::Excluded(keys::template_version(
                name,
                template.generation,
                TemplateVersion { major, minor },
            )),
            None => Bound::Included(prefix.clone()),
        };
        let view = self.view();
        let mut items: Vec<TemplateVersionRecord> = Vec::new();
        let mut more = false;
        for item in view.scan_range(&prefix, start, false) {
            let (_, value) = item?;
            if items.len() == size {
                more = true;
                break;
            }
            items.push(decode(&value)?);
        }
        let next_token = more
            .then(|| {
                items
                    .last()
                    .map(|r| encode_token(&r.version.minor.to_be_bytes()))
            })
            .flatten();
        Ok(Ok(Page { items, next_token }))
    }

    /// A page of one summary per live major, ascending: each major's recommended minor if
    /// it has one, else its highest minor. The token is the last major listed. Reads a
    /// few keys per major listed.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (template) and bad page requests are the inner
    /// refusal.
    pub fn template_majors(
        &self,
        name: &TemplateName,
        page: &PageRequest,
    ) -> Result<Outcome<Page<TemplateVersionRecord>>> {
        let (size, after) = match page_after(page) {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let template = match self.environment_template(name)? {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let generation = template.generation;
        let majors = StreamId::template(name, generation);
        let prefix = keys::version_prefix(&majors);
        let start = match after {
            Some(major) => Bound::Excluded(keys::version(&majors, StreamVersion::new(major))),
            None => Bound::Included(prefix.clone()),
        };
        let view = self.view();
        let mut items: Vec<TemplateVersionRecord> = Vec::new();
        let mut more = false;
        for item in view.scan_range(&prefix, start, false) {
            let record: VersionRecord = decode(&item?.1)?;
            if !record.is_live() {
                continue;
            }
            if items.len() == size {
                more = true;
                break;
            }
            let major = record.version.get();
            let mut minors = keys::template_version_prefix(name, generation);
            minors.extend_from_slice(&major.to_be_bytes());
            let minor = match view.recommended_minor(name, generation, major) {
                Some(m) => Some(m),
                None => match view.scan(&minors, true).next() {
                    Some(entry) => keys::trailing_template_version(&entry?.0).map(|v| v.minor),
                    None => None,
                },
            };
            if let Some(e) = view.take_error() {
                return Err(e);
            }
            let Some(minor) = minor else { continue };
            let version = TemplateVersion { major, minor };
            if let Some(r) = view.get(&keys::template_version(name, generation, version))? {
                items.push(r);
            }
        }
        let next_token = more
            .then(|| {
                items
                    .last()
                    .map(|r| encode_token(&r.version.major.to_be_bytes()))
            })
            .flatten();
        Ok(Ok(Page { items, next_token }))
    }
}

/// The page size and the number (a minor or a major) the page starts after.
fn page_after(page: &PageRequest) -> Outcome<(usize, Option<u64>)> {
    let (size, token) = page.parsed()?;
    let after = match token {
        None => None,
        Some(t) => Some(u64::from_be_bytes(
            <[u8; 8]>::try_from(t.as_slice())
                .map_err(|_| Rejection::invalid("nextToken", "is not a token this store issued"))?,
        )),
    };
    Ok((size, after))
}
