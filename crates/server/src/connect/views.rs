//! Connect views: CreateView, CreateViewVersion, DescribeView, ListViews,
//! ListViewVersions, UpdateViewContent, UpdateViewMetadata, DeleteView, DeleteViewVersion.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use verso_domain::projection::{VersionRecord, ViewRecord};
use verso_domain::{ConnectInstanceId, ContentHash, ContentRef, ViewContent, ViewId, ViewStatus};
use verso_storage::{NewView, PageRequest};

use crate::appconfig::{AppState, committed, outcome};
use crate::wire::{
    self, ACCOUNT, ApiError, ErrorType, Labels, Operation, Query, epoch_seconds, region,
};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContentInput {
    template: Option<String>,
    actions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    client_token: Option<String>,
    status: Option<String>,
    content: Option<ContentInput>,
    description: Option<String>,
    name: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateContentInput {
    status: Option<String>,
    content: Option<ContentInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataInput {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionInput {
    version_description: Option<String>,
    view_content_sha256: Option<String>,
}

/// What a qualified `ViewId` label names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// `$LATEST` (also the unqualified id).
    Latest,
    /// `$SAVED`.
    Saved,
    /// Version N.
    Version(u64),
}

fn invalid(member: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorType::InvalidParameter, format!("{member}: {why}"))
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorType::ResourceNotFound, message)
}

/// The `InstanceId` label: an instance id, or an instance ARN naming one.
fn instance(params: &Labels) -> Result<ConnectInstanceId, ApiError> {
    let text = wire::label(params, "InstanceId").map_err(|e| invalid("InstanceId", e.message()))?;
    let id = if text.starts_with("arn:") {
        arn_instance(&text).unwrap_or(text.as_str())
    } else {
        text.as_str()
    };
    ConnectInstanceId::parse(id).map_err(|r| invalid("InstanceId", r.message()))
}

/// The `ViewId` label: a view id or view ARN, optionally qualified with `:$LATEST`,
/// `:$SAVED` or `:<N>`. An id of the wrong shape, or an ARN of another instance, names no
/// view: `ResourceNotFoundException`.
fn view_label(
    params: &Labels,
    instance: &ConnectInstanceId,
) -> Result<(ViewId, Option<Target>), ApiError> {
    let text = wire::label(params, "ViewId").map_err(|e| invalid("ViewId", e.message()))?;
    let unqualified = if text.starts_with("arn:") {
        // A view id has no `/`, so the last `/view/` ends the instance part (whose id may
        // hold `/` and `:`).
        let Some((scope, rest)) = text.rsplit_once("/view/") else {
            return Err(not_found(format!("{text:?} is not a view ARN")));
        };
        let named = arn_instance(scope);
        if named != Some(instance.as_str()) {
            return Err(not_found(format!(
                "view ARN {text:?} is not of instance {instance}"
            )));
        }
        rest
    } else {
        text.as_str()
    };
    let (id, qualifier) = match unqualified.split_once(':') {
        Some((id, q)) => (id, Some(q)),
        None => (unqualified, None),
    };
    let target = match qualifier {
        None => None,
        Some("$LATEST") => Some(Target::Latest),
        Some("$SAVED") => Some(Target::Saved),
        Some(n) => Some(Target::Version(n.parse::<u64>().map_err(|_| {
            invalid(
                "ViewId",
                format!("qualifier {n:?} is not $LATEST, $SAVED or a version number"),
            )
        })?)),
    };
    let id = ViewId::parse(id).map_err(|_| not_found(format!("view {id} not found")))?;
    Ok((id, target))
}

/// The instance id of `arn:<partition>:connect:<region>:<account>:instance/<id>`: the
/// sixth `:`-field onwards, after `instance/` (the id itself may hold `:` and `/`).
fn arn_instance(arn: &str) -> Option<&str> {
    arn.splitn(6, ':').nth(5)?.strip_prefix("instance/")
}

fn status(text: Option<String>) -> Result<ViewStatus, ApiError> {
    let text = text.ok_or_else(|| invalid("Status", "is required"))?;
    ViewStatus::parse(&text).map_err(|r| invalid("Status", r.message()))
}

fn content(input: Option<ContentInput>) -> Result<ViewContent, ApiError> {
    let input = input.ok_or_else(|| invalid("Content", "is required"))?;
    Ok(ViewContent {
        template: input
            .template
            .ok_or_else(|| invalid("Content.Template", "is required"))?,
        actions: input.actions.unwrap_or_default(),
    })
}

fn arn(region: &str, record: &ViewRecord) -> String {
    format!(
        "arn:aws:connect:{region}:{ACCOUNT}:instance/{}/view/{}",
        record.instance, record.id
    )
}

/// The `View` shape, showing `content` (its hash is `ViewContentSha256`) with `status`,
/// and the version's number and description when a version is shown.
fn view_json(
    region: &str,
    record: &ViewRecord,
    status: ViewStatus,
    content: (&ContentRef, &ViewContent),
    version: Option<&VersionRecord>,
) -> Value {
    let (reference, decoded) = content;
    let mut body = Map::new();
    if let Some(schema) = decoded.input_schema() {
        body.insert("InputSchema".into(), json!(schema));
    }
    body.insert("Template".into(), json!(decoded.template));
    body.insert("Actions".into(), json!(decoded.actions));
    let mut m = Map::new();
    m.insert("Id".into(), json!(record.id.as_str()));
    m.insert("Arn".into(), json!(arn(region, record)));
    m.insert("Name".into(), json!(record.name));
    m.insert("Status".into(), json!(status.as_str()));
    m.insert("Type".into(), json!("CUSTOMER_MANAGED"));
    if let Some(d) = &record.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(v) = version {
        m.insert("Version".into(), json!(v.version.get()));
        if let Some(d) = &v.description {
            m.insert("VersionDescription".into(), json!(d));
        }
    }
    m.insert("Content".into(), Value::Object(body));
    if !record.tags.is_empty() {
        m.insert("Tags".into(), json!(record.tags));
    }
    m.insert("CreatedTime".into(), epoch_seconds(record.created_at));
    let modified = version.map_or(record.modified_at, |v| v.created_at);
    m.insert("LastModifiedTime".into(), epoch_seconds(modified));
    m.insert(
        "ViewContentSha256".into(),
        json!(reference.hash.to_string()),
    );
    json!({ "View": Value::Object(m) })
}

/// Reads and decodes content for a response.
fn shown(state: &AppState, op: Operation, reference: ContentRef) -> Result<ViewContent, ApiError> {
    state
        .store
        .view_content(reference)
        .map_err(|e| ApiError::internal(op, &e))
}

/// The view as a write left it: `$SAVED` (the content the write brought, which the
/// caller passes so that it is not read back) with the write's status.
fn written(region: &str, record: &ViewRecord, content: &ViewContent) -> Response {
    wire::json_response(
        StatusCode::OK,
        &view_json(
            region,
            record,
            record.status,
            (&record.saved, content),
            None,
        ),
    )
}

/// `maxResults` (1..100, default 100) and `nextToken` of a Connect list.
fn page(query: &Query) -> Result<PageRequest, ApiError> {
    let max_results = match query.get("maxResults") {
        None => 100,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err(invalid("MaxResults", format!("{text:?} is outside 1..100"))),
        },
    };
    let next_token = match query.get("nextToken") {
        None => None,
        Some("") => return Err(invalid("NextToken", "must not be empty")),
        Some(t) => Some(t.to_owned()),
    };
    Ok(PageRequest {
        max_results: Some(max_results),
        next_token,
    })
}

fn query(op: Operation, uri: &Uri) -> Result<Query, ApiError> {
    Query::parse(uri.query()).map_err(|e| e.for_operation(op))
}

async fn body<T: serde::de::DeserializeOwned>(
    op: Operation,
    body: Body,
    headers: &HeaderMap,
) -> Result<T, ApiError> {
    wire::json_input(body, headers)
        .await
        .map_err(|e| e.for_operation(op))
}

fn empty() -> Response {
    wire::json_response(StatusCode::OK, &json!({}))
}

pub(super) async fn create(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateView;
    let instance = instance(&params)?;
    let input: CreateInput = body(OP, raw, &headers).await?;
    if input.tags.as_ref().is_some_and(BTreeMap::is_empty) {
        return Err(invalid("Tags", "must have 1 to 50 entries when present"));
    }
    let content = content(input.content)?;
    let new = NewView {
        name: input.name.ok_or_else(|| invalid("Name", "is required"))?,
        description: input.description,
        status: status(input.status)?,
        content: content.clone(),
        tags: input.tags.unwrap_or_default(),
        client_token: input.client_token.filter(|t| !t.is_empty()),
    };
    let record = committed(OP, state.store_for(&headers).create_view(&instance, new)).await?;
    // A replayed ClientToken answers with the view as it is now, whose content may have
    // been updated since: then it is read back.
    let content = if record.saved.hash == content.canonical().hash() {
        content
    } else {
        shown(&state, OP, record.saved)?
    };
    Ok(written(&region(&headers), &record, &content))
}

pub(super) async fn describe(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DescribeView;
    let instance = instance(&params)?;
    let (id, target) = view_label(&params, &instance)?;
    let record = outcome(OP, state.store.connect_view(&instance, &id))?;
    let region = region(&headers);
    let json = match target.unwrap_or(Target::Latest) {
        Target::Latest => {
            let latest = record.latest.ok_or_else(|| {
                not_found(format!("view {id} has no $LATEST: nothing was published"))
            })?;
            let decoded = shown(&state, OP, latest)?;
            view_json(
                &region,
                &record,
                ViewStatus::Published,
                (&latest, &decoded),
                None,
            )
        }
        Target::Saved => {
            let decoded = shown(&state, OP, record.saved)?;
            view_json(
                &region,
                &record,
                record.status,
                (&record.saved, &decoded),
                None,
            )
        }
        Target::Version(n) => {
            let version = outcome(OP, state.store.connect_view_version(&instance, &id, n))?;
            let decoded = shown(&state, OP, version.content)?;
            view_json(
                &region,
                &record,
                ViewStatus::Published,
                (&version.content, &decoded),
                Some(&version),
            )
        }
    };
    Ok(wire::json_response(StatusCode::OK, &json))
}

pub(super) async fn list(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListViews;
    let instance = instance(&params)?;
    let query = query(OP, &uri)?;
    let page = page(&query)?;
    let region = region(&headers);
    let (items, next_token) = match query.get("type") {
        None | Some("CUSTOMER_MANAGED") => {
            let page = outcome(OP, state.store.connect_views(&instance, &page))?;
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("Id".into(), json!(r.id.as_str()));
                    m.insert("Arn".into(), json!(arn(&region, r)));
                    m.insert("Name".into(), json!(r.name));
                    m.insert("Type".into(), json!("CUSTOMER_MANAGED"));
                    m.insert("Status".into(), json!(r.status.as_str()));
                    if let Some(d) = &r.description {
                        m.insert("Description".into(), json!(d));
                    }
                    Value::Object(m)
                })
                .collect();
            (items, page.next_token)
        }
        // Verso holds no AWS-managed views.
        Some("AWS_MANAGED") => (Vec::new(), None),
        Some(other) => {
            return Err(invalid(
                "Type",
                format!("{other:?} is not CUSTOMER_MANAGED or AWS_MANAGED"),
            ));
        }
    };
    let mut m = Map::new();
    m.insert("ViewsSummaryList".into(), Value::Array(items));
    if let Some(t) = next_token {
        m.insert("NextToken".into(), json!(t));
    }
    Ok(wire::json_response(StatusCode::OK, &Value::Object(m)))
}

pub(super) async fn list_versions(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::ListViewVersions;
    let instance = instance(&params)?;
    let (id, _) = view_label(&params, &instance)?;
    let page = page(&query(OP, &uri)?)?;
    let record = outcome(OP, state.store.connect_view(&instance, &id))?;
    let page = outcome(OP, state.store.connect_view_versions(&instance, &id, &page))?;
    let view_arn = arn(&region(&headers), &record);
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|v| {
            let mut m = Map::new();
            m.insert("Id".into(), json!(record.id.as_str()));
            m.insert("Arn".into(), json!(format!("{view_arn}:{}", v.version)));
            if let Some(d) = &record.description {
                m.insert("Description".into(), json!(d));
            }
            m.insert("Name".into(), json!(record.name));
            m.insert("Type".into(), json!("CUSTOMER_MANAGED"));
            m.insert("Version".into(), json!(v.version.get()));
            if let Some(d) = &v.description {
                m.insert("VersionDescription".into(), json!(d));
            }
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("ViewVersionSummaryList".into(), Value::Array(items));
    if let Some(t) = page.next_token {
        m.insert("NextToken".into(), json!(t));
    }
    Ok(wire::json_response(StatusCode::OK, &Value::Object(m)))
}

pub(super) async fn update_content(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::UpdateViewContent;
    let instance = instance(&params)?;
    let (id, _) = view_label(&params, &instance)?;
    let input: UpdateContentInput = body(OP, raw, &headers).await?;
    let status = status(input.status)?;
    let content = content(input.content)?;
    let record = committed(
        OP,
        state
            .store_for(&headers)
            .update_view_content(&instance, &id, status, &content),
    )
    .await?;
    Ok(written(&region(&headers), &record, &content))
}

pub(super) async fn update_metadata(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::UpdateViewMetadata;
    let instance = instance(&params)?;
    let (id, _) = view_label(&params, &instance)?;
    let input: MetadataInput = body(OP, raw, &headers).await?;
    committed(
        OP,
        state.store_for(&headers).update_view_metadata(
            &instance,
            &id,
            input.name,
            input.description,
        ),
    )
    .await?;
    Ok(empty())
}

pub(super) async fn delete_view(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteView;
    let instance = instance(&params)?;
    let (id, _) = view_label(&params, &instance)?;
    committed(OP, state.store_for(&headers).delete_view(&instance, &id)).await?;
    Ok(empty())
}

pub(super) async fn create_version(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::CreateViewVersion;
    let instance = instance(&params)?;
    let (id, _) = view_label(&params, &instance)?;
    let input: VersionInput = body(OP, raw, &headers).await?;
    let expected = match input.view_content_sha256.as_deref() {
        None => None,
        Some(text) => Some(
            ContentHash::parse_hex(text)
                .map_err(|_| invalid("ViewContentSha256", "must be a sha256 in 64 hex digits"))?,
        ),
    };
    let version = committed(
        OP,
        state.store_for(&headers).create_view_version(
            &instance,
            &id,
            input.version_description,
            expected,
        ),
    )
    .await
    .map_err(|e| {
        if e.kind() == ErrorType::ResourceInUse {
            e.with("ResourceId", json!(id.as_str()))
        } else {
            e
        }
    })?;
    let record = outcome(OP, state.store.connect_view(&instance, &id))?;
    let decoded = shown(&state, OP, version.content)?;
    Ok(wire::json_response(
        StatusCode::OK,
        &view_json(
            &region(&headers),
            &record,
            ViewStatus::Published,
            (&version.content, &decoded),
            Some(&version),
        ),
    ))
}

pub(super) async fn delete_version(
    State(state): State<AppState>,
    params: Labels,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: Operation = Operation::DeleteViewVersion;
    let instance = instance(&params)?;
    let (id, _) = view_label(&params, &instance)?;
    let version = wire::integer_label(&params, "ViewVersion")
        .map_err(|e| invalid("ViewVersion", e.message()))?;
    committed(
        OP,
        state
            .store_for(&headers)
            .delete_view_version(&instance, &id, version),
    )
    .await?;
    Ok(empty())
}
