//! Cross-cutting wire behaviour: request ids, unknown operations, malformed bodies,
//! percent-encoded labels, internal errors.

use axum::body::Body;
use axum::http::Method;
use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn every_response_has_a_request_id_errors_included() {
    let h = Harness::new();
    for r in [
        h.get("/applications").await,
        h.get("/applications/zzzzzzz").await,
        h.get("/nowhere").await,
    ] {
        let id = r.header("x-amzn-requestid").expect("request id");
        assert_eq!(id.len(), 36, "{id}");
    }
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_are_unknown_operations() {
    let h = Harness::new();
    h.get("/nowhere")
        .await
        .assert_error(404, "UnknownOperationException");
    h.send(Method::PUT, "/applications", &[], Body::empty())
        .await
        .assert_error(404, "UnknownOperationException");
    // Adjacent AppConfig operations Verso does not serve.
    h.get("/settings")
        .await
        .assert_error(404, "UnknownOperationException");
    h.get("/extensions")
        .await
        .assert_error(404, "UnknownOperationException");
}

#[tokio::test]
async fn malformed_json_and_non_objects_are_bad_requests() {
    let h = Harness::new();
    for body in [
        "{",
        "[]",
        "\"Name\"",
        "{\"Name\": \"\u{1}\"",
        "{\"Name\": null, \"Tags\": [1]}",
    ] {
        h.send(
            Method::POST,
            "/applications",
            &[("content-type", "application/json")],
            body.to_owned(),
        )
        .await
        .assert_error(400, "BadRequestException");
    }
    h.send(Method::POST, "/applications", &[], vec![b'{', 0xff, b'}'])
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn a_json_body_over_one_mebibyte_is_refused_before_it_is_buffered() {
    let h = Harness::new();
    let huge = format!("{{\"Name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    h.send(
        Method::POST,
        "/applications",
        &[("content-type", "application/json")],
        huge,
    )
    .await
    .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn labels_are_percent_decoded_after_the_path_is_split() {
    let h = Harness::new();
    let app = h.application("a").await;
    // `%61` is `a`: a label decodes to the id it spells.
    let encoded: String = app.bytes().map(|b| format!("%{b:02X}")).collect();
    h.get(&format!("/applications/{encoded}"))
        .await
        .assert_status(200);
    // A decoded `/` stays inside the label; it names no application.
    h.get("/applications/ab%2Fcd")
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get("/applications/%FF%FE")
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn the_signers_access_key_is_recorded_as_the_actor() {
    let h = Harness::new();
    h.send(
        Method::POST,
        "/applications",
        &[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDVERSO/20261122/us-east-1/appconfig/aws4_request, SignedHeaders=host, Signature=0",
        )],
        json!({"Name": "a"}).to_string(),
    )
    .await
    .assert_status(201);
    let events: Vec<_> = h
        .store
        .events(verso_domain::Position::FIRST)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(events[0].actor.as_deref(), Some("AKIDVERSO"));
}

#[cfg(feature = "failpoints")]
#[tokio::test]
async fn a_failed_sync_is_an_internal_server_error_with_a_json_body_then_the_store_refuses() {
    let h = Harness::new();
    h.store.fail_next_syncs(1);
    let body = h
        .post_json("/applications", &json!({"Name": "a"}))
        .await
        .assert_error(500, "InternalServerException");
    // The client gets a generic message, not the store's detail.
    assert!(
        !body["Message"].as_str().unwrap().contains("sync"),
        "{body}"
    );
    // C4: from then on every surface says plainly that the store is poisoned: the
    // service's 500, and the admin verify as a storage failure (not a corruption).
    let body = h
        .post_json("/applications", &json!({"Name": "b"}))
        .await
        .assert_error(500, "InternalServerException");
    assert!(
        body["Message"].as_str().unwrap().contains("poisoned"),
        "{body}"
    );
    let verify = h.get("/_verso/v1/verify").await;
    verify.assert_status(500);
    let v = verify.json();
    assert_eq!(v["error"]["kind"], "storage", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("poisoned"),
        "{v}"
    );
}

#[cfg(feature = "failpoints")]
#[tokio::test]
async fn a_full_write_queue_is_answered_with_throttling_and_appends_nothing() {
    // Backpressure: with the writer held and a queue of one, at most two requests are
    // taken; the others get AWS's ThrottlingException (429), which the SDKs retry,
    // rather than waiting in memory.
    let h = Harness::with_options(verso_storage::StoreOptions::new().queue(1).max_batch(1));
    let held = h.store.hold_writer();
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drop(held);
    };
    let bodies = ["a", "b", "c", "d"].map(|name| json!({ "Name": name }));
    let (a, b, c, d, ()) = tokio::join!(
        h.post_json("/applications", &bodies[0]),
        h.post_json("/applications", &bodies[1]),
        h.post_json("/applications", &bodies[2]),
        h.post_json("/applications", &bodies[3]),
        release,
    );
    let mut throttled = 0;
    let mut created = 0;
    for reply in [a, b, c, d] {
        if reply.status.as_u16() == 429 {
            reply.assert_error(429, "ThrottlingException");
            throttled += 1;
        } else {
            reply.assert_status(201);
            created += 1;
        }
    }
    assert!(throttled >= 2, "{throttled} throttled, {created} created");
    let listed = h.get("/applications").await.json();
    assert_eq!(listed["Items"].as_array().unwrap().len(), created);
}
