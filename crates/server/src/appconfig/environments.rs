//! Environments: Create, Get, List, Update, Delete.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::projection::EnvironmentRecord;
use verso_domain::{EnvironmentId, Monitor};
use verso_storage::{EnvironmentChanges, NewEnvironment};

use super::{AppState, application_id, committed, outcome, required};
use crate::wire::{self, ApiError, Labels, Operation, Query};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MonitorInput {
    alarm_arn: Option<String>,
    alarm_role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: Option<String>,
    description: Option<String>,
    monitors: Option<Vec<MonitorInput>>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    name: Option<String>,
    description: Option<String>,
    monitors: Option<Vec<MonitorInput>>,
}

fn monitors(list: Vec<MonitorInput>) -> Result<Vec<Monitor>, ApiError> {
    list.into_iter()
        .map(|m| {
            Ok(Monitor {
                alarm_arn: required(m.alarm_arn, "Monitors.AlarmArn")?,
                alarm_role_arn: m.alarm_role_arn,
            })
        })
        .collect()
}

/// The `{EnvironmentId}` label (1..64).
pub(super) fn environment_id(params: &Labels) -> Result<EnvironmentId, ApiError> {
    let text = wire::name_label(params, "EnvironmentId", 64)?;
    EnvironmentId::parse(&text)
        .map_err(|_| ApiError::not_found("Environment", format!("environment {text} not found")))
}

/// The `Environment` shape.
fn to_json(record: &EnvironmentRecord) -> Value {
    let mut m = Map::new();
    m.insert("ApplicationId".into(), json!(record.application.as_str()));
    m.insert("Id".into(), json!(record.id.as_str()));
    m.insert("Name".into(), json!(record.name));
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    m.insert("State".into(), json!(record.state.as_str()));
    if !record.monitors.is_empty() {
        let list: Vec<Value> = record
            .monitors
            .iter()
            .map(|mon| {
                let mut o = Map::new();
                o.insert("AlarmArn".into(), json!(mon.alarm_arn));
                if let Some(role) = &mon.alarm_role_arn {
                    o.insert("AlarmRoleArn".into(), json!(role));
                }
                Value::Object(o)
            })
            .collect();
        m.insert("Monitors".into(), Value::Array(list));
    }
    Value::Object(m)
}

pub(super) async fn create(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateEnvironment;
    let application = application_id(&params)?;
    let input: CreateInput = wire::json_input(body, &headers).await?;
    let new = NewEnvironment {
        name: required(input.name, "Name")?,
        description: input.description,
        monitors: monitors(input.monitors.unwrap_or_default())?,
        tags: input.tags.unwrap_or_default(),
    };
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .create_environment(&application, new),
    )
    .await?;
    Ok(wire::json_response(StatusCode::CREATED, &to_json(&record)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetEnvironment;
    let application = application_id(&params)?;
    let id = environment_id(&params)?;
    let record = outcome(OP, state.store.environment(&application, &id))?;
    Ok(wire::json_response(StatusCode::OK, &to_json(&record)))
}

pub(super) async fn list(
    State(state): State<AppState>,
    params: Labels,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListEnvironments;
    let application = application_id(&params)?;
    let page = Query::parse(uri.query())?.page()?;
    let page = outcome(OP, state.store.environments(&application, &page))?;
    let items = page.items.iter().map(to_json).collect();
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
    const OP: Operation = Operation::UpdateEnvironment;
    let application = application_id(&params)?;
    let id = environment_id(&params)?;
    let input: UpdateInput = wire::json_input(body, &headers).await?;
    let changes = EnvironmentChanges {
        name: input.name,
        description: input.description,
        monitors: input.monitors.map(monitors).transpose()?,
    };
    committed(
        OP,
        state
            .store_for(&headers)
            .update_environment(&application, &id, changes),
    )
    .await?;
    // Read it back: the state comes from its deployments at the store's clock.
    let record = outcome(OP, state.store.environment(&application, &id))?;
    Ok(wire::json_response(StatusCode::OK, &to_json(&record)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteEnvironment;
    let application = application_id(&params)?;
    let id = environment_id(&params)?;
    super::profiles::deletion_protection_check(&headers)?;
    committed(
        OP,
        state
            .store_for(&headers)
            .delete_environment(&application, &id),
    )
    .await?;
    Ok(wire::no_content())
}
