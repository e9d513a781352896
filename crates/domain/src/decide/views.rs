//! Connect views (docs/design/connect-proton.md): a thin policy over a view's stream.
//! Numbering, the `ViewContentSha256` guard and the unchanged rule are the kernel's
//! (`stream::decide_append` under the `ConnectView` policy); this module adds names,
//! aliases, the `ClientToken` and the delete cascade.

use super::{Decision, live_version, quota};
use crate::command::CreateView;
use crate::connect::EncodedViewContent;
use crate::connect::{ConnectInstanceId, ViewId, ViewStatus, view_description};
use crate::event::Event;
use crate::id::{ContentHash, StreamId, StreamVersion, Timestamp};
use crate::limits::Limits;
use crate::projection::{ReadModel, ViewRecord};
use crate::rejection::{Detail, Rejection, RejectionKind};
use crate::stream::{AppendOutcome, AppendVersion, KeyUse, decide_append, key_replayed};
use crate::validate;

pub(super) fn create<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateView,
    limits: &Limits,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    let event = Event::ViewCreated {
        instance: c.instance.clone(),
        view: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        status: c.status,
        content: c.content.content().to_ref(),
        tags: c.tags.clone(),
        client_token: c.client_token.clone(),
    };
    validate::event(&event)?;
    content_checks(&c.content, c.status, limits)?;
    if let Some(key) = &c.client_token
        && key_replayed(token_use(state, &c.instance, &key.token), key, now)?
    {
        // The first view answers: `projection::subject` finds it through the token.
        return Ok(Decision::nothing());
    }
    view_is_new(state, &c.instance, &c.id, &c.name)?;
    quota(
        state.view_count(&c.instance),
        limits.max_views_per_instance,
        "views per instance",
    )?;
    Ok(Decision::append(event))
}

pub(super) fn update_content<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
    status: ViewStatus,
    content: &EncodedViewContent,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    content_checks(content, status, limits)?;
    let current = existing_view(state, instance, view)?;
    let content = content.content().to_ref();
    let latest_unchanged = status == ViewStatus::Saved || current.latest == Some(content);
    if current.saved == content && current.status == status && latest_unchanged {
        return Ok(Decision::nothing());
    }
    Ok(Decision::append(Event::ViewContentUpdated {
        instance: instance.clone(),
        view: view.clone(),
        status,
        content,
    }))
}

pub(super) fn update_metadata<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Decision, Rejection> {
    if name.is_none() && description.is_none() {
        return Err(Rejection::invalid(
            "Name",
            "give at least one of Name and Description",
        ));
    }
    let current = existing_view(state, instance, view)?;
    let name = name.map_or_else(|| current.name.clone(), str::to_owned);
    let description = description
        .map(str::to_owned)
        .or(current.description.clone());
    if name == current.name && description == current.description {
        return Ok(Decision::nothing());
    }
    name_is_free(state, instance, &name, Some(view))?;
    Decision::validated(Event::ViewMetadataUpdated {
        instance: instance.clone(),
        view: view.clone(),
        name,
        description,
    })
}

pub(super) fn delete<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
) -> Result<Decision, Rejection> {
    existing_view(state, instance, view)?;
    let stream = StreamId::view(instance, view);
    let mut events = Vec::new();
    let mut next = state.stream(&stream).and_then(|h| h.latest_live);
    while let Some(version) = next {
        events.push(Event::VersionDeleted {
            stream: stream.clone(),
            version,
        });
        next = state.live_version_below(&stream, version);
    }
    events.push(Event::ViewDeleted {
        instance: instance.clone(),
        view: view.clone(),
    });
    Ok(Decision {
        events,
        existing: None,
    })
}

pub(super) fn create_version<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
    version_description: Option<&str>,
    expected_content: Option<ContentHash>,
) -> Result<Decision, Rejection> {
    if let Some(text) = version_description {
        view_description("VersionDescription", text)?;
    }
    let current = existing_view(state, instance, view)?;
    let Some(latest) = current.latest else {
        return Err(Rejection::not_found(
            "View",
            format_args!("{view}:$LATEST (nothing was published)"),
        ));
    };
    let stream = StreamId::view(instance, view);
    let request = AppendVersion {
        stream: &stream,
        content: latest,
        expected_latest: None,
        expected_content,
        idempotency: None,
    };
    match decide_append(state, &request)? {
        AppendOutcome::Append(version) => Ok(Decision::append(Event::VersionCreated {
            stream,
            version,
            content: latest,
            content_type: None,
            description: version_description.map(str::to_owned),
            label: None,
            expected_latest: None,
            expected_content,
            idempotency: None,
        })),
        AppendOutcome::Existing(record, _) => Ok(Decision {
            events: Vec::new(),
            existing: Some(*record),
        }),
    }
}

pub(super) fn delete_version<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
    version: StreamVersion,
) -> Result<Decision, Rejection> {
    existing_view(state, instance, view)?;
    let stream = StreamId::view(instance, view);
    live_version(state, &stream, version)?;
    Ok(Decision::append(Event::VersionDeleted { stream, version }))
}

/// The checks on content a write brings: size, and the basic or (for `Published`) full
/// checks, whose results the encoding computed on the caller's thread.
fn content_checks(
    content: &EncodedViewContent,
    status: ViewStatus,
    limits: &Limits,
) -> Result<(), Rejection> {
    let len = content.content().bytes().len() as u64;
    if len > limits.max_view_content_bytes {
        return Err(Rejection::invalid(
            "Content",
            format!(
                "content of {len} bytes is over the limit of {} bytes",
                limits.max_view_content_bytes
            ),
        ));
    }
    content.check(status)
}

/// The live view `(instance, view)`.
pub(crate) fn existing_view<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
) -> Result<ViewRecord, Rejection> {
    state
        .view(instance, view)
        .filter(ViewRecord::is_live)
        .ok_or_else(|| Rejection::not_found("View", view))
}

/// A view id is new when no view, live or deleted, had it and its stream has no
/// history; and its name is free (invariants V1, V2).
pub(crate) fn view_is_new<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    view: &ViewId,
    name: &str,
) -> Result<(), Rejection> {
    if state.view(instance, view).is_some()
        || state.stream(&StreamId::view(instance, view)).is_some()
    {
        return Err(Rejection::new(
            RejectionKind::AlreadyExists,
            format!("view {view} already exists"),
            Detail::None,
        ));
    }
    name_is_free(state, instance, name, None)
}

/// No live view of the instance other than `own` has `name` (invariant V2).
pub(crate) fn name_is_free<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    name: &str,
    own: Option<&ViewId>,
) -> Result<(), Rejection> {
    match state.view_named(instance, name) {
        Some(holder) if Some(&holder) != own => Err(Rejection::new(
            RejectionKind::AlreadyExists,
            format!("instance {instance} already has a view named {name:?}"),
            Detail::None,
        )),
        _ => Ok(()),
    }
}

/// The earlier use of a `CreateView` token of the instance, for the kernel's key rule
/// (E11): its answer is live while the view it created is.
pub(crate) fn token_use<R: ReadModel + ?Sized>(
    state: &R,
    instance: &ConnectInstanceId,
    token: &str,
) -> Option<KeyUse> {
    let seen = state.view_token(instance, token)?;
    let answer_live = state
        .view(instance, &seen.view)
        .is_some_and(|r| r.is_live());
    Some(KeyUse {
        digest: seen.digest,
        first_used: seen.first_used,
        answer_live,
    })
}
