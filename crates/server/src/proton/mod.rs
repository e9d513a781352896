//! The AWS Proton face: the 9 environment template operations of aws-api-surface.md §6,
//! in awsJson1_0: one `POST /` route dispatching on
//! `X-Amz-Target: AwsProton20200720.<Operation>`, camelCase bodies, epoch-second
//! timestamps, errors as `{"__type", "message"}` (docs/design/connect-proton.md, "Wire").

mod templates;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::appconfig::AppState;
use crate::wire::{self, ApiError, BodyError, ErrorType, Operation};

/// The target prefix of every Proton operation.
const TARGET_PREFIX: &str = "AwsProton20200720.";

/// `POST /`: reads the target, then the body, and runs the operation.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(op) = target.strip_prefix(TARGET_PREFIX).and_then(operation) else {
        return Err(ApiError::new(
            ErrorType::UnknownOperation,
            format!("no operation has the target {target:?}"),
        )
        .aws_json());
    };
    let bytes = match wire::read_body(body, &headers, wire::MAX_JSON_BODY).await {
        Ok(b) => b,
        Err(BodyError::TooLarge { limit, .. }) => {
            return Err(ApiError::bad_request(format!(
                "the request body is larger than {limit} bytes"
            ))
            .for_operation(op));
        }
        Err(BodyError::Broken(e)) => {
            return Err(
                ApiError::bad_request(format!("the request body could not be read: {e}"))
                    .for_operation(op),
            );
        }
    };
    templates::run(op, &state, &headers, &bytes)
        .await
        .map_err(|e| e.for_operation(op))
}

/// Any other method on `/`: no awsJson1_0 operation, answered in that protocol.
pub(crate) async fn other_method(method: axum::http::Method) -> ApiError {
    ApiError::new(
        ErrorType::UnknownOperation,
        format!("no operation answers {method} /: Proton operations are POST /"),
    )
    .aws_json()
}

fn operation(name: &str) -> Option<Operation> {
    Some(match name {
        "CreateEnvironmentTemplate" => Operation::CreateEnvironmentTemplate,
        "GetEnvironmentTemplate" => Operation::GetEnvironmentTemplate,
        "ListEnvironmentTemplates" => Operation::ListEnvironmentTemplates,
        "DeleteEnvironmentTemplate" => Operation::DeleteEnvironmentTemplate,
        "CreateEnvironmentTemplateVersion" => Operation::CreateEnvironmentTemplateVersion,
        "GetEnvironmentTemplateVersion" => Operation::GetEnvironmentTemplateVersion,
        "ListEnvironmentTemplateVersions" => Operation::ListEnvironmentTemplateVersions,
        "UpdateEnvironmentTemplateVersion" => Operation::UpdateEnvironmentTemplateVersion,
        "DeleteEnvironmentTemplateVersion" => Operation::DeleteEnvironmentTemplateVersion,
        _ => return None,
    })
}

/// Parses an input: any content type, an empty body as `{}`, camelCase members.
fn input<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    wire::parse_json(bytes)
}

/// A 200 awsJson1_0 answer.
fn respond(value: &Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}
