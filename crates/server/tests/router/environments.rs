//! CreateEnvironment, GetEnvironment, ListEnvironments, UpdateEnvironment,
//! DeleteEnvironment.

use serde_json::json;

use crate::support::Harness;

const ALARM: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors";
const ROLE: &str = "arn:aws:iam::123456789012:role/alarms";

#[tokio::test]
async fn create_environment_answers_201_ready_for_deployment() {
    let h = Harness::new();
    let app = h.application("a").await;
    let r = h
        .post_json(
            &format!("/applications/{app}/environments"),
            &json!({"Name": "prod", "Description": "d", "Monitors": [{"AlarmArn": ALARM, "AlarmRoleArn": ROLE}], "Tags": {"k": "v"}}),
        )
        .await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(body["ApplicationId"], app.as_str());
    assert_eq!(body["Name"], "prod");
    assert_eq!(body["State"], "READY_FOR_DEPLOYMENT");
    assert_eq!(
        body["Monitors"],
        json!([{"AlarmArn": ALARM, "AlarmRoleArn": ROLE}])
    );
    assert!(verso_domain::is_resource_id(body["Id"].as_str().unwrap()));
}

#[tokio::test]
async fn create_environment_errors() {
    let h = Harness::new();
    let app = h.application("a").await;
    let uri = format!("/applications/{app}/environments");
    h.post_json(&uri, &json!({}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json(&uri, &json!({"Name": "e", "Monitors": [{}]}))
        .await
        .assert_error(400, "BadRequestException");
    let six: Vec<_> = (0..6).map(|_| json!({"AlarmArn": ALARM})).collect();
    h.post_json(&uri, &json!({"Name": "e", "Monitors": six}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json("/applications/zzzzzzz/environments", &json!({"Name": "e"}))
        .await
        .assert_error(404, "ResourceNotFoundException");
    for i in 0..20 {
        h.post_json(&uri, &json!({"Name": format!("e{i}")}))
            .await
            .assert_status(201);
    }
    h.post_json(&uri, &json!({"Name": "e21"}))
        .await
        .assert_error(402, "ServiceQuotaExceededException");
}

#[tokio::test]
async fn get_list_update_delete_environment() {
    let h = Harness::new();
    let app = h.application("a").await;
    let uri = format!("/applications/{app}/environments");
    let id = h
        .post_json(
            &uri,
            &json!({"Name": "prod", "Monitors": [{"AlarmArn": ALARM}]}),
        )
        .await
        .json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.post_json(&uri, &json!({"Name": "dev"}))
        .await
        .assert_status(201);
    let r = h.get(&format!("{uri}/{id}")).await;
    r.assert_status(200);
    assert_eq!(r.json()["Name"], "prod");
    let list = h.get(&uri).await;
    list.assert_status(200);
    let items = list.json()["Items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["State"] == "READY_FOR_DEPLOYMENT"));
    // PATCH: Monitors, when given, replaces the list; absent members stay.
    let r = h
        .patch_json(&format!("{uri}/{id}"), &json!({"Monitors": []}))
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["Name"], "prod");
    assert!(r.json().get("Monitors").is_none());
    h.patch_json(&format!("{uri}/{id}"), &json!({"Name": ""}))
        .await
        .assert_error(400, "BadRequestException");
    h.delete(&format!("{uri}/{id}")).await.assert_status(204);
    h.get(&format!("{uri}/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.delete(&format!("{uri}/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.patch_json(&format!("{uri}/{id}"), &json!({}))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get("/applications/zzzzzzz/environments")
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn an_application_with_environments_cannot_be_deleted() {
    let h = Harness::new();
    let app = h.application("a").await;
    h.post_json(
        &format!("/applications/{app}/environments"),
        &json!({"Name": "e"}),
    )
    .await
    .assert_status(201);
    h.delete(&format!("/applications/{app}"))
        .await
        .assert_error(400, "BadRequestException");
}
