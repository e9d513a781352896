//! Read-only audit queries over the log: the history of changes with their chain hashes,
//! and the state of every stream as of a past position or time ("what was live at t" is
//! the fold of the log up to t, with deployments evaluated at t:
//! docs/design/deployments.md).
//!
//! These read the log, never the projections, so they answer for any point in the past;
//! they do not re-check invariants (that is `verify`'s job).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use verso_domain::deployment::live_deployment;
use verso_domain::projection::{
    AppConfigRead, ConnectRead, ProtonRead, StreamRead, VersionRecord, apply,
};
use verso_domain::proton::{TemplateName, TemplateVersion};
use verso_domain::{
    ApplicationId, ContentHash, EnvironmentId, Event, MemState, Position, ProfileId, Recorded,
    Rejection, StreamId, StreamVersion, TaggedResource, Timestamp, VersionSelector,
};
use verso_domain::{ConnectInstanceId, ViewId};

use crate::content;
use crate::engine::Value;
use crate::error::{Error, Outcome, Result};
use crate::log::codec;
use crate::store::Store;

/// One line of `verso log`: a record with what an auditor needs to see of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogEntry {
    /// Its log position.
    pub position: u64,
    /// The writer's timestamp, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Who asked for it, when known.
    pub actor: Option<String>,
    /// What it is about: `appconfig/<app>/<profile>` for a profile and its versions,
    /// `application/<app>`, `environment/<app>/<env>`, `strategy/<id>`.
    pub stream: String,
    /// The stream version it creates, deletes or deploys, if any.
    pub version: Option<u64>,
    /// The event type, e.g. `VersionCreated`.
    pub event: String,
    /// The sha256 of the content it refers to, if any (a version's, a deployment's).
    pub content_sha256: Option<String>,
    /// Its chain hash, lowercase hex.
    pub chain_hash: String,
}

/// Which records `Store::log` returns. Every bound is inclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogFilter {
    /// Only records about this stream.
    pub stream: Option<LogStream>,
    /// From this position on.
    pub from: Option<Position>,
    /// Up to this position.
    pub to: Option<Position>,
    /// From this time on.
    pub since: Option<Timestamp>,
    /// Up to this time.
    pub until: Option<Timestamp>,
}

impl LogFilter {
    /// A filter that lets every record through.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Only records about `application`/`profile`.
    #[must_use]
    pub fn stream(self, application: ApplicationId, profile: ProfileId) -> Self {
        self.about(LogStream::Profile(application, profile))
    }

    /// Only records about `stream`.
    #[must_use]
    pub fn about(mut self, stream: LogStream) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Positions `from..=to`.
    #[must_use]
    pub const fn positions(mut self, from: Option<Position>, to: Option<Position>) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// Times `since..=until`.
    #[must_use]
    pub const fn times(mut self, since: Option<Timestamp>, until: Option<Timestamp>) -> Self {
        self.since = since;
        self.until = until;
        self
    }

    fn admits(&self, recorded: &Recorded) -> bool {
        let t = recorded.timestamp;
        if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
            return false;
        }
        if self.to.is_some_and(|to| recorded.position > to) {
            return false;
        }
        self.stream
            .as_ref()
            .is_none_or(|s| s.admits(&recorded.event))
    }
}

/// A stream whose records `verso log --stream` selects, written as the `stream` column of
/// [`LogEntry`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogStream {
    /// `appconfig/<app>/<profile>`: a configuration profile, its versions, deployments
    /// and tags.
    Profile(ApplicationId, ProfileId),
    /// `connect/<instance>/<view>`: a Connect view, its content and metadata, its
    /// versions and its deletion.
    View(ConnectInstanceId, ViewId),
    /// `proton/<template>`, `proton/<template>#<generation>` or
    /// `proton/<template>#<generation>/<major>`: an environment template in every
    /// generation (each create after a delete is a new one), in one generation, or one
    /// major version's minors.
    Template {
        /// The template's name.
        template: TemplateName,
        /// Only this generation.
        generation: Option<u32>,
        /// Only this major version's minors (with `generation`).
        major: Option<u64>,
    },
}

impl LogStream {
    /// Parses a stream as the `stream` column of `verso log` shows it, ids only.
    ///
    /// # Errors
    /// A message naming the forms accepted, or the id that is not of its shape.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let bad = |why: String| format!("bad stream {text:?}: {why}");
        if let Some(rest) = text.strip_prefix("appconfig/") {
            let (a, p) = rest
                .split_once('/')
                .ok_or_else(|| bad("expected appconfig/<application>/<profile>".to_owned()))?;
            let a = ApplicationId::parse(a).map_err(|e| bad(e.to_string()))?;
            let p = ProfileId::parse(p).map_err(|e| bad(e.to_string()))?;
            return Ok(Self::Profile(a, p));
        }
        if let Some(rest) = text.strip_prefix("connect/") {
            // An instance id may hold '/'; a view id is a UUID, which does not.
            let (i, v) = rest
                .rsplit_once('/')
                .ok_or_else(|| bad("expected connect/<instance>/<view>".to_owned()))?;
            let i = ConnectInstanceId::parse(i).map_err(|e| bad(e.to_string()))?;
            let v = ViewId::parse(v).map_err(|e| bad(e.to_string()))?;
            return Ok(Self::View(i, v));
        }
        if let Some(rest) = text.strip_prefix("proton/") {
            let (name, generation, major) = match rest.split_once('#') {
                None => (rest, None, None),
                Some((name, rest)) => {
                    let (g, m) = match rest.split_once('/') {
                        None => (rest, None),
                        Some((g, m)) => (g, Some(m)),
                    };
                    let g = g
                        .parse::<u32>()
                        .map_err(|_| bad(format!("generation {g:?} is not a number")))?;
                    let m = m
                        .map(|m| {
                            m.parse::<u64>()
                                .map_err(|_| bad(format!("major version {m:?} is not a number")))
                        })
                        .transpose()?;
                    (name, Some(g), m)
                }
            };
            let template = TemplateName::parse("template", name).map_err(|e| bad(e.to_string()))?;
            return Ok(Self::Template {
                template,
                generation,
                major,
            });
        }
        Err(bad(
            "expected appconfig/<application>/<profile>, connect/<instance>/<view> or \
             proton/<template>[#<generation>[/<major>]]"
                .to_owned(),
        ))
    }

    /// The one stream of versions this names: `None` for a template without its
    /// generation, whose versions are numbered per generation.
    #[must_use]
    pub fn stream_id(&self) -> Option<StreamId> {
        match self {
            Self::Profile(a, p) => Some(StreamId::hosted(a, p)),
            Self::View(i, v) => Some(StreamId::view(i, v)),
            Self::Template {
                template,
                generation: Some(g),
                major: None,
            } => Some(StreamId::template(template, *g)),
            Self::Template {
                template,
                generation: Some(g),
                major: Some(m),
            } => Some(StreamId::template_major(template, *g, *m)),
            Self::Template {
                generation: None, ..
            } => None,
        }
    }

    fn admits(&self, event: &Event) -> bool {
        match self {
            Self::Profile(a, p) => profile_of(event).is_some_and(|(ea, ep)| ea == a && ep == p),
            Self::View(i, v) => view_of(event).is_some_and(|(ei, ev)| ei == i && ev == v),
            Self::Template {
                template,
                generation,
                major,
            } => template_of(event).is_some_and(|(t, g, m)| {
                t == template
                    && generation.is_none_or(|want| want == g)
                    && major.is_none_or(|want| m == Some(want))
            }),
        }
    }
}

impl fmt::Display for LogStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Profile(a, p) => write!(f, "appconfig/{a}/{p}"),
            Self::View(i, v) => write!(f, "connect/{i}/{v}"),
            Self::Template {
                template,
                generation,
                major,
            } => {
                write!(f, "proton/{template}")?;
                if let Some(g) = generation {
                    write!(f, "#{g}")?;
                }
                if let Some(m) = major {
                    write!(f, "/{m}")?;
                }
                Ok(())
            }
        }
    }
}

/// The configuration profile an event is about, if any.
fn profile_of(event: &Event) -> Option<(&ApplicationId, &ProfileId)> {
    match event {
        Event::ProfileCreated {
            application,
            profile,
            ..
        }
        | Event::ProfileUpdated {
            application,
            profile,
            ..
        }
        | Event::ProfileDeleted {
            application,
            profile,
        }
        | Event::DeploymentStarted {
            application,
            profile,
            ..
        } => Some((application, profile)),
        Event::VersionCreated { stream, .. } | Event::VersionDeleted { stream, .. } => match stream
        {
            StreamId::HostedConfiguration {
                application,
                profile,
            } => Some((application, profile)),
            StreamId::ConnectView { .. }
            | StreamId::EnvironmentTemplate { .. }
            | StreamId::EnvironmentTemplateMajor { .. } => None,
        },
        Event::TagsChanged {
            resource:
                TaggedResource::Profile {
                    application,
                    profile,
                },
            ..
        } => Some((application, profile)),
        _ => None,
    }
}

/// The Connect view an event is about, if any.
fn view_of(event: &Event) -> Option<(&ConnectInstanceId, &ViewId)> {
    match event {
        Event::ViewCreated { instance, view, .. }
        | Event::ViewContentUpdated { instance, view, .. }
        | Event::ViewMetadataUpdated { instance, view, .. }
        | Event::ViewDeleted { instance, view } => Some((instance, view)),
        Event::VersionCreated {
            stream: StreamId::ConnectView { instance, view },
            ..
        }
        | Event::VersionDeleted {
            stream: StreamId::ConnectView { instance, view },
            ..
        } => Some((instance, view)),
        _ => None,
    }
}

/// The Proton template an event is about, if any: its name, its generation, and the
/// major version whose minors stream the event belongs to (none for the generation's
/// own stream of majors).
fn template_of(event: &Event) -> Option<(&TemplateName, u32, Option<u64>)> {
    match event {
        Event::EnvironmentTemplateCreated {
            template,
            generation,
            ..
        }
        | Event::EnvironmentTemplateDeleted {
            template,
            generation,
        }
        | Event::VersionCreated {
            stream:
                StreamId::EnvironmentTemplate {
                    template,
                    generation,
                },
            ..
        }
        | Event::VersionDeleted {
            stream:
                StreamId::EnvironmentTemplate {
                    template,
                    generation,
                },
            ..
        } => Some((template, *generation, None)),
        Event::EnvironmentTemplateVersionRegistered {
            template,
            generation,
            version,
            ..
        }
        | Event::EnvironmentTemplateVersionUpdated {
            template,
            generation,
            version,
            ..
        } => Some((template, *generation, Some(version.major))),
        Event::VersionCreated {
            stream:
                StreamId::EnvironmentTemplateMajor {
                    template,
                    generation,
                    major,
                },
            ..
        }
        | Event::VersionDeleted {
            stream:
                StreamId::EnvironmentTemplateMajor {
                    template,
                    generation,
                    major,
                },
            ..
        } => Some((template, *generation, Some(*major))),
        _ => None,
    }
}

/// The Proton stream an event is about, as the `stream` column shows it: a template
/// generation's stream of majors, or a major's stream of minors.
fn template_stream_of(event: &Event) -> Option<String> {
    let (template, generation, major) = template_of(event)?;
    Some(match major {
        None => StreamId::template(template, generation).to_string(),
        Some(m) => StreamId::template_major(template, generation, m).to_string(),
    })
}

/// The `stream`, `version` and content columns of an event.
fn columns(event: &Event) -> (String, Option<u64>, Option<ContentHash>) {
    if let Some((a, p)) = profile_of(event) {
        let (version, content) = match event {
            Event::VersionCreated {
                version, content, ..
            } => (Some(version.get()), Some(content.hash)),
            Event::VersionDeleted { version, .. } => (Some(version.get()), None),
            Event::DeploymentStarted {
                version, content, ..
            } => (Some(version.get()), Some(content.hash)),
            _ => (None, None),
        };
        return (format!("appconfig/{a}/{p}"), version, content);
    }
    if let Some((i, v)) = view_of(event) {
        let (version, content) = match event {
            Event::VersionCreated {
                version, content, ..
            } => (Some(version.get()), Some(content.hash)),
            Event::VersionDeleted { version, .. } => (Some(version.get()), None),
            Event::ViewCreated { content, .. } | Event::ViewContentUpdated { content, .. } => {
                (None, Some(content.hash))
            }
            _ => (None, None),
        };
        return (format!("connect/{i}/{v}"), version, content);
    }
    if let Some(stream) = template_stream_of(event) {
        let (version, content) = match event {
            Event::VersionCreated {
                version, content, ..
            } => (Some(version.get()), Some(content.hash)),
            Event::VersionDeleted { version, .. } => (Some(version.get()), None),
            _ => (None, None),
        };
        return (stream, version, content);
    }
    let stream = match event {
        Event::ApplicationCreated { application, .. }
        | Event::ApplicationUpdated { application, .. }
        | Event::ApplicationDeleted { application } => format!("application/{application}"),
        Event::EnvironmentCreated {
            application,
            environment,
            ..
        }
        | Event::EnvironmentUpdated {
            application,
            environment,
            ..
        }
        | Event::EnvironmentDeleted {
            application,
            environment,
        }
        | Event::DeploymentStopped {
            application,
            environment,
            ..
        } => format!("environment/{application}/{environment}"),
        Event::DeploymentStrategyCreated { strategy, .. }
        | Event::DeploymentStrategyUpdated { strategy, .. }
        | Event::DeploymentStrategyDeleted { strategy } => format!("strategy/{strategy}"),
        Event::TagsChanged { resource, .. } => match resource {
            TaggedResource::Application(a) => format!("application/{a}"),
            TaggedResource::Environment {
                application,
                environment,
            } => format!("environment/{application}/{environment}"),
            TaggedResource::DeploymentStrategy(s) => format!("strategy/{s}"),
            other => other.to_string(),
        },
        other => other.name().to_owned(),
    };
    (stream, None, None)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where in the log to stop folding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum At {
    /// The whole log, deployments evaluated at the store's clock now.
    Head,
    /// Up to and including this position, evaluated at its record's time.
    Position(Position),
    /// Every record stamped at or before this time, evaluated at this time.
    Time(Timestamp),
}

/// The state of every configuration profile's stream at a point of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The last position folded (0: before the first record).
    pub position: u64,
    /// The time deployments were evaluated at, ms since the Unix epoch.
    pub evaluated_at_ms: i64,
    /// Every profile that existed then, by application id and profile id.
    pub streams: Vec<StreamSnapshot>,
    /// Every Connect view that existed then (not deleted), by instance and view id.
    #[serde(default)]
    pub views: Vec<ViewSnapshot>,
    /// Every Proton environment template that existed then (not deleted), by name.
    #[serde(default)]
    pub templates: Vec<TemplateSnapshot>,
}

/// A Connect view at a point of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ViewSnapshot {
    /// `connect/<instance>/<view>`, as `verso log` shows it.
    pub stream: String,
    /// The instance id.
    pub instance: String,
    /// The view id.
    pub view: String,
    /// Its name then.
    pub name: String,
    /// `PUBLISHED` or `SAVED`: what its last content write was.
    pub status: String,
    /// The sha256 of `$SAVED`'s content.
    pub saved_content_sha256: String,
    /// The sha256 of `$LATEST`'s content, once the view was published.
    pub latest_content_sha256: Option<String>,
    /// The newest live numbered version, if any.
    pub latest_version: Option<u64>,
    /// The highest version number assigned so far, deleted ones included.
    pub last_assigned: u64,
    /// The sha256 of the newest live version's content.
    pub latest_version_content_sha256: Option<String>,
}

/// A Proton environment template at a point of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TemplateSnapshot {
    /// `proton/<template>#<generation>`, as `verso log` shows it.
    pub stream: String,
    /// The template's name.
    pub template: String,
    /// Its generation: 1, and one more each time the name is created after a delete.
    pub generation: u32,
    /// The newest published version, `major.minor`, if any.
    pub recommended_version: Option<String>,
    /// Every live version, oldest first.
    pub versions: Vec<TemplateVersionSnapshot>,
}

/// One live version of a template at a point of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TemplateVersionSnapshot {
    /// `major.minor`.
    pub version: String,
    /// `DRAFT`, `PUBLISHED`, `REGISTRATION_IN_PROGRESS`, ….
    pub status: String,
}

/// One configuration profile's stream as of a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StreamSnapshot {
    /// The application id.
    pub application: String,
    /// The application's name then.
    pub application_name: String,
    /// The profile id.
    pub profile: String,
    /// The profile's name then.
    pub profile_name: String,
    /// The newest live version, if any.
    pub latest_version: Option<u64>,
    /// The highest version number assigned so far, deleted ones included.
    pub last_assigned: u64,
    /// The sha256 of the newest live version's content.
    pub latest_content_sha256: Option<String>,
    /// The newest live version's content type.
    pub latest_content_type: Option<String>,
    /// Each label with the newest live version carrying it.
    pub labels: BTreeMap<String, u64>,
    /// Per environment of the application that this profile was ever deployed to.
    pub environments: Vec<EnvironmentSnapshot>,
}

/// What one environment had of a profile at the evaluation time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvironmentSnapshot {
    /// The environment id.
    pub environment: String,
    /// Its name then.
    pub environment_name: String,
    /// The number of the latest deployment of this profile to it.
    pub deployment: u32,
    /// The version that deployment deploys.
    pub version: u64,
    /// That deployment's state at the evaluation time, e.g. `COMPLETE`.
    pub state: String,
    /// Its percentage complete then.
    pub percentage: f32,
    /// The version every session gets then (complete, or in progress at 100%), if any.
    pub live_version: Option<u64>,
}

/// A version and its content as of a point of the log ([`Store::version_at`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionAt {
    /// The last position folded.
    pub position: u64,
    /// The application's name then (empty for streams other than a profile's).
    pub application_name: String,
    /// The profile's name then (empty for streams other than a profile's).
    pub profile_name: String,
    /// The version's metadata then.
    pub record: VersionRecord,
    /// Its content, verified against its sha256.
    pub content: Vec<u8>,
}

/// The fold of a prefix of the log, with the keys needed to enumerate it.
struct Fold {
    state: MemState,
    position: u64,
    last_time: Option<Timestamp>,
    applications: BTreeSet<ApplicationId>,
    profiles: BTreeSet<(ApplicationId, ProfileId)>,
    environments: BTreeSet<(ApplicationId, EnvironmentId)>,
    views: BTreeSet<(ConnectInstanceId, ViewId)>,
    templates: BTreeSet<TemplateName>,
}

/// The live views of `fold`, in (instance, view) order.
fn view_snapshots(fold: &Fold) -> Vec<ViewSnapshot> {
    let mut views = Vec::new();
    for (instance, id) in &fold.views {
        let Some(view) = fold
            .state
            .view(instance, id)
            .filter(|v| v.deleted.is_none())
        else {
            continue;
        };
        let stream = StreamId::view(instance, id);
        let head = fold.state.stream(&stream).unwrap_or_default();
        let latest = head
            .latest_live
            .and_then(|v| fold.state.version(&stream, v));
        views.push(ViewSnapshot {
            stream: stream.to_string(),
            instance: instance.to_string(),
            view: id.to_string(),
            name: view.name,
            status: view.status.as_str().to_owned(),
            saved_content_sha256: view.saved.hash.to_string(),
            latest_content_sha256: view.latest.map(|c| c.hash.to_string()),
            latest_version: latest.as_ref().map(|r| r.version.get()),
            last_assigned: head.last_assigned,
            latest_version_content_sha256: latest.map(|r| r.content.hash.to_string()),
        });
    }
    views
}

/// The live templates of `fold`, by name, each in its current generation.
fn template_snapshots(fold: &Fold) -> Vec<TemplateSnapshot> {
    let mut templates = Vec::new();
    for name in &fold.templates {
        let Some(template) = fold.state.template(name).filter(|t| t.is_live()) else {
            continue;
        };
        let generation = template.generation;
        let majors = StreamId::template(name, generation);
        let last_major = fold.state.stream(&majors).map_or(0, |h| h.last_assigned);
        let mut versions = Vec::new();
        for major in 1..=last_major {
            let minors = StreamId::template_major(name, generation, major);
            let last_assigned = fold.state.stream(&minors).map_or(0, |h| h.last_assigned);
            for number in 1..=last_assigned {
                let version = TemplateVersion::in_major(major, StreamVersion::new(number));
                if let Some(v) = fold.state.template_version(name, generation, version) {
                    versions.push(TemplateVersionSnapshot {
                        version: version.to_string(),
                        status: v.status.as_str().to_owned(),
                    });
                }
            }
        }
        templates.push(TemplateSnapshot {
            stream: majors.to_string(),
            template: name.to_string(),
            generation,
            recommended_version: fold
                .state
                .recommended_version(name, generation)
                .map(|v| v.to_string()),
            versions,
        });
    }
    templates
}

impl Store {
    /// The records that pass `filter`, oldest first, each with its stored chain hash.
    /// Stops with an error at the first record that does not decode.
    pub fn log(&self, filter: &LogFilter) -> impl Iterator<Item = Result<LogEntry>> + '_ {
        let from = filter.from.unwrap_or(Position::FIRST).max(Position::FIRST);
        // R1: nothing past the published head.
        let head = Position::new(self.head().position);
        let to = Some(filter.to.map_or(head, |to| to.min(head)));
        let filter = filter.clone();
        self.inner
            .engine
            .log_from(from)
            .take_while(move |item| {
                item.as_ref()
                    .map_or(true, |(p, _)| to.is_none_or(|to| *p <= to))
            })
            .filter_map(move |item| {
                let entry = entry(item).map(|(recorded, hash)| {
                    filter.admits(&recorded).then(|| {
                        let (stream, version, content) = columns(&recorded.event);
                        LogEntry {
                            position: recorded.position.get(),
                            timestamp_ms: recorded.timestamp.as_millis(),
                            actor: recorded.actor.clone(),
                            stream,
                            version,
                            event: recorded.event.name().to_owned(),
                            content_sha256: content.map(|h| h.to_string()),
                            chain_hash: hex(&hash),
                        }
                    })
                });
                entry.transpose()
            })
    }

    /// The state of every configuration profile's stream at `at`.
    ///
    /// # Errors
    /// Fail-stop errors; a position past the head is the inner refusal.
    pub fn snapshot(&self, at: At) -> Result<Outcome<Snapshot>> {
        let fold = match self.fold_to(at)? {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let t = self.evaluation_time(at, &fold);
        let mut streams = Vec::new();
        for (application, profile) in &fold.profiles {
            let (Some(app), Some(prof)) = (
                fold.state.application(application),
                fold.state.profile(application, profile),
            ) else {
                continue;
            };
            let stream = StreamId::hosted(application, profile);
            let head = fold.state.stream(&stream).unwrap_or_default();
            let latest = head
                .latest_live
                .and_then(|v| fold.state.version(&stream, v));
            let mut labels = BTreeMap::new();
            for record in fold.state.versions(&stream).filter(|r| r.is_live()) {
                if let Some(label) = &record.label {
                    labels.insert(label.clone(), record.version.get());
                }
            }
            let mut environments = Vec::new();
            for (a, environment) in fold.environments.iter().filter(|(a, _)| a == application) {
                let Some(env) = fold.state.environment(a, environment) else {
                    continue;
                };
                let last = fold
                    .state
                    .latest_deployment(a, environment)
                    .map_or(0, |d| d.number);
                let mut mine: Vec<_> = (1..=last)
                    .rev()
                    .filter_map(|n| fold.state.deployment(a, environment, n))
                    .filter(|d| d.profile == *profile)
                    .collect();
                mine.retain(|d| d.started_at <= t);
                let Some(newest) = mine.first() else {
                    continue;
                };
                let (state, percentage) = newest.state_at(t);
                // Bucket 9999: in rollout only at 100%, so this is what every session sees.
                let live = live_deployment(&mine, t, |_| 9_999).map(|d| d.version.get());
                environments.push(EnvironmentSnapshot {
                    environment: environment.to_string(),
                    environment_name: env.name,
                    deployment: newest.number,
                    version: newest.version.get(),
                    state: state.as_str().to_owned(),
                    percentage,
                    live_version: live,
                });
            }
            streams.push(StreamSnapshot {
                application: application.to_string(),
                application_name: app.name.clone(),
                profile: profile.to_string(),
                profile_name: prof.name.clone(),
                latest_version: latest.as_ref().map(|r| r.version.get()),
                last_assigned: head.last_assigned,
                latest_content_sha256: latest.as_ref().map(|r| r.content.hash.to_string()),
                latest_content_type: latest.and_then(|r| r.content_type.clone()),
                labels,
                environments,
            });
        }
        Ok(Ok(Snapshot {
            position: fold.position,
            evaluated_at_ms: t.as_millis(),
            streams,
            views: view_snapshots(&fold),
            templates: template_snapshots(&fold),
        }))
    }

    /// One version of `application`/`profile` (each an id or a name) as of `at`: the
    /// given number, the newest live version carrying a label, or the newest live one.
    ///
    /// # Errors
    /// Fail-stop errors; an unknown application, profile or version (as of `at`), or a
    /// position past the head, is the inner refusal.
    pub fn version_at(
        &self,
        at: At,
        application: &str,
        profile: &str,
        selector: Option<&VersionSelector>,
    ) -> Result<Outcome<VersionAt>> {
        let fold = match self.fold_to(at)? {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let (app, prof) = match resolve(&fold, application, profile) {
            Ok(ids) => ids,
            Err(e) => return Ok(Err(e.into())),
        };
        let stream = StreamId::hosted(&app, &prof);
        let version = match selector {
            Some(VersionSelector::Number(v)) => Some(*v),
            Some(VersionSelector::Label(l)) => fold.state.version_by_label(&stream, l),
            None => fold.state.stream(&stream).and_then(|h| h.latest_live),
        };
        let Some(mut found) = self.live_version_in(&fold, &stream, version)? else {
            let what = match selector {
                Some(VersionSelector::Number(v)) => format!("{v} of {application}/{profile}"),
                Some(VersionSelector::Label(l)) => {
                    format!("with label {l:?} in {application}/{profile}")
                }
                None => format!("latest of {application}/{profile}"),
            };
            return Ok(Err(Rejection::not_found(
                "HostedConfigurationVersion",
                what,
            )
            .into()));
        };
        if let Some(a) = fold.state.application(&app) {
            found.application_name.clone_from(&a.name);
        }
        if let Some(p) = fold.state.profile(&app, &prof) {
            found.profile_name.clone_from(&p.name);
        }
        Ok(Ok(found))
    }

    /// Version `version` of `stream` (the newest live one when `None`) as of `at`, with
    /// its content: any stream `verso log` shows versions of (a profile, a Connect view,
    /// a Proton template generation's majors or a major's minors). The names in the
    /// answer are empty: streams other than a profile's have none of their own.
    ///
    /// # Errors
    /// A storage error, or [`Error::Corrupted`] when the version's content is missing.
    pub fn stream_version_at(
        &self,
        at: At,
        stream: &StreamId,
        version: Option<StreamVersion>,
    ) -> Result<Outcome<VersionAt>> {
        let fold = match self.fold_to(at)? {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let number = version.or_else(|| fold.state.stream(stream).and_then(|h| h.latest_live));
        let Some(found) = self.live_version_in(&fold, stream, number)? else {
            let kind = match stream {
                StreamId::HostedConfiguration { .. } => "HostedConfigurationVersion",
                StreamId::ConnectView { .. } => "ViewVersion",
                StreamId::EnvironmentTemplate { .. }
                | StreamId::EnvironmentTemplateMajor { .. } => "EnvironmentTemplateVersion",
            };
            let what = match version {
                Some(v) => format!("{v} of {stream}"),
                None => format!("latest of {stream}"),
            };
            return Ok(Err(Rejection::not_found(kind, what).into()));
        };
        Ok(Ok(found))
    }

    /// Version `number` of `stream` in `fold` if it is live, with its verified content
    /// and no names.
    fn live_version_in(
        &self,
        fold: &Fold,
        stream: &StreamId,
        number: Option<StreamVersion>,
    ) -> Result<Option<VersionAt>> {
        let record = number
            .and_then(|v| fold.state.version(stream, v))
            .filter(|r| r.is_live())
            .map(std::borrow::Cow::into_owned);
        let Some(record) = record else {
            return Ok(None);
        };
        let content = content::read_referenced(
            &*self.inner.engine,
            &self.view(),
            record.content.hash,
            Some(record.position),
        )?;
        Ok(Some(VersionAt {
            position: fold.position,
            application_name: String::new(),
            profile_name: String::new(),
            record,
            content,
        }))
    }

    /// The ids of `application`/`profile` (each an id, else a unique name) as of `at`.
    ///
    /// # Errors
    /// Fail-stop errors; an unknown or ambiguous name is the inner refusal.
    pub fn resolve_stream(
        &self,
        at: At,
        application: &str,
        profile: &str,
    ) -> Result<Outcome<(ApplicationId, ProfileId)>> {
        Ok(match self.fold_to(at)? {
            Ok(fold) => resolve(&fold, application, profile).map_err(Into::into),
            Err(e) => Err(e),
        })
    }

    fn evaluation_time(&self, at: At, fold: &Fold) -> Timestamp {
        match at {
            At::Head => self.now(),
            At::Time(t) => t,
            At::Position(_) => fold.last_time.unwrap_or(Timestamp::from_millis(0)),
        }
    }

    fn fold_to(&self, at: At) -> Result<Outcome<Fold>> {
        if let At::Position(p) = at {
            let head = self.head().position;
            if p.get() > head {
                return Ok(Err(Rejection::invalid(
                    "--at",
                    format!("position {p} is past the head ({head})"),
                )
                .into()));
            }
        }
        let mut fold = Fold {
            state: MemState::new(),
            position: 0,
            last_time: None,
            applications: BTreeSet::new(),
            profiles: BTreeSet::new(),
            environments: BTreeSet::new(),
            views: BTreeSet::new(),
            templates: BTreeSet::new(),
        };
        for recorded in self.events(Position::FIRST) {
            let recorded = recorded?;
            match at {
                At::Position(p) if recorded.position > p => break,
                At::Time(t) if recorded.timestamp > t => break,
                _ => {}
            }
            match &recorded.event {
                Event::ApplicationCreated { application, .. } => {
                    fold.applications.insert(application.clone());
                }
                Event::ProfileCreated {
                    application,
                    profile,
                    ..
                } => {
                    fold.profiles.insert((application.clone(), profile.clone()));
                }
                Event::EnvironmentCreated {
                    application,
                    environment,
                    ..
                } => {
                    fold.environments
                        .insert((application.clone(), environment.clone()));
                }
                Event::ViewCreated { instance, view, .. } => {
                    fold.views.insert((instance.clone(), view.clone()));
                }
                Event::EnvironmentTemplateCreated { template, .. } => {
                    fold.templates.insert(template.clone());
                }
                _ => {}
            }
            apply(&mut fold.state, &recorded);
            fold.position = recorded.position.get();
            fold.last_time = Some(recorded.timestamp);
        }
        Ok(Ok(fold))
    }
}

/// A record and its stored chain hash.
fn entry(item: Result<(Position, Value)>) -> Result<(Recorded, [u8; 32])> {
    let (position, value) = item?;
    let (bytes, hash) = codec::unframe(&value).map_err(|e| Error::corrupted(Some(position), e))?;
    let record = codec::decode(bytes).map_err(|e| Error::corrupted(Some(position), e))?;
    if record.recorded.position != position {
        return Err(Error::corrupted(
            Some(position),
            format!("holds the record of position {}", record.recorded.position),
        ));
    }
    Ok((record.recorded, hash))
}

/// The application and profile that `application` and `profile` name (an id, else a
/// unique name) in the fold.
fn resolve(
    fold: &Fold,
    application: &str,
    profile: &str,
) -> std::result::Result<(ApplicationId, ProfileId), Rejection> {
    let apps: Vec<_> = fold
        .applications
        .iter()
        .filter_map(|id| fold.state.application(id))
        .collect();
    let app = pick(
        apps.iter()
            .map(|a| (a.id.clone(), a.id.as_str(), a.name.as_str())),
        application,
        "Application",
    )?;
    let profiles: Vec<_> = fold
        .profiles
        .iter()
        .filter(|(a, _)| *a == app)
        .filter_map(|(a, p)| fold.state.profile(a, p))
        .collect();
    let prof = pick(
        profiles
            .iter()
            .map(|p| (p.id.clone(), p.id.as_str(), p.name.as_str())),
        profile,
        "ConfigurationProfile",
    )?;
    Ok((app, prof))
}

fn pick<'a, T: Clone>(
    candidates: impl Iterator<Item = (T, &'a str, &'a str)> + Clone,
    wanted: &str,
    kind: &'static str,
) -> std::result::Result<T, Rejection> {
    if let Some((id, _, _)) = candidates.clone().find(|(_, id, _)| *id == wanted) {
        return Ok(id);
    }
    let named: Vec<_> = candidates.filter(|(_, _, name)| *name == wanted).collect();
    match named.as_slice() {
        [(id, _, _)] => Ok(id.clone()),
        [] => Err(Rejection::not_found(kind, wanted)),
        _ => Err(Rejection::invalid(
            kind,
            format!(
                "{} {kind}s are named {wanted:?}; give an id instead",
                named.len()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_parses_back_from_how_it_is_written() {
        for text in [
            "appconfig/shop001/lim0001",
            "connect/arn:aws:connect:eu-west-1:1:instance/inst-1/0b6e5d2c-1111-4222-8333-444455556666",
            "proton/base",
            "proton/base#2",
            "proton/base#2/3",
        ] {
            let stream = LogStream::parse(text).unwrap();
            assert_eq!(stream.to_string(), text);
        }
        let LogStream::View(instance, _) = LogStream::parse(
            "connect/arn:aws:connect:eu-west-1:1:instance/inst-1/0b6e5d2c-1111-4222-8333-444455556666",
        )
        .unwrap() else {
            panic!("not a view");
        };
        assert_eq!(
            instance.as_str(),
            "arn:aws:connect:eu-west-1:1:instance/inst-1"
        );
    }

    #[test]
    fn a_malformed_stream_is_refused_with_what_was_expected() {
        for (text, message) in [
            ("shop/limits", "expected appconfig/"),
            (
                "appconfig/shop001",
                "expected appconfig/<application>/<profile>",
            ),
            ("appconfig/SHOP/lim0001", "bad stream"),
            ("connect/inst-1", "expected connect/<instance>/<view>"),
            ("connect/inst-1/not-a-uuid", "ViewId"),
            ("proton/", "bad stream"),
            ("proton/base#", "generation \"\""),
            ("proton/base#1/x", "major version \"x\""),
        ] {
            let e = LogStream::parse(text).unwrap_err();
            assert!(e.contains(message), "{text}: {e}");
        }
    }
}
