//! Reads of environments, deployment strategies and tags.

use std::collections::BTreeMap;
use std::ops::Bound;

use verso_domain::projection::{DeploymentStrategyRecord, EnvironmentRecord};
use verso_domain::{
    ApplicationId, DeploymentStrategyId, EnvironmentId, Rejection, TaggedResource,
    predefined_strategies, predefined_strategy,
};

use super::{Page, PageRequest, decode, encode_token, page_in_key_order};
use crate::error::{Outcome, Refused, Result};
use crate::log::{keys, schema};
use crate::projections::overlay::Overlay;
use crate::store::Store;
use verso_domain::projection::AppConfigRead;

/// First byte of a strategy list token whose last item was a predefined strategy; the
/// second byte is its index in [`predefined_strategies`].
const AFTER_PREDEFINED: u8 = b'p';
/// First byte of a strategy list token whose last item was a user strategy; its id
/// follows.
const AFTER_USER: u8 = b'u';

fn bad_token() -> Refused {
    Refused::Rejected(Rejection::invalid(
        "NextToken",
        "is not a token this store issued",
    ))
}

fn missing_application(view: &Overlay<'_>, application: &ApplicationId) -> Result<Option<Refused>> {
    Ok(view
        .application_checked(application)?
        .is_none()
        .then(|| Rejection::not_found("Application", application).into()))
}

impl Store {
    /// An environment.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` (application or environment) is the inner refusal.
    pub fn environment(
        &self,
        application: &ApplicationId,
        id: &EnvironmentId,
    ) -> Result<Outcome<EnvironmentRecord>> {
        let view = self.view();
        if let Some(refused) = missing_application(&view, application)? {
            return Ok(Err(refused));
        }
        match view.environment_checked(application, id)? {
            None => Ok(Err(Rejection::not_found("Environment", id).into())),
            Some(record) => Ok(Ok(self.with_state(&view, record)?)),
        }
    }

    /// `record` with its state at the store's clock: the state its latest deployment
    /// gives it then (docs/design/deployments.md). The stored record never changes
    /// with time, so its own `state` is always `ReadyForDeployment`.
    fn with_state(
        &self,
        view: &Overlay<'_>,
        mut record: EnvironmentRecord,
    ) -> Result<EnvironmentRecord> {
        let latest = view.latest_deployment(&record.application, &record.id);
        if let Some(e) = view.take_error() {
            return Err(e);
        }
        if let Some(d) = latest {
            record.state = d.state_at(self.now()).0.environment_state();
        }
        Ok(record)
    }

    /// An application's environments in id order.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` and bad page requests are the inner refusal.
    pub fn environments(
        &self,
        application: &ApplicationId,
        page: &PageRequest,
    ) -> Result<Outcome<Page<EnvironmentRecord>>> {
        let view = self.view();
        if let Some(refused) = missing_application(&view, application)? {
            return Ok(Err(refused));
        }
        let page: Page<EnvironmentRecord> =
            match page_in_key_order(&view, &keys::environment_prefix(application), page)? {
                Ok(page) => page,
                Err(refused) => return Ok(Err(refused)),
            };
        let items = page
            .items
            .into_iter()
            .map(|record| self.with_state(&view, record))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ok(Page {
            items,
            next_token: page.next_token,
        }))
    }

    /// A deployment strategy: one of AppConfig's predefined ones or a user's.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` is the inner refusal.
    pub fn deployment_strategy(
        &self,
        id: &DeploymentStrategyId,
    ) -> Result<Outcome<DeploymentStrategyRecord>> {
        if let Some(record) = predefined_strategy(id) {
            return Ok(Ok(record));
        }
        Ok(self
            .view()
            .deployment_strategy_checked(id)?
            .ok_or_else(|| Rejection::not_found("DeploymentStrategy", id).into()))
    }

    /// Every deployment strategy: AppConfig's predefined ones first (in the order of
    /// [`predefined_strategies`], with `created` position 0), then the users' in id
    /// order. A page may end, and its token resume, on either side of that boundary.
    ///
    /// # Errors
    /// Fail-stop errors; a bad page request is the inner refusal.
    pub fn deployment_strategies(
        &self,
        page: &PageRequest,
    ) -> Result<Outcome<Page<DeploymentStrategyRecord>>> {
        let (size, token) = match page.parsed() {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let predefined = predefined_strategies();
        let prefix = vec![schema::DEPLOYMENT_STRATEGY];
        // Where to resume: the first predefined index, and where the user part starts.
        let (first_predefined, user_start) = match token.as_deref().map(<[u8]>::split_first) {
            None => (0, Bound::Included(prefix.clone())),
            Some(Some((&AFTER_PREDEFINED, &[index]))) if usize::from(index) < predefined.len() => {
                (usize::from(index) + 1, Bound::Included(prefix.clone()))
            }
            Some(Some((&AFTER_USER, id))) if !id.is_empty() => (
                predefined.len(),
                Bound::Excluded([prefix.as_slice(), id].concat()),
            ),
            Some(_) => return Ok(Err(bad_token())),
        };
        let mut items = Vec::new();
        let mut last = Vec::new();
        let mut more = false;
        for (index, record) in predefined.into_iter().enumerate().skip(first_predefined) {
            if items.len() == size {
                more = true;
                break;
            }
            let index = u8::try_from(index).unwrap_or(u8::MAX);
            last = vec![AFTER_PREDEFINED, index];
            items.push(record);
        }
        if !more {
            let view = self.view();
            for item in view.scan_range(&prefix, user_start, false) {
                let (key, value) = item?;
                if items.len() == size {
                    more = true;
                    break;
                }
                items.push(decode::<DeploymentStrategyRecord>(&value)?);
                last = [&[AFTER_USER], key.get(prefix.len()..).unwrap_or_default()].concat();
            }
        }
        let next_token = more.then(|| encode_token(&last));
        Ok(Ok(Page { items, next_token }))
    }

    /// The tags of a resource; an empty map for a predefined deployment strategy.
    ///
    /// # Errors
    /// Fail-stop errors; `NotFound` naming the missing resource (its application first) is
    /// the inner refusal.
    pub fn tags(&self, resource: &TaggedResource) -> Result<Outcome<BTreeMap<String, String>>> {
        let view = self.view();
        let kind = resource.resource_type();
        let tags = match resource {
            TaggedResource::Application(id) => view
                .application_checked(id)?
                .map(|r| r.tags)
                .ok_or_else(|| Rejection::not_found(kind, id)),
            TaggedResource::Profile {
                application,
                profile,
            } => {
                if let Some(refused) = missing_application(&view, application)? {
                    return Ok(Err(refused));
                }
                view.profile_checked(application, profile)?
                    .map(|r| r.tags)
                    .ok_or_else(|| Rejection::not_found(kind, profile))
            }
            TaggedResource::Environment {
                application,
                environment,
            } => {
                if let Some(refused) = missing_application(&view, application)? {
                    return Ok(Err(refused));
                }
                view.environment_checked(application, environment)?
                    .map(|r| r.tags)
                    .ok_or_else(|| Rejection::not_found(kind, environment))
            }
            TaggedResource::DeploymentStrategy(id) if predefined_strategy(id).is_some() => {
                Ok(BTreeMap::new())
            }
            TaggedResource::DeploymentStrategy(id) => view
                .deployment_strategy_checked(id)?
                .map(|r| r.tags)
                .ok_or_else(|| Rejection::not_found(kind, id)),
            other => Err(Rejection::invalid(
                "ResourceArn",
                format!("{other} cannot carry tags in this store"),
            )),
        };
        Ok(tags.map_err(Refused::from))
    }
}
