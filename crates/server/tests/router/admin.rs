//! The Verso admin API (`/_verso/v1/...`, docs/admin-api.md): read-only audit queries
//! beside the AWS routes, JSON bodies, `log` as JSON lines and `export` as bundle bytes.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::Harness;

/// An application `shop` with a profile `limits` and two versions (`stable` on v1).
async fn setup() -> (Harness, String, String) {
    let h = Harness::new();
    let app = h.application("shop").await;
    let p = h.profile(&app, json!({})).await;
    h.version(&app, &p, &[("versionlabel", "stable")], r#"{"max": 10}"#)
        .await
        .assert_status(201);
    h.version(&app, &p, &[], r#"{"max": 20}"#)
        .await
        .assert_status(201);
    (h, app, p)
}

fn lines(body: &[u8]) -> Vec<Value> {
    std::str::from_utf8(body)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[track_caller]
fn assert_admin_error(r: &crate::support::Reply, status: u16, kind: &str) {
    assert_eq!(
        r.status.as_u16(),
        status,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body = r.json();
    assert_eq!(body["error"]["kind"], kind, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn log_streams_every_record_as_a_json_line_and_filters() {
    let (h, app, p) = setup().await;
    let r = h.get("/_verso/v1/log").await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let all = lines(&r.body);
    assert_eq!(all.len(), 4);
    assert_eq!(all[2]["event"], "VersionCreated");
    assert_eq!(all[2]["version"], 1);
    assert_eq!(all[2]["stream"], format!("appconfig/{app}/{p}"));
    assert_eq!(all[2]["chain_hash"].as_str().map(str::len), Some(64));
    let window = lines(&h.get("/_verso/v1/log?from=2&to=3").await.body);
    let positions: Vec<_> = window.iter().map(|e| e["position"].clone()).collect();
    assert_eq!(positions, [json!(2), json!(3)]);
    let stream = lines(
        &h.get(&format!("/_verso/v1/log?application={app}&profile={p}"))
            .await
            .body,
    );
    assert_eq!(stream.len(), 3, "the profile and its two versions");
    let by_stream = lines(
        &h.get(&format!("/_verso/v1/log?stream=appconfig%2F{app}%2F{p}"))
            .await
            .body,
    );
    assert_eq!(
        by_stream, stream,
        "stream= selects as application= and profile="
    );
    let none = h.get("/_verso/v1/log?since_ms=0&until_ms=1").await;
    none.assert_status(200);
    assert!(none.body.is_empty());
}

#[tokio::test]
async fn bad_parameters_are_400_bad_request() {
    let (h, app, _) = setup().await;
    for uri in [
        "/_verso/v1/log?from=x".to_owned(),
        format!("/_verso/v1/log?application={app}"),
        "/_verso/v1/snapshot?position=0".to_owned(),
        "/_verso/v1/snapshot?position=1&time_ms=5".to_owned(),
        "/_verso/v1/version?application=shop".to_owned(),
        "/_verso/v1/version?application=shop&profile=limits&version=1&label=stable".to_owned(),
        "/_verso/v1/resolve?profile=limits".to_owned(),
        // A stream as the log shows it: ids of their shape, one way to name it.
        "/_verso/v1/log?stream=shop/limits".to_owned(),
        "/_verso/v1/log?stream=connect/inst-1/not-a-uuid".to_owned(),
        format!("/_verso/v1/log?stream=appconfig/{app}/abcd123&application={app}&profile=abcd123"),
        "/_verso/v1/version?stream=proton/base".to_owned(),
        "/_verso/v1/version?stream=proton/base%231&label=stable".to_owned(),
        "/_verso/v1/version?stream=proton/base%231&application=shop&profile=limits".to_owned(),
    ] {
        assert_admin_error(&h.get(&uri).await, 400, "bad_request");
    }
}

#[tokio::test]
async fn resolve_and_version_take_names_or_ids_and_refuse_unknown_ones() {
    let (h, app, p) = setup().await;
    let r = h
        .get("/_verso/v1/resolve?application=shop&profile=limits")
        .await;
    r.assert_status(200);
    assert_eq!(r.json(), json!({"application": app, "profile": p}));
    assert_admin_error(
        &h.get("/_verso/v1/resolve?application=shop&profile=nope")
            .await,
        404,
        "refused",
    );
    let v = h
        .get("/_verso/v1/version?application=shop&profile=limits&label=stable")
        .await;
    v.assert_status(200);
    let v = v.json();
    assert_eq!(v["version"], 1);
    assert_eq!(v["label"], "stable");
    assert_eq!(v["content_type"], "application/json");
    assert_eq!(v["size"], 11);
    let hex: String = br#"{"max": 10}"#.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v["content_hex"], hex);
    // As of position 3, version 2 did not exist yet.
    let latest = h
        .get(&format!(
            "/_verso/v1/version?application={app}&profile={p}&position=3"
        ))
        .await
        .json();
    assert_eq!(
        (latest["version"].clone(), latest["as_of_position"].clone()),
        (json!(1), json!(3))
    );
    assert_admin_error(
        &h.get("/_verso/v1/version?application=shop&profile=limits&version=9")
            .await,
        404,
        "refused",
    );
}

#[tokio::test]
async fn snapshot_is_the_state_as_of_a_position_or_a_time() {
    let (h, app, _) = setup().await;
    let now = h.get("/_verso/v1/snapshot").await;
    now.assert_status(200);
    let now = now.json();
    assert_eq!(now["position"], 4);
    assert_eq!(now["streams"][0]["application"], app);
    assert_eq!(now["streams"][0]["latest_version"], 2);
    assert_eq!(now["streams"][0]["labels"], json!({"stable": 1}));
    let then = h.get("/_verso/v1/snapshot?position=3").await.json();
    assert_eq!(then["streams"][0]["latest_version"], 1);
    let before = h.get("/_verso/v1/snapshot?time_ms=0").await.json();
    assert_eq!(
        (before["position"].clone(), before["streams"].clone()),
        (json!(0), json!([]))
    );
}

#[tokio::test]
async fn verify_runs_on_the_writer_and_answers_the_head() {
    let (h, _, _) = setup().await;
    let r = h.get("/_verso/v1/verify").await;
    r.assert_status(200);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["head"]["position"], 4);
    assert_eq!(
        v["head"]["chain_hash"],
        h.store.head().hash_hex(),
        "the same head the store has"
    );
    // Read-only: nothing was appended.
    assert_eq!(h.store.head().position, 4);
}

#[tokio::test]
async fn export_streams_a_bundle_that_verifies_offline() {
    let (h, _, _) = setup().await;
    let r = h.get("/_verso/v1/export").await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    let report = verso_storage::verify_bundle(&mut r.body.as_slice(), Some(h.store.head()))
        .expect("readable")
        .expect("verifies against the store's head");
    assert_eq!(report.records, 4);
    assert_eq!(report.head, h.store.head());
}

#[tokio::test]
async fn admin_routes_are_get_only_and_others_stay_aws() {
    let (h, _, _) = setup().await;
    let post = h
        .send(
            Method::POST,
            "/_verso/v1/verify",
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_ne!(post.status.as_u16(), 200);
    assert!(
        post.header("x-amzn-errortype").is_some(),
        "the AWS fallback answers"
    );
    let unknown = h.get("/_verso/v1/nothing").await;
    assert!(unknown.header("x-amzn-errortype").is_some());
    // The AWS routes are untouched.
    h.get("/applications").await.assert_status(200);
}
