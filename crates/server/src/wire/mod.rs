//! The rest-json wire: reading labels, query strings, headers and bodies the way the AWS
//! SDKs send them, and writing responses and errors the way they parse them
//! (aws-api-surface.md §2.1 and §2.3).

pub mod error;
pub mod operation;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use serde_json::Value;
use verso_storage::PageRequest;

pub use error::{ApiError, ErrorType};
pub use operation::{Operation, Service};

/// The largest JSON request body accepted. The largest legal AppConfig input (two
/// validators of 32 KiB, 50 tags, every string at its maximum) is far below it.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A body over its limit is drained (not kept) up to this many bytes so that the
/// client, which sends the whole body before it reads the answer, sees the error
/// rather than a reset connection. Beyond it the connection is closed.
const MAX_DRAIN: u64 = 64 * 1024 * 1024;

/// The path labels of a request, still percent-encoded. Extracting them never fails
/// with axum's plain-text rejection: a label that is not UTF-8 once decoded is a
/// `BadRequestException`.
#[derive(Debug)]
pub struct Labels(RawPathParams);

impl<S: Send + Sync> FromRequestParts<S> for Labels {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        RawPathParams::from_request_parts(parts, state)
            .await
            .map(Self)
            .map_err(|e| {
                ApiError::bad_request(format!("a path label is invalid: {}", e.body_text()))
            })
    }
}

/// A path label, percent-decoded after the path was split on `/` (§2.1).
///
/// # Errors
/// `BadRequestException` when the label is missing or does not decode to UTF-8.
pub fn label(params: &Labels, name: &str) -> Result<String, ApiError> {
    let raw = params
        .0
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required")))?;
    percent_decode_str(raw)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| ApiError::bad_request(format!("{name} is not valid UTF-8")))
}

/// A path label that must be 1 to `max` characters (the AWS `Name`/`LongName` shapes).
///
/// # Errors
/// `BadRequestException` when it is empty, too long or not UTF-8.
pub fn name_label(params: &Labels, name: &str, max: usize) -> Result<String, ApiError> {
    let value = label(params, name)?;
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(ApiError::bad_request(format!(
            "{name} must be 1 to {max} characters, got {len}"
        )));
    }
    Ok(value)
}

/// An integer path label (`VersionNumber`).
///
/// # Errors
/// `BadRequestException` when it is not a non-negative decimal integer.
pub fn integer_label(params: &Labels, name: &str) -> Result<u64, ApiError> {
    let value = label(params, name)?;
    value
        .parse::<u64>()
        .map_err(|_| ApiError::bad_request(format!("{name} must be an integer, got {value:?}")))
}

/// The query string, split into decoded pairs in order; repeated keys stay repeated.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `raw` (without the `?`). `+` is kept as is: the SDKs encode a space as
    /// `%20` and a plus as `%2B`.
    ///
    /// # Errors
    /// `BadRequestException` when a key or value does not decode to UTF-8.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let decode = |s: &str| {
                // Most values (tokens, ids, numbers) have nothing to decode.
                if !s.contains('%') {
                    return Ok(s.to_owned());
                }
                percent_decode_str(s)
                    .decode_utf8()
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|_| ApiError::bad_request("the query string is not valid UTF-8"))
            };
            pairs.push((decode(key)?, decode(value)?));
        }
        Ok(Self(pairs))
    }

    /// The first value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    #[must_use]
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `max_results` (1..=50) and `next_token` (1..=2048 characters) as a page request.
    ///
    /// # Errors
    /// `BadRequestException` when either is out of its range.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let max_results = match self.get("max_results") {
            None => None,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => Some(n),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "MaxResults must be an integer from 1 to 50, got {text:?}"
                    )));
                }
            },
        };
        let next_token = match self.get("next_token") {
            None => None,
            Some(t) if t.is_empty() || t.len() > 2048 => {
                return Err(ApiError::bad_request(
                    "NextToken must be 1 to 2048 characters",
                ));
            }
            Some(t) => Some(t.to_owned()),
        };
        Ok(PageRequest {
            max_results,
            next_token,
        })
    }
}

/// A header as text, `None` when absent.
///
/// # Errors
/// `BadRequestException` when the value is not visible ASCII (HTTP header members are
/// ASCII-only, as AWS documents for `Description`).
pub fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|s| Some(s.to_owned()))
            .map_err(|_| ApiError::bad_request(format!("header {name} must be ASCII text"))),
    }
}

/// A timestamp as epoch seconds in a JSON number, with milliseconds: how Connect and
/// Proton (unlike AppConfig's ISO 8601 strings) send them (aws-api-surface.md §7).
#[must_use]
pub fn epoch_seconds(t: verso_domain::Timestamp) -> Value {
    #[allow(clippy::cast_precision_loss)] // exact for any time within 2^53 ms of 1970
    let ms = t.as_millis() as f64;
    serde_json::json!(ms / 1000.0)
}

/// The one AWS account Verso is, in the ARNs it emits.
pub const ACCOUNT: &str = "000000000000";

/// The region of the request's SigV4 credential scope
/// (`Credential=<key>/<date>/<region>/<service>/aws4_request`), else `us-east-1`: emitted
/// ARNs name it. Verso is one account in one region; the region is not checked.
#[must_use]
pub fn region(headers: &HeaderMap) -> String {
    let scoped = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(2))
        .filter(|r| {
            !r.is_empty()
                && r.len() <= 32
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    scoped.unwrap_or("us-east-1").to_owned()
}

/// Who signed the request: the access key id of a SigV4 `Authorization` header. Verso
/// records it as the actor of each write; it does not verify the signature.
#[must_use]
pub fn actor(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let key = credential.split('/').next()?.trim();
    (!key.is_empty() && key.len() <= 128).then(|| key.to_owned())
}

/// Why a body was not read.
#[derive(Debug)]
pub enum BodyError {
    /// Over the limit: the limit and the size seen (at least limit + 1).
    TooLarge {
        /// The limit in bytes.
        limit: u64,
        /// The declared or observed size in bytes.
        size: u64,
    },
    /// The connection failed while the body was read.
    Broken(String),
}

/// Reads a body of at most `limit` bytes. A body declared or found to be larger is
/// never buffered past the limit: its rest is drained and counted (up to a cap), so the
/// client that sent it reads the error response.
///
/// # Errors
/// [`BodyError::TooLarge`] over the limit; [`BodyError::Broken`] on a transport error.
pub async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError> {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = body;
    if let Some(size) = declared.filter(|&n| n > limit_u64) {
        if size <= MAX_DRAIN {
            drain(&mut body, MAX_DRAIN).await;
        }
        return Err(BodyError::TooLarge {
            limit: limit_u64,
            size,
        });
    }
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0)));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.len() > limit {
            let seen = u64::try_from(buf.len() + data.len()).unwrap_or(u64::MAX);
            let rest = drain(&mut body, MAX_DRAIN.saturating_sub(seen)).await;
            return Err(BodyError::TooLarge {
                limit: limit_u64,
                size: seen.saturating_add(rest),
            });
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// Reads and discards up to `cap` bytes; returns how many.
async fn drain(body: &mut Body, cap: u64) -> u64 {
    let mut seen = 0u64;
    while seen <= cap {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    seen = seen.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
                }
            }
            _ => break,
        }
    }
    seen
}

/// Reads a JSON body of input members (PascalCase keys). An empty body is `{}`: botocore
/// sends none when every member is absent (§2.1).
///
/// # Errors
/// `BadRequestException` for a body that is too large, not UTF-8 JSON, not an object,
/// or whose members have the wrong types.
pub async fn json_input<T: DeserializeOwned>(
    body: Body,
    headers: &HeaderMap,
) -> Result<T, ApiError> {
    let bytes = match read_body(body, headers, MAX_JSON_BODY).await {
        Ok(b) => b,
        Err(BodyError::TooLarge { limit, .. }) => {
            return Err(ApiError::bad_request(format!(
                "the request body is larger than {limit} bytes"
            )));
        }
        Err(BodyError::Broken(e)) => {
            return Err(ApiError::bad_request(format!(
                "the request body could not be read: {e}"
            )));
        }
    };
    parse_json(&bytes)
}

/// Parses input members from `bytes` (see [`json_input`]).
///
/// # Errors
/// As [`json_input`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
        })?
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("the request body has a wrong member: {e}")))
}

/// A JSON response.
#[must_use]
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A 204 with no body.
#[must_use]
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A request id in UUID form, unique within the process (a counter) and across
/// processes (a random 64-bit prefix drawn once). Cheaper than a random UUID per request,
/// which costs a `getrandom` system call on the poll path.
fn next_request_id() -> String {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    uuid::Uuid::from_u64_pair(prefix, n).to_string()
}

/// Middleware: gives every response an `x-amzn-RequestId` (§2.1) and logs the request
/// at `debug`.
pub async fn request_id(request: Request, next: Next) -> Response {
    let id = next_request_id();
    // The method and path are copied only when they will be logged.
    let logged = tracing::enabled!(tracing::Level::DEBUG)
        .then(|| (request.method().clone(), request.uri().path().to_owned()));
    let mut response = next.run(request).await;
    if let Some((method, path)) = logged {
        tracing::debug!(%method, %path, status = response.status().as_u16(), request_id = %id, "served");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// The answer to a method and path no operation has.
pub async fn unknown_operation(request: Request) -> ApiError {
    ApiError::new(
        ErrorType::UnknownOperation,
        format!(
            "no operation matches {} {}",
            request.method(),
            request.uri().path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_repeated_keys_and_decodes_each_value() {
        let q = Query::parse(Some("tagKeys=a&tagKeys=b%20c&max_results=5&x")).unwrap();
        assert_eq!(q.all("tagKeys"), vec!["a".to_owned(), "b c".to_owned()]);
        assert_eq!(q.get("max_results"), Some("5"));
        assert_eq!(q.get("x"), Some(""));
    }

    #[test]
    fn query_with_invalid_utf8_is_a_bad_request() {
        let e = Query::parse(Some("next_token=%FF")).unwrap_err();
        assert_eq!(e.kind(), ErrorType::BadRequest);
    }

    #[test]
    fn page_size_outside_one_to_fifty_is_a_bad_request() {
        for bad in ["0", "51", "-1", "ten"] {
            let q = Query::parse(Some(&format!("max_results={bad}"))).unwrap();
            assert_eq!(q.page().unwrap_err().kind(), ErrorType::BadRequest, "{bad}");
        }
        let q = Query::parse(Some("max_results=50")).unwrap();
        assert_eq!(q.page().unwrap().max_results, Some(50));
    }

    #[test]
    fn region_comes_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        assert_eq!(region(&headers), "us-east-1");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20261201/eu-west-3/connect/aws4_request, SignedHeaders=host, Signature=x",
            ),
        );
        assert_eq!(region(&headers), "eu-west-3");
    }

    #[test]
    fn actor_is_the_access_key_of_a_sigv4_authorization() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/appconfig/aws4_request, SignedHeaders=host, Signature=abc",
            ),
        );
        assert_eq!(actor(&headers).as_deref(), Some("AKIDEXAMPLE"));
        assert_eq!(actor(&HeaderMap::new()), None);
    }

    #[test]
    fn an_empty_body_reads_as_an_empty_object_and_other_json_is_refused() {
        #[derive(serde::Deserialize)]
        struct Input {
            #[serde(rename = "Name")]
            name: Option<String>,
        }
        let empty: Input = parse_json(b"").unwrap();
        assert!(empty.name.is_none());
        assert_eq!(
            parse_json::<Input>(b"[1]").err().map(|e| e.kind()),
            Some(ErrorType::BadRequest)
        );
        assert_eq!(
            parse_json::<Input>(br#"{"Name": 5}"#)
                .err()
                .map(|e| e.kind()),
            Some(ErrorType::BadRequest)
        );
        assert_eq!(
            parse_json::<Input>(b"{\"Name\": \"\xff\"}")
                .err()
                .map(|e| e.kind()),
            Some(ErrorType::BadRequest)
        );
    }
}
