//! Typed writes on environments.

use std::collections::BTreeMap;

use verso_domain::projection::EnvironmentRecord;
use verso_domain::{
    ApplicationId, Command, CreateEnvironment, EnvironmentId, Monitor, UpdateEnvironment,
};

use super::{Pending, done, random_id, subject_of};
use crate::commit::{Committed, Subject};
use crate::error::{Outcome, Result};
use crate::store::Store;

/// A new environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEnvironment {
    /// 1 to 64 characters.
    pub name: String,
    /// At most 1024 characters.
    pub description: Option<String>,
    /// At most 5 CloudWatch alarms.
    pub monitors: Vec<Monitor>,
    /// At most 50.
    pub tags: BTreeMap<String, String>,
}

/// Changes to an environment; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvironmentChanges {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
    /// The new monitors, replacing the whole list (empty removes them all).
    pub monitors: Option<Vec<Monitor>>,
}

fn environment_of(o: Outcome<Committed>) -> Result<Outcome<EnvironmentRecord>> {
    subject_of(o, |s| match s {
        Subject::Environment(e) => Some(e),
        _ => None,
    })
}

impl Store {
    /// Creates an environment with a fresh random id, ready for deployment.
    pub fn create_environment(
        &self,
        application: &ApplicationId,
        new: NewEnvironment,
    ) -> Pending<EnvironmentRecord> {
        let command = Command::CreateEnvironment(CreateEnvironment {
            application: application.clone(),
            id: self.fresh_environment_id(application),
            name: new.name,
            description: new.description,
            monitors: new.monitors,
            tags: new.tags,
        });
        self.submit(command).map(environment_of)
    }

    /// Changes an environment.
    pub fn update_environment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
        changes: EnvironmentChanges,
    ) -> Pending<EnvironmentRecord> {
        let command = Command::UpdateEnvironment {
            application: application.clone(),
            environment: environment.clone(),
            changes: UpdateEnvironment {
                name: changes.name,
                description: changes.description,
                monitors: changes.monitors,
            },
        };
        self.submit(command).map(environment_of)
    }

    /// Deletes an environment. Its id is never used again in the application.
    pub fn delete_environment(
        &self,
        application: &ApplicationId,
        environment: &EnvironmentId,
    ) -> Pending<()> {
        self.submit(Command::DeleteEnvironment {
            application: application.clone(),
            environment: environment.clone(),
        })
        .map(done)
    }

    /// A random id that no environment of the application has. Ids of deleted
    /// environments are refused by the writer (`AlreadyExists`); with 36^7 ids that is
    /// as unlikely as a collision with a live one.
    fn fresh_environment_id(&self, application: &ApplicationId) -> EnvironmentId {
        loop {
            let id = EnvironmentId::parse(&random_id()).expect("random_id yields [a-z0-9]{7}");
            if !matches!(self.environment(application, &id), Ok(Ok(_))) {
                return id;
            }
        }
    }
}
