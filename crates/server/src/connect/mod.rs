//! The Amazon Connect face: the 9 view operations of aws-api-surface.md §5 (rest-json,
//! 200 everywhere, epoch-second timestamps, camelCase query names), a thin adapter over
//! the store's view writes and reads (docs/design/connect-proton.md).

mod views;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{delete, get, post};

use crate::appconfig::AppState;

/// Every Connect view route. No AppConfig route starts with `/views`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/views/{InstanceId}", get(views::list).put(views::create))
        .route(
            "/views/{InstanceId}/{ViewId}",
            get(views::describe)
                .post(views::update_content)
                .delete(views::delete_view),
        )
        .route(
            "/views/{InstanceId}/{ViewId}/versions",
            get(views::list_versions).put(views::create_version),
        )
        .route(
            "/views/{InstanceId}/{ViewId}/metadata",
            post(views::update_metadata),
        )
        .route(
            "/views/{InstanceId}/{ViewId}/versions/{ViewVersion}",
            delete(views::delete_version),
        )
}

/// The region of the request's SigV4 credential scope
/// (`Credential=<key>/<date>/<region>/<service>/aws4_request`), else `us-east-1`: emitted
/// ARNs name it. Verso is one account in one region; the region is not checked.
fn region(headers: &HeaderMap) -> String {
    let scoped = headers
        .get(axum::http::header::AUTHORIZATION)
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

/// The one account Verso is.
const ACCOUNT: &str = "000000000000";

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn region_comes_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        assert_eq!(region(&headers), "us-east-1");
        headers.insert(
            axum::http::header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20261201/eu-west-3/connect/aws4_request, SignedHeaders=host, Signature=x",
            ),
        );
        assert_eq!(region(&headers), "eu-west-3");
    }
}
