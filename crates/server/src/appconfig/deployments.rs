//! Deployments: Start, Get, List, Stop (aws-api-surface.md §3, Deployments). A
//! deployment's state, percentage, completion and event log are evaluated at the
//! store's clock when the response is built (docs/design/deployments.md).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::deployment::DeploymentStatus;
use verso_domain::projection::DeploymentRecord;
use verso_domain::{DeploymentStrategyId, ProfileId, Timestamp, VersionSelector};
use verso_storage::NewDeployment;

use super::environments::environment_id;
use super::{AppState, application_id, committed, outcome, required};
use crate::wire::{self, ApiError, Labels, Operation, Query};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartInput {
    deployment_strategy_id: Option<String>,
    configuration_profile_id: Option<String>,
    configuration_version: Option<String>,
    description: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    kms_key_identifier: Option<String>,
    dynamic_extension_parameters: Option<BTreeMap<String, String>>,
    latest_deployment_number: Option<i64>,
}

/// An ISO 8601 timestamp in UTC with milliseconds, as AppConfig writes them
/// (`2024-05-01T12:00:00.000Z`).
pub(crate) fn iso8601(t: Timestamp) -> String {
    let ms = t.as_millis();
    let at = if ms >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    };
    humantime::format_rfc3339_millis(at).to_string()
}

/// The members `Deployment` and `DeploymentSummary` share.
fn common(record: &DeploymentRecord, status: &DeploymentStatus) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("DeploymentNumber".into(), json!(record.number));
    m.insert(
        "ConfigurationProfileId".into(),
        json!(record.profile.as_str()),
    );
    m.insert("ConfigurationName".into(), json!(record.configuration_name));
    m.insert(
        "ConfigurationVersion".into(),
        json!(record.version.get().to_string()),
    );
    let s = &record.schedule;
    m.insert(
        "DeploymentDurationInMinutes".into(),
        json!(s.deployment_duration_in_minutes),
    );
    m.insert("GrowthType".into(), json!(s.growth_type.as_str()));
    m.insert("GrowthFactor".into(), json!(s.growth_factor.get()));
    m.insert(
        "FinalBakeTimeInMinutes".into(),
        json!(s.final_bake_time_in_minutes),
    );
    m.insert("State".into(), json!(status.state.as_str()));
    m.insert(
        "PercentageComplete".into(),
        json!(status.percentage_complete),
    );
    m.insert("StartedAt".into(), json!(iso8601(record.started_at)));
    if let Some(at) = status.completed_at {
        m.insert("CompletedAt".into(), json!(iso8601(at)));
    }
    if let Some(label) = &record.version_label {
        m.insert("VersionLabel".into(), json!(label));
    }
    m
}

/// The `Deployment` shape at `now`.
fn to_json(record: &DeploymentRecord, now: Timestamp) -> Value {
    let status = record.status_at(now);
    let mut m = common(record, &status);
    m.insert("ApplicationId".into(), json!(record.application.as_str()));
    m.insert("EnvironmentId".into(), json!(record.environment.as_str()));
    m.insert(
        "DeploymentStrategyId".into(),
        json!(record.strategy.as_str()),
    );
    m.insert(
        "ConfigurationLocationUri".into(),
        json!(record.location_uri),
    );
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(k) = &record.kms_key_identifier {
        m.insert("KmsKeyIdentifier".into(), json!(k));
    }
    let log: Vec<Value> = status
        .event_log
        .iter()
        .map(|e| {
            json!({
                "EventType": e.event_type.as_str(),
                "TriggeredBy": e.triggered_by.as_str(),
                "Description": e.description,
                "OccurredAt": iso8601(e.occurred_at),
            })
        })
        .collect();
    m.insert("EventLog".into(), Value::Array(log));
    Value::Object(m)
}

/// The `DeploymentSummary` shape at `now`.
fn summary_json(record: &DeploymentRecord, now: Timestamp) -> Value {
    let status = record.status_at(now);
    let mut m = common(record, &status);
    m.insert("Type".into(), json!("USER"));
    Value::Object(m)
}

/// The `{DeploymentNumber}` label. A number no deployment can have names none.
fn deployment_number(params: &Labels) -> Result<u32, ApiError> {
    let n = wire::integer_label(params, "DeploymentNumber")?;
    u32::try_from(n)
        .map_err(|_| ApiError::not_found("Deployment", format!("Deployment {n} not found")))
}

/// `DynamicExtensionParameters`: checked against the model (1 to 10 entries, keys
/// `<extension>#<parameter>`, values 1 to 2048 characters). Verso runs no extensions, so
/// they are not kept.
fn check_extension_parameters(params: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if params.is_empty() || params.len() > 10 {
        return Err(ApiError::bad_request(
            "DynamicExtensionParameters must have 1 to 10 entries",
        ));
    }
    for (key, value) in params {
        let well_formed = key.split_once('#').is_some_and(|(ext, param)| {
            let ext_len = ext.chars().count();
            let param_len = param.chars().count();
            (1..=96).contains(&ext_len)
                && (1..=64).contains(&param_len)
                && !ext.contains('\n')
                && !param.contains(['#', '/', '\n'])
        });
        if !well_formed {
            return Err(ApiError::bad_request(format!(
                "DynamicExtensionParameters key {key:?} is not <extension>#<parameter>"
            )));
        }
        if !(1..=2048).contains(&value.chars().count()) {
            return Err(ApiError::bad_request(format!(
                "DynamicExtensionParameters value of {key:?} must be 1 to 2048 characters"
            )));
        }
    }
    Ok(())
}

/// Runs the profile's validators on the version to deploy, as AWS does when a deployment
/// starts: a failure is `BadRequestException` with `Reason` `InvalidConfiguration`.
/// Returns the selector to submit: a label is pinned to the number that was validated,
/// so a label moved to a newer version meanwhile cannot deploy that version unchecked.
/// Anything not found is left to the kernel, which refuses it with the right error.
fn validate_before_deploying(
    state: &AppState,
    application: &verso_domain::ApplicationId,
    profile_id: &ProfileId,
    selector: VersionSelector,
) -> Result<VersionSelector, ApiError> {
    const OP: Operation = Operation::StartDeployment;
    let Ok(Ok(profile)) = state.store.profile(application, profile_id) else {
        return Ok(selector);
    };
    if profile.validators.is_empty() {
        return Ok(selector);
    }
    let version = match &selector {
        VersionSelector::Number(n) => state.store.hosted_version(application, profile_id, n.get()),
        VersionSelector::Label(label) => {
            state
                .store
                .hosted_version_by_label(application, profile_id, label)
        }
    };
    let Ok(Ok(version)) = version else {
        return Ok(selector);
    };
    let details =
        super::hosted_versions::validation_details(&state.store, OP, &profile, &version.content)?;
    if details.is_empty() {
        return Ok(VersionSelector::Number(version.record.version));
    }
    Err(ApiError::invalid_configuration(
        format!(
            "version {} of configuration profile {profile_id} failed validation; nothing was deployed",
            version.record.version
        ),
        details,
    ))
}

pub(super) async fn start(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::StartDeployment;
    let application = application_id(&params)?;
    let environment = environment_id(&params)?;
    let input: StartInput = wire::json_input(body, &headers).await?;
    let strategy_text = required(input.deployment_strategy_id, "DeploymentStrategyId")?;
    let strategy = DeploymentStrategyId::parse(&strategy_text).map_err(|_| {
        ApiError::bad_request(format!(
            "DeploymentStrategyId {strategy_text:?} is not a deployment strategy id"
        ))
    })?;
    let profile_text = required(input.configuration_profile_id, "ConfigurationProfileId")?;
    if !(1..=128).contains(&profile_text.chars().count()) {
        return Err(ApiError::bad_request(
            "ConfigurationProfileId must be 1 to 128 characters",
        ));
    }
    let profile = ProfileId::parse(&profile_text).map_err(|_| {
        ApiError::not_found(
            "ConfigurationProfile",
            format!("ConfigurationProfile {profile_text} not found"),
        )
    })?;
    let version = required(input.configuration_version, "ConfigurationVersion")?;
    if !(1..=1024).contains(&version.chars().count()) {
        return Err(ApiError::bad_request(
            "ConfigurationVersion must be 1 to 1024 characters",
        ));
    }
    if let Some(p) = &input.dynamic_extension_parameters {
        check_extension_parameters(p)?;
    }
    let latest_deployment_number = input
        .latest_deployment_number
        .map(|n| {
            u32::try_from(n).map_err(|_| {
                ApiError::bad_request(format!(
                    "LatestDeploymentNumber must be a deployment number, got {n}"
                ))
            })
        })
        .transpose()?;
    let selector = validate_before_deploying(
        &state,
        &application,
        &profile,
        VersionSelector::parse(&version),
    )?;
    let new = NewDeployment {
        profile,
        version: selector,
        strategy,
        description: input.description,
        kms_key_identifier: input.kms_key_identifier,
        tags: input.tags.unwrap_or_default(),
        latest_deployment_number,
    };
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .start_deployment(&application, &environment, new),
    )
    .await?;
    Ok(wire::json_response(
        StatusCode::CREATED,
        &to_json(&record, record.started_at),
    ))
}

pub(super) async fn get(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetDeployment;
    let application = application_id(&params)?;
    let environment = environment_id(&params)?;
    let number = deployment_number(&params)?;
    let record = outcome(
        OP,
        state.store.deployment(&application, &environment, number),
    )?;
    Ok(wire::json_response(
        StatusCode::OK,
        &to_json(&record, state.store.now()),
    ))
}

pub(super) async fn list(
    State(state): State<AppState>,
    params: Labels,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListDeployments;
    let application = application_id(&params)?;
    let environment = environment_id(&params)?;
    let page = Query::parse(uri.query())?.page()?;
    let page = outcome(
        OP,
        state.store.deployments(&application, &environment, &page),
    )?;
    let now = state.store.now();
    let items = page.items.iter().map(|d| summary_json(d, now)).collect();
    Ok(wire::json_response(
        StatusCode::OK,
        &super::list_json(items, page.next_token),
    ))
}

pub(super) async fn stop(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::StopDeployment;
    let application = application_id(&params)?;
    let environment = environment_id(&params)?;
    let number = deployment_number(&params)?;
    let allow_revert = match wire::header_text(&headers, "Allow-Revert")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Allow-Revert must be true or false, got {other:?}"
            )));
        }
    };
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .stop_deployment(&application, &environment, number, allow_revert),
    )
    .await?;
    let at = record.stopped.map_or(record.started_at, |s| s.at);
    Ok(wire::json_response(
        StatusCode::ACCEPTED,
        &to_json(&record, at),
    ))
}
