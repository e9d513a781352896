//! CreateDeploymentStrategy, GetDeploymentStrategy, ListDeploymentStrategies,
//! UpdateDeploymentStrategy, DeleteDeploymentStrategy.

use serde_json::json;

use crate::support::Harness;

#[tokio::test]
async fn predefined_strategies_are_listed_first_and_readable_but_not_changeable() {
    let h = Harness::new();
    let r = h.get("/deploymentstrategies").await;
    r.assert_status(200);
    let items = r.json()["Items"].as_array().unwrap().clone();
    let ids: Vec<&str> = items.iter().map(|i| i["Id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"AppConfig.AllAtOnce"), "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("AppConfig.")));
    let r = h.get("/deploymentstrategies/AppConfig.AllAtOnce").await;
    r.assert_status(200);
    let body = r.json();
    assert_eq!(body["GrowthType"], "LINEAR");
    assert_eq!(body["GrowthFactor"], json!(100.0));
    h.patch_json(
        "/deploymentstrategies/AppConfig.AllAtOnce",
        &json!({"Description": "x"}),
    )
    .await
    .assert_error(400, "BadRequestException");
    h.delete("/deployementstrategies/AppConfig.AllAtOnce")
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn create_strategy_applies_defaults_and_keeps_the_float() {
    let h = Harness::new();
    let r = h
        .post_json(
            "/deploymentstrategies",
            &json!({"Name": "slow", "DeploymentDurationInMinutes": 30, "GrowthFactor": 12.5}),
        )
        .await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(body["GrowthType"], "LINEAR");
    assert_eq!(body["FinalBakeTimeInMinutes"], 0);
    assert_eq!(body["ReplicateTo"], "NONE");
    assert_eq!(body["GrowthFactor"], json!(12.5));
    assert_eq!(body["DeploymentDurationInMinutes"], 30);
}

#[tokio::test]
async fn create_strategy_errors() {
    let h = Harness::new();
    let ok = json!({"Name": "s", "DeploymentDurationInMinutes": 1, "GrowthFactor": 10});
    for (member, bad) in [
        ("Name", json!(null)),
        ("DeploymentDurationInMinutes", json!(1441)),
        ("DeploymentDurationInMinutes", json!(-1)),
        ("GrowthFactor", json!(0.5)),
        ("GrowthFactor", json!(101)),
        ("GrowthType", json!("QUADRATIC")),
        ("ReplicateTo", json!("S3")),
        ("FinalBakeTimeInMinutes", json!(2000)),
    ] {
        let mut body = ok.clone();
        body[member] = bad.clone();
        h.post_json("/deploymentstrategies", &body)
            .await
            .assert_error(400, "BadRequestException");
    }
    for i in 0..20 {
        let mut body = ok.clone();
        body["Name"] = json!(format!("s{i}"));
        h.post_json("/deploymentstrategies", &body)
            .await
            .assert_status(201);
    }
    h.post_json("/deploymentstrategies", &ok)
        .await
        .assert_error(402, "ServiceQuotaExceededException");
}

#[tokio::test]
async fn get_update_delete_strategy_use_the_model_routes_typo_included() {
    let h = Harness::new();
    let id = h
        .post_json(
            "/deploymentstrategies",
            &json!({"Name": "s", "DeploymentDurationInMinutes": 1, "GrowthFactor": 10}),
        )
        .await
        .json()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = h
        .patch_json(
            &format!("/deploymentstrategies/{id}"),
            &json!({"GrowthType": "EXPONENTIAL", "GrowthFactor": 2.5}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["GrowthType"], "EXPONENTIAL");
    assert_eq!(r.json()["GrowthFactor"], json!(2.5));
    assert_eq!(r.json()["Name"], "s");
    h.patch_json(
        &format!("/deploymentstrategies/{id}"),
        &json!({"GrowthFactor": 1000}),
    )
    .await
    .assert_error(400, "BadRequestException");
    // The model's DeleteDeploymentStrategy path has an extra `e`; the plain path has no DELETE.
    h.delete(&format!("/deploymentstrategies/{id}"))
        .await
        .assert_error(404, "UnknownOperationException");
    h.delete(&format!("/deployementstrategies/{id}"))
        .await
        .assert_status(204);
    h.get(&format!("/deploymentstrategies/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.delete(&format!("/deployementstrategies/{id}"))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.patch_json("/deploymentstrategies/zzzzzzz", &json!({}))
        .await
        .assert_error(404, "ResourceNotFoundException");
    h.get("/deploymentstrategies/Not.An.Id!")
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn strategies_page_across_the_predefined_and_user_boundary() {
    let h = Harness::new();
    for i in 0..3 {
        h.post_json(
            "/deploymentstrategies",
            &json!({"Name": format!("s{i}"), "DeploymentDurationInMinutes": 1, "GrowthFactor": 10}),
        )
        .await
        .assert_status(201);
    }
    let all = h.get("/deploymentstrategies").await.json()["Items"]
        .as_array()
        .unwrap()
        .len();
    let mut seen = Vec::new();
    let mut uri = "/deploymentstrategies?max_results=2".to_owned();
    loop {
        let body = h.get(&uri).await.json();
        seen.extend(
            body["Items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["Id"].as_str().unwrap().to_owned()),
        );
        match body.get("NextToken") {
            Some(t) => {
                uri = format!(
                    "/deploymentstrategies?max_results=2&next_token={}",
                    t.as_str().unwrap()
                )
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), all);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all, "{seen:?}");
}
