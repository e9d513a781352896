//! Drives the router in-process (no socket): build a request, get status, headers and
//! body back.

#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tower::ServiceExt as _;

use verso_domain::Timestamp;
use verso_storage::{Store, StoreOptions};

/// A router over a fresh store in a temporary directory.
pub struct Harness {
    pub router: Router,
    pub store: Store,
    _dir: tempfile::TempDir,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an AWS error: status, `X-Amzn-ErrorType`, a JSON body with `Message`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            (self.status.as_u16(), self.header("x-amzn-errortype")),
            (status, Some(code)),
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert!(body["Message"].is_string(), "no Message in {body}");
        body
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert!(self.header("x-amzn-requestid").is_some(), "no request id");
        self
    }
}

/// A clock the test moves by hand (milliseconds since the epoch).
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.advance_secs(minutes * 60);
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_options(StoreOptions::new())
    }

    /// A harness over a fresh store opened with `options`.
    pub fn with_options(options: StoreOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = options.open(dir.path()).expect("open store");
        Self {
            router: verso_server::app(store.clone()).expect("app"),
            store,
            _dir: dir,
        }
    }

    /// A harness whose store and server run on a clock the test moves (2024-05-01 at
    /// noon to start with), with the AppConfigData poll interval enforced.
    pub fn with_clock() -> (Self, TestClock) {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = TestClock(Arc::new(AtomicI64::new(1_714_564_800_000)));
        let c = clock.clone();
        let store = StoreOptions::new()
            .clock(Arc::new(move || c.now()))
            .open(dir.path())
            .expect("open store");
        let harness = Self {
            router: verso_server::app(store.clone()).expect("app"),
            store,
            _dir: dir,
        };
        (harness, clock)
    }

    /// A new harness on the same data directory and clock, as after a server restart.
    /// The old store must have been closed (drop the old harness's router and store).
    pub fn reopen(self, clock: &TestClock) -> Self {
        let Self {
            router,
            store,
            _dir,
        } = self;
        drop(router);
        store.close().expect("close store");
        let c = clock.clone();
        let store = StoreOptions::new()
            .clock(Arc::new(move || c.now()))
            .open(_dir.path())
            .expect("reopen store");
        Self {
            router: verso_server::app(store.clone()).expect("app"),
            store,
            _dir,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request.body(body.into()).expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Method::GET, uri, &[], Body::empty()).await
    }

    pub async fn delete(&self, uri: &str) -> Reply {
        self.send(Method::DELETE, uri, &[], Body::empty()).await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        self.send(
            Method::POST,
            uri,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    pub async fn patch_json(&self, uri: &str, body: &Value) -> Reply {
        self.send(
            Method::PATCH,
            uri,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    /// Creates an application and returns its id.
    pub async fn application(&self, name: &str) -> String {
        let r = self
            .post_json("/applications", &serde_json::json!({ "Name": name }))
            .await;
        r.assert_status(201);
        r.json()["Id"].as_str().expect("Id").to_owned()
    }

    /// Creates a hosted profile and returns its id.
    pub async fn profile(&self, app: &str, extra: Value) -> String {
        let mut body = serde_json::json!({ "Name": "limits", "LocationUri": "hosted" });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self
            .post_json(&format!("/applications/{app}/configurationprofiles"), &body)
            .await;
        r.assert_status(201);
        r.json()["Id"].as_str().expect("Id").to_owned()
    }

    /// Creates a hosted version with `headers`; returns the reply.
    pub async fn version(
        &self,
        app: &str,
        profile: &str,
        headers: &[(&str, &str)],
        content: &str,
    ) -> Reply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(
            Method::POST,
            &format!(
                "/applications/{app}/configurationprofiles/{profile}/hostedconfigurationversions"
            ),
            &all,
            content.to_owned(),
        )
        .await
    }
}
