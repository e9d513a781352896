//! Configuration profiles: Create, Get, List, Update, Delete.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::ValidatorKind;
use verso_domain::projection::ProfileRecord;
use verso_storage::{NewProfile, ProfileChanges, Store};

use super::{AppState, application_id, committed, outcome, profile_id, required};
use crate::wire::{self, ApiError, Labels, Operation, Query};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ValidatorInput {
    #[serde(rename = "Type")]
    kind: Option<String>,
    content: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: Option<String>,
    description: Option<String>,
    location_uri: Option<String>,
    retrieval_role_arn: Option<String>,
    validators: Option<Vec<ValidatorInput>>,
    tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "Type")]
    profile_type: Option<String>,
    kms_key_identifier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    name: Option<String>,
    description: Option<String>,
    retrieval_role_arn: Option<String>,
    validators: Option<Vec<ValidatorInput>>,
    kms_key_identifier: Option<String>,
}

/// The wire name of a validator kind.
pub(crate) const fn kind_name(kind: ValidatorKind) -> &'static str {
    match kind {
        ValidatorKind::JsonSchema => "JSON_SCHEMA",
        ValidatorKind::Lambda => "LAMBDA",
    }
}

fn validators(list: Vec<ValidatorInput>) -> Result<Vec<(ValidatorKind, String)>, ApiError> {
    list.into_iter()
        .map(|v| {
            let kind = match required(v.kind, "Validators.Type")?.as_str() {
                "JSON_SCHEMA" => ValidatorKind::JsonSchema,
                "LAMBDA" => ValidatorKind::Lambda,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "Validators.Type must be JSON_SCHEMA or LAMBDA, got {other:?}"
                    )));
                }
            };
            Ok((kind, required(v.content, "Validators.Content")?))
        })
        .collect()
}

/// The `ConfigurationProfile` shape, validators with their content.
fn to_json(op: Operation, store: &Store, record: &ProfileRecord) -> Result<Value, ApiError> {
    let mut m = Map::new();
    m.insert("ApplicationId".into(), json!(record.application.as_str()));
    m.insert("Id".into(), json!(record.id.as_str()));
    m.insert("Name".into(), json!(record.name));
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    m.insert("LocationUri".into(), json!(record.location_uri));
    if let Some(arn) = &record.retrieval_role_arn {
        m.insert("RetrievalRoleArn".into(), json!(arn));
    }
    if !record.validators.is_empty() {
        let mut list = Vec::with_capacity(record.validators.len());
        for v in &record.validators {
            let content = store
                .content(v.content.hash)
                .map_err(|e| ApiError::internal(op, &e))?
                .unwrap_or_default();
            list.push(json!({
                "Type": kind_name(v.kind),
                "Content": String::from_utf8_lossy(&content),
            }));
        }
        m.insert("Validators".into(), Value::Array(list));
    }
    if let Some(t) = &record.profile_type {
        m.insert("Type".into(), json!(t));
    }
    if let Some(k) = &record.kms_key_identifier {
        m.insert("KmsKeyIdentifier".into(), json!(k));
    }
    Ok(Value::Object(m))
}

/// The `ConfigurationProfileSummary` shape.
fn summary_json(record: &ProfileRecord) -> Value {
    let mut m = Map::new();
    m.insert("ApplicationId".into(), json!(record.application.as_str()));
    m.insert("Id".into(), json!(record.id.as_str()));
    m.insert("Name".into(), json!(record.name));
    m.insert("LocationUri".into(), json!(record.location_uri));
    let kinds: Vec<&str> = record
        .validators
        .iter()
        .map(|v| kind_name(v.kind))
        .collect();
    if !kinds.is_empty() {
        m.insert("ValidatorTypes".into(), json!(kinds));
    }
    if let Some(t) = &record.profile_type {
        m.insert("Type".into(), json!(t));
    }
    Value::Object(m)
}

pub(super) async fn create(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateConfigurationProfile;
    let application = application_id(&params)?;
    let input: CreateInput = wire::json_input(body, &headers).await?;
    let new = NewProfile {
        name: required(input.name, "Name")?,
        description: input.description,
        location_uri: required(input.location_uri, "LocationUri")?,
        retrieval_role_arn: input.retrieval_role_arn,
        validators: validators(input.validators.unwrap_or_default())?,
        profile_type: input.profile_type,
        kms_key_identifier: input.kms_key_identifier,
        tags: input.tags.unwrap_or_default(),
    };
    if new.location_uri.is_empty() {
        return Err(ApiError::bad_request(
            "LocationUri must be 1 to 2048 characters",
        ));
    }
    let record = committed(
        OP,
        state.store_for(&headers).create_profile(&application, new),
    )
    .await?;
    let body = to_json(OP, &state.store, &record)?;
    Ok(wire::json_response(StatusCode::CREATED, &body))
}

pub(super) async fn get(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetConfigurationProfile;
    let application = application_id(&params)?;
    let id = profile_id(&params)?;
    let record = outcome(OP, state.store.profile(&application, &id))?;
    let body = to_json(OP, &state.store, &record)?;
    Ok(wire::json_response(StatusCode::OK, &body))
}

pub(super) async fn list(
    State(state): State<AppState>,
    params: Labels,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListConfigurationProfiles;
    let application = application_id(&params)?;
    let query = Query::parse(uri.query())?;
    let page = query.page()?;
    let filter = query.get("type").map(str::to_owned);
    if let Some(t) = &filter {
        verso_domain::validate::profile_type(t).map_err(|r| ApiError::refused(OP, r.into()))?;
    }
    // The filter applies within each stored page, so a page may hold fewer items than
    // asked for; its NextToken still leads on (the SDKs follow tokens, not counts).
    let page = outcome(OP, state.store.profiles(&application, &page))?;
    let items: Vec<Value> = page
        .items
        .iter()
        .filter(|p| filter.is_none() || p.profile_type == filter)
        .map(summary_json)
        .collect();
    Ok(wire::json_response(
        StatusCode::OK,
        &super::list_json(items, page.next_token),
    ))
}

pub(super) async fn update(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::UpdateConfigurationProfile;
    let application = application_id(&params)?;
    let id = profile_id(&params)?;
    let input: UpdateInput = wire::json_input(body, &headers).await?;
    let changes = ProfileChanges {
        name: input.name,
        description: input.description,
        retrieval_role_arn: input.retrieval_role_arn,
        validators: input.validators.map(validators).transpose()?,
        kms_key_identifier: input.kms_key_identifier,
    };
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .update_profile(&application, &id, changes),
    )
    .await?;
    let body = to_json(OP, &state.store, &record)?;
    Ok(wire::json_response(StatusCode::OK, &body))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteConfigurationProfile;
    let application = application_id(&params)?;
    let id = profile_id(&params)?;
    deletion_protection_check(&headers)?;
    committed(
        OP,
        state.store_for(&headers).delete_profile(&application, &id),
    )
    .await?;
    Ok(wire::no_content())
}

/// The optional `x-amzn-deletion-protection-check` header: one of its three values.
/// Verso records no retrievals yet, so no delete is ever blocked by protection.
pub(crate) fn deletion_protection_check(headers: &HeaderMap) -> Result<(), ApiError> {
    match wire::header_text(headers, "x-amzn-deletion-protection-check")?.as_deref() {
        None | Some("ACCOUNT_DEFAULT" | "APPLY" | "BYPASS") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "DeletionProtectionCheck must be ACCOUNT_DEFAULT, APPLY or BYPASS, got {other:?}"
        ))),
    }
}
