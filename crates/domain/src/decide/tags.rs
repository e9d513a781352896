//! Tags on applications, configuration profiles, environments and user deployment
//! strategies. A change records the whole map after it; a command that changes nothing
//! appends nothing.

use std::collections::BTreeMap;

use super::environments::existing_environment;
use super::strategies::user_strategy;
use super::{Decision, existing_application, existing_profile};
use crate::event::{Event, TaggedResource};
use crate::projection::ReadModel;
use crate::rejection::Rejection;
use crate::validate;

pub(super) fn tag<R: ReadModel + ?Sized>(
    state: &R,
    resource: &TaggedResource,
    tags: &BTreeMap<String, String>,
) -> Result<Decision, Rejection> {
    // The request's own keys and values first, so a bad tag is a 400 before a 404.
    validate::tags(tags)?;
    let current = current_tags(state, resource)?;
    let mut after = current.clone();
    after.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    changed(resource, &current, after)
}

pub(super) fn untag<R: ReadModel + ?Sized>(
    state: &R,
    resource: &TaggedResource,
    keys: &[String],
) -> Result<Decision, Rejection> {
    validate::tag_keys(keys)?;
    let current = current_tags(state, resource)?;
    let mut after = current.clone();
    for key in keys {
        after.remove(key);
    }
    changed(resource, &current, after)
}

/// `TagsChanged` with `after` (checked: at most 50 tags), or nothing when it equals
/// `current`.
fn changed(
    resource: &TaggedResource,
    current: &BTreeMap<String, String>,
    after: BTreeMap<String, String>,
) -> Result<Decision, Rejection> {
    if after == *current {
        return Ok(Decision::nothing());
    }
    Decision::validated(Event::TagsChanged {
        resource: resource.clone(),
        tags: after,
    })
}

/// The tags of an existing resource that can carry tags. `NotFound` names the missing
/// resource (its application first); a predefined strategy is `Invalid` on
/// `ResourceArn`.
pub(crate) fn current_tags<R: ReadModel + ?Sized>(
    state: &R,
    resource: &TaggedResource,
) -> Result<BTreeMap<String, String>, Rejection> {
    Ok(match resource {
        TaggedResource::Application(id) => existing_application(state, id)?.into_owned().tags,
        TaggedResource::Profile {
            application,
            profile,
        } => {
            existing_profile(state, application, profile)?
                .into_owned()
                .tags
        }
        TaggedResource::Environment {
            application,
            environment,
        } => existing_environment(state, application, environment)?.tags,
        TaggedResource::DeploymentStrategy(id) => user_strategy(state, id, "ResourceArn")?.tags,
    })
}
