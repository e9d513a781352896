//! StartConfigurationSession and GetLatestConfiguration (AppConfigData), with the
//! store's clock moved by the test: first poll, unchanged polls, a new deployment, a
//! rollback, single-use and expiring tokens, the poll interval, gradual rollouts.

use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Harness, Reply, TestClock};

struct Names {
    app: String,
    profile: String,
    env: String,
}

async fn setup(h: &Harness) -> Names {
    let app = h.application("payments").await;
    let profile = h.profile(&app, json!({})).await;
    h.version(&app, &profile, &[("VersionLabel", "v-one")], r#"{"v":1}"#)
        .await
        .assert_status(201);
    h.version(&app, &profile, &[], r#"{"v":2}"#)
        .await
        .assert_status(201);
    let r = h
        .post_json(
            &format!("/applications/{app}/environments"),
            &json!({"Name": "prod"}),
        )
        .await;
    r.assert_status(201);
    let env = r.json()["Id"].as_str().expect("a string member").to_owned();
    Names { app, profile, env }
}

async fn deploy(h: &Harness, n: &Names, version: &str, strategy: &str) -> Value {
    let r = h
        .post_json(
            &format!("/applications/{}/environments/{}/deployments", n.app, n.env),
            &json!({"DeploymentStrategyId": strategy, "ConfigurationProfileId": n.profile, "ConfigurationVersion": version}),
        )
        .await;
    r.assert_status(201);
    r.json()
}

async fn session(h: &Harness, body: Value) -> Reply {
    h.post_json("/configurationsessions", &body).await
}

async fn session_token(h: &Harness, n: &Names, interval: Option<u32>) -> String {
    let mut body = json!({"ApplicationIdentifier": n.app, "EnvironmentIdentifier": n.env, "ConfigurationProfileIdentifier": n.profile});
    if let Some(i) = interval {
        body["RequiredMinimumPollIntervalInSeconds"] = json!(i);
    }
    let r = session(h, body).await;
    r.assert_status(201);
    r.json()["InitialConfigurationToken"]
        .as_str()
        .expect("a string member")
        .to_owned()
}

async fn poll(h: &Harness, token: &str) -> Reply {
    h.get(&format!("/configuration?configuration_token={token}"))
        .await
}

fn next_token(r: &Reply) -> String {
    r.header("next-poll-configuration-token")
        .expect("Next-Poll-Configuration-Token")
        .to_owned()
}

#[track_caller]
fn assert_problem(r: &Reply, problem: &str) {
    let body = r.assert_error(400, "BadRequestException");
    assert_eq!(body["Reason"], "InvalidParameters");
    assert_eq!(
        body["Details"]["InvalidParameters"]["ConfigurationToken"]["Problem"], problem,
        "{body}"
    );
}

#[tokio::test]
async fn first_poll_returns_the_content_then_unchanged_polls_are_empty() {
    let (h, clock) = Harness::with_clock();
    let n = setup(&h).await;
    deploy(&h, &n, "v-one", "AppConfig.AllAtOnce").await;
    let token = session_token(&h, &n, Some(15)).await;
    let r = poll(&h, &token).await;
    r.assert_status(200);
    assert_eq!(r.body, br#"{"v":1}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("version-label"), Some("v-one"));
    assert_eq!(r.header("next-poll-interval-in-seconds"), Some("15"));
    let mut token = next_token(&r);
    for _ in 0..3 {
        clock.advance_secs(15);
        let r = poll(&h, &token).await;
        r.assert_status(200);
        assert!(r.body.is_empty(), "unchanged: {:?}", r.body);
        assert_eq!(r.header("version-label"), None);
        token = next_token(&r);
    }
    // A new version deployed: the next poll returns it.
    deploy(&h, &n, "2", "AppConfig.AllAtOnce").await;
    clock.advance_secs(15);
    let r = poll(&h, &token).await;
    assert_eq!(r.body, br#"{"v":2}"#);
    assert_eq!(r.header("version-label"), None, "version 2 has no label");
}

#[tokio::test]
async fn tokens_are_single_use_expire_and_cannot_be_forged() {
    let (h, clock) = Harness::with_clock();
    let n = setup(&h).await;
    deploy(&h, &n, "1", "AppConfig.AllAtOnce").await;
    let first = session_token(&h, &n, Some(15)).await;
    let r = poll(&h, &first).await;
    r.assert_status(200);
    let second = next_token(&r);
    assert_problem(&poll(&h, &first).await, "Expired");
    // Too early: the token stays valid.
    assert_problem(&poll(&h, &second).await, "PollIntervalNotSatisfied");
    clock.advance_secs(14);
    assert_problem(&poll(&h, &second).await, "PollIntervalNotSatisfied");
    clock.advance_secs(1);
    poll(&h, &second).await.assert_status(200);
    // Forged: a changed character.
    let mut forged = first.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    assert_problem(
        &poll(&h, std::str::from_utf8(&forged).unwrap()).await,
        "Corrupted",
    );
    assert_problem(&poll(&h, "not-a-token").await, "Corrupted");
    // Expired: an unused initial token, 24 hours later.
    let unused = session_token(&h, &n, None).await;
    clock.advance_secs(24 * 3600);
    assert_problem(&poll(&h, &unused).await, "Expired");
    // Missing or malformed.
    h.get("/configuration")
        .await
        .assert_error(400, "BadRequestException");
    h.get("/configuration?configuration_token=")
        .await
        .assert_error(400, "BadRequestException");
    h.get(&format!(
        "/configuration?configuration_token={}",
        "a".repeat(8193)
    ))
    .await
    .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn sessions_name_resources_by_id_or_name_and_check_their_input() {
    let (h, _clock) = Harness::with_clock();
    let n = setup(&h).await;
    deploy(&h, &n, "1", "AppConfig.AllAtOnce").await;
    let r = session(
        &h,
        json!({"ApplicationIdentifier": "payments", "EnvironmentIdentifier": "prod", "ConfigurationProfileIdentifier": "limits"}),
    )
    .await;
    r.assert_status(201);
    let token = r.json()["InitialConfigurationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = poll(&h, &token).await;
    assert_eq!(r.body, br#"{"v":1}"#);
    assert_eq!(
        r.header("next-poll-interval-in-seconds"),
        Some("60"),
        "AWS's default interval"
    );
    for (member, value, resource) in [
        ("ApplicationIdentifier", "nope", "Application"),
        ("EnvironmentIdentifier", "nope", "Environment"),
        (
            "ConfigurationProfileIdentifier",
            "nope",
            "ConfigurationProfile",
        ),
    ] {
        let mut body = json!({"ApplicationIdentifier": n.app, "EnvironmentIdentifier": n.env, "ConfigurationProfileIdentifier": n.profile});
        body[member] = json!(value);
        let e = session(&h, body)
            .await
            .assert_error(404, "ResourceNotFoundException");
        assert_eq!(e["ResourceType"], resource);
    }
    for (member, value) in [
        ("RequiredMinimumPollIntervalInSeconds", json!(14)),
        ("RequiredMinimumPollIntervalInSeconds", json!(86401)),
        ("RequiredMinimumPollIntervalInSeconds", json!("15")),
        ("ApplicationIdentifier", json!("")),
        ("EnvironmentIdentifier", json!("x".repeat(129))),
    ] {
        let mut body = json!({"ApplicationIdentifier": n.app, "EnvironmentIdentifier": n.env, "ConfigurationProfileIdentifier": n.profile});
        body[member] = value;
        session(&h, body)
            .await
            .assert_error(400, "BadRequestException");
    }
    session(&h, json!({"ApplicationIdentifier": n.app}))
        .await
        .assert_error(400, "BadRequestException");
    h.send(Method::PUT, "/configurationsessions", &[], Body::empty())
        .await
        .assert_error(404, "UnknownOperationException");
}

#[tokio::test]
async fn nothing_deployed_is_an_empty_body_until_a_deployment_arrives() {
    let (h, clock) = Harness::with_clock();
    let n = setup(&h).await;
    let token = session_token(&h, &n, Some(15)).await;
    let r = poll(&h, &token).await;
    r.assert_status(200);
    assert!(r.body.is_empty());
    deploy(&h, &n, "2", "AppConfig.AllAtOnce").await;
    clock.advance_secs(15);
    let r = poll(&h, &next_token(&r)).await;
    assert_eq!(r.body, br#"{"v":2}"#);
}

#[tokio::test]
async fn a_rollback_returns_sessions_to_the_previous_version() {
    let (h, clock) = Harness::with_clock();
    let n = setup(&h).await;
    deploy(&h, &n, "1", "AppConfig.AllAtOnce").await;
    clock.advance_minutes(11);
    deploy(&h, &n, "2", "AppConfig.AllAtOnce").await;
    let token = session_token(&h, &n, Some(15)).await;
    let r = poll(&h, &token).await;
    assert_eq!(r.body, br#"{"v":2}"#);
    h.delete(&format!(
        "/applications/{}/environments/{}/deployments/2",
        n.app, n.env
    ))
    .await
    .assert_status(202);
    clock.advance_secs(15);
    let r = poll(&h, &next_token(&r)).await;
    assert_eq!(r.body, br#"{"v":1}"#, "back to version 1");
}

#[tokio::test]
async fn a_gradual_deployment_reaches_a_share_of_sessions_that_follows_its_percentage() {
    let (h, clock) = Harness::with_clock();
    let n = setup(&h).await;
    deploy(&h, &n, "1", "AppConfig.AllAtOnce").await;
    clock.advance_minutes(11);
    let r = h
        .post_json(
            "/deploymentstrategies",
            &json!({"Name": "halves", "DeploymentDurationInMinutes": 10, "GrowthFactor": 50.0}),
        )
        .await;
    let strategy = r.json()["Id"].as_str().unwrap().to_owned();
    deploy(&h, &n, "2", &strategy).await;
    // 50% for the first 5 minutes: about half of 200 sessions see version 2.
    let mut tokens = Vec::new();
    let mut on_new = 0;
    for _ in 0..200 {
        let r = poll(&h, &session_token(&h, &n, Some(15)).await).await;
        if r.body == br#"{"v":2}"# {
            on_new += 1;
        } else {
            assert_eq!(r.body, br#"{"v":1}"#);
        }
        tokens.push((next_token(&r), r.body));
    }
    assert!((70..=130).contains(&on_new), "{on_new} of 200 at 50%");
    // Each session's answer is stable while the percentage stands.
    clock.advance_secs(15);
    for (token, _) in &mut tokens {
        let r = poll(&h, token).await;
        assert!(r.body.is_empty(), "no change for anyone");
        *token = next_token(&r);
    }
    // At 100% everyone moves to version 2; those already there see nothing new.
    clock.advance_minutes(5);
    for (token, seen) in &tokens {
        let r = poll(&h, token).await;
        if seen.as_slice() == br#"{"v":2}"# {
            assert!(r.body.is_empty());
        } else {
            assert_eq!(r.body, br#"{"v":2}"#);
        }
    }
}

#[tokio::test]
async fn a_session_keeps_working_across_a_restart() {
    let (h, clock): (Harness, TestClock) = Harness::with_clock();
    let n = setup(&h).await;
    deploy(&h, &n, "1", "AppConfig.AllAtOnce").await;
    let token = session_token(&h, &n, Some(15)).await;
    let r = poll(&h, &token).await;
    let next = next_token(&r);
    let h = h.reopen(&clock);
    clock.advance_secs(15);
    let r = poll(&h, &next).await;
    r.assert_status(200);
    assert!(r.body.is_empty(), "still holds version 1");
}
