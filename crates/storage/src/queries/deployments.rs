//! Reads of deployments. A deployment's status is evaluated by the caller at the time it
//! chooses ([`DeploymentRecord::status_at`]); [`Store::now`] is the store's clock.

use std::ops::Bound;

use verso_domain::deployment::DeploymentState;
use verso_domain::projection::DeploymentRecord;
use verso_domain::{ApplicationId, EnvironmentId, ProfileId, Rejection, Timestamp};

use super::{Page, PageRequest, decode, encode_token};
use crate::error::{Outcome, Refused, Result};
use crate::log::keys;
use crate::projections::overlay::Overlay;
use crate::store::Store;

/// `Ok(None)` when the application and the environment exist, else the refusal.
fn missing_environment(
    view: &Overlay<'_>,
    application: &ApplicationId,
    environment: &EnvironmentId,
) -> Result<Option<Refused>> {
    if view.application_checked(application)?.is_none() {
        return Ok(Some(
            Rejection::not_found("Application", application).into(),
        ));
    }
    if view
        .environment_checked(application, environment)?
        .is_none()
    {
        return Ok(Some(
            Rejection::not_found("Environment", environment).into(),
        ));
    }
    Ok(None)
}

impl Store {
    /// Deployment `number` of an environment.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (application, environment or deployment) is the
    /// inner refusal.
    pub fn deployment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        number: u32,
    ) -> Result<Outcome<DeploymentRecord>> {
        let view = self.view();
        if let Some(refused) = missing_environment(&view, application, environment)? {
            return Ok(Err(refused));
        }
        Ok(view
            .get(&keys::deployment(application, environment, number))?
            .ok_or_else(|| Rejection::not_found("Deployment", number).into()))
    }

    /// An environment's deployments, newest first.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` and bad page requests are the inner refusal.
    pub fn deployments(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        page: &PageRequest,
    ) -> Result<Outcome<Page<DeploymentRecord>>> {
        let (size, token) = match page.parsed() {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let view = self.view();
        if let Some(refused) = missing_environment(&view, application, environment)? {
            return Ok(Err(refused));
        }
        let prefix = keys::deployment_prefix(application, environment);
        let end = match token {
            None => keys::prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded),
            Some(t) => match <[u8; 4]>::try_from(t.as_slice()) {
                Ok(raw) => Bound::Excluded(keys::deployment(
                    application,
                    environment,
                    u32::from_be_bytes(raw),
                )),
                Err(_) => {
                    return Ok(Err(Rejection::invalid(
                        "NextToken",
                        "is not a token this store issued",
                    )
                    .into()));
                }
            },
        };
        let mut items = Vec::new();
        let mut more = false;
        for item in view.scan_between(Bound::Included(prefix), end, true) {
            let (_, value) = item?;
            if items.len() == size {
                more = true;
                break;
            }
            items.push(decode::<DeploymentRecord>(&value)?);
        }
        let next_token = more
            .then(|| {
                items
                    .last()
                    .map(|d: &DeploymentRecord| encode_token(&d.number.to_be_bytes()))
            })
            .flatten();
        Ok(Ok(Page { items, next_token }))
    }

    /// The deployments of `profile` to an environment that can decide what a session
    /// sees at `at`, newest first: every one down to and including the newest that is
    /// COMPLETE at `at` (older ones are hidden behind it until a later event). Give the
    /// result to [`verso_domain::deployment::live_deployment`].
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (application or environment) is the inner refusal.
    pub fn deployment_candidates(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        profile: &ProfileId,
        at: Timestamp,
    ) -> Result<Outcome<Vec<DeploymentRecord>>> {
        let view = self.view();
        if let Some(refused) = missing_environment(&view, application, environment)? {
            return Ok(Err(refused));
        }
        let mut candidates = Vec::new();
        for item in view.scan(&keys::deployment_prefix(application, environment), true) {
            let (_, value) = item?;
            let record = decode::<DeploymentRecord>(&value)?;
            if record.profile != *profile {
                continue;
            }
            let complete = record.state_at(at).0 == DeploymentState::Complete;
            candidates.push(record);
            if complete {
                break;
            }
        }
        Ok(Ok(candidates))
    }
}
