//! Environment templates and their versions: Create/Get/List/Delete EnvironmentTemplate,
//! Create/Get/List/Update/Delete EnvironmentTemplateVersion.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::projection::{TemplateRecord, TemplateVersionRecord};
use verso_domain::proton::{
    self, Provisioning, TemplateName, TemplateSource, TemplateVersion, TemplateVersionStatus,
};
use verso_storage::{NewTemplate, NewTemplateVersion, PageRequest};

use super::{input, respond};
use crate::appconfig::{AppState, committed, outcome};
use crate::wire::{ACCOUNT, ApiError, ErrorType, Operation, epoch_seconds, region};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tag {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTemplateInput {
    name: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    encryption_key: Option<String>,
    provisioning: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameInput {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct S3Input {
    bucket: Option<String>,
    key: Option<String>,
}

#[derive(Deserialize)]
struct SourceInput {
    s3: Option<S3Input>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateVersionInput {
    template_name: Option<String>,
    major_version: Option<String>,
    description: Option<String>,
    source: Option<SourceInput>,
    client_token: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionInput {
    template_name: Option<String>,
    major_version: Option<String>,
    minor_version: Option<String>,
    status: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListVersionsInput {
    template_name: Option<String>,
    major_version: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Runs `op` on its parsed input.
pub(super) async fn run(
    op: Operation,
    state: &AppState,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let region = region(headers);
    let store = state.store_for(headers);
    match op {
        Operation::CreateEnvironmentTemplate => {
            let i: CreateTemplateInput = input(bytes)?;
            let name = name(i.name, "name")?;
            let new = NewTemplate {
                display_name: i.display_name,
                description: i.description,
                encryption_key: i.encryption_key,
                provisioning: i
                    .provisioning
                    .as_deref()
                    .map(Provisioning::parse)
                    .transpose()
                    .map_err(|r| validation(r.message()))?,
                tags: tags(i.tags)?,
            };
            let record = committed(op, store.create_environment_template(&name, new)).await?;
            let json = template_json(state, op, &region, &record)?;
            Ok(respond(&json!({ "environmentTemplate": json })))
        }
        Operation::GetEnvironmentTemplate => {
            let i: NameInput = input(bytes)?;
            let name = name(i.name, "name")?;
            let record = outcome(op, state.store.environment_template(&name))?;
            let json = template_json(state, op, &region, &record)?;
            Ok(respond(&json!({ "environmentTemplate": json })))
        }
        Operation::ListEnvironmentTemplates => {
            let i: ListInput = input(bytes)?;
            let page = PageRequest {
                max_results: Some(max_results(i.max_results)?),
                next_token: next_token(i.next_token)?,
            };
            let page = outcome(op, state.store.environment_templates(&page))?;
            let mut items = Vec::new();
            for record in &page.items {
                items.push(template_json(state, op, &region, record)?);
            }
            let mut m = Map::new();
            m.insert("templates".into(), Value::Array(items));
            if let Some(t) = page.next_token {
                m.insert("nextToken".into(), json!(t));
            }
            Ok(respond(&Value::Object(m)))
        }
        Operation::DeleteEnvironmentTemplate => {
            let i: NameInput = input(bytes)?;
            let name = name(i.name, "name")?;
            let deleted = committed(op, store.delete_environment_template(&name)).await?;
            Ok(respond(&match deleted {
                Some(record) => {
                    json!({ "environmentTemplate": plain_template_json(&region, &record, None) })
                }
                None => json!({}),
            }))
        }
        Operation::CreateEnvironmentTemplateVersion => {
            let i: CreateVersionInput = input(bytes)?;
            let template = name(i.template_name, "templateName")?;
            let major = match i.major_version.as_deref() {
                None => None,
                Some(text) => Some(part("majorVersion", text)?.ok_or_else(|| {
                    ApiError::new(
                        ErrorType::ResourceNotFound,
                        format!("template {template} has no major version {text}"),
                    )
                })?),
            };
            let s3 = i
                .source
                .and_then(|s| s.s3)
                .ok_or_else(|| validation("source.s3 is required"))?;
            let new = NewTemplateVersion {
                major,
                description: i.description,
                source: TemplateSource {
                    bucket: s3
                        .bucket
                        .ok_or_else(|| validation("source.s3.bucket is required"))?,
                    key: s3
                        .key
                        .ok_or_else(|| validation("source.s3.key is required"))?,
                },
                tags: tags(i.tags)?,
                client_token: i.client_token.filter(|t| !t.is_empty()),
            };
            let (record, appended) = committed(
                op,
                store.create_environment_template_version(&template, new),
            )
            .await?;
            let mut json = version_json(state, op, &region, &record)?;
            // A new version's answer shows it as of its creation, before its
            // registration (docs/design/connect-proton.md); every read after it sees
            // DRAFT. A replayed clientToken answers with the version as it is now.
            if appended {
                json["status"] = json!(TemplateVersionStatus::RegistrationInProgress.as_str());
            }
            Ok(respond(&json!({ "environmentTemplateVersion": json })))
        }
        Operation::GetEnvironmentTemplateVersion => {
            let i: VersionInput = input(bytes)?;
            let template = name(i.template_name, "templateName")?;
            let version = version(i.major_version, i.minor_version)?
                .ok_or_else(|| not_found_version(&template))?;
            let record = outcome(
                op,
                state.store.environment_template_version(&template, version),
            )?;
            let json = version_json(state, op, &region, &record)?;
            Ok(respond(&json!({ "environmentTemplateVersion": json })))
        }
        Operation::ListEnvironmentTemplateVersions => {
            let i: ListVersionsInput = input(bytes)?;
            let template = name(i.template_name, "templateName")?;
            let page = PageRequest {
                max_results: Some(max_results(i.max_results)?),
                next_token: next_token(i.next_token)?,
            };
            let major = match i.major_version.as_deref() {
                None => None,
                Some(text) => Some(part("majorVersion", text)?),
            };
            let record = outcome(op, state.store.environment_template(&template))?;
            let page = match major {
                // A major beyond u64 has no versions.
                Some(None) => verso_storage::Page {
                    items: Vec::new(),
                    next_token: None,
                },
                Some(Some(m)) => outcome(op, state.store.template_minors(&template, m, &page))?,
                None => outcome(op, state.store.template_majors(&template, &page))?,
            };
            let mut items = Vec::new();
            for r in &page.items {
                let (_, minor) = state
                    .store
                    .template_recommended(&record, Some(r.version.major))
                    .map_err(|e| ApiError::internal(op, &e))?;
                items.push(plain_version_json(&region, r, minor));
            }
            let mut m = Map::new();
            m.insert("templateVersions".into(), Value::Array(items));
            if let Some(t) = page.next_token {
                m.insert("nextToken".into(), json!(t));
            }
            Ok(respond(&Value::Object(m)))
        }
        Operation::UpdateEnvironmentTemplateVersion => {
            let i: VersionInput = input(bytes)?;
            let template = name(i.template_name, "templateName")?;
            let version = version(i.major_version, i.minor_version)?
                .ok_or_else(|| not_found_version(&template))?;
            let status = i
                .status
                .as_deref()
                .map(TemplateVersionStatus::parse)
                .transpose()
                .map_err(|r| validation(r.message()))?;
            let record = committed(
                op,
                store.update_environment_template_version(
                    &template,
                    version,
                    status,
                    i.description,
                ),
            )
            .await?;
            let json = version_json(state, op, &region, &record)?;
            Ok(respond(&json!({ "environmentTemplateVersion": json })))
        }
        Operation::DeleteEnvironmentTemplateVersion => {
            let i: VersionInput = input(bytes)?;
            let template = name(i.template_name, "templateName")?;
            // A version beyond u64 does not exist: deleted already.
            let Some(version) = version(i.major_version, i.minor_version)? else {
                return Ok(respond(&json!({})));
            };
            let before = match state.store.environment_template_version(&template, version) {
                Ok(Ok(record)) => Some(version_json(state, op, &region, &record)?),
                Ok(Err(_)) => None,
                Err(e) => return Err(ApiError::internal(op, &e)),
            };
            committed(
                op,
                store.delete_environment_template_version(&template, version),
            )
            .await?;
            Ok(respond(&match before {
                Some(json) => json!({ "environmentTemplateVersion": json }),
                None => json!({}),
            }))
        }
        _ => Err(ApiError::new(
            ErrorType::UnknownOperation,
            format!("{} is not a Proton operation", op.name()),
        )),
    }
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorType::Validation, message)
}

fn not_found_version(template: &TemplateName) -> ApiError {
    ApiError::new(
        ErrorType::ResourceNotFound,
        format!("template {template} has no such version"),
    )
}

fn name(text: Option<String>, field: &'static str) -> Result<TemplateName, ApiError> {
    let text = text.ok_or_else(|| validation(format!("{field} is required")))?;
    TemplateName::parse(field, &text).map_err(|r| validation(r.message()))
}

fn part(field: &'static str, text: &str) -> Result<Option<u64>, ApiError> {
    proton::version_part(field, text).map_err(|r| validation(r.message()))
}

/// `majorVersion` and `minorVersion`, both required; `None` when either is beyond u64
/// (no such version can exist).
fn version(
    major: Option<String>,
    minor: Option<String>,
) -> Result<Option<TemplateVersion>, ApiError> {
    let major = major.ok_or_else(|| validation("majorVersion is required"))?;
    let minor = minor.ok_or_else(|| validation("minorVersion is required"))?;
    Ok(
        match (part("majorVersion", &major)?, part("minorVersion", &minor)?) {
            (Some(major), Some(minor)) => Some(TemplateVersion { major, minor }),
            _ => None,
        },
    )
}

/// Proton's list of `{"key","value"}` tags as a map; a repeated key is refused.
fn tags(list: Option<Vec<Tag>>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut map = BTreeMap::new();
    for tag in list.unwrap_or_default() {
        let key = tag.key.ok_or_else(|| validation("tags: key is required"))?;
        let value = tag
            .value
            .ok_or_else(|| validation("tags: value is required"))?;
        if map.insert(key.clone(), value).is_some() {
            return Err(validation(format!("tags: key {key:?} is given twice")));
        }
    }
    Ok(map)
}

fn max_results(value: Option<i64>) -> Result<u32, ApiError> {
    match value {
        None => Ok(100),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| validation(format!("maxResults {n} is outside 1..100"))),
    }
}

fn next_token(value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(t) if t.is_empty() => Err(validation("nextToken must not be empty")),
        other => Ok(other),
    }
}

fn template_arn(region: &str, name: &TemplateName) -> String {
    format!("arn:aws:proton:{region}:{ACCOUNT}:environment-template/{name}")
}

/// The `EnvironmentTemplate` shape with its recommended version.
fn template_json(
    state: &AppState,
    op: Operation,
    region: &str,
    record: &TemplateRecord,
) -> Result<Value, ApiError> {
    let (best, _) = state
        .store
        .template_recommended(record, None)
        .map_err(|e| ApiError::internal(op, &e))?;
    Ok(plain_template_json(region, record, best))
}

fn plain_template_json(
    region: &str,
    record: &TemplateRecord,
    recommended: Option<TemplateVersion>,
) -> Value {
    let mut m = Map::new();
    m.insert("arn".into(), json!(template_arn(region, &record.name)));
    m.insert("name".into(), json!(record.name.as_str()));
    m.insert("createdAt".into(), epoch_seconds(record.created_at));
    m.insert("lastModifiedAt".into(), epoch_seconds(record.created_at));
    if let Some(d) = &record.display_name {
        m.insert("displayName".into(), json!(d));
    }
    if let Some(d) = &record.description {
        m.insert("description".into(), json!(d));
    }
    if let Some(k) = &record.encryption_key {
        m.insert("encryptionKey".into(), json!(k));
    }
    if let Some(p) = record.provisioning {
        m.insert("provisioning".into(), json!(p.as_str()));
    }
    if let Some(v) = recommended {
        m.insert("recommendedVersion".into(), json!(v.to_string()));
    }
    Value::Object(m)
}

/// The `EnvironmentTemplateVersion` shape with its major's recommended minor.
fn version_json(
    state: &AppState,
    op: Operation,
    region: &str,
    record: &TemplateVersionRecord,
) -> Result<Value, ApiError> {
    let template = outcome(op, state.store.environment_template(&record.template))?;
    let (_, minor) = state
        .store
        .template_recommended(&template, Some(record.version.major))
        .map_err(|e| ApiError::internal(op, &e))?;
    Ok(plain_version_json(region, record, minor))
}

fn plain_version_json(
    region: &str,
    record: &TemplateVersionRecord,
    recommended_minor: Option<u64>,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "arn".into(),
        json!(format!(
            "{}:{}",
            template_arn(region, &record.template),
            record.version
        )),
    );
    m.insert("templateName".into(), json!(record.template.as_str()));
    m.insert(
        "majorVersion".into(),
        json!(record.version.major.to_string()),
    );
    m.insert(
        "minorVersion".into(),
        json!(record.version.minor.to_string()),
    );
    m.insert("status".into(), json!(record.status.as_str()));
    if let Some(s) = &record.status_message {
        m.insert("statusMessage".into(), json!(s));
    }
    if let Some(d) = &record.description {
        m.insert("description".into(), json!(d));
    }
    if let Some(minor) = recommended_minor {
        m.insert("recommendedMinorVersion".into(), json!(minor.to_string()));
    }
    m.insert("createdAt".into(), epoch_seconds(record.created_at));
    m.insert("lastModifiedAt".into(), epoch_seconds(record.modified_at));
    Value::Object(m)
}
