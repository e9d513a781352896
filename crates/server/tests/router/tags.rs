//! TagResource, UntagResource, ListTagsForResource.

use axum::body::Body;
use axum::http::Method;
use serde_json::json;

use crate::support::Harness;

fn arn(resource: &str) -> String {
    // As the SDKs send it: one path segment, `:` and `/` percent-encoded.
    format!("arn:aws:appconfig:us-east-1:123456789012:{resource}")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

#[tokio::test]
async fn tags_given_at_creation_are_listed_and_can_be_changed() {
    let h = Harness::new();
    let app = h
        .post_json(
            "/applications",
            &json!({"Name": "a", "Tags": {"team": "pay"}}),
        )
        .await
        .json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/tags/{}", arn(&format!("application/{app}")));
    let r = h.get(&uri).await;
    r.assert_status(200);
    assert_eq!(r.json(), json!({"Tags": {"team": "pay"}}));
    h.post_json(&uri, &json!({"Tags": {"env": "prod", "team": "core"}}))
        .await
        .assert_status(204);
    assert_eq!(
        h.get(&uri).await.json(),
        json!({"Tags": {"env": "prod", "team": "core"}})
    );
    let r = h
        .send(
            Method::DELETE,
            &format!("{uri}?tagKeys=team&tagKeys=absent"),
            &[],
            Body::empty(),
        )
        .await;
    r.assert_status(204);
    assert!(r.body.is_empty());
    assert_eq!(h.get(&uri).await.json(), json!({"Tags": {"env": "prod"}}));
}

#[tokio::test]
async fn every_taggable_resource_is_reachable_by_arn() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h.profile(&app, json!({})).await;
    let env = h
        .post_json(
            &format!("/applications/{app}/environments"),
            &json!({"Name": "e"}),
        )
        .await
        .json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = h
        .post_json(
            "/deploymentstrategies",
            &json!({"Name": "s", "DeploymentDurationInMinutes": 1, "GrowthFactor": 10}),
        )
        .await
        .json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    for resource in [
        format!("application/{app}/configurationprofile/{p}"),
        format!("application/{app}/environment/{env}"),
        format!("deploymentstrategy/{s}"),
    ] {
        let uri = format!("/tags/{}", arn(&resource));
        h.post_json(&uri, &json!({"Tags": {"k": "v"}}))
            .await
            .assert_status(204);
        assert_eq!(
            h.get(&uri).await.json(),
            json!({"Tags": {"k": "v"}}),
            "{resource}"
        );
    }
}

#[tokio::test]
async fn tag_errors() {
    let h = Harness::new();
    let app = h.application("a").await;
    let uri = format!("/tags/{}", arn(&format!("application/{app}")));
    let many: serde_json::Map<String, serde_json::Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    h.post_json(&uri, &json!({"Tags": many}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json(&uri, &json!({}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json(&uri, &json!({"Tags": {"": "v"}}))
        .await
        .assert_error(400, "BadRequestException");
    h.send(Method::DELETE, &uri, &[], Body::empty())
        .await
        .assert_error(400, "BadRequestException");
    let missing = format!("/tags/{}", arn("application/zzzzzzz"));
    h.get(&missing)
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.post_json(&missing, &json!({"Tags": {"k": "v"}}))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.send(
        Method::DELETE,
        &format!("{missing}?tagKeys=k"),
        &[],
        Body::empty(),
    )
    .await
    .assert_error(404, "ResourceNotFoundException");
    h.get(&format!("/tags/{}", arn("bucket/x")))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get("/tags/not-an-arn-at-all-but-long")
        .await
        .assert_error(400, "BadRequestException");
}
