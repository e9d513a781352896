//! Field constraints, restated from the AppConfig service model
//! (../shared/reference/aws-api-surface.md §3). Lengths count characters, as the
//! model's `length` trait does.

use std::collections::BTreeMap;

use crate::connect;
use crate::event::{Event, Monitor};
use crate::id::StreamId;
use crate::proton;
use crate::rejection::Rejection;

/// Every field constraint of an event, as recorded. `decide` runs it on each event it
/// returns and replay's `check` on each recorded event, so the two can never disagree
/// about which fields are valid (invariant E5). Validator contents are checked when they
/// arrive (`decide`), since events hold only their hashes.
///
/// # Errors
/// `Invalid` naming the first field that breaks its constraint.
pub fn event(event: &Event) -> Result<(), Rejection> {
    match event {
        Event::ApplicationCreated {
            name,
            description,
            tags,
            ..
        } => {
            application_name(name)?;
            optional(description.as_deref(), self::description)?;
            self::tags(tags)
        }
        Event::ApplicationUpdated {
            name, description, ..
        } => {
            application_name(name)?;
            optional(description.as_deref(), self::description)
        }
        Event::ProfileCreated {
            name,
            description,
            location_uri: uri,
            retrieval_role_arn: arn,
            validators,
            profile_type: kind,
            kms_key_identifier: kms,
            tags,
            ..
        } => {
            profile_name(name)?;
            optional(description.as_deref(), self::description)?;
            location_uri(uri)?;
            optional(arn.as_deref(), retrieval_role_arn)?;
            validator_count(validators.len())?;
            optional(kind.as_deref(), profile_type)?;
            optional(kms.as_deref(), kms_key_identifier)?;
            self::tags(tags)
        }
        Event::ProfileUpdated {
            name,
            description,
            retrieval_role_arn: arn,
            validators,
            kms_key_identifier: kms,
            ..
        } => {
            profile_name(name)?;
            optional(description.as_deref(), self::description)?;
            optional(arn.as_deref(), retrieval_role_arn)?;
            validator_count(validators.len())?;
            optional(kms.as_deref(), kms_key_identifier)
        }
        Event::VersionCreated {
            stream: StreamId::HostedConfiguration { .. },
            content_type,
            description,
            label,
            ..
        } => version_fields(
            content_type.as_deref(),
            description.as_deref(),
            label.as_deref(),
        ),
        Event::VersionCreated {
            stream: StreamId::ConnectView { .. },
            content_type,
            description,
            label,
            ..
        } => {
            if content_type.is_some() || label.is_some() {
                return Err(Rejection::invalid(
                    "ViewVersion",
                    "a view version has no content type and no label",
                ));
            }
            optional(description.as_deref(), |d| {
                connect::view_description("VersionDescription", d)
            })
        }
        Event::VersionCreated {
            stream: StreamId::EnvironmentTemplate { .. } | StreamId::EnvironmentTemplateMajor { .. },
            content_type,
            description,
            label,
            ..
        } => {
            if content_type.is_some() || label.is_some() {
                return Err(Rejection::invalid(
                    "templateVersion",
                    "a template version has no content type and no label",
                ));
            }
            optional(description.as_deref(), proton::description)
        }
        Event::EnvironmentTemplateCreated {
            display_name,
            description,
            encryption_key,
            tags,
            ..
        } => {
            optional(display_name.as_deref(), proton::display_name)?;
            optional(description.as_deref(), proton::description)?;
            optional(encryption_key.as_deref(), proton::encryption_key)?;
            proton::tags(tags)
        }
        Event::EnvironmentTemplateVersionRegistered {
            tags, client_token, ..
        } => {
            proton::tags(tags)?;
            optional(
                client_token.as_ref().map(|k| k.token.as_str()),
                proton::client_token,
            )
        }
        Event::EnvironmentTemplateVersionUpdated { description, .. } => {
            optional(description.as_deref(), proton::description)
        }
        Event::ViewCreated {
            name,
            description,
            tags,
            client_token,
            ..
        } => {
            connect::view_name(name)?;
            optional(description.as_deref(), |d| {
                connect::view_description("Description", d)
            })?;
            connect::view_tags(tags)?;
            optional(
                client_token.as_ref().map(|k| k.token.as_str()),
                connect::client_token,
            )
        }
        Event::ViewMetadataUpdated {
            name, description, ..
        } => {
            connect::view_name(name)?;
            optional(description.as_deref(), |d| {
                connect::view_description("Description", d)
            })
        }
        Event::EnvironmentCreated {
            name,
            description,
            monitors,
            tags,
            ..
        } => {
            environment_name(name)?;
            optional(description.as_deref(), self::description)?;
            self::monitors(monitors)?;
            self::tags(tags)
        }
        Event::EnvironmentUpdated {
            name,
            description,
            monitors,
            ..
        } => {
            environment_name(name)?;
            optional(description.as_deref(), self::description)?;
            self::monitors(monitors)
        }
        Event::DeploymentStrategyCreated {
            name,
            description,
            deployment_duration_in_minutes: duration,
            final_bake_time_in_minutes: bake,
            tags,
            ..
        } => {
            strategy_name(name)?;
            optional(description.as_deref(), self::description)?;
            deployment_duration_in_minutes(*duration)?;
            final_bake_time_in_minutes(*bake)?;
            self::tags(tags)
        }
        Event::DeploymentStrategyUpdated {
            description,
            deployment_duration_in_minutes: duration,
            final_bake_time_in_minutes: bake,
            ..
        } => {
            optional(description.as_deref(), self::description)?;
            deployment_duration_in_minutes(*duration)?;
            final_bake_time_in_minutes(*bake)
        }
        Event::TagsChanged { tags, .. } => self::tags(tags),
        Event::DeploymentStarted {
            configuration_name,
            description,
            kms_key_identifier: kms,
            tags,
            version_label,
            content_type,
            schedule,
            ..
        } => {
            profile_name(configuration_name)?;
            optional(description.as_deref(), self::description)?;
            optional(kms.as_deref(), kms_key_identifier)?;
            optional(version_label.as_deref(), self::version_label)?;
            optional(content_type.as_deref(), self::content_type)?;
            deployment_duration_in_minutes(schedule.deployment_duration_in_minutes)?;
            final_bake_time_in_minutes(schedule.final_bake_time_in_minutes)?;
            self::tags(tags)
        }
        // A growth factor is valid by construction (`GrowthFactor`), decoding included.
        Event::ApplicationDeleted { .. }
        | Event::ProfileDeleted { .. }
        | Event::VersionDeleted { .. }
        | Event::EnvironmentDeleted { .. }
        | Event::DeploymentStrategyDeleted { .. }
        | Event::DeploymentStopped { .. }
        | Event::ViewContentUpdated { .. }
        | Event::ViewDeleted { .. }
        | Event::EnvironmentTemplateDeleted { .. } => Ok(()),
    }
}

/// The fields of a version: its content type, description and label.
///
/// # Errors
/// `Invalid` naming the first field that breaks its constraint.
pub fn version_fields(
    content_type: Option<&str>,
    description: Option<&str>,
    label: Option<&str>,
) -> Result<(), Rejection> {
    optional(content_type, self::content_type)?;
    optional(description, self::description)?;
    optional(label, version_label)
}

fn optional(value: Option<&str>, rule: fn(&str) -> Result<(), Rejection>) -> Result<(), Rejection> {
    value.map_or(Ok(()), rule)
}

/// At most two validators per profile.
///
/// # Errors
/// `Invalid` naming `Validators` when there are more.
pub fn validator_count(count: usize) -> Result<(), Rejection> {
    if count > 2 {
        return Err(Rejection::invalid(
            "Validators",
            format!("{count} validators is more than 2"),
        ));
    }
    Ok(())
}

/// Checks that `value` has between `min` and `max` characters.
///
/// # Errors
/// `Invalid` naming `field` and the bounds.
pub fn length(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), Rejection> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(Rejection::invalid(
            field,
            format!("length {n} is outside {min}..{max}"),
        ));
    }
    Ok(())
}

/// An application name: 1 to 64 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn application_name(name: &str) -> Result<(), Rejection> {
    length("Name", name, 1, 64)
}

/// A configuration profile name: 1 to 128 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn profile_name(name: &str) -> Result<(), Rejection> {
    length("Name", name, 1, 128)
}

/// An environment name: 1 to 64 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn environment_name(name: &str) -> Result<(), Rejection> {
    length("Name", name, 1, 64)
}

/// A deployment strategy name: 1 to 64 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn strategy_name(name: &str) -> Result<(), Rejection> {
    length("Name", name, 1, 64)
}

/// An environment's monitors: at most 5; each `AlarmArn` 1 to 2048 characters, each
/// `AlarmRoleArn` an IAM role ARN as for [`retrieval_role_arn`].
///
/// # Errors
/// `Invalid` naming `Monitors`, `AlarmArn` or `AlarmRoleArn`.
pub fn monitors(monitors: &[Monitor]) -> Result<(), Rejection> {
    if monitors.len() > 5 {
        return Err(Rejection::invalid(
            "Monitors",
            format!("{} monitors is more than 5", monitors.len()),
        ));
    }
    for monitor in monitors {
        length("AlarmArn", &monitor.alarm_arn, 1, 2048)?;
        if let Some(arn) = &monitor.alarm_role_arn {
            role_arn("AlarmRoleArn", arn)?;
        }
    }
    Ok(())
}

/// A `DeploymentDurationInMinutes`: 0 to 1440 (a day).
///
/// # Errors
/// `Invalid` when over 1440.
pub fn deployment_duration_in_minutes(minutes: u32) -> Result<(), Rejection> {
    at_most_a_day("DeploymentDurationInMinutes", minutes)
}

/// A `FinalBakeTimeInMinutes`: 0 to 1440 (a day).
///
/// # Errors
/// `Invalid` when over 1440.
pub fn final_bake_time_in_minutes(minutes: u32) -> Result<(), Rejection> {
    at_most_a_day("FinalBakeTimeInMinutes", minutes)
}

fn at_most_a_day(field: &'static str, minutes: u32) -> Result<(), Rejection> {
    if minutes > 1440 {
        return Err(Rejection::invalid(
            field,
            format!("{minutes} is outside 0..1440"),
        ));
    }
    Ok(())
}

/// The keys of an UntagResource: at most 50, each 1 to 128 characters.
///
/// # Errors
/// `Invalid` naming `TagKeys`.
pub fn tag_keys(keys: &[String]) -> Result<(), Rejection> {
    if keys.len() > 50 {
        return Err(Rejection::invalid(
            "TagKeys",
            format!("{} keys is more than 50", keys.len()),
        ));
    }
    for key in keys {
        let k = key.chars().count();
        if !(1..=128).contains(&k) {
            return Err(Rejection::invalid(
                "TagKeys",
                format!("key {key:?} has length {k}, outside 1..128"),
            ));
        }
    }
    Ok(())
}

/// A description: at most 1024 characters.
///
/// # Errors
/// `Invalid` when too long.
pub fn description(text: &str) -> Result<(), Rejection> {
    length("Description", text, 0, 1024)
}

/// A content type: 1 to 255 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn content_type(text: &str) -> Result<(), Rejection> {
    length("ContentType", text, 1, 255)
}

/// A version label: 1 to 64 characters, at least one of them not an ASCII digit
/// (pattern `.*[^0-9].*`), so a label can never be mistaken for a version number.
///
/// # Errors
/// `Invalid` when out of bounds or all digits.
pub fn version_label(label: &str) -> Result<(), Rejection> {
    length("VersionLabel", label, 1, 64)?;
    if label.chars().all(|c| c.is_ascii_digit()) {
        return Err(Rejection::invalid(
            "VersionLabel",
            format!("{label:?} must contain a character that is not a digit"),
        ));
    }
    Ok(())
}

/// Tags: at most 50; keys 1 to 128 characters; values at most 256.
///
/// # Errors
/// `Invalid` naming `Tags` and the offending key.
pub fn tags(tags: &BTreeMap<String, String>) -> Result<(), Rejection> {
    if tags.len() > 50 {
        return Err(Rejection::invalid(
            "Tags",
            format!("{} tags is more than 50", tags.len()),
        ));
    }
    for (key, value) in tags {
        let k = key.chars().count();
        if !(1..=128).contains(&k) {
            return Err(Rejection::invalid(
                "Tags",
                format!("key {key:?} has length {k}, outside 1..128"),
            ));
        }
        let v = value.chars().count();
        if v > 256 {
            return Err(Rejection::invalid(
                "Tags",
                format!("value of {key:?} has length {v}, more than 256"),
            ));
        }
    }
    Ok(())
}

/// A profile's `LocationUri`: 1 to 2048 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn location_uri(uri: &str) -> Result<(), Rejection> {
    length("LocationUri", uri, 1, 2048)
}

/// A profile's `Type`: starts with one or more of `[a-zA-Z0-9.-]` (the model's pattern
/// `^[a-zA-Z0-9\.\-]+` is anchored at the start only).
///
/// # Errors
/// `Invalid` when it does not.
pub fn profile_type(kind: &str) -> Result<(), Rejection> {
    match kind.chars().next() {
        Some(c) if c.is_ascii_alphanumeric() || c == '.' || c == '-' => Ok(()),
        _ => Err(Rejection::invalid(
            "Type",
            format!("{kind:?} must start with a character from [a-zA-Z0-9.-]"),
        )),
    }
}

/// A `RetrievalRoleArn`: 20 to 2048 characters matching
/// `^arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]|aws-us-gov|aws-eusc):iam::\d{12}:role/.*$`.
///
/// # Errors
/// `Invalid` when it does not.
pub fn retrieval_role_arn(arn: &str) -> Result<(), Rejection> {
    role_arn("RetrievalRoleArn", arn)
}

/// An IAM role ARN in `field`: 20 to 2048 characters and the pattern of
/// [`retrieval_role_arn`].
fn role_arn(field: &'static str, arn: &str) -> Result<(), Rejection> {
    length(field, arn, 20, 2048)?;
    if is_iam_role_arn(arn) {
        Ok(())
    } else {
        Err(Rejection::invalid(
            field,
            format!("{arn:?} is not an IAM role ARN"),
        ))
    }
}

fn is_iam_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let partition_ok = matches!(
        partition,
        "aws" | "aws-cn" | "aws-iso" | "aws-us-gov" | "aws-eusc"
    ) || partition
        .strip_prefix("aws-iso-")
        .is_some_and(|s| s.len() == 1 && s.bytes().all(|b| b.is_ascii_lowercase()));
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    partition_ok
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && rest.starts_with("role/")
        && !rest.contains('\n')
}

/// A KMS key identifier on create: 1 to 2048 characters.
///
/// # Errors
/// `Invalid` when out of bounds.
pub fn kms_key_identifier(id: &str) -> Result<(), Rejection> {
    length("KmsKeyIdentifier", id, 1, 2048)
}

/// A validator's content: at most 32768 characters.
///
/// # Errors
/// `Invalid` when too long.
pub fn validator_content(text: &str) -> Result<(), Rejection> {
    length("Validators", text, 0, 32768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_by_characters_not_bytes() {
        assert!(application_name("").is_err());
        assert!(application_name(&"é".repeat(64)).is_ok());
        assert!(application_name(&"a".repeat(65)).is_err());
        assert!(profile_name(&"a".repeat(128)).is_ok());
        assert!(profile_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn descriptions_may_be_empty_and_up_to_1024() {
        assert!(description("").is_ok());
        assert!(description(&"d".repeat(1024)).is_ok());
        assert!(description(&"d".repeat(1025)).is_err());
    }

    #[test]
    fn content_type_is_1_to_255() {
        assert!(content_type("").is_err());
        assert!(content_type("application/json").is_ok());
        assert!(content_type(&"x".repeat(255)).is_ok());
        assert!(content_type(&"x".repeat(256)).is_err());
    }

    #[test]
    fn version_label_needs_a_non_digit() {
        assert!(version_label("v1").is_ok());
        assert!(version_label("1.0").is_ok());
        assert!(version_label("123").is_err());
        assert!(version_label("").is_err());
        assert!(version_label(&"v".repeat(64)).is_ok());
        assert!(version_label(&"v".repeat(65)).is_err());
    }

    #[test]
    fn tags_are_bounded() {
        let mut t = BTreeMap::new();
        t.insert("k".to_owned(), "v".repeat(256));
        assert!(tags(&t).is_ok());
        t.insert("k".to_owned(), "v".repeat(257));
        assert!(tags(&t).is_err());
        let mut t = BTreeMap::new();
        t.insert(String::new(), String::new());
        assert!(tags(&t).is_err());
        let many: BTreeMap<_, _> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(tags(&many).is_err());
    }

    #[test]
    fn role_arns_follow_the_model_pattern() {
        assert!(retrieval_role_arn("arn:aws:iam::123456789012:role/my-role").is_ok());
        assert!(retrieval_role_arn("arn:aws-iso-b:iam::123456789012:role/x").is_ok());
        assert!(retrieval_role_arn("arn:aws:iam::12345678901:role/my-role").is_err());
        assert!(retrieval_role_arn("arn:aws:s3::123456789012:role/my-role").is_err());
        assert!(retrieval_role_arn("arn:gcp:iam::123456789012:role/my-role").is_err());
        assert!(retrieval_role_arn("arn:aws:iam::123456789012:user/me").is_err());
    }

    #[test]
    fn monitors_are_bounded_and_their_role_arns_follow_the_pattern() {
        let alarm = |role: Option<&str>| Monitor {
            alarm_arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a".to_owned(),
            alarm_role_arn: role.map(str::to_owned),
        };
        assert!(monitors(&[]).is_ok());
        assert!(monitors(&vec![alarm(None); 5]).is_ok());
        assert!(monitors(&vec![alarm(None); 6]).is_err());
        assert!(monitors(&[alarm(Some("arn:aws:iam::123456789012:role/r"))]).is_ok());
        assert!(monitors(&[alarm(Some("arn:aws:iam::123456789012:user/u"))]).is_err());
        let empty = Monitor {
            alarm_arn: String::new(),
            alarm_role_arn: None,
        };
        assert!(monitors(&[empty]).is_err());
    }

    #[test]
    fn minutes_are_at_most_a_day() {
        assert!(deployment_duration_in_minutes(0).is_ok());
        assert!(deployment_duration_in_minutes(1440).is_ok());
        assert!(deployment_duration_in_minutes(1441).is_err());
        assert!(final_bake_time_in_minutes(1441).is_err());
    }

    #[test]
    fn tag_keys_are_bounded() {
        assert!(tag_keys(&[]).is_ok());
        assert!(tag_keys(&["k".repeat(128)]).is_ok());
        assert!(tag_keys(&["k".repeat(129)]).is_err());
        assert!(tag_keys(&[String::new()]).is_err());
        let many: Vec<_> = (0..51).map(|i| format!("k{i}")).collect();
        assert!(tag_keys(&many).is_err());
    }

    #[test]
    fn profile_type_must_start_with_an_allowed_character() {
        assert!(profile_type("AWS.Freeform").is_ok());
        assert!(profile_type("AWS.AppConfig.FeatureFlags").is_ok());
        assert!(profile_type("").is_err());
        assert!(profile_type("_x").is_err());
    }
}
