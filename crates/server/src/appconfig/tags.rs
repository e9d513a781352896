//! TagResource, UntagResource, ListTagsForResource, on resources named by ARN:
//! `arn:<partition>:appconfig:<region>:<account>:application/<id>`, with
//! `/configurationprofile/<id>` or `/environment/<id>` after it, or
//! `deploymentstrategy/<id>`. Region and account are not checked against anything:
//! Verso is one account in one region.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use verso_domain::{ApplicationId, DeploymentStrategyId, EnvironmentId, ProfileId, TaggedResource};

use super::{AppState, committed, outcome, required};
use crate::wire::{self, ApiError, Labels, Operation, Query};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// Whether `arn` has the model's shape: `arn:(aws[a-zA-Z-]*)?:[a-z]+:<region>?:(\d{12})?:`
/// followed by `[a-zA-Z0-9-_/:.]+`, 20 to 2048 characters.
fn well_formed(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    (20..=2048).contains(&arn.len())
        && (partition.is_empty()
            || partition
                .strip_prefix("aws")
                .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')))
        && !service.is_empty()
        && service.bytes().all(|b| b.is_ascii_lowercase())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && (account.is_empty()
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && !resource.is_empty()
        && resource
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/:.".contains(&b))
}

/// The resource an ARN names.
fn resource(params: &Labels) -> Result<TaggedResource, ApiError> {
    let arn = wire::label(params, "ResourceArn")?;
    if !well_formed(&arn) {
        return Err(ApiError::bad_request(format!(
            "ResourceArn {arn:?} is not a well-formed ARN"
        )));
    }
    let not_found = || ApiError::not_found("Resource", format!("resource {arn} not found"));
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or_default();
    let path = parts.nth(2).unwrap_or_default();
    if service != "appconfig" {
        return Err(not_found());
    }
    let segments: Vec<&str> = path.split('/').collect();
    let app = |s: &str| ApplicationId::parse(s).map_err(|_| not_found());
    match segments.as_slice() {
        ["application", a] => Ok(TaggedResource::Application(app(a)?)),
        ["application", a, "configurationprofile", p] => Ok(TaggedResource::Profile {
            application: app(a)?,
            profile: ProfileId::parse(p).map_err(|_| not_found())?,
        }),
        ["application", a, "environment", e] => Ok(TaggedResource::Environment {
            application: app(a)?,
            environment: EnvironmentId::parse(e).map_err(|_| not_found())?,
        }),
        ["deploymentstrategy", s] => Ok(TaggedResource::DeploymentStrategy(
            DeploymentStrategyId::parse(s).map_err(|_| not_found())?,
        )),
        _ => Err(not_found()),
    }
}

pub(super) async fn tag(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::TagResource;
    let resource = resource(&params)?;
    let input: TagInput = wire::json_input(body, &headers).await?;
    let tags = required(input.tags, "Tags")?;
    committed(OP, state.store_for(&headers).tag_resource(&resource, tags)).await?;
    Ok(wire::no_content())
}

pub(super) async fn untag(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::UntagResource;
    let resource = resource(&params)?;
    let query = Query::parse(uri.query())?;
    if query.get("tagKeys").is_none() {
        return Err(ApiError::bad_request("TagKeys is required"));
    }
    let keys = query.all("tagKeys");
    if keys.len() > 50 {
        return Err(ApiError::bad_request(format!(
            "TagKeys holds at most 50 keys, got {}",
            keys.len()
        )));
    }
    if let Some(bad) = keys
        .iter()
        .find(|k| k.is_empty() || k.chars().count() > 128)
    {
        return Err(ApiError::bad_request(format!(
            "each of TagKeys must be 1 to 128 characters, got {bad:?}"
        )));
    }
    committed(
        OP,
        state.store_for(&headers).untag_resource(&resource, keys),
    )
    .await?;
    Ok(wire::no_content())
}

pub(super) async fn list(
    State(state): State<AppState>,
    params: Labels,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListTagsForResource;
    let resource = resource(&params)?;
    let tags = outcome(OP, state.store.tags(&resource))?;
    Ok(wire::json_response(
        StatusCode::OK,
        &json!({ "Tags": tags }),
    ))
}

#[cfg(test)]
mod tests {
    use super::well_formed;

    #[test]
    fn arns_are_checked_against_the_model_pattern() {
        assert!(well_formed(
            "arn:aws:appconfig:us-east-1:123456789012:application/abc1234"
        ));
        assert!(well_formed(
            "arn:aws:appconfig:us-east-1:123456789012:deploymentstrategy/AppConfig.AllAtOnce"
        ));
        assert!(well_formed("arn:aws-cn:appconfig:::application/abc1234"));
        assert!(!well_formed(
            "arn:aws:appconfig:us-east-1:123:application/abc1234"
        ));
        assert!(!well_formed("not-an-arn-but-long-enough"));
        assert!(!well_formed(
            "arn:aws:AppConfig:us-east-1:123456789012:application/a"
        ));
        assert!(!well_formed(
            "arn:aws:appconfig:us-east-1:123456789012:application/a b"
        ));
        assert!(!well_formed("arn:a:b:c:d:e"));
    }
}
