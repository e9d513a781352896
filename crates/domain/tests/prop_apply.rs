//! Property: for any sequence of commands, every event `decide` accepts passes `check`
//! against the state it was decided on (so replay accepts what the writer appends, E5),
//! and folding those events keeps the projections consistent: version numbers in each
//! stream go 1, 2, 3 with no gap and no reuse (E4), each stream head names its highest
//! live version, and the hosted bytes total is the sum of the live versions' sizes.
//! Folding the log again gives the same projections, with `apply` and with
//! `apply_owned`.
//!
//! Environments, deployment strategies (a predefined one in the pool) and tags are in the
//! mix too; an environment id is never created twice in an application.
//!
//! Ids come from small pools and quotas are tiny, so `AlreadyExists`, `NotFound`,
//! `NotEmpty`, `QuotaExceeded`, `PayloadTooLarge` and lock conflicts happen often. Besides
//! the AppConfig commands, a "kernel append" op calls the stream kernel directly with
//! idempotency keys and expected-content hashes, and the Connect view and Proton template
//! commands (ids, names, templates and tokens from small pools) are in the mix: their
//! idempotent answers (a replayed token, unchanged content, deletes of what is gone) may
//! append nothing, and only a view version may be answered by an existing version.
//!
//! Cases: proptest's default (256); raise with `PROPTEST_CASES` for long runs.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use verso_domain::{
    ApplicationId, Command, Content, ContentHash, CreateApplication, CreateDeploymentStrategy,
    CreateEnvironment, CreateHostedVersion, CreateProfile, DeleteApplication, DeploymentStrategyId,
    EnvironmentId, Event, GrowthFactor, HOSTED_LOCATION, IdempotencyKey, Limits, MemState, Monitor,
    Position, ProfileId, Recorded, StreamId, StreamVersion, TaggedResource, Timestamp,
    UpdateApplication, UpdateDeploymentStrategy, UpdateEnvironment, UpdateProfile, ValidatorInput,
    ValidatorKind, check, decide,
    projection::{AppConfigRead, ProtonRead, StreamRead, apply, apply_owned},
    stream::{AppendOutcome, AppendVersion, RequestDigest, decide_append},
};
use verso_domain::{
    ConnectInstanceId, CreateEnvironmentTemplate, CreateEnvironmentTemplateVersion, CreateView,
    EncodedViewContent, ViewContent, ViewId, ViewStatus,
    proton::{TemplateName, TemplateSource, TemplateVersion, TemplateVersionStatus},
};

const APPS: [&str; 3] = ["app1", "app2", "app3"];
const PROFILES: [&str; 3] = ["prf1", "prf2", "prf3"];
/// The last one is over `max_content_bytes`.
const CONTENTS: [&[u8]; 5] = [b"", b"a", b"b", b"abcd", b"too large"];
/// "123" is an invalid label (all digits).
const LABELS: [Option<&str>; 4] = [None, Some("prod"), Some("beta"), Some("123")];
const TOKENS: [&str; 2] = ["tok-a", "tok-b"];
const ENVIRONMENTS: [&str; 3] = ["env1", "env2", "env3"];
/// The last one is predefined: it cannot be created, changed, deleted or tagged.
const STRATEGIES: [&str; 3] = ["str1", "str2", "AppConfig.AllAtOnce"];
/// Two tag keys, so that tagging often overwrites and untagging often finds nothing.
const TAG_KEYS: [&str; 2] = ["team", "env"];

fn limits() -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_applications = 2;
    limits.max_profiles_per_application = 2;
    limits.max_content_bytes = 8;
    limits.max_hosted_bytes = 24;
    limits.max_environments_per_application = 2;
    limits.max_deployment_strategies = 1;
    limits
}

#[derive(Clone, Debug)]
enum Op {
    CreateApplication {
        app: usize,
        valid_name: bool,
    },
    UpdateApplication {
        app: usize,
        name: Option<bool>,
        description: bool,
    },
    DeleteApplication {
        app: usize,
    },
    CreateProfile {
        app: usize,
        profile: usize,
        hosted: bool,
        validators: usize,
    },
    UpdateProfile {
        app: usize,
        profile: usize,
        validators: Option<usize>,
        kms: Option<bool>,
    },
    DeleteProfile {
        app: usize,
        profile: usize,
    },
    CreateVersion {
        app: usize,
        profile: usize,
        content: usize,
        label: usize,
        lock: Option<u64>,
    },
    DeleteVersion {
        app: usize,
        profile: usize,
        version: u64,
    },
    KernelAppend {
        app: usize,
        profile: usize,
        content: usize,
        token: Option<usize>,
        expected_content: Option<usize>,
    },
    CreateEnvironment {
        app: usize,
        environment: usize,
        monitors: usize,
    },
    UpdateEnvironment {
        app: usize,
        environment: usize,
        monitors: Option<usize>,
    },
    DeleteEnvironment {
        app: usize,
        environment: usize,
    },
    CreateStrategy {
        strategy: usize,
        duration: u32,
    },
    UpdateStrategy {
        strategy: usize,
        duration: Option<u32>,
        growth: Option<u8>,
    },
    DeleteStrategy {
        strategy: usize,
    },
    Tag {
        resource: (usize, usize, usize),
        key: usize,
        value: bool,
    },
    Untag {
        resource: (usize, usize, usize),
        key: usize,
    },
    CreateView {
        view: usize,
        name: usize,
        published: bool,
        template: usize,
        token: Option<usize>,
    },
    UpdateView {
        view: usize,
        published: bool,
        template: usize,
    },
    RenameView {
        view: usize,
        name: usize,
    },
    DeleteView {
        view: usize,
    },
    CreateViewVersion {
        view: usize,
        expected: Option<usize>,
    },
    DeleteViewVersion {
        view: usize,
        version: u64,
    },
    CreateTemplate {
        template: usize,
        variant: bool,
    },
    DeleteTemplate {
        template: usize,
    },
    CreateTemplateVersion {
        template: usize,
        major: Option<u64>,
        key: usize,
        token: Option<usize>,
    },
    UpdateTemplateVersion {
        template: usize,
        major: u64,
        minor: u64,
        publish: bool,
    },
    DeleteTemplateVersion {
        template: usize,
        major: u64,
        minor: u64,
    },
}

/// Connect view ids, names and templates (the last one is not JSON: saved only).
const VIEWS: [&str; 3] = [
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-000000000002",
    "00000000-0000-4000-8000-000000000003",
];
const VIEW_NAMES: [&str; 2] = ["intake", "outtake"];
const VIEW_TEMPLATES: [&str; 3] = ["{}", r#"{"a":"$.X"}"#, "not json"];
/// Proton template names and source keys.
const TEMPLATE_NAMES: [&str; 2] = ["env", "vpc"];
const SOURCE_KEYS: [&str; 2] = ["a.tgz", "b.tgz"];

/// Connect view and Proton template commands, from small pools.
fn face_op() -> impl Strategy<Value = Op> {
    let view = || 0..VIEWS.len();
    let template = || 0..TEMPLATE_NAMES.len();
    prop_oneof![
        3 => (view(), 0..VIEW_NAMES.len(), any::<bool>(), 0..VIEW_TEMPLATES.len(), prop::option::of(0..TOKENS.len()))
            .prop_map(|(view, name, published, template, token)| Op::CreateView { view, name, published, template, token }),
        3 => (view(), any::<bool>(), 0..VIEW_TEMPLATES.len())
            .prop_map(|(view, published, template)| Op::UpdateView { view, published, template }),
        1 => (view(), 0..VIEW_NAMES.len()).prop_map(|(view, name)| Op::RenameView { view, name }),
        1 => view().prop_map(|view| Op::DeleteView { view }),
        3 => (view(), prop::option::of(0..VIEW_TEMPLATES.len()))
            .prop_map(|(view, expected)| Op::CreateViewVersion { view, expected }),
        1 => (view(), 1..=4u64).prop_map(|(view, version)| Op::DeleteViewVersion { view, version }),
        2 => (template(), prop::bool::weighted(0.8))
            .prop_map(|(template, variant)| Op::CreateTemplate { template, variant }),
        1 => template().prop_map(|template| Op::DeleteTemplate { template }),
        4 => (template(), prop::option::of(1..=3u64), 0..SOURCE_KEYS.len(), prop::option::of(0..TOKENS.len()))
            .prop_map(|(template, major, key, token)| Op::CreateTemplateVersion { template, major, key, token }),
        3 => (template(), 1..=2u64, 0..=2u64, prop::bool::weighted(0.8))
            .prop_map(|(template, major, minor, publish)| Op::UpdateTemplateVersion { template, major, minor, publish }),
        2 => (template(), 1..=2u64, 0..=2u64)
            .prop_map(|(template, major, minor)| Op::DeleteTemplateVersion { template, major, minor }),
    ]
}

fn instance() -> ConnectInstanceId {
    ConnectInstanceId::parse("inst-1").expect("a well-formed instance")
}

fn view_id(i: usize) -> ViewId {
    ViewId::parse(VIEWS[i]).expect("pool ids are well formed")
}

fn view_content(i: usize) -> EncodedViewContent {
    ViewContent {
        actions: Vec::new(),
        template: VIEW_TEMPLATES[i].to_owned(),
    }
    .encode()
}

fn template_name(i: usize) -> TemplateName {
    TemplateName::parse("name", TEMPLATE_NAMES[i]).expect("pool names are well formed")
}

/// A key whose digest is the request's fields, as the store's API builds it.
fn key(token: usize, fields: &[&[u8]]) -> IdempotencyKey {
    let mut digest = RequestDigest::new("face");
    for f in fields {
        digest = digest.field(f);
    }
    IdempotencyKey {
        token: TOKENS[token].to_owned(),
        digest: digest.finish(),
    }
}

fn face_command(op: &Op) -> Option<Command> {
    Some(match *op {
        Op::CreateView {
            view,
            name,
            published,
            template,
            token,
        } => {
            let status = if published {
                ViewStatus::Published
            } else {
                ViewStatus::Saved
            };
            let content = view_content(template);
            Command::CreateView(CreateView {
                instance: instance(),
                id: view_id(view),
                name: VIEW_NAMES[name].to_owned(),
                description: None,
                status,
                client_token: token.map(|t| {
                    key(
                        t,
                        &[
                            VIEW_NAMES[name].as_bytes(),
                            status.as_str().as_bytes(),
                            content.content().hash().as_bytes(),
                        ],
                    )
                }),
                content,
                tags: BTreeMap::new(),
            })
        }
        Op::UpdateView {
            view,
            published,
            template,
        } => Command::UpdateViewContent {
            instance: instance(),
            view: view_id(view),
            status: if published {
                ViewStatus::Published
            } else {
                ViewStatus::Saved
            },
            content: view_content(template),
        },
        Op::RenameView { view, name } => Command::UpdateViewMetadata {
            instance: instance(),
            view: view_id(view),
            name: Some(VIEW_NAMES[name].to_owned()),
            description: None,
        },
        Op::DeleteView { view } => Command::DeleteView {
            instance: instance(),
            view: view_id(view),
        },
        Op::CreateViewVersion { view, expected } => Command::CreateViewVersion {
            instance: instance(),
            view: view_id(view),
            version_description: None,
            expected_content: expected.map(|t| view_content(t).content().hash()),
        },
        Op::DeleteViewVersion { view, version } => Command::DeleteViewVersion {
            instance: instance(),
            view: view_id(view),
            version: StreamVersion::new(version),
        },
        Op::CreateTemplate { template, variant } => {
            let description = if variant { "a" } else { "b" };
            Command::CreateEnvironmentTemplate(CreateEnvironmentTemplate {
                template: template_name(template),
                display_name: None,
                description: Some(description.to_owned()),
                encryption_key: None,
                provisioning: None,
                tags: BTreeMap::new(),
                request_digest: RequestDigest::new("t")
                    .field(description.as_bytes())
                    .finish(),
            })
        }
        Op::DeleteTemplate { template } => Command::DeleteEnvironmentTemplate {
            template: template_name(template),
        },
        Op::CreateTemplateVersion {
            template,
            major,
            key: k,
            token,
        } => {
            let source = TemplateSource {
                bucket: "templates".to_owned(),
                key: SOURCE_KEYS[k].to_owned(),
            }
            .canonical();
            Command::CreateEnvironmentTemplateVersion(CreateEnvironmentTemplateVersion {
                template: template_name(template),
                major,
                description: None,
                client_token: token.map(|t| {
                    key(
                        t,
                        &[source.hash().as_bytes(), &major.unwrap_or(0).to_be_bytes()],
                    )
                }),
                source,
                tags: BTreeMap::new(),
            })
        }
        Op::UpdateTemplateVersion {
            template,
            major,
            minor,
            publish,
        } => Command::UpdateEnvironmentTemplateVersion {
            template: template_name(template),
            version: TemplateVersion { major, minor },
            status: Some(if publish {
                TemplateVersionStatus::Published
            } else {
                TemplateVersionStatus::Draft
            }),
            description: None,
        },
        Op::DeleteTemplateVersion {
            template,
            major,
            minor,
        } => Command::DeleteEnvironmentTemplateVersion {
            template: template_name(template),
            version: TemplateVersion { major, minor },
        },
        _ => return None,
    })
}

/// Whether an accepted `command` may append nothing: a tag change that changes nothing,
/// and the faces' idempotent answers (a replayed token, unchanged content, a delete of
/// what is gone, an update that changes nothing).
fn may_append_nothing(command: &Command) -> bool {
    !matches!(
        command,
        Command::CreateApplication(_)
            | Command::UpdateApplication(_)
            | Command::DeleteApplication(_)
            | Command::CreateProfile(_)
            | Command::UpdateProfile { .. }
            | Command::DeleteProfile { .. }
            | Command::CreateHostedVersion(_)
            | Command::DeleteHostedVersion { .. }
            | Command::CreateEnvironment(_)
            | Command::UpdateEnvironment { .. }
            | Command::DeleteEnvironment { .. }
            | Command::CreateDeploymentStrategy(_)
            | Command::UpdateDeploymentStrategy { .. }
            | Command::DeleteDeploymentStrategy { .. }
            | Command::StartDeployment(_)
            | Command::StopDeployment { .. }
    )
}

/// An index into a pool of three, mostly the first, so that commands mostly land on
/// things that exist; the others are what quotas, collisions and not-found paths are
/// made of.
fn pick() -> impl Strategy<Value = usize> + Clone {
    prop::sample::select(vec![0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
}

/// An (application, profile) pair, mostly the profile with the application's own index,
/// as the setup creates them.
fn target() -> impl Strategy<Value = (usize, usize)> + Clone {
    (pick(), prop::option::weighted(0.3, pick()))
        .prop_map(|(app, other)| (app, other.unwrap_or(app)))
}

fn op() -> impl Strategy<Value = Op> {
    let content = prop::sample::select(vec![0, 1, 1, 2, 2, 3, 3, 4]);
    let label = prop::sample::select(vec![0, 0, 1, 1, 2, 3]);
    prop_oneof![
        3 => (pick(), prop::bool::weighted(0.9))
            .prop_map(|(app, valid_name)| Op::CreateApplication { app, valid_name }),
        1 => (pick(), prop::option::of(prop::bool::weighted(0.8)), any::<bool>())
            .prop_map(|(app, name, description)| Op::UpdateApplication { app, name, description }),
        1 => pick().prop_map(|app| Op::DeleteApplication { app }),
        4 => (target(), prop::bool::weighted(0.85), prop::sample::select(vec![0, 0, 1, 2, 3]))
            .prop_map(|((app, profile), hosted, validators)| Op::CreateProfile {
                app,
                profile,
                hosted,
                validators,
            }),
        1 => (target(), prop::option::of(0..=3usize), prop::option::of(any::<bool>()))
            .prop_map(|((app, profile), validators, kms)| Op::UpdateProfile {
                app,
                profile,
                validators,
                kms,
            }),
        1 => target().prop_map(|(app, profile)| Op::DeleteProfile { app, profile }),
        8 => (target(), content.clone(), label, prop::option::weighted(0.4, 0..=4u64))
            .prop_map(|((app, profile), content, label, lock)| Op::CreateVersion {
                app,
                profile,
                content,
                label,
                lock,
            }),
        5 => (target(), 1..=6u64)
            .prop_map(|((app, profile), version)| Op::DeleteVersion { app, profile, version }),
        4 => (
            target(),
            content,
            prop::option::of(0..TOKENS.len()),
            prop::option::weighted(0.3, 0..CONTENTS.len()),
        )
            .prop_map(|((app, profile), content, token, expected_content)| {
                Op::KernelAppend {
                    app,
                    profile,
                    content,
                    token,
                    expected_content,
                }
            }),
        3 => (target(), 0..=6usize).prop_map(|((app, environment), monitors)| {
            Op::CreateEnvironment { app, environment, monitors }
        }),
        1 => (target(), prop::option::of(0..=6usize)).prop_map(|((app, environment), monitors)| {
            Op::UpdateEnvironment { app, environment, monitors }
        }),
        2 => target().prop_map(|(app, environment)| Op::DeleteEnvironment { app, environment }),
        2 => (pick(), prop::sample::select(vec![0, 30, 1440, 1441]))
            .prop_map(|(strategy, duration)| Op::CreateStrategy { strategy, duration }),
        1 => (
            pick(),
            prop::option::of(prop::sample::select(vec![5, 1441])),
            prop::option::of(0..=120u8),
        )
            .prop_map(|(strategy, duration, growth)| Op::UpdateStrategy {
                strategy,
                duration,
                growth,
            }),
        1 => pick().prop_map(|strategy| Op::DeleteStrategy { strategy }),
        3 => ((0..4usize, pick(), pick()), 0..TAG_KEYS.len(), any::<bool>())
            .prop_map(|(resource, key, value)| Op::Tag { resource, key, value }),
        2 => ((0..4usize, pick(), pick()), 0..TAG_KEYS.len())
            .prop_map(|(resource, key)| Op::Untag { resource, key }),
    ]
}

/// A random prefix of a typical setup (two applications with a hosted profile each),
/// then random ops: without it most commands of a short run would only find nothing.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let setup = [
        Op::CreateApplication {
            app: 0,
            valid_name: true,
        },
        Op::CreateProfile {
            app: 0,
            profile: 0,
            hosted: true,
            validators: 0,
        },
        Op::CreateApplication {
            app: 1,
            valid_name: true,
        },
        Op::CreateProfile {
            app: 1,
            profile: 1,
            hosted: true,
            validators: 1,
        },
    ];
    let any_op = prop_oneof![3 => op(), 2 => face_op()];
    (0..=setup.len(), prop::collection::vec(any_op, 1..80)).prop_map(move |(n, random)| {
        let mut ops = setup[..n].to_vec();
        ops.extend(random);
        ops
    })
}

fn app_id(i: usize) -> ApplicationId {
    ApplicationId::parse(APPS[i]).expect("pool ids are well formed")
}

fn profile_id(i: usize) -> ProfileId {
    ProfileId::parse(PROFILES[i]).expect("pool ids are well formed")
}

fn environment_id(i: usize) -> EnvironmentId {
    EnvironmentId::parse(ENVIRONMENTS[i]).expect("pool ids are well formed")
}

fn strategy_id(i: usize) -> DeploymentStrategyId {
    DeploymentStrategyId::parse(STRATEGIES[i]).expect("pool ids are well formed")
}

/// `n` monitors: more than 5 is refused.
fn monitors(n: usize) -> Vec<Monitor> {
    (0..n)
        .map(|i| Monitor {
            alarm_arn: format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a{i}"),
            alarm_role_arn: None,
        })
        .collect()
}

/// A resource of kind 0 to 3 (application, profile, environment, strategy) from the pools.
fn resource((kind, a, b): (usize, usize, usize)) -> TaggedResource {
    match kind {
        0 => TaggedResource::Application(app_id(a)),
        1 => TaggedResource::Profile {
            application: app_id(a),
            profile: profile_id(b),
        },
        2 => TaggedResource::Environment {
            application: app_id(a),
            environment: environment_id(b),
        },
        _ => TaggedResource::DeploymentStrategy(strategy_id(a)),
    }
}

fn validators(n: usize) -> Vec<ValidatorInput> {
    (0..n)
        .map(|i| ValidatorInput {
            kind: ValidatorKind::JsonSchema,
            content: Content::new(format!("{{\"title\":\"v{i}\"}}").into_bytes()),
        })
        .collect()
}

fn command(op: &Op) -> Option<Command> {
    Some(match *op {
        Op::CreateApplication { app, valid_name } => {
            Command::CreateApplication(CreateApplication {
                id: app_id(app),
                name: if valid_name {
                    APPS[app].to_owned()
                } else {
                    String::new()
                },
                description: None,
                tags: BTreeMap::new(),
            })
        }
        Op::UpdateApplication {
            app,
            name,
            description,
        } => Command::UpdateApplication(UpdateApplication {
            id: app_id(app),
            name: name.map(|valid| {
                if valid {
                    "renamed".to_owned()
                } else {
                    "n".repeat(65)
                }
            }),
            description: description.then(|| "described".to_owned()),
        }),
        Op::DeleteApplication { app } => {
            Command::DeleteApplication(DeleteApplication { id: app_id(app) })
        }
        Op::CreateProfile {
            app,
            profile,
            hosted,
            validators: n,
        } => Command::CreateProfile(CreateProfile {
            application: app_id(app),
            id: profile_id(profile),
            name: PROFILES[profile].to_owned(),
            description: None,
            location_uri: if hosted {
                HOSTED_LOCATION
            } else {
                "s3://bucket/key"
            }
            .to_owned(),
            retrieval_role_arn: None,
            validators: validators(n),
            profile_type: None,
            kms_key_identifier: None,
            tags: BTreeMap::new(),
        }),
        Op::UpdateProfile {
            app,
            profile,
            validators: n,
            kms,
        } => Command::UpdateProfile {
            application: app_id(app),
            profile: profile_id(profile),
            changes: UpdateProfile {
                validators: n.map(validators),
                kms_key_identifier: kms.map(|set| {
                    if set {
                        "alias/key".to_owned()
                    } else {
                        String::new()
                    }
                }),
                ..UpdateProfile::default()
            },
        },
        Op::DeleteProfile { app, profile } => Command::DeleteProfile {
            application: app_id(app),
            profile: profile_id(profile),
        },
        Op::CreateVersion {
            app,
            profile,
            content,
            label,
            lock,
        } => Command::CreateHostedVersion(CreateHostedVersion {
            application: app_id(app),
            profile: profile_id(profile),
            content: Content::new(CONTENTS[content]),
            content_type: "application/json".to_owned(),
            description: None,
            label: LABELS[label].map(str::to_owned),
            latest_version_number: lock.map(StreamVersion::new),
        }),
        Op::DeleteVersion {
            app,
            profile,
            version,
        } => Command::DeleteHostedVersion {
            application: app_id(app),
            profile: profile_id(profile),
            version: StreamVersion::new(version),
        },
        Op::KernelAppend { .. }
        | Op::CreateView { .. }
        | Op::UpdateView { .. }
        | Op::RenameView { .. }
        | Op::DeleteView { .. }
        | Op::CreateViewVersion { .. }
        | Op::DeleteViewVersion { .. }
        | Op::CreateTemplate { .. }
        | Op::DeleteTemplate { .. }
        | Op::CreateTemplateVersion { .. }
        | Op::UpdateTemplateVersion { .. }
        | Op::DeleteTemplateVersion { .. } => return None,
        Op::CreateEnvironment {
            app,
            environment,
            monitors: n,
        } => Command::CreateEnvironment(CreateEnvironment {
            application: app_id(app),
            id: environment_id(environment),
            name: ENVIRONMENTS[environment].to_owned(),
            description: None,
            monitors: monitors(n),
            tags: BTreeMap::new(),
        }),
        Op::UpdateEnvironment {
            app,
            environment,
            monitors: n,
        } => Command::UpdateEnvironment {
            application: app_id(app),
            environment: environment_id(environment),
            changes: UpdateEnvironment {
                monitors: n.map(monitors),
                ..UpdateEnvironment::default()
            },
        },
        Op::DeleteEnvironment { app, environment } => Command::DeleteEnvironment {
            application: app_id(app),
            environment: environment_id(environment),
        },
        Op::CreateStrategy { strategy, duration } => {
            Command::CreateDeploymentStrategy(CreateDeploymentStrategy {
                id: strategy_id(strategy),
                name: STRATEGIES[strategy].to_owned(),
                description: None,
                deployment_duration_in_minutes: duration,
                final_bake_time_in_minutes: None,
                growth_factor: GrowthFactor::new(20.0).expect("20 is within 1..100"),
                growth_type: None,
                replicate_to: None,
                tags: BTreeMap::new(),
            })
        }
        Op::UpdateStrategy {
            strategy,
            duration,
            growth,
        } => Command::UpdateDeploymentStrategy {
            strategy: strategy_id(strategy),
            changes: UpdateDeploymentStrategy {
                deployment_duration_in_minutes: duration,
                // Out-of-range factors cannot be built: they never reach decide.
                growth_factor: growth.and_then(|g| GrowthFactor::new(f32::from(g))),
                ..UpdateDeploymentStrategy::default()
            },
        },
        Op::DeleteStrategy { strategy } => Command::DeleteDeploymentStrategy {
            strategy: strategy_id(strategy),
        },
        Op::Tag {
            resource: r,
            key,
            value,
        } => Command::TagResource {
            resource: resource(r),
            tags: BTreeMap::from([(
                TAG_KEYS[key].to_owned(),
                if value { "a" } else { "b" }.to_owned(),
            )]),
        },
        Op::Untag { resource: r, key } => Command::UntagResource {
            resource: resource(r),
            keys: vec![TAG_KEYS[key].to_owned()],
        },
    })
}

/// What a face with idempotency keys would append for `op`, deciding with the kernel.
fn kernel_append(state: &MemState, op: &Op) -> Vec<Event> {
    let Op::KernelAppend {
        app,
        profile,
        content,
        token,
        expected_content,
    } = *op
    else {
        return Vec::new();
    };
    let (application, profile) = (app_id(app), profile_id(profile));
    // The face checks that the stream's owner exists and is hosted before the kernel.
    if state.application(&application).is_none()
        || state
            .profile(&application, &profile)
            .is_none_or(|p| p.location_uri != HOSTED_LOCATION)
    {
        return Vec::new();
    }
    let stream = StreamId::hosted(&application, &profile);
    let bytes = CONTENTS[content];
    let expected_content = expected_content.map(|i| ContentHash::of(CONTENTS[i]));
    let key = token.map(|t| IdempotencyKey {
        token: TOKENS[t].to_owned(),
        digest: RequestDigest::new("KernelAppend")
            .field(bytes)
            .optional(expected_content.as_ref().map(|h| h.as_bytes().as_slice()))
            .finish(),
    });
    let request = AppendVersion {
        stream: &stream,
        content: Content::new(bytes).to_ref(),
        expected_latest: None,
        expected_content,
        idempotency: key.as_ref(),
    };
    match decide_append(state, &request) {
        Ok(AppendOutcome::Append(version)) => vec![Event::VersionCreated {
            stream: stream.clone(),
            version,
            content: request.content,
            content_type: None,
            description: None,
            label: None,
            expected_latest: None,
            expected_content,
            idempotency: key,
        }],
        Ok(AppendOutcome::Existing(..)) | Err(_) => Vec::new(),
    }
}

/// The log as decided so far, and the projections folded from it.
struct Run {
    state: MemState,
    log: Vec<Recorded>,
    /// The last version created in each stream.
    last: BTreeMap<StreamId, u64>,
    /// Every environment ever created, deleted ones included.
    environments: BTreeSet<(ApplicationId, EnvironmentId)>,
}

impl Run {
    fn next_position(&self) -> Position {
        Position::new(self.log.len() as u64 + 1)
    }

    /// The timestamp the next record gets (one millisecond per position).
    fn next_timestamp(&self) -> Timestamp {
        let next = self.log.len() as u64 + 1;
        Timestamp::from_millis(i64::try_from(next).unwrap_or(i64::MAX))
    }

    /// Checks `event` against the current state, then folds it in.
    fn append(&mut self, event: Event) -> Result<(), TestCaseError> {
        let position = self.next_position();
        let recorded = Recorded {
            position,
            timestamp: Timestamp::from_millis(i64::try_from(position.get()).unwrap_or(i64::MAX)),
            actor: None,
            event,
        };
        if let Err(violation) = check(&self.state, &recorded) {
            return Err(TestCaseError::fail(format!(
                "decided event refused by check at {position}: {violation}; event {:?}",
                recorded.event
            )));
        }
        if let Event::VersionCreated {
            stream, version, ..
        } = &recorded.event
        {
            let last = self.last.entry(stream.clone()).or_insert(0);
            prop_assert!(
                version.get() > *last,
                "{stream}: version {version} after {last}"
            );
            prop_assert_eq!(version.get(), *last + 1, "{} numbering has a gap", stream);
            *last = version.get();
        }
        if let Event::EnvironmentCreated {
            application,
            environment,
            ..
        } = &recorded.event
        {
            prop_assert!(
                self.environments
                    .insert((application.clone(), environment.clone())),
                "environment {} of {} created twice",
                environment,
                application
            );
        }
        apply(&mut self.state, &recorded);
        self.log.push(recorded);
        Ok(())
    }

    /// Stream heads and the hosted bytes total agree with the version records.
    fn projections_agree(&self) -> Result<(), TestCaseError> {
        let mut live_bytes = 0u64;
        for (stream, last) in &self.last {
            let versions: Vec<_> = self.state.versions(stream).collect();
            let head = self.state.stream(stream).unwrap_or_default();
            let highest = versions.iter().map(|r| r.version.get()).max();
            prop_assert_eq!(Some(head.last_assigned), highest);
            prop_assert_eq!(head.last_assigned, *last);
            let latest_live = versions
                .iter()
                .filter(|r| r.is_live())
                .map(|r| r.version)
                .max();
            prop_assert_eq!(head.latest_live, latest_live, "{} latest live", stream);
            if matches!(stream, StreamId::HostedConfiguration { .. }) {
                live_bytes += versions
                    .iter()
                    .filter(|r| r.is_live())
                    .map(|r| r.content.len)
                    .sum::<u64>();
            }
        }
        prop_assert_eq!(self.state.hosted_bytes(), live_bytes, "hosted bytes");
        // T6: the published index gives the recommended versions the rule computes.
        for i in 0..TEMPLATE_NAMES.len() {
            let name = template_name(i);
            let Some(template) = self.state.template(&name) else {
                continue;
            };
            let versions = self.state.template_versions(&name, template.generation);
            let (best, minors) =
                verso_domain::proton::recommended(versions.iter().map(|r| (r.version, r.status)));
            prop_assert_eq!(
                self.state.recommended_version(&name, template.generation),
                best
            );
            for r in &versions {
                prop_assert_eq!(
                    self.state
                        .recommended_minor(&name, template.generation, r.version.major),
                    minors.get(&r.version.major).copied()
                );
            }
        }
        Ok(())
    }
}

proptest! {
    // Failing cases are saved under crates/domain/proptest-regressions/ (cargo runs tests
    // from the package root) and replayed first on every later run.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/prop_apply.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn decided_events_always_pass_check_and_number_versions_without_gaps(
        ops in ops()
    ) {
        let limits = limits();
        let mut run = Run {
            state: MemState::new(),
            log: Vec::new(),
            last: BTreeMap::new(),
            environments: BTreeSet::new(),
        };
        for op in &ops {
            let events = match command(op).or_else(|| face_command(op)) {
                Some(command) => match decide(&run.state, &command, &limits, run.next_timestamp()) {
                    Ok(decision) => {
                        prop_assert!(
                            decision.existing.is_none()
                                || matches!(command, Command::CreateViewVersion { .. }),
                            "only a view version answers with an existing version"
                        );
                        prop_assert!(
                            may_append_nothing(&command) || !decision.events.is_empty(),
                            "accepted {command:?} appended nothing"
                        );
                        decision.events
                    }
                    Err(_) => Vec::new(),
                },
                None => kernel_append(&run.state, op),
            };
            for event in events {
                run.append(event)?;
            }
            run.projections_agree()?;
        }

        // Replay from scratch: every record passes check again and the fold is the same,
        // whether each record is applied borrowed or owned (as the store's replay does).
        let mut replayed = MemState::new();
        let mut owned = MemState::new();
        for recorded in &run.log {
            prop_assert!(check(&replayed, recorded).is_ok(), "replay refused {:?}", recorded);
            apply(&mut replayed, recorded);
            apply_owned(&mut owned, recorded.clone());
        }
        prop_assert_eq!(&owned, &replayed);
        prop_assert_eq!(replayed, run.state);
    }
}
