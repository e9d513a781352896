//! `apply`: fold one recorded event into the projections.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{
    ApplicationRecord, DeploymentStrategyRecord, EnvironmentRecord, IdempotencyRecord,
    ProfileRecord, ReadModel, TemplateRecord, TemplateTokenRecord, TemplateVersionRecord,
    VersionRecord, ViewRecord, ViewTokenRecord, WriteModel,
};
use crate::connect::ViewStatus;
use crate::deployment::{DeploymentRecord, DeploymentState, Stop};
use crate::event::{EnvironmentState, Event, IdempotencyKey, Recorded, TaggedResource};
use crate::id::StreamId;
use crate::proton::{TemplateVersion, TemplateVersionStatus};

/// [`apply`], taking the recorded event: a created version's record keeps the event's
/// strings instead of copies of them. A replay folds every version of a log through
/// here.
pub fn apply_owned<W: ReadModel + WriteModel + ?Sized>(state: &mut W, recorded: Recorded) {
    let Recorded {
        position,
        timestamp,
        actor,
        event,
    } = recorded;
    match event {
        Event::VersionCreated {
            stream,
            version,
            content,
            content_type,
            description,
            label,
            idempotency,
            ..
        } => version_created(
            state,
            VersionRecord {
                stream,
                version,
                position,
                created_at: timestamp,
                actor,
                content,
                content_type,
                description,
                label,
                deleted: None,
            },
            idempotency.as_ref(),
        ),
        event => apply(
            state,
            &Recorded {
                position,
                timestamp,
                actor,
                event,
            },
        ),
    }
}

/// A created version (`record`): its stream's head, label, content use, idempotency key
/// and hosted bytes, a Proton minor's registration, and the version record itself.
fn version_created<W: ReadModel + WriteModel + ?Sized>(
    state: &mut W,
    record: VersionRecord,
    idempotency: Option<&IdempotencyKey>,
) {
    let stream = &record.stream;
    let version = record.version;
    let mut head = state.stream(stream).unwrap_or_default();
    head.last_assigned = head.last_assigned.max(version.get());
    head.latest_live = head.latest_live.max(Some(version));
    state.put_stream(stream, head);
    if let Some(label) = &record.label {
        state.put_label(stream, label, version);
    }
    state.put_content_use(record.content.hash, stream, version);
    if let Some(key) = idempotency {
        state.put_idempotency(
            stream,
            &key.token,
            IdempotencyRecord {
                digest: key.digest,
                version,
            },
        );
    }
    if counts_as_hosted(stream) {
        let total = state.hosted_bytes().saturating_add(record.content.len);
        state.set_hosted_bytes(total);
    }
    if let StreamId::EnvironmentTemplateMajor {
        template,
        generation,
        major,
    } = stream
    {
        // Registered at the end of the group (EnvironmentTemplateVersionRegistered).
        state.put_template_version(TemplateVersionRecord {
            template: template.clone(),
            generation: *generation,
            version: TemplateVersion::in_major(*major, version),
            status: TemplateVersionStatus::RegistrationInProgress,
            status_message: None,
            description: record.description.clone(),
            tags: BTreeMap::new(),
            created: record.position,
            created_at: record.created_at,
            modified_at: record.created_at,
        });
    }
    state.put_version(Cow::Owned(record));
}

/// Folds `recorded` into `state`.
///
/// Total: it never fails and never panics. It trusts that the event was decided against
/// the state it is applied to; replay checks that separately with
/// [`check`](crate::check) before applying (invariant E5).
pub fn apply<W: ReadModel + WriteModel + ?Sized>(state: &mut W, recorded: &Recorded) {
    let position = recorded.position;
    match &recorded.event {
        Event::ApplicationCreated {
            application,
            name,
            description,
            tags,
        } => state.put_application(ApplicationRecord {
            id: application.clone(),
            name: name.clone(),
            description: description.clone(),
            tags: tags.clone(),
            created: position,
        }),
        Event::ApplicationUpdated {
            application,
            name,
            description,
        } => {
            if let Some(mut record) = state.application(application).map(Cow::into_owned) {
                record.name.clone_from(name);
                record.description.clone_from(description);
                state.put_application(record);
            }
        }
        Event::ApplicationDeleted { application } => state.remove_application(application),
        Event::ProfileCreated {
            application,
            profile,
            name,
            description,
            location_uri,
            retrieval_role_arn,
            validators,
            profile_type,
            kms_key_identifier,
            tags,
        } => state.put_profile(ProfileRecord {
            application: application.clone(),
            id: profile.clone(),
            name: name.clone(),
            description: description.clone(),
            location_uri: location_uri.clone(),
            retrieval_role_arn: retrieval_role_arn.clone(),
            validators: validators.clone(),
            profile_type: profile_type.clone(),
            kms_key_identifier: kms_key_identifier.clone(),
            tags: tags.clone(),
            created: position,
        }),
        Event::ProfileUpdated {
            application,
            profile,
            name,
            description,
            retrieval_role_arn,
            validators,
            kms_key_identifier,
        } => {
            if let Some(mut record) = state.profile(application, profile).map(Cow::into_owned) {
                record.name.clone_from(name);
                record.description.clone_from(description);
                record.retrieval_role_arn.clone_from(retrieval_role_arn);
                record.validators.clone_from(validators);
                record.kms_key_identifier.clone_from(kms_key_identifier);
                state.put_profile(record);
            }
        }
        Event::ProfileDeleted {
            application,
            profile,
        } => state.remove_profile(application, profile),
        // One place folds a created version: the owned path, on a copy (the record
        // would copy each of the event's strings anyway).
        Event::VersionCreated { .. } => apply_owned(state, recorded.clone()),
        Event::VersionDeleted { stream, version } => {
            let Some(mut record) = state.version(stream, *version).map(Cow::into_owned) else {
                return;
            };
            if !record.is_live() {
                return;
            }
            record.deleted = Some(position);
            if let Some(label) = &record.label {
                state.remove_label(stream, label, *version);
            }
            state.remove_content_use(record.content.hash, stream, *version);
            if counts_as_hosted(stream) {
                let total = state.hosted_bytes().saturating_sub(record.content.len);
                state.set_hosted_bytes(total);
            }
            state.put_version(Cow::Owned(record));
            let mut head = state.stream(stream).unwrap_or_default();
            if head.latest_live == Some(*version) {
                head.latest_live = state.live_version_below(stream, *version);
                state.put_stream(stream, head);
            }
            if let StreamId::EnvironmentTemplateMajor {
                template,
                generation,
                major,
            } = stream
            {
                let v = TemplateVersion::in_major(*major, *version);
                if state
                    .template_version(template, *generation, v)
                    .is_some_and(|r| r.status == TemplateVersionStatus::Published)
                {
                    state.remove_published(template, *generation, v);
                }
                state.remove_template_version(template, *generation, v);
            }
        }
        Event::EnvironmentCreated {
            application,
            environment,
            name,
            description,
            monitors,
            tags,
        } => state.put_environment(EnvironmentRecord {
            application: application.clone(),
            id: environment.clone(),
            name: name.clone(),
            description: description.clone(),
            monitors: monitors.clone(),
            state: EnvironmentState::ReadyForDeployment,
            tags: tags.clone(),
            created: position,
        }),
        Event::EnvironmentUpdated {
            application,
            environment,
            name,
            description,
            monitors,
        } => {
            if let Some(mut record) = state.environment(application, environment) {
                record.name.clone_from(name);
                record.description.clone_from(description);
                record.monitors.clone_from(monitors);
                state.put_environment(record);
            }
        }
        Event::EnvironmentDeleted {
            application,
            environment,
        } => {
            state.remove_environment(application, environment);
            state.put_retired_environment(application, environment);
        }
        Event::DeploymentStrategyCreated {
            strategy,
            name,
            description,
            deployment_duration_in_minutes,
            final_bake_time_in_minutes,
            growth_factor,
            growth_type,
            replicate_to,
            tags,
        } => state.put_deployment_strategy(DeploymentStrategyRecord {
            id: strategy.clone(),
            name: name.clone(),
            description: description.clone(),
            deployment_duration_in_minutes: *deployment_duration_in_minutes,
            final_bake_time_in_minutes: *final_bake_time_in_minutes,
            growth_factor: *growth_factor,
            growth_type: *growth_type,
            replicate_to: *replicate_to,
            tags: tags.clone(),
            created: position,
        }),
        Event::DeploymentStrategyUpdated {
            strategy,
            description,
            deployment_duration_in_minutes,
            final_bake_time_in_minutes,
            growth_factor,
            growth_type,
        } => {
            if let Some(mut record) = state.deployment_strategy(strategy) {
                record.description.clone_from(description);
                record.deployment_duration_in_minutes = *deployment_duration_in_minutes;
                record.final_bake_time_in_minutes = *final_bake_time_in_minutes;
                record.growth_factor = *growth_factor;
                record.growth_type = *growth_type;
                state.put_deployment_strategy(record);
            }
        }
        Event::DeploymentStrategyDeleted { strategy } => state.remove_deployment_strategy(strategy),
        Event::TagsChanged { resource, tags } => set_tags(state, resource, tags),
        Event::DeploymentStarted {
            application,
            environment,
            number,
            profile,
            configuration_name,
            location_uri,
            version,
            version_label,
            content,
            content_type,
            strategy,
            schedule,
            description,
            kms_key_identifier,
            tags,
            expected_latest: _,
        } => {
            // A deployment baking when the next one starts is complete from then on.
            if let Some(mut previous) = state.latest_deployment(application, environment)
                && previous.state_at(recorded.timestamp).0 == DeploymentState::Baking
            {
                previous.superseded_at = Some(recorded.timestamp);
                state.put_deployment(previous);
            }
            state.put_deployment(DeploymentRecord {
                application: application.clone(),
                environment: environment.clone(),
                number: *number,
                profile: profile.clone(),
                configuration_name: configuration_name.clone(),
                location_uri: location_uri.clone(),
                version: *version,
                version_label: version_label.clone(),
                content: *content,
                content_type: content_type.clone(),
                strategy: strategy.clone(),
                schedule: *schedule,
                description: description.clone(),
                kms_key_identifier: kms_key_identifier.clone(),
                tags: tags.clone(),
                started_at: recorded.timestamp,
                position,
                actor: recorded.actor.clone(),
                stopped: None,
                superseded_at: None,
            });
        }
        Event::DeploymentStopped {
            application,
            environment,
            number,
            revert,
        } => {
            if let Some(mut record) = state.deployment(application, environment, *number) {
                record.stopped = Some(Stop {
                    at: recorded.timestamp,
                    revert: *revert,
                });
                state.put_deployment(record);
            }
        }
        Event::ViewCreated {
            instance,
            view,
            name,
            description,
            status,
            content,
            tags,
            client_token,
        } => {
            state.put_view(ViewRecord {
                instance: instance.clone(),
                id: view.clone(),
                name: name.clone(),
                description: description.clone(),
                status: *status,
                saved: *content,
                latest: (*status == ViewStatus::Published).then_some(*content),
                tags: tags.clone(),
                created: position,
                created_at: recorded.timestamp,
                modified_at: recorded.timestamp,
                deleted: None,
            });
            state.put_view_name(instance, name, view);
            if let Some(key) = client_token {
                state.put_view_token(
                    instance,
                    &key.token,
                    ViewTokenRecord {
                        digest: key.digest,
                        view: view.clone(),
                        first_used: recorded.timestamp,
                    },
                );
            }
        }
        Event::ViewContentUpdated {
            instance,
            view,
            status,
            content,
        } => {
            if let Some(mut record) = state.view(instance, view) {
                record.status = *status;
                record.saved = *content;
                if *status == ViewStatus::Published {
                    record.latest = Some(*content);
                }
                record.modified_at = recorded.timestamp;
                state.put_view(record);
            }
        }
        Event::ViewMetadataUpdated {
            instance,
            view,
            name,
            description,
        } => {
            if let Some(mut record) = state.view(instance, view) {
                if record.name != *name {
                    state.remove_view_name(instance, &record.name);
                    state.put_view_name(instance, name, view);
                }
                record.name.clone_from(name);
                record.description.clone_from(description);
                record.modified_at = recorded.timestamp;
                state.put_view(record);
            }
        }
        Event::EnvironmentTemplateCreated {
            template,
            generation,
            display_name,
            description,
            encryption_key,
            provisioning,
            tags,
            request_digest,
        } => state.put_template(TemplateRecord {
            name: template.clone(),
            generation: *generation,
            display_name: display_name.clone(),
            description: description.clone(),
            encryption_key: encryption_key.clone(),
            provisioning: *provisioning,
            tags: tags.clone(),
            request_digest: *request_digest,
            created: position,
            created_at: recorded.timestamp,
            deleted: None,
        }),
        Event::EnvironmentTemplateDeleted { template, .. } => {
            if let Some(mut record) = state.template(template) {
                record.deleted = Some(position);
                state.put_template(record);
            }
        }
        Event::EnvironmentTemplateVersionRegistered {
            template,
            generation,
            version,
            status,
            status_message,
            tags,
            client_token,
        } => {
            if let Some(mut record) = state.template_version(template, *generation, *version) {
                record.status = *status;
                record.status_message.clone_from(status_message);
                record.tags.clone_from(tags);
                record.modified_at = recorded.timestamp;
                state.put_template_version(record);
            }
            if let Some(key) = client_token {
                state.put_template_token(
                    template,
                    *generation,
                    &key.token,
                    TemplateTokenRecord {
                        digest: key.digest,
                        version: *version,
                        first_used: recorded.timestamp,
                    },
                );
            }
        }
        Event::EnvironmentTemplateVersionUpdated {
            template,
            generation,
            version,
            status,
            description,
        } => {
            if let Some(mut record) = state.template_version(template, *generation, *version) {
                // DRAFT -> PUBLISHED only (T4): a published version stays published.
                if *status == TemplateVersionStatus::Published
                    && record.status != TemplateVersionStatus::Published
                {
                    state.put_published(template, *generation, *version);
                }
                record.status = *status;
                record.description.clone_from(description);
                record.modified_at = recorded.timestamp;
                state.put_template_version(record);
            }
        }
        Event::ViewDeleted { instance, view } => {
            if let Some(mut record) = state.view(instance, view) {
                state.remove_view_name(instance, &record.name);
                record.deleted = Some(position);
                record.modified_at = recorded.timestamp;
                state.put_view(record);
            }
        }
    }
}

/// Replaces the tags of the resource, if it is in the projections (predefined strategies
/// never are).
fn set_tags<W: ReadModel + WriteModel + ?Sized>(
    state: &mut W,
    resource: &TaggedResource,
    tags: &BTreeMap<String, String>,
) {
    match resource {
        TaggedResource::Application(id) => {
            if let Some(mut record) = state.application(id).map(Cow::into_owned) {
                record.tags.clone_from(tags);
                state.put_application(record);
            }
        }
        TaggedResource::Profile {
            application,
            profile,
        } => {
            if let Some(mut record) = state.profile(application, profile).map(Cow::into_owned) {
                record.tags.clone_from(tags);
                state.put_profile(record);
            }
        }
        TaggedResource::Environment {
            application,
            environment,
        } => {
            if let Some(mut record) = state.environment(application, environment) {
                record.tags.clone_from(tags);
                state.put_environment(record);
            }
        }
        TaggedResource::DeploymentStrategy(id) => {
            if let Some(mut record) = state.deployment_strategy(id) {
                record.tags.clone_from(tags);
                state.put_deployment_strategy(record);
            }
        }
    }
}

/// Whether a stream's content counts toward the hosted store quota.
const fn counts_as_hosted(stream: &StreamId) -> bool {
    matches!(stream, StreamId::HostedConfiguration { .. })
}
