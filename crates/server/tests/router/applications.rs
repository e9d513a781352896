//! CreateApplication, GetApplication, ListApplications, UpdateApplication,
//! DeleteApplication.

use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn create_application_answers_201_with_the_application() {
    let h = Harness::new();
    let r = h
        .post_json(
            "/applications",
            &json!({"Name": "payments", "Description": "d", "Tags": {"team": "a"}}),
        )
        .await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(body["Name"], "payments");
    assert_eq!(body["Description"], "d");
    let id = body["Id"].as_str().unwrap();
    assert!(verso_domain::is_resource_id(id), "{id}");
    assert!(body.get("Tags").is_none(), "Application has no Tags member");
}

#[tokio::test]
async fn create_application_without_a_name_or_with_a_long_one_is_a_bad_request() {
    let h = Harness::new();
    h.post_json("/applications", &json!({}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json("/applications", &json!({"Name": "x".repeat(65)}))
        .await
        .assert_error(400, "BadRequestException");
    h.post_json(
        "/applications",
        &json!({"Name": "a", "Description": "d".repeat(1025)}),
    )
    .await
    .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn create_application_over_the_quota_is_service_quota_exceeded() {
    let h = Harness::new();
    for i in 0..100 {
        h.application(&format!("app{i}")).await;
    }
    h.post_json("/applications", &json!({"Name": "one too many"}))
        .await
        .assert_error(402, "ServiceQuotaExceededException");
}

#[tokio::test]
async fn get_application_answers_200_and_404_for_a_missing_one() {
    let h = Harness::new();
    let id = h.application("payments").await;
    let r = h.get(&format!("/applications/{id}")).await;
    r.assert_status(200);
    assert_eq!(r.json(), json!({"Id": id, "Name": "payments"}));
    let body = h
        .get("/applications/zzzzzzz")
        .await
        .assert_error(404, "ResourceNotFoundException");
    assert_eq!(body["ResourceName"], "Application");
    // Not an id at all, but within the 1..64 length of the path label: still not found.
    h.get("/applications/Not-An-Id")
        .await
        .assert_error(404, "ResourceNotFoundException");
    // Over 64 characters: a bad request.
    h.get(&format!("/applications/{}", "a".repeat(65)))
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn list_applications_pages_with_max_results_and_next_token() {
    let h = Harness::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(h.application(&format!("app{i}")).await);
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut uri = "/applications?max_results=2".to_owned();
    loop {
        let r = h.get(&uri).await;
        r.assert_status(200);
        let body = r.json();
        let items = body["Items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["Id"].as_str().unwrap().to_owned()));
        match body.get("NextToken") {
            Some(t) => {
                uri = format!(
                    "/applications?max_results=2&next_token={}",
                    t.as_str().unwrap()
                )
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    h.get("/applications?max_results=0")
        .await
        .assert_error(400, "BadRequestException");
    h.get("/applications?max_results=51")
        .await
        .assert_error(400, "BadRequestException");
    h.get("/applications?next_token=garbage")
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn update_application_changes_only_the_given_members() {
    let h = Harness::new();
    let id = h.application("payments").await;
    let r = h
        .patch_json(
            &format!("/applications/{id}"),
            &json!({"Description": "new"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.json(),
        json!({"Id": id, "Name": "payments", "Description": "new"})
    );
    // botocore sends `{}` when nothing is given; the Rust SDK may send no body.
    h.patch_json(&format!("/applications/{id}"), &json!({}))
        .await
        .assert_status(200);
    h.patch_json("/applications/zzzzzzz", &json!({"Name": "x"}))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.patch_json(&format!("/applications/{id}"), &json!({"Name": ""}))
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn delete_application_answers_204_then_404() {
    let h = Harness::new();
    let id = h.application("payments").await;
    let r = h.delete(&format!("/applications/{id}")).await;
    r.assert_status(204);
    assert!(r.body.is_empty());
    h.delete(&format!("/applications/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn delete_application_with_profiles_is_a_bad_request_as_its_model_has_no_conflict() {
    let h = Harness::new();
    let id = h.application("payments").await;
    h.profile(&id, json!({})).await;
    h.delete(&format!("/applications/{id}"))
        .await
        .assert_error(400, "BadRequestException");
}
