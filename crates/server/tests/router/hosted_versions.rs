//! CreateHostedConfigurationVersion, GetHostedConfigurationVersion,
//! ListHostedConfigurationVersions, DeleteHostedConfigurationVersion.

use axum::http::Method;
use serde_json::json;

use crate::support::Harness;

async fn setup() -> (Harness, String, String) {
    let h = Harness::new();
    let app = h.application("a").await;
    let p = h.profile(&app, json!({})).await;
    (h, app, p)
}

#[tokio::test]
async fn create_version_answers_201_with_raw_content_and_header_members() {
    let (h, app, p) = setup().await;
    let r = h
        .version(
            &app,
            &p,
            &[("description", "first"), ("versionlabel", "v1.0")],
            r#"{"max": 10}"#,
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body, br#"{"max": 10}"#);
    assert_eq!(r.header("application-id"), Some(app.as_str()));
    assert_eq!(r.header("configuration-profile-id"), Some(p.as_str()));
    assert_eq!(r.header("version-number"), Some("1"));
    assert_eq!(r.header("description"), Some("first"));
    assert_eq!(r.header("versionlabel"), Some("v1.0"));
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn create_version_input_errors_are_bad_requests() {
    let (h, app, p) = setup().await;
    let uri = format!("/applications/{app}/configurationprofiles/{p}/hostedconfigurationversions");
    // No Content-Type.
    h.send(Method::POST, &uri, &[], "x")
        .await
        .assert_error(400, "BadRequestException");
    // An all-digit label could be mistaken for a version number.
    h.version(&app, &p, &[("versionlabel", "123")], "x")
        .await
        .assert_error(400, "BadRequestException");
    h.version(&app, &p, &[("versionlabel", &"l".repeat(65))], "x")
        .await
        .assert_error(400, "BadRequestException");
    h.version(&app, &p, &[("latest-version-number", "one")], "x")
        .await
        .assert_error(400, "BadRequestException");
    h.version(&app, &p, &[("latest-version-number", "-1")], "x")
        .await
        .assert_error(400, "BadRequestException");
    h.version(&app, &p, &[("description", &"d".repeat(1025))], "x")
        .await
        .assert_error(400, "BadRequestException");
    // Nothing was appended by any of them.
    assert_eq!(
        h.version(&app, &p, &[], "x").await.header("version-number"),
        Some("1")
    );
}

#[tokio::test]
async fn a_non_ascii_description_header_is_a_bad_request() {
    let (h, app, p) = setup().await;
    let uri = format!("/applications/{app}/configurationprofiles/{p}/hostedconfigurationversions");
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("content-type", "text/plain")
        .header(
            "description",
            axum::http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        )
        .body(axum::body::Body::from("x"))
        .unwrap();
    let response = tower::ServiceExt::oneshot(h.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn create_version_on_a_missing_profile_is_not_found() {
    let (h, app, _) = setup().await;
    h.version(&app, "zzzzzzz", &[], "x")
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.version("zzzzzzz", "zzzzzzz", &[], "x")
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn latest_version_number_is_an_optimistic_lock() {
    let (h, app, p) = setup().await;
    h.version(&app, &p, &[("latest-version-number", "0")], "a")
        .await
        .assert_status(201);
    // Stale: lower and higher than the latest.
    h.version(&app, &p, &[("latest-version-number", "0")], "b")
        .await
        .assert_error(409, "ConflictException");
    h.version(&app, &p, &[("latest-version-number", "5")], "b")
        .await
        .assert_error(409, "ConflictException");
    let r = h
        .version(&app, &p, &[("latest-version-number", "1")], "b")
        .await;
    r.assert_status(201);
    assert_eq!(r.header("version-number"), Some("2"));
}

#[tokio::test]
async fn content_over_the_limit_is_payload_too_large_with_sizes_in_kilobytes() {
    let (h, app, p) = setup().await;
    let limit = h.store.limits().max_content_bytes;
    let big = "x".repeat(usize::try_from(limit).unwrap() + 1);
    let body = h
        .version(&app, &p, &[], &big)
        .await
        .assert_error(413, "PayloadTooLargeException");
    assert_eq!(body["Measure"], "KILOBYTES");
    assert_eq!(body["Limit"], json!(2048.0));
    assert!(body["Size"].as_f64().unwrap() > 2048.0);
    // Exactly at the limit is accepted.
    let exact = "x".repeat(usize::try_from(limit).unwrap());
    h.version(&app, &p, &[], &exact).await.assert_status(201);
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_refused_without_a_content_length() {
    let (h, app, p) = setup().await;
    let limit = usize::try_from(h.store.limits().max_content_bytes).unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..3).map(|_| Ok(vec![b'x'; limit / 2 + 1])).collect();
    let body = axum::body::Body::from_stream(futures_stream(chunks));
    let uri = format!("/applications/{app}/configurationprofiles/{p}/hostedconfigurationversions");
    h.send(Method::POST, &uri, &[("content-type", "text/plain")], body)
        .await
        .assert_error(413, "PayloadTooLargeException");
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    struct Chunks(std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for Chunks {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Chunks(chunks.into_iter())
}

#[tokio::test]
async fn get_version_answers_200_with_content_and_404_for_missing_or_deleted() {
    let (h, app, p) = setup().await;
    h.version(&app, &p, &[("versionlabel", "stable")], "one")
        .await
        .assert_status(201);
    let uri = format!("/applications/{app}/configurationprofiles/{p}/hostedconfigurationversions");
    let r = h.get(&format!("{uri}/1")).await;
    r.assert_status(200);
    assert_eq!(r.body, b"one");
    assert_eq!(r.header("versionlabel"), Some("stable"));
    h.get(&format!("{uri}/2"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get(&format!("{uri}/two"))
        .await
        .assert_error(400, "BadRequestException");
    h.delete(&format!("{uri}/1")).await.assert_status(204);
    h.get(&format!("{uri}/1"))
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn list_versions_is_newest_first_with_label_filters() {
    let (h, app, p) = setup().await;
    for label in ["v1", "v2-beta", "v2", "v2"] {
        h.version(&app, &p, &[("versionlabel", label)], label)
            .await
            .assert_status(201);
    }
    let uri = format!("/applications/{app}/configurationprofiles/{p}/hostedconfigurationversions");
    let numbers = |body: serde_json::Value| -> Vec<u64> {
        body["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["VersionNumber"].as_u64().unwrap())
            .collect()
    };
    let r = h.get(&uri).await;
    r.assert_status(200);
    let body = r.json();
    assert_eq!(numbers(body.clone()), vec![4, 3, 2, 1]);
    assert_eq!(body["Items"][0]["ContentType"], "application/json");
    assert_eq!(body["Items"][0]["ApplicationId"], app.as_str());
    assert!(body["Items"][0].get("Content").is_none());
    assert_eq!(
        numbers(h.get(&format!("{uri}?version_label=v2")).await.json()),
        vec![4, 3]
    );
    assert_eq!(
        numbers(h.get(&format!("{uri}?version_label=v2*")).await.json()),
        vec![4, 3, 2]
    );
    // Pages of one, newest first, no token on the last page.
    let first = h.get(&format!("{uri}?max_results=3")).await.json();
    assert_eq!(numbers(first.clone()), vec![4, 3, 2]);
    let token = first["NextToken"].as_str().unwrap();
    let last = h
        .get(&format!("{uri}?max_results=3&next_token={token}"))
        .await
        .json();
    assert_eq!(numbers(last.clone()), vec![1]);
    assert!(last.get("NextToken").is_none());
    h.get(&format!("{uri}?version_label="))
        .await
        .assert_error(400, "BadRequestException");
    h.get(&format!(
        "/applications/{app}/configurationprofiles/zzzzzzz/hostedconfigurationversions"
    ))
    .await
    .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn delete_version_answers_204_and_its_number_is_never_reused() {
    let (h, app, p) = setup().await;
    for c in ["1", "2", "3"] {
        h.version(&app, &p, &[], c).await.assert_status(201);
    }
    let uri = format!("/applications/{app}/configurationprofiles/{p}/hostedconfigurationversions");
    h.delete(&format!("{uri}/3")).await.assert_status(204);
    h.delete(&format!("{uri}/3"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    assert_eq!(
        h.version(&app, &p, &[], "4").await.header("version-number"),
        Some("4")
    );
    h.delete(&format!("{uri}/x"))
        .await
        .assert_error(400, "BadRequestException");
}
