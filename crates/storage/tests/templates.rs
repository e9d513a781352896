//! Proton templates through the store: a version clientToken survives a reopen and a
//! rebuild (the key lives in the log), majors and minors are numbered by the kernel,
//! `verify` and `rebuild` fold templates, and a name created again after a delete is a
//! new generation that starts at 1.0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use verso_domain::RejectionKind;
use verso_domain::proton::{TemplateName, TemplateSource, TemplateVersion, TemplateVersionStatus};
use verso_storage::{NewTemplate, NewTemplateVersion, Store};

fn name() -> TemplateName {
    TemplateName::parse("name", "env").unwrap()
}

fn new_version(major: Option<u64>, key: &str, token: Option<&str>) -> NewTemplateVersion {
    NewTemplateVersion {
        major,
        description: None,
        source: TemplateSource {
            bucket: "templates".to_owned(),
            key: key.to_owned(),
        },
        tags: BTreeMap::new(),
        client_token: token.map(str::to_owned),
    }
}

#[test]
fn a_version_token_answers_with_the_first_version_after_reopen_and_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .create_environment_template(&name(), NewTemplate::default())
        .wait()
        .unwrap()
        .unwrap();
    let (first, appended) = store
        .create_environment_template_version(&name(), new_version(None, "a", Some("tok")))
        .wait()
        .unwrap()
        .unwrap();
    assert!(appended);
    assert_eq!(first.version, TemplateVersion { major: 1, minor: 0 });
    let head = store.close().unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert!(store.rebuild().unwrap().is_ok());
    let (again, appended) = store
        .create_environment_template_version(&name(), new_version(None, "a", Some("tok")))
        .wait()
        .unwrap()
        .unwrap();
    assert!(!appended);
    assert_eq!(again.version, first.version);
    assert_eq!(again.status, TemplateVersionStatus::Draft);
    assert_eq!(store.head(), head, "a replayed token appends nothing");
    let refused = store
        .create_environment_template_version(&name(), new_version(Some(1), "a", Some("tok")))
        .wait()
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.kind(), RejectionKind::IdempotencyMismatch);
    store.close().unwrap();
}

#[test]
fn generations_numbering_verify_and_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .create_environment_template(&name(), NewTemplate::default())
        .wait()
        .unwrap()
        .unwrap();
    for (major, key) in [(None, "a"), (Some(1), "b"), (None, "c")] {
        store
            .create_environment_template_version(&name(), new_version(major, key, None))
            .wait()
            .unwrap()
            .unwrap();
    }
    let versions: Vec<_> = store
        .environment_template_versions(&name())
        .unwrap()
        .unwrap()
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(versions, ["1.0", "1.1", "2.0"]);
    assert!(store.verify().unwrap().is_ok());
    assert!(store.rebuild().unwrap().is_ok());
    assert!(store.verify().unwrap().is_ok());

    for v in [(1, 0), (1, 1), (2, 0)] {
        store
            .delete_environment_template_version(
                &name(),
                TemplateVersion {
                    major: v.0,
                    minor: v.1,
                },
            )
            .wait()
            .unwrap()
            .unwrap();
    }
    let deleted = store
        .delete_environment_template(&name())
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(deleted.map(|t| t.generation), Some(1));
    let again = store
        .create_environment_template(&name(), NewTemplate::default())
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(again.generation, 2);
    let (v, _) = store
        .create_environment_template_version(&name(), new_version(None, "d", None))
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(v.version.to_string(), "1.0");
    assert!(store.verify().unwrap().is_ok());
    store.close().unwrap();
}
