//! Deployment strategies: Create, Get, List, Update, Delete. AWS's predefined
//! `AppConfig.*` strategies are listed first and can be read, not changed.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::projection::DeploymentStrategyRecord;
use verso_domain::{DeploymentStrategyId, GrowthType, ReplicateTo};
use verso_storage::{DeploymentStrategyChanges, NewDeploymentStrategy};

use super::{AppState, committed, outcome, required};
use crate::wire::{self, ApiError, Labels, Operation, Query};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: Option<String>,
    description: Option<String>,
    deployment_duration_in_minutes: Option<i64>,
    final_bake_time_in_minutes: Option<i64>,
    growth_factor: Option<f32>,
    growth_type: Option<String>,
    replicate_to: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    description: Option<String>,
    deployment_duration_in_minutes: Option<i64>,
    final_bake_time_in_minutes: Option<i64>,
    growth_factor: Option<f32>,
    growth_type: Option<String>,
}

/// A minutes member: 0 to 1440.
fn minutes(value: Option<i64>, member: &str) -> Result<Option<u32>, ApiError> {
    value
        .map(|v| {
            u32::try_from(v).ok().filter(|m| *m <= 1440).ok_or_else(|| {
                ApiError::bad_request(format!("{member} must be 0 to 1440, got {v}"))
            })
        })
        .transpose()
}

fn growth_type(op: Operation, text: Option<String>) -> Result<Option<GrowthType>, ApiError> {
    text.map(|t| GrowthType::parse(&t).map_err(|r| ApiError::refused(op, r.into())))
        .transpose()
}

/// The `{DeploymentStrategyId}` label: a 4-7 character id or `AppConfig.*`.
fn strategy_id(params: &Labels) -> Result<DeploymentStrategyId, ApiError> {
    let text = wire::label(params, "DeploymentStrategyId")?;
    DeploymentStrategyId::parse(&text).map_err(|r| ApiError::bad_request(r.message()))
}

/// The `DeploymentStrategy` shape.
fn to_json(record: &DeploymentStrategyRecord) -> Value {
    let mut m = Map::new();
    m.insert("Id".into(), json!(record.id.as_str()));
    m.insert("Name".into(), json!(record.name));
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    m.insert(
        "DeploymentDurationInMinutes".into(),
        json!(record.deployment_duration_in_minutes),
    );
    m.insert("GrowthType".into(), json!(record.growth_type.as_str()));
    m.insert("GrowthFactor".into(), json!(record.growth_factor.get()));
    m.insert(
        "FinalBakeTimeInMinutes".into(),
        json!(record.final_bake_time_in_minutes),
    );
    m.insert("ReplicateTo".into(), json!(record.replicate_to.as_str()));
    Value::Object(m)
}

pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateDeploymentStrategy;
    let input: CreateInput = wire::json_input(body, &headers).await?;
    let replicate_to = input
        .replicate_to
        .map(|t| ReplicateTo::parse(&t).map_err(|r| ApiError::refused(OP, r.into())))
        .transpose()?;
    let new = NewDeploymentStrategy {
        name: required(input.name, "Name")?,
        description: input.description,
        deployment_duration_in_minutes: required(
            minutes(
                input.deployment_duration_in_minutes,
                "DeploymentDurationInMinutes",
            )?,
            "DeploymentDurationInMinutes",
        )?,
        final_bake_time_in_minutes: minutes(
            input.final_bake_time_in_minutes,
            "FinalBakeTimeInMinutes",
        )?,
        growth_factor: required(input.growth_factor, "GrowthFactor")?,
        growth_type: growth_type(OP, input.growth_type)?,
        replicate_to,
        tags: input.tags.unwrap_or_default(),
    };
    let record = committed(
        OP,
        state.store_for(&headers).create_deployment_strategy(new),
    )
    .await?;
    Ok(wire::json_response(StatusCode::CREATED, &to_json(&record)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetDeploymentStrategy;
    let id = strategy_id(&params)?;
    let record = outcome(OP, state.store.deployment_strategy(&id))?;
    Ok(wire::json_response(StatusCode::OK, &to_json(&record)))
}

pub(super) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListDeploymentStrategies;
    let page = Query::parse(uri.query())?.page()?;
    let page = outcome(OP, state.store.deployment_strategies(&page))?;
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
    const OP: Operation = Operation::UpdateDeploymentStrategy;
    let id = strategy_id(&params)?;
    let input: UpdateInput = wire::json_input(body, &headers).await?;
    let changes = DeploymentStrategyChanges {
        description: input.description,
        deployment_duration_in_minutes: minutes(
            input.deployment_duration_in_minutes,
            "DeploymentDurationInMinutes",
        )?,
        final_bake_time_in_minutes: minutes(
            input.final_bake_time_in_minutes,
            "FinalBakeTimeInMinutes",
        )?,
        growth_factor: input.growth_factor,
        growth_type: growth_type(OP, input.growth_type)?,
    };
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .update_deployment_strategy(&id, changes),
    )
    .await?;
    Ok(wire::json_response(StatusCode::OK, &to_json(&record)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteDeploymentStrategy;
    let id = strategy_id(&params)?;
    committed(
        OP,
        state.store_for(&headers).delete_deployment_strategy(&id),
    )
    .await?;
    Ok(wire::no_content())
}
