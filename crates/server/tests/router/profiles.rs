//! CreateConfigurationProfile, GetConfigurationProfile, ListConfigurationProfiles,
//! UpdateConfigurationProfile, DeleteConfigurationProfile.

use serde_json::json;

use crate::support::Harness;

const SCHEMA: &str = r#"{"type": "object"}"#;

#[tokio::test]
async fn create_profile_answers_201_with_every_member_given() {
    let h = Harness::new();
    let app = h.application("a").await;
    let r = h
        .post_json(
            &format!("/applications/{app}/configurationprofiles"),
            &json!({
                "Name": "limits",
                "Description": "d",
                "LocationUri": "hosted",
                "Type": "AWS.Freeform",
                "Validators": [{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
                "Tags": {"k": "v"},
            }),
        )
        .await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(body["ApplicationId"], app.as_str());
    assert_eq!(body["Name"], "limits");
    assert_eq!(body["LocationUri"], "hosted");
    assert_eq!(body["Type"], "AWS.Freeform");
    assert_eq!(
        body["Validators"],
        json!([{"Type": "JSON_SCHEMA", "Content": SCHEMA}])
    );
}

#[tokio::test]
async fn create_profile_errors() {
    let h = Harness::new();
    let app = h.application("a").await;
    let uri = format!("/applications/{app}/configurationprofiles");
    // Required members.
    h.post_json(&uri, &json!({"Name": "p"}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json(&uri, &json!({"LocationUri": "hosted"}))
        .await
        .assert_error(400, "BadRequestException");
    // Three validators, and an unknown validator type.
    let v = json!({"Type": "JSON_SCHEMA", "Content": SCHEMA});
    h.post_json(
        &uri,
        &json!({"Name": "p", "LocationUri": "hosted", "Validators": [v, v, v]}),
    )
    .await
    .assert_error(400, "BadRequestException");
    h.post_json(
        &uri,
        &json!({"Name": "p", "LocationUri": "hosted", "Validators": [{"Type": "XML", "Content": ""}]}),
    )
    .await
    .assert_error(400, "BadRequestException");
    // A wrongly typed member.
    h.post_json(
        &uri,
        &json!({"Name": "p", "LocationUri": "hosted", "Validators": "no"}),
    )
    .await
    .assert_error(400, "BadRequestException");
    // Missing application.
    h.post_json(
        "/applications/zzzzzzz/configurationprofiles",
        &json!({"Name": "p", "LocationUri": "hosted"}),
    )
    .await
    .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn create_profile_over_the_quota_is_service_quota_exceeded() {
    let h = Harness::new();
    let app = h.application("a").await;
    for _ in 0..100 {
        h.profile(&app, json!({})).await;
    }
    h.post_json(
        &format!("/applications/{app}/configurationprofiles"),
        &json!({"Name": "p", "LocationUri": "hosted"}),
    )
    .await
    .assert_error(402, "ServiceQuotaExceededException");
}

#[tokio::test]
async fn get_profile_answers_200_and_404() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h.profile(&app, json!({"Validators": [{"Type": "LAMBDA", "Content": "arn:aws:lambda:us-east-1:123456789012:function:f"}]})).await;
    let r = h
        .get(&format!("/applications/{app}/configurationprofiles/{p}"))
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["Validators"][0]["Type"], "LAMBDA");
    let body = h
        .get(&format!(
            "/applications/{app}/configurationprofiles/zzzzzzz"
        ))
        .await
        .assert_error(404, "ResourceNotFoundException");
    assert_eq!(body["ResourceName"], "ConfigurationProfile");
    h.get(&format!("/applications/zzzzzzz/configurationprofiles/{p}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn list_profiles_gives_summaries_filtered_by_type() {
    let h = Harness::new();
    let app = h.application("a").await;
    h.profile(
        &app,
        json!({"Type": "AWS.Freeform", "Validators": [{"Type": "JSON_SCHEMA", "Content": SCHEMA}]}),
    )
    .await;
    h.profile(&app, json!({"Type": "AWS.AppConfig.FeatureFlags"}))
        .await;
    let r = h
        .get(&format!("/applications/{app}/configurationprofiles"))
        .await;
    r.assert_status(200);
    let items = r.json()["Items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    let freeform = items.iter().find(|i| i["Type"] == "AWS.Freeform").unwrap();
    assert_eq!(freeform["ValidatorTypes"], json!(["JSON_SCHEMA"]));
    assert!(freeform.get("Validators").is_none() && freeform.get("Description").is_none());
    let r = h
        .get(&format!(
            "/applications/{app}/configurationprofiles?type=AWS.AppConfig.FeatureFlags"
        ))
        .await;
    assert_eq!(r.json()["Items"].as_array().unwrap().len(), 1);
    h.get("/applications/zzzzzzz/configurationprofiles")
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get(&format!(
        "/applications/{app}/configurationprofiles?max_results=99"
    ))
    .await
    .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn update_profile_replaces_the_given_members_and_empty_kms_removes_the_key() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h
        .profile(&app, json!({"KmsKeyIdentifier": "alias/k"}))
        .await;
    let uri = format!("/applications/{app}/configurationprofiles/{p}");
    let r = h
        .patch_json(&uri, &json!({"Name": "renamed", "KmsKeyIdentifier": "", "Validators": [{"Type": "JSON_SCHEMA", "Content": SCHEMA}]}))
        .await;
    r.assert_status(200);
    let body = r.json();
    assert_eq!(body["Name"], "renamed");
    assert!(body.get("KmsKeyIdentifier").is_none(), "{body}");
    assert_eq!(body["Validators"][0]["Type"], "JSON_SCHEMA");
    h.patch_json(&uri, &json!({"Name": ""}))
        .await
        .assert_error(400, "BadRequestException");
    h.patch_json(
        &format!("/applications/{app}/configurationprofiles/zzzzzzz"),
        &json!({}),
    )
    .await
    .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn delete_profile_answers_204_and_conflict_while_versions_live() {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h.profile(&app, json!({})).await;
    h.version(&app, &p, &[], "{}").await.assert_status(201);
    let uri = format!("/applications/{app}/configurationprofiles/{p}");
    h.delete(&uri).await.assert_error(409, "ConflictException");
    h.delete(&format!("{uri}/hostedconfigurationversions/1"))
        .await
        .assert_status(204);
    let r = h
        .send(
            axum::http::Method::DELETE,
            &uri,
            &[("x-amzn-deletion-protection-check", "SOMETIMES")],
            axum::body::Body::empty(),
        )
        .await;
    r.assert_error(400, "BadRequestException");
    let r = h
        .send(
            axum::http::Method::DELETE,
            &uri,
            &[("x-amzn-deletion-protection-check", "BYPASS")],
            axum::body::Body::empty(),
        )
        .await;
    r.assert_status(204);
    h.delete(&uri)
        .await
        .assert_error(404, "ResourceNotFoundException");
}
