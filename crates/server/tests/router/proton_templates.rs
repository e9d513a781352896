//! The 9 Proton environment template operations through the router: the `POST /`
//! dispatch on `X-Amz-Target`, awsJson1_0 errors, majors and minors, recommended versions
//! and the idempotent deletes.

use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Harness, Reply};

async fn call(h: &Harness, op: &str, body: &Value) -> Reply {
    let target = format!("AwsProton20200720.{op}");
    h.send(
        Method::POST,
        "/",
        &[
            ("x-amz-target", target.as_str()),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        body.to_string(),
    )
    .await
}

#[track_caller]
fn aws_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(
        r.status.as_u16(),
        status,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    let body = r.json();
    assert_eq!(body["__type"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

async fn version(h: &Harness, major: Option<&str>, key: &str) -> Value {
    let mut body =
        json!({"templateName": "env", "source": {"s3": {"bucket": "templates", "key": key}}});
    if let Some(m) = major {
        body["majorVersion"] = json!(m);
    }
    let r = call(h, "CreateEnvironmentTemplateVersion", &body).await;
    r.assert_status(200);
    r.json()["environmentTemplateVersion"].clone()
}

async fn publish(h: &Harness, major: &str, minor: &str) {
    call(
        h,
        "UpdateEnvironmentTemplateVersion",
        &json!({"templateName": "env", "majorVersion": major, "minorVersion": minor, "status": "PUBLISHED"}),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn create_template_and_versions_number_majors_and_minors() {
    let h = Harness::new();
    let r = call(
        &h,
        "CreateEnvironmentTemplate",
        &json!({"name": "env", "displayName": "Env"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    let t = r.json()["environmentTemplate"].clone();
    assert_eq!(
        t["arn"],
        "arn:aws:proton:us-east-1:000000000000:environment-template/env"
    );
    assert!(t["createdAt"].is_number());
    assert!(t.get("recommendedVersion").is_none());

    let first = version(&h, None, "a").await;
    assert_eq!(
        (first["majorVersion"].clone(), first["minorVersion"].clone()),
        (json!("1"), json!("0"))
    );
    assert_eq!(first["status"], "REGISTRATION_IN_PROGRESS");
    assert!(first.get("schema").is_none());
    let next = version(&h, Some("1"), "b").await;
    assert_eq!(next["minorVersion"], "1");
    let major = version(&h, None, "c").await;
    assert_eq!(major["majorVersion"], "2");
    let got = call(
        &h,
        "GetEnvironmentTemplateVersion",
        &json!({"templateName": "env", "majorVersion": "1", "minorVersion": "0"}),
    )
    .await
    .json();
    assert_eq!(got["environmentTemplateVersion"]["status"], "DRAFT");
    assert_eq!(
        got["environmentTemplateVersion"]["arn"],
        "arn:aws:proton:us-east-1:000000000000:environment-template/env:1.0"
    );
    let r = call(
        &h,
        "CreateEnvironmentTemplateVersion",
        &json!({"templateName": "env", "majorVersion": "9", "source": {"s3": {"bucket": "templates", "key": "x"}}}),
    )
    .await;
    aws_error(&r, 404, "ResourceNotFoundException");
}

#[tokio::test]
async fn recommended_versions_follow_published_versions_numerically() {
    let h = Harness::new();
    call(&h, "CreateEnvironmentTemplate", &json!({"name": "env"}))
        .await
        .assert_status(200);
    version(&h, None, "a").await;
    for n in 1..=10 {
        version(&h, Some("1"), &format!("k{n}")).await;
    }
    publish(&h, "1", "9").await;
    publish(&h, "1", "10").await;
    let t = call(&h, "GetEnvironmentTemplate", &json!({"name": "env"}))
        .await
        .json();
    assert_eq!(t["environmentTemplate"]["recommendedVersion"], "1.10");
    let listed = call(
        &h,
        "ListEnvironmentTemplateVersions",
        &json!({"templateName": "env"}),
    )
    .await
    .json();
    let summaries = listed["templateVersions"].as_array().unwrap();
    assert_eq!(summaries.len(), 1, "one summary per major");
    assert_eq!(summaries[0]["minorVersion"], "10");
    assert_eq!(summaries[0]["recommendedMinorVersion"], "10");
    let page = call(
        &h,
        "ListEnvironmentTemplateVersions",
        &json!({"templateName": "env", "majorVersion": "1", "maxResults": 4}),
    )
    .await
    .json();
    let minors: Vec<_> = page["templateVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["minorVersion"].clone())
        .collect();
    assert_eq!(minors, vec![json!("0"), json!("1"), json!("2"), json!("3")]);
    let token = page["nextToken"].as_str().unwrap();
    let rest = call(
        &h,
        "ListEnvironmentTemplateVersions",
        &json!({"templateName": "env", "majorVersion": "1", "nextToken": token}),
    )
    .await
    .json();
    assert_eq!(rest["templateVersions"].as_array().unwrap().len(), 7);
    assert!(rest.get("nextToken").is_none());
}

#[tokio::test]
async fn status_transitions_and_delete_rules_are_conflicts() {
    let h = Harness::new();
    call(&h, "CreateEnvironmentTemplate", &json!({"name": "env"}))
        .await
        .assert_status(200);
    version(&h, None, "a").await;
    version(&h, Some("1"), "b").await;
    publish(&h, "1", "1").await;
    let back = call(
        &h,
        "UpdateEnvironmentTemplateVersion",
        &json!({"templateName": "env", "majorVersion": "1", "minorVersion": "1", "status": "DRAFT"}),
    )
    .await;
    aws_error(&back, 409, "ConflictException");
    let reg = call(
        &h,
        "UpdateEnvironmentTemplateVersion",
        &json!({"templateName": "env", "majorVersion": "1", "minorVersion": "0", "status": "REGISTRATION_FAILED"}),
    )
    .await;
    aws_error(&reg, 400, "ValidationException");
    let del = |minor: &'static str| json!({"templateName": "env", "majorVersion": "1", "minorVersion": minor});
    aws_error(
        &call(&h, "DeleteEnvironmentTemplateVersion", &del("1")).await,
        409,
        "ConflictException",
    );
    let gone = call(&h, "DeleteEnvironmentTemplateVersion", &del("0")).await;
    gone.assert_status(200);
    assert_eq!(
        gone.json()["environmentTemplateVersion"]["minorVersion"],
        "0"
    );
    let again = call(&h, "DeleteEnvironmentTemplateVersion", &del("0")).await;
    again.assert_status(200);
    assert_eq!(again.json(), json!({}));
    aws_error(
        &call(&h, "DeleteEnvironmentTemplate", &json!({"name": "env"})).await,
        409,
        "ConflictException",
    );
    call(&h, "DeleteEnvironmentTemplateVersion", &del("1"))
        .await
        .assert_status(200);
    let deleted = call(&h, "DeleteEnvironmentTemplate", &json!({"name": "env"})).await;
    assert_eq!(deleted.json()["environmentTemplate"]["name"], "env");
    let missing = call(&h, "DeleteEnvironmentTemplate", &json!({"name": "env"})).await;
    missing.assert_status(200);
    assert_eq!(missing.json(), json!({}));
}

#[tokio::test]
async fn client_tokens_and_identical_creates_answer_with_the_first() {
    let h = Harness::new();
    let create = json!({"name": "env", "description": "d"});
    let first = call(&h, "CreateEnvironmentTemplate", &create).await.json();
    let again = call(&h, "CreateEnvironmentTemplate", &create).await.json();
    assert_eq!(first, again);
    aws_error(
        &call(
            &h,
            "CreateEnvironmentTemplate",
            &json!({"name": "env", "description": "other"}),
        )
        .await,
        400,
        "ValidationException",
    );
    let body = json!({"templateName": "env", "clientToken": "tok", "source": {"s3": {"bucket": "templates", "key": "a"}}});
    let v1 = call(&h, "CreateEnvironmentTemplateVersion", &body)
        .await
        .json();
    let v2 = call(&h, "CreateEnvironmentTemplateVersion", &body)
        .await
        .json();
    assert_eq!(
        v1["environmentTemplateVersion"]["minorVersion"],
        v2["environmentTemplateVersion"]["minorVersion"]
    );
    assert_eq!(v2["environmentTemplateVersion"]["status"], "DRAFT");
    let mut other = body.clone();
    other["description"] = json!("changed");
    aws_error(
        &call(&h, "CreateEnvironmentTemplateVersion", &other).await,
        400,
        "ValidationException",
    );
}

#[tokio::test]
async fn unknown_targets_and_bad_members_are_aws_json_errors() {
    let h = Harness::new();
    aws_error(
        &call(&h, "UpdateEnvironmentTemplate", &json!({"name": "env"})).await,
        400,
        "UnknownOperationException",
    );
    let no_target = h.send(Method::POST, "/", &[], Body::from("{}")).await;
    aws_error(&no_target, 400, "UnknownOperationException");
    aws_error(
        &call(&h, "GetEnvironmentTemplate", &json!({"name": "-bad"})).await,
        400,
        "ValidationException",
    );
    aws_error(
        &call(&h, "GetEnvironmentTemplate", &json!({"name": "nope"})).await,
        404,
        "ResourceNotFoundException",
    );
    aws_error(
        &call(&h, "ListEnvironmentTemplates", &json!({"maxResults": 101})).await,
        400,
        "ValidationException",
    );
    aws_error(
        &call(
            &h,
            "GetEnvironmentTemplateVersion",
            &json!({"templateName": "env", "majorVersion": "01", "minorVersion": "0"}),
        )
        .await,
        400,
        "ValidationException",
    );
    let not_json = h
        .send(
            Method::POST,
            "/",
            &[("x-amz-target", "AwsProton20200720.ListEnvironmentTemplates")],
            Body::from("{"),
        )
        .await;
    aws_error(&not_json, 400, "ValidationException");
}
