//! The given/when/then helper and builders for ids, events and commands.
//!
//! `given(events)` folds the events into a `MemState` at positions 1, 2, 3, ...;
//! `when(command)` decides it; `then_events` / `then_rejected` assert the outcome. An
//! accepted decision is checked with `check` against the state it was decided on and
//! then applied, so scenarios can be chained.

use std::collections::BTreeMap;

use verso_domain::{
    ApplicationId, Command, Content, CreateApplication, CreateDeploymentStrategy,
    CreateEnvironment, CreateHostedVersion, CreateProfile, Decision, DeploymentStrategyId, Detail,
    EnvironmentId, Event, GrowthFactor, GrowthType, HOSTED_LOCATION, Limits, MemState, Position,
    ProfileId, Recorded, Rejection, RejectionKind, ReplicateTo, StartDeployment, StreamId,
    StreamVersion, Timestamp, VersionSelector, Violation, check, decide,
    deployment::Schedule,
    predefined_strategy,
    projection::{Subject, apply, subject},
};

/// The content type every version built here carries.
pub(crate) const CONTENT_TYPE: &str = "text/plain";

// --- ids ----------------------------------------------------------------------------

pub(crate) fn app(id: &str) -> ApplicationId {
    ApplicationId::parse(id).expect("test application ids are well formed")
}

pub(crate) fn prof(id: &str) -> ProfileId {
    ProfileId::parse(id).expect("test profile ids are well formed")
}

pub(crate) fn env(id: &str) -> EnvironmentId {
    EnvironmentId::parse(id).expect("test environment ids are well formed")
}

pub(crate) fn strategy(id: &str) -> DeploymentStrategyId {
    DeploymentStrategyId::parse(id).expect("test strategy ids are well formed")
}

pub(crate) fn growth(value: f32) -> GrowthFactor {
    GrowthFactor::new(value).expect("test growth factors are within 1..100")
}

pub(crate) fn hosted(application: &str, profile: &str) -> StreamId {
    StreamId::hosted(&app(application), &prof(profile))
}

pub(crate) const fn v(n: u64) -> StreamVersion {
    StreamVersion::new(n)
}

pub(crate) fn content(bytes: &[u8]) -> Content {
    Content::new(bytes.to_vec())
}

// --- events -------------------------------------------------------------------------

pub(crate) fn application_created(id: &str) -> Event {
    Event::ApplicationCreated {
        application: app(id),
        name: format!("app {id}"),
        description: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn application_deleted(id: &str) -> Event {
    Event::ApplicationDeleted {
        application: app(id),
    }
}

pub(crate) fn profile_created(application: &str, profile: &str, location_uri: &str) -> Event {
    Event::ProfileCreated {
        application: app(application),
        profile: prof(profile),
        name: format!("profile {profile}"),
        description: None,
        location_uri: location_uri.to_owned(),
        retrieval_role_arn: None,
        validators: Vec::new(),
        profile_type: None,
        kms_key_identifier: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn hosted_profile_created(application: &str, profile: &str) -> Event {
    profile_created(application, profile, "hosted")
}

pub(crate) fn profile_deleted(application: &str, profile: &str) -> Event {
    Event::ProfileDeleted {
        application: app(application),
        profile: prof(profile),
    }
}

/// A `VersionCreated` as `decide` records it for a `CreateHostedVersion` built by
/// [`create_version`] with `label` and `latest_version_number` set as given.
pub(crate) fn version_created_with(
    application: &str,
    profile: &str,
    version: u64,
    bytes: &[u8],
    label: Option<&str>,
    expected_latest: Option<u64>,
) -> Event {
    Event::VersionCreated {
        stream: hosted(application, profile),
        version: v(version),
        content: content(bytes).to_ref(),
        content_type: Some(CONTENT_TYPE.to_owned()),
        description: None,
        label: label.map(str::to_owned),
        expected_latest: expected_latest.map(v),
        expected_content: None,
        idempotency: None,
    }
}

pub(crate) fn version_created(
    application: &str,
    profile: &str,
    version: u64,
    bytes: &[u8],
) -> Event {
    version_created_with(application, profile, version, bytes, None, None)
}

pub(crate) fn version_deleted(application: &str, profile: &str, version: u64) -> Event {
    Event::VersionDeleted {
        stream: hosted(application, profile),
        version: v(version),
    }
}

/// An `EnvironmentCreated` as `decide` records it for [`create_environment`].
pub(crate) fn environment_created(application: &str, environment: &str) -> Event {
    Event::EnvironmentCreated {
        application: app(application),
        environment: env(environment),
        name: format!("env {environment}"),
        description: None,
        monitors: Vec::new(),
        tags: BTreeMap::new(),
    }
}

pub(crate) fn environment_deleted(application: &str, environment: &str) -> Event {
    Event::EnvironmentDeleted {
        application: app(application),
        environment: env(environment),
    }
}

/// A `DeploymentStrategyCreated` as `decide` records it for [`create_strategy`].
pub(crate) fn strategy_created(id: &str) -> Event {
    Event::DeploymentStrategyCreated {
        strategy: strategy(id),
        name: format!("strategy {id}"),
        description: None,
        deployment_duration_in_minutes: 10,
        final_bake_time_in_minutes: 0,
        growth_factor: growth(25.0),
        growth_type: GrowthType::Linear,
        replicate_to: ReplicateTo::None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn strategy_deleted(id: &str) -> Event {
    Event::DeploymentStrategyDeleted {
        strategy: strategy(id),
    }
}

/// A `DeploymentStrategyCreated` with the given schedule values (otherwise as
/// [`strategy_created`]).
pub(crate) fn strategy_created_with(
    id: &str,
    duration: u32,
    bake: u32,
    growth_factor: f32,
    growth_type: GrowthType,
) -> Event {
    Event::DeploymentStrategyCreated {
        strategy: strategy(id),
        name: format!("strategy {id}"),
        description: None,
        deployment_duration_in_minutes: duration,
        final_bake_time_in_minutes: bake,
        growth_factor: growth(growth_factor),
        growth_type,
        replicate_to: ReplicateTo::None,
        tags: BTreeMap::new(),
    }
}

/// A schedule with these values.
pub(crate) fn schedule(
    duration: u32,
    bake: u32,
    growth_factor: f32,
    growth_type: GrowthType,
) -> Schedule {
    Schedule {
        deployment_duration_in_minutes: duration,
        final_bake_time_in_minutes: bake,
        growth_factor: growth(growth_factor),
        growth_type,
    }
}

/// The schedule a deployment copies from strategy `id`: a predefined strategy's values,
/// or those of a user strategy built by [`strategy_created`] (10 minutes, no bake, 25%
/// linear).
pub(crate) fn schedule_of(id: &str) -> Schedule {
    predefined_strategy(&strategy(id)).map_or_else(
        || schedule(10, 0, 25.0, GrowthType::Linear),
        |p| Schedule {
            deployment_duration_in_minutes: p.deployment_duration_in_minutes,
            final_bake_time_in_minutes: p.final_bake_time_in_minutes,
            growth_factor: p.growth_factor,
            growth_type: p.growth_type,
        },
    )
}

/// A `DeploymentStarted` as `decide` records it for [`start_deployment`] of version
/// `version` (holding `bytes`, no label, created by [`version_created`]) of hosted profile
/// `prf1` of `app1` to `environment`, with strategy `strategy_id` (schedule from
/// [`schedule_of`]) and no lock, description, KMS key or tags.
pub(crate) fn deployment_started(
    environment: &str,
    number: u32,
    version: u64,
    bytes: &[u8],
    strategy_id: &str,
) -> Event {
    Event::DeploymentStarted {
        application: app("app1"),
        environment: env(environment),
        number,
        profile: prof("prf1"),
        configuration_name: "profile prf1".to_owned(),
        location_uri: HOSTED_LOCATION.to_owned(),
        version: v(version),
        version_label: None,
        content: content(bytes).to_ref(),
        content_type: Some(CONTENT_TYPE.to_owned()),
        strategy: strategy(strategy_id),
        schedule: schedule_of(strategy_id),
        description: None,
        kms_key_identifier: None,
        tags: BTreeMap::new(),
        expected_latest: None,
    }
}

/// A `DeploymentStopped`: a revert when `revert`, else a rollback.
pub(crate) fn deployment_stopped(
    application: &str,
    environment: &str,
    number: u32,
    revert: bool,
) -> Event {
    Event::DeploymentStopped {
        application: app(application),
        environment: env(environment),
        number,
        revert,
    }
}

/// Application `app1` with hosted profile `prf1`: the usual start of a version scenario.
pub(crate) fn hosted_profile_history() -> Vec<Event> {
    vec![
        application_created("app1"),
        hosted_profile_created("app1", "prf1"),
    ]
}

// --- commands -----------------------------------------------------------------------

pub(crate) fn create_application(id: &str) -> CreateApplication {
    CreateApplication {
        id: app(id),
        name: format!("app {id}"),
        description: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn create_profile(application: &str, profile: &str) -> CreateProfile {
    CreateProfile {
        application: app(application),
        id: prof(profile),
        name: format!("profile {profile}"),
        description: None,
        location_uri: "hosted".to_owned(),
        retrieval_role_arn: None,
        validators: Vec::new(),
        profile_type: None,
        kms_key_identifier: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn create_environment(application: &str, environment: &str) -> CreateEnvironment {
    CreateEnvironment {
        application: app(application),
        id: env(environment),
        name: format!("env {environment}"),
        description: None,
        monitors: Vec::new(),
        tags: BTreeMap::new(),
    }
}

/// The smallest valid strategy: 10 minutes, 25% linear, defaults for the rest.
pub(crate) fn create_strategy(id: &str) -> CreateDeploymentStrategy {
    CreateDeploymentStrategy {
        id: strategy(id),
        name: format!("strategy {id}"),
        description: None,
        deployment_duration_in_minutes: 10,
        final_bake_time_in_minutes: None,
        growth_factor: growth(25.0),
        growth_type: None,
        replicate_to: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn create_version(
    application: &str,
    profile: &str,
    bytes: &[u8],
) -> CreateHostedVersion {
    CreateHostedVersion {
        application: app(application),
        profile: prof(profile),
        content: content(bytes),
        content_type: CONTENT_TYPE.to_owned(),
        description: None,
        label: None,
        latest_version_number: None,
    }
}

pub(crate) fn delete_version(application: &str, profile: &str, version: u64) -> Command {
    Command::DeleteHostedVersion {
        application: app(application),
        profile: prof(profile),
        version: v(version),
    }
}

/// The `StartDeployment` input for `version_text` (a number or a label, read as the
/// wire's `ConfigurationVersion`) with strategy `strategy_id`, and nothing optional.
pub(crate) fn start_deployment_input(
    application: &str,
    environment: &str,
    profile: &str,
    version_text: &str,
    strategy_id: &str,
) -> StartDeployment {
    StartDeployment {
        application: app(application),
        environment: env(environment),
        profile: prof(profile),
        version: VersionSelector::parse(version_text),
        strategy: strategy(strategy_id),
        description: None,
        kms_key_identifier: None,
        tags: BTreeMap::new(),
        latest_deployment_number: None,
    }
}

/// `StartDeployment` as [`start_deployment_input`] builds it.
pub(crate) fn start_deployment(
    application: &str,
    environment: &str,
    profile: &str,
    version_text: &str,
    strategy_id: &str,
) -> Command {
    Command::StartDeployment(start_deployment_input(
        application,
        environment,
        profile,
        version_text,
        strategy_id,
    ))
}

/// `StopDeployment` of deployment `number`, with the wire's `Allow-Revert` as given.
pub(crate) fn stop_deployment(
    application: &str,
    environment: &str,
    number: u32,
    allow_revert: bool,
) -> Command {
    Command::StopDeployment {
        application: app(application),
        environment: env(environment),
        number,
        allow_revert,
    }
}

// --- given / when / then ------------------------------------------------------------

/// A state built from recorded events, and the limits commands are decided under.
#[derive(Clone, Debug)]
pub(crate) struct Given {
    state: MemState,
    next: Position,
    limits: Limits,
    /// How far the clock was moved on by `after`, in milliseconds.
    offset_ms: i64,
}

/// Folds `events` into a fresh `MemState`, at positions 1, 2, 3, ...
pub(crate) fn given(events: impl IntoIterator<Item = Event>) -> Given {
    let mut given = Given {
        state: MemState::new(),
        next: Position::FIRST,
        limits: Limits::DEFAULT,
        offset_ms: 0,
    };
    for event in events {
        given.record(event);
    }
    given
}

impl Given {
    /// Decides later commands under `limits`.
    pub(crate) const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The projections as of the last applied event.
    pub(crate) const fn state(&self) -> &MemState {
        &self.state
    }

    /// Moves the clock on by `ms` milliseconds (the injected clock of the scenarios).
    pub(crate) const fn after_ms(mut self, ms: i64) -> Self {
        self.offset_ms += ms;
        self
    }

    /// Sets the clock so that the next record gets timestamp `t` (and `decide` decides at
    /// `t`). The caller keeps time from going backwards (P5).
    pub(crate) fn at(mut self, t: Timestamp) -> Self {
        let millis = i64::try_from(self.next.get()).expect("positions in tests are small");
        self.offset_ms = t.as_millis() - millis * 1000;
        self
    }

    /// Moves the clock on by `minutes`.
    pub(crate) const fn after_minutes(self, minutes: i64) -> Self {
        self.after_ms(minutes * 60_000)
    }

    /// The time the next record gets, and `decide`'s now: one second per position, plus
    /// whatever `after` added.
    pub(crate) fn now(&self) -> Timestamp {
        let millis = i64::try_from(self.next.get()).expect("positions in tests are small");
        Timestamp::from_millis(millis * 1000 + self.offset_ms)
    }

    /// `event` as it would be recorded next.
    pub(crate) fn recorded(&self, event: Event) -> Recorded {
        Recorded {
            position: self.next,
            timestamp: self.now(),
            actor: Some("tester".to_owned()),
            event,
        }
    }

    /// Applies `event` at the next position, without checking it.
    pub(crate) fn record(&mut self, event: Event) {
        let recorded = self.recorded(event);
        apply(&mut self.state, &recorded);
        self.next = self.next.next();
    }

    /// Applies more events.
    pub(crate) fn and(mut self, events: impl IntoIterator<Item = Event>) -> Self {
        for event in events {
            self.record(event);
        }
        self
    }

    /// Applies `event`, which `decide` produced, at the next position once replay's
    /// `check` accepts it.
    #[track_caller]
    fn record_decided(&mut self, event: &Event) {
        if let Err(violation) = self.when_replayed(event.clone()) {
            panic!("decide produced {event:?}, which check refuses: {violation}");
        }
        self.record(event.clone());
    }

    /// Decides `command` against the state.
    pub(crate) fn when(self, command: Command) -> Then {
        let result = decide(&self.state, &command, &self.limits, self.now());
        Then {
            given: self,
            result,
        }
    }

    /// Decides `command`, which must be accepted, and applies what it appends (each event
    /// passing `check`); returns the state after it and the record the writer reports for
    /// it: the existing version that answered it, else its [`subject`] in that state.
    #[track_caller]
    pub(crate) fn when_reported(self, command: Command) -> (Self, Option<Subject>) {
        let then = self.when(command.clone());
        then.then_reported(&command)
    }

    /// Checks `event` as replay would, as the next record after the given ones.
    pub(crate) fn when_replayed(&self, event: Event) -> Result<(), Violation> {
        check(&self.state, &self.recorded(event))
    }

    /// Asserts replay's `check` accepts `event` as the next record.
    #[track_caller]
    pub(crate) fn replay_accepts(&self, event: Event) {
        if let Err(violation) = self.when_replayed(event.clone()) {
            panic!("check refused {event:?}: {violation}");
        }
    }

    /// Asserts replay's `check` refuses `event` as the next record, and that the rule
    /// that refused it is of `kind` (so a forgery refused for another reason fails the
    /// test); returns the violation.
    #[track_caller]
    pub(crate) fn replay_refuses(&self, event: Event, kind: RejectionKind) -> Violation {
        match self.when_replayed(event.clone()) {
            Ok(()) => panic!("check accepted the forged event {event:?}"),
            Err(violation) => {
                assert_eq!(violation.kind(), kind, "{violation}: refused {event:?}");
                violation
            }
        }
    }
}

/// The outcome of a decided command.
#[derive(Debug)]
pub(crate) struct Then {
    given: Given,
    result: Result<Decision, Rejection>,
}

impl Then {
    /// Asserts the command was accepted and appends exactly `expected`; every event must
    /// pass `check` against the state it is appended to. Returns the state after them.
    #[track_caller]
    pub(crate) fn then_events(self, expected: &[Event]) -> Given {
        let (events, given) = self.then_accepted_with_events();
        assert_eq!(events, expected, "appended events");
        given
    }

    /// Asserts the command was accepted with at least one event (each passing `check`).
    /// Returns the state after them.
    #[track_caller]
    pub(crate) fn then_accepted(self) -> Given {
        self.then_accepted_with_events().1
    }

    #[track_caller]
    fn then_accepted_with_events(self) -> (Vec<Event>, Given) {
        let decision = match self.result {
            Ok(d) => d,
            Err(r) => panic!(
                "expected the command to be accepted, got {:?}: {r}",
                r.kind()
            ),
        };
        assert!(
            decision.existing.is_none(),
            "no existing version answers a plain append"
        );
        assert!(
            !decision.events.is_empty(),
            "an accepted command appends events"
        );
        let mut given = self.given;
        for event in &decision.events {
            given.record_decided(event);
        }
        (decision.events, given)
    }

    /// Asserts the command (`command`) was accepted, applies what it appends (each event
    /// passing `check`), and returns the state after it with the record the writer
    /// reports: the existing version that answered it, else its [`subject`].
    #[track_caller]
    fn then_reported(self, command: &Command) -> (Given, Option<Subject>) {
        let decision = match self.result {
            Ok(d) => d,
            Err(r) => panic!(
                "expected the command to be accepted, got {:?}: {r}",
                r.kind()
            ),
        };
        let mut given = self.given;
        for event in &decision.events {
            given.record_decided(event);
        }
        let reported = match decision.existing {
            Some(existing) => Some(Subject::Version(existing)),
            None => subject(given.state(), command),
        };
        (given, reported)
    }

    /// Asserts the command was accepted and appends nothing (it changes nothing).
    #[track_caller]
    pub(crate) fn then_nothing_appended(self) -> Given {
        match self.result {
            Ok(d) => {
                assert!(d.events.is_empty(), "appended {:?}", d.events);
                assert!(d.existing.is_none(), "no existing version answers it");
            }
            Err(r) => panic!(
                "expected the command to be accepted, got {:?}: {r}",
                r.kind()
            ),
        }
        self.given
    }

    /// Asserts the command was accepted, appends nothing, and is answered by the existing
    /// version `version` (the unchanged rule or an idempotent replay).
    #[track_caller]
    pub(crate) fn then_answered_by(self, version: u64) -> Given {
        match self.result {
            Ok(d) => {
                assert!(d.events.is_empty(), "appended {:?}", d.events);
                let answer = d.existing.expect("an existing version answers it");
                assert_eq!(answer.version.get(), version, "the answering version");
            }
            Err(r) => panic!(
                "expected the command to be accepted, got {:?}: {r}",
                r.kind()
            ),
        }
        self.given
    }

    /// Asserts the command was rejected with `kind`; returns the rejection.
    #[track_caller]
    pub(crate) fn then_rejected(self, kind: RejectionKind) -> Rejection {
        match self.result {
            Ok(d) => panic!("expected a {kind:?} rejection, got {:?}", d.events),
            Err(r) => {
                assert_eq!(r.kind(), kind, "rejection kind ({r})");
                r
            }
        }
    }

    /// Asserts the command was rejected as `Invalid`, naming `field`.
    #[track_caller]
    pub(crate) fn then_invalid(self, field: &str) -> Rejection {
        let rejection = self.then_rejected(RejectionKind::Invalid);
        match rejection.detail() {
            Detail::Field { field: named } => assert_eq!(*named, field, "invalid field"),
            other => panic!("expected a Field detail naming {field}, got {other:?}"),
        }
        rejection
    }
}
