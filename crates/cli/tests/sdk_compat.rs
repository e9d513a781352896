//! Compatibility with the AWS SDK for Rust: `aws-sdk-appconfig`, configured as a user
//! would (endpoint URL, region, credentials), against a real `verso serve` started on
//! 127.0.0.1 with a free port and a temporary data directory. Every served operation
//! is called; errors must arrive as the SDK's typed exceptions.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_appconfig::Client;
use aws_sdk_appconfig::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_appconfig::primitives::Blob;
use aws_sdk_appconfig::types::{GrowthType, Monitor, Validator, ValidatorType};

/// A `verso serve` child process, stopped with SIGTERM (then SIGKILL) on drop.
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_verso"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn verso serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        // Returns at the first line, or at EOF if the server exits: never hangs.
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read stdout");
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, endpoint }
    }

    fn client(&self) -> Client {
        let http = aws_smithy_http_client::Builder::new().build_http();
        let config = aws_sdk_appconfig::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIDRUSTSDK",
                "secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(&self.endpoint)
            .http_client(http)
            .build();
        Client::from_conf(config)
    }

    /// SIGTERM, then wait up to 10 s for a graceful exit; SIGKILL after that.
    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "verso serve exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("verso serve did not stop within 10 s of SIGTERM");
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
