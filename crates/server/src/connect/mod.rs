//! The Amazon Connect face: the 9 view operations of aws-api-surface.md §5 (rest-json,
//! 200 everywhere, epoch-second timestamps, camelCase query names), a thin adapter over
//! the store's view writes and reads (docs/design/connect-proton.md).

mod views;

use axum::Router;
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
