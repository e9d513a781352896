//! Applications: Create, Get, List, Update, Delete.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::projection::ApplicationRecord;
use verso_storage::NewApplication;

use super::{AppState, application_id, committed, outcome, required};
use crate::wire::{self, ApiError, Labels, Operation, Query};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: Option<String>,
    description: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    name: Option<String>,
    description: Option<String>,
}

/// The `Application` shape.
pub(crate) fn to_json(record: &ApplicationRecord) -> Value {
    let mut m = Map::new();
    m.insert("Id".into(), json!(record.id.as_str()));
    m.insert("Name".into(), json!(record.name));
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    Value::Object(m)
}

pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateApplication;
    let input: CreateInput = wire::json_input(body, &headers).await?;
    let new = NewApplication {
        name: required(input.name, "Name")?,
        description: input.description,
        tags: input.tags.unwrap_or_default(),
    };
    let record = committed(OP, state.store_for(&headers).create_application(new)).await?;
    Ok(wire::json_response(StatusCode::CREATED, &to_json(&record)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetApplication;
    let id = application_id(&params)?;
    let record = outcome(OP, state.store.application(&id))?;
    Ok(wire::json_response(StatusCode::OK, &to_json(&record)))
}

pub(super) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListApplications;
    let page = Query::parse(uri.query())?.page()?;
    let page = outcome(OP, state.store.applications(&page))?;
    let items: Vec<Value> = page.items.iter().map(to_json).collect();
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
    const OP: Operation = Operation::UpdateApplication;
    let id = application_id(&params)?;
    let input: UpdateInput = wire::json_input(body, &headers).await?;
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .update_application(&id, input.name, input.description),
    )
    .await?;
    Ok(wire::json_response(StatusCode::OK, &to_json(&record)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteApplication;
    let id = application_id(&params)?;
    committed(OP, state.store_for(&headers).delete_application(&id)).await?;
    Ok(wire::no_content())
}
