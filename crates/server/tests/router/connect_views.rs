//! The 9 Connect view operations through the router: routes, qualified labels, the
//! worked example's hash, and Connect's own error flavour.

use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Harness, Reply};

const WORKED_TEMPLATE: &str = r#"{"Head":{"Title":"Café"},"Body":[]}"#;
const WORKED_SHA: &str = "d08d1f7a0f6dbe7908c8825f80bc7e5fb168ed031dcdbdb35c88c358092f385b";

async fn put(h: &Harness, uri: &str, body: &Value) -> Reply {
    h.send(
        Method::PUT,
        uri,
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

async fn create(h: &Harness, name: &str, status: &str, template: &str) -> Value {
    let r = put(
        h,
        "/views/inst-1",
        &json!({"Name": name, "Status": status,
                "Content": {"Template": template, "Actions": ["Submit", "Cancel"]}}),
    )
    .await;
    r.assert_status(200);
    r.json()["View"].clone()
}

#[tokio::test]
async fn create_view_answers_200_with_the_view_and_the_worked_examples_hash() {
    let h = Harness::new();
    let view = create(&h, "intake", "PUBLISHED", WORKED_TEMPLATE).await;
    let id = view["Id"].as_str().unwrap();
    assert!(verso_domain::ViewId::parse(id).is_ok(), "{id}");
    assert_eq!(
        view["Arn"],
        format!("arn:aws:connect:us-east-1:000000000000:instance/inst-1/view/{id}")
    );
    assert_eq!(view["Status"], "PUBLISHED");
    assert_eq!(view["Type"], "CUSTOMER_MANAGED");
    assert_eq!(view["ViewContentSha256"], WORKED_SHA);
    assert_eq!(view["Content"]["Template"], WORKED_TEMPLATE);
    assert_eq!(view["Content"]["Actions"], json!(["Submit", "Cancel"]));
    assert_eq!(
        view["Content"]["InputSchema"],
        r#"{"properties":{},"type":"object"}"#
    );
    assert!(view["CreatedTime"].is_number());
    assert!(view.get("Version").is_none());
}

#[tokio::test]
async fn describe_view_follows_qualifiers_and_arns() {
    let h = Harness::new();
    let view = create(&h, "intake", "PUBLISHED", r#"{"a":"$.Customer.Name"}"#).await;
    let id = view["Id"].as_str().unwrap().to_owned();
    let arn = view["Arn"].as_str().unwrap().to_owned();
    h.post_json(
        &format!("/views/inst-1/{id}"),
        &json!({"Status": "SAVED", "Content": {"Template": "draft"}}),
    )
    .await
    .assert_status(200);
    let r = put(&h, &format!("/views/inst-1/{id}/versions"), &json!({})).await;
    r.assert_status(200);
    assert_eq!(r.json()["View"]["Version"], 1);

    let latest = h.get(&format!("/views/inst-1/{id}")).await.json();
    assert_eq!(latest["View"]["Status"], "PUBLISHED");
    assert_eq!(
        latest["View"]["Content"]["InputSchema"],
        r#"{"properties":{"Customer":{}},"type":"object"}"#
    );
    let saved = h
        .get(&format!("/views/inst-1/{id}%3A%24SAVED"))
        .await
        .json();
    assert_eq!(saved["View"]["Status"], "SAVED");
    assert_eq!(saved["View"]["Content"]["Template"], "draft");
    assert!(saved["View"]["Content"].get("InputSchema").is_none());
    let by_arn = h
        .get(&format!(
            "/views/inst-1/{}",
            arn.replace(':', "%3A").replace('/', "%2F") + "%3A1"
        ))
        .await
        .json();
    assert_eq!(by_arn["View"]["Version"], 1);
    assert_eq!(
        by_arn["View"]["ViewContentSha256"],
        latest["View"]["ViewContentSha256"]
    );
    h.get(&format!("/views/inst-2/{}", arn.replace('/', "%2F")))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get(&format!("/views/inst-1/{id}%3A7"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get("/views/inst-1/not-a-view")
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn a_stale_sha256_is_resource_in_use_and_appends_nothing() {
    let h = Harness::new();
    let view = create(&h, "intake", "PUBLISHED", WORKED_TEMPLATE).await;
    let id = view["Id"].as_str().unwrap();
    let stale = "0".repeat(64);
    let body = put(
        &h,
        &format!("/views/inst-1/{id}/versions"),
        &json!({"ViewContentSha256": stale}),
    )
    .await
    .assert_error(409, "ResourceInUseException");
    assert_eq!(body["ResourceId"], id);
    let list = h.get(&format!("/views/inst-1/{id}/versions")).await.json();
    assert_eq!(list["ViewVersionSummaryList"], json!([]));
    put(
        &h,
        &format!("/views/inst-1/{id}/versions"),
        &json!({"ViewContentSha256": WORKED_SHA.to_uppercase()}),
    )
    .await
    .assert_status(200);
    put(
        &h,
        &format!("/views/inst-1/{id}/versions"),
        &json!({"ViewContentSha256": "abc"}),
    )
    .await
    .assert_error(400, "InvalidParameterException");
}

#[tokio::test]
async fn unchanged_latest_returns_the_highest_version() {
    let h = Harness::new();
    let view = create(&h, "intake", "PUBLISHED", "{}").await;
    let id = view["Id"].as_str().unwrap();
    let uri = format!("/views/inst-1/{id}/versions");
    let first = put(&h, &uri, &json!({"VersionDescription": "first"}))
        .await
        .json();
    let again = put(&h, &uri, &json!({"VersionDescription": "second"}))
        .await
        .json();
    assert_eq!(first["View"]["Version"], 1);
    assert_eq!(again["View"]["Version"], 1);
    assert_eq!(again["View"]["VersionDescription"], "first");
}

#[tokio::test]
async fn errors_are_connects_shapes() {
    let h = Harness::new();
    create(&h, "intake", "SAVED", "x").await;
    // A taken name.
    put(
        &h,
        "/views/inst-1",
        &json!({"Name": "intake", "Status": "SAVED", "Content": {"Template": "y"}}),
    )
    .await
    .assert_error(409, "DuplicateResourceException");
    // A published template that is not a JSON object.
    put(
        &h,
        "/views/inst-1",
        &json!({"Name": "other", "Status": "PUBLISHED", "Content": {"Template": "y"}}),
    )
    .await
    .assert_error(400, "InvalidParameterException");
    // A body that is not JSON.
    h.send(Method::PUT, "/views/inst-1", &[], Body::from("{"))
        .await
        .assert_error(400, "InvalidRequestException");
    // A bad page size.
    h.get("/views/inst-1?maxResults=101")
        .await
        .assert_error(400, "InvalidParameterException");
    // An instance id of the wrong shape.
    h.get("/views/bad%20id")
        .await
        .assert_error(400, "InvalidParameterException");
}

#[tokio::test]
async fn list_views_pages_by_name_and_deletes_cascade() {
    let h = Harness::new();
    let mut ids = Vec::new();
    for name in ["c", "a", "b"] {
        ids.push(create(&h, name, "PUBLISHED", "{}").await["Id"].clone());
    }
    let first = h.get("/views/inst-1?maxResults=2").await.json();
    let names: Vec<_> = first["ViewsSummaryList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Name"].clone())
        .collect();
    assert_eq!(names, vec![json!("a"), json!("b")]);
    let token = first["NextToken"].as_str().unwrap();
    let rest = h
        .get(&format!("/views/inst-1?nextToken={token}"))
        .await
        .json();
    assert_eq!(rest["ViewsSummaryList"][0]["Name"], "c");
    assert!(rest.get("NextToken").is_none());
    assert_eq!(
        h.get("/views/inst-1?type=AWS_MANAGED").await.json()["ViewsSummaryList"],
        json!([])
    );

    let id = ids[0].as_str().unwrap();
    put(&h, &format!("/views/inst-1/{id}/versions"), &json!({}))
        .await
        .assert_status(200);
    let r = h.delete(&format!("/views/inst-1/{id}")).await;
    r.assert_status(200);
    assert_eq!(r.json(), json!({}));
    h.get(&format!("/views/inst-1/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.delete(&format!("/views/inst-1/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn update_metadata_answers_an_empty_object() {
    let h = Harness::new();
    let view = create(&h, "intake", "SAVED", "x").await;
    let id = view["Id"].as_str().unwrap();
    let r = h
        .post_json(
            &format!("/views/inst-1/{id}/metadata"),
            &json!({"Name": "renamed", "Description": "the intake view"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json(), json!({}));
    let saved = h
        .get(&format!("/views/inst-1/{id}%3A%24SAVED"))
        .await
        .json();
    assert_eq!(saved["View"]["Name"], "renamed");
    h.post_json(&format!("/views/inst-1/{id}/metadata"), &json!({}))
        .await
        .assert_error(400, "InvalidParameterException");
}

#[tokio::test]
async fn delete_view_version_needs_an_integer_and_a_live_version() {
    let h = Harness::new();
    let view = create(&h, "intake", "PUBLISHED", "{}").await;
    let id = view["Id"].as_str().unwrap();
    put(&h, &format!("/views/inst-1/{id}/versions"), &json!({}))
        .await
        .assert_status(200);
    h.delete(&format!("/views/inst-1/{id}/versions/one"))
        .await
        .assert_error(400, "InvalidParameterException");
    h.delete(&format!("/views/inst-1/{id}/versions/1"))
        .await
        .assert_status(200);
    h.delete(&format!("/views/inst-1/{id}/versions/1"))
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn search_views_is_an_unknown_operation() {
    let h = Harness::new();
    h.post_json("/search-views", &json!({"InstanceId": "inst-1"}))
        .await
        .assert_error(404, "UnknownOperationException");
}

#[tokio::test]
async fn instance_ids_with_colons_and_slashes_work_in_arns() {
    let h = Harness::new();
    let r = put(
        &h,
        "/views/a%3Ab%2Fview%2Fc",
        &json!({"Name": "v", "Status": "PUBLISHED", "Content": {"Template": "{}"}}),
    )
    .await;
    r.assert_status(200);
    let view = r.json()["View"].clone();
    let arn = view["Arn"].as_str().unwrap();
    assert!(arn.contains(":instance/a:b/view/c/view/"), "{arn}");
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    let by_arn = h.get(&format!("/views/a%3Ab%2Fview%2Fc/{encoded}")).await;
    by_arn.assert_status(200);
    assert_eq!(by_arn.json()["View"]["Id"], view["Id"]);
    let instance_arn =
        "arn%3Aaws%3Aconnect%3Aus-east-1%3A000000000000%3Ainstance%2Fa%3Ab%2Fview%2Fc";
    let listed = h.get(&format!("/views/{instance_arn}")).await.json();
    assert_eq!(listed["ViewsSummaryList"][0]["Id"], view["Id"]);
}

#[tokio::test]
async fn a_replayed_client_token_answers_with_the_view_as_it_is_now() {
    let h = Harness::new();
    let create = json!({"Name": "v", "Status": "SAVED", "Content": {"Template": "one"}, "ClientToken": "tok"});
    let first = put(&h, "/views/inst-1", &create).await.json()["View"].clone();
    let id = first["Id"].as_str().unwrap();
    h.post_json(
        &format!("/views/inst-1/{id}"),
        &json!({"Status": "SAVED", "Content": {"Template": "two"}}),
    )
    .await
    .assert_status(200);
    let again = put(&h, "/views/inst-1", &create).await.json()["View"].clone();
    assert_eq!(again["Id"], first["Id"]);
    assert_eq!(again["Content"]["Template"], "two");
    let saved = h
        .get(&format!("/views/inst-1/{id}%3A%24SAVED"))
        .await
        .json();
    assert_eq!(
        again["ViewContentSha256"],
        saved["View"]["ViewContentSha256"]
    );
}
