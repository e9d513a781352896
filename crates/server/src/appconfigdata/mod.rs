//! AppConfigData (aws-api-surface.md §4): StartConfigurationSession and
//! GetLatestConfiguration, on the same listener as AppConfig, routed by path
//! (`/configurationsessions`, `/configuration`).
//!
//! Sessions record nothing in the log: a session is not a change to configuration
//! (docs/design/deployments.md, AppConfigData sessions). A token says everything about
//! its session and is sealed with a key kept in the data directory ([`token`]); the
//! single-use table ([`sessions`]) is the only state, saved periodically and at close.
//!
//! The fast path: a poll that finds nothing new reads no log record and copies no
//! content. It checks the token, looks the session's candidate deployments up in an
//! in-memory cache that is refreshed only when the log head has moved, evaluates the
//! live one at the store's clock, and, when that is what the client holds, answers an
//! empty body with the next token.

mod sessions;
mod token;

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use verso_domain::deployment::{live_deployment, rollout_bucket};
use verso_domain::projection::DeploymentRecord;
use verso_domain::{ApplicationId, Detail, EnvironmentId, ProfileId, RejectionKind, Timestamp};
use verso_storage::{Page, PageRequest, Refused, Store};

use crate::appconfig::AppState;
use crate::wire::{self, ApiError, ErrorType, Operation, Query};
use sessions::{Redeem, Sessions};
use token::{Claims, Held, POLL_INTERVAL_SECS, TokenKey, TokenProblem};

/// The poll interval of a session that asks for none (AWS's default).
const DEFAULT_POLL_INTERVAL_SECS: u32 = 60;

/// The directory, inside the store's, that holds the token key and the session table.
pub(crate) const DATA_DIR: &str = "appconfigdata";

/// The deployments that can decide what a session of one (application, environment,
/// profile) sees, as of one log head.
struct Candidates {
    head: u64,
    deployments: Arc<Vec<DeploymentRecord>>,
}

type CacheKey = (ApplicationId, EnvironmentId, ProfileId);

/// The data plane's state: the token key, the single-use table and the cache.
pub(crate) struct DataPlane {
    key: TokenKey,
    sessions: Sessions,
    enforce_poll_interval: bool,
    cache: Mutex<HashMap<CacheKey, Candidates>>,
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlane")
            .field("sessions", &self.sessions.len())
            .field("enforce_poll_interval", &self.enforce_poll_interval)
            .finish_non_exhaustive()
    }
}

impl DataPlane {
    /// Loads (or creates) the key and the session table under `store_dir`.
    pub(crate) fn open(store_dir: &Path, enforce_poll_interval: bool) -> io::Result<Self> {
        let dir = store_dir.join(DATA_DIR);
        Ok(Self {
            key: TokenKey::load_or_create(&dir)?,
            sessions: Sessions::load(&dir)?,
            enforce_poll_interval,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Saves the single-use table if it changed.
    pub(crate) fn save(&self, now: Timestamp) -> io::Result<()> {
        self.sessions.save(now)
    }

    /// The candidates for `key` as of the store's current head, from the cache when the
    /// head has not moved since they were read.
    fn candidates(
        &self,
        store: &Store,
        key: &CacheKey,
        now: Timestamp,
    ) -> Result<Arc<Vec<DeploymentRecord>>, ApiError> {
        // IMPORTANT: the head is read before the projections, so a write that lands in
        // between makes the cached entry look older than it is, never newer.
        let head = store.head().position;
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = cache.get(key)
                && c.head == head
            {
                return Ok(Arc::clone(&c.deployments));
            }
        }
        let (application, environment, profile) = key;
        let found = store.deployment_candidates(application, environment, profile, now);
        let deployments = Arc::new(data_outcome(Operation::GetLatestConfiguration, found)?);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert(
            key.clone(),
            Candidates {
                head,
                deployments: Arc::clone(&deployments),
            },
        );
        Ok(deployments)
    }
}

/// A store result as a data-plane operation reports it: not-found errors carry
/// `ResourceType` (AppConfigData's member) instead of AppConfig's `ResourceName`.
fn data_outcome<T>(
    op: Operation,
    result: verso_storage::Result<verso_storage::Outcome<T>>,
) -> Result<T, ApiError> {
    match result {
        Err(e) => Err(ApiError::internal(op, &e)),
        Ok(Err(Refused::Rejected(r))) if r.kind() == RejectionKind::NotFound => {
            let resource = match r.detail() {
                Detail::Resource { resource } => resource,
                _ => "Configuration",
            };
            Err(ApiError::data_not_found(resource, r.message()))
        }
        Ok(Err(refused)) => Err(ApiError::refused(op, refused)),
        Ok(Ok(value)) => Ok(value),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartInput {
    application_identifier: Option<String>,
    environment_identifier: Option<String>,
    configuration_profile_identifier: Option<String>,
    required_minimum_poll_interval_in_seconds: Option<i64>,
}

/// An identifier member: 1 to 128 characters.
fn identifier(value: Option<String>, member: &str) -> Result<String, ApiError> {
    let text = value.ok_or_else(|| ApiError::bad_request(format!("{member} is required")))?;
    if !(1..=128).contains(&text.chars().count()) {
        return Err(ApiError::bad_request(format!(
            "{member} must be 1 to 128 characters"
        )));
    }
    Ok(text)
}

/// Every page of a list, gathered (the lists searched here are bounded by quotas).
fn all_pages<T>(
    op: Operation,
    mut read: impl FnMut(&PageRequest) -> verso_storage::Result<verso_storage::Outcome<Page<T>>>,
) -> Result<Vec<T>, ApiError> {
    let mut page = PageRequest {
        max_results: Some(1000),
        next_token: None,
    };
    let mut all = Vec::new();
    loop {
        let got = data_outcome(op, read(&page))?;
        all.extend(got.items);
        match got.next_token {
            Some(t) => page.next_token = Some(t),
            None => return Ok(all),
        }
    }
}

/// An identifier as the caller gave it, and its reading as an id when it has that shape.
struct Lookup<'a, Id> {
    text: &'a str,
    resource: &'static str,
    id: Option<Id>,
}

/// The id `lookup` names: itself when a resource has that id, else the resource whose
/// name it is (a name may look like an id), else `ResourceNotFoundException`.
fn by_id_or_name<Id, R>(
    lookup: Lookup<'_, Id>,
    exists: impl Fn(&Id) -> bool,
    all: impl FnOnce() -> Result<Vec<R>, ApiError>,
    name_and_id: impl Fn(R) -> (String, Id),
) -> Result<Id, ApiError> {
    if let Some(id) = lookup.id.filter(|id| exists(id)) {
        return Ok(id);
    }
    all()?
        .into_iter()
        .map(name_and_id)
        .find(|(name, _)| name == lookup.text)
        .map(|(_, id)| id)
        .ok_or_else(|| {
            ApiError::data_not_found(
                lookup.resource,
                format!("{} {} not found", lookup.resource, lookup.text),
            )
        })
}

/// The application, environment and profile a session names, each by id or by name.
fn resolve(
    store: &Store,
    application: &str,
    environment: &str,
    profile: &str,
) -> Result<CacheKey, ApiError> {
    const OP: Operation = Operation::StartConfigurationSession;
    let app = by_id_or_name(
        Lookup {
            text: application,
            resource: "Application",
            id: ApplicationId::parse(application).ok(),
        },
        |id| matches!(store.application(id), Ok(Ok(_))),
        || all_pages(OP, |p| store.applications(p)),
        |a| (a.name, a.id),
    )?;
    let env = by_id_or_name(
        Lookup {
            text: environment,
            resource: "Environment",
            id: EnvironmentId::parse(environment).ok(),
        },
        |id| matches!(store.environment(&app, id), Ok(Ok(_))),
        || all_pages(OP, |p| store.environments(&app, p)),
        |e| (e.name, e.id),
    )?;
    let prof = by_id_or_name(
        Lookup {
            text: profile,
            resource: "ConfigurationProfile",
            id: ProfileId::parse(profile).ok(),
        },
        |id| matches!(store.profile(&app, id), Ok(Ok(_))),
        || all_pages(OP, |p| store.profiles(&app, p)),
        |c| (c.name, c.id),
    )?;
    Ok((app, env, prof))
}

pub(crate) async fn start_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::StartConfigurationSession;
    let input: StartInput = wire::json_input(body, &headers).await?;
    let application = identifier(input.application_identifier, "ApplicationIdentifier")?;
    let environment = identifier(input.environment_identifier, "EnvironmentIdentifier")?;
    let profile = identifier(
        input.configuration_profile_identifier,
        "ConfigurationProfileIdentifier",
    )?;
    let interval = match input.required_minimum_poll_interval_in_seconds {
        None => DEFAULT_POLL_INTERVAL_SECS,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| POLL_INTERVAL_SECS.contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "RequiredMinimumPollIntervalInSeconds must be from 15 to 86400, got {n}"
                ))
            })?,
    };
    let store = state.store.clone();
    let data = Arc::clone(&state.data);
    // Name lookups read sled: off the async workers.
    let token = tokio::task::spawn_blocking(move || {
        let (application, environment, profile) =
            resolve(&store, &application, &environment, &profile)?;
        let now = store.now();
        let session = *uuid::Uuid::new_v4().as_bytes();
        data.sessions.start(session, now);
        Ok::<_, ApiError>(data.key.seal(&Claims {
            session,
            application,
            environment,
            profile,
            poll_interval_secs: interval,
            held: None,
            issued_at: now,
            sequence: 0,
        }))
    })
    .await
    .map_err(|e| {
        tracing::error!(operation = OP.name(), error = %e, "session task failed");
        ApiError::new(
            ErrorType::InternalServer,
            "the server could not complete the request; see its log",
        )
    })??;
    Ok(wire::json_response(
        StatusCode::CREATED,
        &json!({ "InitialConfigurationToken": token }),
    ))
}

pub(crate) async fn get_latest(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::GetLatestConfiguration;
    let query = Query::parse(uri.query())?;
    let text = query
        .get("configuration_token")
        .ok_or_else(|| ApiError::bad_request("ConfigurationToken is required"))?;
    if text.is_empty() || text.len() > 8192 || text.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request(
            "ConfigurationToken must be 1 to 8192 non-space characters",
        ));
    }
    let store = &state.store;
    let data = &state.data;
    let now = store.now();
    let claims = data.key.open(text, now).map_err(|problem| {
        let message = match problem {
            TokenProblem::Corrupted => "the configuration token is not one this server issued",
            TokenProblem::Expired => "the configuration token expired (tokens live 24 hours)",
        };
        ApiError::invalid_parameter("ConfigurationToken", problem.as_str(), message)
    })?;
    let key = (
        claims.application.clone(),
        claims.environment.clone(),
        claims.profile.clone(),
    );
    let candidates = data.candidates(store, &key, now)?;
    let live = live_deployment(candidates.iter(), now, |number| {
        rollout_bucket(&claims.session, number)
    });
    let next_held = live.map(|d| Held {
        version: d.version,
        content: d.content.hash,
    });
    // New content to send, read before the token is spent.
    let changed = match live {
        Some(d) if next_held != claims.held => match store.content(d.content.hash) {
            Ok(Some(bytes)) => Some((d, bytes)),
            Ok(None) => {
                return Err(ApiError::internal(
                    OP,
                    &verso_storage::Error::Engine(format!(
                        "deployed content {} is not in the store",
                        d.content.hash
                    )),
                ));
            }
            Err(e) => return Err(ApiError::internal(OP, &e)),
        },
        _ => None,
    };
    // The token is spent only once the answer is known: a poll refused for a missing
    // environment or an internal error leaves it valid.
    match data
        .sessions
        .redeem_with(&claims, now, data.enforce_poll_interval)
    {
        Redeem::Ok => {}
        Redeem::Reused => {
            return Err(ApiError::invalid_parameter(
                "ConfigurationToken",
                TokenProblem::Expired.as_str(),
                "the configuration token was already used; poll with the NextPollConfigurationToken of the last call",
            ));
        }
        Redeem::TooEarly => {
            return Err(ApiError::invalid_parameter(
                "ConfigurationToken",
                "PollIntervalNotSatisfied",
                "Request too early: wait the session's poll interval between calls",
            ));
        }
    }
    let next = data.key.seal(&Claims {
        held: next_held,
        issued_at: now,
        sequence: claims.sequence + 1,
        ..claims.clone()
    });
    let mut response = match changed {
        Some((d, content)) => {
            let mut r = (StatusCode::OK, content).into_response();
            if let Some(v) = d
                .content_type
                .as_deref()
                .and_then(|t| HeaderValue::from_str(t).ok())
            {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            if let Some(v) = d
                .version_label
                .as_deref()
                .and_then(|l| HeaderValue::from_str(l).ok())
            {
                r.headers_mut().insert("Version-Label", v);
            }
            r
        }
        // The client holds the latest, or nothing is deployed: an empty body.
        None => StatusCode::OK.into_response(),
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&next) {
        headers.insert("Next-Poll-Configuration-Token", v);
    }
    headers.insert(
        "Next-Poll-Interval-In-Seconds",
        HeaderValue::from(claims.poll_interval_secs),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use verso_domain::{DeploymentStrategyId, VersionSelector};
    use verso_storage::{
        NewApplication, NewDeployment, NewEnvironment, NewHostedVersion, NewProfile,
    };

    use super::*;

    /// A store with one hosted version deployed AllAtOnce; returns the cache key.
    fn deployed(store: &Store) -> CacheKey {
        let app = store
            .create_application(NewApplication {
                name: "a".into(),
                ..Default::default()
            })
            .wait()
            .unwrap()
            .unwrap()
            .id;
        let profile = store
            .create_profile(
                &app,
                NewProfile {
                    name: "p".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap()
            .id;
        store
            .create_hosted_version(
                &app,
                &profile,
                NewHostedVersion {
                    content: b"{}".to_vec(),
                    content_type: "application/json".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap();
        let env = store
            .create_environment(
                &app,
                NewEnvironment {
                    name: "e".into(),
                    ..Default::default()
                },
            )
            .wait()
            .unwrap()
            .unwrap()
            .id;
        store
            .start_deployment(
                &app,
                &env,
                NewDeployment {
                    profile: profile.clone(),
                    version: VersionSelector::parse("1"),
                    strategy: DeploymentStrategyId::parse("AppConfig.AllAtOnce").unwrap(),
                    description: None,
                    kms_key_identifier: None,
                    tags: Default::default(),
                    latest_deployment_number: None,
                },
            )
            .wait()
            .unwrap()
            .unwrap();
        (app, env, profile)
    }

    #[test]
    fn an_unchanged_head_answers_from_the_cache_without_reading_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let key = deployed(&store);
        let data = DataPlane::open(dir.path(), true).unwrap();
        let now = store.now();
        let first = data.candidates(&store, &key, now).unwrap();
        let second = data.candidates(&store, &key, now).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second lookup must be the cached list, not a new read"
        );
        assert_eq!(first.len(), 1);
        // Any write moves the head: the next lookup reads the projections again.
        store
            .create_application(NewApplication {
                name: "b".into(),
                ..Default::default()
            })
            .wait()
            .unwrap()
            .unwrap();
        let third = data.candidates(&store, &key, now).unwrap();
        assert!(!Arc::ptr_eq(&second, &third));
        assert_eq!(*second, *third, "same deployments, read afresh");
        store.close().unwrap();
    }
}
