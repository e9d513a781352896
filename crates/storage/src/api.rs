//! Typed writes on [`Store`]: each builds a kernel command, submits it, and maps the
//! outcome to the record the caller wants. Each returns a [`Pending`] to `.wait()` on or
//! `.await`. Applications, profiles and hosted versions are here; environments,
//! deployment strategies and tags in the submodules.

mod deployments;
mod environments;
mod strategies;
mod tags;
mod templates;
mod views;

pub use deployments::NewDeployment;
pub use environments::{EnvironmentChanges, NewEnvironment};
pub use strategies::{DeploymentStrategyChanges, NewDeploymentStrategy};
pub use templates::{NewTemplate, NewTemplateVersion};
pub use views::NewView;

use std::collections::BTreeMap;

use verso_domain::projection::{ApplicationRecord, ProfileRecord, VersionRecord};
use verso_domain::{
    ApplicationId, Command, Content, CreateApplication, CreateHostedVersion, CreateProfile,
    DeleteApplication, ProfileId, StreamVersion, UpdateApplication, UpdateProfile, ValidatorInput,
    ValidatorKind,
};

use crate::commit::{Committed, Mapped, Subject};
use crate::error::{Error, Outcome, Result};
use crate::store::Store;

/// A write in flight: `.wait()` for it, or `.await` it.
pub type Pending<T> = Mapped<Outcome<Committed>, Outcome<T>>;

/// A new application.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewApplication {
    /// 1 to 64 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
}

/// A new configuration profile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewProfile {
    /// 1 to 128 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// `hosted` for the hosted store (the default when empty).
    pub location_uri: String,
    /// An IAM role ARN.
    pub retrieval_role_arn: Option<String>,
    /// At most two: kind and content (schema text or Lambda ARN).
    pub validators: Vec<(ValidatorKind, String)>,
    /// `AWS.Freeform`, `AWS.AppConfig.FeatureFlags`, ...
    pub profile_type: Option<String>,
    /// 1 to 2048 characters.
    pub kms_key_identifier: Option<String>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
}

/// Changes to a configuration profile; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
    /// The new retrieval role.
    pub retrieval_role_arn: Option<String>,
    /// The new validators (empty removes them).
    pub validators: Option<Vec<(ValidatorKind, String)>>,
    /// The new KMS key identifier; empty removes it.
    pub kms_key_identifier: Option<String>,
}

/// A new hosted configuration version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewHostedVersion {
    /// The configuration bytes.
    pub content: Vec<u8>,
    /// Its MIME type, 1 to 255 characters.
    pub content_type: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// 1 to 64 characters, not all digits.
    pub label: Option<String>,
    /// The optimistic lock: the latest version number the caller saw (0 for none).
    /// Anything else than the current latest is a conflict.
    pub latest_version_number: Option<u64>,
}

fn validators(list: Vec<(ValidatorKind, String)>) -> Vec<ValidatorInput> {
    list.into_iter()
        .map(|(kind, text)| ValidatorInput {
            kind,
            content: Content::new(text.into_bytes()),
        })
        .collect()
}

/// The record an accepted command reports, or the refusal.
fn subject_of<T>(o: Outcome<Committed>, pick: fn(Subject) -> Option<T>) -> Result<Outcome<T>> {
    match o {
        Err(refused) => Ok(Err(refused)),
        Ok(committed) => committed.subject.and_then(pick).map(Ok).ok_or_else(|| {
            Error::Engine("the writer accepted a command but reported no record".to_owned())
        }),
    }
}

fn application_of(o: Outcome<Committed>) -> Result<Outcome<ApplicationRecord>> {
    subject_of(o, |s| match s {
        Subject::Application(a) => Some(a),
        _ => None,
    })
}

fn profile_of(o: Outcome<Committed>) -> Result<Outcome<ProfileRecord>> {
    subject_of(o, |s| match s {
        Subject::Profile(p) => Some(p),
        _ => None,
    })
}

fn version_of(o: Outcome<Committed>) -> Result<Outcome<VersionRecord>> {
    subject_of(o, |s| match s {
        Subject::Version(v) => Some(v),
        _ => None,
    })
}

fn done(o: Outcome<Committed>) -> Result<Outcome<()>> {
    Ok(o.map(|_| ()))
}

impl Store {
    /// Creates an application with a fresh random id.
    pub fn create_application(&self, new: NewApplication) -> Pending<ApplicationRecord> {
        let command = Command::CreateApplication(CreateApplication {
            id: self.fresh_application_id(),
            name: new.name,
            description: new.description,
            tags: new.tags,
        });
        self.submit(command).map(application_of)
    }

    /// Changes an application's name and/or description.
    pub fn update_application(
        &self,
        id: &ApplicationId,
        name: Option<String>,
        description: Option<String>,
    ) -> Pending<ApplicationRecord> {
        let command = Command::UpdateApplication(UpdateApplication {
            id: id.clone(),
            name,
            description,
        });
        self.submit(command).map(application_of)
    }

    /// Deletes an application that has no configuration profiles.
    pub fn delete_application(&self, id: &ApplicationId) -> Pending<()> {
        self.submit(Command::DeleteApplication(DeleteApplication {
            id: id.clone(),
        }))
        .map(done)
    }

    /// Creates a configuration profile with a fresh random id.
    pub fn create_profile(
        &self,
        application: &ApplicationId,
        new: NewProfile,
    ) -> Pending<ProfileRecord> {
        let location_uri = if new.location_uri.is_empty() {
            verso_domain::HOSTED_LOCATION.to_owned()
        } else {
            new.location_uri
        };
        let command = Command::CreateProfile(CreateProfile {
            application: application.clone(),
            id: self.fresh_profile_id(application),
            name: new.name,
            description: new.description,
            location_uri,
            retrieval_role_arn: new.retrieval_role_arn,
            validators: validators(new.validators),
            profile_type: new.profile_type,
            kms_key_identifier: new.kms_key_identifier,
            tags: new.tags,
        });
        self.submit(command).map(profile_of)
    }

    /// Changes a configuration profile.
    pub fn update_profile(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
        changes: ProfileChanges,
    ) -> Pending<ProfileRecord> {
        let command = Command::UpdateProfile {
            application: application.clone(),
            profile: profile.clone(),
            changes: UpdateProfile {
                name: changes.name,
                description: changes.description,
                retrieval_role_arn: changes.retrieval_role_arn,
                validators: changes.validators.map(validators),
                kms_key_identifier: changes.kms_key_identifier,
            },
        };
        self.submit(command).map(profile_of)
    }

    /// Deletes a configuration profile that has no live hosted versions.
    pub fn delete_profile(&self, application: &ApplicationId, profile: &ProfileId) -> Pending<()> {
        self.submit(Command::DeleteProfile {
            application: application.clone(),
            profile: profile.clone(),
        })
        .map(done)
    }

    /// Creates a hosted configuration version: the next number of the profile's stream.
    pub fn create_hosted_version(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
        new: NewHostedVersion,
    ) -> Pending<VersionRecord> {
        let command = Command::CreateHostedVersion(CreateHostedVersion {
            application: application.clone(),
            profile: profile.clone(),
            content: Content::new(new.content),
            content_type: new.content_type,
            description: new.description,
            label: new.label,
            latest_version_number: new.latest_version_number.map(StreamVersion::new),
        });
        self.submit(command).map(version_of)
    }

    /// Deletes a hosted configuration version. Its number is never reused.
    pub fn delete_hosted_version(
        &self,
        application: &ApplicationId,
        profile: &ProfileId,
        version: u64,
    ) -> Pending<()> {
        self.submit(Command::DeleteHostedVersion {
            application: application.clone(),
            profile: profile.clone(),
            version: StreamVersion::new(version),
        })
        .map(done)
    }

    /// A random id of 7 characters from `[a-z0-9]` that no application has. The writer
    /// refuses a taken id, so a race between the check and the write cannot reuse one.
    fn fresh_application_id(&self) -> ApplicationId {
        loop {
            let id = random_id();
            let id = ApplicationId::parse(&id).expect("random_id yields [a-z0-9]{7}");
            if !matches!(self.application(&id), Ok(Ok(_))) {
                return id;
            }
        }
    }

    fn fresh_profile_id(&self, application: &ApplicationId) -> ProfileId {
        loop {
            let id = random_id();
            let id = ProfileId::parse(&id).expect("random_id yields [a-z0-9]{7}");
            if !matches!(self.profile(application, &id), Ok(Ok(_))) {
                return id;
            }
        }
    }
}

/// Seven characters from `[a-z0-9]`, drawn from a v4 UUID's random bits.
fn random_id() -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut n = uuid::Uuid::new_v4().as_u128();
    let mut out = String::with_capacity(7);
    for _ in 0..7 {
        let digit = usize::try_from(n % 36).unwrap_or(0);
        out.push(char::from(ALPHABET.get(digit).copied().unwrap_or(b'a')));
        n /= 36;
    }
    out
}
