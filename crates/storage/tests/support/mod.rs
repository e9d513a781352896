//! Helpers shared by the storage integration tests (`mod support;` in each).

use verso_domain::{ApplicationId, ProfileId};
use verso_storage::{NewApplication, NewProfile, Store};

/// Creates an application with one hosted configuration profile.
pub(crate) fn app_with_hosted_profile(store: &Store) -> (ApplicationId, ProfileId) {
    let app = store
        .create_application(NewApplication {
            name: "app".into(),
            ..Default::default()
        })
        .wait()
        .expect("create application")
        .expect("application accepted");
    let profile = store
        .create_profile(
            &app.id,
            NewProfile {
                name: "profile".into(),
                ..Default::default()
            },
        )
        .wait()
        .expect("create profile")
        .expect("profile accepted");
    (app.id, profile.id)
}
