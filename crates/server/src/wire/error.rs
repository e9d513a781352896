//! The one mapping from refusals and failures to AWS error responses (style 3.6).
//!
//! Every error carries the AWS error type (the shape name), which both botocore and the
//! AWS SDK for Rust read from the `X-Amzn-ErrorType` header, and a JSON body with the
//! modelled members (`Message`, and `ResourceName`, `Reason`, `Details`, `Measure`,
//! `Limit`, `Size` where modelled) (aws-api-surface.md §2.3). An operation only ever
//! answers with an error type its model lists: a refusal whose natural type the
//! operation does not model becomes `BadRequestException`.
//!
//! Client mistakes are logged at `debug`; internal errors are logged once at `error`,
//! with detail, and the client gets a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use verso_domain::Detail;
use verso_domain::RejectionKind;
use verso_storage::{Error, ErrorKind, Refused};

use super::operation::{Operation, Service};

/// The AWS error types Verso emits. The shape name is the error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// 400: the request breaks a constraint or the resource is in the wrong state.
    BadRequest,
    /// 404: the named resource does not exist.
    ResourceNotFound,
    /// 409: a concurrent change won, or the resource's state forbids the request.
    Conflict,
    /// 413: the content is over the size limit.
    PayloadTooLarge,
    /// 402: a quota would be exceeded.
    ServiceQuotaExceeded,
    /// 500: Verso failed; the detail is in the server's log.
    InternalServer,
    /// 404: no operation has this method and path.
    UnknownOperation,
    /// Connect 400: a member breaks a constraint.
    InvalidParameter,
    /// Connect 400: the request is malformed, or a `ClientToken` was reused with another
    /// request.
    InvalidRequest,
    /// Connect 409: the name is taken.
    DuplicateResource,
    /// Connect 409: another writer moved the resource (a stale `ViewContentSha256`).
    ResourceInUse,
    /// Connect 500: Verso failed; the detail is in the server's log.
    InternalService,
    /// Proton 400: the request breaks a constraint, or a `clientToken` or create was
    /// reused with another request.
    Validation,
    /// 429: the store's write queue is full; the client retries (AWS's common error,
    /// which botocore and the SDKs retry with backoff).
    Throttling,
    /// Connect 429: the same, under the name Connect's model gives it.
    TooManyRequests,
}

impl ErrorType {
    /// The error code: the AWS error shape name.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequestException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::Conflict => "ConflictException",
            Self::PayloadTooLarge => "PayloadTooLargeException",
            Self::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            Self::InternalServer => "InternalServerException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::InvalidParameter => "InvalidParameterException",
            Self::InvalidRequest => "InvalidRequestException",
            Self::DuplicateResource => "DuplicateResourceException",
            Self::ResourceInUse => "ResourceInUseException",
            Self::InternalService => "InternalServiceException",
            Self::Validation => "ValidationException",
            Self::Throttling => "ThrottlingException",
            Self::TooManyRequests => "TooManyRequestsException",
        }
    }

    /// The modelled HTTP status.
    #[must_use]
    pub const fn status(self) -> StatusCode {
        match self {
            Self::BadRequest | Self::InvalidParameter | Self::InvalidRequest | Self::Validation => {
                StatusCode::BAD_REQUEST
            }
            Self::DuplicateResource | Self::ResourceInUse => StatusCode::CONFLICT,
            Self::InternalService => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ResourceNotFound | Self::UnknownOperation => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ServiceQuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            Self::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Throttling | Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// How an error body is written: rest-json (`Message`, AppConfig and Connect) or
/// awsJson1_0 (`__type` and `message`, Proton; botocore reads only `__type` there, §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    RestJson,
    AwsJson,
}

/// An AWS error response.
#[derive(Debug)]
pub struct ApiError {
    kind: ErrorType,
    protocol: Protocol,
    message: String,
    /// Modelled members beyond `Message`, with their exact AWS casing.
    members: Map<String, Value>,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self {
            kind,
            protocol: Protocol::RestJson,
            message: message.into(),
            members: Map::new(),
        }
    }

    /// A `BadRequestException`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadRequest, message)
    }

    /// A `ResourceNotFoundException` naming the resource type.
    pub fn not_found(resource: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceNotFound, message).with("ResourceName", json!(resource))
    }

    /// AppConfigData's `ResourceNotFoundException`, which names the resource type in
    /// `ResourceType` (aws-api-surface.md §4) rather than AppConfig's `ResourceName`.
    pub fn data_not_found(resource_type: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceNotFound, message).with("ResourceType", json!(resource_type))
    }

    /// AppConfigData's `BadRequestException` for a bad parameter: `Reason`
    /// `InvalidParameters` and `Details.InvalidParameters.<parameter>.Problem`
    /// (`Corrupted`, `Expired` or `PollIntervalNotSatisfied`).
    pub fn invalid_parameter(parameter: &str, problem: &str, message: impl Into<String>) -> Self {
        Self::bad_request(message)
            .with("Reason", json!("InvalidParameters"))
            .with(
                "Details",
                json!({ "InvalidParameters": { parameter: { "Problem": problem } } }),
            )
    }

    /// A `PayloadTooLargeException`: sizes in bytes, reported in kilobytes as AWS does.
    pub fn payload_too_large(limit: u64, size: u64, message: impl Into<String>) -> Self {
        Self::new(ErrorType::PayloadTooLarge, message)
            .with("Measure", json!("KILOBYTES"))
            .with("Limit", json!(kilobytes(limit)))
            .with("Size", json!(kilobytes(size)))
    }

    /// A failed validation: `BadRequestException` with `Reason` `InvalidConfiguration`
    /// and the details (aws-api-surface.md, ValidateConfiguration).
    pub fn invalid_configuration(message: impl Into<String>, details: Vec<Value>) -> Self {
        Self::bad_request(message)
            .with("Reason", json!("InvalidConfiguration"))
            .with("Details", json!({ "InvalidConfiguration": details }))
    }

    /// A fail-stop store error: logged here, once, with detail; the client gets a
    /// generic message.
    ///
    /// Two store errors say more, because the client can act on them: a full write
    /// queue is a `ThrottlingException` (429, retried by the SDKs), and a poisoned store
    /// says so, since only a restart of the server clears it.
    pub fn internal(op: Operation, error: &Error) -> Self {
        if error.kind() == ErrorKind::Busy {
            let kind = match op.service() {
                Service::Connect => ErrorType::TooManyRequests,
                Service::AppConfig | Service::AppConfigData | Service::Proton => {
                    ErrorType::Throttling
                }
            };
            return Self::new(kind, "the store's write queue is full; retry later")
                .for_operation(op);
        }
        tracing::error!(operation = op.name(), error = %error, "request failed");
        let kind = match op.service() {
            Service::Connect => ErrorType::InternalService,
            Service::AppConfig | Service::AppConfigData | Service::Proton => {
                ErrorType::InternalServer
            }
        };
        let message = if error.kind() == ErrorKind::Poisoned {
            "the store is poisoned by a failed disk write or sync and accepts no more \
             writes; restart the server to reopen it (acknowledged data is safe)"
        } else {
            "the server could not complete the request; see its log"
        };
        Self::new(kind, message).for_operation(op)
    }

    /// The error type.
    #[must_use]
    pub const fn kind(&self) -> ErrorType {
        self.kind
    }

    /// The message.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Adds a modelled member beyond `Message`, e.g. Connect's `ResourceId`.
    #[must_use]
    pub fn with(mut self, member: &str, value: Value) -> Self {
        self.members.insert(member.to_owned(), value);
        self
    }

    /// Narrows the error to what `op` models: anything else becomes the service's
    /// catch-all with the same message (`BadRequestException` for AppConfig,
    /// `InvalidRequestException` for Connect).
    #[must_use]
    pub fn for_operation(self, op: Operation) -> Self {
        let narrowed = if op.models(self.kind) {
            self
        } else {
            match op.service() {
                Service::Connect => Self::new(ErrorType::InvalidRequest, self.message),
                Service::Proton => Self::new(ErrorType::Validation, self.message),
                Service::AppConfig | Service::AppConfigData => Self::bad_request(self.message),
            }
        };
        if op.service() == Service::Proton {
            narrowed.aws_json()
        } else {
            narrowed
        }
    }

    /// The same error in the awsJson1_0 body (Proton, and its unknown operations).
    #[must_use]
    pub fn aws_json(mut self) -> Self {
        self.protocol = Protocol::AwsJson;
        self.members.clear();
        self
    }

    /// The refusal as `op` reports it.
    pub fn refused(op: Operation, refused: Refused) -> Self {
        let (kind, message, detail) = match &refused {
            Refused::Rejected(r) => (r.kind(), r.message().to_owned(), r.detail().clone()),
            Refused::Conflict(c) => (refused.kind(), c.message().to_owned(), c.detail().clone()),
            _ => (refused.kind(), refused.to_string(), Detail::None),
        };
        match op.service() {
            Service::Connect => return Self::connect(kind, message).for_operation(op),
            Service::Proton => return Self::proton(kind, message).for_operation(op),
            Service::AppConfig | Service::AppConfigData => {}
        }
        let error = match kind {
            RejectionKind::NotFound => {
                let resource = match detail {
                    Detail::Resource { resource } => resource,
                    _ => "Resource",
                };
                Self::not_found(resource, message)
            }
            RejectionKind::PayloadTooLarge => match detail {
                Detail::Size { limit, size } => Self::payload_too_large(limit, size, message),
                _ => Self::new(ErrorType::PayloadTooLarge, message),
            },
            RejectionKind::QuotaExceeded => Self::new(ErrorType::ServiceQuotaExceeded, message),
            RejectionKind::AlreadyExists
            | RejectionKind::VersionMismatch
            | RejectionKind::ContentMismatch
            | RejectionKind::IdempotencyMismatch
            | RejectionKind::NotEmpty
            | RejectionKind::StateConflict => Self::new(ErrorType::Conflict, message),
            _ => Self::bad_request(message),
        };
        error.for_operation(op)
    }
}

impl ApiError {
    /// A refusal as Connect reports it (docs/design/connect-proton.md, "One mapping").
    fn connect(kind: RejectionKind, message: String) -> Self {
        let kind = match kind {
            RejectionKind::NotFound => ErrorType::ResourceNotFound,
            RejectionKind::AlreadyExists => ErrorType::DuplicateResource,
            RejectionKind::ContentMismatch => ErrorType::ResourceInUse,
            RejectionKind::IdempotencyMismatch => ErrorType::InvalidRequest,
            RejectionKind::QuotaExceeded => ErrorType::ServiceQuotaExceeded,
            _ => ErrorType::InvalidParameter,
        };
        Self::new(kind, message)
    }
}

impl ApiError {
    /// A refusal as Proton reports it (docs/design/connect-proton.md, "One mapping").
    fn proton(kind: RejectionKind, message: String) -> Self {
        let kind = match kind {
            RejectionKind::NotFound => ErrorType::ResourceNotFound,
            RejectionKind::StateConflict
            | RejectionKind::NotEmpty
            | RejectionKind::AlreadyExists
            | RejectionKind::VersionMismatch => ErrorType::Conflict,
            RejectionKind::QuotaExceeded => ErrorType::ServiceQuotaExceeded,
            _ => ErrorType::Validation,
        };
        Self::new(kind, message)
    }
}

fn kilobytes(bytes: u64) -> f64 {
    // Exact for every size below 2^53 bytes, far above any configurable limit.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    b / 1024.0
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.kind != ErrorType::InternalServer {
            tracing::debug!(error = self.kind.code(), message = %self.message, "refused");
        }
        let mut body = Map::new();
        let content_type = match self.protocol {
            Protocol::RestJson => {
                body.insert("Message".to_owned(), Value::String(self.message));
                body.extend(self.members);
                "application/json"
            }
            Protocol::AwsJson => {
                body.insert("__type".to_owned(), json!(self.kind.code()));
                body.insert("message".to_owned(), Value::String(self.message));
                "application/x-amz-json-1.0"
            }
        };
        let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_else(|_| b"{}".to_vec());
        // awsJson1_0 answers an unknown operation with 400 (rest-json: 404, no route).
        let status = match (self.protocol, self.kind) {
            (Protocol::AwsJson, ErrorType::UnknownOperation) => StatusCode::BAD_REQUEST,
            (_, kind) => kind.status(),
        };
        let mut response = (status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.kind.code()),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use verso_domain::Rejection;

    use super::*;

    #[test]
    fn a_refusal_the_operation_does_not_model_becomes_bad_request() {
        let not_empty = Refused::Rejected(Rejection::new(
            RejectionKind::NotEmpty,
            "application app1 still has configuration profiles",
            Detail::None,
        ));
        let e = ApiError::refused(Operation::DeleteApplication, not_empty.clone());
        assert_eq!(e.kind(), ErrorType::BadRequest);
        let e = ApiError::refused(Operation::DeleteConfigurationProfile, not_empty);
        assert_eq!(e.kind(), ErrorType::Conflict);
    }

    #[test]
    fn a_full_write_queue_is_throttling_in_every_service_and_poison_is_named() {
        // Backpressure: a refusal the client retries, with the service's error shape.
        for (op, code) in [
            (
                Operation::CreateHostedConfigurationVersion,
                "ThrottlingException",
            ),
            (Operation::CreateViewVersion, "TooManyRequestsException"),
            (
                Operation::CreateEnvironmentTemplateVersion,
                "ThrottlingException",
            ),
        ] {
            let e = ApiError::internal(op, &Error::Busy);
            assert_eq!(e.kind().status(), StatusCode::TOO_MANY_REQUESTS, "{op:?}");
            assert_eq!(e.kind().code(), code, "{op:?}");
        }
        let proton = ApiError::internal(Operation::CreateEnvironmentTemplateVersion, &Error::Busy);
        assert_eq!(proton.protocol, Protocol::AwsJson);
        // C4: a poisoned store says so, in the 5xx of its service.
        let e = ApiError::internal(
            Operation::CreateHostedConfigurationVersion,
            &Error::Poisoned,
        );
        assert_eq!(e.kind(), ErrorType::InternalServer);
        assert!(e.message().contains("poisoned"), "{}", e.message());
        let e = ApiError::internal(Operation::CreateViewVersion, &Error::Poisoned);
        assert_eq!(e.kind(), ErrorType::InternalService);
        assert!(e.message().contains("restart"), "{}", e.message());
    }

    #[test]
    fn payload_too_large_reports_kilobytes() {
        let e = ApiError::payload_too_large(2 * 1024 * 1024, 3 * 1024 * 1024, "too big");
        assert_eq!(e.members.get("Limit"), Some(&json!(2048.0)));
        assert_eq!(e.members.get("Size"), Some(&json!(3072.0)));
        assert_eq!(e.members.get("Measure"), Some(&json!("KILOBYTES")));
    }
}
