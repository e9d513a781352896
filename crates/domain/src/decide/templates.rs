//! Proton environment templates (docs/design/connect-proton.md): a template generation's
//! majors are the versions of one stream and each major's minors those of another, so
//! both numbers come from the kernel's one `+1` rule (E4); the `clientToken` follows the
//! kernel's key rule (E11). This module adds generations, registration, the status
//! transitions and the recommended-version delete rules.

use super::{Decision, quota};
use crate::command::{CreateEnvironmentTemplate, CreateEnvironmentTemplateVersion};
use crate::event::Event;
use crate::id::{StreamId, StreamVersion, Timestamp};
use crate::limits::Limits;
use crate::projection::{ReadModel, TemplateRecord, TemplateVersionRecord};
use crate::proton::{self, TemplateName, TemplateSource, TemplateVersion, TemplateVersionStatus};
use crate::rejection::{Detail, Rejection, RejectionKind};
use crate::stream::{AppendOutcome, AppendVersion, KeyUse, decide_append, key_replayed};
use crate::validate;

pub(super) fn create<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateEnvironmentTemplate,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    let previous = state.template(&c.template);
    let event = Event::EnvironmentTemplateCreated {
        template: c.template.clone(),
        generation: next_generation(previous.as_ref()),
        display_name: c.display_name.clone(),
        description: c.description.clone(),
        encryption_key: c.encryption_key.clone(),
        provisioning: c.provisioning,
        tags: c.tags.clone(),
        request_digest: c.request_digest,
    };
    validate::event(&event)?;
    if let Some(live) = previous.filter(TemplateRecord::is_live) {
        // Idempotent by content (T7): the same create answers with the template.
        if live.request_digest == c.request_digest {
            return Ok(Decision::nothing());
        }
        return Err(Rejection::new(
            RejectionKind::IdempotencyMismatch,
            format!(
                "environment template {} exists and was created with other parameters",
                c.template
            ),
            Detail::None,
        ));
    }
    quota(
        state.template_count(),
        limits.max_templates,
        "environment templates",
    )?;
    Ok(Decision::append(event))
}

pub(super) fn delete<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
) -> Result<Decision, Rejection> {
    // Idempotent: a template that is gone is deleted already.
    let Some(template) = state.template(name).filter(TemplateRecord::is_live) else {
        return Ok(Decision::nothing());
    };
    has_no_versions(state, &template)?;
    Ok(Decision::append(Event::EnvironmentTemplateDeleted {
        template: name.clone(),
        generation: template.generation,
    }))
}

pub(super) fn create_version<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateEnvironmentTemplateVersion,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    if let Some(d) = &c.description {
        proton::description(d)?;
    }
    proton::tags(&c.tags)?;
    if let Some(key) = &c.client_token {
        proton::client_token(&key.token)?;
    }
    TemplateSource::decode(c.source.bytes())
        .map_err(|e| Rejection::invalid("source", e))?
        .check()?;
    let template = existing_template(state, &c.template)?;
    let generation = template.generation;
    if let Some(key) = &c.client_token
        && key_replayed(
            token_use(state, &c.template, generation, &key.token),
            key,
            now,
        )?
    {
        // The first version answers: `projection::subject` finds it through the token.
        return Ok(Decision::nothing());
    }
    let content = c.source.to_ref();
    let majors = StreamId::template(&c.template, generation);
    let mut events = Vec::new();
    let major = match c.major {
        None => {
            let major = append_to(state, &majors, content)?;
            events.push(version_created(&majors, major, content, None));
            major.get()
        }
        Some(major) => {
            live_major(state, &c.template, generation, major)?;
            major
        }
    };
    let minors = StreamId::template_major(&c.template, generation, major);
    let number = if c.major.is_none() {
        // A fresh major's stream: its first version, minor 0 (T3).
        StreamVersion::new(1)
    } else {
        append_to(state, &minors, content)?
    };
    events.push(version_created(
        &minors,
        number,
        content,
        c.description.clone(),
    ));
    events.push(Event::EnvironmentTemplateVersionRegistered {
        template: c.template.clone(),
        generation,
        version: TemplateVersion::in_major(major, number),
        status: TemplateVersionStatus::Draft,
        status_message: None,
        tags: c.tags.clone(),
        client_token: c.client_token.clone(),
    });
    Ok(Decision {
        events,
        existing: None,
    })
}

pub(super) fn update_version<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    version: TemplateVersion,
    status: Option<TemplateVersionStatus>,
    description: Option<&str>,
) -> Result<Decision, Rejection> {
    if let Some(d) = description {
        proton::description(d)?;
    }
    if let Some(requested) = status {
        requestable(requested)?;
    }
    let template = existing_template(state, name)?;
    let current = existing_version(state, name, template.generation, version)?;
    let status = status.unwrap_or(current.status);
    transition(current.status, status)?;
    let description = description
        .map(str::to_owned)
        .or_else(|| current.description.clone());
    if status == current.status && description == current.description {
        return Ok(Decision::nothing());
    }
    Ok(Decision::append(Event::EnvironmentTemplateVersionUpdated {
        template: name.clone(),
        generation: template.generation,
        version,
        status,
        description,
    }))
}

pub(super) fn delete_version<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    version: TemplateVersion,
) -> Result<Decision, Rejection> {
    // Idempotent: a version (or template) that is gone is deleted already.
    let Some(template) = state.template(name).filter(TemplateRecord::is_live) else {
        return Ok(Decision::nothing());
    };
    let generation = template.generation;
    if state.template_version(name, generation, version).is_none() {
        return Ok(Decision::nothing());
    }
    delete_allowed(state, name, generation, version)?;
    let minors = StreamId::template_major(name, generation, version.major);
    let mut events = vec![Event::VersionDeleted {
        stream: minors,
        version: version.minor_stream_version(),
    }];
    if !has_other_minor(state, name, generation, version) {
        events.push(Event::VersionDeleted {
            stream: StreamId::template(name, generation),
            version: StreamVersion::new(version.major),
        });
    }
    Ok(Decision {
        events,
        existing: None,
    })
}

/// A status an update may ask for: the registration statuses are the service's own.
///
/// # Errors
/// `Invalid` naming `status`.
pub(crate) fn requestable(status: TemplateVersionStatus) -> Result<(), Rejection> {
    match status {
        TemplateVersionStatus::Draft | TemplateVersionStatus::Published => Ok(()),
        _ => Err(Rejection::invalid(
            "status",
            format!(
                "{} is set by registration, not by an update",
                status.as_str()
            ),
        )),
    }
}

/// The status transitions an update may make (T4): `DRAFT` → `DRAFT` | `PUBLISHED`,
/// `PUBLISHED` → `PUBLISHED`.
pub(crate) fn transition(
    from: TemplateVersionStatus,
    to: TemplateVersionStatus,
) -> Result<(), Rejection> {
    use TemplateVersionStatus::{Draft, Published};
    match (from, to) {
        (Draft, Draft | Published) | (Published, Published) => Ok(()),
        _ => Err(Rejection::new(
            RejectionKind::StateConflict,
            format!(
                "a {} template version cannot become {}",
                from.as_str(),
                to.as_str()
            ),
            Detail::None,
        )),
    }
}

/// The documented delete rules (T5): the template's recommended version only when it is
/// the template's only live version; else a major's recommended minor only when it is
/// the major's only live minor; any other version always.
pub(crate) fn delete_allowed<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
    version: TemplateVersion,
) -> Result<(), Rejection> {
    let refuse = |why: &str| {
        Err(Rejection::new(
            RejectionKind::StateConflict,
            format!("template {name} version {version} {why}"),
            Detail::None,
        ))
    };
    let other_minor = has_other_minor(state, name, generation, version);
    if state.recommended_version(name, generation) == Some(version) {
        if other_minor || has_other_major(state, name, generation, version.major) {
            return refuse(
                "is the template's recommended version and other versions remain; delete them first",
            );
        }
    } else if state.recommended_minor(name, generation, version.major) == Some(version.minor)
        && other_minor
    {
        return refuse(
            "is its major's recommended minor version and other minor versions remain; delete them first",
        );
    }
    Ok(())
}

/// Whether `stream` has a live version other than `version`, from its head: O(1) reads.
fn has_other_live<R: ReadModel + ?Sized>(state: &R, stream: &StreamId, version: u64) -> bool {
    let number = StreamVersion::new(version);
    state
        .stream(stream)
        .and_then(|h| h.latest_live)
        .is_some_and(|latest| latest != number)
        || state.live_version_below(stream, number).is_some()
}

/// Whether the major of `version` has a live minor other than it.
fn has_other_minor<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
    version: TemplateVersion,
) -> bool {
    let minors = StreamId::template_major(name, generation, version.major);
    has_other_live(state, &minors, version.minor_stream_version().get())
}

/// Whether the template generation has a live major other than `major`.
fn has_other_major<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
    major: u64,
) -> bool {
    has_other_live(state, &StreamId::template(name, generation), major)
}

fn append_to<R: ReadModel + ?Sized>(
    state: &R,
    stream: &StreamId,
    content: crate::content::ContentRef,
) -> Result<StreamVersion, Rejection> {
    let request = AppendVersion {
        stream,
        content,
        expected_latest: None,
        expected_content: None,
        idempotency: None,
    };
    match decide_append(state, &request)? {
        AppendOutcome::Append(v) => Ok(v),
        AppendOutcome::Existing(record, _) => Err(Rejection::new(
            RejectionKind::StateConflict,
            format!(
                "stream {stream}: version {} answered a template version create",
                record.version
            ),
            Detail::None,
        )),
    }
}

fn version_created(
    stream: &StreamId,
    version: StreamVersion,
    content: crate::content::ContentRef,
    description: Option<String>,
) -> Event {
    Event::VersionCreated {
        stream: stream.clone(),
        version,
        content,
        content_type: None,
        description,
        label: None,
        expected_latest: None,
        expected_content: None,
        idempotency: None,
    }
}

fn next_generation(previous: Option<&TemplateRecord>) -> u32 {
    previous.map_or(1, |p| p.generation.saturating_add(1))
}

/// The live template `name`.
pub(crate) fn existing_template<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
) -> Result<TemplateRecord, Rejection> {
    state
        .template(name)
        .filter(TemplateRecord::is_live)
        .ok_or_else(|| Rejection::not_found("EnvironmentTemplate", name))
}

/// The live template `name` of `generation` (for replay, where a record names it).
pub(crate) fn existing_generation<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
) -> Result<TemplateRecord, Rejection> {
    let template = existing_template(state, name)?;
    if template.generation != generation {
        return Err(Rejection::not_found(
            "EnvironmentTemplate",
            format_args!("{name} generation {generation}"),
        ));
    }
    Ok(template)
}

fn existing_version<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
    version: TemplateVersion,
) -> Result<TemplateVersionRecord, Rejection> {
    state
        .template_version(name, generation, version)
        .ok_or_else(|| {
            Rejection::not_found(
                "EnvironmentTemplateVersion",
                format_args!("{name} {version}"),
            )
        })
}

/// Major `major` of the template generation is live (its version in the majors stream).
pub(crate) fn live_major<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
    major: u64,
) -> Result<(), Rejection> {
    state
        .version(
            &StreamId::template(name, generation),
            StreamVersion::new(major),
        )
        .filter(|r| r.is_live())
        .map(|_| ())
        .ok_or_else(|| {
            Rejection::not_found(
                "EnvironmentTemplateVersion",
                format_args!("{name} major version {major}"),
            )
        })
}

/// A template generation with no live versions (T5).
pub(crate) fn has_no_versions<R: ReadModel + ?Sized>(
    state: &R,
    template: &TemplateRecord,
) -> Result<(), Rejection> {
    let majors = StreamId::template(&template.name, template.generation);
    if state.stream(&majors).and_then(|h| h.latest_live).is_none() {
        Ok(())
    } else {
        Err(Rejection::new(
            RejectionKind::NotEmpty,
            format!(
                "environment template {} still has versions; delete them first",
                template.name
            ),
            Detail::None,
        ))
    }
}

/// The earlier use of a version token of a template generation, for the kernel's key
/// rule (E11): its answer is live while the version it created is.
pub(crate) fn token_use<R: ReadModel + ?Sized>(
    state: &R,
    name: &TemplateName,
    generation: u32,
    token: &str,
) -> Option<KeyUse> {
    let seen = state.template_token(name, generation, token)?;
    let answer_live = state
        .template_version(name, generation, seen.version)
        .is_some();
    Some(KeyUse {
        digest: seen.digest,
        first_used: seen.first_used,
        answer_live,
    })
}
