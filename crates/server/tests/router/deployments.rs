//! StartDeployment, GetDeployment, ListDeployments, StopDeployment, with the store's
//! clock moved by the test, and the environment state that follows.

use serde_json::{Value, json};

use crate::support::{Harness, TestClock};

/// An application with a hosted profile holding versions 1 (`{"v":1}`, label `one`) and
/// 2, an environment, and a linear strategy of 4 steps over 20 minutes with 10 minutes
/// of baking. Returns (app, profile, env, strategy).
async fn setup(h: &Harness) -> (String, String, String, String) {
    let app = h.application("a").await;
    let profile = h.profile(&app, json!({})).await;
    h.version(&app, &profile, &[("VersionLabel", "one")], r#"{"v":1}"#)
        .await
        .assert_status(201);
    h.version(&app, &profile, &[], r#"{"v":2}"#)
        .await
        .assert_status(201);
    let env = environment(h, &app).await;
    let r = h
        .post_json(
            "/deploymentstrategies",
            &json!({"Name": "quarters", "DeploymentDurationInMinutes": 20, "GrowthFactor": 25.0, "FinalBakeTimeInMinutes": 10}),
        )
        .await;
    r.assert_status(201);
    let strategy = r.json()["Id"].as_str().expect("a string member").to_owned();
    (app, profile, env, strategy)
}

/// Creates the environment `prod` of `app`; returns its id.
async fn environment(h: &Harness, app: &str) -> String {
    let r = h
        .post_json(
            &format!("/applications/{app}/environments"),
            &json!({"Name": "prod"}),
        )
        .await;
    r.assert_status(201);
    r.json()["Id"].as_str().expect("a string member").to_owned()
}

fn deployments(app: &str, env: &str) -> String {
    format!("/applications/{app}/environments/{env}/deployments")
}

async fn start(h: &Harness, app: &str, env: &str, body: Value) -> crate::support::Reply {
    h.post_json(&deployments(app, env), &body).await
}

async fn env_state(h: &Harness, app: &str, env: &str) -> String {
    let r = h
        .get(&format!("/applications/{app}/environments/{env}"))
        .await;
    r.assert_status(200);
    r.json()["State"]
        .as_str()
        .expect("a string member")
        .to_owned()
}

#[tokio::test]
async fn start_deployment_answers_201_with_the_deployment_shape() {
    let (h, _clock) = Harness::with_clock();
    let (app, profile, env, strategy) = setup(&h).await;
    let r = start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": strategy, "ConfigurationProfileId": profile, "ConfigurationVersion": "one", "Description": "first", "Tags": {"k": "v"}, "KmsKeyIdentifier": "alias/x"}),
    )
    .await;
    r.assert_status(201);
    let d = r.json();
    assert_eq!(d["ApplicationId"], app.as_str());
    assert_eq!(d["EnvironmentId"], env.as_str());
    assert_eq!(d["DeploymentStrategyId"], strategy.as_str());
    assert_eq!(d["ConfigurationProfileId"], profile.as_str());
    assert_eq!(d["DeploymentNumber"], 1);
    assert_eq!(d["ConfigurationName"], "limits");
    assert_eq!(d["ConfigurationLocationUri"], "hosted");
    assert_eq!(
        d["ConfigurationVersion"], "1",
        "the label resolved to version 1"
    );
    assert_eq!(d["VersionLabel"], "one");
    assert_eq!(d["Description"], "first");
    assert_eq!(d["KmsKeyIdentifier"], "alias/x");
    assert_eq!(d["DeploymentDurationInMinutes"], 20);
    assert_eq!(d["FinalBakeTimeInMinutes"], 10);
    assert_eq!(d["GrowthType"], "LINEAR");
    assert_eq!(d["GrowthFactor"], 25.0);
    assert_eq!(d["State"], "DEPLOYING");
    assert_eq!(d["PercentageComplete"], 25.0);
    assert_eq!(d["StartedAt"], "2024-05-01T12:00:00.000Z");
    assert!(d.get("CompletedAt").is_none());
    assert_eq!(
        d["EventLog"],
        json!([{"EventType": "DEPLOYMENT_STARTED", "TriggeredBy": "USER", "Description": "Deployment started", "OccurredAt": "2024-05-01T12:00:00.000Z"}])
    );
    assert_eq!(env_state(&h, &app, &env).await, "DEPLOYING");
}

#[tokio::test]
async fn get_deployment_follows_the_clock_through_steps_bake_and_completion() {
    let (h, clock) = Harness::with_clock();
    let (app, profile, env, strategy) = setup(&h).await;
    start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": strategy, "ConfigurationProfileId": profile, "ConfigurationVersion": "2"}),
    )
    .await
    .assert_status(201);
    let uri = format!("{}/1", deployments(&app, &env));
    clock.advance_minutes(11);
    let d = h.get(&uri).await.json();
    assert_eq!(
        (d["State"].clone(), d["PercentageComplete"].clone()),
        (json!("DEPLOYING"), json!(75.0))
    );
    let types: Vec<&str> = d["EventLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "PERCENTAGE_UPDATED",
            "PERCENTAGE_UPDATED",
            "DEPLOYMENT_STARTED"
        ]
    );
    clock.advance_minutes(10);
    let d = h.get(&uri).await.json();
    assert_eq!(d["State"], "BAKING");
    assert_eq!(env_state(&h, &app, &env).await, "DEPLOYING");
    clock.advance_minutes(10);
    let d = h.get(&uri).await.json();
    assert_eq!(d["State"], "COMPLETE");
    assert_eq!(d["PercentageComplete"], 100.0);
    assert_eq!(d["CompletedAt"], "2024-05-01T12:30:00.000Z");
    assert_eq!(d["EventLog"][0]["EventType"], "DEPLOYMENT_COMPLETED");
    assert_eq!(env_state(&h, &app, &env).await, "READY_FOR_DEPLOYMENT");
}

#[tokio::test]
async fn list_deployments_is_newest_first_and_paginated() {
    let (h, clock) = Harness::with_clock();
    let (app, profile, env, _) = setup(&h).await;
    for _ in 0..3 {
        start(
            &h,
            &app,
            &env,
            json!({"DeploymentStrategyId": "AppConfig.AllAtOnce", "ConfigurationProfileId": profile, "ConfigurationVersion": "1"}),
        )
        .await
        .assert_status(201);
        clock.advance_minutes(1);
    }
    let r = h
        .get(&format!("{}?max_results=2", deployments(&app, &env)))
        .await;
    r.assert_status(200);
    let page = r.json();
    let numbers: Vec<_> = page["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DeploymentNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2]);
    assert_eq!(page["Items"][0]["State"], "BAKING");
    assert_eq!(
        page["Items"][1]["State"], "COMPLETE",
        "superseded while baking"
    );
    assert_eq!(page["Items"][0]["Type"], "USER");
    let token = page["NextToken"].as_str().unwrap();
    let r = h
        .get(&format!("{}?next_token={token}", deployments(&app, &env)))
        .await;
    let page = r.json();
    assert_eq!(page["Items"].as_array().unwrap().len(), 1);
    assert_eq!(page["Items"][0]["DeploymentNumber"], 1);
    assert!(page.get("NextToken").is_none());
    h.get(&format!("{}?next_token=zz", deployments(&app, &env)))
        .await
        .assert_error(400, "BadRequestException");
    h.get(&format!("{}?max_results=51", deployments(&app, &env)))
        .await
        .assert_error(400, "BadRequestException");
    h.get("/applications/zzzz/environments/eeee/deployments")
        .await
        .assert_error(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn stop_deployment_rolls_back_with_202_and_revert_needs_allow_revert() {
    let (h, clock) = Harness::with_clock();
    let (app, profile, env, strategy) = setup(&h).await;
    start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": strategy, "ConfigurationProfileId": profile, "ConfigurationVersion": "2"}),
    )
    .await
    .assert_status(201);
    clock.advance_minutes(6);
    let uri = format!("{}/1", deployments(&app, &env));
    let r = h.delete(&uri).await;
    r.assert_status(202);
    let d = r.json();
    assert_eq!(d["State"], "ROLLED_BACK");
    assert_eq!(d["PercentageComplete"], 50.0);
    assert_eq!(d["EventLog"][0]["EventType"], "ROLLBACK_COMPLETED");
    assert_eq!(d["EventLog"][1]["EventType"], "ROLLBACK_STARTED");
    assert_eq!(env_state(&h, &app, &env).await, "ROLLED_BACK");
    // A second stop: StopDeployment models no ConflictException.
    h.delete(&uri)
        .await
        .assert_error(400, "BadRequestException");

    start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": "AppConfig.AllAtOnce", "ConfigurationProfileId": profile, "ConfigurationVersion": "2"}),
    )
    .await
    .assert_status(201);
    clock.advance_minutes(11);
    let uri2 = format!("{}/2", deployments(&app, &env));
    h.delete(&uri2)
        .await
        .assert_error(400, "BadRequestException");
    h.send(
        axum::http::Method::DELETE,
        &uri2,
        &[("Allow-Revert", "maybe")],
        axum::body::Body::empty(),
    )
    .await
    .assert_error(400, "BadRequestException");
    let r = h
        .send(
            axum::http::Method::DELETE,
            &uri2,
            &[("Allow-Revert", "true")],
            axum::body::Body::empty(),
        )
        .await;
    r.assert_status(202);
    assert_eq!(r.json()["State"], "REVERTED");
    assert_eq!(env_state(&h, &app, &env).await, "REVERTED");
    h.delete(&format!("{}/9", deployments(&app, &env)))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.delete(&format!("{}/x", deployments(&app, &env)))
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn start_deployment_errors() {
    let (h, _clock): (Harness, TestClock) = Harness::with_clock();
    let (app, profile, env, strategy) = setup(&h).await;
    let ok = json!({"DeploymentStrategyId": strategy, "ConfigurationProfileId": profile, "ConfigurationVersion": "1"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    for missing in [
        "DeploymentStrategyId",
        "ConfigurationProfileId",
        "ConfigurationVersion",
    ] {
        start(&h, &app, &env, without(missing))
            .await
            .assert_error(400, "BadRequestException");
    }
    for (k, v) in [
        ("DeploymentStrategyId", json!("Not A Strategy")),
        ("ConfigurationVersion", json!("")),
        ("Description", json!("x".repeat(1025))),
        ("LatestDeploymentNumber", json!("one")),
        ("LatestDeploymentNumber", json!(-1)),
        ("DynamicExtensionParameters", json!({"no-hash": "v"})),
        ("DynamicExtensionParameters", json!({})),
        ("Tags", json!({"": "v"})),
    ] {
        let r = start(&h, &app, &env, with(k, v.clone())).await;
        r.assert_error(400, "BadRequestException");
    }
    for (k, v) in [
        ("DeploymentStrategyId", json!("zzzz")),
        ("ConfigurationProfileId", json!("zzzz")),
        ("ConfigurationVersion", json!("7")),
        ("ConfigurationVersion", json!("no-such-label")),
    ] {
        let body = start(&h, &app, &env, with(k, v))
            .await
            .assert_error(404, "ResourceNotFoundException");
        assert!(body["ResourceName"].is_string());
    }
    start(&h, "zzzz", &env, ok.clone())
        .await
        .assert_error(404, "ResourceNotFoundException");
    start(&h, &app, "zzzz", ok.clone())
        .await
        .assert_error(404, "ResourceNotFoundException");
    // The lock: 0 before any deployment; a stale value afterwards is a conflict.
    start(&h, &app, &env, with("LatestDeploymentNumber", json!(1)))
        .await
        .assert_error(409, "ConflictException");
    start(&h, &app, &env, with("LatestDeploymentNumber", json!(0)))
        .await
        .assert_status(201);
    // In progress: another deployment to the environment is a conflict.
    let body = start(&h, &app, &env, ok.clone())
        .await
        .assert_error(409, "ConflictException");
    assert!(body["Message"].as_str().unwrap().contains("in progress"));
    // Deleting the environment meanwhile is a conflict too.
    h.delete(&format!("/applications/{app}/environments/{env}"))
        .await
        .assert_error(409, "ConflictException");
    h.post_json(&deployments(&app, &env), &json!([1]))
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn get_deployment_errors() {
    let (h, _clock) = Harness::with_clock();
    let (app, _, env, _) = setup(&h).await;
    h.get(&format!("{}/1", deployments(&app, &env)))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get(&format!("{}/99999999999", deployments(&app, &env)))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get(&format!("{}/one", deployments(&app, &env)))
        .await
        .assert_error(400, "BadRequestException");
    h.get(&format!(
        "/applications/{app}/environments/zzzz/deployments/1"
    ))
    .await
    .assert_error(404, "ResourceNotFoundException");
    h.send(
        axum::http::Method::PATCH,
        &format!("{}/1", deployments(&app, &env)),
        &[],
        axum::body::Body::empty(),
    )
    .await
    .assert_error(404, "UnknownOperationException");
}

#[tokio::test]
async fn start_deployment_runs_the_profiles_validators_first() {
    let (h, _clock) = Harness::with_clock();
    let app = h.application("a").await;
    let schema = r#"{"type": "object", "required": ["max"]}"#;
    let profile = h
        .profile(
            &app,
            json!({"Validators": [{"Type": "JSON_SCHEMA", "Content": schema}]}),
        )
        .await;
    h.version(&app, &profile, &[], r#"{"min": 1}"#)
        .await
        .assert_status(201);
    h.version(&app, &profile, &[], r#"{"max": 1}"#)
        .await
        .assert_status(201);
    let r = h
        .post_json(
            &format!("/applications/{app}/environments"),
            &json!({"Name": "prod"}),
        )
        .await;
    let env = r.json()["Id"].as_str().expect("Id").to_owned();
    let body = start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": "AppConfig.AllAtOnce", "ConfigurationProfileId": profile, "ConfigurationVersion": "1"}),
    )
    .await
    .assert_error(400, "BadRequestException");
    assert_eq!(body["Reason"], "InvalidConfiguration");
    assert_eq!(
        body["Details"]["InvalidConfiguration"][0]["Constraint"],
        "required"
    );
    let listed = h.get(&deployments(&app, &env)).await.json();
    assert_eq!(listed["Items"], json!([]), "nothing was deployed");
    start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": "AppConfig.AllAtOnce", "ConfigurationProfileId": profile, "ConfigurationVersion": "2"}),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn update_environment_reports_the_state_its_deployment_gives_it() {
    let (h, _clock) = Harness::with_clock();
    let (app, profile, env, strategy) = setup(&h).await;
    start(
        &h,
        &app,
        &env,
        json!({"DeploymentStrategyId": strategy, "ConfigurationProfileId": profile, "ConfigurationVersion": "1"}),
    )
    .await
    .assert_status(201);
    let r = h
        .patch_json(
            &format!("/applications/{app}/environments/{env}"),
            &json!({"Description": "renamed while deploying"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["State"], "DEPLOYING");
    let listed = h.get(&format!("/applications/{app}/environments")).await;
    assert_eq!(listed.json()["Items"][0]["State"], "DEPLOYING");
}

#[tokio::test]
async fn a_label_deploys_the_newest_live_version_carrying_it() {
    // Invariant: a `ConfigurationVersion` that is a label names the newest live version
    // carrying it, as StartDeployment resolves it over HTTP; deleting that version hands
    // the label to the next newest.
    let (h, clock) = Harness::with_clock();
    let app = h.application("a").await;
    let profile = h.profile(&app, json!({})).await;
    for (label, body) in [
        ("prod", r#"{"v":1}"#),
        ("prod", r#"{"v":2}"#),
        ("other", r#"{"v":3}"#),
    ] {
        h.version(&app, &profile, &[("VersionLabel", label)], body)
            .await
            .assert_status(201);
    }
    let env = environment(&h, &app).await;
    let prod = json!({"DeploymentStrategyId": "AppConfig.AllAtOnce", "ConfigurationProfileId": profile, "ConfigurationVersion": "prod"});

    let r = start(&h, &app, &env, prod.clone()).await;
    r.assert_status(201);
    assert_eq!(r.json()["ConfigurationVersion"], "2", "{}", r.json());
    assert_eq!(r.json()["VersionLabel"], "prod");
    // All at once, then 10 minutes of baking: done before the next start.
    clock.advance_minutes(11);
    h.delete(&format!(
        "/applications/{app}/configurationprofiles/{profile}/hostedconfigurationversions/2"
    ))
    .await
    .assert_status(204);
    let r = start(&h, &app, &env, prod).await;
    r.assert_status(201);
    assert_eq!(r.json()["ConfigurationVersion"], "1", "{}", r.json());
}
