//! Hosted configuration versions: Create, Get, List, Delete; and ValidateConfiguration.
//!
//! Create and Get carry the content as the raw HTTP body and every other member as a
//! header (aws-api-surface.md, CreateHostedConfigurationVersion).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use verso_domain::ValidatorKind;
use verso_domain::projection::VersionRecord;
use verso_storage::NewHostedVersion;

use super::{AppState, application_id, committed, outcome, profile_id};
use crate::schema;
use crate::wire::{self, ApiError, BodyError, Labels, Operation, Query};

/// The `HostedConfigurationVersion` output: metadata headers and the raw content.
fn version_response(status: StatusCode, record: &VersionRecord, content: Vec<u8>) -> Response {
    let mut response = (status, content).into_response();
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    // The hosted queries only return versions of hosted streams.
    if let verso_domain::StreamId::HostedConfiguration {
        application,
        profile,
    } = &record.stream
    {
        put("application-id", application.as_str());
        put("configuration-profile-id", profile.as_str());
    }
    put("version-number", &record.version.to_string());
    if let Some(d) = &record.description {
        put("description", d);
    }
    if let Some(l) = &record.label {
        put("versionlabel", l);
    }
    match &record.content_type {
        Some(t) => put("content-type", t),
        None => {
            headers.remove(header::CONTENT_TYPE);
        }
    }
    response
}

/// The `HostedConfigurationVersionSummary` shape.
fn summary_json(record: &VersionRecord) -> Value {
    let mut m = Map::new();
    if let verso_domain::StreamId::HostedConfiguration {
        application,
        profile,
    } = &record.stream
    {
        m.insert("ApplicationId".into(), json!(application.as_str()));
        m.insert("ConfigurationProfileId".into(), json!(profile.as_str()));
    }
    m.insert("VersionNumber".into(), json!(record.version.get()));
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(t) = &record.content_type {
        m.insert("ContentType".into(), json!(t));
    }
    if let Some(l) = &record.label {
        m.insert("VersionLabel".into(), json!(l));
    }
    Value::Object(m)
}

pub(super) async fn create(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateHostedConfigurationVersion;
    let application = application_id(&params)?;
    let profile = profile_id(&params)?;
    let content_type = wire::header_text(&headers, "content-type")?.ok_or_else(|| {
        ApiError::bad_request("ContentType (the Content-Type header) is required")
    })?;
    let description = wire::header_text(&headers, "description")?;
    let label = wire::header_text(&headers, "versionlabel")?;
    let latest_version_number = match wire::header_text(&headers, "latest-version-number")? {
        None => None,
        Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "LatestVersionNumber must be a non-negative integer, got {text:?}"
            ))
        })?),
    };
    let limit = state.store.limits().max_content_bytes;
    let content =
        match wire::read_body(body, &headers, usize::try_from(limit).unwrap_or(usize::MAX)).await {
            Ok(bytes) => bytes.to_vec(),
            Err(BodyError::TooLarge { limit, size }) => {
                return Err(ApiError::payload_too_large(
                    limit,
                    size,
                    format!("the content is {size} bytes, over the limit of {limit} bytes"),
                ));
            }
            Err(BodyError::Broken(e)) => {
                return Err(ApiError::bad_request(format!(
                    "the request body could not be read: {e}"
                )));
            }
        };
    let new = NewHostedVersion {
        content: content.clone(),
        content_type,
        description,
        label,
        latest_version_number,
    };
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .create_hosted_version(&application, &profile, new),
    )
    .await?;
    Ok(version_response(StatusCode::CREATED, &record, content))
}

pub(super) async fn get(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetHostedConfigurationVersion;
    let application = application_id(&params)?;
    let profile = profile_id(&params)?;
    let number = wire::integer_label(&params, "VersionNumber")?;
    let version = outcome(
        OP,
        state.store.hosted_version(&application, &profile, number),
    )?;
    Ok(version_response(
        StatusCode::OK,
        &version.record,
        version.content,
    ))
}

pub(super) async fn list(
    State(state): State<AppState>,
    params: Labels,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListHostedConfigurationVersions;
    let application = application_id(&params)?;
    let profile = profile_id(&params)?;
    let query = Query::parse(uri.query())?;
    let page = query.page()?;
    let label = query.get("version_label");
    if let Some(l) = label {
        let len = l.chars().count();
        if !(1..=64).contains(&len) {
            return Err(ApiError::bad_request(format!(
                "VersionLabel must be 1 to 64 characters, got {len}"
            )));
        }
    }
    let page = outcome(
        OP,
        state
            .store
            .hosted_versions(&application, &profile, label, &page),
    )?;
    let items = page.items.iter().map(summary_json).collect();
    Ok(wire::json_response(
        StatusCode::OK,
        &super::list_json(items, page.next_token),
    ))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteHostedConfigurationVersion;
    let application = application_id(&params)?;
    let profile = profile_id(&params)?;
    let number = wire::integer_label(&params, "VersionNumber")?;
    committed(
        OP,
        state
            .store_for(&headers)
            .delete_hosted_version(&application, &profile, number),
    )
    .await?;
    Ok(wire::no_content())
}

/// ValidateConfiguration: runs the profile's JSON Schema validators over a hosted
/// version (`configuration_version`: its number, or a label naming the newest live
/// version carrying it). Lambda validators are stored but cannot run here, so a profile
/// with one never validates; the details say so.
pub(super) async fn validate(
    State(state): State<AppState>,
    params: Labels,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ValidateConfiguration;
    let application = application_id(&params)?;
    let profile_id = profile_id(&params)?;
    let query = Query::parse(uri.query())?;
    let wanted = query
        .get("configuration_version")
        .ok_or_else(|| ApiError::bad_request("ConfigurationVersion is required"))?;
    let len = wanted.chars().count();
    if !(1..=1024).contains(&len) {
        return Err(ApiError::bad_request(format!(
            "ConfigurationVersion must be 1 to 1024 characters, got {len}"
        )));
    }
    let profile = outcome(OP, state.store.profile(&application, &profile_id))?;
    let version = match wanted.parse::<u64>() {
        Ok(number) => state
            .store
            .hosted_version(&application, &profile_id, number),
        Err(_) => state
            .store
            .hosted_version_by_label(&application, &profile_id, wanted),
    };
    let version = outcome(OP, version)?;
    let details = validation_details(&state.store, OP, &profile, &version.content)?;
    if details.is_empty() {
        Ok(wire::no_content())
    } else {
        Err(ApiError::invalid_configuration(
            format!(
                "version {} of configuration profile {profile_id} failed validation",
                version.record.version
            ),
            details,
        ))
    }
}

/// What the profile's validators find wrong with `content`, as
/// `InvalidConfigurationDetail`s (empty when it passes). JSON Schema validators run; a
/// Lambda validator cannot, and says so in a detail.
pub(super) fn validation_details(
    store: &verso_storage::Store,
    op: Operation,
    profile: &verso_domain::projection::ProfileRecord,
    content: &[u8],
) -> Result<Vec<serde_json::Value>, ApiError> {
    let mut details = Vec::new();
    for validator in &profile.validators {
        let text = store
            .content(validator.content.hash)
            .map_err(|e| ApiError::internal(op, &e))?
            .unwrap_or_default();
        match validator.kind {
            ValidatorKind::JsonSchema => {
                details.extend(schema::check(&text, content));
            }
            ValidatorKind::Lambda => details.push(json!({
                "Type": "LAMBDA",
                "Constraint": "Lambda",
                "Location": String::from_utf8_lossy(&text),
                "Reason": "Lambda validators are stored but Verso cannot run them",
            })),
        }
    }
    Ok(details)
}
