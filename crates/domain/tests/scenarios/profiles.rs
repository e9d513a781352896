//! Configuration profiles: create, update, delete; their field constraints and quota.

use std::collections::BTreeMap;

use verso_domain::{
    Command, Content, CreateProfile, Event, Limits, RejectionKind, UpdateProfile, ValidatorInput,
    ValidatorKind, ValidatorRef,
};

use crate::support::{
    app, application_created, application_deleted, content, create_profile, given,
    hosted_profile_created, hosted_profile_history, prof, profile_created, profile_deleted,
    version_created, version_deleted,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/reader";
const SCHEMA: &[u8] = br#"{"type":"object"}"#;

fn create(c: CreateProfile) -> Command {
    Command::CreateProfile(c)
}

fn base() -> CreateProfile {
    create_profile("app1", "prf1")
}

fn update(changes: UpdateProfile) -> Command {
    Command::UpdateProfile {
        application: app("app1"),
        profile: prof("prf1"),
        changes,
    }
}

fn delete(application: &str, profile: &str) -> Command {
    Command::DeleteProfile {
        application: app(application),
        profile: prof(profile),
    }
}

fn schema(bytes: &[u8]) -> ValidatorInput {
    ValidatorInput {
        kind: ValidatorKind::JsonSchema,
        content: content(bytes),
    }
}

fn with_app() -> Vec<Event> {
    vec![application_created("app1")]
}

#[test]
fn create_profile_records_every_field_given() {
    // Rule: ProfileCreated carries the command's fields, validators as content refs.
    let lambda = ValidatorInput {
        kind: ValidatorKind::Lambda,
        content: content(b"arn:aws:lambda:us-east-1:123456789012:function:check"),
    };
    let command = CreateProfile {
        description: Some("flags".to_owned()),
        location_uri: "s3://bucket/key".to_owned(),
        retrieval_role_arn: Some(ROLE.to_owned()),
        validators: vec![schema(SCHEMA), lambda.clone()],
        profile_type: Some("AWS.Freeform".to_owned()),
        kms_key_identifier: Some("alias/key".to_owned()),
        tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_events(&[Event::ProfileCreated {
            application: app("app1"),
            profile: prof("prf1"),
            name: "profile prf1".to_owned(),
            description: Some("flags".to_owned()),
            location_uri: "s3://bucket/key".to_owned(),
            retrieval_role_arn: Some(ROLE.to_owned()),
            validators: vec![
                ValidatorRef {
                    kind: ValidatorKind::JsonSchema,
                    content: content(SCHEMA).to_ref(),
                },
                ValidatorRef {
                    kind: ValidatorKind::Lambda,
                    content: lambda.content.to_ref(),
                },
            ],
            profile_type: Some("AWS.Freeform".to_owned()),
            kms_key_identifier: Some("alias/key".to_owned()),
            tags: BTreeMap::from([("team".to_owned(), "core".to_owned())]),
        }]);
}

// --- Name: 1 to 128 characters; Description: at most 1024 ---------------------------

#[test]
fn create_profile_with_empty_name_is_invalid() {
    // Rule: a profile Name has at least 1 character.
    let command = CreateProfile {
        name: String::new(),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Name");
}

#[test]
fn create_profile_with_129_character_name_is_invalid() {
    // Rule: a profile Name has at most 128 characters.
    let command = CreateProfile {
        name: "n".repeat(129),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Name");
}

#[test]
fn create_profile_with_128_character_name_is_accepted() {
    // Rule: exactly 128 characters is within the profile Name bound.
    let command = CreateProfile {
        name: "n".repeat(128),
        ..base()
    };
    given(with_app()).when(create(command)).then_accepted();
}

#[test]
fn create_profile_with_1025_character_description_is_invalid() {
    // Rule: a Description has at most 1024 characters.
    let command = CreateProfile {
        description: Some("d".repeat(1025)),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("Description");
}

// --- LocationUri: 1 to 2048 characters -----------------------------------------------

#[test]
fn create_profile_with_empty_location_uri_is_invalid() {
    // Rule: a LocationUri has at least 1 character.
    let command = CreateProfile {
        location_uri: String::new(),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("LocationUri");
}

#[test]
fn create_profile_with_2049_character_location_uri_is_invalid() {
    // Rule: a LocationUri has at most 2048 characters.
    let command = CreateProfile {
        location_uri: format!("s3://{}", "b".repeat(2044)),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("LocationUri");
}

#[test]
fn create_profile_with_2048_character_location_uri_is_accepted() {
    // Rule: exactly 2048 characters is within the LocationUri bound.
    let command = CreateProfile {
        location_uri: format!("s3://{}", "b".repeat(2043)),
        ..base()
    };
    given(with_app()).when(create(command)).then_accepted();
}

// --- RetrievalRoleArn: arn:<partition>:iam::<12 digits>:role/... ---------------------

fn with_role(arn: &str) -> Command {
    create(CreateProfile {
        location_uri: "s3://bucket/key".to_owned(),
        retrieval_role_arn: Some(arn.to_owned()),
        ..base()
    })
}

#[test]
fn create_profile_with_iam_role_arn_is_accepted() {
    // Rule: RetrievalRoleArn matches ^arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]|aws-us-gov|aws-eusc):iam::\d{12}:role/.*$
    for arn in [
        ROLE,
        "arn:aws-cn:iam::123456789012:role/x",
        "arn:aws-iso-b:iam::123456789012:role/x",
        "arn:aws-us-gov:iam::123456789012:role/path/x",
        "arn:aws-eusc:iam::123456789012:role/",
    ] {
        given(with_app()).when(with_role(arn)).then_accepted();
    }
}

#[test]
fn create_profile_with_role_arn_of_eleven_digit_account_is_invalid() {
    // Rule: the account in a RetrievalRoleArn has exactly 12 digits.
    given(with_app())
        .when(with_role("arn:aws:iam::12345678901:role/reader"))
        .then_invalid("RetrievalRoleArn");
}

#[test]
fn create_profile_with_role_arn_of_unknown_partition_is_invalid() {
    // Rule: the partition is one of AWS's.
    given(with_app())
        .when(with_role("arn:gcp:iam::123456789012:role/reader"))
        .then_invalid("RetrievalRoleArn");
}

#[test]
fn create_profile_with_role_arn_of_other_service_is_invalid() {
    // Rule: the ARN is an IAM one.
    given(with_app())
        .when(with_role("arn:aws:s3::123456789012:role/reader"))
        .then_invalid("RetrievalRoleArn");
}

#[test]
fn create_profile_with_user_arn_as_role_is_invalid() {
    // Rule: the IAM resource is a role.
    given(with_app())
        .when(with_role("arn:aws:iam::123456789012:user/me"))
        .then_invalid("RetrievalRoleArn");
}

#[test]
fn create_profile_with_short_role_arn_is_invalid() {
    // Rule: a RetrievalRoleArn has at least 20 characters.
    given(with_app())
        .when(with_role("arn:aws:iam::1:role"))
        .then_invalid("RetrievalRoleArn");
}

// --- Type: ^[a-zA-Z0-9.-]+ (anchored at the start only) -------------------------------

fn with_type(kind: &str) -> Command {
    create(CreateProfile {
        profile_type: Some(kind.to_owned()),
        ..base()
    })
}

#[test]
fn create_profile_with_type_starting_with_other_character_is_invalid() {
    // Rule: a Type starts with a character from [a-zA-Z0-9.-].
    given(with_app()).when(with_type("_x")).then_invalid("Type");
    given(with_app())
        .when(with_type(" AWS"))
        .then_invalid("Type");
}

#[test]
fn create_profile_with_empty_type_is_invalid() {
    // Rule: a Type has at least one character from [a-zA-Z0-9.-].
    given(with_app()).when(with_type("")).then_invalid("Type");
}

#[test]
fn create_profile_with_aws_types_is_accepted() {
    // Rule: AWS's own types, and anything starting with an allowed character, pass.
    for kind in [
        "AWS.Freeform",
        "AWS.AppConfig.FeatureFlags",
        "-x_anything after",
    ] {
        given(with_app()).when(with_type(kind)).then_accepted();
    }
}

// --- KmsKeyIdentifier: 1 to 2048 characters on create ---------------------------------

#[test]
fn create_profile_with_empty_kms_key_identifier_is_invalid() {
    // Rule: a KmsKeyIdentifier given on create has at least 1 character.
    let command = CreateProfile {
        kms_key_identifier: Some(String::new()),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("KmsKeyIdentifier");
}

#[test]
fn create_profile_with_2049_character_kms_key_identifier_is_invalid() {
    // Rule: a KmsKeyIdentifier has at most 2048 characters.
    let command = CreateProfile {
        kms_key_identifier: Some("k".repeat(2049)),
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("KmsKeyIdentifier");
}

// --- Validators: at most 2, UTF-8, at most 32768 characters ---------------------------

#[test]
fn create_profile_with_three_validators_is_invalid() {
    // Rule: a profile has at most 2 validators.
    let command = CreateProfile {
        validators: vec![schema(SCHEMA), schema(SCHEMA), schema(SCHEMA)],
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("Validators");
}

#[test]
fn create_profile_with_two_validators_is_accepted() {
    // Rule: exactly 2 validators is within the bound.
    let command = CreateProfile {
        validators: vec![schema(SCHEMA), schema(b"{}")],
        ..base()
    };
    given(with_app()).when(create(command)).then_accepted();
}

#[test]
fn create_profile_with_validator_content_not_utf8_is_invalid() {
    // Rule: a validator's content is text.
    let command = CreateProfile {
        validators: vec![schema(&[0x7b, 0xff, 0xfe, 0x7d])],
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("Validators");
}

#[test]
fn create_profile_with_32769_character_validator_is_invalid() {
    // Rule: a validator's content has at most 32768 characters.
    let command = CreateProfile {
        validators: vec![schema("x".repeat(32769).as_bytes())],
        ..base()
    };
    given(with_app())
        .when(create(command))
        .then_invalid("Validators");
    let command = CreateProfile {
        validators: vec![schema("x".repeat(32768).as_bytes())],
        ..base()
    };
    given(with_app()).when(create(command)).then_accepted();
}

// --- Tags ----------------------------------------------------------------------------

#[test]
fn create_profile_with_51_tags_is_invalid() {
    // Rule: at most 50 tags, on profiles too.
    let command = CreateProfile {
        tags: (0..51).map(|i| (format!("k{i}"), String::new())).collect(),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Tags");
}

#[test]
fn create_profile_with_empty_tag_key_is_invalid() {
    // Rule: a tag key has 1 to 128 characters, on profiles too.
    let command = CreateProfile {
        tags: BTreeMap::from([(String::new(), "v".to_owned())]),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Tags");
}

#[test]
fn create_profile_with_257_character_tag_value_is_invalid() {
    // Rule: a tag value has at most 256 characters, on profiles too.
    let command = CreateProfile {
        tags: BTreeMap::from([("k".to_owned(), "v".repeat(257))]),
        ..base()
    };
    given(with_app()).when(create(command)).then_invalid("Tags");
}

// --- existence, ids and quota --------------------------------------------------------

#[test]
fn create_profile_in_missing_application_is_not_found() {
    // Rule: a profile belongs to an existing application.
    given([])
        .when(create(base()))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn create_profile_in_deleted_application_is_not_found() {
    // Rule: a deleted application takes no new profiles.
    given([application_created("app1"), application_deleted("app1")])
        .when(create(base()))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn create_profile_with_taken_id_is_already_exists() {
    // Rule: a profile id is unique within its application.
    given(hosted_profile_history())
        .when(create(base()))
        .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn create_profile_with_id_taken_in_another_application_is_accepted() {
    // Rule: profile ids are scoped to their application.
    given([
        application_created("app1"),
        application_created("app2"),
        hosted_profile_created("app2", "prf1"),
    ])
    .when(create(base()))
    .then_accepted();
}

#[test]
fn create_profile_beyond_quota_per_application_is_quota_exceeded() {
    // Rule: at most `max_profiles_per_application` profiles per application.
    let mut limits = Limits::DEFAULT;
    limits.max_profiles_per_application = 2;
    given([
        application_created("app1"),
        hosted_profile_created("app1", "prf1"),
        hosted_profile_created("app1", "prf2"),
    ])
    .with_limits(limits)
    .when(create(create_profile("app1", "prf3")))
    .then_rejected(RejectionKind::QuotaExceeded);
}

#[test]
fn profile_quota_is_counted_per_application() {
    // Rule: another application's profiles do not count toward this one's quota.
    let mut limits = Limits::DEFAULT;
    limits.max_profiles_per_application = 2;
    given([
        application_created("app1"),
        application_created("app2"),
        hosted_profile_created("app1", "prf1"),
        hosted_profile_created("app1", "prf2"),
    ])
    .with_limits(limits)
    .when(create(create_profile("app2", "prf3")))
    .then_accepted();
}

#[test]
fn deleting_a_profile_frees_its_quota_slot() {
    // Rule: the quota counts live profiles only.
    let mut limits = Limits::DEFAULT;
    limits.max_profiles_per_application = 2;
    given([
        application_created("app1"),
        hosted_profile_created("app1", "prf1"),
        hosted_profile_created("app1", "prf2"),
        profile_deleted("app1", "prf2"),
    ])
    .with_limits(limits)
    .when(create(create_profile("app1", "prf3")))
    .then_accepted();
}

// --- update --------------------------------------------------------------------------

fn full_profile() -> Event {
    Event::ProfileCreated {
        application: app("app1"),
        profile: prof("prf1"),
        name: "old".to_owned(),
        description: Some("kept".to_owned()),
        location_uri: "s3://bucket/key".to_owned(),
        retrieval_role_arn: Some(ROLE.to_owned()),
        validators: vec![ValidatorRef {
            kind: ValidatorKind::JsonSchema,
            content: content(SCHEMA).to_ref(),
        }],
        profile_type: Some("AWS.Freeform".to_owned()),
        kms_key_identifier: Some("alias/key".to_owned()),
        tags: BTreeMap::new(),
    }
}

#[test]
fn update_profile_with_no_changes_keeps_every_field() {
    // Rule: `None` leaves a field as it is; ProfileUpdated holds the values after the update.
    given([application_created("app1"), full_profile()])
        .when(update(UpdateProfile::default()))
        .then_events(&[Event::ProfileUpdated {
            application: app("app1"),
            profile: prof("prf1"),
            name: "old".to_owned(),
            description: Some("kept".to_owned()),
            retrieval_role_arn: Some(ROLE.to_owned()),
            validators: vec![ValidatorRef {
                kind: ValidatorKind::JsonSchema,
                content: content(SCHEMA).to_ref(),
            }],
            kms_key_identifier: Some("alias/key".to_owned()),
        }]);
}

#[test]
fn update_profile_with_empty_kms_key_and_validator_list_removes_them() {
    // Rule: an empty KmsKeyIdentifier removes the key; an empty validator list removes all.
    let changes = UpdateProfile {
        name: Some("new".to_owned()),
        validators: Some(Vec::new()),
        kms_key_identifier: Some(String::new()),
        ..UpdateProfile::default()
    };
    given([application_created("app1"), full_profile()])
        .when(update(changes))
        .then_events(&[Event::ProfileUpdated {
            application: app("app1"),
            profile: prof("prf1"),
            name: "new".to_owned(),
            description: Some("kept".to_owned()),
            retrieval_role_arn: Some(ROLE.to_owned()),
            validators: Vec::new(),
            kms_key_identifier: None,
        }]);
}

#[test]
fn update_missing_profile_is_not_found() {
    // Rule: only an existing profile can be updated.
    given(with_app())
        .when(update(UpdateProfile::default()))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn update_profile_of_missing_application_is_not_found() {
    // Rule: a profile is found only through its existing application.
    given([])
        .when(update(UpdateProfile::default()))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn update_profile_with_129_character_name_is_invalid() {
    // Rule: an updated profile Name has 1 to 128 characters.
    let changes = UpdateProfile {
        name: Some("n".repeat(129)),
        ..UpdateProfile::default()
    };
    given(hosted_profile_history())
        .when(update(changes))
        .then_invalid("Name");
}

#[test]
fn update_profile_with_1025_character_description_is_invalid() {
    // Rule: an updated Description has at most 1024 characters.
    let changes = UpdateProfile {
        description: Some("d".repeat(1025)),
        ..UpdateProfile::default()
    };
    given(hosted_profile_history())
        .when(update(changes))
        .then_invalid("Description");
}

#[test]
fn update_profile_with_bad_role_arn_is_invalid() {
    // Rule: an updated RetrievalRoleArn follows the IAM role pattern.
    let changes = UpdateProfile {
        retrieval_role_arn: Some("arn:aws:iam::123456789012:user/me".to_owned()),
        ..UpdateProfile::default()
    };
    given(hosted_profile_history())
        .when(update(changes))
        .then_invalid("RetrievalRoleArn");
}

#[test]
fn update_profile_with_three_validators_is_invalid() {
    // Rule: at most 2 validators, on update too.
    let changes = UpdateProfile {
        validators: Some(vec![schema(SCHEMA), schema(SCHEMA), schema(SCHEMA)]),
        ..UpdateProfile::default()
    };
    given(hosted_profile_history())
        .when(update(changes))
        .then_invalid("Validators");
}

#[test]
fn update_profile_with_validator_content_not_utf8_is_invalid() {
    // Rule: a validator's content is text, on update too.
    let changes = UpdateProfile {
        validators: Some(vec![ValidatorInput {
            kind: ValidatorKind::Lambda,
            content: Content::new(vec![0xc3, 0x28]),
        }]),
        ..UpdateProfile::default()
    };
    given(hosted_profile_history())
        .when(update(changes))
        .then_invalid("Validators");
}

#[test]
fn update_profile_with_2049_character_kms_key_identifier_is_invalid() {
    // Rule: a non-empty updated KmsKeyIdentifier has at most 2048 characters.
    let changes = UpdateProfile {
        kms_key_identifier: Some("k".repeat(2049)),
        ..UpdateProfile::default()
    };
    given(hosted_profile_history())
        .when(update(changes))
        .then_invalid("KmsKeyIdentifier");
}

// --- delete --------------------------------------------------------------------------

#[test]
fn delete_profile_records_profile_deleted() {
    // Rule: a profile without live versions can be deleted.
    given(hosted_profile_history())
        .when(delete("app1", "prf1"))
        .then_events(&[profile_deleted("app1", "prf1")]);
}

#[test]
fn delete_missing_profile_is_not_found() {
    // Rule: only an existing profile can be deleted.
    given(with_app())
        .when(delete("app1", "prf1"))
        .then_rejected(RejectionKind::NotFound);
    given(hosted_profile_history())
        .and([profile_deleted("app1", "prf1")])
        .when(delete("app1", "prf1"))
        .then_rejected(RejectionKind::NotFound);
}

#[test]
fn delete_profile_with_live_versions_is_not_empty() {
    // Rule: a profile is deleted only once it has no live hosted versions.
    given(hosted_profile_history())
        .and([version_created("app1", "prf1", 1, b"a")])
        .when(delete("app1", "prf1"))
        .then_rejected(RejectionKind::NotEmpty);
}

#[test]
fn delete_profile_whose_versions_are_all_deleted_is_accepted() {
    // Rule: deleted versions do not keep a profile alive.
    given(hosted_profile_history())
        .and([
            version_created("app1", "prf1", 1, b"a"),
            version_created("app1", "prf1", 2, b"b"),
            version_deleted("app1", "prf1", 2),
            version_deleted("app1", "prf1", 1),
        ])
        .when(delete("app1", "prf1"))
        .then_events(&[profile_deleted("app1", "prf1")]);
}

#[test]
fn delete_non_hosted_profile_is_accepted() {
    // Rule: a profile with another LocationUri has no hosted versions to block its delete.
    given([
        application_created("app1"),
        profile_created("app1", "prf1", "s3://bucket/key"),
    ])
    .when(delete("app1", "prf1"))
    .then_accepted();
}

#[test]
fn recreating_a_deleted_profile_id_whose_stream_has_history_is_already_exists() {
    // Rule (E4): a profile id whose versions are in the log is never reused, so its
    // stream's numbers can never restart or continue under a new profile.
    given(hosted_profile_history())
        .and([
            version_created("app1", "prf1", 1, b"a"),
            version_deleted("app1", "prf1", 1),
            profile_deleted("app1", "prf1"),
        ])
        .when(Command::CreateProfile(create_profile("app1", "prf1")))
        .then_rejected(RejectionKind::AlreadyExists);
}

#[test]
fn recreating_a_deleted_profile_id_without_versions_is_accepted() {
    // Rule: an id that never had versions carries no history, so it may be used again.
    given(hosted_profile_history())
        .and([profile_deleted("app1", "prf1")])
        .when(Command::CreateProfile(create_profile("app1", "prf1")))
        .then_accepted();
}
