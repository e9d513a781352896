//! The AppConfig control plane (aws-api-surface.md §3): one file per resource, each
//! handler a thin adapter from the wire to a typed store call and back.

mod applications;
pub(crate) mod deployments;
mod environments;
mod hosted_versions;
mod profiles;
mod strategies;
mod tags;

use std::future::Future;

use axum::Router;

use axum::http::HeaderMap;
use axum::routing::{delete, get, post};
use verso_domain::{ApplicationId, ProfileId};
use verso_storage::{Outcome, Store};

use crate::wire::{self, ApiError, Labels, Operation};

/// What every handler shares: the store and the data plane's state. Cloning it is cheap
/// (two `Arc`s).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store every operation reads and writes.
    pub store: Store,
    /// AppConfigData: the token key, the single-use table, the live-version cache.
    pub(crate) data: std::sync::Arc<crate::appconfigdata::DataPlane>,
}

impl AppState {
    /// The store handle for one request: writes record the request's signer as actor.
    pub(crate) fn store_for(&self, headers: &HeaderMap) -> Store {
        match wire::actor(headers) {
            Some(actor) => self.store.with_actor(actor),
            None => self.store.clone(),
        }
    }
}

/// Every AppConfig route. Paths and methods are the model's, typos included
/// (`/deployementstrategies/` for DeleteDeploymentStrategy).
pub(crate) fn routes() -> Router<AppState> {
    const PROFILE: &str =
        "/applications/{ApplicationId}/configurationprofiles/{ConfigurationProfileId}";
    Router::new()
        .route(
            "/applications",
            get(applications::list).post(applications::create),
        )
        .route(
            "/applications/{ApplicationId}",
            get(applications::get)
                .patch(applications::update)
                .delete(applications::delete),
        )
        .route(
            "/applications/{ApplicationId}/configurationprofiles",
            get(profiles::list).post(profiles::create),
        )
        .route(
            PROFILE,
            get(profiles::get)
                .patch(profiles::update)
                .delete(profiles::delete),
        )
        .route(
            &format!("{PROFILE}/hostedconfigurationversions"),
            get(hosted_versions::list).post(hosted_versions::create),
        )
        .route(
            &format!("{PROFILE}/hostedconfigurationversions/{{VersionNumber}}"),
            get(hosted_versions::get).delete(hosted_versions::delete),
        )
        .route(
            &format!("{PROFILE}/validators"),
            post(hosted_versions::validate),
        )
        .route(
            "/applications/{ApplicationId}/environments",
            get(environments::list).post(environments::create),
        )
        .route(
            "/applications/{ApplicationId}/environments/{EnvironmentId}",
            get(environments::get)
                .patch(environments::update)
                .delete(environments::delete),
        )
        .route(
            "/applications/{ApplicationId}/environments/{EnvironmentId}/deployments",
            get(deployments::list).post(deployments::start),
        )
        .route(
            "/applications/{ApplicationId}/environments/{EnvironmentId}/deployments/{DeploymentNumber}",
            get(deployments::get).delete(deployments::stop),
        )
        .route(
            "/deploymentstrategies",
            get(strategies::list).post(strategies::create),
        )
        .route(
            "/deploymentstrategies/{DeploymentStrategyId}",
            get(strategies::get).patch(strategies::update),
        )
        .route(
            "/deployementstrategies/{DeploymentStrategyId}",
            delete(strategies::delete),
        )
        .route(
            "/tags/{ResourceArn}",
            get(tags::list).post(tags::tag).delete(tags::untag),
        )
}

/// The `{ApplicationId}` label. Input ids are only length-checked by AWS (1..64); one
/// that cannot be an id names no application.
fn application_id(params: &Labels) -> Result<ApplicationId, ApiError> {
    let text = wire::name_label(params, "ApplicationId", 64)?;
    ApplicationId::parse(&text)
        .map_err(|_| ApiError::not_found("Application", format!("application {text} not found")))
}

/// The `{ConfigurationProfileId}` label (1..128).
fn profile_id(params: &Labels) -> Result<ProfileId, ApiError> {
    let text = wire::name_label(params, "ConfigurationProfileId", 128)?;
    ProfileId::parse(&text).map_err(|_| {
        ApiError::not_found(
            "ConfigurationProfile",
            format!("configuration profile {text} not found"),
        )
    })
}

/// A store result as `op` reports it.
pub(crate) fn outcome<T>(
    op: Operation,
    result: verso_storage::Result<Outcome<T>>,
) -> Result<T, ApiError> {
    match result {
        Err(e) => Err(ApiError::internal(op, &e)),
        Ok(Err(refused)) => Err(ApiError::refused(op, refused)),
        Ok(Ok(value)) => Ok(value),
    }
}

/// Waits for a write and reports it as `op`.
pub(crate) async fn committed<T>(
    op: Operation,
    pending: impl Future<Output = verso_storage::Result<Outcome<T>>>,
) -> Result<T, ApiError> {
    outcome(op, pending.await)
}

/// A required input member.
fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::bad_request(format!("{member} is required")))
}

/// A list output: `Items`, and `NextToken` only when there is a next page (§2.4).
fn list_json(items: Vec<serde_json::Value>, next_token: Option<String>) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("Items".into(), serde_json::Value::Array(items));
    if let Some(token) = next_token {
        m.insert("NextToken".into(), serde_json::Value::String(token));
    }
    serde_json::Value::Object(m)
}
