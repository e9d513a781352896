//! ValidateConfiguration.

use axum::body::Body;
use axum::http::Method;
use serde_json::json;

use crate::support::Harness;

const SCHEMA: &str =
    r#"{"type": "object", "properties": {"max": {"type": "integer"}}, "required": ["max"]}"#;

async fn validate(h: &Harness, app: &str, p: &str, version: &str) -> crate::support::Reply {
    h.send(
        Method::POST,
        &format!("/applications/{app}/configurationprofiles/{p}/validators?configuration_version={version}"),
        &[],
        Body::empty(),
    )
    .await
}

#[tokio::test]
async fn valid_content_answers_204_and_invalid_content_lists_details() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h
        .profile(
            &app,
            json!({"Validators": [{"Type": "JSON_SCHEMA", "Content": SCHEMA}]}),
        )
        .await;
    h.version(&app, &p, &[("versionlabel", "good")], r#"{"max": 1}"#)
        .await
        .assert_status(201);
    h.version(&app, &p, &[], r#"{"max": "ten"}"#)
        .await
        .assert_status(201);
    let r = validate(&h, &app, &p, "1").await;
    r.assert_status(204);
    assert!(r.body.is_empty());
    validate(&h, &app, &p, "good").await.assert_status(204);
    let body = validate(&h, &app, &p, "2")
        .await
        .assert_error(400, "BadRequestException");
    assert_eq!(body["Reason"], "InvalidConfiguration");
    let detail = &body["Details"]["InvalidConfiguration"][0];
    assert_eq!(detail["Type"], "JSON_SCHEMA");
    assert_eq!(detail["Location"], "/max");
    assert_eq!(detail["Constraint"], "type");
}

#[tokio::test]
async fn a_lambda_validator_cannot_run_so_validation_fails_and_says_why() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h
        .profile(&app, json!({"Validators": [{"Type": "LAMBDA", "Content": "arn:aws:lambda:us-east-1:123456789012:function:f"}]}))
        .await;
    h.version(&app, &p, &[], "{}").await.assert_status(201);
    let body = validate(&h, &app, &p, "1")
        .await
        .assert_error(400, "BadRequestException");
    assert_eq!(body["Details"]["InvalidConfiguration"][0]["Type"], "LAMBDA");
}

#[tokio::test]
async fn validate_errors() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h.profile(&app, json!({})).await;
    // Required query parameter.
    h.send(
        Method::POST,
        &format!("/applications/{app}/configurationprofiles/{p}/validators"),
        &[],
        Body::empty(),
    )
    .await
    .assert_error(400, "BadRequestException");
    validate(&h, &app, &p, "1")
        .await
        .assert_error(404, "ResourceNotFoundException");
    validate(&h, &app, "zzzzzzz", "1")
        .await
        .assert_error(404, "ResourceNotFoundException");
    validate(&h, &app, &p, "nolabel")
        .await
        .assert_error(404, "ResourceNotFoundException");
}
