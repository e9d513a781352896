//! Compatibility with the AWS SDK for Rust: `aws-sdk-appconfig` and
//! `aws-sdk-appconfigdata`, configured as a user would (endpoint URL, region,
//! credentials), against a real `verso serve` started on 127.0.0.1 with a free port and
//! a temporary data directory. Every served operation is called; errors must arrive as
//! the SDK's typed exceptions.

mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use aws_sdk_appconfig::Client;
use aws_sdk_appconfig::config::timeout::TimeoutConfig;
use aws_sdk_appconfig::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_sdk_appconfig::operation::get_deployment::GetDeploymentError;
use aws_sdk_appconfig::primitives::Blob;
use aws_sdk_appconfig::types::{
    DeploymentEventType, DeploymentState, EnvironmentState, GrowthType, Monitor, Validator,
    ValidatorType,
};
use aws_sdk_appconfigdata::operation::get_latest_configuration::GetLatestConfigurationError;
use aws_sdk_appconfigdata::operation::start_configuration_session::StartConfigurationSessionError;
use aws_sdk_appconfigdata::types::{BadRequestReason, InvalidParameterProblem, ResourceType};

/// Every SDK call gives up after this long: a server that stops answering fails the test
/// instead of hanging it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A `verso serve` child process, stopped with SIGTERM (then SIGKILL) on drop.
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    /// `verso serve` on a free port with `extra` arguments (e.g.
    /// `--poll-interval-check off`).
    fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        let (child, endpoint) = support::serve(data_dir, extra, Stdio::inherit());
        Self { child, endpoint }
    }

    /// The configuration every client here shares, as a user sets it up once for all
    /// services (`aws_types::SdkConfig`): the endpoint override (Verso serves every API
    /// on one listener), a region, dummy credentials, plain HTTP and a call timeout.
    fn sdk_config(&self) -> aws_types::SdkConfig {
        aws_types::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDRUSTSDK",
                "secret",
                None,
                None,
                "test",
            )))
            .endpoint_url(&self.endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(CALL_TIMEOUT)
                    .build(),
            )
            .build()
    }

    fn client(&self) -> Client {
        Client::new(&self.sdk_config())
    }

    fn data_client(&self) -> aws_sdk_appconfigdata::Client {
        aws_sdk_appconfigdata::Client::new(&self.sdk_config())
    }

    fn proton_client(&self) -> aws_sdk_proton::Client {
        aws_sdk_proton::Client::new(&self.sdk_config())
    }

    /// SIGTERM, then wait up to 10 s for a graceful exit; SIGKILL after that.
    fn stop(&mut self) {
        support::stop(&mut self.child);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

const SCHEMA: &str = r#"{"type": "object", "required": ["max"]}"#;

/// An application with one hosted profile and one environment.
struct Fixture {
    app_id: String,
    profile_id: String,
    env_id: String,
}

/// Creates application `app`, hosted profile `limits` and environment `prod`.
async fn fixture(c: &Client, app: &str) -> Fixture {
    let app_id = c
        .create_application()
        .name(app)
        .send()
        .await
        .expect("create application")
        .id()
        .expect("application id")
        .to_owned();
    let profile_id = c
        .create_configuration_profile()
        .application_id(&app_id)
        .name("limits")
        .location_uri("hosted")
        .send()
        .await
        .expect("create profile")
        .id()
        .expect("profile id")
        .to_owned();
    let env_id = environment(c, &app_id, "prod").await;
    Fixture {
        app_id,
        profile_id,
        env_id,
    }
}

/// Creates environment `name` of `app_id` and returns its id.
async fn environment(c: &Client, app_id: &str, name: &str) -> String {
    c.create_environment()
        .application_id(app_id)
        .name(name)
        .send()
        .await
        .expect("create environment")
        .id()
        .expect("environment id")
        .to_owned()
}

/// Creates a hosted JSON version with `label` and returns its number.
async fn hosted_version(c: &Client, f: &Fixture, content: &[u8], label: &str) -> i32 {
    c.create_hosted_configuration_version()
        .application_id(&f.app_id)
        .configuration_profile_id(&f.profile_id)
        .content(Blob::new(content.to_vec()))
        .content_type("application/json")
        .version_label(label)
        .send()
        .await
        .expect("create hosted version")
        .version_number()
}

/// The state of environment `env_id`.
async fn environment_state(c: &Client, app_id: &str, env_id: &str) -> Option<EnvironmentState> {
    c.get_environment()
        .application_id(app_id)
        .environment_id(env_id)
        .send()
        .await
        .expect("get environment")
        .state()
        .cloned()
}

/// Starts an AllAtOnce deployment of `version` (a number or a label) to `prod`.
async fn deploy_all_at_once(c: &Client, f: &Fixture, version: &str) -> i32 {
    c.start_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_strategy_id("AppConfig.AllAtOnce")
        .configuration_profile_id(&f.profile_id)
        .configuration_version(version)
        .send()
        .await
        .expect("start deployment")
        .deployment_number()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_profiles_and_hosted_versions_through_the_rust_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let c = server.client();

    let app = c
        .create_application()
        .name("payments")
        .description("d")
        .tags("team", "pay")
        .send()
        .await
        .unwrap();
    let app_id = app.id().unwrap().to_owned();
    assert_eq!(app.name(), Some("payments"));
    let got = c
        .get_application()
        .application_id(&app_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("d"));
    let updated = c
        .update_application()
        .application_id(&app_id)
        .name("payments-2")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("payments-2"));
    let listed = c.list_applications().send().await.unwrap();
    assert_eq!(listed.items().len(), 1);

    let profile = c
        .create_configuration_profile()
        .application_id(&app_id)
        .name("limits")
        .location_uri("hosted")
        .r#type("AWS.Freeform")
        .validators(
            Validator::builder()
                .r#type(ValidatorType::JsonSchema)
                .content(SCHEMA)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let profile_id = profile.id().unwrap().to_owned();
    let got = c
        .get_configuration_profile()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.validators()[0].content(), SCHEMA);
    let listed = c
        .list_configuration_profiles()
        .application_id(&app_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.items()[0].validator_types(),
        &[ValidatorType::JsonSchema]
    );
    c.update_configuration_profile()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .description("limits of payments")
        .send()
        .await
        .unwrap();

    let v1 = c
        .create_hosted_configuration_version()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .content(Blob::new(br#"{"max": 10}"#.to_vec()))
        .content_type("application/json")
        .version_label("v1")
        .latest_version_number(0)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.version_number(), 1);
    assert_eq!(v1.version_label(), Some("v1"));
    assert_eq!(v1.content().map(Blob::as_ref), Some(&br#"{"max": 10}"#[..]));

    // A stale lock is the SDK's typed ConflictException.
    let stale = c
        .create_hosted_configuration_version()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .content(Blob::new(b"{}".to_vec()))
        .content_type("application/json")
        .latest_version_number(0)
        .send()
        .await
        .unwrap_err();
    assert!(
        stale.as_service_error().unwrap().is_conflict_exception(),
        "{stale:?}"
    );

    let got = c
        .get_hosted_configuration_version()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .version_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    let listed = c
        .list_hosted_configuration_versions()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .version_label("v*")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items()[0].version_number(), 1);

    c.validate_configuration()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .configuration_version("1")
        .send()
        .await
        .unwrap();
    c.create_hosted_configuration_version()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .content(Blob::new(b"{}".to_vec()))
        .content_type("application/json")
        .send()
        .await
        .unwrap();
    let invalid = c
        .validate_configuration()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .configuration_version("2")
        .send()
        .await
        .unwrap_err();
    let invalid = invalid.into_service_error();
    assert!(invalid.is_bad_request_exception(), "{invalid:?}");

    // Errors the SDK must type: not found, payload too large.
    let missing = c
        .get_application()
        .application_id("zzzzzzz")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );
    let big = c
        .create_hosted_configuration_version()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .content(Blob::new(vec![b'x'; 2 * 1024 * 1024 + 1]))
        .content_type("text/plain")
        .send()
        .await
        .unwrap_err();
    assert!(
        big.as_service_error()
            .unwrap()
            .is_payload_too_large_exception(),
        "{big:?}"
    );

    for n in [1, 2] {
        c.delete_hosted_configuration_version()
            .application_id(&app_id)
            .configuration_profile_id(&profile_id)
            .version_number(n)
            .send()
            .await
            .unwrap();
    }
    c.delete_configuration_profile()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .send()
        .await
        .unwrap();
    c.delete_application()
        .application_id(&app_id)
        .send()
        .await
        .unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_strategies_and_tags_through_the_rust_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let c = server.client();
    let app_id = c
        .create_application()
        .name("a")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();

    let env = c
        .create_environment()
        .application_id(&app_id)
        .name("prod")
        .monitors(
            Monitor::builder()
                .alarm_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let env_id = env.id().unwrap().to_owned();
    assert_eq!(
        env.state().map(|s| s.as_str()),
        Some("READY_FOR_DEPLOYMENT")
    );
    c.get_environment()
        .application_id(&app_id)
        .environment_id(&env_id)
        .send()
        .await
        .unwrap();
    let listed = c
        .list_environments()
        .application_id(&app_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items().len(), 1);
    let updated = c
        .update_environment()
        .application_id(&app_id)
        .environment_id(&env_id)
        .description("production")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("production"));

    let predefined = c
        .get_deployment_strategy()
        .deployment_strategy_id("AppConfig.AllAtOnce")
        .send()
        .await
        .unwrap();
    assert_eq!(predefined.growth_factor(), Some(100.0));
    let strategy = c
        .create_deployment_strategy()
        .name("slow")
        .deployment_duration_in_minutes(30)
        .growth_factor(12.5)
        .send()
        .await
        .unwrap();
    assert_eq!(strategy.growth_type(), Some(&GrowthType::Linear));
    assert_eq!(strategy.growth_factor(), Some(12.5));
    let strategy_id = strategy.id().unwrap().to_owned();
    let listed = c.list_deployment_strategies().send().await.unwrap();
    assert!(
        listed
            .items()
            .iter()
            .any(|s| s.id() == Some(strategy_id.as_str()))
    );
    let updated = c
        .update_deployment_strategy()
        .deployment_strategy_id(&strategy_id)
        .growth_type(GrowthType::Exponential)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.growth_type(), Some(&GrowthType::Exponential));

    let arn = format!(
        "arn:aws:appconfig:us-east-1:123456789012:application/{app_id}/environment/{env_id}"
    );
    c.tag_resource()
        .resource_arn(&arn)
        .tags("team", "pay")
        .tags("env", "prod")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().map(|t| t.len()), Some(1));
    assert_eq!(
        tags.tags().and_then(|t| t.get("env")).map(String::as_str),
        Some("prod")
    );

    // The SDK sends DeleteDeploymentStrategy to the model's `/deployementstrategies/`.
    c.delete_deployment_strategy()
        .deployment_strategy_id(&strategy_id)
        .send()
        .await
        .unwrap();
    c.delete_environment()
        .application_id(&app_id)
        .environment_id(&env_id)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_environment()
        .application_id(&app_id)
        .environment_id(&env_id)
        .send()
        .await
        .unwrap_err();
    assert!(
        gone.as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_version_numbers_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let c = server.client();
    let app_id = c
        .create_application()
        .name("a")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let profile_id = c
        .create_configuration_profile()
        .application_id(&app_id)
        .name("p")
        .location_uri("hosted")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        c.create_hosted_configuration_version()
            .application_id(&app_id)
            .configuration_profile_id(&profile_id)
            .content(Blob::new(b"x".to_vec()))
            .content_type("text/plain")
            .send()
            .await
            .unwrap();
    }
    server.stop();
    drop(server);

    let server = Server::start(dir.path());
    let c = server.client();
    let next = c
        .create_hosted_configuration_version()
        .application_id(&app_id)
        .configuration_profile_id(&profile_id)
        .content(Blob::new(b"y".to_vec()))
        .content_type("text/plain")
        .latest_version_number(3)
        .send()
        .await
        .unwrap();
    assert_eq!(next.version_number(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_through_the_rust_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let c = server.client();
    let f = fixture(&c, "payments").await;
    assert_eq!(hosted_version(&c, &f, br#"{"max": 10}"#, "v1").await, 1);
    assert_eq!(hosted_version(&c, &f, br#"{"max": 20}"#, "v2").await, 2);

    // AllAtOnce, by version number: BAKING at 100% at once.
    let d1 = c
        .start_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_strategy_id("AppConfig.AllAtOnce")
        .configuration_profile_id(&f.profile_id)
        .configuration_version("1")
        .description("first")
        .send()
        .await
        .unwrap();
    assert_eq!(d1.deployment_number(), 1);
    assert_eq!(d1.application_id(), Some(f.app_id.as_str()));
    assert_eq!(d1.environment_id(), Some(f.env_id.as_str()));
    assert_eq!(d1.deployment_strategy_id(), Some("AppConfig.AllAtOnce"));
    assert_eq!(d1.configuration_name(), Some("limits"));
    assert_eq!(d1.configuration_version(), Some("1"));
    assert_eq!(d1.version_label(), Some("v1"));
    assert_eq!(d1.description(), Some("first"));
    assert_eq!(d1.state(), Some(&DeploymentState::Baking));
    assert_eq!(d1.percentage_complete(), Some(100.0));
    assert_eq!(d1.final_bake_time_in_minutes(), 10);
    assert!(d1.started_at().is_some());
    assert!(d1.completed_at().is_none());
    assert!(!d1.event_log().is_empty());
    assert!(
        d1.event_log()
            .iter()
            .any(|e| e.event_type() == Some(&DeploymentEventType::DeploymentStarted)),
        "{:?}",
        d1.event_log()
    );
    assert_eq!(
        environment_state(&c, &f.app_id, &f.env_id).await,
        Some(EnvironmentState::Deploying)
    );

    // By label, while the first bakes: allowed, and the first is complete from then on.
    let d2 = c
        .start_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_strategy_id("AppConfig.AllAtOnce")
        .configuration_profile_id(&f.profile_id)
        .configuration_version("v2")
        .latest_deployment_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(d2.deployment_number(), 2);
    assert_eq!(d2.configuration_version(), Some("2"));
    assert_eq!(d2.version_label(), Some("v2"));
    assert_eq!(d2.state(), Some(&DeploymentState::Baking));

    let got = c
        .get_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.state(), Some(&DeploymentState::Complete));
    assert!(got.completed_at().is_some());
    assert_eq!(got.version_label(), Some("v1"));
    let got = c
        .get_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.state(), Some(&DeploymentState::Baking));
    assert_eq!(got.started_at(), d2.started_at());

    // Newest first, through the SDK's paginator (one item per page) and in one page.
    let items = c
        .list_deployments()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let numbers: Vec<i32> = items.iter().map(|d| d.deployment_number()).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(items[0].version_label(), Some("v2"));
    assert_eq!(items[1].state(), Some(&DeploymentState::Complete));
    let listed = c
        .list_deployments()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .send()
        .await
        .unwrap();
    let numbers: Vec<i32> = listed
        .items()
        .iter()
        .map(|d| d.deployment_number())
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert!(listed.next_token().is_none());

    // An unknown deployment number is the typed ResourceNotFoundException.
    let missing = c
        .get_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_number(99)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let GetDeploymentError::ResourceNotFoundException(e) = &missing else {
        panic!("expected ResourceNotFoundException, got {missing:?}");
    };
    assert_eq!(e.resource_name(), Some("Deployment"), "{e:?}");
    let missing = c
        .stop_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_number(99)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");

    // A slow user strategy: DEPLOYING blocks the next deployment; stop rolls it back.
    let slow = c
        .create_deployment_strategy()
        .name("slow")
        .deployment_duration_in_minutes(60)
        .growth_factor(10.0)
        .final_bake_time_in_minutes(0)
        .send()
        .await
        .unwrap();
    let slow_id = slow.id().unwrap().to_owned();
    let staging = environment(&c, &f.app_id, "staging").await;
    let d = c
        .start_deployment()
        .application_id(&f.app_id)
        .environment_id(&staging)
        .deployment_strategy_id(&slow_id)
        .configuration_profile_id(&f.profile_id)
        .configuration_version("1")
        .send()
        .await
        .unwrap();
    assert_eq!(d.deployment_number(), 1);
    assert_eq!(d.deployment_strategy_id(), Some(slow_id.as_str()));
    assert_eq!(d.state(), Some(&DeploymentState::Deploying));
    assert_eq!(d.percentage_complete(), Some(10.0));
    assert_eq!(d.deployment_duration_in_minutes(), 60);
    assert_eq!(d.growth_type(), Some(&GrowthType::Linear));
    let conflict = c
        .start_deployment()
        .application_id(&f.app_id)
        .environment_id(&staging)
        .deployment_strategy_id("AppConfig.AllAtOnce")
        .configuration_profile_id(&f.profile_id)
        .configuration_version("2")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(conflict.is_conflict_exception(), "{conflict:?}");
    // A stale LatestDeploymentNumber is a conflict too.
    let stale = c
        .start_deployment()
        .application_id(&f.app_id)
        .environment_id(&f.env_id)
        .deployment_strategy_id("AppConfig.AllAtOnce")
        .configuration_profile_id(&f.profile_id)
        .configuration_version("1")
        .latest_deployment_number(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(stale.is_conflict_exception(), "{stale:?}");

    let stopped = c
        .stop_deployment()
        .application_id(&f.app_id)
        .environment_id(&staging)
        .deployment_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.deployment_number(), 1);
    assert_eq!(stopped.state(), Some(&DeploymentState::RolledBack));
    assert!(
        stopped
            .event_log()
            .iter()
            .any(|e| e.event_type() == Some(&DeploymentEventType::RollbackCompleted)),
        "{:?}",
        stopped.event_log()
    );
    let got = c
        .get_deployment()
        .application_id(&f.app_id)
        .environment_id(&staging)
        .deployment_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.state(), Some(&DeploymentState::RolledBack));
    assert_eq!(
        environment_state(&c, &f.app_id, &staging).await,
        Some(EnvironmentState::RolledBack)
    );
    // At most one stop per deployment.
    let again = c
        .stop_deployment()
        .application_id(&f.app_id)
        .environment_id(&staging)
        .deployment_number(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_bad_request_exception(), "{again:?}");

    // No duration, no bake, growth 100: complete at once; a revert needs Allow-Revert.
    let instant = c
        .create_deployment_strategy()
        .name("instant")
        .deployment_duration_in_minutes(0)
        .final_bake_time_in_minutes(0)
        .growth_factor(100.0)
        .send()
        .await
        .unwrap();
    let dev = environment(&c, &f.app_id, "dev").await;
    let d = c
        .start_deployment()
        .application_id(&f.app_id)
        .environment_id(&dev)
        .deployment_strategy_id(instant.id().unwrap())
        .configuration_profile_id(&f.profile_id)
        .configuration_version("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(d.state(), Some(&DeploymentState::Complete));
    assert_eq!(d.percentage_complete(), Some(100.0));
    assert!(d.completed_at().is_some());
    let refused = c
        .stop_deployment()
        .application_id(&f.app_id)
        .environment_id(&dev)
        .deployment_number(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_bad_request_exception(), "{refused:?}");
    let reverted = c
        .stop_deployment()
        .application_id(&f.app_id)
        .environment_id(&dev)
        .deployment_number(1)
        .allow_revert(true)
        .send()
        .await
        .unwrap();
    assert_eq!(reverted.state(), Some(&DeploymentState::Reverted));
    assert!(
        reverted
            .event_log()
            .iter()
            .any(|e| e.event_type() == Some(&DeploymentEventType::RevertCompleted)),
        "{:?}",
        reverted.event_log()
    );
    assert_eq!(
        environment_state(&c, &f.app_id, &dev).await,
        Some(EnvironmentState::Reverted)
    );
    server.stop();
}

/// The `Problem` of the `ConfigurationToken` parameter of an AppConfigData
/// `BadRequestException`, after checking its `Reason`.
fn token_problem(err: &GetLatestConfigurationError) -> Option<InvalidParameterProblem> {
    let GetLatestConfigurationError::BadRequestException(e) = err else {
        panic!("expected BadRequestException, got {err:?}");
    };
    assert_eq!(
        e.reason(),
        Some(&BadRequestReason::InvalidParameters),
        "{e:?}"
    );
    e.details()
        .and_then(|d| d.as_invalid_parameters().ok())
        .and_then(|m| m.get("ConfigurationToken"))
        .and_then(|p| p.problem())
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appconfigdata_sessions_through_the_rust_sdk_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let off = ["--poll-interval-check", "off"];
    let mut server = Server::start_with(dir.path(), &off);
    let c = server.client();
    let data = server.data_client();
    let f = fixture(&c, "payments").await;
    hosted_version(&c, &f, br#"{"max": 10}"#, "v1").await;
    assert_eq!(deploy_all_at_once(&c, &f, "1").await, 1);

    // Application and profile by name, environment by id.
    let session = data
        .start_configuration_session()
        .application_identifier("payments")
        .environment_identifier(&f.env_id)
        .configuration_profile_identifier("limits")
        .required_minimum_poll_interval_in_seconds(15)
        .send()
        .await
        .unwrap();
    let token = session.initial_configuration_token().unwrap().to_owned();

    let first = data
        .get_latest_configuration()
        .configuration_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.configuration().map(|b| b.as_ref()),
        Some(&br#"{"max": 10}"#[..])
    );
    assert_eq!(first.content_type(), Some("application/json"));
    assert_eq!(first.version_label(), Some("v1"));
    assert_eq!(first.next_poll_interval_in_seconds(), 15);
    let token = first.next_poll_configuration_token().unwrap().to_owned();

    // Nothing new: an empty configuration, and a fresh token.
    let second = data
        .get_latest_configuration()
        .configuration_token(&token)
        .send()
        .await
        .unwrap();
    assert!(
        second.configuration().is_none_or(|b| b.as_ref().is_empty()),
        "{second:?}"
    );
    assert_eq!(second.version_label(), None);
    let used = token;
    let token = second.next_poll_configuration_token().unwrap().to_owned();
    assert_ne!(token, used);

    // A new version deployed (the first deployment is baking: allowed) is the next answer.
    hosted_version(&c, &f, br#"{"max": 20}"#, "v2").await;
    assert_eq!(deploy_all_at_once(&c, &f, "v2").await, 2);
    let third = data
        .get_latest_configuration()
        .configuration_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        third.configuration().map(|b| b.as_ref()),
        Some(&br#"{"max": 20}"#[..])
    );
    assert_eq!(third.version_label(), Some("v2"));
    let latest = third.next_poll_configuration_token().unwrap().to_owned();

    // A used token is refused as AppConfigData refuses it.
    let reused = data
        .get_latest_configuration()
        .configuration_token(&used)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(reused.is_bad_request_exception(), "{reused:?}");
    assert_eq!(
        token_problem(&reused),
        Some(InvalidParameterProblem::Expired)
    );
    let corrupted = data
        .get_latest_configuration()
        .configuration_token("not-a-token")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        token_problem(&corrupted),
        Some(InvalidParameterProblem::Corrupted)
    );

    // An unknown application is ResourceNotFoundException with its ResourceType.
    let missing = data
        .start_configuration_session()
        .application_identifier("no-such-app")
        .environment_identifier("prod")
        .configuration_profile_identifier("limits")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let StartConfigurationSessionError::ResourceNotFoundException(e) = &missing else {
        panic!("expected ResourceNotFoundException, got {missing:?}");
    };
    assert_eq!(e.resource_type(), Some(&ResourceType::Application));

    // A clean restart (SIGTERM, exit 0) keeps the session: its latest token still works,
    // and a used one stays used.
    server.stop();
    drop(server);
    let mut server = Server::start_with(dir.path(), &off);
    let data = server.data_client();
    let after = data
        .get_latest_configuration()
        .configuration_token(&latest)
        .send()
        .await
        .unwrap();
    assert!(
        after.configuration().is_none_or(|b| b.as_ref().is_empty()),
        "{after:?}"
    );
    let next = after.next_poll_configuration_token().unwrap().to_owned();
    let reused = data
        .get_latest_configuration()
        .configuration_token(&latest)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        token_problem(&reused),
        Some(InvalidParameterProblem::Expired)
    );
    let reused = data
        .get_latest_configuration()
        .configuration_token(&used)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        token_problem(&reused),
        Some(InvalidParameterProblem::Expired)
    );
    data.get_latest_configuration()
        .configuration_token(&next)
        .send()
        .await
        .unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appconfigdata_refuses_a_poll_sooner_than_the_interval_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let c = server.client();
    let data = server.data_client();
    let f = fixture(&c, "payments").await;
    let session = data
        .start_configuration_session()
        .application_identifier(&f.app_id)
        .environment_identifier(&f.env_id)
        .configuration_profile_identifier(&f.profile_id)
        .send()
        .await
        .unwrap();
    // The initial token may be used at once; nothing is deployed: an empty body.
    let first = data
        .get_latest_configuration()
        .configuration_token(session.initial_configuration_token().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        first.configuration().is_none_or(|b| b.as_ref().is_empty()),
        "{first:?}"
    );
    assert_eq!(first.next_poll_interval_in_seconds(), 60);
    let token = first.next_poll_configuration_token().unwrap().to_owned();
    // Twice: a too-early poll does not use the token up (else the second would be
    // Expired).
    for _ in 0..2 {
        let early = data
            .get_latest_configuration()
            .configuration_token(&token)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(early.is_bad_request_exception(), "{early:?}");
        assert_eq!(
            token_problem(&early),
            Some(InvalidParameterProblem::PollIntervalNotSatisfied)
        );
    }
    server.stop();
}

/// Proton through the SDK's strict awsJson1_0 client: the target dispatch, camelCase
/// bodies, epoch-second timestamps, `__type` errors parsed into the modelled error, the
/// client token the SDK fills in, and a replayed explicit token after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The SDK marks these operations deprecated ("AWS Proton is not accepting new
// customers"); Verso serves them as modelled.
#[allow(deprecated)]
async fn proton_templates_through_the_rust_sdk_survive_a_restart() {
    use aws_sdk_proton::operation::get_environment_template::GetEnvironmentTemplateError;
    use aws_sdk_proton::operation::update_environment_template_version::UpdateEnvironmentTemplateVersionError;
    use aws_sdk_proton::types::{
        S3ObjectSource, TemplateVersionSourceInput, TemplateVersionStatus,
    };

    let source = |key: &str| {
        TemplateVersionSourceInput::S3(
            S3ObjectSource::builder()
                .bucket("templates")
                .key(key)
                .build()
                .unwrap(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let p = server.proton_client();
    let template = p
        .create_environment_template()
        .name("vpc")
        .display_name("VPC")
        .send()
        .await
        .unwrap();
    let template = template.environment_template().unwrap();
    assert_eq!(template.name(), "vpc");
    assert!(
        template.created_at().secs() > 1_700_000_000,
        "epoch seconds"
    );

    // The SDK fills in a clientToken: two calls make two versions.
    let first = p
        .create_environment_template_version()
        .template_name("vpc")
        .source(source("v1.tgz"))
        .send()
        .await
        .unwrap();
    let first = first.environment_template_version().unwrap();
    assert_eq!((first.major_version(), first.minor_version()), ("1", "0"));
    assert_eq!(
        first.status(),
        &TemplateVersionStatus::RegistrationInProgress
    );
    let second = p
        .create_environment_template_version()
        .template_name("vpc")
        .major_version("1")
        .source(source("v1.tgz"))
        .client_token("explicit-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        second
            .environment_template_version()
            .unwrap()
            .minor_version(),
        "1"
    );
    let published = p
        .update_environment_template_version()
        .template_name("vpc")
        .major_version("1")
        .minor_version("1")
        .status(TemplateVersionStatus::Published)
        .send()
        .await
        .unwrap();
    let published = published.environment_template_version().unwrap();
    assert_eq!(published.recommended_minor_version(), Some("1"));

    // Errors come back as the modelled types.
    let back = p
        .update_environment_template_version()
        .template_name("vpc")
        .major_version("1")
        .minor_version("1")
        .status(TemplateVersionStatus::Draft)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            back.as_service_error(),
            Some(UpdateEnvironmentTemplateVersionError::ConflictException(_))
        ),
        "{back:?}"
    );
    let missing = p
        .get_environment_template()
        .name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing.as_service_error(),
            Some(GetEnvironmentTemplateError::ResourceNotFoundException(_))
        ),
        "{missing:?}"
    );
    server.stop();
    drop(server);

    let server = Server::start(dir.path());
    let p = server.proton_client();
    let replayed = p
        .create_environment_template_version()
        .template_name("vpc")
        .major_version("1")
        .source(source("v1.tgz"))
        .client_token("explicit-token")
        .send()
        .await
        .unwrap();
    let replayed = replayed.environment_template_version().unwrap();
    assert_eq!(
        replayed.minor_version(),
        "1",
        "the first answer, after a restart"
    );
    assert_eq!(replayed.status(), &TemplateVersionStatus::Published);
    let got = p
        .get_environment_template()
        .name("vpc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.environment_template().unwrap().recommended_version(),
        Some("1.1")
    );
    let listed = p
        .list_environment_template_versions()
        .template_name("vpc")
        .major_version("1")
        .send()
        .await
        .unwrap();
    let minors: Vec<_> = listed
        .template_versions()
        .iter()
        .map(|v| v.minor_version().to_owned())
        .collect();
    assert_eq!(minors, ["0", "1"]);
}
