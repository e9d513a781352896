//! `decide`: every business rule. Given the projections and a command, it returns the
//! events to append or a rejection. Pure: no I/O, no clock, no randomness.
//!
//! Applications, profiles and hosted versions are decided here; environments, deployment
//! strategies and tags in the submodules.

mod deployments;
mod environments;
mod strategies;
mod tags;
mod templates;
mod views;

use std::borrow::Cow;

pub(crate) use deployments::{check_started, check_stopped, latest_state};

pub(crate) use environments::{
    deployment_not_in_progress, environment_id_is_new, existing_environment,
};
pub(crate) use strategies::{strategy_id_is_new, user_strategy};
pub(crate) use tags::current_tags;
pub(crate) use templates::{
    delete_allowed, existing_generation, has_no_versions, live_major, requestable,
    token_use as template_token_use, transition,
};
pub(crate) use views::{existing_view, name_is_free, token_use, view_is_new};

use crate::command::{
    Command, CreateApplication, CreateHostedVersion, CreateProfile, UpdateApplication,
    UpdateProfile, ValidatorInput,
};
use crate::event::{Event, ValidatorRef};
use crate::id::{ApplicationId, ProfileId, StreamId, StreamVersion, Timestamp};
use crate::limits::Limits;
use crate::projection::{ProfileRecord, ReadModel, VersionRecord};
use crate::rejection::{Detail, Rejection, RejectionKind};
use crate::stream::{AppendOutcome, AppendVersion, decide_append};
use crate::validate;

/// The `LocationUri` of a profile whose versions live in the hosted store.
pub const HOSTED_LOCATION: &str = "hosted";

/// What `decide` concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The events to append, in order, as one atomic group. Empty when nothing changes.
    pub events: Vec<Event>,
    /// When nothing is appended because an existing version answers the command
    /// (idempotent replay, unchanged content), that version.
    pub existing: Option<VersionRecord>,
}

impl Decision {
    fn append(event: Event) -> Self {
        Self {
            events: vec![event],
            existing: None,
        }
    }

    /// Appends nothing: the command changes nothing.
    const fn nothing() -> Self {
        Self {
            events: Vec::new(),
            existing: None,
        }
    }

    /// Appends `event` once its fields pass [`validate::event`], the rule replay checks.
    fn validated(event: Event) -> Result<Self, Rejection> {
        validate::event(&event)?;
        Ok(Self::append(event))
    }
}

/// Decides `command` against `state` under `limits`, at time `now`: the timestamp the
/// writer gives the records it appends for the command. Only deployments look at it:
/// whether one is in progress is a function of time (docs/design/deployments.md).
///
/// # Errors
/// A [`Rejection`] when the command breaks a rule; nothing is appended then.
pub fn decide<R: ReadModel + ?Sized>(
    state: &R,
    command: &Command,
    limits: &Limits,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    match command {
        Command::CreateApplication(c) => create_application(state, c, limits),
        Command::UpdateApplication(c) => update_application(state, c),
        Command::DeleteApplication(c) => {
            existing_application(state, &c.id)?;
            if let Some(children) = application_children(state, &c.id) {
                return Err(Rejection::new(
                    RejectionKind::NotEmpty,
                    format!("application {} still has {children}", c.id),
                    Detail::None,
                ));
            }
            Ok(Decision::append(Event::ApplicationDeleted {
                application: c.id.clone(),
            }))
        }
        Command::CreateProfile(c) => create_profile(state, c, limits),
        Command::UpdateProfile {
            application,
            profile,
            changes,
        } => update_profile(state, application, profile, changes),
        Command::DeleteProfile {
            application,
            profile,
        } => {
            existing_profile(state, application, profile)?;
            let stream = StreamId::hosted(application, profile);
            if state.stream(&stream).and_then(|h| h.latest_live).is_some() {
                return Err(Rejection::new(
                    RejectionKind::NotEmpty,
                    format!(
                        "configuration profile {profile} of application {application} still has hosted configuration versions"
                    ),
                    Detail::None,
                ));
            }
            Ok(Decision::append(Event::ProfileDeleted {
                application: application.clone(),
                profile: profile.clone(),
            }))
        }
        Command::CreateHostedVersion(c) => create_hosted_version(state, c, limits),
        Command::DeleteHostedVersion {
            application,
            profile,
            version,
        } => {
            existing_profile(state, application, profile)?;
            let stream = StreamId::hosted(application, profile);
            live_version(state, &stream, *version)?;
            Ok(Decision::append(Event::VersionDeleted {
                stream,
                version: *version,
            }))
        }
        Command::CreateEnvironment(c) => environments::create(state, c, limits),
        Command::UpdateEnvironment {
            application,
            environment,
            changes,
        } => environments::update(state, application, environment, changes),
        Command::DeleteEnvironment {
            application,
            environment,
        } => environments::delete(state, application, environment, now),
        Command::CreateDeploymentStrategy(c) => strategies::create(state, c, limits),
        Command::UpdateDeploymentStrategy { strategy, changes } => {
            strategies::update(state, strategy, changes)
        }
        Command::DeleteDeploymentStrategy { strategy } => strategies::delete(state, strategy),
        Command::TagResource { resource, tags } => tags::tag(state, resource, tags),
        Command::UntagResource { resource, keys } => tags::untag(state, resource, keys),
        Command::StartDeployment(c) => deployments::start(state, c, now),
        Command::StopDeployment {
            application,
            environment,
            number,
            allow_revert,
        } => deployments::stop(state, application, environment, *number, *allow_revert, now),
        Command::CreateView(c) => views::create(state, c, limits, now),
        Command::UpdateViewContent {
            instance,
            view,
            status,
            content,
        } => views::update_content(state, instance, view, *status, content, limits),
        Command::UpdateViewMetadata {
            instance,
            view,
            name,
            description,
        } => views::update_metadata(
            state,
            instance,
            view,
            name.as_deref(),
            description.as_deref(),
        ),
        Command::DeleteView { instance, view } => views::delete(state, instance, view),
        Command::CreateViewVersion {
            instance,
            view,
            version_description,
            expected_content,
        } => views::create_version(
            state,
            instance,
            view,
            version_description.as_deref(),
            *expected_content,
        ),
        Command::DeleteViewVersion {
            instance,
            view,
            version,
        } => views::delete_version(state, instance, view, *version),
        Command::CreateEnvironmentTemplate(c) => templates::create(state, c, limits),
        Command::DeleteEnvironmentTemplate { template } => templates::delete(state, template),
        Command::CreateEnvironmentTemplateVersion(c) => templates::create_version(state, c, now),
        Command::UpdateEnvironmentTemplateVersion {
            template,
            version,
            status,
            description,
        } => templates::update_version(state, template, *version, *status, description.as_deref()),
        Command::DeleteEnvironmentTemplateVersion { template, version } => {
            templates::delete_version(state, template, *version)
        }
    }
}

/// What still lives in an application and so keeps it from being deleted, if anything.
pub(crate) fn application_children<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
) -> Option<&'static str> {
    if state.profile_count(application) > 0 {
        Some("configuration profiles")
    } else if state.environment_count(application) > 0 {
        Some("environments")
    } else {
        None
    }
}

fn create_application<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateApplication,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    let event = Event::ApplicationCreated {
        application: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        tags: c.tags.clone(),
    };
    validate::event(&event)?;
    if state.application(&c.id).is_some() {
        return Err(already_exists("application", &c.id));
    }
    quota(
        state.application_count(),
        limits.max_applications,
        "applications",
    )?;
    Ok(Decision::append(event))
}

fn update_application<R: ReadModel + ?Sized>(
    state: &R,
    c: &UpdateApplication,
) -> Result<Decision, Rejection> {
    let current = existing_application(state, &c.id)?.into_owned();
    Decision::validated(Event::ApplicationUpdated {
        application: c.id.clone(),
        name: c.name.clone().unwrap_or(current.name),
        description: c.description.clone().or(current.description),
    })
}

fn create_profile<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateProfile,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    let event = Event::ProfileCreated {
        application: c.application.clone(),
        profile: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        location_uri: c.location_uri.clone(),
        retrieval_role_arn: c.retrieval_role_arn.clone(),
        validators: validators(&c.validators)?,
        profile_type: c.profile_type.clone(),
        kms_key_identifier: c.kms_key_identifier.clone(),
        tags: c.tags.clone(),
    };
    validate::event(&event)?;
    existing_application(state, &c.application)?;
    profile_id_is_new(state, &c.application, &c.id)?;
    quota(
        state.profile_count(&c.application),
        limits.max_profiles_per_application,
        "configuration profiles per application",
    )?;
    Ok(Decision::append(event))
}

fn update_profile<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    profile: &ProfileId,
    changes: &UpdateProfile,
) -> Result<Decision, Rejection> {
    let current = existing_profile(state, application, profile)?.into_owned();
    let validators = match &changes.validators {
        Some(v) => validators(v)?,
        None => current.validators,
    };
    let kms_key_identifier = match changes.kms_key_identifier.as_deref() {
        None => current.kms_key_identifier,
        Some("") => None,
        Some(k) => Some(k.to_owned()),
    };
    Decision::validated(Event::ProfileUpdated {
        application: application.clone(),
        profile: profile.clone(),
        name: changes.name.clone().unwrap_or(current.name),
        description: changes.description.clone().or(current.description),
        retrieval_role_arn: changes
            .retrieval_role_arn
            .clone()
            .or(current.retrieval_role_arn),
        validators,
        kms_key_identifier,
    })
}

fn create_hosted_version<R: ReadModel + ?Sized>(
    state: &R,
    c: &CreateHostedVersion,
    limits: &Limits,
) -> Result<Decision, Rejection> {
    // Checked before the profile is looked up, so a bad header is a 400 before a 404.
    validate::version_fields(
        Some(&c.content_type),
        c.description.as_deref(),
        c.label.as_deref(),
    )?;
    let content = c.content.to_ref();
    if content.len > limits.max_content_bytes {
        return Err(Rejection::new(
            RejectionKind::PayloadTooLarge,
            format!(
                "content of {} bytes is over the limit of {} bytes",
                content.len, limits.max_content_bytes
            ),
            Detail::Size {
                limit: limits.max_content_bytes,
                size: content.len,
            },
        ));
    }
    hosted_profile(state, &c.application, &c.profile)?;
    let total = state.hosted_bytes().saturating_add(content.len);
    if total > limits.max_hosted_bytes {
        return Err(Rejection::new(
            RejectionKind::QuotaExceeded,
            format!(
                "hosted configuration store would hold {total} bytes, over the quota of {} bytes",
                limits.max_hosted_bytes
            ),
            Detail::Quota {
                quota: "hosted configuration store bytes",
                limit: limits.max_hosted_bytes,
            },
        ));
    }
    let stream = StreamId::hosted(&c.application, &c.profile);
    let request = AppendVersion {
        stream: &stream,
        content,
        expected_latest: c.latest_version_number,
        expected_content: None,
        idempotency: None,
    };
    match decide_append(state, &request)? {
        AppendOutcome::Append(version) => Ok(Decision::append(Event::VersionCreated {
            stream,
            version,
            content,
            content_type: Some(c.content_type.clone()),
            description: c.description.clone(),
            label: c.label.clone(),
            expected_latest: c.latest_version_number,
            expected_content: None,
            idempotency: None,
        })),
        AppendOutcome::Existing(record, _) => Ok(Decision {
            events: Vec::new(),
            existing: Some(*record),
        }),
    }
}

fn validators(inputs: &[ValidatorInput]) -> Result<Vec<ValidatorRef>, Rejection> {
    inputs
        .iter()
        .map(|v| {
            let text = std::str::from_utf8(v.content.bytes())
                .map_err(|_| Rejection::invalid("Validators", "content is not UTF-8"))?;
            validate::validator_content(text)?;
            Ok(ValidatorRef {
                kind: v.kind,
                content: v.content.to_ref(),
            })
        })
        .collect()
}

pub(crate) fn existing_application<'s, R: ReadModel + ?Sized>(
    state: &'s R,
    id: &ApplicationId,
) -> Result<Cow<'s, crate::projection::ApplicationRecord>, Rejection> {
    state
        .application(id)
        .ok_or_else(|| Rejection::not_found("Application", id))
}

pub(crate) fn existing_profile<'s, R: ReadModel + ?Sized>(
    state: &'s R,
    application: &ApplicationId,
    profile: &ProfileId,
) -> Result<Cow<'s, ProfileRecord>, Rejection> {
    existing_application(state, application)?;
    state
        .profile(application, profile)
        .ok_or_else(|| Rejection::not_found("ConfigurationProfile", profile))
}

pub(crate) fn hosted_profile<'s, R: ReadModel + ?Sized>(
    state: &'s R,
    application: &ApplicationId,
    profile: &ProfileId,
) -> Result<Cow<'s, ProfileRecord>, Rejection> {
    let record = existing_profile(state, application, profile)?;
    if record.location_uri != HOSTED_LOCATION {
        return Err(Rejection::invalid(
            "ConfigurationProfileId",
            format!(
                "configuration profile {profile} has LocationUri {:?}, not {HOSTED_LOCATION:?}",
                record.location_uri
            ),
        ));
    }
    Ok(record)
}

pub(crate) fn live_version<R: ReadModel + ?Sized>(
    state: &R,
    stream: &StreamId,
    version: StreamVersion,
) -> Result<VersionRecord, Rejection> {
    let resource = match stream {
        StreamId::HostedConfiguration { .. } => "HostedConfigurationVersion",
        StreamId::ConnectView { .. } => "ViewVersion",
        StreamId::EnvironmentTemplate { .. } | StreamId::EnvironmentTemplateMajor { .. } => {
            "EnvironmentTemplateVersion"
        }
    };
    state
        .version(stream, version)
        .filter(|r| r.is_live())
        .map(Cow::into_owned)
        .ok_or_else(|| Rejection::not_found(resource, version))
}

/// A profile id is new when no live profile has it and its stream has no history: ids of
/// deleted profiles whose versions are in the log are never reused (E4).
pub(crate) fn profile_id_is_new<R: ReadModel + ?Sized>(
    state: &R,
    application: &ApplicationId,
    id: &ProfileId,
) -> Result<(), Rejection> {
    if state.profile(application, id).is_some()
        || state.stream(&StreamId::hosted(application, id)).is_some()
    {
        return Err(already_exists("configuration profile", id));
    }
    Ok(())
}

fn already_exists(what: &str, id: &impl std::fmt::Display) -> Rejection {
    Rejection::new(
        RejectionKind::AlreadyExists,
        format!("{what} {id} already exists"),
        Detail::None,
    )
}

fn quota(count: u64, limit: u64, what: &'static str) -> Result<(), Rejection> {
    if count >= limit {
        return Err(Rejection::new(
            RejectionKind::QuotaExceeded,
            format!("quota of {limit} {what} reached"),
            Detail::Quota { quota: what, limit },
        ));
    }
    Ok(())
}
